"""The compiled-module cache under damage and concurrency, found by a bug hunt: a cache entry truncated
or overwritten (the generated module, Numba's index and machine-code files, the prelude's pickle), a
cache folder that cannot be written, a background compile killed half-way, `glia cache clear|info` on
a folder they cannot clear or that is not a folder. Each run still gives the program's output (a
damaged entry is compiled again), and a problem is a `glia:` line, never a traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from test_tiered import run as run_auto  # (main under --backend auto: output and trace lines)

ROOT = Path(__file__).resolve().parents[1]
PROGRAM = "def fib(n: int) -> int:\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\n" \
          "def main(args: list[str]):\n    print(fib(int(args[0])))\n"


def glia_cli(*args, cache, backend=None):
    env = dict(os.environ, GLIA_CACHE_DIR=str(cache), GLIA_BACKGROUND_COMPILE="0")
    cmd = [sys.executable, "-m", "glia", *map(str, args)]
    if backend:
        cmd[3:4] = ["run", "-v", "--backend", backend]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)


def clean(r, stdout: str) -> None:
    assert (r.returncode, r.stdout) == (0, stdout), r.stderr
    assert "Traceback" not in r.stderr and "bug in Glia" not in r.stderr, r.stderr


def compiled_once(tmp_path):
    """A program run once with --backend cpu: its module, Numba's cache of it and its run manifests."""
    prog, cache = tmp_path / "fib.glia", tmp_path / "cache"
    prog.write_text(PROGRAM)
    clean(glia_cli("run", prog, "15", cache=cache, backend="cpu"), "610\n")
    return prog, cache, next((cache / "cpu").glob("glia_cpu_*.py"))


def test_a_truncated_or_overwritten_generated_module_is_written_again(tmp_path):
    """The warm path imported whatever file had the module's name (a traceback, on every run), and the
    ordinary path kept it too (interpreted, with a note blaming Glia, on every run)."""
    prog, cache, module = compiled_once(tmp_path)
    good = module.read_text()
    module.write_text(good[:100])  # truncated: the warm path must not import it
    clean(glia_cli("run", prog, "16", cache=cache, backend="cpu"), "987\n")
    assert module.read_text() == good
    module.write_text("garbage ))\n")
    for manifest in (cache / "cpu").glob("run-*.json"):  # the ordinary path: it writes the module again
        manifest.unlink()
    clean(glia_cli("run", prog, "17", cache=cache, backend="cpu"), "1597\n")
    assert module.read_text() == good


def test_damaged_numba_cache_files_are_compiled_again_with_a_note(tmp_path):
    prog, cache, module = compiled_once(tmp_path)
    numba_files = sorted((cache / "cpu" / "__pycache__").iterdir())
    assert any(f.suffix == ".nbi" for f in numba_files) and any(f.suffix == ".nbc" for f in numba_files)
    for f in numba_files:
        f.write_bytes(b"garbage\n" if f.suffix == ".nbi" else f.read_bytes()[:40])
    r = glia_cli("run", prog, "16", cache=cache, backend="cpu")
    clean(r, "987\n")
    assert f"glia: note: Numba's cache of {module} could not be used" in r.stderr
    r = glia_cli("run", prog, "17", cache=cache, backend="cpu")  # saved again: a warm run, without the note
    clean(r, "1597\n")
    assert "run manifest skipped the front end" in r.stderr and "note" not in r.stderr


def test_a_damaged_prelude_pickle_is_parsed_again(tmp_path):
    """The prelude's parsed AST is kept in the cache folder; a damaged one made every command fail."""
    prog, cache = tmp_path / "p.glia", tmp_path / "cache"
    prog.write_text("def main():\n    print(min(3, 2))\n")
    clean(glia_cli("run", "--backend", "interp", prog, cache=cache), "2\n")
    pickles = list(cache.glob("prelude-*.ast.pickle"))
    assert pickles
    for damage in (b"garbage\n", b"", b"\x80\x04K\x05."):
        for f in pickles:
            f.write_bytes(damage)
        clean(glia_cli("run", "--backend", "interp", prog, cache=cache), "2\n")


