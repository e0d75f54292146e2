"""Command-line and Python API edges found by a bug hunt: `glia compile --emit py` of a file without
`main` (a library: every function), `-o` to a path that cannot be written, a cache folder that is a
file, the REPL writing to a closed pipe, and `prog.run` given something other than a list of strings.
Each is a diagnostic or a quiet exit, never a traceback."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import glia
from glia.compiler.diagnostics import GliaError

ROOT = Path(__file__).resolve().parents[1]
LIB = "def f(x: int) -> int:\n    return x + 1\n\ndef g(xs: list[int]) -> int:\n    return len(xs)\n"


def glia_cli(*args, env=None, stdin=None):
    return subprocess.run([sys.executable, "-m", "glia", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, env=env, input=stdin)


def test_compile_emits_a_library_without_main_and_refuses_an_empty_file(tmp_path):
    lib = tmp_path / "lib.glia"
    lib.write_text(LIB)
    r = glia_cli("compile", lib, "--emit", "py")
    assert r.returncode == 0 and "def f_f(" in r.stdout and "def f_g(" in r.stdout, r.stderr
    empty = tmp_path / "empty.glia"
    empty.write_text("")
    r = glia_cli("compile", empty, "--emit", "py")
    assert r.returncode == 1 and "error[E208]" in r.stderr and "Traceback" not in r.stderr


def test_compile_to_a_path_that_cannot_be_written(tmp_path):
    lib = tmp_path / "lib.glia"
    lib.write_text(LIB)
    for out in (tmp_path, tmp_path / "missing" / "x.txt"):
        r = glia_cli("compile", lib, "--emit", "ir", "-o", out)
        assert r.returncode == 1 and "error[E509]" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_a_cache_folder_that_is_a_file_is_a_diagnostic(tmp_path):
    prog = tmp_path / "p.glia"
    prog.write_text("def main():\n    print([x * 2 for x in range(3)])\n")
    env = dict(os.environ, GLIA_CACHE_DIR=str(prog))
    r = glia_cli("run", "--backend", "cpu", prog, env=env)
    assert r.returncode == 1 and "error[E509]" in r.stderr and "cache folder" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_the_repl_stops_quietly_when_its_reader_goes_away():
    p = subprocess.Popen(f"{sys.executable} -m glia repl | head -1", shell=True, cwd=ROOT, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate("for i in range(100000):\n    print(i)\n\n", timeout=300)
    assert out == "0\n" and "Traceback" not in err and "internal error" not in err, err


@pytest.mark.parametrize("argv", [[1, 2], "ab", (b"x",)])
def test_run_takes_a_list_of_strings(argv):
    p = glia.compile("def main(args: list[str]):\n    print(args)\n")
    with pytest.raises(GliaError, match="E201"):
        p.run(argv)


def test_ctrl_c_stops_a_compiled_program(tmp_path):
    """Compiled code holds the GIL and checks no signals: `glia run` lets Ctrl-C end the process while
    it runs (compiler/stack.py) instead of waiting for a loop that may never end."""
    import signal

    prog = tmp_path / "spin.glia"
    prog.write_text("def main():\n    print('started')\n    i = 0\n    t = 0\n    while i < 100000000000000:\n"
                    "        t = (t + i) % 1000003\n        i += 1\n    print(t)\n")
    p = subprocess.Popen([sys.executable, "-m", "glia", "run", "--backend", "cpu", str(prog)], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "started\n"
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=60) == -signal.SIGINT
    finally:
        p.kill()
        p.wait()


def test_an_unknown_option_of_a_nested_subcommand_shows_its_usage():
    """`glia bench synth T --zz` printed `glia bench`'s usage line (the top subcommand's), not `glia bench
    synth`'s, whose options the user was writing."""
    r = glia_cli("bench", "synth", "T", "--zz")
    assert r.returncode == 2 and r.stderr.startswith("usage: glia bench synth ")
    assert r.stderr.endswith("glia bench synth: error: unrecognized arguments: --zz\n")
    r = glia_cli("bench", "--zz")
    assert r.returncode == 2 and r.stderr.endswith("glia bench: error: unrecognized arguments: --zz\n")


