"""Kernels of the differentiable-programming primitives: tensor shape operations, activations,
losses and layers, in plain numpy (the reference evaluation; registered in `kernels.KERNELS`).

Conventions: a scalar of type `float` is a Python float, of type `f32` a numpy.float32; tensors are
numpy arrays. Layer kernels take their parameters (views of the program's flat parameter buffer)
after their dynamic arguments. Softmax-like operations act on the last axis.
"""
from __future__ import annotations

import math

import numpy as np

from .errors import INDEX, VALUE, fail
from .kernels import exp_, expm1_, extreme_, kernel, log_, matmul_, tanh_


def like(x, r):
    """`r` in the representation of `x`'s type: Python float, numpy.float32 or an array of x's dtype."""
    if isinstance(x, np.ndarray):
        return np.asarray(r, dtype=x.dtype)
    if type(x) is np.float32:
        return np.float32(r)
    return float(r)


def scalar(dtype, v):
    return np.float32(v) if dtype == np.float32 else float(v)


# ---- shape operations ---------------------------------------------------------------------------

@kernel("tensor.concat")
def concat(*parts_and_axis):
    *parts, axis = parts_and_axis
    return np.concatenate(parts, axis=axis)


@kernel("tensor.stack")
def stack(*parts):
    return np.stack(parts)


@kernel("tensor.reshape")
def reshape(x, shape):
    return np.reshape(x, shape).copy()


@kernel("tensor.transpose")
def transpose(x):
    return np.ascontiguousarray(x.T)


@kernel("tensor.arange")
def arange(n, kind):
    return np.arange(n, dtype=np.float32 if kind == "f32" else np.float64)


@kernel("tensor.argmax")
def argmax(x):
    if x.size == 0:
        fail(VALUE, "argmax() of an empty tensor")
    return int(np.argmax(x))


@kernel("tensor.reduce")
def reduce_axis(x, how, axis):
    if how == "mean" and x.shape[axis] == 0:  # NaN, as the mean of an empty tensor, without NumPy's warning
        return np.full(x.shape[:axis] + x.shape[axis + 1:], np.nan, x.dtype)
    r = extreme_(x, how, axis) if how in ("max", "min") else getattr(np, how)(x, axis=axis)
    return r.astype(x.dtype)


@kernel("tensor.slice")
def tensor_slice(x, lo, hi):
    return x[lo:hi].copy()


def _cmp(f):
    return lambda a, b: f(a, b).astype(a.dtype if isinstance(a, np.ndarray) else b.dtype)


for _name, _f in (("gt", np.greater), ("ge", np.greater_equal), ("lt", np.less), ("le", np.less_equal),
                  ("eq", np.equal), ("ne", np.not_equal)):
    kernel(f"tensor.{_name}")(_cmp(_f))


@kernel("tensor.where")
def where(c, a, b):
    return np.where(c != 0, a, b).astype(c.dtype)


# ---- activations (scalars or tensors) -----------------------------------------------------------

