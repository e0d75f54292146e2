"""Trees as structs that hold themselves: Glia compiled vs CPython vs Numba by hand.

    python benchmarks/symbolic/trees.py [--depth D] [--reps R] [--times T]

programs/trees.glia builds a binary tree of 2^(D+1) - 1 nodes by recursion (`struct Tree` with
`kids: list[Tree]`), then sums it R times by recursion; builds two and compares them (`==`) R times; and builds an expression tree of the same
shape (`struct Expr`, its operator a string) and evaluates it R times. CPython runs the same code with
classes (`__slots__`) and lists. Numba cannot type a struct that holds itself, so the hand-written
Numba version is what one writes instead: the nodes in arrays (value, first and second child's
index; an integer operator code), built and walked by the same recursions. Each Glia function is
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
from numba import njit, types  # noqa: E402

from run import GliaProgram, machine_line, side_by_side  # noqa: E402

P = 1000003


class Tree:
    __slots__ = ("val", "kids")

    def __init__(self, val, kids):
        self.val, self.kids = val, kids

    def __eq__(self, other):  # (what @dataclass writes: the fields compared as a tuple)
        return (self.val, self.kids) == (other.val, other.kids)


class Expr:
    __slots__ = ("op", "num", "args")

    def __init__(self, op, num, args):
        self.op, self.num, self.args = op, num, args


def py_make(d, v):
    t = Tree(v, [])
    if d > 0:
        for i in range(2):
            t.kids.append(py_make(d - 1, (v * 31 + i) % 1000))
    return t


def py_total(t):
    s = t.val
    for k in t.kids:
        s += py_total(k)
    return s


def py_build(depth):
    return py_make(depth, 1).val


def py_build_and_sum(depth, reps):
    t = py_make(depth, 1)
    return sum(py_total(t) for _ in range(reps))


def py_build_and_compare(depth, reps):
    a, b = py_make(depth, 1), py_make(depth, 1)
    return sum(a == b for _ in range(reps))


def py_expr(d, v):
    if d == 0:
        return Expr("num", v % 7 + 1, [])
    return Expr("+" if v % 3 != 0 else "*", 0, [py_expr(d - 1, v * 5 + 1), py_expr(d - 1, v * 7 + 2)])


def py_eval(e):
    if e.op == "num":
        return e.num
    a, b = py_eval(e.args[0]), py_eval(e.args[1])
    return (a + b) % P if e.op == "+" else (a * b) % P


def py_build_and_eval(depth, reps):
    e = py_expr(depth, 1)
    return sum(py_eval(e) for _ in range(reps))


_I = types.int64
_A = types.int64[:]


@njit(_I(_I, _I, _A, _A, _A, _A), cache=True)
def _nb_make(d, v, val, kid0, kid1, top):
    i = top[0]
    top[0] += 1
    val[i] = v
    kid0[i] = kid1[i] = -1
    if d > 0:
        kid0[i] = _nb_make(d - 1, (v * 31) % 1000, val, kid0, kid1, top)
        kid1[i] = _nb_make(d - 1, (v * 31 + 1) % 1000, val, kid0, kid1, top)
    return i


@njit(_I(_I, _A, _A, _A), cache=True)
def _nb_total(i, val, kid0, kid1):
    s = val[i]
    if kid0[i] >= 0:
        s += _nb_total(kid0[i], val, kid0, kid1)
    if kid1[i] >= 0:
        s += _nb_total(kid1[i], val, kid0, kid1)
    return s


@njit(cache=True)
def _nb_tree(depth):
    n = 2 ** (depth + 1) - 1
    val, kid0, kid1 = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    root = _nb_make(depth, 1, val, kid0, kid1, np.zeros(1, np.int64))
    return root, val, kid0, kid1


@njit(cache=True)
def nb_build(depth):
    root, val, _, _ = _nb_tree(depth)
    return val[root]


@njit(cache=True)
def nb_build_and_sum(depth, reps):
    root, val, kid0, kid1 = _nb_tree(depth)
    s = 0
    for _ in range(reps):
        s += _nb_total(root, val, kid0, kid1)
    return s


@njit(types.boolean(_I, _A, _A, _A, _I, _A, _A, _A), cache=True)
def _nb_eq(i, val, kid0, kid1, j, wal, wid0, wid1):
    if val[i] != wal[j] or (kid0[i] < 0) != (wid0[j] < 0) or (kid1[i] < 0) != (wid1[j] < 0):
        return False
    if kid0[i] >= 0 and not _nb_eq(kid0[i], val, kid0, kid1, wid0[j], wal, wid0, wid1):
        return False
    return kid1[i] < 0 or _nb_eq(kid1[i], val, kid0, kid1, wid1[j], wal, wid0, wid1)


@njit(cache=True)
def nb_build_and_compare(depth, reps):
    a, val, kid0, kid1 = _nb_tree(depth)
    b, wal, wid0, wid1 = _nb_tree(depth)
    same = 0
    for _ in range(reps):
        if _nb_eq(a, val, kid0, kid1, b, wal, wid0, wid1):
            same += 1
    return same


@njit(_I(_I, _I, _A, _A, _A, _A, _A), cache=True)
def _nb_expr(d, v, op, num, kid0, kid1, top):
    i = top[0]
    top[0] += 1
    if d == 0:
        op[i], num[i], kid0[i], kid1[i] = 0, v % 7 + 1, -1, -1
        return i
    op[i], num[i] = (1 if v % 3 != 0 else 2), 0
    kid0[i] = _nb_expr(d - 1, v * 5 + 1, op, num, kid0, kid1, top)
    kid1[i] = _nb_expr(d - 1, v * 7 + 2, op, num, kid0, kid1, top)
    return i


@njit(_I(_I, _A, _A, _A, _A), cache=True)
def _nb_eval(i, op, num, kid0, kid1):
    if op[i] == 0:
        return num[i]
    a = _nb_eval(kid0[i], op, num, kid0, kid1)
    b = _nb_eval(kid1[i], op, num, kid0, kid1)
    return (a + b) % P if op[i] == 1 else (a * b) % P


@njit(cache=True)
def nb_build_and_eval(depth, reps):
    n = 2 ** (depth + 1) - 1
    op, num, kid0, kid1 = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    root = _nb_expr(depth, 1, op, num, kid0, kid1, np.zeros(1, np.int64))
    s = 0
    for _ in range(reps):
        s += _nb_eval(root, op, num, kid0, kid1)
    return s


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depth", type=int, default=18)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--times", type=int, default=5, help="timed repetitions (median)")
    ns = ap.parse_args(argv)
    print(machine_line())
    g = GliaProgram("trees")
    if g.unsupported:
        print("trees.glia does not compile:", g.unsupported)
        return 1
    d, r = ns.depth, ns.reps
    rows = [(f"build a tree of {2 ** (d + 1) - 1} nodes", g.fn("build"), py_build, nb_build, (d,)),
            (f"build it and sum it {r} times", g.fn("build_and_sum"), py_build_and_sum, nb_build_and_sum, (d, r)),
            (f"build two, compare them {r} times", g.fn("build_and_compare"), py_build_and_compare,
             nb_build_and_compare, (d, r)),
            (f"build an expression tree, evaluate it {r} times", g.fn("build_and_eval"), py_build_and_eval,
             nb_build_and_eval, (d, r))]
    print(f"depth {d}, {r} traversals; median of {ns.times}")
    print("| work | Glia compiled | CPython | Numba by hand (arrays) | Glia speed-up over CPython | Glia / Numba |")
    print("|---|---:|---:|---:|---:|---:|")
    bad = side_by_side(rows, ns.times)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
