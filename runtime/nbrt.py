"""Helpers that compiled Glia code calls: precompiled once with Numba (`cache=True`).

Every helper that can fail takes a `site` (an int naming the source span in the generated module's
site table) and raises CompiledRuntimeError(code, message, site) with the same code and message as
the interpreter's kernel (runtime/kernels.py). Checked integer arithmetic uses LLVM's overflow
intrinsics, so the common case costs one add and one branch.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.cpython.unicode import (PY_UNICODE_1BYTE_KIND, PY_UNICODE_2BYTE_KIND, PY_UNICODE_4BYTE_KIND,
                                   _empty_string, _get_code_point, _set_code_point)
from numba.cpython.unicode_support import _PyUnicode_IsSpace
from llvmlite import ir as llvm_ir
from numba.core import cgutils
from numba.core.callconv import RETCODE_USEREXC
from numba.extending import intrinsic, overload
from numba.typed import Dict, List
from numba.typed.dictobject import _nonoptional

from . import nbdict
from . import nblist as al
from .errors import CompiledRuntimeError as Err
from .errors import WRITTEN_TOO_DEEP, IndexOutOfRange, NestedTooDeep, Overflow, ReprError, TooDeep
from .interrupt import poll, poll_deep  # noqa: F401  (rt.poll(): generated loops and recursive functions read Ctrl-C)
from .nbjit import jit  # cached, compiled once per type signature
from .values import MAX_ELEMENTS
from .nbstr import call_python, float_round_digits, int_str, parse_float, parse_int, repr_value

INT_MIN = -(2 ** 63)
INT_MAX = 2 ** 63 - 1
INF = math.inf
NAN = math.nan
MAX_DEPTH = 20_000
# how many boxes deep a comparison of values holding a struct that holds itself goes before it stops
# with E505 (lower_numba's eq_fn: a tree that deep, or two that hold themselves), and how many lists
# and dicts deep writing one goes (show_parts); well within the stack that compiled code runs on
# (interp.run_with_big_stack), where a 2,500,000-deep chain overflowed the stack while written
MAX_NESTING = 500_000

# helpers on the hot path of compiled loops are inlined into their callers (Numba IR), so LLVM sees
# the element access and the bound check together, hoists what it can, and no call is left
hot = njit(cache=True, inline="always")

# ---- checked integer arithmetic -----------------------------------------------------------------


def _ovf_intrinsic(method):
    @intrinsic
    def op(typingctx, a, b):
        sig = types.Tuple((types.int64, types.boolean))(types.int64, types.int64)

        def codegen(context, builder, signature, args):
            r = getattr(builder, method)(args[0], args[1])
            return context.make_tuple(builder, signature.return_type,
                                      [builder.extract_value(r, 0), builder.extract_value(r, 1)])
        return sig, codegen
    return op


_sadd = _ovf_intrinsic("sadd_with_overflow")
_smul = _ovf_intrinsic("smul_with_overflow")


# The helpers called in inner loops raise their error in place, rather than calling a function that
# raises: a possibly-raising call in the cold path stops Numba's reference-count pruning in callers
# that hold an ArrayList (runtime/nblist.py), which made every list access in such a loop several
# times slower. The message is written in Python, by the exception (runtime/errors.py).

@jit
def overflow(op, site):
    raise Overflow(op, site)


def raise_here(context, builder, exc, args):
    """Raise `exc(*args)` from an intrinsic's code, in place (the helper's caller returns the error, as
    a `raise` compiled there would): `args` are (value, Numba type) pairs, a None type for a
    constant. An intrinsic needs no copy of a Python function's IR at each use, which Numba makes to
    inline one (`@hot`): the most used helpers are intrinsics for compile time.

    Numba marks the store that hands a constant exception to the caller (`numba_exception_output`),
    which is how LLVM's reference-count pruning knows the block raises and drops the incref/decref
    pairs of the containers the caller holds around it; it does not mark a raise with run-time values
    (numba/core/callconv.py). Marked here: unmarked, every list access in a dynamic program's
    gradient kept its pair (soft DTW 5.7 ms -> 8.4 ms)."""
    context.call_conv.set_dynamic_user_exc(builder, exc, tuple(v for v, _ in args), tuple(t for _, t in args))
    handoff = builder.block.instructions[-1]  # the store of the exception into the caller's pointer
    handoff.set_metadata("numba_exception_output", builder.module.add_metadata([llvm_ir.IntType(1)(1)]))
    context.call_conv._return_errcode_raw(builder, RETCODE_USEREXC)


def _checked_op(method, op):
    @intrinsic
    def checked(typingctx, a, b, site):
        def codegen(context, builder, sig, args):
            r = getattr(builder, method)(args[0], args[1])
            with cgutils.if_unlikely(builder, builder.extract_value(r, 1)):
                raise_here(context, builder, Overflow, [(op, None), (args[2], types.int64)])
            return builder.extract_value(r, 0)
        return types.int64(types.int64, types.int64, types.int64), codegen
    return checked


int_add = _checked_op("sadd_with_overflow", "+")  # a + b, E502 on overflow
int_sub = _checked_op("ssub_with_overflow", "-")
int_mul = _checked_op("smul_with_overflow", "*")


@hot
def int_floordiv(a, b, site):
    if b == 0:
        raise Err("E503", "integer division by zero", site)
    if a == INT_MIN and b == -1:
        raise Overflow("//", site)
    q = a // b
    return q


@hot
def int_mod(a, b, site):
    if b == 0:
        raise Err("E503", "integer modulo by zero", site)
    if b == -1:
        return 0
    return a % b


@jit
def int_truediv(a, b, site):
    if b == 0:
        raise Err("E503", "division by zero", site)
    return a / b


@hot
def int_neg(a, site):
    if a == INT_MIN:
        raise Overflow("unary -", site)
    return -a


@hot
def int_abs(a, site):
    if a == INT_MIN:
        raise Overflow("abs", site)
    return -a if a < 0 else a


@jit
def int_pow(a, b, site):
    if b < 0:
        raise Err("E506", "negative exponent " + int_str(b) + " for an int power (use a float base: float(x) ** "
                  + int_str(b) + ")", site)
    result = 1
    base = a
    e = b
    while e > 0:
        if e & 1:
            result = int_mul_pow(result, base, site)
        e >>= 1
        if e > 0:
            base = int_mul_pow(base, base, site)
    return result


@jit
def int_mul_pow(a, b, site):
    r, o = _smul(a, b)
    if o:
        overflow("**", site)
    return r


@hot
def int_lshift(a, b, site):
    if b < 0:
        raise ReprError("E506", "negative shift count ", b, "", site)
    if a == 0:
        return 0
    if b >= 64:
        raise Overflow("<<", site)
    r = a << b
    if (r >> b) != a:
        raise Overflow("<<", site)
    return r


@hot
def int_rshift(a, b, site):
    if b < 0:
        raise ReprError("E506", "negative shift count ", b, "", site)
    if b >= 63:
        return -1 if a < 0 else 0
    return a >> b


# ---- floats ---------------------------------------------------------------------------------------

@hot
def float_truediv(a, b, site):
    if b == 0:
        raise Err("E503", "float division by zero", site)
    return a / b


@jit
def float_floordiv(a, b, site):
    if b == 0:
        raise Err("E503", "float floor division by zero", site)
    return a // b


@jit
def float_mod(a, b, site):
    if b == 0:
        raise Err("E503", "float modulo by zero", site)
    return a % b


@jit
def float_divmod(a, b, site):
    return float_floordiv(a, b, site), float_mod(a, b, site)


@jit
def f32_pair(p):
    return np.float32(p[0]), np.float32(p[1])


@jit
def float_round(a, site):
    if a != a or a == INF or a == -INF:
        raise Err("E506", "cannot round " + repr_value(a) + " to an int", site)
    r = np.round(a)  # half to even, as Python's round()
    if not (-9.223372036854775808e18 <= r < 9.223372036854775808e18):
        overflow("round", site)
    return int(r)


@jit
def float_roundn(a, nd):
    return float_round_digits(np.float64(a), nd)


@jit
def int_divmod(a, b, site):
    return int_floordiv(a, b, site), int_mod(a, b, site)


@jit
def int_isqrt(a, site):
    if a < 0:
        raise Err("E506", "isqrt() of a negative number", site)
    r = int(math.sqrt(a))
    while r * r > a:  # the float root can be off by one either way
        r -= 1
    while r < 3037000499 and (r + 1) * (r + 1) <= a:  # 3037000499**2 is the largest square below 2**63
        r += 1
    return r


@jit
def _mulmod(x, y, m):
    """x * y mod m for 0 <= x, y < m <= 2**63, without overflow (uint64 doubling)."""
    x, y, m = np.uint64(x), np.uint64(y), np.uint64(m)
    r = np.uint64(0)
    while y > 0:
        if y & np.uint64(1):
            r = (r + x) % m
        x = (x + x) % m
        y >>= np.uint64(1)
    return r


@jit
def int_powmod(a, b, m, site):
    if m == 0:
        raise Err("E506", "pow() modulus cannot be zero", site)
    mm = np.uint64(-m) if m < 0 else np.uint64(m)  # |m|, also for m = INT_MIN
    base = np.uint64(a % m) if m > 0 else np.uint64(-(a % m)) if a % m != 0 else np.uint64(0)
    if m < 0:  # work modulo |m| on a's residue, then give the result m's sign, as Python does
        base = (mm - base) % mm if base != 0 else np.uint64(0)
    if b < 0:  # the modular inverse (extended Euclid), then the positive power
        g0, g1, s0, s1 = np.int64(mm), np.int64(base), np.int64(0), np.int64(1)
        if mm > np.uint64(9223372036854775807):
            raise Err("E506", "base " + int_str(a) + " is not invertible modulo " + int_str(m), site)
        while g1 != 0:
            q = g0 // g1
            g0, g1 = g1, g0 - q * g1
            s0, s1 = s1, s0 - q * s1
        if g0 != 1:
            raise Err("E506", "base " + int_str(a) + " is not invertible modulo " + int_str(m), site)
        base = np.uint64(s0 % np.int64(mm))
        b = -b
    r = np.uint64(1) % mm
    e = b
    while e > 0:
        if e & 1:
            r = _mulmod(r, base, mm)
        base = _mulmod(base, base, mm)
        e >>= 1
    if m < 0 and r != 0:
        return -np.int64(mm - r)
    return np.int64(r)


@jit
def int_round(a, nd, site):
    if nd >= 0:
        return a
    if nd < -19:
        return 0  # |a| < 9.3e18 < 10**20 / 2
    if nd == -19:  # 10**19 does not fit: 0, or a result that overflows
        if a > 5 * 10 ** 18 or a < -5 * 10 ** 18:
            overflow("round", site)
        return 0
    p = 1
    for _ in range(-nd):
        p *= 10
    q = a // p
    r = a % p  # not a - q * p, which overflows below -(2 ** 63) + p (and LLVM folded that to a wrong q)
    if 2 * r > p or (2 * r == p and q % 2 == 1):
        q += 1
    bound = 9223372036854775807 // p  # also -(2 ** 63) // p rounded up, p being a power of ten
    if q > bound or q < -bound:
        overflow("round", site)
    return q * p


@jit
def float_to_int(a, site):
    if a != a:
        raise Err("E506", "cannot convert nan to int", site)
    if a == INF or a == -INF:
        raise Err("E506", "cannot convert infinity to int", site)
    if not (-9.223372036854775808e18 <= a < 9.223372036854775808e18):
        overflow("int()", site)
    return int(a)


@jit
def float_pow(a, b, site):
    if a == 0 and b < 0:
        raise Err("E503", "zero raised to a negative power", site)
    if a < 0 and np.isfinite(b) and b != np.floor(b):  # (math.floor would convert to int64 first)
        raise Err("E506", "negative number raised to a fractional power (" + repr_value(a) + " ** "
                  + repr_value(b) + ")", site)
    return a ** b


# ---- math: the messages of kernels._math1 and kernels._math_int --------------------------------

@jit
def math_domain(name, x, site):
    raise Err("E506", "math domain error: " + name + "(" + repr_value(x) + ")", site)


@hot
def math_sqrt(x, site):
    if x < 0:
        raise ReprError("E506", "math domain error: sqrt(", x, ")", site)
    return math.sqrt(x)


@hot
def math_log(x, site):
    if x <= 0:
        raise ReprError("E506", "math domain error: log(", x, ")", site)
    return math.log(x)


@hot
def math_sin(x, site):
    if math.isinf(x):  # (math.sin raises for an infinity, where NumPy's gives NaN)
        raise ReprError("E506", "math domain error: sin(", x, ")", site)
    return np.sin(x)


@hot
def math_cos(x, site):
    if math.isinf(x):
        raise ReprError("E506", "math domain error: cos(", x, ")", site)
    return np.cos(x)


@hot
def math_tan(x, site):
    if math.isinf(x):
        raise ReprError("E506", "math domain error: tan(", x, ")", site)
    return np.tan(x)


@jit
def math_log2(x, site):
    if x <= 0:
        math_domain("log2", x, site)
    return math.log2(x)


@jit
def math_log10(x, site):
    if x <= 0:
        math_domain("log10", x, site)
    return math.log10(x)


@jit
def math_asin(x, site):
    if x < -1.0 or x > 1.0:  # (NaN is no error: math.asin(nan) is nan)
        math_domain("asin", x, site)
    return math.asin(x)


@jit
def math_acos(x, site):
    if x < -1.0 or x > 1.0:
        math_domain("acos", x, site)
    return math.acos(x)


@jit
def _math_int(name, x, r, site):
    # r is a float (np.floor, not math.floor: Numba's math.floor converts to int64 at once, and a
    # float past the int64 range became -2**63 instead of E504)
    if x != x or x == INF or x == -INF:
        raise Err("E506", "cannot convert " + repr_value(x) + " to an int in " + name + "()", site)
    if not (-9.223372036854775808e18 <= r < 9.223372036854775808e18):
        overflow(name, site)
    return int(r)


@jit
def math_floor(x, site):
    return _math_int("floor", x, np.floor(x) if x == x and abs(x) != INF else 0.0, site)


@jit
def math_ceil(x, site):
    return _math_int("ceil", x, np.ceil(x) if x == x and abs(x) != INF else 0.0, site)


@jit
def math_trunc(x, site):
    return _math_int("trunc", x, np.trunc(x) if x == x and abs(x) != INF else 0.0, site)


# ---- strings: methods with Python's errors ------------------------------------------------------

@jit
def pad_width(width, site):
    """E506 for a padded string (ljust, rjust, center, zfill) wider than MAX_ELEMENTS, as in the
    interpreter: the allocation would fail (E510, with no line) or take the machine's memory."""
    if width > MAX_ELEMENTS:
        raise Err("E506", "a padded string of " + int_str(width) + " elements is too large", site)


