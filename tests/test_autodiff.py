"""Reverse-mode AD: every primitive's VJP rule against central finite differences in float64
(Hypothesis over shapes and values), and whole programs (loops, branches, recursion, lists,
structs, a data-dependent while) differentiated by the tape against finite differences."""
from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glia
from glia.compiler.autodiff import ad_interpreter
from glia.compiler.primitives import PRIMS
from glia.compiler.diagnostics import GliaError

H = 1e-6


def numeric_vjp(f, args, i, u):
    """d/d args[i] of sum(u * f(args)), by central differences."""
    x = args[i]
    if not isinstance(x, np.ndarray):
        up = list(args)
        dn = list(args)
        up[i], dn[i] = x + H, x - H
        return float(np.sum(u * (np.asarray(f(*up)) - np.asarray(f(*dn)))) / (2 * H))
    g = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        up = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        dn = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        up[i][k] += H
        dn[i][k] -= H
        g[k] = np.sum(u * (np.asarray(f(*up), dtype=np.float64) - np.asarray(f(*dn), dtype=np.float64))) / (2 * H)
    return g


def arr(draw, shape, lo=-2.0, hi=2.0, away=0.0):
    vals = draw(st.lists(st.floats(lo, hi, allow_nan=False, allow_infinity=False), min_size=int(np.prod(shape)),
                         max_size=int(np.prod(shape))))
    a = np.array(vals, dtype=np.float64).reshape(shape)
    if away:
        a = np.where(np.abs(a) < away, np.sign(a + 1e-300) * away + a, a)
    return a


def dims(draw, n, lo=1, hi=4):
    return tuple(draw(st.integers(lo, hi)) for _ in range(n))


# op -> draw(data) -> (args, attrs, indices of the arguments to check)
CASES = {}


def case(*ops):
    def deco(f):
        for op in ops:
            CASES[op] = f
        return f
    return deco


@case("tensor.add", "tensor.sub", "tensor.mul")
def _binary(d):
    s = dims(d, d(st.integers(1, 3)))
    t = s[-d(st.integers(1, len(s))):] if d(st.booleans()) else s
    return [arr(d, s), arr(d, t)], (), (0, 1)


@case("tensor.truediv")
def _div(d):
    s = dims(d, 2)
    return [arr(d, s), arr(d, s[-1:], away=0.5)], (), (0, 1)


@case("tensor.pow")
def _pow(d):
    s = dims(d, 2)
    return [arr(d, s, 0.5, 2.0), arr(d, s, -1.5, 1.5)], (), (0, 1)


@case("float.add", "float.sub", "float.mul", "float.truediv", "float.pow", "f32.add", "f32.sub", "f32.mul",
      "f32.truediv", "f32.pow")
def _scalars(d):
    return [d(st.floats(0.5, 2.0)), d(st.floats(0.5, 2.0))], (), (0, 1)


@case("tensor.neg", "tensor.abs", "tensor.sum", "tensor.mean", "tensor.exp",
      "tensor.sin", "tensor.cos", "tensor.tanh", "tensor.tan", "nn.relu", "nn.sigmoid",
      "nn.tanh", "nn.gelu", "nn.silu", "nn.softmax", "nn.log_softmax", "tensor.transpose")
def _unary(d):
    s = dims(d, 2)
    return [arr(d, s, -1.2, 1.2, away=0.05)], (), (0,)


@case("tensor.astype")
def _astype(d):
    return [arr(d, dims(d, 2))], ("float",), (0,)


def distinct(d, shape):
    """Values without ties (min/max are not differentiable at a tie)."""
    n = int(np.prod(shape))
    perm = d(st.permutations(range(n)))
    return (np.array(perm, dtype=np.float64) * 0.1 - 0.3 * n / 2 + arr(d, shape, 0, 0.01).ravel()).reshape(shape)


@case("tensor.min", "tensor.max")
def _extreme(d):
    return [distinct(d, dims(d, 2))], (), (0,)


