"""Compiled training traces (compiler/trace_compile.py): for every kind of model with control flow, a
minibatch through the generated code gives the tape's loss and gradients (to float32 rounding), guards
send each example down the trace of its own decisions, whole training runs end where the tape's do,
and what cannot be compiled trains on the tape, saying why."""
from __future__ import annotations

import re

import numpy as np
import pytest

import glia
from glia.compiler import training
from glia.compiler.diagnostics import GliaError
from glia.compiler.trace_compile import TraceEngine

RNN = '''
def model(seq: f32[5, 6]) -> f32[4]:
    h = zeros(8)
    for x in seq:
        h = rnn_cell(x, h)
    return softmax(dense(h, 4))
'''
LSTM = '''
def model(seq: f32[5, 6]) -> f32[4]:
    h = zeros(8)
    c = zeros(8)
    for x in seq:
        h, c = lstm_cell(x, h, c)
    return log_softmax(dense(h, 4))
'''
GRU = '''
def model(seq: f32[5, 6]) -> f32[4]:
    h = zeros(8)
    for x in seq:
        h = gru_cell(x, h)
    return sigmoid(dense(concat(h, seq[4]), 4))
'''
# a data-dependent while (0 to 2 steps) and an if on a computed value: six traces
BRANCHY = '''
def model(x: f32[5, 6]) -> f32[4]:
    h = tanh(dense(x[0], 8))
    steps = 0
    while steps < 2 and sum(h) > 0.0:
        h = tanh(dense(h, 8) + h * 0.5)
        steps += 1
    if h[0] > 0.0:
        h = relu(dense(h, 8))
    else:
        h = sigmoid(h) - 0.5
    return softmax(dense(h, 4))
'''
# recursion over a list of the sequence's rows
RECURSIVE = '''
def fold(xs: list[f32[6]], h: f32[8]) -> f32[8]:
    if len(xs) == 0:
        return h
    return fold(xs[1:], tanh(dense(concat(xs[0], h), 8)))

def model(seq: f32[5, 6]) -> f32[4]:
    return softmax(dense(fold([x for x in seq], zeros(8)), 4))
'''
# the same dense layer on every row, summed: its 5 products are one (compiler/trace_fuse.py)
MAPPED = '''
def model(seq: f32[5, 6]) -> f32[4]:
    s = zeros(8)
    for x in seq:
        s = s + tanh(dense(x, 8))
    return softmax(dense(s, 4))
'''
# the rows of a value computed from the parameters (its cotangent from the stacked product's): their
# products are one, the rows stacked by one copy (fused.dense_rows)
ROWS_GRAD = '''
def model(seq: f32[5, 6]) -> f32[4]:
    z = seq * tanh(dense(seq[0], 6))
    s = zeros(8)
    for x in z:
        s = s + tanh(dense(x, 8))
    return softmax(dense(s, 4))
'''
# the rows in another order (last to first): one product, of the rows gathered one by one (fused.dense)
REVERSED = '''
def model(seq: f32[5, 6]) -> f32[4]:
    h = zeros(8)
    for t in range(5):
        h = rnn_cell(seq[4 - t], h)
    return softmax(dense(h, 4))
'''
# the cell's input is computed from the state: neither its projections nor dense's can be hoisted
FEEDBACK = '''
def model(seq: f32[5, 6]) -> f32[4]:
    h = ones(8)
    for x in seq:
        h = rnn_cell(x + dense(h, 6), h)
    return softmax(dense(h, 4))
'''
# recursion over a binary tree in heap order (row k's children are rows 2k+1 and 2k+2), the shape read
# from the data: a trace per shape; the leaves' dense products are one (hoisted), the nodes' are not
TREE = '''
def node(t: f32[5, 6], k: int) -> f32[8]:
    if k >= 2 or t[k][0] > 0.5:
        return tanh(dense(t[k][1:4], 8))
    return tanh(dense(concat(node(t, 2 * k + 1), node(t, 2 * k + 2), t[k][4:6]), 8))

def model(t: f32[5, 6]) -> f32[4]:
    return softmax(dense(node(t, 0), 4))
'''
# layer normalisation inside the recurrence
NORMED = '''
def model(seq: f32[5, 6]) -> f32[4]:
    h = zeros(8)
    for x in seq:
        h = layer_norm(rnn_cell(x, h))
    return softmax(dense(layer_norm(h), 4))
'''
# a convolutional model: the sequence as a one-channel image, max pooling, a dense classifier
CNN = '''
def model(seq: f32[5, 6]) -> f32[4]:
    x = reshape(seq, 1, 5, 6)
    h = max_pool(relu(conv2d(x, 3, 3, padding=1)), 2)
    return softmax(dense(flatten(h), 4))
'''
# a 1-d convolution over the rows as channels (stride 2, padding), average pooling, and the
# activations with a closed form and a parameter
CNN1D = '''
def model(seq: f32[5, 6]) -> f32[4]:
    h = avg_pool(leaky_relu(conv1d(seq, 4, 3, stride=2, padding=1), alpha=0.1), 2)
    z = elu(dense(flatten(h), 8), alpha=0.5)
    return sigmoid(dense(gelu(z) + silu(z), 4))
'''
# a character model's shape: each step's index computed from the example (int(...) straight into
# embedding: an int of the trace, per example; guards keep it within the table)
EMBED = '''
def model(seq: f32[5, 6]) -> f32[4]:
    h = zeros(8)
    for x in seq:
        h = rnn_cell(embedding(int(sigmoid(x[0]) * 7.99), 8, 6) + x, h)
    return softmax(dense(h, 4))
'''
# dropout's masks (training mode: the engines draw them from the interpreter's generator in the same order)
DROPOUT = '''
def model(seq: f32[5, 6]) -> f32[4]:
    h = zeros(8)
    for x in seq:
        h = rnn_cell(dropout(x, 0.25), h)
    return softmax(dense(dropout(h, 0.5), 4))
'''
# the tensor operations: stack, transpose, matmul (matrix-matrix, vector-matrix, with a constant), axis
# and whole reductions, comparisons and where, pow, abs, the math functions on tensors and scalars, and
# the sum and the mean of a list of scalars, scalar %, //, divmod, atan2 and hypot; in two models, the
# arrays and the math (one model of all of them took 125 s to compile, these two 38 s and 63 s, and
# they compile on two test workers)
TENSOR_ARRAYS = '''
def model(seq: f32[5, 6]) -> f32[4]:
    a = tanh(dense(seq[0], 6))
    b = sigmoid(dense(seq[1], 6))
    s = stack(a, b, abs(seq[2]))
    g = transpose(s) @ s
    r = sum(g, axis=0) + max(s, axis=0) - min(s, axis=1) @ s + mean(g, axis=1) * 0.5
    w = where(seq[3] > 0.0, r, sqrt(abs(r) + 1.0) * (a < b)) @ (ones(6, 6) * 0.1)
    return softmax(dense(w / (1.0 + mean(abs(w))), 4))
'''
TENSOR_MATH = '''
def model(seq: f32[5, 6]) -> f32[4]:
    a = tanh(dense(seq[0], 6))
    b = sigmoid(dense(seq[1], 6))
    w = seq[3] * 0.5 + b
    q = sum([a[0], b[1] * 2.0, max(a)]) + abs(a[1]) * sinh(a[2]) + cosh(a[3]) + asin(a[4] * 0.5) - acos(b[0] * 0.5)
    q = q + log10(2.0 + b[2]) * sqrt(b[3] + 1.0) + sin(exp(b[4])) + f32(float(tan(b[5])) * 0.1)
    q = q + f32(mean([float(a[0]), float(b[1]) * 2.0, float(q)]))  # the mean of a list of floats
    q = q + f32(atan2(float(a[0]), 1.5) + hypot(float(b[1]), 0.5) + float(b[2]) % 0.7) \
        + (a[3] * f32(3.0)) // f32(0.7) * a[4] + (b[3] * f32(2.5)) % f32(0.9)  # scalar %, //, atan2, hypot
    dq, dr = divmod(b[4] * f32(2.5), f32(0.8))  # and divmod
    q = q + dq * a[5] + dr * dr
    a = f32(f64(a) * 2.0)
    z = w ** 2.0 * mean(a) + sin(w) * max(b) - cos(min(a)) + tan(b) * atan(sum(a)) ** 2.0 + log2(1.5 + a[0]) * q
    return softmax(dense(z / (1.0 + mean(abs(z))), 4))
'''
MODELS = {"embedding": (EMBED, "cross_entropy"), "dropout": (DROPOUT, "cross_entropy"),
          "tensor_arrays": (TENSOR_ARRAYS, "mse"), "tensor_math": (TENSOR_MATH, "mse"),
          "cnn": (CNN, "cross_entropy"), "cnn1d_mae": (CNN1D, "mae"), "cnn1d_bce": (CNN1D, "binary_cross_entropy"),
          "rnn": (RNN, "cross_entropy"), "layer_norm": (NORMED, "cross_entropy"), "tree": (TREE, "cross_entropy"), "lstm": (LSTM, "nll"), "gru": (GRU, "mse"),
          "while_if": (BRANCHY, "cross_entropy"), "recursion": (RECURSIVE, "cross_entropy"),
          "mapped": (MAPPED, "cross_entropy"), "feedback": (FEEDBACK, "cross_entropy"),
          "rows_grad": (ROWS_GRAD, "cross_entropy"), "reversed": (REVERSED, "cross_entropy")}


