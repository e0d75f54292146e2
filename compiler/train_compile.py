"""The compiled training path: a model that is a chain of dense layers and activations trains in
whole-epoch Numba kernels (runtime/mlp_kernels.py), compiled once and cached, never per program."""
from __future__ import annotations


def plan(program, task):
    return None, "the compiled path is not built yet"


class CompiledEngine:  # pragma: no cover
    name = "compiled"