@case("tensor.log", "tensor.sqrt")
def _positive(d):
    return [arr(d, dims(d, 2), 0.3, 3.0)], (), (0,)


@case("float.neg", "float.abs", "f32.neg", "f32.abs", "math.exp", "math.sin", "math.cos", "math.tanh", "math.tan",
      "math.sinh", "math.cosh", "math.atan", "float.to_f32", "f32.to_float")
def _scalar_unary(d):
    return [d(st.floats(0.1, 1.2))], (), (0,)


@case("math.log", "math.sqrt", "math.log2", "math.log10")
def _scalar_pos(d):
    return [d(st.floats(0.3, 3.0))], (), (0,)


@case("float.mod", "f32.mod")
def _mod(d):  # away from the jumps, where a / b is an integer
    a, b = d(st.floats(-3.0, 3.0)), d(st.floats(0.4, 2.0) | st.floats(-2.0, -0.4))
    return [a + (0.05 if abs(a / b - round(a / b)) < 0.01 else 0.0), b], (), (0, 1)


@case("float.divmod", "f32.divmod")
def _divmod(d):  # (a // b, a % b) away from the jumps
    return _mod(d)


@case("float.floordiv", "f32.floordiv")
def _floordiv(d):  # away from the jumps: a zero gradient
    a, b = _mod(d)[0]
    return [a, b], (), (0, 1)


@case("float.roundn", "f32.roundn")
def _roundn(d):
    n = d(st.integers(0, 2))
    x = d(st.floats(-3.0, 3.0))
    return [round(x, n) + 0.3 * 10.0 ** -n, n], (), (0,)


@case("math.atan2", "math.hypot")
def _scalar_pair(d):
    return [d(st.floats(-2.0, 2.0).filter(lambda v: abs(v) > 0.2)), d(st.floats(-2.0, 2.0))], (), (0, 1)


@case("math.asin", "math.acos")
def _scalar_unit(d):
    return [d(st.floats(-0.8, 0.8))], (), (0,)


@case("nn.leaky_relu", "nn.elu")
def _alpha(d):
    return [arr(d, dims(d, 2), away=0.05)], (d(st.floats(0.01, 1.0)),), (0,)


@case("tensor.matmul")
def _matmul(d):
    m, k, n = dims(d, 3)
    shapes = d(st.sampled_from([((m, k), (k, n)), ((k,), (k, n)), ((m, k), (k,)), ((k,), (k,))]))
    return [arr(d, shapes[0]), arr(d, shapes[1])], (), (0, 1)


@case("tensor.reduce")
def _reduce(d):
    s = dims(d, 3)
    return [distinct(d, s)], (d(st.sampled_from(["sum", "mean", "max", "min"])), d(st.integers(0, 2))), (0,)


@case("tensor.getitem")
def _getitem(d):
    s = dims(d, 2)
    return [arr(d, s), d(st.integers(0, s[0] - 1))], (), (0,)


@case("tensor.slice")
def _slice(d):
    n = d(st.integers(2, 5))
    lo = d(st.integers(0, n - 1))
    return [arr(d, (n, 2)), lo, d(st.integers(lo + 1, n))], (), (0,)


@case("tensor.concat")
def _concat(d):
    a, b, c = dims(d, 3)
    return [arr(d, (a, c)), arr(d, (b, c)), 0], (), (0, 1)


@case("tensor.stack")
def _stack(d):
    s = dims(d, 2)
    return [arr(d, s), arr(d, s)], (), (0, 1)


@case("tensor.reshape")
def _reshape(d):
    a, b = dims(d, 2)
    return [arr(d, (a, b)), (b, a)], (), (0,)


@case("tensor.gt", "tensor.ge", "tensor.lt", "tensor.le", "tensor.eq", "tensor.ne")
def _compare(d):
    s = dims(d, 2)
    x = distinct(d, s)
    return ([x, float(x.ravel()[0]) + 0.05] if d(st.booleans()) else [x, distinct(d, s) + 0.03]), (), (0, 1)


