"""`grad` and `value_and_grad` compiled by the CPU backend (compiler/lower_grad.py), against the
interpreter's tape (compiler/autodiff.py), which defines them.

Each program must compile whole (no note: the function calling grad is not left to the interpreter)
and print what the interpreter prints: the same digits where the compiled code adds cotangents in the
tape's order, which is everywhere except where one value has two names (a copy `w = x` used beside
`x`); there to rounding. Every adjoint rule is exercised here (test_every_adjoint_rule_is_exercised).
"""
import os
import subprocess
import sys

import pytest

from glia.compiler import ir
from glia.compiler.diagnostics import Source
from glia.compiler.driver import check_source
from glia.compiler.primitives import PRIMS

from test_backend_cpu import ROOT, run
from test_backend_cpu_tensors import assert_close_output

CONTROL = """
def h(x: float, n: int) -> float:
    if n == 0:
        return x
    return h(x * 1.1, n - 1) * x + 0.5

def loop(x: float) -> float:
    s = 0.0
    for i in range(10):
        if i == 7:
            break
        if i % 2 == 0:
            continue
        s = s + x * float(i)
        if s > 100.0:
            return s * 2.0
    return s

def settle(x: float) -> float:
    v = x * 1.0
    n = 0
    while v > 0.01:
        v = v * 0.7 - 0.001 * v * v
        n = n + 1
    return v * float(n) + pow_(x)

def pow_(x: float) -> float:
    return x ** 3.0 + abs(x - 2.0) + sqrt(x) / (1.0 + x) - (-x)

def nested(x: float) -> float:
    return h(h(x, 2) * 0.3, 1) + loop(h(x, 1))

def unused(x: float) -> float:
    y = sqrt(x)  # an infinite derivative at 0, on a path that does not reach the result
    return 3.0

def main():
    for x in [0.7, 1.7, 20.0]:
        print(grad(loop)(x), grad(settle)(x), value_and_grad(nested)(x))
    print(value_and_grad(h)(1.3, 5), grad(h)(0.9, 300))
    print(grad(unused)(0.0), grad(unused)(2.0))
"""

SCALARS = """
def s32(x: f32) -> f32:
    y = sigmoid(x) * tanh(x) + exp(x) / (x + f32(2.0)) - relu(x) * abs(x)
    z = log(x * x + f32(1.0)) + sqrt(x * x + f32(0.5)) + sin(x) * cos(x) + tan(x * f32(0.1)) \
        + (x * f32(1.3)) % f32(0.7) + (x * f32(3.0)) // f32(0.7) * x + round(x * f32(2.0), 1)
    q, r = divmod(x * f32(1.7), f32(0.6))
    return -y * z + f32(float(x) * 0.5) - (x - f32(1.0)) + q * x + r * r

def s64(x: float) -> float:
    return sinh(x * 0.3) + cosh(x * 0.2) + atan(x) + (x * 0.5) ** 2.5 - relu(x - 0.2) + tanh(x) * exp(-x) \
        + atan2(x, 1.5 - x) + hypot(x * 0.5, 2.0 - x) + (x * 1.3) % 0.7 + 2.9 % (x + 0.45) \
        + (x * 3.0) // 0.7 * x + round(x * 2.0, 1) + divmod(x * 1.9, 0.8)[1] * x + divmod(3.1, x + 0.45)[1]

def power(x: float, n: int) -> float:
    return 1.0 if n == 0 else x * power(x, n - 1)

def soft(x: float) -> float:
    return x * 0.5 if x < 0.0 else log(1.0 + x) if x < 2.0 else sqrt(x) * power(x, 2)

def main():
    x = f32(-2.0)
    while x < f32(2.0):
        print(grad(s32)(x), grad(s64)(float(x) + 2.1))
        x = x + f32(0.37)
    print(grad(power)(1.3, 4), value_and_grad(soft)(-1.0), grad(soft)(1.0), grad(soft)(3.0))
"""

TENSORS = """
def net(x: f32[4]) -> f32:
    h = relu(dense(x, 8))
    h2 = sigmoid(dense(h, 8)) * tanh(h)
    p = softmax(dense(h2, 3))
    return sum(p * p) + mean(x * 2.0)

def tens(x: f32[3, 4]) -> f32:
    w = ones(4) * 0.25
    a = x @ w
    b = transpose(x) @ a
    c = reshape(x, 12)
    d = where(x > 0.5, x * x, -x)
    v = x[1]
    t = sum(exp(x) + log(x + 1.0) + sqrt(x + 0.01) + sin(x) + cos(x) + tan(x * 0.1) + tanh(x) - x / 3.0)
    return sum(b) + mean(c * c) + sum(d) + mse(a, ones(3)) + sum(v * v) + sum(x[2] @ transpose(x)) + a @ a \\
        + (x * 2.0)[0, 1] + t + sum(abs(x - 0.5)) + sum(x + ones(4)) + sum(1.0 - x) \\
        + sum((x < 0.2) * x + (x <= 0.3) + (x == 0.1) * x + (x != 0.4) * x + (x >= 0.7) * x)

def mats(m: f64[2, 3]) -> float:
    p = ones(2, dtype=f64) @ m
    q = m @ (ones(3, dtype=f64) * 2.0)
    r = m @ transpose(m)
    return sum(p * p) + sum(q) + sum(r) + sum(-m) + sum(relu(m - 0.3))

def rows(m: f64[3, 4]) -> float:
    s = 0.0
    for r in m:
        s = s + sum(r * r)
    return s + m[1, 2] * m[0, 0]

def cell(x: f64[5]) -> float:
    h = x
    n = 0
    while sum(h * h) > 0.1:
        h = h * 0.5
        n = n + 1
    return sum(exp(h)) + float(n)

def main():
    print(grad(net)(ones(4) * 0.3))
    print(grad(tens)(reshape(arange(12), 3, 4) * 0.1))
    print(grad(mats)(reshape(arange(6, dtype=f64), 2, 3) * 0.3))
    print(grad(rows)(reshape(arange(12, dtype=f64), 3, 4) * 0.1))
    print(value_and_grad(cell)(ones(5, dtype=f64) * 0.8))
"""

LAYERS = """
def more(x: f32[2, 3]) -> f32:
    a = sum(log_softmax(x)[1] * arange(3)) + sum(softmax(x) * x)
    b = sum(leaky_relu(x - 0.3, alpha=0.1)) + sum(elu(x - 0.3, alpha=0.7)) + leaky_relu(x[0, 0] - 0.5, alpha=0.2) + elu(x[1, 1] - 0.9, alpha=1.5)
    c = mae(x[0], ones(3)) + nll(log_softmax(x[1]), 2) + nll(log_softmax(x[0]), arange(3) * 0.2)
    d = cross_entropy(softmax(x[0]), 1) + cross_entropy(softmax(x[1]), ones(3) / 3.0)
    e = sum(sum(x, axis=0)) + sum(mean(x, axis=1) * arange(2)) + max(x) - min(x) * 2.0
    f = sum(concat(x, x * 2.0) * 0.5) + sum(concat(x, x, axis=1)[1]) + sum(stack(x[0], x[1] * 3.0)[1])
    g = sum(x[0:1] * 4.0) + f32(sum(f64(x) * 0.25))
    return a + b + c + d + e + f + g

def acts(x: f32[2, 6]) -> f32:
    a = sum(gelu(x) * arange(6)) + sum(silu(x - 0.2) * 0.5)
    h = layer_norm(x * 1.5)
    return a + sum(h * arange(6)) + gelu(x[0, 1]) + silu(x[1, 2]) + sum(layer_norm(x[1]) * x[0])

def cellrun(x: f32[6, 3]) -> f32:
    h = zeros(5)
    for row in x:
        h = rnn_cell(row, h)
    return sum(h * h)

def cnn(img: f32[64]) -> f32:
    x = reshape(img, 1, 8, 8)
    h = max_pool(relu(conv2d(x, 4, 3, padding=1)), 2)
    a = avg_pool(conv2d(h, 3, 2, stride=2), 2)
    p = softmax(dense(flatten(h), 10))
    return log(p[3]) + sum(a)

def bnmodel(x: f32[4, 6]) -> f32:
    h = batch_norm(dense(x, 5))
    p = sigmoid(dense(relu(h), 3))
    return binary_cross_entropy(p, ones(4, 3) * 0.3) + binary_cross_entropy(sigmoid(dense(x, 3)), p * 0.5)

def main():
    x = reshape(arange(6), 2, 3) * 0.3 - 0.4
    print(grad(more)(x))
    print(value_and_grad(bnmodel)(reshape(arange(24), 4, 6) * 0.2 - 0.5))
    print(value_and_grad(cellrun)(reshape(arange(18), 6, 3) * 0.1))
    print(grad(acts)(reshape(arange(12), 2, 6) * 0.37 - 1.5))
    print(grad(cnn)(arange(64) / 64.0))
"""

CELLS = """
def lstm(xs: f32[6, 3]) -> f32:
    h = zeros(5)
    c = zeros(5)
    for x in xs:
        h, c = lstm_cell(x, h, c)
    return sum(h * h) + sum(c)

def gru(xs: f32[6, 3]) -> f32:
    h = zeros(5)
    for x in xs:
        h = gru_cell(x, h)
    pair = (h * 2.0, 3)
    return sum(h * h) + sum(embedding(2, 10, 4)) + sum(pair[0])

def memory(xs: f32[5, 4]) -> f32:
    hs = []
    h = zeros(4)
    for x in xs:
        h = tanh(x + h * 0.5)
        hs.append(h * 1.0)
    s = f32(0.0)
    for m in hs:
        s = s + sum(m * m)
    return s + sum(hs[1] * hs[-1]) + f32(len(hs))

def main():
    print(grad(lstm)(reshape(arange(18), 6, 3) * 0.1))
    print(grad(gru)(reshape(arange(18), 6, 3) * 0.1))
    print(value_and_grad(memory)(reshape(arange(20), 5, 4) * 0.1))
"""

