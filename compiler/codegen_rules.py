"""Codegen rules: the 'codegen' rule of each primitive that a compiled training trace can contain
(compiler/trace_compile.py). A rule is a pair `fwd(c, n)` / `bwd(c, n)` that writes Numba source for a
whole batch of examples at once (every value has one row per example first): `fwd` computes the
node's outputs, `bwd` adds the cotangents of its inputs and parameters, given the cotangents of its
outputs. They mirror the 'vjp' rules of vjp_rules.py (the tape's), which the tests compare them to.

`n` is a trace node: `n.args` (each an `Arg`: a value of the trace, a parameter or a constant, with one
example's shape), `n.outs` (the names of its outputs) and `n.out_shapes`; `c` is the emitter
(`trace_compile.Emit`): `c.fwd(line)`, `c.bwd(line)`, `c.g(k)` (the cotangent of output k, None when
nothing flows back to it), `c.acc(arg, expr)`, `c.rows(arg)` (an argument with its batch rows), and
`c.expand(arg, rank)` / `c.unb(arg, g, rank)` for NumPy broadcasting with the batch dimension in front.

This module has the rules of the element-wise operations, the tensor operations and the losses;
codegen_layers.py those of the layers and of trace_fuse.py's nodes. Importing this module registers
them all; `primitives.py` does so. A primitive without a rule makes the training engine fall back to
the tape, saying which.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from glia.runtime.tensor_ops import GELU_C

from .primitives import PRIMS, rule


@dataclass(frozen=True)
class Codegen:
    fwd: object
    bwd: object


def codegen(*ops):
    def deco(make):
        pair = Codegen(*make())
        for op in ops:
            if op in PRIMS:
                rule(op, "codegen")(pair)
        return make
    return deco


ARITH = ("float", "f32", "tensor")
# primitives whose rules read their static operands (the IR's attributes: a pool's window, an
# activation's alpha, reshape's dimensions) as constant arguments after the others
STATIC = frozenset({"nn.leaky_relu", "nn.elu", "tensor.max_pool", "tensor.avg_pool", "tensor.reshape", "tensor.reduce",
                    "tensor.astype", "layer.dropout"})


def _ops(name, kinds=ARITH):
    return [f"{k}.{name}" for k in kinds]


# ---- element-wise arithmetic (NumPy broadcasting, the batch dimension in front) ---------------------

def _binary(symbol, back, out: int = 0):
    """`a symbol b` (an infix operator), or `symbol(a, b)` when `symbol` is a NumPy function's name;
    `back(g, a, b, out, n)` gives the two cotangents (None where none flows). `out`: which of the
    node's outputs it is (divmod has two)."""
    def fwd(c, n):
        a, b = n.args
        R = len(n.out_shapes[out])
        x, y = c.expand(a, R, n), c.expand(b, R, n)
        c.fwd(f"{n.outs[out]} = " + (f"{symbol}({x}, {y})" if symbol.isidentifier() or "." in symbol
                                     else f"{x} {symbol} {y}"))

    def bwd(c, n):
        g = c.g(out)
        if g is None:
            return
        a, b = n.args
        R = len(n.out_shapes[out])
        ga, gb = back(g, c.expand(a, R, n), c.expand(b, R, n), n.outs[out], n)
        if ga is not None:
            c.acc(a, c.unb(a, ga, R))
        if gb is not None:
            c.acc(b, c.unb(b, gb, R))
    return fwd, bwd


codegen(*_ops("add"))(lambda: _binary("+", lambda g, a, b, o, n: (g, g)))
codegen(*_ops("sub"))(lambda: _binary("-", lambda g, a, b, o, n: (g, f"-{g}")))
codegen(*_ops("mul"))(lambda: _binary("*", lambda g, a, b, o, n: (f"{g} * {b}", f"{g} * {a}")))
codegen(*_ops("truediv"))(lambda: _binary("/", lambda g, a, b, o, n: (f"{g} / {b}", f"-{g} * {o} / {b}")))
# a ** b: the exponent's cotangent only where a > 0 (as the tape's rule: log a is defined there)
codegen(*_ops("pow"))(lambda: _binary("**", lambda g, a, b, o, n: (
    f"{g} * {b} * {a} ** ({b} - {_one(n)})",
    f"{g} * np.where({a} > 0, {o} * np.log(np.where({a} > 0, {a}, {_one(n)})), np.{n.out_dtypes[0]}(0))")))

