"""Builds examples/data/trees.npz for tree_rnn.glia: random arithmetic expressions over the digits 0, 1,
2 with + and *, whose value modulo 3 is the label (y: int64 [N], 3 classes). Each expression is a binary
tree of depth at most 3 stored in heap order in 15 rows of 6 values (x: float32 [N, 15, 6]): row k is
the node whose children are rows 2k+1 and 2k+2; a leaf has a 1 in column 0 and its digit one-hot in
columns 1-3; an operator has + or * one-hot in columns 4-5; rows no node uses are zero. Trees of every
shape occur (a node below the root is a leaf with probability 0.4, and at depth 3 always), so the
programs that train on them follow a different recursion per shape.
Run: python3 examples/neural/make_tree_data.py"""
import os

import numpy as np

N, ROWS, DEPTH, LEAF = 1000, 15, 3, 0.4


def grow(rng, x, k, depth) -> int:
    """Write a random subtree at heap row k; returns its value modulo 3."""
    if depth == DEPTH or (depth > 0 and rng.random() < LEAF):
        d = int(rng.integers(3))
        x[k, 0], x[k, 1 + d] = 1.0, 1.0
        return d
    a, b = grow(rng, x, 2 * k + 1, depth + 1), grow(rng, x, 2 * k + 2, depth + 1)
    times = bool(rng.random() < 0.5)
    x[k, 5 if times else 4] = 1.0
    return (a * b if times else a + b) % 3


def main():
    rng = np.random.default_rng(0)
    x = np.zeros((N, ROWS, 6), np.float32)
    y = np.array([grow(rng, x[i], 0, 0) for i in range(N)], np.int64)
    shapes = {tuple(r[:, 0] + 2 * r[:, 4:].sum(axis=1)) for r in x}
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "trees.npz")
    np.savez_compressed(out, x=x, y=y)
    print(f"{out}: {N} trees of {len(shapes)} shapes, labels {np.bincount(y)}")


if __name__ == "__main__":
    main()