def data(loss, n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5, 6)).astype(np.float32)
    y = rng.integers(0, 4, n)
    return x, (np.eye(4, dtype=np.float32)[y] if loss in ("mse", "mae", "binary_cross_entropy") else y)


def engines(src, loss, x, y):
    """A tape engine and a trace engine over the same program (one parameter store)."""
    p = glia.compile(src)
    interp = p._backend.interp
    o = training.Options(fn="model", loss=loss, engine="compiled", progress=False)
    task = training.check_task(interp.program, o, x, y)
    interp.params = training.new_store(interp.program, 0)
    trace, why = training.make_engine(interp, task, o)
    assert isinstance(trace, TraceEngine), why
    tape, _ = training.make_engine(interp, task, training.Options(fn="model", loss=loss, engine="tape"))
    interp.training = True  # dropout draws its masks (from interp.rng: see tape_grads and compiled_grads)
    return tape, trace


def tape_grads(tape, rows):
    tape.interp.rng = np.random.default_rng(1)
    tape.store.zero_grad()
    total = sum(tape.step(np.array([r]), len(rows))[0] for r in rows)
    return total, tape.store.grad.copy()


def compiled_grads(trace, rows):
    """The minibatch through the compiled traces; examples no trace takes yet are traced on the tape
    first (as in training), then the whole minibatch runs again: compiled, and on the tape for the
    examples whose trace was not kept (more than MAX_TRACES decision sequences)."""
    trace.store.zero_grad()
    for r in trace.compiled_step(rows, len(rows))[2]:
        trace.step(np.array([r]), len(rows))
        trace.add(training_build(trace))
    trace.store.zero_grad()
    trace.interp.rng = np.random.default_rng(1)  # the tape's masks (no example is left for the tape here)
    total, _, pending = trace.compiled_step(rows, len(rows))
    assert len(pending) <= len(rows) // 4
    total += sum(trace.step(np.array([r]), len(rows))[0] for r in pending)
    return total, trace.store.grad.copy()