# a callee reached twice (callees are compiled first), a loop over a computed tensor, a tuple holding a
# tensor of a kind no local has; calls in an expression on the gradient path run once (printing once)
CALLS = """
def count(x: float) -> int:
    print("counting", x)
    return 3

def scale(x: float) -> float:
    print("scaling", x)
    return 2.0

def printed(x: float) -> float:
    y = x * float(count(x)) + scale(1.0) * x
    return y * y

# conditional expressions that call: the branch not taken is not called (the calls print)
def cell(x: f32[3], k: int) -> f32:
    print("cell", k)
    return sum(tanh(x * float(k + 1)))

def mix(x: f32[3], k: int) -> f32:
    y = sum(x * x) if k > 2 else cell(x, k)
    for i in range(k):
        t = cell(x * y, i) if i % 2 == 0 else sum(x) * y
        y = y * 0.5 + t
    return y

# ... and inside a larger expression, when what comes before it only reads and does arithmetic
def chain(x: float, n: int) -> float:
    if n == 0:
        return sin(x)
    print("chain", n)
    return chain(x * 0.9, n - 1) * x + 0.5

def lifted(x: float) -> float:
    y = x * 2.0
    z = y + (chain(x, 2) if x > 0.5 else 0.0) * 3.0
    w = y * x - (chain(z, 1) if z < 3.0 else chain(x, 0))
    return z + w + (1.0 if y > 1.0 else chain(y, 1)) - x * (chain(w, 1) if w > 0.0 else x * 1.5)

def inner(v: f64[3]) -> float:
    return sum(v * v)

def lead(v: f64[3]) -> float:
    return inner(v) * 2.0

def outer(x: f64[6]) -> float:
    s = 0.0
    for r in reshape(x, 2, 3):
        s = s + inner(r)
    p = (reshape(x, 3, 2) * 1.0, 2)
    return s + lead(x[0:3]) + sum(p[0])

def main():
    print(grad(outer)(arange(6, dtype=f64) * 0.5))
    print(grad(printed)(1.5))
    print(value_and_grad(mix)(arange(3) * 0.3 - 0.2, 2), grad(mix)(arange(3) * 0.1, 4))
    print(value_and_grad(lifted)(0.7), grad(lifted)(0.2), grad(lifted)(-1.9))
"""

# values that hold no float on the gradient path: strings, lists of strings, of structs and of tuples,
# a global dict; loops over them and over a string
DATA = """
struct Tok:
    id: int
    text: str

VOCAB: dict[str, int] = {"a": 0, "b": 1, "c": 2}

def embed(w: f32[3, 4], word: str) -> f32[4]:
    return w[VOCAB[word]]

def score(w: f32[3, 4], words: list[str], toks: list[Tok], pairs: list[(int, int)]) -> float:
    h = zeros(4)
    for word in words:
        h = tanh(h + embed(w, word))
    for t in toks:
        h = h * w[t.id] + 0.5
    n = 0
    for p in pairs:
        i, j = p
        n += i * j
    name = words[0] + "!"
    if len(name) > 1:
        h = h * float(n)
    for ch in name:
        if ch == "a":
            h = h + w[0]
    return float(sum(h * h))

def main():
    w = reshape(arange(12), 3, 4) / 10.0
    toks = [Tok(1, "b"), Tok(2, "c")]
    g = grad(score)(w, ["a", "c", "b"], toks, [(1, 2), (3, 1)])
    print(g)
    print(value_and_grad(score)(w, ["b"], [Tok(0, "a")], [(2, 2)]))
"""

# calls returning tuples: a cell's (h, c) in a loop and nested, a recursive (float, int, float), a tuple
# returned as a local or rebuilt, its items unpacked; and passing them: a state tuple made of locals, a
# tuple local, a recursive function of a (float, float)
TUPLES = """
def step(x: f32[4], h: f32[4], c: f32[4]) -> (f32[4], f32[4]):
    c2 = c * 0.5 + tanh(x + h)
    return (tanh(c2) * sigmoid(x), c2)

def twice(x: f32[4], h: f32[4], c: f32[4]) -> (f32[4], f32[4]):
    return step(x, step(x, h, c)[0], c)

def split(x: float, k: int) -> (float, int, float):
    if k <= 0:
        return (x, 0, x * x)
    a, n, b = split(x * 0.9 + 0.1, k - 1)
    return (a + x, n + 1, b * x)

def pick(x: float) -> (float, float):
    p = (x * 2.0, exp(x))
    if x > 1.0:
        return p
    q = p
    return (q[1], q[0] + 1.0)

def run(xs: f32[5, 4]) -> f32:
    h = zeros(4)
    c = zeros(4)
    for x in xs:
        h, c = step(x, h, c)
    h2, c2 = twice(xs[0], h, c)
    return sum(h * h) + sum(c2)

def scal(x: float) -> float:
    a, n, b = split(x, 3)
    u, v = pick(x)
    w, z = pick(x - 1.0)
    return a * float(n) + b + u * v + w - z

def step2(x: f32[3], s: (f32[3], f32[3])) -> (f32[3], f32[3]):
    h, c = s
    c2 = c * 0.5 + tanh(x + h)
    return (tanh(c2) * sigmoid(x), c2)

def energy(s: (float, float), k: int) -> float:
    a = s[0] * s[1] + sin(s[0])
    if k > 0:
        return a + energy((s[0] * 0.9, s[1] + a * 0.1), k - 1)
    return a * s[1]

def run2(xs: f32[4, 3]) -> f32:
    h = zeros(3)
    c = zeros(3)
    for x in xs:
        h, c = step2(x, (h, c))
    st = (h * 2.0, c)
    h2, c2 = step2(xs[0], st)
    return sum(h * h) + sum(c2) + sum(st[0])

def scal2(x: float) -> float:
    p = (x, x * 2.0)
    q = energy(p, 3) + energy((x, 1.5), 1) + energy((x * x, x), 2)
    return q + p[1] * x

def main():
    xs = reshape(arange(20), 5, 4) * 0.1
    print(grad(run)(xs))
    print(value_and_grad(scal)(0.8), grad(scal)(1.7))
    print(grad(run2)(reshape(arange(12), 4, 3) * 0.1))
    print(value_and_grad(scal2)(0.7), grad(scal2)(1.3))
"""

# one value under two names (`w = x`, then both used): the tape adds their cotangents into one sum as
# it goes, the compiled code w's into x's at the copy: the same to rounding; and a convolution, whose
# forward is a product of two matrices (each backend's BLAS: its last bit may differ)
# `**` of f32 and tensors (through float64, as the tape), max/min along an axis (ties: the first gets
# the cotangent; a NaN from `(x + 2.0) ** b`), and broadcasting over axes of size 1
BROADCAST = """
def q1(x: f32[3, 4], b: f32[3, 1], c: f32[1, 4]) -> f32:
    u = x * b + c
    v = (x + 2.0) ** b
    z = 2.0 ** x
    return sum(u * u) + sum(v) + sum(z) + sum(b / (c + 3.0))

def q2(x: f64[3, 4]) -> float:
    t = where(x > 0.3, 0.3, x)
    return sum(max(t, axis=0) ** 2.0) + sum(min(t, axis=1))

def q4(s: f32, t: f32) -> f32:
    return s ** t + t ** f32(3.0) + (s - f32(2.0)) ** f32(2.0)

def main():
    x = sin(reshape(arange(12), 3, 4) * 1.7) * 0.8
    print(grad(q1)(x, reshape(arange(3), 3, 1) * 0.4 - 0.3, reshape(arange(4), 1, 4) * 0.3 + 0.1))
    print(grad(q2)(sin(reshape(arange(12, dtype=f64), 3, 4) * 1.7) * 0.8))
    print(grad(q4)(f32(1.7), f32(0.6)), grad(q4)(f32(-1.7), f32(2.0)))
"""

# structs of floats, f32, tensors, ints and bools: built, read, a field replaced (`s.c = ...`), passed,
# returned, recursively (a tree of records); compiled as the tuples they are
STRUCTS = """
struct Cell:
    h: f32[4]
    c: f32[4]
    steps: int

struct Lin:
    w: f64[3]
    b: float

def step(x: f32[4], s: Cell) -> Cell:
    h2, c2 = lstm_cell(x, s.h, s.c)
    return Cell(h2, c2, s.steps + 1)

def run(x: f32[4], n: int) -> f32:
    s = Cell(zeros(4), x * 0.5, 0)
    for i in range(n):
        s = step(x * f32(i + 1), s)
        if s.steps == 2:
            s.c = s.c * 2.0
    return sum(s.h) + sum(s.c) * f32(s.steps)

def apply(m: Lin, v: f64[3]) -> float:
    return sum(m.w * v) + m.b

def fit(b: float, lin: Lin, v: f64[3]) -> float:
    m = lin
    m.b = b
    total = 0.0
    k = 0
    while k < 3:
        m.w = m.w * b
        total = total + apply(m, v) ** 2.0
        k = k + 1
    return total + mk(b).b

def mk(b: float) -> Lin:
    return Lin(ones(3, dtype=f64) * b, b * b)

struct Node:
    v: f32[3]
    s: f32
    size: int

def tree(x: f32[3], d: int) -> Node:
    if d == 0:
        return Node(x, sum(x), 1)
    l = tree(x * 0.9, d - 1)
    r = tree(x * 1.1, d - 1)
    return Node(tanh(l.v + r.v * l.s), l.s * r.s, l.size + r.size + 1)

def top(x: f32[3]) -> f32:
    t = tree(x, 3)
    return sum(t.v) + t.s / f32(t.size)

struct S:
    a: float
    n: int

def sq(s: S) -> float:
    return s.a * s.a

def made(x: float) -> float:
    return sq(S(x, 3)) + x

def main():
    print(grad(run)(ones(4) * 0.3, 4))
    print(value_and_grad(fit)(0.7, Lin(ones(3, dtype=f64), 0.1), arange(3, dtype=f64)))
    print(grad(top)(ones(3) * 0.4))
    print(grad(made)(3.0))
"""