@jit
def str_zfill(s, width, site):
    pad_width(width, site)
    return s.zfill(width)


@jit
def str_pad(s, width, fill, mode, site):
    pad_width(width, site)
    if len(fill) != 1:
        name = "ljust" if mode == 0 else ("rjust" if mode == 1 else "center")
        raise Err("E506", "str." + name + ": The fill character must be exactly one character long", site)
    if mode == 0:
        return s.ljust(width, fill)
    if mode == 1:
        return s.rjust(width, fill)
    return s.center(width, fill)


@jit
def str_partition(s, sep, right, site):
    if len(sep) == 0:
        raise Err("E506", "str." + ("rpartition" if right else "partition") + ": empty separator", site)
    i = s.rfind(sep) if right else s.find(sep)
    if i < 0:
        return ("", "", s) if right else (s, "", "")
    return (s[:i], sep, s[i + len(sep):])


# ---- sequences ------------------------------------------------------------------------------------

@jit
def index_error(i, n, what, site):
    raise IndexOutOfRange(i, n, what, site)


# ---- the tests before a versioned while loop (lower_numba.WhileVersion) ---------------------------
# Every constant here (lo, hi, grow: offsets and increases) is below 2**31 in size and n >= 0, so
# nothing overflows.
_MANY = 1 << 62


