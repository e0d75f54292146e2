"""Adjoint rules: the 'adjoint' rule of each primitive that compiled gradients go through
(compiler/lower_grad.py). A rule `adj(k, e) -> list` returns, per argument of the primitive `e`, the
Numba expression of that argument's cotangent (None: no gradient flows to it), given `k`:

    k.g          the cotangent of `e`'s value (a name: scalar or array of `e`'s type)
    k.a(i)       argument i's value, recomputed (a name); k.num(i) the same in `e`'s dtype when it is
                 a number beside a tensor (NumPy's rule, as the forward code does)
    k.out()      `e`'s value, recomputed from those arguments by the forward lowering
    k.c(v)       the number `v` in `e`'s dtype;  k.tmp(expr): a temporary holding `expr`
    k.unb(x, i)  the cotangent `x` (of `e`'s shape) summed down to argument i's shape
    k.needs(i)   whether argument i takes a cotangent (the rule may skip computing one it does not)

They compute what the tape's 'vjp' rules (vjp_rules.py) compute, in the same order and dtype, so a
compiled gradient is the interpreter's: the tests compare the two on every rule.
"""
from __future__ import annotations

from glia.runtime.tensor_ops import EPS, GELU_C

from .lower_tensor import typed
from .primitives import PRIMS, rule
from .types import F32, FLOAT, TensorT


def adjoint(*ops):
    def deco(f):
        for op in ops:
            if op in PRIMS:
                rule(op, "adjoint")(f)
        return f
    return deco


ARITH = ("float", "f32", "tensor")


def _ops(name, kinds=ARITH):
    return [f"{k}.{name}" for k in kinds]


@adjoint(*_ops("add"))
def _add(k, e):
    return [k.unb(k.g, 0), k.unb(k.g, 1)]


@adjoint(*_ops("sub"))
def _sub(k, e):
    return [k.unb(k.g, 0), k.unb(f"(-{k.g})", 1)]


@adjoint(*_ops("mul"))
def _mul(k, e):  # (an argument that takes no cotangent: the other one's value not recomputed)
    return [k.unb(f"({k.g} * {k.num(1)})", 0) if k.needs(0) else None,
            k.unb(f"({k.g} * {k.num(0)})", 1) if k.needs(1) else None]


@adjoint(*_ops("truediv"))
def _div(k, e):
    b = k.num(1)
    return [k.unb(f"({k.g} / {b})", 0) if k.needs(0) else None,
            k.unb(f"(-({k.g} * {k.num(0)}) / ({b} * {b}))", 1) if k.needs(1) else None]


@adjoint("float.pow")
def _pow(k, e):
    a, b, y = k.a(0), k.a(1), k.out()
    return [f"({k.g} * ({b} * {a} ** ({b} - 1.0)))",
            f"({k.g} * ({y} * np.log({a}) if {a} > 0.0 else 0.0))"]


@adjoint("tensor.pow", "f32.pow")
def _pow_wide(k, e):
    """`a ** b` of f32 or tensors: the tape's rule (vjp_rules.vjp_pow), in float64 (as the forward code
    computes the power), each cotangent summed to its argument's shape in float64, then cast."""
    t = e.type
    wide = TensorT(FLOAT, t.shape) if isinstance(t, TensorT) else FLOAT
    a64, b64 = (_f64(k, i) for i in range(2))
    y64 = k.tmp(_f64_of(k.out(), t))
    out = [None, None]
    if k.needs(0):
        out[0] = _cast(k.unb(k.tmp(f"({k.g} * ({b64} * np.power({a64}, {b64} - 1.0)))"), 0, wide), e.args[0].type)
    if k.needs(1):
        if not isinstance(t, TensorT):
            gb = f"({k.g} * ({y64} * np.log({a64}) if {a64} > 0.0 else 0.0))"
        elif isinstance(e.args[0].type, TensorT):
            gb = f"({k.g} * np.where({a64} > 0.0, {y64} * np.log(np.where({a64} > 0.0, {a64}, 1.0)), 0.0))"
        else:  # NumPy's where of a number: the whole array, or zeros of its shape
            gb = f"({k.g} * ({y64} * np.log({a64}) if {a64} > 0.0 else np.zeros_like({y64})))"
        out[1] = _cast(k.unb(k.tmp(gb), 1, wide), e.args[1].type)
    return out