# lists of tensors and floats passed to functions that read them (attention over a list of states,
# recursively: the callee adds into the caller's cotangents of the elements) and returned by functions
# that made them (an encoder returning its states: examples/gradients.glia, checked by hand)
MEMORY = """
def attend(hs: list[f32[4]], q: f32[4]) -> f32[4]:
    m = f32(-1e30)
    for h in hs:
        s = sum(h * q)
        if s > m:
            m = s
    z = f32(0.0)
    out = zeros(4)
    for i in range(len(hs)):
        e = exp(sum(hs[i] * q) - m)
        z = z + e
        out = out + hs[i] * e
    return out / z

def last2(hs: list[f32[4]], d: int) -> f32:
    if d == 0:
        return sum(hs[-1] * hs[0])
    return last2(hs, d - 1) * 0.5 + sum(hs[len(hs) - 2])

def enc(x: f32[4], steps: int) -> f32:
    hs = [x * 0.5]
    for t in range(steps):
        hs.append(tanh(hs[-1] * 0.9 + x * f32(t)))
    c = attend(hs, x * 2.0)
    total = sum(c * c) + last2(hs, 2)
    hs.append(c * 1.5)
    return total + sum(attend(hs, x))

def outer(x: f32[4], ys: list[f32[4]]) -> f32:
    return sum(attend(ys, x)) + sum(ys[0] * x)

def gen(x: float, n: int) -> list[float]:
    vs = [x * 1.0]
    for i in range(n):
        vs.append(vs[i] * x + 0.5)
    return vs

def fl(x: float) -> float:
    vs = gen(x, 3)
    vs.append(x * 3.0)
    return sum(vs) * vs[2] + gen(x * 2.0, 1)[1]

def main():
    print(grad(enc)(arange(4) * 0.1 + 0.2, 3))
    print(value_and_grad(outer)(arange(4) * 0.3 - 0.4, [ones(4), arange(4) * 0.5]))
    print(value_and_grad(fl)(0.7))
"""

# lists of floats and f32: data read by index and by loop, memory appended to, summed, passed to
# functions that read them (recursively)
FLOATLISTS = """
def loss(w: float, xs: list[float], ys: list[float]) -> float:
    total = 0.0
    for i in range(len(xs)):
        d = w * xs[i] - ys[i]
        total = total + d * d
    return total / float(len(xs))

def horner(x: f32, cs: list[f32]) -> f32:
    r = f32(0.0)
    for c in cs:
        r = r * x + c
    return r

def series(x: f32, n: int) -> f32:
    cs = [x * f32(1.0), x * f32(0.5), f32(2.0)]
    k = 0
    while k < n:
        cs.append(cs[k] * x - f32(0.1))
        k = k + 1
    return horner(x, cs) + sum(cs, f32(1.0)) + cs[-1] * cs[0]

def mean_sq(xs: list[float]) -> float:
    return sum(xs) / float(len(xs))

def steps(x: float, n: int) -> float:
    vs = [x * 0.3 + 1.0]
    for i in range(n):
        v = vs[i] * x + float(i)
        vs.append(v * v * 0.1)
    m = mean_sq(vs)
    if m > 1.0:
        return m + vs[len(vs) - 1]
    return m * 2.0 - rec(vs, n)

def rec(vs: list[float], k: int) -> float:
    if k == 0:
        return vs[0]
    return vs[k] * 0.3 + rec(vs, k - 1)

def main():
    print(value_and_grad(loss)(0.5, [1.0, 2.0, 3.0], [2.0, 4.1, 5.9]))
    print(grad(series)(f32(0.7), 4), grad(series)(f32(-1.3), 0))
    print(grad(steps)(0.7, 4), grad(steps)(1.9, 3), grad(steps)(0.2, 0))
"""

CONSTANTS = """
struct Pt:
    x: float
    y: float

W: list[list[float]] = [[0.5, -1.0], [2.0, 0.25]]

def dot(w: list[float], row: list[float]) -> float:
    s = 0.0
    for i in range(len(row)):
        s = s + w[i] * row[i]
    return s

def fit(a: float, pts: list[(float, float)]) -> float:
    total = 0.0
    for p in pts:
        x, y = p
        d = a * x - y
        total = total + d * d
    return total

def layer(a: float, rows: list[list[float]], k: int) -> float:
    if k == 0:
        return a
    w = [a, a * a]
    out = dot(w, rows[k % len(rows)]) + dot(rows[0], w) * 0.5
    return layer(out * 0.3, rows, k - 1) + out

def bent(c: float, ps: list[Pt], table: dict[str, float], names: list[str]) -> float:
    total = table["bias"] * c
    for p in ps:
        total = total + tanh(c * p.x - p.y)
    for n in names:
        if n in table:
            total = total + table[n] * c * c
    return total

def glob(a: float) -> float:
    acc = 0.0
    v = [a * 1.0, 1.0 - a]
    for r in W:
        acc = acc + dot(r, v) * dot([a * a, 2.0], r)
    return acc * acc + W[1][0] * a

def att(x: f64[2]) -> float:
    return dot([sum(x), 1.0], [sum(x * x), sum(x * x * x)])

def main():
    print(value_and_grad(fit)(0.5, [(1.0, 2.0), (2.0, 4.1), (3.0, 5.9)]))
    print(value_and_grad(layer)(0.3, [[1.0, 2.0], [0.5, -1.0], [3.0, 0.1]], 4))
    print(grad(bent)(0.7, [Pt(1.0, 0.5), Pt(-2.0, 0.25)], {"bias": 1.5, "a": 2.0}, ["a", "c", "a"]))
    print(value_and_grad(glob)(0.8))
    print(value_and_grad(att)(ones(2, dtype=f64) * 0.4))
"""

TUPLELISTS = """
struct Ball:
    x: float
    v: float
    hits: int

def step(b: Ball, dt: float) -> Ball:
    v = b.v - 9.8 * dt
    x = b.x + v * dt
    if x < 0.0:
        return Ball(-x, -v * 0.9, b.hits + 1)
    return Ball(x, v, b.hits)

def path(v0: float) -> float:
    bs = [Ball(1.0, v0, 0)]
    for i in range(30):
        bs.append(step(bs[-1], 0.05))
    s = 0.0
    for b in bs:
        s = s + b.x * 0.1
    last = bs[len(bs) - 1]
    return s + last.v * float(last.hits) + bs[3].x + energy(bs, 0.01)

def energy(bs: list[Ball], w: float) -> float:
    e = 0.0
    for b in bs:
        e = e + w * b.v * b.v + float(b.hits)
    return e

struct Slot:
    k: f64[3]
    v: float

def read(mem: list[Slot], q: f64[3]) -> float:
    total = 0.0
    for s in mem:
        total += sum(s.k * q) * s.v
    return total

def attend(q: f64[3]) -> float:
    mem: list[Slot] = []
    x = q
    for i in range(3):
        x = relu(x - 0.2) * 0.5 + x * x
        mem.append(Slot(x, sum(x)))
    return read(mem, q) + mem[1].v

def run_cells(xs: f32[4, 3]) -> f32:
    h = zeros(3)
    c = zeros(3)
    states = [(h, c)]
    for x in xs:
        h, c = lstm_cell(x, h, c)
        states.append((h, c))
    total = f32(0.0)
    for s in states:
        hh, cc = s
        total = total + sum(hh * cc)
    return total + sum(states[-1][0]) + last_c(states)

def last_c(ss: list[(f32[3], f32[3])]) -> f32:
    p = ss[len(ss) - 1]
    return sum(p[1] * p[1])

def main():
    print(value_and_grad(path)(2.0), grad(path)(-1.0))
    print(value_and_grad(run_cells)(reshape(arange(12), 4, 3) * 0.1))
    print(value_and_grad(attend)(arange(3, dtype=f64) * 0.3 - 0.2))
"""

COMPREHENSIONS = """
struct P:
    h: float
    k: int

def mean(xs: list[float]) -> float:
    return sum(xs) / float(len(xs))

def noisy(x: float) -> float:
    print("noisy", x)
    return x * 2.0

def scaled(xs: list[float], w: float) -> list[float]:
    return [x * w for x in xs if x > 0.0]

def floats(w: float) -> float:
    hs = [w * float(i) - 0.3 for i in range(5) if i != 2]
    t = mean([noisy(h) for h in hs]) + noisy(w)
    u = noisy(t) + mean([h * w for h in hs]) + sum([h * h for h in hs if h > 0.1])
    pairs = [a * b for b in scaled(hs, w) for a in hs]
    ps = [P(h * h, i) for i in range(3) for h in hs if i != 1]
    s = 0.0
    for p in ps:
        s = s + p.h * float(p.k)
    return u + sum(pairs) + s + sum(scaled(hs, 2.0))

def head(xs: list[f64[2]]) -> list[f64[2]]:
    return xs + [xs[0] * 2.0]

def copies(w: f64[2]) -> float:
    hs = [w * 0.5]
    for i in range(3):
        hs.append(relu(hs[-1]) * 0.5 + w)
    ks = hs.copy()
    ks.append(w * w)
    ls = list(hs) + head(ks)
    both = hs + ks
    s = 0.0
    for h in both:
        s = s + sum(h * h)
    return s + sum(ls[5]) + sum(ks[-1]) + float(len(ls))

def after_calls(x: float) -> float:
    y = noisy(x) + (noisy(x * 3.0) if x > 0.0 else 1.0) * noisy(x + 1.0)
    xs = [x, 2.0]
    z = mean([x, 1.0]) * mean([v * v for v in xs if v / x > 0.0])
    t = (x, noisy(z)) if z > 1.0 else (noisy(y), x)
    return y + z + noisy(y) * (noisy(z) if z > 1.0 else z) + t[0] * t[1]

def walks(w: float) -> float:
    hs = [w, w * w, 3.0 * w]
    ks = [1.0, 2.0, 3.0, 4.0]
    s = 0.0
    for i, h in enumerate(hs):
        s = s + h * float(i)
        if h > 2.0:
            continue
        hs[i] = h * 0.5
    for h, k in zip(hs, ks):
        s = s * 0.5 + h * k
    for h in reversed(hs):
        s = s * 0.5 + h
        if s > 10.0:
            break
    return s

def tested(w: float, xs: list[float]) -> float:
    z = w * 0.5
    if w > 0.0 and mean([noisy(w * v) for v in xs]) > 1.0:
        z = z * mean([v * w for v in xs if v > 0.0])
    elif w < -1.0 or mean([w * w * v for v in xs]) < 0.5:
        z = z - w * w
    ok = w > 2.0 and mean([v * w for v in xs]) > 3.0
    return z * (2.0 if ok else 1.0)

def main():
    print(value_and_grad(walks)(0.5), grad(walks)(1.7))
    print(value_and_grad(tested)(0.7, [1.0, 2.0]), grad(tested)(-0.2, [0.5, 1.0]), grad(tested)(2.5, [1.0, 2.0]))
    print(grad(tested)(-1.5, [1.0]), grad(tested)(0.3, [1.0, 2.0]))
    print(value_and_grad(after_calls)(0.5), grad(after_calls)(-0.5))
    print(value_and_grad(copies)(arange(2, dtype=f64) * 0.3 - 0.1))
    print(value_and_grad(floats)(0.7))
    print(grad(floats)(-0.4))
"""

