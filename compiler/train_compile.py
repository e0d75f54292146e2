"""The compiled training path. A model whose body is a chain of dense layers and activations
(`h = relu(dense(x, 32)); return softmax(dense(h, 10))`) becomes a table of steps that the
precompiled whole-epoch kernels of runtime/mlp_kernels.py run: no Python in the inner loop and no
Numba compile per program. Anything else (control flow, other primitives, two uses of a value)
goes to the trace engine (trace_compile.py) or the interpreter's tape, and `plan` says why not here.
"""
from __future__ import annotations

import math

import numpy as np

from . import ir
from .autodiff import param_store
from .device import device_failures
from glia.runtime import mlp_kernels as K
from glia.runtime.errors import GliaRuntimeError

ACTS = {"nn.relu": K.RELU, "nn.sigmoid": K.SIGMOID, "nn.tanh": K.TANH, "tensor.tanh": K.TANH,
        "nn.leaky_relu": K.LEAKY, "nn.elu": K.ELU, "nn.gelu": K.GELU, "nn.silu": K.SILU,
        "nn.softmax": K.SOFTMAX, "nn.log_softmax": K.LOG_SOFTMAX}


class NoPlan(Exception):
    pass


def plan(program: ir.Program, task):
    """(steps, None) for a chain model, else (None, why not)."""
    try:
        return _plan(program.functions[task.fn], task), None
    except NoPlan as e:
        return None, str(e)


def _plan(f: ir.Function, task):
    if len(task.in_t.shape) != 1 or not hasattr(task.out_t, "shape") or len(task.out_t.shape) != 1:
        raise NoPlan("the compiled path takes a vector in and a vector out")
    defs: dict[int, list] = {0: []}
    used: set[int] = set()

    def chain(e) -> list:
        match e:
            case ir.Local(slot):
                if slot not in defs or slot in used:
                    raise NoPlan("a value is used twice (only chains compile)")
                used.add(slot)
                return defs[slot]
            case ir.Prim("layer.dense", (x,), _, _, attrs):
                return chain(x) + [("dense", attrs[0])]
            case ir.Prim(op, (x,), _, _, attrs) if op in ACTS:
                return chain(x) + [("act", ACTS[op], attrs[0] if attrs else 0.0)]
            case ir.Prim(op):
                raise NoPlan(f"'{op}' is not compiled for training yet")
        raise NoPlan(f"the body is not a chain of dense layers and activations ({type(e).__name__})")

    body = f.body
    for k, s in enumerate(body):
        match s:
            case ir.Assign(ir.StoreLocal(slot), value) if k < len(body) - 1:
                defs[slot] = chain(value)  # (`h = relu(dense(h, 32))` reads the old h, then defines a new one)
                used.discard(slot)
            case ir.Return(value) if k == len(body) - 1 and value is not None:
                steps = chain(value)
            case _:
                raise NoPlan(f"the body is not a chain of dense layers and activations ({type(s).__name__})")
    last = steps[-1] if steps else None
    for st in steps[:-1]:
        if st[0] == "act" and st[1] in (K.SOFTMAX, K.LOG_SOFTMAX):
            raise NoPlan("softmax is compiled only as the last step")
    op = task.loss_op
    if op in ("loss.ce_int", "loss.ce_onehot"):
        if not (last and last[0] == "act" and last[1] == K.SOFTMAX):
            raise NoPlan("cross_entropy compiles when the model ends in softmax")
        loss = K.CE_SOFTMAX
    elif op in ("loss.nll_int", "loss.nll_onehot"):
        if not (last and last[0] == "act" and last[1] == K.LOG_SOFTMAX):
            raise NoPlan("nll compiles when the model ends in log_softmax")
        loss = K.NLL_LOGSOFTMAX
    elif op in ("loss.mse", "loss.bce"):
        # any last step (without a sigmoid, binary_cross_entropy of a prediction outside [0, 1] is E506) but
        # softmax and log_softmax, whose backward the kernels have only fused with cross_entropy and nll
        name = "mse" if op == "loss.mse" else "binary_cross_entropy"
        if last and last[0] == "act" and last[1] in (K.SOFTMAX, K.LOG_SOFTMAX):
            raise NoPlan(f"{name} after softmax is not compiled")
        loss = K.MSE if op == "loss.mse" else K.BCE
    else:
        raise NoPlan(f"the loss {op} is not compiled yet")
    return steps, loss


