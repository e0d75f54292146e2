"""Candidates evaluated per second by the bottom-up engine, with no target to stop it.

    python benchmarks/search/throughput.py [--seconds 5] [--rounds 1] [--against CHECKOUT]

Enumerates (a) the bit-vector grammar of a SyGuS PBE_BV problem with 10 examples, (b) a SyGuS LIA
grammar (unbounded Int: + - * ite and comparisons) with 10 examples, (c) Glia's default integer
library (checked 64-bit ints) for a hole with two int inputs and 10 examples, (d) the string
grammar of a SyGuS PBE_SLIA problem, (e) Glia's default integer-list library, each for the given
time, and prints candidates per second (wall clock, and per second of this process's CPU time, which
depends less on what else the machine runs) and example evaluations per second (candidates x
examples). A candidate is one program whose value vector was computed, kept or dropped as a
duplicate. Each grammar is first searched for 0.2 s untimed, so that loading the precompiled kernels
is not counted. With `--against CHECKOUT` (another checkout of Glia, e.g. an older commit made with
`git worktree add` or `git archive`), the same measurements run on that checkout's engine right
after each of ours, each in a fresh process of its own (so neither inherits the other's memory), and
the table shows both and the ratio. Not run by CI.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from glia.compiler.diagnostics import Source  # noqa: E402
from glia.compiler.sygus import read_sygus, to_problem  # noqa: E402
from glia.runtime.search import Config, Problem, Var  # noqa: E402
from glia.runtime.search.bottomup import BottomUp  # noqa: E402
from glia.runtime.search.library import default_grammar  # noqa: E402

BV = """
(define-fun ehad ((x (_ BitVec 64))) (_ BitVec 64) (bvlshr x #x0000000000000001))
(define-fun arba ((x (_ BitVec 64))) (_ BitVec 64) (bvlshr x #x0000000000000004))
(define-fun smol ((x (_ BitVec 64))) (_ BitVec 64) (bvshl x #x0000000000000001))
(synth-fun f ((x (_ BitVec 64))) (_ BitVec 64)
    ((Start (_ BitVec 64)))
    ((Start (_ BitVec 64) (#x0000000000000000 #x0000000000000001 x (bvnot Start) (smol Start) (ehad Start)
                           (arba Start) (bvand Start Start) (bvor Start Start) (bvxor Start Start)
                           (bvadd Start Start)))))
""" + "".join(f"(constraint (= (f #x{(0x9e3779b97f4a7c15 * (i + 1)) % 2**64:016x}) #x0000000000000000))\n"
              for i in range(10))

LIA = """
(synth-fun f ((x Int) (y Int)) Int
  ((Start Int (x y 0 1 2 (+ Start Start) (- Start Start) (* Start Start) (ite B Start Start)))
   (B Bool ((< Start Start) (<= Start Start) (= Start Start) (and B B) (or B B) (not B)))))
""" + "".join(f"(constraint (= (f {(37 * i) % 41 - 20} {(53 * i) % 29 - 14}) 0))\n" for i in range(10))
INT_INPUTS = [((37 * i) % 41 - 20, (53 * i) % 29 - 14) for i in range(10)]

STRINGS = """
(synth-fun f ((s String)) String
  ((Start String (ntString))
   (ntString String (s " " "." "-" (str.++ ntString ntString) (str.replace ntString ntString ntString)
                     (str.at ntString ntInt) (int.to.str ntInt) (str.substr ntString ntInt ntInt)))
   (ntInt Int (0 1 2 (+ ntInt ntInt) (- ntInt ntInt) (str.len ntString) (str.indexof ntString ntString ntInt)))))
(constraint (= (f "Ada Lovelace") "x"))
(constraint (= (f "Alan M. Turing") "x"))
(constraint (= (f "Grace-Brewster Hopper") "x"))
(constraint (= (f "Barbara Liskov") "x"))
"""


def rate(grammar, inputs, seconds: float) -> dict:
    BottomUp(grammar, inputs, Config(timeout=0.2)).run(collect_only=True)  # load the kernels first
    bu = BottomUp(grammar, inputs, Config(timeout=seconds, max_candidates=10 ** 12))  # time (or memory) ends it
    t0, c0 = time.perf_counter(), time.process_time()
    reason = bu.run(collect_only=True)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"candidates": bu.candidates, "kept": bu.kept, "seconds": dt, "cpu": cpu, "examples": len(inputs),
            "reason": reason}


def _sygus(name: str, text: str):
    src = Source(name, text + "(check-synth)\n")
    p = to_problem(read_sygus(src), src)
    return p.grammar, p.inputs


def grammars():
    """(name, grammar, inputs) of the five workloads."""
    for name, text in (("bit-vectors (10 examples)", BV), ("SyGuS LIA (10 examples)", LIA)):
        yield name, *_sygus(name, text)
    params = (Var(0, "x", "int"), Var(1, "y", "int"))
    yield "Glia ints (10 examples)", default_grammar(params, "int", INT_INPUTS, [0] * 10), INT_INPUTS
    yield "strings (4 examples)", *_sygus("strings", STRINGS)
    params = (Var(0, "xs", "list[int]"),)
    inputs = [((3, 1, 4, 1, 5),), ((9, 2, 6),), ((),), ((5, 3, 5, 8, 9, 7),)]
    p = Problem("lists", params, "list[int]", inputs, [(0,)] * 4, default_grammar(params, "list[int]", inputs, []))
    yield "lists (4 examples)", p.grammar, p.inputs


def show(name: str, r: dict, who: str = "") -> None:
    print(f"{name:26s} {who:8s} {r['candidates'] / r['seconds']:>12,.0f} candidates/s "
          f"{r['candidates'] / max(r['cpu'], 1e-9):>12,.0f} per CPU s "
          f"{r['candidates'] * r['examples'] / r['seconds']:>14,.0f} example evaluations/s  "
          f"({r['candidates']:,} in {r['seconds']:.1f} s, {r['kept']:,} kept, stopped: {r['reason']})", flush=True)


def measure_in(checkout: str, name: str, seconds: float) -> dict | None:
    """One grammar's measurement (this file's workloads) on a checkout's engine, in a fresh process
    whose imports find that checkout first (this one is on the path already, so not put first)."""
    here = os.path.abspath(__file__)
    code = (f"import sys, json; sys.path.insert(0, {checkout!r}); sys.path.append({ROOT!r}); sys.argv = ['x']\n"
            f"import importlib.util as u; s = u.spec_from_file_location('t', {here!r}); t = u.module_from_spec(s)\n"
            f"s.loader.exec_module(t)\n"
            f"g = {{n: (gr, i) for n, gr, i in t.grammars()}}[{name!r}]\n"
            f"print(json.dumps(t.rate(*g, {seconds!r})))")
    env = {**os.environ, "PYTHONPATH": checkout}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=checkout)
    if out.returncode != 0:
        print(out.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rounds", type=int, default=1, help="measure each grammar this many times (alternating)")
    ap.add_argument("--against", metavar="CHECKOUT", help="another checkout of Glia to measure side by side")
    ns = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} at the start", flush=True)
    for name, grammar, inputs in grammars():
        for _ in range(ns.rounds):
            ours = measure_in(ROOT, name, ns.seconds) if ns.against else rate(grammar, inputs, ns.seconds)
            if ours is None:
                return 1
            show(name, ours, "this")
            if ns.against:
                theirs = measure_in(os.path.abspath(ns.against), name, ns.seconds)
                if theirs is not None:
                    show(name, theirs, "against")
                    r = (ours["candidates"] / ours["seconds"]) / max(1e-9, theirs["candidates"] / theirs["seconds"])
                    c = (ours["candidates"] / ours["cpu"]) / max(1e-9, theirs["candidates"] / theirs["cpu"])
                    print(f"{name:26s} ratio    {r:.2f}x (wall clock), {c:.2f}x (per CPU second)", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
