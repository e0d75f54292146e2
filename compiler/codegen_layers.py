"""Codegen rules of the layers (compiled training traces, compiler/trace_compile.py): convolution and
pooling, dense, embedding, dropout, the recurrent cells and layer_norm, and the nodes that
compiler/trace_fuse.py writes into a trace. The rules' form is codegen_rules.py's; that module imports
this one, so importing it registers every rule.
"""
from __future__ import annotations

import math

from glia.runtime.tensor_ops import LN_EPS

from .codegen_rules import Codegen, codegen


# ---- convolution and pooling: a 1-d signal [C, L] is computed as an image [C, 1, L] ------------------

def _as_image(expr: str, shape: tuple) -> str:
    """Rows of examples of `shape` ([C, H, W], or [C, L] as [C, 1, L]) as a [B, C, H, W] array."""
    if len(shape) == 3:
        return expr
    return f"np.ascontiguousarray({expr}).reshape((B, {shape[0]}, 1, {shape[1]}))"


@codegen("layer.conv2d", "layer.conv1d")
def _conv():
    def geometry(n):
        x, W, b, stride, pad = n.args
        flat = n.op == "layer.conv1d"
        w = W.name if not flat else f"{W.name}.reshape(({W.shape[0]}, {W.shape[1]}, 1, {W.shape[2]}))"
        s, p = int(stride.value), int(pad.value)
        return w, (f"1, {s}, 0, {p}" if flat else f"{s}, {s}, {p}, {p}")

    def fwd(c, n):
        x = n.args[0]
        w, geo = geometry(n)
        o = n.outs[0]
        c.fwd(f"{o}_y, {o}_cols, {o}_at = K.conv({_as_image(c.rows(x), x.shape)}, {w}, {n.args[2].name}, {geo})")
        c.fwd(f"{o} = {o}_y.reshape((B,) + {tuple(n.out_shapes[0])!r})")

    def bwd(c, n):
        g = c.g(0)
        if g is None:
            return
        x, W, b = n.args[:3]
        w, _ = geometry(n)
        gw = W.gname if n.op == "layer.conv2d" else f"{W.gname}.reshape(({W.shape[0]}, {W.shape[1]}, 1, {W.shape[2]}))"
        h, wd = (x.shape[1], x.shape[2]) if len(x.shape) == 3 else (1, x.shape[1])
        o = n.outs[0]
        t = c.tmp()
        c.bwd(f"{t} = K.conv_back({_as_image(g, n.out_shapes[0])}, {o}_cols, {o}_at, {w}, {h}, {wd}, {gw}, "
              f"{b.gname}, {x.grad})")
        c.acc(x, f"{t}.reshape((B,) + {tuple(x.shape)!r})")
    return fwd, bwd


@codegen("tensor.max_pool", "tensor.avg_pool")
def _pool():
    def window(n):
        k = int(n.args[1].value)
        return (k, k) if len(n.args[0].shape) == 3 else (1, k)

    def fwd(c, n):
        x = n.args[0]
        o = n.outs[0]
        kh, kw = window(n)
        c.fwd(f"{o}_y, {o}_at = K.pool({_as_image(c.rows(x), x.shape)}, {kh}, {kw}, {n.op == 'tensor.max_pool'})")
        c.fwd(f"{o} = {o}_y.reshape((B,) + {tuple(n.out_shapes[0])!r})")

    def bwd(c, n):
        g, x = c.g(0), n.args[0]
        if g is None or not x.grad:
            return
        o = n.outs[0]
        kh, kw = window(n)
        h, w = (x.shape[1], x.shape[2]) if len(x.shape) == 3 else (1, x.shape[1])
        c.acc(x, f"K.pool_back({_as_image(g, n.out_shapes[0])}, {o}_at, {h}, {w}, {kh}, {kw}, "
                 f"{n.op == 'tensor.max_pool'}).reshape((B,) + {tuple(x.shape)!r})")
    return fwd, bwd


# ---- layers: dense and the recurrent cells ----------------------------------------------------------

