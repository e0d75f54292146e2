"""The reference interpreter: the executable definition of Glia.

Runs the typed IR by closure compilation: each IR node becomes a Python closure taking the current
frame (a list of slots). Statements return a control code (0 normal, BREAK, CONTINUE, RETURN).
Primitive operations call the runtime kernels (`primitives.PRIMS[op].impl`), the same ones every
backend is tested against. Runtime errors become diagnostics at the failing expression's span, with
the chain of calls that led there.
"""
from __future__ import annotations

from operator import itemgetter

import numpy as np

from . import ir
from .diagnostics import Diagnostic, GliaError, Note, Source, Span, out_of_memory
from .primitives import PRIMS
from .stack import run_with_big_stack  # noqa: F401  (interp.run_with_big_stack, as callers import it)
from .types import STR, DictT, FnT, ListT, StructT, TupleT, Type, holds_float
from glia.runtime.errors import GliaRuntimeError, HOLE, NESTED_TOO_DEEP, RECURSION, VALUE
from glia.runtime.kernels import PLAIN_SEARCH, VALUE_CMP, _scalar, assertion_failed, walked
from glia.runtime.values import GSet, make_struct_class, new_struct

BREAK, CONTINUE, RETURN = 1, 2, 3
MAX_DEPTH = 20_000
STAGE = "runtime"


def called_from(err: GliaError, name: str, span, src) -> GliaError:
    """`err` raised in `name`, with the note of the call at `span` (the first 8 calls on the way out;
    none for a recursion too deep, whose calls are all the same). The error keeps its class (a
    GliaTypeError from a Python callback stays one)."""
    d = err.diagnostic
    if len(d.notes) >= 8 or d.code == RECURSION:
        return err
    return type(err)(Diagnostic(d.code, d.message, d.span, d.stage, d.source,
                                d.notes + (Note(f"in {name}(), called from here", span, src),)))


