"""Gradient descent over data given as ordinary values: a curve y = tanh(a x) fitted to 1,000 (x, y)
points held as `list[(float, float)]`, 50 steps of `value_and_grad` (benchmarks/training/programs/
fit_points.glia). The points are constants to the gradient (the second argument), which the CPU
backend compiles since 2026-12-02; before, the function calling `grad` ran in the interpreter.

Systems, each checked to reach the same `a` (to a relative 1e-9):
  glia cpu        glia.load(..., backend="cpu").run: the whole program, compiled
  glia interp     the reference interpreter
  torch loop      the same loop over the points in Python, with PyTorch eager scalars and autograd
  torch vector    the loss written as one vectorised expression over a (1000,) tensor, autograd

Each time is the median of --repeat runs after one warm-up (compilation excluded), systems alternating
(the interpreter and the torch loop run once: they take seconds).

    python3 benchmarks/training/bench_grad_data.py [--repeat 5]
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

PROGRAM = os.path.join(ROOT, "benchmarks", "training", "programs", "fit_points.glia")
N, STEPS = 1000, 50


def points():
    """The points of fit_points.glia's `points` (the same LCG)."""
    import math
    out, s = [], 12345
    for _ in range(N):
        s = (s * 48271) % 2147483647
        x = float(s % 2000) / 1000.0 - 1.0
        out.append((x, math.tanh(0.8 * x) + float(s % 7 - 3) * 0.01))
    return out


def torch_loop():
    import torch
    pts = points()

    def run():
        a = 0.1
        for _ in range(STEPS):
            at = torch.tensor(a, dtype=torch.float64, requires_grad=True)
            total = torch.tensor(0.0, dtype=torch.float64)
            for x, y in pts:
                d = torch.tanh(at * x) - y
                total = total + d * d
            (total / len(pts)).backward()
            a = a - 2.0 * at.grad.item()
        return a
    return run


def torch_vector():
    import torch
    torch.set_num_threads(1)
    pts = points()
    xs = torch.tensor([p[0] for p in pts], dtype=torch.float64)
    ys = torch.tensor([p[1] for p in pts], dtype=torch.float64)

    def run():
        a = 0.1
        for _ in range(STEPS):
            at = torch.tensor(a, dtype=torch.float64, requires_grad=True)
            ((torch.tanh(at * xs) - ys) ** 2).mean().backward()
            a = a - 2.0 * at.grad.item()
        return a
    return run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ns = ap.parse_args()
    systems = {"glia cpu": glia_system(PROGRAM, [str(N), str(STEPS)], "cpu"),
               "glia interp": glia_system(PROGRAM, [str(N), str(STEPS)], "interp")}
    try:
        systems["torch loop"] = torch_loop()
        systems["torch vector"] = torch_vector()
    except ImportError:
        print("(PyTorch is not installed: its rows are left out)")
    compare(systems, {"glia interp", "torch loop"}, ns.repeat, "a")


if __name__ == "__main__":
    main()
