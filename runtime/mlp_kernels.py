"""Whole-epoch training kernels for chains of dense layers and activations, compiled once by Numba
(`cache=True`) and reused by every program: the chain is data (a table of steps), not generated code,
so a new model never triggers a compile.

A chain is `steps`: rows (kind, a, b, c, d) with kind DENSE (W offset, b offset, inputs, outputs into
the flat parameter buffer) or ACT (a = activation code). Activations of a minibatch live in one flat
workspace, step s reading block s and writing block s + 1. One call runs a whole epoch: gather the
minibatch, forward, the fused loss gradient, backward into the flat gradient buffer, clipping and the
optimizer step, for every minibatch in `order`.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from . import act_rules, loss_rules, optim_rules
from .act_rules import ELU, GELU, LEAKY, LOG_SOFTMAX, RELU, SIGMOID, SILU, SOFTMAX, TANH  # noqa: F401

DENSE, ACT = 0, 1
CE_SOFTMAX, NLL_LOGSOFTMAX, MSE, BCE = 0, 1, 2, 3  # losses (with the chain's last step they fuse with; BCE: none)
SGD, ADAM, ADAMW, RMSPROP = 0, 1, 2, 3
# hyper (in the parameters' dtype): lr, beta1, beta2, eps, weight_decay, momentum, nesterov, alpha, clip
LR, B1, B2, EPS, WD, MOM, NEST, ALPHA, CLIP = range(9)


_act_value = njit(inline="always")(act_rules.act_value)  # the element rules, shared with cuda_mlp.py
_act_slope = njit(inline="always")(act_rules.act_slope)
_adam = njit(inline="always")(optim_rules.adam)
_momentum = njit(inline="always")(optim_rules.momentum)
_rmsprop = njit(inline="always")(optim_rules.rmsprop)
_bce = njit(inline="always")(loss_rules.bce)


@njit(cache=True)
def _act_forward(code, alpha, x, y):
    n, m = x.shape
    if code == SOFTMAX or code == LOG_SOFTMAX:
        for i in range(n):
            mx = x[i, 0]
            for j in range(1, m):
                if x[i, j] > mx:
                    mx = x[i, j]
            s = 0.0
            if code == SOFTMAX:  # y holds the exponentials, then is normalised: one exp per element
                for j in range(m):
                    e = np.exp(x[i, j] - mx)
                    y[i, j] = e
                    s += e
                inv = 1.0 / s
                for j in range(m):
                    y[i, j] *= inv
            else:
                for j in range(m):
                    s += np.exp(x[i, j] - mx)
                ls = np.log(s)
                for j in range(m):
                    y[i, j] = x[i, j] - mx - ls
        return
    if code == RELU:  # the common case, as a loop of its own that LLVM vectorises
        for i in range(n):
            for j in range(m):
                v = x[i, j]
                y[i, j] = v if v > 0 else 0.0
        return
    for i in range(n):
        for j in range(m):
            y[i, j] = _act_value(code, alpha, x[i, j])


@njit(cache=True)
def _act_backward(code, alpha, x, y, g):
    """g <- g * f'(x), in place (softmax/log_softmax as the last step are fused with the loss)."""
    n, m = x.shape
    if code == RELU:
        for i in range(n):
            for j in range(m):
                if not x[i, j] > 0:
                    g[i, j] *= 0.0  # as g * f'(x) with f'(x) = 0 (a NaN gradient stays NaN)
        return
    for i in range(n):
        for j in range(m):
            g[i, j] *= _act_slope(code, alpha, x[i, j], y[i, j])


@njit(cache=True)
def _forward(steps, alphas, flat, ws, aoff, widths, nb):
    for s in range(steps.shape[0]):
        x = ws[aoff[s]:aoff[s] + nb * widths[s]].reshape(nb, widths[s])
        y = ws[aoff[s + 1]:aoff[s + 1] + nb * widths[s + 1]].reshape(nb, widths[s + 1])
        if steps[s, 0] == DENSE:
            wo, bo, k, n = steps[s, 1], steps[s, 2], steps[s, 3], steps[s, 4]
            W = flat[wo:wo + k * n].reshape(k, n)
            np.dot(x, W, y)
            for i in range(nb):
                for j in range(n):
                    y[i, j] += flat[bo + j]
        else:
            _act_forward(steps[s, 1], alphas[s], x, y)


