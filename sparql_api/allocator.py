"""glibc's allocator in a process whose threads run queries: few arenas, and memory handed back after a long query.

glibc gives each thread that allocates an arena of its own (up to eight a core) and keeps what a query freed
there for later allocations, so after a burst of large queries on several threads a query worker held
their peak for good. Elsewhere than on glibc these do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_ARENA_MAX = -8  # malloc.h


def _glibc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


_LIBC = _glibc()


def limit_arenas(count: int) -> None:
    """At most ``count`` arenas for the threads started from now on."""
    if _LIBC is not None:
        _LIBC.mallopt(M_ARENA_MAX, count)


def hand_back() -> None:
    """Return the free memory of every arena to the system."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