def sigmoid_(x):
    x = np.asarray(x)
    e = exp_(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax_(x):
    if x.shape[-1] == 0:  # rows of no elements: nothing to normalise
        return x.copy()
    z = x - np.max(x, axis=-1, keepdims=True)
    e = exp_(z)
    return e / np.sum(e, axis=-1, keepdims=True)


def log_softmax_(x):
    if x.shape[-1] == 0:
        return x.copy()
    z = x - np.max(x, axis=-1, keepdims=True)
    return z - log_(np.sum(exp_(z), axis=-1, keepdims=True))


GELU_C = float(np.sqrt(2.0 / np.pi))


def gelu_(x):
    x = np.asarray(x)
    return 0.5 * x * (1.0 + tanh_(GELU_C * (x + 0.044715 * (x * x * x))))


ACTIVATIONS = {
    "relu": lambda x: np.maximum(x, 0),
    "sigmoid": sigmoid_,
    "tanh": tanh_,
    "gelu": gelu_,
    "silu": lambda x: np.asarray(x) * sigmoid_(x),
    "softmax": softmax_,
    "log_softmax": log_softmax_,
}

for _name, _f in ACTIVATIONS.items():
    kernel(f"nn.{_name}")((lambda f: lambda x: like(x, f(x)))(_f))


@kernel("nn.leaky_relu")
def leaky_relu(x, alpha):
    return like(x, np.where(np.asarray(x) > 0, x, alpha * np.asarray(x)))


@kernel("nn.elu")
def elu(x, alpha):
    a = np.asarray(x)
    return like(x, np.where(a > 0, a, alpha * expm1_(np.minimum(a, 0))))


# ---- losses (mean over elements; a scalar of the prediction's dtype) ---------------------------

EPS = 1e-12


@kernel("loss.mse")
def mse(p, t):
    return scalar(p.dtype, np.mean((p - t) ** 2))


@kernel("loss.mae")
def mae(p, t):
    return scalar(p.dtype, np.mean(np.abs(p - t)))


def bce_outside_message(v) -> str:
    """binary_cross_entropy of a prediction outside [0, 1] (a model without a final sigmoid): an error, as
    in PyTorch, not a loss clipped flat with no gradient there (training went on silently, learning nothing)."""
    return (f"binary_cross_entropy takes probabilities in [0, 1], found a prediction of {float(v):.6g} "
            "(end the model with sigmoid)")


def ce_outside_message(v) -> str:
    """cross_entropy of a prediction outside [0, 1]: raw scores (logits) where it takes probabilities.
    PyTorch's cross_entropy takes logits; Glia's, like its binary_cross_entropy, takes probabilities: a
    model without a final softmax trained silently to a meaningless loss."""
    return (f"cross_entropy takes probabilities in [0, 1], found a prediction of {float(v):.6g} "
            "(end the model with softmax; for raw scores, write nll(log_softmax(z), y))")


def check_probabilities(p, message):
    outside = np.flatnonzero((np.asarray(p) < 0) | (np.asarray(p) > 1))  # (NaN is neither: E702 reports it)
    if outside.size:
        fail(VALUE, message(np.ravel(p)[outside[0]]))


@kernel("loss.bce")
def bce(p, t):
    check_probabilities(p, bce_outside_message)
    q = np.clip(p, EPS, 1 - 1e-7)
    return scalar(p.dtype, -np.mean(t * log_(q) + (1 - t) * log_(1 - q)))


def check_class(y, k):
    if not 0 <= y < k:
        fail(INDEX, f"class label {y} out of range for {k} classes")


@kernel("loss.ce_int")
def ce_int(p, y):
    check_class(y, p.shape[-1])
    check_probabilities(p, ce_outside_message)
    return scalar(p.dtype, -math.log(max(float(p[y]), EPS)))


@kernel("loss.ce_onehot")
def ce_onehot(p, t):
    check_probabilities(p, ce_outside_message)
    return scalar(p.dtype, -np.sum(t * log_(np.maximum(p, EPS))))


@kernel("loss.nll_int")
def nll_int(logp, y):
    check_class(y, logp.shape[-1])
    return scalar(logp.dtype, -logp[y])


@kernel("loss.nll_onehot")
def nll_onehot(logp, t):
    return scalar(logp.dtype, -np.sum(t * logp))


# ---- layers (parameters after the dynamic arguments) ---------------------------------------------

@kernel("layer.dense")
def dense(x, W, b):
    return matmul_(x, W) + b


@kernel("layer.embedding")
def embedding(i, E):
    if not 0 <= i < E.shape[0]:
        fail(INDEX, f"embedding index {i} out of range for a table of {E.shape[0]} rows")
    return E[i].copy()


@kernel("layer.rnn_cell")
def rnn_cell(x, h, Wx, Wh, b):
    return tanh_(matmul_(x, Wx) + matmul_(h, Wh) + b)


def gru_parts(x, h, Wx, Wh, bx, bh):
    n_h = h.shape[-1]
    ax = matmul_(x, Wx) + bx
    ah = matmul_(h, Wh) + bh
    r = sigmoid_(ax[..., :n_h] + ah[..., :n_h]).astype(h.dtype)
    z = sigmoid_(ax[..., n_h:2 * n_h] + ah[..., n_h:2 * n_h]).astype(h.dtype)
    n = tanh_(ax[..., 2 * n_h:] + r * ah[..., 2 * n_h:])
    return r, z, n, ah


@kernel("layer.gru_cell")
def gru_cell(x, h, Wx, Wh, bx, bh):
    r, z, n, _ = gru_parts(x, h, Wx, Wh, bx, bh)
    return (1 - z) * n + z * h


def lstm_parts(x, h, c, Wx, Wh, b):
    n_h = h.shape[-1]
    zz = matmul_(x, Wx) + matmul_(h, Wh) + b
    i = sigmoid_(zz[..., :n_h]).astype(h.dtype)
    f = sigmoid_(zz[..., n_h:2 * n_h]).astype(h.dtype)
    g = tanh_(zz[..., 2 * n_h:3 * n_h])
    o = sigmoid_(zz[..., 3 * n_h:]).astype(h.dtype)
    c2 = f * c + i * g
    return i, f, g, o, c2


@kernel("layer.lstm_cell")
def lstm_cell(x, h, c, Wx, Wh, b):
    i, f, g, o, c2 = lstm_parts(x, h, c, Wx, Wh, b)
    return (o * tanh_(c2), c2)


LN_EPS = 1e-5


@kernel("layer.layer_norm")
def layer_norm(x, g, b):
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return ((x - mu) / np.sqrt(var + LN_EPS) * g + b).astype(x.dtype)


BN_EPS = 1e-5
BN_MOMENTUM = 0.1
NO_BATCH = "E704"


@kernel("layer.batch_norm")
def batch_norm(x, gamma, beta, mean, var, training, eps):
    """x [b, k], each of the k features normalised over the b rows of the batch: with the batch's own
    mean and (biased) variance while training, else with the given running `mean` and `var`."""
    if training:
        if x.shape[0] < 2:
            fail(NO_BATCH, f"batch_norm in training mode needs a batch of at least 2 rows to compute batch "
                 f"statistics, got {x.shape[0]}")
        mean, var = x.mean(axis=0), x.var(axis=0)
    return ((x - mean) / np.sqrt(var + eps) * gamma + beta).astype(x.dtype)


def batch_norm_update(running_mean, running_var, x, momentum):
    """PyTorch's running-statistics update (in place): new = (1 - momentum) * old + momentum * batch,
    the batch variance unbiased (divided by b - 1)."""
    b = x.shape[0]
    running_mean *= 1 - momentum
    running_mean += momentum * x.mean(axis=0)
    running_var *= 1 - momentum
    running_var += momentum * x.var(axis=0) * (b / (b - 1))


@kernel("layer.dropout")
def dropout(x, mask):
    """`mask` is None in evaluation mode (identity), else the scaled keep-mask drawn by the caller."""
    return x if mask is None else x * mask


def dropout_mask(rng, shape, p, dtype):
    if not 0 <= p < 1:
        fail(VALUE, f"dropout probability must be in [0, 1), found {p}")
    return ((rng.random(shape) >= p) / (1.0 - p)).astype(dtype)


# ---- convolution and pooling (channels first: x is [C, L] or [C, H, W]) --------------------------

def conv_windows(xp, kh, kw, sh, sw):
    """The (C, H', W', kh, kw) windows of a padded input (a view, no copy)."""
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(1, 2))
    return win[:, ::sh, ::sw]


