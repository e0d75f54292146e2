"""Inference in ordinary code, side by side: a model applied example by example inside a loop, as a
program that uses a model does (classify each input, act on the answer, go on). The program is
benchmarks/training/programs/inference.glia:

  mlp  the digits MLP (64-32-10, relu, softmax; examples/neural/digits.glia's model) over the 1797
       digits of examples/data/digits.npz, counting the images it classifies right;
  rnn  an RNN cell (16 -> 64, tanh) over each of 1000 sequences of 20 steps, then dense + argmax
       into one of 4 classes, counting each class.

Systems, each given the same parameters (Glia's, initialised with seed 0) and checked to give the same
answer:
  glia cpu      glia.load(..., backend="cpu"): the whole loop compiled (the CPU backend, Numba)
  glia interp   the reference interpreter
  torch eager   the same loop in Python over PyTorch (torch.no_grad, one thread)
  jax jit loop  the same loop as lax.fori_loop / lax.scan, compiled whole by jax.jit
  jax per call  a jitted model called from the Python loop
  numba         the same loop written by hand with njit
  torch batch   for reference, not the same algorithm: every example in one batched forward (no loop)

Each time is the median of --repeat runs after one warm-up (compilation excluded: each system's
compile is reported separately where it has one), systems alternating run by run.

    python3 benchmarks/training/bench_inference.py [--repeat 5] [--only mlp,rnn]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread each: 2 shared cores (see bench_mlp.py)
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import numpy as np  # noqa: E402
from numba import njit  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, ROOT)
PROGRAM = os.path.join(ROOT, "benchmarks", "training", "programs", "inference.glia")
clock = time.perf_counter


# ---- hand-written Numba ---------------------------------------------------------------------------

@njit(cache=True)
def nb_mlp_correct(X, y, W1, b1, W2, b2):
    right = 0
    for i in range(X.shape[0]):
        h = np.maximum(np.dot(X[i], W1) + b1, np.float32(0))
        z = np.dot(h, W2) + b2
        e = np.exp(z - z.max())
        p = e / e.sum()
        if np.argmax(p) == y[i]:
            right += 1
    return right


@njit(cache=True)
def nb_rnn_counts(S, Wx, Wh, b, Wo, bo):
    counts = np.zeros(4, np.int64)
    for s in range(S.shape[0]):
        h = np.zeros(Wh.shape[0], np.float32)
        for t in range(S.shape[1]):
            h = np.tanh(np.dot(S[s, t], Wx) + np.dot(h, Wh) + b)
        counts[np.argmax(np.dot(h, Wo) + bo)] += 1
    return counts


# ---- the rows -------------------------------------------------------------------------------------

def mlp_systems(cpu, interp, X, y):
    import jax
    import jax.numpy as jnp
    import torch

    P = {k: np.asarray(v) for k, v in cpu.params.items()}
    W1, b1, W2, b2 = (P[f"digit.dense#{i}.{n}"] for i in (1, 2) for n in ("W", "b"))
    ylist = y.tolist()

    tl1, tl2 = torch.nn.Linear(64, 32), torch.nn.Linear(32, 10)
    with torch.no_grad():
        for lin, W, b in ((tl1, W1, b1), (tl2, W2, b2)):
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
    Xt = torch.from_numpy(X)

    def torch_eager():
        right = 0
        with torch.no_grad():
            for i in range(len(ylist)):
                p = torch.softmax(tl2(torch.relu(tl1(Xt[i]))), dim=-1)
                if int(p.argmax()) == ylist[i]:
                    right += 1
        return right

    def torch_batch():
        with torch.no_grad():
            p = torch.softmax(tl2(torch.relu(tl1(Xt))), dim=-1)
            return int((p.argmax(dim=1) == torch.from_numpy(y)).sum())

    jW1, jb1, jW2, jb2 = (jnp.asarray(a) for a in (W1, b1, W2, b2))
    jX, jy = jnp.asarray(X), jnp.asarray(y)

    def digit(x):
        return jax.nn.softmax(jax.nn.relu(x @ jW1 + jb1) @ jW2 + jb2)

    @jax.jit
    def jax_loop(X_, y_):
        def body(i, right):
            return right + (jnp.argmax(digit(X_[i])) == y_[i]).astype(jnp.int32)
        return jax.lax.fori_loop(0, X_.shape[0], body, 0)

    jdigit = jax.jit(digit)

    def jax_per_call():
        right = 0
        for i in range(len(ylist)):
            if int(jnp.argmax(jdigit(jX[i]))) == ylist[i]:
                right += 1
        return right

    return {
        "glia cpu": lambda: cpu.mlp_correct(X, ylist),
        "glia interp": lambda: interp.mlp_correct(X, ylist),
        "torch eager": torch_eager,
        "jax jit loop": lambda: int(jax_loop(jX, jy)),
        "jax per call": jax_per_call,
        "numba": lambda: nb_mlp_correct(X, y, W1, b1, W2, b2),
        "torch batch": torch_batch,
    }


def rnn_systems(cpu, interp, S):
    import jax
    import jax.numpy as jnp
    import torch

    P = {k: np.asarray(v) for k, v in cpu.params.items()}
    Wx, Wh, b = (P[f"classify.rnn_cell#1.{n}"] for n in ("Wx", "Wh", "b"))
    Wo, bo = (P[f"classify.dense#1.{n}"] for n in ("W", "b"))

    tWx, tWh, tb, tWo, tbo = (torch.from_numpy(a) for a in (Wx, Wh, b, Wo, bo))
    St = torch.from_numpy(S)

    def torch_eager():
        counts = [0, 0, 0, 0]
        with torch.no_grad():
            for s in St:
                h = torch.zeros(64)
                for x in s:
                    h = torch.tanh(x @ tWx + h @ tWh + tb)
                counts[int((h @ tWo + tbo).argmax())] += 1
        return counts

    def torch_batch():
        with torch.no_grad():
            h = torch.zeros(S.shape[0], 64)
            for t in range(S.shape[1]):
                h = torch.tanh(St[:, t] @ tWx + h @ tWh + tb)
            c = torch.bincount((h @ tWo + tbo).argmax(dim=1), minlength=4)
        return c.tolist()

    jWx, jWh, jb, jWo, jbo = (jnp.asarray(a) for a in (Wx, Wh, b, Wo, bo))
    jS = jnp.asarray(S)

    def classify(seq):
        h, _ = jax.lax.scan(lambda h, x: (jnp.tanh(x @ jWx + h @ jWh + jb), None), jnp.zeros(64, jnp.float32), seq)
        return jnp.argmax(h @ jWo + jbo)

    @jax.jit
    def jax_loop(S_):
        return jax.lax.fori_loop(0, S_.shape[0], lambda i, c: c.at[classify(S_[i])].add(1), jnp.zeros(4, jnp.int32))

    jclassify = jax.jit(classify)

    def jax_per_call():
        counts = [0, 0, 0, 0]
        for i in range(S.shape[0]):
            counts[int(jclassify(jS[i]))] += 1
        return counts

    return {
        "glia cpu": lambda: cpu.rnn_counts(S),
        "glia interp": lambda: interp.rnn_counts(S),
        "torch eager": torch_eager,
        "jax jit loop": lambda: [int(v) for v in jax_loop(jS)],
        "jax per call": jax_per_call,
        "numba": lambda: nb_rnn_counts(S, Wx, Wh, b, Wo, bo).tolist(),
        "torch batch": torch_batch,
    }


def measure(systems, repeat):
    """(median seconds, answer, first call's seconds) per system, alternating run by run."""
    first = {}
    for name, f in systems.items():  # warm-up: compiles (Numba, XLA) and first calls
        t = clock()
        first[name] = (f(), clock() - t)
    times = {name: [] for name in systems}
    for _ in range(repeat):
        for name, f in systems.items():
            t = clock()
            f()
            times[name].append(clock() - t)
    return {name: (sorted(ts)[len(ts) // 2], first[name][0], first[name][1]) for name, ts in times.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--only", default="mlp,rnn")
    ns = ap.parse_args(argv)
    import torch

    import glia

    torch.set_num_threads(1)
    t = clock()
    cpu = glia.load(PROGRAM, backend="cpu")
    interp = glia.load(PROGRAM)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; median of {ns.repeat}")
    rows = []
    if "mlp" in ns.only:
        with np.load(os.path.join(ROOT, "examples", "data", "digits.npz")) as d:
            X, y = d["x"].astype(np.float32), d["y"].astype(np.int64)
        rows.append(("mlp (1797 digits)", X.shape[0], mlp_systems(cpu, interp, X, y)))
    if "rnn" in ns.only:
        S = np.random.default_rng(0).standard_normal((1000, 20, 16)).astype(np.float32)
        rows.append(("rnn (1000 sequences x 20 steps)", S.shape[0], rnn_systems(cpu, interp, S)))
    for title, n, systems in rows:
        res = measure(systems, ns.repeat)
        answers = {name: r[1] for name, r in res.items()}
        base = res["glia cpu"][0]
        print(f"\n{title}; answers {'agree' if len({repr(a) for a in answers.values()}) == 1 else 'DIFFER'}: "
              f"{answers['glia cpu']}")
        print(f"| system | total | per example | Glia compiled is ... x faster | first call |")
        print("|---|---|---|---|---|")
        for name, (sec, ans, first) in res.items():
            mark = "" if repr(ans) == repr(answers["glia cpu"]) else f" (answer {ans})"
            print(f"| {name} | {sec * 1e3:.2f} ms | {sec / n * 1e6:.2f} us | {sec / base:.1f} | {first:.2f} s |{mark}")
    print(f"\n(the whole benchmark: {clock() - t:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
