"""Several holes in one function: the joint search (runtime/search/joint.py) against simpler ones.

    python benchmarks/search/holes.py [--timeout S] [--tasks FILE.glia] [--only NAME] [--json OUT]

For every function of the task file (benchmarks/search/holes_tasks.glia), round robin:
- `joint`: the engine as `glia synth` runs it (a run tree per example, join on the pivot
  example, keys from the holes' contexts);
- `no-context`: the same without the contexts (each hole keyed by its own values);
- `naive`: the same holes' programs in the same order, every tuple run on the examples one after
  the other until one fails: no run trees, no join, no contexts.
Prints seconds, candidates (the holes' programs enumerated + tuples looked at), tuples and runs of
the function on one example; the load average before and after. One untimed run first loads
Numba's kernel. No speed is asserted anywhere.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from glia.compiler import hole_runs, synth
from glia.compiler.driver import check_source, read_source
from glia.runtime.search import Config, joint
from glia.runtime.search.terms import to_glia

ROOT = Path(__file__).resolve().parents[2]


class Naive(joint.Joint):
    """Every tuple of the levels in order, run on the examples until one fails; nothing remembered."""

    def passes(self, example, label, values):
        self.runs += 1
        return self.check(example, values())[0]

    def combine(self, parts, levels):
        for n, idx in enumerate(itertools.product(*[range(len(lv.values)) for lv in levels])):
            if n & 255 == 255:
                self.bound()
            self.tuples += 1
            if all(self.passes(i, None, lambda i=i: tuple(b.value(s, j, i) for b, s, j in zip(self.banks, parts, idx)))
                   for i in self.order):
                return idx
        return None


def measure(program, func, tasks, variant: str, timeout: float) -> dict:
    holes = [t.hole for t in tasks]
    check = hole_runs.example_runner(program, func, holes, [t.slots for t in tasks])
    contexts = hole_runs.joint_contexts(program, func, holes) if variant == "joint" else None
    reads = [joint.Reads(synth.example_spans(t.reaches)) if t.slots else None for t in tasks]
    engine = Naive if variant == "naive" else joint.Joint
    t0 = time.perf_counter()
    search = engine([t.problem for t in tasks], Config(timeout=timeout), check, contexts, reads)
    found, reason = search.run()
    row = {"task": func.name, "holes": len(tasks), "variant": variant, "solved": found is not None,
           "seconds": round(time.perf_counter() - t0, 4), "candidates": search.candidates(),
           "tuples": search.tuples, "runs": search.runs, "stopped": reason}
    if found is not None:
        row["program"] = [to_glia(b.term(s, i), ()) for b, (s, i) in zip(search.banks, found)]
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", default=str(ROOT / "benchmarks" / "search" / "holes_tasks.glia"))
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--only", default="", help="run only the functions whose name contains this")
    ap.add_argument("--variants", default="joint,no-context,naive")
    ap.add_argument("--json", metavar="OUT")
    ns = ap.parse_args()
    program = check_source(read_source(ns.tasks))
    by_func = {}
    for t in synth.problems(program):
        by_func.setdefault(t.func.name, []).append(t)
    first = next(iter(by_func.values()))
    measure(program, first[0].func, first, "joint", ns.timeout)  # warm-up: Numba's import and kernel cache
    load = [os.getloadavg()]
    rows = []
    for name, tasks in by_func.items():
        if ns.only not in name:
            continue
        for variant in ns.variants.split(","):
            row = measure(program, tasks[0].func, tasks, variant, ns.timeout)
            rows.append(row)
            print(f"{name:16s} {row['holes']} {variant:10s} {'ok' if row['solved'] else '--'} {row['seconds']:8.3f} s "
                  f"{row['candidates']:>12,} cand {row['tuples']:>11,} tuples {row['runs']:>10,} runs  "
                  f"{', '.join(row.get('program', [row['stopped']]))}", flush=True)
    load.append(os.getloadavg())
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    summary = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": commit,
               "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
               "load_before": load[0], "load_after": load[1], "timeout": ns.timeout}
    print(json.dumps(summary))
    if ns.json:
        Path(ns.json).write_text(json.dumps({"summary": summary, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