# the scalar operations of vjp_rules.py: % (PyTorch's remainder), // (piecewise constant: no gradient),
# atan2(y, x) and hypot(x, y)
def _mod_back(g, a, b, o, n):
    return g, f"-{g} * np.floor({a} / {b})"


def _no_back(g, a, b, o, n):
    return None, None


codegen("float.mod", "f32.mod")(lambda: _binary("np.mod", _mod_back))
codegen("float.floordiv", "f32.floordiv")(lambda: _binary("np.floor_divide", _no_back))


@codegen("float.divmod", "f32.divmod")
def _divmod():
    """(a // b, a % b), two outputs: the remainder's cotangent as `%`'s, the quotient's none."""
    quotient, remainder = _binary("np.floor_divide", _no_back, 0), _binary("np.mod", _mod_back, 1)

    def fwd(c, n):
        quotient[0](c, n)
        remainder[0](c, n)
    return fwd, remainder[1]
codegen("math.atan2")(lambda: _binary("np.arctan2", lambda g, a, b, o, n: (
    f"{g} * {b} / ({b} * {b} + {a} * {a})", f"-({g} * {a}) / ({b} * {b} + {a} * {a})")))
codegen("math.hypot")(lambda: _binary("np.hypot", lambda g, a, b, o, n: (f"{g} * {a} / {o}", f"{g} * {b} / {o}")))

COMPARE = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "==", "ne": "!="}


@codegen(*(f"tensor.{op}" for op in COMPARE))
def _compare():
    """`a < b` with a tensor operand: a 0/1 tensor of the output's dtype; no gradient flows through it."""
    def fwd(c, n):
        a, b = n.args
        R = len(n.out_shapes[0])
        test = f"{c.expand(a, R, n)} {COMPARE[n.op[7:]]} {c.expand(b, R, n)}"
        c.fwd(f"{n.outs[0]} = ({test}).astype(np.{n.out_dtypes[0]})")

    def bwd(c, n):
        pass
    return fwd, bwd


@codegen("float.sum", "f32.sum")
def _sum_list():
    """sum(xs, start) of scalars: the trace has the list's elements as arguments, then start."""
    def fwd(c, n):
        *xs, start = n.args
        c.fwd(f"{n.outs[0]} = " + " + ".join(c.expand(a, 0, n) for a in [start] + xs))

    def bwd(c, n):
        if c.g(0) is not None:
            for a in n.args:
                c.acc(a, c.g(0))
    return fwd, bwd


@codegen("seq.mean")
def _mean_list():
    """mean(xs) of floats: the trace has the list's elements as arguments; the sum from 0.0 left to
    right, then one division, as the kernel computes it."""
    def fwd(c, n):
        c.fwd(f"{n.outs[0]} = (" + " + ".join(["0.0"] + [c.expand(a, 0, n) for a in n.args]) + f") / {len(n.args)}")

    def bwd(c, n):
        if c.g(0) is not None:
            for a in n.args:
                c.acc(a, f"({c.g(0)} / {len(n.args)})")
    return fwd, bwd


@codegen(*_ops("neg"))
def _neg():
    def fwd(c, n):
        c.fwd(f"{n.outs[0]} = -{n.args[0].name}")

    def bwd(c, n):
        if c.g(0) is not None:
            c.acc(n.args[0], f"-{c.g(0)}")
    return fwd, bwd


@codegen("float.to_f32", "f32.to_float", "tensor.astype")
def _convert():
    def fwd(c, n):
        c.fwd(f"{n.outs[0]} = {n.args[0].name}.astype(np.{n.out_dtypes[0]})")

    def bwd(c, n):
        if c.g(0) is not None:
            c.acc(n.args[0], f"{c.g(0)}.astype(np.{n.args[0].dtype})")
    return fwd, bwd


# ---- element-wise functions: the forward expression of x, the derivative from x and the output y ---

def _unary(forward, deriv):
    def make():
        def fwd(c, n):
            c.fwd(f"{n.outs[0]} = {forward(n.args[0].name, n)}")

        def bwd(c, n):
            g = c.g(0)
            if g is not None:
                c.acc(n.args[0], f"{g} * ({deriv(n.args[0].name, n.outs[0], n)})")
        return fwd, bwd
    return make


def _one(n):
    return f"np.{n.out_dtypes[0]}(1)"


codegen("nn.tanh", "tensor.tanh", "math.tanh")(_unary(lambda x, n: f"K.tanh({x})",
                                                      lambda x, y, n: f"{_one(n)} - {y} * {y}"))
