"""The compiled path of bottom-up search for bit-vector (and boolean) banks.

Two pieces, both precompiled once with Numba (`cache=True`) and never compiled per candidate
(DESIGN.md §2.1):
- a tiny register VM over 64-bit words: a component's `code` (an expression over its arguments,
  `("bvadd", ("arg", 0), ("const", 1))`, see `OPCODES`) is assembled into a table of instructions
  that the kernel runs on every example of every candidate; booleans are the words 0 and 1;
- `RowSet`, an open-addressing hash set of value rows (one value per example) that owns the rows of a
  bank: `combine` evaluates every combination of argument rows of one production (one argument
  range per call) and inserts each new row in the same pass, keeping distinct rows only
  (observational equivalence), and returns which combinations were kept, so the bank's provenance
  stays exact. Rows with equal hashes are compared in full: a collision never merges two values.

Everything is plain numpy arrays across the Python boundary; no Python runs per candidate.
"""
from __future__ import annotations

import numpy as np
from numba import njit

U64 = np.uint64
MASK = (1 << 64) - 1
WORD_TYPES = ("bv64", "bool")  # the types the VM holds: bit-vectors, and booleans as 0 and 1

# opcodes of the VM, keyed by their SMT-LIB names (the code of a component uses these names)
OPCODES = {
    "copy": 1,
    "bvnot": 2, "bvneg": 3, "bvand": 4, "bvor": 5, "bvxor": 6, "bvadd": 7, "bvsub": 8, "bvmul": 9,
    "bvudiv": 10, "bvurem": 11, "bvsdiv": 12, "bvsrem": 13, "bvshl": 14, "bvlshr": 15, "bvashr": 16,
    "bvult": 17, "bvule": 18, "bvugt": 19, "bvuge": 20, "bvslt": 21, "bvsle": 22, "bvsgt": 23, "bvsge": 24,
    "=": 25, "ite": 26, "and": 27, "or": 28, "not": 29, "xor": 30, "=>": 31,
}

_MULT = U64(0x9E3779B97F4A7C15)
# fixed odd multipliers, one per example (deterministic); the same keys as the row hash of old
COLUMN_KEYS = np.random.default_rng(0x5EED).integers(1, 2 ** 63, size=4096, dtype=np.uint64) * U64(2) + U64(1)


def column_keys(nex: int) -> np.ndarray:
    return np.ascontiguousarray(COLUMN_KEYS[:nex] if nex <= len(COLUMN_KEYS) else np.resize(COLUMN_KEYS, nex))


# ---- the VM ---------------------------------------------------------------------------------------

def assemble(code, arity: int) -> tuple[np.ndarray, np.ndarray]:
    """An expression over the arguments -> (instructions, constants). Registers 0..arity-1 (at least
    0..2) hold the arguments, the next ones the constants (loaded once per kernel call), then one
    register per instruction `(op, dst, a, b, c)`; the result is the last instruction's register.
    Raises KeyError for an operation the VM lacks."""
    base = max(arity, 3)
    consts: list[int] = []
    ops: list[tuple] = []  # (op, operand registers), constant registers numbered later

    def emit(node):
        kind = node[0]
        if kind == "arg":
            return ("r", int(node[1]))
        if kind == "const":
            consts.append(int(node[1]) & MASK)
            return ("c", len(consts) - 1)
        regs = [emit(k) for k in node[1:]]
        regs += [("r", i) for i in range(len(regs), 3)]  # unused operands: as if the arguments in order
        ops.append((OPCODES[kind], regs))
        return ("o", len(ops) - 1)

    out = emit(code)
    if out[0] != "o":  # the code is one argument or constant: copy it
        ops.append((OPCODES["copy"], [out, ("r", 1), ("r", 2)]))
    first = base + len(consts)

    def reg(x) -> int:
        return x[1] if x[0] == "r" else base + x[1] if x[0] == "c" else first + x[1]

    instrs = [(op, first + q, *[reg(x) for x in regs]) for q, (op, regs) in enumerate(ops)]
    return np.array(instrs, dtype=np.int64).reshape(-1, 5), np.array(consts, dtype=np.uint64)


