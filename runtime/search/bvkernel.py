"""The compiled path of bottom-up search for bit-vector and integer (and boolean) banks.

Precompiled once with Numba (`cache=True`), never compiled per candidate (DESIGN.md §2.1):
- a tiny register VM over 64-bit words that runs a component's assembled code (bvcode.py) on every
  example of every candidate, with the faults of its integer instructions (bvcode.word_fault);
- `RowSet`, an open-addressing hash set of value rows (one value per example) that owns the rows of
  a bank: `combine` evaluates every combination of argument rows of one production (a range of
  combinations per call) and inserts each new row in the same pass, keeping distinct rows only
  (observational equivalence), and returns which combinations were kept, so the bank's provenance
  stays exact. Rows with equal hashes are compared in full: a collision never merges two values.

Everything crosses the Python boundary as plain numpy arrays; no Python runs per candidate. Only
`_combine` is called from Python (each cached entry point costs a load in every new process).
"""
from __future__ import annotations

import mmap
import sys
import time

import numpy as np
from numba import njit

from . import clock
from .bvcode import COPY, INEXACT, INEXACT_HIT, INT_OPS, MIX, column_keys, row_hashes, word_fault, word_op

U64 = np.uint64
_MULT = U64(MIX)
BATCH = 64  # combinations evaluated before their table slots are probed


_apply = njit(inline="always")(word_op)  # one VM instruction; the rule is shared with cuda_eval.py
_fault = njit(inline="always")(word_fault)


@njit(cache=True, inline="always")
def _run(instrs, regs):
    for q in range(instrs.shape[0]):
        regs[instrs[q, 1]] = _apply(instrs[q, 0], regs[instrs[q, 2]], regs[instrs[q, 3]], regs[instrs[q, 4]])
    return regs[instrs[instrs.shape[0] - 1, 1]]


@njit(cache=True, inline="always")
def _run_checked(instrs, regs):
    """`_run` for code with integer instructions: also the faults of all its instructions (or-ed)."""
    fault = 0
    for q in range(instrs.shape[0]):
        op = instrs[q, 0]
        a = regs[instrs[q, 2]]
        b = regs[instrs[q, 3]]
        r = _apply(op, a, b, regs[instrs[q, 4]])
        if op >= INT_OPS:
            fault |= _fault(op, a, b, r)
        regs[instrs[q, 1]] = r
    return regs[instrs[instrs.shape[0] - 1, 1]], fault


@njit(cache=True, inline="always")
def _pick(r, x0, x1, x2, regs):
    if r == 0:
        return x0
    if r == 1:
        return x1
    if r == 2:
        return x2
    return regs[r]


@njit(cache=True, inline="always")
def _mix(v, key):
    x = v ^ (v >> U64(31))
    x *= _MULT
    x ^= x >> U64(29)
    return x * key


# ---- the row hash set -----------------------------------------------------------------------------
# A table of 2**k slots; a slot is 0 (empty) or (high 32 bits of the row's hash) << 32 | (row index
# + 1): a probe reads one word, and only a row whose hash matches in those bits is compared in full.
# A row's home slot is the top k bits of its hash, so a slot's home in the table twice as large is
# its own (2s or 2s + 1) read off the slot itself: growing streams through the old table and writes
# the new one nearly in order, never touching the rows (a rehash in row order, at random homes, had
# cost ~45 ns a row: a third of a large bit-vector search).

@njit(cache=True, inline="always")
def _shift(table):
    """64 - k for a table of 2**k slots: a hash's home is h >> shift."""
    k = 0
    while (1 << k) < table.shape[0]:
        k += 1
    return U64(64 - k)


@njit(cache=True)
def _grown(table):
    """The table twice as large, with every row of `table`."""
    out = np.zeros(2 * table.shape[0], np.uint64)
    mask = U64(out.shape[0] - 1)
    shift = _shift(out) - U64(32)  # the home from the hash's high 32 bits, kept in the slot
    for q in range(table.shape[0]):
        slot = table[q]
        if slot != U64(0):
            s = (slot >> U64(32)) >> shift
            while out[s] != U64(0):
                s = (s + U64(1)) & mask
            out[s] = slot
    return out