codegen("nn.sigmoid")(_unary(lambda x, n: f"K.sigmoid({x})", lambda x, y, n: f"{y} * ({_one(n)} - {y})"))
codegen("nn.relu")(_unary(lambda x, n: f"np.where({x} > 0, {x}, np.{n.out_dtypes[0]}(0))",
                          lambda x, y, n: f"({x} > 0)"))
codegen("tensor.exp", "math.exp")(_unary(lambda x, n: f"np.exp({x})", lambda x, y, n: y))
codegen("tensor.log", "math.log")(_unary(lambda x, n: f"np.log({x})", lambda x, y, n: f"{_one(n)} / {x}"))
codegen(*_ops("abs"))(_unary(lambda x, n: f"np.abs({x})", lambda x, y, n: f"np.sign({x})"))


def _c(n, v: float) -> str:
    """A constant in the output's dtype."""
    return f"np.{n.out_dtypes[0]}({v!r})"


# the math functions of the tape's rules (vjp_rules._elementwise), on tensors and on scalars
for _name, _deriv in {
        "sqrt": lambda x, y, n: f"{_c(n, 0.5)} / {y}",
        "sin": lambda x, y, n: f"np.cos({x})",
        "cos": lambda x, y, n: f"-np.sin({x})",
        "tan": lambda x, y, n: f"{_one(n)} + {y} * {y}",
        "sinh": lambda x, y, n: f"np.cosh({x})",
        "cosh": lambda x, y, n: f"np.sinh({x})",
        "log2": lambda x, y, n: f"{_one(n)} / ({x} * {_c(n, math.log(2.0))})",
        "log10": lambda x, y, n: f"{_one(n)} / ({x} * {_c(n, math.log(10.0))})",
        "asin": lambda x, y, n: f"{_one(n)} / np.sqrt({_one(n)} - {x} * {x})",
        "acos": lambda x, y, n: f"-{_one(n)} / np.sqrt({_one(n)} - {x} * {x})",
        "atan": lambda x, y, n: f"{_one(n)} / ({_one(n)} + {x} * {x})"}.items():
    codegen(f"tensor.{_name}", f"math.{_name}")(_unary((lambda f: lambda x, n: f"np.{f}({x})")(
        {"asin": "arcsin", "acos": "arccos", "atan": "arctan"}.get(_name, _name)), _deriv))


def _alpha(n) -> str:
    """The static operand of leaky_relu and elu (the trace's last argument), in the output's dtype."""
    return f"np.{n.out_dtypes[0]}({float(n.args[1].value)!r})"


codegen("nn.leaky_relu")(_unary(lambda x, n: f"np.where({x} > 0, {x}, {_alpha(n)} * {x})",
                                lambda x, y, n: f"np.where({x} > 0, {_one(n)}, {_alpha(n)})"))
codegen("nn.elu")(_unary(lambda x, n: f"np.where({x} > 0, {x}, {_alpha(n)} * np.expm1(np.minimum({x}, 0)))",
                         lambda x, y, n: f"np.where({x} > 0, {_one(n)}, {y} + {_alpha(n)})"))
codegen("nn.silu")(_unary(lambda x, n: f"{x} * K.sigmoid({x})",
                          lambda x, y, n: f"K.sigmoid({x}) * ({_one(n)} + {x} * ({_one(n)} - K.sigmoid({x})))"))


@codegen("nn.gelu")
def _gelu():
    def fwd(c, n):
        c.fwd(f"{n.outs[0]} = K.gelu({n.args[0].name}, np.{n.out_dtypes[0]}({GELU_C!r}))")

    def bwd(c, n):
        if c.g(0) is not None:
            x = n.args[0].name
            c.acc(n.args[0], f"K.gelu_back({c.g(0)}, {x}, np.{n.out_dtypes[0]}({GELU_C!r}))")
    return fwd, bwd


@codegen("nn.softmax", "nn.log_softmax")
def _softmax():
    def fwd(c, n):
        if len(n.args[0].shape) != 1:
            c.refuse(f"{n.op} of a tensor of rank {len(n.args[0].shape)}")
        c.fwd(f"{n.outs[0]} = K.{n.op[3:]}({n.args[0].name})")

    def bwd(c, n):
        if c.g(0) is not None:
            c.acc(n.args[0], f"K.{n.op[3:]}_back({c.g(0)}, {n.outs[0]})")
    return fwd, bwd


# ---- structure ---------------------------------------------------------------------------------------

