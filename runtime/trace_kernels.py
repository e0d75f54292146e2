"""Kernels that generated trace code calls (compiler/trace_compile.py): the layers, softmaxes and losses
over a batch of rows, forward and backward, compiled once by Numba (`cache=True`) and shared by every
trace. Simple element-wise operations are written inline by the codegen rules; what needs several
lines or intermediate values lives here. Every array holds one row per example (`B` rows first).
"""
from __future__ import annotations

import numpy as np
from numba import njit

EPS = 1e-12  # as runtime/tensor_ops.EPS: a probability below it gives no gradient


@njit(cache=True)
def rows(c, b):
    """A constant of one example (no batch dimension) repeated for `b` rows."""
    out = np.empty((b,) + c.shape, c.dtype)
    for r in range(b):
        out[r] = c
    return out


@njit(cache=True)
def sigmoid(a):
    one = a.dtype.type(1.0)
    return np.where(a >= 0, one / (one + np.exp(-np.abs(a))), np.exp(-np.abs(a)) / (one + np.exp(-np.abs(a))))


@njit(cache=True)
def softmax(a):
    out = np.empty_like(a)
    for r in range(a.shape[0]):
        e = np.exp(a[r] - a[r].max())
        out[r] = e / e.sum()
    return out


@njit(cache=True)
def log_softmax(a):
    out = np.empty_like(a)
    for r in range(a.shape[0]):
        z = a[r] - a[r].max()
        out[r] = z - np.log(np.exp(z).sum())
    return out


@njit(cache=True)
def softmax_back(g, o):
    out = np.empty_like(o)
    for r in range(o.shape[0]):
        out[r] = o[r] * (g[r] - (g[r] * o[r]).sum())
    return out


@njit(cache=True)
def log_softmax_back(g, o):
    out = np.empty_like(o)
    for r in range(o.shape[0]):
        out[r] = g[r] - np.exp(o[r]) * g[r].sum()
    return out


@njit(cache=True)
def row_sum(a):
    """The sum of each row's elements, whatever the row's shape."""
    b = a.shape[0]
    flat = np.ascontiguousarray(a).reshape(b, -1)
    out = np.empty(b, a.dtype)
    for r in range(b):
        out[r] = flat[r].sum()
    return out


@njit(cache=True)
def column(a, k):
    """Row k of every example (`x[k]` of each): a contiguous copy."""
    return np.ascontiguousarray(a[:, k])


# ---- dense and the recurrent cells (PyTorch's equations, as runtime/tensor_ops.py); the backward
# kernels add the parameters' gradients into their views of the flat gradient buffer (gW, gb, ...)
# and return the cotangents of the inputs --------------------------------------------------------

@njit(cache=True)
def _cot(need, g, W):
    """The cotangent `g W^T` of an input, or an empty array when nothing needs it (the model's input)."""
    if need:
        return np.dot(g, W.T)
    return np.empty((0, W.shape[0]), g.dtype)


@njit(cache=True)
def dense(x, W, b):
    return np.dot(x, W) + b


@njit(cache=True)
def dense_back(g, x, W, gW, gb, need_x):
    gW += np.dot(x.T, g)
    gb += g.sum(axis=0)
    return _cot(need_x, g, W)


@njit(cache=True)
def rnn(x, h, Wx, Wh, b):
    return np.tanh(np.dot(x, Wx) + np.dot(h, Wh) + b)


@njit(cache=True)
def rnn_back(g, o, x, h, Wx, Wh, gWx, gWh, gb, need_x, need_h):
    ga = g * (1 - o * o)
    gWx += np.dot(x.T, ga)
    gWh += np.dot(h.T, ga)
    gb += ga.sum(axis=0)
    return _cot(need_x, ga, Wx), _cot(need_h, ga, Wh)


@njit(cache=True)
def gru(x, h, Wx, Wh, bx, bh):
    n = h.shape[1]
    ax = np.dot(x, Wx) + bx
    ah = np.dot(h, Wh) + bh
    r = sigmoid(ax[:, :n] + ah[:, :n])
    z = sigmoid(ax[:, n:2 * n] + ah[:, n:2 * n])
    nn = np.tanh(ax[:, 2 * n:] + r * ah[:, 2 * n:])
    return (1 - z) * nn + z * h, r, z, nn, ah


