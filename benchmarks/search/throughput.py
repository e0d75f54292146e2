"""Candidates evaluated per second by the bottom-up engine, with no target to stop it.

    python benchmarks/search/throughput.py [--seconds 5]

Enumerates (a) the bit-vector grammar of a SyGuS PBE_BV problem with 10 examples, (b) the string
grammar of a SyGuS PBE_SLIA problem, (c) Glia's default integer-list library, each for the given
time, and prints candidates per second and example evaluations per second (candidates x examples).
A candidate is one program whose value vector was computed, kept or dropped as a duplicate. Not run
by CI.
"""
from __future__ import annotations

import argparse
import os
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


def rate(name: str, grammar, inputs, seconds: float) -> None:
    bu = BottomUp(grammar, inputs, Config(timeout=seconds))
    t0 = time.perf_counter()
    reason = bu.run(collect_only=True)
    dt = time.perf_counter() - t0
    print(f"{name:28s} {bu.candidates / dt:>12,.0f} candidates/s {bu.candidates * len(inputs) / dt:>14,.0f} "
          f"example evaluations/s  ({bu.candidates:,} in {dt:.1f} s, {bu.kept:,} kept, stopped: {reason})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ns = ap.parse_args()
    for name, text in (("bit-vectors (10 examples)", BV), ("strings (4 examples)", STRINGS)):
        src = Source(name, text)
        p = to_problem(read_sygus(src), src)
        rate(name, p.grammar, p.inputs, ns.seconds)
    params = (Var(0, "xs", "list[int]"),)
    inputs = [((3, 1, 4, 1, 5),), ((9, 2, 6),), ((),), ((5, 3, 5, 8, 9, 7),)]
    p = Problem("lists", params, "list[int]", inputs, [(0,)] * 4, default_grammar(params, "list[int]", inputs, []))
    rate("lists (4 examples)", p.grammar, p.inputs, ns.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