SHOWN = """
struct Cell:
    h: f64[2]
    c: float
    n: int

struct P:
    a: float
    b: f32
    k: int

def step(s: Cell, x: float) -> Cell:
    t = Cell(s.h * x, s.c + x, s.n + 1)
    print("step", t, "n=" + str(t.n), str(t))
    return t

def f(x: float) -> float:
    s = Cell(ones(2, dtype=f64) * x, x * x, 0)
    for i in range(2):
        s = step(s, x)
    p = P(x, f32(2.0), 3)
    q = P(x * 1.0, f32(2.0), 3)
    r = P(x / 0.0 * 0.0, f32(1.0), 3) if x > 100.0 else P(x + 1.0, f32(1.0), 3)
    print(p == q, p != q, p == r, r == r, [p] == [q])
    if p == q:
        return sum(s.h) * s.c + p.a
    return s.c

def main():
    print(value_and_grad(f)(0.5))
    print(grad(f)(-1.5))
"""

GROWN = """
def encode(x: float, hs: list[float]):
    h = 0.0
    for i in range(3):
        h = h * 0.5 + x * float(i)
        hs.append(h)
    if x > 10.0:
        return
    hs.append(h * h)

def twice(x: float, hs: list[float]) -> float:
    encode(x, hs)
    encode(x * 2.0, hs)
    return hs[0]

def f(x: float) -> float:
    hs: list[float] = []
    encode(x, hs)
    t = twice(x + 1.0, hs)
    s = 0.0
    for h in hs:
        s = s + h * h
    return s + t + hs[2]

def g(w: f64[2]) -> float:
    mem = [w]
    grow(w * 2.0, mem)
    return sum(mem[1] * mem[0])

def grow(v: f64[2], mem: list[f64[2]]):
    mem.append(relu(v) + mem[-1])

def main():
    print(value_and_grad(f)(0.5))
    print(grad(f)(-1.0), grad(f)(11.0))
    print(value_and_grad(g)(arange(2, dtype=f64) - 0.5))
    print(value_and_grad(recall)(arange(2, dtype=f64) + 0.5))

struct Slot:
    k: f64[2]
    v: float

def remember(k: f64[2], mem: list[Slot], n: int):
    for i in range(n):
        mem.append(Slot(k * float(i), sum(k) * float(i)))

def recall(k: f64[2]) -> float:
    mem: list[Slot] = []
    remember(k, mem, 2)
    remember(k * k, mem, 3)
    s = 0.0
    for m in mem:
        s = s + sum(m.k) * m.v
    return s
"""

DYNAMIC = """
def softmin(a: float, b: float, c: float, g: float) -> float:
    m = min(a, min(b, c))
    return m - g * log(exp((m - a) / g) + exp((m - b) / g) + exp((m - c) / g))

def soft_edit(w: float, s: str, t: str) -> float:
    prev = [0.0]
    for j in range(len(t)):
        prev.append(float(j + 1) * w)
    for i in range(len(s)):
        cur = [float(i + 1) * w]
        for j in range(len(t)):
            cost = 0.0 if s[i] == t[j] else 1.0
            cur.append(softmin(prev[j] + cost, prev[j + 1] + w, cur[j] + w, 0.5))
        prev = cur
    return prev[len(t)]

def diffuse(w: float, n: int) -> float:
    prev = [w, 1.0, 2.0 * w, 0.5]
    total = 0.0
    k = 0
    while True:
        if k >= n:
            break
        nxt = [0.0] * len(prev)
        for j in range(len(prev)):
            nxt[j] = prev[j] * w + prev[(j + 1) % len(prev)] * 0.5
        if k % 2 == 0:
            total += nxt[0]
            prev = nxt
            k += 1
            continue
        old = prev
        prev = nxt
        total += old[1] * 0.1
        k += 1
    return total + prev[2]

def lev(w: float, s: str, t: str) -> float:
    m = len(t)
    prev = [0.0] * (m + 1)
    cur = [0.0] * (m + 1)
    for j in range(m + 1):
        prev[j] = float(j) * w
    for i in range(1, len(s) + 1):
        cur[0] = float(i) * w
        for j in range(1, m + 1):
            sub = prev[j - 1] + (0.0 if s[i - 1] == t[j - 1] else 1.0)
            cur[j] = min(prev[j] + w, cur[j - 1] + w * 0.9, sub)
        prev, cur = cur, prev
    return prev[m] + cur[1]

def spread(w: float, xs: list[float]) -> float:
    hs = [x * w for x in xs]
    return min(hs) * 2.0 + (max(hs) + min([h * h for h in hs])) * w + max(xs)

def states(x: f64[3], n: int) -> float:
    hs = [x]
    for i in range(n):
        h2 = []
        for h in hs:
            h2.append(h * 0.9 + h * h * 0.1)
        h2.append(ones(3, dtype=f64) * float(i))
        hs = h2
    acc = 0.0
    for k in range(len(hs)):
        acc += sum(hs[k] * float(k + 1))
    return acc

def relax(w: float) -> float:
    d = [w, 2.0 * w, 3.0, w * w]
    for k in range(3):
        for i in range(1, 4):
            d[i] = min(d[i], d[i - 1] + w * 0.5)
        d[0] = softmin(d[-1] * 0.5, w, 3.0, 0.5)
    return d[3] + d[0]

def main():
    print(value_and_grad(soft_edit)(1.0, "kitten", "sitting"))
    print(value_and_grad(diffuse)(0.7, 5), grad(diffuse)(1.1, 0), value_and_grad(lev)(0.8, "kitten", "sitting"))
    print(value_and_grad(states)(arange(3, dtype=f64) * 0.2 - 0.1, 3))
    print(value_and_grad(spread)(0.5, [3.0, -1.0, 2.0, -1.0]), grad(spread)(-0.5, [3.0, -1.0, 2.0, 3.0]))
    print(value_and_grad(relax)(0.7))
    print(value_and_grad(chain)(0.3, 6), grad(chain)(2.0, 5))

def chain(w: float, n: int) -> float:
    best = [0.0] * (n + 1)
    best[0] = w
    for i in range(1, n + 1):
        take = best[i - 1] * 0.9 + w
        skip = best[i - 2] + 1.0 if i >= 2 else w
        best[i] = max(take, skip)
    pairs = 2 * [w, 1.0]
    return best[n] + sum(pairs)
"""

TABLES = """
def soft_dtw(w: float, xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    m = len(ys)
    r = [[1000000.0] * (m + 1) for _ in range(n + 1)]
    r[0][0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            r[i][j] = cost(xs[i - 1] * w, ys[j - 1]) + min(r[i - 1][j], r[i][j - 1], r[i - 1][j - 1])
    return r[n][m]

def cost(a: float, b: float) -> float:
    return (a - b) ** 2.0

def tri(w: float, n: int) -> float:
    t: list[list[float]] = []
    for i in range(n):
        row = [w * float(i)]
        for j in range(i):
            row.append(row[j] * w + t[i - 1][j])
        t.append(row)
    t[0].append(w * 3.0)
    return t[n - 1][n - 1] + t[0][1] + float(len(t[0]))

def grid(w: float, n: int) -> float:
    total = 0.0
    t = [[w, 1.0], [2.0, w * w]]
    for k in range(n):
        old = t
        t = [[0.0] * 2 for _ in range(2)]
        for i in range(2):
            for j in range(2):
                t[i][j] = old[i][j] * w + old[1 - i][j] * 0.5
        total += t[0][1] - t[-1][-2]
    return total + t[1][1]

def scan(w: float, n: int) -> float:
    t = [[w * float(i + j) for j in range(3)] for i in range(n)]
    t[1][2] = t[0][1] * w
    total = 0.0
    for row in t:
        if len(row) < 2:
            continue
        total += row[-1] * row[0] + row[1]
        if total > 100.0:
            break
    return total

def soft_lcs(w: float, a: str, b: str, k: int) -> float:
    n = len(a)
    m = len(b)
    t = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        prev = t[i - 1]
        row = t[i]
        for j in range(1, m + 1):
            if a[i - 1] == b[j - 1]:
                row[j] = prev[j - 1] + w
            else:
                row[j] = max(prev[j], row[j - 1]) * 0.9
        row.append(row[m] * w)
    last = t[k]
    return last[m] + last[-1] + float(len(last))

def small(w: f32, n: int) -> f32:
    t = [[w * f32(j) for j in range(n)] for _ in range(n)]
    for i in range(1, n):
        for j in range(1, n):
            t[i][j] = t[i - 1][j] * w + t[i][j - 1] * f32(0.5)
    return t[n - 1][n - 1]

def dot(w: list[float], x: list[float]) -> float:
    s = 0.0
    for k in range(len(x)):
        s = s + w[k] * x[k]
    return s

def scale(xs: list[float], c: float) -> float:
    for k in range(len(xs)):
        xs[k] = xs[k] * c
    return xs[0]

def rows_passed(a: float, i: int) -> float:
    t = [[a, 2.0, 3.0], [1.0, a * a, 0.5]]
    w = [0.5, a, 1.5]
    total = 0.0
    for r in range(len(t)):
        total = total + dot(w, t[r]) * a
    u = scale(t[-1], a)
    t[0][2] = u * a
    return total + dot(t[0], w) * u + t[1][2] + dot(w, t[i])

def row_values(a: float, i: int) -> float:
    t = [[a, 2.0, 3.0], [1.0, a * a, 0.5], [a * 3.0]]
    t[2].append(a - 1.0)
    s = sum(t[i]) * a + sum(t[1], 0.25) + min(t[i + 1]) * max(t[len(t) - 3 + i])
    t[1][1] = s
    return s + max(t[1]) + sum(t[-1])

def main():
    print(value_and_grad(soft_dtw)(0.9, [1.0, 2.0, 3.0, 2.5], [1.1, 2.2, 2.9]))
    print(value_and_grad(rows_passed)(0.7, 0), grad(rows_passed)(-1.3, -1))
    print(value_and_grad(row_values)(0.7, 0), grad(row_values)(-1.3, 1))
    print(value_and_grad(tri)(0.7, 4), value_and_grad(grid)(0.9, 3), grad(small)(f32(0.8), 4))
    print(value_and_grad(scan)(0.7, 4), grad(scan)(3.0, 5))
    print(value_and_grad(soft_lcs)(0.8, "kitten", "sitting", -1), grad(soft_lcs)(0.8, "ab", "b", 1))
    print(grad(tri)(0.7, 0))
"""

