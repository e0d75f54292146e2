"""Component libraries: the operations candidates are built from, with their semantics.

Two dialects share the engines:
- `sygus`: the SMT-LIB theories of SyGuS-IF (unbounded Int, total string operations, 64-bit
  bit-vectors), keyed by their SMT names (`SYGUS_OPS`), used when reading `.sl` files and task
  files that carry a SyGuS grammar;
- `glia`: Glia's own semantics (checked 64-bit ints through the runtime kernels, Python-like strings,
  lists, lambdas), printed as Glia source; used for holes in `.glia` files and for task files
  without a grammar.
A component raises an exception where its result is undefined (an index out of range, an overflow):
the candidate is dropped, as the program would stop with a runtime error there.
"""
from __future__ import annotations

import numpy as np

from glia.runtime import kernels as K

from .bvcode import OPCODES, WORD_TYPES
from .problem import Component

MASK = (1 << 64) - 1
U64 = np.uint64


class Undefined(Exception):
    """A component has no value for these arguments."""


# ---- SMT-LIB semantics (SyGuS) ---------------------------------------------------------------------

def _substr(s, i, n):
    if i < 0 or n <= 0 or i >= len(s):
        return ""
    return s[i:i + n]


def _at(s, i):
    return s[i] if 0 <= i < len(s) else ""


def _indexof(s, t, i):
    if i < 0 or i > len(s):
        return -1
    return s.find(t, i)


def _to_int(s):
    return int(s) if s and s.isascii() and s.isdigit() else -1


def _from_int(i):
    return str(i) if i >= 0 else ""


def _div(a, b):  # SMT-LIB div: floor for positive divisors, the Euclidean rule in general
    if b == 0:
        raise Undefined("div by zero")
    q = a // b
    if a - q * b < 0:
        q += 1
    return q


def _mod(a, b):
    if b == 0:
        raise Undefined("mod by zero")
    return a - b * _div(a, b)


def _bv(op):
    return lambda *a: op(*a) & MASK


def _shl(a, b):
    return (a << b) & MASK if b < 64 else 0


def _lshr(a, b):
    return a >> b if b < 64 else 0


def _ashr(a, b):
    sa = a - (1 << 64) if a >> 63 else a
    return (sa >> min(b, 63)) & MASK


def _sdiv(a, b):
    sa = a - (1 << 64) if a >> 63 else a
    sb = b - (1 << 64) if b >> 63 else b
    if sb == 0:
        return MASK if sa >= 0 else 1
    q = abs(sa) // abs(sb)
    return (q if (sa >= 0) == (sb >= 0) else -q) & MASK


def _srem(a, b):
    sa = a - (1 << 64) if a >> 63 else a
    sb = b - (1 << 64) if b >> 63 else b
    if sb == 0:
        return a
    r = abs(sa) % abs(sb)
    return (r if sa >= 0 else -r) & MASK


def _signed(a):
    return a - (1 << 64) if a >> 63 else a


# numpy versions over uint64 arrays (wrap-around is the bit-vector semantics: silence the warnings)
def _np_shl(a, b):
    return np.where(b < U64(64), np.left_shift(a, np.minimum(b, U64(63))), U64(0))


def _np_lshr(a, b):
    return np.where(b < U64(64), np.right_shift(a, np.minimum(b, U64(63))), U64(0))


