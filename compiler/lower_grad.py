"""Compiled gradients, CPU backend: `grad(f)` and `value_and_grad(f)` as reverse-mode code generated
from the typed IR, with a tape of the values the reverse sweep needs.

For `f` and every function it calls on the gradient path, two Numba functions are generated:

    ad_fwd_f(args, globals, tapes, depth) -> value
        `f`'s own code, which also pushes onto the tapes (growable arrays of ints and bools and of
        floats, whose heights travel with them; a typed List per tensor dtype and rank, and per list
        type) what the reverse sweep needs: the old value of a local before each
        assignment, which branch each `if` took, how many times each loop ran, where a block was left
        by `break`/`continue`/`return`, and at each `return` the final value of every local
    ad_bwd_f(globals, tapes, gout, gout_live, cotangents so far, depth) -> f's parameters' cotangents
        pops the final state, then walks f's statements backwards: each assignment `v = e` restores
        the old `v` and sends v's cotangent through `e`, one adjoint rule per primitive
        (adjoint_rules.py), with the tensors `e` computed on its way (kept on the tape by the forward
        sweep) and the numbers computed again; each loop runs its body's reverse as many times as the
        forward ran it; each branch reverses the branch that ran.

A call of a function on the gradient path is its `ad_fwd_` in the forward sweep (its value held in a
temporary, pushed after it) and its `ad_bwd_` at the same place of the reverse sweep ("split" reversal:
the callee's tape lies between the caller's entries, so recursion costs one forward and one reverse
pass). Every other call (a condition, an int) is the ordinary compiled function.

Cotangents accumulate in the order the tape's do (compiler/autodiff.py): an expression's arguments
right to left after the leaves' own, statements backwards, and a cotangent nothing reached is not
propagated (a flag per scalar, an empty array for a tensor), so that a gradient computes exactly
the tape's sums (except for one value under two names: docs/backends.md, "Gradients"). What is not
compiled yet (other containers on the gradient path, primitives without an adjoint rule, mutual
recursion) raises Unsupported, and the function using `grad` runs in the interpreter with a note
saying why.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass, field

from . import ir
from .lower_numba import _ATOM, _PLAIN, FunctionLowerer, Unsupported, mangle_func, mangle_local
from .lower_tensor import np_dtype, typed
from .primitives import PRIMS
from .tensor_builtins import carries, parts
from .types import BOOL, F32, FLOAT, INT, NONE, STR, DictT, FnT, ListT, RecordT, StructT, TensorT, TParam, TupleT, TVar

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # a name in a generated line

ACTIVE = (FLOAT, F32)
_LIST_REDUCTIONS = ("float.sum", "f32.sum", "seq.mean")  # sum(xs), mean(xs): read every element
PASSIVE = (INT, BOOL)


def active(t) -> bool:
    return t in ACTIVE or isinstance(t, TensorT)


def contains_exit(s, loops: int = 0) -> bool:
    """Whether statement `s` can leave the block it is in early (a `return`, or a `break`/`continue`
    not inside a loop of its own)."""
    match s:
        case ir.Return():
            return True
        case ir.Break() | ir.Continue():
            return loops == 0
        case ir.If(then=then, orelse=orelse):
            return any(contains_exit(x, loops) for x in then + orelse)
        case ir.While(body=body) | ir.ForRange(body=body) | ir.For(body=body):
            return any(contains_exit(x, loops + 1) for x in body)
    return False


def needs_exit(stmts) -> bool:
    """Whether a block must record where it was left (a jump before its last statement)."""
    return any(contains_exit(s) for s in stmts[:-1]) or (
        bool(stmts) and not isinstance(stmts[-1], (ir.Return, ir.Break, ir.Continue)) and contains_exit(stmts[-1]))


@dataclass
class Plan:
    """The functions of one `grad(f)`: instances on the gradient path, and the tapes they share."""

    root: str
    fns: dict[str, ir.Function] = field(default_factory=dict)  # callees before callers
    tapes: dict[tuple, str] = field(default_factory=dict)  # (dtype, rank) or ("list", ...) -> tape name
    active: dict[str, frozenset[int]] = field(default_factory=dict)  # instance -> the slots a gradient reaches
    consts: dict[str, frozenset[int]] = field(default_factory=dict)  # instance -> its constant containers
    edges: dict[str, set[str]] = field(default_factory=dict)  # instance -> the instances it calls on the path
    names: dict[str, str] = field(default_factory=dict)  # instance -> suffix(instance)
    cyclic: set[str] = field(default_factory=set)  # instances in a cycle of calls with another
    inline: set[str] = field(default_factory=set)  # instances whose sweeps Numba inlines into their callers'

    def suffix(self, inst: str) -> str:
        """Part of the names of inst's sweeps: the same function in two plans differs in type where the
        tapes differ, and in code where its activity, or that of a function it calls, differs (another
        plan, another first argument)."""
        if inst not in self.names:
            out = "".join("_" + "_".join(str(x) if str(x).isidentifier() or isinstance(x, int)
                                         else "d" + hashlib.sha256(str(x).encode()).hexdigest()[:8] for x in k)
                          for k in self.tapes)
            act = sorted((j, sorted(self.active[j])) for j in reach(self.edges, inst) | {inst})
            self.names[inst] = out + "_a" + hashlib.sha256(str(act).encode()).hexdigest()[:8]
        return self.names[inst]

    def fwd(self, inst: str) -> str:
        return f"ad_fwd{self.suffix(inst)}_{mangle_func(inst)}"

    def bwd(self, inst: str) -> str:
        return f"ad_bwd{self.suffix(inst)}_{mangle_func(inst)}"


class GradModule:
    """Generates the gradient functions of a module (one set per differentiated function)."""

    def __init__(self, mod):
        self.m = mod
        self.done: dict[str, str] = {}  # instance/which -> entry name
        self.generated: set[str] = set()  # the forward sweeps generated (with their reverse ones)
        self.grown: dict[str, frozenset[int]] = {}  # instance -> the list parameters it appends to (grows)

    def entry(self, inst: str, which: str, caller: FunctionLowerer, span) -> str:
        """The name of the generated `grad`/`value_and_grad` entry for instance `inst`."""
        key = f"{inst}/{which}"
        if key in self.done:
            return self.done[key]
        f = self.m.instances[inst]
        plan = self.plan(inst) if f.params else None
        if plan is None or not wrt(plan.fns[inst].type.params[0]):
            caller.unsupported(f"grad of '{f.name}' with respect to a {f.type.params[0] if f.params else 'missing'} "
                               "argument (compiled gradients take a float, an f32, a tensor, a tuple or struct of "
                               "these, or a list of these)", span)
        if self.changes(inst):  # (the reverse sweep undoes them: the entry would have to redo them)
            caller.unsupported(f"grad of '{f.name}', which changes a list, table or dict it is passed (the "
                               "interpreter keeps the changes, as a call does)", span)
        texts = []
        for name in plan.fns:  # callees first (explicit signatures compile eagerly)
            if plan.fwd(name) not in self.generated:
                texts.append(GradFunction(self, plan, name, forward=True).lower())
                texts.append(GradFunction(self, plan, name, forward=False).lower())
        texts.append(self.entry_text(plan, inst, which))
        self.generated.update(plan.fwd(name) for name in plan.fns)
        self.m.funcs.extend(texts)
        self.done[key] = f"ad_{which}{plan.suffix(inst)}_{mangle_func(inst)}"
        return self.done[key]

    # ---- the plan ------------------------------------------------------------------------------
    def plan(self, root: str) -> Plan:
        """The functions a gradient of `root` (with respect to its first argument) goes through, and in
        each the slots it reaches (activity): a parameter given a value that depends on the first
        argument, and what is computed from one. The other values are constants to the gradient, as
        they are on the tape: containers of floats among them are read by reference, as data."""
        plan = Plan(root)
        structs = self.m.p.structs
        seen: dict[str, ir.Function] = {}
        params: dict[str, set[int]] = {root: {0}}  # instance -> its parameters a gradient reaches
        act: dict[str, set[int]] = {}
        todo = [root]
        while todo:  # to a fixed point: a call site found later may give a function more active parameters
            inst = todo.pop()
            f, a = seen[inst], act[inst] = self.prepare(inst, params[inst])
            for node in ir.walk(f.body):
                if isinstance(node, ir.CallFunc) and active_call(node, structs, a):
                    c = self.m.call_instance(node)
                    ps = {i for i, x in enumerate(node.args) if carries(x.type, structs) and reads(x, a)}
                    if c not in params or not ps <= params[c]:
                        params[c] = params.get(c, set()) | ps
                        todo.append(c)
        order: list[str] = []
        edges: dict[str, set[str]] = {}

        def visit(inst):  # post-order: callees before their callers
            if inst in edges:
                return
            edges[inst] = set()
            for node in ir.walk(seen[inst].body):
                if isinstance(node, ir.CallFunc) and active_call(node, structs, act[inst]):
                    c = self.m.call_instance(node)
                    edges[inst].add(c)
                    visit(c)
            order.append(inst)
        visit(root)
        plan.fns = {inst: seen[inst] for inst in order}
        plan.edges = edges
        plan.active = {inst: frozenset(act[inst]) for inst in order}
        plan.consts = {inst: frozenset(i for i, t in enumerate(f.slot_types) if constant(t, structs)
                                       and i not in act[inst] and (i < len(f.params) or i in _slots(f)))
                       for inst, f in plan.fns.items()}  # (not a local the sweeps' desugaring left unused)
        for inst, f in plan.fns.items():
            grown = {id(n): gs for n in ir.walk(f.body) if isinstance(n, ir.CallFunc)
                     for gs in [self.grows(self.m.call_instance(n))] if gs}
            check_function(f, structs, act[inst], plan.consts[inst], grown)
        # mutual recursion: each would have to be compiled before the other, so these compile lazily
        plan.cyclic = {a for a, cs in edges.items() if any(c != a and a in reach(edges, c) for c in cs)}
        # A function called at one place on the path, not recursively, has its sweeps inlined into its
        # caller's (as lower_numba inlines its value): a call of a sweep passes and returns the tapes
        # and the cotangents, and a small callee (a dynamic program's softmin, once per cell) cost
        # about a quarter of the gradient's time in calls
        sites: dict[str, int] = {}
        for inst, f in plan.fns.items():
            for node in ir.walk(f.body):
                if isinstance(node, ir.CallFunc) and active_call(node, structs, act[inst]):
                    c = self.m.call_instance(node)
                    sites[c] = sites.get(c, 0) + 1
        # (not one with a dict of floats or tensors: inlined into a loop, its reverse sweep read the
        # dict it pops off the tape as it was before the restore of a key, a wrong gradient (Numba
        # 0.68; reading the dict by index before popping it was right too); called, it is right:
        # DICTS' `looped`)
        plan.inline = {c for c, k in sites.items() if k == 1 and c != root and c not in plan.cyclic
                       and c not in edges[c] and not any(dict_mem(t) for t in plan.fns[c].slot_types)}
        kinds = []  # what the tapes hold: every local's type, a call's result, a loop's sequence
        for f in plan.fns.values():
            types_ = list(f.slot_types) + [n.type for n in ir.walk(f.body) if isinstance(n, (ir.CallFunc, ir.Prim))] \
                + [n.iter.type for n in ir.walk(f.body) if isinstance(n, ir.For)]
            types_ += [STR for t in types_ if dict_mem(t) and t.key == STR]  # (a dict's keys are kept)
            for t in types_:
                for u in leaves(t):
                    kind = (u.dtype, len(u.shape)) if isinstance(u, TensorT) else \
                        list_kind(u) if memory(u) or table(u) else \
                        ("data", u) if data(u, structs) or constant(u, structs) else None
                    if kind is not None and kind not in kinds:
                        kinds.append(kind)
        plan.tapes = {k: f"Ta{i}" for i, k in enumerate(sorted(kinds, key=str))}  # (plans with the same
        # kinds share the sweeps of the functions they share)
        self.check_unchanged(plan)
        return plan

    def prepare(self, inst: str, params: set[int]) -> tuple[ir.Function, set[int]]:
        """The instance `inst` as its sweeps see it (conditional calls lifted into `if`s, records as
        tuples, the list comprehensions the gradient reaches written as loops: desugar) and
        its active slots when the gradient reaches its parameters `params`. Writing a comprehension as
        a loop makes its list active (memory), which may reach another: to a fixed point."""
        f = comprehensions(self.m.instances[inst])
        if f.type.ret == NONE and self.grows(inst):  # called for what it appends: see void_calls
            f = returns_zero(f)
        spans: frozenset = frozenset()
        voids: frozenset = frozenset()
        while True:
            g = void_calls(records_as_tuples(before_calls(desugar(f, spans)), self.m.p), voids)
            grown = {id(n): gs for n in ir.walk(g.body) if isinstance(n, ir.CallFunc)
                     for gs in [self.grows(self.m.call_instance(n))] if gs}
            a = active_slots(g, params, grown)
            more = {n.span for n in ir.walk(g.body) if _loops(n) and n.span not in spans and reads(n, a)}
            more |= {n.value.span for n in ir.walk(g.body) if isinstance(n, ir.Assign) and isinstance(
                n.target, ir.StoreLocal) and n.target.slot in a and _loops(n.value) and n.value.span not in spans}
            calls = {n.expr.span for n in ir.walk(g.body) if isinstance(n, ir.ExprStmt) and id(n.expr) in grown
                     and n.expr.type == NONE and reads(n.expr.args, a)}
            if not (more or calls):
                self.check_growth(g, grown, a)
                return g, a
            spans, voids = spans | more, voids | calls

    def changes(self, inst: str, memo: dict | None = None) -> frozenset[int]:
        """The positions of the lists, tables and dicts `inst` is passed that it changes, itself or
        through a function it passes them to: those it grows (grows) and lists whose elements it
        replaces (`xs[i] = v`)."""
        memo = {} if memo is None else memo
        if inst not in memo:
            memo[inst] = frozenset()  # (a recursive call changes nothing its body does not)
            f = self.m.instances[inst]
            out = set(self.grows(inst))
            for n in ir.walk(f.body):
                match n:
                    case ir.Assign(target=ir.StoreIndex(container=ir.Local(slot=slot, type=t), op="list.setitem")) \
                            if slot < len(f.params) and memory(t):
                        out.add(slot)
                    case ir.CallFunc(args=args):
                        gs = self.changes(self.m.call_instance(n), memo)
                        out.update(a.slot for j, a in enumerate(args) if j in gs and isinstance(a, ir.Local)
                                   and a.slot < len(f.params))
            memo[inst] = frozenset(out)
        return memo[inst]

    def grows(self, inst: str) -> frozenset[int]:
        """The positions of the list parameters `inst` appends to, itself or through a function it
        passes them to (`def encode(x: float, hs: list[float]): hs.append(...)`), and of the table
        and dict parameters whose elements it replaces (`d[i][j] = v`, `env[k] = v`): a value it is
        passed may reach them."""
        memo = self.grown
        if inst not in memo:
            memo[inst] = frozenset()  # (a recursive call appends nothing its body does not)
            f = self.m.instances[inst]
            out = set()
            for n in ir.walk(f.body):
                match n:
                    case ir.Prim(op="list.append", args=(ir.Local(slot=slot, type=ListT(elem) as t), _)) \
                            if slot < len(f.params) and (memory(t) or isinstance(elem, StructT)):
                        out.add(slot)  # (a list of records is memory once written as tuples)
                    case ir.Assign(target=ir.StoreIndex(container=ir.Prim(
                            op="list.getitem", args=(ir.Local(slot=slot, type=t), _)))) \
                            if slot < len(f.params) and table(t):
                        out.add(slot)
                    case ir.Assign(target=ir.StoreIndex(container=ir.Local(slot=slot, type=t), op="dict.setitem")) \
                            if slot < len(f.params) and dict_mem(t):
                        out.add(slot)
                    case ir.CallFunc(args=args):
                        gs = self.grows(self.m.call_instance(n))
                        out.update(a.slot for j, a in enumerate(args) if j in gs and isinstance(a, ir.Local)
                                   and a.slot < len(f.params))
            memo[inst] = frozenset(out)
        return memo[inst]

    def check_growth(self, f: ir.Function, grown: dict, act: set[int]):
        """A call that appends to a list it is passed (`encode(x, hs)`) is compiled when that list is a
        local or parameter the gradient reaches and no loop runs over it: its reverse sweep takes the
        appends back, so it must have the list itself and the list's cotangents."""
        def refuse(why, span):
            raise Unsupported(f"the gradient through '{f.name}': {why} (compiled: a list local or parameter passed "
                              "to a function appending to it, not while a loop runs over it)", span, f.source_name)
        for n in ir.walk(f.body):
            if isinstance(n, ir.CallFunc) and id(n) in grown and reads(n.args, act):
                for j in grown[id(n)]:
                    a = n.args[j]
                    if not isinstance(a, ir.Local):
                        refuse(f"a list that is not a local is passed to '{n.name}', which appends to it", a.span)
            if isinstance(n, ir.For) and isinstance(n.iter, ir.Local):
                for m in ir.walk(n.body):
                    if isinstance(m, ir.CallFunc) and any(isinstance(m.args[j], ir.Local) and m.args[j].slot
                                                          == n.iter.slot for j in grown.get(id(m), ())):
                        refuse(f"its list '{n.iter.name}' grows (a call of '{m.name}' appends to it) while a loop "
                               "runs over it", m.span)

    def check_unchanged(self, plan: Plan):
        """The containers that hold no float which the gradient path reads (its locals of these types,
        the globals it reads, what it passes to other functions) must stay as they are while it runs,
        as the tape holds them by reference: no function it calls, on the gradient path or not, may
        change a container of a type they could hold (lower_numba.Reach: judged by type)."""
        structs = self.m.p.structs
        held = [t for inst, f in plan.fns.items() for i, t in enumerate(f.slot_types)
                if data(t, structs) or i in plan.consts[inst]]
        for inst, f in plan.fns.items():  # (a global list of floats or tensors is read as constants: unchanged too)
            held += [n.type for n in ir.walk(f.body) if isinstance(n, ir.Global)
                     and (data(n.type, structs) or memory(n.type))]
            held += [a.type for n in ir.walk(f.body) if isinstance(n, ir.CallFunc) for a in n.args
                     if data(a.type, structs) or constant(a.type, structs) and not reads(a, plan.active[inst])]
        danger = self.m.reach.closure(held) or set()
        if not danger:
            return
        seen, todo = set(), list(plan.fns)
        while todo:
            inst = todo.pop()
            if inst in seen:
                continue
            seen.add(inst)
            g = self.m.instances[inst]
            for n in ir.walk(g.body):
                c = changed_container(n)
                if inst in plan.fns and (isinstance(c, ir.Local) and (memory(c.type) or table(c.type)) or _row(c)):
                    continue  # its own list, appended to (check_memory), or table (check_table)
                if c is not None and c.type in danger:
                    raise Unsupported(f"the gradient through a call of '{g.name}', which changes a {c.type} in place "
                                      "(the gradient reads containers of that type)", n.span, g.source_name)
            todo.extend(self.m.callees(inst))

    def tape_args(self, plan: Plan) -> str:
        return "ti, tf, " + "".join(n + ", " for n in plan.tapes.values())

    def tape_types(self, plan: Plan) -> list[str]:
        out = [self.m.nbtype(ListT(INT)), self.m.nbtype(ListT(FLOAT))]
        for k in plan.tapes:
            out.append(self.m.type_const(f"types.ListType({self.tape_item(k)})"))
        return out

    def elem_bar(self, elem) -> str:
        """The Numba type of an element's cotangent in a list's (elem_live; a tuple's: one per item,
        a boolean for an int or a bool item, which has none)."""
        if isinstance(elem, TensorT):
            return self.m.nbtype(elem)
        if isinstance(elem, TupleT):
            items = "".join((self.elem_bar(u) if active(u) else "types.boolean") + ", " for u in elem.items)
            return self.m.type_const(f"types.Tuple(({items}))")
        return self.m.type_const(f"types.Tuple(({self.m.nbtype(elem)}, types.boolean))")

    def bar_list(self, elem) -> str:
        """The Numba type of a list's element cotangents: for floats, an ArrayList of (value, reached)
        records (a load or a store each, inlined: the reverse sweep of a dynamic program reads and writes
        one per cell), else a typed List of elem_bar."""
        if elem in ACTIVE:
            return self.m.nbtype(ListT(TupleT((elem, BOOL))))
        return self.m.type_const(f"types.ListType({self.elem_bar(elem)})")

    def bar_table(self, elem) -> str:
        """The Numba type of a table's element cotangents: a typed List of bar_list rows."""
        return self.m.type_const(f"types.ListType({self.bar_list(elem)})")

    def dead_list(self, bar: str, n: str, elem) -> list[str]:
        """Lines setting `bar` to `n` element cotangents (`len(xs)`: one per element of `xs`), none
        reached yet."""
        if elem in ACTIVE:
            return [f"{bar} = al.full({dead_elem(elem)}, {n}, {self.m.array_dtype(TupleT((elem, BOOL)))})"]
        return [f"{bar} = List.empty_list({self.elem_bar(elem)})", f"for _ in range({n}):",
                f"    {bar}.append({dead_elem(elem)})"]

    def tape_item(self, kind) -> str:
        """The Numba type of what a tape holds: tensors of a dtype and rank, lists of them, or values
        that hold no float."""
        if kind[0] == "data":
            return self.m.nbtype(kind[1])
        if kind[0] == "list":
            return self.m.nbtype(ListT(TensorT(kind[1], (1,) * kind[2]) if kind[2] != "n" else kind[1]))
        return self.m.nbtype(TensorT(kind[0], (1,) * kind[1]))

    @staticmethod
    def reached(bars: str, k: int, x: str, t) -> tuple[str, int]:
        """The gradient of the value `x` of type t whose cotangent is `bars[k]` in a reverse sweep's
        results (a float's followed by whether any reached it; a tensor's empty when none did), and the
        position after it."""
        if isinstance(t, TensorT):
            return f"({bars}[{k}] if {bars}[{k}].size == {x}.size else np.zeros_like({x}))", k + 1
        return f"({bars}[{k}] if {bars}[{k + 1}] else {typed('0.0', t)})", k + 2

    @staticmethod
    def zero(x: str, t) -> str:
        """The gradient nothing reached of the value `x` of type t (a float, an f32 or a tensor)."""
        return f"np.zeros_like({x})" if isinstance(t, TensorT) else typed("0.0", t)

    def entry_text(self, plan: Plan, inst: str, which: str) -> str:
        f = plan.fns[inst]
        params = [mangle_local(i, n) for i, n in enumerate(f.params)]
        gl = self.m.global_args(inst)
        x0 = params[0]
        lines = [f"@njit(cache={inst not in self.m.uncached}, inline=\"always\")", f"def ad_{which}{plan.suffix(inst)}_{mangle_func(inst)}({''.join(p + ', ' for p in params)}{gl}depth):",
                 f"    # {which}({f.name})",
                 "    ti = al.new(np.int64)",  # the tapes of ints and bools, and of floats (ArrayLists:
                 "    tf = al.new(np.float64)"]  # passed by reference, grown in place)
        for kind, name in plan.tapes.items():
            lines.append(f"    {name} = List.empty_list({self.tape_item(kind)})")
        tapes = self.tape_args(plan)
        lines.append(f"    value = {plan.fwd(inst)}({''.join(p + ', ' for p in params)}{gl}{tapes}depth)")
        dead = []
        for i, t in enumerate(f.type.params):
            if memory(t) and i in plan.active[inst]:  # a list: a cotangent per element, none reached yet
                lines += ["    " + line for line in self.dead_list(f"bl{i}", f"len({params[i]})", t.elem)]
                dead.append(f"bl{i}")
            for _, u in cotangents(t):
                dead += [GradFunction.dead(None, u)] + ([] if isinstance(u, TensorT) else ["np.bool_(False)"])
        lines.append(f"    bars = {plan.bwd(inst)}({gl}{tapes}{typed('1.0', f.type.ret)}, np.bool_(True), "
                     f"{''.join(d + ', ' for d in dead)}depth)")
        t0 = f.type.params[0]
        if active(t0):
            lines.append(f"    g = {self.reached('bars', 0, x0, t0)[0]}")
        elif memory(t0):  # a list: the cotangents of its elements, added into bl0, as a list of its type
            e = t0.elem
            if isinstance(e, TupleT):  # (wrt: every item a float, an f32 or a tensor)
                g = "(" + "".join(f"({v} if {live} else {self.zero(f'{x0}[k][{j}]', u)}), "
                                  for j, (u, (v, live)) in enumerate(zip(e.items, elem_parts("bl0[k]", e)))) + ")"
            else:
                g = f"({elem_value('bl0[k]', e)} if {elem_live('bl0[k]', e)} else {self.zero(f'{x0}[k]', e)})"
            lines += [f"    g = {self.m.empty_list(e)}", f"    for k in range(len(bl0)):",
                      f"        rt.list_append(g, {g})"]
        else:  # a tuple or record of floats, tensors and such tuples: the gradient of each item, as one tuple
            k = 0

            def tree(x, t):
                nonlocal k
                if pair(t):
                    return "(" + "".join(tree(f"{x}[{j}]", u) + ", " for j, u in enumerate(t.items)) + ")"
                g, k = self.reached("bars", k, x, t)
                return g
            lines.append(f"    g = {tree(x0, t0)}")
        lines.append("    return g" if which == "grad" else "    return (value, g)")
        return "\n".join(lines)


