"""The REPL: the session in process, `glia repl` through a pipe, and through a pseudo-terminal.

The in-process tests drive `Session` directly (fast, exact); the pipe test runs the real command
with a script on stdin; the terminal test runs it under pexpect (prompt_toolkit, highlighting,
multi-line entry, Tab completion, history), the way a person uses it.
"""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from glia.compiler.entry_syntax import entry_complete
from glia.compiler.syntax import parse_expr_or_stmt_complete
from glia.repl import entries, next_indent, should_run
from glia.session import Session

ROOT = Path(__file__).resolve().parents[1]


class Run:
    def __init__(self):
        self.out, self.err = io.StringIO(), io.StringIO()
        self.session = Session(self.out, self.err)

    def __call__(self, text: str) -> str:
        """Run one entry; what it printed (stdout), with its diagnostics (stderr) after."""
        n_out, n_err = len(self.out.getvalue()), len(self.err.getvalue())
        self.session.execute(text)
        return self.out.getvalue()[n_out:] + self.err.getvalue()[n_err:]


@pytest.fixture
def run():
    return Run()


def test_values_print_with_their_types(run):
    assert run("[1, 2]") == "[1, 2] : list[int]\n"
    assert run("{'a': (1, 2.5)}") == "{'a': (1, 2.5)} : dict[str, (int, float)]\n"
    assert run("print('hi')") == "hi\n"  # a None value is not shown
    assert run("(lambda x: x + 1)(2)") == "3 : int\n"


def test_variables_persist_and_nothing_runs_twice(run):
    assert run("xs = [3, 1, 2]") == ""
    assert run("print('side effect')\nn = len(xs)") == "side effect\n"
    assert run("xs.append(n)") == ""
    assert run("sorted(xs)") == "[1, 2, 3, 3] : list[int]\n"
    assert run("total = 0\nfor x in xs:\n    total += x\n\ntotal") == "9 : int\n"
    assert run("total += 1") == ""
    assert run("total") == "10 : int\n"
    assert run("total = 'ten'") == ""  # rebinding at the top gives the variable a new type
    assert run("total") == "'ten' : str\n"


def test_a_struct_named_t_holding_itself(run):
    """A struct named T (the session's own placeholder function had a type parameter T: every entry
    was E102 "type parameter 'T' shadows a type"), a tree that holds itself compared and printed."""
    assert run("struct T:\n    v: int\n    kids: list[T]\n") == ""
    assert run("a = T(1, [])\na.kids.append(a)") == ""
    assert run("a == a") == "True : bool\n"
    assert run("print(a)") == "T(v=1, kids=[T(v=1, kids=[...])])\n"
    assert run("T(1, []) in a.kids") == "False : bool\n"


def test_a_new_signature_drops_the_examples_that_no_longer_fit(run):
    """Once `examples f:` was entered, f could not change its signature: the redefinition was refused
    because of the old examples, and new examples because of the old f."""
    run("def f(x: int) -> int:\n    return x\n")
    run("examples f:\n    1 -> 1\n")
    run("def f(x: int) -> int:\n    return x + 0\n")  # the examples still fit: they stay
    assert run.session.examples.keys() == {"f"}
    out = run("def f(x: str) -> str:\n    return x\n")
    assert out == "note: the examples of f were dropped: they do not fit its new definition\n"
    assert run("examples f:\n    'a' -> 'a'\n") == "" and run("f('q')") == "'q' : str\n"
    assert "error[E203]" in run("def f(x: str) -> str:\n    return x + 1\n")  # its own error, examples kept
    assert run.session.examples.keys() == {"f"}


