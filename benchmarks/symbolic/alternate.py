"""Round-robin timing of one symbolic benchmark's kernel: Glia compiled, hand-written Numba and CPython
in turn, every round, in one process, so a change in the machine's load hits all three alike.

    python benchmarks/symbolic/alternate.py {dijkstra,bfs,sort,editdist} [ROUNDS]

Run from a checkout's root (it times that checkout's Glia; to compare two checkouts, run it in each,
one after the other, twice). Prints the median times and, per round, Glia / Numba and CPython / Glia:
the ratios to read on a shared machine. Inputs and kernels are run.py's (full sizes; `sort` is the
hand-written merge sort). A benchmark, not a test: it checks no speed.
"""
from __future__ import annotations

import os
import statistics
import sys
import time

import run as R  # this folder is on sys.path when the script runs


def kernels(name: str, G) -> dict:
    """The three thunks of benchmark `name`, on the same input (made once, outside the timing)."""
    if name == "sort":
        n, seed = R.FULL["sort"]
        xs_g, xs_p, xs_n = G.fn("make_ints")(n, seed), R.PY.make_ints(n, seed), R.NB.make_ints(n, seed)
        return {"glia": lambda: G.fn("merge_sort")(xs_g), "numba": lambda: R.NB.merge_sort(xs_n),
                "cpython": lambda: R.PY.merge_sort(xs_p)}
    if name == "editdist":
        n, seed = R.FULL["edit"]
        ed = G.fn("edit_distance")
        a_g, b_g = G.fn("make_string")(n, seed), G.fn("make_string")(n, seed + 1)
        a_p, b_p = R.PY.make_string(n, seed), R.PY.make_string(n, seed + 1)
        a_n, b_n = R.NB.make_codes(n, seed), R.NB.make_codes(n, seed + 1)
        return {"glia": lambda: ed(a_g, b_g), "numba": lambda: R.NB.edit_distance(a_n, b_n),
                "cpython": lambda: R.PY.edit_distance(a_p, b_p)}
    n, m, seed = R.FULL["dgraph" if name == "dijkstra" else "graph"]
    adj_g = G.fn("make_graph")(n, m, seed)
    if name == "dijkstra":
        adj_p, csr = R.PY.dij_make_graph(n, m, seed), R.NB.dij_make_graph(n, m, seed)
        return {"glia": lambda: G.fn("shortest")(adj_g, 0), "numba": lambda: R.NB.dijkstra(*csr, 0),
                "cpython": lambda: R.PY.dijkstra(adj_p, 0)}
    adj_p, csr = R.PY.bfs_make_graph(n, m, seed), R.NB.bfs_make_graph(n, m, seed)
    return {"glia": lambda: G.fn("bfs_dist")(adj_g, 0), "numba": lambda: R.NB.bfs_dist(csr[0], csr[1], 0),
            "cpython": lambda: R.PY.bfs_dist(adj_p, 0)}


def main(argv: list[str]) -> None:
    name, rounds = argv[0], int(argv[1]) if len(argv) > 1 else 5
    t0 = time.perf_counter()
    G = R.GliaProgram(name)
    print(f"{os.getcwd()}: {name}, {G.lines} generated lines, compiled or loaded in "
          f"{time.perf_counter() - t0:.1f} s; load average {os.getloadavg()[0]:.2f}")
    impls = kernels(name, G)
    impls["glia"](), impls["numba"]()  # warm-up: Numba compiles or loads at the first call
    times: dict[str, list[float]] = {k: [] for k in impls}
    for _ in range(rounds):
        for k, f in impls.items():
            t = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t)
    g_nb = [g / x for g, x in zip(times["glia"], times["numba"])]
    py_g = [p / g for g, p in zip(times["glia"], times["cpython"])]
    print("  medians: " + ", ".join(f"{k} {statistics.median(v) * 1e3:.0f} ms" for k, v in times.items()))
    print(f"  Glia / Numba per round {' '.join(f'{x:.2f}' for x in g_nb)}, median {statistics.median(g_nb):.2f}")
    print(f"  CPython / Glia per round {' '.join(f'{x:.2f}' for x in py_g)}, median {statistics.median(py_g):.2f}"
          f"; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
