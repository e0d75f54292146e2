"""Vector-Jacobian products: the 'vjp' rule of each differentiable primitive (primitives.PRIMS).

A rule is `vjp(g, out, args, attrs) -> tuple` with one cotangent per dynamic argument (None where the
argument carries no gradient: ints, bools, class labels), and, for layers, one per parameter after
them. `g` is the cotangent of the output (a tuple for primitives with several outputs), `out` the
output computed in the forward sweep and `args` the raw arguments. Cotangents have the type of the
argument they belong to (Python float, numpy.float32 or an array of the same shape).

Importing this module registers the rules; `primitives.py` does so, so the table is always complete.
"""
from __future__ import annotations

import numpy as np

from glia.runtime.kernels import pow_each, precise
from glia.runtime.tensor_ops import EPS, GELU_C, LN_EPS, gru_parts, like, lstm_parts, sigmoid_

from .primitives import PRIMS, rule


def unbroadcast(g, x):
    """Sum `g` down to the shape of `x` (undo numpy broadcasting); scalars get a scalar."""
    if not isinstance(x, np.ndarray):  # (a scalar g as it is: numpy's sum of -0.0 is 0.0)
        return like(x, g if np.ndim(g) == 0 else np.sum(g))
    g = np.asarray(g)
    if g.shape == x.shape:
        return g.astype(x.dtype, copy=False)
    while g.ndim > x.ndim:
        g = g.sum(axis=0)
    for ax, n in enumerate(x.shape):
        if n == 1 and g.shape[ax] != 1:
            g = g.sum(axis=ax, keepdims=True)
    return g.astype(x.dtype, copy=False)


def wgrad(x, g):
    """Gradient of W in `x @ W` for a vector or a batch of rows."""
    return np.outer(x, g) if x.ndim == 1 else x.T @ g


def bgrad(g):
    return g if g.ndim == 1 else g.sum(axis=0)


def _binary(kinds, name):
    def deco(f):
        for k in kinds:
            rule(f"{k}.{name}", "vjp")(f)
        return f
    return deco


ARITH = ("float", "f32", "tensor")


@_binary(ARITH, "add")
def vjp_add(g, out, args, attrs):
    a, b = args
    return unbroadcast(g, a), unbroadcast(g, b)


@_binary(ARITH, "sub")
def vjp_sub(g, out, args, attrs):
    a, b = args
    return unbroadcast(g, a), unbroadcast(-np.asarray(g), b)


@_binary(ARITH, "mul")
def vjp_mul(g, out, args, attrs):
    a, b = args
    return unbroadcast(np.multiply(g, b), a), unbroadcast(np.multiply(g, a), b)


@_binary(ARITH, "truediv")
def vjp_div(g, out, args, attrs):
    a, b = args
    gb = -np.multiply(g, a) / np.multiply(b, b)
    return unbroadcast(np.divide(g, b), a), unbroadcast(gb, b)


