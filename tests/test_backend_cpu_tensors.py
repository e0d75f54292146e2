"""Tensors, activations, losses and layers on the compiled CPU backend, against the interpreter.

Each program must compile whole (no note saying a function stayed interpreted) and print exactly what
the interpreter prints: sums in NumPy's order, f32 math functions through float64 on both sides
(docs/backends.md, "Tensors"); f64 tensors' math functions to rounding (NumPy's float64 SIMD code
against the C library's). Errors: same code, message and position.
"""
import re

import numpy as np
import pytest

import glia
from glia.compiler.diagnostics import Source
from glia.compiler.driver import check_source

from test_backend_cpu import run

NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?|-?\d+e[-+]?\d+|nan|-?inf")


def both(text, args=()):
    program = check_source(Source("t.glia", text))
    ref = run(program, list(args), "interp")
    got = run(program, list(args), "cpu")
    return program, ref, got


def assert_close_output(got: str, ref: str):
    """The same text, every float within a few units in the last place of an f32 (absolutely near 0,
    where `1 + tanh(x)` or `cos(x)` cancel)."""
    assert NUMBER.sub("#", got) == NUMBER.sub("#", ref)
    for a, b in zip(NUMBER.findall(got), NUMBER.findall(ref)):
        x, y = float(a), float(b)
        assert a == b or abs(x - y) <= 1e-5 * max(abs(x), abs(y)) + 1e-6, (a, b)


