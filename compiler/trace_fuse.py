"""A pass over a compiled training trace (compiler/trace_compile.py) before code generation: the
products of a weight shared by many nodes, computed as one matrix product wherever the nodes' inputs
allow (dynamic batching within a trace).

    a trace (nodes in the order they ran)
      -> the groups: every `layer.dense` (x, W, b) and every `layer.rnn_cell` (x, h, Wx, Wh, b) of one
         parameter array W (one call site: a loop body, a recursive function)
      -> each grouped node's level: 0 when its input x depends on no grouped node, else one more than
         the highest level x depends on (a tree's leaves 0, a node above leaves 1, and so on: the
         nodes of one level never read each other's results)
      -> each (group, level) of two nodes or more becomes one `fused.dense` node: the inputs stacked by
         rows, one product with W, the bias added, a row block per node; for recurrent cells that is
         the input projection x_t Wx + b, and each cell becomes `fused.rnn_step` (u, h, Wh), the
         recurrence alone, tanh(u + h Wh)
      -> the nodes in a topological order (the original order where it allows)

When a level's inputs are the consecutive rows of one value (`for x in seq`: x is `seq[0]`, `seq[1]`,
...), the node is `fused.dense_rows` (seq, k0, W, b): one copy stacks the rows (time-major), and the
`seq[k]` nodes, read by nothing else, are left out of the generated code.

An RNN over a sequence: its inputs depend on no cell, so the 8 input projections are one product.
A recursion over a tree: the leaves' layers are one product, and the nodes above them one per height.
An input that depends on the recurrence (x_t computed from h_{t-1}) puts every step on its own level:
nothing is stacked. In reverse a `fused.dense` node runs after all its nodes' consumers: one product
gives W's gradient (stacked inputs^T . stacked cotangents), one the inputs' cotangents.

The weight gradients of the products that stay per node (the recurrent Wh, a dense alone on its
level) are deferred instead: each node's backward leaves (inputs, cotangent) in `Emit.deferred`, and
the end of the reverse sweep adds them for each parameter as one product of the stacked rows
(trace_compile.generate). The recurrent steps write their states, and their cotangents, into stacked
buffers (a row block per step, codegen_layers.py), so those rows are two slices, not concatenations.
"""
from __future__ import annotations

import heapq
from dataclasses import replace

from .trace_compile import Arg, Node

# op -> (index of the input x, index of the weight applied to x, index of the bias); the rest of the
# arguments stay with the per-node remainder
GROUPED = {"layer.dense": (0, 1, 2), "layer.rnn_cell": (0, 2, 4)}
FRESH = 1 << 30  # ids of the values the pass introduces (the tape's ids are far below)


def fuse(nodes: list[Node]) -> list[Node]:
    """The trace with each level of each group as one product (the same values, reordered)."""
    groups = _groups(nodes)
    if not groups:
        return nodes
    level = _levels(nodes, {id(n) for g in groups for n in g})
    steps: dict[int, Node] = {}  # a recurrent cell's node -> its fused.rnn_step
    gone: set[int] = set()  # the dense nodes a fused.dense computes
    extra = []
    made = {i: n for n in nodes for i in n.ids}  # value id -> the node computing it
    at = {id(n): i for i, n in enumerate(nodes)}
    position = {}  # the order to keep: a fused.dense where the first of its nodes was, a step where its cell
    for g in groups:
        by_level: dict[int, list[Node]] = {}
        for n in g:
            by_level.setdefault(level[id(n)], []).append(n)
        for same in by_level.values():
            if len(same) >= 2:
                f = _stacked(same, steps, made)
                extra.append(f)
                position[id(f)] = min(at[id(n)] for n in same)
                gone.update(id(n) for n in same if n.op == "layer.dense")
    if not extra:
        return nodes
    kept = [steps.get(id(n), n) for n in nodes if id(n) not in gone]
    position.update((id(steps.get(id(n), n)), i) for i, n in enumerate(nodes))
    return _topological(kept + extra, position)


