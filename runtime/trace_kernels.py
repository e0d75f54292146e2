"""Kernels that generated trace code calls (compiler/trace_compile.py): the layers, softmaxes and losses
over a batch of rows, forward and backward, compiled once by Numba (`cache=True`) and shared by every
trace. Simple element-wise operations are written inline by the codegen rules; what needs several
lines or intermediate values lives here. Every array holds one row per example (`B` rows first).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .nbtensor import is_extreme

EPS = 1e-12  # as runtime/tensor_ops.EPS: a probability below it gives no gradient


@njit(cache=True, error_model="numpy")
def rows(c, b):
    """A constant of one example (no batch dimension) repeated for `b` rows."""
    out = np.empty((b,) + c.shape, c.dtype)
    for r in range(b):
        out[r] = c
    return out


TANH_CLAMP = np.float32(7.90531110763549805)  # beyond it tanh is 1 in float32
# a rational approximation of tanh (Eigen's float32 one): numerator odd, degree 13; denominator even,
# degree 6; within 4e-7 of tanh everywhere. LLVM vectorises its loop, where Numba's np.tanh calls the
# scalar tanhf per element (12 us against 2 us for 16 x 48 values here: most of an RNN step's time).
# float64 arrays take np.tanh: this is float32's (a model in f64 trained compiled was off from the tape
# by 1e-8 relative, and tanh(8.0) was 1 there, its gradient 0, before 2026-12-06).
TANH_P = (np.float32(-2.76076847742355e-16), np.float32(2.00018790482477e-13), np.float32(-8.60467152213735e-11),
          np.float32(5.12229709037114e-08), np.float32(1.48572235717979e-05), np.float32(6.37261928875436e-04),
          np.float32(4.89352455891786e-03))
TANH_Q = (np.float32(1.19825839466702e-06), np.float32(1.18534705686654e-04), np.float32(2.26843463243900e-03),
          np.float32(4.89352518554385e-03))


@njit(cache=True, error_model="numpy", inline="always")
def tanh1(x):
    """tanh of one value, as a rational function (a NaN stays NaN)."""
    y = min(max(x, -TANH_CLAMP), TANH_CLAMP)
    y2 = y * y
    p = TANH_P[0]
    for k in range(1, 7):
        p = y2 * p + TANH_P[k]
    q = TANH_Q[0]
    for k in range(1, 4):
        q = y2 * q + TANH_Q[k]
    return y * p / q


@njit(cache=True, error_model="numpy")
def tanh(a):
    """tanh of every element (any shape), with tanh1 in float32 (np.tanh in float64: tanh1 is float32's)."""
    out = np.empty_like(a)
    f, o = np.ascontiguousarray(a).reshape(-1), out.reshape(-1)
    if f.itemsize == 8:
        for i in range(f.size):
            o[i] = np.tanh(f[i])
        return out
    for i in range(f.size):
        o[i] = tanh1(f[i])
    return out


@njit(cache=True, error_model="numpy")
def tanh_into(a, out):
    """out[:] = tanh(a), for matrices (out: a row block of a stacked buffer); float64 as tanh does."""
    if out.itemsize == 8:
        for r in range(a.shape[0]):
            for j in range(a.shape[1]):
                out[r, j] = np.tanh(a[r, j])
        return
    for r in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[r, j] = tanh1(a[r, j])


@njit(cache=True, error_model="numpy")
def sigmoid(a):
    one = a.dtype.type(1.0)
    return np.where(a >= 0, one / (one + np.exp(-np.abs(a))), np.exp(-np.abs(a)) / (one + np.exp(-np.abs(a))))


# The softmaxes are loops over each row's values: Numba's array expressions per row (`np.exp(a[r] -
# a[r].max())`, `(g[r] * o[r]).sum()`) allocate a temporary per row and operation, 2-3 us for a
# [16, 28] block against 0.2-1.4 us. The sums still add the values in order (the same results).

@njit(cache=True, error_model="numpy", inline="always")
def _row_max(a, r):
    m = a[r, 0]
    for j in range(1, a.shape[1]):
        m = max(m, a[r, j])
    return m


@njit(cache=True, error_model="numpy")
def softmax(a):
    out = np.empty_like(a)
    for r in range(a.shape[0]):
        m = _row_max(a, r)
        t = a.dtype.type(0.0)
        for j in range(a.shape[1]):
            e = np.exp(a[r, j] - m)
            out[r, j] = e
            t += e
        for j in range(a.shape[1]):
            out[r, j] /= t
    return out


@njit(cache=True, error_model="numpy")
def log_softmax(a):
    out = np.empty_like(a)
    for r in range(a.shape[0]):
        m = _row_max(a, r)
        t = a.dtype.type(0.0)
        for j in range(a.shape[1]):
            t += np.exp(a[r, j] - m)
        lt = np.log(t)
        for j in range(a.shape[1]):
            out[r, j] = (a[r, j] - m) - lt
    return out


@njit(cache=True, error_model="numpy")
def softmax_back(g, o):
    out = np.empty_like(o)
    for r in range(o.shape[0]):
        d = o.dtype.type(0.0)
        for j in range(o.shape[1]):
            d += g[r, j] * o[r, j]
        for j in range(o.shape[1]):
            out[r, j] = o[r, j] * (g[r, j] - d)
    return out


@njit(cache=True, error_model="numpy")
def log_softmax_back(g, o):
    out = np.empty_like(o)
    for r in range(o.shape[0]):
        t = o.dtype.type(0.0)
        for j in range(o.shape[1]):
            t += g[r, j]
        for j in range(o.shape[1]):
            out[r, j] = g[r, j] - np.exp(o[r, j]) * t
    return out


@njit(cache=True, error_model="numpy")
def column(a, k):
    """Row k of every example (`x[k]` of each): a contiguous copy."""
    return np.ascontiguousarray(a[:, k])


@njit(cache=True, error_model="numpy")
def stack_rows(x, k0, n):
    """Rows k0 .. k0 + n - 1 of every example of x [B, m, d], stacked [n * B, d], row i * B + r being
    example r's row k0 + i (the inputs of a layer applied to each row of a sequence, as one product)."""
    b, d = x.shape[0], x.shape[2]
    out = np.empty((n * b, d), x.dtype)
    for i in range(n):
        for r in range(b):
            for j in range(d):
                out[i * b + r, j] = x[r, k0 + i, j]
    return out


@njit(cache=True, error_model="numpy")
def unstack_rows(g, b, m, k0):
    """The cotangent of stack_rows' x [b, m, d] from that of its stacked rows g [n * b, d]."""
    n, d = g.shape[0] // b, g.shape[1]
    out = np.zeros((b, m, d), g.dtype)
    for i in range(n):
        for r in range(b):
            for j in range(d):
                out[r, k0 + i, j] = g[i * b + r, j]
    return out


@njit(cache=True, error_model="numpy")
def reduce_rows(t, how):
    """Each row of t [P, n] reduced: its sum, mean, maximum or minimum (how: 0, 1, 2, 3)."""
    out = np.empty(t.shape[0], t.dtype)
    for r in range(t.shape[0]):
        if how == 0:
            out[r] = t[r].sum()
        elif how == 1:
            out[r] = t[r].sum() / t.shape[1]
        elif how == 2:
            out[r] = t[r].max()
        else:
            out[r] = t[r].min()
    return out


@njit(cache=True, error_model="numpy")
def reduce_rows_back(g, t, out, how):
    """The cotangent of reduce_rows' input: g spread over each row (sum, mean), or given whole to the
    row's first extreme element (max, min), as the tape's rules."""
    gt = np.zeros_like(t)
    for r in range(t.shape[0]):
        if how == 0:
            gt[r] = g[r]
        elif how == 1:
            gt[r] = g[r] / t.shape[1]
        else:
            for j in range(t.shape[1]):
                if is_extreme(t[r, j], out[r]):
                    gt[r, j] = g[r]
                    break
    return gt


@njit(cache=True, error_model="numpy")
def bmm(a, b):
    """The product of each example's matrices a [B, m, k] and b [B, k, n]; either may hold a single
    matrix, one for every example (a constant)."""
    m, n = a.shape[1], b.shape[2]
    if b.shape[0] == 1:  # one product for all the examples' rows
        return np.dot(a.reshape(a.shape[0] * m, a.shape[2]), b[0]).reshape(a.shape[0], m, n)
    out = np.empty((b.shape[0], m, n), a.dtype)
    for r in range(b.shape[0]):
        out[r] = np.dot(a[r if a.shape[0] > 1 else 0], b[r])
    return out


@njit(cache=True, error_model="numpy")
def scatter_rows(gE, idx, g):
    """gE[idx[r]] += g[r] for each example r (an embedding table's gradient)."""
    for r in range(idx.shape[0]):
        gE[idx[r]] += g[r]


@njit(cache=True, error_model="numpy")
def to_int(x):
    """int() of each value (toward zero); -1 for one that is not finite or beyond 2^62, which the
    guards of an embedding's index send to the tape (it reports the error)."""
    out = np.empty(x.shape[0], np.int64)
    for r in range(x.shape[0]):
        v = x[r]
        out[r] = np.int64(v) if abs(v) < 4.611686018427388e18 else -1
    return out


@njit(cache=True, error_model="numpy")
def dropout_mask(u, p):
    """runtime/tensor_ops.dropout_mask from its uniforms u (a row per example): (u >= p) / (1 - p), in
    float64 as NumPy computes it there (the caller rounds it to the values' dtype, as there)."""
    keep = 1.0 / (1.0 - p)
    out = np.empty(u.shape)
    for r in range(u.shape[0]):
        for j in range(u.shape[1]):
            out[r, j] = keep if u[r, j] >= p else 0.0
    return out


# ---- dense and the recurrent cells (PyTorch's equations, as runtime/tensor_ops.py); the backward
# kernels add the parameters' gradients into their views of the flat gradient buffer (gW, gb, ...)
# and return the cotangents of the inputs --------------------------------------------------------

@njit(cache=True, error_model="numpy")
def _cot(need, g, W):
    """The cotangent `g W^T` of an input, or an empty array when nothing needs it (the model's input)."""
    if need:
        return np.dot(g, W.T)
    return np.empty((0, W.shape[0]), g.dtype)


@njit(cache=True, error_model="numpy")
def _sparse(x):
    """At most one value in eight of x is nonzero (one-hot or bag-of-words rows): its products then
    skip the zeros. Allocates nothing: a dense input (most calls: small products, once per node) stops
    the count within its first eighth or so."""
    most = x.size // 8
    nz = 0
    for r in range(x.shape[0]):
        for k in range(x.shape[1]):
            nz += x[r, k] != 0
        if nz > most:
            return False
    return True


@njit(cache=True, error_model="numpy")
def nonzeros(x):
    """Where the nonzero values of x (2-d) are, when at most one value in eight is (one-hot or
    bag-of-words rows): (cols, start), row r's columns being cols[start[r]:start[r + 1]]; for a denser
    x, start is empty (its products go to BLAS). The scan stops within the first eighth or so of a
    dense x. A product whose input is read again in reverse (a stacked input's weight gradient) keeps
    this and passes it to dot_nz and add_xtg_nz, so the input is scanned once."""
    most = x.size // 8
    cols = np.empty(most, np.int64)
    start = np.empty(x.shape[0] + 1, np.int64)
    start[0] = 0
    nz = 0
    for r in range(x.shape[0]):
        for k in range(x.shape[1]):
            if x[r, k] != 0:
                if nz == most:
                    return cols, start[:0]
                cols[nz] = k
                nz += 1
        start[r + 1] = nz
    return cols, start


@njit(cache=True, error_model="numpy")
def dot_nz(x, cols, start, W):
    """x W for the rows of x (2-d, contiguous) whose nonzeros are (cols, start) (from `nonzeros`): a
    row of W per nonzero, or BLAS when x is dense."""
    if start.size == 0:
        return np.dot(x, W)
    y = np.zeros((x.shape[0], W.shape[1]), W.dtype)
    for r in range(x.shape[0]):
        for i in range(start[r], start[r + 1]):
            k = cols[i]
            v = x[r, k]
            for j in range(W.shape[1]):
                y[r, j] += v * W[k, j]
    return y


@njit(cache=True, error_model="numpy")
def add_xtg_nz(gW, x, cols, start, g):
    """gW += x^T g (a weight's gradient from its inputs' rows x and the outputs' cotangents g), x's
    nonzeros being (cols, start) (from `nonzeros`)."""
    if start.size == 0:
        gW += np.dot(x.T, g)
        return
    for r in range(x.shape[0]):
        for i in range(start[r], start[r + 1]):
            k = cols[i]
            v = x[r, k]
            for j in range(g.shape[1]):
                gW[k, j] += v * g[r, j]


@njit(cache=True, error_model="numpy")
def dot(x, W):
    """x W, for the rows of x (2-d, contiguous), skipping the zeros of a sparse x."""
    if not _sparse(x):
        return np.dot(x, W)
    cols, start = nonzeros(x)
    return dot_nz(x, cols, start, W)


@njit(cache=True, error_model="numpy")
def add_xtg(gW, x, g):
    """gW += x^T g, skipping the zeros of a sparse x."""
    if not _sparse(x):
        gW += np.dot(x.T, g)
        return
    cols, start = nonzeros(x)
    add_xtg_nz(gW, x, cols, start, g)


@njit(cache=True, error_model="numpy")
def bias_in_place(y, b):
    """y += b for each row (Numba's broadcasting addition allocates, and is slower)."""
    for r in range(y.shape[0]):
        for j in range(y.shape[1]):
            y[r, j] += b[j]
    return y


@njit(cache=True, error_model="numpy")
def dense(x, W, b):
    """x W + b, the bias added in place."""
    return bias_in_place(dot(x, W), b)


@njit(cache=True, error_model="numpy")
def dense_nz(x, cols, start, W, b):
    """dense() of an x whose nonzeros are (cols, start) (from `nonzeros`)."""
    return bias_in_place(dot_nz(x, cols, start, W), b)


@njit(cache=True, error_model="numpy")
def col_sum(g):
    """g.sum(axis=0) of a matrix, row after row (several times faster than Numba's axis sum)."""
    out = np.zeros(g.shape[1], g.dtype)
    for r in range(g.shape[0]):
        for j in range(g.shape[1]):
            out[j] += g[r, j]
    return out


@njit(cache=True, error_model="numpy")
def rnn(x, h, Wx, Wh, b):
    return tanh(np.dot(x, Wx) + np.dot(h, Wh) + b)


@njit(cache=True, error_model="numpy")
def rnn_step(u, h, Wh):
    """tanh(u + h Wh), the addition and tanh in one loop over the product's buffer."""
    return rnn_step_into(u, h, Wh, np.empty((h.shape[0], Wh.shape[1]), Wh.dtype))


@njit(cache=True, error_model="numpy")
def rnn_step_into(u, h, Wh, out):
    """rnn_step into out (a row block of a stacked buffer: the states of a sequence, one after another)."""
    np.dot(h, Wh, out)
    if out.itemsize == 8:  # (tanh1 is float32's)
        for r in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[r, j] = np.tanh(out[r, j] + u[r, j])
        return out
    for r in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[r, j] = tanh1(out[r, j] + u[r, j])
    return out


@njit(cache=True, error_model="numpy")
def tanh_back(g, o):
    """g (1 - o^2): the cotangent through tanh, given its output o."""
    return tanh_back_into(g, o, np.empty_like(o))


@njit(cache=True, error_model="numpy")
def tanh_back_into(g, o, out):
    for r in range(o.shape[0]):
        for j in range(o.shape[1]):
            out[r, j] = g[r, j] * (1 - o[r, j] * o[r, j])
    return out


@njit(cache=True, error_model="numpy")
def rnn_back(g, o, x, h, Wx, Wh, gWx, gWh, gb, need_x, need_h):
    ga = g * (1 - o * o)
    gWx += np.dot(x.T, ga)
    gWh += np.dot(h.T, ga)
    gb += col_sum(ga)
    return _cot(need_x, ga, Wx), _cot(need_h, ga, Wh)


@njit(cache=True, error_model="numpy")
def gru(x, h, Wx, Wh, bx, bh):
    n = h.shape[1]
    ax = np.dot(x, Wx) + bx
    ah = np.dot(h, Wh) + bh
    r = sigmoid(ax[:, :n] + ah[:, :n])
    z = sigmoid(ax[:, n:2 * n] + ah[:, n:2 * n])
    nn = tanh(ax[:, 2 * n:] + r * ah[:, 2 * n:])
    return (1 - z) * nn + z * h, r, z, nn, ah


@njit(cache=True, error_model="numpy")
def gru_back(g, x, h, Wx, Wh, r, z, nn, ah, gWx, gWh, gbx, gbh, need_x, need_h):
    m = h.shape[1]
    dn = g * (1 - z) * (1 - nn * nn)
    dz = g * (h - nn) * z * (1 - z)
    dr = dn * ah[:, 2 * m:] * r * (1 - r)
    gax = np.concatenate((dr, dz, dn), axis=1)
    gah = np.concatenate((dr, dz, dn * r), axis=1)
    gWx += np.dot(x.T, gax)
    gWh += np.dot(h.T, gah)
    gbx += col_sum(gax)
    gbh += col_sum(gah)
    return _cot(need_x, gax, Wx), np.dot(gah, Wh.T) + g * z if need_h else np.empty((0, g.shape[1]), g.dtype)


@njit(cache=True, error_model="numpy")
def lstm(x, h, c, Wx, Wh, b):
    n = h.shape[1]
    zz = np.dot(x, Wx) + np.dot(h, Wh) + b
    i = sigmoid(zz[:, :n])
    f = sigmoid(zz[:, n:2 * n])
    gg = tanh(zz[:, 2 * n:3 * n])
    o = sigmoid(zz[:, 3 * n:])
    c2 = f * c + i * gg
    tc = tanh(c2)
    return o * tc, c2, i, f, gg, o, tc


@njit(cache=True, error_model="numpy")
def lstm_back(gh2, gc2, x, h, c, Wx, Wh, i, f, gg, o, tc, gWx, gWh, gb, need_x, need_h, need_c):
    gc = gc2 + gh2 * o * (1 - tc * tc)
    dz = np.concatenate((gc * gg * i * (1 - i), gc * c * f * (1 - f), gc * i * (1 - gg * gg),
                         gh2 * tc * o * (1 - o)), axis=1)
    gWx += np.dot(x.T, dz)
    gWh += np.dot(h.T, dz)
    gb += col_sum(dz)
    return _cot(need_x, dz, Wx), _cot(need_h, dz, Wh), gc * f if need_c else np.empty((0, gc.shape[1]), gc.dtype)


# ---- losses: one value per row, and the cotangent of the prediction given the seed `s` -------------

@njit(cache=True, error_model="numpy")
def _probabilities(row):
    """Whether each of a row's predictions is in [0, 1]. cross_entropy of anything else (raw scores) has
    a NaN loss here: the engine then runs its minibatch on the tape, whose loss names the mistake (E506,
    tensor_ops.ce_int)."""
    for v in row:
        if v < 0 or v > 1:
            return False
    return True


@njit(cache=True, error_model="numpy")
def ce_int(p, y, s):
    loss = np.empty(p.shape[0], p.dtype)
    ct = np.zeros_like(p)
    for r in range(p.shape[0]):
        q = p[r, y[r]]
        loss[r] = -np.log(max(q, EPS)) if _probabilities(p[r]) else np.nan
        if q > EPS:
            ct[r, y[r]] = -s / q
    return loss, ct


@njit(cache=True, error_model="numpy")
def nll_int(lp, y, s):
    loss = np.empty(lp.shape[0], lp.dtype)
    ct = np.zeros_like(lp)
    for r in range(lp.shape[0]):
        loss[r] = -lp[r, y[r]]
        ct[r, y[r]] = -s
    return loss, ct


@njit(cache=True, error_model="numpy")
def ce_onehot(p, t, s):
    loss = np.empty(p.shape[0], p.dtype)
    ct = np.zeros_like(p)
    for r in range(p.shape[0]):
        q = np.maximum(p[r], EPS)
        loss[r] = -(t[r] * np.log(q)).sum() if _probabilities(p[r]) else np.nan
        ct[r] = -s * t[r] / q * (p[r] > EPS)
    return loss, ct


@njit(cache=True, error_model="numpy")
def nll_onehot(lp, t, s):
    loss = np.empty(lp.shape[0], lp.dtype)
    for r in range(lp.shape[0]):
        loss[r] = -(t[r] * lp[r]).sum()
    return loss, (-s * t).astype(lp.dtype)


@njit(cache=True, error_model="numpy")
def _row_means(terms, dtype):
    """The mean of each example's loss terms (any shape after the batch's)."""
    flat = terms.reshape(terms.shape[0], -1)
    loss = np.empty(terms.shape[0], dtype)
    for r in range(terms.shape[0]):
        loss[r] = flat[r].sum() / flat.shape[1]
    return loss


@njit(cache=True, error_model="numpy")
def mse(p, t, s):
    d = p - t
    return _row_means(d * d, p.dtype), ((2.0 / (d.size // d.shape[0])) * s * d).astype(p.dtype)


@njit(cache=True, error_model="numpy")
def layer_norm(x, g, b, eps):
    """Each row normalised over its values, (x - mean) / sqrt(var + eps) * g + b (as tensor_ops's
    layer_norm: the variance divides by the row's length); also the normalised rows and each row's
    1 / sd, which the reverse pass reuses."""
    n, d = x.shape
    out = np.empty_like(x)
    xh = np.empty_like(x)
    inv = np.empty(n, x.dtype)
    for r in range(n):
        mu = 0.0
        for j in range(d):
            mu += x[r, j]
        mu /= d
        var = 0.0
        for j in range(d):
            t = x[r, j] - mu
            var += t * t
        s = 1.0 / np.sqrt(var / d + eps)
        inv[r] = s
        for j in range(d):
            xh[r, j] = (x[r, j] - mu) * s
            out[r, j] = xh[r, j] * g[j] + b[j]
    return out, xh, inv


@njit(cache=True, error_model="numpy")
def layer_norm_back(go, xh, inv, g, gg, gb, need_x):
    """The cotangent of layer_norm's input (zeros unless `need_x`); adds the gain's and the bias's
    gradients to gg and gb: gx = (go g - mean(go g) - xh mean(go g xh)) / sd, per row."""
    n, d = go.shape
    gx = np.zeros_like(go)
    for r in range(n):
        m1 = 0.0
        m2 = 0.0
        for j in range(d):
            t = go[r, j] * g[j]
            m1 += t
            m2 += t * xh[r, j]
            gg[j] += go[r, j] * xh[r, j]
            gb[j] += go[r, j]
        if need_x:
            m1 /= d
            m2 /= d
            for j in range(d):
                gx[r, j] = (go[r, j] * g[j] - m1 - xh[r, j] * m2) * inv[r]
    return gx


# ---- element-wise activations and losses without a closed form in one line -------------------------

@njit(cache=True, error_model="numpy")
def gelu(x, c):
    """GELU's tanh form (as runtime/tensor_ops.gelu_): c = sqrt(2 / pi)."""
    half = x.dtype.type(0.5)
    return half * x * (x.dtype.type(1.0) + np.tanh(c * (x + x.dtype.type(0.044715) * x * x * x)))


@njit(cache=True, error_model="numpy")
def gelu_back(g, x, c):
    k = x.dtype.type(0.044715)
    half = x.dtype.type(0.5)
    one = x.dtype.type(1.0)
    t = np.tanh(c * (x + k * x * x * x))
    return g * (half * (one + t) + half * x * (one - t * t) * c * (one + x.dtype.type(3.0) * k * x * x))


@njit(cache=True, error_model="numpy")
def mae(p, t, s):
    d = p - t
    return _row_means(np.abs(d), p.dtype), ((s / (d.size // d.shape[0])) * np.sign(d)).astype(p.dtype)


@njit(cache=True, error_model="numpy")
def bce(p, t, s):
    """Binary cross-entropy of probabilities p (clipped to [EPS, 1 - 1e-7] as the tape's; no gradient
    where p lies outside). A row with a prediction outside [0, 1] has a NaN loss: the engine then runs
    its minibatch on the tape, whose loss names the mistake (E506, tensor_ops.bce)."""
    hi = 1.0 - 1e-7
    q = np.minimum(np.maximum(p, EPS), hi)
    inside = (p > EPS) & (p < hi)
    m = p.size // p.shape[0]
    loss = _row_means(-(t * np.log(q) + (1.0 - t) * np.log(1.0 - q)), p.dtype)
    flat = np.ascontiguousarray(p).reshape(p.shape[0], m)
    for r in range(p.shape[0]):
        for j in range(m):
            if flat[r, j] < 0 or flat[r, j] > 1:
                loss[r] = np.nan
    return (loss,
            ((s / m) * (-(t / q) + (1.0 - t) / (1.0 - q)) * inside).astype(p.dtype))


# ---- convolution and pooling over a batch: x [B, C, H, W] (a 1-d signal as H = 1) -----------------
# A convolution is one product: the windows of the padded input as the rows of a matrix (im2col)
# against the kernels as its columns; the backward adds the kernels' gradient as one product and
# scatters the windows' cotangents back (col2im).

@njit(cache=True, error_model="numpy")
def _window_index(c, h, w, kh, kw, sh, sw, ph, pw, ho, wo):
    """For one example [C, h, w]: the flat index of the input under each window's element, as the
    [ho * wo, C * kh * kw] matrix im2col fills (-1 where the window lies on the padding)."""
    at = np.full((ho * wo, c * kh * kw), -1, np.int64)
    for i in range(ho):
        for j in range(wo):
            for ch in range(c):
                for p in range(kh):
                    y = i * sh + p - ph
                    for q in range(kw):
                        z = j * sw + q - pw
                        if 0 <= y < h and 0 <= z < w:
                            at[i * wo + j, (ch * kh + p) * kw + q] = (ch * h + y) * w + z
    return at


@njit(cache=True, error_model="numpy")
def conv(x, W, bias, sh, sw, ph, pw):
    """(out [B, O, Ho, Wo], the windows for the backward, their index)."""
    b, c, h, w = x.shape
    o, kh, kw = W.shape[0], W.shape[2], W.shape[3]
    ho = (h + 2 * ph - kh) // sh + 1
    wo = (w + 2 * pw - kw) // sw + 1
    at = _window_index(c, h, w, kh, kw, sh, sw, ph, pw, ho, wo)
    flat = np.ascontiguousarray(x).reshape(b, c * h * w)
    m = at.shape[0]
    cols = np.zeros((b * m, at.shape[1]), x.dtype)
    for n in range(b):
        for r in range(m):
            for k in range(at.shape[1]):
                if at[r, k] >= 0:
                    cols[n * m + r, k] = flat[n, at[r, k]]
    y = np.dot(cols, np.ascontiguousarray(W).reshape(o, c * kh * kw).T) + bias
    out = np.ascontiguousarray(y.reshape(b, ho, wo, o).transpose(0, 3, 1, 2))
    return out, cols, at


@njit(cache=True, error_model="numpy")
def conv_back(g, cols, at, W, h, w, gW, gb, need_x):
    """Adds the kernels' and biases' gradients into gW, gb; returns the input's cotangent [B, C, h, w]
    (an empty array when nothing needs it)."""
    b, o, ho, wo = g.shape
    c, kh, kw = W.shape[1], W.shape[2], W.shape[3]
    gm = np.ascontiguousarray(g.transpose(0, 2, 3, 1)).reshape(b * ho * wo, o)
    gW += np.dot(gm.T, cols).reshape(W.shape)
    gb += gm.sum(axis=0)
    if not need_x:
        return np.empty((0, c, h, w), g.dtype)
    gc = np.dot(gm, np.ascontiguousarray(W).reshape(o, c * kh * kw))
    gx = np.zeros((b, c * h * w), g.dtype)
    m = at.shape[0]
    for n in range(b):
        for r in range(m):
            for k in range(at.shape[1]):
                if at[r, k] >= 0:
                    gx[n, at[r, k]] += gc[n * m + r, k]
    return gx.reshape(b, c, h, w)


@njit(cache=True, error_model="numpy")
def pool(x, kh, kw, take_max):
    """Non-overlapping kh x kw windows (the input cropped to whole windows): their maximum (and the
    first position holding it, in window order, for the backward) or their mean."""
    b, c, h, w = x.shape
    ho, wo = h // kh, w // kw
    out = np.empty((b, c, ho, wo), x.dtype)
    arg = np.zeros((b, c, ho, wo), np.int64)
    for n in range(b):
        for ch in range(c):
            for i in range(ho):
                for j in range(wo):
                    best = x[n, ch, i * kh, j * kw]
                    at = 0
                    total = x.dtype.type(0.0)
                    for p in range(kh):
                        for q in range(kw):
                            v = x[n, ch, i * kh + p, j * kw + q]
                            total += v
                            if v > best:
                                best = v
                                at = p * kw + q
                    if take_max:
                        out[n, ch, i, j] = best
                        arg[n, ch, i, j] = at
                    else:
                        out[n, ch, i, j] = total / (kh * kw)
    return out, arg


@njit(cache=True, error_model="numpy")
def pool_back(g, arg, h, w, kh, kw, take_max):
    b, c, ho, wo = g.shape
    gx = np.zeros((b, c, h, w), g.dtype)
    share = g.dtype.type(1.0 / (kh * kw))
    for n in range(b):
        for ch in range(c):
            for i in range(ho):
                for j in range(wo):
                    if take_max:
                        at = arg[n, ch, i, j]
                        gx[n, ch, i * kh + at // kw, j * kw + at % kw] += g[n, ch, i, j]
                    else:
                        for p in range(kh):
                            for q in range(kw):
                                gx[n, ch, i * kh + p, j * kw + q] += g[n, ch, i, j] * share
    return gx
