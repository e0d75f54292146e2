"""Mutual recursion for the CPU backend: each cycle of functions that call one another becomes ONE
self-recursive function, so that Numba can cache it.

Numba compiles a call into a cycle of functions it types together through a pointer that it fills in
when it compiles them, never when it loads them from its cache (numba/numba#6061): the next run jumps
to null. A function that calls itself is compiled with a direct call and caches well. So, for the
cycle {A, B} (instances of the typed IR, after the checker):

    A(x: float, n: int) -> float        B(y: float, n: int) -> float
        ... B(e1, e2) ...                   ... A(e3, e4) ...

becomes

    A&B(sel: int, p0: float, p1: int) -> float
        if sel == 0: <A's body, its slots moved>   else: <B's body, its slots moved>
    A(x, n) -> float:  return A&B(0, x, n)          B(y, n) -> float:  return A&B(1, y, n)

Calls inside the bodies go to `A&B` directly. The merged function's parameter types are a shortest
sequence holding each member's parameter types in their order (a common supersequence, member by
member); each member's parameters take their places in it in order (a parameter another member does
not have gets a constant: 0, 0.0, False, "", an empty container, a function value never called), so
arguments are still computed in their order. Members returning
different types return a tuple with each one's value at its place (and a constant elsewhere), read
by `tuple.getitem` at each call. A call keeps its callee's name (`A@A&B`, for its E505 message), and
its depth: a wrapper passes its own on, so the limit falls where the interpreter's does.

A cycle this cannot merge (a parameter of a type with no constant, a member returning nothing beside
one returning a value) is left as it is, and compiled in each process instead of cached
(lower_numba.ModuleLowerer.uncached).
"""
from __future__ import annotations

import dataclasses
import re

from . import ir
from .types import BOOL, FLOAT, INT, NONE, STR, DictT, FnT, ListT, SetT, TupleT


def sccs(nodes: list[str], callees) -> list[list[str]]:
    """The strongly connected components of the call graph over `nodes` with more than one member
    (Tarjan's algorithm, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    inside = set(nodes)
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(callees(start)))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in inside:
                    continue
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(callees(w))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def constant(t, span) -> ir.Expr | None:
    """An expression of type t with no effect (a parameter or a result a member does not have), or
    None when there is none this cheap."""
    match t:
        case _ if t == INT:
            return ir.Const(0, INT, span)
        case _ if t == FLOAT:
            return ir.Const(0.0, FLOAT, span)
        case _ if t == BOOL:
            return ir.Const(False, BOOL, span)
        case _ if t == STR:
            return ir.Const("", STR, span)
        case ListT():
            return ir.MakeList((), t, span)
        case SetT():
            return ir.MakeSet((), t, span)
        case DictT():
            return ir.MakeDict((), (), t, span)
        case TupleT(items):
            elts = [constant(u, span) for u in items]
            return None if any(e is None for e in elts) else ir.MakeTuple(tuple(elts), t, span)
        case FnT():  # a function value of that type, never called (compiler/closures.py)
            return ir.Prim("fn.default", (), t, span)
    return None


@dataclasses.dataclass
class Merged:
    """One cycle merged: the function, and the members' wrappers (by instance). A call of the merged
    function is named `member@merged` (call_name): the member it stands for, for messages."""

    function: ir.Function
    wrappers: dict[str, ir.Function]


def call_name(member: str, merged: str) -> str:
    return f"{member}@{merged}"


def shown(name: str) -> str:
    """The name a message gives a call: the source name of the member a merged call stands for, without
    an instance's suffix (`loop[fn f=lambda@5:9#...]@cycle` is `loop`, as the interpreter says)."""
    return re.match(r"[^@\[]*", name).group(0)


def _supersequence(a: list, b: list) -> list:
    """A shortest sequence holding both `a` and `b` as subsequences (through their longest common one)."""
    n, m = len(a), len(b)
    lcs = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            lcs[i][j] = lcs[i + 1][j + 1] + 1 if a[i] == b[j] else max(lcs[i + 1][j], lcs[i][j + 1])
    out, i, j = [], 0, 0
    while i < n and j < m:
        if a[i] == b[j]:
            out.append(a[i])
            i, j = i + 1, j + 1
        elif lcs[i + 1][j] >= lcs[i][j + 1]:
            out.append(a[i])
            i += 1
        else:
            out.append(b[j])
            j += 1
    return out + a[i:] + b[j:]


