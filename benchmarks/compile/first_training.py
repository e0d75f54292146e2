"""The first training run of models with many traces: compiled by one process or several, side by side.

Each model is trained by a whole `glia train --engine compiled` process with an empty Glia cache (the
runtime's shared trace kernels already in Numba's cache: an untimed warm-up run trains the char RNN
first), with the new traces of each minibatch compiled by this process and its workers (as
installed: one fewer than the CPUs) and by this process alone (`GLIA_COMPILE_JOBS=1`), taking turns,
--repeat times each; the two must end with the same loss. `--before PYTHON` adds the Python of
another checkout (its `python -m glia`) as a third column, say the commit before a change.

    python3 benchmarks/compile/first_training.py [--repeat 1] [--epochs 2] [--before PYTHON] [FILE.glia ...]

By default: examples/neural/tree_rnn.glia (25 traces, one per tree shape) and
examples/neural/ponder.glia (6 traces, one per number of steps of its `while`).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WARM_UP = os.path.join(ROOT, "examples", "neural", "char_rnn.glia")


def cold_train(python: str, path: str, epochs: int, jobs: str | None) -> tuple[float, str]:
    """Seconds of the whole process, and its last epoch's line."""
    with tempfile.TemporaryDirectory(prefix="glia-first-training-") as cache:
        env = dict(os.environ, GLIA_CACHE_DIR=cache)
        env.pop("GLIA_COMPILE_JOBS", None)
        if jobs:
            env["GLIA_COMPILE_JOBS"] = jobs
        t0 = time.perf_counter()
        p = subprocess.run([python, "-m", "glia", "train", path, "--epochs", str(epochs), "--engine", "compiled",
                            "--no-progress", "--out", os.path.join(cache, "params.npz")], env=env,
                           capture_output=True, text=True, cwd=cache)  # (`-m` imports from the folder it runs in)
        elapsed = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{path} failed ({python}, GLIA_COMPILE_JOBS={jobs}):\n{p.stderr}")
    last = [line for line in p.stdout.splitlines() if line.startswith("epoch ")]
    return elapsed, last[-1] if last else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--before", help="the Python of another checkout, timed as a third column")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    files = args.files or [os.path.join(ROOT, "examples", "neural", n) for n in ("tree_rnn.glia", "ponder.glia")]
    settings = [("workers", sys.executable, None), ("one process", sys.executable, "1")]
    if args.before:
        settings.append(("before", args.before, None))
    for python in dict.fromkeys(python for _, python, _ in settings):
        cold_train(python, WARM_UP, 1, None)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; whole `glia train --engine compiled "
          f"--epochs {args.epochs}`, empty Glia cache")
    print(f"{'model':<16}" + "".join(f"{name:>14}" for name, _, _ in settings) + "   last epoch")
    for path in files:
        times: dict[str, list[float]] = {name: [] for name, _, _ in settings}
        lines: dict[str, set[str]] = {name: set() for name, _, _ in settings}
        for _ in range(args.repeat):
            for name, python, jobs in settings:
                elapsed, line = cold_train(python, path, args.epochs, jobs)
                times[name].append(elapsed)
                lines[name].add(line)
        if lines["workers"] != lines["one process"]:
            raise SystemExit(f"{path}: the runs end differently: {lines}")
        row = "".join(f"{statistics.median(times[name]):>12.1f} s" for name, _, _ in settings)
        print(f"{os.path.basename(path):<16}{row}   {lines['workers'].pop()}", flush=True)
        if args.before and lines["before"] != lines["one process"]:
            print(f"{'':<16}before: {lines['before'].pop()}", flush=True)


if __name__ == "__main__":
    main()