@hot
def guarded_fits(i, b, lo, hi, reach, n):
    """Whether every index is in [0, n) for a counter that starts at i and is below b at the start
    of each pass: i + c (lo <= c <= hi) when the loop starts, at most b - 1 + reach in a pass."""
    return i >= -lo and i < n - hi and b <= n - reach


@hot
def trips(bounds):
    """At most how many passes a loop makes when each pass increases (by 1 or more) one of the
    counters i with a bound b (`i < b`, or `i <= b` when inclusive) from (b, i, inclusive); saturates."""
    t = 0
    for b, i, inclusive in bounds:
        if b >= _MANY or i <= -_MANY:
            return _MANY
        if b + inclusive > i:
            t += b + inclusive - i
        if t >= _MANY:
            return _MANY
    return t


@hot
def counted_fits(k, t, grow, lo, hi, top, n):
    """Whether every index is in [0, n) for a counter that starts at k and grows by at most `grow`
    in each of at most t passes: k + c (lo <= c <= hi) when the loop starts, and at most
    k + (t - 1) * grow + top in a pass."""
    if not (k >= -lo and k < n - hi):
        return False
    if t == 0:
        return True
    if k >= n - top:
        return False
    return grow == 0 or t - 1 <= (n - 1 - k - top) // grow


def _slot_code(context, builder, i, n, what, site):
    """The slot of index `i` (negative from the end) in a `what` of length n, checked (checked_slot).
    One unsigned comparison decides the common case, 0 <= i < n."""
    out = cgutils.alloca_once_value(builder, i)
    with builder.if_then(builder.icmp_unsigned(">=", i, n), likely=False):
        j = builder.add(i, n)
        bad = builder.or_(builder.icmp_signed(">=", i, n), builder.icmp_signed("<", j, j.type(0)))
        with cgutils.if_unlikely(builder, bad):
            raise_here(context, builder, IndexOutOfRange,
                       [(i, types.int64), (n, types.int64), (what, None), (site, types.int64)])
        builder.store(j, out)
    return builder.load(out)


@intrinsic
def always(typingctx):
    """True, as a value Numba does not know (LLVM folds it): the test of a `while True:` loop
    (lower_numba's loop_head), whose exit Numba would otherwise prune."""
    def codegen(context, builder, sig, args):
        return cgutils.true_bit
    return types.boolean(), codegen


@intrinsic
def checked_slot(typingctx, i, n, what, site):
    """The slot of index `i` (negative from the end) in a `what` (a constant: "list", "row") of
    length n, checked: E501."""
    if not isinstance(what, types.StringLiteral):
        return None
    name = what.literal_value

    def codegen(context, builder, sig, args):
        return _slot_code(context, builder, args[0], args[1], name, args[3])
    return types.int64(types.int64, types.int64, what, types.int64), codegen


@intrinsic
def view_index(typingctx, i, n, site):
    """The slot of `xs[i]` in the data array of a list of length n (a loop's view of it), checked."""
    def codegen(context, builder, sig, args):
        return _slot_code(context, builder, args[0], args[1], "list", args[2])
    return types.int64(types.int64, types.int64, types.int64), codegen


