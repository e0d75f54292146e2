"""A pass over a compiled training trace (compiler/trace_compile.py) before code generation: hoist the
products of a weight shared by many nodes into one matrix product, when no node of the group reads
another's result.

    a trace (nodes in the order they ran)
      -> the groups: every `layer.dense` (x, W, b) and every `layer.rnn_cell` (x, h, Wx, Wh, b) of one
         parameter array W (one call site: a loop body, a recursive function), at least two nodes
      -> a group is hoisted when none of its inputs x depends on a node of any hoisted group
      -> the trace reordered: the nodes that depend on no hoisted node (they compute the inputs), then
         one `fused.dense` node per group (all its inputs stacked by rows, one product with W, the bias
         added), then the rest, where each `layer.rnn_cell` becomes `fused.rnn_step` (u, h, Wh): the
         recurrence alone, tanh(u + h Wh), u being its row block of the group's product

In reverse the `fused.dense` node runs after every node of the group: one product gives W's gradient
(stacked inputs^T . stacked cotangents), one the inputs' cotangents. A recurrent cell's input
projection (x_t Wx for every step t of a sequence) is the case this is for: 8 small products become
one, and 8 weight-gradient products one. An input that depends on the recurrence (x_t computed from
h_{t-1}) keeps its group unhoisted: the nodes run as traced.

The weight gradients of the products that stay per node (the recurrent Wh, an unhoisted dense) are
deferred instead: each node's backward leaves (inputs, cotangent) in `Emit.deferred`, and the end of the
reverse sweep adds them for each parameter as one product of the stacked rows (trace_compile.generate).
"""
from __future__ import annotations

from dataclasses import replace

from .trace_compile import Arg, Node

# op -> (index of the input x, index of the weight applied to x, index of the bias); the rest of the
# arguments stay with the per-node remainder
GROUPED = {"layer.dense": (0, 1, 2), "layer.rnn_cell": (0, 2, 4)}
FRESH = 1 << 30  # ids of the values the pass introduces (the tape's ids are far below)


def fuse(nodes: list[Node]) -> list[Node]:
    """The trace with its hoistable groups as single products (the same values, reordered)."""
    groups = _groups(nodes)
    while groups:
        members = {id(n) for g in groups.values() for n in g}
        later = _dependents(nodes, members)
        kept = {k: g for k, g in groups.items() if not any(_reads(n, later) for n in g)}
        if len(kept) == len(groups):
            break
        groups = kept
    if not groups:
        return nodes
    first = [n for n in nodes if not later.intersection(n.ids) and id(n) not in members]
    rest = [n for n in nodes if later.intersection(n.ids) or id(n) in members]
    steps: dict[int, Node] = {}  # a recurrent cell's node -> its fused.rnn_step
    out = first + [_stacked(g, steps) for g in groups.values()]
    # a hoisted dense node is gone (its group's product computes it); a recurrent cell keeps its step
    return out + [steps.get(id(n), n) for n in rest if id(n) in steps or id(n) not in members]


def _groups(nodes):
    groups: dict[tuple, list[Node]] = {}
    for n in nodes:
        if n.op in GROUPED:
            xi, wi, _ = GROUPED[n.op]
            x, w = n.args[xi], n.args[wi]
            if w.kind == "param" and len(x.shape) == 1 and x.kind in ("var", "const"):
                groups.setdefault((n.op, w.name), []).append(n)
    return {k: g for k, g in groups.items() if len(g) >= 2}


def _dependents(nodes, members) -> set[int]:
    """The ids of the values computed by `members` or from them."""
    later: set[int] = set()
    for n in nodes:
        if id(n) in members or any(a.kind == "var" and a.index in later for a in n.args):
            later.update(n.ids)
    return later


def _reads(n, later) -> bool:
    x = n.args[GROUPED[n.op][0]]
    return x.kind == "var" and x.index in later


def _stacked(group, steps) -> Node:
    """The `fused.dense` node of a group; for recurrent cells, their `fused.rnn_step` nodes into `steps`."""
    xi, wi, bi = GROUPED[group[0].op]
    xs = [n.args[xi] for n in group]
    w, b = group[0].args[wi], group[0].args[bi]
    if group[0].op == "layer.dense":
        return Node("fused.dense", xs + [w, b], [o for n in group for o in n.outs], [i for n in group for i in n.ids],
                    [n.out_shapes[0] for n in group], [n.out_dtypes[0] for n in group])
    ids = [FRESH + n.ids[0] for n in group]
    for n, i in zip(group, ids):
        x, h, _, wh, _ = n.args
        u = Arg("var", f"v{i}", n.out_shapes[0], n.out_dtypes[0], True, index=i)
        steps[id(n)] = replace(n, op="fused.rnn_step", args=[u, h, wh])
    return Node("fused.dense", xs + [w, b], [f"v{i}" for i in ids], ids, [n.out_shapes[0] for n in group],
                [n.out_dtypes[0] for n in group])
