"""Tensor helpers that compiled Glia code calls (the CPU backend's tensors, layers and losses):
precompiled once with Numba (`cache=True`), on C-contiguous NumPy arrays.

They follow runtime/tensor_ops.py and runtime/kernels.py, the interpreter's NumPy kernels, operation
for operation and in the same dtype, so results agree to the last bit where NumPy's order of
operations is known: sums are NumPy's pairwise summation (`pairwise`, blocks of 8 partial sums
below 128 elements, halves above) along the last axis and in order along the others, and a mean
divides that sum; an f32 `exp`, `log`, `tanh`, ... is computed in float64 and rounded once, as the
interpreter does (kernels.precise); a convolution is one im2col matrix product on both. What can
differ in the last bit (docs/backends.md, "Tensors"): f64 tensors' math functions (NumPy's SIMD code
against the C library's) and products of two matrices (NumPy's BLAS and SciPy's, which Numba's
np.dot calls, are separate builds of OpenBLAS; products with a vector agree).

Element-wise helpers take a `one` argument of the tensor's dtype (np.float32(1) or 1.0): a Python
literal would be a float64 in compiled code and turn f32 arithmetic into f64.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

from .errors import INDEX, VALUE, CompiledRuntimeError
from . import nbrt as rt
from . import nbstr as nbs
from .nbrt import checked_slot

hot = njit(cache=True, inline="always")
jit = njit(cache=True)


class LabelOutOfRange(CompiledRuntimeError):
    def __init__(self, y, k, site):
        super().__init__(INDEX, f"class label {y} out of range for {k} classes", site)


class ProbabilityOutOfRange(CompiledRuntimeError):
    def __init__(self, v, site):
        from .tensor_ops import bce_outside_message

        super().__init__(VALUE, bce_outside_message(v), site)


class ScoresNotProbabilities(CompiledRuntimeError):
    def __init__(self, v, site):
        from .tensor_ops import ce_outside_message

        super().__init__(VALUE, ce_outside_message(v), site)


class EmbeddingOutOfRange(CompiledRuntimeError):
    def __init__(self, i, n, site):
        super().__init__(INDEX, f"embedding index {i} out of range for a table of {n} rows", site)


def cast(v, like):
    """`v` as a number of `like`'s type (np.float32 or float; in compiled code, the overload below)."""
    return type(like)(v)


@overload(cast, inline="always")
def _cast(v, like):
    ty = like

    def impl(v, like):
        return ty(v)
    return impl


# ---- indexing -----------------------------------------------------------------------------------

@hot
def idx(i, n, site):
    """The index `i` of a dimension of length `n` (negative from the end), checked."""
    return checked_slot(i, n, "tensor dimension", site)


# ---- sums: NumPy's pairwise summation -----------------------------------------------------------

@hot
def _block(a, lo, n, stride):
    """NumPy's sum of up to 128 values: 8 partial sums, combined as a tree, then the rest in order."""
    if n < 8:  # NumPy starts at 0 and adds each value; the callers add the 0 (`zero + ...`)
        res = a[lo]
        for i in range(1, n):
            res += a[lo + i * stride]
        return res
    r0 = a[lo]
    r1 = a[lo + stride]
    r2 = a[lo + 2 * stride]
    r3 = a[lo + 3 * stride]
    r4 = a[lo + 4 * stride]
    r5 = a[lo + 5 * stride]
    r6 = a[lo + 6 * stride]
    r7 = a[lo + 7 * stride]
    m = n - n % 8
    i = 8
    while i < m:
        p = lo + i * stride
        r0 += a[p]
        r1 += a[p + stride]
        r2 += a[p + 2 * stride]
        r3 += a[p + 3 * stride]
        r4 += a[p + 4 * stride]
        r5 += a[p + 5 * stride]
        r6 += a[p + 6 * stride]
        r7 += a[p + 7 * stride]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i * stride]
        i += 1
    return res


