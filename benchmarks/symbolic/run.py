"""Symbolic benchmarks for the compiled CPU backend: Glia compiled vs CPython vs hand-written Numba.

    python benchmarks/symbolic/run.py [--quick] [--only NAME ...] [--reps N] [--py-reps N]
                                      [--no-latency] [--full-cold]

For each benchmark the same input (made by the same seeded LCG in all) goes through the same
algorithm in each implementation, side by side in one run:
- Glia: the program in programs/ is checked; each function the benchmark calls is lowered by the
  CPU backend as the root of a module (as `glia run` lowers `main`: what it calls at one place is
  inlined) and loaded (compiled, or loaded from the cache) before it is timed; then the generated
  function (`f_<name>`, the last argument being the call depth, 1 as `main` gets it) is called
  directly, so the times below are the compiled kernels' and exclude compilation. The input is made
  by the program's own generator.
- CPython: py_impl.py, the same algorithm in plain Python (heapq, list.sort where Python has them).
- Numba by hand: nb_impl.py, as a Numba expert writes it (CSR numpy graphs, array heap, np.sort,
  2-D arrays for tables).
- Numba on typed List: nb_impl.py's tl_* functions, hand-written Numba over the containers the
  Glia backend uses (numba.typed.List), to separate the cost of the data structure from the code.
Every implementation except CPython is called once untimed (warm-up), then each is timed a few times
and the table shows the median. Every result goes through a summary (a line of text) and all must
agree; then the Glia program's `main` runs through the driver with `backend="cpu"` and must print
the expected lines (a fallback to the interpreter is reported with the note the driver printed).
Each benchmark runs in a process of its own: if one dies (a crash in compiled code, e.g. loading a
cached module), the run says so and retries it once with an empty GLIA_CACHE_DIR.

Finally, whole-process times of `glia run` for programs/latency100.glia (106 lines): cold (an empty
GLIA_CACHE_DIR) and warm (the same folder again); `--full-cold` also empties Numba's cache for the
runtime kernels (NUMBA_CACHE_DIR). Uses `python -m glia run --backend cpu` when the CLI has it,
otherwise glia_run_cpu.py (the same driver call).

This is a benchmark, not a test: it checks that the results agree, never a speed.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PROGRAMS = HERE / "programs"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

import nb_impl as NB  # noqa: E402
import py_impl as PY  # noqa: E402

# ---- sizes ---------------------------------------------------------------------------------------
FULL = dict(graph=(200_000, 1_000_000, 12345), dgraph=(200_000, 1_000_000, 12345), sort=(1_000_000, 12345),
            edit=(3000, 12345), words=(1_000_000, 20_000, 12345), rec=(30, 3, 7, 12), lcs=(3000, 12345),
            strings=(200_000, 1_000_000, 12345))
QUICK = dict(graph=(20_000, 100_000, 12345), dgraph=(20_000, 100_000, 12345), sort=(100_000, 12345),
             edit=(500, 12345), words=(100_000, 5_000, 12345), rec=(22, 2, 50, 8), lcs=(500, 12345),
             strings=(20_000, 100_000, 12345))


def fmt_s(t: float) -> str:
    if t >= 1:
        return f"{t:.2f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.1f} ms"
    return f"{t * 1e6:.0f} us"


def timed(fn, reps: int):
    """(median seconds, last result) of `reps` calls of fn()."""
    times, out = [], None
    for _ in range(reps):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def side_by_side(rows, reps: int) -> int:
    """Print a Markdown row per (label, Glia function, CPython function, hand-written Numba function,
    arguments) of `rows`: each timed (median of `reps`; CPython of half as many) after one untimed
    call of the Glia and Numba functions, and the ratios. Returns the number of rows whose three
    results differ (each said)."""
    bad = 0
    for label, gf, pf, nf, args in rows:
        gf(*args), nf(*args)  # warm-up (compile or load)
        tg, rg = timed(lambda: gf(*args), reps)
        tp, rp = timed(lambda: pf(*args), max(1, reps // 2))
        tn, rn = timed(lambda: nf(*args), reps)
        if not rg == rp == rn:
            print(f"{label}: results differ: glia {rg}, cpython {rp}, numba {rn}")
            bad += 1
        print(f"| {label} | {fmt_s(tg)} | {fmt_s(tp)} | {fmt_s(tn)} | {tp / tg:.1f}x | {tg / tn:.2f} |")
    return bad


class CaptureFd1:
    """Capture what is written to file descriptor 1 (compiled code prints below Python's sys.stdout)."""

    def __enter__(self):
        sys.stdout.flush()
        self.tmp = tempfile.TemporaryFile(mode="w+b")
        self.saved = os.dup(1)
        os.dup2(self.tmp.fileno(), 1)
        return self

    def __exit__(self, *exc):
        sys.stdout.flush()
        try:
            import ctypes
            ctypes.CDLL(None).fflush(None)  # C-level stdio buffers, if compiled code used them
        except Exception:
            pass
        os.dup2(self.saved, 1)
        os.close(self.saved)
        self.tmp.seek(0)
        self.text = self.tmp.read().decode("utf-8", "replace")
        self.tmp.close()
        return False


# ---- Glia: load a program's compiled module -------------------------------------------------------
class GliaProgram:
    """A program's functions, each compiled as the root of a module of its own (`lower_program(root=
    name)`), as `glia run` compiles `main`: a function its root calls at one place is inlined into it
    (a heap's push and pop into Dijkstra's loop), which a module with every function callable from
    Python would not do."""

    def __init__(self, name: str):
        from glia.compiler.driver import check_source, read_source

        self.name = name
        self.path = PROGRAMS / f"{name}.glia"
        self.program = check_source(read_source(str(self.path)))
        self.unsupported = None
        self.modules: dict[str, object] = {}
        self.lines = 0
        self.module("main")  # what run_main compiles: a construct the backend refuses shows here

    def module(self, root: str):
        from glia.compiler import backend_cpu
        from glia.compiler.lower_numba import Unsupported

        if root not in self.modules:
            try:
                lowered = backend_cpu.lower_program(self.program, root=root)
            except Unsupported as u:
                self.unsupported = f"{u.what} (line {u.span.line})"
                return None
            self.lines += len(lowered.source.splitlines())
            self.modules[root] = backend_cpu.load(lowered).module
        return self.modules[root]

    def fn(self, name: str):
        f = getattr(self.module(name), "f_" + name)
        return lambda *args: f(*args, 1)  # the call depth, as main's callees get it

    def run_main(self, argv: list[str]) -> tuple[str, list[str]]:
        """Run main through the driver (backend cpu): (its stdout, the notes it printed)."""
        from glia.compiler.driver import run_program

        notes: list[str] = []
        with CaptureFd1() as cap:
            run_program(self.program, argv, backend="cpu", notes=notes.append)
        return cap.text, notes


# ---- the benchmarks ------------------------------------------------------------------------------
# Each kernel: (label, glia thunk, cpython thunk, numba thunk); each thunk returns the summary line
# of one timed call's result, computed outside the timing.

class Row:
    def __init__(self, bench, label, t_glia, t_py, t_nb, t_tl=None, py_note="", nb_note=""):
        self.bench, self.label = bench, label
        self.t_glia, self.t_py, self.t_nb, self.t_tl = t_glia, t_py, t_nb, t_tl
        self.py_note, self.nb_note = py_note, nb_note


def run_kernel(bench, label, g, p, n, reps, py_reps, rows, problems, tl=None, py_note="", nb_note=""):
    """g, p, n, tl: (kernel thunk, summary of its result) for Glia, CPython, Numba (arrays) and Numba
    on typed Lists (optional). Times each, checks the summaries agree; returns CPython's summary."""
    impls = [("glia", g, reps), ("cpython", p, py_reps), ("numba", n, reps)] + ([("numba-typed-list", tl, reps)] if tl else [])
    for name, (thunk, _), _ in impls:
        if name != "cpython":
            thunk()  # warm-up: Numba compiles (or loads from its cache) at the first call of each signature
    times, summaries = {}, {}
    for name, (thunk, summarise), k in impls:
        times[name], result = timed(thunk, k)
        summaries[name] = summarise(result)
        del result
    if len(set(summaries.values())) != 1:
        problems.append(f"{bench}/{label}: results differ:\n" + "\n".join(f"  {k:<16} {v}" for k, v in summaries.items()))
    rows.append(Row(bench, label, times["glia"], times["cpython"], times["numba"], times.get("numba-typed-list"),
                    py_note, nb_note))
    print(f"  {label:<30} " + "  ".join(f"{k} {fmt_s(t)}" for k, t in times.items()) + f"   {summaries['cpython']}",
          flush=True)
    return summaries["cpython"]


def bench_bfs(G, S, reps, py_reps, rows, problems):
    n, m, seed = S["graph"]
    adj_g = G.fn("make_graph")(n, m, seed)
    adj_p = PY.bfs_make_graph(n, m, seed)
    csr = NB.bfs_make_graph(n, m, seed)
    adj_tl = NB.tl_bfs_make_graph(n, m, seed)
    bfs_g, summ_g = G.fn("bfs_dist"), G.fn("summary")
    out = run_kernel("bfs", f"bfs {n // 1000}k nodes {m // 1000}k edges",
                     (lambda: bfs_g(adj_g, 0), summ_g),
                     (lambda: PY.bfs_dist(adj_p, 0), PY.bfs_summary),
                     (lambda: NB.bfs_dist(csr[0], csr[1], 0), lambda d: PY.bfs_summary(d.tolist())),
                     reps, py_reps, rows, problems, nb_note="CSR arrays",
                     tl=(lambda: NB.tl_bfs_dist(adj_tl, 0), lambda d: PY.bfs_summary(list(d))))
    return [str(n), str(m), str(seed)], out + "\n"


def bench_dijkstra(G, S, reps, py_reps, rows, problems):
    n, m, seed = S["dgraph"]
    adj_g = G.fn("make_graph")(n, m, seed)
    adj_p = PY.dij_make_graph(n, m, seed)
    csr = NB.dij_make_graph(n, m, seed)
    adj_tl = NB.tl_dij_make_graph(n, m, seed)
    dij_g, summ_g = G.fn("shortest"), G.fn("summary")
    out = run_kernel("dijkstra", f"dijkstra {n // 1000}k nodes {m // 1000}k edges",
                     (lambda: dij_g(adj_g, 0), summ_g),
                     (lambda: PY.dijkstra(adj_p, 0), PY.dij_summary),
                     (lambda: NB.dijkstra(csr[0], csr[1], csr[2], 0), lambda d: PY.dij_summary(d.tolist())),
                     reps, py_reps, rows, problems, py_note="heapq (C)", nb_note="CSR + array heap",
                     tl=(lambda: NB.tl_dijkstra(adj_tl, 0), lambda d: PY.dij_summary(list(d))))
    return [str(n), str(m), str(seed)], out + "\n"


def bench_sort(G, S, reps, py_reps, rows, problems):
    n, seed = S["sort"]
    xs_g = G.fn("make_ints")(n, seed)
    xs_p = PY.make_ints(n, seed)
    xs_n = NB.make_ints(n, seed)
    xs_tl = NB.tl_make_ints(n, seed)
    summ_g = G.fn("summary")
    nb_summ = lambda a: PY.sort_summary(a.tolist())  # noqa: E731
    o1 = run_kernel("sort", f"sort {n // 1000}k ints (builtin)",
                    (lambda: G.fn("builtin_sort")(xs_g), summ_g),
                    (lambda: PY.builtin_sort(xs_p), PY.sort_summary),
                    (lambda: NB.builtin_sort(xs_n), nb_summ),
                    reps, py_reps, rows, problems, py_note="list.sort (C timsort)", nb_note="np.sort",
                    tl=(lambda: NB.tl_builtin_sort(xs_tl), lambda a: PY.sort_summary(list(a))))
    o2 = run_kernel("sort", f"merge sort {n // 1000}k ints",
                    (lambda: G.fn("merge_sort")(xs_g), summ_g),
                    (lambda: PY.merge_sort(xs_p), PY.sort_summary),
                    (lambda: NB.merge_sort(xs_n), nb_summ),
                    reps, py_reps, rows, problems, nb_note="numpy arrays",
                    tl=(lambda: NB.tl_merge_sort(xs_tl), lambda a: PY.sort_summary(list(a))))
    return [str(n), str(seed)], f"builtin {o1}\nmerge {o2}\n"


def bench_editdist(G, S, reps, py_reps, rows, problems):
    n, seed = S["edit"]
    a_g, b_g = G.fn("make_string")(n, seed), G.fn("make_string")(n, seed + 1)
    a_p, b_p = PY.make_string(n, seed), PY.make_string(n, seed + 1)
    a_n, b_n = NB.make_codes(n, seed), NB.make_codes(n, seed + 1)
    if not (a_g == a_p == NB.codes_to_str(a_n) and b_g == b_p == NB.codes_to_str(b_n)):
        problems.append("editdist: the generated strings differ")
    f = G.fn("edit_distance")
    out = run_kernel("editdist", f"edit distance {n}x{n}",
                     (lambda: f(a_g, b_g), lambda d: f"distance={d}"),
                     (lambda: PY.edit_distance(a_p, b_p), lambda d: f"distance={d}"),
                     (lambda: NB.edit_distance(a_n, b_n), lambda d: f"distance={d}"),
                     reps, py_reps, rows, problems, nb_note="uint8 arrays",
                     tl=(lambda: NB.tl_edit_distance(a_p, b_p), lambda d: f"distance={d}"))
    return [str(n), str(seed)], out + "\n"


def bench_lcs(G, S, reps, py_reps, rows, problems):
    n, seed = S["lcs"]
    a_g, b_g = G.fn("make_seq")(n, seed), G.fn("make_seq")(n, seed + 1)
    a_p, b_p = PY.make_seq(n, seed), PY.make_seq(n, seed + 1)
    if not (a_g.to_list() == a_p and b_g.to_list() == b_p):
        problems.append("lcs: the generated sequences differ")
    a_n, b_n = np.array(a_p, np.int64), np.array(b_p, np.int64)
    a_tl, b_tl = NB.List(a_p), NB.List(b_p)
    f = G.fn("lcs")
    out = run_kernel("lcs", f"LCS table {n}x{n}",
                     (lambda: f(a_g, b_g), lambda d: f"lcs={d}"),
                     (lambda: PY.lcs(a_p, b_p), lambda d: f"lcs={d}"),
                     (lambda: NB.lcs(a_n, b_n), lambda d: f"lcs={d}"),
                     reps, py_reps, rows, problems, nb_note="2-D array",
                     tl=(lambda: NB.tl_lcs(a_tl, b_tl), lambda d: f"lcs={d}"))
    return [str(n), str(seed)], out + "\n"


def bench_wordcount(G, S, reps, py_reps, rows, problems):
    n, v, seed = S["words"]
    text_g = G.fn("make_text")(n, v, seed)
    text_p = PY.make_text(n, v, seed)
    if text_g != text_p:
        problems.append("wordcount: the generated texts differ")
    f, summ_g = G.fn("word_counts"), G.fn("summary")
    out = run_kernel("wordcount", f"word count {n // 1000}k words",
                     (lambda: f(text_g), summ_g),
                     (lambda: PY.word_counts(text_p), PY.wc_summary),
                     (lambda: NB.word_counts(text_p), lambda d: PY.wc_summary(dict(d))),
                     reps, py_reps, rows, problems, nb_note="typed Dict[str, int]: Glia's containers too")
    return [str(n), str(v), str(seed)], out + "\n"


def bench_recursion(G, S, reps, py_reps, rows, problems):
    fn, am, an, qn = S["rec"]
    same = lambda r: str(r)  # noqa: E731
    o1 = run_kernel("recursion", f"fib({fn})", (lambda: G.fn("fib")(fn), same),
                    (lambda: PY.fib(fn), same), (lambda: NB.fib(fn), same), reps, py_reps, rows, problems)
    o2 = run_kernel("recursion", f"ackermann({am}, {an})", (lambda: G.fn("ack")(am, an), same),
                    (lambda: PY.ack(am, an), same), (lambda: NB.ack(am, an), same), reps, py_reps, rows, problems)
    o3 = run_kernel("recursion", f"n-queens({qn})", (lambda: G.fn("queens")(qn), same),
                    (lambda: PY.queens(qn), same), (lambda: NB.queens(qn), same), reps, py_reps, rows, problems)
    return [str(fn), str(am), str(an), str(qn)], f"fib={o1}\nack={o2}\nqueens={o3}\n"


def bench_strings(G, S, reps, py_reps, rows, problems):
    pieces, n, seed = S["strings"]
    o1 = run_kernel("strings", f"string built by += ({pieces // 1000}k pieces)",
                    (lambda: G.fn("build")(pieces), PY.build_summary),
                    (lambda: PY.build(pieces), PY.build_summary),
                    (lambda: NB.build(pieces), PY.build_summary),
                    reps, py_reps, rows, problems, nb_note="parts, one join")
    xs_g, xs_p, xs_n = G.fn("make_ints")(n, seed), PY.make_ints(n, seed), NB.make_ints(n, seed)
    o2 = run_kernel("strings", f"sorted(key=) {n // 1000}k ints",
                    (lambda: G.fn("by_key")(xs_g), G.fn("key_summary")),
                    (lambda: PY.by_key(xs_p), PY.key_summary),
                    (lambda: NB.by_key(xs_n), lambda a: PY.key_summary(a.tolist())),
                    reps, py_reps, rows, problems, py_note="sorted (C timsort)", nb_note="stable argsort")
    return [str(pieces), str(n), str(seed)], f"build {o1}\nbykey {o2}\n"


BENCHES = {"bfs": bench_bfs, "dijkstra": bench_dijkstra, "sort": bench_sort, "editdist": bench_editdist, "lcs": bench_lcs,
           "wordcount": bench_wordcount, "recursion": bench_recursion, "strings": bench_strings}


# ---- whole-process latency -----------------------------------------------------------------------
def cli_has_cpu() -> bool:
    r = subprocess.run([sys.executable, "-m", "glia", "run", "--help"], cwd=ROOT, capture_output=True, text=True)
    return "cpu" in r.stdout


def run_cmd(path: Path) -> list[str]:
    if cli_has_cpu():
        return [sys.executable, "-m", "glia", "run", "--backend", "cpu", str(path)]
    return [sys.executable, str(HERE / "glia_run_cpu.py"), str(path)]


def whole_process(cmd, env) -> tuple[float, str, str]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr}")
    return dt, r.stdout, r.stderr


