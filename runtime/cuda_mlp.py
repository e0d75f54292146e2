"""Training chains of dense layers and activations on a CUDA GPU: the kernels of
runtime/mlp_kernels.py (same step table, workspace layout, losses and optimizers) as numba-cuda
kernels, driven one minibatch at a time from the host while every array stays on the device.

    DeviceChain(steps, alphas, widths, flat, m, v, X, yi, yf)   parameters, optimizer state, data
    .epoch(order, batch, loss, last_fused, opt, hyper, t)        -> (summed loss, correct, t)
    .evaluate(rows, loss)                                        -> (summed loss, correct)

`flat`, `m`, `v` are the host's buffers (the parameter store's, the optimizer's): the device copies
are uploaded when the host's changed (a resumed checkpoint) and downloaded after every epoch, so
checkpoints, early stopping and `prog.params` see what the device computed.

Matrix products are tiled by hand through shared memory (numba-cuda has no cuBLAS): each block
computes a TILE x TILE tile of C, staging tiles of A and B in `cuda.shared.array`s, one declaration
per source line (two on one line share memory in the simulator). Transposes are strides: C = A B,
A^T B and A B^T all go through one kernel. Per-example losses and hits are written to device
arrays and summed once per epoch, so a step needs no transfer at all. Import this module only after
compiler/device.resolve has chosen between the GPU and the simulator.
"""
from __future__ import annotations

import math

import numpy as np
from numba import cuda, float32, float64

from . import act_rules, loss_rules, optim_rules
from .mlp_kernels import (ADAM, ADAMW, ALPHA, B1, B2, BCE, CE_SOFTMAX, CLIP, DENSE, EPS, LOG_SOFTMAX, LR, MOM, MSE,
                          NEST, SGD, SOFTMAX, WD, workspace_offsets)

# The simulator runs every GPU thread as a Python thread: smaller blocks there keep tests quick (and
# with tiny layers still cover several tiles, full and partial).
SIMULATOR = getattr(cuda, "simulator_init", None) is not None
TILE = 4 if SIMULATOR else 16
THREADS = 32 if SIMULATOR else 128

act_value = cuda.jit(device=True)(act_rules.act_value)  # the element rules, shared with mlp_kernels.py
act_slope = cuda.jit(device=True)(act_rules.act_slope)
adam = cuda.jit(device=True)(optim_rules.adam)
momentum = cuda.jit(device=True)(optim_rules.momentum)
rmsprop = cuda.jit(device=True)(optim_rules.rmsprop)
bce = cuda.jit(device=True)(loss_rules.bce)


@cuda.jit(device=True)
def _floored(p):
    """p, or 1e-12 below it; a NaN stays NaN, so the epoch's loss shows it (max may drop a NaN)."""
    return p if not p < 1e-12 else 1e-12


