"""The clock of search's time limits: wall time less the time spent compiling its kernel.

The first bit-vector or integer search on a machine compiles the kernel of bvkernel.py (tens of
seconds; Numba caches it for every later process). That compile is the installation's, not the
search's: were it counted, a first `glia synth --timeout 10` would spend its whole budget compiling
and find nothing. Every deadline and every `seconds` of search is read from `now()`, which stops
while the kernel compiles (`paused`); the time left before and after is the same.
"""
from __future__ import annotations

import time
from contextlib import contextmanager

_paused = [0.0]  # seconds spent in `paused()` by this process (the kernel is compiled once per process)


def now() -> float:
    """Seconds, as time.perf_counter(), not counting the time spent in `paused()`."""
    return time.perf_counter() - _paused[0]


@contextmanager
def paused():
    """The search clock stands still inside (compiling or loading the kernel)."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        _paused[0] += time.perf_counter() - t0
