"""Ctrl-C stops compiled code called from Python and from the REPL (runtime/interrupt.py).

Compiled code holds Python's lock and checks no signals; before, a compiled call that never returned
could only be killed, with the session. Each case runs in its own process, which the test interrupts
with a real SIGINT once the call has started."""
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from glia.compiler.backend_cpu import lower_program
from glia.compiler.diagnostics import Source
from glia.compiler.driver import check_source

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is POSIX")

FUNCTIONS = textwrap.dedent("""
    def spin(n: int) -> int:
        s = 0
        while n > 0:
            s = (s + n) % 1000003
        return s

    def fib(n: int) -> int:
        if n < 2:
            return n
        return fib(n - 1) + fib(n - 2)

    def grid(n: int) -> int:
        s = 0
        for i in range(n):
            for j in range(n):
                s = (s + i * j) % 7
        return s

    def walk(n: int) -> int:
        xs = [1]
        for x in xs:
            if x < n:
                xs.append(x + 1)
        return len(xs)

    def count(n: int) -> int:
        s = 0
        for i in range(n):
            s = (s + i) % 7
        return s
""")

# Calls each named function (compiled first, called with 0), printing `calling NAME` just
# before the call that never ends; the test then sends SIGINT and the script prints what it caught.
SCRIPT = textwrap.dedent("""
    import signal, sys
    import glia
    prog = glia.compile(sys.stdin.read(), backend="cpu")
    for name, arg in [a.split("=") for a in sys.argv[1:]]:
        f = getattr(prog, name)
        f(0)
        print("calling", name, flush=True)
        try:
            f(int(arg))
            print(name, "returned", flush=True)
        except KeyboardInterrupt:
            print(name, "interrupted", flush=True)
    print("handler", signal.getsignal(signal.SIGINT) is signal.default_int_handler, prog.fib(20), flush=True)
""")


def spawn(argv):
    """A Python process whose Ctrl-C is Python's (not ignored, as it is in a shell's background job),
    killed after 5 minutes: a call that never stops fails its test, not the whole run."""
    p = subprocess.Popen([sys.executable, *argv], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=dict(os.environ, GLIA_BACKGROUND_COMPILE="0"),
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    watchdog = threading.Timer(300, p.kill)
    watchdog.daemon = True
    watchdog.start()
    return p


def start(args, stdin_text=None, script=SCRIPT):
    p = spawn(["-c", script, *args])
    if stdin_text is not None:
        p.stdin.write(stdin_text)
        p.stdin.close()
    return p


def finish(p):
    p.wait(timeout=120)
    return p.stdout.read(), p.stderr.read()


def interrupt_each(p, names):
    """For each call the script makes: wait until it starts, interrupt it, and give back what the
    script says it caught."""
    said = []
    for name in names:
        line = p.stdout.readline()
        assert line == f"calling {name}\n", (line, p.stderr.read() if not line else "")
        time.sleep(1)  # into the compiled call (a press on its way in is Python's: a later one)
        p.send_signal(signal.SIGINT)
        said.append(p.stdout.readline())
    return said


def test_ctrl_c_stops_compiled_loops_and_recursion_called_from_python():
    """A `while` that never ends, exponential recursion (no loop at all), a nest of counted loops: each stops at its next pass or call, as an
    interrupted interpreted call does, and Python's own Ctrl-C handler is back afterwards."""
    calls = {"spin": 5, "fib": 60, "grid": 10 ** 6}
    p = start([f"{k}={v}" for k, v in calls.items()], FUNCTIONS)
    try:
        said = interrupt_each(p, calls)
        out, err = finish(p)
    finally:
        p.kill()
    assert p.returncode == 0, (said, out, err)
    assert said == [f"{k} interrupted\n" for k in calls], (said, err)
    assert out == "handler True 6765\n", (out, err)


def test_ctrl_c_in_a_loop_that_reads_none_takes_effect_when_it_ends():
    """An innermost `for` over a range counts its passes before it starts and reads no Ctrl-C (a read
    would keep LLVM from vectorising it): the interrupt is Python's, once the call returns."""
    p = start(["count=" + str(2 * 10 ** 9)], FUNCTIONS)  # seconds: it ends after the press
    try:
        said = interrupt_each(p, ["count"])
        out, err = finish(p)
    finally:
        p.kill()
    assert said == ["count interrupted\n"] and out == "handler True 6765\n", (said, out, err)


def test_ctrl_c_stops_a_compiled_call_in_the_repl_and_the_session_goes_on():
    p = spawn(["-m", "glia", "repl"])
    try:
        p.stdin.write(":backend cpu\ndef spin(n: int) -> int:\n    print('started', n)\n    s = 0\n"
                      "    while n > 0:\n        s = (s + n) % 1000003\n    return s\n\nspin(0)\nspin(1)\n")
        p.stdin.flush()
        seen = []
        while not seen or seen[-1] != "started 1\n":
            seen.append(p.stdout.readline())
            assert seen[-1], (seen, p.stderr.read())
        p.send_signal(signal.SIGINT)
        out, err = p.communicate("x = 6 * 7\nprint(x)\n", timeout=120)
    finally:
        p.kill()
    assert "".join(seen) == "backend: cpu\nstarted 0\n0 : int\nstarted 1\n", seen
    assert out == "42\n" and err == "interrupted\n", (out, err)


def test_loops_read_ctrl_c_where_a_pass_may_not_end():
    """Generated code: a read (`rt.poll()`) at the top of each `while`, each `for` over a list and each
    loop holding a loop; none in an innermost counted `for`; in a function that calls itself, one after
    the base case (which returns without it), at some depths (`rt.poll_deep`)."""
    program = check_source(Source("t.glia", FUNCTIONS + "\ndef main():\n    print(spin(0), fib(3), grid(2), walk(2), count(3))\n"))
    text = lower_program(program).source
    bodies = {name: text.split(f"def f_{name}(")[1].split("\n@njit")[0]
              for name in ("spin", "grid", "walk", "count", "fib")}
    assert bodies["spin"].count("rt.poll()") == 1
    assert bodies["walk"].count("rt.poll()") == 1
    assert bodies["grid"].count("rt.poll()") == 1  # the outer loop only
    assert "rt.poll" not in bodies["count"]
    lines = [x.strip() for x in bodies["fib"].splitlines()]
    base = next(i for i, x in enumerate(lines) if x.startswith("return v0_n  # line"))
    assert lines.index("rt.poll_deep(depth)  # Ctrl-C: recursion may have no loop to read it in") == base + 1
