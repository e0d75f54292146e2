"""Lowering, CPU backend: tensors, activations, losses and layers (the `tensor.*`, `nn.*`, `loss.*` and
`layer.*` primitives) to NumPy in Numba, with the helpers of runtime/nbtensor.py.

A tensor is a C-contiguous NumPy array of its dtype (`types.Array(float32, rank, 'C')`); its static
shape is the array's. Each operation follows the interpreter's kernel (runtime/tensor_ops.py,
runtime/kernels.py) in its dtype and its order of operations: a scalar operand is converted to the
tensor's dtype first (NumPy's rule for a Python number), sums are NumPy's pairwise sums. What may
differ in the last bit is listed in runtime/nbtensor.py and docs/backends.md.

Layers read their parameters from the program's flat parameter buffer, threaded into every function
that needs it like a global (`$params`; `$state` for batch_norm's running statistics): a parameter is
a view `P[offset:offset + size].reshape(shape)` of it. Compiled code runs the layers as the
interpreter does outside training: `dropout` is the identity, `batch_norm` uses its running
statistics. `grad` is compiled by lower_grad.py.
"""
from __future__ import annotations

from math import prod

from . import ir
from .types import F32, TensorT, TupleT

PARAMS = "$params"
STATE = "$state"

_EXACT_MATH = ("sqrt", "floor", "ceil")  # correctly rounded or exact: NumPy's functions in Numba
_MATH = ("exp", "log", "sin", "cos", "tanh", "tan")  # computed in float64 (nbtensor.exp1, ...)
_ARITH = {"add": "+", "sub": "-", "mul": "*", "truediv": "/"}
_CMP = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "==", "ne": "!="}
_REDUCE = {"sum": 0, "mean": 1, "max": 2, "min": 3}
# math functions and activations with a vectorised kernel for f32 arrays (nbtensor.exp_f32, ...)
_VECTORISED = ("exp", "tanh", "sigmoid", "silu", "gelu")
_ACT = {"relu": "relu1", "sigmoid": "sigmoid1", "silu": "silu1", "gelu": "gelu1", "leaky_relu": "leaky1",
        "elu": "elu1"}


def np_dtype(t) -> str:
    """The NumPy scalar type of a tensor's (or a float scalar's) dtype."""
    d = t.dtype if isinstance(t, TensorT) else t
    return "np.float32" if d == F32 else "np.float64"


def typed(value: str, t) -> str:
    """`value` (a Python-number expression) as a number of `t`'s dtype."""
    return f"{np_dtype(t)}({value})"


def uses_params(f: ir.Function) -> tuple[bool, bool]:
    """Whether `f` itself runs a layer with parameters, and one with running statistics."""
    p = s = False
    for node in ir.walk(f.body):
        if isinstance(node, ir.Prim) and node.op.startswith("layer.") and node.op != "layer.dropout":
            p = True
            s = s or node.op == "layer.batch_norm"
    return p, s


