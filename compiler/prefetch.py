"""Where compiled loops prefetch the rows of a list of lists (runtime/nblist.py, "Software prefetching").

A graph search reads `adj[u]` for nodes `u` in the order a queue or a list gives: a row is two cache
misses away (its fields, then its elements) and the order is random, so the loop waits on memory for
every row (a breadth-first search over 200k nodes: 33 ms against 14 ms for compressed rows in hand-
written Numba, docs/benchmarks.md). The next rows are known, though: they are the indices a few
places further on in the queue. A loop of one of these shapes prefetches them:

- `while ...:` whose body reads `u = order[j]` (a statement of the body itself, `order` a `list[int]`
  it does not assign, `j` a counter its body only ever adds one to) and reads `xss[u]` somewhere;
- `for u in order:` over a `list[int]` walked through its view (the loop cannot resize it), reading
  `xss[u]`;
- `while ...:` whose body takes `u` from a call `t = pop(h)` of a function that returns `h[0]` as it
  was when called (a heap's pop: `top = h[0]`, ..., `return top`; `u = t[k]` for a list of tuples),
  and reads `xss[u]`: after the call `h[0]` is what the next call will return, unless the loop pushes
  something that goes before it, so its row is fetched while the loop works on this one (Dijkstra);

where `xss` is a list of lists (a typed List of ArrayLists) the loop does not assign, and `u` a local
the loop assigns nowhere else. Only where it pays: a prefetch never changes what a program computes
(an index out of range, or one not in the queue yet, is skipped at run time), so the shapes are
chosen for speed alone. Not `for u in range(n)`: rows made one after another lie in memory in that
order, where the hardware prefetchers follow them; on rows made in random order a prefetch made the
walk 1.4x faster at 200k rows, but 15% slower at 20k, where the rows fit in the cache (docs/
benchmarks.md). This module looks at the IR; FunctionLowerer emits the calls.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import ir
from .types import INT, ListT


@dataclass(frozen=True)
class InOrder:
    """Prefetch the rows of `rows` that `order[j + k]` will name (a `while` loop's `u = order[j]`)."""

    rows: tuple[ir.Local, ...]
    order: ir.Local
    counter: ir.Local


def _stores(body) -> dict[int, list]:
    """slot -> the assignments (Assign nodes, or None for any other kind of store: a tuple's item, a
    loop's target) of the locals that the statements `body` assign, lambdas' bodies included."""
    found: dict[int, list] = {}
    targets: set[int] = set()
    for node in ir.walk(body):  # pre-order: an Assign before its target
        if isinstance(node, ir.Assign) and isinstance(node.target, ir.StoreLocal):
            found.setdefault(node.target.slot, []).append(node)
            targets.add(id(node.target))
        elif isinstance(node, ir.StoreLocal) and id(node) not in targets:
            found.setdefault(node.slot, []).append(None)
    return found


def _rows_read(body, u: int, stores, is_rows: Callable) -> tuple[ir.Local, ...]:
    """The lists of lists `xss` (locals the loop does not assign) that `body` reads a row `xss[u]` of."""
    seen: dict[int, ir.Local] = {}
    for node in ir.walk(body):
        if isinstance(node, ir.Prim) and node.op == "list.getitem" and len(node.args) == 2:
            xss, i = node.args
            if isinstance(xss, ir.Local) and is_rows(xss.type) and xss.slot not in stores \
                    and isinstance(i, ir.Local) and i.slot == u:
                seen.setdefault(xss.slot, xss)
    return tuple(seen.values())


def _counts_up(assigns, slot: int) -> bool:
    """Whether every one of `assigns` (a local's assignments in a loop) is `j = j + 1` or `j = 1 + j`."""
    def plus_one(e) -> bool:
        if not (isinstance(e, ir.Prim) and e.op == "int.add" and len(e.args) == 2):
            return False
        a, b = e.args
        return any(isinstance(x, ir.Local) and x.slot == slot and isinstance(y, ir.Const) and y.value == 1
                   and type(y.value) is int for x, y in ((a, b), (b, a)))
    return bool(assigns) and all(a is not None and plus_one(a.value) for a in assigns)


def in_order(body, is_rows: Callable) -> dict[int, InOrder]:
    """For a `while` loop's body: id(statement) -> what to prefetch after it, for each statement
    `u = order[j]` of the body itself that the loop is a walk along `order` with."""
    stores = _stores(body)
    plans: dict[int, InOrder] = {}
    for s in body:
        match s:
            case ir.Assign(target=ir.StoreLocal(slot=u, type=ut),
                           value=ir.Prim(op="list.getitem", args=(ir.Local() as order, ir.Local() as j))):
                if ut != INT or order.type != ListT(INT) or order.slot in stores or len(stores.get(u, ())) != 1 \
                        or not _counts_up(stores.get(j.slot), j.slot):
                    continue
                rows = _rows_read(body, u, stores, is_rows)
                if rows:
                    plans[id(s)] = InOrder(rows, order, j)
    return plans


@dataclass(frozen=True)
class Front:
    """Prefetch the row of `rows` that `heap[0]` names (its item `item` for a list of tuples, else
    None), after a call that took the front of `heap`."""

    rows: tuple[ir.Local, ...]
    heap: ir.Local
    item: int | None


def takes_front(f: ir.Function) -> bool:
    """Whether `f` returns its first argument's first element as it was when called: it begins (after
    any `assert`s) with `top = h[0]`, `h` its first parameter, a list, and every return is `return top`,
    `top` never assigned again."""
    if not f.params or not isinstance(f.slot_types[0], ListT):
        return False
    body = [s for s in f.body if not isinstance(s, ir.Assert)]
    match body[:1]:
        case [ir.Assign(target=ir.StoreLocal(slot=top),
                        value=ir.Prim(op="list.getitem", args=(ir.Local(slot=0), ir.Const(value=0))))]:
            pass
        case _:
            return False
    if len(_stores(f.body).get(top, ())) != 1:
        return False
    returns = [n for n in ir.walk(f.body) if isinstance(n, ir.Return)]
    return bool(returns) and all(isinstance(r.value, ir.Local) and r.value.slot == top for r in returns)


def front_pops(body, is_rows: Callable, callee: Callable) -> dict[int, Front]:
    """For a `while` loop's body: id(statement) -> what to prefetch after it, for each statement
    `t = pop(h, ...)` of the body itself, `pop` a function that takes_front (`callee(call)` gives the
    ir.Function a call runs, or None), whose result names the rows the loop reads (`t` itself, or
    `u = t[k]`, a statement of the body)."""
    stores = _stores(body)
    plans: dict[int, Front] = {}
    for s in body:
        match s:
            case ir.Assign(target=ir.StoreLocal(slot=t, type=tt), value=ir.CallFunc(args=(ir.Local() as h, *_)) as call):
                if h.slot in stores or len(stores.get(t, ())) != 1 or h.type != ListT(tt):
                    continue
                f = callee(call)
                if f is None or not takes_front(f):
                    continue
                rows, item = (_rows_read(body, t, stores, is_rows), None) if tt == INT else _item_rows(body, t, stores, is_rows)
                if rows:
                    plans[id(s)] = Front(rows, h, item)
    return plans


def _item_rows(body, t: int, stores, is_rows: Callable) -> tuple[tuple[ir.Local, ...], int | None]:
    """(the rows read at `xss[u]`, k) for a statement `u = t[k]` of `body` (an int `u` assigned nowhere
    else), or ((), None)."""
    for s in body:
        match s:
            case ir.Assign(target=ir.StoreLocal(slot=u, type=ut),
                           value=ir.Prim(op="tuple.getitem", args=(ir.Local(slot=src),), attrs=(int(k),))) \
                    if src == t and ut == INT and len(stores.get(u, ())) == 1:
                rows = _rows_read(body, u, stores, is_rows)
                if rows:
                    return rows, k
    return (), None


def walked(target, body, is_rows: Callable) -> tuple[ir.Local, ...]:
    """For `for u in order:` (a list of ints): the lists of lists whose rows `xss[u]` the body reads
    (none when the body assigns `u` itself)."""
    if not (isinstance(target, ir.StoreLocal) and target.type == INT):
        return ()
    stores = _stores(body)
    if target.slot in stores:
        return ()
    return _rows_read(body, target.slot, stores, is_rows)