@case("tensor.where")
def _where(d):
    s = dims(d, 2)
    return [(arr(d, s) > 0).astype(np.float64), arr(d, s), arr(d, s[-1:])], (), (1, 2)


@case("float.sum", "f32.sum")
def _sum_list(d):
    return [[d(st.floats(-2, 2)) for _ in range(d(st.integers(1, 4)))], 0.5], (), (1,)


@case("seq.mean")
def _mean_list(d):
    return [[d(st.floats(-2, 2)) for _ in range(d(st.integers(1, 4)))]], (), (0,)


@case("loss.mse", "loss.mae")
def _regression(d):
    s = dims(d, 1, 2, 5)
    p = arr(d, s)
    return [p, p + arr(d, s, 0.1, 1.0) * np.where(arr(d, s) > 0, 1, -1)], (), (0, 1)


@case("loss.bce")
def _bce(d):
    s = dims(d, 1, 2, 5)
    return [arr(d, s, 0.1, 0.9), arr(d, s, 0.0, 1.0)], (), (0, 1)


@case("loss.ce_int", "loss.nll_int")
def _ce_int(d):
    k = d(st.integers(2, 5))
    return [arr(d, (k,), 0.1, 0.9), d(st.integers(0, k - 1))], (), (0,)  # (probabilities, inside by more than a step)


@case("loss.ce_onehot", "loss.nll_onehot")
def _ce_onehot(d):
    k = d(st.integers(2, 5))
    return [arr(d, (k,), 0.1, 0.9), arr(d, (k,), 0.0, 1.0)], (), (0, 1)


@case("layer.dense")
def _dense(d):
    b, k, n = dims(d, 3)
    x = arr(d, (k,)) if d(st.booleans()) else arr(d, (b, k))
    return [x, arr(d, (k, n)), arr(d, (n,))], (), (0, 1, 2)


@case("layer.embedding")
def _embedding(d):
    v, n = dims(d, 2, 2, 4)
    return [d(st.integers(0, v - 1)), arr(d, (v, n))], (), (1,)


@case("layer.rnn_cell")
def _rnn(d):
    k, n = dims(d, 2)
    return [arr(d, (k,)), arr(d, (n,)), arr(d, (k, n)), arr(d, (n, n)), arr(d, (n,))], (), (0, 1, 2, 3, 4)


@case("layer.gru_cell")
def _gru(d):
    k, n = dims(d, 2)
    return [arr(d, (k,)), arr(d, (n,)), arr(d, (k, 3 * n)), arr(d, (n, 3 * n)), arr(d, (3 * n,)),
            arr(d, (3 * n,))], (), (0, 1, 2, 3, 4, 5)


@case("layer.lstm_cell")
def _lstm(d):
    k, n = dims(d, 2)
    return [arr(d, (k,)), arr(d, (n,)), arr(d, (n,)), arr(d, (k, 4 * n)), arr(d, (n, 4 * n)), arr(d, (4 * n,))], \
        (), (0, 1, 2, 3, 4, 5)


@case("layer.layer_norm")
def _layer_norm(d):
    n = d(st.integers(2, 5))
    return [arr(d, (n,)), arr(d, (n,)), arr(d, (n,))], (), (0, 1, 2)


@case("layer.batch_norm")
def _batch_norm(d):
    """Training mode (through the batch statistics) or evaluation mode (running statistics)."""
    b, k = d(st.integers(2, 5)), d(st.integers(1, 4))
    x = arr(d, (b, k)) + np.arange(b)[:, None] * 5.0  # rows apart: the batch variance stays away from 0
    return [x, arr(d, (k,)), arr(d, (k,)), arr(d, (k,)), arr(d, (k,), 0.1, 2.0), d(st.booleans()), 1e-5], (), \
        (0, 1, 2)


@case("layer.dropout")
def _dropout(d):
    s = dims(d, 2)
    return [arr(d, s), (arr(d, s, 0, 1) > 0.3) * 2.0], (), (0,)


