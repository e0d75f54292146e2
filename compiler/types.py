"""Glia's static types.

Types are frozen values. `TVar` is an inference variable, resolved through a `Subst` owned by the
checker; `TParam` is a generic function's type parameter (rigid inside its body). Tensor shapes are
tuples of dimensions: an `int`, or a `str` naming a dimension bound at the call, or a `TVar`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True, slots=True)
class Scalar:
    name: str  # 'int', 'float', 'f32', 'bool', 'str', 'None'

    def __str__(self) -> str:
        return self.name


INT = Scalar("int")
FLOAT = Scalar("float")
F32 = Scalar("f32")
BOOL = Scalar("bool")
STR = Scalar("str")
NONE = Scalar("None")

NUMERIC = (INT, FLOAT, F32)
FLOATS = (FLOAT, F32)


@dataclass(frozen=True, slots=True)
class ListT:
    elem: "Type"

    def __str__(self) -> str:
        return f"list[{self.elem}]"


@dataclass(frozen=True, slots=True)
class DictT:
    key: "Type"
    val: "Type"

    def __str__(self) -> str:
        return f"dict[{self.key}, {self.val}]"


@dataclass(frozen=True, slots=True)
class SetT:
    elem: "Type"

    def __str__(self) -> str:
        return f"set[{self.elem}]"


@dataclass(frozen=True, slots=True)
class TupleT:
    items: tuple["Type", ...]

    def __str__(self) -> str:
        if len(self.items) == 1:
            return f"({self.items[0]},)"
        return "(" + ", ".join(map(str, self.items)) + ")"


@dataclass(frozen=True, slots=True)
class RecordT(TupleT):
    """A struct's value as the tuple of its fields, `struct` its name: what the gradient lowering
    writes a record as (lower_grad.records_as_tuples). It is a tuple everywhere but in the
    representation of a list, where it stays the struct list it was (a typed List of tuples, never the
    array of records a list of tuples of scalars is), so a caller's list[S] and the callee's list of
    records are the same value."""
    struct: str = ""

    def __str__(self) -> str:
        return self.struct + TupleT.__str__(self)


@dataclass(frozen=True, slots=True)
class StructT:
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class FnT:
    params: tuple["Type", ...]
    ret: "Type"

    def __str__(self) -> str:
        return f"fn({', '.join(map(str, self.params))}) -> {self.ret}"


@dataclass(frozen=True, slots=True)
class TensorT:
    dtype: Scalar  # F32 or FLOAT
    shape: tuple["Dim", ...]

    def __str__(self) -> str:
        dt = "f64" if self.dtype == FLOAT else "f32"
        return f"{dt}[{', '.join(map(str, self.shape))}]"


@dataclass(frozen=True, slots=True)
class TParam:
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True, eq=False)
class TVar:
    """An inference variable; identity is the variable. `hint` names it in messages."""

    id: int
    hint: str = ""

    def __str__(self) -> str:  # (a hint of a name the compiler made, `$result`, says nothing to the user)
        return "?" if not self.hint or self.hint.startswith("$") else f"?{self.hint}"

    def __hash__(self) -> int:
        return self.id

    def __eq__(self, other) -> bool:
        return isinstance(other, TVar) and other.id == self.id


Type = Union[Scalar, ListT, DictT, SetT, TupleT, StructT, FnT, TensorT, TParam, TVar]
Dim = Union[int, str, TVar]


class Subst:
    """Union-find style substitution for inference variables (types and tensor dimensions)."""

    def __init__(self) -> None:
        self.bound: dict[int, object] = {}
        self._next = 0

    def fresh(self, hint: str = "") -> TVar:
        self._next += 1
        return TVar(self._next, hint)

    def resolve(self, t):
        """Follow bindings at the top of `t` only."""
        while isinstance(t, TVar) and t.id in self.bound:
            t = self.bound[t.id]
        return t

    def zonk(self, t):
        """Resolve `t` completely (all nested variables that are bound); unchanged types are returned as is."""
        t = self.resolve(t)
        if type(t) is Scalar or not self.bound:
            return t
        match t:
            case ListT(e):
                z = self.zonk(e)
                return t if z is e else ListT(z)
            case SetT(e):
                z = self.zonk(e)
                return t if z is e else SetT(z)
            case DictT(k, v):
                zk, zv = self.zonk(k), self.zonk(v)
                return t if zk is k and zv is v else DictT(zk, zv)
            case TupleT(items):
                zs = tuple(self.zonk(i) for i in items)
                return t if all(a is b for a, b in zip(zs, items)) else TupleT(zs)
            case FnT(ps, r):
                zs = tuple(self.zonk(p) for p in ps)
                zr = self.zonk(r)
                return t if zr is r and all(a is b for a, b in zip(zs, ps)) else FnT(zs, zr)
            case TensorT(dt, shape):
                zs = tuple(self.zonk(d) for d in shape)
                return t if all(a is b for a, b in zip(zs, shape)) else TensorT(dt, zs)
        return t

    def occurs(self, v: TVar, t) -> bool:
        t = self.resolve(t)
        if t == v:
            return True
        return any(self.occurs(v, c) for c in children(t))

    def unify(self, a, b) -> bool:
        """Make `a` and `b` equal, binding variables; False if they cannot be."""
        a, b = self.resolve(a), self.resolve(b)
        if a == b:
            return True
        if isinstance(a, TVar):
            if self.occurs(a, b):
                return False
            self.bound[a.id] = b
            return True
        if isinstance(b, TVar):
            return self.unify(b, a)
        match a, b:
            case ListT(x), ListT(y):
                return self.unify(x, y)
            case SetT(x), SetT(y):
                return self.unify(x, y)
            case DictT(k1, v1), DictT(k2, v2):
                return self.unify(k1, k2) and self.unify(v1, v2)
            case TupleT(xs), TupleT(ys):
                return len(xs) == len(ys) and all(self.unify(x, y) for x, y in zip(xs, ys))
            case FnT(p1, r1), FnT(p2, r2):
                return len(p1) == len(p2) and all(self.unify(x, y) for x, y in zip(p1, p2)) and self.unify(r1, r2)
            case TensorT(d1, s1), TensorT(d2, s2):
                return d1 == d2 and len(s1) == len(s2) and all(self.unify(x, y) for x, y in zip(s1, s2))
        return False


def holds_float(t, structs: dict, container: bool = True, seen: frozenset = frozenset()) -> bool:
    """Whether a value of type `t` is a float inside a list, tuple, struct, dict or set (or, with
    `container`, a float itself): where both backends compare by value (runtime/kernels.py VALUE_CMP).
    `structs`: each struct's StructInfo; `seen`: the structs on the way here (a struct may hold itself)."""
    if t in (FLOAT, F32):
        return container
    if isinstance(t, StructT):
        if t.name in seen:
            return False
        info = structs.get(t.name)
        return info is None or any(holds_float(f, structs, True, seen | {t.name}) for f in info.types)
    return isinstance(t, (ListT, TupleT, DictT, SetT)) and \
        any(holds_float(c, structs, True, seen) for c in children(t))


