"""Training with control flow, side by side: the char-level RNN (a for loop over 8 characters,
examples/neural/char_rnn.glia), adaptive computation (a data-dependent while,
examples/neural/ponder.glia) and a recursive network over trees (examples/neural/tree_rnn.glia): Glia compiled (traced Numba code, compiler/trace_compile.py), Glia on
the interpreter's tape, and PyTorch eager, on the same model, data, Adam and batch; plus the gradient
cost time(value and gradient) / time(value), on the compiled traces and on the tape.

Glia's compiled engine is timed after one warm-up run of two epochs in a fresh process (Numba's cache,
and the modules of the traces and of the epoch kernel in the Glia cache folder, loaded); the first
run's time, cold or from the disk cache, is printed too. PyTorch gets a warm-up run of one epoch
(its first in a process pays for initialising its kernels). Each side's time includes its setup: Glia's
`Program.train` (checking the data, initialising the parameters, tracing, building the engine), and
PyTorch's building of its modules and its optimizer.

    python3 benchmarks/training/bench_control.py [--epochs 1] [--repeat 3] [--cpu-time] [--only tree]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread each: 2 shared cores (see bench_mlp.py)
os.environ.pop("OPENBLAS_CORETYPE", None)  # each library picks its kernels for this CPU (see bench_mlp.py)

import numpy as np  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # models.py


clock = time.perf_counter  # --cpu-time: time.process_time (this process's CPU seconds, all threads)


def data(name):
    with np.load(os.path.join(ROOT, "examples", "data", name)) as d:
        return d["x"], d["y"]


def glia_epoch(example, fn, x, y, epochs, lr, batch, engine):
    import glia

    p = glia.load(os.path.join(ROOT, "examples", "neural", example))
    t = clock()
    # as PyTorch's loop: every example trains (no validation split) and no gradient clipping, whatever
    # the example's train block says
    h = p.train(fn, x, y, epochs=epochs, lr=lr, batch=batch, seed=0, engine=engine, validation=0.0, clip=0.0)
    assert engine == "tape" or h["engine"].startswith("compiled"), h["engine"]
    return (clock() - t) / epochs, h["acc"][-1], p


def round_robin(repeat, *systems):
    """Each system's median run (by time) of `repeat`, the systems alternating run by run so that a
    change in the machine's load falls on all of them alike."""
    runs = [[] for _ in systems]
    for _ in range(repeat):
        for f, out in zip(systems, runs):
            out.append(f())
    return [sorted(r, key=lambda x: x[0])[len(r) // 2] for r in runs]


def torch_loop(x, y, epochs, lr, batch, make, minibatch):
    """PyTorch's side of a row: one thread, seed 0, the modules `make()` returns, Adam, the same
    shuffled minibatches each time; `minibatch(modules, X, Y, rows)` runs one forward and backward and
    returns how many it got right. (seconds per epoch, the last epoch's accuracy) The time includes
    building the modules and the optimizer, as Glia's includes initialising its parameters and building
    its engine (Program.train does both)."""
    import torch

    torch.set_num_threads(1)
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    t = clock()
    torch.manual_seed(0)
    modules = make()
    opt = torch.optim.Adam([p for m in modules for p in m.parameters()], lr=lr)
    rng = np.random.default_rng(0)
    correct = 0
    for _ in range(epochs):
        order = rng.permutation(len(x))
        correct = 0
        for s in range(0, len(x), batch):
            opt.zero_grad()
            correct += minibatch(modules, X, Y, order[s:s + batch])
            opt.step()
    return (clock() - t) / epochs, correct / len(x)


def torch_rnn(x, y, epochs, lr, batch):
    """The char RNN: the minibatch's sequences as one batched cell per step."""
    import torch

    def minibatch(modules, X, Y, rows):
        cell, out = modules
        rows = torch.from_numpy(rows)  # a tensor indexes a tensor faster than a NumPy array does
        h = torch.zeros(len(rows), 48)
        for k in range(8):
            h = cell(X[rows, k], h)
        logits = out(h)
        torch.nn.functional.cross_entropy(logits, Y[rows]).backward()
        return int((logits.argmax(1) == Y[rows]).sum())
    return torch_loop(x, y, epochs, lr, batch, lambda: (torch.nn.RNNCell(28, 48), torch.nn.Linear(48, 28)), minibatch)


def torch_ponder(x, y, epochs, lr, batch):
    """The same adaptive model; the loop count differs per example, so each example runs on its own
    (as on Glia's tape), and gradients are averaged over the minibatch."""
    import torch

    def minibatch(modules, X, Y, rows):
        d1, dh, d2, d3 = modules
        correct = 0
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
        return correct
    return torch_loop(x, y, epochs, lr, batch, lambda: (torch.nn.Linear(64, 32), torch.nn.Linear(32, 1),
                                                        torch.nn.Linear(32, 32), torch.nn.Linear(32, 10)), minibatch)


def torch_tree(x, y, epochs, lr, batch):
    """The recursive tree model (models.torch_tree_rnn): each tree of a minibatch recursed on its own,
    the roots' logits stacked into one cross-entropy (the mean over the minibatch) and one backward."""
    import torch

    from models import torch_tree_rnn

    leaf = (x[:, :, 0] > 0.5).tolist()

    def minibatch(modules, X, Y, rows):
        model, = modules
        rows = rows.tolist()
        logits = torch.stack([model(X[r], leaf[r]) for r in rows])
        torch.nn.functional.cross_entropy(logits, Y[rows]).backward()
        return int((logits.argmax(1) == Y[rows]).sum())
    return torch_loop(x, y, epochs, lr, batch, lambda: (torch_tree_rnn(),), minibatch)


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


def compiled_gradient_cost(prog, fn, x, y, batch, reps=300):
    """time(value and gradient) / time(value) of the compiled code, over minibatches of `batch` examples
    that all take the most used trace (`step` against the same trace's `value`)."""
    from glia.compiler import training
    from glia.compiler.trace_compile import trace_engine

    interp = prog._backend.interp
    o = training.Options(fn=fn, loss="cross_entropy", batch=batch)
    task = training.check_task(interp.program, o, x, y)
    eng, why = trace_engine(interp, task, training.make_optimizer("adam", len(interp.params), np.float32), 0.0)
    assert eng is not None, why
    eng.epoch(np.arange(len(x)), batch, 0.0)  # trace every decision sequence that occurs (lr 0: no change)
    c = max(eng.traces, key=lambda c: c.hits)
    rows = np.arange(len(x))
    if c.guards is not None:
        rows = rows[c.guards(task.X, eng.store.flat, c.consts)]
    rows = rows[:batch]
    X, Y, s = task.X[rows], eng.Y[rows], np.float32(1.0 / len(rows))
    U = np.random.default_rng(0).random((len(rows), c.trace.draws))  # dropout's uniforms (none here)
    flat, grad = eng.store.flat, np.zeros_like(eng.store.grad)
    c.value(X, Y, U, flat, c.consts, s)
    c.step(X, Y, U, flat, grad, c.consts, s)
    t = time.perf_counter()
    for _ in range(reps):
        c.value(X, Y, U, flat, c.consts, s)
    value = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(reps):
        c.step(X, Y, U, flat, grad, c.consts, s)
    return (time.perf_counter() - t) / value, len(eng.traces)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="", help="run only the models whose name contains this")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time epochs in CPU seconds of this process (one thread each) instead of wall time: "
                         "other work on shared cores then counts much less")
    ns = ap.parse_args()
    global clock
    if ns.cpu_time:
        clock = time.process_time
    rows = []
    for name, example, fn, data_file, lr, batch, torch_run in (
            ("char RNN (883 windows, batch 16)", "char_rnn.glia", "next_char", "chars.npz", 0.01, 16, torch_rnn),
            ("ponder, data-dependent while (1,797 digits, batch 32)", "ponder.glia", "ponder", "digits.npz", 0.005, 32,
             torch_ponder),
            ("tree RNN, recursion over trees of 25 shapes (1,000 trees, batch 16)", "tree_rnn.glia", "value_mod3",
             "trees.npz", 0.01, 16, torch_tree)):
        if ns.only not in name:
            continue
        x, y = data(data_file)
        t0 = time.perf_counter()
        # warm-up: compiles or loads the traces, and the epoch kernel (built from the second epoch when
        # the traces have guards)
        glia_epoch(example, fn, x, y, 2, lr, batch, "compiled")
        first = time.perf_counter() - t0
        torch_run(x, y, 1, lr, batch)  # PyTorch's warm-up: its first run in a process initialises its kernels
        (c, cacc, prog), (g, gacc, _), (t, tacc) = round_robin(
            ns.repeat, lambda: glia_epoch(example, fn, x, y, ns.epochs, lr, batch, "compiled"),
            lambda: glia_epoch(example, fn, x, y, ns.epochs, lr, batch, "tape"),
            lambda: torch_run(x, y, ns.epochs, lr, batch))
        ccost, ntraces = compiled_gradient_cost(prog, fn, x, y, batch)
        rows.append((name, c, cacc, g, gacc, t, tacc, ccost, gradient_cost(prog, fn, x), first, ntraces))
    print(f"{'CPU ' if ns.cpu_time else ''}seconds per epoch, {ns.epochs} epoch(s), median of {ns.repeat}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print("| model | Glia compiled | Glia tape | PyTorch eager | compiled vs PyTorch | compiled vs tape | "
          "gradient cost compiled | gradient cost tape | first run (traces) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, c, cacc, g, gacc, t, tacc, ccost, gcost, first, ntraces in rows:
        ratio = f"{t / c:.1f}x faster" if c < t else f"{c / t:.1f}x slower"
        print(f"| {name} | {c:.4f} s (acc {cacc:.3f}) | {g:.3f} s (acc {gacc:.3f}) | {t:.4f} s (acc {tacc:.3f}) | "
              f"{ratio} | {g / c:.1f}x faster | {ccost:.1f} | {gcost:.1f} | {first:.1f} s ({ntraces}) |")


if __name__ == "__main__":
    main()