def conv2d_core(x, W, b, stride, pad):
    kh, kw = W.shape[2], W.shape[3]
    xp = np.pad(x, ((0, 0), (pad[0], pad[0]), (pad[1], pad[1]))) if pad[0] or pad[1] else x
    cols = conv_windows(xp, kh, kw, stride[0], stride[1])  # (C, H', W', kh, kw)
    c, oh, ow = cols.shape[:3]
    o = W.shape[0]
    # one matrix product of the windows as rows (im2col) with the kernels as columns, as the compiled
    # backend's (nbtensor.conv2d): the same operands through each side's BLAS (kernels.matmul_)
    rows = np.ascontiguousarray(cols.transpose(1, 2, 0, 3, 4)).reshape(oh * ow, c * kh * kw)
    y = rows @ np.ascontiguousarray(W.reshape(o, c * kh * kw).T)
    return (y.T.reshape(o, oh, ow) + b[:, None, None]).astype(x.dtype)


@kernel("layer.conv2d")
def conv2d(x, W, b, stride, pad):
    return conv2d_core(x, W, b, (stride, stride), (pad, pad))


@kernel("layer.conv1d")
def conv1d(x, W, b, stride, pad):
    return conv2d_core(x[:, None, :], W[:, :, None, :], b, (1, stride), (0, pad))[:, 0, :]


def pool_view(x, k):
    """x [C, H, W] cropped to multiples of k, as (C, H/k, W/k, k*k)."""
    c, h, w = x.shape
    h2, w2 = h // k, w // k
    v = x[:, :h2 * k, :w2 * k].reshape(c, h2, k, w2, k).transpose(0, 1, 3, 2, 4)
    return v.reshape(c, h2, w2, k * k)


@kernel("tensor.max_pool")
def max_pool(x, k):
    return extreme_(pool_view(x, k) if x.ndim == 3 else pool_view1(x, k), "max", -1)


@kernel("tensor.avg_pool")
def avg_pool(x, k):
    return (pool_view(x, k) if x.ndim == 3 else pool_view1(x, k)).mean(axis=-1).astype(x.dtype)


def pool_view1(x, k):
    """x [C, L] cropped to a multiple of k, as (C, L/k, k)."""
    c, n = x.shape
    return x[:, :(n // k) * k].reshape(c, n // k, k)