ARGUMENTS = """
struct Params:
    k: float
    c: f32
    v: f64[3]

struct P:
    x: float
    v: f32[2]

def spring(p: Params, x0: float, n: int) -> float:
    x = x0
    vel = 0.0
    e = 0.0
    for i in range(n):
        vel = vel - p.k * x * 0.1 - float(p.c) * vel * 0.1
        x = x + vel * 0.1
        e = e + x * x
    return e + sum(p.v * p.v) * x0

def pair(q: (float, f32[2]), w: float) -> float:
    a, v = q
    return a * float(sum(v * v)) * w + a

def unused(q: (float, float)) -> float:
    return q[0] * 2.0

def records(ps: list[P]) -> float:
    s = 0.0
    for p in ps:
        s += p.x * float(sum(p.v * p.v))
    return s

def chain(ts: list[f32[3]]) -> f32:
    s = f32(0.0)
    for k in range(len(ts) - 1):
        s = s + sum(ts[k] * ts[k + 1])
    return s

def scaled(xs: list[float], c: float) -> float:
    s = 0.0
    for i, x in enumerate(xs):
        if i % 2 == 0:
            s += c * x * x
    return s

def pairs(ps: list[(float, float)], w: float) -> float:
    s = 0.0
    for a, b in ps:
        s += a * a * w + b
    return s

def main():
    p = Params(2.0, f32(0.3), arange(3, dtype=f64))
    print(grad(spring)(p, 1.0, 20))
    v, g = value_and_grad(spring)(p, 0.5, 3)
    print(v, g.k, g.c, g.v)
    print(grad(pair)((2.0, arange(2)), 0.5), grad(unused)((1.0, 2.0)))
    print(grad(records)([P(1.0, arange(2)), P(2.0, ones(2))]), grad(records)([]))
    print(grad(chain)([arange(3), ones(3), arange(3) * 2.0]))
    print(value_and_grad(scaled)([1.0, 2.0, 3.0], 0.5))
    print(grad(pairs)([(1.0, 2.0), (3.0, 4.0)], 2.0))
"""

NESTED = """
struct P:
    x: float
    v: f32[2]

struct Seg:
    a: P
    b: P
    n: int

struct Lin:
    w: f64[3]
    b: f64[3]

struct Net:
    l1: Lin
    l2: Lin
    scale: float

def fwd(l: Lin, x: f64[3]) -> f64[3]:
    return x * l.w + l.b

def loss(net: Net, x: f64[3]) -> float:
    h = tanh(fwd(net.l1, x))
    y = fwd(net.l2, x * sum(h))
    return sum(y * y) * net.scale

def moved(s: Seg, t: float) -> Seg:
    q = s
    q.a.x = q.a.x + t * q.b.x
    q.b = P(q.b.x * t, q.b.v * f32(t))
    q.n = q.n + 1
    return q

def energy(s: Seg) -> float:
    d = s.b.x - s.a.x
    return d * d + float(sum(s.a.v * s.b.v)) * float(s.n)

def walk(t: float, k: int) -> float:
    s = Seg(P(t, ones(2)), P(2.0, arange(2)), 0)
    for i in range(k):
        s = moved(s, t)
        if s.a.x > 3.0:
            s.a = P(s.a.x * 0.5, s.a.v)
    print(s, s.a, s.n == 3)
    pair = (s, t)
    return energy(pair[0]) + pair[1]

def deep(t: float, s: Seg, k: int) -> float:
    if k == 0:
        return energy(s)
    return deep(t, moved(s, t), k - 1) * 0.5 + s.a.x

def start(t: float, s: Seg) -> float:
    s.b.x = t
    return deep(t, s, 3)

def main():
    net = Net(Lin(arange(3, dtype=f64) * 0.1, zeros(3, dtype=f64)), Lin(ones(3, dtype=f64) * 0.2, ones(3, dtype=f64)), 2.0)
    g = grad(loss)(net, arange(3, dtype=f64))
    print(g)
    print(value_and_grad(loss)(net, ones(3, dtype=f64)))
    print(grad(walk)(0.7, 3), grad(walk)(1.3, 4))
    s = Seg(P(1.0, ones(2)), P(0.5, arange(2)), 2)
    print(grad(start)(0.5, s), grad(start)(1.5, s))
"""


PASSED = """
def fill(d: list[list[float]], w: float):
    for i in range(len(d)):
        d[i][0] = d[i][0] * w

def summed(t: list[list[float]]) -> float:
    s = 0.0
    for r in t:
        s += sum(r)
    return s

def walk(d: list[list[float]], i: int, w: float) -> float:
    if i == len(d):
        return 0.0
    d[i][1] = d[i][1] + w * d[i][0]
    return walk(d, i + 1, w * 0.5) + d[i][1]

def scale(t: list[list[float]], w: float) -> float:
    return t[0][0] * w + t[len(t) - 1][1]

def h(w: float) -> float:
    d = [[w, 1.0], [2.0, w], [3.0, 4.0]]
    c = [[1.0, 2.0]]
    fill(d, w)
    return summed(d) + summed(c) * w + walk(d, 0, w) + scale(c, w) + scale(d, w)

def k(w: float) -> float:
    d = [[w, 1.0]]
    d.append([w * w, 2.0])
    fill(d, 2.0)
    return summed(d)


def total(t: list[list[float]]) -> float:
    s = 0.0
    for r in t:
        for j in range(len(r)):
            s += r[j] * r[j]
    return s

def cell(d: list[list[float]], i: int, j: int, c: float) -> float:
    best = min(d[i - 1][j], d[i][j - 1], d[i - 1][j - 1])
    d[i][j] = c + best
    return d[i][j]

def smooth(d: list[list[float]], w: float) -> float:
    for i in range(1, len(d)):
        for j in range(len(d[i])):
            d[i][j] = d[i][j] * w + d[i - 1][j] * (1.0 - w)
    return d[len(d) - 1][0]

def f(w: float) -> float:
    t = [[w, 2.0 * w], [3.0, w * w]]
    u = [[1.0, w]]
    return total(t) + total(u)

def dtw(w: float, xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    m = len(ys)
    d = [[1e9] * (m + 1) for _ in range(n + 1)]
    d[0][0] = 0.0
    last = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            last = cell(d, i, j, (w * xs[i - 1] - ys[j - 1]) ** 2.0)
    return last + smooth(d, 0.5) * 0.0 + total(d) * 1e-20

def main():
    print(value_and_grad(h)(1.5), grad(k)(3.0), grad(h)(-0.5))
    print(grad(f)(2.0), value_and_grad(f)(-1.0))
    print(value_and_grad(dtw)(0.7, [1.0, 2.0, 3.0, 2.0], [1.0, 3.0, 2.5]))
"""


DICTS = """
def keyed(w: float) -> float:
    d = {"a": w, "b": 2.0}
    for k in list(d.keys()):
        d[k] = d[k] * w
    n = 0
    if "a" in d and "q" not in d:
        n = len(d)
    return d["a"] + d["b"] * float(n)

def f(w: float) -> float:
    d = {"a": w, "b": 2.0}
    d["c"] = d["a"] * d["b"]
    d["a"] = d["a"] * w
    s = 0.0
    for k in d:
        s += d[k] * w
    return s + d.get("z", w * 3.0) + d.get("c", 1.0) + float(len(d))


def scores(w: f32, words: list[str]) -> f32:
    table: dict[str, f32] = {}
    for x in words:
        if x in table:
            table[x] = table[x] * w + f32(1.0)
        else:
            table[x] = w
    s = f32(0.0)
    for k in table:
        s = s + table[k] * table[k]
    return s / f32(len(table))

def twice(w: float) -> float:
    d = {"a": w, "a": w * w}
    total = 0.0
    for i in range(3):
        e = {"k": w * float(i), "j": 1.0}
        e["k"] = e["k"] + d["a"]
        total += e["k"] * e.get("j", 0.0)
    return total


def lookup(env: dict[str, float], name: str) -> float:
    return env[name]

def bind(env: dict[str, float], name: str, v: float):
    env[name] = v

def ev(ops: list[str], args: list[str], env: dict[str, float], i: int) -> float:
    if i < 0:
        return 0.0
    op = ops[i]
    if op == "add":
        return ev(ops, args, env, i - 1) + lookup(env, args[i])
    if op == "mul":
        return ev(ops, args, env, i - 1) * lookup(env, args[i])
    if op == "set":
        bind(env, args[i], ev(ops, args, env, i - 1))
        return env[args[i]]
    return 1.0

def run(w: float, ops: list[str], args: list[str]) -> float:
    env = {"x": w, "y": 2.0}
    env["z"] = w * w
    r = ev(ops, args, env, len(ops) - 1)
    total = 0.0
    for k in env:
        total += env[k]
    return r + total * 0.5

def decay(env: dict[str, float], y: float) -> float:
    if y > 1.0:
        env["u"] = env["u"] * 0.5 + y
    return env["u"] * y

def looped(x: float) -> float:
    e = {"u": x, "v": 0.5}
    a = x * 0.5 + 1.2
    for i in range(2):
        a = cos(decay(e, a)) + 1.2
    return a

def counts(w: float, n: int) -> float:
    d: dict[int, float] = {}
    for i in range(n):
        d[i % 3] = d.get(i % 3, 1.0) * w + float(i)
    return d[0] + d[1] * 2.0

def main():
    print(value_and_grad(f)(3.0), grad(f)(-1.0), value_and_grad(keyed)(3.0))
    print(value_and_grad(scores)(f32(0.5), ["a", "b", "a", "c", "a", "b"]))
    print(value_and_grad(twice)(1.5), value_and_grad(looped)(-0.7), value_and_grad(looped)(1.3))
    ops = ["add", "mul", "set", "add", "mul"]
    args = ["x", "z", "q", "q", "y"]
    print(value_and_grad(run)(1.5, ops, args), grad(run)(-0.5, ops, args))
    print(value_and_grad(counts)(0.9, 7))
"""


