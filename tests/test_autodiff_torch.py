"""Gradients cross-checked against PyTorch autograd on equivalent models (PyTorch CPU is in the `test`
extra, so CI runs these; an environment without it skips them)."""
from __future__ import annotations

import numpy as np
import pytest

import glia
from glia.compiler.autodiff import ad_interpreter
from glia.compiler.params import new_store

torch = pytest.importorskip("torch")

PROGRAM = '''
def mlp(x: f64[6]) -> f64[4]:
    h = tanh(dense(x, 5))
    h = gelu(dense(h, 5)) + silu(h)
    return log_softmax(dense(layer_norm(h), 4))

def mlp_loss(x: f64[6]) -> float:
    return nll(mlp(x), 2)

def seq_loss(xs: f64[5, 3]) -> float:
    h = zeros(4, dtype=f64)
    c = zeros(4, dtype=f64)
    g = zeros(4, dtype=f64)
    for x in xs:
        h, c = lstm_cell(x, h, c)
        g = gru_cell(x, g)
    return mse(h * g, ones(4, dtype=f64) * 0.5) + sum(sigmoid(c))
'''


@pytest.fixture(scope="module")
def prog():
    p = glia.compile(PROGRAM, "torch_check.glia")
    interp = p._backend.interp
    interp.params = new_store(interp.program, seed=4)
    return p, interp


def _glia_grads(interp, fname, x):
    store = interp.params
    store.zero_grad()
    adi = ad_interpreter(interp)
    value, gx = adi.value_and_grad(fname, [x])
    return value, gx, {k: v.copy() for k, v in store.grads.items()}


def _t(a):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=True)


def test_mlp_gradients_match_pytorch(prog):
    p, interp = prog
    P = {k: _t(v) for k, v in interp.params.views.items()}
    x = np.linspace(-1, 1, 6)
    value, gx, gp = _glia_grads(interp, "mlp_loss", x)
    tx = _t(x)
    h = torch.tanh(tx @ P["mlp.dense#1.W"] + P["mlp.dense#1.b"])
    z = h @ P["mlp.dense#2.W"] + P["mlp.dense#2.b"]
    h = torch.nn.functional.gelu(z, approximate="tanh") + torch.nn.functional.silu(h)
    ln = torch.nn.functional.layer_norm(h, (5,), P["mlp.layer_norm#1.g"], P["mlp.layer_norm#1.b"], eps=1e-5)
    out = torch.log_softmax(ln @ P["mlp.dense#3.W"] + P["mlp.dense#3.b"], dim=-1)
    loss = -out[2]
    loss.backward()
    assert np.isclose(value, loss.item())
    assert np.allclose(gx, tx.grad.numpy(), atol=1e-10)
    for k, t in P.items():
        if k.startswith("mlp."):
            assert np.allclose(gp[k], t.grad.numpy(), atol=1e-10), k