@njit(cache=True)
def _loss(loss, out, yi, yf, rows, nb, g, scale):
    """Loss summed over the minibatch, correct predictions, and (if scale > 0) the gradient of the
    mean loss with respect to the chain's output (its last pre-activation where softmax/log_softmax is
    fused with the loss). binary_cross_entropy counts each output right or wrong (`correct` counts outputs)."""
    total = 0.0
    correct = 0
    m = out.shape[1]
    lo, hi, one = out.dtype.type(loss_rules.BCE_LO), out.dtype.type(loss_rules.BCE_HI), out.dtype.type(1)
    for i in range(nb):
        r = rows[i]
        if loss == BCE:  # each output scored right when it and its target are on the same side of 0.5
            for j in range(m):
                t = yf[r, j]
                if (out[i, j] > 0.5) == (t > 0.5):
                    correct += 1
                term, slope = _bce(out[i, j], t, lo, hi, one)
                total += term / m
                if scale > 0:
                    g[i, j] = slope * (scale / m)
            continue
        best = 0
        for j in range(1, m):
            if out[i, j] > out[i, best]:
                best = j
        if loss == MSE:
            for j in range(m):
                d = out[i, j] - yf[r, j]
                total += d * d / m
                if scale > 0:
                    g[i, j] = 2.0 * d / m * scale
            continue
        if yi.shape[0] > 0:
            lab = yi[r]
            if best == lab:
                correct += 1
            if loss == CE_SOFTMAX:
                p = out[i, lab]
                total += -np.log(p if not p < 1e-12 else 1e-12)  # a NaN p stays NaN (it is reported)
            else:
                total += -out[i, lab]
            if scale > 0:
                for j in range(m):
                    p = out[i, j] if loss == CE_SOFTMAX else np.exp(out[i, j])
                    g[i, j] = (p - (1.0 if j == lab else 0.0)) * scale
        else:
            tb = 0
            for j in range(1, m):
                if yf[r, j] > yf[r, tb]:
                    tb = j
            if best == tb:
                correct += 1
            tsum = 0.0
            for j in range(m):
                tsum += yf[r, j]
                if loss == CE_SOFTMAX:
                    p = out[i, j]
                    total += -yf[r, j] * np.log(p if not p < 1e-12 else 1e-12)
                else:
                    total += -yf[r, j] * out[i, j]
            if scale > 0:
                for j in range(m):
                    p = out[i, j] if loss == CE_SOFTMAX else np.exp(out[i, j])
                    g[i, j] = (p * tsum - yf[r, j]) * scale
    return total, correct


@njit(cache=True)
def _backward(steps, alphas, flat, grad, ws, gs, aoff, widths, nb, last_fused):
    """gs holds d(loss)/d(output of the last step); walk the steps backwards."""
    ns = steps.shape[0]
    for s in range(ns - 1, -1, -1):
        x = ws[aoff[s]:aoff[s] + nb * widths[s]].reshape(nb, widths[s])
        y = ws[aoff[s + 1]:aoff[s + 1] + nb * widths[s + 1]].reshape(nb, widths[s + 1])
        gy = gs[aoff[s + 1]:aoff[s + 1] + nb * widths[s + 1]].reshape(nb, widths[s + 1])
        gx = gs[aoff[s]:aoff[s] + nb * widths[s]].reshape(nb, widths[s])
        if steps[s, 0] == DENSE:
            wo, bo, k, n = steps[s, 1], steps[s, 2], steps[s, 3], steps[s, 4]
            W = flat[wo:wo + k * n].reshape(k, n)
            gW = grad[wo:wo + k * n].reshape(k, n)
            gW += np.dot(x.T, gy)
            for i in range(nb):
                for j in range(n):
                    grad[bo + j] += gy[i, j]
            if s > 0:
                np.dot(gy, W.T, gx)
        else:
            if not (s == ns - 1 and last_fused):
                _act_backward(steps[s, 1], alphas[s], x, y, gy)
            gx[:, :] = gy


# element-wise updates only: fastmath, and NumPy's error model (no check for a zero divisor, which
# the updates' denominators never are), let LLVM vectorise sqrt and division
@njit(cache=True, fastmath=True, error_model="numpy")
def _step(opt, hyper, t, flat, grad, m, v):
    """Clip, then one optimizer step; `hyper` has the parameters' dtype, so the arithmetic stays in it."""
    n = flat.shape[0]
    lr, wd, eps, clip = hyper[LR], hyper[WD], hyper[EPS], hyper[CLIP]
    if clip > 0:
        sq = 0.0
        for i in range(n):
            sq += grad[i] * grad[i]
        norm = np.sqrt(sq)
        if norm > clip:
            f = clip / (norm + 1e-12)
            for i in range(n):
                grad[i] *= f
    if wd != 0 and opt != ADAMW:  # L2 penalty in the gradient (AdamW decays the weights instead)
        for i in range(n):
            grad[i] += wd * flat[i]
    if opt == ADAM or opt == ADAMW:
        b1, b2 = hyper[B1], hyper[B2]
        one = b1 / b1
        a = lr / (one - b1 ** t)
        ic2 = one / (one - b2 ** t)
        if opt == ADAMW and wd != 0:
            for i in range(n):
                flat[i] -= lr * wd * flat[i]
        for i in range(n):
            flat[i], m[i], v[i] = _adam(flat[i], grad[i], m[i], v[i], a, ic2, b1, b2, eps, one)
    elif opt == SGD:
        mom = hyper[MOM]
        if mom == 0:
            for i in range(n):
                flat[i] -= lr * grad[i]
        else:
            nesterov = hyper[NEST] != 0
            for i in range(n):
                flat[i], m[i] = _momentum(flat[i], grad[i], m[i], lr, mom, nesterov)
    else:  # RMSPROP
        al, mom = hyper[ALPHA], hyper[MOM]
        one = al / al
        for i in range(n):
            flat[i], m[i], v[i] = _rmsprop(flat[i], grad[i], m[i], v[i], lr, al, mom, eps, one)


