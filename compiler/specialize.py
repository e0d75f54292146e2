"""Function values for the CPU backend: a function with a parameter of function type, called with a
lambda or a named function there, is compiled as a copy made for that argument.

Numba has no closures it can pass around, so a function value cannot be a runtime value of the
generated code. Most function values in real programs are known where they are passed:

    def apply_n(f: fn(int) -> int, n: int, x: int) -> int:     apply_n(lambda v: v * k + 1, 5, 0)
        for _ in range(n):                                       apply_n(square, 3, 2)
            x = f(x)
        return x

Each call whose arguments of function type are all lambdas or function names calls a copy of the
callee (an instance, as a generic function's are) in which the parameter is replaced by that lambda
or name: `f(x)` becomes a call of the lambda lifted to a function of its own (`_lifted`: its
parameters, then its captured values; the lowering passes it the caller's depth) or a direct call of
the function named, so the gradient's sweeps see an ordinary call. A lambda's captured values become extra parameters of the copy, the
call passing the caller's locals: captured by value when the lambda is made, as the language says
(the call makes it). Passing the parameter on (`apply_n(f, ...)` inside another such function) makes
a copy of that callee in turn; a recursive call with the same argument calls the copy itself. One
copy per distinct lambda (by its text and types) or function, per callee.

`grad(f)` and `value_and_grad(f)` kept as a value are the lambdas that call them (`_grad_lambda`).

What stays in the interpreter, with the lowering's note: a function value stored in a variable or a
container, returned, or made by a call; a callee that assigns its function parameter or captures it
in a lambda of its own; a lambda capturing a function value.
"""
from __future__ import annotations

import dataclasses
import hashlib

from . import cycles, ir
from .types import INT, FnT


def _is_static(e) -> bool:
    """A function value known where it is passed: a lambda capturing no function value, or a name."""
    if isinstance(e, ir.FuncRef):
        return True
    return isinstance(e, ir.Lambda) and not any(isinstance(local.type, FnT) for _, local in e.captures)


def _is_grad(e) -> bool:
    return isinstance(e, ir.Prim) and e.op == "ad.grad"


def _grad_lambda(g: ir.Prim) -> ir.Lambda:
    """`grad(f)` (or `value_and_grad(f)`) kept as a value (`g = grad(f)`, passed, stored) as the lambda
    it is, `lambda a0, a1, ...: grad(f)(a0, a1, ...)`: a function value as any lambda is."""
    params = g.type.params
    names = tuple(f"a{i}" for i in range(len(params)))
    args = tuple(ir.Local(i, n, t, g.span) for i, (n, t) in enumerate(zip(names, params)))
    return ir.Lambda((), len(params), ir.CallValue(g, args, g.type.ret, g.span), len(params), names, g.type, g.span)


def _key(e, ref_instance) -> str:
    if isinstance(e, ir.FuncRef):
        return ref_instance(e)
    text = repr((e.body, e.nparams, e.type, tuple((i, local.type) for i, local in e.captures)))
    return "lambda@%d:%d#%s" % (e.span.line, e.span.col, hashlib.sha1(text.encode()).hexdigest()[:8])


def _copyable(f: ir.Function, bound: set[int]) -> bool:
    """Can the parameters `bound` of `f` be replaced by values: never assigned, never captured?"""
    for node in ir.walk(f.body):
        if isinstance(node, ir.StoreLocal) and node.slot in bound:
            return False
        if isinstance(node, ir.Lambda) and any(local.slot in bound for _, local in node.captures):
            return False
    return True


