"""Candidate evaluations per second of bottom-up search on a GPU vs the CPU engine, side by side.

Enumerates a SyGuS bit-vector grammar (binary operators the GPU evaluates, runtime/search/
cuda_eval.py, and unary helpers the CPU evaluates) with no target to stop it, for --seconds on each
device, at several numbers of examples: the GPU pays off when a block (pairs of bank rows x examples)
is large. Prints candidates/s and example evaluations/s (candidates x examples) per device and the
GPU/CPU ratio. A candidate is one program whose value vector was computed, kept or dropped as a
duplicate; both devices make the same decisions, so they enumerate the same candidates in the same
order. Not run by CI; needs a CUDA GPU (GLIA_CUDASIM=1 runs it on the simulator, meaninglessly slowly:
use --examples 4 --seconds 2 there).

    python3 benchmarks/gpu/bench_search.py [--seconds 10] [--examples 10,100,1000]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, ROOT)

GRAMMAR = """
(define-fun ehad ((x (_ BitVec 64))) (_ BitVec 64) (bvlshr x #x0000000000000001))
(define-fun smol ((x (_ BitVec 64))) (_ BitVec 64) (bvshl x #x0000000000000001))
(synth-fun f ((x (_ BitVec 64)) (y (_ BitVec 64))) (_ BitVec 64)
    ((Start (_ BitVec 64)))
    ((Start (_ BitVec 64) (#x0000000000000000 #x0000000000000001 x y (bvnot Start) (smol Start) (ehad Start)
                           (bvand Start Start) (bvor Start Start) (bvxor Start Start) (bvadd Start Start)
                           (bvsub Start Start) (bvmul Start Start) (bvlshr Start Start)))))
"""


def problem(n_examples: int):
    from glia.compiler.diagnostics import Source
    from glia.compiler.sygus import read_sygus, to_problem

    def h(i, k):
        return (0x9E3779B97F4A7C15 * (2 * i + k + 1)) % 2 ** 64

    text = GRAMMAR + "".join(f"(constraint (= (f #x{h(i, 0):016x} #x{h(i, 1):016x}) #x0000000000000000))\n"
                             for i in range(n_examples)) + "(check-synth)\n"
    src = Source("bench.sl", text)
    return to_problem(read_sygus(src), src)


def rate(p, device: str, seconds: float):
    from glia.runtime.search import Config
    from glia.runtime.search.bottomup import BottomUp

    bu = BottomUp(p.grammar, p.inputs, Config(timeout=seconds, max_bank=400_000_000, device=device))
    t0 = time.perf_counter()
    reason = bu.run(collect_only=True)
    dt = time.perf_counter() - t0
    return bu.candidates / dt, bu.kept, reason


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--examples", default="10,100,1000")
    ns = ap.parse_args()
    from common import cuda_device  # benchmarks/gpu/common.py, beside this script

    device = cuda_device()
    if device is None:
        return 2
    print(f"# {time.strftime('%Y-%m-%d')} {platform.node()} ({platform.processor() or platform.machine()}), "
          f"{device.describe()}{', simulator: figures are meaningless' if device.simulator else ''}")
    print(f"{'examples':>8s} {'device':6s} {'candidates/s':>14s} {'evaluations/s':>16s} {'kept':>10s} "
          f"{'gpu/cpu':>8s}  stopped")
    for n in [int(k) for k in ns.examples.split(",") if k]:
        p = problem(n)
        rates = {}
        for dev in ("cpu", "cuda"):
            r, kept, reason = rate(p, dev, ns.seconds)
            rates[dev] = r
            ratio = f"{r / rates['cpu']:7.2f}x" if dev == "cuda" and rates["cpu"] else f"{'-':>8s}"
            print(f"{n:8d} {dev:6s} {r:14,.0f} {r * n:16,.0f} {kept:10,d} {ratio}  {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