@njit(cache=True)
def gru_back(g, x, h, Wx, Wh, r, z, nn, ah, gWx, gWh, gbx, gbh, need_x, need_h):
    m = h.shape[1]
    dn = g * (1 - z) * (1 - nn * nn)
    dz = g * (h - nn) * z * (1 - z)
    dr = dn * ah[:, 2 * m:] * r * (1 - r)
    gax = np.concatenate((dr, dz, dn), axis=1)
    gah = np.concatenate((dr, dz, dn * r), axis=1)
    gWx += np.dot(x.T, gax)
    gWh += np.dot(h.T, gah)
    gbx += gax.sum(axis=0)
    gbh += gah.sum(axis=0)
    return _cot(need_x, gax, Wx), np.dot(gah, Wh.T) + g * z if need_h else np.empty((0, g.shape[1]), g.dtype)


@njit(cache=True)
def lstm(x, h, c, Wx, Wh, b):
    n = h.shape[1]
    zz = np.dot(x, Wx) + np.dot(h, Wh) + b
    i = sigmoid(zz[:, :n])
    f = sigmoid(zz[:, n:2 * n])
    gg = np.tanh(zz[:, 2 * n:3 * n])
    o = sigmoid(zz[:, 3 * n:])
    c2 = f * c + i * gg
    tc = np.tanh(c2)
    return o * tc, c2, i, f, gg, o, tc


@njit(cache=True)
def lstm_back(gh2, gc2, x, h, c, Wx, Wh, i, f, gg, o, tc, gWx, gWh, gb, need_x, need_h, need_c):
    gc = gc2 + gh2 * o * (1 - tc * tc)
    dz = np.concatenate((gc * gg * i * (1 - i), gc * c * f * (1 - f), gc * i * (1 - gg * gg),
                         gh2 * tc * o * (1 - o)), axis=1)
    gWx += np.dot(x.T, dz)
    gWh += np.dot(h.T, dz)
    gb += dz.sum(axis=0)
    return _cot(need_x, dz, Wx), _cot(need_h, dz, Wh), gc * f if need_c else np.empty((0, gc.shape[1]), gc.dtype)


# ---- losses: one value per row, and the cotangent of the prediction given the seed `s` -------------

@njit(cache=True)
def ce_int(p, y, s):
    loss = np.empty(p.shape[0], p.dtype)
    ct = np.zeros_like(p)
    for r in range(p.shape[0]):
        q = p[r, y[r]]
        loss[r] = -np.log(max(q, EPS))
        if q > EPS:
            ct[r, y[r]] = -s / q
    return loss, ct


@njit(cache=True)
def nll_int(lp, y, s):
    loss = np.empty(lp.shape[0], lp.dtype)
    ct = np.zeros_like(lp)
    for r in range(lp.shape[0]):
        loss[r] = -lp[r, y[r]]
        ct[r, y[r]] = -s
    return loss, ct


@njit(cache=True)
def ce_onehot(p, t, s):
    loss = np.empty(p.shape[0], p.dtype)
    ct = np.zeros_like(p)
    for r in range(p.shape[0]):
        q = np.maximum(p[r], EPS)
        loss[r] = -(t[r] * np.log(q)).sum()
        ct[r] = -s * t[r] / q * (p[r] > EPS)
    return loss, ct


@njit(cache=True)
def nll_onehot(lp, t, s):
    loss = np.empty(lp.shape[0], lp.dtype)
    for r in range(lp.shape[0]):
        loss[r] = -(t[r] * lp[r]).sum()
    return loss, (-s * t).astype(lp.dtype)


@njit(cache=True)
def mse(p, t, s):
    b = p.shape[0]
    d = (p - t).reshape(b, -1)
    m = d.shape[1]
    loss = np.empty(b, p.dtype)
    for r in range(b):
        loss[r] = (d[r] * d[r]).sum() / m
    return loss, ((2.0 / m) * s * (p - t)).astype(p.dtype)
