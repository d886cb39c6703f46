"""The heap trimmer really hands freed pages back (glibc: every Linux this runs on in CI)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from factstore.heap import _malloc_trim, start_heap_trimmer

pytestmark = pytest.mark.skipif(_malloc_trim() is None, reason="no glibc malloc_trim here")


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_trimmer_returns_freed_heap_pages_until_stopped() -> None:
    # 64 MiB in 1 KB blocks (beyond Python's small-object allocator: glibc's heap), then one
    # more block that stays alive above them, so free() alone cannot shrink the heap's top.
    blocks = [bytes(1024) + bytes([i % 251]) for i in range(64 * 1024)]
    pin = bytes(1024) + b"pin"
    del blocks
    held = rss_mib()
    stop = threading.Event()
    thread = start_heap_trimmer(0.05, stop)
    assert thread is not None and thread.daemon
    try:
        deadline = time.monotonic() + 5
        while rss_mib() > held - 32 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rss_mib() <= held - 32, f"RSS {held:.0f} -> {rss_mib():.0f} MiB"
    finally:
        stop.set()
        thread.join(timeout=2)
    assert not thread.is_alive()
    assert pin.endswith(b"pin")


def test_no_trimmer_at_zero_seconds() -> None:
    assert start_heap_trimmer(0) is None