EXACT = {
    "arithmetic and broadcasting": """
def main():
    a = reshape(arange(12), 3, 4) * 0.37 - 1.1
    b = arange(4) + 0.5
    print(a + b, a - 2, 3.0 * a / b, -a, abs(a), a ** 2, 2.0 ** b, a * f32(0.1))
    c = f64(a)
    print(c * 0.1 + 1, floor(a), ceil(a), sqrt(abs(a)))
""",
    "reductions": """
def main():
    x = reshape(arange(300), 3, 10, 10) * 0.013 - 0.7
    print(sum(x), mean(x), min(x), max(x))
    print(sum(x, axis=0)[0], mean(x, axis=0)[1], max(x, axis=0)[0], min(x, axis=0)[2])
    print(sum(x, axis=1)[0], mean(x, axis=1)[1], max(x, axis=1)[0], min(x, axis=-2)[2])
    print(sum(x, axis=2)[0], mean(x, axis=-1)[1], max(x, axis=2)[0], min(x, axis=2)[2])
    v = arange(1000) * 0.001 + 0.3
    print(sum(v), mean(v), sum(v, axis=0), sum(reshape(v, 10, 100), axis=-1))
""",
    "a product of f64 vectors in a container": """
def main():
    x = f64(arange(4)) * 0.3 - 0.4
    v = x @ x
    print((v, 1), [v, 1.0], {"a": x @ (x * 2.0)}, (x @ x) * 2.0)
""",
    "shapes and indexing": """
def rows(m: f32[3, 4]) -> f32:
    s = f32(0.0)
    for r in m:
        for v in r:
            s = s + v * v
    return s

def main():
    m = reshape(arange(12), 3, 4)
    print(m[1], m[2, 3], m[-1, -2], m[0:2], transpose(m), flatten(m), concat(m, m), concat(m, m, axis=1))
    print(stack(m[0], m[1]), rows(m), len(m), argmax(m[1] * -1.0), m @ transpose(m), m[0] @ m[1], m @ m[0])
    m[1, 2] = 50.0
    m[0] = ones(4) * 2.0
    print(m, m > 4.0, where(m > 4.0, m, -1.0), m == 2.0, f64(m))
    z = zeros(2, 3, dtype=f64)
    z[1, 1] = 7.0
    print(z, ones(2), arange(3, dtype=f64))
""",
    "relu, layer_norm, losses": """
def model(x: f32[6]) -> f32[4]:
    return layer_norm(relu(dense(x, 4)))

def main():
    x = arange(6) * 0.3 - 0.8
    p = model(x)
    t = arange(4) * 0.25
    print(p, mse(p, t), mae(p, t), sum(p * t))
    b = reshape(arange(12), 3, 4) * 0.1
    print(layer_norm(b), relu(b - 0.5), relu(-0.0), relu(zeros(3) * -1.0), mse(b, b * 0.5))
""",
    "layers with their parameters": """
def step(x: f32[5], h: f32[3]) -> f32[3]:
    return relu(dense(concat(x, h), 3, init="he"))

def main():
    h = zeros(3)
    for t in range(4):
        h = step(arange(5) * f32(t) * 0.1, h)
    print(h, conv_net(reshape(arange(50), 2, 5, 5) * 0.02))

def conv_net(img: f32[2, 5, 5]) -> f32[12]:
    c = relu(conv2d(img, 3, 3, padding=1))
    return flatten(max_pool(c, 2))
""",
    "activations": """
def main():
    x = reshape(arange(12), 3, 4) * 0.7 - 4.0
    print(sigmoid(x), tanh(x), gelu(x), silu(x), elu(x), leaky_relu(x, alpha=0.2), exp(x), log(abs(x) + 1.0))
    print(sin(x), cos(x), tan(x * 0.1), softmax(x), log_softmax(x), sigmoid(0.3), tanh(f32(0.5)), gelu(-1.5))
    print(x ** 1.5, abs(x) ** 0.37, 1.7 ** x)
""",
    "classifier and losses": """
def digit(img: f32[64]) -> f32[10]:
    h = relu(dense(img, 32))
    return softmax(dense(h, 10))

def main():
    img = zeros(64)
    for i in range(64):
        img[i] = f32((i * 37) % 17) / 16.0
    p = digit(img)
    t = zeros(10)
    t[3] = 1.0
    print(p, argmax(p), cross_entropy(p, 3), cross_entropy(p, t), nll(log(p), 4), nll(log(p), t))
    print(binary_cross_entropy(p, t), mse(p, t))
""",
    "recurrent cells": """
def run_rnn(xs: f32[6, 4]) -> f32[5]:
    h = zeros(5)
    c = zeros(5)
    g = zeros(5)
    for x in xs:
        h, c = lstm_cell(x, h, c)
        g = gru_cell(x, g)
    return rnn_cell(h, g)

def main():
    print(run_rnn(reshape(arange(24), 6, 4) * 0.05))
""",
    "a data-dependent while, lists and structs of tensors": """
struct Memory:
    cells: list[f32[4]]
    last: f32[4]

def ponder(x: f32[4]) -> (int, f32[4]):
    h = x
    steps = 0
    while sum(h * h) > 0.01 and steps < 50:
        h = tanh(dense(h, 4)) * 0.5
        steps += 1
    return steps, h

def main():
    m = Memory([], zeros(4))
    for k in range(3):
        n, h = ponder(arange(4) * f32(k + 1))
        m.cells.append(h)
        m.last = h
        print(n, h)
    print(len(m.cells), m.cells[1], m, embed(2), embedding_sum([1, 0, 2]))

def embed(i: int) -> f32[3]:
    return embedding(i, 5, 3)

def embedding_sum(ids: list[int]) -> f32[3]:
    s = zeros(3)
    for i in ids:
        s = s + embed(i)
    return s
""",
}