def _f64_of(v, t):
    return f"{v}.astype(np.float64)" if isinstance(t, TensorT) else f"np.float64({v})"


def _f64(k, i):
    return k.tmp(_f64_of(k.a(i), k.e.args[i].type))


def _cast(v, t):
    """The float64 cotangent `v` in the dtype of `t` (the tape's `astype(x.dtype)`)."""
    if _dtype(t) != F32:
        return v
    return f"{v}.astype(np.float32)" if isinstance(t, TensorT) else f"np.float32({v})"


@adjoint(*_ops("neg"))
def _neg(k, e):
    return [f"(-{k.g})"]


@adjoint(*_ops("abs"))
def _abs(k, e):
    return [f"({k.g} * np.sign({k.a(0)}))"]


@adjoint("float.to_f32")
def _to_f32(k, e):
    return [f"np.float64({k.g})"]


@adjoint("f32.to_float")
def _to_float(k, e):
    return [f"np.float32({k.g})"]


# ---- element-wise math: the cotangent times d/dx f(x), from x and the output -------------------

def _elementwise(name, deriv, f64_only=False):
    def adj(k, e):
        if f64_only and _dtype(e.type) == F32:
            return None  # not compiled yet: lower_grad says so
        return [f"({k.g} * {deriv(k)})"]
    adjoint(f"math.{name}", f"tensor.{name}")(adj)


_elementwise("exp", lambda k: k.out())
_elementwise("log", lambda k: f"({k.c(1.0)} / {k.a(0)})")
_elementwise("sqrt", lambda k: f"({k.c(0.5)} / {k.out()})")
_elementwise("sin", lambda k: k.math("cos", k.a(0)))
_elementwise("cos", lambda k: f"(-{k.math('sin', k.a(0))})")
_elementwise("tan", lambda k: f"({k.c(1.0)} + {k.out()} * {k.out()})")
_elementwise("tanh", lambda k: f"({k.c(1.0)} - {k.out()} * {k.out()})")
_elementwise("sinh", lambda k: f"np.cosh({k.a(0)})", True)
_elementwise("cosh", lambda k: f"np.sinh({k.a(0)})", True)
_elementwise("atan", lambda k: f"(1.0 / (1.0 + {k.a(0)} * {k.a(0)}))", True)


@adjoint("float.mod", "f32.mod")
def _mod(k, e, g=None):
    g = k.g if g is None else g
    return [g, f"(-({g} * np.floor({k.a(0)} / {k.a(1)})))"]


@adjoint("float.divmod", "f32.divmod")
def _divmod(k, e):
    """The tape's rule (vjp_rules.vjp_divmod): the remainder's cotangent as `%`'s, or 0."""
    r = k.gs[1]
    return [None, None] if r is None else _mod(k, e, k.tmp(f"({r[0]} if {r[1]} else {typed('0.0', e.type.items[1])})"))


@adjoint("math.atan2")
def _atan2(k, e):
    y, x = k.a(0), k.a(1)
    r = k.tmp(f"({x} * {x} + {y} * {y})")
    return [f"(({k.g} * {x}) / {r})", f"(-({k.g} * {y}) / {r})"]


@adjoint("math.hypot")
def _hypot(k, e):
    h = k.out()
    return [f"(({k.g} * {k.a(0)}) / {h})", f"(({k.g} * {k.a(1)}) / {h})"]


