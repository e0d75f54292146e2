"""The hand-fused Numba baseline: an MLP with one or two ReLU hidden layers, softmax cross-entropy and
Adam, written out by hand as one njit function per epoch (what DESIGN.md §2.1 measured)."""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, fastmath=True)
def _adam(p, g, m, v, lr, t):
    c1 = 1.0 - 0.9 ** t
    c2 = 1.0 - 0.999 ** t
    p, g, m, v = p.reshape(p.size), g.reshape(g.size), m.reshape(m.size), v.reshape(v.size)
    for i in range(p.size):
        m[i] = 0.9 * m[i] + 0.1 * g[i]
        v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
        p[i] -= lr / c1 * m[i] / (np.sqrt(v[i] / c2) + 1e-8)


@njit(cache=True)
def _softmax_grad(z, yb):
    nb, k = z.shape
    correct = 0
    for i in range(nb):
        mx = z[i].max()
        s = 0.0
        for j in range(k):
            z[i, j] = np.exp(z[i, j] - mx)
            s += z[i, j]
        best = 0
        for j in range(k):
            z[i, j] /= s
            if z[i, j] > z[i, best]:
                best = j
        if best == yb[i]:
            correct += 1
        z[i, yb[i]] -= 1.0
    z /= nb
    return correct


@njit(cache=True)
def epoch1(X, y, order, batch, W1, b1, W2, b2, state, lr, t):
    correct = 0
    for s in range(0, order.size, batch):
        idx = order[s:s + batch]
        xb = X[idx]
        yb = y[idx]
        a1 = xb @ W1 + b1
        h1 = np.maximum(a1, 0)
        z = h1 @ W2 + b2
        correct += _softmax_grad(z, yb)
        gW2 = h1.T @ z
        gb2 = z.sum(axis=0)
        g1 = (z @ W2.T) * (a1 > 0)
        gW1 = xb.T @ g1
        gb1 = g1.sum(axis=0)
        t += 1
        _adam(W1, gW1, state[0][0], state[0][1], lr, t)
        _adam(b1, gb1, state[1][0], state[1][1], lr, t)
        _adam(W2, gW2, state[2][0], state[2][1], lr, t)
        _adam(b2, gb2, state[3][0], state[3][1], lr, t)
    return correct, t


@njit(cache=True)
def epoch2(X, y, order, batch, W1, b1, W2, b2, W3, b3, state, lr, t):
    correct = 0
    for s in range(0, order.size, batch):
        idx = order[s:s + batch]
        xb = X[idx]
        yb = y[idx]
        a1 = xb @ W1 + b1
        h1 = np.maximum(a1, 0)
        a2 = h1 @ W2 + b2
        h2 = np.maximum(a2, 0)
        z = h2 @ W3 + b3
        correct += _softmax_grad(z, yb)
        gW3 = h2.T @ z
        gb3 = z.sum(axis=0)
        g2 = (z @ W3.T) * (a2 > 0)
        gW2 = h1.T @ g2
        gb2 = g2.sum(axis=0)
        g1 = (g2 @ W2.T) * (a1 > 0)
        gW1 = xb.T @ g1
        gb1 = g1.sum(axis=0)
        t += 1
        _adam(W1, gW1, state[0][0], state[0][1], lr, t)
        _adam(b1, gb1, state[1][0], state[1][1], lr, t)
        _adam(W2, gW2, state[2][0], state[2][1], lr, t)
        _adam(b2, gb2, state[3][0], state[3][1], lr, t)
        _adam(W3, gW3, state[4][0], state[4][1], lr, t)
        _adam(b3, gb3, state[5][0], state[5][1], lr, t)
    return correct, t


def train_hand(x, y, hidden, epochs, batch, lr, seed):
    rng = np.random.default_rng(seed)
    sizes = [64, *hidden, 10]
    ps = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        lim = np.sqrt(6 / (a + b))
        ps += [rng.uniform(-lim, lim, (a, b)).astype(np.float32), np.zeros(b, np.float32)]
    state = tuple((np.zeros_like(p), np.zeros_like(p)) for p in ps)
    # the same state layout for both depths: a tuple of (m, v) pairs, one per parameter
    t = 0
    correct = 0
    for _ in range(epochs):
        order = rng.permutation(len(x))
        if len(hidden) == 1:
            correct, t = epoch1(x, y, order, batch, *ps, state, np.float32(lr), t)
        else:
            correct, t = epoch2(x, y, order, batch, *ps, state, np.float32(lr), t)
    return correct / len(x)