class Interpreter:
    def __init__(self, program: ir.Program, sources: dict[str, Source] | None = None,
                 max_depth: int = MAX_DEPTH):
        self.program = program
        self.sources = dict(sources or {})
        if program.source is not None:
            self.sources.setdefault(program.source.name, program.source)
        self.max_depth = max_depth
        self.depth = 0
        self.funcs: dict[str, object] = {}
        self.globals: dict[str, object] = {}
        self.structs = {name: make_struct_class(name, info.fields) for name, info in program.structs.items()}
        self.hole_fill: dict[int, object] = {}  # hole index -> a closure (set by search)
        self.choice_fill: dict[int, int] = {}  # choice index -> option index
        self.fuel: list[int] | None = None  # loop iterations left, when set before compiling (search: a
        # candidate in a loop's condition or bound may never end); the caller refills fuel[0]
        self._globals_ready = False
        self._globals_running = False
        self._cur_source: Source | None = program.source
        self.params = None  # the layers' parameters (runtime/params.ParamStore), made on first use
        self.training = False  # dropout draws masks only while training
        self.rng = np.random.default_rng(0)

    # ---- public -------------------------------------------------------------------------------
    def init_globals(self):
        # (called again while they are computed, by `G = grad(f)(x)`, whose tape interpreter shares
        # them: the globals before G are there, as for any code G's value runs)
        if self._globals_ready or self._globals_running:
            return
        self._globals_running = True
        try:
            for g in self.program.globals:
                value = self.expr(g.value)
                frame = [None] * (g.nslots + 1)
                self.globals[g.name] = self._guard(lambda: value(frame), self.program.source)
        finally:
            self._globals_running = False
        self._globals_ready = True

    def call(self, name: str, args: list):
        """Call a Glia function with Python values; runtime errors are raised as GliaError."""
        self.init_globals()
        fn = self.function(name)
        return self._guard(lambda: fn(*args), self.program.source)

    def function(self, name: str):
        f = self.funcs.get(name)
        if f is None:
            f = self.compile_function(self.program.functions[name])
            self.funcs[name] = f
        return f

    # ---- errors -------------------------------------------------------------------------------
    def _guard(self, thunk, source):
        try:
            # tensor arithmetic follows IEEE 754 (a NaN or an infinity, as in compiled code); NumPy's
            # warnings about it would print Python file names to the user's stderr
            with np.errstate(all="ignore"):
                return thunk()
        except GliaRuntimeError as e:  # raised outside any located node
            raise GliaError(Diagnostic(e.code, e.message, Span(0, 0, 0, 0), STAGE, source)) from None
        except RecursionError:
            raise GliaError(Diagnostic(RECURSION, "recursion too deep (Python's stack was exhausted)",
                                       Span(0, 0, 0, 0), STAGE, source)) from None
        except MemoryError:
            raise out_of_memory(source) from None

    def locate(self, e: GliaRuntimeError, span: Span, source: Source) -> GliaError:
        return GliaError(Diagnostic(e.code, e.message, span, STAGE, source))

    # ---- functions ----------------------------------------------------------------------------
    def compile_function(self, f: ir.Function):
        saved = self._cur_source
        self._cur_source = self.sources.get(f.source_name, self.program.source)
        try:
            body = self.block(f.body)
        finally:
            self._cur_source = saved
        nslots = f.nslots + 1
        ret_slot = f.nslots
        nparams = len(f.params)
        interp = self
        limit = self.max_depth
        name = f.name

        def call(*args):
            frame = [None] * nslots
            frame[:nparams] = args
            interp.depth += 1
            if interp.depth > limit:
                interp.depth = 0
                raise GliaRuntimeError(RECURSION, f"recursion too deep: more than {limit} nested calls "
                                       f"(in {name})")
            try:
                if body(frame) == RETURN:
                    return frame[ret_slot]
                return None
            finally:
                interp.depth -= 1

        call.__glia_name__ = name
        call.__glia_ret_slot__ = ret_slot
        return call

    # ---- statements ---------------------------------------------------------------------------
    def block(self, stmts) -> object:
        fs = [self.stmt(s) for s in stmts]
        if not fs:
            return lambda frame: 0
        if len(fs) == 1:
            return fs[0]
        if len(fs) == 2:
            f0, f1 = fs

            def run2(frame):
                return f0(frame) or f1(frame)
            return run2

        def run(frame):
            for f in fs:
                r = f(frame)
                if r:
                    return r
            return 0
        return run

    def loop_body(self, body):
        """A loop's body; with `fuel`, each iteration takes one unit and none left is an error."""
        b = self.block(body)
        fuel = self.fuel
        if fuel is None:
            return b

        def fuelled(frame):
            fuel[0] -= 1
            if fuel[0] < 0:
                raise GliaRuntimeError(VALUE, "out of fuel: the loop ran past the search's bound")
            return b(frame)
        return fuelled

    def stmt(self, s):
        match s:
            case ir.Assign(target, value, span):
                v = self.expr(value)
                if isinstance(target, ir.StoreLocal):
                    slot = target.slot

                    def assign_local(frame):
                        frame[slot] = v(frame)
                    return assign_local
                store = self.store(target)

                def assign(frame):
                    store(frame, v(frame))
                return assign
            case ir.ExprStmt(e, span):
                ev = self.expr(e)

                def expr_stmt(frame):
                    ev(frame)
                return expr_stmt
            case ir.If(cond, then, orelse, span):
                c, t, o = self.expr(cond), self.block(then), self.block(orelse)

                def if_(frame):
                    if c(frame):
                        return t(frame)
                    return o(frame)
                return if_
            case ir.While(cond, body, span):
                c, b = self.expr(cond), self.loop_body(body)

                def while_(frame):
                    while c(frame):
                        r = b(frame)
                        if r:
                            if r == BREAK:
                                break
                            if r == RETURN:
                                return r
                    return 0
                return while_
            case ir.ForRange(target, start, stop, step, body, span):
                a, z, st, b = self.expr(start), self.expr(stop), self.expr(step), self.loop_body(body)
                slot = target.slot
                loc = self.located(span)

                def for_range(frame):
                    lo, hi, s = a(frame), z(frame), st(frame)  # in order, as Python
                    if s == 0:
                        raise loc(GliaRuntimeError(VALUE, "range() step cannot be zero"))
                    for i in range(lo, hi, s):
                        frame[slot] = i
                        r = b(frame)
                        if r:
                            if r == BREAK:
                                break
                            if r == RETURN:
                                return r
                    return 0
                return for_range
            case ir.For(target, it, kind, body, span):
                ev, b = self.expr(it), self.loop_body(body)
                loc = self.located(span)
                if isinstance(target, ir.StoreLocal):
                    slot = target.slot

                    def store(frame, v):
                        frame[slot] = v
                else:
                    store = self.store(target)

                def for_(frame):
                    seq = ev(frame)
                    if kind == "tensor":
                        seq = _rows(seq)
                    elif kind in ("dict", "set"):
                        seq = _keys_checked(seq, kind, loc)
                    for x in seq:
                        store(frame, x)
                        r = b(frame)
                        if r:
                            if r == BREAK:
                                break
                            if r == RETURN:
                                return r
                    return 0
                return for_
            case ir.Break():
                return lambda frame: BREAK
            case ir.Continue():
                return lambda frame: CONTINUE
            case ir.Return(value, span):
                if value is None:
                    return lambda frame: RETURN
                v = self.expr(value)
                ret = [None]

                def return_(frame):
                    frame[-1] = v(frame)
                    return RETURN
                return return_
            case ir.Assert(cond, msg, span):
                c = self.expr(cond)
                m = self.expr(msg) if msg is not None else (lambda frame: "")
                loc = self.located(span)

                def assert_(frame):
                    if not c(frame):
                        try:
                            assertion_failed(m(frame))
                        except GliaRuntimeError as e:
                            raise loc(e) from None
                    return 0
                return assert_
        raise TypeError(f"interp: unknown statement {type(s).__name__}")

    def located(self, span: Span):
        source = self._cur_source
        interp = self

        def loc(e: GliaRuntimeError) -> GliaError:
            return interp.locate(e, span, source)
        return loc

    def store(self, target):
        match target:
            case ir.StoreLocal(slot):
                def store_local(frame, v):
                    frame[slot] = v
                return store_local
            case ir.StoreTuple(items):
                stores = [self.store(t) for t in items]

                def store_tuple(frame, v):
                    for st, x in zip(stores, v):
                        st(frame, x)
                return store_tuple
            case ir.StoreIndex(container, index, op, span):
                c, i = self.expr(container), self.expr(index)
                impl = PRIMS[op].impl
                loc = self.located(span)

                def store_index(frame, v):
                    try:
                        impl(c(frame), i(frame), v)
                    except GliaRuntimeError as e:
                        raise loc(e) from None
                return store_index
        raise TypeError(f"interp: unknown target {type(target).__name__}")

    # ---- expressions --------------------------------------------------------------------------
    def expr(self, e):
        match e:
            case ir.Const(value):
                return lambda frame: value
            case ir.Local(slot):
                return itemgetter(slot)
            case ir.Global(name, _, span):
                g = self.globals

                def read_global(frame):
                    try:
                        return g[name]
                    except KeyError:  # a global's initializer called a function that reads a later one
                        raise self.located(span)(GliaRuntimeError(
                            "E104", f"global '{name}' is read before its definition has run (a global "
                            "defined above it calls a function that reads it)")) from None
                return read_global
            case ir.FuncRef(name):
                interp = self
                return lambda frame: interp.function(name)
            case ir.CallFunc(name, args, t, span):
                return self.call_func(name, [self.expr(a) for a in args], span)
            case ir.CallValue(func, args, t, span):
                return self.call_value(self.expr(func), [self.expr(a) for a in args], span)
            case ir.Prim(op, args, t, span, attrs):
                impl = None
                if op in PLAIN_SEARCH and not holds_float(args[1].type, self.program.structs):
                    impl = PLAIN_SEARCH[op]  # (as `comparison`: by value only where a float is)
                return self.prim(op, [self.expr(a) for a in args], attrs, span, impl)
            case ir.Lambda(captures, nparams, body, nslots, names, t, span):
                return self.lambda_(captures, nparams, body, nslots)
            case ir.MakeList(elts):
                evs = [self.expr(x) for x in elts]
                return lambda frame: [x(frame) for x in evs]
            case ir.MakeTuple(elts):
                evs = [self.expr(x) for x in elts]
                return lambda frame: tuple([x(frame) for x in evs])
            case ir.MakeSet(elts):
                evs = [self.expr(x) for x in elts]
                return lambda frame: GSet([x(frame) for x in evs])
            case ir.MakeDict(keys, values):
                ks = [self.expr(x) for x in keys]
                vs = [self.expr(x) for x in values]
                return lambda frame: {k(frame): v(frame) for k, v in zip(ks, vs)}
            case ir.MakeStruct(name, args):
                cls = self.structs[name]
                evs = [self.expr(x) for x in args]
                return lambda frame: new_struct(cls, [x(frame) for x in evs])
            case ir.GetField(obj, index):
                o = self.expr(obj)
                return lambda frame: o(frame)[index]
            case ir.Cond(cond, then, orelse):
                c, a, b = self.expr(cond), self.expr(then), self.expr(orelse)
                return lambda frame: a(frame) if c(frame) else b(frame)
            case ir.And(left, right):
                a, b = self.expr(left), self.expr(right)
                return lambda frame: a(frame) and b(frame)
            case ir.Or(left, right):
                a, b = self.expr(left), self.expr(right)
                return lambda frame: a(frame) or b(frame)
            case ir.Compare(operands, ops, _, span):
                run = self.compare([self.expr(x) for x in operands],
                                   [self.comparison(o, operands[k].type, operands[k + 1].type) for k, o in enumerate(ops)])
                if not any(isinstance(x.type, (ListT, DictT, StructT, TupleT)) for x in operands):
                    return run
                loc = self.located(span)

                def deep(frame):  # values that hold themselves, or nested deeper than Python's stack
                    try:
                        return run(frame)
                    except RecursionError:
                        raise loc(GliaRuntimeError(RECURSION, NESTED_TOO_DEEP)) from None
                return deep
            case ir.Comprehension(kind, elt, key, clauses, _, span):
                return self.comprehension(kind, elt, key, clauses, span)
            case ir.Hole(index, options, t, span):
                return self.hole(index, span)
            case ir.Choose(index, options):
                evs = [self.expr(x) for x in options]
                fill = self.choice_fill
                return lambda frame: evs[fill.get(index, 0)](frame)
        raise TypeError(f"interp: unknown expression {type(e).__name__}")

    def call_func(self, name, avs, span):
        interp = self
        loc = self.located(span)
        src = self._cur_source
        cache = [None]

        def fn():
            f = cache[0]
            if f is None:
                f = cache[0] = interp.function(name)
            return f

        def call(frame):
            args = [a(frame) for a in avs]  # errors here belong to the caller, not the callee
            try:
                return fn()(*args)
            except GliaRuntimeError as e:  # raised by the callee's entry (recursion limit)
                raise loc(e) from None
            except GliaError as e:
                raise called_from(e, name, span, src) from None
        return call

    def call_value(self, fv, avs, span):
        """A call of a function value; an error in a named function it calls (a function's name,
        `grad(f)`) gets the note a direct call gives, naming that function. A lambda called through a
        value is a nested call (E505 counts it: recursion can go through lambdas only this way); a
        lambda a builtin applies (`map(lambda x: ..., xs)`) is not."""
        src = self._cur_source
        loc = self.located(span)
        interp = self
        limit = self.max_depth

        def call(frame):
            callee = fv(frame)
            args = [a(frame) for a in avs]
            name = getattr(callee, "__glia_name__", None)
            try:
                if name is not None:
                    return callee(*args)
                interp.depth += 1
                if interp.depth > limit:
                    interp.depth = 0
                    raise GliaRuntimeError(RECURSION, f"recursion too deep: more than {limit} nested calls "
                                           "(in lambda)")
                try:
                    return callee(*args)
                finally:
                    interp.depth -= 1
            except GliaRuntimeError as e:  # raised by the callee's entry (recursion limit)
                raise loc(e) from None
            except GliaError as e:
                if name is None:
                    raise
                raise called_from(e, name, span, src) from None
        return call

    def prim(self, op, avs, attrs, span, impl=None):
        if op.startswith(("layer.", "ad.")):  # parameters and gradients: autodiff.py
            from .autodiff import special_prim

            return special_prim(self, op, avs, attrs, span)
        impl = impl or PRIMS[op].impl
        loc = self.located(span)
        n = len(avs)
        if attrs:
            def p_attrs(frame):
                try:
                    return impl(*[a(frame) for a in avs], *attrs)
                except GliaRuntimeError as e:
                    raise loc(e) from None
            return p_attrs
        if n == 1:
            a0 = avs[0]

            def p1(frame):
                try:
                    return impl(a0(frame))
                except GliaRuntimeError as e:
                    raise loc(e) from None
            return p1
        if n == 2:
            a0, a1 = avs

            def p2(frame):
                try:
                    return impl(a0(frame), a1(frame))
                except GliaRuntimeError as e:
                    raise loc(e) from None
            return p2

        def pn(frame):
            try:
                return impl(*[a(frame) for a in avs])
            except GliaRuntimeError as e:
                raise loc(e) from None
        return pn

    def comparison(self, op: str, left: Type, right: Type):
        """The kernel of `left op right`: by value (kernels.VALUE_CMP) when a container operand can hold
        a float, and so a NaN that Python would take as equal to itself."""
        if op in VALUE_CMP and any(holds_float(t, self.program.structs, container=False) for t in (left, right)):
            return VALUE_CMP[op]
        return PRIMS[op].impl

    def compare(self, evs, impls):
        if len(impls) == 1:
            a, b = evs
            f = impls[0]
            return lambda frame: f(a(frame), b(frame))

        def chain(frame):
            left = evs[0](frame)
            for i, f in enumerate(impls):
                right = evs[i + 1](frame)
                if not f(left, right):
                    return False
                left = right
            return True
        return chain

    def lambda_(self, captures, nparams, body, nslots):
        b = self.expr(body)
        caps = [(inner, self.expr(outer)) for inner, outer in captures]

        def make(frame):
            vals = [(inner, ev(frame)) for inner, ev in caps]

            def fn(*args):
                fr = [None] * nslots
                fr[:nparams] = args
                for inner, v in vals:
                    fr[inner] = v
                return b(fr)
            return fn
        return make

    def comprehension(self, kind, elt, key, clauses, span):
        e = self.expr(elt)
        if kind == "list":
            def emit(frame, acc):
                acc.append(e(frame))
            new = list
        elif kind == "set":
            def emit(frame, acc):
                acc[e(frame)] = None
            new = GSet
        else:
            k = self.expr(key)

            def emit(frame, acc):
                acc[k(frame)] = e(frame)
            new = dict
        inner = emit
        loc = self.located(span)
        for cl in reversed(clauses):
            inner = self.comp_clause(cl, inner, loc)
        body = inner

        def comp(frame):
            acc = new()
            body(frame, acc)
            return acc
        return comp

    def comp_clause(self, cl, inner, loc):
        if isinstance(cl, ir.CompIf):
            c = self.expr(cl.cond)

            def comp_if(frame, acc):
                if c(frame):
                    inner(frame, acc)
            return comp_if
        it = self.expr(cl.iter)
        store = self.store(cl.target)
        kind = cl.kind
        rows = (_rows if kind == "tensor" else (lambda d: _keys_checked(d, kind, loc)) if kind in ("dict", "set")
                else (lambda seq: seq))

        def comp_for(frame, acc):
            for x in rows(it(frame)):
                store(frame, x)
                inner(frame, acc)
        return comp_for

    def hole(self, index, span):
        fill = self.hole_fill
        loc = self.located(span)

        def hole(frame):
            f = fill.get(index)
            if f is None:
                raise loc(GliaRuntimeError(HOLE, f"hole #{index} (`??`) has not been filled yet; run "
                                           "`glia synth FILE`, or `prog.synthesize()` from Python, to fill it "
                                           "from the examples"))
            return f(frame)
        return hole


def _keys_checked(d, kind: str, loc):
    """The keys the dict or set `d` holds now, in order, for a `for` or a comprehension: before each
    step and after the last, a change of its size is E506 at `loc`'s node (kernels.walked, as the
    builtins that apply a function walk it; the compiled loops do the same). Keys replaced without a
    change of size (`d.pop(k); d[k + 10] = 1`) do not stop it: the loop goes on over the keys it
    began with, where Python may stop with a RuntimeError of its own."""
    try:
        yield from walked(d)
    except GliaRuntimeError as e:  # (only the walk's own: the loop's body runs outside this generator)
        raise loc(e) from None


def _rows(seq):
    """The items of a loop over a tensor: its rows, or for a vector its elements as Glia scalars (a
    Python float for f64: NumPy's own scalar would print as `np.float64(3.0)` inside a list)."""
    for x in seq:
        yield _scalar(x) if isinstance(x, np.generic) else x
