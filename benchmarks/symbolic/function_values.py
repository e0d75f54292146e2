"""Calls through function values (compiler/closures.py): Glia compiled vs CPython vs Numba by hand.

    python benchmarks/symbolic/function_values.py [--n N] [--reps R]

programs/closures.glia calls through closures three ways, n calls each: picked from a list of three
(`fs[i % 3](x)`), picked among three locals, and one value made by `compose` twice (each of its calls
is three calls of closures inside). CPython runs the same code with Python's closures. Numba has no
closures it can pass around, so the hand-written Numba version is what one writes instead: the three
functions' parameters in arrays and a switch on which one (the tag), inlined. Each Glia function is
compiled as the root of a module of its own and called directly (run.py's GliaProgram), after one
untimed call; every result must agree. A benchmark, not a test: it checks answers, never a speed.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
from numba import njit  # noqa: E402

from run import GliaProgram, machine_line, side_by_side  # noqa: E402

P = 1000003


def py_affine(a, b):
    return lambda x: (a * x + b) % P


def py_compose(f, g):
    return lambda x: f(g(x))


def py_list(n):
    fs = [py_affine(3, 1), py_affine(5, 2), lambda x: (x * x) % P]
    x = 1
    for i in range(n):
        x = fs[i % 3](x)
    return x


def py_locals(n):
    f0, f1, f2 = py_affine(3, 1), py_affine(5, 2), (lambda x: (x * x) % P)
    x = 1
    for i in range(n):
        k = i % 3
        f = f0 if k == 0 else f1 if k == 1 else f2
        x = f(x)
    return x


def py_composed(n):
    h = py_compose(py_compose(py_affine(3, 1), py_affine(5, 2)), lambda x: (x * x) % P)
    x = 1
    for _ in range(n // 3):
        x = h(x)
    return x


@njit(inline="always")
def _nb_call(kind, a, b, x):
    if kind == 0:
        return (a * x + b) % P
    return (x * x) % P


@njit(cache=True)
def nb_list(n):
    kinds, As, Bs = np.array([0, 0, 1]), np.array([3, 5, 0]), np.array([1, 2, 0])
    x = 1
    for i in range(n):
        k = i % 3
        x = _nb_call(kinds[k], As[k], Bs[k], x)
    return x


@njit(cache=True)
def nb_composed(n):
    x = 1
    for _ in range(n // 3):
        x = (3 * ((5 * ((x * x) % P) + 2) % P) + 1) % P
    return x


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=3_000_000)
    ap.add_argument("--reps", type=int, default=5)
    ns = ap.parse_args(argv)
    print(machine_line())
    g = GliaProgram("closures")
    if g.unsupported:
        print("closures.glia does not compile:", g.unsupported)
        return 1
    rows = [("list of closures", g.fn("through_list"), py_list, nb_list, (ns.n,)),
            ("closures in locals", g.fn("through_locals"), py_locals, nb_list, (ns.n,)),
            ("composed closures", g.fn("composed"), py_composed, nb_composed, (ns.n,))]
    print(f"n = {ns.n} calls; median of {ns.reps}")
    print("| calls through | Glia compiled | CPython | Numba by hand (tag switch) | Glia speed-up over CPython | Glia / Numba |")
    print("|---|---:|---:|---:|---:|---:|")
    bad = side_by_side(rows, ns.reps)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
