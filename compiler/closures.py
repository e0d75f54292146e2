"""Function values as data for the CPU backend (defunctionalisation).

Most function values are known where they are used, and compiler/specialize.py compiles those as
copies of the callee. The rest (a function value returned, stored in a variable assigned twice, in
a list, dict or struct, captured by another lambda, passed where no copy can be made) are values at
run time. Numba cannot pass closures around, so the CPU backend represents such a value as a tuple:

    (tag, slot_1, ..., slot_k)

where `tag` says which function it is (one of the lambdas and named functions of that function type
made anywhere in the compiled program: its *makers*), and the slots hold the values the lambda
captured (by value, when it was made, as the language says). Makers of one type share slots of equal
types; a slot a maker does not use holds a default value. A captured value that holds function
values is kept in a box (runtime/nblist.py `box`: reference-counted memory typed as an opaque
pointer), since `compose(f, g)` returning `lambda x: f(g(x))` would otherwise be a tuple holding
tuples of its own type, which no Numba type can be.

A call `f(x)` of such a value is, in the IR (`calls`), a call of the type's dispatcher,
`apply[fn(int) -> int](f, x, site)`: a function made here, as IR, that tests the tag and calls the
lambda lifted to a function of its own (its parameters, then its captured values, read from the
slots) or the named function, as a nested call at `site`, the call of the value (E505 counts a
lambda called through a value, as the interpreter does). As IR it goes through everything an
ordinary function does: reachability, the merging of mutually recursive functions (a lambda calling
values of its own type is in a cycle with the dispatcher), threaded globals, the cache. A builtin
that applies its function argument (`APPLIED`) inlines a lambda or a name and calls any other value
through the dispatcher.

What stays in the interpreter, with the lowering's note: comparing function values (the interpreter
compares them by identity), function values as dict keys or set elements, and function values
that come from interpreted code.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from . import cycles, ir
from .types import BOOL, INT, DictT, FnT, ListT, SetT, StructT, TupleT


@dataclass
class Layout:
    """The representation of the values of one function type."""

    makers: list[str] = field(default_factory=list)  # the instances the tags name, in tag order
    captures: dict[str, tuple] = field(default_factory=dict)  # instance -> its captured values' types
    places: dict[str, tuple[int, ...]] = field(default_factory=dict)  # instance -> its captures' slots
    slots: list = field(default_factory=list)  # the slots' types
    boxed: list = field(default_factory=list)  # per slot: whether it holds its value in a box
    problem: str = ""  # why this type's values cannot be compiled ("": they can)


def holds_functions(t, structs) -> bool:
    """Whether a value of type `t` is or holds a function value."""
    return next(fn_types(t, structs), None) is not None


def fn_types(t, structs, seen=None):
    """The function types inside the type `t` (itself included)."""
    seen = set() if seen is None else seen
    match t:
        case FnT(ps, r):
            yield t
            for c in (*ps, r):
                yield from fn_types(c, structs, seen)
        case ListT(e) | SetT(e):
            yield from fn_types(e, structs, seen)
        case DictT(k, v):
            yield from fn_types(k, structs, seen)
            yield from fn_types(v, structs, seen)
        case TupleT(items):
            for c in items:
                yield from fn_types(c, structs, seen)
        case StructT(name) if name not in seen and name in structs:
            seen.add(name)
            for c in structs[name].types:
                yield from fn_types(c, structs, seen)


# The builtins whose function arguments the lowering applies where they stand (a lambda or a name:
# inlined; any other function value: computed once, then called through its dispatcher).
APPLIED = frozenset({"map", "filter", "reduce", "reduce1", "sorted", "list.sort", "minmax.iter"})


class Closures:
    """The function types used as run-time values in a module (ModuleLowerer.closures)."""

    def __init__(self, m):
        self.m = m
        self.layouts: dict[FnT, Layout] = {}
        self.dispatchers: dict[FnT, str] = {}  # function type -> its dispatcher's instance name
        self._uses: dict[int, tuple] = {}  # id(body) -> (body, its uses), see uses
        self.call_names: set[str] = set()  # the names of the dispatchers' calls (`calls`)

    # ---- where function values are run-time values ----------------------------------------------
    def uses(self, f: ir.Function) -> tuple:
        """("make", Lambda or FuncRef) for each function value made as a value in `f`, ("call", FnT)
        for each call of one, in order. A lambda or name called where it stands, or given to a
        builtin (`map(lambda x: ..., xs)`, `sorted(xs, key=f)`), is not a value: it is inlined."""
        hit = self._uses.get(id(f.body))
        if hit is not None and hit[0] is f.body:
            return hit[1]
        out: list = []

        def visit(node, applied=False):
            if isinstance(node, tuple):
                for x in node:
                    visit(x, applied)
                return
            if not ir.is_node(node):
                return
            if isinstance(node, (ir.Lambda, ir.FuncRef)):
                if not applied:
                    out.append(("make", node))
                    return  # (a lambda made as a value: its body is its lifted function's)
                if isinstance(node, ir.Lambda):
                    visit(node.body)  # (inlined where it is applied)
                return
            if isinstance(node, ir.CallValue):  # (a call of a value is a dispatcher's call: `calls`)
                visit(node.func, isinstance(node.func, (ir.Lambda, ir.FuncRef)))
                visit(node.args)
                return
            if isinstance(node, ir.Prim) and node.op in APPLIED:
                for a in node.args:
                    if isinstance(a.type, FnT) and not isinstance(a, (ir.Lambda, ir.FuncRef)):
                        out.append(("call", a.type))  # a value given to a builtin: called through it
                    visit(a, isinstance(a.type, FnT))
                return
            for _, val in ir.child_fields(node):
                visit(val)
        visit(f.body)
        self._uses[id(f.body)] = (f.body, tuple(out))
        return tuple(out)

    def calls(self, f: ir.Function) -> ir.Function:
        """`f` with each call of a function value (`g(x)`, `fs[i](x)`) turned into a call of its type's
        dispatcher, `apply[T](g, x, site)`: an ordinary call, which cycles.merge can merge."""
        def call(node):
            if isinstance(node, ir.CallValue) and not isinstance(node.func, ir.FuncRef) \
                    and not (isinstance(node.func, ir.Prim) and node.func.op == "ad.grad"):
                site = ir.Const(self.m.site(node.span, f.source_name), INT, node.span)
                name = cycles.call_name("apply", self.dispatcher(node.func.type))
                self.m.merged_calls[name] = self.dispatcher(node.func.type)
                self.call_names.add(name)
                return ir.CallFunc(name, (node.func,) + node.args + (site,), node.type, node.span)
            return node
        return _rewritten(f, call)

    def uncalls(self, f: ir.Function) -> ir.Function:
        """`f` with the dispatchers' calls `calls` made turned back into calls of values (for the copies
        specialize.py makes of a function, where a parameter becomes a lambda called where it stands)."""
        def call(node):
            if isinstance(node, ir.CallFunc) and node.name in self.call_names:
                return ir.CallValue(node.args[0], node.args[1:-1], node.type, node.span)
            return node
        return _rewritten(f, call)

    def maker(self, node, source_name: str) -> str:
        """The instance a value made by `node` (a lambda or a function name) calls."""
        if isinstance(node, ir.FuncRef):
            return self.m.call_instance(node)
        return self.m.specializer.lambda_instance(node, source_name)

    def dispatcher(self, t: FnT) -> str:
        """The instance that calls a value of type `t` (its body is made by `update`)."""
        name = self.dispatchers.get(t)
        if name is None:
            name = self.dispatchers[t] = f"apply[{t}]"
            self.m.instances[name] = self._dispatch(t, Layout())
        return name

    def callees(self, f: ir.Function, source_name: str) -> list[str]:
        out = []
        for kind, x in self.uses(f):
            out.append(self.maker(x, source_name) if kind == "make" else self.dispatcher(x))
        return out

    # ---- the layouts ------------------------------------------------------------------------------
    def update(self, order: list[str]) -> bool:
        """Make the layouts of the function types whose values the instances `order` make, and the
        dispatchers' bodies; whether anything changed (the caller computes what is reachable again)."""
        found: dict[FnT, Layout] = {}
        for name in order:
            f = self.m.instances[name]
            for kind, x in self.uses(f):
                if kind == "call":
                    found.setdefault(x, Layout())
                    continue
                lay = found.setdefault(x.type, Layout())
                inst = self.maker(x, f.source_name)
                if inst not in lay.captures:
                    lay.makers.append(inst)
                    lay.captures[inst] = tuple(local.type for _, local in x.captures) \
                        if isinstance(x, ir.Lambda) else ()
        for lay in found.values():
            for inst in lay.makers:
                taken: list[int] = []
                for t in lay.captures[inst]:
                    k = next((i for i, s in enumerate(lay.slots) if s == t and i not in taken), None)
                    if k is None:
                        k = len(lay.slots)
                        lay.slots.append(t)
                    taken.append(k)
                lay.places[inst] = tuple(taken)
        for t, lay in found.items():
            lay.boxed = [holds_functions(s, self.m.p.structs) for s in lay.slots]
            if not lay.makers:
                lay.problem = "function values made in code that runs in the interpreter"
        changed = [(t, lay.makers, lay.slots) for t, lay in found.items()] != \
            [(t, lay.makers, lay.slots) for t, lay in self.layouts.items()]
        self.layouts = found
        if changed:
            for t in found:
                self.m.instances[self.dispatcher(t)] = self._dispatch(t, found[t])
        return changed

    def layout(self, t: FnT) -> Layout | None:
        lay = self.layouts.get(t)
        return lay if lay is not None and not lay.problem else None

    def problem(self, t: FnT) -> str:
        lay = self.layouts.get(t)
        return lay.problem if lay is not None else ""

    def _dispatch(self, t: FnT, lay: Layout) -> ir.Function:
        """apply(f, a0, a1, ..., site): the call of the value `f` of type `t` on the arguments, `site`
        the call's (where E505 is raised when a named function called through it recurses too deep)."""
        span = self.m.p.functions[self.m.root].span
        f = ir.Local(0, "f", t, span)
        args = tuple(ir.Local(1 + i, f"a{i}", p, span) for i, p in enumerate(t.params))
        tag = ir.Prim("fn.tag", (f,), INT, span)
        site = ir.Local(1 + len(args), "site", INT, span)
        stmts: list = []
        for k, inst in enumerate(lay.makers):
            env = tuple(ir.Prim("fn.env", (f,), lay.slots[j], span, (j,)) for j in lay.places[inst])
            if inst in self.m.specializer.lifted:
                call_name = cycles.call_name("lambda", inst)
                self.m.merged_calls[call_name] = inst
            else:
                call_name = inst
            # a nested call (E505 counts it), at the site of the call of the value
            call = ir.Prim("fn.at", (site, ir.CallFunc(call_name, args + env, t.ret, span)), t.ret, span)
            if k == len(lay.makers) - 1:
                stmts.append(ir.Return(call, span))
            else:
                cond = ir.Compare((tag, ir.Const(k, INT, span)), ("cmp.eq",), BOOL, span)
                stmts.append(ir.If(cond, (ir.Return(call, span),), (), span))
        if not stmts:
            stmts.append(ir.Return(None, span))
        names = ("f",) + tuple(a.name for a in args) + ("site",)
        types = (t,) + t.params + (INT,)
        return ir.Function("apply", (), names, FnT(types, t.ret), tuple(stmts), len(names), names, types, span,
                           self.m.p.functions[self.m.root].source_name)


def _rewritten(f: ir.Function, rewrite) -> ir.Function:
    """`f` with every node `n` replaced by `rewrite(n)` (its children first), lambdas' bodies included
    (their slots are their own, their captures locals)."""
    def conv(node):
        if isinstance(node, tuple):
            new = tuple(conv(x) for x in node)
            return node if all(a is b for a, b in zip(new, node)) else new
        if not ir.is_node(node):
            return node
        if isinstance(node, ir.Lambda):
            body = conv(node.body)
            return node if body is node.body else dataclasses.replace(node, body=body)
        return rewrite(ir.rebuild(node, conv))
    body = conv(f.body)
    return f if body is f.body else dataclasses.replace(f, body=body)