@hot
def row_at(xss, r, j, site):
    """`xss[r][j]`, `xss` a typed List of ArrayLists (a `list[list[int]]`), `r` a checked slot
    (view_index): the row read in place (al.item_view), `j` checked against its length. Taking the
    row out as `xss[r]` would call into the typed List and bump and drop its reference count. `xss`
    is used after the read (al.kept): inlined into a caller whose last use of the table this is,
    Numba would free it, rows and all, right after the row's address was read."""
    p, n = al.item_view(xss, r)
    return al.kept(al.at(p, view_index(j, n, site)), xss)


@hot
def row_view(xss, i, c):
    """(ok, address, length) of the row `xss[i + c]` before a loop that reads it (FunctionLowerer.
    viewed): ok when `i + c` neither overflows nor leaves the table; else no row (a null address,
    length 0), and the loop's first access of it fails as it would have."""
    k, o = _sadd(i, c)
    n = len(xss)
    ok = not o and -n <= k < n
    return al.row_or_none(xss, k + n if k < 0 else k, ok)


@hot
def row_put(xss, r, j, v, site):
    """`xss[r][j] = v`, as row_at."""
    p, n = al.item_view(xss, r)
    al.put(p, view_index(j, n, site), v)
    al.keep(xss)


@hot
def list_getitem(xs, i, site):
    return al.get(xs, checked_slot(i, len(xs), "list", site))


@hot
def list_setitem(xs, i, v, site):
    xs[checked_slot(i, len(xs), "list", site)] = v


@hot
def str_getitem(s, i, site):
    n = len(s)
    if i < -n or i >= n:
        raise IndexOutOfRange(i, n, "string", site)
    return s[i]


@hot
def str_char_eq(s, i, other, site):
    """s[i] == other, without making the one-character string s[i]."""
    n = len(s)
    if i < -n or i >= n:
        raise IndexOutOfRange(i, n, "string", site)
    # `&`, not `and`: the short-circuit branch made this loop body 40x slower. Reading code point 0
    # of an empty `other` is safe: Numba allocates every string with a terminating 0.
    return (len(other) == 1) & (_get_code_point(s, i + n if i < 0 else i) == _get_code_point(other, 0))


@hot
def str_code(s, i, site):
    """The code point of s[i], checked as s[i] is (E501; a negative index from the end)."""
    n = len(s)
    if i < -n or i >= n:
        raise IndexOutOfRange(i, n, "string", site)
    return np.int64(_get_code_point(s, i + n if i < 0 else i))


@hot
def cp_is(c, test):
    """isdigit, isalpha, isalnum, isspace, isupper or islower (`test`: 0-5, lower_numba's _CHAR_TESTS)
    of the character whose code point is c: ASCII here, any other through the method, as Python's."""
    if c >= 128:
        return _cp_is_wide(c, test)
    digit, upper, lower = 48 <= c <= 57, 65 <= c <= 90, 97 <= c <= 122
    if test == 0:
        return digit
    if test == 1:
        return upper | lower
    if test == 2:
        return digit | upper | lower
    if test == 3:
        return (9 <= c <= 13) | (28 <= c <= 32)
    return upper if test == 4 else lower


@jit
def _cp_is_wide(c, test):
    ch = _one_char(c)  # (not Numba's chr(c): see _one_char)
    if test == 0:
        return bool(ch.isdigit())
    if test == 1:
        return bool(ch.isalpha())
    if test == 2:
        return bool(ch.isalnum())
    if test == 3:
        return bool(ch.isspace())
    return bool(ch.isupper()) if test == 4 else bool(ch.islower())


@hot
def str_code_at(s, i):
    """The code point of s[i], 0 <= i < len(s) (proven by the caller: a versioned loop's test)."""
    return np.int64(_get_code_point(s, i))


@hot
def char_code(c):
    """The code point of the one-character string `c`; -1, which no character has, for any other."""
    return np.int64(_get_code_point(c, 0)) if len(c) == 1 else np.int64(-1)


@jit
def list_pop_at(xs, i, site):
    n = len(xs)
    if n == 0:
        raise Err("E507", "pop from an empty list", site)
    if i < -n or i >= n:
        index_error(i, n, "list", site)
    return xs.pop(i)


@jit
def list_delitem(xs, i, site):
    n = len(xs)
    if i < -n or i >= n:
        index_error(i, n, "list", site)
    xs.pop(i)


@jit
def _limbs_str(p):
    """The decimal digits of the number whose 16-bit limbs are `p` (least significant first; used up)."""
    s = ""
    more = True
    while more:
        rem, more = 0, False
        for i in range(len(p) - 1, -1, -1):
            cur = (rem << 16) + p[i]
            p[i], rem = cur // 10, cur % 10
            more = more or p[i] != 0
        s = chr(48 + rem) + s
    return s


@jit
def product_str(a, b):
    """The decimal digits of a * b, exactly (0 <= a, b <= INT_MAX: up to 126 bits), for a message."""
    p = np.zeros(8, np.int64)
    for i in range(4):
        for j in range(4):
            p[i + j] += ((a >> (16 * i)) & 0xFFFF) * ((b >> (16 * j)) & 0xFFFF)
    for i in range(7):
        p[i + 1] += p[i] >> 16
        p[i] &= 0xFFFF
    return _limbs_str(p)


@jit
def repeat_size(m, n, what, site):
    """m * max(n, 0), the size of `what` (m elements repeated n times), E506 past MAX_ELEMENTS as in
    the interpreter (runtime/kernels.py `_guard`), with the exact size even past 64 bits: `[1, 2] *
    2 ** 62` wrapped to a negative size and wrote past a 4-element array (a segmentation fault)."""
    k = max(n, 0)
    if m != 0 and k > MAX_ELEMENTS // m:
        raise Err("E506", what + " of " + product_str(m, k) + " elements is too large", site)
    return m * k


@jit
def list_repeat(xs, n, site):
    repeat_size(len(xs), n, "a repeated list", site)
    return al.repeat(xs, n)


@jit
def str_repeat(s, n, site):
    repeat_size(len(s), n, "a repeated string", site)
    return s * max(n, 0)


@jit
def check_extend(m, n, site):
    """E506 when extending a list of m elements by n would pass MAX_ELEMENTS (as the interpreter)."""
    if m + n > MAX_ELEMENTS:
        raise Err("E506", "a list of " + int_str(m + n) + " elements is too large", site)


@jit
def list_concat(a, b):
    out = a.copy()
    out.extend(b)
    return out


@jit
def list_slice(xs, lo, hi, step, site):
    if step == 0:
        raise Err("E506", "slice step cannot be zero", site)
    out = al.empty_like(xs)
    n = len(xs)
    start, stop, st = _slice_bounds(n, lo, hi, step)
    i = start
    if st > 0:
        while i < stop:
            out.append(xs[i])
            i += st
    else:
        while i > stop:
            out.append(xs[i])
            i += st
    return out