def substitute(code, kids: list):
    """`code` with argument i replaced by the code `kids[i]` (a helper applied to terms); None if
    any part has no code."""
    if code is None or any(k is None for k in kids):
        return None
    if code[0] == "arg":
        return kids[code[1]]
    if code[0] == "const":
        return code
    return (code[0], *[substitute(k, kids) for k in code[1:]])


def evaluate(code, args: list[int]) -> int:
    """The value of `code` on one example's argument values, in Python (the reference the kernel is
    tested against)."""
    kind = code[0]
    if kind == "arg":
        return args[code[1]]
    if kind == "const":
        return int(code[1]) & MASK
    return _py_apply(kind, *[evaluate(k, args) for k in code[1:]])


def _signed(a: int) -> int:
    return a - (1 << 64) if a >> 63 else a


def _py_apply(op: str, a: int, b: int = 0, c: int = 0) -> int:
    sa, sb = _signed(a), _signed(b)
    if op in ("bvsdiv", "bvsrem"):
        if sb == 0:
            return (MASK if sa >= 0 else 1) if op == "bvsdiv" else a
        q, r = abs(sa) // abs(sb), abs(sa) % abs(sb)
        return ((q if (sa >= 0) == (sb >= 0) else -q) if op == "bvsdiv" else (r if sa >= 0 else -r)) & MASK
    table = {
        "copy": lambda: a, "bvnot": lambda: a ^ MASK, "bvneg": lambda: -a, "bvand": lambda: a & b,
        "bvor": lambda: a | b, "bvxor": lambda: a ^ b, "bvadd": lambda: a + b, "bvsub": lambda: a - b,
        "bvmul": lambda: a * b, "bvudiv": lambda: a // b if b else MASK, "bvurem": lambda: a % b if b else a,
        "bvshl": lambda: a << b if b < 64 else 0, "bvlshr": lambda: a >> b if b < 64 else 0,
        "bvashr": lambda: sa >> min(b, 63), "bvult": lambda: a < b, "bvule": lambda: a <= b,
        "bvugt": lambda: a > b, "bvuge": lambda: a >= b, "bvslt": lambda: sa < sb, "bvsle": lambda: sa <= sb,
        "bvsgt": lambda: sa > sb, "bvsge": lambda: sa >= sb, "=": lambda: a == b, "ite": lambda: b if a else c,
        "and": lambda: bool(a) and bool(b), "or": lambda: bool(a) or bool(b), "not": lambda: not a,
        "xor": lambda: bool(a) != bool(b), "=>": lambda: (not a) or bool(b),
    }
    return int(table[op]()) & MASK


@njit(cache=True, inline="always")
def _apply(op, a, b, c):
    zero = U64(0)
    one = U64(1)
    if op == 1:
        return a
    if op == 4:
        return a & b
    if op == 5:
        return a | b
    if op == 6:
        return a ^ b
    if op == 7:
        return a + b
    if op == 2:
        return ~a
    if op == 3:
        return zero - a
    if op == 8:
        return a - b
    if op == 9:
        return a * b
    if op == 10:
        return a // b if b != zero else U64(MASK)
    if op == 11:
        return a % b if b != zero else a
    if op == 12 or op == 13:
        na = (a >> U64(63)) != zero
        nb = (b >> U64(63)) != zero
        ua = zero - a if na else a
        ub = zero - b if nb else b
        if op == 12:
            if b == zero:
                return one if na else U64(MASK)
            q = ua // ub
            return q if na == nb else zero - q
        if b == zero:
            return a
        r = ua % ub
        return zero - r if na else r
    if op == 14:
        return a << b if b < U64(64) else zero
    if op == 15:
        return a >> b if b < U64(64) else zero
    if op == 16:
        s = np.int64(a) >> np.int64(min(b, U64(63)))
        return U64(s)
    if op >= 17 and op <= 24:
        if op >= 21:  # signed: the unsigned comparison with the sign bits flipped
            a ^= U64(1 << 63)
            b ^= U64(1 << 63)
            op -= 4
        if op == 17:
            return one if a < b else zero
        if op == 18:
            return one if a <= b else zero
        if op == 19:
            return one if a > b else zero
        return one if a >= b else zero
    if op == 25:
        return one if a == b else zero
    if op == 26:
        return b if a != zero else c
    if op == 27:
        return one if a != zero and b != zero else zero
    if op == 28:
        return one if a != zero or b != zero else zero
    if op == 29:
        return one if a == zero else zero
    if op == 30:
        return one if (a != zero) != (b != zero) else zero
    if op == 31:
        return one if a == zero or b != zero else zero
    return zero


