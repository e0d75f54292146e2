"""Search benchmarks: every shared task file through `glia bench synth`, and the DEAP baseline.

    python benchmarks/search/run.py [--tasks DIR] [--timeout 10] [--deap-limit 20] [--out DIR]

Runs `glia bench synth FILE --timeout T --json OUT/FILE.json` for each task file in DIR (default
../shared/bench/tasks next to the repository), then the DEAP baseline (deap_baseline.py, same
grammar, same per-task time) on the first --deap-limit tasks of each file, and prints one markdown
table: solved/total, the time of the solved tasks, candidates per second, and DEAP on the same
first tasks. Not run by CI.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", default=os.path.join(os.path.dirname(ROOT), "shared", "bench", "tasks"))
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--deap-limit", type=int, default=20, help="tasks per file for the DEAP baseline (0: none)")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ns = ap.parse_args()
    os.makedirs(ns.out, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    rows = []
    for name in sorted(os.listdir(ns.tasks)):
        if not name.endswith(".jsonl"):
            continue
        path = os.path.join(ns.tasks, name)
        out = os.path.join(ns.out, name.replace(".jsonl", ".json"))
        subprocess.run([sys.executable, "-m", "glia", "bench", "synth", path, "--timeout", str(ns.timeout),
                        "--json", out, "--quiet"], env=env, check=True)
        glia_res = json.load(open(out))
        deap = None
        if ns.deap_limit:
            dout = os.path.join(ns.out, name.replace(".jsonl", ".deap.json"))
            subprocess.run([sys.executable, os.path.join(HERE, "deap_baseline.py"), path, "--timeout",
                            str(ns.timeout), "--limit", str(ns.deap_limit), "--json", dout], env=env, check=True,
                           stdout=subprocess.DEVNULL)
            deap = json.load(open(dout))
        rows.append((name, glia_res, deap))
    print(table(rows, ns.deap_limit))
    return 0


def table(rows, deap_limit: int) -> str:
    lines = ["| task file | Glia solved | median time of solved (s) | candidates/s | Glia on first "
             f"{deap_limit} | DEAP on first {deap_limit} |", "|---|---|---|---|---|---|"]
    for name, g, d in rows:
        res = g["results"]
        solved = [r for r in res if r["solved"]]
        times = sorted(r["seconds"] for r in solved)
        med = times[len(times) // 2] if times else float("nan")
        first = sum(r["solved"] for r in res[:deap_limit])
        dtxt = f"{d['summary']['solved']}/{d['summary']['tasks']}" if d else "-"
        lines.append(f"| {name} | {len(solved)}/{len(res)} | {med:.2f} | {g['summary']['candidates_per_second']:,} | "
                     f"{first}/{min(deap_limit, len(res))} | {dtxt} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
