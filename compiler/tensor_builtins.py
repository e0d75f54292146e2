"""Typing of the differentiable-programming builtins: tensor shape operations, activations, losses,
layers and `grad`. The checker's `BuiltinTyper` hands every name of `TENSOR_FUNCS` here.

Shapes are static: every rule computes its result shape from its operands' shapes and refuses a
mismatch with E301 naming both. A layer call site owns its parameters: the checker numbers the sites
of each layer kind per function (`digit.dense#1`), and the primitive carries the site's name and the
shapes of its parameters in its `attrs` (site, ((param, shape, init), ...), static operands...).
"""
from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING

from . import ast as A
from . import ir
from .diagnostics import a_or_an
from .types import F32, FLOAT, INT, DictT, FnT, ListT, SetT, StructT, TensorT, TParam, TupleT, TVar
from glia.runtime.tensor_ops import BN_EPS, BN_MOMENTUM, NO_BATCH

if TYPE_CHECKING:
    from .builtins import BuiltinTyper

ACTIVATIONS = ("relu", "leaky_relu", "elu", "gelu", "silu", "swish", "sigmoid", "softmax", "log_softmax")
LOSSES = ("mse", "mae", "binary_cross_entropy", "cross_entropy", "nll")
LAYERS = ("dense", "embedding", "rnn_cell", "gru_cell", "lstm_cell", "layer_norm", "batch_norm", "dropout", "conv1d",
          "conv2d")
TENSOR_FUNCS = ("concat", "stack", "reshape", "flatten", "transpose", "arange", "argmax", "where", "grad",
                "max_pool", "avg_pool",
                "value_and_grad") + ACTIVATIONS + LOSSES + LAYERS
INITS = ("glorot", "he", "zeros", "normal")


def _kind(dt) -> str:
    return "f32" if dt == F32 else "float"