@_binary(ARITH, "pow")
def vjp_pow(g, out, args, attrs):
    a, b = args
    a_, b_ = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    ga = np.multiply(g, b_ * pow_each(a_, b_ - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        gb = np.multiply(g, np.where(a_ > 0, np.asarray(out, dtype=np.float64) * np.log(np.where(a_ > 0, a_, 1)), 0))
    return unbroadcast(ga, a), unbroadcast(gb, b)


@_binary(ARITH, "neg")
def vjp_neg(g, out, args, attrs):
    return (like(args[0], -np.asarray(g)),)


@_binary(ARITH, "abs")
def vjp_abs(g, out, args, attrs):
    return (like(args[0], np.multiply(g, np.sign(args[0]))),)


def _identity(g, out, args, attrs):
    return (like(args[0], g),)


for _op in ("float.to_f32", "f32.to_float"):
    rule(_op, "vjp")(_identity)


@rule("tensor.astype", "vjp")
def vjp_astype(g, out, args, attrs):
    return (np.asarray(g).astype(args[0].dtype),)


def _sum_list(g, out, args, attrs):
    seq, start = args
    return [like(x, g) for x in seq], like(start, g) if isinstance(start, (float, np.floating)) else None


rule("float.sum", "vjp")(_sum_list)
rule("f32.sum", "vjp")(_sum_list)


@rule("seq.mean", "vjp")
def vjp_mean_list(g, out, args, attrs):
    (seq,) = args
    share = g / len(seq)  # (a float's mean: never of an empty list, which failed forward)
    return ([like(x, share) for x in seq],)


# ---- elementwise math: d/dx f(x) from x and the output --------------------------------------------

def _elementwise(name, deriv):
    def vjp(g, out, args, attrs):
        return (like(args[0], np.multiply(g, deriv(np.asarray(args[0]), np.asarray(out)))),)
    for kind in ("math", "tensor"):
        if f"{kind}.{name}" in PRIMS:
            rule(f"{kind}.{name}", "vjp")(vjp)


_elementwise("exp", lambda x, y: y)
_elementwise("log", lambda x, y: 1.0 / x)
_elementwise("sqrt", lambda x, y: 0.5 / y)
# f32 through float64 as the primitives themselves (kernels.precise): the compiled gradient's digits
_elementwise("sin", lambda x, y: precise(np.cos)(x))
_elementwise("cos", lambda x, y: -precise(np.sin)(x))
_elementwise("tan", lambda x, y: 1.0 + y * y)
_elementwise("tanh", lambda x, y: 1.0 - y * y)
_elementwise("sinh", lambda x, y: np.cosh(x))
_elementwise("cosh", lambda x, y: np.sinh(x))
_elementwise("log2", lambda x, y: 1.0 / (x * np.log(2.0)))
_elementwise("log10", lambda x, y: 1.0 / (x * np.log(10.0)))
_elementwise("asin", lambda x, y: 1.0 / np.sqrt(1.0 - x * x))
_elementwise("acos", lambda x, y: -1.0 / np.sqrt(1.0 - x * x))
_elementwise("atan", lambda x, y: 1.0 / (1.0 + x * x))


@_binary(("float", "f32"), "mod")
def vjp_mod(g, out, args, attrs):
    """a % b = a - floor(a / b) * b, away from the jumps (PyTorch's remainder)."""
    a, b = args
    return like(a, g), like(b, -np.multiply(g, np.floor(np.divide(a, b))))


@_binary(("float", "f32"), "divmod")
def vjp_divmod(g, out, args, attrs):
    """divmod(a, b) = (a // b, a % b): the quotient passes none (piecewise constant, as `//`), the
    remainder passes what `%` does; a remainder with no cotangent passes 0 (as the compiled rule)."""
    gr = g[1] if g[1] is not None else like(args[0], 0.0)
    return vjp_mod(gr, None, args, attrs)


@rule("math.atan2", "vjp")
def vjp_atan2(g, out, args, attrs):
    y, x = args
    r = np.float64(x) * x + np.float64(y) * y  # (0, 0): 0 / 0, NaN, as PyTorch
    return like(y, np.multiply(g, x) / r), like(x, -np.multiply(g, y) / r)


@rule("math.hypot", "vjp")
def vjp_hypot(g, out, args, attrs):
    x, y = args
    return like(x, np.multiply(g, x) / np.float64(out)), like(y, np.multiply(g, y) / np.float64(out))


def _act(name, deriv):
    def vjp(g, out, args, attrs):
        return (like(args[0], np.multiply(g, deriv(np.asarray(args[0]), np.asarray(out), *attrs))),) + \
            (None,) * (len(args) - 1)
    rule(f"nn.{name}", "vjp")(vjp)


_act("relu", lambda x, y: (x > 0).astype(y.dtype))
_act("sigmoid", lambda x, y: y * (1 - y))
_act("tanh", lambda x, y: 1 - y * y)
_act("leaky_relu", lambda x, y, alpha: np.where(x > 0, 1.0, alpha))
_act("elu", lambda x, y, alpha: np.where(x > 0, 1.0, y + alpha))


def _gelu_d(x, y):
    u = GELU_C * (x + 0.044715 * (x * x * x))  # as the forward (tensor_ops.gelu_), tanh through float64
    t = precise(np.tanh)(u)
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * x * x)


_act("gelu", _gelu_d)
_act("silu", lambda x, y: sigmoid_(x) * (1 + x * (1 - sigmoid_(x))))


@rule("nn.softmax", "vjp")
def vjp_softmax(g, out, args, attrs):
    s = np.sum(g * out, axis=-1, keepdims=True)
    return (out * (g - s),)


@rule("nn.log_softmax", "vjp")
def vjp_log_softmax(g, out, args, attrs):
    return (g - precise(np.exp)(out) * np.sum(g, axis=-1, keepdims=True),)


# ---- tensor structure -----------------------------------------------------------------------------

@rule("tensor.matmul", "vjp")
def vjp_matmul(g, out, args, attrs):
    a, b = args
    g = np.asarray(g)
    if a.ndim == 1 and b.ndim == 1:
        return g * b, g * a
    if a.ndim == 1:  # (k) @ (k, n)
        return b @ g, np.outer(a, g)
    if b.ndim == 1:  # (m, k) @ (k)
        return np.outer(g, b), a.T @ g
    return g @ b.T, a.T @ g


@rule("tensor.sum", "vjp")
def vjp_sum(g, out, args, attrs):
    a = args[0]
    return (np.full(a.shape, g, dtype=a.dtype),)


@rule("tensor.mean", "vjp")
def vjp_mean(g, out, args, attrs):
    a = args[0]
    return (np.full(a.shape, g / a.size, dtype=a.dtype),)


def _extreme(a, out):
    """Where `a` holds its min/max `out`: the elements equal to it, or its NaNs when it is NaN (a NaN
    wins a min or max, as in numpy; the first gets the cotangent, as max_pool's and PyTorch's)."""
    return (a == out) | (np.isnan(a) & np.isnan(out))


def _select(g, out, args, attrs):
    """min/max of a whole tensor: the gradient goes to the first extreme element."""
    a = args[0]
    r = np.zeros_like(a)
    r[np.unravel_index(np.argmax(_extreme(a, out)), a.shape)] = g
    return (r,)


rule("tensor.min", "vjp")(_select)
rule("tensor.max", "vjp")(_select)


@rule("tensor.reduce", "vjp")
def vjp_reduce(g, out, args, attrs):
    a = args[0]
    how, axis = attrs
    ge = np.expand_dims(np.asarray(g), axis)
    if how == "sum":
        return (np.broadcast_to(ge, a.shape).astype(a.dtype),)
    if how == "mean":
        return ((np.broadcast_to(ge, a.shape) / a.shape[axis]).astype(a.dtype),)
    oe = np.expand_dims(np.asarray(out), axis)
    hit = _extreme(a, oe)
    first = hit & (np.cumsum(hit, axis=axis) == 1)
    return ((first * ge).astype(a.dtype),)


@rule("tensor.getitem", "vjp")
def vjp_getitem(g, out, args, attrs):
    a, *idx = args
    r = np.zeros_like(a)
    r[tuple(idx)] = g
    return (r,) + (None,) * len(idx)


@rule("tensor.slice", "vjp")
def vjp_slice(g, out, args, attrs):
    a, lo, hi = args
    r = np.zeros_like(a)
    r[lo:hi] = g
    return r, None, None


@rule("tensor.concat", "vjp")
def vjp_concat(g, out, args, attrs):
    *parts, axis = args
    cuts = np.cumsum([p.shape[axis] for p in parts])[:-1]
    return tuple(np.split(g, cuts, axis=axis)) + (None,)


@rule("tensor.stack", "vjp")
def vjp_stack(g, out, args, attrs):
    return tuple(g[i] for i in range(len(args)))


@rule("tensor.reshape", "vjp")
def vjp_reshape(g, out, args, attrs):
    return (np.reshape(g, args[0].shape), None)


@rule("tensor.transpose", "vjp")
def vjp_transpose(g, out, args, attrs):
    return (np.asarray(g).T,)


def _compare(g, out, args, attrs):
    """`a < b` with a tensor operand is a 0/1 tensor: no gradient flows through it (zero almost everywhere)."""
    return tuple(like(a, np.zeros(np.shape(a))) for a in args)


for _op in ("gt", "ge", "lt", "le", "eq", "ne"):
    rule(f"tensor.{_op}", "vjp")(_compare)
for _op in ("float.floordiv", "f32.floordiv"):  # piecewise constant, as comparisons: a zero gradient
    rule(_op, "vjp")(_compare)


@_binary(("float", "f32"), "roundn")
def vjp_roundn(g, out, args, attrs):
    """round(x, n): piecewise constant, a zero gradient to x (PyTorch's round); n is an int."""
    return like(args[0], np.zeros(())), None


@rule("tensor.where", "vjp")
def vjp_where(g, out, args, attrs):
    c, a, b = args
    m = (c != 0)
    return None, unbroadcast(np.where(m, g, 0), a), unbroadcast(np.where(m, 0, g), b)


# ---- losses ---------------------------------------------------------------------------------------

@rule("loss.mse", "vjp")
def vjp_mse(g, out, args, attrs):
    p, t = args
    d = (2.0 / p.size) * g * (p - t)
    return d.astype(p.dtype), unbroadcast(-d, t) if isinstance(t, np.ndarray) else None


@rule("loss.mae", "vjp")
def vjp_mae(g, out, args, attrs):
    p, t = args
    d = (g / p.size) * np.sign(p - t)
    return d.astype(p.dtype), unbroadcast(-d, t) if isinstance(t, np.ndarray) else None


@rule("loss.bce", "vjp")
def vjp_bce(g, out, args, attrs):
    p, t = args
    q = np.clip(p, EPS, 1 - 1e-7)
    inside = (p > EPS) & (p < 1 - 1e-7)
    dp = g / p.size * (-(t / q) + (1 - t) / (1 - q)) * inside
    dt = g / p.size * (-(precise(np.log)(q) - precise(np.log)(1 - q)))  # f32 through float64, as compiled
    return dp.astype(p.dtype), unbroadcast(dt, t) if isinstance(t, np.ndarray) else None


@rule("loss.ce_int", "vjp")
def vjp_ce_int(g, out, args, attrs):
    p, y = args
    r = np.zeros_like(p)
    if p[y] > EPS:
        r[y] = -g / p[y]
    return r, None


@rule("loss.ce_onehot", "vjp")
def vjp_ce_onehot(g, out, args, attrs):
    p, t = args
    q = np.maximum(p, EPS)
    return (-g * t / q * (p > EPS)).astype(p.dtype), (-g * precise(np.log)(q)).astype(t.dtype)


@rule("loss.nll_int", "vjp")
def vjp_nll_int(g, out, args, attrs):
    lp, y = args
    r = np.zeros_like(lp)
    r[y] = -g
    return r, None


@rule("loss.nll_onehot", "vjp")
def vjp_nll_onehot(g, out, args, attrs):
    lp, t = args
    return (-g * t).astype(lp.dtype), (-g * lp).astype(t.dtype)


# ---- layers: cotangents of the inputs, then of the parameters --------------------------------------

@rule("layer.dense", "vjp")
def vjp_dense(g, out, args, attrs):
    x, W, b = args
    return g @ W.T, wgrad(x, g), bgrad(g)


@rule("layer.embedding", "vjp")
def vjp_embedding(g, out, args, attrs):
    i, E = args
    r = np.zeros_like(E)
    r[i] = g
    return None, r


@rule("layer.rnn_cell", "vjp")
def vjp_rnn(g, out, args, attrs):
    x, h, Wx, Wh, b = args
    ga = g * (1 - out * out)
    return ga @ Wx.T, ga @ Wh.T, wgrad(x, ga), wgrad(h, ga), bgrad(ga)


@rule("layer.gru_cell", "vjp")
def vjp_gru(g, out, args, attrs):
    x, h, Wx, Wh, bx, bh = args
    r, z, n, ah = gru_parts(x, h, Wx, Wh, bx, bh)
    n_h = h.shape[-1]
    dn = g * (1 - z) * (1 - n * n)
    dz = g * (h - n) * z * (1 - z)
    dr = dn * ah[..., 2 * n_h:] * r * (1 - r)
    gax = np.concatenate([dr, dz, dn], axis=-1)
    gah = np.concatenate([dr, dz, dn * r], axis=-1)
    gh = gah @ Wh.T + g * z
    return gax @ Wx.T, gh, wgrad(x, gax), wgrad(h, gah), bgrad(gax), bgrad(gah)


@rule("layer.lstm_cell", "vjp")
def vjp_lstm(g, out, args, attrs):
    x, h, c, Wx, Wh, b = args
    gh2, gc2 = g
    i, f, gg, o, c2 = lstm_parts(x, h, c, Wx, Wh, b)
    tc = precise(np.tanh)(c2)  # as the forward computes it
    gh2 = np.zeros_like(h) if gh2 is None else gh2
    gc = (np.zeros_like(c) if gc2 is None else gc2) + gh2 * o * (1 - tc * tc)
    dz = np.concatenate([gc * gg * i * (1 - i), gc * c * f * (1 - f), gc * i * (1 - gg * gg),
                         gh2 * tc * o * (1 - o)], axis=-1)
    return dz @ Wx.T, dz @ Wh.T, gc * f, wgrad(x, dz), wgrad(h, dz), bgrad(dz)


@rule("layer.layer_norm", "vjp")
def vjp_layer_norm(g, out, args, attrs):
    x, gain, b = args
    mu = x.mean(axis=-1, keepdims=True)
    sd = np.sqrt(x.var(axis=-1, keepdims=True) + LN_EPS)
    xh = (x - mu) / sd
    gx_h = g * gain
    n = x.shape[-1]
    gx = (gx_h - gx_h.mean(axis=-1, keepdims=True) - xh * (gx_h * xh).mean(axis=-1, keepdims=True)) / sd
    gg = g * xh
    return gx.astype(x.dtype), bgrad(gg).astype(x.dtype), bgrad(np.asarray(g)).astype(x.dtype)


@rule("layer.batch_norm", "vjp")
def vjp_batch_norm(g, out, args, attrs):
    """Training: through the batch's mean and variance (layer_norm's rule over axis 0). Evaluation:
    the running statistics are constants, so x is only scaled."""
    x, gamma, beta, mean, var, training, eps = args
    if training:
        mean, var = x.mean(axis=0), x.var(axis=0)
    sd = np.sqrt(var + eps)
    xh = (x - mean) / sd
    gx_h = g * gamma
    if training:
        gx = (gx_h - gx_h.mean(axis=0) - xh * (gx_h * xh).mean(axis=0)) / sd
    else:
        gx = gx_h / sd
    return (gx.astype(x.dtype), (g * xh).sum(axis=0).astype(x.dtype), np.sum(g, axis=0).astype(x.dtype),
            None, None, None, None)


@rule("layer.dropout", "vjp")
def vjp_dropout(g, out, args, attrs):
    x, mask = args
    return (g if mask is None else g * mask), None


# ---- convolution and pooling -----------------------------------------------------------------------

def _conv2d_vjp(g, x, W, stride, pad):
    from glia.runtime.tensor_ops import conv_windows

    kh, kw = W.shape[2], W.shape[3]
    xp = np.pad(x, ((0, 0), (pad[0], pad[0]), (pad[1], pad[1]))) if pad[0] or pad[1] else x
    cols = conv_windows(xp, kh, kw, stride[0], stride[1])
    gW = np.einsum("ohw,chwpq->ocpq", g, cols, optimize=True).astype(W.dtype)
    gb = g.sum(axis=(1, 2)).astype(W.dtype)
    gxp = np.zeros_like(xp)
    ho, wo = g.shape[1], g.shape[2]
    for p in range(kh):
        for q in range(kw):
            gxp[:, p:p + stride[0] * ho:stride[0], q:q + stride[1] * wo:stride[1]] += \
                np.einsum("ohw,oc->chw", g, W[:, :, p, q])
    gx = gxp[:, pad[0]:pad[0] + x.shape[1], pad[1]:pad[1] + x.shape[2]]
    return gx, gW, gb


@rule("layer.conv2d", "vjp")
def vjp_conv2d(g, out, args, attrs):
    x, W, b, stride, pad = args
    gx, gW, gb = _conv2d_vjp(np.asarray(g), x, W, (stride, stride), (pad, pad))
    return gx, gW, gb, None, None


@rule("layer.conv1d", "vjp")
def vjp_conv1d(g, out, args, attrs):
    x, W, b, stride, pad = args
    gx, gW, gb = _conv2d_vjp(np.asarray(g)[:, None, :], x[:, None, :], W[:, :, None, :], (1, stride), (0, pad))
    return gx[:, 0, :], gW[:, :, 0, :], gb, None, None


def _pool_grad(g, x, k, how):
    from glia.runtime.tensor_ops import pool_view, pool_view1

    v = pool_view(x, k) if x.ndim == 3 else pool_view1(x, k)
    if how == "max":
        first = np.argmax(v, axis=-1)
        w = (np.arange(k * k if x.ndim == 3 else k) == first[..., None]).astype(x.dtype)
    else:
        w = np.full(v.shape, 1.0 / v.shape[-1], x.dtype)
    gv = w * np.asarray(g)[..., None]
    r = np.zeros_like(x)
    if x.ndim == 3:
        c, h2, w2 = gv.shape[:3]
        r[:, :h2 * k, :w2 * k] = gv.reshape(c, h2, w2, k, k).transpose(0, 1, 3, 2, 4).reshape(c, h2 * k, w2 * k)
    else:
        c, n2 = gv.shape[:2]
        r[:, :n2 * k] = gv.reshape(c, n2 * k)
    return r


@rule("tensor.max_pool", "vjp")
def vjp_max_pool(g, out, args, attrs):
    return (_pool_grad(g, args[0], attrs[0], "max"),)


@rule("tensor.avg_pool", "vjp")
def vjp_avg_pool(g, out, args, attrs):
    return (_pool_grad(g, args[0], attrs[0], "avg"),)