TENSOR_DICTS = """
def memo(x: f64[3]) -> float:
    mem = {"a": x * 2.0, "b": ones(3, dtype=f64)}
    mem["c"] = tanh(mem["a"]) + x
    mem["a"] = mem["a"] * x
    s = 0.0
    for k in mem:
        s = s + sum(mem[k] * mem[k])
    return s + sum(mem.get("z", x * 3.0)) + sum(mem.get("c", x))

def read(env: dict[str, f32[2]], name: str) -> f32[2]:
    return env[name]

def write(env: dict[str, f32[2]], name: str, v: f32[2]):
    env[name] = v

def machine(w: f32[2], ops: list[str], names: list[str]) -> f32:
    env = {"x": w, "y": ones(2) * 0.5}
    for i in range(len(ops)):
        if ops[i] == "tanh":
            write(env, names[i], tanh(read(env, "x") + read(env, names[i])))
        elif ops[i] == "mul":
            env["x"] = env["x"] * read(env, names[i])
        else:
            write(env, names[i], sigmoid(env["x"]))
    total = f32(0.0)
    for k in env:
        total = total + sum(env[k] * env[k])
    return total

def slots(x: f64[2, 3], n: int) -> float:
    cache: dict[int, f64[3]] = {}
    i = 0
    while i < n:
        r = x[i % 2]
        if i % 3 in cache:
            cache[i % 3] = relu(cache[i % 3] + r) * 0.5
        else:
            cache[i % 3] = r * float(i + 1)
        i = i + 1
    return sum(cache.get(0, x[0]) * cache.get(1, x[1])) + float(len(cache))

def decay(env: dict[str, f64[3]], y: float) -> float:
    if y > 1.0:
        env["u"] = env["u"] * 0.5 + y
    return sum(env["u"]) * y

def looped(x: f64[3]) -> float:
    e = {"u": x, "v": x * 0.5}
    a = sum(x) * 0.5 + 1.2
    for i in range(2):
        a = cos(decay(e, a)) + 1.2
    return a

def main():
    x = f64(arange(3)) * 0.3 - 0.2
    print(value_and_grad(memo)(x))
    print(value_and_grad(machine)(ones(2) * 0.7, ["tanh", "mul", "set", "tanh"], ["y", "y", "z", "z"]))
    m = f64(reshape(arange(6), 2, 3)) * 0.2 - 0.5
    print(value_and_grad(slots)(m, 7), grad(slots)(m, 2))
    print(value_and_grad(looped)(x), value_and_grad(looped)(x * -2.0 + 1.0))
"""

ALIASED = """
def k(x: float) -> float:
    w = x if x > 1.0 else exp(x)
    return tanh(w) * x + w * x * x

def settle(x: float) -> float:
    v = x
    while v > 0.01:
        v = v * 0.7 - 0.001 * v * v
    return v + x ** 3.0

def remembered(xs: f32[5, 4]) -> f32:
    hs = []
    h = zeros(4)
    for x in xs:
        h = tanh(x + h * 0.5)
        hs.append(h)
    return sum(hs[1] * hs[-1]) + sum(h)

def pts(a: float, n: int) -> list[(float, int)]:
    out = [(a, 0)]
    for i in range(n):
        prev = out[i]
        out.append((prev[0] * a + 0.5, i + 1))
    return out

def fit(a: float) -> float:
    ps = pts(a, 3)
    s = 0.0
    for p in ps:
        v, k = p
        s = s + v * float(k + 1)
    q = ps[1]
    return s * ps[2][0] + q[0] * q[0]

def seq(s: f32[2, 12]) -> f32:
    y = relu(conv1d(s, 3, 3, padding=1))
    z = max_pool(y, 2) + avg_pool(y, 2) * 0.5
    w = conv1d(z, 2, 2, stride=2)
    return sum(w * w)

def main():
    print(grad(k)(0.7), grad(k)(1.7), grad(k)(2.9), grad(settle)(0.7), grad(settle)(20.0))
    print(grad(remembered)(reshape(arange(20), 5, 4) * 0.1))
    print(value_and_grad(seq)(reshape(arange(24), 2, 12) * 0.1 - 1.0))
    print(value_and_grad(fit)(0.7), grad(fit)(-1.2))
"""


FUNCTIONS = """
def unroll(cell: fn(f64[3], f64[3]) -> f64[3], h: f64[3], xs: list[f64[3]]) -> f64[3]:
    for x in xs:
        h = cell(h, x)
    return h

def twice(f: fn(float) -> float, x: float) -> float:
    return f(f(x))

def sq(x: float) -> float:
    return x * x

def layer(h: f64[3], x: f64[3]) -> f64[3]:
    return tanh(dense(h, 3) + x)

def loss(w: f64[3], xs: list[f64[3]]) -> float:
    h = unroll(lambda a, b: tanh(a * w + b), zeros(3, dtype=f64), xs)
    n = 0
    while sum(h * h) < 2.0 and n < 5:
        h = unroll(lambda a, b: a + b * w, h, xs)
        n += 1
    return sum(h * h) + sum(unroll(layer, w, xs))

def scalar(w: float) -> float:
    k = 0.5
    shift = lambda v: v * w + k
    return twice(shift, w) + twice(sq, w) * twice(lambda v: v - k * w, 2.0)

def main():
    xs = [ones(3, dtype=f64) * 0.5, arange(3, dtype=f64) * 0.1]
    print(value_and_grad(loss)(ones(3, dtype=f64) * 0.3, xs))
    print(value_and_grad(scalar)(0.7), grad(scalar)(-1.3))
"""


MAPPED = """
def sq(x: float) -> float:
    return x * x

def big(x: float) -> bool:
    return x > 0.5

def before(x: float, k: float) -> float:
    y = x * k + sq(x)
    return y * y + sq(x * k + sq(y))

def mapped(xs: list[float], k: float) -> float:
    ys = map(lambda x: x * k + sq(x), xs)
    zs = filter(lambda y: y > k, ys)
    return sum(map(sq, zs)) + sum(filter(big, [x * 3.0 for x in xs]))

def weighted(w: f64[3], xs: list[f64[3]]) -> float:
    hs = map(lambda x: tanh(x * w), xs)
    keep = filter(lambda h: sum(h) > 0.0, hs)
    return sum(map(lambda h: sum(h * h * w), keep)) + sum(map(lambda i: sum(xs[i]) * w[i], range(3)))

def nested(x: float) -> float:
    rows = [x, 2.0 * x, x * x]
    return mean(map(lambda r: sum(map(lambda v: v * x * r, [r, 1.0])), rows))

def main():
    for x in [0.9, 0.3, -1.7, 2.2]:
        print(value_and_grad(before)(x, 0.4))
    print(value_and_grad(mapped)([0.3, -1.2, 0.9, 2.0], 0.4), grad(mapped)([0.3, 0.7], 2.0))
    xs = [arange(3, dtype=f64) * 0.4 - 0.3, ones(3, dtype=f64) * -0.2, arange(3, dtype=f64) * 0.1]
    print(value_and_grad(weighted)(ones(3, dtype=f64) * 0.7, xs))
    print(value_and_grad(nested)(1.5))
"""

REDUCED = """
def add(a: float, b: float) -> float:
    return a + b

def sq(x: float) -> float:
    return x * x

def make(x: float, n: int) -> list[float]:
    return [x * float(i) for i in range(n)]

def poly(x: float, cs: list[float]) -> float:
    return reduce(lambda a, c: a * x + c, cs, 0.0)

def named(x: float) -> float:
    return reduce(add, make(x, 4))

def branchy(x: float) -> float:
    k = 2.0
    return 1.0 + reduce(lambda a, b: a * k + sq(b) if b > 1.0 else a - b, make(x, 5), x)

def looped(x: float) -> float:
    t = 0.0
    for i in range(3):
        t += reduce(lambda a, b: max(a, b) * x, [x, float(i), 2.0 * x])
    return t

def tensors(w: f64[3], x: float) -> float:
    vs = [w * x, w + x, w]
    return sum(reduce(lambda a, b: a * b, vs))

def empty(x: float) -> float:
    ys: list[float] = []
    return reduce(lambda a, b: a + b, ys) + x

def main():
    cs = [1.0, -2.0, 0.5]
    for x in [0.5, 1.5, 2.25]:
        print(poly(x, cs), grad(poly)(x, cs), value_and_grad(named)(x), grad(branchy)(x), grad(looped)(x))
    print(grad(tensors)(arange(3, dtype=f64) * 0.75 - 1.0, 1.5))
    print(grad(empty)(1.0))
"""


def compiled(text):
    program = check_source(Source("t.glia", text))
    ref = run(program, [], "interp")
    got = run(program, [], "cpu")
    assert got[2] == [], got[2]  # compiled whole: no function left to the interpreter
    assert got[1] == ref[1]
    return got[0], ref[0]