@adjoint("nn.relu")
def _relu(k, e):
    x = k.a(0)
    if isinstance(e.type, TensorT):
        return [f"({k.g} * ({x} > 0).astype({k.dt}))"]
    return [f"({k.g} * ({k.c(1.0)} if {x} > 0 else {k.c(0.0)}))"]


@adjoint("nn.sigmoid")
def _sigmoid(k, e):
    y = k.out()
    return [f"({k.g} * ({y} * ({k.c(1.0)} - {y})))"]


@adjoint("nn.softmax")
def _softmax(k, e):
    y = k.out()
    return [f"({y} * ({k.g} - {k.sum_last(f'{k.g} * {y}')}))"]


# ---- tensors ---------------------------------------------------------------------------------------

@adjoint("float.floordiv", "f32.floordiv", "float.roundn", "f32.roundn")
def _flat(k, e):
    return [None] * len(e.args)  # piecewise constant: no gradient flows (the tape's zeros)


@adjoint(*(f"tensor.{op}" for op in ("gt", "ge", "lt", "le", "eq", "ne")))
def _compare(k, e):
    return [None, None]  # a 0/1 tensor: no gradient flows through it


@adjoint("tensor.sum")
def _sum(k, e):
    return [f"np.full({k.a(0)}.shape, {k.g}, {k.dt})"]


@adjoint("tensor.mean")
def _mean(k, e):
    return [f"np.full({k.a(0)}.shape, {k.g} / {k.c(f'{k.a(0)}.size')}, {k.dt})"]


@adjoint("tensor.matmul")
def _matmul(k, e):
    a, b = k.a(0), k.a(1)
    ra, rb = (len(x.type.shape) for x in e.args)
    g = k.g
    if ra == 1 and rb == 1:
        return [f"({g} * {b})", f"({g} * {a})"]
    if ra == 1:  # (k) @ (k, n)
        return [f"np.dot({b}, {g})", f"np.outer({a}, {g})"]
    if rb == 1:  # (m, k) @ (k)
        return [f"np.outer({g}, {b})", f"np.dot({a}.T, {g})"]
    return [f"np.dot({g}, {b}.T)", f"np.dot({a}.T, {g})"]


@adjoint("tensor.transpose")
def _transpose(k, e):
    return [f"np.ascontiguousarray({k.g}.T)"]


@adjoint("tensor.reshape")
def _reshape(k, e):
    return [f"{k.g}.reshape({k.a(0)}.shape)", None]


@adjoint("tensor.getitem")
def _getitem(k, e):
    return [k.scatter(), *([None] * (len(e.args) - 1))]


@adjoint("tensor.where")
def _where(k, e):
    c = k.a(0)
    z = k.c(0.0)
    return [None, k.unb(f"np.where({c} != 0, {k.g}, {z})", 1), k.unb(f"np.where({c} != 0, {z}, {k.g})", 2)]


@adjoint("layer.dense")
def _dense(k, e):
    W = k.param(e, 0)
    g = k.g
    return [f"np.dot({g}, {W}.T)"]  # the input's cotangent; grad() is with respect to an argument


@adjoint("loss.mse")
def _mse(k, e):
    p, t = k.a(0), k.a(1)
    d = k.tmp(f"{k.c(f'2.0 / {p}.size')} * {k.g} * ({p} - {t})")
    return [d, k.unb(f"(-{d})", 1, e.args[0].type) if isinstance(e.args[1].type, TensorT) else None]


def _dtype(t):
    return t.dtype if isinstance(t, TensorT) else t


# ---- more activations, softmax over any rank --------------------------------------------------------

@adjoint("nn.log_softmax")
def _log_softmax(k, e):
    y = k.out()
    return [f"({k.g} - {k.math('exp', y)} * {k.sum_last(k.g)})"]