def _reduced(c, n, how: str, axis):
    """x reduced (sum, mean, max, min) over one axis of each example, or over all of it (axis None): the
    reduced axis moved last, the rest of the example's values as rows [P, n] (runtime/trace_kernels)."""
    x = n.args[0]
    rank = len(x.shape)
    keep = [d for d in range(rank) if d != axis]
    perm = (0,) + tuple(d + 1 for d in keep) + (axis + 1,) if axis is not None else tuple(range(rank + 1))
    width = x.shape[axis] if axis is not None else int(math.prod(x.shape))
    moved = f"{x.name}.transpose({perm!r})" if perm != tuple(range(rank + 1)) else x.name
    code = REDUCE[how]
    o = n.outs[0]

    def fwd():
        c.fwd(f"{o}_t = np.ascontiguousarray({moved}).reshape((-1, {width}))")
        c.fwd(f"{o} = K.reduce_rows({o}_t, {code}).reshape((B,) + {tuple(n.out_shapes[0])!r})")

    def bwd():
        g = c.g(0)
        if g is None or not x.grad:
            return
        t = c.tmp()
        c.bwd(f"{t} = K.reduce_rows_back(np.ascontiguousarray({g}).reshape(-1), {o}_t, {o}.reshape(-1), {code})")
        if axis is None:
            c.acc(x, f"{t}.reshape((B,) + {tuple(x.shape)!r})")
            return
        inverse = tuple(perm.index(d) for d in range(rank + 1))
        moved_shape = tuple(x.shape[d] for d in keep) + (x.shape[axis],)
        c.acc(x, f"np.ascontiguousarray({t}.reshape((B,) + {moved_shape!r}).transpose({inverse!r}))")
    return fwd, bwd


REDUCE = {"sum": 0, "mean": 1, "max": 2, "min": 3}  # runtime/trace_kernels.reduce_rows' codes


@codegen("tensor.sum", "tensor.mean", "tensor.max", "tensor.min", "tensor.reduce")
def _reduce():
    def parts(c, n):
        if n.op == "tensor.reduce":
            return _reduced(c, n, n.args[1].value, n.args[2].value)
        return _reduced(c, n, n.op[7:], None)

    def fwd(c, n):
        parts(c, n)[0]()

    def bwd(c, n):
        parts(c, n)[1]()
    return fwd, bwd


@codegen("tensor.transpose")
def _transpose():
    def perm(n):
        return (0,) + tuple(range(len(n.args[0].shape), 0, -1))

    def fwd(c, n):
        c.fwd(f"{n.outs[0]} = np.ascontiguousarray({c.rows(n.args[0])}.transpose({perm(n)!r}))")

    def bwd(c, n):
        if c.g(0) is not None:
            c.acc(n.args[0], f"np.ascontiguousarray({c.g(0)}.transpose({perm(n)!r}))")
    return fwd, bwd


@codegen("tensor.stack")
def _stack():
    def fwd(c, n):
        c.fwd(f"{n.outs[0]} = np.stack(({', '.join(c.rows(a) for a in n.args)},), axis=1)")

    def bwd(c, n):
        g = c.g(0)
        if g is not None:
            for i, a in enumerate(n.args):
                c.acc(a, f"np.ascontiguousarray({g}[:, {i}])")
    return fwd, bwd


@codegen("tensor.where")
def _where():
    def fwd(c, n):
        R = len(n.out_shapes[0])
        cond, a, b = (c.expand(x, R, n) for x in n.args)
        c.fwd(f"{n.outs[0]} = np.where({cond} != 0, {a}, {b}).astype(np.{n.out_dtypes[0]})")

    def bwd(c, n):
        g = c.g(0)
        if g is None:
            return
        R = len(n.out_shapes[0])
        cond, a, b = n.args
        zero = f"np.{n.out_dtypes[0]}(0)"
        m = c.expand(cond, R, n)
        c.acc(a, c.unb(a, f"np.where({m} != 0, {g}, {zero})", R))
        c.acc(b, c.unb(b, f"np.where({m} != 0, {zero}, {g})", R))
    return fwd, bwd


def _as_matrices(a, vector_as: str) -> str:
    """A matmul operand as a stack of matrices [rows, m, k]: one per example, or one for all (a
    constant); a vector is one row ('row') or one column ('col')."""
    shape = a.shape if len(a.shape) == 2 else ((1,) + a.shape if vector_as == "row" else a.shape + (1,))
    return f"np.ascontiguousarray({a.name}).reshape(({'B' if a.kind == 'var' else 1},) + {shape!r})"