def wrt(t) -> bool:
    """What a compiled `grad` takes its gradient with respect to: a float, an f32 or a tensor, a tuple
    of these and such tuples (a struct of these and such structs is one after records_as_tuples), or a
    list of a float, an f32, a tensor or a tuple of these."""
    return active(t) or pair(t) and all(active(u) for u in leaves(t)) or \
        memory(t) and (not isinstance(t.elem, TupleT) or all(active(u) for u in t.elem.items))


def reach(edges, start) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        n = todo.pop()
        for c in edges.get(n, ()):
            if c not in seen:
                seen.add(c)
                todo.append(c)
    return seen


def first_assignments(f: ir.Function) -> set[int]:
    """The ids of the assignments that give a local of f its first value, outside loops: what the local
    held before (nothing: definite assignment) is never read, so the forward sweep need not keep it for
    the reverse sweep to restore. The first assignment in the text is the first run (the code holds no
    loop around it); an assignment in an `else` after one in the `then` is not counted, to keep it simple."""
    seen, out = set(range(len(f.params))), set()

    def block(stmts, loop):
        for s in stmts:
            if isinstance(s, ir.Assign) and isinstance(s.target, ir.StoreLocal) and s.target.slot not in seen:
                seen.add(s.target.slot)
                if not loop:
                    out.add(id(s))
            for n in ir.walk(s) if not isinstance(s, (ir.If, ir.While, ir.For, ir.ForRange)) else ():
                if isinstance(n, ir.StoreLocal):
                    seen.add(n.slot)
            if isinstance(s, ir.If):
                block(s.then, loop)
                block(s.orelse, loop)
            elif isinstance(s, (ir.While, ir.For, ir.ForRange)):
                if isinstance(s, (ir.For, ir.ForRange)):
                    for n in ir.walk(s.target):
                        if isinstance(n, ir.StoreLocal):
                            seen.add(n.slot)
                block(s.body, True)
    block(f.body, False)
    return out


def carried_params(f: ir.Function) -> set[int]:
    """f's parameters with a cotangent (floats, tensors, tuples holding them) that it never assigns:
    their cotangents start from the caller's."""
    assigned = {n.slot for n in ir.walk(f.body) if isinstance(n, ir.StoreLocal)}
    return {i for i, t in enumerate(f.type.params) if cotangents(t) and i not in assigned}


def cotangents(t) -> list[tuple[str, object]]:
    """The cotangents a value of type t has, as (suffix of their names, type): one for a float or a
    tensor, one per float or tensor leaf for a tuple (`_0`, `_1`, `_2_0` for item 0 of item 2...), none
    otherwise."""
    if active(t):
        return [("", t)]
    if pair(t):
        return [(f"_{j}{s}", u) for j, item in enumerate(t.items) for s, u in cotangents(item)]
    return []


def flows(t) -> bool:
    """A value a gradient goes through: a float, an f32, a tensor, a tuple (pair) holding one, or a list
    of them (memory: a function may return one it made)."""
    return active(t) or memory(t) or (pair(t) and bool(cotangents(t)))


def active_call(node: ir.CallFunc, structs, act) -> bool:
    """A call on the gradient path: it returns a value a gradient goes through, and an argument reads
    a slot in `act` (the caller's active slots; a call taking only constants is the ordinary one)."""
    return flows(node.type) and any(carries(a.type, structs) and reads(a, act) for a in node.args)


def reads(e, act) -> bool:
    """Whether expression `e` reads a local whose slot is in `act`."""
    return any(isinstance(n, ir.Local) and n.slot in act for n in ir.walk(e))


def active_slots(f: ir.Function, params: set[int], grown: dict | None = None) -> set[int]:
    """The slots of `f` a gradient reaches when it reaches the parameters `params`: each local assigned
    a value that reads one, a loop's target over one, a container changed with one (and a list of
    tensors or floats the function appends to: memory, which check_memory governs, or one a call it
    passes an active value appends to: `grown`, id(call) -> the argument positions its callee appends
    to, GradModule.grows). A fixed point, as a loop can carry a value around."""
    act = set(params) | {n.args[0].slot for n in ir.walk(f.body) if isinstance(n, ir.Prim) and n.op == "list.append"
                         and isinstance(n.args[0], ir.Local) and memory(n.args[0].type)}
    grown = grown or {}
    while True:
        n0 = len(act)
        for n in ir.walk(f.body):
            match n:
                case ir.CallFunc(args=args) if grown.get(id(n)) and reads(args, act):
                    act.update(args[j].slot for j in grown[id(n)] if isinstance(args[j], ir.Local))
                case ir.Assign(target=ir.StoreLocal(slot=slot), value=v) | ir.For(target=ir.StoreLocal(slot=slot),
                                                                                 iter=v) if reads(v, act):
                    act.add(slot)
                case ir.Assign(target=ir.StoreIndex(container=c, index=i), value=v) if reads((i, v), act):
                    act.update(x.slot for x in ir.walk(c) if isinstance(x, ir.Local))
                case ir.Prim(op=op, args=(c, *rest)) if op in _CHANGES and reads(tuple(rest), act):
                    act.update(x.slot for x in ir.walk(c) if isinstance(x, ir.Local))
        if len(act) == n0:
            return act


def constant(t, structs) -> bool:
    """A container that can hold a float (a list of tuples of floats, a dict of floats, a list of lists,
    a struct...), which a gradient may read as a constant: by reference, with no cotangent (not a
    function value, whose calls are not followed)."""
    return not (active(t) or pair(t)) and carries(t, structs) and \
        not any(isinstance(u, (FnT, TParam, TVar)) for u in parts(t, structs))


def pair(t) -> bool:
    """A tuple of floats, tensors, ints, bools and such tuples (what `h, c = lstm_cell(...)` holds; a
    record of records is one after records_as_tuples): a cotangent per float or tensor leaf."""
    return isinstance(t, TupleT) and all(active(i) or i in PASSIVE or pair(i) for i in t.items)


def live_type_of(t) -> str:
    """The Numba type of whether a value of type t had a cotangent: a tuple's, a tuple per item."""
    if pair(t):
        return f"types.Tuple(({''.join(live_type_of(u) + ', ' for u in t.items)}))"
    return "types.boolean"


def flat_pair(t) -> bool:
    """A pair whose items are floats, tensors, ints and bools (no tuple inside): a list's element."""
    return isinstance(t, TupleT) and all(active(i) or i in PASSIVE for i in t.items)


def leaves(t) -> list:
    """The types of t's leaves: t itself, or a pair's items', recursively."""
    return [v for u in t.items for v in leaves(u)] if pair(t) else [t]


def item_tree(t, leaf, suffix: str = "") -> list:
    """For a pair type t, a list with an entry per item: `leaf(suffix, type)` for a float or a tensor
    (its cotangent's name suffix, `_0_1` for item 1 of item 0), such a list for a tuple item, None for an
    int or a bool. What adj_items takes, with (cotangent, live) leaves."""
    return [leaf(f"{suffix}_{j}", u) if active(u) else item_tree(u, leaf, f"{suffix}_{j}") if pair(u) else None
            for j, u in enumerate(t.items)]


def _tree_leaves(gs):
    """The leaves of an item_tree (lists nested)."""
    for g in gs:
        if isinstance(g, list):
            yield from _tree_leaves(g)
        else:
            yield g


def suffix_path(suffix: str) -> list[int]:
    """The item indexes a cotangent's name suffix (`_0_1`) stands for."""
    return [int(x) for x in suffix.split("_")[1:]]


def data(t, structs) -> bool:
    """A value that carries no gradient and is not an int or a bool: a string, or a list, dict, set,
    tuple or struct of ints, bools and strings (tokens, a vocabulary, a tree's shape). The tape
    holds a reference to it, which is the value itself as long as nothing on the way changes it in
    place (GradModule.check_unchanged)."""
    return t not in PASSIVE and t != NONE and not pair(t) and not carries(t, structs)


# What changes a container in place (the others only read it).
_CHANGES = {"list.append", "list.clear", "list.delitem", "list.extend", "list.insert", "list.pop", "list.remove",
            "list.reverse", "list.setitem", "list.sort", "dict.clear", "dict.delitem", "dict.pop", "dict.setdefault",
            "dict.setitem", "dict.update", "set.add", "set.clear", "set.discard", "set.pop", "set.remove",
            "set.update"}


def changed_container(n):
    """The container that node `n` changes in place, if it changes one."""
    if isinstance(n, ir.Prim) and n.op in _CHANGES:
        return n.args[0]
    if isinstance(n, ir.StoreIndex):
        return n.container
    return None


def memory(t) -> bool:
    """A list of tensors, of floats or of tuples holding them (`(h, c)` pairs) (memory):
    compiled as a local assigned once, appended to and read, or a parameter only read, with a
    cotangent per element (elem_bar)."""
    return isinstance(t, ListT) and (isinstance(t.elem, TensorT) or t.elem in ACTIVE or
                                     flat_pair(t.elem) and any(active(u) for u in t.elem.items))


# what a user calls the expressions the gradient lowering has no rule for (Unsupported notes)
_EXPR_WORDS = {"CallValue": "a call of a function value (a lambda, a parameter of function type, `grad(f)`)",
               "Lambda": "a lambda", "MakeSet": "a set display", "Comprehension": "a comprehension",
               "Hole": "a hole", "Choose": "a choice"}


def dict_mem(t) -> bool:
    """A dict of floats, f32 or tensors keyed by ints, bools or strings (`env = {"x": w}`): compiled as
    a local made by dict displays or a parameter, its values read, got and replaced and its keys
    added, with a cotangent per key reached (a typed dict of them); check_dict governs it."""
    return isinstance(t, DictT) and (t.val in ACTIVE or isinstance(t.val, TensorT)) and (t.key in PASSIVE or
                                                                                        t.key == STR)


def check_dict(f: ir.Function, slot: int, name: str, grown: dict):
    """A dict of floats or tensors the gradient reaches (dict_mem): a local made by dict displays
    (`{}`, `{"a": w}`) as often as it runs, or a parameter; read as `d[k]`, `d.get(k, default)`, `len(d)`, `k in d` and
    by a loop over its keys that does not change it (`for k in d`); changed as `d[k] = v` (a key
    replaced or added: the key, whether it was there and the value before kept on the tape); passed
    to functions on the gradient path doing the same (the callee adds into the caller's cotangents in
    place). Never given another name, returned, or changed otherwise (`del`, `pop`, `update`)."""
    def refuse(why, span):
        raise Unsupported(f"the gradient through '{f.name}': its dict '{name}' {why} (compiled: a dict of "
                          "floats or tensors made by a display or passed in, read as `d[k]` and `d.get(k, v)`, "
                          "changed as `d[k] = v`, looped over, passed to functions doing the same)", span,
                          f.source_name)
    ok: set[int] = set()
    for n in ir.walk(f.body):
        match n:
            case ir.Assign(target=ir.StoreLocal(slot=s_), value=v) if s_ == slot:
                if slot < len(f.params) or not isinstance(v, ir.MakeDict):
                    refuse("is assigned otherwise than by a dict display", n.span)
            case ir.Prim(op="dict.getitem" | "dict.get" | "dict.keys" | "len", args=(ir.Local(slot=s_) as d, *_)) \
                    if s_ == slot:
                ok.add(id(d))  # (`for k in d` is the loop over `d.keys()`: desugar)
            case ir.Compare(operands=(_, ir.Local(slot=s_) as d), ops=("cmp.in" | "cmp.notin",)) if s_ == slot:
                ok.add(id(d))
            case ir.Assign(target=ir.StoreIndex(container=ir.Local(slot=s_) as d, op="dict.setitem")) if s_ == slot:
                ok.add(id(d))
            case ir.For(iter=ir.Local(slot=s_), kind="dict") if s_ == slot:  # (one not changing it is the
                refuse("is changed, or passed to a function, while a loop runs over its keys (loop over "
                       "`list(d.keys())`)", n.span)  # loop over d.keys(): desugar)
            case ir.CallFunc(args=args):
                for j, a in enumerate(args):
                    if _is_slot(a, slot):
                        if j in grown.get(id(n), ()) and not flows(n.type):
                            refuse(f"is passed to '{n.name}', which changes it and returns an int, a bool or a "
                                   "string", a.span)
                        ok.add(id(a))
    for n in ir.walk(f.body):
        if isinstance(n, ir.Local) and n.slot == slot and id(n) not in ok:
            refuse("is used otherwise (given another name, returned, changed otherwise than by `d[k] = v`, its "
                   "values or items taken as a list)", n.span)


def table(t) -> bool:
    """A list of lists of floats or f32 (a dynamic program's table, `d[i][j]`): compiled as a local
    made by a display (or a comprehension, written as loops), its rows appended (each a new list, or a
    list local that is not read again: moves), its elements read and replaced as `d[i][j]`, its rows
    appended to as `d[i].append(v)`, with a cotangent per element (a list of its rows' cotangents).
    check_table governs it."""
    return isinstance(t, ListT) and isinstance(t.elem, ListT) and t.elem.elem in ACTIVE


def _row(c) -> bool:
    """Whether `c` is `d[i]`, a row of a table local (table), read to read, replace or append one of
    its elements."""
    return isinstance(c, ir.Prim) and c.op == "list.getitem" and isinstance(c.args[0], ir.Local) and \
        table(c.args[0].type)


def dead_elem(elem) -> str:
    """An element's cotangent nothing reached yet (elem_live)."""
    if isinstance(elem, TensorT):
        return f"np.zeros({(0,) * len(elem.shape)!r}, {np_dtype(elem)})"
    if isinstance(elem, TupleT):
        return "(" + "".join((dead_elem(u) if active(u) else "False") + ", " for u in elem.items) + ")"
    return f"({typed('0.0', elem)}, False)"


def elem_parts(g: str, elem) -> list:
    """The (cotangent, reached) of each item of a tuple element's cotangent `g`, None for an int or a
    bool item: what adj_items takes."""
    return [(elem_value(f"{g}[{j}]", u), elem_live(f"{g}[{j}]", u)) if active(u) else None
            for j, u in enumerate(elem.items)]


def list_kind(t) -> tuple:
    """The tape that holds lists of type t (memory): by the elements' dtype and rank ("n": numbers)."""
    e = t.elem
    return ("list", e.dtype, len(e.shape)) if isinstance(e, TensorT) else ("list", e, "n")


def elem_live(g: str, elem) -> str:
    """Whether the element cotangent `g` (of a list of `elem`) was reached: a tensor's is an empty array
    until then, a number's is a (value, reached) pair."""
    return f"{g}.size != 0" if isinstance(elem, TensorT) else f"{g}[1]"


def elem_value(g: str, elem) -> str:
    return g if isinstance(elem, TensorT) else f"{g}[0]"


def check_function(f: ir.Function, structs, act: set[int], consts: frozenset[int], grown: dict):
    """Refuse (Unsupported) what f's sweeps cannot compile yet; `act`: its slots a gradient reaches,
    `consts`: its containers of floats that are constants to the gradient (read as data); `grown`:
    id(call) -> the positions of the lists the callee appends to."""
    mv, used = moves(f), _slots(f)
    for i, (t, name) in enumerate(zip(f.slot_types, f.slot_names)):
        if i in consts or i >= len(f.params) and i not in used:  # (a loop target desugar took away)
            continue
        if memory(t):
            check_memory(f, i, name, mv)
        elif table(t):
            check_table(f, i, name, mv, grown)
        elif dict_mem(t) and i in act:
            check_dict(f, i, name, grown)
        elif not (active(t) or t in PASSIVE or pair(t) or data(t, structs)):
            raise Unsupported(f"the gradient through '{f.name}', whose local '{name}' is a {t} (compiled gradients "
                              "take floats, f32, tensors, tuples and structs of these, ints and bools (a struct "
                              "only built, read, replaced, passed and returned), lists of tensors, floats and tuples of them, "
                              "lists of lists and dicts of floats and tensors, and "
                              "values that hold no float: ints, bools, strings and containers of them; other "
                              "containers of floats only as constants, which the gradient does not reach)", f.span,
                              f.source_name)
    for n in ir.walk(f.body):
        c = changed_container(n)
        if c is not None and (_row(c) and c.args[0].slot not in consts or isinstance(c, ir.Local) and table(c.type)
                              and c.slot not in consts):
            continue  # a table's element replaced or row appended to, or a row appended to it (check_table)
        if isinstance(c, ir.Local) and dict_mem(c.type) and c.slot in act and c.slot not in consts:
            continue  # a key of a dict of floats replaced or added (check_dict)
        if c is not None and memory(c.type) and not isinstance(c, ir.Local):
            raise Unsupported(f"the gradient through '{f.name}', which changes a {c.type} that is not its own local "
                              "in place (compiled gradients append to lists made by the function itself)",
                              n.span, f.source_name)
        if c is not None and (not memory(c.type) or isinstance(c, ir.Local) and c.slot in consts):
            raise Unsupported(f"the gradient through '{f.name}', which changes a {c.type} in place (compiled "
                              "gradients read containers that hold no float, and constants, and append to lists "
                              "of tensors and floats)",
                              n.span, f.source_name)

    for n in ir.walk(f.body):
        if isinstance(n, ir.CallFunc) and any(carries(a.type, structs) and reads(a, act) for a in n.args):
            for a in n.args:
                if carries(a.type, structs) and reads(a, act) and not (active(a.type) or pair(a.type)) \
                        and not (memory(a.type) and (isinstance(a, (ir.Local, ir.CallFunc, ir.MakeList)) or _row(a))
                                 and flows(n.type)) and not ((table(a.type) or dict_mem(a.type)) and isinstance(a, ir.Local)):
                    raise Unsupported(f"the gradient through a call passing a {a.type}", a.span, f.source_name)
            if not flows(n.type) and carries(n.type, structs):
                raise Unsupported(f"the gradient through a call returning a {n.type}", n.span, f.source_name)

    for n in ir.walk(f.body):  # a list of floats or tensors made here, or by a function on the gradient
        # path that made it: not one that could be shared (a global, a parameter), whose appends the
        # reverse sweep would take back
        match n:
            case ir.Assign(target=ir.StoreLocal(slot=slot, type=t), value=ir.CallFunc(args=args) as v) \
                    if memory(t) and slot not in consts and not any(carries(a.type, structs) for a in args):
                raise Unsupported(f"the gradient through '{f.name}': a {t} made by a call that takes no float "
                                  "(compiled: lists made by the function, or by a function on the gradient path)",
                                  v.span, f.source_name)
            case ir.Return(value=v) if memory(f.type.ret) and not (
                    isinstance(v, (ir.MakeList, ir.CallFunc)) or isinstance(v, ir.Local) and v.slot >= len(f.params)):
                raise Unsupported(f"the gradient through '{f.name}', which returns a {f.type.ret} it did not make "
                                  "(compiled: a list made by the function)", v.span, f.source_name)

    def check(stmts):
        for s in stmts:
            match s:
                case ir.Assign(target=ir.StoreLocal()) | ir.ExprStmt() | ir.Break() | ir.Continue() | ir.Return() \
                        | ir.Assert():
                    pass
                case ir.Assign(target=ir.StoreIndex(container=ir.Local(slot=slot, type=ListT(elem) as t),
                                                    op="list.setitem")) if memory(t) and slot in act and elem in ACTIVE:
                    pass  # an element of a list of floats replaced
                case ir.Assign(target=ir.StoreIndex(container=c, op="list.setitem")) if _row(c) and \
                        c.args[0].slot in act:
                    pass  # an element of a table replaced
                case ir.Assign(target=ir.StoreIndex(container=ir.Local(slot=slot, type=t), op="dict.setitem")) \
                        if dict_mem(t) and slot in act:
                    pass  # a key of a dict of floats replaced or added
                case ir.If(then=a, orelse=b):
                    check(a)
                    check(b)
                case ir.While(body=b) | ir.ForRange(body=b):
                    check(b)
                case ir.For(kind="tensor", target=ir.StoreLocal(), body=b):
                    check(b)
                case ir.For(kind="list", target=ir.StoreLocal(), iter=ir.Local(slot=slot, type=t), body=b) \
                        if memory(t) and slot not in consts:
                    check(b)
                case ir.For(kind="list" | "str", target=ir.StoreLocal(), iter=it, body=b) \
                        if data(it.type, structs) or not reads(it, act):
                    check(b)
                case _:
                    raise Unsupported(f"the gradient through this statement of '{f.name}' ({_what(s)})", s.span,
                                      f.source_name)
    check(f.body)


