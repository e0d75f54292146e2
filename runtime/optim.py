"""Optimizers, learning-rate schedules and gradient clipping over a flat parameter buffer.

Each optimizer updates `flat` in place from `grad` (same layout, runtime/params.py) and keeps its
state in flat arrays too, so a checkpoint is a handful of arrays. `state()`/`load_state()` round-trip
that state exactly (resuming after a kill continues the same trajectory).
"""
from __future__ import annotations

import math

import numpy as np

from .errors import VALUE, fail


class Optimizer:
    name = "?"

    def __init__(self, n: int, dtype, lr: float = 1e-3, weight_decay: float = 0.0):
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.t = 0
        self.bufs = {k: np.zeros(n, dtype) for k in self.buffers}

    buffers: tuple[str, ...] = ()

    def state(self) -> dict:
        return {"t": np.array(self.t), **{f"buf.{k}": v for k, v in self.bufs.items()}}

    def load_state(self, st: dict) -> None:
        self.t = int(st["t"])
        for k in self.bufs:
            self.bufs[k][...] = st[f"buf.{k}"]

    def step(self, flat, grad, lr):
        self.t += 1
        self.update(flat, grad, lr)


class SGD(Optimizer):
    name = "sgd"
    buffers = ("v",)

    def __init__(self, n, dtype, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(n, dtype, lr, weight_decay)
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        if self.nesterov and self.momentum <= 0:
            fail(VALUE, "sgd(nesterov=True) needs a momentum > 0")

    def update(self, flat, grad, lr):
        g = grad + self.weight_decay * flat if self.weight_decay else grad
        if self.momentum:
            v = self.bufs["v"]
            v *= self.momentum
            v += g
            g = g + self.momentum * v if self.nesterov else v
        flat -= lr * g


class Adam(Optimizer):
    name = "adam"
    buffers = ("m", "v")
    decoupled = False

    def __init__(self, n, dtype, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        super().__init__(n, dtype, lr, weight_decay)
        self.b1, self.b2, self.eps = float(beta1), float(beta2), float(eps)

    def update(self, flat, grad, lr):
        g = grad
        if self.weight_decay and not self.decoupled:
            g = grad + self.weight_decay * flat
        m, v = self.bufs["m"], self.bufs["v"]
        m *= self.b1
        m += (1 - self.b1) * g
        v *= self.b2
        v += (1 - self.b2) * g * g
        c1 = 1 - self.b1 ** self.t
        c2 = 1 - self.b2 ** self.t
        if self.weight_decay and self.decoupled:
            flat -= lr * self.weight_decay * flat
        flat -= (lr / c1) * m / (np.sqrt(v / c2) + self.eps)


class AdamW(Adam):
    name = "adamw"
    decoupled = True

    def __init__(self, n, dtype, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        super().__init__(n, dtype, lr, beta1, beta2, eps, weight_decay)


class RMSprop(Optimizer):
    name = "rmsprop"
    buffers = ("sq", "v")

    def __init__(self, n, dtype, lr=1e-2, alpha=0.99, eps=1e-8, momentum=0.0, weight_decay=0.0):
        super().__init__(n, dtype, lr, weight_decay)
        self.alpha, self.eps, self.momentum = float(alpha), float(eps), float(momentum)

    def update(self, flat, grad, lr):
        g = grad + self.weight_decay * flat if self.weight_decay else grad
        sq = self.bufs["sq"]
        sq *= self.alpha
        sq += (1 - self.alpha) * g * g
        step = g / (np.sqrt(sq) + self.eps)
        if self.momentum:
            v = self.bufs["v"]
            v *= self.momentum
            v += step
            step = v
        flat -= lr * step


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}


def optimizer_settings(name: str) -> list[str]:
    """The settings an optimizer takes (`adam(lr=..., beta1=...)`): its constructor's keywords."""
    import inspect

    return [p for p in inspect.signature(OPTIMIZERS[name].__init__).parameters if p not in ("self", "n", "dtype")]


def make_optimizer(name: str, n: int, dtype, **kw) -> Optimizer:
    cls = OPTIMIZERS.get(name)
    if cls is None:
        fail(VALUE, f"unknown optimizer '{name}'; expected one of {', '.join(OPTIMIZERS)}")
    allowed = optimizer_settings(name)
    for k in kw:
        if k not in allowed:
            fail(VALUE, f"{name}() has no setting '{k}'; it takes {', '.join(allowed)}")
    return cls(n, dtype, **kw)


# ---- learning-rate schedules: lr at an epoch (0-based) ----------------------------------------------

SCHEDULES = ("constant", "step", "exponential", "cosine", "warmup_cosine")


def schedule_lr(kind: str, base: float, epoch: int, epochs: int, **kw) -> float:
    if kind == "constant":
        return base
    if kind == "step":
        return base * float(kw.get("gamma", 0.5)) ** (epoch // int(kw.get("every", 10)))
    if kind == "exponential":
        return base * float(kw.get("gamma", 0.95)) ** epoch
    if kind == "cosine":
        return base * 0.5 * (1 + math.cos(math.pi * epoch / max(1, epochs)))
    if kind == "warmup_cosine":
        w = int(kw.get("warmup", 1))
        if epoch < w:
            return base * (epoch + 1) / (w + 1)
        return base * 0.5 * (1 + math.cos(math.pi * (epoch - w) / max(1, epochs - w)))
    fail(VALUE, f"unknown schedule '{kind}'; expected one of {', '.join(SCHEDULES)}")


def clip_grad_norm(grad: np.ndarray, max_norm: float) -> float:
    """Scale `grad` in place so its L2 norm is at most `max_norm`; returns the norm before."""
    norm = float(np.sqrt(np.dot(grad.astype(np.float64), grad.astype(np.float64))))
    if max_norm > 0 and norm > max_norm:
        grad *= max_norm / (norm + 1e-12)
    return norm