def _embed(seq: list, layout: list) -> list[int]:
    """The places of `seq`'s items in `layout`, increasing (the first fit: `layout` holds `seq`)."""
    places, k = [], 0
    for t in seq:
        while layout[k] != t:
            k += 1
        places.append(k)
        k += 1
    return places


def merge(members: list[str], instances: dict[str, ir.Function], call_instance) -> Merged | None:
    fns = [instances[m] for m in members]
    if any(f.type_params for f in fns):
        return None
    name = "&".join(members)
    rets: list = []
    for f in fns:
        if f.type.ret not in rets:
            rets.append(f.type.ret)
    if NONE in rets and len(rets) > 1:
        return None
    ret = rets[0] if len(rets) == 1 else TupleT(tuple(rets))
    # the parameters: a sequence of types holding each member's parameter types in their order (a
    # common supersequence), so that every call computes its arguments in their order
    layout: list = []
    for f in fns:
        layout = _supersequence(layout, list(f.type.params))
    pmap: dict[str, list[int]] = {m: _embed(list(f.type.params), layout) for m, f in zip(members, fns)}
    span = fns[0].span
    for m in members:  # a constant for each parameter not had
        if any(constant(t, span) is None for j, t in enumerate(layout) if j not in pmap[m]):
            return None
    if len(rets) > 1 and any(constant(t, span) is None for t in rets):
        return None
    base: dict[str, int] = {}
    nslots = 1 + len(layout)
    for m, f in zip(members, fns):
        base[m] = nslots
        nslots += f.nslots - len(f.params)
    names, types = ["$sel"], [INT]  # the merged slots' (a local's name goes with its slot: the lowering's)
    for j, t in enumerate(layout):
        owner = next(m for m in members if j in pmap[m])
        names.append(instances[owner].params[pmap[owner].index(j)])
        types.append(t)
    for f in fns:
        names += f.slot_names[len(f.params):]
        types += f.slot_types[len(f.params):]
    def call(m: str, args, span) -> ir.Expr:
        j = members.index(m)
        given = dict(zip(pmap[m], args))
        full = (ir.Const(j, INT, span),) + tuple(given[i] if i in given else constant(t, span)
                                                  for i, t in enumerate(layout))
        node = ir.CallFunc(call_name(m, name), full, ret, span)
        if len(rets) == 1:
            return node
        return ir.Prim("tuple.getitem", (node,), instances[m].type.ret, span, (rets.index(instances[m].type.ret),))

    def moved(m: str, f: ir.Function):
        nparams = len(f.params)

        def slot(s: int) -> int:
            return 1 + pmap[m][s] if s < nparams else base[m] + s - nparams

        def special(node, conv):
            match node:
                case ir.CallFunc(args=args, span=sp) if call_instance(node) in members:
                    return call(call_instance(node), conv(args), sp)
                case ir.Return(value=v, span=sp) if len(rets) > 1:
                    j = rets.index(f.type.ret)
                    elts = tuple(conv(v) if i == j else constant(t, sp) for i, t in enumerate(rets))
                    return ir.Return(ir.MakeTuple(elts, ret, sp), sp)
            return None
        return ir.move_slots(f.body, slot, names, special)

    sel = ir.Local(0, "$sel", INT, span)
    body: tuple = moved(members[-1], fns[-1])
    for j in range(len(members) - 2, -1, -1):
        test = ir.Compare((sel, ir.Const(j, INT, span)), ("cmp.eq",), BOOL, span)
        body = (ir.If(test, moved(members[j], fns[j]), body, span),)
    merged = ir.Function(name, (), tuple(names[:1 + len(layout)]), FnT(tuple(types[:1 + len(layout)]), ret),
                         body, nslots, tuple(names), tuple(types), span, fns[0].source_name)
    wrappers = {}
    for m, f in zip(members, fns):
        args = tuple(ir.Local(i, p, t, f.span) for i, (p, t) in enumerate(zip(f.params, f.type.params)))
        value = call(m, args, f.span)
        stmts = (ir.Return(value, f.span),) if f.type.ret != NONE else \
            (ir.ExprStmt(value, f.span), ir.Return(None, f.span))
        wrappers[m] = dataclasses.replace(f, body=stmts, nslots=len(f.params), slot_names=f.params,
                                          slot_types=tuple(f.type.params))
    return Merged(merged, wrappers)