class _NewLocals:
    """The locals a rewrite of `f` adds after its own (named `$prefix<slot>`), and `f` with them."""

    def __init__(self, f: ir.Function):
        self.f, self.names, self.types = f, list(f.slot_names), list(f.slot_types)

    def new(self, prefix: str, t, span) -> ir.StoreLocal:
        slot = len(self.names)
        self.names.append(f"${prefix}{slot}")
        self.types.append(t)
        return ir.StoreLocal(slot, self.names[slot], t, span)

    def function(self, body) -> ir.Function:
        """`f` with `body` and the new locals."""
        if len(self.names) == self.f.nslots:
            return dataclasses.replace(self.f, body=body)
        return dataclasses.replace(self.f, body=body, nslots=len(self.names), slot_names=tuple(self.names),
                                   slot_types=tuple(self.types))


def desugar(f: ir.Function, expand: frozenset = frozenset()) -> ir.Function:
    """`f` written with the statements the sweeps take: conditional expressions, list comprehensions,
    copies, `min`/`max` and loops over `enumerate`/`zip`/`reversed` as the `if`s and loops they mean.

    Each `return a if c else b` and `v = a if c else b` whose branches call a function
    written as the `if` statement it means (`if c: return a` / `else: return b`): the branch not taken
    is not called, and the reverse sweep follows the branch taken as for any `if` (the recursive
    `return 1.0 if n == 0 else x * power(x, n - 1)`), and so is one choosing between tuples or
    structs. One inside a larger expression (`y + (f(x) if c else 0.0)`) becomes such an `if`
    assigning a new local, which takes its place; what the expression computes before it that calls
    or can fail goes into locals of its own before that `if`, in order (`g(x)` in `g(x) + (f(x) if c
    else 0.0)`). What only reads values and computes (_pure) stays where it is: nothing on the
    gradient path changes a local or a container it reads (check_memory, check_unchanged), so it
    computes the same after the calls. The same values, calls and tape in the same order.

    Likewise each list comprehension, copy, concatenation or repeated display whose span is in
    `expand` (those the gradient reaches: GradModule.prepare) is written as the loop it means, `v =
    []`, then `for x in xs: if c: v.append(e)`, into the local it is assigned to or a new one (an
    argument, `mean([f(x) for x in xs])`, or a result): so the list is memory, with a cotangent per
    element. `min(a, b)` becomes `m = a; if b < m: m = b` (_choice), and a loop over `enumerate`,
    `zip` or `reversed` of list locals the counted loop reading them by index (indexed), as is one over
    a table's rows that only reads them (rows); `min(xs)` of a list of floats the loop choosing the
    element (_choice_of_list); `a, b = b, a` of lists, assignments of each (unpack); and a name given
    to a table's row, `row = t[i]`, the row read through `t[k]` (named_rows)."""
    locs = _NewLocals(f)
    new_local = locs.new

    def expands(n) -> bool:
        return _loops(n) and n.span in expand

    def loop(c: ir.Comprehension | ir.Prim, target: ir.StoreLocal) -> tuple:
        """The statements making the list of comprehension `c` in `target` (an iterable that is not a
        local is named first, where the comprehension computes it: once, or once per outer item). A
        copy, `list(xs)` or `xs + ys` is the comprehension `[v for v in xs]`, or two loops."""
        span = c.span
        xs = ir.Local(target.slot, target.name, target.type, span)
        if isinstance(c, ir.Prim) and c.op == "list.repeat":  # [a, b] * n: n times each value (which only reads)
            display, n = c.args
            pre = []
            if not isinstance(n, (ir.Local, ir.Const)):
                tmp = new_local("n", INT, span)
                pre.append(ir.Assign(tmp, n, span))
                n = ir.Local(tmp.slot, tmp.name, INT, span)
            k = new_local("k", INT, span)
            body = tuple(ir.ExprStmt(ir.Prim("list.append", (xs, x), NONE, span), span) for x in display.elts)
            return tuple(pre) + (ir.Assign(target, ir.MakeList((), c.type, span), span),
                                 ir.ForRange(k, ir.Const(0, INT, span), n, ir.Const(1, INT, span), body, span))
        if isinstance(c, ir.Prim):  # the operands first, then a loop over each
            pre, its = [], []
            for a in c.args:
                if not isinstance(a, ir.Local):
                    tmp = new_local("iter", a.type, span)
                    pre.append(ir.Assign(tmp, a, span))
                    a = ir.Local(tmp.slot, tmp.name, a.type, span)
                its.append(a)
            loops = []
            for a in its:
                v = new_local("item", c.type.elem, span)
                loops.append(ir.For(v, a, "list", (ir.ExprStmt(ir.Prim(
                    "list.append", (xs, ir.Local(v.slot, v.name, v.type, span)), NONE, span), span),), span))
            return tuple(pre) + (ir.Assign(target, ir.MakeList((), c.type, span), span),) + tuple(loops)

        def clauses(k: int) -> tuple:
            if k == len(c.clauses):
                return (ir.ExprStmt(ir.Prim("list.append", (xs, c.elt), NONE, span), span),)
            body = clauses(k + 1)
            match c.clauses[k]:
                case ir.CompIf(cond):
                    return (ir.If(cond, body, (), span),)
                case ir.CompFor(target=ir.StoreLocal() as t, iter=ir.Prim(op="range", args=(lo, hi, ir.Const(step)))) \
                        if step != 0:
                    return (ir.ForRange(t, lo, hi, ir.Const(step, INT, span), body, span),)
                case ir.CompFor(target=t, iter=it, kind=kind):
                    if isinstance(it, ir.Local) or not isinstance(it.type, ListT):
                        return (ir.For(t, it, kind, body, span),)
                    tmp = new_local("iter", it.type, span)
                    return (ir.Assign(tmp, it, span), ir.For(t, ir.Local(tmp.slot, tmp.name, it.type, span), kind, body,
                                                            span))
        return (ir.Assign(target, ir.MakeList((), c.type, span), span),) + lift(clauses(0))

    def inner(e):
        """(the statements computing a liftable conditional expression or an expanded comprehension
        inside `e` into a new local, `e` with that local in its place), or None. What `e` computes
        before it that calls a function or can fail (`g(x)` in `g(x) + (f(x) if c else 0.0)`) goes
        into locals of its own first, in order, so nothing that could print or fail changes places."""
        def liftable(n) -> bool:
            return isinstance(n, ir.Cond) and _lifts(n) or expands(n) or _choice(n) or _choice_of_list(n) \
                or _fold(n)

        def find(n, guarded: bool, chain: tuple):
            if not guarded and (n is not e and (isinstance(n, ir.Cond) and _lifts(n) or expands(n)) or _choice(n)
                                or _choice_of_list(n) or _fold(n) or isinstance(n, (ir.And, ir.Or))
                                and any(liftable(m) for m in ir.walk(n.right))):
                return chain + (n,)
            if isinstance(n, (ir.Cond, ir.And, ir.Or, ir.Comprehension, ir.Lambda)):
                guarded = True  # what is inside runs only sometimes: not lifted
            for x in _children(n):
                found = find(x, guarded, chain + (n,))
                if found:
                    return found
            return None
        chain = find(e, False, ())
        if not chain:
            return None
        v, pre, named = chain[-1], [], {}
        for parent, child in zip(chain, chain[1:]):  # what runs before v, outermost first
            for x in _children(parent):
                if x is child:
                    break
                if not _pure(x):
                    if not (active(x.type) or x.type in PASSIVE or isinstance(x.type, (TensorT, TupleT, StructT))):
                        return None
                    t = new_local("arg", x.type, x.span)
                    pre.append(ir.Assign(t, x, x.span))
                    named[id(x)] = t
        if _choice(v):  # min(a, b, ...): each value named in order, then the first no later one beats
            target = new_local("best", v.type, v.span)
            values = []
            for x in v.args[0].elts:
                if not isinstance(x, (ir.Local, ir.Const)):
                    t = new_local("arg", x.type, x.span)
                    pre.extend(lift((ir.Assign(t, x, x.span),)))  # (a min inside: lifted too)
                    x = ir.Local(t.slot, t.name, t.type, x.span)
                values.append(x)
            best = ir.Local(target.slot, target.name, v.type, v.span)
            pre.append(ir.Assign(target, values[0], v.span))
            op = "cmp.lt" if v.attrs[0] == "min" else "cmp.gt"
            for x in values[1:]:
                pre.append(ir.If(ir.Compare((x, best), (op,), BOOL, v.span), (ir.Assign(target, x, v.span),), (),
                                 v.span))
        elif _choice_of_list(v):  # min(xs): the error if xs is empty, else the loop choosing, as _choice
            xs, span = v.args[0], v.span
            if _row(xs):  # `min(t[i])`: the index named, the row read through the table (check_table)
                if not isinstance(xs.args[1], (ir.Local, ir.Const)):
                    t = new_local("at", INT, xs.span)
                    pre.extend(lift((ir.Assign(t, xs.args[1], xs.span),)))
                    xs = dataclasses.replace(xs, args=(xs.args[0], ir.Local(t.slot, t.name, INT, xs.span)))
            elif not isinstance(xs, ir.Local):
                t = new_local("iter", xs.type, xs.span)
                pre.extend(lift((ir.Assign(t, xs, xs.span),)))
                xs = ir.Local(t.slot, t.name, t.type, xs.span)
            target = new_local("best", v.type, span)
            k = new_local("k", INT, span)
            best = ir.Local(target.slot, target.name, v.type, span)
            n = ir.Prim("len", (xs,), INT, span)
            empty = dataclasses.replace(v, args=(ir.MakeList((), xs.type, span),) + v.args[1:])  # (its error)
            elem = ir.Prim("list.getitem", (xs, ir.Local(k.slot, k.name, INT, span)), v.type, span)
            op = "cmp.lt" if v.attrs[0] == "min" else "cmp.gt"
            pre += [ir.If(ir.Compare((n, ir.Const(0, INT, span)), ("cmp.eq",), BOOL, span),
                          (ir.ExprStmt(empty, span),), (), span),
                    ir.Assign(target, ir.Prim("list.getitem", (xs, ir.Const(0, INT, span)), v.type, span), span),
                    ir.ForRange(k, ir.Const(1, INT, span), n, ir.Const(1, INT, span), (
                        ir.If(ir.Compare((elem, best), (op,), BOOL, span), (ir.Assign(target, elem, span),), (),
                              span),), span)]
        elif _fold(v):  # reduce(g, xs, init): the sequence, the initial value, then the loop applying g
            g, xs, span = v.args[0], v.args[1], v.span
            if not isinstance(xs, ir.Local):
                t = new_local("iter", xs.type, span)
                pre.extend(lift((ir.Assign(t, xs, span),)))
                xs = ir.Local(t.slot, t.name, t.type, span)
            target = new_local("acc", v.type, span)
            x = new_local("x", xs.type.elem, span)
            if v.op == "reduce":
                pre.extend(lift((ir.Assign(target, v.args[2], span),)))
                step = lift((ir.Assign(target, _applied(locs, g, (target, x), span), span),))
                pre.append(ir.For(x, xs, "list", step, span))
            else:  # reduce(g, xs): the error of an empty list, then from the first element on
                k = new_local("k", INT, span)
                n = ir.Prim("len", (xs,), INT, span)
                empty = dataclasses.replace(v, args=(g, ir.MakeList((), xs.type, span)))
                pre += [ir.If(ir.Compare((n, ir.Const(0, INT, span)), ("cmp.eq",), BOOL, span),
                              (ir.ExprStmt(empty, span),), (), span),
                        ir.Assign(target, ir.Prim("list.getitem", (xs, ir.Const(0, INT, span)), v.type, span), span),
                        ir.ForRange(k, ir.Const(1, INT, span), n, ir.Const(1, INT, span), (
                            ir.Assign(x, ir.Prim("list.getitem", (xs, ir.Local(k.slot, k.name, INT, span)),
                                                 x.type, span), span),
                        ) + lift((ir.Assign(target, _applied(locs, g, (target, x), span), span),)), span)]
        elif isinstance(v, (ir.And, ir.Or)):  # `a and f([w * x for x in xs]) > 0.0`: the right side in
            target = new_local("cond", BOOL, v.span)  # an `if`, as it runs only when the left allows
            flag = ir.Local(target.slot, target.name, BOOL, v.span)
            test = flag if isinstance(v, ir.And) else ir.Prim("bool.not", (flag,), BOOL, v.span)
            pre.extend(lift((ir.Assign(target, v.left, v.span),)))
            pre.append(ir.If(test, lift((ir.Assign(target, v.right, v.span),)), (), v.span))
        elif not isinstance(v, ir.Cond):
            target = new_local("list", v.type, v.span)
            pre.extend(loop(v, target))
        else:
            target = new_local("cond", v.type, v.span)
            pre.append(ir.If(v.cond, lift((ir.Assign(target, v.then, v.span),)),
                             lift((ir.Assign(target, v.orelse, v.span),)), v.span))
        named[id(v)] = target

        def subst(n):
            t = named.get(id(n))
            return _rebuild(n, subst) if t is None else ir.Local(t.slot, t.name, t.type, n.span)
        return tuple(pre), subst(e)

    def lift(stmts):
        out = []
        for s in stmts:
            while True:  # the conditionals inside its value first, one at a time
                field_ = "expr" if isinstance(s, ir.ExprStmt) else "cond" if isinstance(s, ir.If) else "value"
                match s:
                    case ir.Return(value=v) | ir.Assign(value=v) | ir.ExprStmt(expr=v) | ir.If(cond=v) if v is not None:
                        found = inner(v)  # (a container and index assigned into are computed after the value)
                    case _:
                        found = None
                if found is None:
                    break
                out.extend(found[0])
                s = dataclasses.replace(s, **{field_: found[1]})
            match s:
                case ir.Assign(target=ir.StoreLocal() as t, value=v) if expands(v) and not reads(v, {t.slot}):
                    out.extend(loop(v, t))
                case ir.Return(value=v, span=span) | ir.Assign(value=v, span=span) if expands(v):
                    t = new_local("list", v.type, v.span)
                    out.extend(loop(v, t))
                    out.append(dataclasses.replace(s, value=ir.Local(t.slot, t.name, v.type, span)))
                case ir.Return(value=ir.Cond(cond, a, b) as v, span=span) if _lifts(v):
                    out.append(ir.If(cond, lift((ir.Return(a, span),)), lift((ir.Return(b, span),)), span))
                case ir.Assign(target=ir.StoreLocal() as t, value=ir.Cond(cond, a, b) as v, span=span) if _lifts(v):
                    out.append(ir.If(cond, lift((ir.Assign(t, a, span),)), lift((ir.Assign(t, b, span),)), span))
                case ir.If(then=then, orelse=orelse):
                    out.append(dataclasses.replace(s, then=lift(then), orelse=lift(orelse)))
                case ir.For() if (counted := indexed(s)) is not None:
                    out.extend(lift(counted))
                case ir.For() if (counted := rows(s)) is not None:
                    out.extend(lift((counted,)))
                case ir.For(iter=ir.Local(type=t) as d, kind="dict", body=body, span=span) if dict_mem(t) and not any(
                        _is_slot(changed_container(m), d.slot) or isinstance(m, ir.CallFunc) and reads(m.args, {d.slot})
                        for m in ir.walk(body)):  # `for k in d` not changing d: the loop over `d.keys()`
                    ks = new_local("keys", ListT(t.key), span)
                    out.append(ir.Assign(ks, ir.Prim("dict.keys", (d,), ks.type, span), span))
                    out.extend(lift((dataclasses.replace(s, iter=ir.Local(ks.slot, ks.name, ks.type, span),
                                                         kind="list"),)))
                case ir.For(target=ir.StoreTuple(items=items), iter=it, kind="list", body=body, span=span) if all(
                        isinstance(t, ir.StoreLocal) for t in items) and isinstance(it.type.elem, TupleT):
                    # `for a, b in ps`: `for p in ps: a = p[0]; b = p[1]`
                    t = new_local("item", it.type.elem, span)
                    at = ir.Local(t.slot, t.name, t.type, span)
                    out.extend(lift((ir.For(t, it, "list", tuple(
                        ir.Assign(x, ir.Prim("tuple.getitem", (at,), x.type, span, (j,)), span)
                        for j, x in enumerate(items)) + body, span),)))
                case ir.While(body=body) | ir.ForRange(body=body) | ir.For(body=body):
                    out.append(dataclasses.replace(s, body=lift(body)))
                case _:
                    out.append(s)
        return tuple(out)

    def rows(s: ir.For):
        """`for r in t` over a table local (a list of lists of floats) whose body only reads `r` (`r[j]`,
        `len(r)`, `sum(r)`, not in a comprehension) and neither assigns `t` nor changes its length nor passes it
        on: the counted loop with `t[k]` in r's place, so that no row has a name of its own
        (check_table), or None."""
        match s:
            case ir.For(target=ir.StoreLocal(slot=r), iter=ir.Local(slot=ts, type=tt) as t, kind="list") \
                    if table(tt):
                pass
            case _:
                return None
        read = {id(n.args[0]) for n in ir.walk(s.body) if isinstance(n, ir.Prim)
                and n.op in ("list.getitem", "len", *_LIST_REDUCTIONS) and _is_slot(n.args[0], r)}
        hidden = {id(m) for n in ir.walk(s.body) if isinstance(n, (ir.Comprehension, ir.Lambda)) for m in ir.walk(n)}
        if any(isinstance(n, ir.Local) and n.slot == r and (id(n) not in read or id(n) in hidden)
               or isinstance(n, ir.StoreLocal) and n.slot in (r, ts)
               or isinstance(n, ir.Prim) and n.op in _CHANGES and _is_slot(n.args[0], ts)
               or isinstance(n, ir.CallFunc) and reads(n.args, {ts}) for n in ir.walk(s.body)):
            return None
        span = s.span
        k = new_local("k", INT, span)
        row = ir.Prim("list.getitem", (t, ir.Local(k.slot, k.name, INT, span)), tt.elem, span)

        def sub(n):
            return row if isinstance(n, ir.Local) and n.slot == r else _rebuild(n, sub)
        return ir.ForRange(k, ir.Const(0, INT, span), ir.Prim("len", (t,), INT, span), ir.Const(1, INT, span),
                           tuple(sub(x) for x in s.body), span)

    def indexed(s: ir.For):
        """`for i, x in enumerate(xs)`, `for x, y in zip(xs, ys)` and `for x in reversed(xs)` over list
        locals whose lengths the body leaves as they are (no append or other change but an element
        replaced, no assignment, not passed to a call) as the counted loop reading the elements by
        index (live, as Python's iterators do), or None."""
        match s:
            case ir.For(target=ir.StoreTuple(items=(ir.StoreLocal() as ti, ir.StoreLocal() as tx)),
                        iter=ir.Prim(op="enumerate", args=(ir.Local() as xs, ir.Const(value=0)))):
                seqs, targets = [xs], [tx]
            case ir.For(target=ir.StoreTuple(items=items), iter=ir.Prim(op="zip", args=args)) if len(items) == len(
                    args) and all(isinstance(t, ir.StoreLocal) for t in items) and all(isinstance(a, ir.Local)
                                                                                    for a in args):
                seqs, targets, ti = list(args), list(items), None
            case ir.For(target=ir.StoreLocal() as tx, iter=ir.Prim(op="reversed", args=(ir.Local() as xs,))):
                seqs, targets, ti = [xs], [tx], None
            case _:
                return None
        slots = {x.slot for x in seqs}
        if not all(isinstance(x.type, ListT) for x in seqs) or any(
                isinstance(n, ir.StoreLocal) and n.slot in slots or isinstance(n, ir.Prim) and n.op in _CHANGES
                and reads(n.args[0], slots) or isinstance(n, ir.CallFunc) and reads(n.args, slots)
                for n in ir.walk(s.body)):
            return None
        span = s.span
        k = new_local("k", INT, span)
        at = ir.Local(k.slot, k.name, INT, span)
        pre, n = [], ir.Prim("len", (seqs[0],), INT, span)
        if len(seqs) > 1:  # zip: the shortest
            t = new_local("n", INT, span)
            pre.append(ir.Assign(t, n, span))
            n = ir.Local(t.slot, t.name, INT, span)
            for x in seqs[1:]:
                m = ir.Prim("len", (x,), INT, span)
                pre.append(ir.If(ir.Compare((m, n), ("cmp.lt",), BOOL, span), (ir.Assign(t, m, span),), (), span))
        reads_ = tuple(ir.Assign(t, ir.Prim("list.getitem", (x, at), x.type.elem, span), span)
                       for t, x in zip(targets, seqs))
        if ti is not None:
            reads_ = (ir.Assign(ti, at, span),) + reads_
        one = ir.Const(1, INT, span)
        if s.iter.op == "reversed":
            loop = ir.ForRange(k, ir.Prim("int.sub", (n, one), INT, span), ir.Const(-1, INT, span),
                               ir.Const(-1, INT, span), reads_ + s.body, span)
        else:
            loop = ir.ForRange(k, ir.Const(0, INT, span), n, one, reads_ + s.body, span)
        return tuple(pre) + (loop,)
    def unpack(stmts):
        """`a, b = b, a` of lists of floats or tensors (memory) or tables, which the checker writes as a tuple
        local then its items read, as each value assigned to a local of its own, then each of those to
        its name: moves (moves), not a tuple holding lists."""
        out, i = [], 0
        while i < len(stmts):
            s = stmts[i]
            match s:
                case ir.Assign(target=ir.StoreLocal(slot=tmp, type=TupleT(items=items)),
                               value=ir.MakeTuple(elts=elts)) if any(memory(u) or table(u) for u in items) and all(
                            _unpacks(stmts[i + 1 + k] if i + 1 + k < len(stmts) else None, tmp, k)
                            for k in range(len(items))) and \
                        sum(_is_slot(n, tmp) for n in ir.walk(f.body)) == len(items):
                    named = []
                    for e, u in zip(elts, items):
                        t = new_local("swap", u, e.span)
                        out.append(ir.Assign(t, e, s.span))
                        named.append(ir.Local(t.slot, t.name, u, s.span))
                    out += [dataclasses.replace(stmts[i + 1 + k], value=v) for k, v in enumerate(named)]
                    i += 1 + len(items)
                    continue
                case ir.If(then=a, orelse=b):
                    s = dataclasses.replace(s, then=unpack(a), orelse=unpack(b))
                case ir.While(body=b) | ir.ForRange(body=b) | ir.For(body=b):
                    s = dataclasses.replace(s, body=unpack(b))
            out.append(s)
            i += 1
        return tuple(out)

    def named_rows(stmts):
        """A row of a table given a name, `r = t[i]` (`t` a table local assigned once, at the top of the
        function), then only read, replaced into and appended to through that name (`r[j]`, `len(r)`,
        `r[j] = v`, `r.append(v)`, not in a comprehension): the assignment keeps the index instead
        (checked as `t[i]` checks it, then from the start when negative), and each use is `t[k]`, so that
        no row has a name of its own (check_table). The same list, so the same values."""
        params = len(f.params)
        once = {s.target.slot for s in stmts if isinstance(s, ir.Assign) and isinstance(s.target, ir.StoreLocal)
                and table(s.target.type) and s.target.slot >= params
                and sum(isinstance(m, ir.StoreLocal) and m.slot == s.target.slot for m in ir.walk(f.body)) == 1}
        made: dict[int, set] = {}
        for m in ir.walk(f.body):
            if isinstance(m, ir.StoreLocal) and isinstance(m.type, ListT) and m.type.elem in ACTIVE:
                made.setdefault(m.slot, set())
        for m in ir.walk(f.body):
            if isinstance(m, ir.Assign) and isinstance(m.target, ir.StoreLocal) and m.target.slot in made:
                v = m.value
                made[m.target.slot].add(v.args[0].slot if isinstance(v, ir.Prim) and v.op == "list.getitem"
                                        and isinstance(v.args[0], ir.Local) and v.args[0].slot in once else None)
        hidden = {id(m) for n in ir.walk(f.body) if isinstance(n, (ir.Comprehension, ir.Lambda)) for m in ir.walk(n)}
        through = {id(n.args[0]) for n in ir.walk(f.body) if isinstance(n, ir.Prim)
                   and n.op in ("list.getitem", "len", "list.append") and isinstance(n.args[0], ir.Local)}
        through |= {id(n.target.container) for n in ir.walk(f.body) if isinstance(n, ir.Assign)
                    and isinstance(n.target, ir.StoreIndex) and isinstance(n.target.container, ir.Local)}
        named = {r: next(iter(ts)) for r, ts in made.items() if r >= params and len(ts) == 1 and None not in ts
                 and not any(isinstance(n, ir.Local) and n.slot == r and (id(n) not in through or id(n) in hidden)
                             for n in ir.walk(f.body))}
        if not named:
            return stmts
        table_of = {t: (ir.Local(t, f.slot_names[t], f.slot_types[t], f.span)) for t in named.values()}
        index = {r: new_local("row", INT, f.span) for r in named}

        def sub(n):
            if isinstance(n, ir.Local) and n.slot in named:
                k = index[n.slot]
                return ir.Prim("list.getitem", (table_of[named[n.slot]], ir.Local(k.slot, k.name, INT, n.span)),
                               n.type, n.span)
            return _rebuild(n, sub)

        def block(ss):
            out = []
            for s in ss:
                match s:
                    case ir.Assign(target=ir.StoreLocal(slot=r), value=ir.Prim(args=(t, i)) as v, span=span) \
                            if r in named:
                        k = index[r]
                        at = ir.Local(k.slot, k.name, INT, span)
                        n = ir.Prim("len", (t,), INT, span)
                        out += [ir.Assign(k, sub(i), span),
                                ir.ExprStmt(ir.Prim("len", (dataclasses.replace(v, args=(t, at)),), INT, span), span),
                                ir.If(ir.Compare((at, ir.Const(0, INT, span)), ("cmp.lt",), BOOL, span),
                                      (ir.Assign(k, ir.Prim("int.add", (at, n), INT, span), span),), (), span)]
                        continue
                    case ir.If(then=a, orelse=b):
                        s = dataclasses.replace(s, cond=sub(s.cond), then=block(a), orelse=block(b))
                    case ir.While(body=b):
                        s = dataclasses.replace(s, cond=sub(s.cond), body=block(b))
                    case ir.ForRange(body=b):
                        s = dataclasses.replace(s, start=sub(s.start), stop=sub(s.stop), step=sub(s.step), body=block(b))
                    case ir.For(body=b):
                        s = dataclasses.replace(s, iter=sub(s.iter), body=block(b))
                    case _:
                        s = sub(s)
                out.append(s)
            return tuple(out)
        return block(stmts)

    return locs.function(lift(unpack(named_rows(f.body))))


