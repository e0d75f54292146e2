"""Typing of builtin functions, methods and operators: resolves each use to a primitive.

`BuiltinTyper` is the checker's helper for everything the language provides rather than the user
defines. Each rule checks its operands and returns typed IR (usually an `ir.Prim` naming an entry of
`primitives.PRIMS`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from . import ast as A
from . import ir
from .diagnostics import GliaError, Span, a_or_an
from .tensor_builtins import TENSOR_FUNCS, TensorTyper, parts
from .types import (BOOL, F32, FLOAT, INT, NONE, STR, DictT, FnT, ListT, SetT, StructT, TensorT, TParam,
                    TupleT, TVar, is_concrete, is_ordered)

if TYPE_CHECKING:
    from .checker import Checker

MATH_FUNCS = ("sqrt", "exp", "log", "log2", "log10", "sin", "cos", "tan", "asin", "acos", "atan", "sinh",
              "cosh", "tanh", "floor", "ceil", "trunc")
MATH_CONSTS = {"pi": 3.141592653589793, "e": 2.718281828459045, "inf": float("inf"), "nan": float("nan"),
               "tau": 6.283185307179586}

FUNCS = ("print", "len", "range", "abs", "min", "max", "sum", "any", "all", "sorted", "reversed",
         "enumerate", "zip", "map", "filter", "reduce", "fold", "str", "int", "float", "f32", "f64", "bool",
         "list", "set", "dict", "ord", "chr", "round", "divmod", "pow", "isqrt", "input", "read_file",
         "read_lines", "write_file", "hypot", "atan2", "isnan", "isinf", "zeros", "ones", "mean",
         "choose") + MATH_FUNCS + TENSOR_FUNCS

LIST_METHODS = ("append", "extend", "insert", "pop", "remove", "index", "count", "reverse", "sort", "copy", "clear")
DICT_METHODS = ("get", "keys", "values", "items", "pop", "setdefault", "update", "copy", "clear")
SET_METHODS = ("add", "remove", "discard", "pop", "union", "intersection", "difference", "symmetric_difference",
               "issubset", "issuperset", "isdisjoint", "copy", "clear", "update")
STR_METHODS = ("split", "join", "strip", "lstrip", "rstrip", "upper", "lower", "find", "rfind", "index",
               "replace", "startswith", "endswith", "isdigit", "isalpha", "isalnum", "isspace", "isupper",
               "islower", "count", "splitlines", "title", "capitalize", "zfill", "ljust", "rjust", "center",
               "partition", "rpartition", "swapcase", "casefold")

ARITH = {"+": "add", "-": "sub", "*": "mul", "/": "truediv", "//": "floordiv", "%": "mod", "**": "pow"}
BITS = {"&": "and", "|": "or", "^": "xor", "<<": "lshift", ">>": "rshift"}
CMP = {"==": "cmp.eq", "!=": "cmp.ne", "<": "cmp.lt", "<=": "cmp.le", ">": "cmp.gt", ">=": "cmp.ge",
       "in": "cmp.in", "not in": "cmp.notin"}


def _is_range(e: ir.Expr) -> bool:
    """A call of range() read where it stands (len, index, `in`): its list need not be built."""
    return isinstance(e, ir.Prim) and e.op == "range"


# why sum refuses a sequence of these, and what to write (Python sums bools as 0 and 1; Glia's are no numbers)
_SUM_HINTS = {BOOL: " (a bool is not a number in Glia: count the True ones with xs.count(True), or sum "
                    "[1 if b else 0 for b in xs])",
              STR: " (join strings with \"\".join(xs))"}


def _kind(t) -> str:
    return {INT: "int", FLOAT: "float", F32: "f32"}.get(t, "")


class BuiltinTyper:
    def __init__(self, checker: "Checker"):
        self.c = checker
        self.reserved = frozenset(FUNCS)
        self.tensor = TensorTyper(self)
        self.kw_checked: set[int] = set()  # the calls whose keywords a builtin has read (`kwargs`)

    # ---- helpers ------------------------------------------------------------------------------
    def err(self, code, msg, span):
        return self.c.err(code, msg, span)

    def r(self, t):
        return self.c.subst.resolve(t)

    def show(self, t):
        return self.c.show(t)

    def convert(self, v: ir.Expr, to) -> ir.Expr:
        frm = self.r(v.type)
        if frm == to:
            return v
        if isinstance(v, ir.Const) and frm in (INT, FLOAT) and to in (FLOAT,):
            return ir.Const(float(v.value), FLOAT, v.span)
        names = {(INT, FLOAT): "int.to_float", (INT, F32): "int.to_f32", (FLOAT, F32): "float.to_f32",
                 (F32, FLOAT): "f32.to_float"}
        return ir.Prim(names[(frm, to)], (v,), to, v.span)

    def numeric(self, v: ir.Expr, what: str, span: Span):
        t = self.r(v.type)
        if isinstance(t, TVar):
            raise self.c.unknown_type(f"the type of {what} is not known yet; annotate it", span, t)
        return t

    def joined(self, l: ir.Expr, r: ir.Expr):
        """`l` and `r` as one type, a literal widening its ints to floats (`xs == [1, 2]` for a list[float]
        `xs`), with that type; None if they have none."""
        try:
            return self.c.join(l, r, l.span)
        except GliaError:
            return None

    def promote(self, l: ir.Expr, r: ir.Expr):
        """Common numeric type of two operands (None if not both numeric)."""
        tl, tr = self.r(l.type), self.r(r.type)
        if isinstance(tl, TVar) and tr in (INT, FLOAT, F32):
            self.c.subst.unify(tl, tr)
            tl = tr
        if isinstance(tr, TVar) and tl in (INT, FLOAT, F32):
            self.c.subst.unify(tr, tl)
            tr = tl
        if tl not in (INT, FLOAT, F32) or tr not in (INT, FLOAT, F32):
            return None
        if tl == tr:
            return l, r, tl
        if INT in (tl, tr):
            hi = tr if tl == INT else tl
            return self.convert(l, hi), self.convert(r, hi), hi
        # float with f32: a float literal adapts to f32; a float value does not
        if tl == F32 and isinstance(r, ir.Const):
            return l, self.convert(r, F32), F32
        if tr == F32 and isinstance(l, ir.Const):
            return self.convert(l, F32), r, F32
        return "mixed"

    def nargs(self, c: A.Call, lo: int, hi: int, name: str):
        n = len(c.args)
        if not lo <= n <= hi:
            want = f"{lo}" if lo == hi else f"{lo} to {hi}" if hi < 99 else f"at least {lo}"
            raise self.err("E202", f"{name} takes {want} argument{'s' if hi != 1 else ''}, but {n} "
                           f"{'were' if n != 1 else 'was'} given", c.span)

    def kwargs(self, c: A.Call, allowed: tuple[str, ...], name: str) -> dict:
        self.kw_checked.add(id(c))
        out = {}
        for kw in c.kwargs:
            if kw.name not in allowed:
                opts = f"; it accepts {', '.join(allowed)}" if allowed else "; it takes no keyword arguments"
                raise self.err("E103", f"{name} has no keyword argument '{kw.name}'{opts}", kw.span)
            out[kw.name] = kw.value
        return out

    def arg(self, e, t, what="argument") -> ir.Expr:
        return self.c.coerce_arg(self.c.expr(e, t), t, e.span, what)

    def prim(self, op, args, t, span, attrs=()):
        return ir.Prim(op, tuple(args), t, span, tuple(attrs))

    # ---- operators ----------------------------------------------------------------------------
    def binop(self, op: str, l: ir.Expr, r: ir.Expr, span: Span, op_span: Span) -> ir.Expr:
        tl, tr = self.r(l.type), self.r(r.type)
        if op in ARITH:
            p = self.promote(l, r)
            if p == "mixed":
                raise self.err("E203", f"'{op}' mixes f32 and float; convert one side with f32(...) or float(...)",
                               span)
            if p is not None:
                l, r, t = p
                if op == "/" and t == INT:
                    return self.prim("int.truediv", (l, r), FLOAT, span)
                return self.prim(f"{_kind(t)}.{ARITH[op]}", (l, r), t, span)
            if isinstance(tl, TensorT) or isinstance(tr, TensorT):
                return self.tensor_binop(op, l, r, span, op_span)
            if op == "+":
                if STR in (tl, tr) and (isinstance(tl, TVar) or isinstance(tr, TVar)):
                    self.c.subst.unify(tl, STR)  # a str adds only to a str: `out + ??` types the hole
                    self.c.subst.unify(tr, STR)
                    tl = tr = STR
                if tl == STR and tr == STR:
                    return self.prim("str.concat", (l, r), STR, span)
                if isinstance(tl, ListT) and (j := self.joined(l, r)) is not None:
                    return self.prim("list.concat", j[:2], j[2], span)
                if isinstance(tl, TupleT) and isinstance(tr, TupleT):
                    return self.prim("tuple.concat", (l, r), TupleT(tl.items + tr.items), span)
            if op == "*":
                if tl in (STR,) and tr == INT:
                    return self.prim("str.repeat", (l, r), STR, span)
                if tr == STR and tl == INT:
                    return self.prim("str.repeat", (r, l), STR, span)
                if isinstance(tl, ListT) and tr == INT:
                    return self.prim("list.repeat", (l, r), tl, span)
                if isinstance(tr, ListT) and tl == INT:
                    return self.prim("list.repeat", (r, l), tr, span)
            if op == "-" and isinstance(tl, SetT) and self.c.subst.unify(tl, tr):
                return self.prim("set.difference", (l, r), tl, span)
        elif op in BITS:
            if tl == INT and tr == INT:
                return self.prim(f"int.{BITS[op]}", (l, r), INT, span)
            if tl == BOOL and tr == BOOL and op in "&|^":
                return self.prim(f"bool.{BITS[op]}", (l, r), BOOL, span)
            if isinstance(tl, SetT) and op in "&|^" and self.c.subst.unify(tl, tr):
                name = {"&": "intersection", "|": "union", "^": "symmetric_difference"}[op]
                return self.prim(f"set.{name}", (l, r), tl, span)
            if isinstance(tl, TVar) or isinstance(tr, TVar):
                if self.c.subst.unify(tl, INT) and self.c.subst.unify(tr, INT):
                    return self.prim(f"int.{BITS[op]}", (l, r), INT, span)
        elif op == "@":
            if isinstance(tl, TensorT) and isinstance(tr, TensorT):
                return self.matmul(l, r, span, op_span)
        if isinstance(tl, TVar) or isinstance(tr, TVar):
            raise self.c.unknown_type(f"the operand types of '{op}' are not known yet ({self.show(tl)} and "
                                      f"{self.show(tr)}); annotate the variables involved (a lambda stored in a "
                                      "variable needs a function type: `add: fn(int, int) -> int = lambda a, b: "
                                      "a + b`)", span, tl if isinstance(tl, TVar) else tr)
        hint = ""
        if op == "+" and STR in (tl, tr):
            hint = " (convert with str(...) first)"
        raise self.err("E203", f"operator '{op}' is not defined for {self.show(tl)} and {self.show(tr)}{hint}", span)

    def tensor_binop(self, op, l, r, span, op_span):
        tl, tr = self.c.subst.zonk(l.type), self.c.subst.zonk(r.type)
        if op not in ("+", "-", "*", "/", "**"):
            raise self.err("E203", f"operator '{op}' is not defined for tensors", span)
        name = {"+": "add", "-": "sub", "*": "mul", "/": "truediv", "**": "pow"}[op]
        if isinstance(tl, TensorT) and isinstance(tr, TensorT):
            if tl.dtype != tr.dtype:
                raise self.err("E203", f"'{op}' mixes {tl} and {tr}; convert one side", span)
            shape = self.broadcast(tl.shape, tr.shape, tl, tr, span)
            return self.prim(f"tensor.{name}", (l, r), TensorT(tl.dtype, shape), span)
        ten, other = (tl, tr) if isinstance(tl, TensorT) else (tr, tl)
        if isinstance(other, TVar):
            raise self.c.unknown_type(f"the type of the operand of '{op}' beside {ten} is not known yet; annotate "
                                      "it", (r if other is tr else l).span, other)
        if other not in (INT, FLOAT, F32):
            raise self.err("E203", f"operator '{op}' is not defined for {tl} and {tr}", span)
        if other == FLOAT and ten.dtype == F32 and not isinstance(l if other is tl else r, ir.Const):
            pass
        return self.prim(f"tensor.{name}", (l, r), ten, span)

    def broadcast(self, a, b, ta, tb, span):
        out = []
        for i in range(max(len(a), len(b))):
            da = a[len(a) - 1 - i] if i < len(a) else 1
            db = b[len(b) - 1 - i] if i < len(b) else 1
            if da == db or db == 1:
                out.append(da)
            elif da == 1:
                out.append(db)
            elif isinstance(da, TVar) or isinstance(db, TVar):
                self.c.subst.unify(da, db)
                out.append(da)
            else:
                raise self.err("E301", f"tensor shape mismatch: {ta} and {tb} do not broadcast "
                               f"(dimension {da} vs {db})", span)
        return tuple(reversed(out))

    def matmul(self, l, r, span, op_span):
        tl, tr = self.c.subst.zonk(l.type), self.c.subst.zonk(r.type)
        if tl.dtype != tr.dtype:
            raise self.err("E203", f"'@' mixes {tl} and {tr}", span)
        a, b = tl.shape, tr.shape
        if len(a) not in (1, 2) or len(b) not in (1, 2):
            raise self.err("E301", f"'@' takes vectors and matrices, found {tl} @ {tr}", span)
        inner_a = a[-1]
        inner_b = b[0]
        if not self.c.subst.unify(inner_a, inner_b):
            raise self.err("E301", f"tensor shape mismatch in '@': {tl} @ {tr} (inner dimensions {inner_a} and "
                           f"{inner_b} differ)", span)
        shape = tuple(a[:-1]) + tuple(b[1:])
        t = TensorT(tl.dtype, shape) if shape else tl.dtype
        return self.prim("tensor.matmul", (l, r), t, span)

    def unary(self, op: str, v: ir.Expr, span: Span) -> ir.Expr:
        t = self.r(v.type)
        if op == "-":
            if t in (INT, FLOAT, F32):
                return self.prim(f"{_kind(t)}.neg", (v,), t, span)
            if isinstance(t, TensorT):
                return self.prim("tensor.neg", (v,), t, span)
        if op == "+" and (t in (INT, FLOAT, F32) or isinstance(t, TensorT)):
            return v
        if op == "~" and t == INT:
            return self.prim("int.invert", (v,), INT, span)
        if isinstance(t, TVar):
            raise self.c.unknown_type(f"the type of the operand of '{op}' is not known yet; annotate it", span, t)
        raise self.err("E203", f"unary '{op}' is not defined for {self.show(t)}", span)

    def compare(self, op: str, l: ir.Expr, r: ir.Expr, span: Span):
        if op in ("is", "is not"):
            raise self.err("E203", f"'{op}' is not part of Glia; compare values with "
                           f"'{'==' if op == 'is' else '!='}'", span)
        tl, tr = self.r(l.type), self.r(r.type)
        if op in ("in", "not in"):
            if isinstance(tr, ListT) or isinstance(tr, SetT):
                l = self.c.coerce(l, tr.elem, l.span) if not isinstance(self.r(tr.elem), TVar) else l
                self.c.subst.unify(l.type, tr.elem)
                if not self.c.subst.unify(l.type, tr.elem):
                    raise self.err("E201", f"'{op}' looks for {a_or_an(self.show(tr.elem))} in {self.show(tr)}, "
                                   f"found {self.show(tl)}", l.span)
                return l, r, CMP[op]
            if isinstance(tr, DictT):
                if not self.c.subst.unify(l.type, tr.key):
                    l = self.c.coerce(l, tr.key, l.span)
                return l, r, CMP[op]
            if tr == STR:
                if tl != STR:
                    raise self.err("E201", f"'{op}' on a str looks for a str, found {self.show(tl)}", l.span)
                return l, r, CMP[op]
            if isinstance(tr, TVar):
                raise self.c.unknown_type(f"the type of the right side of '{op}' is not known yet; annotate it",
                                          r.span, tr)
            raise self.err("E204", f"'{op}' needs a list, set, dict or str on the right, found {self.show(tr)}", span)
        p = self.promote(l, r)
        if p == "mixed":
            raise self.err("E203", f"'{op}' mixes f32 and float; convert one side", span)
        if p is not None:
            l, r, _ = p
            return l, r, CMP[op]
        j = self.joined(l, r)
        if j is None:
            raise self.err("E203", f"cannot compare {self.show(tl)} with {self.show(tr)}", span)
        l, r, t = j
        t = self.c.subst.zonk(t)
        if op in ("<", "<=", ">", ">=") and not isinstance(t, TVar) and not is_ordered(t):
            if isinstance(t, TensorT):
                raise self.err("E203", f"'{op}' on tensors is element-wise and not supported yet", span)
            if not is_concrete(t):  # (`xs = []` then `xs < xs`: its elements' type is not known yet)
                raise self.c.unknown_type(f"'{op}' compares values whose type is not known yet ({t}); annotate "
                                          "them where they are made, e.g. `xs: list[int] = []`", span, t)
            raise self.err("E203", f"'{op}' is not defined for {t} (it has no order)", span)
        if isinstance(t, TensorT):
            raise self.err("E203", f"'{op}' on tensors is not supported; compare elements", span)
        if any(isinstance(u, TensorT) for u in parts(t, self.c.structs)):
            raise self.err("E203", f"'{op}' is not defined for {self.show(t)}, which holds tensors (a tensor "
                           "compares element by element); compare the parts that are not tensors", span)
        return l, r, CMP[op]

    # ---- indexing -----------------------------------------------------------------------------
    def subscript(self, cont: ir.Expr, index, span: Span) -> ir.Expr:
        t = self.r(cont.type)
        if isinstance(index, A.Slice):
            lo = self.arg(index.lo, INT, "slice bound") if index.lo is not None else ir.Const(None, NONE, index.span)
            hi = self.arg(index.hi, INT, "slice bound") if index.hi is not None else ir.Const(None, NONE, index.span)
            st = self.arg(index.step, INT, "slice bound") if index.step is not None else ir.Const(None, NONE, index.span)
            if isinstance(t, ListT):
                return self.prim("list.slice", (cont, lo, hi, st), t, span)
            if t == STR:
                return self.prim("str.slice", (cont, lo, hi, st), STR, span)
            if isinstance(t, TupleT):
                consts = [index.lo, index.hi, index.step]
                if all(x is None or isinstance(x, A.IntLit) for x in consts):
                    vals = [x.value if x is not None else None for x in consts]
                    if vals[2] == 0:
                        raise self.err("E506", "slice step cannot be zero", index.span)
                    idxs = list(range(len(t.items)))[slice(*vals)]
                    items = tuple(ir.Prim("tuple.getitem", (cont,), t.items[i], span, (i,)) for i in idxs)
                    return ir.MakeTuple(items, TupleT(tuple(t.items[i] for i in idxs)), span)
                raise self.err("E201", "a tuple can only be sliced with constant bounds", index.span)
            if isinstance(t, TensorT):
                return self.tensor.slice(cont, self.c.subst.zonk(t), index, span)
            if isinstance(t, TVar):
                raise self.c.unknown_type("the type of this value is not known yet; annotate it", cont.span, t)
            raise self.err("E204", f"{self.show(t)} cannot be sliced", span)
        if _is_range(cont):
            return self.prim("range.getitem", cont.args + (self.arg(index, INT, "index"),), INT, span)
        if isinstance(t, ListT):
            return self.prim("list.getitem", (cont, self.arg(index, INT, "index")), t.elem, span)
        if t == STR:
            return self.prim("str.getitem", (cont, self.arg(index, INT, "index")), STR, span)
        if isinstance(t, DictT):
            k = self.c.expr(index, t.key)
            return self.prim("dict.getitem", (cont, self.c.coerce_arg(k, t.key, index.span, "key")), t.val, span)
        if isinstance(t, TupleT):
            if isinstance(index, A.IntLit) and -len(t.items) <= index.value < len(t.items):
                i = index.value % len(t.items)
                return self.prim("tuple.getitem", (cont,), t.items[i], span, (i,))
            if isinstance(index, A.IntLit):
                raise self.err("E501", f"tuple index {index.value} out of range for {self.show(t)}", index.span)
            raise self.err("E201", "a tuple index must be an integer constant (tuples may mix types)", index.span)
        if isinstance(t, TensorT):
            idx = index.elts if isinstance(index, A.TupleLit) else (index,)
            if len(idx) > len(t.shape):
                raise self.err("E301", f"too many indices ({len(idx)}) for {self.show(t)}", span)
            args = tuple(self.arg(i, INT) for i in idx)
            rest = t.shape[len(idx):]
            rt = TensorT(t.dtype, rest) if rest else t.dtype
            return self.prim("tensor.getitem", (cont,) + args, rt, span)
        if isinstance(t, TVar):
            raise self.c.unknown_type("the type of this value is not known yet, so it cannot be indexed; annotate it",
                                      cont.span, t)
        raise self.err("E204", f"{self.show(t)} cannot be indexed", span)

    def store_index(self, cont: ir.Expr, target: A.Subscript, value, span: Span) -> ir.Stmt:
        t = self.r(cont.type)
        if isinstance(target.index, A.Slice):
            raise self.err("E209", "cannot assign to a slice", target.index.span)
        if isinstance(t, ListT):
            idx = self.arg(target.index, INT, "index")
            v = self.c.coerce(self.c.expr(value, t.elem), t.elem, value.span)
            return ir.Assign(ir.StoreIndex(cont, idx, "list.setitem", target.span), v, span)
        if isinstance(t, DictT):
            k = self.c.coerce_arg(self.c.expr(target.index, t.key), t.key, target.index.span, "key")
            v = self.c.coerce(self.c.expr(value, t.val), t.val, value.span)
            return ir.Assign(ir.StoreIndex(cont, k, "dict.setitem", target.span), v, span)
        if isinstance(t, TensorT):
            idx = target.index.elts if isinstance(target.index, A.TupleLit) else (target.index,)
            args = tuple(self.arg(i, INT) for i in idx)
            rest = t.shape[len(args):]
            et = TensorT(t.dtype, rest) if rest else t.dtype
            v = self.c.coerce(self.c.expr(value, et), et, value.span)
            key = args[0] if len(args) == 1 else ir.MakeTuple(args, TupleT(tuple(INT for _ in args)), target.index.span)
            return ir.Assign(ir.StoreIndex(cont, key, "tensor.setitem", target.span), v, span)
        if t == STR:
            raise self.err("E209", "strings are immutable; build a new one (e.g. with slicing and +)", target.span)
        if isinstance(t, TupleT):
            raise self.err("E209", "tuples are immutable; build a new one", target.span)
        if isinstance(t, TVar):
            raise self.c.unknown_type("the type of this value is not known yet; annotate it", target.value.span, t)
        raise self.err("E209", f"{self.show(t)} does not support item assignment", target.span)

    def delete(self, target: A.Subscript) -> ir.Expr:
        cont = self.c.expr(target.value)
        t = self.r(cont.type)
        if isinstance(target.index, A.Slice):
            raise self.err("E209", "`del` of a slice is not supported", target.index.span)
        if isinstance(t, ListT):
            return self.prim("list.delitem", (cont, self.arg(target.index, INT, "index")), NONE, target.span)
        if isinstance(t, DictT):
            k = self.c.coerce_arg(self.c.expr(target.index, t.key), t.key, target.index.span, "key")
            return self.prim("dict.delitem", (cont, k), NONE, target.span)
        raise self.err("E209", f"`del` works on list items and dict keys, not on {self.show(t)}", target.span)

    # ---- iteration ----------------------------------------------------------------------------
    def iteration(self, it: ir.Expr, span: Span):
        t = self.r(it.type)
        if isinstance(t, ListT):
            return t.elem, "list"
        if t == STR:
            return STR, "str"
        if isinstance(t, DictT):
            return t.key, "dict"
        if isinstance(t, SetT):
            return t.elem, "set"
        if isinstance(t, TensorT):
            rest = t.shape[1:]
            return (TensorT(t.dtype, rest) if rest else t.dtype), "tensor"
        if isinstance(t, TVar):
            raise self.c.unknown_type("the type of this value is not known yet, so it cannot be iterated; annotate it",
                                      span, t)
        raise self.err("E204", f"{self.show(t)} is not iterable; expected a list, str, dict, set or range", span)

    def range_args(self, c: A.Call):
        self.nargs(c, 1, 3, "range")
        args = [self.arg(a, INT) for a in c.args]
        if len(args) == 1:
            return ir.Const(0, INT, c.span), args[0], ir.Const(1, INT, c.span)
        if len(args) == 2:
            return args[0], args[1], ir.Const(1, INT, c.span)
        if isinstance(args[2], ir.Const) and args[2].value == 0:
            raise self.err("E506", "range() step cannot be zero", c.args[2].span)
        return args[0], args[1], args[2]

    # ---- builtin functions --------------------------------------------------------------------
    def as_value(self, name: str, span: Span, expected) -> ir.Expr | None:
        """A builtin used as a value (map(str, xs), key=len): wrap it in a lambda of the expected type."""
        if name not in self.reserved or name in ("print", "choose", "range"):
            if name in ("print",):
                pass
            else:
                return None
        exp = self.r(expected) if expected is not None else None
        if not isinstance(exp, FnT):
            raise self.err("E204", f"builtin '{name}' can be passed as a value only where a function type is "
                           f"expected (e.g. map({name}, xs)); otherwise call it", span)
        params = tuple(f"$a{i}" for i in range(len(exp.params)))
        body = A.Call(A.Name(name, span), tuple(A.Name(p, span) for p in params), (), span)
        return self.c.lambda_(params, body, span, exp)

    def math_constant(self, attr: str, attr_span: Span, span: Span) -> ir.Expr:
        if attr in MATH_CONSTS:
            return ir.Const(MATH_CONSTS[attr], FLOAT, span)
        if attr in MATH_FUNCS or attr in ("hypot", "atan2", "isnan", "isinf", "isqrt"):
            raise self.err("E204", f"math.{attr} is a function: call it", attr_span)
        raise self.err("E103", f"math has no member '{attr}'{self.c.suggest(attr, list(MATH_CONSTS) + list(MATH_FUNCS))}",
                       attr_span)

    def call_builtin(self, name: str, c: A.Call, expected, name_span: Span | None = None) -> ir.Expr:
        if name.startswith("math."):
            short = name[5:]
            if short not in MATH_FUNCS and short not in ("hypot", "atan2", "isnan", "isinf", "isqrt", "pow"):
                raise self.err("E103", f"math has no function '{short}'"
                               f"{self.c.suggest(short, list(MATH_FUNCS))}", name_span or c.span)
            name = short
        method = getattr(self, "b_" + name, None) or (getattr(self.tensor, "b_" + name, None)
                                                      if name in TENSOR_FUNCS else None)
        if method is not None:
            out = method(c, expected)
            if c.kwargs and id(c) not in self.kw_checked:  # a builtin that reads no keyword: none is ignored
                self.kwargs(c, (), name)
            return out
        if name in MATH_FUNCS:
            return self.math1(name, c)
        raise self.err("E101", f"unknown builtin '{name}'", c.span)  # pragma: no cover

    def math1(self, name, c):
        self.kwargs(c, (), name)
        self.nargs(c, 1, 1, name)
        v = self.c.expr(c.args[0])
        t = self.numeric(v, "the argument", c.args[0].span)
        if isinstance(t, TensorT):
            if name not in ("sqrt", "exp", "log", "sin", "cos", "tanh", "tan", "floor", "ceil"):
                raise self.err("E203", f"{name} is not defined on tensors", c.span)
            return self.prim(f"tensor.{name}", (v,), t, c.span)
        if t not in (INT, FLOAT, F32):
            raise self.err("E201", f"{name} takes a number, found {self.show(t)}", c.args[0].span)
        if name in ("floor", "ceil", "trunc"):
            if t == INT:
                return v
            return self.prim(f"math.{name}", (v,), INT, c.span)
        if t == INT:
            v, t = self.convert(v, FLOAT), FLOAT
        return self.prim(f"math.{name}", (v,), t, c.span)

    def b_print(self, c, expected):
        kw = self.kwargs(c, ("sep", "end"), "print")
        args = tuple(self.c.expr(a) for a in c.args)
        sep = self.arg(kw["sep"], STR) if "sep" in kw else ir.Const(" ", STR, c.span)
        end = self.arg(kw["end"], STR) if "end" in kw else ir.Const("\n", STR, c.span)
        return self.prim("io.print", args + (sep, end), NONE, c.span)

    def b_len(self, c, expected):
        self.kwargs(c, (), "len")
        self.nargs(c, 1, 1, "len")
        v = self.c.expr(c.args[0])
        t = self.r(v.type)
        if _is_range(v):  # the range is not built (len(range(0, 2 ** 63 - 1, 2)) fits in an int, its list not)
            return self.prim("range.len", v.args, INT, c.span)
        if isinstance(t, (ListT, DictT, SetT, TensorT)) or t == STR:
            return self.prim("len", (v,), INT, c.span)
        if isinstance(t, TupleT):
            return ir.Const(len(t.items), INT, c.span)
        if isinstance(t, TVar):
            raise self.c.unknown_type("the type of this value is not known yet; annotate it", c.args[0].span, t)
        raise self.err("E204", f"len() takes a list, str, dict, set or tensor, found {self.show(t)}", c.args[0].span)

    def b_range(self, c, expected):
        start, stop, step = self.range_args(c)
        return self.prim("range", (start, stop, step), ListT(INT), c.span)

    def b_abs(self, c, expected):
        self.nargs(c, 1, 1, "abs")
        v = self.c.expr(c.args[0])
        t = self.numeric(v, "the argument", c.args[0].span)
        if t in (INT, FLOAT, F32):
            return self.prim(f"{_kind(t)}.abs", (v,), t, c.span)
        if isinstance(t, TensorT):
            return self.prim("tensor.abs", (v,), t, c.span)
        raise self.err("E201", f"abs takes a number, found {self.show(t)}", c.args[0].span)

    def minmax(self, which, c, expected):
        kw = self.kwargs(c, ("key", "default", "axis"), which)
        if not c.args:
            raise self.err("E202", f"{which} needs at least one argument", c.span)
        if len(c.args) == 1:
            seq = self.c.expr(c.args[0])
            elem, kind = self.iteration(seq, c.args[0].span)
            if kind == "tensor":
                return self.tensor.reduce(which, seq, self.c.subst.zonk(seq.type), c, kw)
            args = (seq,)
            op = "minmax.iter"
        else:
            vals = self.c.homogeneous(c.args, None, c.span)
            elem = vals[0].type
            args = (ir.MakeList(tuple(vals), ListT(elem), c.span),)
            op = "minmax.iter"
        if "axis" in kw:
            raise self.err("E103", f"{which}(..., axis=) takes one tensor", kw["axis"].span)
        if "key" in kw:
            args = args + (self.key_fn(kw["key"], elem, which),)
        else:
            t = self.c.subst.zonk(elem)
            if not isinstance(t, TVar) and not is_ordered(t):
                raise self.err("E203", f"{which} needs ordered values, found {t}; pass key=...", c.span)
            args = args + (ir.Const(None, NONE, c.span),)
        if "default" in kw:
            args = args + (self.c.coerce(self.c.expr(kw["default"], elem), elem, kw["default"].span),)
            return self.prim(op, args, elem, c.span, (which, True))
        return self.prim(op, args, elem, c.span, (which, False))

    def b_min(self, c, expected):
        return self.minmax("min", c, expected)

    def b_max(self, c, expected):
        return self.minmax("max", c, expected)

    def b_sum(self, c, expected):
        kw = self.kwargs(c, ("axis",), "sum")
        self.nargs(c, 1, 2, "sum")
        seq = self.c.expr(c.args[0])
        elem, kind = self.iteration(seq, c.args[0].span)
        et = self.r(elem)
        if kind == "tensor" or isinstance(self.r(seq.type), TensorT):
            if len(c.args) == 2:  # (it was dropped: sum(ones(3), 0.5) was 3.0)
                raise self.err("E202", "sum(t, start) does not take a start with a tensor; add it: sum(t) + start",
                               c.args[1].span)
            return self.tensor.reduce("sum", seq, self.c.subst.zonk(seq.type), c, kw)
        if kw:
            raise self.err("E103", "sum(..., axis=) takes a tensor", kw["axis"].span)
        if isinstance(et, TVar):
            self.c.subst.unify(et, INT)
            et = INT
        if et not in (INT, FLOAT, F32) and not isinstance(et, ListT):  # before the start, which takes et
            raise self.err("E201", f"sum takes numbers, found {self.show(seq.type)}{_SUM_HINTS.get(et, '')}",
                           c.args[0].span)
        if len(c.args) == 2:
            start = self.c.expr(c.args[1], et)
            st = self.r(start.type)
            if isinstance(st, ListT) and isinstance(et, ListT):
                return self.prim("list.sum", (seq, start), et, c.span)
            if et == INT and st in (FLOAT, F32):  # Python's sum(ints, 0.5): a float total, added left to right
                et = st
            start = self.c.coerce(start, et, c.args[1].span)
        else:
            start = ir.Const(0 if et == INT else 0.0, et if et in (INT, FLOAT) else INT, c.span)
            if et == F32:
                start = self.convert(ir.Const(0, INT, c.span), F32)
        if et not in (INT, FLOAT, F32):  # a list of lists with a start that is not a list
            raise self.err("E201", f"sum takes numbers, found {self.show(seq.type)}", c.args[0].span)
        return self.prim(f"{_kind(et)}.sum", (seq, start), et, c.span)

    def b_mean(self, c, expected):
        kw = self.kwargs(c, ("axis",), "mean")
        self.nargs(c, 1, 1, "mean")
        seq = self.c.expr(c.args[0])
        t = self.r(seq.type)
        if isinstance(t, TensorT):
            return self.tensor.reduce("mean", seq, self.c.subst.zonk(t), c, kw)
        if kw:
            raise self.err("E103", "mean(..., axis=) takes a tensor", kw["axis"].span)
        elem, _ = self.iteration(seq, c.args[0].span)
        if self.r(elem) not in (INT, FLOAT):
            hint = "; of f32 values, write sum(xs) / f32(len(xs)), or take a tensor's mean" if self.r(elem) == F32 else ""
            raise self.err("E201", f"mean takes ints or floats, found {self.show(t)}{hint}", c.args[0].span)
        return self.prim("seq.mean", (seq,), FLOAT, c.span)

    def b_any(self, c, expected):
        return self.anyall("any", c)

    def b_all(self, c, expected):
        return self.anyall("all", c)

    def anyall(self, name, c):
        self.nargs(c, 1, 1, name)
        seq = self.c.expr(c.args[0], ListT(BOOL))
        elem, _ = self.iteration(seq, c.args[0].span)
        if not self.c.subst.unify(elem, BOOL):
            raise self.err("E201", f"{name} takes bools, found {self.show(seq.type)}", c.args[0].span)
        return self.prim(f"seq.{name}", (seq,), BOOL, c.span)

    def b_sorted(self, c, expected):
        kw = self.kwargs(c, ("key", "reverse"), "sorted")
        self.nargs(c, 1, 1, "sorted")
        seq = self.c.expr(c.args[0])
        elem, _ = self.iteration(seq, c.args[0].span)
        return self.prim("sorted", (seq,) + self.sort_args(kw, elem, c, "sorted"), ListT(elem), c.span)

    def sort_args(self, kw, elem, c, name):
        if "key" in kw:
            key = self.key_fn(kw["key"], elem, name)
        else:
            t = self.c.subst.zonk(elem)
            if not isinstance(t, TVar) and not is_ordered(t):
                raise self.err("E203", f"{name} needs ordered values, found {t}; pass key=...", c.span)
            key = ir.Const(None, NONE, c.span)
        rev = self.arg(kw["reverse"], BOOL) if "reverse" in kw else ir.Const(False, BOOL, c.span)
        return (key, rev)

    def key_fn(self, arg, elem, name):
        """The `key=` function of sorted, sort, min and max: one parameter taking the element type,
        giving an ordered value."""
        key = self.c.expr(arg, FnT((elem,), self.c.subst.fresh("key")))
        kt = self.fn(key, 1, f"the key of {name}", arg.span)
        if not self.c.subst.unify(kt.params[0], elem):
            raise self.err("E201", f"the key of {name} takes {self.show(kt.params[0])}, but the values are "
                           f"{self.show(elem)}", arg.span)
        ret = self.c.subst.zonk(kt.ret)
        if not isinstance(ret, TVar) and not is_ordered(ret):
            raise self.err("E203", f"the key of {name} must give ordered values, found {self.show(ret)}", arg.span)
        return key

    def b_reversed(self, c, expected):
        self.nargs(c, 1, 1, "reversed")
        seq = self.c.expr(c.args[0])
        elem, kind = self.iteration(seq, c.args[0].span)
        if kind == "str":
            return self.prim("reversed", (seq,), ListT(STR), c.span)
        return self.prim("reversed", (seq,), ListT(elem), c.span)

    def b_enumerate(self, c, expected):
        kw = self.kwargs(c, ("start",), "enumerate")
        self.nargs(c, 1, 1 if kw else 2, "enumerate")
        seq = self.c.expr(c.args[0])
        elem, _ = self.iteration(seq, c.args[0].span)
        given = kw["start"] if kw else c.args[1] if len(c.args) == 2 else None
        start = self.arg(given, INT) if given is not None else ir.Const(0, INT, c.span)
        return self.prim("enumerate", (seq, start), ListT(TupleT((INT, elem))), c.span)

    def b_zip(self, c, expected):
        self.nargs(c, 2, 4, "zip")
        seqs = [self.c.expr(a) for a in c.args]
        elems = [self.iteration(s, a.span)[0] for s, a in zip(seqs, c.args)]
        return self.prim("zip", tuple(seqs), ListT(TupleT(tuple(elems))), c.span)

    def b_map(self, c, expected):
        self.nargs(c, 2, 2, "map")
        seq = self.c.expr(c.args[1])
        elem, _ = self.iteration(seq, c.args[1].span)
        f = self.c.expr(c.args[0], FnT((elem,), self.c.subst.fresh("result")))
        ft = self.fn(f, 1, "map", c.args[0].span)
        if not self.c.subst.unify(ft.params[0], elem):
            raise self.err("E201", f"map's function takes {self.show(ft.params[0])}, but the list holds "
                           f"{self.show(elem)}", c.args[0].span)
        return self.prim("map", (f, seq), ListT(ft.ret), c.span)

    def fn(self, f, n, name, span) -> FnT:
        t = self.r(f.type)
        if not isinstance(t, FnT) or len(t.params) != n:
            raise self.err("E201", f"{name} expects a function of {n} argument{'s' if n != 1 else ''}, found "
                           f"{self.show(t)}", span)
        return t

    def b_filter(self, c, expected):
        self.nargs(c, 2, 2, "filter")
        seq = self.c.expr(c.args[1])
        elem, kind = self.iteration(seq, c.args[1].span)
        f = self.c.expr(c.args[0], FnT((elem,), BOOL))
        ft = self.fn(f, 1, "filter", c.args[0].span)
        if not self.c.subst.unify(ft.ret, BOOL):
            raise self.err("E201", f"filter's function must return bool, found {self.show(ft.ret)}", c.args[0].span)
        if not self.c.subst.unify(ft.params[0], elem):
            raise self.err("E201", f"filter's function takes {self.show(ft.params[0])}, but the list holds "
                           f"{self.show(elem)}", c.args[0].span)
        return self.prim("filter", (f, seq), ListT(elem), c.span)

    def b_reduce(self, c, expected):
        self.nargs(c, 2, 3, "reduce")
        seq = self.c.expr(c.args[1])
        elem, _ = self.iteration(seq, c.args[1].span)
        if len(c.args) == 3:
            init = self.c.expr(c.args[2], expected)
            acc = init.type
            f = self.c.expr(c.args[0], FnT((acc, elem), acc))
            ft = self.fn(f, 2, "reduce", c.args[0].span)
            if not (self.c.subst.unify(ft.params[0], acc) and self.c.subst.unify(ft.params[1], elem)):
                raise self.err("E201", f"reduce's function must take ({self.show(acc)}, {self.show(elem)}), found "
                               f"{self.show(ft)}", c.args[0].span)
            if not self.c.subst.unify(ft.ret, acc):
                init = self.c.coerce(init, ft.ret, c.args[2].span)
                acc = ft.ret
            return self.prim("reduce", (f, seq, init), acc, c.span)
        f = self.c.expr(c.args[0], FnT((elem, elem), elem))
        ft = self.fn(f, 2, "reduce", c.args[0].span)
        if not all(self.c.subst.unify(x, elem) for x in (*ft.params, ft.ret)):
            raise self.err("E201", f"reduce's function must be fn({self.show(elem)}, {self.show(elem)}) -> "
                           f"{self.show(elem)}, found {self.show(ft)}", c.args[0].span)
        return self.prim("reduce1", (f, seq), elem, c.span)

    b_fold = b_reduce

    def b_str(self, c, expected):
        self.nargs(c, 0, 1, "str")
        if not c.args:
            return ir.Const("", STR, c.span)
        v = self.c.expr(c.args[0])
        if self.r(v.type) == STR:
            return v
        return self.prim("to_str", (v,), STR, c.span)

    def b_int(self, c, expected):
        self.nargs(c, 0, 2, "int")
        if not c.args:
            return ir.Const(0, INT, c.span)
        v = self.c.expr(c.args[0])
        t = self.r(v.type)
        if len(c.args) == 2:
            if t != STR:
                raise self.err("E201", "int(x, base) takes a str", c.args[0].span)
            return self.prim("str.to_int", (v, self.arg(c.args[1], INT)), INT, c.span)
        conv = {INT: None, FLOAT: "float.to_int", F32: "f32.to_int", BOOL: "bool.to_int"}
        if t in conv:
            return v if conv[t] is None else self.prim(conv[t], (v,), INT, c.span)
        if t == STR:
            return self.prim("str.to_int", (v, ir.Const(10, INT, c.span)), INT, c.span)
        raise self.err("E201", f"int() takes a number, bool or str, found {self.show(t)}", c.args[0].span)

    def b_float(self, c, expected):
        return self.to_float(c, FLOAT, "float")

    def b_f64(self, c, expected):
        return self.to_float(c, FLOAT, "f64")

    def b_f32(self, c, expected):
        return self.to_float(c, F32, "f32")

    def to_float(self, c, to, name):
        self.nargs(c, 1, 1, name)
        # only a literal takes the target type directly (f32(0.1) is the f32 nearest 0.1); any other
        # argument keeps its own type and is converted
        literal = isinstance(c.args[0], (A.IntLit, A.FloatLit))
        v = self.c.expr(c.args[0], to if literal else None)
        t = self.r(v.type)
        if t == to:
            return v
        if t in (INT, FLOAT, F32):
            if isinstance(v, ir.Const) and to == FLOAT:
                return ir.Const(float(v.value), FLOAT, c.span)
            return ir.Prim(f"{_kind(t)}.to_{_kind(to)}", (v,), to, c.span)
        if t == BOOL:
            return ir.Prim(f"bool.to_{_kind(to)}", (v,), to, c.span)
        if t == STR:
            return ir.Prim(f"str.to_{_kind(to)}", (v,), to, c.span)
        if isinstance(t, TensorT):
            return ir.Prim("tensor.astype", (v,), TensorT(to, t.shape), c.span, (_kind(to),))
        raise self.err("E201", f"{name}() takes a number, bool or str, found {self.show(t)}", c.args[0].span)

    def b_bool(self, c, expected):
        self.nargs(c, 1, 1, "bool")
        v = self.c.expr(c.args[0])
        t = self.r(v.type)
        if t == BOOL:
            return v
        if t in (INT, FLOAT, F32, STR) or isinstance(t, (ListT, DictT, SetT)):
            return self.prim("to_bool", (v,), BOOL, c.span)
        raise self.err("E201", f"bool() takes a number, str or container, found {self.show(t)}", c.args[0].span)

    def b_list(self, c, expected):
        self.nargs(c, 0, 1, "list")
        if not c.args:
            exp = self.r(expected) if expected is not None else None
            return ir.MakeList((), exp if isinstance(exp, ListT) else ListT(self.c.subst.fresh("elem")), c.span)
        seq = self.c.expr(c.args[0])
        elem, kind = self.iteration(seq, c.args[0].span)
        return self.prim("to_list", (seq,), ListT(elem), c.span)

    def b_set(self, c, expected):
        self.nargs(c, 0, 1, "set")
        if not c.args:
            exp = self.r(expected) if expected is not None else None
            t = exp if isinstance(exp, SetT) else SetT(self.c.subst.fresh("elem"))
            self.c.require_hashable(t.elem, c.span)  # (checked once its use solves it)
            return ir.MakeSet((), t, c.span)
        seq = self.c.expr(c.args[0])
        elem, kind = self.iteration(seq, c.args[0].span)
        self.c.require_hashable(elem, c.args[0].span)
        return self.prim("to_set", (seq,), SetT(elem), c.span)

    def b_dict(self, c, expected):
        self.nargs(c, 0, 1, "dict")
        if not c.args:
            exp = self.r(expected) if expected is not None else None
            t = exp if isinstance(exp, DictT) else DictT(self.c.subst.fresh("key"), self.c.subst.fresh("value"))
            self.c.require_hashable(t.key, c.span)  # (checked once its use solves it)
            return ir.MakeDict((), (), t, c.span)
        seq = self.c.expr(c.args[0])
        t = self.r(seq.type)
        if isinstance(t, DictT):
            return self.prim("dict.copy", (seq,), t, c.span)
        elem, _ = self.iteration(seq, c.args[0].span)
        et = self.c.subst.zonk(elem)
        if not isinstance(et, TupleT) or len(et.items) != 2:
            raise self.err("E201", f"dict() takes a list of (key, value) pairs, found {self.show(t)}", c.args[0].span)
        self.c.require_hashable(et.items[0], c.args[0].span)
        return self.prim("to_dict", (seq,), DictT(et.items[0], et.items[1]), c.span)

    def b_ord(self, c, expected):
        self.nargs(c, 1, 1, "ord")
        return self.prim("ord", (self.arg(c.args[0], STR),), INT, c.span)

    def b_chr(self, c, expected):
        self.nargs(c, 1, 1, "chr")
        return self.prim("chr", (self.arg(c.args[0], INT),), STR, c.span)

    def b_round(self, c, expected):
        self.nargs(c, 1, 2, "round")
        v = self.c.expr(c.args[0])
        t = self.numeric(v, "the argument", c.args[0].span)
        if t not in (INT, FLOAT, F32):
            raise self.err("E201", f"round takes a number, found {self.show(t)}", c.args[0].span)
        if len(c.args) == 2:
            nd = self.arg(c.args[1], INT)
            if t == INT:
                return self.prim("int.round", (v, nd), INT, c.span)
            return self.prim(f"{_kind(t)}.roundn", (v, nd), t, c.span)
        if t == INT:
            return v
        return self.prim(f"{_kind(t)}.round", (v,), INT, c.span)

    def b_divmod(self, c, expected):
        self.nargs(c, 2, 2, "divmod")
        a, b = self.c.expr(c.args[0]), self.c.expr(c.args[1])
        p = self.promote(a, b)
        if p is None or p == "mixed":
            raise self.err("E201", f"divmod takes two numbers, found {self.show(a.type)} and {self.show(b.type)}",
                           c.span)
        a, b, t = p
        return self.prim(f"{_kind(t)}.divmod", (a, b), TupleT((t, t)), c.span)

    def b_pow(self, c, expected):
        self.nargs(c, 2, 3, "pow")
        if len(c.args) == 3:
            args = [self.arg(a, INT) for a in c.args]
            return self.prim("int.powmod", tuple(args), INT, c.span)
        return self.binop("**", self.c.expr(c.args[0]), self.c.expr(c.args[1]), c.span, c.span)

    def b_isqrt(self, c, expected):
        self.nargs(c, 1, 1, "isqrt")
        return self.prim("int.isqrt", (self.arg(c.args[0], INT),), INT, c.span)

    def b_hypot(self, c, expected):
        self.nargs(c, 2, 2, "hypot")
        return self.prim("math.hypot", (self.arg(c.args[0], FLOAT), self.arg(c.args[1], FLOAT)), FLOAT, c.span)

    def b_atan2(self, c, expected):
        self.nargs(c, 2, 2, "atan2")
        return self.prim("math.atan2", (self.arg(c.args[0], FLOAT), self.arg(c.args[1], FLOAT)), FLOAT, c.span)

    def b_isnan(self, c, expected):
        self.nargs(c, 1, 1, "isnan")
        return self.prim("math.isnan", (self.arg(c.args[0], FLOAT),), BOOL, c.span)

    def b_isinf(self, c, expected):
        self.nargs(c, 1, 1, "isinf")
        return self.prim("math.isinf", (self.arg(c.args[0], FLOAT),), BOOL, c.span)

    def b_input(self, c, expected):
        self.nargs(c, 0, 1, "input")
        args = (self.arg(c.args[0], STR),) if c.args else (ir.Const("", STR, c.span),)
        return self.prim("io.input", args, STR, c.span)

    def b_read_file(self, c, expected):
        self.nargs(c, 1, 1, "read_file")
        return self.prim("io.read_file", (self.arg(c.args[0], STR),), STR, c.span)

    def b_read_lines(self, c, expected):
        self.nargs(c, 1, 1, "read_lines")
        return self.prim("io.read_lines", (self.arg(c.args[0], STR),), ListT(STR), c.span)

    def b_write_file(self, c, expected):
        self.nargs(c, 2, 2, "write_file")
        return self.prim("io.write_file", (self.arg(c.args[0], STR), self.arg(c.args[1], STR)), NONE, c.span)

    def shape_args(self, c, name):
        kw = self.kwargs(c, ("dtype",), name)
        dims = []

        def dim(a):
            if not isinstance(a, A.IntLit) or a.value <= 0:
                raise self.err("E301", f"{name}() takes positive integer constants as dimensions "
                               "(tensor shapes are static)", a.span)
            return a.value

        for a in c.args:
            dims.append(self.c.static_choice(a, dim))
        if not dims:
            raise self.err("E202", f"{name}() needs at least one dimension", c.span)
        return TensorT(self.tensor.dtype(kw), tuple(dims))

    def b_zeros(self, c, expected):
        t = self.shape_args(c, "zeros")
        return self.prim("tensor.zeros", (), t, c.span, (t.shape, _kind(t.dtype)))

    def b_ones(self, c, expected):
        t = self.shape_args(c, "ones")
        return self.prim("tensor.ones", (), t, c.span, (t.shape, _kind(t.dtype)))

    # ---- methods ------------------------------------------------------------------------------
    def has_method(self, t, name) -> bool:
        t = self.r(t)
        return (isinstance(t, ListT) and name in LIST_METHODS) or (isinstance(t, DictT) and name in DICT_METHODS) \
            or (isinstance(t, SetT) and name in SET_METHODS) or (t == STR and name in STR_METHODS)

    def method(self, obj: ir.Expr, name: str, c: A.Call, expected, span: Span) -> ir.Expr:
        t = self.r(obj.type)
        if isinstance(t, ListT):
            table, kind = LIST_METHODS, "list"
        elif isinstance(t, DictT):
            table, kind = DICT_METHODS, "dict"
        elif isinstance(t, SetT):
            table, kind = SET_METHODS, "set"
        elif t == STR:
            table, kind = STR_METHODS, "str"
        elif isinstance(t, TVar):
            raise self.c.unknown_type(f"the type of this value is not known yet, so '.{name}()' cannot be "
                                      "resolved; annotate it", c.func.value.span, t)
        elif isinstance(t, StructT):
            raise self.err("E103", f"struct {t.name} has no methods; '{name}' is not defined (define a function "
                           f"that takes {a_or_an(t.name)} instead)", span)
        else:
            raise self.err("E103", f"{self.show(t)} has no method '{name}'", span)
        if name not in table:
            raise self.err("E103", f"{kind} has no method '{name}'{self.c.suggest(name, table)}", span)
        return getattr(self, f"m_{kind}_{name}")(obj, t, c, expected)

    def simple(self, kind, name, obj, c, params, ret, lo=None, kw=()):
        """A method with positional parameters of known types (the last ones optional from `lo`)."""
        self.kwargs(c, kw, f"{kind}.{name}")
        lo = len(params) if lo is None else lo
        self.nargs(c, lo, len(params), f"{kind}.{name}()")
        args = tuple(self.arg(a, p) for a, p in zip(c.args, params))
        return self.prim(f"{kind}.{name}", (obj,) + args, ret, c.span)

    # list
    def m_list_append(self, o, t, c, e):
        return self.simple("list", "append", o, c, [t.elem], NONE)

    def m_list_extend(self, o, t, c, e):
        self.nargs(c, 1, 1, "list.extend()")
        seq = self.c.expr(c.args[0], t)
        elem, _ = self.iteration(seq, c.args[0].span)
        if not self.c.subst.unify(elem, t.elem):
            raise self.err("E201", f"extend needs elements of type {self.show(t.elem)}, found {self.show(seq.type)}",
                           c.args[0].span)
        return self.prim("list.extend", (o, seq), NONE, c.span)

    def m_list_insert(self, o, t, c, e):
        return self.simple("list", "insert", o, c, [INT, t.elem], NONE)

    def m_list_pop(self, o, t, c, e):
        return self.simple("list", "pop", o, c, [INT], t.elem, lo=0)

    def m_list_remove(self, o, t, c, e):
        self.searchable(t, "remove", c.span)
        return self.simple("list", "remove", o, c, [t.elem], NONE)

    def m_list_index(self, o, t, c, e):
        self.searchable(t, "index", c.span)
        return self.simple("list", "index", o, c, [t.elem], INT)

    def m_list_count(self, o, t, c, e):
        self.searchable(t, "count", c.span)
        return self.simple("list", "count", o, c, [t.elem], INT)

    def searchable(self, t: ListT, name: str, span):
        """list.remove/index/count compare elements with `==`, which tensors do not have (as `in`)."""
        elem = self.c.subst.zonk(t.elem)
        if any(isinstance(u, TensorT) for u in parts(elem, self.c.structs)):
            raise self.err("E203", f"list.{name} compares elements with '==', which is not defined for "
                           f"{self.show(elem)} (a tensor compares element by element); search by index "
                           "instead", span)

    def m_list_reverse(self, o, t, c, e):
        return self.simple("list", "reverse", o, c, [], NONE)

    def m_list_sort(self, o, t, c, e):
        kw = self.kwargs(c, ("key", "reverse"), "list.sort")
        self.nargs(c, 0, 0, "list.sort()")
        return self.prim("list.sort", (o,) + self.sort_args(kw, t.elem, c, "sort"), NONE, c.span)

    def m_list_copy(self, o, t, c, e):
        return self.simple("list", "copy", o, c, [], t)

    def m_list_clear(self, o, t, c, e):
        return self.simple("list", "clear", o, c, [], NONE)

    # dict
    def m_dict_get(self, o, t, c, e):
        if len(c.args) == 1:
            raise self.err("E202", "dict.get needs a default in Glia: d.get(key, default) (there is no None "
                           "value to return for a missing key)", c.span)
        return self.simple("dict", "get", o, c, [t.key, t.val], t.val)

    def m_dict_keys(self, o, t, c, e):
        return self.simple("dict", "keys", o, c, [], ListT(t.key))

    def m_dict_values(self, o, t, c, e):
        return self.simple("dict", "values", o, c, [], ListT(t.val))

    def m_dict_items(self, o, t, c, e):
        return self.simple("dict", "items", o, c, [], ListT(TupleT((t.key, t.val))))

    def m_dict_pop(self, o, t, c, e):
        return self.simple("dict", "pop", o, c, [t.key, t.val], t.val, lo=1)

    def m_dict_setdefault(self, o, t, c, e):
        return self.simple("dict", "setdefault", o, c, [t.key, t.val], t.val)

    def m_dict_update(self, o, t, c, e):
        return self.simple("dict", "update", o, c, [t], NONE)

    def m_dict_copy(self, o, t, c, e):
        return self.simple("dict", "copy", o, c, [], t)

    def m_dict_clear(self, o, t, c, e):
        return self.simple("dict", "clear", o, c, [], NONE)

    # set
    def m_set_add(self, o, t, c, e):
        return self.simple("set", "add", o, c, [t.elem], NONE)

    def m_set_remove(self, o, t, c, e):
        return self.simple("set", "remove", o, c, [t.elem], NONE)

    def m_set_discard(self, o, t, c, e):
        return self.simple("set", "discard", o, c, [t.elem], NONE)

    def m_set_pop(self, o, t, c, e):
        return self.simple("set", "pop", o, c, [], t.elem)

    def set_binary(self, name, o, t, c, ret):
        self.nargs(c, 1, 1, f"set.{name}()")
        other = self.c.expr(c.args[0], t)
        elem, _ = self.iteration(other, c.args[0].span)
        if not self.c.subst.unify(elem, t.elem):
            raise self.err("E201", f"set.{name} needs elements of type {self.show(t.elem)}, found "
                           f"{self.show(other.type)}", c.args[0].span)
        return self.prim(f"set.{name}", (o, other), ret, c.span)

    def m_set_union(self, o, t, c, e):
        return self.set_binary("union", o, t, c, t)

    def m_set_intersection(self, o, t, c, e):
        return self.set_binary("intersection", o, t, c, t)

    def m_set_difference(self, o, t, c, e):
        return self.set_binary("difference", o, t, c, t)

    def m_set_symmetric_difference(self, o, t, c, e):
        return self.set_binary("symmetric_difference", o, t, c, t)

    def m_set_issubset(self, o, t, c, e):
        return self.set_binary("issubset", o, t, c, BOOL)

    def m_set_issuperset(self, o, t, c, e):
        return self.set_binary("issuperset", o, t, c, BOOL)

    def m_set_isdisjoint(self, o, t, c, e):
        return self.set_binary("isdisjoint", o, t, c, BOOL)

    def m_set_update(self, o, t, c, e):
        return self.set_binary("update", o, t, c, NONE)

    def m_set_copy(self, o, t, c, e):
        return self.simple("set", "copy", o, c, [], t)

    def m_set_clear(self, o, t, c, e):
        return self.simple("set", "clear", o, c, [], NONE)

    # str
    def m_str_split(self, o, t, c, e):
        return self.simple("str", "split", o, c, [STR], ListT(STR), lo=0)

    def m_str_join(self, o, t, c, e):
        self.nargs(c, 1, 1, "str.join()")
        seq = self.c.expr(c.args[0], ListT(STR))
        elem, _ = self.iteration(seq, c.args[0].span)
        if not self.c.subst.unify(elem, STR):
            raise self.err("E201", f"join takes strings, found {self.show(seq.type)} (convert with map(str, xs))",
                           c.args[0].span)
        return self.prim("str.join", (o, seq), STR, c.span)

    def _strip(name):
        def m(self, o, t, c, e):
            return self.simple("str", name, o, c, [STR], STR, lo=0)
        return m

    m_str_strip, m_str_lstrip, m_str_rstrip = _strip("strip"), _strip("lstrip"), _strip("rstrip")

    def _noarg(name, ret):
        def m(self, o, t, c, e):
            return self.simple("str", name, o, c, [], ret)
        return m

    m_str_upper = _noarg("upper", STR)
    m_str_lower = _noarg("lower", STR)
    m_str_title = _noarg("title", STR)
    m_str_capitalize = _noarg("capitalize", STR)
    m_str_swapcase = _noarg("swapcase", STR)
    m_str_casefold = _noarg("casefold", STR)
    m_str_isdigit = _noarg("isdigit", BOOL)
    m_str_isalpha = _noarg("isalpha", BOOL)
    m_str_isalnum = _noarg("isalnum", BOOL)
    m_str_isspace = _noarg("isspace", BOOL)
    m_str_isupper = _noarg("isupper", BOOL)
    m_str_islower = _noarg("islower", BOOL)
    m_str_splitlines = _noarg("splitlines", ListT(STR))

    def m_str_find(self, o, t, c, e):
        return self.simple("str", "find", o, c, [STR, INT, INT], INT, lo=1)

    def m_str_rfind(self, o, t, c, e):
        return self.simple("str", "rfind", o, c, [STR, INT, INT], INT, lo=1)

    def m_str_index(self, o, t, c, e):
        return self.simple("str", "index", o, c, [STR, INT, INT], INT, lo=1)

    def m_str_count(self, o, t, c, e):
        return self.simple("str", "count", o, c, [STR], INT)

    def m_str_replace(self, o, t, c, e):
        return self.simple("str", "replace", o, c, [STR, STR, INT], STR, lo=2)

    def m_str_startswith(self, o, t, c, e):
        return self.simple("str", "startswith", o, c, [STR], BOOL)

    def m_str_endswith(self, o, t, c, e):
        return self.simple("str", "endswith", o, c, [STR], BOOL)

    def m_str_zfill(self, o, t, c, e):
        return self.simple("str", "zfill", o, c, [INT], STR)

    def m_str_ljust(self, o, t, c, e):
        return self.simple("str", "ljust", o, c, [INT, STR], STR, lo=1)

    def m_str_rjust(self, o, t, c, e):
        return self.simple("str", "rjust", o, c, [INT, STR], STR, lo=1)

    def m_str_center(self, o, t, c, e):
        return self.simple("str", "center", o, c, [INT, STR], STR, lo=1)

    def m_str_partition(self, o, t, c, e):
        return self.simple("str", "partition", o, c, [STR], TupleT((STR, STR, STR)))

    def m_str_rpartition(self, o, t, c, e):
        return self.simple("str", "rpartition", o, c, [STR], TupleT((STR, STR, STR)))