def training_build(trace):
    from glia.compiler.trace_compile import build

    return build(trace.adi.tape, trace.last_out, trace.store, trace.task.loss_op)


def test_every_primitive_with_a_gradient_rule_has_a_codegen_rule():
    """What the tape differentiates, a trace compiles; batch_norm needs a model over a batch, which is
    not traced (a model of one example that reaches it is refused with E704); round(x, n) is Python's
    correctly rounded decimal rounding, which NumPy's round is not (a trace that reaches it trains on
    the tape, saying so)."""
    from glia.compiler.primitives import PRIMS

    assert {op for op, p in PRIMS.items() if "vjp" in p.rules and "codegen" not in p.rules} == \
        {"layer.batch_norm", "float.roundn", "f32.roundn"}


def step_matches_tape(tape, trace, rows):
    """One minibatch's loss and gradients, compiled and on the tape, agree (and some gradient is not
    zero); both gradient buffers, compiled first."""
    lt, gt = tape_grads(tape, rows)
    lc, gc = compiled_grads(trace, rows)
    assert np.isclose(lc, lt, rtol=1e-5), (lc, lt)
    assert np.abs(gt).max() > 0
    np.testing.assert_allclose(gc, gt, rtol=1e-4, atol=1e-6)
    return gc, gt


@pytest.mark.parametrize("kind", list(MODELS))
def test_compiled_step_equals_tape_step(kind):
    src, loss = MODELS[kind]
    x, y = data(loss)
    tape, trace = engines(src, loss, x, y)
    gc, gt = step_matches_tape(tape, trace, np.arange(16))
    for spec in tape.store.specs:  # every parameter array has its gradient
        assert np.any(gc[spec.offset:spec.offset + spec.size] != 0) or not np.any(
            gt[spec.offset:spec.offset + spec.size]), spec.name


