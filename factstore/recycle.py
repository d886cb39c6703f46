"""Replace a long-running process (the projection follower, the scheduler) with a fresh copy of
itself once its memory passes a ceiling, the way gunicorn replaces its workers after a number of
requests.

What these processes keep is bounded (the warm topics by FACTSTORE_WARM_CLAIMS, every cache by
its size), but a heap that has been through millions of allocations holds on to memory of its
own: the soak measured the follower and the scheduler growing ~0.5 MiB a minute with their live
Python objects flat (BENCHMARKS.md, "Soak"). The ceiling turns "grows slowly" into "bounded". The
process restarts in place (`exec`: same PID, same arguments, so a supervisor or a test sees one
process), and only between units of work: after the follower committed a batch with its
checkpoint, after the scheduler finished a run (with none in progress). Nothing is lost or done
twice.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

log = logging.getLogger(__name__)

DEFAULT_MAX_RSS_MIB = 512
# What the log says at each restart (the soak and the tests count these lines).
RESTARTING = "restarting (same command, same PID)"

_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_mib() -> float | None:
    """This process's resident memory (Linux: /proc/self/statm), None where it cannot be read."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            resident_pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return resident_pages * _PAGE_BYTES / 2**20


class MemoryCeiling:
    """`exceeded()` once resident memory passes `limit_mib` (0: never)."""

    def __init__(self, limit_mib: int) -> None:
        self.limit_mib = limit_mib
        self.resident: float | None = None  # at the last check

    def exceeded(self) -> bool:
        if self.limit_mib <= 0:
            return False
        self.resident = resident_mib()
        return self.resident is not None and self.resident > self.limit_mib

    def describe(self) -> str:
        return f"resident memory {self.resident or 0:.0f} MiB is over {self.limit_mib} MiB"


_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT set `stop`. A restarted process gets here with both still blocked
    (`restart_unless_stopped`): one sent while it started is delivered now, to this handler."""

    def on_stop(*_: object) -> None:
        # The first one stops; more are ignored while it stops (Python puts the default
        # action back as it exits, which would make a repeated SIGTERM kill a clean stop).
        for number in _STOP_SIGNALS:
            signal.signal(number, signal.SIG_IGN)
        stop.set()

    for number in _STOP_SIGNALS:
        signal.signal(number, on_stop)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


def restart_unless_stopped(reason: str, stop: threading.Event) -> None:
    """Run this process's command line again in place of this process, unless `stop` is set
    (a SIGTERM that came while the caller wound down: then return, and let it exit). The caller
    has finished its unit of work and closed its database connections (its engine disposed).
    SIGTERM and SIGINT are blocked from the last look at `stop` on, and stay blocked across the
    exec (the mask is inherited): one sent while the new process starts waits for its handler
    (`stop_on_signals`) instead of being lost or killing it."""
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    if stop.is_set():
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        return
    log.warning("%s: %s", reason, RESTARTING)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, sys.orig_argv)
