"""Rows of a list of lists read in a queue's order, with and without prefetching, against CSR Numba.

    python benchmarks/symbolic/prefetch.py [--sizes 2000 20000 200000 1000000] [--reps 7]

BFS (`programs/bfs.glia`'s `bfs_dist`), a walk over the rows of the same graphs in a shuffled order
(`programs/walks.glia`'s `in_order`, `for u in order`) and Dijkstra (`programs/dijkstra.glia`'s
`shortest`, which prefetches the row of the heap's new top after each pop), each compiled twice from
the same program: as the CPU backend generates it, and the same
module with its prefetch calls taken out (compiler/prefetch.py decides where they go; a prefetch
changes no result, so the two must agree). The hand-written Numba over CSR arrays (`nb_impl.bfs_dist`,
`nb_impl.dijkstra`) runs beside them. The variants take turns, `reps` rounds, after one untimed
call each; the table shows each one's median (and best) time and every result must agree. A
benchmark, not a test: it checks answers, never a speed.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import nb_impl as NB  # noqa: E402
import py_impl as PY  # noqa: E402
from run import GliaProgram, machine_line  # noqa: E402


def compiled(program: GliaProgram, root: str, prefetching: bool):
    """`root`'s function from a module of its own, as generated or with its prefetch calls removed."""
    from glia.compiler import backend_cpu

    lowered = backend_cpu.lower_program(program.program, root=root)
    if not prefetching:
        src = "".join(line for line in lowered.source.splitlines(keepends=True) if "al.prefetch_" not in line)
        assert src != lowered.source, f"{root}: nothing is prefetched"
        lowered = dataclasses.replace(lowered, source=src, key=hashlib.sha256(src.encode()).hexdigest()[:24])
    f = getattr(backend_cpu.load(lowered).module, "f_" + root)
    return lambda *args: f(*args, 1)


def race(variants: dict, reps: int) -> dict:
    """name -> (median, best) seconds of each (thunk, summary of its result), the thunks taking turns;
    the summaries must agree."""
    summaries = {name: summary(f()) for name, (f, summary) in variants.items()}
    if len(set(summaries.values())) != 1:
        raise SystemExit(f"results differ: {summaries}")
    times: dict = {name: [] for name in variants}
    for _ in range(reps):
        for name, (f, _) in variants.items():
            t = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - t)
    return {name: (statistics.median(ts), min(ts)) for name, ts in times.items()}


def ms(pair) -> str:
    return f"{pair[0] * 1e3:.2f} ms ({pair[1] * 1e3:.2f})"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000, 200000, 1000000])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--dijkstra", type=int, nargs=2, default=[200000, 1000000], metavar=("NODES", "EDGES"))
    a = ap.parse_args()
    bfs, walks = GliaProgram("bfs"), GliaProgram("walks")
    make, summary = bfs.fn("make_graph"), bfs.fn("summary")
    shuffled = walks.fn("shuffled")
    fns = {(root, p): compiled(prog, root, p) for prog, root in ((bfs, "bfs_dist"), (walks, "in_order"))
           for p in (True, False)}
    same = lambda x: x  # noqa: E731
    print(machine_line())
    print("| nodes | BFS, prefetching | BFS, not | Numba BFS (CSR) | prefetching / Numba | "
          "walk in a shuffled order, prefetching | not |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in a.sizes:
        adj = make(n, 5 * n, 12345)
        start, dst = NB.bfs_make_graph(n, 5 * n, 12345)
        order = shuffled(n, 7)
        b = race({"on": (lambda: fns["bfs_dist", True](adj, 0), summary),
                  "off": (lambda: fns["bfs_dist", False](adj, 0), summary),
                  "numba": (lambda: NB.bfs_dist(start, dst, 0), lambda d: PY.bfs_summary(d.tolist()))}, a.reps)
        w = race({"on": (lambda: fns["in_order", True](adj, order), same),
                  "off": (lambda: fns["in_order", False](adj, order), same)}, a.reps)
        print(f"| {n:,} | {ms(b['on'])} | {ms(b['off'])} | {ms(b['numba'])} | {b['on'][0] / b['numba'][0]:.2f} | "
              f"{ms(w['on'])} | {ms(w['off'])} |", flush=True)
    dij = GliaProgram("dijkstra")
    n, m = a.dijkstra
    adj = dij.fn("make_graph")(n, m, 12345)
    start, dst, wt = NB.dij_make_graph(n, m, 12345)
    on, off = compiled(dij, "shortest", True), compiled(dij, "shortest", False)
    summary = dij.fn("summary")
    d = race({"on": (lambda: on(adj, 0), summary), "off": (lambda: off(adj, 0), summary),
              "numba": (lambda: NB.dijkstra(start, dst, wt, 0), lambda d: PY.dij_summary(d.tolist()))}, a.reps)
    print(f"\nDijkstra, {n:,} nodes, {m:,} edges: prefetching {ms(d['on'])}, not {ms(d['off'])}, "
          f"Numba (CSR + array heap) {ms(d['numba'])}: prefetching / Numba {d['on'][0] / d['numba'][0]:.2f}")
    print(machine_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
