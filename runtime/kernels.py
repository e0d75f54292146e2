"""Kernels: the run-time meaning of every primitive operation, in plain Python + numpy.

The reference interpreter calls these directly; compiled backends must agree with them. Each kernel
raises GliaRuntimeError (never a Python exception) for a defined runtime error of the language.
Static operands of a primitive (`attrs` in the IR) are passed after its dynamic arguments.
"""
from __future__ import annotations

import math
import sys

import numpy as np

from .errors import (ASSERTION, EMPTY, FILE, INDEX, KEY, NESTED_TOO_DEEP, OVERFLOW, RECURSION, VALUE,
                     WRITTEN_TOO_DEEP, ZERO_DIV, GliaRuntimeError, fail)
from . import pyio
from .fmt import to_repr, to_str
from .values import MAX_ELEMENTS, GSet, struct_replace

INT_MIN = -(2 ** 63)
INT_MAX = 2 ** 63 - 1

KERNELS: dict[str, object] = {}


def kernel(name):
    def deco(f):
        KERNELS[name] = f
        return f
    return deco


def _ovf(op: str):
    fail(OVERFLOW, f"integer overflow in {op} (the result does not fit in 64 bits)")


# ---- int ----------------------------------------------------------------------------------------

@kernel("int.add")
def int_add(a, b):
    r = a + b
    if INT_MIN <= r <= INT_MAX:
        return r
    _ovf("+")


@kernel("int.sub")
def int_sub(a, b):
    r = a - b
    if INT_MIN <= r <= INT_MAX:
        return r
    _ovf("-")


@kernel("int.mul")
def int_mul(a, b):
    r = a * b
    if INT_MIN <= r <= INT_MAX:
        return r
    _ovf("*")


@kernel("int.floordiv")
def int_floordiv(a, b):
    if b == 0:
        fail(ZERO_DIV, "integer division by zero")
    r = a // b
    if r > INT_MAX:
        _ovf("//")
    return r


@kernel("int.mod")
def int_mod(a, b):
    if b == 0:
        fail(ZERO_DIV, "integer modulo by zero")
    return a % b


@kernel("int.truediv")
def int_truediv(a, b):
    if b == 0:
        fail(ZERO_DIV, "division by zero")
    return a / b


@kernel("int.pow")
def int_pow(a, b):
    if b < 0:
        fail(VALUE, f"negative exponent {b} for an int power (use a float base: float(x) ** {b})")
    if a in (0, 1):
        return a if b > 0 else 1
    if a == -1:
        return 1 if b % 2 == 0 else -1
    if b > 63:
        _ovf("**")
    r = a ** b
    if INT_MIN <= r <= INT_MAX:
        return r
    _ovf("**")


@kernel("int.neg")
def int_neg(a):
    if a == INT_MIN:
        _ovf("unary -")
    return -a


@kernel("int.abs")
def int_abs(a):
    if a == INT_MIN:
        _ovf("abs")
    return -a if a < 0 else a


@kernel("int.and")
def int_and(a, b):
    return a & b


@kernel("int.or")
def int_or(a, b):
    return a | b


@kernel("int.xor")
def int_xor(a, b):
    return a ^ b


@kernel("int.invert")
def int_invert(a):
    return ~a


@kernel("int.lshift")
def int_lshift(a, b):
    if b < 0:
        fail(VALUE, f"negative shift count {b}")
    if a == 0:
        return 0
    if b >= 64:
        _ovf("<<")
    r = a << b
    if INT_MIN <= r <= INT_MAX:
        return r
    _ovf("<<")


@kernel("int.rshift")
def int_rshift(a, b):
    if b < 0:
        fail(VALUE, f"negative shift count {b}")
    return a >> min(b, 64)


@kernel("int.divmod")
def int_divmod(a, b):
    return (int_floordiv(a, b), int_mod(a, b))


@kernel("int.powmod")
def int_powmod(a, b, m):
    if m == 0:
        fail(VALUE, "pow() modulus cannot be zero")
    try:
        return pow(a, b, m)
    except ValueError:
        fail(VALUE, f"base {a} is not invertible modulo {m}")


