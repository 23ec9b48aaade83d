"""glibc's allocator in a process whose threads run queries: memory handed back after a long query.

glibc gives each thread that allocates an arena of its own (up to eight a core) and keeps what a query freed
there for later allocations, so after a burst of large queries on several threads a query worker held
their peak for good. (Fewer arenas held less still, but made the queries' allocations wait on each other:
a text-scanning query at 8 clients lost about a tenth of its rate.) Elsewhere than on glibc this does
nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys


def _glibc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


_LIBC = _glibc()


def hand_back() -> None:
    """Return the free memory of every arena to the system."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
