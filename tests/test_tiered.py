"""`glia run`'s default backend `auto` (compiler/tiered.py): interpreted until the program's compiled
module is ready, compiled in a background process after a run long enough to be worth it, the same
output on both tiers."""
from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import time

import pytest

from glia.compiler import tiered
from glia.compiler.backend_cpu import lower_program
from glia.compiler.diagnostics import Source
from glia.compiler.driver import check_source, run_program

HOT = """
def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def main(args: list[str]):
    print(fib(int(args[0])), len(args))
"""


def run(program, argv, **kw):
    lines: list[str] = []
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run_program(program, argv, backend="auto", trace=lines.append, **kw)
    return out.getvalue(), lines


def wait_until(key: str, seconds: float = 300) -> str:
    end = time.time() + seconds
    while time.time() < end:
        s = tiered.state(key)
        if s in ("ready", "failed"):
            return s
        time.sleep(0.5)
    return tiered.state(key)


def test_interpreted_first_then_compiled_in_the_background():
    program = check_source(Source("hot.glia", HOT))
    key = lower_program(program).key
    assert tiered.state(key) == "cold"
    out, trace = run(program, ["15"], hot_seconds=0.0)
    assert out == "610 1\n" and "compiling in the background" in trace[0]
    assert wait_until(key) == "ready"
    out, trace = run(program, ["16"])
    assert out == "987 1\n" and trace == ["glia: compiled (from the cache)"]


def test_short_runs_and_what_cannot_compile_stay_interpreted():
    program = check_source(Source("short.glia", HOT.replace("fib(n - 2)", "fib(n - 3)")))
    out, trace = run(program, ["3"])  # far below HOT_SECONDS
    assert out == "0 1\n" and "not worth compiling" in trace[0]
    assert tiered.state(lower_program(program).key) == "cold"
    _, trace = run(program, ["3"], hot_seconds=0.0, background=False)
    assert "background compiles are off" in trace[0]
    io_prog = check_source(Source("fv.glia", 'def one() -> int:\n    return 1\n\ndef main():\n'
                                             '    f = one\n    print(f == one)\n'))
    out, trace = run(io_prog, [])
    assert out == "True\n" and trace[0].startswith("glia: interpreted (the CPU backend cannot compile comparing")
    # input() compiles, and cacheably (it was an objmode block, which kept such programs interpreted)
    reads = check_source(Source("in.glia", 'def main(args: list[str]):\n    if len(args) > 5:\n'
                                           '        print(input())\n    print(2)\n'))
    out, trace = run(reads, [], hot_seconds=0.0)  # input() is never reached, but main could reach it
    assert out == "2\n" and "compiling in the background" in trace[0]
    assert wait_until(lower_program(reads).key) == "ready"
    out, trace = run(reads, [])
    assert out == "2\n" and trace == ["glia: compiled (from the cache)"]


def test_a_running_compile_is_not_started_twice_and_a_stale_lock_is_taken_over(tmp_path):
    program = check_source(Source("lock.glia", HOT.replace("len(args)", "len(args) + 1")))
    lowered = lower_program(program)
    lock = tiered._marker(lowered.key, "lock")
    os.makedirs(os.path.dirname(lock), exist_ok=True)
    with open(lock, "w") as f:
        f.write("1")
    assert tiered.state(lowered.key) == "compiling" and not tiered.start_background_compile(lowered)
    old = time.time() - tiered.STALE_LOCK_SECONDS - 10
    os.utime(lock, (old, old))
    assert tiered.state(lowered.key) == "cold" and tiered.start_background_compile(lowered)
    assert wait_until(lowered.key) == "ready"


