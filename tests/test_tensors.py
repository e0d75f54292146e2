"""The tensor surface: shape operations, reductions with an axis, comparisons, slicing, named
dimensions bound at calls, layers' shapes and parameter names, and shape errors (E301) with both
shapes and the line."""
from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

import glia
from glia.compiler.diagnostics import GliaError


def run(src: str) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        glia.compile(src, "t.glia").run()
    return buf.getvalue()


def test_shape_operations_and_reductions():
    out = run('''
def norm(x: f32[n]) -> f32[n]:
    return x / sum(x)

def main():
    a = reshape(arange(6), 2, 3)
    print(a, transpose(a)[2], flatten(a)[4])
    print(sum(a, axis=0), mean(a, axis=1), max(a, axis=-1), min(a))
    print(concat(arange(2), ones(3)), concat(a, a, axis=1)[1])
    print(stack(arange(2), ones(2)), reshape(arange(6), -1, 2)[2])
    print(arange(4) > 1.5, where(arange(4) > 1.5, arange(4), 0.0), argmax(arange(5) * -1.0 + 2.0))
    print(arange(5)[1:3], arange(5)[-2:], norm(ones(4)), len(norm(ones(7))))
''')
    assert out.splitlines() == [
        "tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]) tensor([2.0, 5.0]) 4.0",
        "tensor([3.0, 5.0, 7.0]) tensor([1.0, 4.0]) tensor([2.0, 5.0]) 0.0",
        "tensor([0.0, 1.0, 1.0, 1.0, 1.0]) tensor([3.0, 4.0, 5.0, 3.0, 4.0, 5.0])",
        "tensor([[0.0, 1.0], [1.0, 1.0]]) tensor([4.0, 5.0])",
        "tensor([0.0, 0.0, 1.0, 1.0]) tensor([0.0, 0.0, 2.0, 3.0]) 0",
        "tensor([1.0, 2.0]) tensor([3.0, 4.0]) tensor([0.25, 0.25, 0.25, 0.25]) 7",
    ]


def test_activations_losses_and_layers():
    out = run('''
def f(x: f64[3]) -> f64[2]:
    return softmax(dense(relu(x), 2))

def main():
    x = arange(3, dtype=f64) - 1.0
    print(relu(x), leaky_relu(x, alpha=0.5), round(sum(softmax(x)), 6), round(sigmoid(0.0), 3))
    print(round(cross_entropy(softmax(x), 2), 4), round(nll(log_softmax(x), 2), 4), mse(x, x), mae(x, x * 0.0))
    print(len(f(x)), round(sum(f(x)), 6))
    h, c = lstm_cell(x, zeros(4, dtype=f64), zeros(4, dtype=f64))
    print(len(h), len(gru_cell(x, h)), len(rnn_cell(x, h)), len(embedding(3, 10, 5, dtype=f64)), len(layer_norm(x)))
''')
    lines = out.splitlines()
    assert lines[0] == "tensor([0.0, 0.0, 1.0]) tensor([-0.5, 0.0, 1.0]) 1.0 0.5"
    assert lines[1] == "0.4076 0.4076 0.0 0.6666666666666666"
    assert lines[2] == "2 1.0"
    assert lines[3] == "4 4 4 5 3"


def test_parameter_names_and_sharing():
    p = glia.compile('''
def enc(xs: list[f32[3]]) -> f32[4]:
    h = zeros(4)
    for x in xs:
        h = tanh(dense(concat(h, x), 4))
    return dense(h, 4, init="he")

def main():
    print(enc([ones(3), ones(3)]))
''')
    assert {k: v.shape for k, v in p.params.items()} == {
        "enc.dense#1.W": (7, 4), "enc.dense#1.b": (4,), "enc.dense#2.W": (4, 4), "enc.dense#2.b": (4,)}
    flat = p._backend.interp.params.flat
    assert all(np.shares_memory(v, flat) for v in p.params.values())


@pytest.mark.parametrize("src, code, line, words", [
    ("def main():\n    x = ones(3) + ones(4)\n", "E301", 2, "f32[3] and f32[4]"),
    ("def main():\n    x = concat(ones(3), ones(2, 2))\n", "E301", 2, "rank"),
    ("def main():\n    x = reshape(ones(6), 4, 2)\n", "E301", 2, "6 elements"),
    ("def main():\n    x = stack(ones(3), ones(2))\n", "E301", 2, "f32[3] and f32[2]"),
    ("def f(x: f32[n]) -> f32[4]:\n    return dense(x, 4)\n", "E301", 2, "known size"),
    ("def main():\n    x = sum(ones(2, 2), axis=2)\n", "E301", 2, "axis 2"),
    ("def main():\n    x = cross_entropy(ones(3), ones(4))\n", "E301", 2, "target"),
    ("def main():\n    x = ones(3)[2:1]\n", "E301", 2, "empty"),
    ("def main():\n    x = dropout(ones(3), 1.5)\n", "E201", 2, "[0, 1)"),
    ("def main():\n    x = dense(ones(3), 4, init=\"xavier\")\n", "E201", 2, "init"),
    ("def main():\n    x = batch_norm(ones(3))\n", "E704", 2, "no batch dimension"),
    ("def main():\n    x = batch_norm(ones(2, 3, 4))\n", "E301", 2, "f[b, k]"),
    ("def main():\n    x = batch_norm(ones(2, 3), momentum=1.5)\n", "E201", 2, "momentum"),
    ("def main():\n    x = batch_norm(ones(2, 3), eps=0.0)\n", "E201", 2, "eps must be positive"),
    ("def f(x: f32[n, k]) -> f32[n, k]:\n    return batch_norm(x)\n", "E301", 2, "known size"),
    # a tensor compares element by element, so a value holding one has no `==`
    ("struct P:\n    v: f32[2]\n\ndef main():\n    print(P(ones(2)) == P(ones(2)))\n", "E203", 5, "holds tensors"),
    ("def main():\n    print((1, ones(2)) != (1, ones(2)), 1)\n", "E203", 2, "holds tensors"),
    ("def main():\n    print([ones(2)] == [ones(2)])\n", "E203", 2, "holds tensors"),
])
def test_shape_errors(src, code, line, words):
    with pytest.raises(GliaError) as e:
        glia.compile(src, "bad.glia")
    d = e.value.diagnostic
    assert d.code == code and d.span.line == line and words in d.message, d.message