@hot
def slice_bound(i):
    """A slice bound the program computed. INT_MIN stands for an omitted bound, so a computed INT_MIN
    becomes INT_MIN + 1, which every length clamps the same way."""
    return i + 1 if i == INT_MIN else i


@jit
def _slice_bounds(n, lo, hi, step):
    # Python's slice.indices(n), with None encoded as INT_MIN
    if step > 0:
        start = 0 if lo == INT_MIN else (lo + n if lo < 0 else lo)
        start = min(max(start, 0), n)
        stop = n if hi == INT_MIN else (hi + n if hi < 0 else hi)
        stop = min(max(stop, 0), n)
    else:
        start = n - 1 if lo == INT_MIN else (lo + n if lo < 0 else lo)
        start = min(max(start, -1), n - 1)
        stop = -1 if hi == INT_MIN else (hi + n if hi < 0 else hi)
        stop = min(max(stop, -1), n - 1)
    return start, stop, step


@jit
def str_slice(s, lo, hi, step, site):
    if step == 0:
        raise Err("E506", "slice step cannot be zero", site)
    n = len(s)
    start, stop, st = _slice_bounds(n, lo, hi, step)
    if st == 1:
        return s[start:stop] if start < stop else ""
    chars = List.empty_list(types.unicode_type)  # joined once: adding characters one by one is quadratic
    i = start
    if st > 0:
        while i < stop:
            chars.append(s[i])
            i += st
    else:
        while i > stop:
            chars.append(s[i])
            i += st
    return "".join(chars)


@jit
def range_size(start, stop, step, site):
    """The number of elements of range(start, stop, step), as an unsigned number
    (range(-2 ** 63, 2 ** 63 - 1) has 2 ** 64 - 1 elements); E506 for a zero step."""
    if step == 0:
        raise Err("E506", "range() step cannot be zero", site)
    # (not np.arange, whose length computation overflows: range(2 ** 62, -2 ** 63, -2 ** 62) came out empty)
    lo, hi = (start, stop) if step > 0 else (stop, start)
    if lo >= hi:
        return np.uint64(0)
    span = np.uint64(hi) - np.uint64(lo) - np.uint64(1)
    return span // (np.uint64(step) if step > 0 else np.uint64(0) - np.uint64(step)) + np.uint64(1)


@jit
def _size_str(size):
    p = np.zeros(4, np.int64)
    for i in range(4):
        p[i] = np.int64((size >> np.uint64(16 * i)) & np.uint64(0xFFFF))
    return _limbs_str(p)


@jit
def range_len(start, stop, step, site):
    """len(range(...)) without building the list; E504 past 2 ** 63 - 1 elements (Python's OverflowError)."""
    size = range_size(start, stop, step, site)
    if size > np.uint64(9223372036854775807):
        raise Err("E504", "len() of a range of " + _size_str(size) + " elements does not fit in an int", site)
    return np.int64(size)


@jit
def range_getitem(start, stop, step, i, site):
    """range(...)[i] without building the list (negative from the end; E501 outside it)."""
    size = range_size(start, stop, step, site)
    if i >= 0:
        if np.uint64(i) >= size:
            index_error(i, np.int64(size), "range", site)
        k = np.uint64(i)
    else:
        back = np.uint64(0) - np.uint64(i)  # -i, also for i = -2 ** 63
        if back > size:
            index_error(i, np.int64(size), "range", site)
        k = size - back
    return np.int64(np.uint64(start) + k * np.uint64(step))  # exact modulo 2 ** 64, and the element fits


@jit
def range_contains(x, start, stop, step, site):
    """`x in range(...)` without building the list."""
    if step == 0:
        raise Err("E506", "range() step cannot be zero", site)
    if step > 0:
        return start <= x < stop and (np.uint64(x) - np.uint64(start)) % np.uint64(step) == np.uint64(0)
    return stop < x <= start and (np.uint64(start) - np.uint64(x)) % (np.uint64(0) - np.uint64(step)) == np.uint64(0)


@jit
def range_list(start, stop, step, site):
    n = range_fits(start, stop, step, site)
    data = al._buffer(max(n, 4), np.int64)
    v = start
    for i in range(n):
        data[i] = v
        v += step  # (past the last element it may wrap; it is not used)
    return al.ArrayList(data, n)


@hot
def range_stop(a, z):
    """A stop for Numba's `range(a, stop)` that runs as `range(a, z)` (at most INT_MAX passes: a longer
    loop cannot finish anyway), where Numba's count, `stop - a`, does not overflow (lower_numba's
    range_head)."""
    if z <= a:
        return a
    if np.uint64(np.int64(z)) - np.uint64(np.int64(a)) > np.uint64(INT_MAX):
        return a + INT_MAX  # (a < 0 here)
    return z


