"""The warm path of `glia run` (compiler/fastrun.py): after a compiled run, the next run of the same text
loads the cached module from its run manifest without the front end, with the same output, exit
status and errors; anything else takes the ordinary path."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

PROGRAM = """
def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def main(args: list[str]) -> int:
    print(fib(int(args[0])), len(args))
    xs = [1, 2, 3]
    print(xs[int(args[1])])
    if len(args) > 2:
        print(at(xs, int(args[2])))
    return 3

def at(xs: list[int], i: int) -> int:
    return xs[i]
"""


def glia_run(path, *args, env):
    return subprocess.run([sys.executable, "-m", "glia", "run", "-v", "--backend", "cpu", str(path), *args],
                          capture_output=True, text=True, env=env, timeout=600)


def test_the_second_run_skips_the_front_end_with_the_same_results(tmp_path):
    env = {**os.environ, "GLIA_CACHE_DIR": str(tmp_path / "cache")}
    path = tmp_path / "warm.glia"
    path.write_text(PROGRAM, encoding="utf-8")
    first = glia_run(path, "10", "1", env=env)
    assert first.returncode == 3 and first.stdout == "55 2\n2\n", first.stderr
    assert "run manifest" not in first.stderr
    manifests = list((tmp_path / "cache" / "cpu").glob("run-*.json"))
    assert len(manifests) == 2  # for --backend cpu and auto
    assert json.loads(manifests[0].read_text())["blas"] is False  # loaded without scipy.linalg's import

    second = glia_run(path, "10", "1", env=env)
    assert "run manifest skipped the front end" in second.stderr
    assert (second.returncode, second.stdout) == (first.returncode, first.stdout)

    # a runtime error: the same diagnostic (code, file, line, column, excerpt) on both paths
    err_warm = glia_run(path, "10", "7", env=env)
    assert "run manifest" in err_warm.stderr and err_warm.returncode == 1
    for f in (tmp_path / "cache" / "cpu").glob("run-*.json"):
        f.unlink()
    err_cold = glia_run(path, "10", "7", env=env)
    assert "run manifest" not in err_cold.stderr
    assert err_warm.stdout == err_cold.stdout == "55 2\n"
    strip = lambda s: "\n".join(line for line in s.splitlines() if not line.startswith("glia: "))  # noqa: E731
    assert strip(err_warm.stderr) == strip(err_cold.stderr) and f"{path}:8:11" in err_warm.stderr
    assert "note:" not in err_warm.stderr  # raised in main: no call on the way
    # raised in a callee: compiled code has no record of the calls, and says where they are shown
    for f in (tmp_path / "cache" / "cpu").glob("run-*.json"):
        f.unlink()
    callee_cold = glia_run(path, "10", "1", "5", env=env)
    assert "run manifest" not in callee_cold.stderr
    callee_warm = glia_run(path, "10", "1", "5", env=env)
    assert "run manifest" in callee_warm.stderr and callee_warm.returncode == callee_cold.returncode == 1
    assert strip(callee_warm.stderr) == strip(callee_cold.stderr) and f"{path}:14:12" in callee_warm.stderr
    assert "note: compiled code does not record the calls that led here; the interpreter " \
           "(`--backend interp`) shows them" in callee_warm.stderr

    # another text (one character more) is another program: the ordinary path
    path.write_text(PROGRAM + "\n", encoding="utf-8")
    changed = glia_run(path, "10", "1", env=env)
    assert "run manifest" not in changed.stderr and changed.stdout == first.stdout


def test_a_program_with_globals_keeps_the_ordinary_path(tmp_path):
    env = {**os.environ, "GLIA_CACHE_DIR": str(tmp_path / "cache")}
    path = tmp_path / "globals.glia"
    path.write_text("LIMIT = 3 * 7\n\ndef main():\n    print(LIMIT + 1)\n", encoding="utf-8")
    for _ in range(2):
        r = glia_run(path, env=env)
        assert r.returncode == 0 and r.stdout == "22\n" and "run manifest" not in r.stderr, r.stderr
    assert not list((tmp_path / "cache" / "cpu").glob("run-*.json"))


MODEL = """
def net(x: f32[6]) -> f32[3]:
    h = layer_norm(relu(dense(x, 5, init="he")))
    return softmax(dense(h, 3)) + batch_norm(reshape(h, 1, 5), momentum=0.1)[0, 0]

def main():
    print(net(arange(6) * 0.25 - 0.5))
"""


def test_a_model_program_runs_warm_with_the_same_parameters(tmp_path):
    """The layers' buffers are threaded like globals; the manifest records their layout and the warm
    run initialises them as the ordinary path does (seed 0): the interpreter's output each time."""
    env = {**os.environ, "GLIA_CACHE_DIR": str(tmp_path / "cache")}
    path = tmp_path / "model.glia"
    path.write_text(MODEL, encoding="utf-8")
    ref = subprocess.run([sys.executable, "-m", "glia", "run", "--backend", "interp", str(path)],
                         capture_output=True, text=True, env=env, timeout=600)
    first = glia_run(path, env=env)
    second = glia_run(path, env=env)
    assert "run manifest" not in first.stderr and "run manifest skipped the front end" in second.stderr
    assert first.stdout == second.stdout == ref.stdout and ref.stdout.startswith("tensor(["), ref.stderr


@pytest.mark.parametrize("program, marker", [("functions/function_values.glia", "226 106 257"),
                                             ("structs/recursive_structs.glia", "120 4"),
                                             ("structs/comparing_trees.glia", "True True 0 False"),
                                             ("functions/recursion.glia", "2432902008176640000")])
def test_boxed_values_run_the_same_cold_warm_and_from_the_cache(tmp_path, program, marker):
    """Closures compiled as (tag, captured values) tuples, `compose` among them (a cycle of a lambda and
    the dispatcher, merged), and structs that hold themselves (their fields boxes, their formatting a
    self-recursive function, their comparison another): the same output compiled cold, warm (run manifest) and through the
    ordinary path from Numba's cache. A number literal in a tuple passed to a recursive call made the
    cached code refer to a symbol never defined, and a lazily typed recursive formatting function made
    it call address 0: each run from the cache crashed. Small recursive functions (fib, fact, gcd) call
    a copy of themselves inlined into them (ModuleLowerer.unrollable), which calls them back."""
    from pathlib import Path

    src = Path(__file__).parent / "programs" / program
    path = tmp_path / "boxed.glia"
    path.write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    env = {**os.environ, "GLIA_CACHE_DIR": str(tmp_path / "cache")}
    interp = subprocess.run([sys.executable, "-m", "glia", "run", "--backend", "interp", str(path)],
                            capture_output=True, text=True, env=env, timeout=600)
    cold = glia_run(path, env=env)
    warm = glia_run(path, env=env)
    for f in (tmp_path / "cache" / "cpu").glob("run-*.json"):
        f.unlink()
    cached = glia_run(path, env=env)
    assert interp.returncode == 0 and marker in interp.stdout
    assert "runs in the interpreter" not in cold.stderr, cold.stderr
    assert "run manifest" in warm.stderr and "run manifest" not in cached.stderr
    for run in (cold, warm, cached):
        assert (run.returncode, run.stdout) == (0, interp.stdout), run.stderr