# f64 tensors: NumPy's float64 exp, tanh, ... are its own SIMD code, Numba calls the C library's
CLOSE = {
    "f64 math functions": """
def main():
    x = reshape(arange(12, dtype=f64), 3, 4) * 0.7 - 4.0
    print(exp(x), tanh(x), log(abs(x) + 1.0), sigmoid(x), softmax(x), x ** 1.3)
""",
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_tensor_programs_compile_and_agree_exactly(name):
    _, ref, got = both(EXACT[name])
    assert got[2] == []  # compiled whole: nothing ran in the interpreter
    assert ref[1] is None and got[:2] == ref[:2]


@pytest.mark.parametrize("name", sorted(CLOSE))
def test_tensor_programs_compile_and_agree_to_rounding(name):
    _, ref, got = both(CLOSE[name])
    assert got[2] == []
    assert ref[1] is None and got[1] is None
    assert_close_output(got[0], ref[0])


@pytest.mark.parametrize("body", [
    "    m = zeros(3, 4)\n    print(m[1, 4])",
    "    m = zeros(3, 4)\n    i = -4\n    print(m[i, 0])",
    "    m = zeros(3, 4)\n    m[3] = ones(4)",
    "    m = zeros(3, 4)\n    m[0, 9] = 1.0",
    "    p = softmax(ones(4))\n    print('before')\n    print(cross_entropy(p, 4))",
    "    print(nll(log_softmax(ones(3)), -1))",
    "    print(embedding(7, 5, 2))",
])
def test_tensor_errors_match_the_interpreter(body):
    text = "def main():\n" + body + "\n"
    _, ref, got = both(text)
    assert got[2] == []
    assert ref[1] is not None and ref[1][0] == "E501"
    assert got[:2] == ref[:2]


def test_trained_parameters_reach_compiled_code(tmp_path, capfd):
    """`glia run --params` runs main compiled with the saved parameters; the answer is the interpreter's."""
    from glia.cli import main as cli

    text = ("def f(x: f32[3]) -> f32[2]:\n    return dense(x, 2)\n\n"
            "def main():\n    print(f(ones(3)), f(arange(3)))\n")
    path = tmp_path / "m.glia"
    path.write_text(text)
    prog = glia.load(str(path))
    prog.params["f.dense#1.W"] = np.arange(6, dtype=np.float32).reshape(3, 2)
    prog.params["f.dense#1.b"] = np.array([0.5, -1.0], np.float32)
    prog.save(str(tmp_path / "m.npz"))
    outs = []
    for backend in ("interp", "cpu"):
        assert cli(["run", str(path), "--params", str(tmp_path / "m.npz"), "--backend", backend]) == 0
        outs.append(capfd.readouterr())
    assert outs[0].out == outs[1].out == "tensor([6.5, 8.0]) tensor([10.5, 12.0])\n"
    assert outs[1].err == ""  # nothing ran in the interpreter


def test_compiled_functions_share_tensors_with_python(tmp_path):
    """Through the Python API a compiled function works on the caller's array (its writes are seen) and
    reads the program's current parameters."""
    text = ("def fill(x: f32[4], v: f32):\n    for i in range(4):\n        x[i] = v * f32(i)\n\n"
            "def f(x: f32[4]) -> f32[2]:\n    return relu(dense(x, 2))\n")
    path = tmp_path / "m.glia"
    path.write_text(text)
    cpu = glia.load(str(path), backend="cpu")
    ref = glia.load(str(path))
    x = np.zeros(4, np.float32)
    cpu.fill(x, 2.0)
    assert x.tolist() == [0.0, 2.0, 4.0, 6.0]
    assert np.array_equal(cpu.f(x), ref.f(x))
    cpu.params["f.dense#1.W"] = np.ones((4, 2), np.float32)
    assert cpu.f(x).tolist() == [12.0, 12.0]


MATH = """
def exp_(x: f32[n]) -> f32[n]:
    return exp(x)

def log_(x: f32[n]) -> f32[n]:
    return log(abs(x) + 0.001)

def tanh_(x: f32[n]) -> f32[n]:
    return tanh(x)

def trig(x: f32[n]) -> f32[n]:
    return sin(x) + cos(x) * 3.0 + tan(x * 0.3)

def acts(x: f32[n]) -> f32[n]:
    return sigmoid(x) + gelu(x) * 3.0 + silu(x) * 5.0 + elu(x) * 7.0 + leaky_relu(x) * 11.0

def soft(x: f32[m, 10]) -> f32[m, 10]:
    return softmax(x) + log_softmax(x) * 3.0

def power(x: f32[n]) -> f32[n]:
    return abs(x) ** 1.37 + 1.1 ** x
"""


def signs_agree(a, b) -> bool:
    """The signs of the results agree, zeros included (a NaN's sign means nothing)."""
    keep = ~np.isnan(a)
    return np.array_equal(np.signbit(a[keep]), np.signbit(b[keep]))


SPECIAL = [0.0, -0.0, np.nan, np.inf, -np.inf, 1e-30, -1e-30, 1e-45, -1e-45, 88.7, 88.8, -103.9, -104.5, 9.1,
           -9.1, 20.5, -0.5, 3.4e38, -3.4e38, 1e-7]


@pytest.mark.parametrize("fn", ["exp_", "log_", "tanh_", "trig", "acts", "soft", "power"])
@pytest.mark.parametrize("values", ["normal", "special"])
def test_f32_math_functions_agree_on_every_value(tmp_path, fn, values):
    """200,000 values through each math function and activation, and the edge values (zeros of both
    signs, NaN, infinities, subnormals, where exp overflows and underflows) in arrays long and short
    enough for both of compiled code's paths: the compiled result equals the interpreter's in every
    bit, signs of zero included (compiled f32 exp and tanh are float64 arithmetic that LLVM
    vectorises, the interpreter's NumPy's float64 functions: both rounded once)."""
    path = tmp_path / "math.glia"
    path.write_text(MATH)
    cpu, ref = glia.load(str(path), backend="cpu"), glia.load(str(path))
    if values == "normal":
        x = (np.random.default_rng(7).standard_normal(200_000) * 4).astype(np.float32)
    else:
        x = np.array(SPECIAL * 3 + SPECIAL[:10], np.float32)  # 70 values; 10 of them alone below
    if fn == "soft":
        x = x.reshape(-1, 10)
    if values == "special" and fn != "soft":
        got, want = getattr(cpu, fn)(x[:10].copy()), getattr(ref, fn)(x[:10].copy())
        assert np.array_equal(got, want, equal_nan=True) and signs_agree(got, want)
    got, want = getattr(cpu, fn)(x), getattr(ref, fn)(x)
    assert got.dtype == want.dtype == np.float32
    assert np.array_equal(got, want, equal_nan=True), int((got != want).sum())
    assert signs_agree(got, want)


def test_matrix_products_agree(tmp_path):
    """x @ W, M @ v and a @ b, small and large, f32 and f64: NumPy's BLAS in the interpreter, SciPy's
    (through Numba's np.dot) in compiled code, two builds of OpenBLAS. Products with a vector agree in
    every bit (what a model of one example computes); a product of two matrices may differ in the last
    bit (300x200 @ 200x300 does here), so it is compared to rounding."""
    path = tmp_path / "mm.glia"
    path.write_text("def vm(x: f32[k], w: f32[k, n]) -> f32[n]:\n    return x @ w\n\n"
                    "def mv(m: f32[k, n], v: f32[n]) -> f32[k]:\n    return m @ v\n\n"
                    "def vv(a: f32[k], b: f32[k]) -> f32:\n    return a @ b\n\n"
                    "def mm(a: f32[k, n], b: f32[n, k]) -> f32[k, k]:\n    return a @ b\n\n"
                    "def vm64(x: f64[k], w: f64[k, n]) -> f64[n]:\n    return x @ w\n")
    cpu, ref = glia.load(str(path), backend="cpu"), glia.load(str(path))
    rng = np.random.default_rng(11)
    for k, n in [(3, 5), (64, 64), (64, 65), (129, 7), (300, 200)]:
        x, w, v = (rng.standard_normal(s).astype(np.float32) for s in (k, (k, n), n))
        for f, args in (("vm", (x, w)), ("mv", (w, v)), ("vv", (x, x)), ("mm", (w, np.ascontiguousarray(w.T))),
                        ("vm64", (x.astype(float), w.astype(float)))):
            got, want = getattr(cpu, f)(*args), getattr(ref, f)(*args)
            if f == "mm":
                assert np.allclose(got, want, rtol=1e-5, atol=1e-4), (f, k, n)
            else:
                assert np.array_equal(got, want), (f, k, n)
