"""Candidate evaluation on a CUDA GPU for bottom-up search (bottomup.py, `Config.device == "cuda"`).

Bottom-up enumeration spends its time combining the value rows of kept programs: for a binary
bit-vector production `op(A, B)`, every row of A's bank with every row of B's bank, on every example.
`PairEvaluator.pairs(name, a, a0, na, b)` does that block on the device, one thread per (pair,
example), in the order the CPU engine uses (A's rows outer, B's inner), so the search makes the same
decisions on either device. The banks' matrices are uploaded once per (nonterminal, size) and stay on
the device; only each block's results come back, where deduplication (row hashes against the bank)
stays on the CPU.

Semantics are SMT-LIB's 64-bit bit-vectors, exactly as components.py's numpy rules: wrap-around
arithmetic, `bvudiv x 0 = 2**64 - 1`, `bvurem x 0 = x`, shifts by 64 or more give 0. Import this
module only after compiler/device.resolve has chosen between the GPU and the simulator.
"""
from __future__ import annotations

import contextlib
import warnings

import numpy as np
from numba import cuda, uint64

from . import clock
from .bvcode import OPCODES, word_op

OPS = {name: OPCODES[name] for name in
       ("bvand", "bvor", "bvxor", "bvadd", "bvsub", "bvmul", "bvudiv", "bvurem", "bvshl", "bvlshr",
        "bvult", "bvule", "bvugt", "bvuge")}
BOOL_RESULT = {"bvult", "bvule", "bvugt", "bvuge"}
SIMULATOR = getattr(cuda, "simulator_init", None) is not None
THREADS = 32 if SIMULATOR else 256

ZERO = uint64(0)
apply = cuda.jit(device=True)(word_op)  # the CPU kernel's instruction rule (bvcode.py), on the device


@cuda.jit
def pairs_kernel(op, A, a0, na, B, nb, e, out):
    """out[(i * nb + j) * e + k] = op(A[a0 + i, k], B[j, k]) for i < na, j < nb, k < e."""
    t = cuda.grid(1)
    if t < na * nb * e:
        p = t // e
        k = t - p * e
        i = p // nb
        j = p - i * nb
        out[t] = apply(op, A[(a0 + i) * e + k], B[j * e + k], ZERO)


class PairEvaluator:
    """Binary bit-vector productions over whole blocks of argument rows, on the device."""

    def __init__(self):
        self.resident: dict = {}  # key -> (host matrix, its flat device copy)
        self.launches = 0
        with clock.paused():  # the device's context and the kernel's compile are no search's time (clock.py)
            row = np.zeros((1, 1), np.uint64)
            self.pairs("bvand", None, row, 0, 1, None, row)
        self.resident.clear()
        self.launches = 0

    def supports(self, name: str, arity: int) -> bool:
        return arity == 2 and name in OPS

    def device_matrix(self, key, mat: np.ndarray):
        got = self.resident.get(key)
        if got is None or got[0] is not mat:  # a bank's matrix for a size never changes once built
            got = self.resident[key] = (mat, cuda.to_device(np.ascontiguousarray(mat, np.uint64).reshape(-1)))
        return got[1]

    def pairs(self, name: str, a_key, a: np.ndarray, a0: int, na: int, b_key, b: np.ndarray) -> np.ndarray:
        """The (na * len(b), e) results of `name` on rows a[a0:a0+na] x every row of b."""
        e = a.shape[1]
        nb = len(b)
        n = na * nb * e
        if n == 0:
            return np.zeros((0, e), np.bool_ if name in BOOL_RESULT else np.uint64)
        da, db = self.device_matrix(a_key, a), self.device_matrix(b_key, b)
        out = cuda.device_array(n, np.uint64)
        with _quiet():
            pairs_kernel[(n + THREADS - 1) // THREADS, THREADS](OPS[name], da, a0, na, db, nb, e, out)
        self.launches += 1
        res = out.copy_to_host().reshape(na * nb, e)
        return res.astype(np.bool_) if name in BOOL_RESULT else res



@contextlib.contextmanager
def _quiet():
    """The simulator computes with NumPy scalars, which warn about the wrap-around SMT-LIB defines."""
    with warnings.catch_warnings():
        if SIMULATOR:
            warnings.simplefilter("ignore", RuntimeWarning)
        yield