@njit(cache=True, inline="always")
def _run(instrs, regs):
    for q in range(instrs.shape[0]):
        regs[instrs[q, 1]] = _apply(instrs[q, 0], regs[instrs[q, 2]], regs[instrs[q, 3]], regs[instrs[q, 4]])
    return regs[instrs[instrs.shape[0] - 1, 1]]


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
# A table slot is 0 (empty) or (high 32 bits of the row's hash) << 32 | (row index + 1): a probe
# reads one word, and only a row whose hash matches in those bits is compared in full.

BATCH = 64  # combinations evaluated before their table slots are probed


@njit(cache=True)
def _combine(instrs, consts, F, A, B, C, lo, hi, keys, table, store, shash, n, cap, target, thash,
             check_target, kept):
    """Evaluate the combinations lo..hi-1 (row-major over A x B x C, the leading arguments fixed to
    the rows of F) and insert every new row, in order. Returns (position reached, rows kept, hit):
    the position is hi unless the set is full (n == cap; position = the first combination not
    done) or a combination equals `target` (hit = its position; the rows before it are inserted).

    Rows are evaluated a batch at a time and their table slots, then the rows those slots point
    to, are read before the inserts: the loads are independent, so their cache misses overlap
    (the inserts themselves must go in order)."""
    nb = B.shape[0]
    nc = C.shape[0]
    nex = store.shape[1]
    m = F.shape[0]
    mask = U64(table.shape[0] - 1)
    low = U64(0xFFFFFFFF)
    rows = np.empty((BATCH, nex), np.uint64)
    hs = np.empty(BATCH, np.uint64)
    slots = np.empty(BATCH, np.uint64)
    nconst = consts.shape[0]
    regs = np.zeros(m + 3 + nconst + instrs.shape[0], np.uint64)
    for q in range(nconst):
        regs[m + 3 + q] = consts[q]
    single = instrs.shape[0] == 1 and m == 0  # one operation: its operands picked without the VM loop
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
            if single:
                for e in range(nex):
                    x0 = A[i, e]
                    x1 = B[j, e]
                    x2 = C[k, e]
                    out[e] = _apply(op0, _pick(ra, x0, x1, x2, regs), _pick(rb, x0, x1, x2, regs),
                                    _pick(rc, x0, x1, x2, regs))
            else:
                for e in range(nex):
                    for q in range(m):
                        regs[q] = F[q, e]
                    regs[m] = A[i, e]
                    regs[m + 1] = B[j, e]
                    regs[m + 2] = C[k, e]
                    out[e] = _run(instrs, regs)
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
            slots[r] = table[hs[r] & mask]
        for r in range(nbat):
            if slots[r] != U64(0):
                warm += store[np.int64(slots[r] & low) - 1, 0]
        for r in range(nbat):  # insert in order
            h = hs[r]
            t = t0 + r
            if check_target and h == thash:
                same = True
                for e in range(nex):
                    if rows[r, e] != target[e]:
                        same = False
                        break
                if same:
                    return t, nk, t
            fp = h >> U64(32)
            s = h & mask
            while True:
                slot = table[s]
                if slot == U64(0):
                    if n >= cap:
                        return t, nk + np.int64(warm & U64(0)), -1
                    store[n, :] = rows[r]
                    shash[n] = h
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
    return hi, nk + np.int64(warm & U64(0)), -1