@codegen("tensor.matmul")
def _matmul():
    def fwd(c, n):
        a, b = n.args
        if len(a.shape) > 2 or len(b.shape) > 2:
            c.refuse(f"a matmul of ranks {len(a.shape)} and {len(b.shape)}")
        o = n.outs[0]
        c.fwd(f"{o}_a = {_as_matrices(a, 'row')}")
        c.fwd(f"{o}_b = {_as_matrices(b, 'col')}")
        c.fwd(f"{o} = K.bmm({o}_a, {o}_b).reshape((B,) + {tuple(n.out_shapes[0])!r})")

    def bwd(c, n):
        g = c.g(0)
        if g is None:
            return
        a, b = n.args
        o = n.outs[0]
        m = a.shape[0] if len(a.shape) == 2 else 1
        k = b.shape[1] if len(b.shape) == 2 else 1
        c.bwd(f"{o}_g = np.ascontiguousarray({g}).reshape((B, {m}, {k}))")
        if a.grad:
            c.acc(a, f"K.bmm({o}_g, np.ascontiguousarray({o}_b.transpose((0, 2, 1)))).reshape((B,) + {a.shape!r})")
        if b.grad:
            c.acc(b, f"K.bmm(np.ascontiguousarray({o}_a.transpose((0, 2, 1))), {o}_g).reshape((B,) + {b.shape!r})")
    return fwd, bwd


def _index(n) -> str:
    """The indices of `tensor.getitem` (constant ints) or the bounds of `tensor.slice`, after the batch's."""
    a, *idx = n.args
    if any(i.kind != "const" or not isinstance(i.value, int) for i in idx):
        return ""
    if n.op == "tensor.slice":
        return f":, {idx[0].value}:{idx[1].value}"
    return ":, " + ", ".join(str(i.value) for i in idx)


@codegen("tensor.getitem", "tensor.slice")
def _getitem():
    def fwd(c, n):
        where = _index(n)
        if not where:
            c.refuse("indexing a tensor by a computed index")
        a = n.args[0].name
        single = n.op == "tensor.getitem" and len(n.args) == 2
        c.fwd(f"{n.outs[0]} = " + (f"K.column({a}, {n.args[1].value})" if single else
                                   f"np.ascontiguousarray({a}[{where}])"))

    def bwd(c, n):
        g, a = c.g(0), n.args[0]
        if g is not None and a.grad:
            t = c.tmp()
            c.bwd(f"{t} = np.zeros((B,) + {a.shape!r}, np.{a.dtype})")
            c.bwd(f"{t}[{_index(n)}] = {g}")
            c.acc(a, t)
    return fwd, bwd


@codegen("tensor.concat")
def _concat():
    def fwd(c, n):
        *parts, axis = n.args
        c.fwd(f"{n.outs[0]} = np.concatenate(({', '.join(c.rows(p) for p in parts)},), axis={axis.value + 1})")

    def bwd(c, n):
        g = c.g(0)
        if g is None:
            return
        *parts, axis = n.args
        lo, pre = 0, ":, " * (axis.value + 1)
        for p in parts:
            hi = lo + p.shape[axis.value]
            c.acc(p, f"np.ascontiguousarray({g}[{pre}{lo}:{hi}])")
            lo = hi
    return fwd, bwd


@codegen("tensor.reshape")
def _reshape():
    def fwd(c, n):
        c.fwd(f"{n.outs[0]} = np.ascontiguousarray({c.rows(n.args[0])}).reshape((B,) + {tuple(n.out_shapes[0])!r})")

    def bwd(c, n):
        if c.g(0) is not None:
            a = n.args[0]
            c.acc(a, f"np.ascontiguousarray({c.g(0)}).reshape((B,) + {tuple(a.shape)!r})")
    return fwd, bwd


# ---- losses: the prediction and the batch's targets `Y`; the seed is the loss's weight `s` ----------

@codegen("loss.ce_int", "loss.nll_int", "loss.ce_onehot", "loss.nll_onehot", "loss.mse", "loss.mae", "loss.bce")
def _loss():
    def fwd(c, n):
        p = n.args[0]
        if n.op not in ("loss.mse", "loss.mae", "loss.bce") and len(p.shape) != 1:
            c.refuse(f"{n.op} of a prediction of rank {len(p.shape)}")
        c.fwd(f"{n.outs[0]}, {n.outs[0]}_ct = K.{n.op[5:]}({p.name}, Y, s)")

    def bwd(c, n):
        c.acc(n.args[0], f"{n.outs[0]}_ct")
    return fwd, bwd


from .codegen_layers import FUSED  # noqa: E402,F401 (registers the layers' rules; trace_compile reads FUSED)
