"""Activations and their slopes, one element at a time, written once for both targets:
runtime/mlp_kernels.py compiles them with `numba.njit(inline="always")` for the CPU,
runtime/cuda_mlp.py with `cuda.jit(device=True)` for the GPU. Plain Python over one float (`math`,
not numpy), so both compilers, and numba-cuda's simulator, take them. Softmax and log_softmax work
on whole rows and live in the kernels.
"""
from __future__ import annotations

import math

RELU, SIGMOID, TANH, LEAKY, SOFTMAX, LOG_SOFTMAX, GELU, SILU, ELU = 1, 2, 3, 4, 5, 6, 7, 8, 9
GELU_C = 0.7978845608028654  # sqrt(2 / pi)


def act_value(code, alpha, v):
    """f(v) for activation `code` (alpha: leaky_relu's slope, elu's scale)."""
    if code == RELU:
        return v if v > 0 else 0.0
    if code == SIGMOID:  # never exp of a large positive number
        return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))
    if code == TANH:
        return math.tanh(v)
    if code == LEAKY:
        return v if v > 0 else alpha * v
    if code == ELU:
        return v if v > 0 else alpha * math.expm1(v)
    if code == SILU:
        return v / (1.0 + math.exp(-v)) if v >= 0 else v * math.exp(v) / (1.0 + math.exp(v))
    return 0.5 * v * (1.0 + math.tanh(GELU_C * (v + 0.044715 * v * v * v)))  # GELU, tanh approximation


def act_slope(code, alpha, v, y):
    """f'(v), given y = f(v)."""
    if code == RELU:
        return 1.0 if v > 0 else 0.0
    if code == SIGMOID:
        return y * (1.0 - y)
    if code == TANH:
        return 1.0 - y * y
    if code == LEAKY:
        return 1.0 if v > 0 else alpha
    if code == ELU:
        return 1.0 if v > 0 else y + alpha
    if code == SILU:
        s = 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))
        return s * (1.0 + v * (1.0 - s))
    t = math.tanh(GELU_C * (v + 0.044715 * v * v * v))
    return 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * GELU_C * (1.0 + 3 * 0.044715 * v * v)
