"""Digits MLP training, side by side in one run: Glia (compiled path) vs PyTorch eager CPU vs JAX jit
per step vs a hand-fused Numba loop. Same data (examples/data/digits.npz, 1,797 x 64), architecture,
Adam (lr 0.001), batch 32, 20 epochs, shuffled every epoch. Prints a table of the median of --repeat
timed runs (after one warm-up each, so no compile time is counted) and the final training accuracy.

    python3 benchmarks/training/bench_mlp.py [--repeat 3] [--only glia,torch,jax,numba]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

# One thread for every system (BLAS inside Numba, PyTorch, XLA): the machine has 2 cores shared with
# other work, where multi-threaded BLAS spins against itself; set before numpy/torch/jax load.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
# Every library picks its kernels for this CPU: an OPENBLAS_CORETYPE in the environment (the
# development machines set Haswell: AVX2 on an AVX-512 CPU) would hold back only the OpenBLAS users
# (Glia's and the hand-fused Numba's np.dot), not PyTorch (MKL/oneDNN) or XLA, which detect the CPU.
os.environ.pop("OPENBLAS_CORETYPE", None)

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

from hand_numba import train_hand  # noqa: E402
from models import glia_source  # noqa: E402

EPOCHS, BATCH, LR = 20, 32, 1e-3
ARCHS = {"64-32-10": (32,), "64-256-256-10": (256, 256)}


def load():
    with np.load(os.path.join(ROOT, "examples", "data", "digits.npz")) as d:
        return d["x"].astype(np.float32), d["y"].astype(np.int64)


def run_glia(x, y, hidden, seed):
    import glia

    p = glia.compile(glia_source(hidden))
    t = time.perf_counter()
    h = p.train("model", x, y, loss="cross_entropy", optimizer="adam", lr=LR, epochs=EPOCHS, batch=BATCH,
                seed=seed)
    dt = time.perf_counter() - t
    assert h["engine"].startswith("compiled"), h["engine"]
    return dt, h["acc"][-1]


def run_torch(x, y, hidden, seed):
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    layers, k = [], 64
    for n in hidden:
        layers += [torch.nn.Linear(k, n), torch.nn.ReLU()]
        k = n
    layers.append(torch.nn.Linear(k, 10))
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    rng = np.random.default_rng(seed)
    t = time.perf_counter()
    for _ in range(EPOCHS):
        order = torch.from_numpy(rng.permutation(len(x)))
        correct = 0
        for s in range(0, len(x), BATCH):
            idx = order[s:s + BATCH]
            out = model(X[idx])
            loss = torch.nn.functional.cross_entropy(out, Y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            correct += int((out.argmax(1) == Y[idx]).sum())
    return time.perf_counter() - t, correct / len(x)


def run_jax(x, y, hidden, seed):
    import jax
    import jax.numpy as jnp

    key = jax.random.PRNGKey(seed)
    sizes = [64, *hidden, 10]
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        key, sub = jax.random.split(key)
        lim = np.sqrt(6 / (a + b))
        params.append((jax.random.uniform(sub, (a, b), minval=-lim, maxval=lim), jnp.zeros(b)))

    def forward(ps, xb):
        h = xb
        for W, b in ps[:-1]:
            h = jax.nn.relu(h @ W + b)
        W, b = ps[-1]
        return h @ W + b

    def loss_fn(ps, xb, yb):
        logits = forward(ps, xb)
        lp = jax.nn.log_softmax(logits)
        return -jnp.mean(jnp.take_along_axis(lp, yb[:, None], 1)), logits

    @jax.jit
    def step(ps, m, v, t, xb, yb):
        (loss, logits), g = jax.value_and_grad(loss_fn, has_aux=True)(ps, xb, yb)
        m = jax.tree_util.tree_map(lambda m_, g_: 0.9 * m_ + 0.1 * g_, m, g)
        v = jax.tree_util.tree_map(lambda v_, g_: 0.999 * v_ + 0.001 * g_ * g_, v, g)
        c1, c2 = 1 - 0.9 ** t, 1 - 0.999 ** t
        ps = jax.tree_util.tree_map(lambda p_, m_, v_: p_ - LR / c1 * m_ / (jnp.sqrt(v_ / c2) + 1e-8), ps, m, v)
        return ps, m, v, jnp.sum(jnp.argmax(logits, 1) == yb)

    m = jax.tree_util.tree_map(jnp.zeros_like, params)
    v = jax.tree_util.tree_map(jnp.zeros_like, params)
    rng = np.random.default_rng(seed)
    # compile both batch shapes (32 and the last, smaller one) before timing
    n_last = len(x) % BATCH or BATCH
    for nb in {BATCH, n_last}:
        step(params, m, v, 1.0, x[:nb], y[:nb])[3].block_until_ready()
    t0 = time.perf_counter()
    t = 0
    for _ in range(EPOCHS):
        order = rng.permutation(len(x))
        counts = []
        for s in range(0, len(x), BATCH):
            idx = order[s:s + BATCH]  # minibatches gathered on the host, as a JAX user would
            t += 1
            params, m, v, c = step(params, m, v, float(t), x[idx], y[idx])
            counts.append(c)
        correct = int(sum(int(c) for c in counts))
    return time.perf_counter() - t0, correct / len(x)


def run_numba(x, y, hidden, seed):
    t = time.perf_counter()
    acc = train_hand(x, y, hidden, EPOCHS, BATCH, LR, seed)
    return time.perf_counter() - t, acc


RUNNERS = {"glia": run_glia, "numba": run_numba, "jax": run_jax, "torch": run_torch}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default=",".join(RUNNERS))
    ns = ap.parse_args()
    x, y = load()
    print(f"digits {x.shape}, Adam lr {LR}, batch {BATCH}, {EPOCHS} epochs; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; median of {ns.repeat} runs after a warm-up, the systems taking turns")
    results = {}
    names = ns.only.split(",")
    for arch, hidden in ARCHS.items():
        for name in names:
            RUNNERS[name](x, y, hidden, 0)  # warm-up: imports, JIT compiles, caches
        times = {n: [] for n in names}
        accs = {n: [] for n in names}
        for r in range(ns.repeat):  # round-robin, so a change in the machine's load hits every system alike
            for name in names:
                dt, acc = RUNNERS[name](x, y, hidden, r)
                times[name].append(dt)
                accs[name].append(acc)
        for name in names:
            results[(arch, name)] = (statistics.median(times[name]), statistics.mean(accs[name]))
            print(f"  {arch:<14} {name:<6} {statistics.median(times[name]):8.3f} s   final train accuracy "
                  f"{statistics.mean(accs[name]):.3f}", flush=True)
    print()
    print("| model | Glia compiled | hand-fused Numba | JAX jit per step | PyTorch eager | Glia vs PyTorch | Glia vs JAX | Glia / Numba |")
    print("|---|---|---|---|---|---|---|---|")
    for arch in ARCHS:
        g = results.get((arch, "glia"), (float("nan"), 0))
        cells = [f"{results[(arch, n)][0]:.3f} s ({results[(arch, n)][1]:.3f})" if (arch, n) in results else "-"
                 for n in ("glia", "numba", "jax", "torch")]
        ratios = []
        for n in ("torch", "jax"):
            ratios.append(f"{results[(arch, n)][0] / g[0]:.1f}x faster" if (arch, n) in results else "-")
        ratios.append(f"{g[0] / results[(arch, 'numba')][0]:.2f}" if (arch, "numba") in results else "-")
        print(f"| {arch} | " + " | ".join(cells + ratios) + " |")


if __name__ == "__main__":
    main()