class Specializer:
    """Rewrites the calls in an instance's body; makes (and registers) the copies they call.

    `instances`: the module's instances by name (the copies are added there); `instance_of(node)`:
    the instance a CallFunc or FuncRef names; `calls`: call name -> instance, for the copies' calls
    (a call is named `callee@copy`, so that messages name the function the user wrote)."""

    def __init__(self, instances: dict, instance_of, calls: dict):
        self.instances = instances
        self.instance_of = instance_of
        self.calls = calls
        self.lifted: set[str] = set()  # the instances that are lambdas (called with the caller's depth)
        self.source_name = ""
        self.then = lambda f: f  # a rewrite of each function made (closures.py: calls of values)
        self.undo = lambda f: f  # and its inverse, for the copies made of them

    def function(self, f: ir.Function) -> ir.Function:
        f = _bind_locals(f)
        saved, self.source_name = self.source_name, f.source_name
        try:
            body = self._calls(f.body)
        finally:
            self.source_name = saved
        return self.then(f if body is f.body else dataclasses.replace(f, body=body))

    # ---- the calls -------------------------------------------------------------------------------
    def _calls(self, node):
        """`node` with each call that passes function values known there turned into a call of a copy."""
        if isinstance(node, tuple):
            new = tuple(self._calls(x) for x in node)
            return node if all(a is b for a, b in zip(new, node)) else new
        if not ir.is_node(node):
            return node
        if isinstance(node, ir.CallValue) and _is_grad(node.func):  # grad(f)(x): lowered as it stands
            args = self._calls(node.args)
            return node if args is node.args else dataclasses.replace(node, args=args)
        node = ir.rebuild(node, self._calls)
        if _is_grad(node):
            node = _grad_lambda(node)
        if isinstance(node, ir.CallFunc):
            return self._call(node)
        if isinstance(node, ir.CallValue) and isinstance(node.func, ir.FuncRef):
            return self._call(ir.CallFunc(node.func.name, node.args, node.type, node.span))
        if isinstance(node, ir.CallValue) and isinstance(node.func, ir.Lambda) and _is_static(node.func):
            return self._lift(node)
        return node

    def _lift(self, call: ir.CallValue) -> ir.CallFunc:
        """A lambda applied (in a copy: `f(x)`) as a call of a function made of it, its captured values
        passed after the arguments: the gradient's sweeps see a call as any other."""
        lam = call.func
        name = self.lambda_instance(lam, self.source_name)
        call_name = cycles.call_name("lambda", name)
        self.calls[call_name] = name
        return ir.CallFunc(call_name, call.args + tuple(local for _, local in lam.captures), call.type, call.span)

    def lambda_instance(self, lam: ir.Lambda, source_name: str) -> str:
        """The instance a lambda is as a function of its own (its parameters, then its captured values),
        made once per distinct lambda."""
        name = "lambda[%s]" % _key(lam, self.instance_of)
        if name not in self.instances:
            self.instances[name] = self.function(_lifted(lam, source_name))
            self.lifted.add(name)
        return name

    def _call(self, call: ir.CallFunc) -> ir.CallFunc:
        fn_args = {i: a for i, a in enumerate(call.args) if isinstance(a.type, FnT)}
        if not fn_args or call.name in self.calls or not all(_is_static(a) for a in fn_args.values()):
            return call
        inst = self.instance_of(call)
        callee = self.undo(self.instances[inst])  # (its calls of its parameters as calls of values)
        if not _copyable(callee, set(fn_args)):
            return call
        keys = ", ".join(f"{callee.params[i]}={_key(a, self.instance_of)}" for i, a in sorted(fn_args.items()))
        name = f"{inst}[fn {keys}]"
        if name not in self.instances:
            self.instances[name] = callee  # (while its copy is made: a recursive call finds the name)
            self.instances[name] = self.function(_copy(callee, fn_args))
        call_name = cycles.call_name(call.name, name)
        self.calls[call_name] = name
        rest = [a for i, a in enumerate(call.args) if i not in fn_args]
        captured = [local for i, a in sorted(fn_args.items()) if isinstance(a, ir.Lambda) for _, local in a.captures]
        return ir.CallFunc(call_name, tuple(rest + captured), call.type, call.span)


def _copy(f: ir.Function, fn_args: dict) -> ir.Function:
    """`f` with its parameters `fn_args` (index -> lambda or name) replaced by them, the lambdas'
    captured values taken as parameters after the others (its name stays: messages give it)."""
    nparams = len(f.params)
    kept = [i for i in range(nparams) if i not in fn_args]
    params = [f.params[i] for i in kept]
    types = [f.type.params[i] for i in kept]
    values = {}
    for i, a in sorted(fn_args.items()):
        if isinstance(a, ir.Lambda):
            caps = []
            for inner, local in a.captures:
                caps.append((inner, ir.Local(len(params), f"{f.params[i]}_{local.name}", local.type, local.span)))
                params.append(caps[-1][1].name)
                types.append(local.type)
            a = dataclasses.replace(a, captures=tuple(caps))
        values[i] = a
    slot = {s: k for k, s in enumerate(kept)}
    base = len(params)
    for s in range(nparams, f.nslots):
        slot[s] = base + s - nparams
    names = list(params) + list(f.slot_names[nparams:])

    def value(node, conv):
        return values[node.slot] if isinstance(node, ir.Local) and node.slot in values else None

    body = ir.move_slots(f.body, slot.__getitem__, names, value)
    return dataclasses.replace(f, params=tuple(params), type=FnT(tuple(types), f.type.ret), body=body,
                               nslots=base + f.nslots - nparams, slot_names=tuple(names),
                               slot_types=tuple(types) + tuple(f.slot_types[nparams:]))


