"""Child processes that end with the process that started them, however it ends (``kill -9`` included)."""

from __future__ import annotations

import _thread
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time

log = logging.getLogger("kimgraph.workers")
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> None:
    """Have the kernel kill this process when its parent dies, however it dies (Linux; elsewhere nothing).

    Called first thing in a child. The signal comes when the *thread* that started the child ends, so the
    starter must be a thread that lives as long as the child is needed: the forkserver's only thread for the
    query workers (the forkserver exits as soon as the server does, its pipe from the server closing), the
    waiting thread for the search index's builder.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        log.warning("could not ask to die with the parent process (errno %d)", ctypes.get_errno())
        return
    # The server may have died while this process was starting, before the request: then no signal comes.
    server = multiprocessing.parent_process()  # the process that asked for this one (the server)
    if server is not None and not server.is_alive():
        os._exit(1)


def exit_with_parent(parent: int, poll: float = 0.1) -> None:
    """End this process within ``poll`` seconds of ``parent``'s end, however that ends: for a child started
    from a thread that may end before it (where ``die_with_parent`` would kill it at once). The main thread
    is interrupted first, so that it can clean up; the process exits a second later if it has not."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll)
        _thread.interrupt_main()
        time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="kimgraph-parent-watch", daemon=True).start()