@case("layer.conv2d")
def _conv2d(d):
    c, o, k = d(st.integers(1, 2)), d(st.integers(1, 2)), d(st.integers(1, 3))
    h, w = d(st.integers(k, 5)), d(st.integers(k, 5))
    return [arr(d, (c, h, w)), arr(d, (o, c, k, k)), arr(d, (o,)), d(st.integers(1, 2)), d(st.integers(0, 1))], \
        (), (0, 1, 2)


@case("layer.conv1d")
def _conv1d(d):
    c, o, k = d(st.integers(1, 2)), d(st.integers(1, 2)), d(st.integers(1, 3))
    return [arr(d, (c, d(st.integers(k, 6)))), arr(d, (o, c, k)), arr(d, (o,)), d(st.integers(1, 2)),
            d(st.integers(0, 1))], (), (0, 1, 2)


@case("tensor.max_pool", "tensor.avg_pool")
def _pool(d):
    k = d(st.integers(1, 3))
    shape = (d(st.integers(1, 2)),) + tuple(d(st.integers(k, 6)) for _ in range(d(st.integers(1, 2))))
    return [distinct(d, shape)], (k,), (0,)


def test_every_vjp_rule_is_checked():
    with_rule = {name for name, p in PRIMS.items() if "vjp" in p.rules}
    assert with_rule - set(CASES) == set()


@pytest.mark.parametrize("op", sorted(CASES))
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_vjp_matches_finite_differences(op, data):
    args, attrs, check = CASES[op](data.draw)
    p = PRIMS[op]
    # f32 scalar kernels round to single precision; their rule is checked in float64 on the float kernel
    impl = PRIMS[op.replace("f32.", "float.")].impl if op.startswith("f32.") and "to_" not in op else p.impl
    if op in ("f32.to_float", "float.to_f32"):
        impl = float

    def f(*a):
        out = impl(*a, *attrs)
        return np.concatenate([np.ravel(o) for o in out]) if isinstance(out, tuple) else out

    out = impl(*args, *attrs)
    if isinstance(out, tuple):
        us = tuple(np.random.default_rng(0).normal(size=np.shape(o)) for o in out)
        u = np.concatenate([np.ravel(x) for x in us])
        g = us
    else:
        u = np.random.default_rng(0).normal(size=np.shape(out))
        g = u if np.shape(out) else float(u)
    cts = p.rules["vjp"](g, out, args, attrs)
    for i in check:
        if isinstance(args[i], list):  # a list argument: each element is checked
            for j in range(len(args[i])):
                def fj(v, i=i, j=j):
                    a = list(args)
                    a[i] = list(args[i])
                    a[i][j] = v
                    return f(*a)
                assert np.allclose(cts[i][j], numeric_vjp(lambda v: fj(v), [args[i][j]], 0, u), atol=1e-5)
            continue
        num = numeric_vjp(f, args, i, u)
        assert np.allclose(np.asarray(cts[i], dtype=np.float64), num, rtol=1e-4, atol=1e-5), (op, i)


# ---- whole programs --------------------------------------------------------------------------

PROGRAMS = '''
struct Pair:
    a: f64[3]
    w: float

def loopy(x: f64[3]) -> float:
    h = x
    for i in range(3):
        if sum(h) > 0.0:
            h = tanh(h * 1.5 + 0.1)
        else:
            h = sigmoid(h) - 0.5
    return sum(h * x)

def ponder(x: f64[3]) -> float:
    h = x
    steps = 0
    while sum(h * h) < 4.0 and steps < 20:
        h = h * 1.3 + 0.05
        steps += 1
    return mean(h) * float(steps)

def rec(x: f64[3], n: int) -> float:
    if n == 0:
        return sum(x * x)
    return rec(sin(x) * 1.1, n - 1) + x[0]

def recurse(x: f64[3]) -> float:
    return rec(x, 4)

def listy(x: f64[3]) -> float:
    mem: list[f64[3]] = []
    for i in range(4):
        if i == 2:
            continue
        mem.append(x * float(i + 1))
    total = 0.0
    for m in mem:
        total = total + sum(exp(m * 0.1))
        if total > 1000.0:
            break
    return total + max([sum(m) for m in mem])

def structs(x: f64[3]) -> float:
    p = Pair(x * 2.0, 0.5)
    q = p
    q.w = sum(x)
    return sum(p.a) * q.w + concat(x, p.a)[4]

def cells(x: f64[3]) -> float:
    h = zeros(4, dtype=f64)
    c = zeros(4, dtype=f64)
    for t in range(3):
        h, c = lstm_cell(x * float(t), h, c)
        h = gru_cell(x, h) + rnn_cell(x, h)
    return sum(layer_norm(dense(h, 2)))

def tensor_list(xs: list[f64[3]]) -> float:
    s = 0.0
    for x in xs:
        s = s + sum(softmax(x) * x)
    return s
'''