def test_auto_with_a_cache_folder_that_cannot_be_written_still_succeeds(tmp_path, monkeypatch):
    """After an interpreted run long enough to compile, the background compile could not write the
    module: E509 after the program's output, and exit status 1 for a program that ran correctly."""
    from glia.compiler.diagnostics import Source
    from glia.compiler.driver import check_source

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("GLIA_CACHE_DIR", str(blocker / "cache"))
    program = check_source(Source("ro.glia", PROGRAM.replace("fib(n - 2)", "fib(n - 2) + 0")))
    out, trace = run_auto(program, ["10"], hot_seconds=0.0)
    assert out == "55\n"
    assert "not compiled in the background: cannot write compiled code to the cache folder" in trace[-1], trace


def test_a_background_compile_killed_half_way_is_started_again(tmp_path):
    """Its lock named the process that started it (which had exited), so the program stayed interpreted
    ('a background compile is running') for the 30 minutes a lock is trusted; now the lock names the
    compiling process, and a lock whose process has ended is taken over at once."""
    import signal

    from glia.compiler import tiered
    from glia.compiler.backend_cpu import lower_program
    from glia.compiler.diagnostics import Source
    from glia.compiler.driver import check_source

    lowered = lower_program(check_source(Source("killed.glia", PROGRAM.replace("fib(n - 1)", "fib(n - 1) + 0"))))
    assert tiered.state(lowered.key) == "cold" and tiered.start_background_compile(lowered)
    lock = tiered._marker(lowered.key, "lock")
    pid = int(Path(lock).read_text().split()[0])
    assert pid != os.getpid()
    os.kill(pid, signal.SIGKILL)  # the background compile, half-way
    os.waitpid(pid, 0)
    assert os.path.exists(lock) and tiered.state(lowered.key) == "cold"
    assert tiered._take_lock(lowered.key)  # the next hot run starts the compile again
    assert tiered.state(lowered.key) == "compiling"  # (this process holds it now)
    os.remove(lock)


def test_cache_clear_says_what_it_could_not_remove(tmp_path, monkeypatch, capsys):
    """A read-only cache folder made `glia cache clear` end in a traceback (and a folder it could not
    empty was reported cleared); a file removed meanwhile by another process is no error."""
    import errno

    from glia.cli import main

    cache = tmp_path / "cache"
    (cache / "cpu" / "__pycache__").mkdir(parents=True)
    for name in ("cpu/glia_cpu_1.py", "cpu/__pycache__/glia_cpu_1.f-1.py311.nbi", "prelude-1.ast.pickle",
                 "repl_history"):
        (cache / name).write_text("x")
    monkeypatch.setenv("GLIA_CACHE_DIR", str(cache))
    real_remove = os.remove

    def read_only(path, *a, **kw):
        if path.endswith(".nbi"):
            raise OSError(errno.EROFS, "Read-only file system", path)
        if path.endswith(".pickle"):  # another `glia cache clear` got there first
            real_remove(path)
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        return real_remove(path)

    monkeypatch.setattr(os, "remove", read_only)
    assert main(["cache", "clear"]) == 1
    err = capsys.readouterr().err
    assert f"glia: could not clear {cache}: Read-only file system" in err and "Traceback" not in err, err
    assert sorted(p.name for p in cache.rglob("*")) == ["__pycache__", "cpu", "glia_cpu_1.f-1.py311.nbi",
                                                        "repl_history"]


def test_cache_info_and_clear_on_a_cache_folder_that_is_a_file(tmp_path):
    """It was reported 'empty: not created yet' and 'cleared (0 files)'."""
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine")
    for action in ("info", "clear"):
        r = glia_cli("cache", action, cache=blocker)
        assert r.returncode == 1 and f"glia: the cache folder {blocker} is not a folder" in r.stderr, r.stderr
    assert blocker.read_text() == "mine"


def test_a_module_written_while_cache_clear_removes_its_folder_is_written_again(tmp_path, monkeypatch):
    """`glia cache clear` removing the folder between the temporary file and its rename gave E509 for
    a folder that can be written: the write is tried once more."""
    from glia.compiler import backend_cpu

    path = tmp_path / "cpu" / "glia_cpu_x.py"
    rename, cleared = os.replace, []

    def cleared_first(src, dst):
        if not cleared:
            cleared.append(dst)
            for f in path.parent.iterdir():
                f.unlink()
            path.parent.rmdir()
        return rename(src, dst)

    monkeypatch.setattr(os, "replace", cleared_first)
    assert backend_cpu.write_source(str(path), "x = 1\n") == str(path)
    assert cleared and path.read_text() == "x = 1\n"