def _levels(nodes, members) -> dict[int, int]:
    """Each grouped node's level (by id(node)): one more than the highest level its input x depends on."""
    deps: dict[int, int] = {}  # value id -> the highest level of a grouped node it depends on (absent: none)
    level = {}
    for n in nodes:
        up = max((deps[a.index] for a in n.args if a.kind == "var" and a.index in deps), default=-1)
        if id(n) in members:
            x = n.args[GROUPED[n.op][0]]
            level[id(n)] = 1 + (deps.get(x.index, -1) if x.kind == "var" else -1)
            up = max(up, level[id(n)])
        if up >= 0:
            deps.update((i, up) for i in n.ids)
    return level


def _topological(nodes, position) -> list[Node]:
    """`nodes` in an order where every value is computed before it is read, as close to the original
    order (`position`, by id(node)) as that allows."""
    made = {i: id(n) for n in nodes for i in n.ids}  # value id -> id of the node computing it
    need = {id(n): {made[a.index] for a in n.args if a.kind == "var" and a.index in made} for n in nodes}
    users: dict[int, list[Node]] = {}
    for n in nodes:
        for d in need[id(n)]:
            users.setdefault(d, []).append(n)
    key = {id(n): (position[id(n)], k) for k, n in enumerate(nodes)}  # unique: nodes are never compared
    ready = [(key[id(n)], n) for n in nodes if not need[id(n)]]
    heapq.heapify(ready)
    waiting = {id(n): len(need[id(n)]) for n in nodes}
    out = []
    while ready:
        _, n = heapq.heappop(ready)
        out.append(n)
        for u in users.get(id(n), ()):
            waiting[id(u)] -= 1
            if not waiting[id(u)]:
                heapq.heappush(ready, (key[id(u)], u))
    assert len(out) == len(nodes), "trace_fuse: a cycle among the stacked nodes"
    return out


def _groups(nodes):
    groups: dict[tuple, list[Node]] = {}
    for n in nodes:
        if n.op in GROUPED:
            xi, wi, _ = GROUPED[n.op]
            x, w = n.args[xi], n.args[wi]
            if w.kind == "param" and len(x.shape) == 1 and x.kind in ("var", "const"):
                groups.setdefault((n.op, w.name), []).append(n)
    return [g for g in groups.values() if len(g) >= 2]


def _rows_of(xs, made):
    """When the inputs xs are the consecutive rows k0, k0 + 1, ... of one value of the trace (`for x
    in seq`: each x is `seq[k]`, a `tensor.getitem` by a constant): [that value, k0 as a constant]
    (`fused.dense_rows` stacks them with one copy); else None."""
    src = [made.get(x.index) if x.kind == "var" else None for x in xs]
    if any(n is None or n.op != "tensor.getitem" or len(n.args) != 2 or n.args[1].kind != "const" or
           type(n.args[1].value) is not int for n in src):
        return None
    v, k0 = src[0].args[0], src[0].args[1].value
    if v.kind != "var" or len(v.shape) != 2 or k0 < 0 or any(
            n.args[0].kind != "var" or n.args[0].index != v.index or n.args[1].value != k0 + i
            for i, n in enumerate(src)):
        return None
    return [v, Arg("const", repr(k0), (), "int64", value=k0)]


def _stacked(group, steps, made) -> Node:
    """The `fused.dense` node of a group's level (`fused.dense_rows` when its inputs are consecutive
    rows of one value); for recurrent cells, their `fused.rnn_step` nodes into `steps`."""
    xi, wi, bi = GROUPED[group[0].op]
    xs = [n.args[xi] for n in group]
    w, b = group[0].args[wi], group[0].args[bi]
    rows = _rows_of(xs, made)
    op, xs = ("fused.dense", xs) if rows is None else ("fused.dense_rows", rows)
    if group[0].op == "layer.dense":
        return Node(op, xs + [w, b], [o for n in group for o in n.outs], [i for n in group for i in n.ids],
                    [n.out_shapes[0] for n in group], [n.out_dtypes[0] for n in group])
    ids = [FRESH + n.ids[0] for n in group]
    for n, i in zip(group, ids):
        x, h, _, wh, _ = n.args
        u = Arg("var", f"v{i}", n.out_shapes[0], n.out_dtypes[0], True, index=i)
        steps[id(n)] = replace(n, op="fused.rnn_step", args=[u, h, wh])
    return Node(op, xs + [w, b], [f"v{i}" for i in ids], ids, [n.out_shapes[0] for n in group],
                [n.out_dtypes[0] for n in group])