def _grid(n: int) -> int:
    return max(1, (n + THREADS - 1) // THREADS)


def make_kernels(dtype):
    """The kernels for parameters of `dtype` (float32 or float64): shared memory needs its dtype
    when the kernel is compiled, so there is one set per dtype."""
    nbt = float32 if np.dtype(dtype) == np.float32 else float64
    zero = np.dtype(dtype).type(0)
    one = np.dtype(dtype).type(1)
    lo, hi = np.dtype(dtype).type(loss_rules.BCE_LO), np.dtype(dtype).type(loss_rules.BCE_HI)

    @cuda.jit
    def matmul(A, ao, ars, acs, B, bo, brs, bcs, C, co, M, N, K, accumulate, bias, boff, has_bias):
        """C[co + i*N + j] (+)= sum_k A[ao + i*ars + k*acs] * B[bo + k*brs + j*bcs] (+ bias[boff + j])."""
        sa = cuda.shared.array((TILE, TILE), nbt)
        sb = cuda.shared.array((TILE, TILE), nbt)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        row = cuda.blockIdx.y * TILE + ty
        col = cuda.blockIdx.x * TILE + tx
        acc = zero
        for t0 in range(0, K, TILE):
            k = t0 + tx
            if row < M and k < K:
                sa[ty, tx] = A[ao + row * ars + k * acs]
            else:
                sa[ty, tx] = zero
            k = t0 + ty
            if k < K and col < N:
                sb[ty, tx] = B[bo + k * brs + col * bcs]
            else:
                sb[ty, tx] = zero
            cuda.syncthreads()
            for kk in range(TILE):
                acc += sa[ty, kk] * sb[kk, tx]
            cuda.syncthreads()
        if row < M and col < N:
            if has_bias:
                acc += bias[boff + col]
            if accumulate:
                C[co + row * N + col] += acc
            else:
                C[co + row * N + col] = acc

    @cuda.jit
    def gather(X, order, start, nb, d, ws):
        k = cuda.grid(1)
        if k < nb * d:
            i = k // d
            ws[k] = X[order[start + i] * d + k - i * d]

    @cuda.jit
    def fill(a, n, value):
        k = cuda.grid(1)
        if k < n:
            a[k] = value

    @cuda.jit
    def act_forward(code, alpha, ws, xo, yo, nb, m):
        k = cuda.grid(1)
        if code == SOFTMAX or code == LOG_SOFTMAX:  # one thread per row
            if k < nb:
                mx = ws[xo + k * m]
                for j in range(1, m):
                    mx = max(mx, ws[xo + k * m + j])
                s = zero
                for j in range(m):
                    s += math.exp(ws[xo + k * m + j] - mx)
                ls = math.log(s)
                for j in range(m):
                    x = ws[xo + k * m + j] - mx
                    ws[yo + k * m + j] = math.exp(x) / s if code == SOFTMAX else x - ls
            return
        if k < nb * m:
            ws[yo + k] = act_value(code, alpha, ws[xo + k])

    @cuda.jit
    def act_backward(code, alpha, ws, xo, yo, gs, nb, m, fused):
        """gs[xo + k] = gs[yo + k] * f'(x) (or a copy, for the last step fused with the loss)."""
        k = cuda.grid(1)
        if k >= nb * m:
            return
        g = gs[yo + k]
        if fused:
            gs[xo + k] = g
            return
        gs[xo + k] = g * act_slope(code, alpha, ws[xo + k], ws[yo + k])

    @cuda.jit
    def bias_grad(gs, go, nb, n, grad, bo):
        j = cuda.grid(1)
        if j < n:
            s = zero
            for i in range(nb):
                s += gs[go + i * n + j]
            grad[bo + j] += s

    @cuda.jit
    def loss_rows(loss, ws, oo, yi, yf, order, start, nb, m, gs, scale, row_loss, row_hit):
        """Per example: its loss and whether its prediction is right (binary_cross_entropy: how many of its
        outputs are); with scale > 0, the gradient of the mean loss with respect to the chain's output
        (its last pre-activation where softmax/log_softmax is fused with the loss)."""
        i = cuda.grid(1)
        if i >= nb:
            return
        r = order[start + i]
        o = oo + i * m
        best = 0
        for j in range(1, m):
            if ws[o + j] > ws[o + best]:
                best = j
        total = 0.0
        hit = 0
        if loss == BCE:  # hits: the outputs on the same side of 0.5 as their targets
            for j in range(m):
                t = yf[r * m + j]
                if (ws[o + j] > 0.5) == (t > 0.5):
                    hit += 1
                term, slope = bce(ws[o + j], t, lo, hi, one)
                total += term / m
                if scale > 0:
                    gs[o + j] = slope * (scale / m)
        elif loss == MSE:
            for j in range(m):
                d = ws[o + j] - yf[r * m + j]
                total += d * d / m
                if scale > 0:
                    gs[o + j] = 2.0 * d / m * scale
        elif yi.shape[0] > 0:
            lab = yi[r]
            if best == lab:
                hit = 1
            if loss == CE_SOFTMAX:
                total = -math.log(_floored(ws[o + lab]))
            else:
                total = -ws[o + lab]
            if scale > 0:
                for j in range(m):
                    p = ws[o + j] if loss == CE_SOFTMAX else math.exp(ws[o + j])
                    gs[o + j] = (p - (1.0 if j == lab else 0.0)) * scale
        else:
            tb = 0
            for j in range(1, m):
                if yf[r * m + j] > yf[r * m + tb]:
                    tb = j
            if best == tb:
                hit = 1
            tsum = 0.0
            for j in range(m):
                tsum += yf[r * m + j]
                if loss == CE_SOFTMAX:
                    total += -yf[r * m + j] * math.log(_floored(ws[o + j]))
                else:
                    total += -yf[r * m + j] * ws[o + j]
            if scale > 0:
                for j in range(m):
                    p = ws[o + j] if loss == CE_SOFTMAX else math.exp(ws[o + j])
                    gs[o + j] = (p * tsum - yf[r * m + j]) * scale
        row_loss[start + i] = total
        row_hit[start + i] = hit

    @cuda.jit
    def sum_squares(a, n, out):
        """out[0] += sum of a[k]**2 (one partial sum per block, combined with an atomic add)."""
        part = cuda.shared.array(THREADS, float64)
        t = cuda.threadIdx.x
        s = 0.0
        k = cuda.grid(1)
        while k < n:
            s += a[k] * a[k]
            k += cuda.gridsize(1)
        part[t] = s
        cuda.syncthreads()
        step = THREADS // 2
        while step > 0:
            if t < step:
                part[t] += part[t + step]
            cuda.syncthreads()
            step //= 2
        if t == 0:
            cuda.atomic.add(out, 0, part[0])

    @cuda.jit
    def step(opt, hyper, t, flat, grad, m, v, n, sq):
        """Clip (by the global norm in sq[0]), then one optimizer step, one parameter per thread."""
        i = cuda.grid(1)
        if i >= n:
            return
        lr = hyper[LR]
        wd = hyper[WD]
        eps = hyper[EPS]
        clip = hyper[CLIP]
        g = grad[i]
        if clip > 0:
            norm = math.sqrt(sq[0])
            if norm > clip:
                g *= clip / (norm + 1e-12)
        if wd != 0 and opt != ADAMW:
            g += wd * flat[i]
        if opt == ADAM or opt == ADAMW:
            b1 = hyper[B1]
            b2 = hyper[B2]
            w = flat[i]
            if opt == ADAMW and wd != 0:
                w -= lr * wd * w
            flat[i], m[i], v[i] = adam(w, g, m[i], v[i], lr / (one - b1 ** t), one / (one - b2 ** t), b1, b2, eps,
                                       one)
        elif opt == SGD:
            mom = hyper[MOM]
            if mom == 0:
                flat[i] -= lr * g
            else:
                flat[i], m[i] = momentum(flat[i], g, m[i], lr, mom, hyper[NEST] != 0)
        else:  # RMSPROP
            flat[i], m[i], v[i] = rmsprop(flat[i], g, m[i], v[i], lr, hyper[ALPHA], hyper[MOM], eps, one)

    return dict(matmul=matmul, gather=gather, fill=fill, act_forward=act_forward, act_backward=act_backward,
                bias_grad=bias_grad, loss_rows=loss_rows, sum_squares=sum_squares, step=step)


_KERNELS: dict = {}


def kernels(dtype) -> dict:
    key = np.dtype(dtype).name
    if key not in _KERNELS:
        _KERNELS[key] = make_kernels(dtype)
    return _KERNELS[key]


class DeviceChain:
    """A chain model's parameters, optimizer state and data on the device."""

    def __init__(self, steps, alphas, widths, flat, m, v, X, yi, yf):
        self.dtype = flat.dtype
        self.host = (flat, m, v)
        self.last: tuple | None = None  # the host's buffers as last downloaded
        self.k = kernels(self.dtype)
        self.steps = [tuple(int(x) for x in row) for row in steps]
        self.alphas = [self.dtype.type(a) for a in alphas]
        self.widths = [int(w) for w in widths]
        self.n = len(flat)
        self.X = cuda.to_device(np.ascontiguousarray(X).reshape(-1))
        self.d_in = self.widths[0]
        self.yi = cuda.to_device(np.ascontiguousarray(yi, np.int64))
        self.yf = cuda.to_device(np.ascontiguousarray(yf).reshape(-1))
        self.flat = cuda.to_device(flat)
        self.grad = cuda.device_array(self.n, self.dtype)
        self.m, self.v = cuda.to_device(m), cuda.to_device(v)
        self.sq = cuda.device_array(1, np.float64)
        self.ws_for: dict[int, tuple] = {}

    def workspace(self, batch: int):
        got = self.ws_for.get(batch)
        if got is None:
            aoff = [int(a) for a in workspace_offsets(np.array(self.widths, np.int64), batch)]
            got = self.ws_for[batch] = (aoff, cuda.device_array(aoff[-1], self.dtype),
                                        cuda.device_array(aoff[-1], self.dtype))
        return got

    def sync_in(self) -> None:
        """Upload the host's parameters and optimizer state if they changed since the last download."""
        if self.last is None or not all(np.array_equal(a, b) for a, b in zip(self.last, self.host)):
            for d, h in zip((self.flat, self.m, self.v), self.host):
                d.copy_to_device(h)

    def sync_out(self) -> None:
        for d, h in zip((self.flat, self.m, self.v), self.host):
            d.copy_to_host(h)
        self.last = tuple(h.copy() for h in self.host)

    def _mm(self, A, ao, ars, acs, B, bo, brs, bcs, C, co, M, N, K, accumulate, bias=None, boff=0):
        grid = ((N + TILE - 1) // TILE, (M + TILE - 1) // TILE)
        self.k["matmul"][grid, (TILE, TILE)](A, ao, ars, acs, B, bo, brs, bcs, C, co, M, N, K, accumulate,
                                              self.flat if bias is None else bias, boff, bias is not None)

    def forward(self, d_order, start, nb, aoff, ws):
        k = self.k
        d = self.d_in
        k["gather"][_grid(nb * d), THREADS](self.X, d_order, start, nb, d, ws)
        for s, (kind, a, b, kin, n) in enumerate(self.steps):
            xo, yo, w = aoff[s], aoff[s + 1], self.widths[s]
            if kind == DENSE:  # y = x W + b
                self._mm(ws, xo, kin, 1, self.flat, a, n, 1, ws, yo, nb, n, kin, False, self.flat, b)
            else:
                rows = nb if a in (SOFTMAX, LOG_SOFTMAX) else nb * w
                k["act_forward"][_grid(rows), THREADS](a, self.alphas[s], ws, xo, yo, nb, w)

    def backward(self, nb, aoff, ws, gs, last_fused):
        k = self.k
        ns = len(self.steps)
        for s in range(ns - 1, -1, -1):
            kind, a, b, kin, n = self.steps[s]
            xo, yo = aoff[s], aoff[s + 1]
            if kind == DENSE:
                # gW += x^T gy ([kin, nb] x [nb, n]); gb += column sums of gy; gx = gy W^T
                self._mm(ws, xo, 1, kin, gs, yo, n, 1, self.grad, a, kin, n, nb, True)
                k["bias_grad"][_grid(n), THREADS](gs, yo, nb, n, self.grad, b)
                if s > 0:
                    self._mm(gs, yo, n, 1, self.flat, a, 1, n, gs, xo, nb, kin, n, False)
            else:
                w = self.widths[s]
                k["act_backward"][_grid(nb * w), THREADS](a, self.alphas[s], ws, xo, yo, gs, nb, w,
                                                          s == ns - 1 and last_fused)

    def epoch(self, order, batch, loss, last_fused, opt, hyper, t):
        """One epoch over the rows in `order`; returns (summed loss, correct, optimizer steps taken)."""
        self.sync_in()
        k = self.k
        n_rows = len(order)
        d_order = cuda.to_device(np.ascontiguousarray(order, np.int64))
        d_hyper = cuda.to_device(hyper)
        row_loss = cuda.device_array(n_rows, np.float64)
        row_hit = cuda.device_array(n_rows, np.int64)
        aoff, ws, gs = self.workspace(batch)
        ns = len(self.steps)
        m_out = self.widths[-1]
        for start in range(0, n_rows, batch):
            nb = min(batch, n_rows - start)
            self.forward(d_order, start, nb, aoff, ws)
            k["loss_rows"][_grid(nb), THREADS](loss, ws, aoff[ns], self.yi, self.yf, d_order, start, nb, m_out,
                                               gs, 1.0 / nb, row_loss, row_hit)
            k["fill"][_grid(self.n), THREADS](self.grad, self.n, self.dtype.type(0))
            self.backward(nb, aoff, ws, gs, last_fused)
            t += 1
            if hyper[CLIP] > 0:
                k["fill"][1, 1](self.sq, 1, 0.0)
                k["sum_squares"][min(_grid(self.n), 1024), THREADS](self.grad, self.n, self.sq)
            k["step"][_grid(self.n), THREADS](opt, d_hyper, t, self.flat, self.grad, self.m, self.v, self.n, self.sq)
        self.sync_out()
        losses = row_loss.copy_to_host()
        return float(losses.sum()), int(row_hit.copy_to_host().sum()), t

    def evaluate(self, rows, loss, batch: int = 256):
        self.sync_in()
        k = self.k
        d_rows = cuda.to_device(np.ascontiguousarray(rows, np.int64))
        row_loss = cuda.device_array(len(rows), np.float64)
        row_hit = cuda.device_array(len(rows), np.int64)
        aoff, ws, gs = self.workspace(batch)
        ns = len(self.steps)
        for start in range(0, len(rows), batch):
            nb = min(batch, len(rows) - start)
            self.forward(d_rows, start, nb, aoff, ws)
            k["loss_rows"][_grid(nb), THREADS](loss, ws, aoff[ns], self.yi, self.yf, d_rows, start, nb,
                                               self.widths[-1], gs, 0.0, row_loss, row_hit)
        return float(row_loss.copy_to_host().sum()), int(row_hit.copy_to_host().sum())