OPT_CODES = {"sgd": K.SGD, "adam": K.ADAM, "adamw": K.ADAMW, "rmsprop": K.RMSPROP}


def hyper_of(opt, clip, dtype) -> np.ndarray:
    """The kernels' hyper-parameter row (mlp_kernels.LR, B1, ...) of a runtime/optim.py optimizer."""
    o = opt
    return np.array([o.lr, getattr(o, "b1", 0.9), getattr(o, "b2", 0.999), getattr(o, "eps", 1e-8), o.weight_decay,
                     getattr(o, "momentum", 0.0), float(getattr(o, "nesterov", False)), getattr(o, "alpha", 0.99),
                     min(clip or 0.0, float(np.finfo(dtype).max))], dtype)  # (a bound past f32's: no bound)


def state_of(opt, dtype) -> tuple[np.ndarray, np.ndarray]:
    """The kernels' (m, v): the optimizer's own buffers, so checkpoints see the state."""
    names = list(opt.bufs)
    m = opt.bufs[names[0]] if names else np.zeros(1, dtype)
    v = opt.bufs[names[1]] if len(names) > 1 else np.zeros(1, dtype)
    return m, v


class CompiledEngine:
    name = "compiled (Numba whole-epoch kernels)"

    def __init__(self, interp, task, opt, clip, the_plan):
        steps, loss = the_plan
        self.interp, self.task, self.opt, self.clip = interp, task, opt, clip
        self.store = param_store(interp)
        offsets = {s.name: s.offset for s in self.store.specs}
        rows, alphas, widths = [], [], [task.in_t.shape[0]]
        for st in steps:
            if st[0] == "dense":
                W = f"{st[1]}.W"
                k, n = self.store.views[W].shape
                rows.append((K.DENSE, offsets[W], offsets[f"{st[1]}.b"], k, n))
                widths.append(n)
                alphas.append(0.0)
            else:
                rows.append((K.ACT, st[1], 0, 0, 0))
                widths.append(widths[-1])
                alphas.append(float(st[2]) if st[2] is not None else 0.0)
        self.steps = np.array(rows, np.int64).reshape(-1, 5)
        self.alphas = np.array(alphas, np.float64)
        self.widths = np.array(widths, np.int64)
        self.loss = loss
        self.last_fused = 1 if loss in (K.CE_SOFTMAX, K.NLL_LOGSOFTMAX) else 0
        dt = self.store.dtype
        y = task.y
        self.yi = y if y.ndim == 1 else np.zeros(0, np.int64)
        self.yf = y.astype(dt).reshape(len(y), -1) if y.ndim > 1 else np.zeros((1, 1), dt)
        self.X = np.ascontiguousarray(task.X.reshape(len(task.X), -1), dtype=dt)
        self.opt_code = OPT_CODES[opt.name]
        self.hyper = hyper_of(opt, clip, dt)
        self.m, self.v = state_of(opt, dt)
        self.aoff_cache: dict[int, np.ndarray] = {}

    def _aoff(self, batch):
        a = self.aoff_cache.get(batch)
        if a is None:
            a = self.aoff_cache[batch] = K.workspace_offsets(self.widths, batch)
        return a

    def epoch(self, order, batch, lr):
        self.hyper[K.LR] = lr
        order = np.ascontiguousarray(order, np.int64)
        total, correct, t, status, stop = K.train_epoch(self.X, self.yi, self.yf, order, batch, self.store.flat,
                                                        self.store.grad, self.steps, self.alphas,
                                                        self._aoff(batch), self.widths, self.loss,
                                                        self.last_fused, self.opt_code, self.hyper, self.opt.t,
                                                        self.m, self.v)
        self.opt.t = int(t)
        if status != K.OK:
            raise self.not_finite(status, order[stop:stop + batch])
        return self._result(total, correct, t, len(order))

    def not_finite(self, status, rows):
        """E702 for the minibatch `rows` that the kernel stopped at. A loss or gradient: the parameters
        are still those of its forward pass, so the minibatch runs again on the interpreter's tape,
        which names the operation and line that first made a NaN or an infinity; a step that made a
        parameter non-finite names the optimizer (it is no operation of the program)."""
        if status == K.BAD_STEP:
            e = GliaRuntimeError("E702", f"the {self.opt.name} step made a parameter NaN or infinite (lower "
                                 "the learning rate, or clip gradients with `clip = 1.0`)")
            e.settings = ("lr", "optimizer")  # the train block's settings it is about, where it has them
            return e
        from .training import TapeEngine

        what = "the loss" if status == K.BAD_LOSS else "a gradient"
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            found = TapeEngine(self.interp, self.task, self.opt, self.clip).locate_nonfinite(rows, what)
        return found or GliaRuntimeError("E702", f"{what} became NaN or infinite in the compiled training loop (lower the "
                                "learning rate, or clip gradients with `clip = 1.0`; --engine tape names the "
                                "operation)")

    def _result(self, total, correct, t, n):
        self.opt.t = int(t)
        if not math.isfinite(total):  # (the CUDA kernels' check, after each epoch)
            raise GliaRuntimeError("E702", "the loss or a parameter became NaN or infinite in this epoch on the "
                                   "device (lower the learning rate, or clip gradients with `clip = 1.0`; "
                                   "--device cpu names the operation)")
        return total / n, self.task.accuracy(correct, n)

    def evaluate(self, rows):
        if len(rows) == 0:
            return math.nan, math.nan
        rows = np.ascontiguousarray(rows, np.int64)
        total, correct = self._evaluate(rows)
        if not math.isfinite(total):  # the interpreter's answer, or its error (E506: binary_cross_entropy of a
            from .training import evaluate  # prediction outside [0, 1], which the kernels count as NaN)

            return evaluate(self.interp, self.task, rows)
        n = len(rows)
        return total / n, self.task.accuracy(correct, n)

    def _evaluate(self, rows):
        return K.evaluate(self.X, self.yi, self.yf, rows, 256, self.store.flat, self.steps, self.alphas,
                          self._aoff(256), self.widths, self.loss)