@pytest.fixture(scope="module")
def prog():
    return glia.compile(PROGRAMS, "ad_programs.glia")


def _interp(prog):
    return prog._backend.interp


@pytest.mark.parametrize("name", ["loopy", "ponder", "recurse", "listy", "structs", "cells"])
@settings(max_examples=8, deadline=None)
@given(x=st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3))
def test_program_gradient_matches_finite_differences(prog, name, x):
    interp = _interp(prog)
    interp.params = None
    from glia.compiler.params import new_store

    interp.params = new_store(interp.program, seed=1)
    x = np.array(x)
    value, g = ad_interpreter(interp).value_and_grad(name, [x])
    f = lambda v: interp.call(name, [v])  # noqa: E731
    assert np.isclose(value, f(x))
    num = np.array([(f(x + H * e) - f(x - H * e)) / (2 * H) for e in np.eye(3)])
    # a data-dependent branch or loop count may flip inside the finite-difference step: skip those points
    if any(_flips(f, x, e) for e in np.eye(3)):
        return
    assert np.allclose(g, num, rtol=1e-4, atol=1e-5), (g, num)


def _flips(f, x, e):
    a, b, c = f(x - 10 * H * e), f(x), f(x + 10 * H * e)
    return abs((c - b) - (b - a)) / (10 * H) > 1e-3 * (1 + abs(b))  # a kink or a jump: not differentiable here


def test_gradient_of_list_argument(prog):
    interp = _interp(prog)
    xs = [np.array([0.1, 0.2, 0.3]), np.array([1.0, -1.0, 0.5])]
    value, g = ad_interpreter(interp).value_and_grad("tensor_list", [xs])
    for k in range(2):
        for j in range(3):
            up = [x.copy() for x in xs]
            dn = [x.copy() for x in xs]
            up[k][j] += H
            dn[k][j] -= H
            num = (interp.call("tensor_list", [up]) - interp.call("tensor_list", [dn])) / (2 * H)
            assert abs(g[k][j] - num) < 1e-5


def test_parameter_gradients_match_finite_differences(prog):
    interp = _interp(prog)
    from glia.compiler.params import new_store

    interp.params = store = new_store(interp.program, seed=3)
    x = np.array([0.3, -0.2, 0.9])
    adi = ad_interpreter(interp)
    store.zero_grad()
    out = adi.forward("cells", [x])
    from glia.compiler.autodiff import backward

    backward(adi.tape, {out.i: 1.0})
    rng = np.random.default_rng(0)
    for k in rng.choice(len(store.flat), 25, replace=False):
        old = store.flat[k]
        store.flat[k] = old + H
        up = interp.call("cells", [x])
        store.flat[k] = old - H
        dn = interp.call("cells", [x])
        store.flat[k] = old
        assert abs(store.grad[k] - (up - dn) / (2 * H)) < 1e-5


def test_grad_in_the_language():
    p = glia.compile('''
def f(x: f64[2]) -> float:
    return sum(x * x * x)

def main():
    g = grad(f)
    v, d = value_and_grad(f)(ones(2, dtype=f64) * 2.0)
    print(g(ones(2, dtype=f64)), v, d)
''')
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        p.run()
    assert buf.getvalue() == "tensor([3.0, 3.0]) 16.0 tensor([12.0, 12.0])\n"