def _bind_locals(f: ir.Function) -> ir.Function:
    """`f` with each local of function type assigned once, a lambda or a name (`add = lambda v: v + k`),
    replaced by that value where it is read; the lambda's captured values are copied into locals of
    their own where it was assigned (so a later `k = 100` does not change it, as in the language)."""
    stores: dict[int, list] = {}
    captured: set[int] = set()
    for node in ir.walk(f.body):
        if isinstance(node, ir.StoreLocal) and isinstance(node.type, FnT):
            stores.setdefault(node.slot, []).append(node)
        elif isinstance(node, ir.Lambda):
            captured.update(local.slot for _, local in node.captures)
    values: dict[int, ir.Expr] = {}
    for node in ir.walk(f.body):
        if isinstance(node, ir.Assign) and isinstance(node.target, ir.StoreLocal):
            s = node.target.slot
            if len(stores.get(s, ())) == 1 and s >= len(f.params) and s not in captured and _is_static(node.value):
                values[s] = node.value
    if not values:
        return f
    names, types = list(f.slot_names), list(f.slot_types)
    copies: dict[int, tuple] = {}  # slot -> (the value read, the statements assigning its captures)
    for s, value in values.items():
        stmts = []
        if isinstance(value, ir.Lambda):
            caps = []
            for inner, local in value.captures:
                slot = len(names)
                names.append(f"{f.slot_names[s]}_{local.name}")
                types.append(local.type)
                caps.append((inner, ir.Local(slot, names[-1], local.type, local.span)))
                stmts.append(ir.Assign(ir.StoreLocal(slot, names[-1], local.type, local.span), local, local.span))
            value = dataclasses.replace(value, captures=tuple(caps))
        types[s] = INT  # (the local itself is left unused: a constant is stored in it)
        stmts.append(ir.Assign(ir.StoreLocal(s, names[s], INT, value.span), ir.Const(0, INT, value.span), value.span))
        copies[s] = (value, tuple(stmts))

    def conv(node):
        if isinstance(node, tuple):
            out = []
            for x in node:
                if isinstance(x, ir.Assign) and isinstance(x.target, ir.StoreLocal) and x.target.slot in copies:
                    out.extend(copies[x.target.slot][1])
                else:
                    out.append(conv(x))
            return tuple(out)
        if not ir.is_node(node):
            return node
        match node:
            case ir.Lambda(captures=caps):  # its body has slots of its own (none of these is captured)
                return node
            case ir.Local(slot=s) if s in copies:
                return copies[s][0]
        return ir.rebuild(node, conv)

    return dataclasses.replace(f, body=conv(f.body), nslots=len(names), slot_names=tuple(names),
                               slot_types=tuple(types))


def _lifted(lam: ir.Lambda, source_name: str) -> ir.Function:
    """The function a lambda is: its parameters, then its captured values, then its other locals (a
    comprehension's)."""
    caps = [inner for inner, _ in lam.captures]
    order = list(range(lam.nparams)) + caps + [s for s in range(lam.nparams, lam.nslots) if s not in caps]
    slot = {s: k for k, s in enumerate(order)}
    names = [lam.slot_names[s] for s in order]
    found = {n.slot: n.type for n in ir.walk(lam.body) if isinstance(n, (ir.Local, ir.StoreLocal))}
    found.update({inner: local.type for inner, local in lam.captures})
    found.update(enumerate(lam.type.params))
    types = tuple(found.get(s, INT) for s in order)  # (a slot nothing reads or writes: any type)
    body = ir.move_slots(lam.body, slot.__getitem__, names)
    n = lam.nparams + len(caps)
    return ir.Function("lambda", (), tuple(names[:n]), FnT(types[:n], lam.type.ret), (ir.Return(body, lam.span),),
                       len(order), tuple(names), types, lam.span, source_name)