@njit(cache=True)
def _combine(instrs, consts, F, A, B, C, lo, hi, keys, table, store, n, cap, target, thash,
             check_target, kept):
    """Evaluate the combinations lo..hi-1 (row-major over A x B x C, the leading arguments fixed to
    the rows of F) and insert every new row, in order. Returns (position reached, rows kept, hit,
    table): the position is hi unless the store is full (n == cap; position = the first
    combination not done) or a combination equals `target` (hit = its position; the rows before it
    are inserted). The table doubles (load <= 1/2) inside; the one returned replaces it.
    A combination with an UNDEFINED integer instruction on some example is dropped (counted, not
    kept); one with an INEXACT one stops the call (hit = INEXACT_HIT, position = that combination).

    Rows are evaluated a batch at a time and their table slots, then the rows those slots point
    to, are read before the inserts: the loads are independent, so their cache misses overlap
    (the inserts themselves must go in order)."""
    nb = B.shape[0]
    nc = C.shape[0]
    nex = store.shape[1]
    m = F.shape[0]
    mask = U64(table.shape[0] - 1)
    shift = _shift(table)
    low = U64(0xFFFFFFFF)
    rows = np.empty((BATCH, nex), np.uint64)
    hs = np.empty(BATCH, np.uint64)
    bad = np.zeros(BATCH, np.int64)  # faults of each row of the batch
    slots = np.empty(BATCH, np.uint64)
    nconst = consts.shape[0]
    regs = np.zeros(m + 3 + nconst + instrs.shape[0], np.uint64)
    for q in range(nconst):
        regs[m + 3 + q] = consts[q]
    single = instrs.shape[0] == 1 and m == 0  # one operation: its operands picked without the VM loop
    checked = False  # integer instructions: their faults are tracked
    for q in range(instrs.shape[0]):
        checked = checked or instrs[q, 0] >= INT_OPS
    op0 = instrs[0, 0]
    ra = instrs[0, 2]
    rb = instrs[0, 3]
    rc = instrs[0, 4]
    bc = nb * nc
    i = lo // bc
    j = (lo - i * bc) // nc
    k = lo - i * bc - j * nc
    nk = 0
    warm = U64(0)
    for t0 in range(lo, hi, BATCH):
        nbat = min(BATCH, hi - t0)
        for r in range(nbat):  # evaluate
            out = rows[r]
            fault = 0
            if single:
                for e in range(nex):
                    x0 = A[i, e]
                    x1 = B[j, e]
                    x2 = C[k, e]
                    a = _pick(ra, x0, x1, x2, regs)
                    b = _pick(rb, x0, x1, x2, regs)
                    out[e] = _apply(op0, a, b, _pick(rc, x0, x1, x2, regs))
                    if checked:
                        fault |= _fault(op0, a, b, out[e])
            else:
                for e in range(nex):
                    for q in range(m):
                        regs[q] = F[q, e]
                    regs[m] = A[i, e]
                    regs[m + 1] = B[j, e]
                    regs[m + 2] = C[k, e]
                    if checked:
                        out[e], f = _run_checked(instrs, regs)
                        fault |= f
                    else:
                        out[e] = _run(instrs, regs)
            bad[r] = fault
            h = U64(0)
            for e in range(nex):
                h += _mix(out[e], keys[e])
            hs[r] = h ^ (h >> U64(32))
            k += 1
            if k == nc:
                k = 0
                j += 1
                if j == nb:
                    j = 0
                    i += 1
        for r in range(nbat):  # read the slots, then the rows they point to (cache warming only)
            slots[r] = table[hs[r] >> shift]
        for r in range(nbat):
            if slots[r] != U64(0):
                warm += store[np.int64(slots[r] & low) - 1, 0]
        for r in range(nbat):  # insert in order
            h = hs[r]
            t = t0 + r
            if bad[r] != 0:
                if bad[r] & INEXACT:
                    return t, nk + np.int64(warm & U64(0)), INEXACT_HIT, table
                continue
            if check_target and h == thash:
                same = True
                for e in range(nex):
                    if rows[r, e] != target[e]:
                        same = False
                        break
                if same:
                    return t, nk, t, table
            fp = h >> U64(32)
            s = h >> shift
            while True:
                slot = table[s]
                if slot == U64(0):
                    if n >= cap:
                        return t, nk + np.int64(warm & U64(0)), -1, table
                    if 2 * (n + 1) > table.shape[0]:
                        table = _grown(table)
                        mask = U64(table.shape[0] - 1)
                        shift = _shift(table)
                        s = h >> shift
                        continue
                    store[n, :] = rows[r]
                    n += 1
                    table[s] = (fp << U64(32)) | U64(n)
                    kept[nk] = t
                    nk += 1
                    break
                if (slot >> U64(32)) == fp:
                    idx = np.int64(slot & low) - 1
                    same = True
                    for e in range(nex):
                        if store[idx, e] != rows[r, e]:
                            same = False
                            break
                    if same:
                        break
                s = (s + U64(1)) & mask
    return hi, nk + np.int64(warm & U64(0)), -1, table


_PRIVATE = {"flags": mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS} if hasattr(mmap, "MAP_PRIVATE") else {}  # not on Windows