def test_recurrent_cells_match_pytorch(prog):
    p, interp = prog
    V = interp.params.views
    xs = np.sin(np.arange(15.0)).reshape(5, 3)
    value, gx, gp = _glia_grads(interp, "seq_loss", xs)
    lstm = torch.nn.LSTMCell(3, 4).double()
    gru = torch.nn.GRUCell(3, 4).double()
    with torch.no_grad():
        lstm.weight_ih.copy_(torch.tensor(V["seq_loss.lstm_cell#1.Wx"].T))
        lstm.weight_hh.copy_(torch.tensor(V["seq_loss.lstm_cell#1.Wh"].T))
        lstm.bias_ih.copy_(torch.tensor(V["seq_loss.lstm_cell#1.b"]))
        lstm.bias_hh.zero_()
        gru.weight_ih.copy_(torch.tensor(V["seq_loss.gru_cell#1.Wx"].T))
        gru.weight_hh.copy_(torch.tensor(V["seq_loss.gru_cell#1.Wh"].T))
        gru.bias_ih.copy_(torch.tensor(V["seq_loss.gru_cell#1.bx"]))
        gru.bias_hh.copy_(torch.tensor(V["seq_loss.gru_cell#1.bh"]))
    tx = _t(xs)
    h = torch.zeros(1, 4, dtype=torch.float64)
    c = torch.zeros(1, 4, dtype=torch.float64)
    g = torch.zeros(1, 4, dtype=torch.float64)
    for t in range(5):
        h, c = lstm(tx[t:t + 1], (h, c))
        g = gru(tx[t:t + 1], g)
    loss = torch.mean((h * g - 0.5) ** 2) + torch.sigmoid(c).sum()
    loss.backward()
    assert np.isclose(value, loss.item())
    assert np.allclose(gx, tx.grad.numpy(), atol=1e-10)
    assert np.allclose(gp["seq_loss.lstm_cell#1.Wx"], lstm.weight_ih.grad.numpy().T, atol=1e-10)
    assert np.allclose(gp["seq_loss.lstm_cell#1.Wh"], lstm.weight_hh.grad.numpy().T, atol=1e-10)
    assert np.allclose(gp["seq_loss.lstm_cell#1.b"], lstm.bias_ih.grad.numpy(), atol=1e-10)
    assert np.allclose(gp["seq_loss.gru_cell#1.Wx"], gru.weight_ih.grad.numpy().T, atol=1e-10)
    assert np.allclose(gp["seq_loss.gru_cell#1.Wh"], gru.weight_hh.grad.numpy().T, atol=1e-10)
    assert np.allclose(gp["seq_loss.gru_cell#1.bh"], gru.bias_hh.grad.numpy(), atol=1e-10)




BN_PROGRAM = '''
def net(x: f64[n, 4]) -> f64[n, 3]:
    return dense(batch_norm(x, momentum=0.3), 3)

def net_loss(x: f64[n, 4]) -> float:
    return sum(tanh(net(x)))
'''


def test_batch_norm_matches_pytorch_batchnorm1d():
    """Forward in training and evaluation mode, the running-statistics updates, and the gradients with
    respect to x, gamma and beta, against torch.nn.BatchNorm1d."""
    p = glia.compile(BN_PROGRAM, "bn_check.glia")
    interp = p._backend.interp
    interp.params = new_store(interp.program, seed=2)
    V, B = interp.params.views, interp.params.buffers
    V["net.batch_norm#1.gamma"][...] = [0.5, 1.0, 1.5, 2.0]
    V["net.batch_norm#1.beta"][...] = [0.1, -0.2, 0.3, 0.0]
    bn = torch.nn.BatchNorm1d(4, eps=1e-5, momentum=0.3).double()
    W, b = (torch.tensor(V[f"net.dense#1.{k}"]) for k in ("W", "b"))
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(V["net.batch_norm#1.gamma"]))
        bn.bias.copy_(torch.tensor(V["net.batch_norm#1.beta"]))
    rng = np.random.default_rng(0)
    for mode, batch in (("train", 6), ("train", 3), ("eval", 5), ("train", 2), ("eval", 1)):
        x = rng.normal(1.0, 2.0, (batch, 4))
        interp.training = mode == "train"
        bn.train(mode == "train")
        bn.zero_grad()
        value, gx, gp = _glia_grads(interp, "net_loss", x)
        tx = _t(x)
        loss = torch.tanh(bn(tx) @ W + b).sum()
        loss.backward()
        assert np.isclose(value, loss.item()), mode
        assert np.allclose(gx, tx.grad.numpy(), atol=1e-10), mode
        assert np.allclose(gp["net.batch_norm#1.gamma"], bn.weight.grad.numpy(), atol=1e-10), mode
        assert np.allclose(gp["net.batch_norm#1.beta"], bn.bias.grad.numpy(), atol=1e-10), mode
        assert np.allclose(B["net.batch_norm#1.running_mean"], bn.running_mean.numpy(), atol=1e-12), mode
        assert np.allclose(B["net.batch_norm#1.running_var"], bn.running_var.numpy(), atol=1e-12), mode
    interp.training = False
    x = rng.normal(size=(3, 4))
    with torch.no_grad():  # a plain call from Python is evaluation mode
        assert np.allclose(p.net(x), (bn(torch.tensor(x)) @ W + b).numpy(), atol=1e-12)