class TensorLowering:
    """The tensor primitives of FunctionLowerer (a mixin: `self` is the function's lowerer)."""

    # ---- helpers -------------------------------------------------------------------------------
    def operands(self, e) -> list[str]:
        """The operands of an element-wise operation, each number in the tensors' dtype."""
        vs = self.exprs(e.args)
        return [v if isinstance(a.type, TensorT) else typed(v, e.type) for v, a in zip(vs, e.args)]

    def param(self, prim: ir.Prim, name: str, state: bool = False) -> str:
        """The view of parameter `name` of the layer at `prim` (or of its running statistic): a local
        made once at the top of the function (a layer in a loop would make it on every pass)."""
        from .lower_numba import comment_text

        full = f"{prim.attrs[0]}.{name}"
        local = self.param_views.get((full, state))
        if local is None:
            off, shape = self.m.param_layout(full, state)
            buf = self.m.threaded[STATE if state else PARAMS][0]
            view = f"{buf}[{off}:{off + prod(shape)}]"
            view = view if len(shape) == 1 else f"{view}.reshape({tuple(shape)!r})"
            local = self.param_views[(full, state)] = f"_p{len(self.param_views)}"
            self.param_lines.append(f"    {local} = {view}  # {comment_text(full)}")
        return local

    def params(self, prim: ir.Prim) -> list[str]:
        return [self.param(prim, q[0]) for q in prim.attrs[1]]

    # ---- element-wise --------------------------------------------------------------------------
    def binary(self, e, symbol):
        a, b = self.operands(e)
        return f"({a} {symbol} {b})"

    def p_tensor_pow(self, e):
        a, b = self.operands(e)
        if e.type.dtype != F32:
            return f"np.power({a}, {b})"
        a, b = (f"{v}.astype(np.float64)" if isinstance(x.type, TensorT) else f"np.float64({v})"
                for v, x in zip((a, b), e.args))
        return f"np.power({a}, {b}).astype(np.float32)"  # as kernels.power_

    def p_tensor_neg(self, e):
        return f"(-{self.expr(e.args[0])})"

    def p_tensor_abs(self, e):
        return f"np.abs({self.expr(e.args[0])})"

    def compare_tensor(self, e, symbol):
        a, b = self.operands(e)
        return f"({a} {symbol} {b}).astype({np_dtype(e.type)})"

    def p_tensor_where(self, e):
        c, a, b = self.exprs(e.args)
        return f"np.where({c} != 0, {a}, {b}).astype({np_dtype(e.type)})"

    # ---- shapes --------------------------------------------------------------------------------
    def p_tensor_zeros(self, e):
        return self.filled(e, "zeros")

    def p_tensor_ones(self, e):
        return self.filled(e, "ones")

    def filled(self, e, how):
        shape = e.attrs[0]
        if not all(isinstance(d, int) for d in shape):
            self.unsupported(f"{how}() of a shape that is not constant", e.span)
        return f"np.{how}({tuple(shape)!r}, {np_dtype(e.type)})"

    def p_tensor_arange(self, e):
        return f"np.arange({e.attrs[0]}).astype({np_dtype(e.type)})"

    def p_tensor_astype(self, e):
        return f"{self.expr(e.args[0])}.astype({np_dtype(e.type)})"

    def p_tensor_reshape(self, e):
        return f"{self.expr(e.args[0])}.reshape({tuple(e.attrs[0])!r}).copy()"

    def p_tensor_transpose(self, e):
        return f"np.ascontiguousarray({self.expr(e.args[0])}.T)"

    def p_tensor_concat(self, e):
        *parts, axis = e.args
        vs = self.exprs(parts)
        return f"np.concatenate(({''.join(v + ', ' for v in vs)}), axis={axis.value})"

    def p_tensor_stack(self, e):
        vs = self.exprs(e.args)
        return f"np.stack(({''.join(v + ', ' for v in vs)}))"

    def p_tensor_slice(self, e):
        x, lo, hi = e.args
        return f"{self.expr(x)}[{lo.value}:{hi.value}].copy()"

    def p_tensor_getitem(self, e):
        c, *idx = self.exprs(e.args)
        c = self.kept(c)
        idx = [self.kept(i) for i in idx]  # every index is computed before the first is checked
        site = self.site(e.span)
        return f"{c}[{', '.join(f'nbt.idx({i}, {c}.shape[{d}], {site})' for d, i in enumerate(idx))}]"

    def store_tensor(self, container, index, value: str, span):
        """`x[i] = v` / `x[i, j] = v` (the value already computed)."""
        keys = index.elts if isinstance(index, ir.MakeTuple) else (index,)
        c, *idx = self.exprs((container, *keys))
        c = self.kept(c)
        idx = [self.kept(i) for i in idx]
        site = self.site(span)
        self.emit(f"{c}[{', '.join(f'nbt.idx({i}, {c}.shape[{d}], {site})' for d, i in enumerate(idx))}] = {value}")

    def p_tensor_argmax(self, e):
        return f"int(np.argmax({self.nonempty(e, 'argmax')}))"

    def nonempty(self, e, what: str) -> str:
        """The tensor operand of `e`, checked to hold elements (a named dimension may be 0): E506 as
        the interpreter's kernels say it."""
        x = self.kept(self.expr(e.args[0]))
        self.emit(f"if {x}.size == 0:")
        self.emit(f"    rt.empty_error('{what}() of an empty tensor', {self.site(e.span)})")
        return x

    def p_tensor_matmul(self, e):
        a, b = self.exprs(e.args)
        return f"np.dot({a}, {b})"  # vectors and matrices, BLAS, as kernels.matmul_

    # ---- reductions ----------------------------------------------------------------------------
    def zero(self, t) -> str:
        return typed("0.0", t)

    def p_tensor_sum(self, e):
        return f"nbt.total({self.expr(e.args[0])}, {self.zero(e.type)})"

    def p_tensor_mean(self, e):
        return f"nbt.mean({self.expr(e.args[0])}, {self.zero(e.type)})"

    def p_tensor_max(self, e):
        return f"nbt.extreme({self.nonempty(e, 'max')}, True)"

    def p_tensor_min(self, e):
        return f"nbt.extreme({self.nonempty(e, 'min')}, False)"

    def p_tensor_reduce(self, e):
        how, axis = e.attrs
        x = self.kept(self.expr(e.args[0]))
        t = e.args[0].type
        rank = len(t.shape)
        dims = [f"{x}.shape[{d}]" for d in range(rank)]
        outer = " * ".join(dims[:axis]) or "1"
        inner = " * ".join(dims[axis + 1:]) or "1"
        if how in ("max", "min"):  # over a dimension of length 0, with lines to reduce
            self.emit(f"if {dims[axis]} == 0 and {outer} * {inner} > 0:")
            self.emit(f"    rt.empty_error('{how}(..., axis={axis}) over a dimension of length 0', "
                      f"{self.site(e.span)})")
        r = f"nbt.reduce3({x}.reshape(({outer}, {dims[axis]}, {inner})), {_REDUCE[how]}, {self.zero(t)})"
        rest = dims[:axis] + dims[axis + 1:]
        if not rest:
            return f"{r}[0, 0]"
        return f"{r}.reshape(({''.join(d + ', ' for d in rest)}))"

    def pool(self, e, is_max):
        x = e.args[0]
        f = "pool2" if len(x.type.shape) == 3 else "pool1"
        return f"nbt.{f}({self.expr(x)}, {e.attrs[0]}, {is_max}, {self.zero(x.type)})"

    # ---- activations ---------------------------------------------------------------------------
    def activation(self, e, name):
        if name in _VECTORISED:
            return self.math(e, name)
        x = self.expr(e.args[0])
        t = e.type
        c = typed(repr(e.attrs[0]), t) if e.attrs else typed("1.0", t)
        f = f"nbt.{_ACT[name]}"
        return f"nbt.mapped({f}, {x}, {c})" if isinstance(t, TensorT) else f"{f}({x}, {c})"

    def p_nn_relu(self, e):
        if isinstance(e.type, TensorT):  # Numba's maximum keeps -0.0 where NumPy's gives 0: `+ 0` mends it
            z = self.zero(e.type)
            return f"(np.maximum({self.expr(e.args[0])}, {z}) + {z})"  # a vectorised loop: 4x nbt.mapped's speed
        return self.activation(e, "relu")

    def p_nn_tanh(self, e):
        return self.math(e, "tanh")

    def math(self, e, name: str, value: str | None = None, t=None) -> str:
        """The math function `name` of `e`'s operand (or of `value`, of type `t`), element-wise, as the
        interpreter computes it (kernels.precise)."""
        x = self.expr(e.args[0]) if value is None else value
        t = e.type if t is None else t
        if isinstance(t, TensorT) and t.dtype == F32 and name in _VECTORISED:
            return f"nbt.{name}_f32({x})"
        f = f"nbt.{name}1"
        return f"nbt.mapped({f}, {x}, {typed('1.0', t)})" if isinstance(t, TensorT) else f"{f}({x}, {typed('1.0', t)})"

    def p_nn_softmax(self, e):
        return f"nbt.softmax({self.expr(e.args[0])}, {self.zero(e.type)}, False, {e.type.dtype == F32})"

    def p_nn_log_softmax(self, e):
        return f"nbt.softmax({self.expr(e.args[0])}, {self.zero(e.type)}, True, {e.type.dtype == F32})"

    # ---- losses (a scalar of the prediction's dtype) ------------------------------------------
    def p_loss_mse(self, e):
        p, t = self.exprs(e.args)
        d = self.temp()
        self.emit(f"{d} = {p} - {t}")
        return f"nbt.mean({d} * {d}, {self.zero(e.type)})"

    def p_loss_mae(self, e):
        p, t = self.exprs(e.args)
        return f"nbt.mean(np.abs({p} - {t}), {self.zero(e.type)})"

    def p_loss_bce(self, e):
        p, t = self.exprs(e.args)
        return f"(-nbt.mean(nbt.bce_terms({p}, {t}, {typed('1.0', e.type)}, {self.site(e.span)}), {self.zero(e.type)}))"

    def p_loss_ce_int(self, e):
        p, y = self.exprs(e.args)
        return typed(f"nbt.ce_int({p}, {y}, {self.site(e.span)})", e.type)

    def p_loss_ce_onehot(self, e):
        p, t = self.exprs(e.args)
        p = f"nbt.probabilities({p}, {self.site(e.span)})"
        logp = self.math(e, "log", f"np.maximum({p}, {typed('1e-12', e.type)})", e.args[0].type)
        return f"(-nbt.total({t} * {logp}, {self.zero(e.type)}))"

    def p_loss_nll_int(self, e):
        p, y = self.exprs(e.args)
        return f"nbt.nll_int({p}, {y}, {self.site(e.span)})"

    def p_loss_nll_onehot(self, e):
        p, t = self.exprs(e.args)
        return f"(-nbt.total({t} * {p}, {self.zero(e.type)}))"

    # ---- layers (evaluation mode: the interpreter's outside training) ----------------------------
    def p_layer_dense(self, e):
        x = self.expr(e.args[0])
        W, b = self.params(e)
        return f"(np.dot({x}, {W}) + {b})"

    def p_layer_embedding(self, e):
        i = self.expr(e.args[0])
        (E,) = self.params(e)
        return f"nbt.embedding({i}, {E}, {self.site(e.span)})"

    def p_layer_rnn_cell(self, e):
        x, h = self.exprs(e.args)
        Wx, Wh, b = self.params(e)
        return self.math(e, "tanh", f"(np.dot({x}, {Wx}) + np.dot({h}, {Wh}) + {b})", e.type)

    def gate(self, value: str, t) -> str:
        out = self.temp()
        self.emit(f"{out} = {self.math(None, 'sigmoid', value, t)}")
        return out

    def p_layer_gru_cell(self, e):
        x, h = (self.kept(v) for v in self.exprs(e.args))
        Wx, Wh, bx, bh = self.params(e)
        t = e.type
        n = t.shape[-1]
        ax, ah = self.temp(), self.temp()
        self.emit(f"{ax} = np.dot({x}, {Wx}) + {bx}")
        self.emit(f"{ah} = np.dot({h}, {Wh}) + {bh}")
        r = self.gate(f"{ax}[..., :{n}] + {ah}[..., :{n}]", t)
        z = self.gate(f"{ax}[..., {n}:{2 * n}] + {ah}[..., {n}:{2 * n}]", t)
        g = self.temp()
        self.emit(f"{g} = {self.math(e, 'tanh', f'({ax}[..., {2 * n}:] + {r} * {ah}[..., {2 * n}:])', t)}")
        return f"(({typed('1.0', t)} - {z}) * {g} + {z} * {h})"

    def p_layer_lstm_cell(self, e):
        x, h, c = (self.kept(v) for v in self.exprs(e.args))
        Wx, Wh, b = self.params(e)
        t = e.type.items[0] if isinstance(e.type, TupleT) else e.type
        n = t.shape[-1]
        zz = self.temp()
        self.emit(f"{zz} = np.dot({x}, {Wx}) + np.dot({h}, {Wh}) + {b}")
        i = self.gate(f"{zz}[..., :{n}]", t)
        f = self.gate(f"{zz}[..., {n}:{2 * n}]", t)
        g = self.temp()
        self.emit(f"{g} = {self.math(e, 'tanh', f'{zz}[..., {2 * n}:{3 * n}]', t)}")
        o = self.gate(f"{zz}[..., {3 * n}:]", t)
        c2 = self.temp()
        self.emit(f"{c2} = {f} * {c} + {i} * {g}")
        return f"({o} * {self.math(e, 'tanh', c2, t)}, {c2})"

    def p_layer_layer_norm(self, e):
        x = self.expr(e.args[0])
        g, b = self.params(e)
        return f"nbt.layer_norm({x}, {g}, {b}, {self.zero(e.type)}, {typed('1e-5', e.type)})"

    def p_layer_batch_norm(self, e):
        x = self.kept(self.expr(e.args[0]))
        gamma, beta = self.params(e)
        mean, var = (self.param(e, q[0], state=True) for q in e.attrs[2])
        eps = typed(repr(e.attrs[4]), e.type)
        return f"(({x} - {mean}) / np.sqrt({var} + {eps}) * {gamma} + {beta})"

    def p_layer_dropout(self, e):
        return self.expr(e.args[0])

    def p_layer_conv2d(self, e):
        x = self.expr(e.args[0])
        W, b = self.params(e)
        stride, pad = e.attrs[2], e.attrs[3]
        return f"nbt.conv2d({x}, {W}, {b}, {stride}, {stride}, {pad}, {pad})"

    def p_layer_conv1d(self, e):
        x = self.expr(e.args[0])
        W, b = self.params(e)
        return f"nbt.conv1d({x}, {W}, {b}, {e.attrs[2]}, {e.attrs[3]})"

    def p_ad_grad(self, e):  # grad(f)(x) is a call (lower_numba.expr); kept as a value, a lambda (specialize.py)
        self.unsupported("grad(f) used as a function value (call it where it is made: grad(f)(x))", e.span)


def _install():
    """The primitives whose lowering is one of the methods above with a constant: p_tensor_add, ..."""
    for name, symbol in _ARITH.items():
        setattr(TensorLowering, f"p_tensor_{name}", lambda self, e, s=symbol: self.binary(e, s))
    for name in ("sigmoid", "silu", "gelu", "leaky_relu", "elu"):
        setattr(TensorLowering, f"p_nn_{name}", lambda self, e, n=name: self.activation(e, n))
    for name, is_max in (("max_pool", True), ("avg_pool", False)):
        setattr(TensorLowering, f"p_tensor_{name}", lambda self, e, m=is_max: self.pool(e, m))
    for name in _EXACT_MATH:
        setattr(TensorLowering, f"p_tensor_{name}", lambda self, e, f=name: f"np.{f}({self.expr(e.args[0])})")
    for name in _MATH:
        setattr(TensorLowering, f"p_tensor_{name}", lambda self, e, f=name: self.math(e, f))
    for name, symbol in _CMP.items():
        setattr(TensorLowering, f"p_tensor_{name}", lambda self, e, s=symbol: self.compare_tensor(e, s))


_install()