def test_the_command_line_says_which_tier_ran(tmp_path):
    """A cache folder of its own: with the session's, whether HOT was already compiled (by the test
    above, when it ran first) decided which tier ran."""
    path = tmp_path / "cli.glia"
    path.write_text(HOT)
    env = dict(os.environ, GLIA_BACKEND="auto", GLIA_BACKGROUND_COMPILE="0", GLIA_CACHE_DIR=str(tmp_path / "cache"))

    def glia(*args):
        return subprocess.run([sys.executable, "-m", "glia", *args], capture_output=True, text=True, env=env,
                              timeout=300)

    r = glia("run", "-v", str(path), "5")
    assert r.returncode == 0 and r.stdout == "5 1\n" and r.stderr.startswith("glia: interpreted")
    r = glia("run", "--backend", "cpu", str(path), "6")  # compiles now, into the cache
    assert r.returncode == 0 and r.stdout == "8 1\n"
    r = glia("run", "-v", str(path), "7")
    assert r.returncode == 0 and r.stdout == "13 1\n" and r.stderr.startswith("glia: compiled (from the cache")
    r = glia("cache", "info")
    assert r.returncode == 0 and "1 generated module (1 ready for `glia run`, 0 compiling now, 0 failed)" in r.stdout



def test_verbose_says_which_backend_ran_under_every_backend(tmp_path):
    """`glia run -v` said nothing under --backend interp, nor under --backend cpu when it compiled
    now or fell back to the interpreter; only `auto` and the warm path spoke."""
    env = dict(os.environ, GLIA_BACKGROUND_COMPILE="0")
    compiled = tmp_path / "compiled.glia"
    compiled.write_text("def main() -> int:\n    x = 40\n    return x + 2\n")
    fallback = tmp_path / "fallback.glia"
    fallback.write_text("def main():\n    print(str(None))\n")  # (None formatted: not compiled yet)

    def run(backend, path):
        return subprocess.run([sys.executable, "-m", "glia", "run", "-v", "--backend", backend, str(path)],
                              capture_output=True, text=True, env=env, timeout=300)

    r = run("interp", compiled)
    assert r.returncode == 42 and r.stderr == "glia: interpreted (--backend interp never compiles)\n"
    r = run("cpu", compiled)
    assert r.returncode == 42 and r.stderr == "glia: compiled (--backend cpu)\n"
    r = run("cpu", fallback)
    assert r.stdout == "None\n" and r.stderr.startswith("glia: main interpreted (the CPU backend cannot compile it")


MIXED = """
def steps(n: int) -> int:
    s = 0
    for i in range(n):
        s = (s + i * i) % 1000003
    return s

def model(x: f32[4]) -> f32[2]:
    return softmax(dense(x, 2))

def total(x: f32[4]) -> f32:
    ps = [[model(x)]]
    return sum(ps[0][0])

def slope(x: f32[4]) -> f32[4]:
    return grad(total)(x)

def main(args: list[str]):
    p = model(ones(4))
    g = slope(ones(4))
    print(steps(int(args[0])), p[0] + p[1], abs(g[0]) < 1e-6)
"""


def test_a_program_main_cannot_compile_tiers_each_function_it_calls():
    """main and slope (a gradient through a list of lists of tensors, not compiled yet) stay interpreted, each noted; steps and model are interpreted on the
    first run, compiled in the background after it, and run compiled from the cache on the next run."""
    program = check_source(Source("mixed.glia", MIXED))
    steps_key = lower_program(program, "steps").key
    model_key = lower_program(program, "model").key
    assert tiered.state(steps_key) == "cold"
    notes: list[str] = []
    out, trace = run(program, ["1000"], hot_seconds=0.0, notes=notes.append)
    assert out == "832504 1.0 True\n"
    assert [n.split(": ")[2] for n in notes] == ["main runs in the interpreter", "slope runs in the interpreter"]
    assert trace[0].startswith("glia: interpreted (the CPU backend cannot compile the gradient through 'total', "
                               "whose local 'ps' is a list[list[f32[2]]]")
    assert trace[-1].startswith("glia: model, steps interpreted (") and "compiling in the background" in trace[-1]
    assert wait_until(steps_key) == wait_until(model_key) == "ready"
    out, trace = run(program, ["2000"])
    assert out == run_interp(program, ["2000"]) == "659008 1.0 True\n"
    assert "glia: model compiled (from the cache)" in trace and "glia: steps compiled (from the cache)" in trace


def run_interp(program, argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run_program(program, argv, backend="interp")
    return out.getvalue()