@pytest.mark.parametrize("text", [CONTROL, SCALARS, TENSORS, LAYERS, CELLS, CALLS, DATA, TUPLES, BROADCAST,
                                  STRUCTS, MEMORY, FLOATLISTS, CONSTANTS, TUPLELISTS, COMPREHENSIONS, SHOWN,
                                  GROWN, DYNAMIC, TABLES, ARGUMENTS, NESTED, PASSED, DICTS, MAPPED, REDUCED],
                         ids=["control flow", "scalars", "tensors", "layers and losses", "cells, tuples, lists",
                              "calls", "values that hold no float", "calls returning tuples", "powers and broadcasts",
                              "records", "lists passed", "lists of floats", "constants", "lists of tuples and records",
                              "list comprehensions", "records printed and compared", "lists grown by callees",
                              "dynamic programming: min, max, elements replaced", "tables: d[i][j]",
                              "with respect to tuples, records and lists", "records of records",
                              "tables passed to functions", "dicts of floats",
                              "map, filter, mean; what runs before a call",
                              "reduce with and without a start, an empty list's error"])
def test_gradients_match_the_interpreter(text):
    got, ref = compiled(text)
    assert got == ref


def test_a_global_that_is_also_the_argument_is_a_constant():
    """grad(f)(G) of a global list f also reads: the reads through the global are constants to the
    gradient, on both backends (the interpreter, boxing the argument in place, differentiated them too:
    [2.0, 4.0] against the compiled [1.0, 4.0])."""
    got, ref = compiled("G: list[float] = [1.0, 2.0]\n\ndef f(xs: list[float]) -> float:\n"
                        "    return xs[0] * G[0] + xs[1] * xs[1]\n\ndef main():\n    print(grad(f)(G), grad(f)([3.0, 4.0]))\n")
    assert got == ref == "[1.0, 4.0] [1.0, 8.0]\n"


def test_additions_waiting_before_a_loop_are_not_put_inside_it():
    """`sum(m) + x * x`: the reverse sweep adds x's two cotangents (the second waiting to be emitted
    as one line with any next) and then loops over m's elements for `sum(m)`: the waiting addition
    was emitted after the loop's `for` line, before its body (generated code that did not parse:
    the function ran in the interpreter, noted as a bug in Glia; random gradients, GLIA_GRAD_SEED=8001)."""
    text = ("def f(x: float) -> float:\n    m = [x * 0.3, x]\n    return sum(m) + x * x\n\n"
            "def g(x: float) -> float:\n    m = [x * 0.3]\n    return sum(m) / (1.5 + x * x)\n\n"
            "def main():\n    print(value_and_grad(f)(0.5), value_and_grad(g)(0.5))\n")
    got, ref = compiled(text)
    assert_close_output(got, ref)


def test_function_values_to_rounding():
    """A cell passed as a function value (a lambda capturing the weights, a function with a layer),
    compiled whole; a captured value is a second name for the caller's (its uses are one sum: equal
    to rounding)."""
    got, ref = compiled(FUNCTIONS)
    assert_close_output(got, ref)


def test_one_value_under_two_names_to_rounding():
    got, ref = compiled(ALIASED)
    assert_close_output(got, ref)


def test_dicts_of_tensors_to_rounding():
    """Dicts of tensors on the gradient path (displays, `d[k]`, `d.get`, `d[k] = v`, `for k in d`,
    passed to functions reading and changing them, int keys in a while loop, f32), compiled whole: a
    cotangent per key (a typed dict of arrays); sums of cotangents in another order, so to rounding."""
    got, ref = compiled(TENSOR_DICTS)
    assert_close_output(got, ref)


def test_every_adjoint_rule_is_exercised():
    ops = set()
    for text in (CONTROL, SCALARS, TENSORS, LAYERS, CELLS, CALLS, ALIASED, BROADCAST):
        program = check_source(Source("t.glia", text))
        for f in program.functions.values():
            ops |= {n.op for n in ir.walk(f.body) if isinstance(n, ir.Prim)}
    ruled = {op for op, p in PRIMS.items() if "adjoint" in p.rules}
    assert ruled - ops == set()


@pytest.mark.parametrize("body, says", [
    ("    xs = [ones(2, dtype=f64) * x]\n    xs[0] = xs[0] * 3.0\n    return sum(xs[0])", "its list 'xs' is used otherwise"),
    ("    return rows(x)[1][0] * x", "the gradient through a call returning a list[list[float]]"),
    ("    ds = {\"a\": x}\n    del ds[\"a\"]\n    return x", "its dict 'ds' is used otherwise"),
    ("    ds = {\"a\": x}\n    es = ds\n    return es[\"a\"]", "its dict 'ds' is used otherwise"),
    ("    ds = {\"a\": x}\n    return sum(ds.values())", "its dict 'ds' is used otherwise"),
    ("    ds = {\"a\": x}\n    for k in ds:\n        ds[k] = ds[k] * x\n    return ds[\"a\"]",
     "its dict 'ds' is changed, or passed to a function, while a loop runs over its keys"),
    # containers of floats the gradient does not reach are constants, read by reference: not changed
    ("    ts = [[1.0]]\n    ts.append([2.0])\n    return ts[1][0] * x", "which changes a list[list[float]] in place"),
    ("    ts = [[1.0]]\n    ts.append([x])\n    r = ts[1]\n    return pick(r, x)", "its table 'ts' is used otherwise (a row as"),
    ("    ts = [[x]]\n    return extend(ts)", "its table 't' is a parameter appended to"),
    # a call changing a container the gradient reaches, where the gradient does not follow calls
    ("    ys = [ones(2, dtype=f64) * x]\n    if grow(ys) > 0.5:\n        x = x * 2.0\n    return sum(ys[-1]) * x",
     "a call of 'grow', which changes a list, table or dict the gradient reaches, where the gradient does not"),
    ("    ds = {\"a\": x}\n    print(setd(ds, x))\n    return ds[\"a\"]", "a call of 'setd', which changes"),
    ("    r = [x, 1.0]\n    ts = [[1.0]]\n    ts.append(r)\n    return ts[1][0] * r[1]",
     "its table 'ts' is appended the list 'r', which is read again before it is assigned (write `ts.append(r.copy())`"),
    ("    xs = [x, 2.0]\n    while x < 9.0 and total([v * x for v in xs]) > 0.0:\n        x = x * 2.0\n    return xs[1]",
     "its list 'xs' is read by a list comprehension not written as a loop (one in the condition of a `while`"),
    ("    return pick([x, 2.0], total([x * 2.0, 1.0]) if x > 1.0 else 0.0)",
     "a call inside a conditional expression on the gradient path"),
    ("    xs = [ones(2, dtype=f64) * x]\n    ys = xs\n    return sum(ys[0]) + sum(xs[0])",
     "its list 'xs' is used otherwise (given another name and read again before it is assigned: write `.copy()`"),
    ("    ys = [ones(2, dtype=f64) * x]\n    for y in ys:\n        if len(ys) < 3:\n            grow(ys)\n    return sum(ys[0])",
     "its list 'ys' grows (a call of 'grow' appends to it) while a loop runs over it"),
    # lists that could be shared: the reverse sweep takes back the appends of the lists it owns
    ("    G.append(x * 2.0)\n    return G[2] * x", "which changes a list[float] that is not its own local"),
    ("    vs = consts(2)\n    vs.append(x)\n    return vs[2] * x", "made by a call that takes no float"),
    ("    ys = [x * 1.0]\n    zs = same(ys)\n    return zs[0] * x", "which returns a list[float] it did not make"),
    # a struct holding a float used otherwise than built, read, replaced, passed and returned
    ("    ss = {\"a\": S(x, 3)}\n    return sq(ss[\"a\"])", "whose local 'ss' is a dict[str, S]"),
    ("    ts = [(S(x, 3), 1)]\n    return sq(ts[0][0])", "whose local 'ts' is a list[(S"),
    # containers that hold no float are read by reference: nothing may change one in place
    ("    ks = [1, 2]\n    ks.append(3)\n    return x * float(len(ks))", "which changes a list[int] in place"),
    ("    ks = [1, 2]\n    n = push(ks)\n    return x * float(n + len(ks))",
     "a call of 'push', which changes a list[int] in place"),
])
def test_not_compiled_yet_says_why_and_answers(body, says):
    """What does not compile yet runs in the interpreter, with the right answer and a note saying why."""
    text = f"G: list[float] = [1.0, 2.0]\n\n" \
        f"def rows(x: float) -> list[list[float]]:\n    return [[x], [x * 2.0]]\n\n" \
        f"def consts(n: int) -> list[float]:\n    return G\n\n" \
        f"def same(xs: list[float]) -> list[float]:\n    return xs\n\n" \
        f"def total(xs: list[float]) -> float:\n    return xs[0] + xs[1]\n\n" \
        f"def pick(xs: list[float], y: float) -> float:\n    return xs[0] * y\n\n" \
        f"struct S:\n    a: float\n    n: int\n\ndef sq(s: S) -> float:\n    return s.a * s.a\n\n" \
        f"def push(xs: list[int]) -> int:\n    xs.append(1)\n    return len(xs)\n\n" \
        f"def extend(t: list[list[float]]) -> float:\n    t.append([1.0])\n    return t[0][0]\n\n" \
        f"def setd(d: dict[str, float], y: float) -> float:\n    d[\"a\"] = y * 2.0\n    return y\n\n" \
        f"def grow(xs: list[f64[2]]) -> float:\n    xs.append(xs[0])\n    return sum(xs[1])\n\n" \
        f"def f(x: float) -> float:\n{body}\n\ndef main():\n    print(grad(f)(3.0))\n"
    program = check_source(Source("t.glia", text))
    out, err, notes = run(program, [], "cpu")
    assert (out, err) == run(program, [], "interp")[:2] and err is None
    assert len(notes) == 1 and says in notes[0], notes