@jit
def pairwise(a, lo, n, stride):
    """NumPy's pairwise sum of a[lo], a[lo + stride], ... (n values) of a 1-D array: blocks of at
    most 128 values, the halves of a longer run summed separately (the first half a multiple of 8).
    NumPy recurses; this walks the same tree with a stack (Numba's cache cannot reload a recursive
    function)."""
    if n <= 128:
        return _block(a, lo, n, stride)
    los = np.empty(64, np.int64)
    ns = np.empty(64, np.int64)
    phase = np.zeros(64, np.int64)
    vals = np.empty(64, a.dtype)
    los[0], ns[0], phase[0] = lo, n, 0
    sp, nv = 1, 0
    while sp > 0:
        t = sp - 1
        m = ns[t]
        if m <= 128:
            vals[nv] = _block(a, los[t], m, stride)
            nv += 1
            sp -= 1
            continue
        half = m // 2
        half -= half % 8
        if phase[t] == 0:
            phase[t] = 1
            los[sp], ns[sp], phase[sp] = los[t], half, 0
            sp += 1
        elif phase[t] == 1:
            phase[t] = 2
            los[sp], ns[sp], phase[sp] = los[t] + half * stride, m - half, 0
            sp += 1
        else:
            vals[nv - 2] = vals[nv - 2] + vals[nv - 1]
            nv -= 1
            sp -= 1
    return vals[0]


@jit
def total(x, zero):
    """sum(x): NumPy's `x.sum(dtype=x.dtype)` (the identity plus the pairwise sum of every element)."""
    f = x.reshape(x.size)
    if f.size == 0:
        return zero
    return zero + pairwise(f, 0, f.size, 1)


@jit
def mean(x, zero):
    if x.size == 0:  # NaN, as the interpreter's (NumPy's) mean of no elements
        return cast(np.nan, zero)
    return total(x, zero) / cast(x.size, zero)


@jit
def extreme(x, want_max):
    """max(x) / min(x), a NaN anywhere giving NaN (NumPy's rule). x is not empty (the caller checks:
    a named dimension may be 0)."""
    f = x.reshape(x.size)
    r = f[0]
    for i in range(1, f.size):
        v = f[i]
        if r != r:
            break
        if v != v or (v > r if want_max else v < r):
            r = v
    return r


@jit
def reduce3(x3, how, zero):
    """The reduction `how` (0 sum, 1 mean, 2 max, 3 min) over the middle axis of x3 (outer, n, inner),
    as NumPy does it: pairwise along a last axis (inner == 1), in order along any other."""
    outer, n, inner = x3.shape
    out = np.empty((outer, inner), x3.dtype)
    if n == 0:  # sums of nothing are 0, their means NaN; max and min of nothing are refused by the caller
        out[:] = zero if how == 0 else cast(np.nan, zero)
        return out
    flat = x3.reshape(x3.size)
    for o in range(outer):
        if inner == 1 and how <= 1:
            out[o, 0] = zero + pairwise(flat, o * n, n, 1)
            continue
        for j in range(inner):
            r = x3[o, 0, j]
            if how <= 1:
                r = zero + r
            for k in range(1, n):
                v = x3[o, k, j]
                if how <= 1:
                    r += v
                elif r == r and (v != v or (v > r if how == 2 else v < r)):
                    r = v
            out[o, j] = r
    if how == 1:
        out = out / cast(n, zero)
    return out


# ---- math functions and activations (a scalar, or an array through `mapped`) ---------------------
# `one` is 1 of the value's dtype (unused by some: every function here takes the same arguments)

@hot
def exp1(v, one):
    return cast(np.exp(np.float64(v)), v)


@hot
def log1(v, one):
    return cast(np.log(np.float64(v)), v)


@hot
def tanh1(v, one):
    return cast(np.tanh(np.float64(v)), v)


@hot
def sin1(v, one):
    return cast(np.sin(np.float64(v)), v)


@hot
def cos1(v, one):
    return cast(np.cos(np.float64(v)), v)


@hot
def tan1(v, one):
    return cast(np.tan(np.float64(v)), v)


@hot
def relu1(v, one):
    """np.maximum(v, 0): v when greater or NaN, else the 0 (so relu(-0.0) is 0.0)."""
    return v if (v > 0 or v != v) else cast(0.0, v)


# f32 arrays: exp and tanh in plain float64 arithmetic that LLVM vectorises (1.9 ns an element against
# the C library's 15-20), accurate to about 1e-16 before the one rounding to f32. So they give the
# correctly rounded f32, as the interpreter's float64 route does (kernels.precise): on 4 million normal
# samples at four scales, every value agreed. exp(y) = 2^n e^r, y = n ln2 + r, |r| <= ln2 / 2 (ln2 split
# in two as in fdlibm), e^r - 1 by its Taylor series to degree 13; 2^n is built from its bits.
SHORT = 32  # below this many elements the C library's float64 function, one call each, is quicker
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
INV_LN2 = 1.44269504088896338700e+00