def _vector_in(c, n, count):
    for a in n.args[:count]:
        if len(a.shape) != 1:
            c.refuse(f"{n.op} of a tensor of rank {len(a.shape)} (compiled for vectors)")


def _back(c, n, outs: int, call: str):
    """Emit `call` (a backward kernel returning the cotangents of the node's first `outs` arguments and
    adding the parameters' gradients itself); the cotangents go to those arguments."""
    ts = [c.tmp() for _ in range(outs)]
    c.bwd(f"{', '.join(ts)} = {call}")
    for a, t in zip(n.args, ts):
        c.acc(a, t)


def _grads(n, first):
    """The parameters' gradient views, then whether each input needs its cotangent."""
    return ", ".join([a.gname for a in n.args[first:]] + [str(a.grad) for a in n.args[:first]])


@codegen("layer.dense")
def _dense():
    def fwd(c, n):
        _vector_in(c, n, 1)
        x, W, b = n.args
        c.fwd(f"{n.outs[0]} = K.dense({c.rows(x)}, {W.name}, {b.name})")

    def bwd(c, n):
        g = c.g(0)
        if g is not None:
            x, W, b = n.args
            c.bwd(f"{b.gname} += K.col_sum({g})")
            c.defer(W, c.rows(x), g)
            if x.grad:
                c.acc(x, f"np.dot({g}, {W.name}.T)")
    return fwd, bwd


@codegen("layer.embedding")
def _embedding():
    """The rows of E at each example's index (an int of the trace: a constant, or computed from the
    example, which the trace's guards keep within the table: build() in trace_compile.py); the table's
    gradient is a scatter-add of the cotangents into those rows."""
    def fwd(c, n):
        i, E = n.args
        c.fwd(f"{n.outs[0]} = " + (f"{E.name}[{i.name}]" if i.kind == "var" else f"K.rows({E.name}[{i.value!r}], B)"))

    def bwd(c, n):
        g = c.g(0)
        if g is not None:
            i, E = n.args
            c.bwd(f"K.scatter_rows({E.gname}, {i.name}, {g})" if i.kind == "var" else
                  f"{E.gname}[{i.value!r}] += K.col_sum({g})")
    return fwd, bwd


@codegen("f32.to_int", "float.to_int")
def _to_int():
    """int() of a value computed in the trace: only an embedding's index reaches it (TraceInterpreter)."""
    def fwd(c, n):
        c.fwd(f"{n.outs[0]} = K.to_int({n.args[0].name})")

    def bwd(c, n):
        pass  # an int carries no gradient
    return fwd, bwd


@codegen("layer.dropout")
def _dropout():
    """x times the mask that runtime/tensor_ops.dropout_mask makes from the example's uniforms: the
    trace's draws are the columns of U, each dropout call its `size` of them from `offset` on, drawn in
    the tape's order by the engine (TraceEngine.uniforms)."""
    def fwd(c, n):
        x, p, offset = n.args
        size = int(math.prod(x.shape))
        o = n.outs[0]
        c.fwd(f"{o}_m = K.dropout_mask(U[:, {offset.value}:{offset.value + size}], {float(p.value)!r})"
              f".astype(np.{n.out_dtypes[0]}).reshape((B,) + {tuple(x.shape)!r})")
        c.fwd(f"{o} = {c.rows(x)} * {o}_m")

    def bwd(c, n):
        if c.g(0) is not None:
            c.acc(n.args[0], f"{c.g(0)} * {n.outs[0]}_m")
    return fwd, bwd


@codegen("layer.rnn_cell")
def _rnn():
    def fwd(c, n):
        _vector_in(c, n, 2)
        x, h, Wx, Wh, b = n.args
        c.fwd(f"{n.outs[0]} = K.rnn({c.rows(x)}, {c.rows(h)}, {Wx.name}, {Wh.name}, {b.name})")

    def bwd(c, n):
        g = c.g(0)
        if g is not None:
            x, h, Wx, Wh, b = n.args
            _back(c, n, 2, f"K.rnn_back({g}, {n.outs[0]}, {c.rows(x)}, {c.rows(h)}, {Wx.name}, {Wh.name}, "
                           f"{_grads(n, 2)})")
    return fwd, bwd