def _np_udiv(a, b):
    with np.errstate(divide="ignore"):
        return np.where(b == U64(0), U64(MASK), a // np.where(b == U64(0), U64(1), b))


def _np_urem(a, b):
    with np.errstate(divide="ignore"):
        return np.where(b == U64(0), a, a % np.where(b == U64(0), U64(1), b))


def _np_ite(c, a, b):
    return np.where(c, a, b)


BV = "bv64"
# name -> (argument types, result type, scalar rule, numpy rule or None)
SYGUS_OPS: dict[str, tuple] = {
    # core
    "ite": (("bool", "T", "T"), "T", lambda c, a, b: a if c else b, _np_ite),
    "=": (("T", "T"), "bool", lambda a, b: a == b, lambda a, b: a == b),
    "and": (("bool", "bool"), "bool", lambda a, b: a and b, np.logical_and),
    "or": (("bool", "bool"), "bool", lambda a, b: a or b, np.logical_or),
    "not": (("bool",), "bool", lambda a: not a, np.logical_not),
    "xor": (("bool", "bool"), "bool", lambda a, b: a != b, np.logical_xor),
    "=>": (("bool", "bool"), "bool", lambda a, b: (not a) or b, None),
    # integers
    "+": (("int", "int"), "int", lambda a, b: a + b, None),
    "-": (("int", "int"), "int", lambda a, b: a - b, None),
    "*": (("int", "int"), "int", lambda a, b: a * b, None),
    "div": (("int", "int"), "int", _div, None),
    "mod": (("int", "int"), "int", _mod, None),
    "abs": (("int",), "int", abs, None),
    "<": (("int", "int"), "bool", lambda a, b: a < b, None),
    "<=": (("int", "int"), "bool", lambda a, b: a <= b, None),
    ">": (("int", "int"), "bool", lambda a, b: a > b, None),
    ">=": (("int", "int"), "bool", lambda a, b: a >= b, None),
    # strings
    "str.++": (("str", "str"), "str", lambda a, b: a + b, None),
    "str.len": (("str",), "int", len, None),
    "str.substr": (("str", "int", "int"), "str", _substr, None),
    "str.at": (("str", "int"), "str", _at, None),
    "str.indexof": (("str", "str", "int"), "int", _indexof, None),
    "str.replace": (("str", "str", "str"), "str", lambda s, t, u: s.replace(t, u, 1), None),
    "str.to.int": (("str",), "int", _to_int, None),
    "str.to_int": (("str",), "int", _to_int, None),
    "int.to.str": (("int",), "str", _from_int, None),
    "str.from_int": (("int",), "str", _from_int, None),
    "str.prefixof": (("str", "str"), "bool", lambda a, b: b.startswith(a), None),
    "str.suffixof": (("str", "str"), "bool", lambda a, b: b.endswith(a), None),
    "str.contains": (("str", "str"), "bool", lambda a, b: b in a, None),
    # 64-bit bit-vectors
    "bvand": ((BV, BV), BV, lambda a, b: a & b, np.bitwise_and),
    "bvor": ((BV, BV), BV, lambda a, b: a | b, np.bitwise_or),
    "bvxor": ((BV, BV), BV, lambda a, b: a ^ b, np.bitwise_xor),
    "bvnot": ((BV,), BV, lambda a: a ^ MASK, np.invert),
    "bvneg": ((BV,), BV, lambda a: (-a) & MASK, lambda a: U64(0) - a),
    "bvadd": ((BV, BV), BV, _bv(lambda a, b: a + b), lambda a, b: a + b),
    "bvsub": ((BV, BV), BV, _bv(lambda a, b: a - b), lambda a, b: a - b),
    "bvmul": ((BV, BV), BV, _bv(lambda a, b: a * b), lambda a, b: a * b),
    "bvudiv": ((BV, BV), BV, lambda a, b: a // b if b else MASK, _np_udiv),
    "bvurem": ((BV, BV), BV, lambda a, b: a % b if b else a, _np_urem),
    "bvsdiv": ((BV, BV), BV, _sdiv, None),
    "bvsrem": ((BV, BV), BV, _srem, None),
    "bvshl": ((BV, BV), BV, _shl, _np_shl),
    "bvlshr": ((BV, BV), BV, _lshr, _np_lshr),
    "bvashr": ((BV, BV), BV, _ashr, None),
    "bvult": ((BV, BV), "bool", lambda a, b: a < b, lambda a, b: a < b),
    "bvule": ((BV, BV), "bool", lambda a, b: a <= b, lambda a, b: a <= b),
    "bvugt": ((BV, BV), "bool", lambda a, b: a > b, lambda a, b: a > b),
    "bvuge": ((BV, BV), "bool", lambda a, b: a >= b, lambda a, b: a >= b),
    "bvslt": ((BV, BV), "bool", lambda a, b: _signed(a) < _signed(b), None),
    "bvsle": ((BV, BV), "bool", lambda a, b: _signed(a) <= _signed(b), None),
    "bvsgt": ((BV, BV), "bool", lambda a, b: _signed(a) > _signed(b), None),
    "bvsge": ((BV, BV), "bool", lambda a, b: _signed(a) >= _signed(b), None),
}


def sygus_component(name: str, args: tuple[str, ...], ret: str) -> Component:
    """The component for an SMT operator applied to arguments of the given types."""
    spec = SYGUS_OPS.get(name)
    if spec is None:
        raise KeyError(name)
    _, _, fn, vec = spec
    words = all(a in WORD_TYPES for a in args + (ret,))  # (the numpy rules of `=` and `ite` hold for int words)
    return Component(name, tuple(args), ret, fn, sexpr=name, vec=vec if words else None,
                     code=vm_code(name, [("arg", i) for i in range(len(args))]) if words else None)


def vm_code(name: str, kids: list) -> tuple | None:
    """The word VM's code for SMT operator `name` applied to the codes `kids` (None when the
    VM lacks the operator or a kid has no code)."""
    if name not in OPCODES or any(k is None for k in kids):
        return None
    return (name, *kids)


def sygus_signature(name: str, arg_types: tuple[str, ...]) -> str | None:
    """The result type of SMT operator `name` on arguments of these types (None if ill-typed)."""
    spec = SYGUS_OPS.get(name)
    if spec is None:
        return None
    params, ret, _, _ = spec
    if len(params) != len(arg_types):
        return None
    binding = None
    for p, a in zip(params, arg_types):
        if p == "T":
            if binding is not None and binding != a:
                return None
            binding = a
        elif p != a:
            return None
    return binding if ret == "T" else ret


# ---- Glia semantics ------------------------------------------------------------------------------

def _checked(kernel):
    return kernel  # kernels raise GliaRuntimeError on overflow / division by zero: the candidate is dropped


def _glia_index(xs, i):
    if not -len(xs) <= i < len(xs):
        raise Undefined("index")
    return xs[i]


def _split_at(s, sep, i):
    if not sep:
        raise Undefined("empty separator")
    parts = s.split(sep)
    return _glia_index(parts, i)


def _slice(s, i, j):
    return s[i:j]


def _to_int_glia(s):
    return K.str_to_int(s, 10)


def _glia_str(name, args, ret, fn, glia, cost=1, code=None):
    return Component(name, args, ret, fn, glia=glia, cost=cost, code=code)


def _vm(op, arity=2):
    """The word VM's code of a Glia operation: `op` (bvcode.OPCODES) over the arguments in order."""
    return (op, *[("arg", i) for i in range(arity)])


A0, A1 = ("arg", 0), ("arg", 1)
GLIA_INT = [
    _glia_str("add", ("int", "int"), "int", K.int_add, "{0} + {1}", code=_vm("int.add")),
    _glia_str("sub", ("int", "int"), "int", K.int_sub, "{0} - {1}", code=_vm("int.sub")),
    _glia_str("mul", ("int", "int"), "int", K.int_mul, "{0} * {1}", code=_vm("int.mul")),
    _glia_str("floordiv", ("int", "int"), "int", K.int_floordiv, "{0} // {1}", code=_vm("int.floordiv")),
    _glia_str("mod", ("int", "int"), "int", K.int_mod, "{0} % {1}", code=_vm("int.mod")),
    _glia_str("neg", ("int",), "int", K.int_neg, "-{0}", code=("int.sub", ("const", 0), A0)),
    _glia_str("max", ("int", "int"), "int", max, "max({0}, {1})", code=("ite", ("<", A0, A1), A1, A0)),
    _glia_str("min", ("int", "int"), "int", min, "min({0}, {1})", code=("ite", ("<", A1, A0), A1, A0)),
]
GLIA_INT_BOOL = [
    _glia_str("eq", ("int", "int"), "bool", lambda a, b: a == b, "{0} == {1}", code=_vm("=")),
    _glia_str("lt", ("int", "int"), "bool", lambda a, b: a < b, "{0} < {1}", code=_vm("<")),
    _glia_str("le", ("int", "int"), "bool", lambda a, b: a <= b, "{0} <= {1}", code=_vm("<=")),
]
GLIA_BOOL = [
    _glia_str("and", ("bool", "bool"), "bool", lambda a, b: a and b, "{0} and {1}", code=_vm("and")),
    _glia_str("or", ("bool", "bool"), "bool", lambda a, b: a or b, "{0} or {1}", code=_vm("or")),
    _glia_str("not", ("bool",), "bool", lambda a: not a, "not {0}", code=_vm("not", 1)),
]
GLIA_STR = [
    _glia_str("concat", ("str", "str"), "str", lambda a, b: a + b, "{0} + {1}"),
    _glia_str("slice", ("str", "int", "int"), "str", _slice, "{0}[{1}:{2}]"),
    _glia_str("prefix", ("str", "int"), "str", lambda s, j: s[:j], "{0}[:{1}]"),
    _glia_str("suffix", ("str", "int"), "str", lambda s, i: s[i:], "{0}[{1}:]"),
    _glia_str("at", ("str", "int"), "str", K.str_getitem, "{0}[{1}]"),
    _glia_str("find", ("str", "str"), "int", lambda s, t: s.find(t), "{0}.find({1})"),
    _glia_str("rfind", ("str", "str"), "int", lambda s, t: s.rfind(t), "{0}.rfind({1})"),
    _glia_str("replace", ("str", "str", "str"), "str", lambda s, t, u: s.replace(t, u), "{0}.replace({1}, {2})"),
    _glia_str("len", ("str",), "int", len, "len({0})"),
    _glia_str("to_str", ("int",), "str", K.k_to_str, "str({0})"),
    _glia_str("to_int", ("str",), "int", _to_int_glia, "int({0})"),
    _glia_str("upper", ("str",), "str", str.upper, "{0}.upper()"),
    _glia_str("lower", ("str",), "str", str.lower, "{0}.lower()"),
    _glia_str("title", ("str",), "str", str.title, "{0}.title()"),
    _glia_str("strip", ("str",), "str", str.strip, "{0}.strip()"),
    _glia_str("split_at", ("str", "str", "int"), "str", _split_at, "{0}.split({1})[{2}]"),
    _glia_str("count", ("str", "str"), "int", lambda s, t: s.count(t) if t else len(s) + 1, "{0}.count({1})"),
    _glia_str("startswith", ("str", "str"), "bool", lambda s, t: s.startswith(t), "{0}.startswith({1})"),
    _glia_str("endswith", ("str", "str"), "bool", lambda s, t: s.endswith(t), "{0}.endswith({1})"),
    _glia_str("contains", ("str", "str"), "bool", lambda s, t: s.find(t) >= 0, "{0}.find({1}) >= 0"),
    _glia_str("str_eq", ("str", "str"), "bool", lambda a, b: a == b, "{0} == {1}"),
]


def glia_ite(t: str) -> Component:
    return Component(f"ite_{t}", ("bool", t, t), t, lambda c, a, b: a if c else b, glia="{1} if {0} else {2}",
                     cost=2, vec=_np_ite, code=_vm("ite", 3))


# ---- lists (DeepCoder's DSL, in Glia's semantics) -----------------------------------------------------

def _head(xs):
    if not xs:
        raise Undefined("empty")
    return xs[0]


def _last(xs):
    if not xs:
        raise Undefined("empty")
    return xs[-1]


def _maxl(xs):
    if not xs:
        raise Undefined("empty")
    return max(xs)


def _minl(xs):
    if not xs:
        raise Undefined("empty")
    return min(xs)


def _suml(xs):
    return K.int_sum(xs, 0)


def _map(f, xs):
    return tuple(f(x) for x in xs)


def _filter(p, xs):
    return tuple(x for x in xs if p(x))


def _count(p, xs):
    return sum(1 for x in xs if p(x))


def _zipwith(f, xs, ys):
    return tuple(f(a, b) for a, b in zip(xs, ys))


def _fold(f, xs, init):
    acc = init
    for x in xs:
        acc = f(acc, x)
    return acc


# the list components that only lists of ints have: sums, ranges, and those whose lambdas take two
# elements (a pair's lambda grammar is over ints only)
INT_LIST_ONLY = ("sum", "range", "zipwith", "fold")


def list_components(e: str) -> list[Component]:
    """DeepCoder's list DSL over list[e], plus a few list builders. For lists of other elements
    (str, bool) the structural ones and map/filter/count (their lambdas over the element type:
    library.lambda_grammar), less INT_LIST_ONLY; `map_to_bool` is `map` itself for list[bool]."""
    comps = _list_components(e)
    if e != "int":
        comps = [c for c in comps if c.name not in INT_LIST_ONLY and not (e == "bool" and c.name == "map_to_bool")]
    return comps


def _list_components(e: str) -> list[Component]:
    L, F1, P, F2 = f"list[{e}]", f"fn({e})->{e}", f"fn({e})->bool", f"fn({e},{e})->{e}"
    C = Component
    return [
        C("len", (L,), "int", len, glia="len({0})"),
        C("head", (L,), e, _head, glia="{0}[0]"),
        C("last", (L,), e, _last, glia="{0}[-1]"),
        C("index", (L, "int"), e, _glia_index, glia="{0}[{1}]"),
        C("take", ("int", L), L, lambda n, xs: xs[:n] if n >= 0 else xs[:n], glia="{1}[:{0}]"),
        C("drop", ("int", L), L, lambda n, xs: xs[n:], glia="{1}[{0}:]"),
        C("reverse", (L,), L, lambda xs: xs[::-1], glia="reversed({0})"),
        C("sort", (L,), L, lambda xs: tuple(sorted(xs)), glia="sorted({0})"),
        C("sum", (L,), e, _suml, glia="sum({0})"),
        C("maximum", (L,), e, _maxl, glia="max({0})"),
        C("minimum", (L,), e, _minl, glia="min({0})"),
        C("map", (F1, L), L, _map, glia="map({0}, {1})"),
        C("filter", (P, L), L, _filter, glia="filter({0}, {1})"),
        C("count", (P, L), "int", _count, glia="len(filter({0}, {1}))"),
        C("zipwith", (F2, L, L), L, _zipwith, glia="[{0.body} for {0.params} in zip({1}, {2})]"),
        C("fold", (F2, L, e), e, _fold, glia="fold({0}, {1}, {2})"),
        C("cons", (e, L), L, lambda x, xs: (x,) + xs, glia="[{0}] + {1}"),
        C("append", (L, e), L, lambda xs, x: xs + (x,), glia="{0} + [{1}]"),
        C("concat", (L, L), L, lambda a, b: a + b, glia="{0} + {1}"),
        C("singleton", (e,), L, lambda x: (x,), glia="[{0}]"),
        C("range", ("int",), L, lambda n: tuple(range(n)) if n <= 1000 else _undef(), glia="range({0})"),
        C("contains", (e, L), "bool", lambda x, xs: x in xs, glia="{0} in {1}"),
        C("eq_list", (L, L), "bool", lambda a, b: a == b, glia="{0} == {1}"),
        C("map_to_bool", (P, L), f"list[bool]", _map, glia="map({0}, {1})"),
    ]


def _undef():
    raise Undefined("out of bounds")
