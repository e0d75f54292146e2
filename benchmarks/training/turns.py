"""What bench_grad_data.py and bench_grad_dp.py share: a whole Glia program run as a system, and the
systems timed in turns, each checked to reach the interpreter's answer, printed as a table."""
from __future__ import annotations

import contextlib
import io
import os
import platform
import statistics
import time


def glia_system(program: str, args: list[str], backend: str):
    """A run of `program` (its `main(args)` prints the answer first) on `backend`, returning that answer."""
    import glia
    prog = glia.load(program, backend=backend)

    def run():
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            prog.run(args)
        return float(buf.getvalue().split()[0])
    return run


def compare(systems: dict, once: set, repeat: int, what: str, unchecked: set = frozenset()):
    """One warm-up of each system (compiles, loads the cache), each answer checked against the
    interpreter's (relative 1e-9; not those in `unchecked`, which compute something else), then
    `repeat` rounds taking turns (the systems in `once` only in the first), and the medians printed
    against Glia compiled's."""
    times = {name: [] for name in systems}
    answers = {name: run() for name, run in systems.items()}
    ref = answers["glia interp"]
    for name, a in answers.items():
        if name in unchecked:
            continue
        assert abs(a - ref) <= 1e-9 * abs(ref), (name, a, ref)
    for r in range(repeat):
        for name, run in systems.items():
            if name in once and r > 0:
                continue
            t = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - t)
    base = statistics.median(times["glia cpu"])
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}; {what} = {ref:.12f}")
    print("| system | time | / glia cpu |")
    print("|---|---:|---:|")
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"| {name} | {m * 1000:.1f} ms | {m / base:.1f}x |")
