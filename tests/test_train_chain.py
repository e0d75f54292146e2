"""The compiled training path (compiler/train_compile.py) takes a chain of dense layers however its
locals are named: `h = relu(dense(h, 32))`, reusing `h` (a local keeps its type, so
its width), is the same chain as fresh names, trains on
the same engine and gives the same losses and parameters."""
import numpy as np

import glia

REUSED = '''
def digit(img: f32[64]) -> f32[10]:
    h = relu(dense(img, 32))
    h = relu(dense(h, 32))
    return softmax(dense(h, 10))
'''
FRESH = '''
def digit(img: f32[64]) -> f32[10]:
    h0 = relu(dense(img, 32))
    h1 = relu(dense(h0, 32))
    return softmax(dense(h1, 10))
'''
TWICE = '''
def digit(img: f32[64]) -> f32[10]:
    h = relu(dense(img, 32))
    h = relu(dense(h, 32)) + h
    return softmax(dense(h, 10))
'''


def train(text, x, y):
    p = glia.compile(text)
    h = p.train("digit", x, y, lr=0.01, epochs=2, batch=16, seed=3)
    return h, {k: v.copy() for k, v in p.params.items()}


def test_a_chain_reusing_its_local_trains_compiled_as_with_fresh_names():
    rng = np.random.default_rng(0)
    x = rng.random((96, 64), dtype=np.float32)
    y = rng.integers(0, 10, 96)
    (h1, p1), (h2, p2) = train(REUSED, x, y), train(FRESH, x, y)
    assert "compiled" in h2["engine"]
    assert h1["engine"] == h2["engine"]
    assert h1["loss"] == h2["loss"]
    assert p1.keys() == p2.keys() and all(np.array_equal(p1[k], p2[k]) for k in p1)
    h3, _ = train(TWICE, x, y)  # h read twice (a residual): not a chain
    assert "compiled" not in h3["engine"]
