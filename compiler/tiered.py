"""`glia run`'s default backend, `auto`: tiered execution on the CPU backend.

Numba compiles slowly here (seconds per function, a minute for a 100-line program on a loaded
2-core machine; DESIGN.md §2.1), so compiling before the first run would make every new program
wait. Instead, as JIT compilers do:

1. the program is lowered (milliseconds); if `main` cannot be compiled, the interpreter runs it and
   each function it calls that can be compiled is tiered on its own, as below (the functions that
   cannot be are noted on stderr, as with `--backend cpu`);
2. if its compiled module is ready in the cache, it runs compiled;
3. otherwise it runs in the reference interpreter now, and if that run took long enough to be worth
   compiling (`HOT_SECONDS`), a detached background process compiles the module into the cache
   (Numba's `cache=True`), so the next run starts compiled.

Both tiers give the same output and errors (every backend is tested against the interpreter). The
cache folder holds, beside each generated module `glia_cpu_<key>.py`, a marker: `.ready` once the
background compile succeeded, `.failed` (with Numba's message) if it did not, and `.lock` while one
runs. `GLIA_BACKGROUND_COMPILE=0` turns the background compile off (the CLI reads it and passes it
down).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

from . import ir
from .diagnostics import Source

HOT_SECONDS = 1.5  # an interpreted run at least this long makes the program worth compiling (loading
# Numba and a compiled module costs about a second here, so shorter programs are better interpreted)
STALE_LOCK_SECONDS = 1800  # a compile that has not finished by then is presumed dead


def _marker(key: str, kind: str) -> str:
    from .backend_cpu import module_path

    return module_path(key)[:-3] + "." + kind


def state(key: str) -> str:
    """'ready', 'failed', 'compiling' or 'cold'."""
    if os.path.exists(_marker(key, "ready")):
        return "ready"
    if os.path.exists(_marker(key, "failed")):
        return "failed"
    lock = _marker(key, "lock")
    try:
        if time.time() - os.path.getmtime(lock) < STALE_LOCK_SECONDS and _holder_alive(lock):
            return "compiling"
    except OSError:
        pass
    return "cold"


def _holder_alive(lock: str) -> bool:
    """Is the process the lock names (`pid host`: the background compile, or the process starting it)
    still running? A compile killed half-way leaves its lock behind; True when that cannot be told
    (another machine sharing the cache folder, a lock being written)."""
    try:
        with open(lock, encoding="utf-8") as f:
            pid, host = f.read().split()
        pid = int(pid)
    except (OSError, ValueError):
        return True
    return host != socket.gethostname() or _running(pid)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # (another user's process)
        return True
    try:  # a killed process its parent has not reaped yet (a zombie) has ended too
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def run(program: ir.Program, args: list, sources: dict[str, Source], interpret, *, background: bool = True,
        hot_seconds: float = HOT_SECONDS, trace=None, params=None):
    """Run `main` on the best tier available now; `interpret(compiled_calls=False, load=None)` runs it
    in the interpreter. `trace(line)`, if given, is told which tier ran and why."""
    from .backend_cpu import lower_program
    from .lower_numba import Unsupported

    say = trace or (lambda line: None)
    try:
        lowered = lower_program(program)
    except Unsupported as u:
        say(f"glia: interpreted (the CPU backend cannot compile {u.what} yet); the functions it calls run "
            "compiled where the cache has them")
        return _per_function(interpret, say, background, hot_seconds)
    now = state(lowered.key)
    if now == "ready":
        compiled = _load_ready(lowered, say)
        if compiled is None:
            return interpret()
        from .backend_cpu import run_lowered

        say("glia: compiled (from the cache)")
        return run_lowered(program, lowered, args, sources, compiled, params=params)
    t0 = time.perf_counter()
    try:
        return interpret()
    finally:
        took = time.perf_counter() - t0
        if now == "cold" and background and took >= hot_seconds:
            say(f"glia: interpreted ({took:.2f} s); " + _compile_later(lowered))
        else:
            why = {"compiling": "a background compile is running", "failed": "the background compile failed",
                   "cold": "short run: not worth compiling" if background else "background compiles are off"}
            say(f"glia: interpreted ({why[now]})")


def _per_function(interpret, say, background: bool, hot_seconds: float):
    """main cannot be compiled: the interpreter runs it, and each function it calls that the CPU
    backend can compile (cpu_calls.py) runs compiled when the cache has that function's module ready.
    The others are interpreted too, and after a run long enough to be worth it, compiled in one
    background process for the next run, as whole programs are."""
    cold: list = []

    def load(name: str, lowered):
        now = state(lowered.key)
        if now == "ready":
            compiled = _load_ready(lowered, say)
            if compiled is not None:
                say(f"glia: {name} compiled (from the cache)")
            return compiled
        if now == "cold":
            cold.append((name, lowered))
        return None

    t0 = time.perf_counter()
    try:
        return interpret(compiled_calls=True, load=load)
    finally:
        took = time.perf_counter() - t0
        if cold:
            names = ", ".join(name for name, _ in cold)
            if background and took >= hot_seconds:
                say(f"glia: {names} interpreted ({took:.2f} s); " + _compile_later(*(lowered for _, lowered in cold)))
            else:
                say(f"glia: {names} interpreted (" + ("short run: not worth compiling" if background
                                                      else "background compiles are off") + ")")


def _load_ready(lowered, say):
    """The compiled module the cache says is ready, or None (then marked failed) if it cannot load."""
    from .backend_cpu import CompileFailed, load_or_explain

    try:
        return load_or_explain(lowered)
    except CompileFailed as e:  # the cache went bad (a Numba upgrade): interpret
        try:
            _write(_marker(lowered.key, "failed"), e.what)
            os.remove(_marker(lowered.key, "ready"))
        except OSError:  # (a cache folder that cannot be written, or another process marked it first)
            pass
        say(f"glia: interpreted (loading the compiled module failed: {e.what})")
        return None


def _compile_later(*modules) -> str:
    """Start the background compile of `modules`; what to say about it. A cache folder that cannot be
    written is no error here: the program has run, and stays interpreted."""
    from .diagnostics import GliaError

    try:
        started = start_background_compile(*modules)
    except GliaError as e:
        return f"not compiled in the background: {e.diagnostic.message}"
    return "compiling in the background for the next run" if started else "a compile is already running"


def start_background_compile(*modules) -> bool:
    """Write the modules and start one detached process that compiles those no other process is
    compiling; False if there are none. E509 if the cache folder cannot be written."""
    from .backend_cpu import cache_unwritable, write_module

    keys = []
    for lowered in modules:
        path = write_module(lowered)
        try:
            if _take_lock(lowered.key):
                keys.append(lowered.key)
        except OSError as e:
            raise cache_unwritable(path, e) from None
    if not keys:
        return False
    proc = subprocess.Popen([sys.executable, "-m", "glia.compiler.tiered", *keys], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            close_fds=True)
    for key in keys:  # the locks name the compiling process now: if it is killed, the next run sees it
        try:
            _write(_marker(key, "lock"), _holder(proc.pid))
        except OSError:
            pass
    return True


def _holder(pid: int) -> str:
    return f"{pid} {socket.gethostname()}"


def _take_lock(key: str) -> bool:
    lock = _marker(key, "lock")
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        if state(key) != "cold":
            return False
        os.replace(lock, lock + ".stale")  # the lock of a compile that died
        taken = _take_lock(key)
        try:
            os.remove(lock + ".stale")
        except OSError:
            pass
        return taken
    with os.fdopen(fd, "w") as f:
        f.write(_holder(os.getpid()))
    return True


def compile_now(key: str) -> bool:
    """Compile the cached module `key` (importing it compiles every function with a signature into
    Numba's cache) and leave the marker; True on success."""
    from .backend_cpu import import_module

    lock = _marker(key, "lock")
    try:
        import_module(key)
    except Exception as e:  # a NumbaError, Numba failing in its own passes, a bad module: all bugs
        _write(_marker(key, "failed"), f"{type(e).__name__}: {e}")
        return False
    finally:
        try:
            os.remove(lock)
        except OSError:
            pass
    _write(_marker(key, "ready"), "")
    return True


def mark_ready(key: str) -> None:
    """The module `key` was imported (so compiled into Numba's cache) by this process, as `--backend
    cpu` does: the next `auto` run loads it instead of interpreting. No error if the marker cannot be
    written: the run goes on, and the next one interprets."""
    ready = _marker(key, "ready")
    if not os.path.exists(ready):
        try:
            _write(ready, "")
        except OSError:
            pass


def _write(path: str, text: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


if __name__ == "__main__":  # the background compile: python -m glia.compiler.tiered KEY...
    sys.exit(0 if all([compile_now(key) for key in sys.argv[1:]]) else 1)