@kernel("int.isqrt")
def int_isqrt(a):
    if a < 0:
        fail(VALUE, "isqrt() of a negative number")
    return math.isqrt(a)


@kernel("int.round")
def int_round(a, nd):
    return _check_int(round(a, nd), "round")


def _check_int(r, op):
    if INT_MIN <= r <= INT_MAX:
        return r
    _ovf(op)


@kernel("int.sum")
def int_sum(seq, start):
    total = start
    for x in seq:
        total += x
        if not INT_MIN <= total <= INT_MAX:
            _ovf("sum")
    return total


# ---- float and f32 ------------------------------------------------------------------------------

def _float_ops(kind: str, conv):
    @kernel(f"{kind}.add")
    def add(a, b):
        return a + b

    @kernel(f"{kind}.sub")
    def sub(a, b):
        return a - b

    @kernel(f"{kind}.mul")
    def mul(a, b):
        return a * b

    @kernel(f"{kind}.truediv")
    def truediv(a, b):
        if b == 0:
            fail(ZERO_DIV, "float division by zero")
        return a / b

    @kernel(f"{kind}.floordiv")
    def floordiv(a, b):
        if b == 0:
            fail(ZERO_DIV, "float floor division by zero")
        return conv(a // b)

    @kernel(f"{kind}.mod")
    def mod(a, b):
        if b == 0:
            fail(ZERO_DIV, "float modulo by zero")
        return conv(a % b)

    @kernel(f"{kind}.pow")
    def pow_(a, b):
        if a == 0 and b < 0:
            fail(ZERO_DIV, "zero raised to a negative power")
        if a < 0 and math.isfinite(b) and b != math.floor(b):  # (-2.0) ** inf, ** nan: pow's answer
            fail(VALUE, f"negative number raised to a fractional power ({to_repr(a)} ** {to_repr(b)})")
        try:
            return conv(a ** b)
        except OverflowError:
            return conv(math.inf)

    @kernel(f"{kind}.neg")
    def neg(a):
        return -a

    @kernel(f"{kind}.abs")
    def abs_(a):
        return abs(a)

    @kernel(f"{kind}.divmod")
    def divmod_(a, b):
        return (floordiv(a, b), mod(a, b))

    @kernel(f"{kind}.to_int")
    def to_int(a):
        if a != a:
            fail(VALUE, "cannot convert nan to int")
        if a in (math.inf, -math.inf):
            fail(VALUE, "cannot convert infinity to int")
        return _check_int(int(a), "int()")

    @kernel(f"{kind}.round")
    def round_(a):
        if a != a or a in (math.inf, -math.inf):
            fail(VALUE, f"cannot round {to_repr(a)} to an int")
        return _check_int(round(float(a)), "round")

    @kernel(f"{kind}.roundn")
    def roundn(a, nd):
        return conv(round(float(a), nd))

    @kernel(f"{kind}.sum")
    def sum_(seq, start):
        total = start
        for x in seq:
            total = total + x
        return total


_float_ops("float", float)
_float_ops("f32", np.float32)

KERNELS.update({
    "int.to_float": float,
    "int.to_f32": np.float32,
    "float.to_f32": np.float32,
    "f32.to_float": float,
    "bool.to_int": int,
    "bool.to_float": float,
    "bool.to_f32": np.float32,
})


@kernel("str.to_int")
def str_to_int(s, base):
    if base != 0 and not 2 <= base <= 36:
        fail(VALUE, "int() base must be >= 2 and <= 36, or 0")
    try:
        if not s.strip().isascii():  # digits are ASCII digits (Python would also take other scripts')
            raise ValueError
        return _check_int(int(s, base), "int()")
    except ValueError:
        fail(VALUE, f"invalid literal for int() with base {base}: {to_repr(s)}")


@kernel("str.to_float")
def str_to_float(s):
    try:
        if not s.strip().isascii():  # digits are ASCII digits, as in int()
            raise ValueError
        return float(s)
    except ValueError:
        fail(VALUE, f"could not convert string to float: {to_repr(s)}")


@kernel("str.to_f32")
def str_to_f32(s):
    return np.float32(str_to_float(s))


@kernel("to_str")
def k_to_str(v):
    try:
        return to_str(v)
    except RecursionError:
        fail(RECURSION, WRITTEN_TOO_DEEP)


@kernel("to_bool")
def k_to_bool(v):
    return bool(v)


# ---- bool and comparison ------------------------------------------------------------------------

KERNELS.update({
    "bool.not": lambda a: not a,
    "bool.and": lambda a, b: bool(a & b),
    "bool.or": lambda a, b: bool(a | b),
    "bool.xor": lambda a, b: bool(a ^ b),
    "cmp.eq": lambda a, b: a == b,
    "cmp.ne": lambda a, b: a != b,
    "cmp.lt": lambda a, b: a < b,
    "cmp.le": lambda a, b: a <= b,
    "cmp.gt": lambda a, b: a > b,
    "cmp.ge": lambda a, b: a >= b,
    "cmp.in": lambda a, b: a in b,
    "cmp.notin": lambda a, b: a not in b,
})


# ---- comparisons of values that may hold a NaN ----------------------------------------------------
# Glia compares containers by value: a NaN inside a list, tuple or struct is unequal to everything,
# itself included, as a bare NaN is. Python's own comparisons take an object as equal to itself before
# asking `==`, so `[x] == [x]` is True for a NaN `x` held once and False for two NaNs: a distinction
# compiled code, which compares values, cannot make. The interpreter uses these for operands whose type
# can hold a float (interp.Interpreter.comparison); the others keep Python's (the same there, and faster).


def has_nan(v) -> bool:
    """Whether a NaN is `v` or anywhere inside it (lists, tuples, structs, dicts and sets)."""
    if isinstance(v, (float, np.floating)):
        return v != v
    if isinstance(v, (list, tuple)):
        return any(map(has_nan, v))
    if isinstance(v, dict):
        return any(has_nan(k) or has_nan(x) for k, x in v.items())
    return False


def value_eq(a, b) -> bool:
    """`a == b` by value. Python's `==` can only be wrongly True, and only by matching a NaN inside `a`
    with the same object inside `b`."""
    return a == b and not (isinstance(a, (list, tuple, dict)) and has_nan(a))


def _value_order(op):
    """`op` (<, <=, >, >=) by value: sequences compare at their first pair of elements that differ by
    value (Python's rule, without its identity shortcut), or by length."""
    def order(a, b):
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and has_nan(a) and has_nan(b):
            for x, y in zip(a, b):
                if not value_eq(x, y):
                    return order(x, y)
            return op(len(a), len(b))
        return op(a, b)
    return order


def _value_in(a, b) -> bool:
    """`a in b` by value: nothing holding a NaN is found."""
    return a in b and not has_nan(a)


VALUE_CMP = {
    "cmp.eq": value_eq,
    "cmp.ne": lambda a, b: not value_eq(a, b),
    "cmp.lt": _value_order(lambda a, b: a < b),
    "cmp.le": _value_order(lambda a, b: a <= b),
    "cmp.gt": _value_order(lambda a, b: a > b),
    "cmp.ge": _value_order(lambda a, b: a >= b),
    "cmp.in": _value_in,
    "cmp.notin": lambda a, b: not _value_in(a, b),
}

# ---- math ---------------------------------------------------------------------------------------


def _math1(name, fn):
    def k(x):
        try:
            r = fn(x)
        except ValueError:
            fail(VALUE, f"math domain error: {name}({to_repr(x)})")
        except OverflowError:
            r = math.inf
        return np.float32(r) if type(x) is np.float32 else r
    KERNELS[f"math.{name}"] = k


for _n in ("sqrt", "exp", "log", "log2", "log10", "sin", "cos", "tan", "asin", "acos", "atan", "sinh",
           "cosh", "tanh"):
    _math1(_n, getattr(math, _n))


def _math_int(name, fn):
    def k(x):
        if x != x or x in (math.inf, -math.inf):
            fail(VALUE, f"cannot convert {to_repr(x)} to an int in {name}()")
        return _check_int(fn(float(x)), name)
    KERNELS[f"math.{name}"] = k


for _n in ("floor", "ceil", "trunc"):
    _math_int(_n, getattr(math, _n))

KERNELS.update({
    "math.hypot": math.hypot,
    "math.atan2": math.atan2,
    "math.isnan": math.isnan,
    "math.isinf": math.isinf,
})

# ---- sequences ----------------------------------------------------------------------------------


def _index(n: int, i: int, what: str) -> int:
    if -n <= i < n:
        return i
    fail(INDEX, f"index {i} out of range for a {what} of length {n}")


@kernel("list.getitem")
def list_getitem(xs, i):
    if -len(xs) <= i < len(xs):
        return xs[i]
    fail(INDEX, f"index {i} out of range for a list of length {len(xs)}")


@kernel("str.getitem")
def str_getitem(s, i):
    if -len(s) <= i < len(s):
        return s[i]
    fail(INDEX, f"index {i} out of range for a string of length {len(s)}")


@kernel("tuple.getitem")
def tuple_getitem(t, i):
    return t[i]


@kernel("list.setitem")
def list_setitem(xs, i, v):
    xs[_index(len(xs), i, "list")] = v


@kernel("list.delitem")
def list_delitem(xs, i):
    del xs[_index(len(xs), i, "list")]


@kernel("dict.getitem")
def dict_getitem(d, k):
    try:
        return d[k]
    except KeyError:
        fail(KEY, f"key {to_repr(k)} not found in the dict")


@kernel("dict.setitem")
def dict_setitem(d, k, v):
    d[k] = v


@kernel("dict.delitem")
def dict_delitem(d, k):
    try:
        del d[k]
    except KeyError:
        fail(KEY, f"key {to_repr(k)} not found in the dict")


def _slice(xs, lo, hi, step):
    if step == 0:
        fail(VALUE, "slice step cannot be zero")
    return xs[lo:hi:step]


KERNELS["list.slice"] = _slice
KERNELS["str.slice"] = _slice


@kernel("len")
def k_len(x):
    return len(x)


def _range_len(start, stop, step):
    """The number of elements of range(start, stop, step) (Python's len() stops at 2 ** 63 - 1)."""
    if step == 0:
        fail(VALUE, "range() step cannot be zero")
    return max(0, (stop - start + step - 1) // step if step > 0 else (start - stop - step - 1) // -step)


@kernel("range")
def k_range(start, stop, step):
    n = _range_len(start, stop, step)
    if n > MAX_ELEMENTS:  # (len() of a range past 2 ** 63 elements is Python's OverflowError)
        fail(VALUE, f"range of {n} elements is too large to build as a list")
    return list(range(start, stop, step))


# len(range(...)), `range(...)[i]` and `x in range(...)` read the range without building its list
@kernel("range.len")
def range_len(start, stop, step):
    n = _range_len(start, stop, step)
    if n > INT_MAX:
        fail(OVERFLOW, f"len() of a range of {n} elements does not fit in an int")
    return n


@kernel("range.getitem")
def range_getitem(start, stop, step, i):
    n = _range_len(start, stop, step)
    if -n <= i < n:
        return range(start, stop, step)[i]
    fail(INDEX, f"index {i} out of range for a range of length {n}")


@kernel("range.contains")
def range_contains(x, start, stop, step):
    _range_len(start, stop, step)
    return x in range(start, stop, step)


def _guard(n: int, what: str):
    if n > MAX_ELEMENTS:
        fail(VALUE, f"{what} of {n} elements is too large")


@kernel("str.concat")
def str_concat(a, b):
    return a + b


@kernel("list.concat")
def list_concat(a, b):
    return a + b


@kernel("tuple.concat")
def tuple_concat(a, b):
    return a + b


@kernel("str.repeat")
def str_repeat(s, n):
    _guard(len(s) * max(n, 0), "a repeated string")
    return s * n


@kernel("list.repeat")
def list_repeat(xs, n):
    _guard(len(xs) * max(n, 0), "a repeated list")
    return xs * n


@kernel("list.sum")
def list_sum(seq, start):
    out = list(start)
    for x in seq:
        out = out + x
    return out


def walked(seq):
    """The elements a builtin applying a function walks: a dict's or set's keys as they were when it
    began, its size checked before each step and at the end, as a `for` over it (the function may change
    it: `map(lambda v: s.add(v), s)`; iterating it directly was a Python RuntimeError)."""
    if not isinstance(seq, dict):  # (a set is a GSet, a dict)
        yield from seq
        return
    n0 = len(seq)
    for x in list(seq):
        if len(seq) != n0:
            break
        yield x
    if len(seq) != n0:
        fail(VALUE, f"the {'set' if isinstance(seq, GSet) else 'dict'} was changed in size while being iterated over")


@kernel("minmax.iter")
def minmax_iter(seq, key, *rest):
    which, has_default = rest[-2], rest[-1]
    if len(seq) == 0:
        if has_default:
            return rest[0]
        fail(VALUE, f"{which}() of an empty sequence")
    f = min if which == "min" else max
    return f(walked(seq), key=key) if key is not None else f(seq)  # (a key may change a set it walks)


@kernel("seq.mean")
def seq_mean(seq):
    if len(seq) == 0:
        fail(VALUE, "mean() of an empty sequence")
    total = 0.0
    for x in seq:
        total += x
    return total / len(seq)


KERNELS["seq.any"] = lambda seq: any(seq)
KERNELS["seq.all"] = lambda seq: all(seq)


@kernel("sorted")
def k_sorted(seq, key, reverse):
    return sorted(seq, key=key, reverse=reverse)


@kernel("reversed")
def k_reversed(seq):
    if isinstance(seq, (list, str)):
        return list(reversed(seq))
    return list(reversed(list(seq)))


@kernel("enumerate")
def k_enumerate(seq, start):
    return list(enumerate(seq, start))


@kernel("zip")
def k_zip(*seqs):
    return list(zip(*seqs))


@kernel("map")
def k_map(f, seq):
    return [f(x) for x in walked(seq)]


@kernel("filter")
def k_filter(f, seq):
    return [x for x in walked(seq) if f(x)]


@kernel("reduce")
def k_reduce(f, seq, init):
    acc = init
    for x in walked(seq):
        acc = f(acc, x)
    return acc


@kernel("reduce1")
def k_reduce1(f, seq):
    it = walked(seq)
    try:
        acc = next(it)
    except StopIteration:
        fail(VALUE, "reduce() of an empty sequence with no initial value")
    for x in it:
        acc = f(acc, x)
    return acc


KERNELS["to_list"] = list
KERNELS["to_set"] = GSet
KERNELS["to_dict"] = dict


@kernel("ord")
def k_ord(s):
    if len(s) != 1:
        fail(VALUE, f"ord() expects a string of length 1, found length {len(s)}")
    return ord(s)


@kernel("chr")
def k_chr(i):
    if not 0 <= i <= 0x10FFFF or 0xD800 <= i <= 0xDFFF:  # a surrogate is half of a UTF-16 pair, no character
        fail(VALUE, f"chr() argument {i} is not a valid code point (0 to 1114111, without the surrogates "
                    "55296 to 57343)")
    return chr(i)


# ---- list methods -------------------------------------------------------------------------------

@kernel("list.append")
def list_append(xs, v):
    xs.append(v)


@kernel("list.extend")
def list_extend(xs, seq):
    _guard(len(xs) + len(seq), "a list")
    xs.extend(list(seq))


@kernel("list.insert")
def list_insert(xs, i, v):
    xs.insert(i, v)


@kernel("list.pop")
def list_pop(xs, i=-1):
    if not xs:
        fail(EMPTY, "pop from an empty list")
    return xs.pop(_index(len(xs), i, "list"))


def _search(op: str, by_value: bool):
    """list.remove / list.index / list.count. `by_value` (the element type holds a float): a value
    holding a NaN equals no element (value_eq); else Python's own search, which takes a value as equal
    to itself without a look inside (so a tree that holds itself is found)."""
    def search(xs, v):
        try:
            if by_value and has_nan(v):
                if op == "list.count":
                    return 0
                raise ValueError
            if op == "list.count":
                return xs.count(v)
            if op == "list.index":
                return xs.index(v)
            xs.remove(v)
        except ValueError:
            fail(VALUE, f"{op}(x): {to_repr(v)} is not in the list")
        except RecursionError:
            fail(RECURSION, NESTED_TOO_DEEP)
    return search


for _op in ("list.remove", "list.index", "list.count"):
    KERNELS[_op] = _search(_op, True)
# the same for elements that hold no float (the interpreter's choice, as VALUE_CMP's)
PLAIN_SEARCH = {op: _search(op, False) for op in ("list.remove", "list.index", "list.count")}
KERNELS["list.reverse"] = lambda xs: xs.reverse()
KERNELS["list.copy"] = lambda xs: list(xs)
KERNELS["list.clear"] = lambda xs: xs.clear()


@kernel("list.sort")
def list_sort(xs, key, reverse):
    xs.sort(key=key, reverse=reverse)


# ---- dict methods -------------------------------------------------------------------------------

KERNELS["dict.get"] = lambda d, k, default: d.get(k, default)
KERNELS["dict.keys"] = lambda d: list(d)
KERNELS["dict.values"] = lambda d: list(d.values())
KERNELS["dict.items"] = lambda d: list(d.items())
KERNELS["dict.setdefault"] = lambda d, k, v: d.setdefault(k, v)
KERNELS["dict.update"] = lambda d, other: d.update(other)
KERNELS["dict.copy"] = lambda d: dict(d)
KERNELS["dict.clear"] = lambda d: d.clear()


@kernel("dict.pop")
def dict_pop(d, k, *default):
    if k in d:
        return d.pop(k)
    if default:
        return default[0]
    fail(KEY, f"key {to_repr(k)} not found in the dict")


# ---- set methods --------------------------------------------------------------------------------

@kernel("set.add")
def set_add(s, x):
    s[x] = None


@kernel("set.remove")
def set_remove(s, x):
    if x not in s:
        fail(KEY, f"element {to_repr(x)} not found in the set")
    del s[x]


@kernel("set.discard")
def set_discard(s, x):
    s.pop(x, None)


@kernel("set.pop")
def set_pop(s):
    if not s:
        fail(EMPTY, "pop from an empty set")
    return s.popitem()[0]


@kernel("set.union")
def set_union(a, b):
    r = GSet(a)
    for x in b:
        r[x] = None
    return r


@kernel("set.intersection")
def set_intersection(a, b):
    b = b if isinstance(b, dict) else GSet(b)
    return GSet([x for x in a if x in b])


@kernel("set.difference")
def set_difference(a, b):
    b = b if isinstance(b, dict) else GSet(b)
    return GSet([x for x in a if x not in b])


@kernel("set.symmetric_difference")
def set_symmetric_difference(a, b):
    b = b if isinstance(b, dict) else GSet(b)
    return GSet([x for x in a if x not in b] + [x for x in b if x not in a])


@kernel("set.issubset")
def set_issubset(a, b):
    b = b if isinstance(b, dict) else GSet(b)
    return all(x in b for x in a)


@kernel("set.issuperset")
def set_issuperset(a, b):
    return all(x in a for x in b)


@kernel("set.isdisjoint")
def set_isdisjoint(a, b):
    return not any(x in a for x in b)


@kernel("set.update")
def set_update(a, b):
    for x in b:
        a[x] = None


KERNELS["set.copy"] = GSet
KERNELS["set.clear"] = lambda s: s.clear()

# ---- str methods --------------------------------------------------------------------------------


PADDING = ("zfill", "ljust", "rjust", "center")  # whose first argument is the result's width


def _str_method(name):
    meth = getattr(str, name)
    padding = name in PADDING

    def k(s, *args):
        if padding:
            _guard(args[0], "a padded string")
        try:
            return meth(s, *args)
        except (ValueError, TypeError) as e:
            fail(VALUE, f"str.{name}: {e}")
    KERNELS[f"str.{name}"] = k


for _n in ("strip", "lstrip", "rstrip", "upper", "lower", "find", "rfind", "replace", "startswith",
           "endswith", "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower", "count", "splitlines",
           "title", "capitalize", "zfill", "ljust", "rjust", "center", "partition", "rpartition", "swapcase",
           "casefold"):
    _str_method(_n)


@kernel("str.split")
def str_split(s, sep=None):
    if sep == "":
        fail(VALUE, "str.split: empty separator")
    return s.split(sep)


@kernel("str.index")
def str_index(s, sub, *args):
    r = s.find(sub, *args)
    if r < 0:
        fail(VALUE, f"str.index: substring {to_repr(sub)} not found")
    return r


@kernel("str.join")
def str_join(sep, seq):
    return sep.join(seq)


# ---- structs ------------------------------------------------------------------------------------

@kernel("struct.replace")
def k_struct_replace(obj, value, index):
    return struct_replace(obj, index, value)


# ---- tensors ------------------------------------------------------------------------------------

def _np(kind):
    return np.float32 if kind == "f32" else np.float64


def _scalar(x):
    """A tensor element as a Glia scalar: numpy.float32 for f32, a Python float for f64."""
    return x if type(x) is np.float32 else float(x)


def precise(f):
    """NumPy's math function `f` with float32 values computed in float64 and rounded once. NumPy's own
    float32 `exp`, `log`, `tanh`, ... are SIMD approximations, off the correctly rounded value for a
    third of inputs and unlike the C library's that compiled code calls; through float64 both backends
    give the same float32 (docs/backends.md, "Tensors")."""
    def g(x):
        if getattr(x, "dtype", None) == np.float32:
            return f(np.asarray(x, np.float64)).astype(np.float32)
        return f(x)
    return g


exp_, log_, tanh_, expm1_ = (precise(f) for f in (np.exp, np.log, np.tanh, np.expm1))


def matmul_(a, b):
    """a @ b for vectors and matrices: NumPy's matmul (BLAS). Compiled code calls np.dot, which Numba
    sends to SciPy's BLAS, a separate build of OpenBLAS: products with a vector agreed with NumPy's in
    every bit on every shape tested, a product of two matrices may differ in its last bit
    (docs/backends.md, "Tensors")."""
    r = np.matmul(a, b)[()]
    return _scalar(r) if not isinstance(r, np.ndarray) else r  # (vector @ vector: a Glia scalar)


def pow_each(a, b):
    """np.power(a, b) with the C library's pow for every element, as compiled code and Python's floats
    compute it. Given one exponent for every element (a number, or a 0-d array), NumPy computes
    `a ** 0.5` as sqrt(a) and `a ** -1.0` as 1 / a, which differ from pow at -0.0 (-0.0, where pow
    gives 0.0), at -inf (NaN, pow inf) and in the last bit of some reciprocals; an exponent of the
    result's shape (of one element at least: a 0-d one is one value for every element) takes NumPy's
    elementwise pow."""
    shape = np.broadcast_shapes(np.shape(a), np.shape(b))
    whole = shape or (1,)
    return np.power(np.reshape(a, (1,)) if not shape else a, np.broadcast_to(b, whole).copy()).reshape(shape)[()]


def power_(a, b):
    """a ** b element-wise, f32 through float64 as `precise` (NumPy's float32 power is not the C
    library's either)."""
    if np.float32 in (getattr(a, "dtype", None), getattr(b, "dtype", None)):  # a number operand is an f32 first
        a, b = (np.asarray(v, np.float32).astype(np.float64) for v in (a, b))
        return pow_each(a, b).astype(np.float32)
    return pow_each(a, b)


def extreme_(x, how, axis=None):
    """max(x) or min(x) (`how`), along `axis` or of every element: the first extreme element, a NaN
    anywhere giving NaN, as Python's max and compiled code (nbtensor.extreme, reduce3, pool2) take it.
    NumPy's own max and min are SIMD code that may give 0.0 or -0.0 when both are there, depending on
    where each lies. Of no elements (an empty tensor, or a dimension of length 0 along `axis` with
    other elements) it is E506, as max() of an empty list."""
    n = x.size if axis is None else x.shape[axis]
    if n == 0:
        rest = x.shape[:axis] + x.shape[axis + 1:] if axis is not None else ()
        if axis is not None and 0 in rest:  # no lines to reduce: an empty result
            return np.empty(rest, x.dtype)
        fail(VALUE, f"{how}() of an empty tensor" if axis is None else
             f"{how}(..., axis={axis}) over a dimension of length 0")
    i = (np.argmax if how == "max" else np.argmin)(x, axis=axis)
    if axis is None:
        return x.flat[i]
    return np.take_along_axis(x, np.expand_dims(i, axis), axis).squeeze(axis)


KERNELS.update({
    "tensor.add": lambda a, b: np.add(a, b),
    "tensor.sub": lambda a, b: np.subtract(a, b),
    "tensor.mul": lambda a, b: np.multiply(a, b),
    "tensor.pow": power_,
    "tensor.neg": np.negative,
    "tensor.abs": np.abs,
    "tensor.matmul": matmul_,
    "tensor.zeros": lambda shape, kind: np.zeros(shape, _np(kind)),
    "tensor.ones": lambda shape, kind: np.ones(shape, _np(kind)),
    "tensor.sum": lambda a: _scalar(a.sum(dtype=a.dtype)),
    "tensor.mean": lambda a: _scalar(a.mean(dtype=a.dtype) if a.size else a.dtype.type(np.nan)),  # (no warning)
    "tensor.min": lambda a: _scalar(extreme_(a, "min")),
    "tensor.max": lambda a: _scalar(extreme_(a, "max")),
    "tensor.astype": lambda a, kind: a.astype(_np(kind)),
})
for _n in ("sqrt", "floor", "ceil"):  # correctly rounded (or exact) in NumPy's float32 too
    KERNELS[f"tensor.{_n}"] = getattr(np, _n)
for _n in ("exp", "log", "sin", "cos", "tanh", "tan"):
    KERNELS[f"tensor.{_n}"] = precise(getattr(np, _n))


@kernel("tensor.truediv")
def tensor_truediv(a, b):
    return np.true_divide(a, b)


@kernel("tensor.getitem")
def tensor_getitem(a, *idx):
    for d, i in enumerate(idx):
        _index(a.shape[d], i, "tensor dimension")
    r = a[idx]
    return _scalar(r) if not isinstance(r, np.ndarray) or r.ndim == 0 else r


@kernel("tensor.setitem")
def tensor_setitem(a, idx, v):
    idx = idx if isinstance(idx, tuple) else (idx,)
    for d, i in enumerate(idx):
        _index(a.shape[d], i, "tensor dimension")
    a[idx] = v


# ---- I/O ----------------------------------------------------------------------------------------

@kernel("io.print")
def io_print(*args):
    sep, end = args[-2], args[-1]
    try:
        text = sep.join([to_str(v) for v in args[:-2]]) + end
    except RecursionError:
        fail(RECURSION, WRITTEN_TOO_DEEP)
    sys.stdout.write(text)


@kernel("io.input")
def io_input(prompt):
    return pyio.read_input(prompt)[1]


@kernel("io.read_file")
def io_read_file(path):
    ok, text = pyio.read_file(path)
    if not ok:
        fail(FILE, text)
    return text


@kernel("io.read_lines")
def io_read_lines(path):
    return io_read_file(path).splitlines()


@kernel("io.write_file")
def io_write_file(path, text):
    ok, message = pyio.write_file(path, text)
    if not ok:
        fail(FILE, message)


def assertion_failed(msg):
    raise GliaRuntimeError(ASSERTION, "assertion failed" + (f": {msg}" if msg else ""))
