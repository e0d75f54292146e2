"""Per-element loss rules written once for both targets, like act_rules.py: runtime/mlp_kernels.py
compiles them with `numba.njit(inline="always")`, runtime/cuda_mlp.py with `cuda.jit(device=True)`.
Plain Python over one float; `lo`, `hi` and `one` come in the parameters' dtype, so a float32 model's
arithmetic stays in float32, as the tape's does.
"""
from __future__ import annotations

import math

BCE_LO, BCE_HI = 1e-12, 1 - 1e-7  # the tape's clip of a probability (runtime/tensor_ops.bce)


def bce(p, t, lo, hi, one):
    """binary_cross_entropy of one prediction p and target t, as runtime/tensor_ops.bce and the tape's
    rule (runtime/nbtensor.bce_vjp) compute it: (loss, d loss / d p). p is clipped to [lo, hi], with no
    gradient where the clip holds it; a p outside [0, 1] has a NaN loss, which stops training so that
    the tape names the mistake (E506); a NaN p stays NaN."""
    q = min(max(p, lo), hi) if p == p else p
    loss = -(t * math.log(q) + (one - t) * math.log(one - q))
    if p < 0 or p > 1:
        loss = math.nan
    slope = -(t / q) + (one - t) / (one - q) if (p > lo and p < hi) else one - one
    return loss, slope
