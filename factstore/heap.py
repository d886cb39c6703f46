"""Give freed heap memory back to the operating system now and then (glibc only).

A long-running process that builds and drops bodies of many sizes frees memory in the middle
of its heap; glibc keeps those pages (the process's RSS stays up) until `malloc_trim` walks the
heap and releases every whole free page. The soak measured the server workers' heaps holding
10-17 MB free after 10 minutes (BENCHMARKS.md, "Soak"). A daemon thread per long-running
process (server worker, follower, scheduler) trims every 30 seconds by default
(FACTSTORE_HEAP_TRIM_SECONDS). Where the C library has no `malloc_trim` (musl, macOS) nothing
starts."""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable

DEFAULT_TRIM_SECONDS = 30


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None
    return trim


def start_heap_trimmer(
    interval: float, stop: threading.Event | None = None
) -> threading.Thread | None:
    """Trim every `interval` seconds until `stop` is set, or for the life of the process
    (a daemon thread); None when there is nothing to do (0, or no `malloc_trim`)."""
    trim = _malloc_trim()
    if trim is None or interval <= 0:
        return None
    until = stop or threading.Event()

    def run() -> None:
        while not until.wait(interval):
            trim(0)

    thread = threading.Thread(target=run, name="factstore-heap-trim", daemon=True)
    thread.start()
    return thread
