"""Cold compile with and without linking large callees after their caller's module passes
(runtime/nblink.py; GLIA_LINK_AFTER=0 turns it off), side by side in one run.

Each program is run by a whole `glia run --backend cpu` process with an empty Glia cache (the
runtime's helpers already in Numba's cache, as on any machine after `glia cache warm`), the two
settings taking turns, --repeat times each; the outputs of the two must be the same.

    python3 benchmarks/compile/link_after.py [--repeat 2] [FILE.glia ...]

By default: examples/gradients.glia and two programs of tests/test_backend_cpu_grad.py ("layers and
losses", "tensors"), which take gradients, and examples/shortest_paths.glia, which does not.
"""
from __future__ import annotations

import argparse
import ast
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _test_program(name: str, folder: str) -> str:
    """The Glia source of the module-level string `name` of tests/test_backend_cpu_grad.py, as a file."""
    tree = ast.parse(open(os.path.join(ROOT, "tests", "test_backend_cpu_grad.py")).read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            path = os.path.join(folder, name.lower() + ".glia")
            with open(path, "w") as f:
                f.write(ast.literal_eval(node.value))
            return path
    raise SystemExit(f"no program {name} in tests/test_backend_cpu_grad.py")


def cold_run(path: str, link_after: bool) -> tuple[float, str]:
    with tempfile.TemporaryDirectory(prefix="glia-link-after-") as cache:
        env = dict(os.environ, GLIA_CACHE_DIR=cache, GLIA_LINK_AFTER="1" if link_after else "0")
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-m", "glia", "run", "--backend", "cpu", path], env=env,
                           capture_output=True, text=True, cwd=ROOT)
        elapsed = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{path} failed (link after: {link_after}):\n{p.stderr}")
    return elapsed, p.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        files = args.files or [os.path.join(ROOT, "examples", "gradients.glia"), _test_program("LAYERS", folder),
                               _test_program("TENSORS", folder), os.path.join(ROOT, "examples", "shortest_paths.glia")]
        print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.processor() or platform.machine()}, "
              f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; whole `glia run --backend cpu`, empty Glia cache")
        print(f"{'program':<24} {'linked after':>14} {'all before':>14} {'ratio':>7}")
        for path in files:
            times = {True: [], False: []}
            outputs = set()
            for _ in range(args.repeat):
                for link_after in (True, False):
                    elapsed, out = cold_run(path, link_after)
                    times[link_after].append(elapsed)
                    outputs.add(out)
            if len(outputs) != 1:
                raise SystemExit(f"{path}: the outputs differ between the two settings")
            after, before = statistics.median(times[True]), statistics.median(times[False])
            print(f"{os.path.basename(path):<24} {after:>12.1f} s {before:>12.1f} s {before / after:>6.2f}x", flush=True)


if __name__ == "__main__":
    main()