# Arithmetic of numbers, which neither calls nor fails: left where it is when a conditional expression
# after it is lifted (desugar).
_LIFT_BEFORE = {"float.add", "float.sub", "float.mul", "float.neg", "f32.add", "f32.sub", "f32.mul", "f32.neg",
                "int.to_float"}


def returns_zero(f: ir.Function) -> ir.Function:
    """`f`, which returns nothing, returning the float 0.0 instead, so the sweeps take a call of it
    like any other on the gradient path (its cotangent is never used): for a function called for the
    appends it makes to a list it is passed (GradModule.grows, void_calls)."""
    def zero(s):
        return ir.Return(ir.Const(0.0, FLOAT, s.span), s.span) if isinstance(s, ir.Return) and s.value is None else s
    body = map_statements(f.body, zero) + (ir.Return(ir.Const(0.0, FLOAT, f.span), f.span),)
    return dataclasses.replace(f, body=body, type=FnT(f.type.params, FLOAT))


def _applied(locs: _NewLocals, g, params: tuple, span):
    """`g(*params)`, `params` locals of the function `locs` adds to: the body of the lambda `g` with
    its parameters read from them (its other locals new locals; its captured values read from the
    locals it captured, which hold the same values where the lambda is made and applied at once:
    map, filter, reduce), or a call of the function `g` names."""
    args = tuple(ir.Local(p.slot, p.name, p.type, span) for p in params)
    if isinstance(g, ir.FuncRef):
        return ir.CallFunc(g.name, args, g.type.ret, span)
    outer = dict(g.captures)
    types = {n.slot: n.type for n in ir.walk(g.body) if isinstance(n, (ir.Local, ir.StoreLocal))}
    moved = {i: p.slot for i, p in enumerate(params)}
    for s in range(len(params), g.nslots):
        if s not in outer:
            moved[s] = locs.new(g.slot_names[s], types.get(s, INT), span).slot

    def capture(node, conv):
        return outer[node.slot] if isinstance(node, ir.Local) and node.slot in outer else None
    return ir.move_slots(g.body, moved.__getitem__, locs.names, capture)


def comprehensions(f: ir.Function) -> ir.Function:
    """`f` with each `map(g, xs)` and `filter(g, xs)` of a list, `g` a lambda or a function's name, as
    the comprehension it means, `[g(x) for x in xs]` or `[x for x in xs if g(x)]`, the lambda's body
    in place of the call (its parameter and locals new locals of `f`, its captured values read from
    the locals it captured: the lambda is made where it is mapped, so they hold the same values), so
    that the gradient goes through it as through any comprehension (desugar). The same operations in
    the same order as the interpreter's map and filter."""
    locs = _NewLocals(f)

    def conv(node):
        if isinstance(node, tuple):
            return tuple(conv(x) for x in node)
        if not ir.is_node(node) or isinstance(node, ir.Lambda):
            return node
        node = ir.rebuild(node, conv)
        match node:
            case ir.Prim(op="map" | "filter" as op, args=(g, xs), type=t, span=span) \
                    if isinstance(xs.type, ListT) and (isinstance(g, ir.FuncRef) or isinstance(g, ir.Lambda)
                                                       and g.nparams == 1):
                x = locs.new("x", xs.type.elem, span)
                body = conv(_applied(locs, g, (x,), span))  # (a map inside the lambda, now in f's slots)
                each = ir.CompFor(x, xs, "list")
                if op == "map":
                    return ir.Comprehension("list", body, None, (each,), t, span)
                return ir.Comprehension("list", ir.Local(x.slot, x.name, x.type, span), None,
                                        (each, ir.CompIf(body)), t, span)
        return node
    body = conv(f.body)
    return f if body is f.body else locs.function(body)


def before_calls(f: ir.Function) -> ir.Function:
    """`f` with what an expression computes before a call the gradient may go through (`x * k` in
    `x * k + sq(x)`, `a * b` in `g(a * b, h(x))`) assigned to a new local of its own first, in order,
    so that it stays before the call: the reverse sweep reverses a statement's calls after the rest of
    its expression (the calls are computed first, into locals: GradFunction.hoist), where the tape
    reverses what was computed before a call after the call. Same values, same order of adds: the
    interpreter's digits (x's cotangent is `(2 x g) + k g` on both, not `(k g + x g) + x g`)."""
    locs = _NewLocals(f)

    def calls(n) -> bool:
        if isinstance(n, ir.CallFunc) and flows(n.type):
            return True
        return not isinstance(n, (ir.Cond, ir.And, ir.Or, ir.Comprehension, ir.Lambda)) and any(
            calls(c) for c in _children(n))

    def liftable(n) -> bool:
        return not isinstance(n, (ir.Local, ir.Const, ir.Global, ir.FuncRef)) and (
            active(n.type) or n.type in PASSIVE or isinstance(n.type, (TensorT, TupleT, StructT)))

    def order(e, pre: list):
        """`e` with what it computes before its last call (a child computed before the child holding
        it) named in `pre`, each ordered the same way first."""
        kids = list(_children(e))
        last = max((i for i, c in enumerate(kids) if calls(c)), default=None)
        if last is None or isinstance(e, (ir.Cond, ir.And, ir.Or, ir.Comprehension, ir.Lambda)):
            return e
        named = {}
        for i, c in enumerate(kids[:last + 1]):
            new = order(c, pre)
            if i < last and liftable(new):
                t = locs.new("pre", new.type, new.span)
                pre.append(ir.Assign(t, new, new.span))
                new = ir.Local(t.slot, t.name, t.type, t.span)
            if new is not c:
                named[id(c)] = new

        def conv(x):
            if isinstance(x, tuple):
                return tuple(conv(y) for y in x)
            return named.get(id(x), x)
        return ir.rebuild(e, conv) if named else e

    def stmt(s):
        field_ = {ir.Assign: "value", ir.Return: "value", ir.ExprStmt: "expr"}.get(type(s))
        v = getattr(s, field_) if field_ else None
        if v is None:
            return s
        pre: list = []
        new = order(v, pre)
        return tuple(pre) + (dataclasses.replace(s, **{field_: new}),) if pre else s

    return locs.function(map_statements(f.body, stmt))


def void_calls(f: ir.Function, spans: frozenset) -> ir.Function:
    """`f` with each call statement at a span in `spans` (a function returning nothing that appends
    to a list the gradient reaches, called for that) assigning the float it returns as the sweeps
    compile it (returns_zero) to a local of its own."""
    if not spans:
        return f
    locs = _NewLocals(f)

    def assign(s):
        match s:
            case ir.ExprStmt(expr=ir.CallFunc(type=t) as c, span=span) if c.span in spans and t == NONE:
                return ir.Assign(locs.new("void", FLOAT, span), dataclasses.replace(c, type=FLOAT), span)
        return s
    return locs.function(map_statements(f.body, assign))


def map_statements(stmts, fn) -> tuple:
    """`stmts` with `fn` applied to each statement that holds no block, and to those in the blocks of
    `if`s and loops; `fn` may give a tuple of statements, which take the statement's place."""
    out = []
    for s in stmts:
        match s:
            case ir.If(then=a, orelse=b):
                s = dataclasses.replace(s, then=map_statements(a, fn), orelse=map_statements(b, fn))
            case ir.While(body=b) | ir.ForRange(body=b) | ir.For(body=b):
                s = dataclasses.replace(s, body=map_statements(b, fn))
            case _:
                s = fn(s)
        out.extend(s if isinstance(s, tuple) else (s,))
    return tuple(out)


def _choice(n) -> bool:
    """`min(a, b, ...)` or `max(a, b, ...)` of floats or f32 (desugar writes it as the `if`s
    choosing the value, whose cotangent is the result's)."""
    match n:
        case ir.Prim(op="minmax.iter", args=(ir.MakeList(elts=elts), ir.Const(value=None)), attrs=(_, False)):
            return n.type in ACTIVE and len(elts) >= 2
    return False


def _choice_of_list(n) -> bool:
    """`min(xs)` or `max(xs)` of a list of floats or f32 (desugar writes it as the loop choosing the
    element, whose cotangent is the result's, after the error of an empty list)."""
    match n:
        case ir.Prim(op="minmax.iter", args=(xs, ir.Const(value=None)), attrs=(_, False)):
            return not isinstance(xs, ir.MakeList) and isinstance(xs.type, ListT) and xs.type.elem in ACTIVE
    return False


def _fold(n) -> bool:
    """`reduce(g, xs, init)` or `reduce(g, xs)` of a list, `g` a lambda or a function's name (desugar
    writes it as the loop it means)."""
    match n:
        case ir.Prim(op="reduce" | "reduce1", args=(g, xs, *_)):
            return isinstance(xs.type, ListT) and (isinstance(g, ir.FuncRef) or isinstance(g, ir.Lambda)
                                                   and g.nparams == 2)
    return False


def _children(n):
    """The IR nodes directly below `n`, in the order they are computed."""
    for _, val in ir.child_fields(n) if ir._is_ir(n) else ():
        for x in (val if isinstance(val, tuple) else (val,)):
            if ir._is_ir(x):
                yield x


def _loops(n) -> bool:
    """A list desugar can write as loops appending to a new list: a list comprehension, a
    copy (`xs.copy()`, `list(xs)`), a concatenation of lists, or a display of values that only read
    repeated (`[0.0] * n`)."""
    match n:
        case ir.Comprehension(kind="list"):
            return True
        case ir.Prim(op="list.copy" | "to_list", args=(a,), type=ListT()):
            return isinstance(a.type, ListT)
        case ir.Prim(op="list.concat", type=ListT()):
            return True
        case ir.Prim(op="list.repeat", args=(ir.MakeList(elts=elts), _)):  # (of lists: the same list n times)
            return all(_pure(x) and not isinstance(x.type, ListT) for x in elts)
    return False


def _pure(n) -> bool:
    """Whether computing `n` neither calls a function nor can fail: reading locals, constants and
    globals, the arithmetic of _LIFT_BEFORE, comparisons, and comprehensions looping over those or
    over a range with a constant step."""
    for m in ir.walk(n):
        match m:
            case ir.Local() | ir.Const() | ir.Global() | ir.Compare() | ir.Comprehension() | ir.CompIf() \
                    | ir.CompFor(target=ir.StoreLocal()) | ir.StoreLocal():
                pass
            case ir.Prim(op=op) if op in _LIFT_BEFORE:
                pass
            case ir.Prim(op="range", args=(_, _, ir.Const(step))) if step != 0:
                pass
            case _:
                return False
    return True


def records_as_tuples(f: ir.Function, program: ir.Program) -> ir.Function:
    """`f` with each record the gradient goes through (a struct of floats, f32, tensors, ints, bools and
    such records, holding at least one float or tensor) written as the tuple it is compiled to
    (lower_numba: a struct is the tuple of its fields, a record of records a tuple of tuples): `P(a, b)`
    a tuple display, `p.a` an item, `p.a = v` (struct.replace) the tuple of p's items with v in a's
    place (`s.a.x = v`: the same, nested). Such records then take the tuples' road (`pair`): as
    locals, parameters, arguments and results, with a cotangent per float field, and a list of them
    as a list of tuples (memory); the tuple type is a RecordT, so such a list keeps the representation
    of the struct list it was; printed, it shows as the struct (lower_numba.spec), and `==` compares
    it field by field, as a tuple. A function that uses one any other way (orders it, puts it in a
    dict) is left as it is (refused)."""
    structs = program.structs
    records: dict[str, RecordT | None] = {}

    def record(t):
        if isinstance(t, StructT) and t.name in structs:
            if t.name not in records:
                records[t.name] = None  # (a struct holding itself, through a list, is none)
                tt = RecordT(tuple(record(u) or u for u in structs[t.name].types), t.name)
                records[t.name] = tt if pair(tt) and flows(tt) else None
            return records[t.name]
        return None

    def retype(t):
        if isinstance(t, FnT):
            return FnT(tuple(retype(p) for p in t.params), retype(t.ret))
        if isinstance(t, ListT):  # a list of records: of tuples (memory)
            e = retype(t.elem)
            return t if e is t.elem else ListT(e)
        if type(t) is TupleT:  # a tuple holding records: of tuples
            items = tuple(retype(u) for u in t.items)
            return t if all(u is v for u, v in zip(items, t.items)) else TupleT(items)
        return record(t) or t

    nodes = list(ir.walk(f.body))
    placed = set()  # record-typed expressions where a tuple may stand
    for n in nodes:
        match n:
            case ir.GetField(obj=o) | ir.Assign(target=ir.StoreLocal(), value=o) | ir.Return(value=o):
                placed.add(id(o))
            case ir.Prim(op="struct.replace", args=(ir.Local() | ir.GetField() as o, v)) if _field_of_local(o):
                placed.update((id(o), id(v)))
            case ir.MakeList(elts=elts) | ir.MakeStruct(args=elts) | ir.MakeTuple(elts=elts):
                placed.update(id(x) for x in elts)
            case ir.Prim(op="list.append", args=(_, v)):
                placed.add(id(v))
            case ir.Prim(op="io.print" | "to_str", args=args):  # shown as the struct (lower_numba.spec)
                placed.update(id(a) for a in args)
            case ir.Compare(operands=ops, ops=cmps) if all(c in ("cmp.eq", "cmp.ne") for c in cmps):
                placed.update(id(a) for a in ops)  # field by field, as a tuple
            case ir.CallFunc(name=name, args=args) if not getattr(program.functions.get(name), "type_params", ()):
                placed.update(id(a) for a in args)  # (a generic one would be instantiated for the tuple)
    recs = [n for n in nodes if record(getattr(n, "type", None)) is not None]
    if not recs and all(retype(t) is t for t in f.slot_types):
        return f
    for n in recs:
        kind = isinstance(n, (ir.Local, ir.MakeStruct, ir.CallFunc, ir.GetField)) or \
            isinstance(n, ir.Prim) and n.op in ("struct.replace", "list.getitem", "tuple.getitem")
        if not (isinstance(n, ir.StoreLocal) or kind and id(n) in placed):
            return f

    def conv(node):
        node = _rebuild(node, conv)
        match node:
            case ir.MakeStruct(args=args, type=TupleT() as t, span=span):
                return ir.MakeTuple(args, t, span)
            case ir.GetField(obj=o, index=j, type=t, span=span) if isinstance(o.type, TupleT):
                return ir.Prim("tuple.getitem", (o,), t, span, (j,))
            case ir.Prim(op="struct.replace", args=(o, v), type=TupleT(items) as t, span=span, attrs=(i,)):
                return ir.MakeTuple(tuple(v if j == i else ir.Prim("tuple.getitem", (o,), u, span, (j,))
                                          for j, u in enumerate(items)), t, span)
        return node
    g = ir.map_types(f, retype)
    return dataclasses.replace(g, body=tuple(conv(s) for s in g.body))