def test_grad_errors_are_located():
    with pytest.raises(GliaError) as e:
        glia.compile("def f(n: int) -> float:\n    return 1.0\n\ndef main():\n    g = grad(f)\n")
    assert e.value.diagnostic.code == "E201"
    with pytest.raises(GliaError) as e:
        glia.compile("def f(x: f64[2]) -> f64[2]:\n    return x\n\ndef main():\n    g = grad(f)\n")
    assert "float or f32 scalar" in e.value.diagnostic.message


def test_setitem_on_the_gradient_path_is_refused():
    p = glia.compile('''
def f(x: f64[2]) -> float:
    y = zeros(2, dtype=f64)
    y[0] = x[1]
    return sum(y)

def main():
    print(grad(f)(ones(2, dtype=f64)))
''', "setitem.glia")
    with pytest.raises(GliaError) as e:
        p.run()
    assert e.value.diagnostic.code == "E701" and e.value.diagnostic.span.line == 4


def test_a_gradient_of_a_gradient_is_refused():
    """grad inside a function being differentiated, of a value on the gradient path: E701 at the inner
    grad (the inner tape took the outer one's boxes as constants: grad(F)(0.7) was 21.46, not
    18 * 0.7 ** 2); of constants it is an ordinary value."""
    p = glia.compile('''
def g(x: float, c: float) -> float:
    return x * x * c

def F(y: float) -> float:
    d = grad(g)(y * 3.0, y)
    return d * y

def G(y: float) -> float:
    return grad(g)(3.0, 2.0) * y * y

def main():
    print(F(0.7), grad(G)(0.5))
    print(grad(F)(0.7))
''', "nested.glia")
    out = io.StringIO()
    with pytest.raises(GliaError) as e, contextlib.redirect_stdout(out):
        p.run()
    assert out.getvalue() == "2.0579999999999994 12.0\n"
    d = e.value.diagnostic
    assert (d.code, d.span.line, d.span.col) == ("E701", 6, 9) and "nested grad" in d.message


def test_grad_keeps_the_changes_to_its_arguments():
    """What f changes in its arguments and globals stays changed after value_and_grad(f)(...),
    holding values (the tape's boxes were left there: printed as Box(...), and a later call failed
    inside)."""
    p = glia.compile('''
LOG: list[float] = []

def f(ws: list[float], d: dict[str, float], t: list[list[float]]) -> float:
    LOG.append(ws[1])
    ws.append(ws[0] * 2.0)
    d["b"] = ws[1] * d["a"]
    t[0].append(ws[0])
    return ws[0] * d["b"]

def main():
    ws = [1.5, 2.0]
    d = {"a": 3.0}
    t = [[1.0]]
    print(value_and_grad(f)(ws, d, t))
    print(ws, d, t)
    print(f(ws, d, t), ws, d, t, sum(LOG))
''', "changes.glia")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        p.run()
    assert out.getvalue() == ("(9.0, [6.0, 4.5])\n[1.5, 2.0, 3.0] {'a': 3.0, 'b': 6.0} [[1.0, 1.5]]\n"
                              "9.0 [1.5, 2.0, 3.0, 3.0] {'a': 3.0, 'b': 6.0} [[1.0, 1.5, 1.5]] 4.0\n")