@codegen("layer.gru_cell")
def _gru():
    def fwd(c, n):
        _vector_in(c, n, 2)
        x, h, *ps = n.args
        o = n.outs[0]
        c.fwd(f"{o}, {o}_r, {o}_z, {o}_n, {o}_ah = K.gru({c.rows(x)}, {c.rows(h)}, "
              f"{', '.join(p.name for p in ps)})")

    def bwd(c, n):
        g = c.g(0)
        if g is not None:
            x, h, Wx, Wh, bx, bh = n.args
            o = n.outs[0]
            _back(c, n, 2, f"K.gru_back({g}, {c.rows(x)}, {c.rows(h)}, {Wx.name}, {Wh.name}, {o}_r, {o}_z, {o}_n, "
                           f"{o}_ah, {_grads(n, 2)})")
    return fwd, bwd


@codegen("layer.lstm_cell")
def _lstm():
    def fwd(c, n):
        _vector_in(c, n, 3)
        x, h, cs, *ps = n.args
        h2, c2 = n.outs
        c.fwd(f"{h2}, {c2}, {h2}_i, {h2}_f, {h2}_g, {h2}_o, {h2}_tc = K.lstm({c.rows(x)}, {c.rows(h)}, "
              f"{c.rows(cs)}, {', '.join(p.name for p in ps)})")

    def bwd(c, n):
        gh, gc = c.g(0), c.g(1)
        if gh is None and gc is None:
            return
        x, h, cs, Wx, Wh, b = n.args
        h2, c2 = n.outs
        zero = f"np.zeros_like({h2})"
        _back(c, n, 3, f"K.lstm_back({gh or zero}, {gc or zero}, {c.rows(x)}, {c.rows(h)}, {c.rows(cs)}, "
                       f"{Wx.name}, {Wh.name}, {h2}_i, {h2}_f, {h2}_g, {h2}_o, {h2}_tc, {_grads(n, 3)})")
    return fwd, bwd


@codegen("layer.layer_norm")
def _layer_norm():
    def fwd(c, n):
        _vector_in(c, n, 1)
        x, g, b = n.args
        o = n.outs[0]
        c.fwd(f"{o}, {o}_xh, {o}_inv = K.layer_norm({c.rows(x)}, {g.name}, {b.name}, {LN_EPS!r})")

    def bwd(c, n):
        go = c.g(0)
        if go is not None:
            o = n.outs[0]
            _back(c, n, 1, f"K.layer_norm_back({go}, {o}_xh, {o}_inv, {n.args[1].name}, {_grads(n, 1)})")
    return fwd, bwd


# ---- the nodes of compiler/trace_fuse.py (not primitives: the pass writes them into a trace) ---------

FUSED: dict[str, Codegen] = {}


def fused(op):
    def deco(make):
        FUSED[op] = Codegen(*make())
        return make
    return deco


def _stacked_dense(inputs, cotangents):
    """The rules of a stacked product: `inputs(c, n)` gives the stacked rows' expression,
    `cotangents(c, n, gx)` sends the stacked rows' cotangent gx to the inputs. The inputs' nonzeros are
    found once (runtime/trace_kernels.nonzeros) for the product and for the weight's gradient."""
    def fwd(c, n):
        W, b = n.args[-2:]
        y = n.outs[0]
        c.fwd(f"{y}_x = {inputs(c, n)}")
        c.fwd(f"{y}_nz, {y}_at = K.nonzeros({y}_x)")
        c.fwd(f"{y}_y = K.dense_nz({y}_x, {y}_nz, {y}_at, {W.name}, {b.name})")
        for i, o in enumerate(n.outs):
            c.fwd(f"{o} = {c.block(o, f'{y}_y', i)}")

    def bwd(c, n):
        gs = [c.g(k) for k in range(len(n.outs))]
        if all(g is None for g in gs):
            return
        W, b = n.args[-2:]
        y = n.outs[0]
        if all(g is None or c.blocks.get(g) == (f"{y}_y_g", k) for k, g in enumerate(gs)) and f"{y}_y_g" in c.buffers:
            c.bwd(f"{y}_g = {y}_y_g")  # the cotangents were written into their blocks (fused.rnn_step)
        else:
            c.bwd(f"{y}_g = np.concatenate(({', '.join(g or f'np.zeros_like({o})' for g, o in zip(gs, n.outs))},), "
                  "axis=0)")
        c.bwd(f"K.add_xtg_nz({W.gname}, {y}_x, {y}_nz, {y}_at, {y}_g)")
        c.bwd(f"{b.gname} += K.col_sum({y}_g)")
        if any(x.grad for x in n.args[:-2]):
            c.bwd(f"{y}_gx = np.dot({y}_g, {W.name}.T)")
            cotangents(c, n, f"{y}_gx")
    return fwd, bwd