@pytest.mark.parametrize("kind, hoisted", [("rnn", [("fused.dense_rows", 5)]), ("mapped", [("fused.dense_rows", 5)]),
                                           ("rows_grad", [("fused.dense_rows", 5)]),
                                           ("reversed", [("fused.dense", 5)]), ("feedback", []), ("lstm", [])])
def test_products_of_a_shared_weight_are_hoisted_only_when_no_input_depends_on_the_group(kind, hoisted):
    """trace_fuse: the 5 input projections of an RNN, or 5 independent dense calls, become one stacked
    product; a cell whose input is computed from its state keeps its per-step products (and the test
    above checks the gradients in every case). Inputs that are a value's rows in order are stacked by
    one copy of that value (fused.dense_rows: the 5 `seq[k]` nodes are then unread); in another order,
    row by row (fused.dense)."""
    from glia.compiler.trace_compile import _cone, generate
    from glia.compiler.trace_fuse import fuse

    src, loss = MODELS[kind]
    x, y = data(loss)
    _, trace = engines(src, loss, x, y)
    t = trace.traces[0].trace
    nodes = _cone(t.nodes, [t.out])
    fused = fuse(nodes)
    assert [(n.op, len(n.outs)) for n in fused if n.op.startswith("fused.dense")] == hoisted
    if not hoisted:
        assert fused is nodes
    steps = [n for n in fused if n.op == "fused.rnn_step"]
    assert len(steps) == (5 if kind in ("rnn", "reversed") else 0)
    code = generate(t)
    assert code.count("K.stack_rows(") == 2 * (hoisted[:1] == [("fused.dense_rows", 5)])  # in step and value
    getitems = sum(n.op == "tensor.getitem" for n in _cone(fused, [t.out]))
    assert getitems == {"rnn": 0, "mapped": 0, "rows_grad": 1, "reversed": 5}.get(kind, getitems)
    if kind in ("rnn", "reversed"):  # the recurrent weight's 4 gradient terms (the first state is zero) as one
        # product, of the states and the cotangents written into stacked buffers (no concatenation)
        y = next(n for n in fused if n.op.startswith("fused.dense")).outs[0]
        assert code.count(f"K.add_xtg(gp1, {y}_y_h[0 * B:4 * B], {y}_y_g[1 * B:5 * B])") == 1
        assert code.count(f"_g = {y}_y_g") == 1 and ("np.concatenate" in code) == (kind == "reversed")
        assert code.count("K.add_xtg_nz(gp0, ") == 1
    if kind == "feedback":  # the states are not blocks of a buffer: dense's 5 weight-gradient terms concatenated
        assert len(re.findall(r"K.add_xtg\(gp\d, np.concatenate\(\(", code)) == 1