def test_the_gradient_has_the_shape_of_the_argument_as_passed():
    """The gradient is with respect to the first argument as it was passed, whatever f does to it
    (it was taken from the list after the call: an appended value's slot, a popped element lost, a
    replaced element's new value given as its gradient), and f's changes to lists inside it, a struct's
    too, stay (a struct's lists were boxed as copies and the changes lost)."""
    p = glia.compile('''
struct S:
    w: float
    log: list[float]

def grows(xs: list[float]) -> float:
    xs.append(xs[0] * 2.0)
    return sum(xs)

def shrinks(xs: list[float]) -> float:
    v = xs.pop()
    return v * v + sum(xs)

def replaces(xs: list[float]) -> float:
    xs[0] = 5.0
    return sum(xs)

def logs(s: S) -> float:
    s.log.append(s.w * 2.0)
    return s.w * s.log[0]

def main():
    a = [1.0, 3.0]
    b = [1.0, 3.0]
    c = [1.0, 3.0]
    print(grad(grows)(a), a, grad(shrinks)(b), b, grad(replaces)(c), c)
    s = S(3.0, [])
    print(grad(logs)(s), s)
''', "shapes.glia")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        p.run()
    assert out.getvalue() == ("[3.0, 1.0] [1.0, 3.0, 2.0] [1.0, 6.0] [1.0] [0.0, 1.0] [5.0, 3.0]\n"
                              "S(w=12.0, log=[]) S(w=3.0, log=[6.0])\n")


def test_a_failed_gradient_leaves_no_tape_values_behind():
    """An error inside f under grad leaves its argument and the globals it changed holding values (the
    REPL goes on with them), not the tape's boxes."""
    from glia.session import Session

    out, err = io.StringIO(), io.StringIO()
    session = Session(out, err)
    session.execute("SEEN: list[float] = []\n\ndef f(xs: list[float]) -> float:\n    SEEN.append(xs[0])\n"
                    "    xs[1] = xs[0] * 3.0\n    return xs[5]\n")
    session.execute("xs = [1.0, 2.0]")
    session.execute("grad(f)(xs)")
    assert "E" in err.getvalue() and "index 5" in err.getvalue() and "internal" not in err.getvalue()
    session.execute("print(xs, SEEN, sum(xs) + sum(SEEN))")
    assert out.getvalue().splitlines()[-1] == "[1.0, 3.0] [1.0] 5.0"


def test_values_holding_floats_read_as_values_under_grad():
    """A record, a dict or a generic function's value holding a float on the gradient path prints,
    converts and compares as its value (they printed `Box(3.0)`, and `p == P(3.0, 2)` was False)."""
    p = glia.compile('''
struct P:
    a: float
    n: int

def show[T](v: T) -> int:
    print(v)
    return 1

def f(x: float) -> float:
    p = P(x, 2)
    d = {"k": x}
    print(p, d, str(p) + "!", p == P(3.0, 2), p != P(3.0, 2), [x] == [3.0], "k" in d, 3.0 in [x])
    k = show(p) + show(x) + show([x, 1.0])
    return p.a * x * float(k)

def main():
    print(grad(f)(3.0))
''')
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        p.run()
    assert buf.getvalue() == ("P(a=3.0, n=2) {'k': 3.0} P(a=3.0, n=2)! True False True True True\n"
                              "P(a=3.0, n=2)\n3.0\n[3.0, 1.0]\n18.0\n")


def test_grad_with_respect_to_nested_structs():
    """`grad` of a model's parameters as a struct of structs (JAX's pytrees): the gradient is the same
    struct, field by field; a struct holding an int is refused before anything runs."""
    p = glia.compile('''
struct P:
    x: float
    v: f64[2]

struct Seg:
    a: P
    b: P
    w: float

def f(s: Seg) -> float:
    return s.w * (s.a.x * s.b.x) + sum(s.a.v * s.b.v * s.b.v)

def main():
    g = grad(f)(Seg(P(2.0, ones(2, dtype=f64)), P(3.0, arange(2, dtype=f64) + 4.0), 0.5))
    print(g)
    print(g.b.v)
''')
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        p.run()
    assert buf.getvalue() == ("Seg(a=P(x=1.5, v=tensor([16.0, 25.0])), b=P(x=1.0, v=tensor([8.0, 10.0])), w=6.0)\n"
                              "tensor([8.0, 10.0])\n")
    with pytest.raises(GliaError) as e:
        glia.compile("struct S:\n    x: float\n    n: int\n\ndef f(s: S) -> float:\n    return s.x\n\n"
                     "def main():\n    g = grad(f)\n")
    assert e.value.diagnostic.code == "E201" and "only floats and tensors" in e.value.diagnostic.message