def children(t) -> tuple:
    match t:
        case ListT(e) | SetT(e):
            return (e,)
        case DictT(k, v):
            return (k, v)
        case TupleT(items):
            return items
        case FnT(ps, r):
            return ps + (r,)
        case TensorT(_, shape):
            return tuple(d for d in shape if isinstance(d, TVar))
    return ()


def held(ts, structs: dict, functions: bool = False):
    """Each type that values of the types `ts` are or hold, through elements, keys, values, tuple
    items and struct fields (each struct's fields once, so a struct that holds itself ends the walk),
    and with `functions` a function type's parameters and result. Types may come more than once."""
    seen: set[str] = set()
    todo = list(ts)
    while todo:
        t = todo.pop()
        yield t
        if isinstance(t, StructT):
            info = structs.get(t.name)
            if info is not None and t.name not in seen:
                seen.add(t.name)
                todo.extend(info.types)
        elif isinstance(t, (ListT, SetT, DictT, TupleT)) or functions and isinstance(t, FnT):
            todo.extend(children(t))


def is_concrete(t) -> bool:
    """No inference variables left (type parameters are allowed)."""
    if isinstance(t, TVar):
        return False
    return all(is_concrete(c) for c in children(t))


def substitute(t, mapping: dict):
    """Replace type parameters / named dimensions by `mapping[name]`."""
    match t:
        case TParam(name):
            return mapping.get(name, t)
        case ListT(e):
            return ListT(substitute(e, mapping))
        case SetT(e):
            return SetT(substitute(e, mapping))
        case DictT(k, v):
            return DictT(substitute(k, mapping), substitute(v, mapping))
        case TupleT(items):
            return TupleT(tuple(substitute(i, mapping) for i in items))
        case FnT(ps, r):
            return FnT(tuple(substitute(p, mapping) for p in ps), substitute(r, mapping))
        case TensorT(dt, shape):
            return TensorT(dt, tuple(mapping.get(d, d) if isinstance(d, str) else d for d in shape))
    return t


# While the checker checks a generic function's body, `needs(name, kind)` records that the body
# hashes ("hashable") or orders ("ordered") values of its type parameter `name`: a type parameter
# passes both tests here, and each call binding it is checked against what its body needs
# (checker.Checker.check_type_params).
needs = None


def is_hashable(t) -> bool:
    match t:
        case Scalar(_) | StructT(_):
            return True
        case TParam(name):
            if needs is not None:
                needs(name, "hashable")
            return True
        case TupleT(items):
            return all(is_hashable(i) for i in items)
    return False


def is_ordered(t) -> bool:
    """Supports < <= > >= (lexicographic for sequences)."""
    match t:
        case Scalar(n):
            return n != "None"
        case TupleT(items):
            return all(is_ordered(i) for i in items)
        case ListT(e):
            return is_ordered(e)
        case TParam(name):
            if needs is not None:
                needs(name, "ordered")
            return True
    return False


def dim_names(t) -> set[str]:
    out: set[str] = set()
    if isinstance(t, TensorT):
        out.update(d for d in t.shape if isinstance(d, str))
    for c in children(t):
        out |= dim_names(c)
    return out