def latency(full_cold: bool, warm_reps: int = 3):
    path = PROGRAMS / "latency100.glia"
    cmd = run_cmd(path)
    print(f"\nWhole-process `glia run` of {path.relative_to(ROOT)} ({len(path.read_text().splitlines())} lines): "
          f"{' '.join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))}", flush=True)
    out = []
    with tempfile.TemporaryDirectory(prefix="glia-bench-cache-") as cache:
        env = dict(os.environ, GLIA_CACHE_DIR=cache)
        if full_cold:
            env["NUMBA_CACHE_DIR"] = os.path.join(cache, "numba")
        t_cold, so, se = whole_process(cmd, env)
        warm = [whole_process(cmd, env) for _ in range(warm_reps)]
        t_warm = statistics.median(w[0] for w in warm)
        expect = so
        for w in warm:
            if w[1] != expect:
                print("  warm output differs from cold output!")
        interp_cmd = [sys.executable, "-m", "glia", "run", "--backend", "interp", str(path)]
        t_interp = statistics.median(whole_process(interp_cmd, env)[0] for _ in range(warm_reps))
        t_python = statistics.median(whole_process([sys.executable, "-c", "import numba"], env)[0]
                                     for _ in range(warm_reps))
        notes = [ln for ln in (se + "".join(w[2] for w in warm)).splitlines() if "note" in ln]
        label = "cold (empty GLIA_CACHE_DIR and NUMBA_CACHE_DIR)" if full_cold else \
            "cold (empty GLIA_CACHE_DIR; runtime kernels already in Numba's cache)"
        out = [(label, t_cold), (f"warm (same cache, median of {warm_reps})", t_warm),
               (f"interpreter, `--backend interp` (median of {warm_reps})", t_interp),
               (f"for scale: `python -c 'import numba'` (median of {warm_reps})", t_python)]
    for k, v in out:
        print(f"  {k:<66} {v:6.2f} s")
    for n in notes:
        print("  " + n)
    return out, notes


