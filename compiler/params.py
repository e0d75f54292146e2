"""The parameters a program's layers own, read off the typed IR.

Every `layer.*` primitive carries its call site's name and its parameters' shapes (tensor_builtins.py);
`param_specs` lists them in a stable order (the program's functions in definition order, sites in
source order), which is the layout of the flat parameter buffer; `state_specs` does the same for the
state layers own but do not train (batch_norm's running statistics).
"""
from __future__ import annotations

from . import ir
from .diagnostics import Diagnostic, GliaError
from .tensor_builtins import layer_state
from .types import FLOAT, TensorT, TupleT
from glia.runtime.params import ParamSpec, ParamStore


def layer_sites(program: ir.Program) -> list[ir.Prim]:
    seen, out = set(), []
    for f in program.functions.values():
        for node in ir.walk(f.body):
            if isinstance(node, ir.Prim) and node.op.startswith("layer.") and node.attrs[0] not in seen:
                seen.add(node.attrs[0])
                out.append(node)
    return out


def param_specs(program: ir.Program, sites=None) -> list[ParamSpec]:
    """`sites`: layer_sites(program), when the caller has them (the walk over the IR is the cost)."""
    return [ParamSpec(f"{p.attrs[0]}.{name}", shape, init)
            for p in (layer_sites(program) if sites is None else sites) for name, shape, init in p.attrs[1]]


def state_specs(program: ir.Program, sites=None) -> list[ParamSpec]:
    return [ParamSpec(f"{p.attrs[0]}.{name}", shape, init)
            for p in (layer_sites(program) if sites is None else sites) for name, shape, init in layer_state(p)]


def param_dtype(program: ir.Program, sites=None):
    """float32 unless the layers compute in f64; layers of both kinds in one program are refused."""
    sites = layer_sites(program) if sites is None else sites
    kinds = set()
    for p in sites:
        if not p.attrs[1]:
            continue
        t = p.type.items[0] if isinstance(p.type, TupleT) else p.type
        kinds.add(t.dtype if isinstance(t, TensorT) else t)
    if len(kinds) > 1:
        site = sites[-1]
        raise GliaError(Diagnostic("E201", "the layers of one program must all be f32 or all f64 (their "
                                   "parameters share one buffer)", site.span, "params", program.source))
    import numpy as np

    return np.float64 if kinds == {FLOAT} else np.float32


def new_store(program: ir.Program, seed: int = 0) -> ParamStore:
    sites = layer_sites(program)  # once: a walk over every function of the program
    return ParamStore(param_specs(program, sites), param_dtype(program, sites), seed, state_specs(program, sites))


def describe(program: ir.Program) -> list[tuple[str, tuple[int, ...], int]]:
    """(name, shape, size) of each parameter, in layout order."""
    return [(s.name, s.shape, s.size) for s in param_specs(program)]
