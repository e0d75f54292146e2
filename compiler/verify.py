"""The IR verifier: structural invariants of the typed IR, checked after every pass in tests.

It never changes the IR; it raises `InternalError` (a bug in Glia, not the user's program) naming
the function and the broken invariant.
"""
from __future__ import annotations

from . import ir
from .diagnostics import InternalError
from .primitives import PRIMS
from .types import FnT, TensorT, is_concrete


def verify(prog: ir.Program) -> ir.Program:
    for name, f in prog.functions.items():
        _Verifier(prog, f).function()
    for g in prog.globals:
        _Verifier(prog, None).expr(g.value, g.nslots + 1)
    return prog


class _Verifier:
    def __init__(self, prog: ir.Program, f: ir.Function | None):
        self.prog = prog
        self.f = f
        # the slot types of the frame being checked: the function's; unknown inside a lambda body,
        # which runs in a frame of its own
        self.slot_types = f.slot_types if f is not None else None

    def fail(self, msg: str):
        where = self.f.name if self.f else "a global"
        raise InternalError(f"IR verifier: in {where}: {msg}")

    def function(self):
        f = self.f
        if not isinstance(f.type, FnT) or len(f.type.params) != len(f.params):
            self.fail("function type does not match its parameters")
        if len(f.slot_names) != f.nslots or len(f.slot_types) != f.nslots:
            self.fail("slot tables do not match nslots")
        for i, t in enumerate(f.type.params):
            if f.slot_types[i] != t:
                self.fail(f"parameter slot {i} has type {f.slot_types[i]}, signature says {t}")
        self.block(f.body, loop=False)

    def block(self, stmts, loop: bool):
        for s in stmts:
            self.stmt(s, loop)

    def stmt(self, s, loop: bool):
        n = self.f.nslots if self.f else 1 << 30
        match s:
            case ir.Assign(target, value):
                self.target(target, n)
                self.expr(value, n)
            case ir.ExprStmt(e):
                self.expr(e, n)
            case ir.If(cond, then, orelse):
                self.expr(cond, n)
                self.block(then, loop)
                self.block(orelse, loop)
            case ir.While(cond, body):
                self.expr(cond, n)
                self.block(body, True)
            case ir.ForRange(target, a, b, c, body):
                self.target(target, n)
                for e in (a, b, c):
                    self.expr(e, n)
                self.block(body, True)
            case ir.For(target, it, kind, body):
                if kind not in ("list", "str", "dict", "set", "tensor"):
                    self.fail(f"unknown iteration kind {kind}")
                self.target(target, n)
                self.expr(it, n)
                self.block(body, True)
            case ir.Break() | ir.Continue():
                if not loop:
                    self.fail("break/continue outside a loop")
            case ir.Return(value):
                if value is not None:
                    self.expr(value, n)
                    if self.f is not None and value.type != self.f.type.ret:
                        self.fail(f"return of {value.type} in a function returning {self.f.type.ret}")
            case ir.Assert(cond, msg):
                self.expr(cond, n)
                if msg is not None:
                    self.expr(msg, n)
            case _:
                self.fail(f"unknown statement {type(s).__name__}")

    def target(self, t, n):
        match t:
            case ir.StoreLocal(slot, name, ty):
                if not 0 <= slot < n:
                    self.fail(f"store to slot {slot} out of range")
                if self.slot_types is not None and self.slot_types[slot] != ty:
                    self.fail(f"store to '{name}' as {ty}, slot has {self.slot_types[slot]}")
            case ir.StoreTuple(items):
                for i in items:
                    self.target(i, n)
            case ir.StoreIndex(c, i, op):
                if op not in PRIMS:
                    self.fail(f"unknown primitive {op}")
                self.expr(c, n)
                self.expr(i, n)
            case _:
                self.fail(f"unknown target {type(t).__name__}")

    def expr(self, e, n):
        t = getattr(e, "type", None)
        if t is None or not is_concrete(t):
            self.fail(f"{type(e).__name__} has no concrete type ({t})")
        match e:
            case ir.Local(slot, name, ty):
                if not 0 <= slot < n:
                    self.fail(f"read of slot {slot} out of range")
            case ir.Prim(op, args):
                if op not in PRIMS:
                    self.fail(f"unknown primitive {op}")
                for a in args:
                    self.expr(a, n)
            case ir.CallFunc(name, args):
                if name not in self.prog.functions:
                    self.fail(f"call of unknown function {name}")
                if len(args) != len(self.prog.functions[name].params):
                    self.fail(f"call of {name} with {len(args)} arguments")
                for a in args:
                    self.expr(a, n)
            case ir.FuncRef(name):
                if name not in self.prog.functions:
                    self.fail(f"reference to unknown function {name}")
            case ir.Lambda(captures, nparams, body, nslots):
                for inner, outer in captures:
                    if not nparams <= inner < nslots:
                        self.fail("capture slot out of range")
                    self.expr(outer, n)
                saved, self.slot_types = self.slot_types, None
                self.expr(body, nslots)
                self.slot_types = saved
            case ir.MakeStruct(name, args):
                if name not in self.prog.structs or len(args) != len(self.prog.structs[name].fields):
                    self.fail(f"bad struct construction {name}")
                for a in args:
                    self.expr(a, n)
            case ir.Comprehension(kind, elt, key, clauses):
                for cl in clauses:
                    if isinstance(cl, ir.CompFor):
                        self.target(cl.target, n)
                        self.expr(cl.iter, n)
                    else:
                        self.expr(cl.cond, n)
                self.expr(elt, n)
                if key is not None:
                    self.expr(key, n)
            case _:
                for child in ir.walk(e):
                    if child is not e and hasattr(child, "type") and hasattr(child, "span") \
                            and not isinstance(child, (ir.StoreLocal,)):
                        ct = child.type
                        if not is_concrete(ct):
                            self.fail(f"{type(child).__name__} has no concrete type ({ct})")