class CudaEngine(CompiledEngine):
    """The same chain, its data and its parameters on a CUDA device (runtime/cuda_mlp.py): forward,
    backward and the optimizer step as CUDA kernels, one minibatch after another with nothing
    leaving the device until the epoch ends."""

    def __init__(self, interp, task, opt, clip, the_plan, device):
        super().__init__(interp, task, opt, clip, the_plan)
        from glia.runtime.cuda_mlp import DeviceChain

        self.name = f"compiled (CUDA kernels, {device.describe()})"
        with device_failures("copying the model and data to the device"):
            self.chain = DeviceChain(self.steps, self.alphas, self.widths, self.store.flat, self.m, self.v,
                                     self.X, self.yi, self.yf)

    def epoch(self, order, batch, lr):
        self.hyper[K.LR] = lr
        with device_failures("training"):
            total, correct, t = self.chain.epoch(order, batch, self.loss, self.last_fused, self.opt_code,
                                                 self.hyper, self.opt.t)
        finite = np.all(np.isfinite(self.store.flat))  # checked once an epoch here
        if self.loss == K.BCE and finite and not math.isfinite(total):  # a prediction outside [0, 1] (no
            from .training import evaluate  # gradient, so finite parameters): E506 from the interpreter

            evaluate(self.interp, self.task, order)
        if math.isfinite(total) and not finite:
            total = math.nan
        return self._result(total, correct, t, len(order))

    def _evaluate(self, rows):
        with device_failures("evaluation"):
            return self.chain.evaluate(rows, self.loss)