def _dense_inputs(c, n):
    return f"np.concatenate(({', '.join(c.rows(x) for x in n.args[:-2])},), axis=0)"


def _dense_cotangents(c, n, gx):
    for i, x in enumerate(n.args[:-2]):
        c.acc(x, f"{gx}[{i} * B:{i + 1} * B]")


@fused("fused.dense")
def _fused_dense():
    """x_i W + b for every input x_i of a group: the rows stacked, one product, a row block per output."""
    return _stacked_dense(_dense_inputs, _dense_cotangents)


@fused("fused.dense_rows")
def _fused_dense_rows():
    """The same when the inputs are the rows k0, k0 + 1, ... of one value v [m, d] of each example (a
    layer applied to each row of a sequence): args (v, k0, W, b); one copy stacks them."""
    def inputs(c, n):
        v, k0 = n.args[:2]
        return f"K.stack_rows({v.name}, {k0.value}, {len(n.outs)})"

    def cotangents(c, n, gx):
        v, k0 = n.args[:2]
        c.acc(v, f"K.unstack_rows({gx}, B, {v.shape[0]}, {k0.value})")
    return _stacked_dense(inputs, cotangents)


def _zero(a) -> bool:
    """A constant all-zero state (a recurrence's usual start): its product is left out."""
    return a.kind == "const" and a.shape != () and not a.value.any()


@fused("fused.rnn_step")
def _rnn_step():
    """tanh(u + h Wh), u being the cell's input projection plus bias (its group's product). When u is
    block i of the stacked product, the state is written into block i of a buffer of the states, and
    its cotangent into block i of one of u's cotangents: the recurrent weight's gradient then reads the
    states and the cotangents as two slices (Emit.stacked), and the stacked product's backward reads
    the cotangents as they are."""
    def fwd(c, n):
        u, h, Wh = n.args
        o = n.outs[0]
        at = c.blocks.get(u.name)
        if at is None:
            c.fwd(f"{o} = " + (f"K.tanh({u.name})" if _zero(h) else f"K.rnn_step({u.name}, {c.rows(h)}, {Wh.name})"))
            return
        c.fwd(f"{o} = {c.block(o, c.stack(at[0] + '_h', at[0]), at[1])}")
        c.fwd(f"K.tanh_into({u.name}, {o})" if _zero(h) else f"K.rnn_step_into({u.name}, {c.rows(h)}, {Wh.name}, {o})")

    def bwd(c, n):
        g = c.g(0)
        if g is None:
            return
        u, h, Wh = n.args
        ga = c.tmp()
        at = c.blocks.get(u.name)
        if at is None or f"g{u.index}" in c.defined:
            c.bwd(f"{ga} = K.tanh_back({g}, {n.outs[0]})")
        else:  # u is read by this step alone: its cotangent is ga
            c.bwd(f"{ga} = {c.block(ga, c.stack(at[0] + '_g', at[0], backward=True), at[1])}")
            c.bwd(f"K.tanh_back_into({g}, {n.outs[0]}, {ga})")
            c.blocks[f"g{u.index}"] = c.blocks[ga]
        c.acc(u, ga)
        if not _zero(h):
            c.defer(Wh, c.rows(h), ga)
            if h.grad:
                c.acc(h, f"np.dot({ga}, {Wh.name}.T)")
    return fwd, bwd
