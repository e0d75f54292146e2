"""The code of the word VM of bottom-up search, in plain Python (no Numba here).

A component's `code` is an expression over its arguments, `("bvadd", ("arg", 0), ("const", 1))`,
with operations named by their SMT-LIB names (`OPCODES`); booleans are the words 0 and 1, integers
64-bit two's complement words. An integer operation may have no 64-bit result: `word_fault` says
which (`UNDEFINED`: the rule raises, the candidate is dropped, as SMT-LIB's `div` by zero or an
overflow of Glia's checked ints; `INEXACT`: the exact result, an SMT-LIB Int, needs more than 64
bits, and only an exact engine can go on).
`assemble` turns it into the instruction table that the precompiled kernel of bvkernel.py runs;
`word_op` is one instruction on numpy uint64 words, written once and compiled by the CPU kernel and
the CUDA one (cuda_eval.py); `evaluate` is the VM in plain Python ints, the independent reference
the kernels are tested against. `row_hashes` is the kernel's row hash, vectorised with numpy.
"""
from __future__ import annotations

import numpy as np

U64 = np.uint64
MASK = (1 << 64) - 1
WORD_TYPES = ("bv64", "bool", "int")  # the types the VM holds: bit-vectors, booleans as 0 and 1, ints

# opcodes of the VM, keyed by their SMT-LIB names
OPCODES = {
    "copy": 1,
    "bvnot": 2, "bvneg": 3, "bvand": 4, "bvor": 5, "bvxor": 6, "bvadd": 7, "bvsub": 8, "bvmul": 9,
    "bvudiv": 10, "bvurem": 11, "bvsdiv": 12, "bvsrem": 13, "bvshl": 14, "bvlshr": 15, "bvashr": 16,
    "bvult": 17, "bvule": 18, "bvugt": 19, "bvuge": 20, "bvslt": 21, "bvsle": 22, "bvsgt": 23, "bvsge": 24,
    "=": 25, "ite": 26, "and": 27, "or": 28, "not": 29, "xor": 30, "=>": 31,
    # integers (signed 64-bit words): SMT-LIB's unbounded Int (an overflow is INEXACT) ...
    "+": 32, "-": 33, "*": 34, "div": 35, "mod": 36, "abs": 37,
    # ... and Glia's checked ints (an overflow is UNDEFINED, as the runtime's kernels raise)
    "int.add": 38, "int.sub": 39, "int.mul": 40, "int.floordiv": 41, "int.mod": 42,
    # integer comparisons are the signed comparisons of the words
    "<": 21, "<=": 22, ">": 23, ">=": 24,
}
INT_OPS = 32  # opcodes from here on are integer operations, the only ones with faults
UNDEFINED = 1  # word_fault: no value (the candidate is dropped)
INEXACT = 2  # word_fault: an SMT-LIB Int beyond 64 bits (the search must go on without the VM)
INEXACT_HIT = -2  # the kernel's `hit` when a combination's exact value needs more than 64 bits
INT_MIN, INT_MAX = -(1 << 63), (1 << 63) - 1

MIX = 0x9E3779B97F4A7C15
# fixed odd multipliers, one per example (deterministic)
COLUMN_KEYS = np.random.default_rng(0x5EED).integers(1, 2 ** 63, size=4096, dtype=np.uint64) * U64(2) + U64(1)


def column_keys(nex: int) -> np.ndarray:
    return np.ascontiguousarray(COLUMN_KEYS[:nex] if nex <= len(COLUMN_KEYS) else np.resize(COLUMN_KEYS, nex))


