"""IR patterns the CPU lowering compiles as one runtime call: updates of a dict's number in place.

`d[k] = d.get(k, D) + E`, `d[k] = d[k] + E` and `d[k] += E` (and `-`) read the key's value and
write it back: as written, two look-ups of `k` (three with `k in d`). When `d`, `k`, `D` and `E` are
plain values (locals, globals, constants, fields and tuples of plain values, conversions: nothing that
could run code between the read and the write), the lowering calls `rt.dict_add_get` / `rt.dict_add_item`
instead, which find `k` once and write the new value into its entry (runtime/nbdict.py). The
result, the errors (a missing key: E502 at the read; an overflow: at the `+`) and the dict's order
are the interpreter's.

`dict_update(stmts, i)` matches at `stmts[i]` and says how many statements the update covers.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import ir

# the value operations an update may apply: op -> whether it subtracts
ARITH = {"int.add": False, "int.sub": True, "float.add": False, "float.sub": True, "f32.add": False,
         "f32.sub": True}
_CONVERSIONS = ("int.to_float", "int.to_f32", "float.to_f32")


@dataclass(frozen=True)
class DictUpdate:
    dict: ir.Expr
    key: ir.Expr
    default: ir.Expr | None  # D of `d.get(k, D)`; None for `d[k]` (a missing key is an error)
    delta: ir.Expr
    sub: bool
    read: ir.Prim  # the `dict.get` / `dict.getitem` (its span: where a missing key is reported)
    op: ir.Prim  # the `+` / `-` (its span: where an overflow is reported)
    result: ir.StoreLocal | None  # `d[k] += E` also stores the new value in a temporary
    count: int  # statements covered


def plain(e) -> bool:
    """A value whose evaluation runs nothing and cannot fail."""
    match e:
        case ir.Local() | ir.Const() | ir.Global():
            return True
        case ir.GetField(obj):
            return plain(obj)
        case ir.MakeTuple(elts):
            return all(plain(x) for x in elts)
        case ir.Prim(op, (arg,)) if op in _CONVERSIONS:
            return plain(arg)
    return False


def _same(a, b) -> bool:
    match a, b:
        case ir.Local(slot=x), ir.Local(slot=y):
            return x == y
        case ir.Global(name=x), ir.Global(name=y):
            return x == y
        case ir.GetField(obj=x, index=i), ir.GetField(obj=y, index=j):
            return i == j and _same(x, y)
        case ir.MakeTuple(elts=xs), ir.MakeTuple(elts=ys):
            return len(xs) == len(ys) and all(_same(x, y) for x, y in zip(xs, ys))
        case ir.Const(value=x, type=s), ir.Const(value=y, type=t):
            return type(x) is type(y) and x == y and s == t
    return False


def _update(value, d, k, result: ir.StoreLocal | None, count: int) -> DictUpdate | None:
    """The update if `value` is `d.get(k, D) +- E` or `d[k] +- E` with plain operands."""
    match value:
        case ir.Prim(op, (ir.Prim("dict.get" | "dict.getitem", read_args) as read, delta)) if op in ARITH:
            if not (_same(read_args[0], d) and _same(read_args[1], k) and plain(delta)):
                return None
            default = read_args[2] if read.op == "dict.get" else None
            if default is not None and not plain(default):
                return None
            return DictUpdate(d, k, default, delta, ARITH[op], read, value, result, count)
    return None


def dict_update(stmts, i: int) -> DictUpdate | None:
    s = stmts[i]
    match s:
        case ir.Assign(ir.StoreIndex(d, k, "dict.setitem"), value) if plain(d) and plain(k):
            return _update(value, d, k, None, 1)
        case ir.Assign(ir.StoreLocal(slot) as result, value) if i + 1 < len(stmts):
            # `d[k] += E`, as the checker writes it: t = d[k] + E; d[k] = t (d and k temporaries)
            match stmts[i + 1]:
                case ir.Assign(ir.StoreIndex(ir.Local() as d, ir.Local() as k, "dict.setitem"), ir.Local(slot=v)) \
                        if v == slot:
                    return _update(value, d, k, result, 2)
    return None