@adjoint("nn.leaky_relu")
def _leaky_relu(k, e):
    x, alpha = k.a(0), repr(float(e.attrs[0]))
    if isinstance(e.type, TensorT):  # NumPy: where(x > 0, 1.0, alpha) is float64, the product too
        return [f"({k.g}.astype(np.float64) * np.where({x} > 0, 1.0, {alpha})).astype({k.dt})"]
    return [f"{k.dt}(np.float64({k.g}) * (1.0 if {x} > 0 else {alpha}))"]


@adjoint("nn.elu")
def _elu(k, e):
    x, y, alpha = k.a(0), k.out(), k.c(float(e.attrs[0]))
    if isinstance(e.type, TensorT):
        return [f"({k.g} * np.where({x} > 0, {k.c(1.0)}, {y} + {alpha}))"]
    return [f"({k.g} * ({k.c(1.0)} if {x} > 0 else {y} + {alpha}))"]


@adjoint("layer.rnn_cell")
def _rnn_cell(k, e):
    y = k.out()
    ga = k.tmp(f"{k.g} * ({k.c(1.0)} - {y} * {y})")
    return [f"np.dot({ga}, {k.param(e, 0)}.T)", f"np.dot({ga}, {k.param(e, 1)}.T)"]


# ---- losses ---------------------------------------------------------------------------------------

@adjoint("loss.mae")
def _mae(k, e):
    p, t = k.a(0), k.a(1)
    d = k.tmp(f"({k.g} / {k.c(f'{p}.size')}) * np.sign({p} - {t})")
    return [d, k.unb(f"(-{d})", 1, e.args[0].type) if isinstance(e.args[1].type, TensorT) else None]


@adjoint("loss.nll_int")
def _nll_int(k, e):
    r = k.tmp(f"np.zeros_like({k.a(0)})")
    k.line(f"{r}[{k.a(1)}] = -{k.g}")
    return [r, None]


@adjoint("loss.nll_onehot")
def _nll_onehot(k, e):
    return [f"(-{k.g} * {k.a(1)})", f"(-{k.g} * {k.a(0)})"]


@adjoint("loss.ce_int")
def _ce_int(k, e):
    p, y = k.a(0), k.a(1)
    r = k.tmp(f"np.zeros_like({p})")
    k.line(f"if {p}[{y}] > {k.c(EPS)}:")
    k.line(f"    {r}[{y}] = -{k.g} / {p}[{y}]")
    return [r, None]


@adjoint("loss.ce_onehot")
def _ce_onehot(k, e):
    p, t = k.a(0), k.a(1)
    q = k.tmp(f"np.maximum({p}, {k.c(EPS)})")
    return [f"(-{k.g} * {t} / {q} * ({p} > {k.c(EPS)}).astype({k.dt}))",
            f"(-{k.g} * {k.math('log', q, e.args[1].type)})"]


# ---- reductions and structure -----------------------------------------------------------------------

@adjoint("tensor.reduce")
def _reduce(k, e):
    how, axis = e.attrs
    a = k.a(0)
    rank = len(e.args[0].type.shape)
    dims = [f"{a}.shape[{d}]" for d in range(rank)]
    outer, inner = " * ".join(dims[:axis]) or "1", " * ".join(dims[axis + 1:]) or "1"
    if how in ("max", "min"):  # the first extreme element of each line (vjp_rules.vjp_reduce)
        g, y = (f"np.ascontiguousarray({v}).reshape(({outer}, {inner}))" for v in (k.g, k.out()))
        return [f"nbt.select_vjp(np.ascontiguousarray({a}).reshape(({outer}, {dims[axis]}, {inner})), {y}, {g}, "
                f"{k.c(0.0)}).reshape({a}.shape)"]
    full = f"nbt.spread(np.ascontiguousarray({k.g}).reshape(({outer}, {inner})), {dims[axis]}).reshape({a}.shape)"
    return [full if how == "sum" else f"({full} / {k.c(dims[axis])})"]


