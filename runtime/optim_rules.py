"""One parameter's optimizer update, written once for both targets: runtime/mlp_kernels.py compiles
these with `numba.njit(inline="always")` inside its fused update loops, runtime/cuda_mlp.py as CUDA
device functions (one thread per parameter). Clipping and weight decay, which need the whole
gradient or are one line, stay in the callers. `one` is 1 in the parameters' dtype, so float32
parameters are updated in float32.
"""
from __future__ import annotations

import math


def adam(w, g, m, v, a, ic2, b1, b2, eps, one):
    """Adam (and AdamW, whose decay the caller applies to w first); `a` = lr / (1 - b1**t),
    `ic2` = 1 / (1 - b2**t). Returns (w, m, v)."""
    m = b1 * m + (one - b1) * g
    v = b2 * v + (one - b2) * g * g
    return w - a * m / (math.sqrt(v * ic2) + eps), m, v


def momentum(w, g, m, lr, mom, nesterov):
    """SGD with (Nesterov) momentum. Returns (w, m)."""
    m = mom * m + g
    if nesterov:
        return w - lr * (g + mom * m), m
    return w - lr * m, m


def rmsprop(w, g, m, v, lr, alpha, mom, eps, one):
    """RMSprop, with momentum when mom != 0. Returns (w, m, v)."""
    m = alpha * m + (one - alpha) * g * g
    step = g / (math.sqrt(m) + eps)
    if mom != 0:
        v = mom * v + step
        step = v
    return w - lr * step, m, v