def row_hashes(mat: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row: every value is mixed by a bijection (xorshift, odd multiply,
    xorshift) and multiplied by its column's key, the row is the sum mod 2**64, folded once. The
    kernel computes the same; rows with equal hashes are still compared in full."""
    m = np.ascontiguousarray(mat, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = m ^ (m >> U64(31))
        x *= U64(MIX)
        x ^= x >> U64(29)
        x *= keys[:m.shape[1]]
        h = x.sum(axis=1, dtype=np.uint64)
        return h ^ (h >> U64(32))


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


def _py_int(op: str, sa: int, sb: int) -> int:
    """An integer operation on signed values, exactly; ZeroDivisionError where it is undefined,
    OverflowError where the result needs more than 64 bits."""
    if op in ("div", "mod", "int.floordiv", "int.mod") and sb == 0:
        raise ZeroDivisionError(op)
    q = sa // sb if sb else 0
    if op in ("div", "mod") and sa - q * sb < 0:  # SMT-LIB: the remainder is never negative
        q += 1
    r = {"+": sa + sb, "-": sa - sb, "*": sa * sb, "div": q, "mod": sa - sb * q, "abs": abs(sa),
         "int.add": sa + sb, "int.sub": sa - sb, "int.mul": sa * sb, "int.floordiv": q, "int.mod": sa - sb * q}[op]
    if not INT_MIN <= r <= INT_MAX:
        raise OverflowError(op)
    return r


def _py_apply(op: str, a: int, b: int = 0, c: int = 0) -> int:
    sa, sb = _signed(a), _signed(b)
    if OPCODES[op] >= INT_OPS:
        return _py_int(op, sa, sb) & MASK
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


def word_op(op, a, b, c):
    """One instruction of the VM on 64-bit words (numpy uint64): SMT-LIB semantics. Plain Python,
    compiled by Numba for the CPU kernel (bvkernel.py) and by numba-cuda for the device
    (cuda_eval.py), so both run the same rule."""
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
    if op == 32 or op == 38:
        return a + b
    if op == 33 or op == 39:
        return a - b
    if op == 34 or op == 40:
        return a * b
    if op == 37:
        return zero - a if (a >> U64(63)) != zero else a
    if op == 35 or op == 36 or op == 41 or op == 42:  # signed division: from the magnitudes' quotient
        if b == zero:
            return zero  # UNDEFINED (word_fault)
        na = (a >> U64(63)) != zero
        nb = (b >> U64(63)) != zero
        ua = zero - a if na else a
        ub = zero - b if nb else b
        q = ua // ub
        r = ua % ub
        q = zero - q if na != nb else q  # truncated towards zero, and its remainder:
        r = zero - r if na else r  # the sign of a
        if r != zero:
            if op == 35 or op == 36:  # SMT-LIB: the remainder is never negative
                if na:
                    q = q - one if not nb else q + one
                    r = r + ub
            elif na != nb:  # Python (Glia): the remainder has the sign of b
                q = q - one
                r = r + b
        return q if op == 35 or op == 41 else r
    return zero


def word_fault(op, a, b, r):
    """0 if integer instruction `op` on the words a, b has the 64-bit result r; else UNDEFINED or
    INEXACT (module docstring). Only opcodes from INT_OPS on can fault."""
    zero = U64(0)
    sign = U64(1 << 63)
    over = zero
    if op == 32 or op == 38:
        over = ((a ^ r) & (b ^ r)) >> U64(63)
    elif op == 33 or op == 39:
        over = ((a ^ b) & (a ^ r)) >> U64(63)
    elif op == 34 or op == 40:
        na = (a >> U64(63)) != zero
        nb = (b >> U64(63)) != zero
        ua = zero - a if na else a
        ub = zero - b if nb else b
        if ((ua | ub) >> U64(31)) != zero and ua != zero and ub != zero:
            limit = sign if na != nb else sign - U64(1)
            over = U64(1) if ua > limit // ub else zero
    elif op == 35 or op == 36 or op == 41 or op == 42:
        if b == zero:
            return UNDEFINED
        if (op == 35 or op == 41) and a == sign and b == U64(MASK):
            over = U64(1)
    elif op == 37:
        over = U64(1) if a == sign else zero
    if over == zero:
        return 0
    return INEXACT if op < 38 else UNDEFINED


COPY = assemble(("arg", 0), 1)  # the code that inserts given rows