@adjoint("tensor.max", "tensor.min")
def _select(k, e):
    """The first extreme element gets the cotangent."""
    a, y = k.a(0), k.out()
    r = k.tmp(f"np.zeros_like({a})")
    k.line(f"{r}.reshape({a}.size)[nbt.first_extreme({a}.reshape({a}.size), {y})] = {k.g}")
    return [r]


@adjoint("tensor.concat")
def _concat(k, e):
    *parts, axis = e.args
    d = axis.value % len(e.type.shape)
    out, off = [], "0"
    for i in range(len(parts)):
        n = f"{k.a(i)}.shape[{d}]"
        out.append(f"np.ascontiguousarray({k.g}[{':, ' * d}{off}:{off} + {n}])")
        off = k.tmp(f"{off} + {n}")
    return out + [None]


@adjoint("tensor.stack")
def _stack(k, e):
    return [f"{k.g}[{i}].copy()" for i in range(len(e.args))]


@adjoint("tensor.slice")
def _slice(k, e):
    r = k.tmp(f"np.zeros_like({k.a(0)})")
    k.line(f"{r}[{e.args[1].value}:{e.args[2].value}] = {k.g}")
    return [r, None, None]


@adjoint("tensor.astype")
def _astype(k, e):
    return [f"{k.g}.astype({k.dtype_of(0)})"]


@adjoint("layer.gru_cell")
def _gru_cell(k, e):
    """The tape's rule (vjp_rules.vjp_gru) on the gates recomputed as the forward code computes them."""
    x, h = k.a(0), k.a(1)
    Wx, Wh, bx, bh = (k.param(e, i) for i in range(4))
    t, g, one = e.type, k.g, k.c(1.0)
    n, last = t.shape[-1], len(t.shape) - 1
    ax, ah = k.tmp(f"np.dot({x}, {Wx}) + {bx}"), k.tmp(f"np.dot({h}, {Wh}) + {bh}")
    r = k.fl.gate(f"{ax}[..., :{n}] + {ah}[..., :{n}]", t)
    z = k.fl.gate(f"{ax}[..., {n}:{2 * n}] + {ah}[..., {n}:{2 * n}]", t)
    c = k.tmp(k.math("tanh", f"({ax}[..., {2 * n}:] + {r} * {ah}[..., {2 * n}:])"))
    dn = k.tmp(f"{g} * ({one} - {z}) * ({one} - {c} * {c})")
    dz = k.tmp(f"{g} * ({h} - {c}) * {z} * ({one} - {z})")
    dr = k.tmp(f"{dn} * {ah}[..., {2 * n}:] * {r} * ({one} - {r})")
    gax = k.tmp(f"np.concatenate(({dr}, {dz}, {dn}), axis={last})")
    gah = k.tmp(f"np.concatenate(({dr}, {dz}, {dn} * {r}), axis={last})")
    return [f"np.dot({gax}, {Wx}.T)", f"(np.dot({gah}, {Wh}.T) + {g} * {z})"]


@adjoint("layer.lstm_cell")
def _lstm_cell(k, e):
    """The tape's rule (vjp_rules.vjp_lstm): `k.gs` holds the cotangents of (h, c) and whether each is live."""
    x, h, c = k.a(0), k.a(1), k.a(2)
    Wx, Wh, b = (k.param(e, i) for i in range(3))
    t = e.type.items[0]
    n, last, one = t.shape[-1], len(t.shape) - 1, typed("1.0", t)
    (gh, live_h), (gc, live_c) = k.gs
    zz = k.tmp(f"np.dot({x}, {Wx}) + np.dot({h}, {Wh}) + {b}")
    i = k.fl.gate(f"{zz}[..., :{n}]", t)
    f = k.fl.gate(f"{zz}[..., {n}:{2 * n}]", t)
    gg = k.tmp(k.math("tanh", f"{zz}[..., {2 * n}:{3 * n}]", t))
    o = k.fl.gate(f"{zz}[..., {3 * n}:]", t)
    tc = k.tmp(k.math("tanh", f"({f} * {c} + {i} * {gg})", t))
    gh2 = k.tmp(f"{gh} if {live_h} else np.zeros_like({h})")
    gcs = k.tmp(f"({gc} if {live_c} else np.zeros_like({c})) + {gh2} * {o} * ({one} - {tc} * {tc})")
    dz = k.tmp(f"np.concatenate(({gcs} * {gg} * {i} * ({one} - {i}), {gcs} * {c} * {f} * ({one} - {f}), "
               f"{gcs} * {i} * ({one} - {gg} * {gg}), {gh2} * {tc} * {o} * ({one} - {o})), axis={last})")
    return [f"np.dot({dz}, {Wx}.T)", f"np.dot({dz}, {Wh}.T)", f"({gcs} * {f})"]