def _field_of_local(e) -> bool:
    """Whether `e` is a local or a field of one (`s.a.b`): read again without computing anything."""
    while isinstance(e, ir.GetField):
        e = e.obj
    return isinstance(e, ir.Local)


def _lifts(v: ir.Cond) -> bool:
    """Whether desugar writes `v` as an `if`: a branch calls a function, or `v` is a tuple or
    a struct (the sweeps take those by item), and both branches are of v's type."""
    return v.then.type == v.type and v.orelse.type == v.type and (isinstance(v.type, (TupleT, StructT)) or any(
        isinstance(n, ir.CallFunc) for n in ir.walk((v.then, v.orelse))))


def live_after(body, slot: int) -> dict[int, bool]:
    """For each assignment to a local and each statement holding no block in `body` (by id), whether
    local `slot` may be read after it before it is assigned again: backward liveness over the
    structured statements, loops to a fixed point. A loop over the local reads it at every pass (the
    loop reads its elements by index)."""
    after: dict[int, bool] = {}

    def uses(n) -> bool:
        return any(isinstance(m, ir.Local) and m.slot == slot for m in ir.walk(n))

    def block(stmts, live: bool, brk: bool, cont: bool) -> bool:
        for s in reversed(stmts):
            live = stmt(s, live, brk, cont)
        return live

    def loop(body, live: bool, always: bool) -> bool:
        """Whether the local is live at the head of a loop (before its test or next item)."""
        head = always
        while True:  # monotone: at most two passes; the last one ran with the fixed point
            new = block(body, head, live, head) or always or live  # (each block walked: it records)
            if new == head:
                return head
            head = new

    def stmt(s, live: bool, brk: bool, cont: bool) -> bool:
        match s:
            case ir.Assign(target=ir.StoreLocal(slot=target), value=v):
                after[id(s)] = live
                return uses(v) or (live and target != slot)
            case ir.If(cond, then, orelse):
                return any([block(then, live, brk, cont), block(orelse, live, brk, cont), uses(cond)])
            case ir.While(cond, body):
                return loop(body, live, uses(cond))
            case ir.ForRange(_, start, stop, step, body):
                return loop(body, live, False) or uses((start, stop, step))
            case ir.For(target=target, iter=it, body=body):
                return loop(body, live, uses(target) or uses(it)) or uses(it)
            case ir.Break():
                return brk
            case ir.Continue():
                return cont
            case ir.Return(value=v):
                return v is not None and uses(v)
        after[id(s)] = live
        return uses(s) or live

    block(body, False, False, False)
    return after


def moves(f: ir.Function) -> set[int]:
    """The assignments `a = b` (by id) of one list local of tensors or floats (memory, or a table) to another after
    which `b` is not read again before it is assigned (`prev = cur` in a dynamic program, `cur` made
    again before its next use): the list changes its name, and its elements' cotangents go with it
    (GradFunction.rstmt). Neither is a parameter (whose cotangents are the caller's)."""
    candidates = [s for s in ir.walk(f.body) if isinstance(s, ir.Assign) and isinstance(s.target, ir.StoreLocal)
                  and (memory(s.target.type) or table(s.target.type)) and isinstance(s.value, ir.Local)
                  and s.value.slot != s.target.slot
                  and s.value.slot >= len(f.params) and s.target.slot >= len(f.params)]
    out, live = set(), {}
    for s in candidates:
        b = s.value.slot
        if b not in live:
            live[b] = live_after(f.body, b)
        if not live[b].get(id(s), True):
            out.add(id(s))
    return out


def check_memory(f: ir.Function, slot: int, name: str, moved: set[int] = frozenset()):
    """A list of tensors or floats under grad: a local made by list displays or calls (anywhere, as often
    as it runs: each assignment keeps the list before on the tape), then only appended to (not while a
    loop runs over it), indexed, measured, looped over and passed to functions on the gradient path; or
    a parameter, which those functions read and may append to."""
    def refuse(why, span):
        what = {"$iter": "a list a comprehension or copy loops over",
                "$list": "the list a comprehension, copy or concatenation makes"}.get(
            name.rstrip("0123456789"), f"its list '{name}'")
        raise Unsupported(f"the gradient through '{f.name}': {what} {why} (compiled: a list of tensors "
                          "or floats made by a list display or a call, appended to, indexed, summed, looped over "
                          "and passed to functions that read it)", span,
                          f.source_name)
    made = [s for s in ir.walk(f.body) if isinstance(s, ir.Assign) and isinstance(s.target, ir.StoreLocal)
            and s.target.slot == slot]
    if slot < len(f.params):  # the caller's list: read here, or appended to (the reverse takes it back)
        if made:
            refuse("is a parameter assigned to", made[0].span)
    elif not made or any(not isinstance(m.value, (ir.MakeList, ir.CallFunc)) and id(m) not in moved for m in made):
        bad = next((m for m in made if not isinstance(m.value, (ir.MakeList, ir.CallFunc)) and id(m) not in moved),
                   None)
        if bad is not None and isinstance(bad.value, ir.Local):
            refuse(f"is given the list '{bad.value.name}' while '{bad.value.name}' is read again before it is "
                   f"assigned, or is a parameter (write `{name} = {bad.value.name}.copy()`)", bad.span)
        refuse("is assigned otherwise than by a list display, a call or a list local",
               f.span if bad is None else bad.span)
    uses = {id(n.args[0]) for n in ir.walk(f.body) if isinstance(n, ir.Prim)
            and n.op in ("list.append", "list.getitem", "len", *_LIST_REDUCTIONS)
            and isinstance(n.args[0], ir.Local)}
    uses |= {id(n.iter) for n in ir.walk(f.body) if isinstance(n, ir.For) and isinstance(n.iter, ir.Local)}
    uses |= {id(n.container) for n in ir.walk(f.body) if isinstance(n, ir.StoreIndex) and n.op == "list.setitem"
             and n.container.type.elem in ACTIVE}  # an element replaced (a float's: check_function)
    # passed to a function on the gradient path, which reads it (check_memory there)
    uses |= {id(a) for n in ir.walk(f.body) if isinstance(n, ir.CallFunc) and flows(n.type) for a in n.args}
    uses |= {id(n.value) for n in ir.walk(f.body) if isinstance(n, ir.Return)}  # given to the caller
    uses |= {id(n.value) for n in ir.walk(f.body) if id(n) in moved}  # given another name, not read again
    uses |= {id(n.args[1]) for n in ir.walk(f.body) if isinstance(n, ir.Prim) and n.op == "list.append"
             and table(n.args[0].type)}  # a row appended to a table (a move: check_table)
    in_comprehension = {id(m) for n in ir.walk(f.body) if isinstance(n, ir.Comprehension) for m in ir.walk(n)}
    for n in ir.walk(f.body):
        if isinstance(n, ir.Local) and n.slot == slot and id(n) in in_comprehension and id(n) not in uses:
            refuse("is read by a list comprehension not written as a loop (one in the condition of a `while`; "
                   "compiled when assigned to a local of its own)", n.span)
        if isinstance(n, ir.Local) and n.slot == slot and id(n) not in uses:
            refuse("is used otherwise (given another name and read again before it is assigned: write "
                   "`.copy()`; changed in place; or passed to a function returning no float)",
                   n.span)
        if isinstance(n, ir.For) and isinstance(n.iter, ir.Local) and n.iter.slot == slot and any(
                isinstance(m, ir.Prim) and m.op == "list.append" and _is_slot(m.args[0], slot) for m in ir.walk(n.body)):
            refuse("grows while a loop runs over it", n.span)
        if isinstance(n, ir.For) and isinstance(n.iter, ir.Local) and n.iter.slot == slot and any(
                any(m is x for x in made) for m in ir.walk(n.body)):
            refuse("is made again while a loop runs over it", n.span)
    statements = {id(n.expr) for n in ir.walk(f.body) if isinstance(n, ir.ExprStmt)}
    for n in ir.walk(f.body):
        if isinstance(n, ir.Prim) and n.op == "list.append" and _is_slot(n.args[0], slot) and id(n) not in statements:
            refuse("is appended to inside an expression", n.span)


def check_table(f: ir.Function, slot: int, name: str, moved: set[int], grown: dict):
    """A table (a list of lists of floats) the gradient reaches: a local made by list displays whose rows
    are displays (`d = []`, `[[0.0, w], [1.0, 2.0]]`), as often as it runs, or given a table local's
    name (moves); its rows appended (`d.append(row)`: a new list, or a list local not read again
    before it is assigned); read as `len(d)`, `len(d[i])`, `d[i][j]`; changed as `d[i][j] = v` and
    `d[i].append(v)`; a row passed to a function that does not append to it (`dot(w, d[i])`: the
    callee reads, or replaces elements of, the row itself and adds into its cotangents in place); the
    table passed to a function on the gradient path (one returning a float, a tensor or a tuple of
    them), which takes it as a parameter: one it reads and replaces elements of, neither appending to
    it or its rows nor assigning it (the callee adds into the caller's cotangents in place). A row is
    never a value of its own otherwise (`r = d[i]`, `for r in d`: the row would have two names), nor
    is the table returned."""
    def refuse(why, span):
        raise Unsupported(f"the gradient through '{f.name}': its table '{name}' {why} (compiled: a list of lists of "
                          "floats made by a list display, its rows appended, its elements read and replaced as "
                          "`d[i][j]`, its rows appended to as `d[i].append(v)`)", span, f.source_name)
    param = slot < len(f.params)
    for m in ir.walk(f.body):
        if isinstance(m, ir.Assign) and isinstance(m.target, ir.StoreLocal) and m.target.slot == slot:
            v = m.value
            if not (isinstance(v, ir.MakeList) and all(isinstance(r, ir.MakeList) or not isinstance(r, ir.Local)
                                                       and _fresh(r) for r in v.elts) or id(m) in moved):
                refuse("is assigned otherwise than by a list display of new rows"
                       if not param else "is a parameter assigned", m.span)
    ok: set[int] = set()  # the ids of the uses of the table that are allowed
    live: dict[int, dict] = {}
    for n in ir.walk(f.body):
        match n:
            case ir.ExprStmt(expr=ir.Prim(op="list.append", args=(ir.Local() as d, row)) as e) if d.slot == slot:
                if param:
                    refuse("is a parameter appended to (a function may read its table parameters and replace "
                           "their elements)", e.span)
                if isinstance(row, ir.Local):
                    if not all(_fresh(a.value) for a in ir.walk(f.body) if isinstance(a, ir.Assign)
                               and isinstance(a.target, ir.StoreLocal) and a.target.slot == row.slot):
                        refuse(f"is appended the list '{row.name}', which is not always made as a new one (a "
                               "display, a comprehension, a copy)", e.span)
                    if row.slot not in live:
                        live[row.slot] = live_after(f.body, row.slot)
                    if live[row.slot].get(id(n), True) or row.slot < len(f.params):
                        refuse(f"is appended the list '{row.name}', which is read again before it is assigned "
                               f"(write `{name}.append({row.name}.copy())`)", e.span)
                    ok.add(id(row))
                elif not _fresh(row):
                    refuse("is appended a list that is not a new one (write `.copy()`)", row.span)
                ok.add(id(d))
            case ir.Prim(op="len", args=(ir.Local() as d,)) if d.slot == slot:
                ok.add(id(d))
            case ir.Prim(op="len", args=(r,)) | ir.Prim(op="list.getitem", args=(r, _)) if _row(r):
                ok.add(id(r.args[0]))
            case ir.Prim(op="float.sum" | "f32.sum" | "seq.mean", args=(r, *_)) if _row(r):  # `sum(t[i])`
                ok.add(id(r.args[0]))
            case ir.Assign(target=ir.StoreIndex(container=r, op="list.setitem")) if _row(r):
                ok.add(id(r.args[0]))
            case ir.ExprStmt(expr=ir.Prim(op="list.append", args=(r, _)) as e) if _row(r):
                if param and r.args[0].slot == slot:
                    refuse("is a parameter whose rows are appended to (a function may read its table parameters "
                           "and replace their elements)", e.span)
                ok.add(id(r.args[0]))
            case ir.Assign(target=ir.StoreLocal(), value=ir.Local(slot=s_)) if s_ == slot and id(n) in moved:
                ok.add(id(n.value))
            case ir.CallFunc(args=args):
                for j, a in enumerate(args):
                    if _row(a) and a.args[0].slot == slot:
                        if j in grown.get(id(n), ()):
                            refuse(f"has a row passed to '{n.name}', which appends to it", a.span)
                        ok.add(id(a.args[0]))
                    elif _is_slot(a, slot):
                        if j in grown.get(id(n), ()) and not flows(n.type):
                            refuse(f"is passed to '{n.name}', which changes it and returns an int, a bool or a "
                                   "string (a function changing a table it is passed returns nothing or a value "
                                   "the gradient goes through)", a.span)
                        ok.add(id(a))
    for n in ir.walk(f.body):
        if isinstance(n, ir.Local) and n.slot == slot and id(n) not in ok:
            refuse("is used otherwise (a row as a value of its own, `r = d[i]` or `for r in d`; the table given "
                   "another name and read again, or returned)", n.span)


def _fresh(e) -> bool:
    """Whether the list `e` computes is a new one, which nothing else holds (a display, a repetition of
    one, a comprehension, a copy, a concatenation)."""
    match e:
        case ir.MakeList() | ir.Comprehension():
            return True
        case ir.Prim(op="list.repeat" | "list.copy" | "to_list" | "list.concat"):
            return True
    return False


def kept_nodes(e) -> list[ir.Prim]:
    """The tensor values an expression computes on its way (its primitives, and theirs, down to the
    first node of another kind), in the order it computes them: the forward sweep keeps them on the
    tape, so the reverse sweep does not compute them again."""
    out: list[ir.Prim] = []

    def visit(n):
        if isinstance(n, ir.Prim):
            for a in n.args:
                visit(a)
            if isinstance(n.type, TensorT):
                out.append(n)
    visit(e)
    return out


def _unpacks(s, tmp: int, k: int) -> bool:
    """Whether `s` is `v = t[k]`, a local assigned item k of the tuple local `t` (slot `tmp`)."""
    match s:
        case ir.Assign(target=ir.StoreLocal(), value=ir.Prim(op="tuple.getitem", args=(ir.Local(slot=slot),),
                                                             attrs=(j,))):
            return slot == tmp and j == k
    return False


def _slots(f: ir.Function) -> set[int]:
    """The slots f's body reads or assigns."""
    return {n.slot for n in ir.walk(f.body) if isinstance(n, (ir.Local, ir.StoreLocal))}


def _is_slot(e, slot: int) -> bool:
    return isinstance(e, ir.Local) and e.slot == slot


def _what(s) -> str:
    match s:
        case ir.Assign():
            return "an assignment into a container or to several names"
        case ir.For():
            return f"a loop over a {s.kind}"
    return type(s).__name__


class Adj:
    """What an adjoint rule sees (adjoint_rules.py): the cotangent, the arguments, the output."""

    def __init__(self, fl: "GradFunction", e: ir.Prim, g: str | None, out: str | None = None, gs=None):
        self.fl, self.e, self.g = fl, e, g
        self.gs = gs  # a primitive with several outputs: each one's (cotangent, live) or None
        self.dt = np_dtype(e.type) if active(e.type) else "np.float64"
        self._args: dict[int, str] = {}
        self._out = out  # known when the expression using this one computed it

    def a(self, i: int) -> str:
        if i not in self._args:
            arg = self.e.args[i]
            known = self.fl.known.get(id(arg)) or self.fl.recalled(arg)
            self._args[i] = known if known is not None else self.fl.recompute(arg)
        return self._args[i]

    def needs(self, i: int) -> bool:
        return self.fl.depends(self.e.args[i])

    def num(self, i: int) -> str:
        v = self.a(i)
        if isinstance(self.e.type, TensorT) and not isinstance(self.e.args[i].type, TensorT):
            return typed(v, self.e.type)
        return v

    def out(self) -> str:
        if self._out is None:
            self._out = self.fl.known.get(id(self.e)) or self.fl.recalled(self.e)
        if self._out is None:
            slots = {}
            args = []
            for i, arg in enumerate(self.e.args):
                if isinstance(arg, ir.Const):
                    args.append(arg)
                    continue
                slot = self.fl.pseudo()
                slots[slot] = self.a(i)
                args.append(ir.Local(slot, "$arg", arg.type, arg.span))
            self.fl.lambda_env.append(slots)
            try:
                self._out = self.fl.kept(self.fl.prim(ir.Prim(self.e.op, tuple(args), self.e.type, self.e.span,
                                                               self.e.attrs)))
            finally:
                self.fl.lambda_env.pop()
            self.fl.recall(self.e, self._out)
        return self._out

    def math(self, name: str, x: str, t=None) -> str:
        """The math function `name` of `x` (of `e`'s type, or `t`), f32 through float64 as the forward code."""
        return self.fl.math(None, name, x, t or self.e.type)

    def line(self, text: str):
        self.fl.emit(text)

    def dtype_of(self, i: int) -> str:
        return np_dtype(self.e.args[i].type)

    def sum_last(self, x: str) -> str:
        """`sum(x, axis=-1, keepdims=True)` for x of `e`'s shape: NumPy's pairwise sum of each row."""
        v = self.fl.kept(x)
        rank = len(self.e.type.shape)
        outer = " * ".join(f"{v}.shape[{d}]" for d in range(rank - 1)) or "1"
        r = f"nbt.reduce3({v}.reshape(({outer}, {v}.shape[{rank - 1}], 1)), 0, {typed('0.0', self.e.type)})"
        return self.fl.kept(f"{r}.reshape(({''.join(f'{v}.shape[{d}], ' for d in range(rank - 1))}1, ))")

    def c(self, v) -> str:
        return typed(repr(v) if not isinstance(v, str) else v, self.e.type)

    def tmp(self, expr: str) -> str:
        return self.fl.kept(expr)

    def param(self, e: ir.Prim, i: int) -> str:
        return self.fl.param(e, e.attrs[1][i][0])

    def unb(self, x: str, i: int, src=None) -> str:
        """Cotangent `x` (of the output's shape, or of type `src`) summed to the shape of argument i
        (NumPy broadcasting)."""
        t, out = self.e.args[i].type, src or self.e.type
        if not isinstance(t, TensorT):
            if isinstance(out, TensorT):
                return typed(f"nbt.total({x}, {typed('0.0', out)})", t)
            return x
        if t.shape == out.shape:
            return x
        extra = len(out.shape) - len(t.shape)
        if extra < 0 or any(n != m and n != 1 for n, m in zip(t.shape, out.shape[extra:])):
            raise Unsupported(f"the gradient of a broadcast of {t} to {out}", self.e.span, self.fl.src)
        v = self.fl.kept(x)
        for _ in range(extra):  # NumPy sums the leading axes one at a time, each in order
            v = self.fl.kept(f"nbt.sum_axis0({v}.reshape(({v}.shape[0], {v}[0].size))).reshape({v}.shape[1:])")
        rank = len(t.shape)
        for ax, (n, m) in enumerate(zip(t.shape, out.shape[extra:])):
            if n == 1 and m != 1:  # then each axis of size 1 that was stretched, keeping it
                before = " * ".join(f"{v}.shape[{d}]" for d in range(ax)) or "1"
                after = " * ".join(f"{v}.shape[{d}]" for d in range(ax + 1, rank)) or "1"
                shape = "".join(f"{v}.shape[{d}], " if d != ax else "1, " for d in range(rank))
                v = self.fl.kept(f"nbt.sum_keep(np.ascontiguousarray({v}).reshape(({before}, {v}.shape[{ax}], "
                                 f"{after})), {typed('0.0', out)}).reshape(({shape}))")
        return v

    def scatter(self) -> str:
        """getitem's cotangent: zeros of the container's shape with the cotangent at the index."""
        c = self.a(0)
        idx = [self.a(i) for i in range(1, len(self.e.args))]
        site = self.fl.site(self.e.span)
        r = self.fl.temp()
        self.fl.emit(f"{r} = np.zeros_like({c})")
        self.fl.emit(f"{r}[{', '.join(f'nbt.idx({i}, {c}.shape[{d}], {site})' for d, i in enumerate(idx))}] = {self.g}")
        return r