def test_a_trees_leaves_are_one_product_and_each_height_above_them_one():
    """trace_fuse's levels on the TREE model: a root over (a node over two leaves) and a leaf. The three
    leaves (level 0) are one product; the node (level 1) and the root (level 2) stay single; the
    reordered trace computes every value before reading it."""
    from glia.compiler.autodiff import Tape, param_store
    from glia.compiler.trace_compile import TraceInterpreter, _cone, build
    from glia.compiler.trace_fuse import fuse

    t = np.zeros((5, 6), np.float32)
    t[2:5, 0] = 1.0
    t[2:5, 1:4] = 0.5
    p = glia.compile(TREE)
    interp = p._backend.interp
    interp.params = training.new_store(interp.program, 0)
    adi = TraceInterpreter(interp)
    tape = adi.tape = Tape(True)
    out = adi.call("model", [tape.leaf(t)])
    trace = build(tape, out, param_store(interp), "loss.ce_int")
    nodes = _cone(trace.nodes, [trace.out])
    fused = fuse(nodes)
    assert [len(n.outs) for n in fused if n.op == "fused.dense"] == [3]
    assert sum(n.op == "layer.dense" for n in fused) == 3  # the node, the root, the classifier
    seen = {0}
    for n in fused:
        assert all(a.index in seen for a in n.args if a.kind == "var"), n.op
        seen.update(n.ids)


def test_guards_route_each_example_to_its_own_trace():
    x, y = data("cross_entropy")
    tape, trace = engines(BRANCHY, "cross_entropy", x, y)
    rows = np.arange(48)
    lt, gt = tape_grads(tape, rows)
    lc, gc = compiled_grads(trace, rows)
    assert len(trace.traces) >= 3  # several trip counts and both branches occur
    assert all(c.guards is not None for c in trace.traces)
    assert np.isclose(lc, lt, rtol=1e-5)
    np.testing.assert_allclose(gc, gt, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("kind", ["rnn", "while_if", "embedding"])
def test_training_run_ends_where_the_tape_run_does(kind):
    src, loss = MODELS[kind]
    x, y = data(loss)
    hist = {}
    for engine in ("tape", "compiled"):
        p = glia.compile(src)
        hist[engine] = p.train("model", x, y, loss=loss, lr=0.01, epochs=3, batch=16, validation=0.25, seed=0,
                               engine=engine)
    assert hist["compiled"]["engine"].startswith("compiled (traced")
    np.testing.assert_allclose(hist["compiled"]["loss"], hist["tape"]["loss"], rtol=1e-4)
    np.testing.assert_allclose(hist["compiled"]["val_loss"], hist["tape"]["val_loss"], rtol=1e-4)
    assert hist["compiled"]["loss"][-1] < hist["compiled"]["loss"][0]


def test_nan_in_compiled_code_names_the_operation_and_line():
    x, y = data("cross_entropy")
    p = glia.compile('''
def model(seq: f32[5, 6]) -> f32[4]:
    h = dense(seq[0], 4)
    return softmax(log(h))
''', "nan.glia")
    with pytest.raises(GliaError) as e:
        p.train("model", x, y, epochs=1, engine="compiled")
    d = e.value.diagnostic
    assert d.code == "E702" and "'tensor.log'" in d.message and d.span.line == 4


@pytest.mark.parametrize("src, reason", [
    ('''
def model(seq: f32[5, 6]) -> f32[4]:
    h = dropout(tanh(dense(seq[0], 8)), 0.5)
    if sum(h) > 0.0:
        h = h * 2.0
    return softmax(dense(h, 4))
''', "a decision that depends on a dropout mask"),
    ('''
def model(seq: f32[5, 6]) -> f32[4]:
    h = tanh(dense(seq[0], 8))
    k = int(h[0] * 3.0)
    return softmax(dense(h * float(k), 4))
''', "'f32.to_int' reads a computed value (from the example or the parameters) other than by a comparison"),
    ('''
def model(seq: f32[5, 6]) -> f32[4]:
    h = tanh(dense(seq[0], 8))
    k = argmax(h)
    return softmax(dense(h * float(k), 4))
''', "'tensor.argmax' reads a computed value (from the example or the parameters) other than by a comparison"),
    ('''
def energy(v: f32[6]) -> f32:
    return sum(v * v * v)

def model(seq: f32[5, 6]) -> f32[4]:
    g = grad(energy)(seq[0])
    return softmax(dense(g + seq[1], 4))
''', "the model takes a gradient (grad) of a value computed from its input"),  # (was E701, nested grad)
])
def test_what_does_not_compile_trains_on_the_tape_and_says_why(src, reason):
    x, y = data("cross_entropy")
    logs = []
    h = glia.compile(src).train("model", x, y, epochs=1, seed=0)
    assert h["engine"] == "interpreter tape"
    p = glia.compile(src)
    interp = p._backend.interp
    o = training.Options(fn="model", epochs=1, progress=False)
    training.train(interp, o, x, y, log=logs.append)
    assert reason in logs[0], logs[0]


# a model returning a scalar (a regression, or with `F` a sigmoid a binary classifier), through a
# data-dependent branch
SCALAR = '''
def model(seq: f32[5, 6]) -> f32:
    h = tanh(dense(seq[0], 8))
    if sum(h) > 0.0:
        return F(sum(dense(h, 1)))
    return F(sum(dense(h * seq[1][0], 1)) * 0.5)
'''


@pytest.mark.parametrize("loss, f", [("mse", ""), ("mae", ""), ("binary_cross_entropy", "sigmoid")])
def test_a_model_returning_a_scalar_trains_compiled(loss, f):
    """Refused until 2026-12-06 ('the model returns a scalar; traces take a model returning a tensor'),
    so it trained on the tape; the losses' kernels take a prediction of shape (B,) as they take (B, 1)."""
    src = SCALAR.replace("F(", f + "(")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 5, 6)).astype(np.float32)
    y = (rng.random(48) > 0.5).astype(np.float32)
    tape, trace = engines(src, loss, x, y)
    step_matches_tape(tape, trace, np.arange(16))
    hist = {}
    for engine in ("tape", "compiled"):
        hist[engine] = glia.compile(src).train("model", x, y, loss=loss, lr=0.01, epochs=3, batch=16,
                                               validation=0.25, seed=0, engine=engine)
    assert hist["compiled"]["engine"].startswith("compiled (traced")
    np.testing.assert_allclose(hist["compiled"]["loss"], hist["tape"]["loss"], rtol=1e-4)
    np.testing.assert_allclose(hist["compiled"]["val_loss"], hist["tape"]["val_loss"], rtol=1e-4)


