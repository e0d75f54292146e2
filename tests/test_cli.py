"""The `glia` command line as a user meets it: exit codes, diagnostics on stderr, no tracebacks."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import glia
from glia import cli


def run_glia(*args, cwd=None, stdin=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "glia", *args], capture_output=True, text=True, cwd=cwd,
                          input=stdin, timeout=timeout)


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_version():
    r = run_glia("--version")
    assert r.returncode == 0
    assert r.stdout.strip() == f"glia {glia.__version__}"


def test_no_command_is_usage_error():
    r = run_glia()
    assert r.returncode == 2
    assert "usage" in r.stderr.lower()


def test_unknown_command_and_missing_file_argument():
    assert run_glia("frobnicate").returncode == 2
    r = run_glia("run")
    assert r.returncode == 2 and "FILE" in r.stderr


@pytest.mark.parametrize("cmd", [[], ["check"], ["run"]])
def test_help(cmd):
    r = run_glia(*cmd, "--help")
    assert r.returncode == 0
    assert "usage" in r.stdout.lower()


def test_check_ok_and_error(tmp_path):
    good = write(tmp_path, "good.glia", """
        def double(x: int) -> int:
            return 2 * x
    """)
    bad = write(tmp_path, "bad.glia", """
        def double(x: int) -> int:
            return 2 * y
    """)
    r = run_glia("check", str(good))
    assert r.returncode == 0 and "ok" in r.stdout
    r = run_glia("check", str(good), str(bad))
    assert r.returncode == 1
    assert f"{bad}:3:16: error[E101]: undefined name 'y'" in r.stderr
    assert "3 |     return 2 * y" in r.stderr and "^" in r.stderr
    assert "Traceback" not in r.stderr


def test_check_missing_file_is_a_diagnostic(tmp_path):
    r = run_glia("check", str(tmp_path / "nope.glia"))
    assert r.returncode == 1
    assert "E509" in r.stderr and "no such file" in r.stderr
    assert "Traceback" not in r.stderr


def test_check_not_utf8(tmp_path):
    p = tmp_path / "latin1.glia"
    p.write_bytes(b"def main():\n    print('\xe9')\n")
    r = run_glia("check", str(p))
    assert r.returncode == 1 and "UTF-8" in r.stderr and "Traceback" not in r.stderr


def test_check_refuses_a_main_glia_run_would_refuse(tmp_path):
    p = write(tmp_path, "m.glia", """
        def main() -> str:
            return "x"
    """)
    r = run_glia("check", str(p))
    assert r.returncode == 1 and f"{p}:2:1: error[E208]: main must return" in r.stderr, r.stderr
    lib = write(tmp_path, "lib.glia", """
        def f() -> str:
            return "x"
    """)
    assert run_glia("check", str(lib)).returncode == 0  # no main: a library


def test_a_byte_order_mark_is_dropped(tmp_path):
    # some Windows editors start UTF-8 files with a BOM; Python reads such files, and so does Glia,
    # with the columns of the first line as the user sees them
    p = tmp_path / "bom.glia"
    p.write_bytes(b"\xef\xbb\xbfdef main():\n    x: int = 'a'\n")
    r = run_glia("check", str(p))
    assert r.returncode == 1 and f"{p}:2:14: error[E201]" in r.stderr, r.stderr
    p.write_bytes(b"\xef\xbb\xbfdef main():\n    print('h\xc3\xa9')\n")
    r = run_glia("run", str(p))
    assert r.returncode == 0 and r.stdout == "h\u00e9\n", r.stderr


def test_syntax_error_names_expected_tokens(tmp_path):
    p = write(tmp_path, "syn.glia", """
        def f(x: int) -> int
            return x
    """)
    r = run_glia("check", str(p))
    assert r.returncode == 1
    assert ":2:21: error[E001]" in r.stderr
    assert "expected" in r.stderr and "':'" in r.stderr


@pytest.mark.parametrize("text,line_col,hint", [
    ("def f(x: int) -> int:\n    y = [1, 2\n    return y\n", "3:5", "the '[' at line 2, column 9 is never closed"),
    ("def f() -> int:\n    y = g(1,\n       \"a)(\",  # ) (\n    2\n    return y\n", "5:5",
     "the '(' at line 2, column 10 is never closed"),
    ("def f() -> int:\n    y = {1: (2,\n", "2:16", "the '(' at line 2, column 13 is never closed"),
])
def test_a_bracket_never_closed_is_named(tmp_path, text, line_col, hint):
    """An unclosed bracket makes the error appear on a later line: the message says where it opened
    (brackets inside strings and comments do not count)."""
    p = tmp_path / "open.glia"
    p.write_text(text)
    r = run_glia("check", str(p))
    assert r.returncode == 1 and f":{line_col}: error[E001]" in r.stderr and hint in r.stderr, r.stderr


def test_run_passes_arguments_and_exit_status(tmp_path):
    p = write(tmp_path, "args.glia", """
        def main(args: list[str]) -> int:
            print(len(args), args)
            return 3
    """)
    r = run_glia("run", str(p), "a", "--", "--flag", "b c")  # after `--`, words with a dash are main's too
    assert r.stdout == "3 ['a', '--flag', 'b c']\n"
    assert r.returncode == 3


def test_runtime_error_keeps_output_and_shows_call_chain(tmp_path):
    p = write(tmp_path, "boom.glia", """
        def get(xs: list[int], i: int) -> int:
            return xs[i]

        def main():
            print("before")
            print(get([1, 2, 3], 5))
    """)
    r = run_glia("run", str(p))
    assert r.returncode == 1
    assert r.stdout == "before\n"
    assert f"{p}:3:12: error[E501]: index 5 out of range for a list of length 3" in r.stderr
    assert "in get(), called from here" in r.stderr and ":7:11" in r.stderr
    assert "Traceback" not in r.stderr


def test_calls_of_function_values_show_in_the_call_chain(tmp_path):
    """A function called through a value (`h = pick; h(...)`, `grad(loss)(...)`) gets the note a direct
    call gets, in the interpreter; compiled code says where the calls can be seen."""
    p = write(tmp_path, "values.glia", """
        def pick(xs: list[float], i: int) -> float:
            return xs[i]

        def loss(w: float) -> float:
            h = pick
            return w * h([1.0, 2.0], 2)

        def main():
            print(grad(loss)(0.5))
    """)
    r = run_glia("run", "--backend", "interp", str(p))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert f"{p}:3:12: error[E501]: index 2 out of range for a list of length 2" in r.stderr
    assert f"note: {p}:7:16: in pick(), called from here" in r.stderr
    assert f"note: {p}:10:11: in loss(), called from here" in r.stderr
    c = run_glia("run", "--backend", "cpu", str(p))
    assert c.returncode == 1 and f"{p}:3:12: error[E501]: index 2 out of range" in c.stderr
    assert "compiled code does not record the calls that led here" in c.stderr


def test_an_error_inside_the_prelude_names_the_calls_that_lead_there(tmp_path):
    """A runtime error compiled code raised inside a prelude function (heappop of an empty heap,
    dijkstra from a node the graph lacks) named only a line of the prelude; the interpreter notes the
    user's call. Now compiled code names the program's calls leading into that prelude function: the
    one there is (dijkstra, called in main: nothing more to say), or each it may have been (heappop,
    called in helper and, through dijkstra, in main). The same with the run manifest (warm run)."""
    p = write(tmp_path, "heap.glia", """
        def helper(h: list[int]) -> int:
            return heappop(h)

        def main(args: list[str]):
            adj: list[list[(int, float)]] = [[(1, 1.0)], []]
            if args[0] == "0":
                print(dijkstra(adj, 5))
            h: list[int] = []
            print(helper(h))
    """)
    i = run_glia("run", "--backend", "interp", str(p), "0")
    assert f"note: {p}:8:15: in dijkstra(), called from here" in i.stderr
    env = {**os.environ, "GLIA_CACHE_DIR": str(tmp_path / "cache")}
    for _ in ("cold", "warm"):
        c = subprocess.run([sys.executable, "-m", "glia", "run", "--backend", "cpu", str(p), "0"], capture_output=True, text=True,
                           env=env, timeout=600)
        assert c.returncode == 1 and "dijkstra: the source node is 5" in c.stderr
        assert c.stderr.endswith(f"note: {p}:8:15: in dijkstra(), called from here\n"), c.stderr
        c = subprocess.run([sys.executable, "-m", "glia", "run", "--backend", "cpu", str(p), "1"], capture_output=True, text=True,
                           env=env, timeout=600)
        assert "heappop from an empty heap" in c.stderr
        assert f"note: {p}:3:12: in heappop(), called from here or from its other call (compiled code does not " \
               f"record which)\n  note: {p}:8:15: or from here\n  note: compiled code does not record the calls" in c.stderr


def test_run_without_main(tmp_path):
    p = write(tmp_path, "lib.glia", """
        def f() -> int:
            return 1
    """)
    r = run_glia("run", str(p))
    assert r.returncode == 1 and "E208" in r.stderr


@pytest.mark.parametrize("backend", ["auto", "interp", "cpu"])
def test_run_reads_stdin(tmp_path, backend):
    p = write(tmp_path, "echo.glia", """
        def main():
            line = input("> ")
            while line != "":
                print(line.upper())
                line = input()
    """)
    r = run_glia("run", "--backend", backend, str(p), stdin="ab\ncd\n")
    assert r.returncode == 0 and r.stdout == "> AB\nCD\n" and r.stderr == ""


def test_deep_recursion_is_a_diagnostic_not_a_crash(tmp_path):
    p = write(tmp_path, "deep.glia", """
        def depth(n: int) -> int:
            if n == 0:
                return 0
            return 1 + depth(n - 1)

        def main():
            print(depth(15000))
            print(depth(10000000))
    """)
    r = run_glia("run", str(p))
    assert r.stdout == "15000\n"
    assert r.returncode == 1 and "E505" in r.stderr and "Traceback" not in r.stderr


def test_internal_error_is_reported_as_a_bug(tmp_path, monkeypatch, capsys):
    p = write(tmp_path, "ok.glia", "def main():\n    print(1)\n")
    import glia.compiler.driver as driver

    def broken(*a, **k):
        raise RuntimeError("simulated compiler bug")

    monkeypatch.setattr(driver, "check_source", broken)
    code = cli.main(["run", str(p)])
    err = capsys.readouterr().err
    assert code == 3
    assert "internal error" in err and "bug in Glia" in err and "simulated compiler bug" in err


def test_error_in_call_arguments_is_not_blamed_on_the_callee(tmp_path):
    p = write(tmp_path, "args_err.glia", """
        def count(xs: list[str]) -> int:
            return len(xs)

        def main(args: list[str]):
            print(count([args[0]]))
    """)
    r = run_glia("run", str(p))
    assert r.returncode == 1
    assert ":6:18: error[E501]" in r.stderr
    assert "called from" not in r.stderr


def test_compile_emits_each_stage(tmp_path):
    p = write(tmp_path, "sq.glia", """
        def sq(x: int) -> int:
            return x * x

        def main():
            print(sq(7))
        """)
    r = run_glia("compile", str(p), "--emit", "ast")
    assert r.returncode == 0 and "FuncDef @2:1 name='sq'" in r.stdout and "BinOp" in r.stdout
    r = run_glia("compile", str(p), "--emit", "ir")
    assert r.returncode == 0 and "def sq(x: int) -> int:" in r.stdout and "int.mul(x, x)" in r.stdout
    bad = write(tmp_path, "bad.glia", "def main():\n    print(y)\n")
    r = run_glia("compile", str(bad), "--emit", "ir")
    assert r.returncode == 1 and "bad.glia:2:11" in r.stderr and "Traceback" not in r.stderr


def test_cache_info_and_clear(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("GLIA_CACHE_DIR", str(cache))
    p = write(tmp_path, "ok.glia", "def main():\n    print(1)\n")
    assert run_glia("check", str(p)).returncode == 0  # builds the parser tables into the cache
    (cache / "repl_history").write_text("+1\n")
    r = run_glia("cache", "info")
    assert r.returncode == 0 and str(cache) in r.stdout and "parser tables" in r.stdout
    import glia.runtime
    runtime = os.path.join(os.path.dirname(glia.runtime.__file__), "__pycache__")
    assert "runtime helpers" in r.stdout and (runtime in r.stdout or "numba" in r.stdout.lower())
    r = run_glia("cache", "clear")
    assert r.returncode == 0 and "cleared" in r.stdout
    assert sorted(x.name for x in cache.iterdir()) == ["repl_history"]  # the user's history is kept
    assert run_glia("cache", "bogus").returncode == 2


def test_unknown_backend_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GLIA_BACKEND", "gpu9")
    p = write(tmp_path, "ok.glia", "def main():\n    print(1)\n")
    r = run_glia("run", str(p))
    assert r.returncode == 2 and "unknown backend 'gpu9'" in r.stderr


@pytest.mark.slow
def test_run_on_the_cpu_backend(tmp_path):
    """`--backend cpu` compiles (a fallback would print a note), matches the interpreter, and
    `glia compile --emit py` shows the generated module it runs."""
    p = write(tmp_path, "prog.glia", """
        CITIES = ["a", "b", "c"]

        def total(xs: list[int]) -> int:
            s = 0
            for x in xs:
                s += x
            return s

        def main(args: list[str]):
            counts: dict[str, int] = {}
            for w in args:
                counts[w] = counts.get(w, 0) + 1
            print(counts, total([len(w) for w in args]), CITIES[1].upper(), 2.5 / 3)
            print(int(args[0]) * 2)
        """)
    cpu = run_glia("run", "--backend", "cpu", str(p), "21", "x", "x", timeout=1200)  # a cold compile
    interp = run_glia("run", "--backend", "interp", str(p), "21", "x", "x")
    assert cpu.returncode == 0 and cpu.stderr == "", cpu.stderr
    assert cpu.stdout == interp.stdout == "{'21': 1, 'x': 2} 4 B 0.8333333333333334\n42\n"
    r = run_glia("compile", str(p), "--emit", "py", timeout=600)
    assert r.returncode == 0 and "@njit(" in r.stdout and "def f_total(" in r.stdout
    bad = run_glia("run", "--backend", "cpu", str(p), "nope", timeout=600)
    assert bad.returncode == 1 and "E506" in bad.stderr and "prog.glia:15:11" in bad.stderr