def zeroed_words(rows: int, cols: int) -> np.ndarray:
    """A (rows, cols) uint64 matrix of zeros in private anonymous memory of the system's ordinary
    pages. Not np.zeros: numpy asks for 2 MB pages on large arrays, and on a machine short of free
    huge pages each first write to one stalls while the kernel compacts memory (a 5 s bit-vector
    search spent 1.1 s of system time so, 0.4 s with this). Private, not mmap's default (shared):
    a first write to a shared anonymous page costs about 1.7x a private one's (0.31 s against 0.18 s
    for 512 MB), and the bank's store is nearly all first writes."""
    try:
        buf = mmap.mmap(-1, max(1, rows * cols) * 8, **_PRIVATE)
    except OSError as e:  # the system would not reserve that much
        raise MemoryError(str(e)) from None
    return np.frombuffer(buf, np.uint64, count=rows * cols).reshape(rows, cols)


_loaded = [False]  # whether this process has the kernel (compiled, or loaded from Numba's cache)


def load(announce: bool = True) -> None:
    """Have `_combine` compiled (or loaded from Numba's cache) before a search uses it, on the clock's
    pause (clock.py): the first search on a machine compiles it (tens of seconds), which no search's
    time limit counts. With `announce`, a compile (not a load from the cache) is said on stderr as it
    starts and when it ends. `glia cache warm` calls this ahead of any search."""
    if _loaded[0]:
        return
    _loaded[0] = True
    say = announce and not _cached()
    if say:
        sys.stderr.write("glia: compiling the search kernel (once per installation: Numba caches it; not counted "
                         "in the search's --timeout; `glia cache warm` compiles it ahead of time)\n")
        sys.stderr.flush()
    t0 = time.perf_counter()
    with clock.paused():
        _compile()
    if say:
        sys.stderr.write(f"glia: compiled the search kernel in {time.perf_counter() - t0:.1f} s\n")


def _cached() -> bool:
    """Whether Numba's cache holds `_combine` compiled for this machine and this source (read from
    Numba's cache index; if Numba's internals change, assumed so, and a compile goes unannounced)."""
    try:
        cache = _combine._cache
        codegen = _combine.targetctx.codegen()
        return any(cache._index_key(key[0], codegen) == key for key in cache._cache_file._load_index())
    except Exception:  # noqa: BLE001 - Numba's private API: no word rather than a false one
        return True


def _compile() -> None:
    """One tiny combine: Numba compiles `_combine` for the argument types every search passes."""
    RowSet(1, 2).add(np.zeros(1, U64))


class RowSet:
    """The distinct rows of one bank, in the order they were kept: `rows[:n]` (uint64, one column
    per example), and an open-addressing table of them (load <= 1/2) that doubles as rows
    come. The store is allocated once for `limit` rows (memory nobody writes to costs nothing, so
    the bound, not the use, sizes it, and it is never copied); a `combine` that fills it stops
    there and sets `full`."""

    __slots__ = ("nex", "keys", "rows", "table", "n", "full", "dummy", "nofix")

    def __init__(self, nex: int, limit: int):
        load()
        self.nex = nex
        self.keys = column_keys(nex)
        while True:
            try:  # where the system refuses to reserve that much, a smaller store ends the search sooner
                self.rows = zeroed_words(max(1, limit), nex)
                break
            except MemoryError:
                if limit <= 1024:
                    raise
                limit //= 2
        self.table = np.zeros(2048, np.uint64)
        self.n = 0
        self.full = False
        self.dummy = np.zeros((1, nex), np.uint64)  # the row of an absent argument
        self.nofix = np.zeros((0, nex), np.uint64)

    def combine(self, code, args: list, lo: int, hi: int, kept: np.ndarray, target=None, fixed=None):
        """Run `code` (assembled) over the combinations lo..hi-1 of the argument matrices `args` (at
        most three; `fixed` rows for leading arguments), inserting new rows and writing the numbers
        of the combinations kept to `kept`. Returns (position, kept count, hit) as `_combine`."""
        instrs, consts = code
        a, b, c = (list(args) + [self.dummy] * 3)[:3]
        check = target is not None
        tgt = target if check else self.dummy[0]
        pos, nk, hit, self.table = _combine(instrs, consts, self.nofix if fixed is None else fixed, a, b, c, lo, hi,
                                            self.keys, self.table, self.rows, self.n, len(self.rows),
                                            tgt, row_hashes(tgt[None, :], self.keys)[0], check, kept)
        self.n += nk
        self.full = pos < hi and hit == -1
        return pos, nk, hit

    def add(self, row: np.ndarray) -> bool:
        """Insert one row; True if it was new."""
        kept = np.empty(1, np.int64)
        _, nk, _ = self.combine(COPY, [np.ascontiguousarray(row, dtype=np.uint64)[None, :]], 0, 1, kept)
        return nk == 1
