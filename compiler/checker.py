"""Stage 2, check: AST -> typed IR (`check(module, source) -> ir.Program`).

Name resolution, type inference for locals (one inference variable per local, unified at every
assignment), generic functions, struct fields, tensor shapes, definite assignment and return-path
analysis. The typing of builtin functions and methods is in `builtins.py`; this module handles the
language's own constructs. Every error is a GliaError with a span, never an exception of Python's.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from importlib import resources

from . import ast as A
from . import ir, types
from .diagnostics import GliaError, Note, Source, Span, a_or_an, error
from .stack import on_big_stack
from .syntax import NOT_GLIA, not_glia
from .types import (BOOL, F32, FLOAT, INT, NONE, STR, DictT, FnT, ListT, Scalar, SetT, StructT, Subst,
                    TensorT, TParam, TupleT, TVar, children, dim_names, held, is_concrete, is_hashable,
                    is_ordered, substitute)

STAGE = "check"
MAX_HOLE_DEPTH = 100  # ??(depth=N) stratifies the grammar into N levels; search reaches no deeper program

INT_MIN, INT_MAX = -(2 ** 63), 2 ** 63 - 1

TRAIN_SETTINGS = ("inputs", "targets", "loss", "optimizer", "epochs", "batch", "validation", "seed",
                  "metrics", "schedule", "clip", "early_stopping", "checkpoint", "shuffle", "lr", "device")


@dataclass
class FuncSig:
    name: str
    type_params: tuple[str, ...]
    params: tuple[str, ...]
    type: FnT
    node: A.FuncDef
    source: Source
    is_prelude: bool = False


@dataclass
class Scope:
    """One function body (or a lambda body, with `parent` set)."""

    slot_names: list[str] = field(default_factory=list)
    slot_types: list = field(default_factory=list)
    names: list[dict[str, int]] = field(default_factory=lambda: [{}])  # block scopes (comprehensions)
    parent: "Scope | None" = None
    captures: list[tuple[int, ir.Local]] = field(default_factory=list)  # (inner slot, outer Local)
    ret: object = NONE
    type_params: tuple[str, ...] = ()
    dims: frozenset = frozenset()

    def lookup(self, name: str) -> int | None:
        for d in reversed(self.names):
            if name in d:
                return d[name]
        return None

    def new_slot(self, name: str, t) -> int:
        self.slot_names.append(name)
        self.slot_types.append(t)
        return len(self.slot_names) - 1


class Checker:
    def __init__(self, module: A.Module, source: Source, prelude: tuple[A.Module, Source] | None):
        from .builtins import BuiltinTyper

        self.source = source
        self.cur_source = source
        self.subst = Subst()
        self.structs: dict[str, ir.StructInfo] = {}
        self.struct_nodes: dict[str, A.StructDef] = {}
        # key types met while the structs' fields are read, checked once every struct is known (None after)
        self.pending_keys: list | None = None
        self.later_keys: list = []  # (key type, span) not solved when seen: checked once solved (finish)
        self.sigs: dict[str, FuncSig] = {}
        self.global_nodes: dict[str, A.GlobalDef] = {}
        self.global_types: dict[str, object] = {}
        self.globals_done: set[str] = set()
        self.functions: dict[str, ir.Function] = {}
        self.holes: list[ir.Hole] = []
        # holes whose type was an inference variable when met: (the variable, the local assigned, the hole's span)
        self.hole_vars: list[tuple[TVar, str | None, Span]] = []
        self.choices: list[ir.Choose] = []
        self.pending: list[str] = []
        self.module = module
        self.prelude = prelude
        self.scope: Scope | None = None
        self.loop_depth = 0
        self.assigned: set[str] = set()
        self.local_names: set[str] = set()
        self.cur_fn: str | None = None  # the function being checked (names its layers' parameters)
        # generic functions: what each body needs of its type parameters ({name: {(tparam, kind)}},
        # kind "ordered" or "hashable"), and every binding of them (caller, callee, mapping, span, source)
        self.tparam_needs: dict[str, set[tuple[str, str]]] = {}
        self.generic_uses: list[tuple] = []
        self.builtins = BuiltinTyper(self)

    # ---- errors -------------------------------------------------------------------------------
    def err(self, code: str, msg: str, span: Span, notes: tuple[Note, ...] = ()) -> GliaError:
        return error(code, msg, span, STAGE, self.cur_source, notes)

    def show(self, t) -> str:
        return str(self.subst.zonk(t))

    def unknown_type(self, msg: str, span: Span, t) -> GliaError:
        """E205 for a value whose type `t` is still an inference variable. When that variable is a hole's
        (`y = ??` with nothing fixing y's type before this use), a note at the hole names the annotation
        that settles it."""
        t = self.subst.resolve(t)
        for var, name, hole_span in self.hole_vars:
            if self.subst.resolve(var) == t:
                fix = (f"annotate the local where the hole is assigned: `{name}: T = ??` with T its type, "
                       f"e.g. `{name}: list[int] = ??`") if name is not None and not name.startswith("$") else \
                    "write the hole where its type is known, or assign it to an annotated local (`y: int = ??`)"
                return self.err("E205", msg, span, (Note(f"the type comes from this hole; {fix}", hole_span),))
        return self.err("E205", msg, span)

    def mismatch(self, expected, found, span: Span, what: str = "", value: ir.Expr | None = None) -> GliaError:
        e, f = self.subst.zonk(expected), self.subst.zonk(found)
        hint = ""
        if e == FLOAT and f == INT:
            hint = " (write a float literal such as 0.0, or convert with float(...))"
        elif e == INT and f == FLOAT:
            hint = " (convert with int(...) or round(...))"
        elif e == F32 and f == FLOAT:
            hint = " (convert with f32(...))"
        elif value is not None:
            hint = self.by_reference_hint(value, e)
        return self.err("E201", f"type mismatch{what}: expected {e}, found {f}{hint}", span)

    def by_reference_hint(self, value: ir.Expr, want) -> str:
        """Why a list, dict or set holding ints is not taken where one holding floats is expected (as a
        literal's ints are): it is shared by reference, so converting it would make another value."""
        have, want = self.subst.zonk(value.type), self.subst.zonk(want)
        if not isinstance(have, (ListT, DictT, SetT)) or _ints_for_floats(have, want) is not True:
            return ""
        name = value.name if isinstance(value, (ir.Local, ir.Global)) else None
        who = f"'{name}' is a {have}" if name else f"this is a {have}"
        return (f" ({who}, not a literal: a list, dict or set is shared by reference, so its ints are not made "
                f"floats as a literal's are; give it float elements where it is made, as in "
                f"`{name or 'xs'}: {want} = ...`)")

    # ---- program ------------------------------------------------------------------------------
    def check_program(self) -> ir.Program:
        items = list(self.module.items)
        # declarations: structs first (types may mention them), then signatures and globals
        for it in items:
            if isinstance(it, A.StructDef):
                self.declare_name(it.name, it.span)
                self.struct_nodes[it.name] = it
        self.pending_keys = []
        for name, node in self.struct_nodes.items():
            self.structs[name] = ir.StructInfo(name, tuple(f.name for f in node.fields),
                                               tuple(self.resolve_type(f.type, (), frozenset()) for f in node.fields),
                                               node.span)
            seen = set()
            for f in node.fields:
                if f.name in seen:
                    raise self.err("E102", f"duplicate field '{f.name}' in struct {name}", f.span)
                seen.add(f.name)
        for name, node in self.struct_nodes.items():
            for f, ft in zip(node.fields, self.structs[name].types):
                if name in self.held_by_value(ft):
                    raise self.err("E206", f"struct {name} holds itself through field '{f.name}' (structs and "
                                   "tuples are held by value, so no value of it could ever be built); hold a "
                                   f"list[{name}] instead, which can be empty", f.span)
        pending, self.pending_keys = self.pending_keys, None
        for t, span in pending:
            self.require_hashable(t, span)
        for it in items:
            if isinstance(it, A.FuncDef):
                self.declare_name(it.name, it.name_span)
                self.sigs[it.name] = self.make_sig(it, self.source)
            elif isinstance(it, A.GlobalDef):
                self.declare_name(it.name, it.span)
                self.global_nodes[it.name] = it
        if self.prelude is not None:
            pmod, psrc = self.prelude
            for it in pmod.items:
                if isinstance(it, A.FuncDef) and it.name not in self.sigs and it.name not in self.structs \
                        and it.name not in self.global_nodes:
                    self.cur_source = psrc
                    self.sigs[it.name] = self.make_sig(it, psrc, prelude=True)
                    self.cur_source = self.source
        # bodies
        globals_ir = []
        for it in items:
            if isinstance(it, A.GlobalDef):
                globals_ir.append(self.check_global(it))
        for it in items:
            if isinstance(it, A.FuncDef):
                self.functions[it.name] = self.check_function(self.sigs[it.name])
        examples = _merge_examples(self.check_examples(it) for it in items if isinstance(it, A.ExamplesDef))
        trains = tuple(self.check_train(it) for it in _one_train_block_each(self, items))
        while self.pending:
            name = self.pending.pop()
            if name not in self.functions:
                sig = self.sigs[name]
                self.cur_source = sig.source
                self.functions[name] = self.check_function(sig)
                self.cur_source = self.source
        self.check_type_params()
        prog = ir.Program(self.structs, self.functions, tuple(globals_ir), examples, trains,
                          tuple(self.holes), tuple(self.choices), self.source)
        return self.finish(prog)

    def check_type_params(self):
        """Each binding of a generic function's type parameters gives it types its body can order or
        hash where it needs to (`heapify` of a list of dicts, `{x}` of a list `x`: E203 / E201 at the
        call, where they were errors inside the interpreter). A generic calling a generic passes the
        callee's needs on to its own type parameters (to a fixed point), checked at its own calls."""
        needs = {name: set(n) for name, n in self.tparam_needs.items()}

        def unmet(t, kind, caller_params):
            """The part of `t` that cannot be ordered / hashed (None if none), and the caller's type
            parameters it leaves to the caller's own bindings."""
            t = self.subst.zonk(t)
            match t:
                case TParam(name):
                    return None, {name} if name in caller_params else set()
                case TupleT(items):
                    passed = set()
                    for it in items:
                        bad, more = unmet(it, kind, caller_params)
                        if bad is not None:
                            return bad, set()
                        passed |= more
                    return None, passed
                case ListT(e) if kind == "ordered":
                    return unmet(e, kind, caller_params)
                case StructT(_) if kind == "hashable":
                    return self.mutable_in(t), set()
                case Scalar(n) if n != "None":
                    return None, set()
                case TVar():
                    return None, set()  # unsolved: E205 says so
            return t, set()

        def params_of(name):
            sig = self.sigs.get(name) if name is not None else None
            return set(sig.type_params) if sig is not None else set()

        changed = True
        while changed:
            changed = False
            for caller, callee, mapping, _span, _src in self.generic_uses:
                for tp, kind in list(needs.get(callee, ())):
                    _, passed = unmet(mapping[tp], kind, params_of(caller))
                    for name in passed:
                        if (name, kind) not in needs.setdefault(caller, set()):
                            needs[caller].add((name, kind))
                            changed = True
        for caller, callee, mapping, span, src in self.generic_uses:
            for tp, kind in sorted(needs.get(callee, ())):
                bad, _ = unmet(mapping[tp], kind, params_of(caller))
                if bad is None:
                    continue
                bound = self.show(self.subst.zonk(mapping[tp]))
                which = "which" if self.show(bad) == bound else f"and {self.show(bad)}"
                saved, self.cur_source = self.cur_source, src
                try:
                    if kind == "ordered":
                        raise self.err("E203", f"{callee} orders its {tp} values (<, sorted, min, max, a heap), "
                                       f"but {tp} is {bound} here, {which} has no order", span)
                    raise self.err("E201", f"{callee} uses its {tp} values as dict keys or set elements, but "
                                   f"{tp} is {bound} here, {which} cannot be one (it is mutable)", span)
                finally:
                    self.cur_source = saved

    def declare_name(self, name: str, span: Span):
        for table, what in ((self.struct_nodes, "struct"), (self.sigs, "function"), (self.global_nodes, "global")):
            if name in table:
                prev = table[name]
                prev_span = prev.node.span if isinstance(prev, FuncSig) else prev.span
                raise self.err("E102", f"'{name}' is already defined (as a {what})", span,
                               (Note("first defined here", prev_span),))

    def finish(self, prog: ir.Program) -> ir.Program:
        """Replace every inference variable by its solution; unsolved ones are errors (E205)."""
        def fix(t):
            z = self.subst.zonk(t)
            return z
        prog = ir.map_types(prog, fix)
        later, self.later_keys = self.later_keys, []
        for t, span in later:  # (`d = {}` then `d[[1]] = 1`: list[int] keys, which used to stop the run)
            if is_concrete(self.subst.zonk(t)):
                self.require_hashable(t, span, inferred=True)
        for node in ir.walk(prog):
            t = getattr(node, "type", None)
            if isinstance(node, (ir.StoreLocal,)):
                continue
            if t is not None and not is_concrete(t):
                span = getattr(node, "span", None) or Span(0, 0, 0, 0)
                if isinstance(node, ir.Hole):
                    raise self.unknown_type("cannot infer the type of this hole: nothing that uses its value "
                                            "fixes it (a hole takes its type from where it stands)", span, t)
                raise self.err("E205", f"cannot infer the type of this expression (found {t}); "
                               f"add an annotation, e.g. {_annotation_example(t)}", span)
        for f in prog.functions.values():
            for n, t in zip(f.slot_names, f.slot_types):
                if not is_concrete(t) and not n.startswith("$"):
                    raise self.err("E205", f"cannot infer the type of local '{n}' in {f.name} (found {t}); "
                                   f"annotate it where it is first assigned, e.g. {_annotation_example(t)}", f.span)
        return prog

    # ---- types --------------------------------------------------------------------------------
    def resolve_type(self, t: A.TypeExpr, tparams: tuple[str, ...], dims: frozenset, allow_dims=False):
        match t:
            case A.TName(name, span):
                simple = {"int": INT, "float": FLOAT, "f64": FLOAT, "f32": F32, "bool": BOOL, "str": STR,
                          "None": NONE}
                if name in simple:
                    return simple[name]
                if name in tparams:
                    return TParam(name)
                if name in self.struct_nodes:
                    return StructT(name)
                if name in ("list", "dict", "set", "tuple"):
                    raise self.err("E206", f"'{name}' needs type arguments, e.g. list[int], dict[str, int]", span)
                raise self.err("E206", f"unknown type '{name}'{self.suggest(name, self.type_names())}", span)
            case A.TApp(name, args, span):
                if name in ("f32", "f64", "float"):
                    dtype = F32 if name == "f32" else FLOAT
                    shape = []
                    for a in args:
                        if isinstance(a, A.TDim):
                            if a.value <= 0:
                                raise self.err("E206", "tensor dimensions must be positive", a.span)
                            shape.append(a.value)
                        elif isinstance(a, A.TName) and a.name not in ("int", "float", "str", "bool"):
                            shape.append(a.name)
                        else:
                            raise self.err("E206", "a tensor dimension is an integer or a name, e.g. f32[64] "
                                           "or f32[n, 3]", a.span)
                    return TensorT(dtype, tuple(shape))
                targs = []
                for a in args:
                    if isinstance(a, A.TDim):
                        raise self.err("E206", f"expected a type argument for {name}, found the number {a.value}",
                                       a.span)
                    targs.append(self.resolve_type(a, tparams, dims))
                arity = {"list": 1, "set": 1, "dict": 2}
                if name in arity:
                    if len(targs) != arity[name]:
                        raise self.err("E206", f"{name} takes {arity[name]} type argument"
                                       f"{'s' if arity[name] > 1 else ''}, found {len(targs)}", span)
                    if name == "list":
                        return ListT(targs[0])
                    if name == "set":
                        self.require_hashable(targs[0], args[0].span)
                        return SetT(targs[0])
                    self.require_hashable(targs[0], args[0].span)
                    return DictT(targs[0], targs[1])
                if name == "tuple":
                    return TupleT(tuple(targs))
                raise self.err("E206", f"unknown generic type '{name}'; expected list, dict, set, tuple, f32 or f64",
                               span)
            case A.TTuple(items, span):
                return TupleT(tuple(self.resolve_type(i, tparams, dims) for i in items))
            case A.TFn(params, ret, span):
                return FnT(tuple(self.resolve_type(p, tparams, dims) for p in params),
                           self.resolve_type(ret, tparams, dims))
            case A.TDim(value, span):
                raise self.err("E206", f"expected a type, found the number {value}", span)
        raise self.err("E206", "bad type", getattr(t, "span", Span(0, 0, 0, 0)))

    def type_names(self):
        return ["int", "float", "f32", "f64", "bool", "str", "list", "dict", "set", "tuple"] + list(self.struct_nodes)

    def require_hashable(self, t, span, inferred: bool = False):
        """E201 unless values of type t can be dict keys or set elements; an inference variable is checked
        once solved (`finish`: `inferred`, the message says the type was found from the keys' use)."""
        t = self.subst.zonk(t)
        if not is_concrete(t):
            self.later_keys.append((t, span))
            return
        if self.pending_keys is not None:  # (while the structs' fields are read)
            self.pending_keys.append((t, span))
            return
        found = f"the use of this dict or set makes its keys {t}, but " if inferred else ""
        if isinstance(t, FnT):
            raise self.err("E201", f"{found}a function value cannot be a dict key or set element; key it by a name "
                           "or a number that stands for the function", span)
        if not is_hashable(t):
            raise self.err("E201", f"{found}{t} cannot be a dict key or set element (it is mutable); "
                           "use a tuple or a struct", span)
        inner = self.mutable_in(t)
        if inner is not None:
            raise self.err("E201", f"{found}{t} cannot be a dict key or set element (it holds {a_or_an(inner)}, "
                           "which is mutable); use a tuple or a struct of numbers, strings and tuples", span)

    def mutable_in(self, t, seen: frozenset = frozenset()):
        """A type inside the struct or tuple type `t` (through its fields) that cannot be a key, or None."""
        match t:
            case StructT(name):
                if name in seen or name not in self.structs:
                    return None
                return next((bad for ft in self.structs[name].types
                             for bad in [ft if not is_hashable(ft) and not isinstance(ft, FnT)
                                         else self.mutable_in(ft, seen | {name})]
                             if bad is not None), None)
            case TupleT(items):
                return next((bad for it in items if (bad := self.mutable_in(it, seen)) is not None), None)
        return None

    def held_by_value(self, t, seen: frozenset = frozenset()) -> frozenset:
        """The structs a value of type `t` holds by value (through struct fields and tuple items; a
        list, dict, set or function value may be empty, so what it holds is not counted)."""
        match t:
            case StructT(name):
                if name in seen or name not in self.structs:
                    return seen | {name}
                seen = seen | {name}
                return seen.union(*(self.held_by_value(ft, seen) for ft in self.structs[name].types))
            case TupleT(items):
                return seen.union(*(self.held_by_value(it, seen) for it in items))
        return seen

    def suggest(self, name: str, candidates) -> str:
        close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
        return f"; did you mean '{close[0]}'?" if close else ""

    def make_sig(self, fd: A.FuncDef, source: Source, prelude: bool = False) -> FuncSig:
        tparams = fd.type_params
        for tp in tparams:  # (the prelude's own `T` is no clash with a program's struct T)
            if (tp in self.struct_nodes and not prelude) or tp in ("int", "float", "str", "bool", "f32", "f64"):
                raise self.err("E102", f"type parameter '{tp}' shadows a type", fd.span)
            if tparams.count(tp) > 1:
                raise self.err("E102", f"duplicate type parameter '{tp}'", fd.span)
        names = set()
        ptypes = []
        for p in fd.params:
            if p.name in names:
                raise self.err("E102", f"duplicate parameter '{p.name}'", p.span)
            names.add(p.name)
            ptypes.append(self.resolve_type(p.type, tparams, frozenset()))
        ret = self.resolve_type(fd.ret, tparams, frozenset()) if fd.ret is not None else NONE
        return FuncSig(fd.name, tparams, tuple(p.name for p in fd.params), FnT(tuple(ptypes), ret), fd, source,
                       prelude)

    # ---- functions ----------------------------------------------------------------------------
    def check_function(self, sig: FuncSig) -> ir.Function:
        fd = sig.node
        dims = frozenset().union(*(dim_names(p) for p in sig.type.params)) if sig.type.params else frozenset()
        scope = Scope(ret=sig.type.ret, type_params=sig.type_params, dims=dims)
        for name, t in zip(sig.params, sig.type.params):
            scope.names[0][name] = scope.new_slot(name, t)
        saved = (self.scope, self.loop_depth, self.assigned, self.local_names, self.cur_fn, types.needs)
        self.scope, self.loop_depth, self.assigned, self.cur_fn = scope, 0, set(sig.params), fd.name
        needs = self.tparam_needs.setdefault(fd.name, set())
        types.needs = (lambda tp, kind: needs.add((tp, kind))) if sig.type_params else None
        try:
            # every name assigned anywhere in the body is a local of the whole body (Python's rule)
            self.local_names = set(sig.params)
            for name, span in assigned_names(fd.body):
                if name not in scope.names[0]:
                    scope.names[0][name] = scope.new_slot(name, self.subst.fresh(name))
                self.local_names.add(name)
            body = self.block(fd.body)
            if sig.type.ret != NONE and not terminates(fd.body):
                raise self.err("E207", f"function '{fd.name}' must return a value of type {self.show(sig.type.ret)} on every path; "
                               "this one can reach its end without `return`", fd.name_span)
        finally:
            self.scope, self.loop_depth, self.assigned, self.local_names, self.cur_fn, types.needs = saved
        return ir.Function(fd.name, sig.type_params, sig.params, sig.type, body, len(scope.slot_names),
                           tuple(scope.slot_names), tuple(scope.slot_types), fd.span, sig.source.name)

    def check_global(self, g: A.GlobalDef) -> ir.GlobalDef:
        scope = Scope()
        saved = (self.scope, self.assigned, self.local_names)
        self.scope, self.assigned, self.local_names = scope, set(), set()
        if g.annotation is not None:
            t = self.resolve_type(g.annotation, (), frozenset())
            value = self.coerce(self.expr(g.value, t), t, g.value.span)
        else:
            value = self.expr(g.value)
            t = value.type
        self.global_types[g.name] = t
        self.globals_done.add(g.name)
        self.scope, self.assigned, self.local_names = saved
        return ir.GlobalDef(g.name, t, value, len(scope.slot_names), g.span)

    def check_examples(self, ex: A.ExamplesDef) -> ir.Examples:
        sig = self.sigs.get(ex.func)
        if sig is None or sig.is_prelude:
            raise self.err("E101", f"examples for undefined function '{ex.func}'", ex.span)
        out = []
        for e in ex.examples:
            fnt = self.instantiate(sig, e.span)
            if len(e.args) != len(fnt.params):
                raise self.err("E401", f"example has {len(e.args)} argument{'s' if len(e.args) != 1 else ''}, "
                               f"but {ex.func} takes {len(fnt.params)}", e.span)
            scope = Scope()
            saved = (self.scope, self.assigned, self.local_names)
            self.scope, self.assigned, self.local_names = scope, set(), set()
            try:
                args = tuple(self.coerce(self.expr(a, t), t, a.span) for a, t in zip(e.args, fnt.params))
                res = self.coerce(self.expr(e.result, fnt.ret), fnt.ret, e.result.span)
                searched = next((n for n in ir.walk(args + (res,)) if isinstance(n, (ir.Hole, ir.Choose))), None)
                if searched is not None:  # (search would fill it, or run the example with it unfilled)
                    raise self.err("E401", f"an example is a value: it cannot hold "
                                   f"{'a hole (`??`)' if isinstance(searched, ir.Hole) else '`choose(...)`'}",
                                   searched.span)
            except GliaError as err:
                d = err.diagnostic
                if d.code == "E201":
                    raise self.err("E401", f"example does not match {ex.func}'s signature {self.show(fnt)}: "
                                   f"{d.message.removeprefix('type mismatch: ')}", d.span) from None
                raise
            finally:
                self.scope, self.assigned, self.local_names = saved
            out.append(ir.Example(args, res, e.span))
        return ir.Examples(ex.func, tuple(out), ex.span)

    def check_train(self, tr: A.TrainDef) -> ir.TrainSpec:
        if tr.func not in self.sigs or self.sigs[tr.func].is_prelude:
            raise self.err("E101", f"train block for undefined function '{tr.func}'", tr.span)
        seen = set()
        for s in tr.settings:
            if s.name not in TRAIN_SETTINGS:
                raise self.err("E103", f"unknown training setting '{s.name}'; expected one of "
                               f"{', '.join(TRAIN_SETTINGS)}", s.span)
            if s.name in seen:
                raise self.err("E102", f"setting '{s.name}' given twice", s.span)
            seen.add(s.name)
            self.setting_choices(s.value)
        from .training import apply_settings  # (only programs that train pay for importing it)

        try:  # each value checked now, where it is written, not when training reaches it
            apply_settings([(s.name, s.value) for s in tr.settings])
        except GliaError as e:
            raise self.err(e.diagnostic.code, e.diagnostic.message, e.diagnostic.span) from None
        return ir.TrainSpec(tr.func, tr.data, tuple((s.name, s.value) for s in tr.settings), tr.span, tr.data_span)

    def setting_choices(self, e) -> None:
        """`lr = choose(0.01, 0.001)`, `optimizer = adam(lr=choose(...))` in a train block: choices among
        constants, settled by training (compiler/choose_train.py); until then the first option holds."""
        match e:
            case A.Call(A.Name("choose"), args, kwargs) if args and not kwargs:
                self.static_choice(e, self.setting_constant)
            case A.Call(_, args, kwargs):
                for x in list(args) + [k.value for k in kwargs]:
                    self.setting_choices(x)
            case A.ListLit(elts):
                for x in elts:
                    self.setting_choices(x)

    def setting_constant(self, e):
        v = A.setting_constant(e)
        if v is not A.NOT_CONSTANT:
            return v
        raise self.err("E201", "a choice in a training setting is among constants or names: "
                       "choose(0.01, 0.001), choose(adam, sgd)", e.span)

    def instantiate(self, sig: FuncSig, span: Span | None = None) -> FnT:
        """`sig`'s type with fresh inference variables for its type parameters and dimension names;
        with `span`, the binding is kept so that what the body needs of each type parameter (an order,
        a hash) is checked against the type it is bound to (check_type_params)."""
        mapping = {tp: self.subst.fresh(tp) for tp in sig.type_params}
        if span is not None and mapping:
            self.generic_uses.append((self.cur_fn, sig.name, dict(mapping), span, self.cur_source))
        for d in set().union(*(dim_names(p) for p in sig.type.params)) if sig.type.params else ():
            mapping[d] = self.subst.fresh(d)
        return substitute(sig.type, mapping) if mapping else sig.type

    def use_function(self, name: str):
        sig = self.sigs[name]
        if sig.is_prelude and name not in self.functions and name not in self.pending:
            self.pending.append(name)

    # ---- statements ---------------------------------------------------------------------------
    def block(self, stmts) -> tuple:
        out = []
        for s in stmts:
            out.extend(self.stmt(s))
        return tuple(out)

    def stmt(self, s) -> list:
        match s:
            case A.ExprStmt(e, span):
                return [ir.ExprStmt(self.expr(e), span)]
            case A.Pass():
                return []
            case A.AnnAssign(target, ann, value, span):
                t = self.resolve_type(ann, self.scope.type_params, self.scope.dims)
                slot = self.scope.lookup(target.id)
                cur = self.scope.slot_types[slot]
                if not self.subst.unify(cur, t):
                    raise self.err("E201", f"'{target.id}' is annotated {t} here but was used as {self.show(cur)}",
                                   ann.span)
                v = self.coerce(self.expr(value, t), t, value.span)
                self.assigned.add(target.id)
                return [ir.Assign(ir.StoreLocal(slot, target.id, t, target.span), v, span)]
            case A.Assign(targets, value, span):
                if len(targets) == 1:
                    return self.assign(targets[0], value, span)
                # a = b = e: evaluate once into a temporary
                v = self.expr(value)
                tmp = self.scope.new_slot(f"$t{len(self.scope.slot_names)}", v.type)
                out = [ir.Assign(ir.StoreLocal(tmp, "$tmp", v.type, span), v, span)]
                for t in targets:
                    out.extend(self.assign_ir(t, ir.Local(tmp, "$tmp", v.type, value.span), span))
                return out
            case A.AugAssign(target, op, value, span):
                return self.aug_assign(target, op, value, span)
            case A.If(cond, body, orelse, span):
                c = self.condition(cond)
                before = set(self.assigned)
                then = self.block(body)
                after_then = self.assigned
                self.assigned = set(before)
                els = self.block(orelse)
                after_else = self.assigned
                if terminates(body):
                    self.assigned = after_else
                elif terminates(orelse):
                    self.assigned = after_then
                else:
                    self.assigned = after_then & after_else
                return [ir.If(c, then, els, span)]
            case A.While(cond, body, span):
                c = self.condition(cond)
                before = set(self.assigned)
                self.loop_depth += 1
                b = self.block(body)
                self.loop_depth -= 1
                self.assigned = before
                return [ir.While(c, b, span)]
            case A.For(target, it, body, span):
                return self.for_stmt(target, it, body, span)
            case A.Break(span):
                if self.loop_depth == 0:
                    raise self.err("E005", "'break' outside a loop", span)
                return [ir.Break(span)]
            case A.Continue(span):
                if self.loop_depth == 0:
                    raise self.err("E005", "'continue' outside a loop", span)
                return [ir.Continue(span)]
            case A.Return(value, span):
                ret = self.scope.ret
                if isinstance(value, A.NoneLit) and self.subst.resolve(ret) == NONE:
                    value = None  # `return None` in a function that returns nothing, as in Python
                if value is None:
                    if self.subst.resolve(ret) != NONE:
                        raise self.err("E201", f"this function returns {self.show(ret)}; `return` needs a value", span)
                    return [ir.Return(None, span)]
                if self.subst.resolve(ret) == NONE:
                    raise self.err("E201", "this function has no return type, so `return` takes no value "
                                   "(declare one with `-> type`)", value.span)
                return [ir.Return(self.coerce(self.expr(value, ret), ret, value.span), span)]
            case A.Assert(cond, msg, span):
                c = self.condition(cond)
                m = None
                if msg is not None:
                    m = self.expr(msg)
                    if self.subst.resolve(m.type) != STR:
                        m = ir.Prim("to_str", (m,), STR, msg.span)
                return [ir.Assert(c, m, span)]
            case A.Del(target, span):
                return [ir.ExprStmt(self.builtins.delete(target), span)]
        raise self.err("E005", f"unsupported statement {type(s).__name__}", s.span)

    def condition(self, e) -> ir.Expr:
        c = self.expr(e, BOOL)
        t = self.subst.resolve(c.type)
        if t != BOOL:
            if isinstance(t, TVar):
                self.subst.unify(t, BOOL)
            else:
                raise self.err("E201", f"a condition must be a bool, found {self.show(t)}"
                               f"{self.truthiness_hint(t)}", e.span)
        return c

    def truthiness_hint(self, t) -> str:
        t = self.subst.zonk(t)
        if isinstance(t, (ListT, DictT, SetT)) or t == STR:
            return " (Glia has no truthiness: write `len(x) > 0`)"
        if t in (INT, FLOAT, F32):
            return " (Glia has no truthiness: write `x != 0`)"
        return ""

    def for_stmt(self, target, it, body, span) -> list:
        # for i in range(...) is a counted loop
        if isinstance(it, A.Call) and isinstance(it.func, A.Name) and it.func.id == "range" \
                and self.scope.lookup("range") is None and isinstance(target, A.Name) and not it.kwargs:
            start, stop, step = self.builtins.range_args(it)
            tgt = self.store_target(target, INT)
            loop = self.loop_body(body)
            return [ir.ForRange(tgt, start, stop, step, loop, span)]
        iterable = self.expr(it)
        elem, kind = self.builtins.iteration(iterable, it.span)
        tgt = self.store_target(target, elem)
        loop = self.loop_body(body)
        return [ir.For(tgt, iterable, kind, loop, span)]

    def loop_body(self, body):
        before = set(self.assigned)
        self.loop_depth += 1
        b = self.block(body)
        self.loop_depth -= 1
        self.assigned = before
        return b

    def store_target(self, target, t):
        """A loop or comprehension target of type t (names and tuples of names)."""
        match target:
            case A.Name(name, span):
                slot = self.scope.lookup(name)
                if slot is None:
                    raise self.err("E209", f"cannot assign to '{name}' here", span)
                if not self.subst.unify(self.scope.slot_types[slot], t):
                    raise self.mismatch(self.scope.slot_types[slot], t, span, f" for '{name}'")
                self.assigned.add(name)
                return ir.StoreLocal(slot, name, t, span)
            case A.TupleLit(elts, span) | A.ListLit(elts, span):
                rt = self.subst.resolve(t)
                if isinstance(rt, TVar):
                    rt = TupleT(tuple(self.subst.fresh() for _ in elts))
                    self.subst.unify(t, rt)
                if not isinstance(rt, TupleT) or len(rt.items) != len(elts):
                    raise self.err("E201", f"cannot unpack {self.show(t)} into {len(elts)} names", span)
                return ir.StoreTuple(tuple(self.store_target(e, et) for e, et in zip(elts, rt.items)), span)
        raise self.err("E209", "a loop variable must be a name or a tuple of names", target.span)

    def assign(self, target, value, span) -> list:
        if isinstance(target, A.Name):
            slot = self.scope.lookup(target.id)
            t = self.scope.slot_types[slot]
            if isinstance(value, A.Hole) and isinstance(self.subst.resolve(t), TVar):
                self.hole_vars.append((t, target.id, value.span))
            v = self.coerce_local(self.expr(value, t), t, value.span, target.id)
            self.assigned.add(target.id)
            return [ir.Assign(ir.StoreLocal(slot, target.id, t, target.span), v, span)]
        if isinstance(target, (A.TupleLit, A.ListLit)):
            expected = TupleT(tuple(self.subst.fresh() for _ in target.elts))
            v = self.expr(value, expected)
            return self.assign_ir(target, v, span)
        if isinstance(target, A.Subscript):
            cont = self.expr(target.value)
            return [self.builtins.store_index(cont, target, value, span)]
        if isinstance(target, A.Attribute):
            return self.assign_field(target, lambda cur: self.coerce(self.expr(value, cur.type), cur.type, value.span),
                                     span)
        raise self.err("E209", "cannot assign to this expression", target.span)

    def assign_ir(self, target, v: ir.Expr, span) -> list:
        """Assign an already-checked value (for a = b = e and tuple unpacking)."""
        match target:
            case A.Name(name, tspan):
                slot = self.scope.lookup(name)
                t = self.scope.slot_types[slot]
                v2 = self.coerce_local(v, t, v.span, name)
                self.assigned.add(name)
                return [ir.Assign(ir.StoreLocal(slot, name, t, tspan), v2, span)]
            case A.TupleLit(elts, tspan) | A.ListLit(elts, tspan):
                vt = self.subst.resolve(v.type)
                if isinstance(vt, TVar):
                    vt = TupleT(tuple(self.subst.fresh() for _ in elts))
                    self.subst.unify(v.type, vt)
                if not isinstance(vt, TupleT) or len(vt.items) != len(elts):
                    raise self.err("E201", f"cannot unpack {self.show(v.type)} into {len(elts)} targets", v.span)
                tmp = self.scope.new_slot(f"$t{len(self.scope.slot_names)}", vt)
                out = [ir.Assign(ir.StoreLocal(tmp, "$tmp", vt, tspan), v, span)]
                for i, (e, et) in enumerate(zip(elts, vt.items)):
                    item = ir.Prim("tuple.getitem", (ir.Local(tmp, "$tmp", vt, tspan),), et, e.span, (i,))
                    out.extend(self.assign_ir(e, item, span))
                return out
            case A.Subscript() | A.Attribute():
                tmp = self.scope.new_slot(f"$t{len(self.scope.slot_names)}", v.type)
                out = [ir.Assign(ir.StoreLocal(tmp, "$tmp", v.type, span), v, span)]
                ref = A.Name(f"$t{tmp}", v.span)
                self.scope.names[-1][ref.id] = tmp
                self.assigned.add(ref.id)
                if isinstance(target, A.Subscript):
                    cont = self.expr(target.value)
                    out.append(self.builtins.store_index(cont, target, ref, span))
                else:
                    out.extend(self.assign_field(target, lambda cur: self.coerce(ir.Local(tmp, "$tmp", v.type, v.span),
                                                                              cur.type, v.span), span))
                return out
        raise self.err("E209", "cannot assign to this expression", target.span)

    def coerce_local(self, v: ir.Expr, t, span, name: str) -> ir.Expr:
        """Assignment to a local: the first assignment fixes its type; later ones must agree."""
        if isinstance(self.subst.resolve(t), TVar):
            self.subst.unify(t, v.type)
            return v
        try:
            return self.coerce(v, t, span)
        except GliaError:
            raise self.err("E201", f"'{name}' has type {self.show(t)}, but this value is {self.show(v.type)}"
                           f"{self.mismatch(t, v.type, span).diagnostic.message.split(self.show(v.type), 1)[-1]}",
                           span) from None

    def assign_field(self, target: A.Attribute, make_value, span) -> list:
        """`base.f = v` with value semantics: base = replace(base, f, v), through nested paths."""
        base = target.value
        out: list = []
        # evaluate the container and index of an indexed base once
        if isinstance(base, A.Subscript):
            cont = self.expr(base.value)
            ctmp = self.scope.new_slot(f"$t{len(self.scope.slot_names)}", cont.type)
            out.append(ir.Assign(ir.StoreLocal(ctmp, "$tmp", cont.type, span), cont, span))
            idx = self.expr(base.index) if not isinstance(base.index, A.Slice) else None
            if idx is None:
                raise self.err("E209", "cannot assign a field through a slice", base.index.span)
            itmp = self.scope.new_slot(f"$t{len(self.scope.slot_names)}", idx.type)
            out.append(ir.Assign(ir.StoreLocal(itmp, "$tmp", idx.type, span), idx, span))
            cname, iname = f"$t{ctmp}", f"$t{itmp}"
            self.scope.names[-1][cname] = ctmp
            self.scope.names[-1][iname] = itmp
            self.assigned.update((cname, iname))
            base = A.Subscript(A.Name(cname, base.value.span), A.Name(iname, base.index.span), base.span)
        cur = self.expr(base)
        st = self.subst.resolve(cur.type)
        if not isinstance(st, StructT):
            raise self.err("E209", f"only struct fields can be assigned; this is {a_or_an(self.show(cur.type))}",
                           target.span)
        info = self.structs[st.name]
        if target.attr not in info.fields:
            raise self.err("E103", f"struct {st.name} has no field '{target.attr}'"
                           f"{self.suggest(target.attr, info.fields)}", target.attr_span)
        i = info.fields.index(target.attr)
        field_cur = ir.GetField(cur, i, target.attr, info.types[i], target.span)
        new_field = make_value(field_cur)
        new_val = ir.Prim("struct.replace", (cur, new_field), st, target.span, (i,))
        tmp = self.scope.new_slot(f"$t{len(self.scope.slot_names)}", st)
        out.append(ir.Assign(ir.StoreLocal(tmp, "$tmp", st, span), new_val, span))
        ref = A.Name(f"$t{tmp}", target.span)
        self.scope.names[-1][ref.id] = tmp
        self.assigned.add(ref.id)
        if isinstance(base, A.Name):
            if base.id.startswith("$t") or self.scope.lookup(base.id) is None or base.id not in self.local_names:
                if not base.id.startswith("$t") or self.scope.lookup(base.id) is None:
                    raise self.err("E209", f"cannot assign to a field of '{base.id}': it is not a local variable",
                                   base.span)
            out.extend(self.assign_ir(base, ir.Local(tmp, "$tmp", st, target.span), span))
        elif isinstance(base, A.Subscript):
            cont = self.expr(base.value)
            out.append(self.builtins.store_index(cont, base, ref, span))
        elif isinstance(base, A.Attribute):
            out.extend(self.assign_field(base, lambda c: ir.Local(tmp, "$tmp", st, target.span), span))
        else:
            raise self.err("E209", "cannot assign a field of a temporary value", base.span)
        return out

    def aug_assign(self, target, op, value, span) -> list:
        if isinstance(target, A.Name):
            slot = self.scope.lookup(target.id)
            if target.id not in self.assigned:
                raise self.err("E104", f"'{target.id}' is used before it is assigned", target.span)
            t = self.scope.slot_types[slot]
            cur = ir.Local(slot, target.id, t, target.span)
            rt = self.subst.resolve(t)
            if op == "+" and isinstance(rt, ListT):  # xs += ys extends in place, as in Python
                v = self.coerce(self.expr(value, rt), rt, value.span)
                return [ir.ExprStmt(ir.Prim("list.extend", (cur, v), NONE, span), span)]
            new = self.builtins.binop(op, cur, self.expr(value, t), span, value.span)
            return [ir.Assign(ir.StoreLocal(slot, target.id, t, target.span),
                              self.coerce_local(new, t, span, target.id), span)]
        if isinstance(target, A.Subscript):
            # the container and the index are computed once, into temporaries, unless they are locals
            # (which nothing in the statement can assign): `xs[i] += v` is `xs[i] = xs[i] + v`, no
            # second name for the list (which compiled gradients would take as an alias of xs)
            out = []
            cname = self.once(target.value, out, span)
            if isinstance(target.index, A.Slice):
                raise self.err("E209", "cannot assign to a slice", target.index.span)
            iname = self.once(target.index, out, span)
            sub = A.Subscript(A.Name(cname, target.value.span), A.Name(iname, target.index.span), target.span)
            cur = self.expr(sub)
            new = self.builtins.binop(op, cur, self.expr(value, cur.type), span, value.span)
            new = self.coerce(new, cur.type, span)
            vtmp = self.scope.new_slot(f"$t{len(self.scope.slot_names)}", cur.type)
            out.append(ir.Assign(ir.StoreLocal(vtmp, "$tmp", cur.type, span), new, span))
            vname = f"$t{vtmp}"
            self.scope.names[-1][vname] = vtmp
            self.assigned.add(vname)
            out.append(self.builtins.store_index(self.expr(sub.value), sub, A.Name(vname, value.span), span))
            return out
        if isinstance(target, A.Attribute):
            def make(cur):
                new = self.builtins.binop(op, cur, self.expr(value, cur.type), span, value.span)
                return self.coerce(new, cur.type, span)
            return self.assign_field(target, make, span)
        raise self.err("E209", "cannot assign to this expression", target.span)

    def once(self, e, out: list, span) -> str:
        """The name of a local holding the value of `e`: `e` itself when it is a local's name, else a
        temporary assigned `e` (the assignment appended to `out`)."""
        if isinstance(e, A.Name) and self.scope.lookup(e.id) is not None:
            self.expr(e)  # (E104 when it is not assigned yet)
            return e.id
        v = self.expr(e)
        tmp = self.scope.new_slot(f"$t{len(self.scope.slot_names)}", v.type)
        out.append(ir.Assign(ir.StoreLocal(tmp, "$tmp", v.type, span), v, span))
        name = f"$t{tmp}"
        self.scope.names[-1][name] = tmp
        self.assigned.add(name)
        return name

    # ---- coercion -----------------------------------------------------------------------------
    def coerce(self, v: ir.Expr, t, span: Span) -> ir.Expr:
        """Make `v` have type `t`: unify, or convert int -> float/f32, float literal -> f32."""
        vt, tt = self.subst.resolve(v.type), self.subst.resolve(t)
        if self.subst.unify(vt, tt):
            return v
        if vt == INT and tt == FLOAT:
            return self.builtins.convert(v, FLOAT)
        if vt == INT and tt == F32:
            return self.builtins.convert(v, F32)
        if vt == FLOAT and tt == F32 and isinstance(v, ir.Const):
            return self.builtins.convert(v, F32)
        # element-wise coercion of literals: [1, 2] where list[float] is expected
        if isinstance(v, ir.MakeList) and isinstance(tt, ListT):
            return ir.MakeList(tuple(self.coerce(e, tt.elem, e.span) for e in v.elts), tt, v.span)
        if isinstance(v, ir.MakeSet) and isinstance(tt, SetT):
            return ir.MakeSet(tuple(self.coerce(e, tt.elem, e.span) for e in v.elts), tt, v.span)
        if isinstance(v, ir.MakeTuple) and isinstance(tt, TupleT) and len(tt.items) == len(v.elts):
            return ir.MakeTuple(tuple(self.coerce(e, et, e.span) for e, et in zip(v.elts, tt.items)), tt, v.span)
        if isinstance(v, ir.MakeDict) and isinstance(tt, DictT):
            return ir.MakeDict(tuple(self.coerce(k, tt.key, k.span) for k in v.keys),
                               tuple(self.coerce(x, tt.val, x.span) for x in v.values), tt, v.span)
        if isinstance(vt, TensorT) and isinstance(tt, TensorT) and vt.dtype == tt.dtype:
            raise self.err("E301", f"tensor shape mismatch: expected {self.show(tt)}, found {self.show(vt)}", span)
        raise self.mismatch(tt, vt, span, value=v)

    def join(self, a: ir.Expr, b: ir.Expr, span) -> tuple[ir.Expr, ir.Expr, object]:
        """Two branches of one value (if-expression, list literal): a common type."""
        ta, tb = self.subst.resolve(a.type), self.subst.resolve(b.type)
        if self.subst.unify(ta, tb):
            return a, b, ta
        w = self.widen(ta, tb)
        if w is not None:
            try:
                return self.coerce(a, w, a.span), self.coerce(b, w, b.span), w
            except GliaError:
                pass
        raise self.err("E201", f"the two values have different types: {self.show(ta)} and {self.show(tb)}", span)

    # ---- expressions --------------------------------------------------------------------------
    def expr(self, e, expected=None) -> ir.Expr:
        match e:
            case A.IntLit(v, span):
                if not INT_MIN <= v <= INT_MAX:
                    raise self.err("E210", f"integer literal {v} does not fit in 64 bits", span)
                if expected is not None and self.subst.resolve(expected) in (FLOAT, F32):
                    t = self.subst.resolve(expected)
                    return ir.Const(float(v) if t == FLOAT else v, t, span) if t == FLOAT else \
                        self.builtins.convert(ir.Const(v, INT, span), F32)
                return ir.Const(v, INT, span)
            case A.FloatLit(v, span):
                if v in (float("inf"), float("-inf")):  # Python's float() of the text rounds it up to inf
                    raise self.err("E210", "float literal does not fit in 64 bits (the largest float is about "
                                   "1.8e308); write `inf` for an infinity", span)
                if expected is not None and self.subst.resolve(expected) == F32:
                    return self.builtins.convert(ir.Const(v, FLOAT, span), F32)
                return ir.Const(v, FLOAT, span)
            case A.StrLit(v, span):
                return ir.Const(v, STR, span)
            case A.BoolLit(v, span):
                return ir.Const(v, BOOL, span)
            case A.NoneLit(span):
                return ir.Const(None, NONE, span)
            case A.Name(name, span):
                return self.name(name, span, expected)
            case A.ListLit(elts, span):
                return self.list_lit(elts, span, expected)
            case A.TupleLit(elts, span):
                exp = self.subst.resolve(expected) if expected is not None else None
                items = []
                for i, x in enumerate(elts):
                    et = exp.items[i] if isinstance(exp, TupleT) and len(exp.items) == len(elts) else None
                    items.append(self.expr(x, et))
                return ir.MakeTuple(tuple(items), TupleT(tuple(i.type for i in items)), span)
            case A.DictLit(keys, values, span):
                return self.dict_lit(keys, values, span, expected)
            case A.SetLit(elts, span):
                exp = self.subst.resolve(expected) if expected is not None else None
                et = exp.elem if isinstance(exp, SetT) else None
                items = self.homogeneous(elts, et, span)
                t = SetT(items[0].type)
                self.require_hashable(items[0].type, elts[0].span)
                return ir.MakeSet(tuple(items), t, span)
            case A.Comp():
                return self.comprehension(e, expected)
            case A.BinOp(op, left, right, span, op_span):
                l = self.expr(left)
                r = self.expr(right, l.type if op in "+-*/%" and self.subst.resolve(l.type) in (F32,) else None)
                return self.builtins.binop(op, l, r, span, op_span)
            case A.UnaryOp(op, operand, span):
                return self.builtins.unary(op, self.expr(operand, expected), span)
            case A.BoolOp(op, values, span):
                vals = [self.condition(v) for v in values]
                out = vals[-1]
                for v in reversed(vals[:-1]):
                    out = (ir.And if op == "and" else ir.Or)(v, out, BOOL, v.span.to(out.span))
                return out
            case A.Not(operand, span):
                return ir.Prim("bool.not", (self.condition(operand),), BOOL, span)
            case A.Compare(left, ops, comps, op_spans, span):
                operands = [self.expr(left)]
                prims = []
                for op, c, ospan in zip(ops, comps, op_spans):
                    rhs = self.expr(c)
                    if len(ops) == 1 and TensorT in (type(self.subst.resolve(operands[0].type)),
                                                     type(self.subst.resolve(rhs.type))):
                        return self.builtins.tensor.compare(op, operands[0], rhs, span)
                    lhs, rhs, prim = self.builtins.compare(op, operands[-1], rhs, ospan)
                    if len(ops) == 1 and prim in ("cmp.in", "cmp.notin") and isinstance(rhs, ir.Prim) \
                            and rhs.op == "range":  # `x in range(...)` reads the range, not its list
                        found = ir.Prim("range.contains", (lhs, *rhs.args), BOOL, span)
                        return found if prim == "cmp.in" else ir.Prim("bool.not", (found,), BOOL, span)
                    operands[-1] = lhs
                    operands.append(rhs)
                    prims.append(prim)
                return ir.Compare(tuple(operands), tuple(prims), BOOL, span)
            case A.IfExp(cond, then, orelse, span):
                c = self.condition(cond)
                a = self.expr(then, expected)
                b = self.expr(orelse, expected) if expected is not None else self.sibling(orelse, a.type)
                a, b, t = self.join(a, b, span)
                return ir.Cond(c, a, b, t, span)
            case A.Lambda(params, body, span):
                return self.lambda_(params, body, span, expected)
            case A.Call():
                return self.call(e, expected)
            case A.Attribute(value, attr, span, attr_span):
                return self.attribute(e)
            case A.Subscript(value, index, span):
                return self.builtins.subscript(self.expr(value), index, span)
            case A.Slice(lo, hi, step, span):
                raise self.err("E005", "a slice `a:b` can only appear inside brackets", span)
            case A.Hole(options, span):
                return self.hole(options, span, expected)
        raise self.err("E005", f"unsupported expression {type(e).__name__}", e.span)

    def homogeneous(self, elts, et, span) -> list:
        if not elts:
            return [ir.Const(None, et if et is not None else self.subst.fresh("elem"), span)]
        if et is not None and isinstance(self.subst.resolve(et), TVar):
            # an element type still to be inferred ({} then d[k] = [1, 2.5]) is no constraint yet
            items = self.homogeneous(elts, None, span)
            items[0] = self.coerce(items[0], et, elts[0].span)
            return items
        items = [self.expr(elts[0], et)]
        t = et if et is not None else items[0].type
        if et is not None:
            items[0] = self.coerce(items[0], et, elts[0].span)
        for x in elts[1:]:
            v = self.sibling(x, t) if et is None else self.expr(x, t)
            w = self.widen(t, v.type) if et is None else None
            stuck = ""
            if w is not None and not self.subst.unify(t, w):
                # [1, 2.5] or [[1], [2.5]]: widen the earlier items (literals; a list variable cannot be)
                try:
                    items, t = [self.coerce(i, w, i.span) for i in items], w
                except GliaError:
                    stuck = next((h for h in (self.by_reference_hint(i, w) for i in items) if h), "")
            try:
                items.append(self.coerce(v, t, x.span))
            except GliaError:
                raise self.err("E201", f"all elements must have one type: expected {self.show(t)}, "
                               f"found {self.show(v.type)}{stuck}", x.span) from None
        return items

    def sibling(self, x, t) -> ir.Expr:
        """A later element of a literal whose type so far is `t`, from the earlier ones: a nested literal
        is checked on its own first where `t` holds an int, so that [[1], [2.5]] can widen to floats."""
        if isinstance(x, (A.ListLit, A.TupleLit, A.DictLit, A.SetLit)) and INT in held([self.subst.zonk(t)], {}):
            try:
                return self.expr(x)
            except GliaError:
                pass
        return self.expr(x, t)

    def widen(self, a, b):
        """The type of a literal mixing `a` and `b` where one holds an int and the other a float in the
        same place (`[1]` and `[2.5]`: list[float]); None if they differ otherwise."""
        a, b = self.subst.resolve(a), self.subst.resolve(b)
        if a == INT and b in (FLOAT, F32) or b == INT and a in (FLOAT, F32):
            return b if a == INT else a
        match a, b:
            case ListT(x), ListT(y):
                w = self.widen(x, y)
                return None if w is None else ListT(w)
            case SetT(x), SetT(y):
                w = self.widen(x, y)
                return None if w is None else SetT(w)
            case DictT(k1, v1), DictT(k2, v2):
                k, v = self.widen(k1, k2), self.widen(v1, v2)
                return None if k is None or v is None else DictT(k, v)
            case TupleT(xs), TupleT(ys) if len(xs) == len(ys):
                ws = tuple(self.widen(x, y) for x, y in zip(xs, ys))
                return None if None in ws else TupleT(ws)
        return a if self.subst.unify(a, b) else None

    def list_lit(self, elts, span, expected) -> ir.Expr:
        exp = self.subst.resolve(expected) if expected is not None else None
        et = exp.elem if isinstance(exp, ListT) else None
        if not elts:
            return ir.MakeList((), ListT(et if et is not None else self.subst.fresh("elem")), span)
        items = self.homogeneous(elts, et, span)
        return ir.MakeList(tuple(items), ListT(et if et is not None else items[0].type), span)

    def dict_lit(self, keys, values, span, expected) -> ir.Expr:
        exp = self.subst.resolve(expected) if expected is not None else None
        kt = exp.key if isinstance(exp, DictT) else None
        vt = exp.val if isinstance(exp, DictT) else None
        if not keys:
            kt = kt if kt is not None else self.subst.fresh("key")
            self.require_hashable(kt, span)
            return ir.MakeDict((), (), DictT(kt, vt if vt is not None else self.subst.fresh("value")), span)
        ks = self.homogeneous(keys, kt, span)
        vs = self.homogeneous(values, vt, span)
        self.require_hashable(ks[0].type, keys[0].span)
        return ir.MakeDict(tuple(ks), tuple(vs), DictT(ks[0].type if kt is None else kt,
                                                        vs[0].type if vt is None else vt), span)

    def name(self, name: str, span: Span, expected=None) -> ir.Expr:
        slot = self.scope.lookup(name) if self.scope else None
        if slot is not None:
            if name not in self.assigned and name in self.local_names and not name.startswith("$"):
                if name in self.global_nodes or name in self.sigs:
                    raise self.err("E104", f"'{name}' is assigned in this function, so it is a local here, and it is "
                                   "used before that assignment (globals are read-only in functions)", span)
                raise self.err("E104", f"'{name}' is used before it is assigned (it is assigned only on some "
                               "paths before this point, e.g. inside a loop or one branch of an if)", span)
            return ir.Local(slot, name, self.scope.slot_types[slot], span)
        if self.scope is not None and self.scope.parent is not None:
            captured = self.capture(name, span)
            if captured is not None:
                return captured
        if name in self.global_nodes:
            if name not in self.globals_done:
                if self.scope is not None and self.scope.parent is None and not self.scope.slot_names \
                        and self.scope.ret == NONE and not self.local_names:
                    pass
                if name not in self.global_types:
                    raise self.err("E104", f"global '{name}' is used before its definition", span)
            return ir.Global(name, self.global_types[name], span)
        if name in self.sigs:
            self.use_function(name)
            return ir.FuncRef(name, self.instantiate(self.sigs[name], span), span)
        if name in self.struct_nodes:
            raise self.err("E204", f"struct {name} is not a value; build one with {name}(...)", span)
        if name in ("pi", "e", "inf", "nan", "tau"):
            return self.builtins.math_constant(name, span, span)
        builtin = self.builtins.as_value(name, span, expected)
        if builtin is not None:
            return builtin
        if name in NOT_GLIA:  # `lambda: (yield)`, `x = yield`: Python's keyword, not a missing name
            raise self.err("E005", not_glia(name), span)
        cands = list(self.sigs) + list(self.global_nodes) + list(self.builtins.reserved)
        if self.scope:
            for d in self.scope.names:
                cands += [n for n in d if not n.startswith("$")]
        raise self.err("E101", f"undefined name '{name}'{self.suggest(name, cands)}", span)

    def capture(self, name: str, span: Span) -> ir.Expr | None:
        """A lambda body reading a local of an enclosing scope: copy it in when the lambda is made."""
        scope = self.scope
        outer = scope.parent
        saved = self.scope
        self.scope = outer
        try:
            slot = outer.lookup(name)
            if slot is None and outer.parent is not None:
                v = self.capture(name, span)
            elif slot is not None:
                v = self.name(name, span)
            else:
                v = None
        finally:
            self.scope = saved
        if v is None or not isinstance(v, ir.Local):
            return v
        inner = scope.new_slot(name, v.type)
        scope.names[0][name] = inner
        scope.captures.append((inner, v))
        return ir.Local(inner, name, v.type, span)

    def lambda_(self, params, body, span, expected) -> ir.Expr:
        exp = self.subst.resolve(expected) if expected is not None else None
        if isinstance(exp, FnT) and len(exp.params) != len(params):
            raise self.err("E202", f"expected a function of {len(exp.params)} argument"
                           f"{'s' if len(exp.params) != 1 else ''} here, but this lambda takes {len(params)}", span)
        ptypes = list(exp.params) if isinstance(exp, FnT) else [self.subst.fresh(p) for p in params]
        outer = self.scope
        inner = Scope(parent=outer, ret=None, type_params=outer.type_params if outer else (),
                      dims=outer.dims if outer else frozenset())
        saved = (self.scope, self.assigned, self.local_names, self.loop_depth)
        self.scope = inner
        self.assigned = set(params)
        self.local_names = set(params)
        self.loop_depth = 0
        # parameters first; captures are appended as they are found and then moved before them
        for p, t in zip(params, ptypes):
            inner.names[0][p] = inner.new_slot(p, t)
        try:
            b = self.expr(body, exp.ret if isinstance(exp, FnT) else None)
            if isinstance(exp, FnT):
                b = self.coerce(b, exp.ret, body.span)
        finally:
            self.scope, self.assigned, self.local_names, self.loop_depth = saved
        t = FnT(tuple(ptypes), b.type)
        return ir.Lambda(tuple(inner.captures), len(params), b, len(inner.slot_names),
                         tuple(inner.slot_names), t, span,)

    def comprehension(self, c: A.Comp, expected) -> ir.Expr:
        exp = self.subst.resolve(expected) if expected is not None else None
        self.scope.names.append({})
        saved_assigned = set(self.assigned)
        try:
            clauses = []
            for cl in c.clauses:
                if isinstance(cl, A.CompFor):
                    if isinstance(cl.iter, A.Call) and isinstance(cl.iter.func, A.Name) and cl.iter.func.id == "range" \
                            and self.scope.lookup("range") is None:
                        it = self.builtins.call_builtin("range", cl.iter, None)
                    else:
                        it = self.expr(cl.iter)
                    elem, kind = self.builtins.iteration(it, cl.iter.span)
                    for name, nspan in target_names(cl.target):
                        self.scope.names[-1][name] = self.scope.new_slot(name, self.subst.fresh(name))
                    clauses.append(ir.CompFor(self.store_target(cl.target, elem), it, kind))
                else:
                    clauses.append(ir.CompIf(self.condition(cl.cond)))
            if c.kind == "list":
                elt = self.expr(c.elt, exp.elem if isinstance(exp, ListT) else None)
                t = ListT(elt.type)
                key = None
            elif c.kind == "set":
                elt = self.expr(c.elt, exp.elem if isinstance(exp, SetT) else None)
                self.require_hashable(elt.type, c.elt.span)
                t = SetT(elt.type)
                key = None
            else:
                key = self.expr(c.key, exp.key if isinstance(exp, DictT) else None)
                elt = self.expr(c.elt, exp.val if isinstance(exp, DictT) else None)
                self.require_hashable(key.type, c.key.span)
                t = DictT(key.type, elt.type)
        finally:
            self.scope.names.pop()
            self.assigned = saved_assigned
        return ir.Comprehension(c.kind, elt, key, tuple(clauses), t, c.span)

    def hole(self, options, span, expected) -> ir.Expr:
        t = expected if expected is not None else self.subst.fresh("hole")
        if isinstance(self.subst.resolve(t), TVar) and not any(var == t for var, _, _ in self.hole_vars):
            self.hole_vars.append((t, None, span))
        opts = []
        for kw in options:
            if any(kw.name == name for name, _ in opts):
                raise self.err("E103", f"hole option '{kw.name}' given twice", kw.span)
            if kw.name in ("size", "depth"):
                if not isinstance(kw.value, A.IntLit) or kw.value.value <= 0:
                    raise self.err("E201", f"hole option '{kw.name}' takes a positive integer", kw.value.span)
                if kw.name == "depth" and kw.value.value > MAX_HOLE_DEPTH:  # (the grammar has a level per unit)
                    raise self.err("E201", f"hole option 'depth' takes an integer from 1 to {MAX_HOLE_DEPTH}",
                                   kw.value.span)
                opts.append((kw.name, kw.value.value))
            elif kw.name == "using":
                if not isinstance(kw.value, A.ListLit) or not all(isinstance(x, A.Name) for x in kw.value.elts):
                    raise self.err("E201", "hole option 'using' takes a list of names, e.g. using=[map, filter]",
                                   kw.value.span)
                if not kw.value.elts:  # (it was taken as no restriction: every component)
                    raise self.err("E201", "hole option 'using' names no component: name at least one, e.g. "
                                           "using=[map, filter], or leave it out for every component", kw.value.span)
                for x in kw.value.elts:
                    if x.id not in self.sigs and x.id not in self.builtins.reserved and x.id not in ("add", "sub", "mul"):
                        raise self.err("E101", f"unknown component '{x.id}'", x.span)
                opts.append(("using", tuple(x.id for x in kw.value.elts)))
            else:
                raise self.err("E103", f"unknown hole option '{kw.name}'; expected size, depth or using", kw.span)
        h = ir.Hole(len(self.holes), tuple(opts), t, span)
        self.holes.append(h)
        return h

    def attribute(self, e: A.Attribute) -> ir.Expr:
        if isinstance(e.value, A.Name) and e.value.id == "math" and self.scope.lookup("math") is None:
            return self.builtins.math_constant(e.attr, e.attr_span, e.span)
        obj = self.expr(e.value)
        t = self.subst.resolve(obj.type)
        if isinstance(t, StructT):
            info = self.structs[t.name]
            if e.attr not in info.fields:
                raise self.err("E103", f"struct {t.name} has no field '{e.attr}'{self.suggest(e.attr, info.fields)}"
                               f" (fields: {', '.join(info.fields)})", e.attr_span)
            i = info.fields.index(e.attr)
            return ir.GetField(obj, i, e.attr, info.types[i], e.span)
        if isinstance(t, TVar):
            raise self.unknown_type(f"the type of this value is not known yet, so '.{e.attr}' cannot be "
                                    "resolved; annotate it", e.value.span, t)
        if self.builtins.has_method(t, e.attr):
            raise self.err("E204", f"'{e.attr}' is a method of {self.show(t)}: call it, e.g. x.{e.attr}(...)",
                           e.attr_span)
        raise self.err("E103", f"{self.show(t)} has no field '{e.attr}'", e.attr_span)

    def call(self, c: A.Call, expected) -> ir.Expr:
        f = c.func
        if isinstance(f, A.Name) and self.scope.lookup(f.id) is None and not (
                self.scope.parent is not None and self._visible_in_outer(f.id)):
            name = f.id
            if name in self.sigs:
                return self.call_function(name, c, expected)
            if name in self.struct_nodes:
                return self.make_struct(name, c)
            if name == "choose":
                return self.choose(c, expected)
            if name in self.builtins.reserved and name not in self.global_nodes:
                return self.builtins.call_builtin(name, c, expected)
        if self.is_choose(f):  # choose(relu, tanh)(x): the arguments once, then the function chosen
            return self.choose_call(f, c, expected)
        if isinstance(f, A.Attribute):
            if isinstance(f.value, A.Name) and f.value.id == "math" and self.scope.lookup("math") is None:
                return self.builtins.call_builtin("math." + f.attr, c, expected, name_span=f.attr_span)
            obj = self.expr(f.value)
            t = self.subst.resolve(obj.type)
            if not (isinstance(t, StructT) and f.attr in self.structs[t.name].fields):
                return self.builtins.method(obj, f.attr, c, expected, f.attr_span)
            info = self.structs[t.name]  # `op.f(5)`: a call of the function value held in field f
            i = info.fields.index(f.attr)
            return self.call_value(ir.GetField(obj, i, f.attr, info.types[i], f.span), c)
        return self.call_value(self.expr(f), c)

    def call_value(self, fv: ir.Expr, c: A.Call) -> ir.Expr:
        """A call of a function value: a variable, a field, an element, a call's result."""
        f = c.func
        ft = self.subst.resolve(fv.type)
        if isinstance(ft, TVar):
            ft = FnT(tuple(self.subst.fresh() for _ in c.args), self.subst.fresh())
            self.subst.unify(fv.type, ft)
        if not isinstance(ft, FnT):
            raise self.err("E204", f"this is {a_or_an(self.show(ft))}, not a function; it cannot be called", f.span)
        if c.kwargs:
            raise self.err("E103", "function values take positional arguments only", c.kwargs[0].span)
        args = self.check_args(ft, c, "this function")
        return ir.CallValue(fv, args, ft.ret, c.span)

    def _visible_in_outer(self, name: str) -> bool:
        s = self.scope.parent
        while s is not None:
            if s.lookup(name) is not None:
                return True
            s = s.parent
        return False

    def check_args(self, ft: FnT, c: A.Call, what: str, names: tuple[str, ...] = ()) -> tuple:
        args = list(c.args)
        if c.kwargs:
            if not names:
                raise self.err("E103", f"{what} takes positional arguments only", c.kwargs[0].span)
            slots = [None] * len(ft.params)
            for i, a in enumerate(args):
                if i < len(slots):
                    slots[i] = a
            for kw in c.kwargs:
                if kw.name not in names:
                    raise self.err("E103", f"{what} has no parameter '{kw.name}'{self.suggest(kw.name, names)}",
                                   kw.span)
                i = names.index(kw.name)
                if slots[i] is not None:
                    raise self.err("E202", f"argument '{kw.name}' given twice", kw.span)
                slots[i] = kw.value
            missing = [n for n, s in zip(names, slots) if s is None]
            if missing:
                raise self.err("E202", f"{what} is missing argument '{missing[0]}'", c.span)
            args = slots
        if len(args) != len(ft.params):
            raise self.err("E202", f"{what} takes {len(ft.params)} argument{'s' if len(ft.params) != 1 else ''}, "
                           f"but {len(args)} {'were' if len(args) != 1 else 'was'} given", c.span)
        out: list = [None] * len(args)
        order = sorted(range(len(args)), key=lambda i: _lambda_like(args[i]))
        for i in order:
            a, t = args[i], ft.params[i]
            out[i] = self.coerce_arg(self.expr(a, t), t, a.span)
        return tuple(out)

    def coerce_arg(self, v, t, span, what: str = "argument"):
        """coerce, its E201 saying what `v` is: "argument type mismatch", "index type mismatch", ..."""
        try:
            return self.coerce(v, t, span)
        except GliaError as e:
            if e.diagnostic.code == "E201":
                raise self.err("E201", f"{what} " + e.diagnostic.message, span) from None
            raise

    def call_function(self, name: str, c: A.Call, expected) -> ir.Expr:
        sig = self.sigs[name]
        self.use_function(name)
        ft = self.instantiate(sig, c.span)
        # The expected type is not a constraint on the arguments, since the caller may still convert
        # the result (`y: float = first(ints)`, `float(first(strs))`); it fixes only what they leave
        # open (`xs: list[int] = empty()`). Where it mentions f32 it goes first, so that float literals
        # among the arguments adapt (`y: f32 = ident(1.5)`).
        early = expected is not None and F32 in _scalars(self.subst.zonk(expected))
        if early and isinstance(self.subst.resolve(ft.ret), TVar):
            self.subst.unify(ft.ret, expected)
        args = self.check_args(ft, c, f"{name}()", sig.params)
        if expected is not None and isinstance(self.subst.resolve(ft.ret), TVar):
            self.subst.unify(ft.ret, expected)
        return ir.CallFunc(name, args, ft.ret, c.span)

    def make_struct(self, name: str, c: A.Call) -> ir.Expr:
        info = self.structs[name]
        ft = FnT(info.types, StructT(name))
        args = self.check_args(ft, c, f"struct {name}", info.fields)
        return ir.MakeStruct(name, args, StructT(name), c.span)

    def choose(self, c: A.Call, expected) -> ir.Expr:
        if c.kwargs or not c.args:
            raise self.err("E202", "choose takes one or more options: choose(16, 32, 64)", c.span)
        opts = self.homogeneous(c.args, expected, c.span)
        ch = ir.Choose(len(self.choices), tuple(opts), opts[0].type if expected is None else expected, c.span)
        self.choices.append(ch)
        return ch

    def is_choose(self, e) -> bool:
        return (isinstance(e, A.Call) and isinstance(e.func, A.Name) and e.func.id == "choose"
                and (self.scope is None or self.scope.lookup("choose") is None) and "choose" not in self.sigs)

    def choose_call(self, f: A.Call, c: A.Call, expected) -> ir.Expr:
        """`choose(relu, tanh)(x)`: a choice among functions (builtins too), called on arguments that
        are checked once; settling the choice replaces `choose(relu, tanh)` by `relu`."""
        if c.kwargs:
            raise self.err("E103", "a chosen function takes positional arguments only", c.kwargs[0].span)
        args = [self.expr(a) for a in c.args]
        ft = FnT(tuple(a.type for a in args), self.subst.fresh() if expected is None else expected)
        fv = self.choose(f, ft)
        return ir.CallValue(fv, tuple(args), ft.ret, c.span)

    def static_choice(self, e, value) -> object:
        """`choose(16, 32, 64)` where a static constant is needed (a layer's width, a kernel size):
        recorded as a choice, typed with its first option (what runs until search settles it; search
        checks every option in place). `value(option)` reads and checks one option."""
        if not self.is_choose(e) or e.kwargs or not e.args:
            return value(e)
        vals = [value(a) for a in e.args]
        kind = lambda v: {bool: BOOL, int: INT, float: FLOAT}.get(type(v), STR)  # noqa: E731
        opts = tuple(ir.Const(v, kind(v), a.span) for v, a in zip(vals, e.args))
        self.choices.append(ir.Choose(len(self.choices), opts, opts[0].type, e.span))
        return vals[0]


def _scalars(t) -> set:
    """The scalar types in `t` (f32 in list[(f32, int)], ...)."""
    out = {t} if isinstance(t, Scalar) else set()
    for child in children(t):
        out |= _scalars(child)
    return out


# ---- syntactic helpers ------------------------------------------------------------------------


def target_names(t):
    match t:
        case A.Name(name, span):
            yield name, span
        case A.TupleLit(elts) | A.ListLit(elts):
            for e in elts:
                yield from target_names(e)


def assigned_names(stmts):
    """Names bound by assignment or for-loops anywhere in a body (not inside comprehensions)."""
    for s in stmts:
        match s:
            case A.Assign(targets):
                for t in targets:
                    yield from target_names(t)
            case A.AnnAssign(target):
                yield target.id, target.span
            case A.AugAssign(A.Name() as t):
                yield t.id, t.span
            case A.For(target, _, body):
                yield from target_names(target)
                yield from assigned_names(body)
            case A.If(_, body, orelse):
                yield from assigned_names(body)
                yield from assigned_names(orelse)
            case A.While(_, body):
                yield from assigned_names(body)


def terminates(stmts) -> bool:
    """Does control never fall off the end of this block?"""
    if not stmts:
        return False
    last = stmts[-1]
    match last:
        case A.Return():
            return True
        case A.If(_, body, orelse):
            return terminates(body) and terminates(orelse)
        case A.While(A.BoolLit(True), body):
            return not any(isinstance(s, A.Break) for s in _shallow_breaks(body))
        case A.Assert(A.BoolLit(False)):
            return True
    return any(terminates([s]) for s in stmts[:-1] if isinstance(s, (A.Return,)))


def _shallow_breaks(stmts):
    for s in stmts:
        if isinstance(s, A.Break):
            yield s
        elif isinstance(s, A.If):
            yield from _shallow_breaks(s.body)
            yield from _shallow_breaks(s.orelse)


# ---- entry ------------------------------------------------------------------------------------


def _annotation_example(t) -> str:
    """An annotation like the one a value of the unsolved type `t` needs, for E205's message."""
    match t:
        case FnT():
            return "`f: fn(int) -> int = lambda x: x`"
        case DictT():
            return "`d: dict[str, int] = {}`"
        case SetT():
            return "`s: set[int] = set()`"
        case TupleT():
            return "`t: (int, list[str]) = (0, [])`"
    return "`xs: list[int] = []`"


def prelude_source() -> Source:
    text = resources.files("glia.compiler").joinpath("prelude.glia").read_text(encoding="utf-8")
    return Source("<prelude>", text)


# Deeper ASTs are refused (E005) rather than risk Python's recursion limit: checking an AST level
# takes up to 4 Python frames (a call's argument is checked through check_args and coerce), and the
# verifier and the IR passes recurse as well. A chain of one operator (`a + b + c`, `a and b and c`)
# counts as one level: the passes over it run on a big stack (stack.on_big_stack), and such a chain
# may have up to MAX_CHAIN terms.
MAX_NESTING = 150
MAX_CHAIN = 5000


def _too_deep(module: A.Module):
    """The first AST node nested deeper than MAX_NESTING, or heading a chain longer than MAX_CHAIN (an
    iterative walk), with the limit it passes; or None."""
    stack = [(module, 0, False)]
    while stack:
        node, depth, chained = stack.pop()
        if depth > MAX_NESTING:
            return node, MAX_NESTING
        if isinstance(node, A.BinOp) and not chained and _chain_length(node) > MAX_CHAIN:
            return node, MAX_CHAIN
        if isinstance(node, A.BoolOp) and len(node.values) > MAX_CHAIN:
            return node, MAX_CHAIN
        for name in _child_fields(type(node)):
            value = getattr(node, name)
            if isinstance(value, tuple):  # (the operands of one `and` chain are one level down)
                stack.extend((v, depth + 1, False) for v in value if _is_node(v))
            elif _is_node(value):
                link = _chains(node, name, value)
                stack.append((value, depth if link else depth + 1, link))
    return None


def _chains(node, name: str, value) -> bool:
    """Whether `value`, `node`'s field `name`, continues a chain of one binary operator: `a + b + c` is
    BinOp(BinOp(a, b), c)."""
    return name == "left" and isinstance(node, A.BinOp) and isinstance(value, A.BinOp) and value.op == node.op


def _chain_length(node: A.BinOp) -> int:
    n = 2
    while _chains(node, "left", node.left):
        node, n = node.left, n + 1
    return n


def _is_node(v) -> bool:
    return type(v).__module__ == A.__name__


_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(cls) -> tuple[str, ...]:
    names = _CHILD_FIELDS.get(cls)
    if names is None:
        names = _CHILD_FIELDS[cls] = tuple(f for f in cls.__dataclass_fields__ if not f.endswith("span"))
    return names


def check(module: A.Module, source: Source, prelude: tuple[A.Module, Source] | None = None) -> ir.Program:
    """Type-check a parsed module (with the prelude's functions available) and build the typed IR."""
    deep = _too_deep(module)
    if deep is not None:
        from .syntax import chain_too_long, nested_too_deeply

        node, limit = deep
        if limit == MAX_CHAIN:
            raise chain_too_long(node.span, node.op, MAX_CHAIN, source, STAGE)
        raise nested_too_deeply(node.span, MAX_NESTING, source, STAGE)
    # (on a big stack: a chain of one operator counts as one level above, however long it is)
    checker = Checker(module, source, prelude)
    program = on_big_stack(checker.check_program)
    if checker.builtins.tensor.sites:  # (a program with layers: a walk over it)
        from .params import param_dtype

        param_dtype(program)  # E201 for layers of f32 and of f64 in one program (one buffer): said by `glia check`
    return program


def _lambda_like(e) -> bool:
    """A lambda, or a choice between lambdas (`f if c else lambda x: ...`): an argument checked after the
    others, whose types bind the type parameters its parameters need."""
    if isinstance(e, A.IfExp):
        return _lambda_like(e.then) or _lambda_like(e.orelse)
    return isinstance(e, A.Lambda)


def _one_train_block_each(checker, items) -> list:
    """The train blocks; a second one for a function is E102 (glia train, prog.train and :train take a
    function's first block, so a second one would be ignored, silently)."""
    first: dict[str, A.TrainDef] = {}
    for it in items:
        if isinstance(it, A.TrainDef):
            if it.func in first:
                raise checker.err("E102", f"a second train block for '{it.func}' (the first is at line "
                                  f"{first[it.func].span.line}); a function has one", it.span)
            first[it.func] = it
    return list(first.values())


def _ints_for_floats(have, want):
    """True if type `have` is `want` with an int in some places where `want` has a float (or f32), False
    if they are equal, None if they differ otherwise."""
    if have == want:
        return False
    if have == INT and want in (FLOAT, F32):
        return True
    parts = None
    match have, want:
        case (ListT(x), ListT(y)) | (SetT(x), SetT(y)):
            parts = [(x, y)]
        case DictT(k1, v1), DictT(k2, v2):
            parts = [(k1, k2), (v1, v2)]
        case TupleT(xs), TupleT(ys) if len(xs) == len(ys):
            parts = list(zip(xs, ys))
    if parts is None:
        return None
    found = [_ints_for_floats(a, b) for a, b in parts]
    return None if None in found else any(found)


def _merge_examples(blocks) -> tuple:
    """One ir.Examples per function: several `examples f:` blocks add up, in source order (as
    glia.examples(f, ...) calls do), so that search and its check see every one of them."""
    merged: dict[str, ir.Examples] = {}
    for b in blocks:
        first = merged.get(b.func)
        merged[b.func] = b if first is None else ir.Examples(b.func, first.examples + b.examples, first.span)
    return tuple(merged.values())
