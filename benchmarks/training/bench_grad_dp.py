"""Differentiable dynamic programming, two programs (--program):
  soft_edit  the gap cost `w` of a soft edit distance fitted by gradient descent to the distances of
             10 pairs of 20-character strings (benchmarks/training/programs/soft_edit.glia), the
             table filled row by row in lists of floats (`prev = cur`);
  soft_dtw   the scale `w` of a series fitted so that soft dynamic time warping (Cuturi and Blondel)
             between 10 pairs of 20-point series matches targets (programs/soft_dtw.glia), the
             table a list of lists of floats (`r[i][j] = d * d + softmin(...)`).
Each runs 10 steps of `value_and_grad`, each going back through about 4,000 cells, each cell a
softmin of three values (min, three exp, one log). The CPU backend compiles these gradients since
2026-12-02 (before, the function calling `grad` ran in the interpreter).

Systems, each checked to reach the same `w` (to a relative 1e-9):
  glia cpu        glia.load(..., backend="cpu").run: the whole program, compiled
  glia interp     the reference interpreter
  torch loop      the same dynamic program in Python over PyTorch eager scalars, autograd
JAX is left out: `jit` of this Python loop unrolls every cell of every table into one graph, and
reverse mode through `lax.scan` / `while_loop` would be another program (a row-wise rewrite).

Each time is the median of --repeat runs after one warm-up (compilation excluded), systems alternating
(the interpreter and the torch loop run once: they take seconds). "glia cpu, value only" runs the
same program evaluating the loss alone at each step (`main`'s fourth argument `value`): what the
gradient costs on top of the value (the program's setup, the targets, about one step's worth of
values, is in both).

    python3 benchmarks/training/bench_grad_dp.py [--repeat 5] [--program soft_edit|soft_dtw]
"""
from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from turns import compare, glia_system  # noqa: E402

PROGRAMS = os.path.join(ROOT, "benchmarks", "training", "programs")
PAIRS, LENGTH, STEPS = 10, 20, 10


def word(seed, n):
    out, s = "", seed
    for _ in range(n):
        s = (s * 48271) % 2147483647
        out += "abcd"[s % 4]
    return out


def pairs():
    """soft_edit.glia's pairs of strings (the same LCG)."""
    return [(word(2 * k + 1, LENGTH), word(2 * k + 2, LENGTH - k % 3)) for k in range(PAIRS)]


def series(seed, n):
    """soft_dtw.glia's series (the same LCG)."""
    out, s = [], seed
    for _ in range(n):
        s = (s * 48271) % 2147483647
        out.append(float(s % 1000) / 250.0 - 2.0)
    return out


def softmin(a, b, c, g):
    import torch
    m = torch.minimum(a, torch.minimum(b, c))
    return m - g * torch.log(torch.exp((m - a) / g) + torch.exp((m - b) / g) + torch.exp((m - c) / g))


def descent(fn, data, lr):
    """The Glia programs' fit in PyTorch: targets from w = 0.7 (no gradient), then STEPS steps of
    gradient descent from w = 0.2 on the mean squared, length-scaled error of fn(w, a, b) over `data`."""
    import torch
    with torch.no_grad():
        w0 = torch.tensor(0.7, dtype=torch.float64)
        targets = [fn(w0, a, b).item() for a, b in data]

    def run():
        w = 0.2
        for _ in range(STEPS):
            wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
            total = torch.zeros((), dtype=torch.float64)
            for (a, b), y in zip(data, targets):
                d = (fn(wt, a, b) - y) / float(len(a))
                total = total + d * d
            (total / len(data)).backward()
            w = w - lr * wt.grad.item()
        return w
    return run


def torch_dtw():
    """soft_dtw.glia's program in Python over PyTorch eager scalars (the table a list of lists)."""
    import torch
    torch.set_num_threads(1)
    data = [(series(2 * k + 1, LENGTH), series(2 * k + 2, LENGTH - k % 3)) for k in range(PAIRS)]

    def soft_dtw(w, xs, ys):
        n, m = len(xs), len(ys)
        big = torch.tensor(1000000.0, dtype=torch.float64)
        r = [[big] * (m + 1) for _ in range(n + 1)]
        r[0][0] = torch.zeros((), dtype=torch.float64)
        for i in range(1, n + 1):
            for j in range(1, m + 1):
                d = xs[i - 1] * w - ys[j - 1]
                r[i][j] = d * d + softmin(r[i - 1][j], r[i][j - 1], r[i - 1][j - 1], 0.5)
        return r[n][m]
    return descent(soft_dtw, data, 0.05)


def torch_loop():
    """soft_edit.glia's program in Python over PyTorch eager scalars."""
    import torch
    torch.set_num_threads(1)
    ps = pairs()

    def soft_edit(w, s, t):
        prev = [torch.zeros((), dtype=torch.float64)] + [float(j + 1) * w for j in range(len(t))]
        for i in range(len(s)):
            cur = [float(i + 1) * w]
            for j in range(len(t)):
                cost = 0.0 if s[i] == t[j] else 1.0
                cur.append(softmin(prev[j] + cost, prev[j + 1] + w, cur[j] + w, 0.5))
            prev = cur
        return prev[len(t)]
    return descent(soft_edit, ps, 0.5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--program", choices=["soft_edit", "soft_dtw"], default="soft_edit")
    ns = ap.parse_args()
    program = os.path.join(PROGRAMS, ns.program + ".glia")
    systems = {"glia cpu": glia_system(program, [str(PAIRS), str(LENGTH), str(STEPS)], "cpu"),
               "glia cpu, value only": glia_system(program, [str(PAIRS), str(LENGTH), str(STEPS), "value"], "cpu"),
               "glia interp": glia_system(program, [str(PAIRS), str(LENGTH), str(STEPS)], "interp")}
    try:
        systems["torch loop"] = torch_dtw() if ns.program == "soft_dtw" else torch_loop()
    except ImportError:
        print("(PyTorch is not installed: its row is left out)")
    compare(systems, {"glia interp", "torch loop"}, ns.repeat, "w", unchecked={"glia cpu, value only"})


if __name__ == "__main__":
    main()
