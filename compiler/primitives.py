"""The primitive table: every operation the typed IR can name, declared once.

Each `Primitive` carries its reference evaluation (a runtime kernel). Later stages add their rule
beside it in this table (vector-Jacobian product, CPU lowering, CUDA lowering); a backend that meets
a primitive without its rule reports both names instead of guessing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from glia.runtime import tensor_ops  # noqa: F401  (registers the tensor, layer and loss kernels)
from glia.runtime.kernels import KERNELS


@dataclass(slots=True)
class Primitive:
    name: str
    impl: object  # reference evaluation: a runtime kernel
    rules: dict = field(default_factory=dict)  # 'vjp', 'numba', 'cuda', ... filled by later stages


PRIMS: dict[str, Primitive] = {name: Primitive(name, impl) for name, impl in KERNELS.items()}


def rule(prim: str, kind: str):
    """Register `kind` (e.g. 'vjp') for primitive `prim`."""
    def deco(f):
        PRIMS[prim].rules[kind] = f
        return f
    return deco


from . import vjp_rules  # noqa: E402,F401  (registers the 'vjp' rules beside the kernels)
from . import codegen_rules  # noqa: E402,F401  (and the 'codegen' rules of compiled training traces)
from . import adjoint_rules  # noqa: E402,F401  (and the 'adjoint' rules of compiled gradients)