@hot
def _exp_parts(y):
    """(the bits of 2^n, e^r - 1) for y = n ln2 + r (|y| <= 210)."""
    n = np.rint(y * INV_LN2)
    n = n if n == n else 0.0
    r = (y - n * LN2_HI) - n * LN2_LO
    p = 1.6059043836821613e-10  # 1/13!, then 1/12!, ... 1/2!
    p = p * r + 2.08767569878681e-09
    p = p * r + 2.505210838544172e-08
    p = p * r + 2.755731922398589e-07
    p = p * r + 2.7557319223985893e-06
    p = p * r + 2.48015873015873e-05
    p = p * r + 0.0001984126984126984
    p = p * r + 0.001388888888888889
    p = p * r + 0.008333333333333333
    p = p * r + 0.041666666666666664
    p = p * r + 0.16666666666666666
    p = p * r + 0.5
    return (np.int64(n) + 1023) << 52, r + (r * r) * p


@jit
def exp_f32(x):
    """exp of every element of an f32 array (any layout): beyond [-104, 89] the f32 result is 0 or inf."""
    f = np.ascontiguousarray(x).reshape(x.size)
    if f.size < SHORT:
        out = np.empty(x.shape, np.float32)
        o = out.reshape(out.size)
        for i in range(f.size):
            o[i] = exp1(f[i], np.float32(1.0))
        return out
    bits = np.empty(f.size, np.int64)
    em = np.empty(f.size, np.float64)
    for i in range(f.size):
        bits[i], em[i] = _exp_parts(min(max(np.float64(f[i]), -104.0), 89.0))
    s = bits.view(np.float64)
    out = np.empty(x.shape, np.float32)
    o = out.reshape(out.size)
    for i in range(f.size):
        o[i] = np.float32(s[i] * em[i] + s[i]) if f[i] == f[i] else f[i]
    return out


@jit
def tanh_f32(x):
    """tanh of every element of an f32 array: sign(x) e / (e + 2), e = exp(2|x|) - 1."""
    f = np.ascontiguousarray(x).reshape(x.size)
    if f.size < SHORT:
        out = np.empty(x.shape, np.float32)
        o = out.reshape(out.size)
        for i in range(f.size):
            o[i] = tanh1(f[i], np.float32(1.0))
        return out
    bits = np.empty(f.size, np.int64)
    em = np.empty(f.size, np.float64)
    for i in range(f.size):
        bits[i], em[i] = _exp_parts(2.0 * min(abs(np.float64(f[i])), 20.0))
    s = bits.view(np.float64)
    out = np.empty(x.shape, np.float32)
    o = out.reshape(out.size)
    for i in range(f.size):
        e = s[i] * em[i] + (s[i] - 1.0)
        o[i] = np.float32(math.copysign(e / (e + 2.0), np.float64(f[i]))) if f[i] == f[i] else f[i]
    return out


@jit
def sigmoid_f32(x):
    e = exp_f32(-np.abs(x))
    one = np.float32(1.0)
    return np.where(x >= 0, one / (one + e), e / (one + e))


@jit
def silu_f32(x):
    return x * sigmoid_f32(x)


@jit
def gelu_f32(x):
    c = np.float32(GELU_C)
    k = np.float32(0.044715)
    return np.float32(0.5) * x * (np.float32(1.0) + tanh_f32(c * (x + k * (x * x * x))))


@hot
def sigmoid1(v, one):
    e = exp1(-abs(v), one)
    return one / (one + e) if v >= 0 else e / (one + e)


@hot
def silu1(v, one):
    return v * sigmoid1(v, one)


GELU_C = float(np.sqrt(2.0 / np.pi))


@hot
def gelu1(v, one):
    c = cast(GELU_C, one)
    k = cast(0.044715, one)
    return cast(0.5, one) * v * (one + tanh1(c * (v + k * (v * v * v)), one))


@hot
def leaky1(v, alpha):
    return v if v > 0 else alpha * v


@hot
def elu1(v, alpha):
    m = v if (v < 0 or v != v) else cast(0.0, v)  # np.minimum(v, 0): the 0 for -0.0, NaN for NaN
    return v if v > 0 else alpha * cast(np.expm1(np.float64(m)), v)