class TensorTyper:
    def __init__(self, b: "BuiltinTyper"):
        self.b = b
        self.c = b.c
        self.sites: dict[tuple[str, str], int] = {}

    # ---- helpers ------------------------------------------------------------------------------
    def err(self, code, msg, span):
        return self.b.err(code, msg, span)

    def tensor(self, e, what, span, rank=None) -> tuple[ir.Expr, TensorT]:
        v = self.c.expr(e)
        t = self.c.subst.zonk(v.type)
        if isinstance(t, TVar):
            raise self.err("E205", f"the type of {what} is not known yet; annotate it", span)
        if not isinstance(t, TensorT):
            raise self.err("E201", f"{what} must be a tensor, found {t}", span)
        if rank is not None and len(t.shape) not in rank:
            want = " or ".join(f"{r}-dimensional" for r in rank)
            raise self.err("E301", f"{what} must be {want}, found {t}", span)
        return v, t

    def const_int(self, e, what, lo=1):
        return self.c.static_choice(e, lambda x: self._const_int(x, what, lo))

    def _const_int(self, e, what, lo):
        neg = isinstance(e, A.UnaryOp) and e.op == "-" and isinstance(e.operand, A.IntLit)
        if neg:
            val = -e.operand.value
        elif isinstance(e, A.IntLit):
            val = e.value
        else:
            raise self.err("E301", f"{what} must be an integer constant (tensor shapes are static)", e.span)
        if val < lo:
            raise self.err("E301", f"{what} must be at least {lo}, found {val}", e.span)
        return val

    def const_float(self, e, what):
        return self.c.static_choice(e, lambda x: self._const_float(x, what))

    def _const_float(self, e, what):
        neg = isinstance(e, A.UnaryOp) and e.op == "-"
        inner = e.operand if neg else e
        if not isinstance(inner, (A.IntLit, A.FloatLit)):
            raise self.err("E201", f"{what} must be a number constant", e.span)
        return -float(inner.value) if neg else float(inner.value)

    def static(self, d, t, span, what):
        if not isinstance(d, int):
            raise self.err("E301", f"{what} needs a known size, but {t} has dimension '{d}' (name a number, "
                           "e.g. f32[64], where a layer's parameters depend on it)", span)
        return d

    def dtype(self, kw):
        """The `dtype=f32|f64` keyword (f32 when absent)."""
        if "dtype" not in kw:
            return F32
        d = kw["dtype"]
        if not isinstance(d, A.Name) or d.id not in ("f32", "f64", "float"):
            raise self.err("E201", "dtype is f32 or f64", d.span)
        return F32 if d.id == "f32" else FLOAT

    def site(self, layer: str) -> str:
        fn = self.c.cur_fn or "global"
        k = self.sites.get((fn, layer), 0) + 1
        self.sites[(fn, layer)] = k
        return f"{fn}.{layer}#{k}"

    def scalar_or_tensor(self, c, name):
        self.b.nargs(c, 1, 1, name)
        v = self.c.expr(c.args[0])
        t = self.c.subst.zonk(v.type)
        if t == INT:
            v, t = self.b.convert(v, FLOAT), FLOAT
        if not (isinstance(t, TensorT) or t in (FLOAT, F32)):
            raise self.err("E201", f"{name} takes a float or a tensor, found {t}", c.args[0].span)
        return v, t

    # ---- shape operations ----------------------------------------------------------------------
    def b_concat(self, c, expected):
        kw = self.b.kwargs(c, ("axis",), "concat")
        if len(c.args) < 1:
            raise self.err("E202", "concat takes one or more tensors", c.span)
        parts = [self.tensor(a, "each argument of concat", a.span) for a in c.args]
        t0 = parts[0][1]
        axis = self.const_int(kw["axis"], "axis", lo=-len(t0.shape)) if "axis" in kw else 0
        rank = len(t0.shape)
        if not -rank <= axis < rank:
            raise self.err("E301", f"axis {axis} out of range for {t0}", c.span)
        axis %= rank
        total = 0
        for (v, t), a in zip(parts, c.args):
            if t.dtype != t0.dtype or len(t.shape) != rank:
                raise self.err("E301", f"concat needs tensors of one dtype and rank: {t0} and {t}", a.span)
            for d in range(rank):
                if d != axis and not self.c.subst.unify(t.shape[d], t0.shape[d]):
                    raise self.err("E301", f"tensor shape mismatch in concat: {t0} and {t} (dimension {d})", a.span)
            total += self.static(t.shape[axis], t, a.span, "concat")
        shape = t0.shape[:axis] + (total,) + t0.shape[axis + 1:]
        return ir.Prim("tensor.concat", tuple(v for v, _ in parts) + (ir.Const(axis, INT, c.span),),
                       TensorT(t0.dtype, shape), c.span)

    def b_stack(self, c, expected):
        self.b.kwargs(c, (), "stack")
        if not c.args:
            raise self.err("E202", "stack takes one or more tensors (a list's length is not static: pass them "
                           "one by one)", c.span)
        parts = [self.tensor(a, "each argument of stack", a.span) for a in c.args]
        t0 = parts[0][1]
        for (v, t), a in zip(parts, c.args):
            if not self.c.subst.unify(t, t0):
                raise self.err("E301", f"stack needs tensors of one shape: {t0} and {t}", a.span)
        return ir.Prim("tensor.stack", tuple(v for v, _ in parts), TensorT(t0.dtype, (len(parts),) + t0.shape),
                       c.span)

    def b_reshape(self, c, expected):
        self.b.kwargs(c, (), "reshape")
        if len(c.args) < 2:
            raise self.err("E202", "reshape takes a tensor and its new dimensions: reshape(x, 8, 8)", c.span)
        v, t = self.tensor(c.args[0], "the argument of reshape", c.args[0].span)
        n = prod(self.static(d, t, c.span, "reshape") for d in t.shape)
        dims = [self.const_int(a, "a dimension", lo=-1) for a in c.args[1:]]
        if dims.count(-1) > 1 or 0 in dims:
            raise self.err("E301", "reshape takes positive dimensions and at most one -1", c.span)
        known = prod(d for d in dims if d != -1)
        if -1 in dims:
            if n % known:
                raise self.err("E301", f"cannot reshape {t} ({n} elements) into {dims}", c.span)
            dims[dims.index(-1)] = n // known
        if prod(dims) != n:
            raise self.err("E301", f"cannot reshape {t} ({n} elements) into {tuple(dims)} ({prod(dims)} elements)",
                           c.span)
        return ir.Prim("tensor.reshape", (v,), TensorT(t.dtype, tuple(dims)), c.span, (tuple(dims),))

    def b_flatten(self, c, expected):
        self.b.nargs(c, 1, 1, "flatten")
        v, t = self.tensor(c.args[0], "the argument of flatten", c.args[0].span)
        n = prod(self.static(d, t, c.span, "flatten") for d in t.shape)
        return ir.Prim("tensor.reshape", (v,), TensorT(t.dtype, (n,)), c.span, ((n,),))

    def b_transpose(self, c, expected):
        self.b.nargs(c, 1, 1, "transpose")
        v, t = self.tensor(c.args[0], "the argument of transpose", c.args[0].span, rank=(2,))
        return ir.Prim("tensor.transpose", (v,), TensorT(t.dtype, t.shape[::-1]), c.span)

    def b_arange(self, c, expected):
        kw = self.b.kwargs(c, ("dtype",), "arange")
        self.b.nargs(c, 1, 1, "arange")
        n = self.const_int(c.args[0], "arange's length")
        dt = self.dtype(kw)
        return ir.Prim("tensor.arange", (), TensorT(dt, (n,)), c.span, (n, _kind(dt)))

    def b_argmax(self, c, expected):
        self.b.nargs(c, 1, 1, "argmax")
        v, t = self.tensor(c.args[0], "the argument of argmax", c.args[0].span, rank=(1,))
        return ir.Prim("tensor.argmax", (v,), INT, c.span)

    def b_where(self, c, expected):
        self.b.nargs(c, 3, 3, "where")
        cv, ct = self.tensor(c.args[0], "where's condition", c.args[0].span)
        a, b = self.c.expr(c.args[1]), self.c.expr(c.args[2])
        shape = ct.shape  # the result broadcasts the condition and both choices
        for x, e in ((a, c.args[1]), (b, c.args[2])):
            xt = self.c.subst.zonk(x.type)
            if isinstance(xt, TensorT):
                if xt.dtype != ct.dtype:
                    raise self.err("E203", f"where mixes {ct} and {xt}; convert one side", e.span)
                shape = self.b.broadcast(shape, xt.shape, TensorT(ct.dtype, shape), xt, e.span)
            elif xt not in (INT, FLOAT, F32):
                raise self.err("E201", f"where takes tensors or numbers, found {xt}", e.span)
        a = self.b.convert(a, ct.dtype) if self.c.subst.zonk(a.type) in (INT, FLOAT, F32) else a
        b = self.b.convert(b, ct.dtype) if self.c.subst.zonk(b.type) in (INT, FLOAT, F32) else b
        return ir.Prim("tensor.where", (cv, a, b), TensorT(ct.dtype, shape), c.span)

    def reduce(self, how, seq, t, c, kw):
        """sum/mean/min/max of a tensor; with axis=k a tensor of one rank less."""
        if "axis" not in kw:
            return ir.Prim(f"tensor.{how}", (seq,), t.dtype, c.span)
        rank = len(t.shape)
        axis = self.const_int(kw["axis"], "axis", lo=-rank)
        if axis >= rank:
            raise self.err("E301", f"axis {axis} out of range for {t}", kw["axis"].span)
        axis %= rank
        rest = t.shape[:axis] + t.shape[axis + 1:]
        return ir.Prim("tensor.reduce", (seq,), TensorT(t.dtype, rest) if rest else t.dtype, c.span, (how, axis))

    def compare(self, op, l, r, span):
        """`a < b` with a tensor operand: an element-wise 0/1 tensor (no gradient flows through it)."""
        tl, tr = self.c.subst.zonk(l.type), self.c.subst.zonk(r.type)
        names = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne"}
        if op not in names:
            raise self.err("E203", f"'{op}' is not defined for tensors", span)
        ten = tl if isinstance(tl, TensorT) else tr
        if isinstance(tl, TensorT) and isinstance(tr, TensorT):
            if tl.dtype != tr.dtype:
                raise self.err("E203", f"'{op}' mixes {tl} and {tr}", span)
            shape = self.b.broadcast(tl.shape, tr.shape, tl, tr, span)
        else:
            other, ot = (r, tr) if ten is tl else (l, tl)
            if ot not in (INT, FLOAT, F32):
                raise self.err("E203", f"cannot compare {tl} with {tr}", span)
            conv = self.b.convert(other, ten.dtype)
            l, r = (l, conv) if ten is tl else (conv, r)
            shape = ten.shape
        return ir.Prim(f"tensor.{names[op]}", (l, r), TensorT(ten.dtype, shape), span)

    def slice(self, cont, t, index, span):
        if len(t.shape) < 1 or index.step is not None:
            raise self.err("E301", "a tensor slice is x[a:b] with constant bounds (no step)", index.span)
        n = self.static(t.shape[0], t, span, "slicing")
        lo = self.const_int(index.lo, "a slice bound", lo=-n) if index.lo is not None else 0
        hi = self.const_int(index.hi, "a slice bound", lo=-n) if index.hi is not None else n
        lo, hi = slice(lo, hi).indices(n)[:2]
        if hi <= lo:
            raise self.err("E301", f"the slice [{lo}:{hi}] of {t} is empty", index.span)
        return ir.Prim("tensor.slice", (cont, ir.Const(lo, INT, span), ir.Const(hi, INT, span)),
                       TensorT(t.dtype, (hi - lo,) + t.shape[1:]), span)

    # ---- activations ---------------------------------------------------------------------------
    def activation(self, name, c):
        alpha = {"leaky_relu": 0.01, "elu": 1.0}.get(name)
        kw = self.b.kwargs(c, ("alpha",) if alpha is not None else (), name)
        v, t = self.scalar_or_tensor(c, name)
        if name in ("softmax", "log_softmax") and not isinstance(t, TensorT):
            raise self.err("E201", f"{name} takes a tensor (it normalises over the last axis), found {t}", c.span)
        op = "silu" if name == "swish" else name
        attrs = (self.const_float(kw["alpha"], "alpha") if "alpha" in kw else alpha,) if alpha is not None else ()
        return ir.Prim(f"nn.{op}", (v,), t, c.span, attrs)

    # ---- losses --------------------------------------------------------------------------------
    def loss(self, name, c):
        self.b.kwargs(c, (), name)
        self.b.nargs(c, 2, 2, name)
        p, pt = self.tensor(c.args[0], f"the prediction of {name}", c.args[0].span)
        tv = self.c.expr(c.args[1], pt)
        tt = self.c.subst.zonk(tv.type)
        if name in ("cross_entropy", "nll"):
            base = "ce" if name == "cross_entropy" else "nll"
            if tt == INT:
                if len(pt.shape) != 1:
                    raise self.err("E301", f"{name} with a class label takes a vector of class scores, found {pt}",
                                   c.args[0].span)
                return ir.Prim(f"loss.{base}_int", (p, tv), pt.dtype, c.span)
            op = f"loss.{base}_onehot"
        else:
            op = {"mse": "loss.mse", "mae": "loss.mae", "binary_cross_entropy": "loss.bce"}[name]
        if not self.c.subst.unify(tt, pt):
            extra = " or an int class label" if name in ("cross_entropy", "nll") else ""
            raise self.err("E301", f"{name}'s target must have the prediction's type {pt}{extra}, found {tt}",
                           c.args[1].span)
        return ir.Prim(op, (p, tv), pt.dtype, c.span)

    # ---- layers --------------------------------------------------------------------------------
    def init_kw(self, kw, default):
        if "init" not in kw:
            return default
        e = kw["init"]
        if not isinstance(e, A.StrLit) or e.value not in INITS:
            raise self.err("E201", f"init is one of {', '.join(repr(i) for i in INITS)}", e.span)
        return e.value

    def b_dense(self, c, expected):
        kw = self.b.kwargs(c, ("init",), "dense")
        self.b.nargs(c, 2, 2, "dense")
        x, t = self.tensor(c.args[0], "dense's input", c.args[0].span, rank=(1, 2))
        k = self.static(t.shape[-1], t, c.args[0].span, "dense")
        n = self.const_int(c.args[1], "dense's output size")
        init = self.init_kw(kw, "glorot")
        params = (("W", (k, n), init), ("b", (n,), "zeros"))
        return ir.Prim("layer.dense", (x,), TensorT(t.dtype, t.shape[:-1] + (n,)), c.span,
                       (self.site("dense"), params))

    def b_embedding(self, c, expected):
        kw = self.b.kwargs(c, ("dtype",), "embedding")
        self.b.nargs(c, 3, 3, "embedding")
        i = self.b.arg(c.args[0], INT)
        vocab = self.const_int(c.args[1], "the vocabulary size")
        dim = self.const_int(c.args[2], "the embedding size")
        dt = self.dtype(kw)
        params = (("E", (vocab, dim), "normal"),)
        return ir.Prim("layer.embedding", (i,), TensorT(dt, (dim,)), c.span, (self.site("embedding"), params))

    def cell_args(self, c, name, n_state):
        self.b.kwargs(c, (), name)
        self.b.nargs(c, 1 + n_state, 1 + n_state, name)
        x, xt = self.tensor(c.args[0], f"{name}'s input", c.args[0].span, rank=(1,))
        states = [self.tensor(a, f"{name}'s state", a.span, rank=(1,)) for a in c.args[1:]]
        ht = states[0][1]
        for (v, t), a in zip(states, c.args[1:]):
            if t != ht or t.dtype != xt.dtype:
                raise self.err("E301", f"{name}'s input and states must share a dtype and the states a shape: "
                               f"{xt} and {t}", a.span)
        k = self.static(xt.shape[0], xt, c.args[0].span, name)
        h = self.static(ht.shape[0], ht, c.args[1].span, name)
        return x, [v for v, _ in states], xt, ht, k, h

    def b_rnn_cell(self, c, expected):
        x, (h,), xt, ht, k, n = self.cell_args(c, "rnn_cell", 1)
        params = (("Wx", (k, n), "glorot"), ("Wh", (n, n), "glorot"), ("b", (n,), "zeros"))
        return ir.Prim("layer.rnn_cell", (x, h), ht, c.span, (self.site("rnn_cell"), params))

    def b_gru_cell(self, c, expected):
        x, (h,), xt, ht, k, n = self.cell_args(c, "gru_cell", 1)
        params = (("Wx", (k, 3 * n), "glorot"), ("Wh", (n, 3 * n), "glorot"), ("bx", (3 * n,), "zeros"),
                  ("bh", (3 * n,), "zeros"))
        return ir.Prim("layer.gru_cell", (x, h), ht, c.span, (self.site("gru_cell"), params))

    def b_lstm_cell(self, c, expected):
        x, (h, cs), xt, ht, k, n = self.cell_args(c, "lstm_cell", 2)
        params = (("Wx", (k, 4 * n), "glorot"), ("Wh", (n, 4 * n), "glorot"), ("b", (4 * n,), "lstm_bias"))
        return ir.Prim("layer.lstm_cell", (x, h, cs), TupleT((ht, ht)), c.span, (self.site("lstm_cell"), params))

    def b_layer_norm(self, c, expected):
        self.b.nargs(c, 1, 1, "layer_norm")
        x, t = self.tensor(c.args[0], "layer_norm's input", c.args[0].span)
        n = self.static(t.shape[-1], t, c.args[0].span, "layer_norm")
        params = (("g", (n,), "ones"), ("b", (n,), "zeros"))
        return ir.Prim("layer.layer_norm", (x,), t, c.span, (self.site("layer_norm"), params))

    def b_batch_norm(self, c, expected):
        """batch_norm(x, momentum=0.1, eps=1e-5), x: f[b, k]. attrs: (site, params, running statistics
        (not trained; the same triples as params), momentum, eps)."""
        kw = self.b.kwargs(c, ("momentum", "eps"), "batch_norm")
        self.b.nargs(c, 1, 1, "batch_norm")
        x, t = self.tensor(c.args[0], "batch_norm's input", c.args[0].span)
        if len(t.shape) == 1:
            raise self.err(NO_BATCH, f"batch_norm normalises each feature over a batch, so its input is f[b, k] "
                           f"(b rows, the examples of a batch); found {t}, which has no batch dimension. Write the "
                           "model over a batch, e.g. def digit(x: f32[n, 64]) -> f32[n, 10] (docs/training.md)",
                           c.args[0].span)
        if len(t.shape) != 2:
            raise self.err("E301", f"batch_norm's input must be 2-dimensional, f[b, k], found {t}", c.args[0].span)
        k = self.static(t.shape[1], t, c.args[0].span, "batch_norm")
        momentum = self.const_float(kw["momentum"], "momentum") if "momentum" in kw else BN_MOMENTUM
        eps = self.const_float(kw["eps"], "eps") if "eps" in kw else BN_EPS
        if not 0 <= momentum <= 1:
            raise self.err("E201", f"batch_norm's momentum must be in [0, 1], found {momentum}", kw["momentum"].span)
        if eps <= 0:
            raise self.err("E201", f"batch_norm's eps must be positive, found {eps}", kw["eps"].span)
        params = (("gamma", (k,), "ones"), ("beta", (k,), "zeros"))
        running = (("running_mean", (k,), "zeros"), ("running_var", (k,), "ones"))
        return ir.Prim("layer.batch_norm", (x,), t, c.span, (self.site("batch_norm"), params, running, momentum, eps))

    def b_dropout(self, c, expected):
        self.b.nargs(c, 2, 2, "dropout")
        x, t = self.tensor(c.args[0], "dropout's input", c.args[0].span)
        p = self.const_float(c.args[1], "the dropout probability")
        if not 0 <= p < 1:
            raise self.err("E201", f"the dropout probability must be in [0, 1), found {p}", c.args[1].span)
        return ir.Prim("layer.dropout", (x,), t, c.span, (self.site("dropout"), (), p))

    def b_conv1d(self, c, expected):
        return self.conv(c, "conv1d", 2)

    def b_conv2d(self, c, expected):
        return self.conv(c, "conv2d", 3)

    def conv(self, c, name, rank):
        """conv1d(x: [C, L], out, k, stride=1, padding=0); conv2d(x: [C, H, W], out, k, ...): channels
        first, square kernels."""
        kw = self.b.kwargs(c, ("stride", "padding"), name)
        self.b.nargs(c, 3, 3, name)
        x, t = self.tensor(c.args[0], f"{name}'s input (channels first)", c.args[0].span, rank=(rank,))
        dims = [self.static(d, t, c.args[0].span, name) for d in t.shape]
        o = self.const_int(c.args[1], "the number of output channels")
        k = self.const_int(c.args[2], "the kernel size")
        stride = self.const_int(kw["stride"], "stride") if "stride" in kw else 1
        pad = self.const_int(kw["padding"], "padding", lo=0) if "padding" in kw else 0
        spatial = [(d + 2 * pad - k) // stride + 1 for d in dims[1:]]
        if min(spatial) < 1:
            raise self.err("E301", f"{name}: a kernel of {k} does not fit in {t} with padding {pad}", c.span)
        wshape = (o, dims[0]) + (k,) * (rank - 1)
        params = (("W", wshape, "conv"), ("b", (o,), "zeros"))
        return ir.Prim(f"layer.{name}", (x,), TensorT(t.dtype, (o, *spatial)), c.span,
                       (self.site(name), params, stride, pad))

    def b_max_pool(self, c, expected):
        return self.pool(c, "max_pool")

    def b_avg_pool(self, c, expected):
        return self.pool(c, "avg_pool")

    def pool(self, c, name):
        """max_pool(x, k) / avg_pool(x, k): windows of k (k x k for [C, H, W]), stride k, channels first."""
        self.b.kwargs(c, (), name)
        self.b.nargs(c, 2, 2, name)
        x, t = self.tensor(c.args[0], f"{name}'s input (channels first)", c.args[0].span, rank=(2, 3))
        dims = [self.static(d, t, c.args[0].span, name) for d in t.shape]
        k = self.const_int(c.args[1], "the pool size")
        if min(dims[1:]) < k:
            raise self.err("E301", f"{name}: a window of {k} does not fit in {t}", c.span)
        return ir.Prim(f"tensor.{name}", (x,), TensorT(t.dtype, (dims[0], *[d // k for d in dims[1:]])), c.span, (k,))

    # ---- gradients -----------------------------------------------------------------------------
    def b_grad(self, c, expected):
        return self.grad("grad", c)

    def b_value_and_grad(self, c, expected):
        return self.grad("value_and_grad", c)

    def grad(self, which, c):
        self.b.kwargs(c, (), which)
        self.b.nargs(c, 1, 1, which)
        f = c.args[0]
        if not isinstance(f, A.Name) or f.id not in self.c.sigs or self.c.scope.lookup(f.id) is not None:
            raise self.err("E201", f"{which} takes the name of a function defined with def, e.g. {which}(loss)",
                           f.span)
        sig = self.c.sigs[f.id]
        if sig.type_params:
            raise self.err("E201", f"{which} needs a function without type parameters", f.span)
        self.c.use_function(f.id)
        ft = sig.type
        if not ft.params:
            raise self.err("E202", f"{which}: {f.id} has no parameter to differentiate with respect to", f.span)
        if ft.ret not in (FLOAT, F32):
            raise self.err("E201", f"{which} needs a function returning a float or f32 scalar (the value to "
                           f"differentiate); {f.id} returns {ft.ret}", f.span)
        wrt = ft.params[0]
        if not differentiable_arg(wrt, self.c.structs) and differentiable_arg(wrt, self.c.structs, again=True):
            raise self.err("E201", f"{which} cannot differentiate with respect to {f.id}'s first parameter, {a_or_an(wrt)}: "
                           "it holds a struct that holds itself (a tree); differentiate with respect to the "
                           "weights the tree is used with", f.span)
        if not differentiable_arg(wrt, self.c.structs):
            raise self.err("E201", f"{which} differentiates with respect to the first parameter, which must hold "
                           f"only floats and tensors (through lists, tuples and struct fields); {f.id}'s is {wrt}",
                           f.span)
        ft = self.c.instantiate(sig)  # its dimension names bound at the call, as a call of f binds them
        ret = ft.params[0] if which == "grad" else TupleT((ft.ret, ft.params[0]))
        return ir.Prim("ad.grad", (), FnT(ft.params, ret), c.span, (f.id, which))


def layer_state(p: ir.Prim) -> tuple:
    """The non-trained state a layer site owns ((name, shape, init), ...): batch_norm's running statistics."""
    return p.attrs[2] if p.op == "layer.batch_norm" else ()


def differentiable(t) -> bool:
    """Types whose values carry a gradient: floats, tensors, and lists/tuples of them."""
    if t in (FLOAT, F32) or isinstance(t, TensorT):
        return True
    if isinstance(t, ListT):
        return differentiable(t.elem)
    if isinstance(t, TupleT):
        return all(differentiable(i) for i in t.items)
    return False


def differentiable_arg(t, structs, seen=frozenset(), again: bool = False) -> bool:
    """What `grad` may differentiate with respect to: a float, an f32 or a tensor, or a list, tuple or
    struct (nested, as a model's layers are: JAX's pytrees) holding only these; the gradient has the
    argument's type and shape. A struct that holds itself (a tree) is not one; `again`: what to say
    for a struct met again inside itself (True: would it be, but for that?)."""
    match t:
        case ListT(e):
            return differentiable_arg(e, structs, seen, again)
        case TupleT(items):
            return all(differentiable_arg(i, structs, seen, again) for i in items)
        case StructT(name) if name in structs:
            if name in seen:
                return again
            return all(differentiable_arg(u, structs, seen | {name}, again) for u in structs[name].types)
    return differentiable(t)


def carries(t, structs) -> bool:
    """Whether values of type t can hold a float or a tensor (through the items of tuples, the elements
    of lists and sets, the keys and values of dicts and the fields of structs (`structs`: the
    program's); a function value, whose closure could hold one, counts)."""
    return any(u in (FLOAT, F32) or isinstance(u, (TensorT, FnT, TParam, TVar)) for u in parts(t, structs))


def parts(t, structs):
    """t and every type a value of type t can hold, once each: the items of tuples, the elements of
    lists and sets, the keys and values of dicts, the fields of structs."""
    seen: set = set()
    todo = [t]
    while todo:
        u = todo.pop()
        if u in seen:
            continue
        seen.add(u)
        yield u
        match u:
            case TupleT(items):
                todo.extend(items)
            case ListT(e) | SetT(e):
                todo.append(e)
            case DictT(k, v):
                todo += [k, v]
            case StructT(name):
                todo.extend(structs[name].types)


for _n in ACTIVATIONS:
    setattr(TensorTyper, f"b_{_n}", (lambda n: lambda self, c, e: self.activation(n, c))(_n))
for _n in LOSSES:
    setattr(TensorTyper, f"b_{_n}", (lambda n: lambda self, c, e: self.loss(n, c))(_n))

__all__ = ["TENSOR_FUNCS", "TensorTyper", "differentiable", "layer_state"]