def test_same_model_at_other_offsets_gets_its_own_trace():
    """Traces are cached in memory by signature; a parameter's offset in the flat buffer is part of it."""
    x, y = data("cross_entropy")
    results = []
    for src in (RNN, "def aaa(v: f32[6]) -> f32[3]:\n    return dense(v, 3)\n" + RNN):
        tape, trace = engines(src, "cross_entropy", x, y)
        rows = np.arange(16)
        lt, gt = tape_grads(tape, rows)
        lc, gc = compiled_grads(trace, rows)
        np.testing.assert_allclose(gc, gt, rtol=1e-4, atol=1e-6)
        results.append(len(trace.store.flat))
    assert results[0] != results[1]


def test_a_trace_numba_rejects_trains_on_the_tape_and_says_why(monkeypatch):
    from glia.compiler import trace_compile

    def broken(t, dtype):
        raise RuntimeError("no implementation of function")
    monkeypatch.setattr(trace_compile, "compile_trace", broken)
    monkeypatch.setattr(trace_compile, "compiled_before", lambda t: True)  # (not left on the tape as a short run)
    x, y = data("cross_entropy")
    logs = []
    p = glia.compile(RNN)
    h = training.train(p._backend.interp, training.Options(fn="model", epochs=1, progress=False), x, y,
                       log=logs.append)
    assert h["engine"] == "interpreter tape"
    assert "Numba could not compile the trace (RuntimeError: no implementation of function)" in logs[0], logs[0]