class GradFunction(FunctionLowerer):
    """The forward (`forward=True`) or the reverse sweep of one function of a plan."""

    def __init__(self, gm: GradModule, plan: Plan, inst: str, forward: bool):
        super().__init__(gm.m, plan.fns[inst], inst)
        self.gm, self.plan, self.forward = gm, plan, forward
        f = self.f
        self.slot = f.nslots  # pseudo slots (call results, loop helpers) are numbered from here
        self.hidden: list[tuple[int, str, object]] = []  # (slot, name, type): loop helpers, saved at return
        self.calls: dict[int, ir.Local] = {}  # id(CallFunc) -> the local holding its result
        self.frames: list[tuple] = []  # the forward sweep's enclosing blocks, branches and loops
        self.synth: dict[int, tuple] = {}  # id(loop) -> its helper statements and names
        self.known: dict[int, str] = {}  # reverse sweep: id(node) -> its value, kept by the forward sweep
        self.npseudo = 0
        self.act = set(plan.active[inst])  # the slots the gradient reaches (more as prepare numbers its own)
        self.first = first_assignments(f)
        self.memo: dict[int, tuple[str, int]] = {}  # recalled
        self.sure: dict[str, int] = {}  # reverse sweep: live flags surely True -> the block level (set_live)
        self.pending: dict[str, tuple[str, list[str]]] = {}  # cotangent -> (its flag, values to add)
        self.prepare(f.body)

    @property
    def indent(self) -> int:
        return self._indent

    @indent.setter
    def indent(self, level: int):
        if getattr(self, "pending", None):
            self.flush()
        if level < getattr(self, "_indent", 0) and getattr(self, "memo", None):  # a block closed: what
            self.memo = {k: v for k, v in self.memo.items() if v[1] <= level}  # it computed is gone
        if level < getattr(self, "_indent", 0) and getattr(self, "sure", None):
            self.sure = {k: v for k, v in self.sure.items() if v <= level}
        self._indent = level

    def sub(self, e):
        saved, self.memo = self.memo, {}  # code that may not run: what it computes is not recalled
        self.flush()
        sure, self.sure = self.sure, {}
        try:
            return super().sub(e)
        finally:
            self.memo, self.sure = saved, sure

    def recompute(self, e) -> str:
        """The value of `e` computed again by the reverse sweep (a name), its math functions' values
        (`exp(x)`) computed and recalled one by one, for the adjoints of the expressions using them."""
        if not self.scalar(e):
            return self.kept(self.expr(e))
        slots = {}

        def named(n):
            if isinstance(n, ir.Prim) and n.op.startswith("math.") and self.scalar(n):
                slot = self.pseudo()
                slots[slot] = self.recalled(n) or self.recompute(n)
                return ir.Local(slot, "$arg", n.type, n.span)
            return _rebuild(n, named)
        flat = _rebuild(e, named)
        self.lambda_env.append(slots)
        try:
            return self.recall(e, self.kept(self.expr(flat)))
        finally:
            self.lambda_env.pop()

    @staticmethod
    def scalar(e) -> bool:
        """A number computed from numbers (no container read)."""
        return all(isinstance(n, (ir.Prim, ir.Local, ir.Const)) and n.type in ACTIVE + PASSIVE for n in ir.walk(e))

    def recall(self, e, name: str) -> str:
        """`name`, which holds the value of `e` recomputed by the reverse sweep, kept for the rest of
        the statement's reverse while its block is open (recalled): the adjoint of `exp(a) + exp(b)`
        needs the sum and then each exp, the same nodes. Only numbers computed from numbers, which
        nothing changes until the next value is taken off the tape (pop)."""
        if self.scalar(e):
            self.memo[id(e)] = (name, self.indent)
        return name

    def recalled(self, e) -> str | None:
        hit = self.memo.get(id(e))
        return hit[0] if hit is not None else None

    def pseudo(self) -> int:
        """A slot of a value held in a Python name while one primitive is lowered (lambda_env)."""
        self.npseudo += 1
        return -1000 - self.npseudo

    def anf(self, e, kept: set[int], names: list[str]) -> str:
        """Lower `e` computing each of its kept nodes (kept_nodes) into a name, appended to `names` in
        the order computed; every argument of a node above one is computed first, in order."""
        if not (isinstance(e, ir.Prim) and any(id(n) in kept for n in kept_nodes(e))):
            return self.expr(e)
        slots, args = {}, []
        for a in e.args:
            if isinstance(a, (ir.Const, ir.Local)):
                args.append(a)
                continue
            slot = self.pseudo()
            slots[slot] = self.kept(self.anf(a, kept, names))
            args.append(ir.Local(slot, "$arg", a.type, a.span))
        self.lambda_env.append(slots)
        try:
            value = self.prim(ir.Prim(e.op, tuple(args), e.type, e.span, e.attrs))
        finally:
            self.lambda_env.pop()
        if id(e) in kept:
            value = self.kept(value)
            names.append(value)
        return value

    def computed(self, v) -> str:
        """Forward: `v` (calls hoisted) computed, its kept tensors pushed after it."""
        nodes = kept_nodes(v)
        names: list[str] = []
        value = self.anf(v, {id(n) for n in nodes}, names)
        for n, name in zip(nodes, names):
            self.push(name, n.type)
        return value

    def restore_kept(self, e):
        """Reverse: the kept tensors of `e` (with_calls'), popped (the forward sweep pushed them)."""
        for n in reversed(kept_nodes(e)):
            t = self.temp()
            self.emit(f"{t} = {self.pop(n.type)}")
            self.known[id(n)] = t

    # ---- names ---------------------------------------------------------------------------------
    def new_slot(self, name: str, t, hidden=True) -> ir.Local:
        s = self.slot
        self.slot += 1
        if hidden:
            self.hidden.append((s, name, t))
        return ir.Local(s, name, t, self.f.span)

    def prepare(self, stmts):
        """Number the pseudo locals in statement order, the same for both sweeps."""
        for s in stmts:
            match s:
                case ir.Assign(target=ir.StoreLocal(slot=slot, type=t), value=v) \
                        if active(t) or self.mem(slot, t) or pair(t) or self.tab(slot, t) or self.dic(slot, t):
                    self.number_calls(v)
                case ir.ExprStmt(expr=ir.Prim(op="list.append", args=(ir.Local(type=t), v))) if memory(t) or table(t):
                    self.number_calls(v)
                case ir.ExprStmt(expr=ir.Prim(op="list.append", args=(c, v))) if _row(c):
                    self.number_calls(v)
                case ir.Assign(target=ir.StoreIndex(container=c), value=v) \
                        if isinstance(c, ir.Local) and (self.mem(c.slot, c.type) or self.dic(c.slot, c.type)) \
                        or _row(c):
                    self.number_calls(v)
                case ir.Return(value=v) if v is not None:
                    self.number_calls(v)
                case ir.If(then=a, orelse=b):
                    self.prepare(a)
                    self.prepare(b)
                case ir.While(body=b):
                    self.synth[id(s)] = (self.loop_counter(),)
                    self.prepare(b)
                case ir.ForRange(target=tg, body=b):
                    v = self.new_slot("$v", INT, hidden=False)
                    self.synth[id(s)] = (self.loop_counter(), v, ir.Assign(tg, v, s.span))
                    self.prepare(b)
                case ir.For(target=tg, iter=ir.Local(type=lt) as it, body=b) if self.mem(it.slot, lt):
                    k = self.new_slot("$k", INT)
                    v = self.new_slot("$v", INT, hidden=False)
                    set_k = ir.Assign(ir.StoreLocal(k.slot, k.name, INT, s.span), v, s.span)
                    set_x = ir.Assign(tg, ir.Prim("list.getitem", (it, k), tg.type, s.span), s.span)
                    self.synth[id(s)] = (self.loop_counter(), v, None, set_k, set_x, it)
                    self.prepare(b)
                case ir.For(target=tg, iter=it, body=b):
                    seq = self.new_slot("$seq", it.type)
                    if reads(it, self.act):
                        self.act.add(seq.slot)
                    k = self.new_slot("$k", INT)
                    v = self.new_slot("$v", INT, hidden=False)
                    set_seq = ir.Assign(ir.StoreLocal(seq.slot, seq.name, seq.type, s.span), it, s.span)
                    set_k = ir.Assign(ir.StoreLocal(k.slot, k.name, INT, s.span), v, s.span)
                    op = {"tensor": "tensor.getitem", "list": "list.getitem", "str": "str.getitem"}[s.kind]
                    row = ir.Prim(op, (seq, k), tg.type, s.span)
                    set_x = ir.Assign(tg, row, s.span)
                    self.number_calls(it)
                    self.synth[id(s)] = (self.loop_counter(), v, set_seq, set_k, set_x, seq)
                    self.prepare(b)

    def loop_counter(self) -> str:
        s = self.slot
        self.slot += 1
        return f"_n{s}"

    def number_calls(self, e):
        """Every call in `e` (an expression the reverse sweep goes through) gets a local: its result is
        kept on the tape, so the reverse sweep never calls a function again (it may print, or be slow)."""
        for node in ir.walk(e):
            if isinstance(node, ir.CallFunc) and id(node) not in self.calls:
                on = active_call(node, self.m.p.structs, self.act)
                if not (on or node.type in PASSIVE or flows(node.type) or constant(node.type, self.m.p.structs)):
                    self.unsupported(f"a call returning a {node.type} inside an expression on the gradient path",
                                     node.span)
                self.calls[id(node)] = self.new_slot("$c", node.type, hidden=False)
                if on:
                    self.act.add(self.calls[id(node)].slot)
        for node in ir.walk(e):
            if isinstance(node, (ir.Cond, ir.And, ir.Or, ir.Comprehension, ir.Lambda)) and any(
                    isinstance(n, ir.CallFunc) for n in ir.walk(node)):
                self.unsupported("a call inside a conditional expression on the gradient path", node.span)

    def mem(self, slot: int, t) -> bool:
        """Whether the local `slot` of type `t` is a list of tensors or floats the gradient reaches, with
        a cotangent per element (a constant one is read as data)."""
        return memory(t) and slot in self.act

    def dic(self, slot: int, t) -> bool:
        """Whether the local `slot` of type `t` is a dict of floats or tensors the gradient reaches
        (dict_mem), with a cotangent per key reached: a typed dict of them."""
        return dict_mem(t) and slot in self.act

    def dead_dict(self, t) -> str:
        """A dict of cotangents for the dict of floats or tensors of type t, none reached yet."""
        return f"rt.dict_new({self.m.nbtype(t.key)}, {self.m.nbtype(t.val)})"

    def tab(self, slot: int, t) -> bool:
        """Whether the local `slot` of type `t` is a table (a list of lists of floats) the gradient
        reaches."""
        return table(t) and slot in self.act

    def dead_table(self, bar: str, d: str, elem) -> None:
        """Set `bar` to a cotangent per element of the table `d`, none reached yet."""
        r, row = self.temp(), self.temp()
        self.emit(f"{bar} = List.empty_list({self.gm.bar_list(elem)})")
        self.emit(f"for {r} in range(len({d})):")
        self.indent += 1
        for line in self.gm.dead_list(row, f"len({d}[{r}])", elem):
            self.emit(line)
        self.emit(f"{bar}.append({row})")
        self.indent -= 1

    def bar(self, slot: int) -> str:
        return f"b{slot}"

    def live(self, slot: int) -> str:
        return f"k{slot}"

    def name(self, local: ir.Local) -> str:
        return mangle_local(local.slot, local.name)

    def locals(self) -> list[tuple[int, str, object]]:
        f = self.f
        return [(i, n, t) for i, (n, t) in enumerate(zip(f.slot_names, f.slot_types))] + self.hidden

    # ---- tape ----------------------------------------------------------------------------------
    def push(self, value: str, t):
        if pair(t):
            for j, item in enumerate(t.items):
                self.push(f"{value}[{j}]", item)
        elif t in PASSIVE:
            self.emit(f"al.push(ti, {'int(' + value + ')' if t == BOOL else value})")
        elif t in ACTIVE:
            self.emit(f"al.push(tf, np.float64({value}))")
        else:
            self.emit(f"{self.tape(t)}.append({value})")

    def pop(self, t) -> str:
        """The value on top of t's tape, taken off (use the value at once: it is taken as the line runs)."""
        self.memo = {}
        if pair(t):
            items = [""] * len(t.items)
            for j in range(len(t.items) - 1, -1, -1):
                items[j] = self.temp()
                self.emit(f"{items[j]} = {self.pop(t.items[j])}")
            return "(" + "".join(v + ", " for v in items) + ")"
        if t in PASSIVE:
            return "(al.take(ti) != 0)" if t == BOOL else "al.take(ti)"
        if t in ACTIVE:
            return "al.take(tf)" if t == FLOAT else "np.float32(al.take(tf))"
        return f"{self.tape(t)}.pop()"

    def tape(self, t) -> str:
        if ("data", t) in self.plan.tapes:
            return self.plan.tapes[("data", t)]
        if memory(t) or table(t):
            return self.plan.tapes[list_kind(t)]
        return self.plan.tapes[(t.dtype, len(t.shape))]

    def dead(self, t) -> str:
        """The cotangent nothing reached yet."""
        if isinstance(t, TensorT):
            return f"np.zeros({(0,) * len(t.shape)!r}, {np_dtype(t)})"
        return typed("0.0", t)

    # ---- the function --------------------------------------------------------------------------
    def lower(self) -> str:
        f = self.f
        gl = self.m.global_args(self.inst)
        tapes = self.gm.tape_args(self.plan)
        gtypes = [self.m.threaded[g][1] for g in self.m.global_uses[self.inst]]
        ttypes = self.gm.tape_types(self.plan)
        if self.forward:
            params = [mangle_local(i, n) for i, n in enumerate(f.params)]
            for i, n, t in self.locals()[len(f.params):]:
                self.emit(f"{mangle_local(i, n)} = {self.default(t)}")
            self.block(f.body)
            sig = f"{self.m.nbtype(f.type.ret)}(" + "".join(self.m.nbtype(t) + ", " for t in list(f.type.params) + gtypes) \
                + "".join(t + ", " for t in ttypes) + "types.int64)"
            head = f"def {self.plan.fwd(self.inst)}({''.join(p + ', ' for p in params)}{gl}{tapes}depth):"
        else:
            for i, n, t in reversed(self.locals()):
                self.emit(f"{mangle_local(i, n)} = {self.pop(t)}")
            carried = carried_params(f)
            ins, itypes = [], []
            for i, n, t in self.locals():
                if self.mem(i, t) and i < len(f.params):  # the caller's cotangents of its elements, added into
                    ins.append(f"i{self.bar(i)}")
                    itypes.append(self.gm.bar_list(t.elem))
                    self.emit(f"{self.bar(i)} = i{self.bar(i)}")
                elif self.mem(i, t):  # a cotangent per element
                    for line in self.gm.dead_list(self.bar(i), f"len({mangle_local(i, n)})", t.elem):
                        self.emit(line)
                elif self.dic(i, t) and i < len(f.params):  # the caller's, added into in place
                    ins.append(f"i{self.bar(i)}")
                    itypes.append(self.m.type_const(f"types.DictType({self.m.nbtype(t.key)}, {self.m.nbtype(t.val)})"))
                    self.emit(f"{self.bar(i)} = i{self.bar(i)}")
                elif self.dic(i, t):
                    self.emit(f"{self.bar(i)} = {self.dead_dict(t)}")
                elif self.tab(i, t) and i < len(f.params):  # the caller's, added into in place
                    ins.append(f"i{self.bar(i)}")
                    itypes.append(self.gm.bar_table(t.elem.elem))
                    self.emit(f"{self.bar(i)} = i{self.bar(i)}")
                elif self.tab(i, t):
                    self.dead_table(self.bar(i), mangle_local(i, n), t.elem.elem)
                for suffix, u in cotangents(t):  # a tuple's: one per item
                    scalar = not isinstance(u, TensorT)
                    b, k = self.bar(i) + suffix, self.live(i) + suffix
                    if i < len(f.params):  # the caller's cotangent so far when carried: sums in the tape's order
                        pre = "i" if i in carried else "_"
                        ins += [pre + b] + ([pre + k] if scalar else [])
                        itypes += [self.m.nbtype(u)] + (["types.boolean"] if scalar else [])
                    self.emit(f"{b} = {f'i{b}' if i in carried else self.dead(u)}")
                    if scalar:
                        self.set_live(k, f"i{k}" if i in carried else "False")
            self.rblock(f.body)
            outs, otypes = [], []
            for i, t in enumerate(f.type.params):
                for suffix, u in cotangents(t):
                    outs.append(self.bar(i) + suffix)
                    otypes.append(self.m.nbtype(u))
                    if not isinstance(u, TensorT):
                        outs.append(self.live(i) + suffix)
                        otypes.append("types.boolean")
            self.emit(f"return ({''.join(o + ', ' for o in outs)})")
            rt = f"types.Tuple(({''.join(t + ', ' for t in otypes)}))"
            live_type = live_type_of(f.type.ret)
            ret = f.type.ret
            gout_type = self.gm.bar_list(ret.elem) if memory(ret) else self.m.nbtype(ret)
            sig = f"{rt}(" + "".join(self.m.nbtype(t) + ", " for t in gtypes) + "".join(t + ", " for t in ttypes) \
                + f"{gout_type}, {live_type}, " + "".join(t + ", " for t in itypes) + "types.int64)"
            head = f"def {self.plan.bwd(self.inst)}({gl}{tapes}gout, gout_live, {''.join(a + ', ' for a in ins)}depth):"
        which = "forward" if self.forward else "reverse"
        options = f"cache={self.inst not in self.m.uncached}, no_cpython_wrapper=True, no_cfunc_wrapper=True"
        # The reverse sweep's arithmetic is the cotangents', IEEE 754 as the tape's (numpy) is: the
        # derivative of sqrt at 0 is inf, a cotangent over a denominator whose square underflows is
        # -inf. Its divisions must not raise Python's ZeroDivisionError (Numba's default error model):
        # the forward sweep has already raised every error the program's own divisions give.
        model = "" if self.forward else ', error_model="numpy"'
        options += model
        deco = f'@njit(inline="always"{model})' if self.inst in self.plan.inline else \
            f"@njit({sig}, {options})" if self.inst not in self.plan.cyclic else f"@njit({options})"
        out = [deco, head,
               f"    # the {which} sweep of the gradient of {self.inst} ({f.source_name}:{f.span.line})"]
        if self.inst in self.plan.cyclic:  # compiled lazily, typed by inference, which needs a base case: one
            # that is never taken (the calls made with `rt.enter` have checked the depth)
            dead = self.default(f.type.ret) if self.forward else "(" + "".join(d + ", " for d in self.dead_outs()) + ")"
            out += ["    if depth > rt.MAX_DEPTH:", f"        rt.too_deep({f.name!r}, {self.site(f.span)})",
                    f"        return {dead}"]
        self.flush()
        return "\n".join(out + self.param_lines + self.buf)

    def emit(self, line: str):
        if self.pending:  # a line using a waiting cotangent, its flag or a value added: add them first;
            # and a line opening a block (`for ...:`), whose body the additions must not land in or cut
            words = _WORD.findall(line)
            waiting = {n for b, (k, vs) in self.pending.items() for n in (b, k, *vs)}
            if words[:1] in (["for"], ["while"], ["if"], ["elif"], ["else"]) or any(w in waiting for w in words):
                self.flush()
        super().emit(line)

    def flush(self):
        """Emit the additions waiting in `pending` (set_live)."""
        pending, self.pending = self.pending, {}
        for b, (_, values) in pending.items():
            super().emit(f"{b} = {b}" + "".join(f" + {v}" for v in values))

    def dead_outs(self) -> list[str]:
        """What the reverse sweep returns for its parameters when no cotangent reached them."""
        out = []
        for t in self.f.type.params:
            for _, u in cotangents(t):
                out += [self.dead(u)] + ([] if isinstance(u, TensorT) else ["False"])
        return out

    # ---- the forward sweep -----------------------------------------------------------------------
    def block(self, stmts):
        need = needs_exit(stmts)
        if not stmts:
            self.emit("pass")
        for i, s in enumerate(stmts):
            self.frames.append(("blk", i, need))
            self.fstmt(s)
            self.frames.pop()
        if need and not (stmts and isinstance(stmts[-1], (ir.Return, ir.Break, ir.Continue))):
            self.push(f"{len(stmts)}", INT)

    def unwind(self, to_loop: bool):
        for frame in reversed(self.frames):
            match frame:
                case ("blk", i, need):
                    if need:
                        self.push(f"{i + 1}", INT)
                case ("if", flag):
                    self.push(f"{flag}", INT)
                case ("loop", counter):
                    if to_loop:
                        return
                    self.push(f"{counter}", INT)

    def hoist(self, e):
        """Compute the gradient-path calls in `e` (innermost first) into their locals; `e` with them."""
        calls = []

        def sub(node):
            if isinstance(node, ir.CallFunc) and id(node) in self.calls:
                args = tuple(sub(a) for a in node.args)
                local = self.calls[id(node)]
                if not active_call(node, self.m.p.structs, self.act):  # the ordinary function: a constant here
                    self.emit(f"{self.name(local)} = {self.expr(ir.CallFunc(node.name, args, node.type, node.span))}")
                    calls.append(local)
                    return local
                inst = self.m.call_instance(node)
                # (numbers through their NumPy constructor: a literal in a recursive call makes Numba's
                # cached code refer to a symbol never defined, as in lower_numba)
                avs = [f"{_PLAIN[a.type]}({v})" if a.type in _PLAIN else v for v, a in zip(self.exprs(args), args)]
                self.emit(f"{self.name(local)} = {self.plan.fwd(inst)}({''.join(a + ', ' for a in avs)}"
                          f"{self.m.global_args(inst)}{self.gm.tape_args(self.plan)}"
                          f"{self.m.call_depth(self.inst, inst, node.name, self.site(node.span))})")
                calls.append(local)
                return local
            return _rebuild(node, sub)
        out = sub(e)
        for local in calls:
            self.push(self.name(local), local.type)
        return out

    def fstmt(self, s):
        match s:
            case ir.Assign(target=ir.StoreLocal(slot, name, t), value=v, span=span):
                self.emit(f"# line {span.line}")
                v = self.hoist(v) if active(t) or self.mem(slot, t) or pair(t) or self.tab(slot, t) \
                    or self.dic(slot, t) else v
                val = self.computed(v) if active(t) else self.expr(v)
                if id(s) not in self.first or self.mem(slot, t) or self.tab(slot, t) or self.dic(slot, t):
                    self.push(mangle_local(slot, name), t)  # (a list too: made again in a loop, it is another)
                self.emit(f"{mangle_local(slot, name)} = {val}")
            case ir.ExprStmt(expr=ir.Prim(op="list.append", args=(ir.Local(type=t) as xs, v)) as e, span=span) \
                    if memory(t) or table(t):
                self.emit(f"# line {span.line}")
                self.emit(self.expr(ir.Prim(e.op, (xs, self.hoist(v)), e.type, e.span)))
            case ir.ExprStmt(expr=ir.Prim(op="list.append", args=(r, v)), span=span) \
                    if _row(r) and self.tab(r.args[0].slot, r.args[0].type):  # `d[i].append(v)`: the row kept
                self.emit(f"# line {span.line}")
                d, i = r.args
                at = self.temp()
                self.emit(f"{at} = rt.checked_slot({self.expr(i)}, len({self.name(d)}), 'list', {self.site(r.span)})")
                val = self.kept(self.computed(self.hoist(v)))
                self.push(at, INT)
                self.emit(f"rt.list_append({self.name(d)}[{at}], {val})")
            case ir.Assign(target=ir.StoreIndex(container=r, index=j) as tg, value=v, span=span) \
                    if _row(r) and self.tab(r.args[0].slot, r.args[0].type):  # `d[i][j] = v`: both indexes and
                self.emit(f"# line {span.line}")  # the element before kept
                d, i = r.args
                val = self.kept(self.computed(self.hoist(v)))
                ai, aj = self.temp(), self.temp()  # (the row read in place: rt.row_at)
                self.emit(f"{ai} = rt.checked_slot({self.expr(i)}, len({self.name(d)}), 'list', {self.site(r.span)})")
                self.emit(f"{aj} = rt.checked_slot({self.expr(j)}, al.item_view({self.name(d)}, {ai})[1], 'list', "
                          f"{self.site(tg.span)})")
                self.push(ai, INT)
                self.push(aj, INT)
                self.push(f"rt.row_at({self.name(d)}, {ai}, {aj}, 0)", r.type.elem)
                self.emit(f"rt.row_put({self.name(d)}, {ai}, {aj}, {val}, 0)")
            case ir.Assign(target=ir.StoreIndex(container=ir.Local(slot=slot, type=t) as d, index=k), value=v,
                           span=span) if self.dic(slot, t):  # `d[k] = v`: the value before if any, whether
                self.emit(f"# line {span.line}")  # there was one, and the key kept
                val = self.kept(self.computed(self.hoist(v)))
                key = self.kept(self.expr(k))
                self.emit(f"if {key} in {self.name(d)}:")  # (the sweeps' own steps are Numba's dict
                self.indent += 1  # operations: rt.dict_set fails to type on a popped key in Numba 0.68)
                self.push(f"{self.name(d)}[{key}]", t.val)
                self.push("1", INT)
                self.indent -= 1
                self.emit("else:")
                self.indent += 1
                self.push("0", INT)
                self.indent -= 1
                self.push(key, t.key)
                self.emit(f"{self.name(d)}[{key}] = {val}")
            case ir.Assign(target=ir.StoreIndex(container=ir.Local(slot=slot, type=t) as xs, index=i) as tg, value=v,
                           span=span) if self.mem(slot, t):  # `xs[i] = v`: the index and the element before kept
                self.emit(f"# line {span.line}")
                val = self.kept(self.computed(self.hoist(v)))
                at = self.temp()
                self.emit(f"{at} = rt.checked_slot({self.expr(i)}, len({self.name(xs)}), 'list', {self.site(tg.span)})")
                self.push(at, INT)
                self.push(f"al._load({self.name(xs)}, {at})", t.elem)
                self.emit(f"al._store({self.name(xs)}, {at}, {val})")
            case ir.ExprStmt() | ir.Assert():
                super().stmt(s)
            case ir.If(cond, then, orelse, span):
                c = self.condition(cond)
                self.emit(f"if {c}:  # line {span.line}")
                for flag, branch in ((1, then), (0, orelse)):
                    if flag == 0:
                        self.emit("else:")
                    self.indent += 1
                    self.frames.append(("if", flag))
                    self.block(branch)
                    self.frames.pop()
                    if not (branch and isinstance(branch[-1], (ir.Return, ir.Break, ir.Continue))):
                        self.push(f"{flag}", INT)
                    self.indent -= 1
            case ir.While(cond, body, span):
                (n,) = self.synth[id(s)]
                self.emit(f"{n} = 0")
                self.loop_head(cond, span)
                self.indent -= 1
                self.loop_body(n, [], body)
                self.push(f"{n}", INT)
            case ir.ForRange(_, start, stop, step, body, span):
                n, v, set_target = self.synth[id(s)]
                a, z, st = (self.kept(x) for x in self.exprs([start, stop, step]))
                if not (isinstance(step, ir.Const) and step.value != 0):
                    self.emit(f"rt.check_step({st}, {self.site(span)})")
                self.emit(f"{n} = 0")
                self.range_head(self.name(v), a, z, st, span)
                self.loop_body(n, [set_target], body)
                self.push(f"{n}", INT)
            case ir.For(span=span, body=body):
                n, v, set_seq, set_k, set_x, seq = self.synth[id(s)]
                if set_seq is not None:
                    self.fstmt(set_seq)
                self.emit(f"{n} = 0")
                self.emit(f"for {self.name(v)} in range(len({self.name(seq)})):  # line {span.line}")
                self.loop_body(n, [set_k, set_x], body)
                self.push(f"{n}", INT)
            case ir.Break():
                self.unwind(to_loop=True)
                self.emit("break")
            case ir.Continue():
                self.unwind(to_loop=True)
                self.emit("continue")
            case ir.Return(value, span):
                self.emit(f"# line {span.line}")
                v = self.hoist(value)
                r = self.temp()
                self.emit(f"{r} = {self.computed(v)}")
                self.unwind(to_loop=False)
                for i, n, t in self.locals():
                    self.push(mangle_local(i, n), t)
                self.emit(f"return {r}")

    def loop_body(self, n: str, pre, body):
        self.indent += 1
        self.emit(f"{n} += 1")
        self.frames.append(("loop", n))
        for s in pre:
            self.fstmt(s)
        self.block(body)
        self.frames.pop()
        self.indent -= 1

    # ---- the reverse sweep -----------------------------------------------------------------------
    def rblock(self, stmts):
        mark = len(self.buf)
        self.rblock_(stmts)
        if len(self.buf) == mark:
            self.emit("pass")

    def rblock_(self, stmts):
        if needs_exit(stmts):
            k = self.temp()
            self.emit(f"{k} = {self.pop(INT)}")
            for i in range(len(stmts) - 1, -1, -1):
                self.emit(f"if {k} > {i}:")
                self.indent += 1
                mark = len(self.buf)
                self.rstmt(stmts[i])
                if len(self.buf) == mark:
                    self.emit("pass")
                self.indent -= 1
        else:
            for s in reversed(stmts):
                self.rstmt(s)

    def rstmt(self, s):
        self.memo = {}
        match s:
            case ir.Assign(target=ir.StoreLocal(slot, name, t), value=v, span=span) if self.dic(slot, t):
                self.emit(f"# line {span.line}")  # the dict display: its values' cotangents
                g = self.temp()
                self.emit(f"{g} = {self.bar(slot)}")
                self.emit(f"{mangle_local(slot, name)} = {self.pop(t)}")  # the dict before, with none yet
                self.emit(f"{self.bar(slot)} = {self.dead_dict(t)}")
                self.backward(v, g, "True", self.call_order(v))
            case ir.Assign(target=ir.StoreIndex(container=ir.Local(slot=slot, type=t) as d), value=v, span=span) \
                    if self.dic(slot, t):
                self.emit(f"# line {span.line}")
                key, had, g, live, b = self.temp(), self.temp(), self.temp(), self.temp(), self.bar(slot)
                self.emit(f"{key} = {self.pop(t.key)}")
                self.emit(f"{had} = {self.pop(INT)}")
                self.emit(f"{g} = {self.dead(t.val)}")
                self.emit(f"{live} = {key} in {b}")
                self.emit(f"if {live}:")
                self.emit(f"    {g} = {b}.pop({key})")
                self.emit(f"if {had} != 0:")
                self.indent += 1
                self.emit(f"{self.name(d)}[{key}] = {self.pop(t.val)}")
                self.indent -= 1
                self.emit("else:")
                self.emit(f"    del {self.name(d)}[{key}]")
                calls = self.call_order(v)
                e = self.with_calls(v)
                self.restore_kept(e)
                self.backward(v, g, live, calls, e)
            case ir.Assign(target=ir.StoreLocal(slot, name, t), value=v, span=span) \
                    if self.mem(slot, t) or self.tab(slot, t):
                self.emit(f"# line {span.line}")  # the list display (or call): its elements' cotangents
                g = self.temp()
                self.emit(f"{g} = {self.bar(slot)}")
                self.emit(f"{mangle_local(slot, name)} = {self.pop(t)}")  # the list before, with none yet
                if self.tab(slot, t):
                    self.dead_table(self.bar(slot), mangle_local(slot, name), t.elem.elem)
                for line in self.gm.dead_list(self.bar(slot), f"len({mangle_local(slot, name)})", t.elem) \
                        if self.mem(slot, t) else ():
                    self.emit(line)
                if isinstance(v, ir.Local):  # a move (moves): the list's cotangents go back to its old name,
                    if self.mem(v.slot, v.type) or self.tab(v.slot, v.type):  # which nothing read since
                        self.emit(f"{self.bar(v.slot)} = {g}")
                else:
                    self.backward(v, g, "True", self.call_order(v))
            case ir.Assign(target=ir.StoreIndex(container=ir.Local(slot=slot, type=t) as xs), value=v, span=span) \
                    if self.mem(slot, t):
                self.emit(f"# line {span.line}")
                old, at = self.temp(), self.temp()
                self.emit(f"{old} = {self.pop(t.elem)}")
                self.emit(f"{at} = {self.pop(INT)}")
                b = self.bar(slot)
                self.undo_store(f"{b}[{at}]", f"{b}[{at}] = {dead_elem(t.elem)}",
                                f"al._store({self.name(xs)}, {at}, {old})", t.elem, v)
            case ir.Assign(target=ir.StoreLocal(slot, name, t), value=v, span=span) if pair(t):
                self.emit(f"# line {span.line}")

                def taken(suffix, item):  # the item's cotangent, taken (none reached the old value yet)
                    g = self.temp()
                    self.emit(f"{g} = {self.bar(slot)}{suffix}")
                    self.emit(f"{self.bar(slot)}{suffix} = {self.dead(item)}")
                    if isinstance(item, TensorT):
                        return g, f"{g}.size != 0"
                    live = self.temp()
                    self.emit(f"{live} = {self.live(slot)}{suffix}")
                    self.set_live(f"{self.live(slot)}{suffix}", "False")
                    return g, live
                gs = item_tree(t, taken)
                if id(s) not in self.first:
                    self.emit(f"{mangle_local(slot, name)} = {self.pop(t)}")
                self.backward(v, gs, None, self.call_order(v))
            case ir.Assign(target=ir.StoreLocal(slot, name, t), value=v, span=span):
                self.emit(f"# line {span.line}")
                calls = self.call_order(v) if active(t) else []
                g = glive = None
                if active(t):
                    g = self.temp()
                    self.emit(f"{g} = {self.bar(slot)}")
                    if isinstance(t, TensorT):
                        glive = f"{g}.size != 0"
                    else:
                        glive = self.temp()
                        self.emit(f"{glive} = {self.live(slot)}")
                        self.set_live(self.live(slot), "False")
                    self.emit(f"{self.bar(slot)} = {self.dead(t)}")
                if id(s) not in self.first:
                    self.emit(f"{mangle_local(slot, name)} = {self.pop(t)}")
                elif not active(t):
                    self.emit("pass")  # (a first int or bool: nothing to do, maybe in a block of its own)
                if active(t):
                    e = self.with_calls(v)
                    self.restore_kept(e)
                    self.backward(v, g, glive, calls, e)
                else:
                    self.backward(v, g, glive, calls)
            case ir.Return(value=v):
                calls = self.call_order(v)
                e = self.with_calls(v)
                self.restore_kept(e)
                if pair(self.f.type.ret):
                    self.backward(v, self.item_cotangents(self.f.type.ret), None, calls, e)
                else:
                    self.backward(v, "gout", "gout_live", calls, e)
            case ir.If(then=then, orelse=orelse):
                flag = self.temp()
                self.emit(f"{flag} = {self.pop(INT)}")
                self.emit(f"if {flag} == 1:")
                self.indent += 1
                self.rblock(then)
                self.indent -= 1
                self.emit("else:")
                self.indent += 1
                self.rblock(orelse)
                self.indent -= 1
            case ir.While(body=body):
                self.rloop([], body)
            case ir.ForRange(body=body):
                self.rloop([self.synth[id(s)][2]], body)
            case ir.For(body=body):
                _, _, set_seq, set_k, set_x, _ = self.synth[id(s)]
                self.rloop([set_k, set_x], body)
                if set_seq is not None:
                    self.rstmt(set_seq)
            case ir.ExprStmt(expr=ir.Prim(op="list.append", args=(ir.Local(type=t) as d, v)), span=span) \
                    if self.tab(d.slot, t):  # a row appended: its cotangents go back to it (a move), or through
                self.emit(f"# line {span.line}")  # its display
                g = self.temp()
                self.emit(f"{g} = {self.bar(d.slot)}.pop()")
                self.emit(f"{self.name(d)}.pop()")
                if isinstance(v, ir.Local):
                    if self.mem(v.slot, v.type):
                        self.emit(f"{self.bar(v.slot)} = {g}")
                else:
                    self.backward(v, g, "True", self.call_order(v))
            case ir.ExprStmt(expr=ir.Prim(op="list.append", args=(r, v)), span=span) \
                    if _row(r) and self.tab(r.args[0].slot, r.args[0].type):
                self.emit(f"# line {span.line}")
                d = r.args[0]
                at, g = self.temp(), self.temp()
                self.emit(f"{at} = {self.pop(INT)}")
                self.emit(f"{g} = {self.bar(d.slot)}[{at}].pop()")
                self.emit(f"{self.name(d)}[{at}].pop()")
                self.backward(v, self.kept(elem_value(g, r.type.elem)), elem_live(g, r.type.elem), self.call_order(v))
            case ir.Assign(target=ir.StoreIndex(container=r), value=v, span=span) \
                    if _row(r) and self.tab(r.args[0].slot, r.args[0].type):
                self.emit(f"# line {span.line}")
                d = r.args[0]
                old, ai, aj, p = self.temp(), self.temp(), self.temp(), self.temp()
                self.emit(f"{old} = {self.pop(r.type.elem)}")
                self.emit(f"{aj} = {self.pop(INT)}")
                self.emit(f"{ai} = {self.pop(INT)}")
                self.emit(f"{p} = al.item_view({self.bar(d.slot)}, {ai})[0]")  # (rows read in place)
                self.undo_store(f"al.at({p}, {aj})", f"al.put({p}, {aj}, {dead_elem(r.type.elem)})",
                                f"rt.row_put({self.name(d)}, {ai}, {aj}, {old}, 0)", r.type.elem, v)
            case ir.ExprStmt(expr=ir.Prim(op="list.append", args=(ir.Local(type=t) as xs, v)), span=span) \
                    if memory(t):
                self.emit(f"# line {span.line}")
                g = self.temp()
                self.emit(f"{g} = {self.bar(xs.slot)}.pop()")
                self.emit(self.expr(ir.Prim("list.pop", (xs,), t.elem, span)))  # the list as it was
                if isinstance(t.elem, TupleT):  # a tuple's items' cotangents
                    self.backward(v, [None if p is None else (self.kept(p[0]), p[1]) for p in elem_parts(g, t.elem)],
                                  None, self.call_order(v))
                else:
                    self.backward(v, self.kept(elem_value(g, t.elem)), elem_live(g, t.elem), self.call_order(v))
            case _:
                pass  # ExprStmt, Assert, Break, Continue: nothing to undo

    def undo_store(self, load: str, clear: str, restore: str, elem, v):
        """The reverse of replacing an element of a list of floats by `v`: the element's cotangent
        (`load`) goes to `v`, and the element before comes back (`restore`), with none yet (`clear`)."""
        g = self.temp()
        self.emit(f"{g} = {load}")
        self.emit(clear)
        self.emit(restore)
        calls = self.call_order(v)
        e = self.with_calls(v)
        self.restore_kept(e)
        self.backward(v, elem_value(g, elem), elem_live(g, elem), calls, e)

    def rloop(self, pre, body):
        """The reverse of a loop: its body's reverse as many times as it ran, each pass ending with the
        reverse of the statements (`pre`) that started the forward pass (the target's assignment)."""
        m = self.temp()
        self.emit(f"{m} = {self.pop(INT)}")
        self.emit(f"for _ in range({m}):")
        self.indent += 1
        self.rblock(body)
        for s in reversed(pre):
            self.rstmt(s)
        self.indent -= 1

    def item_cotangents(self, t) -> list:
        """The (cotangent, live) of each item of the tuple a function returns (None for an int or a
        bool): its reverse sweep's `gout` and `gout_live` hold them."""
        def leaf(suffix, _):
            at = "".join(f"[{j}]" for j in suffix_path(suffix))
            return f"gout{at}", f"gout_live{at}"
        return item_tree(t, leaf)

    def dead_bars(self, local: ir.Local):
        """Set the cotangent of `local` (an item's each, for a tuple, or each
        element's, for a list) to none yet."""
        slot, t = local.slot, local.type
        if self.mem(slot, t):
            for line in self.gm.dead_list(self.bar(slot), f"len({self.name(local)})", t.elem):
                self.emit(line)
        if self.tab(slot, t):
            self.dead_table(self.bar(slot), self.name(local), t.elem.elem)
        for suffix, u in cotangents(t):
            self.emit(f"{self.bar(slot)}{suffix} = {self.dead(u)}")
            if not isinstance(u, TensorT):
                self.set_live(f"{self.live(slot)}{suffix}", "False")

    def cotangent_of(self, local: ir.Local) -> tuple[str, str]:
        """(the cotangent of `local`, whether it is live), as a callee's reverse sweep takes them: for a
        tuple, a tuple of its items' (an int's or a bool's: 0 and False)."""
        def one(suffix, u):
            if not active(u):  # typed values, not literals: a recursive call must match its signature
                return ("np.int64(0)" if u == INT else "np.bool_(False)"), "False"
            b = f"{self.bar(local.slot)}{suffix}"
            return b, (f"{b}.size != 0" if isinstance(u, TensorT) else f"{self.live(local.slot)}{suffix}")
        if self.mem(local.slot, local.type):  # its elements' (the callee adds them into its own list's)
            return self.bar(local.slot), "True"
        if not pair(local.type):
            return one("", local.type)
        def tree(suffix, t):
            if not pair(t):
                b, k = one(suffix, t)
                return b, f"np.bool_({k})"
            items = [tree(f"{suffix}_{j}", u) for j, u in enumerate(t.items)]
            return "(" + "".join(b + ", " for b, _ in items) + ")", "(" + "".join(k + ", " for _, k in items) + ")"
        return tree("", local.type)

    def backward(self, v, g, glive, calls: list[ir.Local], e=None):
        """The reverse of computing `v` (cotangent `g`, live when `glive`, or for a tuple a list of its
        items' (cotangent, live) or None; `e`: v with its calls' locals, whose kept values are known):
        restore the calls' results, send the cotangent through `v`, then reverse the calls, last
        first."""
        self.memo = {}
        for local in reversed(calls):
            self.emit(f"{self.name(local)} = {self.pop(local.type)}")
            self.dead_bars(local)
        e = self.with_calls(v) if e is None else e
        if isinstance(g, list):
            if self.depends(e):
                self.adj_items(e, g)
        elif g is not None and self.depends(e):
            self.emit(f"if {glive}:")
            self.indent += 1
            mark = len(self.buf)
            self.adj(e, g)
            if len(self.buf) == mark:
                self.emit("pass")
            self.indent -= 1
        by_local = {local.slot: node for node in ir.walk(v) if isinstance(node, ir.CallFunc)
                    for local in [self.calls.get(id(node))] if local is not None}
        for local in reversed(calls):
            node = by_local[local.slot]
            if not active_call(node, self.m.p.structs, self.act):
                continue  # an ordinary call: nothing to reverse
            inst = self.m.call_instance(node)
            gout, live = self.cotangent_of(local)
            args = [self.with_calls(a) for a in node.args]
            carried = carried_params(self.m.instances[inst])
            ins, seen, carry = [], set(), {}
            shown = {}  # a list display's index -> the cotangents of its elements, sent on after the call
            for i, a in enumerate(args):
                if memory(a.type) and i in self.plan.active[inst]:  # a list of tensors or floats: the callee
                    if isinstance(a, ir.Local) and a.slot in self.act:  # adds into its elements' cotangents
                        ins.append(self.bar(a.slot))  # in place
                    elif _row(a) and self.tab(a.args[0].slot, a.args[0].type):  # `dot(w, d[i])`: the row's
                        d, at = a.args[0], self.temp()  # cotangents, added into in place
                        self.emit(f"{at} = nbt.idx({self.expr(a.args[1])}, len({self.name(d)}), {self.site(a.span)})")
                        ins.append(f"{self.bar(d.slot)}[{at}]")
                    elif isinstance(a, ir.MakeList) and self.depends(a):  # `dot(w, [x, 1.0])`
                        b = shown[i] = self.temp()
                        for line in self.gm.dead_list(b, str(len(a.elts)), a.type.elem):
                            self.emit(line)
                        ins.append(b)
                    else:  # a constant here (a parameter another call gives a gradient): none to keep
                        b = self.temp()
                        for line in self.gm.dead_list(b, f"len({self.kept(self.expr(a))})", a.type.elem):
                            self.emit(line)
                        ins.append(b)
                elif dict_mem(a.type) and i in self.plan.active[inst]:  # a dict: the callee adds into its
                    if isinstance(a, ir.Local) and a.slot in self.act:  # values' cotangents in place
                        ins.append(self.bar(a.slot))
                    else:  # a constant here (a parameter another call gives a gradient): none to keep
                        b = self.temp()
                        self.emit(f"{b} = {self.dead_dict(a.type)}")
                        ins.append(b)
                elif table(a.type) and i in self.plan.active[inst]:  # a table: the callee adds into its
                    if isinstance(a, ir.Local) and a.slot in self.act:  # elements' cotangents in place
                        ins.append(self.bar(a.slot))
                    else:  # a constant here (a parameter another call gives a gradient): none to keep
                        b = self.temp()
                        self.dead_table(b, self.kept(self.expr(a)), a.type.elem.elem)
                        ins.append(b)
                for suffix, u in cotangents(a.type):
                    scalar = not isinstance(u, TensorT)
                    src = self.carrier(a, suffix) if i in carried else None
                    if src is not None and src not in seen:
                        # the callee adds into this local's (or item's) cotangent where the tape would
                        seen.add(src)
                        carry[(i, suffix)] = src
                        ins += [self.bar(src[0]) + src[1]] + ([self.live(src[0]) + src[1]] if scalar else [])
                    else:
                        ins += [self.dead(u)] + (["np.bool_(False)"] if scalar else [])
            r = self.temp()
            self.emit(f"{r} = {self.plan.bwd(inst)}({self.m.global_args(inst)}{self.gm.tape_args(self.plan)}"
                      f"{gout}, {live}, {''.join(a + ', ' for a in ins)}"
                      f"{self.m.call_depth(self.inst, inst, node.name, self.site(node.span))})")
            k = 0
            pending = []
            for i, a in enumerate(args):
                if i in shown:
                    pending.append((a, shown[i]))
                gs = item_tree(a.type, lambda *_: None) if pair(a.type) else None
                for suffix, u in cotangents(a.type):
                    scalar = not isinstance(u, TensorT)
                    g = (f"{r}[{k}]", f"{r}[{k + 1}]" if scalar else f"{r}[{k}].size != 0")
                    k += 2 if scalar else 1
                    if (i, suffix) in carry:
                        slot, sfx = carry[(i, suffix)]
                        self.emit(f"{self.bar(slot)}{sfx} = {g[0]}")
                        if scalar:
                            self.set_live(f"{self.live(slot)}{sfx}", g[1])
                    elif gs is not None:
                        *up, last = suffix_path(suffix)
                        at = gs
                        for j in up:
                            at = at[j]
                        at[last] = g
                    else:
                        pending.append((a, g))
                if gs is not None and any(x is not None for x in _tree_leaves(gs)):
                    pending.append((a, gs))
            for a, g in reversed(pending):  # the callee's tape: its last argument first
                if not self.depends(a):
                    continue
                if isinstance(g, str):  # a list display's elements
                    self.adj(a, g)
                    continue
                if isinstance(g, list):  # a tuple's items
                    self.adj_items(a, g)
                    continue
                self.emit(f"if {g[1]}:")
                self.indent += 1
                ga = self.kept(g[0])
                mark = len(self.buf)
                self.adj(a, ga)
                if len(self.buf) == mark:
                    self.emit("pass")
                self.indent -= 1
        self.known.clear()  # this statement's

    def carrier(self, a, suffix: str):
        """The caller's local (slot, suffix of its cotangent's name) whose cotangent the callee can add
        into directly for the argument `a` (or, with `suffix`, for an item of a tuple argument): `a`
        itself, an item of a tuple local, or a local given as an item of a tuple display; else None."""
        path = suffix_path(suffix)
        while True:
            if isinstance(a, ir.Local) and a.slot >= 0:
                return a.slot, "".join(f"_{j}" for j in path)
            if not (path and isinstance(a, ir.MakeTuple)):
                return None
            a = a.elts[path.pop(0)]

    def with_calls(self, n):
        """`n` with each gradient-path call replaced by the local holding its result."""
        if isinstance(n, ir.CallFunc) and id(n) in self.calls:
            return self.calls[id(n)]
        return _rebuild(n, self.with_calls)

    def call_order(self, e) -> list[ir.Local]:
        """The locals of the gradient-path calls in `e`, in the order the forward sweep made them
        (arguments first, left to right)."""
        out = []

        def visit(n):
            for _, val in ir.child_fields(n) if ir._is_ir(n) else ():
                for x in (val if isinstance(val, tuple) else (val,)):
                    if ir._is_ir(x):
                        visit(x)
            if isinstance(n, ir.CallFunc) and id(n) in self.calls:
                out.append(self.calls[id(n)])
        visit(e)
        return out

    def expr(self, e) -> str:
        if isinstance(e, ir.CallFunc) and id(e) not in self.calls:  # an ordinary call (a condition's, a print's)
            gs = self.gm.grows(self.m.call_instance(e))
            if any(j in gs and self.depends(a) for j, a in enumerate(e.args)):
                self.unsupported(f"the gradient through a call of '{e.name}', which changes a list, table or dict "
                                 "the gradient reaches, where the gradient does not follow calls (a condition, a "
                                 f"loop's range, a print: name its result first, `c = {e.name}(...)`)", e.span)
        return super().expr(e)

    def depends(self, e) -> bool:
        """Whether `e` reads a local the gradient reaches."""
        return any(isinstance(n, ir.Local) and n.slot in self.act and carries(n.type, self.m.p.structs)
                   for n in ir.walk(e))

    def adj_items(self, v, gs):
        """The reverse of making a tuple: `gs` holds each item's (cotangent, live) or None."""
        match v:
            case ir.Local() | ir.Prim(op="tuple.getitem") if (at := self.item_of(v)) is not None:
                self.add_items(*at, v.type, gs)  # a tuple local, or an item of one that is a tuple
            case ir.MakeTuple(elts=elts):
                for elt, g in reversed(list(zip(elts, gs))):
                    if isinstance(g, list):  # an item that is a tuple
                        if self.depends(elt):
                            self.adj_items(elt, g)
                    elif g is not None and self.depends(elt):
                        self.emit(f"if {g[1]}:")
                        self.indent += 1
                        self.adj(elt, g[0])
                        self.indent -= 1
            case ir.Prim(op="list.getitem", args=(ir.Local(type=t) as xs, i), span=span) if self.mem(xs.slot, t):
                at = self.elem_at(xs, i, span)  # a tuple read from a list: into its element's items
                for j, g in enumerate(gs):
                    if g is not None and active(t.elem.items[j]):
                        self.emit(f"if {g[1]}:")
                        self.indent += 1
                        self.add_elem(xs, at, g[0], False, j)
                        self.indent -= 1
            case ir.Prim(op=op) if "adjoint" in PRIMS[op].rules:
                k = Adj(self, v, None, gs=gs)
                self.send(k, PRIMS[op].rules["adjoint"](k, v))
            case _:
                self.unsupported(f"the gradient through making a tuple this way ({type(v).__name__})",
                                 getattr(v, "span", self.f.span))

    def item_of(self, e):
        """(slot, suffix) when `e` is a tuple local (`s`) or an item of one, an item of an item...
        (`s.a.b`, `p[0]`), whose cotangent is `bar{slot}{suffix}` (a tuple's, one per leaf); else None."""
        path = []
        while isinstance(e, ir.Prim) and e.op == "tuple.getitem" and pair(e.args[0].type):
            path.insert(0, e.attrs[0])
            e = e.args[0]
        if isinstance(e, ir.Local) and pair(e.type) and e.slot >= 0:
            return e.slot, "".join(f"_{j}" for j in path)
        return None

    def add_items(self, slot: int, suffix: str, t, gs):
        """Add the cotangents `gs` (item_tree's) of a tuple into the cotangents of the local `slot`'s
        items under `suffix`."""
        for j, g in enumerate(gs):
            if isinstance(g, list):
                self.add_items(slot, f"{suffix}_{j}", t.items[j], g)
            elif g is not None and active(t.items[j]):
                self.emit(f"if {g[1]}:")
                self.indent += 1
                self.add_into(f"{self.bar(slot)}{suffix}_{j}", f"{self.live(slot)}{suffix}_{j}", t.items[j], g[0],
                              False)
                self.indent -= 1

    def add_key(self, b: str, key: str, g: str, t):
        """Add the cotangent `g` (of type t) into the dict of cotangents `b` at `key`."""
        v = self.kept(g)
        self.emit(f"if {key} in {b}:")
        self.emit(f"    {b}[{key}] = {b}[{key}] + {v}")
        self.emit("else:")  # (a tensor's copied: cotangents are added into in place)
        self.emit(f"    {b}[{key}] = {v}{'.copy()' if isinstance(t, TensorT) else ''}")

    def acc(self, local: ir.Local, value: str, fresh: bool = False):
        """Add `value` into the cotangent of `local` (`fresh`: an array nothing else refers to)."""
        self.add_into(self.bar(local.slot), self.live(local.slot), local.type, value, fresh)

    def add_into(self, b: str, k: str, t, value: str, fresh: bool):
        if isinstance(t, TensorT):
            self.emit(f"{b} = nbt.{'ad_add' if fresh else 'ad_acc'}({b}, {value})")
        else:
            v = self.kept(value)
            if self.sure.get(k) == self.indent:
                self.pending.setdefault(b, (k, []))[1].append(v)
                if len(self.pending[b][1]) == 32:
                    self.flush()
            else:
                self.emit(f"{b} = ({b} + {v}) if {k} else {v}")
                self.set_live(k, "True")

    def set_live(self, k: str, value: str):
        """Emit `k = value` for the flag `k` saying a scalar cotangent is live, and remember when it is
        surely True: until the block closes, or the flag is set again, `add_into` adds without the
        test (`b = b + v`, not `(b + v) if k else v`). Not in blocks opened after it, a loop's body
        among them (an iteration may reset the flag before the next runs the line). Each such test is
        a branch: a sum of many terms made one per term, and Numba's SSA pass is quadratic in
        branches times redefined names (a 300-term sum took a minute to compile). The additions
        wait in `pending` and are emitted as one line, `b = b + v1 + v2 + ...` (the same order),
        when a line reads `b` or `k`, the block ends, or 32 wait: each `b = b + v` line was another
        definition of `b`, which Numba's SSA pass looks for by scanning the block, for every use."""
        self.emit(f"{k} = {value}")
        self.sure.pop(k, None)
        if value == "True":
            self.sure[k] = self.indent

    def adj(self, e, g: str, known: str | None = None, fresh: bool = False):
        """Add the cotangent `g` of expression `e` into the cotangents of the locals it reads (`known`:
        e's value, when the expression using it computed it; `fresh`: g is an array of its own)."""
        match e:
            case ir.Local(slot=slot) if active(e.type) and slot >= 0:
                self.acc(e, g, fresh)
            case ir.Local(slot=slot, type=t) if self.mem(slot, t):  # a list given on: each element's
                at = self.temp()
                self.emit(f"for {at} in range(len({g})):")
                self.indent += 1
                parts = elem_parts(f"{g}[{at}]", t.elem) if isinstance(t.elem, TupleT) else \
                    [(elem_value(f"{g}[{at}]", t.elem), elem_live(f"{g}[{at}]", t.elem))]
                for j, part in enumerate(parts):
                    if part is not None:
                        self.emit(f"if {part[1]}:")
                        self.indent += 1
                        self.add_elem(e, at, part[0], False, j if isinstance(t.elem, TupleT) else None)
                        self.indent -= 1
                self.indent -= 1
            case ir.Cond(cond, then, orelse):
                c = self.condition(cond)
                self.emit(f"if {c}:")
                for i, branch in enumerate((then, orelse)):
                    if i:
                        self.emit("else:")
                    self.indent += 1
                    mark = len(self.buf)
                    if self.depends(branch):
                        self.adj(branch, g)
                    if len(self.buf) == mark:
                        self.emit("pass")
                    self.indent -= 1
            case ir.Prim(op="dict.getitem", args=(ir.Local(slot=slot, type=t), k)) if self.dic(slot, t):
                self.add_key(self.bar(slot), self.kept(self.expr(k)), g, t.val)  # `d[k]`: the key's cotangent
            case ir.Prim(op="dict.get", args=(ir.Local(slot=slot, type=t) as d, k, default)) if self.dic(slot, t):
                key, b = self.kept(self.expr(k)), self.bar(slot)  # `d.get(k, v)`: the key's, or v's when it is
                self.emit(f"if {key} in {self.name(d)}:")
                self.indent += 1
                self.add_key(b, key, g, t.val)  # not there
                self.indent -= 1
                if self.depends(default):
                    self.emit("else:")
                    self.indent += 1
                    self.adj(default, g)
                    self.indent -= 1
            case ir.MakeDict(keys=keys, values=values, type=t) if dict_mem(t):
                for k, v in reversed(list(zip(keys, values))):  # `g` holds the new dict's cotangents: each
                    if self.depends(v):  # key's goes to the value displayed last for it
                        key, gv = self.kept(self.expr(k)), self.temp()
                        self.emit(f"if {key} in {g}:")
                        self.indent += 1
                        self.emit(f"{gv} = {g}.pop({key})")
                        self.adj(v, gv)
                        self.indent -= 1
            case ir.Prim(op="tuple.getitem") if (at := self.item_of(e)) is not None:  # `p[0]`, `s.a.x`
                slot, suffix = at
                self.add_into(f"{self.bar(slot)}{suffix}", f"{self.live(slot)}{suffix}", e.type, g, fresh)
            case ir.Prim(op="tuple.getitem", args=(ir.Prim(op="list.getitem", args=(ir.Local(type=t) as xs, i),
                                                           span=span),), attrs=(j,)) if self.mem(xs.slot, t):
                self.add_elem(xs, self.elem_at(xs, i, span), g, fresh, j)  # `hs[i][0]`: an item of an element
            case ir.Prim(op="tuple.getitem", args=(ir.Prim(op=op, type=TupleT(items=items)) as inner,), attrs=(j,)) \
                    if "adjoint" in PRIMS[op].rules and not any(pair(u) for u in items):
                # `divmod(a, b)[1]`: an item of a primitive's outputs, the others' cotangents dead
                self.adj_items(inner, [(g, "True") if k == j else (self.dead(u), "False") for k, u in enumerate(items)])
            case ir.MakeList(elts=elts, type=lt):
                for k in range(len(elts) - 1, -1, -1):
                    if self.depends(elts[k]) and isinstance(lt.elem, ListT):  # a table's row display
                        t = self.temp()
                        self.emit(f"{t} = {g}[{k}]")
                        self.adj(elts[k], t)
                    elif self.depends(elts[k]) and isinstance(lt.elem, TupleT):
                        t = self.temp()
                        self.emit(f"{t} = {g}[{k}]")
                        self.adj_items(elts[k], elem_parts(t, lt.elem))
                    elif self.depends(elts[k]):
                        t = self.temp()
                        self.emit(f"{t} = {g}[{k}]")
                        self.emit(f"if {elem_live(t, lt.elem)}:")
                        self.indent += 1
                        self.adj(elts[k], self.kept(elem_value(t, lt.elem)))
                        self.indent -= 1
            case ir.Prim(op="list.getitem", args=(ir.Local(type=t) as xs, i), span=span) if self.mem(xs.slot, t):
                self.add_elem(xs, self.elem_at(xs, i, span), g, fresh)
            case ir.Prim(op="list.getitem", args=(r, j), span=span) if _row(r) and self.tab(r.args[0].slot,
                                                                                             r.args[0].type):
                d, i = r.args  # `d[i][j]`: the row of cotangents read in place
                ai, aj, p, n, c, g = self.temp(), self.temp(), self.temp(), self.temp(), self.temp(), self.kept(g)
                self.emit(f"{ai} = nbt.idx({self.expr(i)}, len({self.name(d)}), {self.site(r.span)})")
                self.emit(f"{p}, {n} = al.item_view({self.bar(d.slot)}, {ai})")
                self.emit(f"{aj} = nbt.idx({self.expr(j)}, {n}, {self.site(span)})")
                self.emit(f"{c} = al.at({p}, {aj})")
                self.emit(f"al.put({p}, {aj}, (({c}[0] + {g}) if {c}[1] else {g}, True))")
                self.emit(f"al.keep({self.bar(d.slot)})")
            case ir.Prim(op="float.sum" | "f32.sum" | "seq.mean" as op, args=(r, *start)) \
                    if _row(r) and self.tab(r.args[0].slot, r.args[0].type):
                if start and self.depends(start[0]):  # the tape's order: the start, then the elements (as below)
                    self.adj(start[0], g)
                d, i = r.args  # the row of cotangents read in place
                ai, p, n, at, c, g = self.temp(), self.temp(), self.temp(), self.temp(), self.temp(), self.kept(g)
                self.emit(f"{ai} = nbt.idx({self.expr(i)}, len({self.name(d)}), {self.site(r.span)})")
                self.emit(f"{p}, {n} = al.item_view({self.bar(d.slot)}, {ai})")
                if op == "seq.mean":  # each element's share
                    g, share = self.temp(), g
                    self.emit(f"{g} = {share} / {n}")
                self.emit(f"for {at} in range({n} - 1, -1, -1):")
                self.emit(f"    {c} = al.at({p}, {at})")
                self.emit(f"    al.put({p}, {at}, (({c}[0] + {g}) if {c}[1] else {g}, True))")
                self.emit(f"al.keep({self.bar(d.slot)})")
            case ir.Prim(op="float.sum" | "f32.sum" | "seq.mean" as op, args=(ir.Local(type=t) as xs, *start)) \
                    if self.mem(xs.slot, t):
                if start and self.depends(start[0]):  # the tape's order: the start, then the elements
                    self.adj(start[0], g)
                at, g = self.temp(), self.kept(g)
                if op == "seq.mean":  # each element's share (the list is not empty: the forward sweep said so)
                    g, share = self.temp(), g
                    self.emit(f"{g} = {share} / len({self.name(xs)})")
                self.emit(f"for {at} in range(len({self.name(xs)}) - 1, -1, -1):")
                self.indent += 1
                self.add_elem(xs, at, g, False)
                self.indent -= 1
            case ir.Prim(args=args) if not any(carries(a.type, self.m.p.structs) for a in args):
                pass  # made from ints and bools (`f32(len(xs))`): no gradient
            case ir.Prim(op=op, args=args, span=span):
                rule = PRIMS[op].rules.get("adjoint") if op in PRIMS else None
                if op == "tensor.getitem" and isinstance(args[0], ir.Local) and args[0].slot >= 0 \
                        and all(not active(a.type) for a in args[1:]):
                    self.scatter_into(e, g)
                    return
                k = Adj(self, e, g, known)
                cts = rule(k, e) if rule is not None else None
                if cts is None:
                    self.unsupported(f"the gradient of '{op}'", span)
                self.send(k, cts)
            case _ if not self.depends(e):
                pass
            case _:
                what = _EXPR_WORDS.get(type(e).__name__, f"{type(e).__name__} expressions")
                self.unsupported(f"the gradient through {what}", getattr(e, "span", self.f.span))

    def elem_at(self, xs: ir.Local, i, span) -> str:
        """The index `i` of list `xs`, checked (E501) and from the end when negative."""
        at = self.temp()
        self.emit(f"{at} = nbt.idx({self.expr(i)}, len({self.name(xs)}), {self.site(span)})")
        return at

    def add_elem(self, xs: ir.Local, at: str, g: str, fresh: bool, item: int | None = None):
        """Add `g` into the cotangent of element `at` of the list `xs` (memory), or of that element's
        item `item` (a list of tuples)."""
        b, g = self.bar(xs.slot), self.kept(g)
        if item is not None:  # a tuple in the list: made again with the item's cotangent changed
            elem = xs.type.elem
            old = self.temp()
            self.emit(f"{old} = {b}[{at}]")
            u = elem.items[item]
            new = f"nbt.{'ad_add' if fresh else 'ad_acc'}({old}[{item}], {g})" if isinstance(u, TensorT) else \
                f"(({old}[{item}][0] + {g}) if {old}[{item}][1] else {g}, True)"
            self.emit(f"{b}[{at}] = (" + "".join((new if j == item else f"{old}[{j}]") + ", "
                                                  for j in range(len(elem.items))) + ")")
        elif isinstance(xs.type.elem, TensorT):
            self.emit(f"{b}[{at}] = nbt.{'ad_add' if fresh else 'ad_acc'}({b}[{at}], {g})")
        else:
            self.emit(f"{b}[{at}] = (({b}[{at}][0] + {g}) if {b}[{at}][1] else {g}, True)")

    def send(self, k: "Adj", cts: list):
        """The cotangents `cts` of k's primitive's arguments, sent on: into the locals among them first,
        in order, then through the others, last first (the tape's order)."""
        args = k.e.args
        vals = [None if ct is None or not self.depends(a) else (self.kept(ct), not _ATOM.fullmatch(ct))
                for a, ct in zip(args, cts)]
        for a, ct in zip(args, vals):
            if ct is not None and isinstance(a, ir.Local):
                self.acc(a, *ct)
        for i, (a, ct) in reversed(list(enumerate(zip(args, vals)))):
            if ct is not None and not isinstance(a, ir.Local):
                self.adj(a, ct[0], k._args.get(i), ct[1])

    def scatter_into(self, e: ir.Prim, g: str):
        """`x[i]`'s cotangent added in place at the index of x's (fresh) cotangent."""
        x = e.args[0]
        c = self.name(x)
        idx = [self.kept(self.expr(a)) for a in e.args[1:]]
        site = self.site(e.span)
        b = self.bar(x.slot)
        self.emit(f"if {b}.size == 0:")
        self.emit(f"    {b} = np.zeros_like({c})")
        at = ", ".join(f"nbt.idx({i}, {c}.shape[{d}], {site})" for d, i in enumerate(idx))
        self.emit(f"{b}[{at}] += {g}")


def _rebuild(node, f):
    """`node` with each child expression passed through `f` (a shallow map over IR expressions)."""
    if not ir._is_ir(node) or isinstance(node, (ir.Lambda, ir.Comprehension)):
        return node
    changes = {}
    for name, val in ir.child_fields(node):
        if isinstance(val, tuple):
            new = tuple(f(x) if ir._is_ir(x) else x for x in val)
            if any(a is not b for a, b in zip(new, val)):
                changes[name] = new
        elif ir._is_ir(val):
            new = f(val)
            if new is not val:
                changes[name] = new
    return type(node)(**{**{fl: getattr(node, fl) for fl in node.__dataclass_fields__}, **changes}) if changes else node