# Not cached (plain njit): its callers are, with its code compiled into theirs. Cached, its index's
# keys hold the Numba type of the function passed, which refers to a dispatcher through a weak
# reference; in runs of random tensor gradients (seeds 21-23 and 36-37, two processes at a time, the
# runtime's cache folder filled by many earlier runs) saving a new entry failed with "underlying
# object has vanished" and the program did not compile ("glia: internal error"; numba/numba#9348
# reports the same). Not reproduced from an empty cache folder, one or two processes at a time.
@njit
def mapped(f, x, c):
    """f(v, c) for every element v of x, in a new C-contiguous array of x's shape and dtype (x may be a
    slice, e.g. a gate's columns of a batch)."""
    xc = np.ascontiguousarray(x)
    out = np.empty_like(xc)
    a = xc.reshape(xc.size)
    b = out.reshape(out.size)
    for i in range(a.size):
        b[i] = f(a[i], c)
    return out


@jit
def softmax(x, zero, log, is_f32):
    """softmax / log_softmax over the last axis (x viewed as rows), as tensor_ops.softmax_: each row's
    exponentials are written into the output, summed, then divided (or turned into logs) in place."""
    n = x.shape[-1]
    if n == 0:  # rows of no elements: nothing to normalise
        return x.copy()
    x2 = x.reshape((x.size // n, n))
    out = np.empty_like(x2)
    flat = out.reshape(out.size)
    for r in range(x2.shape[0]):
        m = extreme(x2[r], True)
        if is_f32:
            out[r] = exp_f32(x2[r] - m)
        else:
            for j in range(n):
                out[r, j] = exp1(x2[r, j] - m, zero)
        s = zero + pairwise(flat, r * n, n, 1)
        if log:
            ls = log1(s, zero)
            for j in range(n):
                out[r, j] = (x2[r, j] - m) - ls
        else:
            for j in range(n):
                out[r, j] = out[r, j] / s
    return out.reshape(x.shape)


# ---- losses (tensor_ops) ------------------------------------------------------------------------

@jit
def probabilities(p, site):
    """p, whose every value is in [0, 1]: cross_entropy of anything else is E506 (tensor_ops.ce_int)."""
    for v in p.flat:
        if v < 0 or v > 1:
            raise ScoresNotProbabilities(np.float64(v), site)
    return p


@jit
def ce_int(p, y, site):
    if not 0 <= y < p.shape[0]:
        raise LabelOutOfRange(y, p.shape[0], site)
    probabilities(p, site)
    return -np.log(max(np.float64(p[y]), 1e-12))


@jit
def nll_int(logp, y, site):
    if not 0 <= y < logp.shape[0]:
        raise LabelOutOfRange(y, logp.shape[0], site)
    return -logp[y]


@jit
def bce_terms(p, t, one, site):
    """t * log(q) + (1 - t) * log(1 - q), q = clip(p, 1e-12, 1 - 1e-7), element-wise; a prediction
    outside [0, 1] is E506 (tensor_ops.bce)."""
    lo = cast(1e-12, one)
    hi = cast(1 - 1e-7, one)
    out = np.empty_like(p)
    a, b, o = p.reshape(p.size), t.reshape(t.size), out.reshape(out.size)
    for i in range(a.size):
        if a[i] < 0 or a[i] > 1:
            raise ProbabilityOutOfRange(np.float64(a[i]), site)
    for i in range(a.size):
        q = min(max(a[i], lo), hi) if a[i] == a[i] else a[i]
        o[i] = b[i] * log1(q, one) + (one - b[i]) * log1(one - q, one)
    return out


@jit
def bce_vjp(p, t, g, one):
    """binary_cross_entropy's cotangents (of p, of t: t of p's shape), as the tape's rule computes them:
    s = g / p.size, q = clip(p, 1e-12, 1 - 1e-7); dp = s * (-(t / q) + (1 - t) / (1 - q)) * (p inside
    the clip's bounds), dt = s * -(log(q) - log(1 - q))."""
    lo = cast(1e-12, one)
    hi = cast(1 - 1e-7, one)
    zero = one - one
    s = g / cast(p.size, one)
    dp = np.empty_like(p)
    dt = np.empty_like(p)
    a, b, op, ot = p.reshape(p.size), t.reshape(t.size), dp.reshape(dp.size), dt.reshape(dt.size)
    for i in range(a.size):
        q = min(max(a[i], lo), hi) if a[i] == a[i] else a[i]
        inside = one if (a[i] > lo and a[i] < hi) else zero
        op[i] = s * (-(b[i] / q) + (one - b[i]) / (one - q)) * inside
        ot[i] = s * (-(log1(q, one) - log1(one - q, one)))
    return dp, dt


# ---- layers -------------------------------------------------------------------------------------

@jit
def embedding(i, E, site):
    if not 0 <= i < E.shape[0]:
        raise EmbeddingOutOfRange(i, E.shape[0], site)
    return E[i].copy()


@hot
def row_moments(row, d, zero):
    """(mean, biased variance) of `row` as NumPy computes them (pairwise sums); `d` is scratch of its
    length."""
    n = row.shape[0]
    mu = (zero + pairwise(row, 0, n, 1)) / cast(n, zero)
    for j in range(n):
        d[j] = row[j] - mu
        d[j] = d[j] * d[j]
    return mu, (zero + pairwise(d, 0, n, 1)) / cast(n, zero)


@jit
def layer_norm(x, g, b, zero, eps):
    """(x - mean) / sqrt(var + eps) * g + b over the last axis, NumPy's mean and biased variance."""
    n = x.shape[-1]
    x2 = x.reshape((x.size // n, n))
    out = np.empty_like(x2)
    d = np.empty(n, x.dtype)
    for r in range(x2.shape[0]):
        mu, var = row_moments(x2[r], d, zero)
        s = np.sqrt(var + eps)
        for j in range(n):
            out[r, j] = (x2[r, j] - mu) / s * g[j] + b[j]
    return out.reshape(x.shape)


@jit
def im2col(xp, kh, kw, sh, sw, oh, ow):
    """The windows of a padded input xp [C, H, W] as rows: [oh * ow, C * kh * kw]."""
    c = xp.shape[0]
    cols = np.empty((oh * ow, c * kh * kw), xp.dtype)
    for i in range(oh):
        for j in range(ow):
            r = i * ow + j
            k = 0
            for ch in range(c):
                for p in range(kh):
                    for q in range(kw):
                        cols[r, k] = xp[ch, i * sh + p, j * sw + q]
                        k += 1
    return cols


@jit
def conv2d(x, W, b, sh, sw, ph, pw):
    """Channels first: x [C, H, W], W [O, C, kh, kw], b [O] -> [O, H', W']."""
    c, h, w = x.shape
    o, _, kh, kw = W.shape
    xp = np.zeros((c, h + 2 * ph, w + 2 * pw), x.dtype)
    xp[:, ph:ph + h, pw:pw + w] = x
    oh = (h + 2 * ph - kh) // sh + 1
    ow = (w + 2 * pw - kw) // sw + 1
    cols = im2col(xp, kh, kw, sh, sw, oh, ow)
    y = np.dot(cols, np.ascontiguousarray(W.reshape((o, c * kh * kw)).T))  # [oh * ow, O]
    out = np.empty((o, oh, ow), x.dtype)
    for k in range(o):
        for i in range(oh):
            for j in range(ow):
                out[k, i, j] = y[i * ow + j, k] + b[k]
    return out


@jit
def conv1d(x, W, b, stride, pad):
    """x [C, L], W [O, C, k] -> [O, L']."""
    c, n = x.shape
    o, _, k = W.shape
    y = conv2d(x.reshape((c, 1, n)), W.reshape((o, c, 1, k)), b, 1, stride, 0, pad)
    return y.reshape((o, y.shape[2]))


@jit
def pool2(x, k, is_max, zero):
    """max_pool / avg_pool of x [C, H, W]: windows of k x k, stride k (the edge cropped)."""
    c, h, w = x.shape
    h2, w2 = h // k, w // k
    out = np.empty((c, h2, w2), x.dtype)
    win = np.empty(k * k, x.dtype)
    for ch in range(c):
        for i in range(h2):
            for j in range(w2):
                m = 0
                for p in range(k):
                    for q in range(k):
                        win[m] = x[ch, i * k + p, j * k + q]
                        m += 1
                if is_max:
                    out[ch, i, j] = extreme(win, True)
                else:
                    out[ch, i, j] = (zero + pairwise(win, 0, k * k, 1)) / cast(k * k, zero)
    return out


@jit
def pool1(x, k, is_max, zero):
    """The same over x [C, L]: windows of k."""
    c, n = x.shape
    m = n // k
    out = np.empty((c, m), x.dtype)
    for ch in range(c):
        for i in range(m):
            w = x[ch, i * k:(i + 1) * k]
            out[ch, i] = extreme(w, True) if is_max else (zero + pairwise(w, 0, k, 1)) / cast(k, zero)
    return out


# ---- formatting ---------------------------------------------------------------------------------

@jit
def opens(i, shape):
    """How many brackets open before element i of a tensor of `shape` written out flat (row-major),
    or close after element i - 1: the dimensions whose block of elements starts at i."""
    k = 0
    block = 1
    for d in range(len(shape) - 1, -1, -1):
        block *= shape[d]
        if i % block == 0:
            k += 1
        else:
            break
    return k


def float_repr(x):
    """repr() of an f32 or a float, as runtime/fmt.py writes each (in compiled code, the overload below)."""
    return repr(x)


@overload(float_repr, inline="always")
def _float_repr(x):
    if x == types.float32:
        return lambda x: nbs.f32_repr(x)
    return lambda x: nbs.float_repr(x)


@jit
def show(v):
    """repr() of a tensor of floats, as runtime/fmt.py writes it: one compiled function for every shape,
    cached with the runtime (a program's own formatting function for each shape it printed was about
    a second of its compile time)."""
    f = v.reshape(v.size)
    out = rt.list_new(types.unicode_type)
    for i in range(f.size):
        rt.list_append(out, "[" * opens(i, v.shape) + float_repr(f[i]) + "]" * opens(i + 1, v.shape))
    return "tensor(" + rt.str_join(", ", out) + ")"


# ---- compiled gradients (compiler/lower_grad.py) ---------------------------------------------------

@jit
def ad_acc(b, g):
    """A tensor's cotangent `b` plus `g`, as a fresh array (an empty `b`: nothing reached it yet; a
    cotangent is then added into in place, so it never shares memory)."""
    if b.size == 0 and g.size != 0:
        return g.copy()
    return b + g


@jit
def ad_add(b, g):
    """ad_acc for a `g` that is an array of its own: no copy."""
    if b.size == 0 and g.size != 0:
        return g
    return b + g


@jit
def sum_axis0(g2):
    """g2 [n, m] summed over its first axis in order, as NumPy's `sum(axis=0)` adds the rows to 0
    (so a -0.0 alone becomes 0.0)."""
    out = np.zeros(g2.shape[1], g2.dtype)
    for i in range(g2.shape[0]):
        out += g2[i]
    return out


@jit
def sum_keep(x3, zero):
    """x3 (outer, n, inner) summed over its middle axis as NumPy's `sum(axis, keepdims=True)` does
    (reduce3), unless n is 1: then unbroadcast leaves it as it is."""
    if x3.shape[1] == 1:
        return x3[:, 0, :].copy()
    return reduce3(x3, 0, zero)


@jit
def is_extreme(v, y):
    """Whether `v` is the min/max `y` of the values it is among: equal to it, or NaN when `y` is (a
    NaN wins a min or max, as in numpy, and the first gets the cotangent: vjp_rules._extreme)."""
    return v == y or (np.isnan(v) and np.isnan(y))


@jit
def first_extreme(a, y):
    """The index of the first element of the vector `a` that is its min/max `y` (is_extreme)."""
    for i in range(a.size):
        if is_extreme(a[i], y):
            return i
    return 0


@jit
def select_vjp(a3, y2, g2, zero):
    """max/min of a3 (outer, n, inner) along its middle axis, y2 (outer, inner), reversed: the first
    extreme element of each line gets the cotangent, the others 0 times it (the tape's `first * g`)."""
    outer, n, inner = a3.shape
    out = np.empty_like(a3)
    for o in range(outer):
        for j in range(inner):
            found = False
            for k in range(n):
                if not found and is_extreme(a3[o, k, j], y2[o, j]):
                    out[o, k, j] = g2[o, j]
                    found = True
                else:
                    out[o, k, j] = zero * g2[o, j]
    return out


@jit
def spread(g2, n):
    """g2 [outer, inner] repeated n times along a new middle axis: [outer, n, inner]."""
    outer, inner = g2.shape
    out = np.empty((outer, n, inner), g2.dtype)
    for o in range(outer):
        for j in range(n):
            out[o, j] = g2[o]
    return out


@jit
def layer_norm_vjp(x, gain, g, zero, eps):
    """layer_norm's input cotangent, as the tape's rule computes it: xh = (x - mean) / sd,
    gx = (g * gain - mean(g * gain) - xh * mean(g * gain * xh)) / sd, means over the last axis."""
    n = x.shape[-1]
    x2 = x.reshape((x.size // n, n))
    g2 = np.ascontiguousarray(g).reshape((x.size // n, n))
    out = np.empty_like(x2)
    d = np.empty(n, x.dtype)
    xh = np.empty(n, x.dtype)
    gh = np.empty(n, x.dtype)
    for r in range(x2.shape[0]):
        mu, var = row_moments(x2[r], d, zero)
        sd = np.sqrt(var + eps)
        for j in range(n):
            xh[j] = (x2[r, j] - mu) / sd
            gh[j] = g2[r, j] * gain[j]
        m1 = (zero + pairwise(gh, 0, n, 1)) / cast(n, zero)
        for j in range(n):
            d[j] = gh[j] * xh[j]
        m2 = (zero + pairwise(d, 0, n, 1)) / cast(n, zero)
        for j in range(n):
            out[r, j] = (gh[j] - m1 - xh[j] * m2) / sd
    return out.reshape(x.shape)


@jit
def conv2d_vjp_x(g, W, h, w, sh, sw, ph, pw, zero):
    """conv2d's input cotangent (x [C, h, w]), as the tape's rule computes it: for each kernel offset
    (p, q) in order, the products g[o, i, j] * W[o, c, p, q] summed over the output channels o in
    order (its einsum), added into the padded input's cotangent, which is then cropped."""
    o, c, kh, kw = W.shape
    _, oh, ow = g.shape
    gxp = np.zeros((c, h + 2 * ph, w + 2 * pw), g.dtype)
    for p in range(kh):
        for q in range(kw):
            for ch in range(c):
                for i in range(oh):
                    for j in range(ow):
                        acc = zero
                        for k in range(o):
                            acc += g[k, i, j] * W[k, ch, p, q]
                        gxp[ch, p + sh * i, q + sw * j] += acc
    return np.ascontiguousarray(gxp[:, ph:ph + h, pw:pw + w])


@jit
def conv1d_vjp_x(g, W, n, stride, pad, zero):
    """conv1d's input cotangent (x [C, n]): conv2d's over [C, 1, n], as the tape's rule computes it."""
    o, c, k = W.shape
    gx = conv2d_vjp_x(np.ascontiguousarray(g).reshape((o, 1, g.shape[1])), np.ascontiguousarray(W).reshape((o, c, 1, k)),
                      1, n, 1, stride, 0, pad, zero)
    return gx.reshape((c, n))


@jit
def pool_vjp(x, g, k, is_max, zero):
    """max_pool's / avg_pool's input cotangent (x [C, H, W] or [C, L], windows of k (x k), stride k),
    as the tape's rule computes it: each window's cotangent times a weight per element, 1 at the first
    greatest (the first NaN, as np.argmax) and 0 elsewhere, or 1 / its size; cropped edges get 0."""
    one = cast(1.0, zero)
    xc = np.ascontiguousarray(x)
    if x.ndim == 3:
        x3 = xc.reshape((x.shape[0], x.shape[1], x.shape[-1]))
        g3 = np.ascontiguousarray(g).reshape((x.shape[0], x.shape[1] // k, x.shape[-1] // k))
        kh, kw = k, k
    else:
        x3 = xc.reshape((x.shape[0], 1, x.shape[1]))
        g3 = np.ascontiguousarray(g).reshape((x.shape[0], 1, x.shape[1] // k))
        kh, kw = 1, k
    avg = cast(1.0 / (kh * kw), zero)
    r = np.zeros(x3.shape, x.dtype)
    c, h2, w2 = g3.shape
    for ch in range(c):
        for i in range(h2):
            for j in range(w2):
                first = 0
                if is_max:
                    best = x3[ch, i * kh, j * kw]
                    m = 0
                    for p in range(kh):
                        for q in range(kw):
                            v = x3[ch, i * kh + p, j * kw + q]
                            if m > 0 and not np.isnan(best) and (np.isnan(v) or v > best):
                                best = v
                                first = m
                            m += 1
                m = 0
                for p in range(kh):
                    for q in range(kw):
                        wt = (one if m == first else zero) if is_max else avg
                        r[ch, i * kh + p, j * kw + q] = wt * g3[ch, i, j]
                        m += 1
    return r.reshape(x.shape)