def test_run_options_may_follow_the_file_and_dashes_end_them(tmp_path):
    """`glia run FILE --backend interp` took `--backend interp` as main's arguments (argparse
    REMAINDER) and ran the default backend; options now come anywhere, and `--` ends them."""
    p = tmp_path / "a.glia"
    p.write_text("def main(args: list[str]):\n    print(args)\n")
    r = glia_cli("run", p, "a", "--backend", "interp", "b", "-v")
    assert r.returncode == 0 and r.stdout == "['a', 'b']\n", r.stderr
    r = glia_cli("run", p, "--", "--backend", "--", "x")
    assert r.returncode == 0 and r.stdout == "['--backend', '--', 'x']\n", r.stderr
    r = glia_cli("run", p, "-x")
    assert r.returncode == 2 and "glia run: error: unrecognized arguments: -x" in r.stderr and "--" in r.stderr
    r = glia_cli("run", "-v")  # (ARGS is optional: it was named among the missing ones)
    assert r.returncode == 2 and r.stderr.endswith("glia run: error: the following arguments are required: FILE\n")
    r = glia_cli("check", p, "--time", p)
    assert r.returncode == 0 and r.stdout.count("ok (1 function)") == 2, r.stderr


@pytest.mark.parametrize("backend", ["interp", "cpu", "cpu"])  # the second cpu run takes the cached manifest
def test_arguments_for_a_main_without_parameters_are_an_error(tmp_path_factory, backend):
    p = tmp_path_factory.getbasetemp() / "noargs.glia"
    p.write_text("def main():\n    print(1)\n")
    assert glia_cli("run", "--backend", backend, p).stdout == "1\n"
    r = glia_cli("run", "--backend", backend, p, "x")
    assert r.returncode == 1 and r.stdout == "" and "error[E208]" in r.stderr and "main() takes no arguments" in r.stderr
    assert "def main(args: list[str])" in r.stderr and "noargs.glia:1:1" in r.stderr, r.stderr


def test_an_output_that_is_the_input_file_is_refused(tmp_path):
    """`glia compile p.glia -o p.glia` replaced the program with generated Python, and `glia bench synth
    t.jsonl --json t.jsonl` the task file with the results; `glia synth --out` could do the same. Each
    is now E509 before anything is written (glia train already refused it)."""
    prog = tmp_path / "p.glia"
    prog.write_text(LIB)
    tasks = tmp_path / "t.jsonl"
    tasks.write_text('{"name": "t", "kind": "glia", "source": "def f(x: int) -> int:\\n    return ??\\n"}\n')
    for args, path in ((["compile", prog, "-o", tmp_path / "." / "p.glia"], prog),
                       (["synth", prog, "--out", prog], prog),
                       (["bench", "synth", tasks, "--json", tasks], tasks)):
        before = path.read_text()
        r = glia_cli(*args)
        assert r.returncode == 1 and "error[E509]" in r.stderr and "it is the input file" in r.stderr, r.stderr
        assert path.read_text() == before


@pytest.mark.parametrize("args", [["check", "{d}"], ["bench", "synth", "{d}"], ["synth", "{d}"]])
def test_a_directory_given_as_a_file(tmp_path, args):
    """`glia bench synth DIR` said "DIR is a directory, not a .glia file" of a task file."""
    r = glia_cli(*[a.format(d=tmp_path) for a in args])
    assert r.returncode == 1 and f"error[E509]: {tmp_path} is a directory, not a file" in r.stderr, r.stderr


@pytest.mark.parametrize("text, said", [(3, "not int; glia.load(path) reads a .glia file"),
                                        (b"def f() -> int:\n    return 1\n", "not bytes (decode it first")])
def test_compile_of_something_other_than_text_is_a_located_type_error(text, said):
    """`glia.compile(3)` was AttributeError: 'int' object has no attribute 'endswith', from inside."""
    with pytest.raises(TypeError) as info:
        glia.compile(text)
    d = info.value.diagnostic
    assert d.code == "E201" and said in d.message and d.source.name == __file__