# ---- main ----------------------------------------------------------------------------------------
def machine_line() -> str:
    import numba

    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    return (f"{platform.machine()} {os.cpu_count()} cores ({platform.processor() or platform.system()}), "
            f"Python {platform.python_version()}, numba {numba.__version__}, numpy {np.__version__}, "
            f"load average {load[0]:.2f}")


def child(name: str, S, ns) -> int:
    """One benchmark, in a process of its own (a crash in compiled code ends only this one)."""
    rows: list[Row] = []
    problems: list[str] = []
    fallbacks: list[str] = []
    print(f"[{name}]", flush=True)
    t0 = time.perf_counter()
    G = GliaProgram(name)
    if G.unsupported is not None:
        fallbacks.append(f"{name}.glia: the CPU backend cannot compile {G.unsupported}")
        print(f"  not compiled: the CPU backend cannot compile {G.unsupported}", flush=True)
    else:
        print(f"  Glia: main compiled or loaded ({G.lines} generated lines) in {time.perf_counter() - t0:.1f} s", flush=True)
        argv_main, expected = BENCHES[name](G, S, ns.reps, ns.py_reps, rows, problems)
        text, notes = G.run_main(argv_main)
        for n in notes:
            fallbacks.append(f"{name}.glia: {n}")
            print("  " + n, flush=True)
        if text != expected:
            problems.append(f"{name}: `glia run` printed\n{text}expected\n{expected}")
        else:
            print("  main (backend cpu, through the driver) printed the expected lines", flush=True)
    with open(ns.child_out, "w") as f:
        json.dump({"rows": [r.__dict__ for r in rows], "problems": problems, "fallbacks": fallbacks}, f)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small inputs (a smoke run)")
    ap.add_argument("--only", nargs="*", choices=sorted(BENCHES), help="run only these benchmarks")
    ap.add_argument("--reps", type=int, default=3, help="timed repetitions for Glia and Numba (median)")
    ap.add_argument("--py-reps", type=int, default=3, help="timed repetitions for CPython (median)")
    ap.add_argument("--no-latency", action="store_true", help="skip the cold/warm `glia run` timings")
    ap.add_argument("--full-cold", action="store_true", help="cold run also without Numba's runtime cache")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--child-out", help=argparse.SUPPRESS)
    ns = ap.parse_args(argv)
    S = QUICK if ns.quick else FULL
    if ns.child:
        return child(ns.child, S, ns)

    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  {machine_line()}")
    print(f"cache: {os.environ.get('GLIA_CACHE_DIR', '~/.cache/glia (default)')}; "
          f"Glia/Numba reps {ns.reps}, CPython reps {ns.py_reps}, median\n", flush=True)
    rows: list[Row] = []
    problems: list[str] = []
    fallbacks: list[str] = []
    crashes: list[str] = []
    flags = (["--quick"] if ns.quick else []) + ["--reps", str(ns.reps), "--py-reps", str(ns.py_reps)]
    for name in ns.only or list(BENCHES):
        with tempfile.TemporaryDirectory(prefix="glia-bench-") as tmp:
            out = os.path.join(tmp, "out.json")
            cmd = [sys.executable, str(Path(__file__).resolve()), "--child", name, "--child-out", out] + flags
            r = subprocess.run(cmd)
            if r.returncode != 0 or not os.path.exists(out):
                crashes.append(f"{name}: the benchmark process ended with status {r.returncode}; "
                               "retried with an empty GLIA_CACHE_DIR (compiling afresh)")
                print(f"  ! ended with status {r.returncode}; again with an empty GLIA_CACHE_DIR", flush=True)
                env = dict(os.environ, GLIA_CACHE_DIR=os.path.join(tmp, "cache"))
                r = subprocess.run(cmd, env=env)
                if r.returncode != 0 or not os.path.exists(out):
                    crashes.append(f"{name}: failed again with status {r.returncode}")
                    continue
            with open(out) as f:
                res = json.load(f)
        rows += [Row(**d) for d in res["rows"]]
        problems += res["problems"]
        fallbacks += res["fallbacks"]

    print("\n| benchmark | Glia compiled | CPython | Numba by hand | Numba, typed List | Glia speed-up over CPython "
          "| Glia / Numba | Glia / Numba typed List |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        py = fmt_s(r.t_py) + (f" ({r.py_note})" if r.py_note else "")
        nb = fmt_s(r.t_nb) + (f" ({r.nb_note})" if r.nb_note else "")
        tl = fmt_s(r.t_tl) if r.t_tl else "-"
        tlr = f"{r.t_glia / r.t_tl:.2f}" if r.t_tl else "-"
        print(f"| {r.label} | {fmt_s(r.t_glia)} | {py} | {nb} | {tl} | {r.t_py / r.t_glia:.2f}x | "
              f"{r.t_glia / r.t_nb:.1f} | {tlr} |")
    if not ns.no_latency:
        latency(ns.full_cold)
    print(f"\nfinished {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average "
          f"{os.getloadavg()[0]:.2f}")
    if fallbacks:
        print("\nran in the interpreter or not compiled:\n  " + "\n  ".join(fallbacks))
    if crashes:
        print("\ncrashes:\n  " + "\n  ".join(crashes))
    if problems:
        print("\nPROBLEMS:\n" + "\n".join(problems))
    return 1 if problems or crashes or fallbacks else 0


if __name__ == "__main__":
    sys.exit(main())