def test_products_with_mostly_zero_inputs_skip_the_zeros_and_agree_with_blas():
    """One-hot (or bag-of-words) inputs: the trace kernels' dense product and weight gradient take a
    row of W per nonzero (found once, by `nonzeros`); the result is numpy's, for sparse and dense
    inputs alike."""
    from glia.runtime import trace_kernels as K

    rng = np.random.default_rng(3)
    W = rng.normal(size=(28, 48)).astype(np.float32)
    g = rng.normal(size=(128, 48)).astype(np.float32)
    onehot = np.eye(28, dtype=np.float32)[rng.integers(0, 28, 128)]
    onehot[5] = 0.0  # a row with no character
    onehot[7, 3] = 2.5  # and one with a second, scaled entry
    dense = rng.normal(size=(128, 28)).astype(np.float32)
    for x in (onehot, dense):
        cols, start = K.nonzeros(x)
        assert len(start) == (129 if x is onehot else 0) and K._sparse(x) == (x is onehot)
        if x is onehot:
            assert all(list(cols[start[r]:start[r + 1]]) == list(np.flatnonzero(x[r])) for r in range(128))
            assert start[6] == start[5] and start[8] - start[7] == 2
        np.testing.assert_allclose(K.dot(x, W), x @ W, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(K.dot_nz(x, cols, start, W), x @ W, rtol=1e-5, atol=1e-5)
        gW, gW_nz = np.ones_like(W), np.ones_like(W)
        K.add_xtg(gW, x, g)
        K.add_xtg_nz(gW_nz, x, cols, start, g)
        for out in (gW, gW_nz):
            np.testing.assert_allclose(out, 1.0 + x.T @ g, rtol=1e-5, atol=1e-4)


def test_stacked_rows_of_a_sequence_and_their_cotangent():
    """fused.dense_rows' copies: rows k0 .. k0 + n - 1 of each example, time-major (row i * B + r is
    example r's row k0 + i), and back (the other rows' cotangents zero)."""
    from glia.runtime import trace_kernels as K

    x = np.arange(3 * 5 * 2, dtype=np.float32).reshape(3, 5, 2)
    s = K.stack_rows(x, 1, 3)
    np.testing.assert_array_equal(s, np.concatenate([x[:, k] for k in (1, 2, 3)]))
    back = K.unstack_rows(s, 3, 5, 1)
    expect = x.copy()
    expect[:, [0, 4]] = 0.0
    np.testing.assert_array_equal(back, expect)


def test_an_embedding_index_out_of_range_stops_compiled_training_as_it_stops_the_tape():
    """The guards keep a computed index within its table: an example whose index is not goes to the
    tape, which reports it (the index, the table, the line), whichever engine trains."""
    src = '''
def model(seq: f32[5, 6]) -> f32[4]:
    h = zeros(6)
    for x in seq:
        h = h + embedding(int(x[0]), 8, 6)
    return softmax(dense(h, 4))
'''
    x, y = data("cross_entropy")
    x[:, :, 0] = np.random.default_rng(2).integers(0, 8, (48, 5))
    x[30, 2, 0] = 8.5
    errors = []
    for engine in ("tape", "compiled"):
        with pytest.raises(GliaError) as e:
            glia.compile(src, "emb.glia").train("model", x, y, epochs=1, engine=engine)
        errors.append(e.value.diagnostic)
    assert errors[0].span.line == errors[1].span.line == 5
    assert errors[0].message == errors[1].message and "embedding index 8 out of range" in errors[1].message


def test_a_model_in_f64_gets_the_tapes_float64_tanh():
    """The kernels' tanh is a float32 rational approximation (within 4e-7, 1 from 7.9 on); a model in
    f64 trained compiled took it too until 2026-12-06: its loss and gradients were off from the tape's
    by 1e-8 relative, and a tanh saturated in float32 (of 8.0) passed no gradient."""
    src = '''
def model(seq: f64[5, 6]) -> f64[2]:
    h = zeros(8, dtype=f64)
    for x in seq:
        h = rnn_cell(x, h)
    g = tanh(dense(h, 8) * 20.0)
    if sum(g) > 0.0:
        g = g * 0.5
    return dense(g, 2)
'''
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 5, 6)), rng.normal(size=(32, 2))
    tape, trace = engines(src, "mse", x, y)
    rows = np.arange(16)
    lt, gt = tape_grads(tape, rows)
    lc, gc = compiled_grads(trace, rows)
    assert gt.dtype == np.float64
    assert np.isclose(lc, lt, rtol=1e-13, atol=0), (lc, lt)
    np.testing.assert_allclose(gc, gt, rtol=1e-10, atol=1e-14)