@njit(cache=True)
def _rehash(shash, n, table):
    """Insert rows 0..n-1 into an empty table, reading each batch's slots first (as `_combine`)."""
    mask = U64(table.shape[0] - 1)
    warm = U64(0)
    for r0 in range(0, n, BATCH):
        r1 = min(n, r0 + BATCH)
        for r in range(r0, r1):
            warm += table[shash[r] & mask]
        for r in range(r0, r1):
            h = shash[r]
            s = h & mask
            while table[s] != U64(0):
                s = (s + U64(1)) & mask
            table[s] = ((h >> U64(32)) << U64(32)) | U64(r + 1)
    return warm


@njit(cache=True)
def row_hashes(mat, keys):
    """The 64-bit hash of each row (the hash set's)."""
    out = np.empty(mat.shape[0], np.uint64)
    for r in range(mat.shape[0]):
        h = U64(0)
        for e in range(mat.shape[1]):
            h += _mix(mat[r, e], keys[e])
        out[r] = h ^ (h >> U64(32))
    return out


COPY = assemble(("arg", 0), 1)


class RowSet:
    """The distinct rows of one bank, in the order they were kept: `rows[:n]` (uint64, one column
    per example), their hashes, and an open-addressing table (load <= 1/2). The store is reserved
    for `reserve` rows up front (untouched memory costs nothing until rows are written, so it never
    has to be copied below that) and the table doubles as rows come."""

    __slots__ = ("nex", "keys", "rows", "hashes", "table", "n", "dummy", "nofix")

    def __init__(self, nex: int, reserve: int = 1024):
        self.nex = nex
        self.keys = column_keys(nex)
        try:
            self.rows = np.zeros((max(reserve, 1024), nex), np.uint64)
        except MemoryError:
            self.rows = np.zeros((1024, nex), np.uint64)
        self.hashes = np.zeros(len(self.rows), np.uint64)
        self.table = np.zeros(2048, np.uint64)
        self.n = 0
        self.dummy = np.zeros((1, nex), np.uint64)  # the row of an absent argument
        self.nofix = np.zeros((0, nex), np.uint64)

    def _cap(self) -> int:
        return min(len(self.rows), len(self.table) // 2)

    def grow(self) -> None:
        if self.n >= len(self.rows):  # past the reservation: copy to a store twice as large
            rows = np.zeros((2 * len(self.rows), self.nex), np.uint64)
            rows[:self.n] = self.rows[:self.n]
            hashes = np.zeros(len(rows), np.uint64)
            hashes[:self.n] = self.hashes[:self.n]
            self.rows, self.hashes = rows, hashes
        while len(self.table) // 2 <= self.n:
            self.table = np.zeros(2 * len(self.table), np.uint64)
            _rehash(self.hashes, self.n, self.table)

    def combine(self, code, args: list, lo: int, hi: int, kept: np.ndarray, target=None, fixed=None):
        """Run `code` (assembled) over the combinations lo..hi-1 of the argument matrices `args` (at
        most three; `fixed` rows for leading arguments), inserting new rows. Returns (position,
        kept count, hit) as `_combine`; grows the set when it fills and goes on."""
        instrs, consts = code
        a, b, c = (list(args) + [self.dummy] * 3)[:3]
        F = self.nofix if fixed is None else fixed
        check = target is not None
        tgt = target if check else self.dummy[0]
        th = row_hashes(tgt[None, :], self.keys)[0]
        total = 0
        while True:
            pos, nk, hit = _combine(instrs, consts, F, a, b, c, lo, hi, self.keys, self.table, self.rows,
                                    self.hashes, self.n, self._cap(), tgt, th, check, kept[total:])
            self.n += nk
            total += nk
            if pos == hi or hit >= 0:
                return pos, total, hit
            self.grow()
            lo = pos

    def add(self, row: np.ndarray) -> bool:
        """Insert one row; True if it was new."""
        kept = np.empty(1, np.int64)
        _, nk, _ = self.combine(COPY, [np.ascontiguousarray(row, dtype=np.uint64)[None, :]], 0, 1, kept)
        return nk == 1