@njit(cache=True)
def _batch_forward(X, rows, steps, alphas, flat, ws, aoff, widths):
    """Gather the minibatch `rows` of X into the workspace and run the chain; returns its output block."""
    nb, d, ns = rows.shape[0], X.shape[1], steps.shape[0]
    x0 = ws[0:nb * d].reshape(nb, d)
    for i in range(nb):
        x0[i, :] = X[rows[i]]
    _forward(steps, alphas, flat, ws, aoff, widths, nb)
    return ws[aoff[ns]:aoff[ns] + nb * widths[ns]].reshape(nb, widths[ns])


# reassociation lets LLVM vectorise the sum (5x); no other fast-math flag, since 'nnan'/'ninf' would
# let it assume away the very NaN and infinity the sum is there to find
@njit(cache=True, fastmath={"reassoc", "nsz"})
def _finite_sum(a):
    """Whether every element of `a` is finite: one sum in float64 (a float32's square could overflow),
    which a NaN or an infinity makes non-finite."""
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i]
    return np.isfinite(s)


OK, BAD_LOSS, BAD_GRAD, BAD_STEP = 0, 1, 2, 3  # train_epoch's status


@njit(cache=True)
def train_epoch(X, yi, yf, order, batch, flat, grad, steps, alphas, aoff, widths, loss, last_fused,
                opt, hyper, t0, m, v):
    """One epoch over the rows in `order`; returns (summed loss, correct, optimizer steps taken, status,
    start of the minibatch that stopped it). A NaN or infinite loss (BAD_LOSS) or gradient (BAD_GRAD)
    stops before that minibatch's step, the parameters as they were for its forward pass; a step
    that makes a parameter non-finite (BAD_STEP) stops after it."""
    ws = np.zeros(aoff[-1], flat.dtype)
    gs = np.zeros(aoff[-1], flat.dtype)
    total = 0.0
    correct = 0
    t = t0
    ns = steps.shape[0]
    for start in range(0, order.shape[0], batch):
        rows = order[start:min(start + batch, order.shape[0])]
        nb = rows.shape[0]
        out = _batch_forward(X, rows, steps, alphas, flat, ws, aoff, widths)
        gout = gs[aoff[ns]:aoff[ns] + nb * widths[ns]].reshape(nb, widths[ns])
        lsum, c = _loss(loss, out, yi, yf, rows, nb, gout, 1.0 / nb)
        if not np.isfinite(lsum):
            return total, correct, t, BAD_LOSS, start
        grad[:] = 0
        _backward(steps, alphas, flat, grad, ws, gs, aoff, widths, nb, last_fused)
        if not _finite_sum(grad):
            return total, correct, t, BAD_GRAD, start
        total += lsum
        correct += c
        t += 1
        _step(opt, hyper, t, flat, grad, m, v)
        if not _finite_sum(flat):
            return total, correct, t, BAD_STEP, start
    return total, correct, t, OK, 0


@njit(cache=True)
def evaluate(X, yi, yf, rows, batch, flat, steps, alphas, aoff, widths, loss):
    ws = np.zeros(aoff[-1], flat.dtype)
    g = np.zeros((1, 1), flat.dtype)
    total = 0.0
    correct = 0
    for start in range(0, rows.shape[0], batch):
        rr = rows[start:min(start + batch, rows.shape[0])]
        out = _batch_forward(X, rr, steps, alphas, flat, ws, aoff, widths)
        lsum, c = _loss(loss, out, yi, yf, rr, rr.shape[0], g, 0.0)
        total += lsum
        correct += c
    return total, correct


def workspace_offsets(widths, batch) -> np.ndarray:
    """Start of each step's block in the workspace (`batch` rows each), then the total size."""
    aoff = np.zeros(len(widths) + 1, np.int64)
    for s, w in enumerate(widths):
        aoff[s + 1] = aoff[s] + batch * w
    return aoff