@hot
def range_count(a, z, st):
    """len(range(a, z, st)) for st != 0, at most INT_MAX: the distance in unsigned 64 bits holds any.
    (`np.int64` first: the CUDA simulator runs these as Python, where a literal is a Python int.)"""
    if st > 0:
        if z <= a:
            return 0
        d, s = np.uint64(np.int64(z)) - np.uint64(np.int64(a)), np.uint64(st)
    else:
        if z >= a:
            return 0
        d, s = np.uint64(np.int64(a)) - np.uint64(np.int64(z)), np.uint64(0) - np.uint64(np.int64(st))
    return np.int64(min((d - np.uint64(1)) // s + np.uint64(1), np.uint64(INT_MAX)))


@hot
def range_value(a, k, st):
    """a + k * st, the k-th value of a range, in unsigned arithmetic: it wraps where the product does
    not fit in 64 bits and the value does."""
    return np.int64(np.uint64(np.int64(a)) + np.uint64(k) * np.uint64(np.int64(st)))


@jit
def check_step(step, site):
    if step == 0:
        raise Err("E506", "range() step cannot be zero", site)


@jit
def range_fits(start, stop, step, site):
    """The number of elements of the range, after the errors of building it as a list (E506: a zero
    step, too many): range_list's, and a comprehension's over a range, which walks it without the list
    (compiler/lower_numba.py, open_comprehension) and must stop where building it would."""
    size = range_size(start, stop, step, site)
    if size > np.uint64(MAX_ELEMENTS):
        raise Err("E506", "range of " + _size_str(size) + " elements is too large to build as a list", site)
    return np.int64(size)


@hot
def sum_step(acc, x):
    """A step of a sum of ints whose overflow is said after its elements are all computed (a sum over
    a comprehension, never built: the interpreter builds the list first): (the wrapped sum, whether
    this step overflowed)."""
    return _sadd(acc, x)


@jit
def dict_getitem(d, k, site):
    ix, v = nbdict.lookup(d, k, nbdict.key_hash(k))
    if ix <= nbdict.FOUND:
        not_found("E502", "key ", k, " not found in the dict", site)
    return _nonoptional(v)


def arith(a, b, sub, site):
    """`a - b` if `sub` else `a + b`, checked as `int.add`/`int.sub` for ints (compiled code only)."""


@overload(arith)
def _arith(a, b, sub, site):
    if isinstance(types.unliteral(b), types.Integer):
        return lambda a, b, sub, site: int_sub(a, b, site) if sub else int_add(a, b, site)
    return lambda a, b, sub, site: a - b if sub else a + b


@jit
def dict_add_get(d, k, default, delta, sub, site):
    """`d[k] = d.get(k, default) + delta` (`- delta` if `sub`), one look-up when k is there (the
    operands are plain values: nothing runs between the read and the write)."""
    ix, old = nbdict.lookup(d, k, nbdict.key_hash(k))
    if ix > nbdict.FOUND:
        nbdict.store_value(d, ix, arith(old, delta, sub, site))
    else:
        dict_set(d, k, arith(default, delta, sub, site))


@jit
def dict_add_item(d, k, delta, sub, key_site, site):
    """`d[k] += delta` (`-=` if `sub`): E502 at `key_site` if k is not in d; one look-up."""
    ix, old = nbdict.lookup(d, k, nbdict.key_hash(k))
    if ix <= nbdict.FOUND:
        not_found("E502", "key ", k, " not found in the dict", key_site)
    v = arith(old, delta, sub, site)
    nbdict.store_value(d, ix, v)
    return v


@jit
def dict_delitem(d, k, site):
    if k in d:
        del d[k]
        return
    not_found("E502", "key ", k, " not found in the dict", site)


@jit
def dict_pop(d, k, site):
    if k not in d:
        not_found("E502", "key ", k, " not found in the dict", site)
    return d.pop(k)


@jit
def repr_key(k):
    return repr_value(k)


def not_found(code, before, x, after, site):
    """Raise the error `before + repr(x) + after` (compiled code only)."""


@overload(not_found)
def _not_found(code, before, x, after, site):
    if isinstance(x, (types.Integer, types.UnicodeType, types.Boolean, types.BaseTuple)):
        # repr() in Python (see errors.CompiledRuntimeError); a tuple may stand for a struct, which the
        # backend writes as the struct from the type at `site` (errors.shown_message)
        def in_python(code, before, x, after, site):
            raise ReprError(code, before, x, after, site)
        return in_python

    def compiled(code, before, x, after, site):
        raise Err(code, before + repr_value(x) + after, site)
    return compiled


@jit
def set_remove(s, x, site):
    if x in s:
        del s[x]
        return
    not_found("E502", "element ", x, " not found in the set", site)


@jit
def set_pop(s, site):
    if len(s) == 0:
        raise Err("E507", "pop from an empty set", site)
    k, _ = s.popitem()
    return k


@jit
def size_changed(kind, site):
    raise Err("E506", "the " + kind + " was changed in size while being iterated over", site)


@jit
def empty_error(what, site):
    raise Err("E506", what, site)


@jit
def assertion_failed(msg, site):
    if len(msg) > 0:
        raise Err("E508", "assertion failed: " + msg, site)
    raise Err("E508", "assertion failed", site)


@jit
def too_deep(name, site):
    raise TooDeep(name, MAX_DEPTH, site)


@jit
def nested_too_deep(site):
    raise NestedTooDeep(site)


@jit
def too_deep_to_write(site):
    raise NestedTooDeep(site, WRITTEN_TOO_DEEP)


@jit
def hole_error(index, site):
    raise Err("E601", "hole #" + int_str(index) + " (`??`) has not been filled yet; run `glia synth FILE`, or "
              "`prog.synthesize()` from Python, to fill it from the examples", site)


# ---- container and string operations, compiled once per type signature ---------------------------
# Typing `d[k] = v`, `s + t` or `xs.append(x)` makes Numba compile its own implementation of the
# operation (hashing, the typed dict's and List's C calls, Unicode kinds: dozens of functions, each
# through LLVM) in every process that types it, and a new program is typed in a fresh process. The
# generated code calls these helpers instead: they are in Numba's cache after their first use with a
# type signature (`glia cache warm` compiles the common ones), so a new program loads them.

@jit
def dict_new(key_type, value_type):
    """An empty typed dict (a set is a dict to bool), float keys compared by value (nbdict)."""
    d = Dict.empty(key_type, value_type)
    nbdict.keys_by_value(d)
    return d


@jit
def dict_copy(d):
    """d.copy() (Numba's makes a dict that compares float keys bit by bit: nbdict)."""
    out = d.copy()
    nbdict.keys_by_value(out)
    return out


@jit
def dict_set(d, k, v):
    if nbdict.insert(d, k, nbdict.key_hash(k), v) < 0:
        raise MemoryError("dict insertion failed")


@jit
def dict_get(d, k, default):
    ix, v = nbdict.lookup(d, k, nbdict.key_hash(k))
    if ix > nbdict.FOUND:
        return _nonoptional(v)  # the value's type, not an optional one (Numba's d.get returns that)
    return default


@jit
def dict_setdefault(d, k, default):
    ix, v = nbdict.lookup(d, k, nbdict.key_hash(k))
    if ix > nbdict.FOUND:
        return _nonoptional(v)
    dict_set(d, k, default)
    return default


def _in(x, c):
    """`x in c` (compiled code only)."""


@overload(_in)
def _in_impl(x, c):
    if isinstance(c, types.DictType):
        return lambda x, c: nbdict.lookup(c, x, nbdict.key_hash(x))[0] > nbdict.FOUND
    return lambda x, c: x in c


@jit
def contains(x, c):
    """`x in c` (a dict, set, string or list)."""
    return _in(x, c)


@jit
def list_new(elem_type):
    """An empty typed List (lists of other than scalars and tuples of scalars)."""
    return List.empty_list(elem_type)


def _call(typingctx, helper, args):
    """(signature, codegen) of an intrinsic that calls the cached compiled `helper` on `args` (its
    error, if it raises, goes on to the caller)."""
    fnty = typingctx.resolve_value_type(helper)
    sig = fnty.get_call_type(typingctx, args, {})
    return sig, lambda context, builder, s, vals: context.get_function(fnty, sig)(builder, vals)


@jit
def _typed_list_append(xs, x):
    xs.append(x)


@intrinsic
def list_append(typingctx, xs, x):
    """xs.append(x). A compiled function taking a container increfs it on entry and decrefs it on exit
    (two atomic operations: 20-40 ns an append where the append itself is 2), so an ArrayList's
    append is written in LLVM here (nblist.push); a typed List's calls its cached helper."""
    if isinstance(xs, al.ArrayListType):
        return types.none(xs, x), al.push_code
    return _call(typingctx, _typed_list_append, (xs, x))


@jit
def _typed_list_pop(xs, site):
    if len(xs) == 0:
        raise Err("E507", "pop from an empty list", site)
    return xs.pop()


@intrinsic
def list_pop(typingctx, xs, site):
    """xs.pop(), E507 on an empty list: for an ArrayList in LLVM (as list_append), the error raised in
    place."""
    if not isinstance(xs, al.ArrayListType):
        return _call(typingctx, _typed_list_pop, (xs, types.unliteral(site)))

    def codegen(context, builder, sig, args):
        n = al.length_code(context, builder, sig.args[0], args[0])
        with cgutils.if_unlikely(builder, builder.icmp_signed("==", n, n.type(0))):
            raise_here(context, builder, Err, [("E507", None), ("pop from an empty list", None),
                                               (args[1], types.int64)])
        return al.take_code(context, builder, al.elem_type(sig.args[0])(sig.args[0]), args[:1])
    return al.elem_type(xs)(xs, types.int64), codegen


@jit
def str_at(s, i):
    """s[i], 0 <= i < len(s) (a loop's index)."""
    return s[i]


@jit
def str_buffer(s):
    """(s._data, s._kind): where a versioned loop reads s's characters. A call, not the attributes in
    place: a function inlined into its caller sees a literal argument as a Literal[str], which has
    neither (`count("ab 12")` then fell back to the interpreter with a note asking for a report)."""
    return s._data, s._kind


@jit
def dict_keys(d):
    """The keys of `d` as a typed List (a loop over a dict or set walks this copy)."""
    return List(d.keys())


@jit
def dict_values(d):
    return List(d.values())


@jit
def dict_items_into(out, d):
    """Append the (key, value) pairs of `d` to the list `out` (`d.items()`), without looking the keys up."""
    for k, v in d.items():
        out.append((k, v))


@jit
def str_concat(a, b):
    return a + b


@jit
def str_eq(a, b):
    return a == b


@jit
def str_cmp(a, b):
    """-1, 0 or 1 as `a` sorts before, equal to or after `b`."""
    if a == b:
        return 0
    return -1 if a < b else 1




@jit
def str_upper(s):
    return s.upper()


@jit
def str_lower(s):
    return s.lower()


# ---- more list/str helpers --------------------------------------------------------------------------

@jit
def list_insert(xs, i, v):
    n = len(xs)
    if i < 0:
        i = max(i + n, 0)
    if i >= n:
        xs.append(v)
    else:
        xs.insert(i, v)


@jit
def list_index(xs, v, site):
    for i in range(len(xs)):
        if xs[i] == v:
            return i
    not_found("E506", "list.index(x): ", v, " is not in the list", site)
    return -1


@jit
def list_remove(xs, v, site):
    for i in range(len(xs)):
        if xs[i] == v:
            xs.pop(i)
            return
    not_found("E506", "list.remove(x): ", v, " is not in the list", site)


@jit
def list_find(xs, v):
    """The first index of `v` in `xs`, or -1 (for list.index and list.remove of a container, whose
    error the generated code writes: see lower_numba's prim)."""
    for i in range(len(xs)):
        if xs[i] == v:
            return i
    return -1


@jit
def fail(code, message, site):
    raise Err(code, message, site)


@jit
def list_count(xs, v):
    c = 0
    for i in range(len(xs)):
        if xs[i] == v:
            c += 1
    return c


@jit
def set_isdisjoint(a, b):
    for x in a:
        if x in b:
            return False
    return True


@jit
def dict_update(d, other):
    for k, v in other.items():
        d[k] = v


@jit
def list_sum(seq, start):
    out = start.copy()
    for xs in seq:
        out.extend(xs)
    return out


@jit
def set_issubset(a, b):
    for x in a.keys():
        if x not in b:
            return False
    return True


# ---- files and input, through runtime/pyio.py as the interpreter does them ------------------------

@jit
def read_file(path, site):
    ok, text = call_python("read_file", path, "")
    if not ok:
        raise Err("E509", text, site)
    return text


@jit
def read_lines(path, site):
    return str_splitlines(read_file(path, site))


@jit
def write_file(path, text, site):
    ok, message = call_python("write_file", path, text)
    if not ok:
        raise Err("E509", message, site)


@jit
def read_input(prompt):
    return call_python("read_input", prompt, "")[1]


@jit
def str_splitlines(s):
    out = List.empty_list(types.unicode_type)
    for part in s.splitlines():
        out.append(part)
    return out




# `for w in s.split()` and `for w in s.split(sep)` walk the string with these instead of making the
# list first (compiler/lower_numba.py, FunctionLowerer.split_loop): each part is made when it is reached.

@hot
def _is_space(c):
    """str.isspace() of one code point (what str.split() splits at): the ASCII ones directly."""
    if c < 128:
        return c == 32 or 9 <= c <= 13 or 28 <= c <= 31
    return _PyUnicode_IsSpace(c)


@jit
def str_next_word(s, p):
    """(start, end) of the first word of s at or after p (words as str.split() finds them), or
    (-1, len(s)) if there is none."""
    n = len(s)
    while p < n and _is_space(_get_code_point(s, p)):
        p += 1
    if p >= n:
        return -1, n
    start = p
    p += 1
    while p < n and not _is_space(_get_code_point(s, p)):
        p += 1
    return start, p


@jit
def str_next_part(s, sep, p):
    """(end, next start) of the part of s.split(sep) that starts at p (p <= len(s)); the next start
    is past len(s) after the last part."""
    end = s.find(sep, p)
    if end < 0:
        return len(s), len(s) + 1
    return end, end + len(sep)


@jit
def str_part(s, start, end):
    """s[start:end], 0 <= start <= end <= len(s)."""
    return s[start:end]


@jit
def check_sep(sep, site):
    if len(sep) == 0:
        raise Err("E506", "str.split: empty separator", site)


@jit
def str_split_ws(s):
    """s.split() as a typed List (the parts appended as they are found, no Python-style list first)."""
    out = List.empty_list(types.unicode_type)
    end = 0
    while True:
        start, end = str_next_word(s, end)
        if start < 0:
            return out
        out.append(s[start:end])


@jit
def str_split(s, sep, site):
    check_sep(sep, site)
    out = List.empty_list(types.unicode_type)
    for part in s.split(sep):  # Numba's, as fast as walking with str_next_part
        out.append(part)
    return out


@jit
def str_join(sep, parts):
    return sep.join(parts)  # Numba's join: one allocation, linear time


# A local string that a loop only extends (`s += x`, `s = s + x`: compiler/lower_numba.py,
# builder_slots) is kept, while the loop runs, as its code points in a buffer that doubles as it fills,
# (buffer, length), and made a string once after it: a copy of the whole string at every pass made such a
# loop quadratic (200,000 passes: 1.3 s, CPython 25 ms). (A typed List of the parts and a join took
# 230 ns an append.)
@jit
def sb_new(s):
    buf = np.empty(max(16, 2 * len(s)), np.uint32)
    for i in range(len(s)):
        buf[i] = _get_code_point(s, i)
    return buf, len(s)


@jit
def sb_add(sb, x):
    buf, n = sb
    m = len(x)
    if n + m > buf.size:
        grown = np.empty(max(2 * buf.size, n + m), np.uint32)
        grown[:n] = buf[:n]
        buf = grown
    for i in range(m):
        buf[n + i] = _get_code_point(x, i)
    return buf, n + m


@jit
def sb_str(sb):
    buf, n = sb
    widest = np.uint32(0)
    for i in range(n):
        widest = max(widest, buf[i])
    s = _empty_string(_narrowest_kind(widest), n, widest < 128)
    for i in range(n):
        _set_code_point(s, i, buf[i])
    return s


@jit
def str_replace(s, old, new, count):
    # Numba's replace takes only -1 for "every one", and puts `new` twice into an empty string
    if count < 0:
        count = -1
    if len(s) == 0 and len(old) == 0:
        return s if count == 0 else new
    return s.replace(old, new, count)


@jit
def str_index(s, sub, start, end, site):
    r = s.find(sub, start, end)  # Numba's find clamps start and end as Python's
    if r < 0:
        not_found("E506", "str.index: substring ", sub, " not found", site)
    return r


@jit
def str_to_int(s, base, site):
    status, v = parse_int(s, base)
    if status == 3:
        raise Err("E506", "int() base must be >= 2 and <= 36, or 0", site)
    if status == 1:
        raise Err("E506", "invalid literal for int() with base " + int_str(base) + ": " + repr_key(s), site)
    if status == 2:
        overflow("int()", site)
    return v


@jit
def str_to_float(s, site):
    ok, v = parse_float(s)
    if not ok:
        raise Err("E506", "could not convert string to float: " + repr_key(s), site)
    return v


@jit
def k_ord(s, site):
    if len(s) != 1:
        raise Err("E506", "ord() expects a string of length 1, found length " + str(len(s)), site)
    return ord(s)


@jit
def k_chr(i, site):
    if i < 0 or i > 0x10FFFF or 0xD800 <= i <= 0xDFFF:
        raise Err("E506", "chr() argument " + int_str(i) + " is not a valid code point (0 to 1114111, "
                  "without the surrogates 55296 to 57343)", site)
    return _one_char(i)


@hot
def _narrowest_kind(c):
    """The kind (bytes a character) of a string whose widest code point is c."""
    return PY_UNICODE_1BYTE_KIND if c < 256 else PY_UNICODE_2BYTE_KIND if c < 65536 else PY_UNICODE_4BYTE_KIND


@jit
def _one_char(c):
    """The one-character string of code point c, of the narrowest kind, marked ASCII only below 128.
    (Numba's chr(233) is marked ASCII, so its isalpha() said False and its upper() left it as it was.)"""
    ch = _empty_string(_narrowest_kind(c), 1, c < 128)
    _set_code_point(ch, 0, np.uint32(c))
    return ch


@jit
def math_exp(x):
    return math.exp(x)  # C's exp, like the interpreter: inf past the largest float, NaN for NaN


@jit
def to_bool(x):
    return bool(x)


@hot
def compared(op, x, y):
    """`x op y` for a constant op code: 0 ==, 1 !=, 2 <, 3 <=, 4 >, 5 >=."""
    if op == 0:
        return x == y
    if op == 1:
        return x != y
    if op == 2:
        return x < y
    if op == 3:
        return x <= y
    if op == 4:
        return x > y
    return x >= y


@jit
def list_order(a, b, op):
    """`a op b` for two lists (op as in `compared`), by Python's rule: at the first pair of elements
    that differ, the pair's order; else the lengths'. A three-way result cannot say it: a NaN differs
    from 0.0 but is neither below nor above it, so `[nan] >= [0.0]` is False, as `nan >= 0.0` is."""
    for i in range(min(len(a), len(b))):
        x, y = a[i], b[i]
        if x != y:
            return compared(op, x, y)
    return compared(op, len(a), len(b))


@jit
def list_eq(a, b):
    """`a == b` for two lists whose elements have `==` but no order (dicts, sets, and what holds
    them), which list_order cannot take: the same answer, by `==` alone."""
    if len(a) != len(b):
        return False
    for i in range(len(a)):
        if not a[i] == b[i]:
            return False
    return True


@jit
def dict_eq(a, b):
    if len(a) != len(b):
        return False
    for k in a.keys():
        if k not in b or a[k] != b[k]:
            return False
    return True


@jit
def set_eq(a, b):
    if len(a) != len(b):
        return False
    for k in a.keys():
        if k not in b:
            return False
    return True


sum_add = _checked_op("sadd_with_overflow", "sum")  # a step of sum() of ints, E502 on overflow


@intrinsic
def enter(typingctx, depth, name, site):
    """The depth of a call about to be made from `depth`; E505 (at the call) beyond the limit. `name`,
    the callee's, is a constant."""
    if not isinstance(name, types.StringLiteral):
        return None
    callee = name.literal_value

    def codegen(context, builder, sig, args):
        d = args[0]
        with cgutils.if_unlikely(builder, builder.icmp_signed(">=", d, d.type(MAX_DEPTH))):
            raise_here(context, builder, TooDeep, [(callee, None), (MAX_DEPTH, None), (args[2], types.int64)])
        return builder.add(d, d.type(1))
    return types.int64(types.int64, name, types.int64), codegen
