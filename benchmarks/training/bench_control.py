"""Training with control flow, side by side: the char-level RNN (a for loop over 8 characters,
examples/neural/char_rnn.glia) and adaptive computation (a data-dependent while,
examples/neural/ponder.glia), Glia's interpreter tape vs PyTorch eager on the same model, data,
Adam and batch; plus the gradient cost time(value and gradient) / time(value) on Glia's tape.

    python3 benchmarks/training/bench_control.py [--epochs 1]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread each: 2 shared cores (see bench_mlp.py)

import numpy as np  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, ROOT)


def data(name):
    with np.load(os.path.join(ROOT, "examples", "data", name)) as d:
        return d["x"], d["y"]


def glia_epoch(example, fn, x, y, epochs, lr, batch):
    import glia

    p = glia.load(os.path.join(ROOT, "examples", "neural", example))
    t = time.perf_counter()
    h = p.train(fn, x, y, epochs=epochs, lr=lr, batch=batch, seed=0)
    return (time.perf_counter() - t) / epochs, h["acc"][-1], p


def torch_rnn(x, y, epochs, lr, batch):
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    cell, out = torch.nn.RNNCell(28, 48), torch.nn.Linear(48, 28)
    opt = torch.optim.Adam(list(cell.parameters()) + list(out.parameters()), lr=lr)
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(len(x)))
        correct = 0
        for s in range(0, len(x), batch):
            idx = order[s:s + batch]
            h = torch.zeros(len(idx), 48)
            for k in range(8):
                h = cell(X[idx, k], h)
            logits = out(h)
            loss = torch.nn.functional.cross_entropy(logits, Y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            correct += int((logits.argmax(1) == Y[idx]).sum())
    return (time.perf_counter() - t) / epochs, correct / len(x)


def torch_ponder(x, y, epochs, lr, batch):
    """The same adaptive model; the loop count differs per example, so each example runs on its own
    (as on Glia's tape), and gradients are averaged over the minibatch."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    d1, dh, d2, d3 = (torch.nn.Linear(64, 32), torch.nn.Linear(32, 1), torch.nn.Linear(32, 32),
                      torch.nn.Linear(32, 10))
    params = [p for m in (d1, dh, d2, d3) for p in m.parameters()]
    opt = torch.optim.Adam(params, lr=lr)
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    correct = 0
    for _ in range(epochs):
        order = rng.permutation(len(x))
        correct = 0
        for s in range(0, len(x), batch):
            opt.zero_grad()
            rows = order[s:s + batch]
            for r in rows:
                h = torch.tanh(d1(X[r]))
                steps = 0
                while float(torch.sigmoid(dh(h).sum())) < 0.6 and steps < 4:
                    h = torch.tanh(d2(h) + h)
                    steps += 1
                logits = d3(h)
                loss = torch.nn.functional.cross_entropy(logits[None], Y[r:r + 1]) / len(rows)
                loss.backward()
                correct += int(logits.argmax() == Y[r])
            opt.step()
    return (time.perf_counter() - t) / epochs, correct / len(x)


def gradient_cost(prog, fn, x, reps=200):
    """time(value and gradient) / time(value), one example, on the interpreter tape."""
    from glia.compiler.autodiff import Tape, ad_interpreter, backward

    interp = prog._backend.interp
    f = interp.function(fn)
    adi = ad_interpreter(interp)
    t = time.perf_counter()
    for i in range(reps):
        f(x[i % len(x)])
    value = time.perf_counter() - t
    t = time.perf_counter()
    for i in range(reps):
        adi.tape = Tape()
        out = adi.call(fn, [x[i % len(x)]])
        backward(adi.tape, {out.i: np.ones_like(out.v)})
    both = time.perf_counter() - t
    return both / value


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=1)
    ns = ap.parse_args()
    rows = []
    xc, yc = data("chars.npz")
    g, gacc, prog = glia_epoch("char_rnn.glia", "next_char", xc, yc, ns.epochs, 0.01, 16)
    t, tacc = torch_rnn(xc, yc, ns.epochs, 0.01, 16)
    rows.append(("char RNN (883 windows, batch 16)", g, gacc, t, tacc, gradient_cost(prog, "next_char", xc)))
    xd, yd = data("digits.npz")
    g, gacc, prog = glia_epoch("ponder.glia", "ponder", xd, yd, ns.epochs, 0.005, 32)
    t, tacc = torch_ponder(xd, yd, ns.epochs, 0.005, 32)
    rows.append(("ponder, data-dependent while (1,797 digits, batch 32)", g, gacc, t, tacc,
                 gradient_cost(prog, "ponder", xd)))
    print(f"seconds per epoch, {ns.epochs} epoch(s), {os.cpu_count()} cores")
    print("| model | Glia (interpreter tape) | PyTorch eager | Glia vs PyTorch | Glia time(value+grad)/time(value) |")
    print("|---|---|---|---|---|")
    for name, g, gacc, t, tacc, cost in rows:
        ratio = f"{t / g:.2f}x" if g < t else f"{g / t:.1f}x slower"
        print(f"| {name} | {g:.2f} s (acc {gacc:.3f}) | {t:.2f} s (acc {tacc:.3f}) | {ratio} | {cost:.1f} |")


if __name__ == "__main__":
    main()