def test_a_new_signature_drops_the_functions_that_call_the_old_one(run, tmp_path):
    """Piped input enters each definition alone, so g could not change its signature once f called it:
    the redefinition was refused with f's E202 and no word about f. Now f (with its examples) and h,
    which calls f, are dropped with a note saying why; entering f again brings it back."""
    run("def g(x: int) -> int:\n    return x + 1\n")
    run("def f(x: int) -> int:\n    return g(x)\n\ndef h(x: int) -> int:\n    return f(x) * 2\n")
    run("examples f:\n    1 -> 2\n")
    out = run("def g(x: int, y: int) -> int:\n    return x + y\n")
    assert out == ("note: function f (and its examples) was dropped: it no longer checks with the new g "
                   "(<repl:2>:2:12: error[E202]: g() takes 2 arguments, but 1 was given); enter it again to use it\n"
                   "note: function h was dropped: it no longer checks with the new g (<repl:2>:5:12: "
                   "error[E101]: undefined name 'f'); enter it again to use it\n")
    assert "undefined name 'f'" in run("f(1)") and run("g(1, 2)") == "3 : int\n"
    assert run("def f(x: int) -> int:\n    return g(x, 1)\n") == "" and run("f(2)") == "3 : int\n"
    assert "error[E203]" in run("def g(x: int, y: int) -> int:\n    return x + 'a'\n")  # its own error: refused
    assert run("f(2)") == "3 : int\n"
    script = tmp_path / "s.txt"  # the same through a pipe, where each definition is an entry of its own
    script.write_text("def g(x: int) -> int:\n    return x\ndef f(x: int) -> int:\n    return g(x)\n"
                      "def g(x: int, y: int) -> int:\n    return x + y\ndef f(x: int) -> int:\n    return g(x, 1)\nf(2)\n")
    r = subprocess.run([sys.executable, "-m", "glia", "repl"], stdin=script.open(), capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("note: function f was dropped") and r.stdout.endswith("3 : int\n")


def test_del_forgets_variables_and_definitions(run):
    """`del x` was E209 (Glia's del takes an item), so a name once bound stayed for good: `f = 3` kept
    `def f` out of the session forever."""
    run("f = 3\nK = 2")
    assert run("del f") == "" and "undefined name 'f'" in run("f")
    run("def f() -> int:\n    return K\n")
    out = run("del K")  # f still reads K: refused, with f's diagnostic
    assert "error[E101]: undefined name 'K'" in out and "nothing was deleted" in out and run("K") == "2 : int\n"
    assert run("del f, K  # both") == "" and "undefined name 'K'" in run("K")
    run("struct S:\n    a: int\n")
    run("s = S(1)\nxs = [1, 2]")
    assert "variable s holds a S: del s too" in run("del S")
    assert run("del S, s") == "" and "undefined name 'S'" in run("S(1)")  # (in either order)
    assert "undefined name 'nope'" in run("del nope")
    for name in ("len", "pi", "relu"):  # (they said "undefined name", which they are not)
        assert f"error[E101]: '{name}' is built in: `del` forgets the session's own variables and definitions" \
            in run(f"del {name}")
    assert run("len([1])") == "1 : int\n"
    assert run("del xs[0]") == "" and run("xs") == "[2] : list[int]\n"  # an item, as before


def test_del_of_names_inside_a_paste(run):
    """`del f` worked only as a whole entry: pasted with other pieces (`del f` then `struct f:`), the
    paste was E001 at the next line, as Glia code's del takes an item."""
    run("def f(x: int) -> int:\n    return x\n")
    assert run("del f\nstruct f:\n    a: int\n\nf(1)") == "f(a=1) : f\n"
    assert run("x = 1\ndel x\nx = [2, 3]\ndel x[0]\nx") == "[3] : list[int]\n"


def test_a_cpu_note_names_the_entry(run):
    run("struct N:\n    kids: list[N]\n")
    run("def size(n: N) -> int:\n    return 1 + len(n.kids)\n")
    run(":backend cpu")
    out = run("size(N([]))")
    assert out.startswith("1 : int\nglia: note: size runs in the interpreter") and out.endswith("(at <repl:2>:1:1)\n")


def test_a_cpu_note_about_a_function_value_names_no_internal_function(run):
    """A function reading a session variable of function type runs interpreted under :backend cpu;
    the note said "(here apply's parameter 'f')", naming the backend's own dispatcher."""
    run("def f(x: int) -> int:\n    return x + 1\n")
    run("h = f")
    run("def g(x: int) -> int:\n    return h(x) * 2\n")
    run(":backend cpu")
    out = run("g(1)")
    assert out.startswith("4 : int\nglia: note: g runs in the interpreter") and "apply" not in out, out
    assert "(here a call of a fn(int) -> int value)" in out


def test_a_redefined_struct_drops_the_variables_holding_its_old_values(run):
    """A struct holding a redefined one drops its variables too (`a.b.y` read B's old int as a str,
    and len() of it was an internal error); a struct defined again as it was (:reload) keeps them."""
    run("struct B:\n    x: int\n")
    run("struct A:\n    b: B\n")
    run("a = A(B(1))\nb = B(2)\nbs = {1: [B(3)]}\nn = 4")
    assert run("struct B:\n    x: int\n") == ""  # the same fields, the same types: nothing to drop
    assert run("a.b.x + b.x + bs[1][0].x") == "6 : int\n"
    out = run("struct B:\n    y: str\n")
    assert out == "".join(f"note: variable {v} was dropped: its type uses a struct that was redefined\n"
                          for v in ("a", "b", "bs"))
    assert "undefined name 'a'" in run("len(a.b.y)")
    assert run("n") == "4 : int\n"
    assert run("len(A(B('abc')).b.y)") == "3 : int\n"


def test_definitions_accumulate_and_see_variables(run):
    run("K = 10")
    run("def scale(x: int) -> int:\n    return x * K\n")
    assert run("scale(2)") == "20 : int\n"
    run("K = 3")
    assert run("scale(2)") == "6 : int\n"
    out = run("K = 'x'")  # scale uses K as an int: the rebinding is refused
    assert "error[E201]" in out and "K stays an int" in out
    assert run("K") == "3 : int\n"
    run("def scale(x: int) -> int:\n    return x + K\n")  # a new definition replaces the old
    assert run("scale(2)") == "5 : int\n"
    run("struct P:\n    x: int\n    y: int\n")
    run("p = P(1, 2)")
    run("p.x = 7")
    assert run("p") == "P(x=7, y=2) : P\n"


def test_errors_never_end_the_session(run):
    out = run("1 // 0")
    assert out.startswith("<repl:1>:1:1: error[E503]: integer division by zero")
    out = run("def f(x: int) -> int:\n    return x + 'a'\n")
    assert out.startswith("<repl:2>:2:12: error[E203]: operator '+' is not defined for int and str")
    assert "error[E101]: undefined name 'f'" in run("f(1)")  # the bad definition was not kept
    out = run("y = 1\ny +")
    assert out.startswith("<repl:4>:2:4: error[E001]: unexpected end of the file")
    assert "undefined name 'y'" in run("y")  # a failed entry binds nothing
    assert "'return' outside a function" in run("return 1")
    assert run("1 + 1") == "2 : int\n"
    assert run.session.errors == 6


def test_a_paste_of_definitions_and_statements(run, tmp_path):
    out = run("def sq(n: int) -> int:\n    return n * n\nprint(sq(3))\nsq(4)")
    assert out == "9\n16 : int\n"
    # consecutive definitions of a paste are defined together (even called odd before odd existed), a
    # function may read a global that follows it, and a global bound twice is rebound (E102 before)
    assert run("def even(n: int) -> bool:\n    return True if n == 0 else odd(n - 1)\n\n"
               "def odd(n: int) -> bool:\n    return False if n == 0 else even(n - 1)\n\nprint(even(4))") == "True\n"
    assert run("def twice() -> int:\n    return K * 2\nK = 3\ntwice()") == "6 : int\n"
    assert run("x = 1\nx = x + 1") == "" and run("x") == "2 : int\n"
    assert run("def f() -> int:\n    return y\ny = 2\ny = 3\nf()") == "3 : int\n"
    # a struct defined again in a paste replaces it from there on, as typed (both were one group)
    out = run("struct P:\n    x: int\np = P(1)\nstruct P:\n    x: int\n    y: int\nq = P(1, 2)\nq")
    assert out == "note: variable p was dropped: its type uses a struct that was redefined\nP(x=1, y=2) : P\n"
    (tmp_path / "dup.glia").write_text("X = 1\nX = 2\n")  # a loaded file is still checked as a file
    assert "error[E102]: 'X' is already defined" in run(f":load {tmp_path / 'dup.glia'}")
    # a name that begins with `else` starts a piece of its own (it was taken for an `else:` branch)
    out = run("def one() -> int:\n    return 1\nelse_count = 2\nelse_count + one()")
    assert out == "3 : int\n"
    script = ["if True:", "    a = 1", "elsewhere = 3", "else_count = 2", "if a > 1:", "    a = 0", "else:",
              "    a = 2"]
    assert list(entries(script)) == ["if True:\n    a = 1", "elsewhere = 3", "else_count = 2",
                                     "if a > 1:\n    a = 0\nelse:\n    a = 2"]


def test_commands(run, tmp_path):
    lib = tmp_path / "lib.glia"
    lib.write_text("LIMIT = 5\n\ndef clip(x: int) -> int:\n    return min(x, LIMIT)\n")
    assert run(f":load {lib}") == f"loaded {lib}\n"
    assert run("clip(9)") == "5 : int\n"
    lib.write_text("LIMIT = 7\n\ndef clip(x: int) -> int:\n    return min(x, LIMIT)\n")
    assert run(":reload") == f"loaded {lib}\n"
    assert run("clip(9)") == "7 : int\n"
    assert run(":type [clip(1)]") == "list[int]\n"
    ir = run(":ir clip")
    assert ir.startswith(f"def clip(x: int) -> int:    # 1 slot, {lib}:3") and "return min" in ir.replace("int.min", "min")
    assert "def bfs(adj: list[list[int]], start: int) -> list[int]" in run(":ir bfs")
    emit = run(":emit clip")  # the CPU backend's code, or the IR with the reason it cannot compile it
    assert "def f_clip(" in emit or ("cannot compile" in emit and "def clip(" in emit)
    timed = run(":time clip(1)")
    assert timed.startswith("1 : int\ntime: ")
    assert "no parameters" in run(":params")
    assert "error: no data to train clip on" in run(":train clip")
    assert "error: clip has no hole" in run(":synth clip")
    assert "error: no function named 'nope'" in run(":synth nope")
    assert "error: usage: :train NAME" in run(":train")
    assert run(":train clip lr=0.1 lr=0.2") == "error: lr is given twice\n"  # (the last one was taken)
    assert run(":backend") == "backend: interp (available: cpu, interp)\n"
    assert "unknown backend 'gpu'" in run(":backend gpu")
    assert ":ir NAME" in run(":help")
    assert "def clip(x: int) -> int" in run(":defs") and "LIMIT : int" in run(":defs")
    assert "unknown command" in run(":frobnicate")
    assert "usage: :type EXPR" in run(":type")
    error = run(f":load {tmp_path / 'missing.glia'}")
    assert "error[E509]" in error
    run(":quit")
    assert run.session.quit


def test_type_and_emit_of_holes_generics_and_builtins(run):
    """`:type ??` said `found ?$result` (the session's own variable); `:type` of a generic function was
    E205 with an annotation hint, `:emit` of one said "used as a value", `:ir heappush` (a generic of
    the prelude) was E205 at no place, and `:ir sorted` said there is no function named sorted."""
    out = run(":type ??")
    assert "E205" in out and "$" not in out and "a hole takes its type from where it stands" in out
    run("def first[T](xs: list[T]) -> T:\n    return xs[0]\n")
    assert run(":type first") == "fn(list[T]) -> T  (generic in T)\n"
    assert run(":type heappop") == "fn(list[T]) -> T  (generic in T)\n"
    assert run(":type first([1.5])") == "float\n"
    out = run(":emit first")
    assert out.startswith("# first is generic: the CPU backend compiles a copy of it for each binding of T")
    assert "used as a value" not in out and "def first[T](xs: list[T]) -> T:" in out
    assert run("del first") == "" and run("struct T:\n    a: int\n") == ""  # (the prelude's type parameter T is no clash)
    assert run(":ir heappush").startswith("def heappush[T](h: list[T], x: T) -> None:")
    assert run(":ir sorted") == "error: sorted is a builtin: each backend implements it itself, so it has no " \
                                "typed IR or generated code of its own\n"


def test_ir_of_a_struct_or_variable_says_what_it_is(run):
    """`:ir P` of a struct P (or `:emit xs` of a variable) said "no function named 'P'", though P exists."""
    run("struct P:\n    x: int\n")
    run("xs = [1]")
    assert run(":ir P") == "error: P is a struct, not a function: :ir and :emit show functions\n"
    assert run(":emit xs") == "error: xs is a variable, not a function: :ir and :emit show functions\n"
    assert run(":ir nope").startswith("error: no function named 'nope'")


def test_an_entry_of_unknown_type_gets_an_annotation_like_it_needs(run):
    """E205 suggested `xs: list[int] = []` for every unsolved type: a lambda, an empty dict or set too."""
    for entry, hint in (("g = lambda a: a", "`f: fn(int) -> int = lambda x: x`"), ("d = {}", "`d: dict[str, int] = {}`"),
                        ("s = set()", "`s: set[int] = set()`"), ("xs = []", "`xs: list[int] = []`")):
        out = run(entry)
        assert "error[E205]" in out and f"add an annotation, e.g. {hint}\n" in out, out
    assert run("g: fn(int) -> int = lambda x: x") == "" and run("g(2)") == "2 : int\n"


def test_completion_names(run):
    run("def fibonacci(n: int) -> int:\n    return n\n")
    run("words = ['a']")
    names = run.session.names()
    assert {"fibonacci", "words", "print", "while", "heappush", "math"} <= set(names)
    assert "append" in run.session.attributes("words") and "sqrt" in run.session.attributes("math")


def test_entry_completeness():
    for text in ("x = 1", "1 + 2", "print(1)", "def f(x: int) -> int:\n    return x\n", "1 2", "x = )"):
        assert entry_complete(text) and parse_expr_or_stmt_complete(text), text
    for text in ("for i in range(3):", "xs = [1,", "def f(x: int) -> int:", "'''doc", "f(1,\n  2"):
        assert not entry_complete(text) and not parse_expr_or_stmt_complete(text), text
    assert should_run("x = 1") and not should_run("if x:") and not should_run("def f():\n    pass")
    assert should_run("def f():\n    pass\n")
    # `train` and `examples` are also names: Enter runs `train = 2` (it waited for an empty line)
    assert should_run("train = 2") and should_run("examples[0]") and should_run("train")
    assert not should_run("train f on \"d.npz\":") and not should_run("examples f:")
    # a comment that ends with ':' opens no block (Enter waited for an empty line, and indented)
    assert should_run("x = 1  # note:") and should_run("s = '#' + 'a'  # b:") and next_indent("x = 1  # c:") == ""
    assert next_indent("if x:  # when") == "    " and next_indent("    for c in '#:':") == "        "
    script = ["x = 1", "def f(a: int) -> int:", "    return a", "f(2)", "for i in range(2):", "    print(i)", "",
              ":type x", "# a comment", "xs = [1,", "  2]"]
    assert list(entries(script)) == ["x = 1", "def f(a: int) -> int:\n    return a", "f(2)",
                                     "for i in range(2):\n    print(i)", ":type x", "xs = [1,\n  2]"]


def test_a_line_continuation_before_an_empty_line_ends_the_entry():
    """`x = 1 + \\` then an empty line waited for more (at the prompt and in a script), so the next entry
    (`x = 2`) was read into it and lost with its error; as in Python, the empty line ends the entry."""
    assert not should_run("x = 1 + \\") and should_run("x = 1 + \\\n") and should_run("x = 1 + \\\n  2")
    assert entry_complete("x = 1 + \\\n") and not entry_complete("x = 1 + \\")
    script = ["x = 1 + \\", "", "x = 2", "y = 1 + \\", "  3"]
    assert list(entries(script)) == ["x = 1 + \\\n", "x = 2", "y = 1 + \\\n  3"]
    out, err = io.StringIO(), io.StringIO()
    s = Session(out, err)
    for entry in entries(script + ["x + y"]):
        s.execute(entry)
    assert "a line continuation '\\' with nothing after it" in err.getvalue()
    assert out.getvalue() == "6 : int\n"


def test_highlighting_lexer():
    from pygments.token import Keyword, Name, Number, String

    from glia.highlight import GliaLexer

    tokens = [(t, v) for t, v in GliaLexer().get_tokens("def f(x: int) -> str:\n    return str(x) + 'a' # c\nh = ??\n")
              if v.strip()]
    assert (Keyword, "def") in tokens and (Name.Function, "f") in tokens and (Keyword.Type, "int") in tokens
    assert (Name.Builtin, "str") not in tokens  # `str` is a type name
    assert any(t in String for t, v in tokens if v == "'a'") and (Keyword.Pseudo, "??") in tokens
    assert any(t in Number for t, v in GliaLexer().get_tokens("0x1f 1.5e3 2"))
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '[project.entry-points."pygments.lexers"]\nglia = "glia.highlight:GliaLexer"' in pyproject


def _env(tmp_path) -> dict:
    """The environment of a `glia` subprocess: this test session's cache folder (conftest.py; its
    parser tables are built once), a terminal that prompt_toolkit can drive without replies."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(TERM="xterm-256color", PROMPT_TOOLKIT_NO_CPR="1")
    env.pop("NO_COLOR", None)
    return env


def test_repl_through_a_pipe(tmp_path):
    script = "\n".join([
        "xs = [3, 1, 2]",
        "sorted(xs)",
        "def fib(n: int) -> int:",
        "    if n < 2:",
        "        return n",
        "    return fib(n - 1) + fib(n - 2)",
        "fib(10)",
        "1 // 0",
        "for x in xs:",
        "    print(x * 10)",
        "",
        ":type fib",
        "fib(11)",
    ]) + "\n"
    p = subprocess.run([sys.executable, "-m", "glia", "repl"], input=script, capture_output=True, text=True,
                       env=_env(tmp_path), timeout=60)
    assert p.stdout == "[1, 2, 3] : list[int]\n55 : int\n30\n10\n20\nfn(int) -> int\n89 : int\n"
    assert p.stderr.startswith("<repl:5>:1:1: error[E503]: integer division by zero\n")
    assert p.returncode == 1  # an entry failed
    p = subprocess.run([sys.executable, "-m", "glia", "repl", "--backend", "cpu"], input=":backend\n",
                       capture_output=True, text=True, env=_env(tmp_path), timeout=60)  # (refused: only interp)
    assert p.stdout.startswith("backend: cpu ") and p.returncode == 0


def test_repl_in_a_terminal(tmp_path):
    pexpect = pytest.importorskip("pexpect", reason="pexpect is not installed (pip install -e '.[test]')")
    child = pexpect.spawn(sys.executable, ["-m", "glia", "repl"], env=_env(tmp_path), encoding="utf-8",
                          timeout=30, dimensions=(30, 120))
    screen = io.StringIO()
    child.logfile_read = screen
    try:
        child.expect("Glia .*:help lists the commands")
        child.expect(">>>")
        # a multi-line definition: Enter indents after ':', Backspace dedents, an empty line ends it
        child.send("def fibonacci(n: int) -> int:\r")
        child.send("if n < 2:\r")
        child.send("return n\r")
        child.send("\x7f" * 4 + "return fibonacci(n - 1) + fibonacci(n - 2)\r")
        child.send("\r")
        child.expect(">>>")
        child.send("fibo\t(10)\r")  # Tab completes the name
        child.expect("55 : int")
        child.send("1 // 0\r")  # an error mid-session...
        child.expect(r"error\[E503\]: integer division by zero")
        child.send("words = ['b', 'a']\r")
        child.send("words.so\t()\r")  # ...and the session goes on; methods complete after '.'
        child.send("words\r")
        child.expect(r"\['a', 'b'\] : list\[str\]")
        child.send("\x04")  # Ctrl-D leaves
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert re.search(r"(\x1b\[[0-9;]*m)+def\b", screen.getvalue())  # 'def' was echoed in a colour of its own
    history = (Path(os.environ["GLIA_CACHE_DIR"]) / "repl_history").read_text()
    assert "+def fibonacci(n: int) -> int:\n+    if n < 2:\n+        return n\n" in history
    assert "+fibonacci(10)\n" in history and "+words.sort()\n" in history


def _readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"## {title}")
    return text[start:text.index("\n## ", start + 1)]


def test_one_program_three_ways(tmp_path):
    """The README's tour, run for real: the file with `glia run`, the Python block, the REPL session."""
    section = _readme_section("One program, three ways")
    blocks = section.split("```")[1::2]  # the fenced blocks, in order
    shell, python, repl = blocks[0], blocks[1], blocks[2]
    env = _env(tmp_path)

    command, *expected = shell.strip().splitlines()
    assert command == "$ glia run examples/hops.glia"
    p = subprocess.run([sys.executable, "-m", "glia", "run", "examples/hops.glia"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.stdout.splitlines() == expected and p.returncode == 0, p.stderr

    code = python.removeprefix("python\n")
    script = tmp_path / "tour.py"
    script.write_text(code, encoding="utf-8")
    p = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=60)
    promised = [line.split("# ", 1)[1] for line in code.splitlines() if line.startswith("print(")]
    assert p.stdout.splitlines() == promised and p.returncode == 0, p.stderr
    assert promised == expected * 2

    lines = repl.strip().splitlines()
    assert lines[0] == "$ glia repl examples/hops.glia"
    inputs = [line[4:] for line in lines if line.startswith(">>> ")]
    outputs = [line for line in lines[1:] if not line.startswith(">>> ")]
    p = subprocess.run([sys.executable, "-m", "glia", "repl", "examples/hops.glia"], cwd=ROOT, env=env,
                       input="\n".join(inputs) + "\n", capture_output=True, text=True, timeout=60)
    assert p.stdout.splitlines() == outputs and p.returncode == 0, p.stderr
    assert outputs[1] == expected[0] + " : list[int]"


DIGIT = """def digit(x: f32[64]) -> f32[10]:
    h = relu(dense(x, 16))
    return softmax(dense(h, 10))
"""


def test_train_and_params_in_a_session(run):
    """:train trains a session function through the same machinery as Program.train, and the next
    entries compute with what it learned."""
    import glia

    data = ROOT / "examples" / "data" / "digits.npz"
    assert run(DIGIT) == ""
    listing = run(":params")
    assert "digit.dense#1.W  f32[64x16]" in listing and "1,210 parameters" in listing and "(trained)" not in listing
    before = run("digit(ones(64))")
    assert run("digit(ones(64))") == before  # the same parameters from one entry to the next
    out = run(f":train digit data={data} epochs=2 lr=0.01 validation=0.1 seed=0")
    assert "training digit: 1617 examples (180 held out" in out and "epoch   2  loss" in out
    after = run("digit(ones(64))")
    assert after != before and "(trained)" in run(":params")

    prog = glia.compile(DIGIT)  # the same training from Python gives the same parameters
    prog.train("digit", data=str(data), epochs=2, lr=0.01, validation=0.1, seed=0)
    x = np.ones(64, np.float32)
    session_out = run.session.params["digit.dense#2.b"]
    assert np.array_equal(session_out, prog.params["digit.dense#2.b"])
    assert after.startswith(repr_of(prog.digit(x))[:20])

    # redefining the function with another width starts that layer afresh; the others keep theirs
    run(DIGIT.replace("dense(x, 16)", "dense(x, 8)").replace("dense(h, 10)", "dense(h, 10)"))
    assert "digit.dense#1.W  f32[64x8]" in run(":params")
    assert "error: bad value for loss" in run(f":train digit data={data} loss=hinge")
    assert "error[E703]" in run(":train digit data=missing.npz")
    # checked as Program.train checks them, before anything trains (engine=bogus trained with the tape,
    # resume=bogus was taken, beta1=5 went through and beta1=abc was an internal error)
    for bad, said in [("engine=bogus", "engine is 'auto', 'compiled' or 'tape'"),
                      ("resume=bogus", "resume is True or False"), ("beta1=5", "adam(beta1=...) must be in [0, 1)"),
                      ("beta1=abc", "adam(beta1=...) must be a finite number"),
                      ("optimizer=sgd momentum=-1", "sgd(momentum=...) must be")]:
        out = run(f":train digit data={data} epochs=1 {bad}")
        assert out.startswith("error: ") and said in out and "training digit" not in out, (bad, out)


def test_train_settings_are_split_outside_brackets_and_quotes(run, tmp_path):
    """`:train f schedule=step(every=1, gamma=0.5)` was split at the space inside the parentheses
    ("expected key=value, found 'gamma=0.5)'"); a quoted file name with a space was cut the same way."""
    from glia.repl_learning import split_words

    assert split_words(' a=step(every=5,  gamma=[1, 2])  data="my file.npz" b=\'x y\' c=(1') == \
        ["a=step(every=5,  gamma=[1, 2])", 'data="my file.npz"', "b='x y'", "c=(1"]
    data = tmp_path / "my data.npz"
    rng = np.random.default_rng(0)
    np.savez(data, x=rng.normal(size=(16, 4)).astype(np.float32), y=rng.integers(0, 2, 16))
    assert run("def f(x: f32[4]) -> f32[2]:\n    return softmax(dense(x, 2))\n") == ""
    out = run(f':train f data="{data}" schedule=step(every=1, gamma=0.5) epochs=3 lr=0.1 batch=16')
    assert "training f: 16 examples" in out and "epoch   3  loss" in out, out
    out = run(f':train f data="{data}" schedule=warmup_cosine(warmup=3) epochs=3')
    assert "error[E703]: warmup_cosine(warmup=3) warms the learning rate up over 3 epochs" in out, out
    # a checkpoint that cannot be written: refused before training, as Program.train and glia train do
    # (it trained an epoch and failed saving; with resume=True it was E509 'cannot read checkpoint')
    for more in ("", " resume=True"):
        out = run(f':train f data="{data}" epochs=1 checkpoint={tmp_path}{more}')
        assert "error[E703]: checkpoint: cannot write" in out and "it is a directory" in out \
            and "training f" not in out, out


def test_train_of_a_loaded_block_keeps_its_checkpoint_beside_the_file(run, tmp_path, monkeypatch):
    """As its data file, a loaded train block's checkpoint is relative to that file (glia train's rule);
    :train wrote it in the current folder."""
    (tmp_path / "proj").mkdir()
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    np.savez(tmp_path / "proj" / "d.npz", x=np.ones((8, 4), np.float32), y=np.zeros(8, np.int64))
    (tmp_path / "proj" / "m.glia").write_text('def f(x: f32[4]) -> f32[2]:\n    return softmax(dense(x, 2))\n\n'
                                             'train f on "d.npz":\n    checkpoint = "ck.npz"\n')
    run(f":load {tmp_path / 'proj' / 'm.glia'}")
    out = run(":train f epochs=1")
    assert "epoch   1  loss" in out, out
    assert (tmp_path / "proj" / "ck.npz").exists() and not (tmp_path / "cwd" / "ck.npz").exists()


def repr_of(v) -> str:
    from glia.runtime.fmt import to_repr

    return to_repr(v)


def test_synth_fills_a_hole_and_defines_the_function(run):
    run("def double_all(xs: list[int]) -> list[int]:\n    return ??\n\n"
        "examples double_all:\n    [1, 2, 3] -> [2, 4, 6]\n    [] -> []\n    [5] -> [10]\n")
    for bad, said in [("timeout=-1", "bad value for timeout: a positive number of seconds, found -1"),
                      ("timeout=nan", "found 'nan'"), ("timeout=abc", "found 'abc'"),
                      ("seed=x", "bad value for seed: an integer, found 'x'"), ("seed=1.5", "found 1.5")]:
        out = run(f":synth double_all {bad}")  # (timeout=-1 searched; 'abc' said "could not convert ...")
        assert out.startswith("error: bad value for ") and said in out and "# hole" not in out
    out = run(":synth double_all timeout=20")
    assert "# hole in double_all: " in out
    assert "def double_all(xs: list[int]) -> list[int]:\n    return " in out and "??" not in out
    assert run("double_all([4, 5])") == "[8, 10] : list[int]\n"
    assert "error: double_all has no hole" in run(":synth double_all")
    run("def scale(x: int) -> int:\n    return x * choose(3, 4, 5)\n\nexamples scale:\n    2 -> 8\n")
    out = run(":synth scale")
    assert "# choice at <repl:" in out and ": 4" in out and "return x * 4" in out
    assert run("scale(10)") == "40 : int\n"
    assert "error: unknown setting 'depth'" in run(":synth scale depth=3")


def test_synth_fills_several_holes_of_a_function(run):
    run("def g(a: int, b: int) -> int:\n    if a < b:\n        return ??\n    return ??\n\n"
        "examples g:\n    1, 5 -> 6\n    4, 2 -> 2\n    3, 7 -> 10\n    9, 1 -> 8\n")
    out = run(":synth g timeout=20")
    assert "# hole in g: a + b" in out and "# hole in g: a - b" in out and "??" not in out
    assert run("g(10, 3)") == "7 : int\n"


@pytest.mark.parametrize("locale", ["C", "C.UTF-8"])
def test_piped_input_that_is_not_utf8_is_e509_at_its_line(locale):
    """A byte that is not UTF-8 became a lone surrogate in a string ('\\udcff' : str); `glia run` says E509."""
    env = dict(os.environ, LC_ALL=locale, PYTHONIOENCODING="")
    p = subprocess.run([sys.executable, "-m", "glia", "repl"], input=b'x = 1\nx\ny = "\xff"\ny\n',
                       capture_output=True, env=env, timeout=60)
    assert p.returncode == 1
    assert p.stdout.decode() == "1 : int\n"
    err = p.stderr.decode("utf-8", "replace")
    assert "<stdin>:3:6: error[E509]: the input is not UTF-8 text (byte 0xff on line 3)" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("line", [":quit now", ":help me", ":defs x", ":reload all", ":params w"])
def test_a_command_without_arguments_refuses_one(run, line):
    """`:quit now` left and `:help me` listed the commands, their word ignored silently."""
    out = run(line)
    assert out == f"error: {line.split()[0]} takes no argument (found '{line.split()[1]}'); :help lists the commands\n"
    assert not run.session.quit and run.session.errors == 1


def test_type_of_a_keyword_is_a_syntax_error(run):
    """`:type def` said E101 "undefined name 'def'": a keyword read as a name."""
    out = run(":type def")
    assert "error[E001]" in out and "E101" not in out
