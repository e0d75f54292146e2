"""How compiled code's memory is allocated: glibc's malloc, tuned once per process.

Compiled code allocates each list, box and typed List with the C library's `malloc` (Numba's runtime,
NRT). glibc keeps a freed block of up to 128 bytes (a tree node's box, a list's header, a small list's
elements) in a "fastbin": never merged with its neighbours, handed back, last freed first, to the
next request of its size. A program that frees a big structure and builds another (every benchmark
round of `benchmarks/symbolic/trees.py`, a search that rebuilds its trees) then gets its new nodes
scattered over the old ones' blocks, and a walk over them misses the cache at every node; `malloc`
itself spent 29% of a tree build sorting those blocks (perf). With fastbins off (`M_MXFAST` 0, what
`mallopt` documents for it) a freed block merges with its free neighbours at once, and the next
structure is laid out in the order it is built; the per-thread cache (tcache, a few blocks of each
size) still serves an allocation that follows a free of the same size. Measured side by side
(docs/benchmarks.md, "Trees"): building a tree of 524,287 nodes 230 -> 141 ms, building it and summing
it 10 times 967 -> 270 ms, evaluating an expression tree 10 times 1.50 -> 0.44 s; the list, dict and
string benchmarks unchanged.

Only glibc has the setting (elsewhere nothing is done), only compiled code's runtime sets it (an
interpreted run never loads this module), and a `GLIBC_TUNABLES` that sets `glibc.malloc.mxfast`
itself is left as the user set it.
"""
from __future__ import annotations

import ctypes
import os
import sys

M_MXFAST = 1  # mallopt's parameter number for the fastbin size limit (malloc.h)

_tuned: bool | None = None


def tune() -> bool:
    """Turn glibc's fastbins off for this process, once; whether they are off (False where this is
    not glibc or the user's GLIBC_TUNABLES decides)."""
    global _tuned
    if _tuned is None:
        _tuned = False
        if sys.platform.startswith("linux") and "glibc.malloc.mxfast" not in os.environ.get("GLIBC_TUNABLES", ""):
            try:
                libc = ctypes.CDLL(None)
                if hasattr(libc, "gnu_get_libc_version") and hasattr(libc, "mallopt"):
                    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
                    _tuned = libc.mallopt(M_MXFAST, 0) == 1
            except OSError:  # no C library to ask: nothing to tune
                pass
    return _tuned