def test_errors_in_the_forward_sweep_are_the_interpreters():
    text = """
def f(x: float) -> float:
    return log(x) + sqrt(x)

def low(x: float, n: int) -> float:
    return min([x * float(i) for i in range(n)]) + x

def main():
    print(grad(f)(1.0), grad(low)(2.0, 3))
    print(grad(low)(2.0, 0))
"""
    program = check_source(Source("t.glia", text))
    ref, got = run(program, [], "interp"), run(program, [], "cpu")
    assert got[:2] == ref[:2] and got[1][0] == "E506" and got[2] == []


def test_recursive_gradient_reloads_from_the_cache(tmp_path):
    """A recursive reverse sweep, compiled, then loaded from Numba's cache by a second process."""
    path = tmp_path / "r.glia"
    path.write_text("def h(x: float, n: int) -> float:\n    if n == 0:\n        return x\n"
                    "    return h(x * 1.1, n - 1) * x + 0.5\n\n"
                    "def main():\n    print(value_and_grad(h)(1.3, 5), grad(h)(0.9, 300))\n", encoding="utf-8")
    env = {**os.environ, "GLIA_CACHE_DIR": str(tmp_path / "cache")}
    outs = [subprocess.run([sys.executable, "-m", "glia", "run", "--backend", "cpu", str(path)], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300) for _ in range(2)]
    assert [o.returncode for o in outs] == [0, 0], outs[0].stderr + outs[1].stderr
    assert outs[0].stdout == outs[1].stdout and outs[0].stderr == outs[1].stderr == ""


MUTUAL = """
def even_path(x: float, n: int) -> float:
    if n == 0:
        return x
    return odd_path(x * 1.1 + 0.1, n - 1) * x

def odd_path(y: float, n: int) -> float:
    if n == 0:
        return sin(y)
    s = 0.0
    for i in range(n):
        s = s + tanh(even_path(y - 0.2 * float(i), i))
    return s + y * 0.5

def main():
    print(even_path(0.5, 4))
    print(value_and_grad(even_path)(0.7, 5), grad(even_path)(1.3, 0), grad(odd_path)(0.4, 3))
"""


UNMERGED = """
def ev(x: f64[3], n: int) -> float:
    if n <= 0:
        return sum(x * x)
    return od(n - 1) * sum(x)

def od(n: int) -> float:
    return ev(ones(3, dtype=f64) * 0.5, n - 1) + 1.0

def main():
    print(ev(ones(3, dtype=f64), 4))
"""


def test_mutual_recursion_compiles_and_reloads(tmp_path):
    """Mutually recursive functions, and gradients through them, compile whole, and a second process
    runs the program again from the same cache folder. Numba's cached code for a call into a cycle of
    functions would jump to null (numba/numba#6061: the second run segfaulted): a cycle is merged into
    one self-recursive function (compiler/cycles.py), or, when it cannot be (a parameter of a tensor
    type another member lacks: UNMERGED), compiled in each process."""
    paths = []
    for name, text in (("m.glia", MUTUAL), ("u.glia", UNMERGED)):
        paths.append(tmp_path / name)
        paths[-1].write_text(text, encoding="utf-8")
    golden = os.path.join(ROOT, "tests", "programs", "functions", "mutual_recursion.glia")  # no gradient
    env = {**os.environ, "GLIA_CACHE_DIR": str(tmp_path / "cache")}
    for p in [str(p) for p in paths] + [golden]:
        with open(p, encoding="utf-8") as f:
            ref = run(check_source(Source(p, f.read())), [], "interp")
        for _ in range(2):
            out = subprocess.run([sys.executable, "-m", "glia", "run", "--backend", "cpu", p], cwd=ROOT, env=env,
                                 capture_output=True, text=True, timeout=300)
            assert (out.returncode, out.stderr) == (0, ""), out.stderr
            assert out.stdout == ref[0]


def test_merged_cycles_keep_names_and_depths():
    """A merged cycle (compiler/cycles.py) counts calls as the interpreter does: the recursion limit
    falls at the same call (E505 naming the member called), and members with other parameter types
    (int and str) share the merged function's parameters."""
    text = """
def is_even(n: int) -> bool:
    if n == 0:
        return True
    return is_odd(n - 1)

def is_odd(n: int) -> bool:
    if n == 0:
        return False
    return is_even(n - 1)

def count(n: int, s: str) -> str:
    if n == 0:
        return s
    return tag(n - 1, s + "a")

def tag(k: int, s: str) -> str:
    if k % 3 == 0:
        return count(k, s)
    return count(k, s + "b")

def main(args: list[str]):
    print(is_even(10), is_odd(7), count(9, ""))
    print(is_even(int(args[0])))
"""
    program = check_source(Source("t.glia", text))
    for n in ("19998", "19999"):
        ref, got = run(program, [n], "interp"), run(program, [n], "cpu")
        assert got[:2] == ref[:2] and got[2] == []
    assert got[1][0] == "E505" and "is_odd" in got[1][1]


def test_f32_math_functions_match_the_interpreter():
    """A scalar f32's exp, log, tanh, ...: through float64 on both backends (the C library's float32
    functions differed in the last bit for 7% of these values before)."""
    text = """
def main():
    x = f32(0.001)
    i = 0
    while i < 3000:
        print(exp(x), log(x), tanh(x), sin(x), cos(x), tan(x), atan(x), sinh(x * f32(0.01)),
              cosh(x * f32(0.01)), log2(x), log10(x), asin(f32(1.0) / x), acos(f32(1.0) / (x + f32(1.0))))
        x = x * f32(1.003) + f32(0.0001)
        i = i + 1
"""
    got, ref = compiled(text)
    assert got == ref



CHANGED_ARGUMENTS = """
def f(w: float, xs: list[float], t: list[list[float]], hs: list[f64[2]], d: dict[int, float]) -> float:
    xs.append(w * 2.0)
    xs[0] = xs[0] * w
    t[0][0] = t[0][0] + w
    t[1].append(w)
    hs.append(hs[0] * w)
    d[3] = w * 3.0
    d[1] = d[1] * w
    return xs[0] + t[0][0] + sum(hs[0]) + d[3] + d[1]

def scale(xs: list[float], w: float):
    xs[0] = xs[0] * w

def g(w: float, xs: list[float]) -> float:
    scale(xs, w)
    return w * xs[0]

def h(ws: list[float]) -> float:
    ws.append(ws[0] * 2.0)
    return ws[0] * ws[1]

def main():
    xs = [1.0, 2.0]
    t = [[1.0], [2.0]]
    hs = [ones(2, dtype=f64)]
    d = {1: 1.5}
    print(value_and_grad(f)(0.5, xs, t, hs, d))
    print(xs, t, hs, d)
    print(f(0.5, xs, t, hs, d))
    print(xs, t, hs, d)
    ys = [3.0]
    print(value_and_grad(g)(0.5, ys))
    print(ys)
    ws = [1.5, 2.0]
    print(value_and_grad(h)(ws))
    print(ws, h(ws))
"""

OUT_CHANGED = """(6.25, 6.5)
[0.5, 2.0, 1.0] [[1.5], [2.0, 0.5]] [tensor([1.0, 1.0]), tensor([0.5, 0.5])] {1: 0.75, 3: 1.5}
6.125
[0.25, 2.0, 1.0, 1.0] [[2.0], [2.0, 0.5, 0.5]] [tensor([1.0, 1.0]), tensor([0.5, 0.5]), tensor([0.5, 0.5])] {1: 0.375, 3: 1.5}
(0.75, 3.0)
[1.5]
(3.0, [2.0, 1.5])
[1.5, 2.0, 3.0, 3.0] 3.0
"""


@pytest.mark.parametrize("backend", ["interp", "cpu"])
def test_grad_keeps_the_changes_to_its_arguments(backend):
    """value_and_grad(f)(...) changes the lists, tables and dicts f changes as a call of f does, and
    leaves plain values in them (the interpreter left its tape's boxes there: a later call failed).
    The compiled reverse sweep undoes such changes, so the CPU backend leaves such a grad to the
    interpreter, saying so (it printed the arguments as they were before)."""
    program = check_source(Source("t.glia", CHANGED_ARGUMENTS))
    out, err, notes = run(program, [], backend)
    assert (out, err) == (OUT_CHANGED, None)
    if backend == "cpu":
        assert any("main runs in the interpreter" in n for n in notes), notes
        put = ("def put(w: float, d: dict[int, float]) -> float:\n    d[3] = w * 3.0\n    return d[3] * w\n\n"
               "def main():\n    d = {1: 1.5}\n    print(value_and_grad(put)(0.5, d))\n    print(d)\n")
        out, err, notes = run(check_source(Source("t.glia", put)), [], backend)
        assert (out, err) == ("(0.75, 3.0)\n{1: 1.5, 3: 1.5}\n", None)  # (compiled: {1: 1.5})
        assert any("grad of 'put', which changes a list, table or dict it is passed" in n for n in notes), notes


def test_a_function_only_differentiated_is_not_compiled_itself():
    """`grad(f)(x)` runs f's forward sweep, never f: compiling f too was compile time for nothing (and
    printing a tensor is the runtime's function, not one per shape in each program). A call of the
    function, or a call of it inside itself that is a constant to the gradient, still compiles it."""
    from glia.compiler.backend_cpu import lower_program

    def lowered(text):
        return lower_program(check_source(Source("t.glia", text))).source

    body = ("def f(x: f32[3]) -> f32:\n    return sum(tanh(x) * x)\n\n"
            "def h(x: float, n: int) -> float:\n    if n == 0:\n        return x * x\n    return h(x, n - 1) + h(2.0, n - 1)\n\n")
    only = lowered(body + "def main():\n    print(grad(f)(ones(3)), grad(h)(0.5, 2))\n")
    assert "def f_f(" not in only and "def f_h(" in only  # (h calls itself with a constant: that call runs h)
    assert "nbt.show(" in only and "def show_" not in only
    both = lowered(body + "def main():\n    print(grad(f)(ones(3)), f(ones(3)))\n")
    assert "def f_f(" in both
    text = body + "def main():\n    print(grad(f)(ones(3)), grad(h)(0.5, 2), value_and_grad(h)(1.5, 3))\n"
    got, ref = compiled(text)
    assert got == ref