@adjoint("nn.gelu")
def _gelu(k, e):
    """The tape's derivative (vjp_rules._gelu_d), each constant in the dtype."""
    x, c = k.a(0), k.c
    u = k.tmp(f"{c(GELU_C)} * ({x} + {c(0.044715)} * ({x} * {x} * {x}))")
    t = k.tmp(k.math("tanh", u))
    d = (f"{c(0.5)} * ({c(1.0)} + {t}) + {c(0.5)} * {x} * ({c(1.0)} - {t} * {t}) * {c(GELU_C)} * "
         f"({c(1.0)} + {c(3 * 0.044715)} * {x} * {x})")
    return [f"({k.g} * ({d}))"]


@adjoint("nn.silu")
def _silu(k, e):
    x, c = k.a(0), k.c
    s = k.tmp(k.fl.math(None, "sigmoid", x, e.type))
    return [f"({k.g} * ({s} * ({c(1.0)} + {x} * ({c(1.0)} - {s}))))"]


@adjoint("layer.layer_norm")
def _layer_norm(k, e):
    """The input's cotangent (vjp_rules.vjp_layer_norm) with NumPy's means and variance, row by row."""
    return [f"nbt.layer_norm_vjp({k.a(0)}, {k.param(e, 0)}, {k.g}, {k.c(0.0)}, {k.c(1e-5)})"]


@adjoint("layer.conv2d", "layer.conv1d")
def _conv(k, e):
    W = k.param(e, 0)
    x = k.a(0)
    stride, pad = e.attrs[2], e.attrs[3]
    if e.op == "layer.conv2d":
        return [f"nbt.conv2d_vjp_x({k.g}, {W}, {x}.shape[1], {x}.shape[2], {stride}, {stride}, {pad}, {pad}, "
                f"{k.c(0.0)})"]
    return [f"nbt.conv1d_vjp_x({k.g}, {W}, {x}.shape[1], {stride}, {pad}, {k.c(0.0)})"]


@adjoint("tensor.max_pool", "tensor.avg_pool")
def _pool(k, e):
    return [f"nbt.pool_vjp({k.a(0)}, {k.g}, {e.attrs[0]}, {e.op == 'tensor.max_pool'}, {k.c(0.0)})"]


@adjoint("loss.bce")
def _bce(k, e):
    p, t = e.args
    if not (isinstance(t.type, TensorT) and t.type.shape == p.type.shape):
        return None  # a target broadcast against the probabilities: not compiled yet
    r = k.tmp(f"nbt.bce_vjp({k.a(0)}, {k.a(1)}, {k.g}, {k.c(1.0)})")
    return [f"{r}[0]", f"{r}[1]"]


@adjoint("layer.batch_norm")
def _batch_norm(k, e):
    gamma = k.param(e, 0)  # outside training the running statistics are constants: x is only scaled
    var = k.fl.param(e, e.attrs[2][1][0], state=True)
    return [f"(({k.g} * {gamma}) / np.sqrt({var} + {k.c(e.attrs[4])}))"]
