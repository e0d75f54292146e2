"""Program search: holes filled from examples, every answer verified by the reference interpreter.

Each strategy solves a set of small known tasks; answers are checked by re-checking the completed
source and running it on the examples (synth.verify); results are deterministic under a seed and
replayed from the cache; bad input gives a diagnostic and the search ends within its bounds.
"""
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from glia.compiler import synth
from glia.compiler.diagnostics import GliaError, Source
from glia.compiler.driver import check_source
from glia.runtime.search import Config, satisfies, synthesize
from glia.runtime.search.terms import to_glia

ROOT = Path(__file__).resolve().parents[1]

# (signature, examples, a word the answer must contain or None)
TASKS = {
    "double": ("def f(xs: list[int]) -> list[int]:", ["[1, 2, 3] -> [2, 4, 6]", "[] -> []", "[5] -> [10]"]),
    "evens": ("def f(xs: list[int]) -> list[int]:", ["[1, 2, 3, 4] -> [2, 4]", "[7] -> []", "[6, 8, 1] -> [6, 8]"]),
    "sum_sq": ("def f(xs: list[int]) -> int:", ["[1, 2] -> 5", "[3] -> 9", "[] -> 0"]),
    "max_minus_min": ("def f(xs: list[int]) -> int:", ["[1, 5, 3] -> 4", "[2, 2] -> 0", "[9, 1] -> 8"]),
    "poly": ("def f(x: int) -> int:", ["1 -> 3", "2 -> 7", "3 -> 13", "0 -> 1"]),
    "abs_diff": ("def f(a: int, b: int) -> int:", ["1, 5 -> 4", "7, 2 -> 5", "3, 3 -> 0"]),
    "greet": ("def f(name: str) -> str:", ['"Ann" -> "Hi Ann!"', '"Bo" -> "Hi Bo!"']),
    "first_word": ("def f(s: str) -> str:", ['"hello world" -> "hello"', '"a b c" -> "a"', '"xy z" -> "xy"']),
    "is_long": ("def f(s: str) -> bool:", ['"abcd" -> True', '"ab" -> False', '"abcdef" -> True',
                                           '"" -> False']),
}


def glia_task(name: str) -> str:
    sig, examples = TASKS[name]
    lines = [sig, "    return ??", "", "examples f:"] + [f"    {e}" for e in examples]
    return "\n".join(lines) + "\n"


def solve_text(text: str, **cfg):
    program = check_source(Source("task.glia", text))
    fills = synth.solve(program, Config(**{"timeout": 20.0, **cfg}), use_cache=cfg.pop("cache", False))
    synth.verify(program, fills)  # the reference interpreter runs the completed program on every example
    return fills


@pytest.mark.parametrize("name", sorted(TASKS))
def test_bottom_up_solves_known_tasks(name):
    fills = solve_text(glia_task(name), strategy="bottom-up")
    assert len(fills) == 1 and fills[0].expr


@pytest.mark.parametrize("sig, examples, want", [
    ("def f(x: float) -> int:", ["1.5 -> 1", "2.7 -> 2", "-1.5 -> -1"], "int(x)"),
    ("def f(x: float, n: int) -> int:", ["1.5, 1 -> 3", "2.7, 2 -> 5", "-0.5, 3 -> 3"], "n + round(x)"),
    ("def f(x: float) -> int:", ["1.5 -> 1", "-1.5 -> -2", "3.0 -> 3"], "floor(x)"),
])
def test_an_int_hole_reads_a_float_parameter(sig, examples, want):
    """A float parameter of an int hole had no component to reach the ints: E606 after 8 million
    candidates for `1.5 -> 1, 2.7 -> 2`."""
    text = "\n".join([sig, "    return ??", "", "examples f:"] + [f"    {e}" for e in examples]) + "\n"
    assert solve_text(text, strategy="bottom-up")[0].expr == want


@pytest.mark.parametrize("name", ["poly", "abs_diff", "sum_sq", "is_long"])
def test_genetic_programming_solves_small_tasks(name):
    fills = solve_text(glia_task(name), strategy="gp", seed=1)
    assert fills[0].strategy == "gp"


@pytest.mark.parametrize("name", ["double", "first_word"])
def test_portfolio_and_auto(name):
    for strategy in ("portfolio", "auto"):
        assert solve_text(glia_task(name), strategy=strategy)[0].expr


def test_hole_inside_a_larger_program_is_searched_through_the_interpreter():
    text = textwrap.dedent("""
        def capped(a: int, b: int, cap: int) -> int:
            s = a + b
            if s > cap:
                return ??
            return s

        examples capped:
            1, 2, 10 -> 3
            60, 50, 100 -> 100
            7, 8, 12 -> 12
    """)
    assert solve_text(text)[0].expr == "cap"


def test_hole_options_size_and_using():
    text = glia_task("double").replace("return ??", "return ??(size=4, using=[map, mul, add])")
    fills = solve_text(text)
    assert fills[0].expr.startswith("map(")
    too_small = glia_task("sum_sq").replace("return ??", "return ??(size=2)")
    with pytest.raises(GliaError) as info:
        solve_text(too_small)
    assert info.value.diagnostic.code == "E606" and "size bound" in info.value.diagnostic.message
    # the advice names the bound that ended the search (every E606 said 'try a longer --timeout')
    assert "larger `size=`" in info.value.diagnostic.message and "--timeout" not in info.value.diagnostic.message
    with pytest.raises(GliaError) as info:
        synth.solve(check_source(Source("t.glia", glia_task("sum_sq"))), Config(timeout=20.0, max_candidates=50),
                    use_cache=False)
    assert "candidate limit" in info.value.diagnostic.message and "--max-candidates" in info.value.diagnostic.message


@pytest.mark.parametrize("opts, code, words", [
    ("depth=100000000000000000000", "E201", "from 1 to 100"),  # built 10^20 grammar levels: hung forever
    ("size=3, size=4", "E103", "given twice"),  # the last one was taken silently
    ("using=[]", "E201", "names no component"),  # meant every component, x + x for 1 -> 2
])
def test_hole_options_out_of_range_or_repeated(opts, code, words):
    with pytest.raises(GliaError) as info:
        check_source(Source("o.glia", f"def f(x: int) -> int:\n    return ??({opts})\n\nexamples f:\n    1 -> 3\n"))
    d = info.value.diagnostic
    assert d.code == code and words in d.message and d.span.line == 2


def test_choices_are_settled_against_the_examples(tmp_path):
    src = tmp_path / "choices.glia"
    src.write_text(textwrap.dedent("""
        def scale(x: int) -> int:
            return x * choose(2, 3, 4) + choose(0, 1)

        examples scale:
            1 -> 5
            2 -> 9

        def pick(xs: list[int]) -> int:
            return choose(min(xs), max(xs), len(xs))

        examples pick:
            [3, 9, 4] -> 9
    """))
    r = run_glia("synth", str(src))
    assert r.returncode == 0, r.stderr
    assert "return x * 4 + 1" in r.stdout and "return max(xs)" in r.stdout
    assert "choice settled: max(xs) (option 2 of 3)" in r.stderr
    src.write_text("def f(x: int) -> int:\n    return x * choose(2, 3)\n\nexamples f:\n    1 -> 7\n")
    r = run_glia("synth", str(src))
    assert r.returncode == 1 and "E606" in r.stderr and "2 of 2 tried" in r.stderr


def test_counts_in_search_output_agree_with_their_nouns(tmp_path):
    """A hole whose first candidate is right was reported as filled from "1 candidates"."""
    src = tmp_path / "one.glia"
    src.write_text("def f(x: int) -> int:\n    return ??\n\nexamples f:\n    1 -> 1\n    2 -> 2\n")
    r = run_glia("synth", str(src), "--no-cache")
    assert r.returncode == 0, r.stderr
    assert "filled (1 candidate, " in r.stderr
    from glia.compiler.diagnostics import counted

    assert (counted(0, "task"), counted(1, "trial"), counted(1069, "candidate")) == \
        ("0 tasks", "1 trial", "1,069 candidates")


def test_a_settled_choice_gets_parentheses_only_inside_a_larger_expression(tmp_path):
    """`return choose(x + 1, x * 2)` was printed `return (x * 2)`: a choice that is a statement's whole
    expression, or a whole item between brackets, is replaced by its option bare, as a hole is."""
    src = tmp_path / "c.glia"
    src.write_text(textwrap.dedent("""
        def f(x: int, y: int) -> int:
            a = choose(x + y, x - y) * 2
            b = max(choose(x + 1, y + 1), 0)
            c = choose(x * y, x)
            if choose(x > y, x < y):
                return a + b + c
            return choose(a - b, b - a)

        examples f:
            3, 1 -> 15
            1, 3 -> 6
    """))
    r = run_glia("synth", str(src))
    assert r.returncode == 0, r.stderr
    for line in ("a = (x + y) * 2", "b = max(x + 1, 0)", "c = x * y", "if x > y:", "return a - b"):
        assert f"    {line}\n" in r.stdout, (line, r.stdout)


def test_a_settled_choice_in_a_global_is_printed(tmp_path):
    """`K: int = choose(1, 2, 3)` settled against f's examples printed nothing on stdout (only a line on
    stderr): the global's definition is printed as a function is, and is in --json's functions."""
    src = tmp_path / "g.glia"
    src.write_text("K: int = choose(1, 2, 3)\n\ndef f(x: int) -> int:\n    return x * K\n\nexamples f:\n    3 -> 9\n")
    r = run_glia("synth", str(src))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "K: int = 3" and "choice settled: 3 (option 3 of 3)" in r.stderr
    assert json.loads(run_glia("synth", str(src), "--json").stdout)["functions"] == {"K": "K: int = 3"}


def test_a_choice_whose_option_never_ends_is_rejected_not_waited_for():
    # the options were run on the examples without fuel: choose(-1, 1) in a loop's condition hung
    # glia synth forever (its first option never ends on 8 -> 3)
    text = ("N = 1\n\ndef f(n: int) -> int:\n    c = 0\n    while n != choose(-1, N):\n        n = n // 2\n"
            "        c += 1\n    return c\n\nexamples f:\n    8 -> 3\n")
    program = check_source(Source("loop.glia", text))
    chosen = synth.settle_choices(program, Config(timeout=30.0))
    assert [c.option for c in chosen] == [1]


def test_a_choice_no_example_reaches_is_said_to_be_unsettled():
    # g is never run by f's examples: its choice was reported settled (option 1) as if they had said so
    text = ("def g(x: int) -> int:\n    return x * choose(2, 3)\n\ndef f(x: int) -> int:\n"
            "    return x + choose(1, 2)\n\nexamples f:\n    1 -> 3\n")
    chosen = synth.settle_choices(check_source(Source("c.glia", text)), Config(timeout=30.0))
    assert [(c.option, c.reached) for c in chosen] == [(0, False), (1, True)]


def test_user_functions_as_components():
    text = textwrap.dedent("""
        def sq(x: int) -> int:
            return x * x

        def f(x: int, y: int) -> int:
            return ??(using=[sq, add])

        examples f:
            1, 2 -> 5
            3, 0 -> 9
            2, 2 -> 8
    """)
    assert "sq(" in solve_text(text)[0].expr


def test_a_user_component_that_never_ends_fails_its_candidate_not_the_search():
    # components named in using= ran in an interpreter without fuel: `spin` hung glia synth past its
    # --timeout, forever
    text = ("def spin(x: int) -> int:\n    while True:\n        x = x + 1\n    return x\n\n"
            "def f(x: int) -> int:\n    return ??(using=[spin, add])\n\nexamples f:\n    1 -> 5\n    2 -> 6\n")
    fills = solve_text(text, timeout=5.0)
    assert "spin" not in fills[0].expr


@pytest.mark.parametrize("name, why", [("mk", "fn(int) -> P is not one search handles"),
                                       ("h", "has holes of its own"), ("f", "the function the hole is in"),
                                       ("print", "is not a component of search"),
                                       ("enumerate", "is not a component of search")])
def test_a_using_function_search_cannot_run_is_e603(name, why):
    # such a name was dropped from the components without a word (a builtin that is no component, such
    # as print, too: the hole was searched with the constants and inputs only)
    text = ("struct P:\n    a: int\n\ndef mk(x: int) -> P:\n    return P(x)\n\ndef h(x: int) -> int:\n"
            "    return x * ??\n\nexamples h:\n    1 -> 3\n\n"
            f"def f(x: int) -> int:\n    return ??(using=[{name}, add])\n\nexamples f:\n    1 -> 2\n")
    d = error_of(text)
    assert d.code == "E603" and f"using=[{name}]" in d.message and why in d.message, d.message


def test_a_hole_no_example_reaches_is_said_to_be_a_guess(tmp_path):
    # `if x > 100: return ??` with examples below 100 was "filled" (with x) as if the examples said so
    text = "def f(x: int) -> int:\n    if x > 100:\n        return ??\n    return x + 1\n\nexamples f:\n    1 -> 2\n"
    fills = solve_text(text)
    assert not fills[0].reached
    assert solve_text(text.replace("1 -> 2", "1 -> 2\n    101 -> 5"))[0].reached
    src = tmp_path / "guess.glia"
    src.write_text(text)
    r = run_glia("synth", str(src))
    assert r.returncode == 0 and "no example reaches this hole" in r.stderr, r.stderr
    assert "no example reaches this hole" in run_glia("synth", str(src)).stderr  # replayed from the cache too


def test_deterministic_under_a_seed():
    for strategy in ("bottom-up", "gp"):
        a = solve_text(glia_task("poly"), strategy=strategy, seed=3)[0]
        b = solve_text(glia_task("poly"), strategy=strategy, seed=3)[0]
        assert (a.expr, a.candidates, a.decisions) == (b.expr, b.candidates, b.decisions)


def test_second_run_is_replayed_from_the_cache():
    program = check_source(Source("cached.glia", glia_task("evens")))
    first = synth.solve(program, Config(timeout=20.0))
    second = synth.solve(program, Config(timeout=20.0))
    # replayed, not searched again (no time limit asserted: this machine is shared and noisy; a
    # replay took 0.1 s alone and 1.3 s once inside the full suite)
    assert not first[0].cached and second[0].cached and second[0].expr == first[0].expr
    synth.verify(program, second)


def _ast_shape(text: str):
    """The parsed form of Glia expression `text`, without source positions."""
    import dataclasses

    from glia.compiler import syntax
    from glia.compiler.diagnostics import Span

    def shape(node):
        if dataclasses.is_dataclass(node):
            return (type(node).__name__,) + tuple(shape(getattr(node, f.name)) for f in dataclasses.fields(node)
                                                  if not isinstance(getattr(node, f.name), Span))
        if isinstance(node, (list, tuple)):
            return tuple(shape(x) for x in node if not isinstance(x, Span))
        return node
    return shape(syntax.parse(Source("e.glia", f"def f():\n    return {text}\n")))


def _fully_parenthesised(term):
    from glia.runtime.search import terms

    shape = terms._shape
    try:
        terms._shape = lambda template: (shape(template)[0], dict.fromkeys(shape(template)[1], terms.ATOM))
        return to_glia(term, ())
    finally:
        terms._shape = shape


@pytest.mark.parametrize("params, ret, inputs, outputs", [
    ((("x", "int"), ("y", "int")), "int", [(1, 2), (3, -4)], [3, 5]),
    ((("x", "int"), ("y", "int")), "bool", [(1, 2), (3, -4)], [True, False]),
    ((("s", "str"), ("n", "int")), "str", [("a-b", 1), ("cd", 2)], ["b", "c"]),
    ((("xs", "list[int]"),), "list[int]", [((1, 2),), ((3,),)], [(2, 1), (3,)]),
])
def test_printed_programs_have_only_the_parentheses_their_meaning_needs(params, ret, inputs, outputs):
    # answers printed every operand of an operator in parentheses (`0 == (x % 2)`, `x[:(-1)]`): now by
    # precedence, and every program reads back as the same tree as its fully parenthesised form
    from glia.runtime.search import Var
    from glia.runtime.search.bottomup import BottomUp
    from glia.runtime.search.library import default_grammar

    g = default_grammar(tuple(Var(i, n, t) for i, (n, t) in enumerate(params)), ret, inputs, outputs)
    bu = BottomUp(g, inputs, Config(timeout=3.0), max_size=5, int_words=False)
    bu.run(collect_only=True)
    seen = 0
    for nt in g.rules:
        for _, term in bu.terms(nt):
            text = to_glia(term, ())
            assert _ast_shape(text) == _ast_shape(_fully_parenthesised(term)), text
            seen += 1
    assert seen > 100


def test_printed_programs_examples():
    from glia.runtime.search import Const, Var
    from glia.runtime.search.components import GLIA_INT, GLIA_INT_BOOL, glia_ite, list_components
    from glia.runtime.search.problem import Term

    c = {k.name: k for k in GLIA_INT + GLIA_INT_BOOL + list_components("int")}
    x, y, xs = Term(Var(0, "x", "int")), Term(Var(1, "y", "int")), Term(Var(0, "xs", "list[int]"))
    one, minus = Term(Const(1, "int")), Term(Const(-1, "int"))

    def t(name, *args):
        return Term(c[name], args)
    assert to_glia(t("eq", Term(Const(0, "int")), t("mod", x, Term(Const(2, "int")))), ()) == "0 == x % 2"
    assert to_glia(t("take", minus, xs), ()) == "xs[:-1]"
    assert to_glia(t("add", x, t("add", x, y)), ()) == "x + (x + y)"  # (not x + x + y: floats round apart)
    assert to_glia(t("sub", t("add", x, y), one), ()) == "x + y - 1"
    assert to_glia(t("mul", t("add", x, y), x), ()) == "(x + y) * x"
    assert to_glia(t("neg", t("neg", x)), ()) == "-(-x)"
    assert to_glia(t("add", x, Term(glia_ite("int"), (t("lt", x, y), x, y))), ()) == "x + (x if x < y else y)"
    assert to_glia(Term(glia_ite("int"), (t("lt", x, y), x, y)), ()) == "x if x < y else y"


def test_a_fill_is_parenthesised_only_where_its_place_needs_it():
    # `max(??, 0)` was completed as `max((x + 2), 0)`
    text = ("def f(x: int, xs: list[int]) -> int:\n    return max(??, 0) * ?? + xs[??:][0] + [??][0] - ??\n\n"
            "examples f:\n    1, [1, 2, 3, 4] -> 5\n")
    program = check_source(Source("p.glia", text))
    fills = [synth.Filled(t.hole, "f", "x + 2", 0, 0.0, "", False, []) for t in synth.problems(program)]
    line = synth.fill_source(text, fills).split("\n")[1]
    assert line == "    return max(x + 2, 0) * (x + 2) + xs[x + 2:][0] + [x + 2][0] - (x + 2)"


def test_the_cli_and_program_synthesize_share_one_configuration(tmp_path, monkeypatch):
    # prog.synthesize searched up to 50M candidates, glia synth up to 200M: their answers could differ, and
    # neither found the other's in the cache
    import glia

    src = tmp_path / "evens.glia"
    src.write_text(glia_task("evens"))
    monkeypatch.setenv("GLIA_CACHE_DIR", str(tmp_path / "cache"))
    r = subprocess.run([sys.executable, "-m", "glia", "synth", str(src)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    filled = glia.compile(src.read_text(), str(src)).synthesize()
    assert filled.synthesis[0]["cached"]  # the CLI's answer, replayed
    with pytest.raises(GliaError) as info:
        glia.compile(src.read_text(), str(src)).synthesize(max_candidates=0)
    assert info.value.diagnostic.code == "E604" and "max_candidates=" in info.value.diagnostic.message


@pytest.mark.parametrize("expr", ["x + x + 1", "x +)", 5])
def test_a_damaged_cached_answer_is_searched_again(expr):
    # a wrong cached expression was E606 'gives 3 instead of 2', one that does not parse an E001 at a
    # text not in the user's file, a non-string a TypeError: the cache kept the user from an answer
    text = "def f(x: int) -> int:\n    return ??\n\nexamples f:\n    1 -> 2\n    2 -> 4\n"
    program = check_source(Source("damaged.glia", text))
    first, _ = synth.solve_checked(program, Config(timeout=20.0))
    path = synth.cache_path(text, str(first[0].hole.index), Config(timeout=20.0).key())
    synth.cache_put(path, {"holes": [{"expr": expr, "candidates": 1, "seconds": 0.0, "strategy": "bottom-up",
                                      "decisions": []}]})
    fills, completed = synth.solve_checked(program, Config(timeout=20.0))
    assert fills[0].expr == first[0].expr and "??" not in completed.source.text
    again, _ = synth.solve_checked(program, Config(timeout=20.0))
    assert again[0].cached and again[0].expr == first[0].expr  # the cache holds the answer again


# ---- bad input ---------------------------------------------------------------------------------

def error_of(text: str, timeout: float = 2.0):
    t0 = time.perf_counter()
    with pytest.raises(GliaError) as info:
        solve_text(text, timeout=timeout)
    assert time.perf_counter() - t0 < timeout + 5  # the search ends within its bounds
    return info.value.diagnostic


def test_contradictory_examples():
    d = error_of("def f(x: int) -> int:\n    return ??\n\nexamples f:\n    1 -> 2\n    1 -> 3\n")
    assert d.code == "E602" and "same inputs" in d.message and d.span.line == 2
    assert d.message.startswith("hole in f: examples 1 and 2 ")  # was "hole in f: f: examples ..."


@pytest.mark.parametrize("body", ["x * ??", "float(x) * ??"])
def test_contradictory_examples_of_a_hole_inside_the_function(body):
    # a single hole that is not the whole result ran until the time limit and said E606
    ret = "float" if "float" in body else "int"
    d = error_of(f"def f(x: int) -> {ret}:\n    return {body}\n\nexamples f:\n    2 -> 6\n    2 -> 7\n",
                 timeout=30.0)
    assert d.code == "E602" and "same inputs" in d.message and d.span.line == 2


@pytest.mark.parametrize("body", ["??", "x * ??"])
def test_an_example_whose_result_is_nan_is_refused_at_once(body):
    # no result matches NaN (NaN != NaN): search ran until the time limit and said E606
    d = error_of(f"def f(x: float) -> float:\n    return {body}\n\nexamples f:\n    1.0 -> nan\n    2.0 -> 1.0\n",
                 timeout=30.0)
    assert d.code == "E602" and "example 1's result is NaN" in d.message and d.span.line == 2


@pytest.mark.parametrize("body, what", [
    ("    y = 10 // x\n    return y + ??\n", "fails"),  # 10 // 0 before the hole
    ("    if x == 0:\n        return 5\n    return x * ??\n", "returns 5"),  # example 1 wants 1
    ("    if x == 0:\n        return 5\n    a = ??\n    b = ??\n    return a * x + b\n", "returns 5"),  # joint
])
def test_an_example_that_fails_before_reaching_the_hole_is_said_at_once(body, what):
    # no program in the hole can change a run that never reaches it: search ran its whole time limit
    d = error_of(f"def f(x: int) -> int:\n{body}\nexamples f:\n    0 -> 1\n    2 -> 6\n", timeout=30.0)
    assert d.code == "E606" and f"example 1 (line " in d.message and f"{what} before it reaches" in d.message, d.message


def test_several_examples_blocks_of_one_function_add_up():
    # the last block alone was searched (and checked): 2 -> 7 was ignored, giving x + (x + 2)
    text = "def f(x: int) -> int:\n    return ??\n\nexamples f:\n    2 -> 7\n\nexamples f:\n    3 -> 8\n"
    program = check_source(Source("task.glia", text))
    assert [len(e.examples) for e in program.examples] == [2]
    fills = synth.solve(program, Config(timeout=10.0), use_cache=False)
    synth.verify(program, fills)  # runs both blocks' examples
    d = error_of(text.replace("3 -> 8", "2 -> 8"))  # contradicting across blocks
    assert d.code == "E602" and "same inputs" in d.message


def test_a_hole_in_a_global_is_an_error_not_a_silent_success():
    # glia synth printed nothing and exited 0, the hole still in the file
    d = error_of("N = ??\n\ndef f(x: int) -> int:\n    return x + N\n\nexamples f:\n    1 -> 3\n")
    assert d.code == "E602" and "outside a function" in d.message and (d.span.line, d.span.col) == (1, 5)


@pytest.mark.parametrize("example, what", [("1 -> ??", "a hole"), ("choose(1, 2) -> 3", "choose")])
def test_an_example_cannot_hold_a_hole_or_a_choice(example, what):
    # `1 -> ??` was E601 'not filled yet, run glia synth' from glia synth; `choose(1, 2) -> 3` was settled
    with pytest.raises(GliaError) as info:
        check_source(Source("ex.glia", f"def f(x: int) -> int:\n    return ??\n\nexamples f:\n    {example}\n"))
    d = info.value.diagnostic
    assert d.code == "E401" and what in d.message and d.span.line == 5


def test_examples_of_the_wrong_type_are_a_check_error():
    d = error_of('def f(x: int) -> int:\n    return ??\n\nexamples f:\n    "a" -> 2\n')
    assert d.code == "E401"


def test_hole_without_examples_and_unsupported_type():
    assert error_of("def f(x: int) -> int:\n    return ??\n").code == "E602"
    d = error_of("def f(x: int) -> dict[int, int]:\n    return ??\n\nexamples f:\n    1 -> {1: 1}\n")
    assert d.code == "E603" and "dict" in d.message


def test_no_components_of_the_holes_type():
    d = error_of("def f(x: int) -> list[str]:\n    return ??(using=[add])\n\nexamples f:\n    1 -> []\n")
    assert d.code == "E603"


def test_a_list_of_floats_hole_is_e603_as_documented():
    # it was searched until the time limit (83 million int programs, none of them a list[float])
    d = error_of("def f(xs: list[float]) -> list[float]:\n    return ??\n\nexamples f:\n    [1.0] -> [2.0]\n")
    assert d.code == "E603" and "list[float]" in d.message


def test_the_grammar_keeps_only_what_builds_the_holes_type():
    # a list[str] hole's int and bool programs it could not use were enumerated until the time limit
    from glia.runtime.search import Var
    from glia.runtime.search.library import default_grammar

    g = default_grammar((Var(0, "xs", "list[str]"),), "list[str]", [(("a", "b"),)], [("b", "a")],
                        using=("reversed",))
    assert set(g.rules) == {"list[str]"}


@pytest.mark.parametrize("sig, examples, answer", [
    # lists of str and bool had no list components (E606: only the parameters could be returned)
    ("def f(xs: list[str]) -> list[str]:", ['["a", "b"] -> ["b", "a"]', '["x", "y", "z"] -> ["z", "y", "x"]'],
     "reversed(xs)"),
    ("def f(xs: list[str]) -> list[str]:", ['["b", "a", "c"] -> ["a", "b", "c"]', '["z", "y"] -> ["y", "z"]'],
     "sorted(xs)"),
    ("def f(xs: list[str], s: str) -> list[str]:", ['["a", "b"], "z" -> ["a", "b", "z"]', '[], "q" -> ["q"]'],
     "xs + [s]"),
    ("def f(xs: list[str]) -> list[str]:", ['["ab", "c"] -> ["AB", "C"]', '["x", "yz", "w"] -> ["X", "YZ", "W"]'],
     "map(lambda x: x.upper(), xs)"),
    ("def f(xs: list[bool]) -> list[bool]:", ["[True, False, False] -> [False, False, True]", "[True] -> [True]"],
     "reversed(xs)"),
    ("def f(xs: list[bool]) -> list[bool]:", ["[True, False, False] -> [False, True, True]", "[] -> []"],
     "map(lambda x: not x, xs)"),
])
def test_lists_of_str_and_bool_have_the_list_components(sig, examples, answer):
    text = "\n".join([sig, "    return ??", "", "examples f:"] + [f"    {e}" for e in examples]) + "\n"
    assert solve_text(text)[0].expr == answer


SQUARES = ("def f(xs: list[int]) -> int:\n    total = 0\n    for x in xs:\n        total = total + ??\n"
           "    return total\n\nexamples f:\n    [1, 2, 3] -> 14\n    [] -> 0\n    [4] -> 16\n")
RUNS = """def longest_run(xs: list[int]) -> int:
    best = 0
    run = 0
    prev = -1
    for x in xs:
        if x == prev:
            run = run + 1
        else:
            run = 1
        best = max(best, ??)
        prev = x
    return best

examples longest_run:
    [1, 1, 2, 2, 2, 3] -> 3
    [5] -> 1
    [] -> 0
    [4, 4, 1, 4] -> 2

def count_big(xs: list[int], k: int) -> int:
    n = 0
    for x in xs:
        if ??:
            n = n + 1
    return n

examples count_big:
    [1, 5, 7, 2], 4 -> 2
    [10, 3], 3 -> 1
    [], 0 -> 0
    [2, 2, 9], 1 -> 3
"""


def test_a_hole_reads_the_locals_in_scope_each_time_it_is_reached():
    """A loop's variable and state: the program is evaluated at every reach, on the values then."""
    assert [f.expr for f in solve_text(SQUARES)] == ["x * x"]
    assert [f.expr for f in solve_text(RUNS)] == ["run", "k < x"]
    # a list local assigned only after the hole (None wherever it is reached) is left out of its inputs
    later = ("def f(xs: list[int]) -> int:\n    n = 0\n    for x in xs:\n        n = n + ??\n"
             "    ys = sorted(xs)\n    return n + ys[0]\n\nexamples f:\n    [1, 2, 3] -> 15\n    [4] -> 20\n")
    assert [f.expr for f in solve_text(later)] == ["x * x"]


def test_a_hole_in_a_loop_condition_or_a_recursive_function_is_evaluated_at_each_reach():
    """`while ??:` reads the locals the loop changes; a recursive function's hole is reached in every
    inner call, on that call's parameters."""
    text = ("def count_down(n: int) -> int:\n    i = n\n    steps = 0\n    while ??:\n        i = i - 2\n"
            "        steps = steps + 1\n    return steps\n\nexamples count_down:\n    10 -> 5\n    7 -> 4\n"
            "    0 -> 0\n    1 -> 1\n\ndef tri(n: int) -> int:\n    if n == 0:\n        return 0\n"
            "    return tri(n - 1) + ??\n\nexamples tri:\n    0 -> 0\n    1 -> 1\n    3 -> 6\n    4 -> 10\n")
    fills = solve_text(text)
    assert [f.expr for f in fills] == ["0 < i", "n"] and fills[1].slots == (0,)


def test_a_filled_hole_that_reads_locals_runs_in_a_live_interpreter():
    from glia.compiler.interp import Interpreter

    program = check_source(Source("task.glia", SQUARES))
    fills = synth.solve(program, Config(timeout=20.0), use_cache=False)
    interp = Interpreter(program)
    synth.install(interp, program, fills)  # as for @glia.fn functions: the term on the frame's slots
    interp.init_globals()
    assert interp.call("f", [[3, 5]]) == 34


def test_when_search_gives_up_on_a_float_hole_that_cannot_see_locals_it_says_so():
    """A float hole is built from the parameters only: E606 names the locals it could not read."""
    from types import SimpleNamespace

    text = ("def f(xs: list[float]) -> float:\n    total = 0.0\n    for x in xs:\n        total = total + ??\n"
            "    return total\n\nexamples f:\n    [1.0, 2.0] -> 5.0\n")
    program = check_source(Source("task.glia", text))
    tasks = synth.problems(program)
    d = synth._not_found(program, tasks, SimpleNamespace(reason="timeout", candidates=7), Config(timeout=1.0))
    d = d.diagnostic
    assert d.code == "E606" and "parameters (xs) only" in d.message and "locals (total, x)" in d.message
    single = synth.problems(check_source(Source("task.glia", SQUARES)))
    assert single[0].slots and "locals" not in synth._not_found(
        program, single, SimpleNamespace(reason="timeout", candidates=7), Config(timeout=1.0)).diagnostic.message
    # a local only ever set to a hole's value is no input the hole lacks: not named (it said "locals (base)")
    text = ("def price(w: float, express: bool) -> float:\n    base = ??\n    if ??:\n        return base * 2.0\n"
            "    return base\n\nexamples price:\n    1.0, False -> 3.0\n")
    program = check_source(Source("task.glia", text))
    message = synth._not_found(program, synth.problems(program), SimpleNamespace(reason="timeout", candidates=7),
                               Config(timeout=1.0)).diagnostic.message
    assert "locals" not in message and "base" not in message, message


def test_when_search_gives_up_on_a_hole_in_a_lambda_it_says_the_lambdas_parameters_are_not_inputs():
    from types import SimpleNamespace

    text = "def f(xs: list[int]) -> list[int]:\n    return map(lambda x: ??, xs)\n\nexamples f:\n    [1, 2] -> [2, 4]\n"
    program = check_source(Source("task.glia", text))
    d = synth._not_found(program, synth.problems(program), SimpleNamespace(reason="timeout", candidates=7),
                         Config(timeout=1.0)).diagnostic
    assert d.code == "E606" and "f's parameters (xs) only, not the lambda's (x)" in d.message, d.message


def test_when_search_gives_up_on_a_hole_beside_a_parameter_it_cannot_read_it_says_so():
    # a struct, tuple or dict parameter is left out of the hole's inputs: E606 said only that the time ran out
    from types import SimpleNamespace

    text = ("struct P:\n    a: int\n    b: int\n\ndef f(p: P, n: int) -> int:\n    return ??\n\nexamples f:\n"
            "    P(1, 2), 0 -> 3\n")
    program = check_source(Source("task.glia", text))
    d = synth._not_found(program, synth.problems(program), SimpleNamespace(reason="timeout", candidates=7),
                         Config(timeout=1.0)).diagnostic
    assert d.code == "E606" and "search cannot read p: P" in d.message and "`a = p.a`" in d.message, d.message
    assert "n: int" not in d.message


def test_unsatisfiable_spec_ends_within_the_timeout():
    # sums of x and constants are a*x + b: no such line goes through these points
    text = "def f(x: int) -> int:\n    return ??(using=[add])\n\nexamples f:\n" + "".join(
        f"    {i} -> {v}\n" for i, v in enumerate([7, 1, 9, 3, 3, 8, 2, 6, 5, 4]))
    t0 = time.perf_counter()
    d = error_of(text, timeout=1.0)
    # which bound ends it depends on the machine's speed: the clock, or the size bound exhausted
    assert d.code == "E606" and ("time limit" in d.message or "size bound" in d.message)
    assert time.perf_counter() - t0 < 30


# ---- the engine on its own, and the command line ----------------------------------------------------

def test_engine_problem_from_a_task_line():
    from glia.compiler.tasks import task_problem

    task = {"name": "t", "inputs": [[[1, 2]], [[3]]], "outputs": [[2, 1], [3]],
            "types": {"args": ["list[int]"], "ret": "list[int]"},
            "test_inputs": [[[4, 5, 6]]], "test_outputs": [[6, 5, 4]]}
    p = task_problem(task, "t")
    r = synthesize(p, Config(timeout=10.0))
    assert r.solved and to_glia(r.term, ()) == "reversed(x)"
    assert satisfies(r.term, p.test_inputs, p.test_outputs)


@pytest.mark.parametrize("task, words", [
    ({"inputs": [[1], [2]], "outputs": [2], "types": {"args": ["int"], "ret": "int"}},
     '"inputs" has 2 examples, "outputs" 1'),
    ({"inputs": [[1]], "outputs": [2], "types": {"args": ["int"], "ret": "int"},
      "test_inputs": [[1], [2]], "test_outputs": [2]}, '"test_inputs" has 2 examples, "test_outputs" 1'),
    ({"inputs": [[1]], "outputs": [2]}, 'the task has no "types"'),
    ({"inputs": [1], "outputs": [2], "types": {"args": ["int"], "ret": "int"}}, "a list of 1"),
    ({"inputs": [[1]], "outputs": [2], "types": {"args": ["int", "int"], "ret": "int"}}, "a list of 2"),
    # an internal error (AttributeError: 'int' object has no attribute 'startswith'), a Python
    # TypeError's text, and names zipped short, duplicated or not names, printed into the answer
    ({"inputs": [[1]], "outputs": [2], "types": {"args": ["int"], "ret": 5}}, "are type names"),
    ({"inputs": [[1]], "outputs": [2], "types": {"args": [5], "ret": "int"}}, "are type names"),
    ({"inputs": [[1]], "outputs": [2], "types": {"args": ["int"], "ret": "int"}, "grammar": 5},
     '"grammar" is not a string'),
    ({"inputs": [[1]], "outputs": [2], "types": {"args": ["int"], "ret": "int", "arg_names": ["a", "b"]}},
     '"arg_names" must be 1 distinct names'),
    ({"inputs": [[1, 2]], "outputs": [2], "types": {"args": ["int", "int"], "ret": "int", "arg_names": ["a", "a"]}},
     '"arg_names" must be 2 distinct names'),
    ({"inputs": [[1]], "outputs": [2], "types": {"args": ["int"], "ret": "int", "arg_names": ["(x"]}},
     '"arg_names" must be 1 distinct names'),
])
def test_malformed_task_says_what_is_wrong(task, words):
    # each was a crash in the search (unequal lists), a silent zip (test lists) or a bare KeyError text
    from glia.compiler.tasks import task_problem

    with pytest.raises(ValueError) as info:
        task_problem({"name": "t", **task}, "t")
    assert words in str(info.value)


def test_task_file_without_tasks_is_an_error(tmp_path):
    from glia.compiler.tasks import load_tasks

    for text, where in [("\n  \n", 1), ('{"name": 5, "inputs": [], "outputs": []}\n', 1)]:
        p = tmp_path / "t.jsonl"
        p.write_text(text)
        with pytest.raises(GliaError) as info:
            load_tasks(str(p))
        d = info.value.diagnostic
        assert d.code == "E608" and d.span.line == where, d.render()


def test_bit_vector_task_with_grammar():
    from glia.compiler.tasks import task_problem

    xs = [3, 10, 2 ** 63 + 5, 12345678901234]
    task = {"name": "bv", "inputs": [[x] for x in xs], "outputs": [((x ^ (x >> 1)) + 1) % 2 ** 64 for x in xs],
            "types": {"args": ["bv64"], "ret": "bv64", "arg_names": ["x"]},
            "grammar": "((Start (_ BitVec 64))) ((Start (_ BitVec 64) (#x0000000000000001 x (bvlshr Start Start)"
                       " (bvxor Start Start) (bvadd Start Start))))"}
    r = synthesize(task_problem(task, "bv"), Config(timeout=20.0))
    assert r.solved and r.candidates > 0


def run_glia(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "glia", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_cli_synth_prints_and_writes_the_completed_program(tmp_path):
    src = tmp_path / "double.glia"
    src.write_text(glia_task("double") + "\ndef main():\n    print(f([1, 2]))\n", encoding="utf-8")
    r = run_glia("synth", str(src))
    assert r.returncode == 0, r.stderr
    assert "def f(xs: list[int]) -> list[int]:\n    return map(lambda x: " in r.stdout
    r = run_glia("synth", str(src), "--json")
    assert json.loads(r.stdout)["holes"][0]["function"] == "f"
    assert run_glia("synth", str(src), "--write").returncode == 0
    assert "??" not in src.read_text() and run_glia("run", str(src)).stdout == "[2, 4]\n"


def test_cli_synth_write_keeps_the_files_line_endings_byte_order_mark_and_permissions(tmp_path):
    # --write wrote \n line endings into a \r\n file (every line a change in a diff), dropped a byte
    # order mark, and replaced the file by one with the default permissions
    src = tmp_path / "double.glia"
    src.write_bytes(b"\xef\xbb\xbf" + glia_task("double").replace("\n", "\r\n").encode())
    src.chmod(0o640)
    assert run_glia("synth", str(src), "--write").returncode == 0
    data = src.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"??" not in data
    assert data.count(b"\n") == data.count(b"\r\n") > 5 and (src.stat().st_mode & 0o777) == 0o640
    plain = tmp_path / "plain.glia"
    plain.write_text(glia_task("double"))
    assert run_glia("synth", str(plain), "--write").returncode == 0 and b"\r" not in plain.read_bytes()


def test_cli_synth_errors_are_diagnostics(tmp_path):
    bad = tmp_path / "bad.glia"
    bad.write_text("def f(x: int) -> int:\n    return ??\n\nexamples f:\n    1 -> 2\n    1 -> 3\n")
    r = run_glia("synth", str(bad))
    assert r.returncode == 1 and "error[E602]" in r.stderr and "Traceback" not in r.stderr
    r = run_glia("synth", str(bad), "--strategy", "magic")
    assert r.returncode == 1 and "E604" in r.stderr
    none = tmp_path / "none.glia"
    none.write_text("def f(x: int) -> int:\n    return x\n")
    assert "no holes" in run_glia("synth", str(none)).stderr


@pytest.mark.parametrize("kw, words", [
    ({"timeout": "abc"}, "--timeout (timeout=) must be a positive number"),  # was a ValueError from float()
    ({"seed": "x"}, "--seed (seed=) must be an integer"),  # was accepted
    ({"eta": "3"}, "--eta (eta=) must be an integer"),  # was a TypeError from '<'
    ({"trials": 2.5}, "--trials (trials=) must be an integer"),  # was accepted
    ({"cache": "no"}, "cache must be True or False, not 'no'"),  # was taken as True
    ({"train": 3}, "train must name a function"),  # was accepted
    ({"data": 3}, "data must be a .npz file's path"),  # was accepted
])
def test_synthesize_refuses_bad_settings_with_e604(kw, words):
    import glia

    prog = glia.compile("def f(x: int) -> int:\n    return ??\n\nexamples f:\n    1 -> 2\n")
    with pytest.raises(GliaError) as info:
        prog.synthesize(**{"cache": False, **kw})
    assert info.value.diagnostic.code == "E604" and words in info.value.diagnostic.message


def test_synthesize_takes_numpy_numbers():
    import numpy as np

    import glia

    prog = glia.compile("def f(x: int) -> int:\n    return ??\n\nexamples f:\n    1 -> 2\n    3 -> 6\n")
    done = prog.synthesize(cache=False, seed=np.int64(1), timeout=np.float32(10), strategy="gp")
    assert "??" not in done.source.text


def test_cli_search_bounds_are_checked(tmp_path):
    src = tmp_path / "f.glia"
    src.write_text("def f(x: int) -> int:\n    return ??\n\nexamples f:\n    1 -> 2\n")
    r = run_glia("synth", str(src), "--max-candidates", "0")  # was E606 'the candidate limit was reached'
    assert r.returncode == 1 and "E604" in r.stderr and "--max-candidates" in r.stderr, r.stderr
    tasks = tmp_path / "t.jsonl"
    tasks.write_text('{"name": "a", "inputs": [[1]], "outputs": [2], "types": {"args": ["int"], "ret": "int"}}\n')
    r = run_glia("bench", "synth", str(tasks), "--limit", "-1")  # was every task but the last
    assert r.returncode == 1 and "E604" in r.stderr and "--limit" in r.stderr, r.stderr
    r = run_glia("bench", "synth", str(tasks), "--match", "zzz")  # was 'solved 0/0', exit 0
    assert r.returncode == 1 and "E608" in r.stderr and "'zzz'" in r.stderr, r.stderr


def test_ctrl_c_in_a_search_kernel_is_an_interrupt_not_an_internal_error(tmp_path, monkeypatch, capsys):
    # A Ctrl-C while bottom-up's Numba kernel runs comes out of its dispatcher as "SystemError: ...
    # returned a result with an exception set", caused by the KeyboardInterrupt: it printed a traceback
    # as a bug in Glia (exit 3)
    from glia import cli

    def interrupted(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as e:
            raise SystemError("CPUDispatcher(<function _combine>) returned a result with an exception set") from e

    monkeypatch.setattr(synth, "solve", interrupted)
    src = tmp_path / "f.glia"
    src.write_text("def f(x: int) -> int:\n    return ??\n\nexamples f:\n    1 -> 2\n")
    assert cli.main(["synth", str(src), "--no-cache"]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err and "??" in src.read_text()


def test_cli_bench_synth_with_default_timeout_and_unwritable_output(tmp_path):
    # without --timeout the summary line crashed (None:g) after every task had run; an --json OUT in a
    # missing folder crashed after the run too, losing it
    tasks = tmp_path / "t.jsonl"
    tasks.write_text('{"name": "inc", "inputs": [[1], [5]], "outputs": [2, 6], '
                     '"types": {"args": ["int"], "ret": "int"}}\n')
    r = run_glia("bench", "synth", str(tasks), "--json", str(tmp_path / "out.json"))
    assert r.returncode == 0 and "with --timeout 10 " in r.stdout, r.stderr
    assert json.loads((tmp_path / "out.json").read_text())["summary"]["timeout"] == 10.0
    r = run_glia("bench", "synth", str(tasks), "--json", str(tmp_path / "no" / "out.json"))
    assert r.returncode == 1 and "E509" in r.stderr and "Traceback" not in r.stderr and "inc" not in r.stdout


def test_ctrl_c_during_bench_synth_keeps_the_tasks_done(tmp_path, monkeypatch, capsys):
    # the rows of the tasks already run were lost: nothing printed as a summary, no --json written
    from glia import cli, cli_synth

    real, calls = cli_synth.run_task, []

    def run_task(task, config):
        calls.append(task.name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(task, config)

    monkeypatch.setattr(cli_synth, "run_task", run_task)
    tasks = tmp_path / "t.jsonl"
    tasks.write_text("".join(json.dumps({"name": n, "inputs": [[1], [5]], "outputs": [2, 6],
                                         "types": {"args": ["int"], "ret": "int"}}) + "\n" for n in "abc"))
    out = tmp_path / "out.json"
    assert cli.main(["bench", "synth", str(tasks), "--json", str(out), "--quiet"]) == 130
    assert "interrupted after 1 of 3 tasks" in capsys.readouterr().err
    data = json.loads(out.read_text())
    assert data["summary"]["interrupted"] and [r["name"] for r in data["results"]] == ["a"]


def test_cli_bench_synth(tmp_path):
    tasks = tmp_path / "tasks.jsonl"
    lines = [
        {"name": "inc", "inputs": [[1], [5]], "outputs": [2, 6], "types": {"args": ["int"], "ret": "int"},
         "test_inputs": [[10]], "test_outputs": [11]},
        {"name": "rev", "inputs": [[[1, 2]], [[3, 4, 5]]], "outputs": [[2, 1], [5, 4, 3]],
         "types": {"args": ["list[int]"], "ret": "list[int]"}},
        {"name": "odd", "inputs": [[{"a": 1}]], "outputs": [1], "types": {"args": ["dict"], "ret": "int"}},
    ]
    tasks.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    out = tmp_path / "out.json"
    r = run_glia("bench", "synth", str(tasks), "--timeout", "5", "--json", str(out))
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text())
    rows = {row["name"]: row for row in data["results"]}
    assert rows["inc"]["solved"] and rows["inc"]["generalises"] is True
    assert rows["rev"]["solved"] and "reversed" in rows["rev"]["program"]
    assert not rows["odd"]["solved"] and "not supported" in rows["odd"]["error"]
    assert data["summary"]["solved"] == 2 and data["summary"]["tasks"] == 3


def test_example_program_is_solved():
    r = run_glia("synth", str(ROOT / "examples" / "search" / "synth_double.glia"), "--no-cache")
    assert r.returncode == 0, r.stderr
    assert "return map(lambda x: x + x, xs)" in r.stdout and "return cap" in r.stdout


def test_every_glia_component_prints_what_it_computes():
    """The Glia form of each component, run by the reference interpreter, gives the component's value
    (or a runtime error where the component is undefined)."""
    import contextlib
    import io
    import itertools

    from glia.compiler.interp import Interpreter
    from glia.runtime.search.components import (GLIA_BOOL, GLIA_INT, GLIA_INT_BOOL, GLIA_STR, glia_ite,
                                                list_components)
    from glia.runtime.search.problem import Const, Lam, Term, Var

    def comp(name, comps):
        return next(c for c in comps if c.name == name)

    x, a, b = (Term(Var(-1, "x", "int")), Term(Var(-1, "a", "int")), Term(Var(-2, "b", "int")))
    lams = {
        "fn(int)->int": Lam(lambda v: v + 1, Term(comp("add", GLIA_INT), (x, Term(Const(1, "int")))), ("x",), ""),
        "fn(int)->bool": Lam(lambda v: v < 2, Term(comp("lt", GLIA_INT_BOOL), (x, Term(Const(2, "int")))), ("x",), ""),
        "fn(int,int)->int": Lam(lambda u, v: u - v, Term(comp("sub", GLIA_INT), (a, b)), ("a", "b"), ""),
    }
    samples = {"int": [3, -7], "bool": [True, False], "str": ["ab,c d", ""], "list[int]": [(4, 1, 3), ()]}
    comps = GLIA_INT + GLIA_INT_BOOL + GLIA_BOOL + GLIA_STR + list_components("int") + [glia_ite("str")]
    checked = 0
    for c in comps:
        lists = [Term(Var(0, "l0", "list[int]")), Term(Var(1, "l1", "list[int]"))]  # [] needs a type
        pools = [[Term(lams[t])] if t in lams else lists if t == "list[int]" else
                 [Term(Const(v, t)) for v in samples[t]] for t in c.args]
        for args in itertools.product(*pools):
            values = [t.head.fn if isinstance(t.head, Lam) else samples["list[int]"][t.head.index]
                      if isinstance(t.head, Var) else t.head.value for t in args]
            try:
                want = c.fn(*values)
            except Exception:  # noqa: BLE001
                want = None
            expr = to_glia(Term(c, args), ())
            source = f"def f(l0: list[int], l1: list[int]):\n    v = {expr}\n    print(v)\n"
            buf = io.StringIO()
            try:
                with contextlib.redirect_stdout(buf):
                    Interpreter(check_source(Source("t.glia", source))).call("f", [[4, 1, 3], []])
                got = buf.getvalue().strip()
            except GliaError as e:
                assert e.diagnostic.stage == "runtime", f"{expr}: {e.render()}"
                got = None
            shown = None if want is None else str(list(want) if isinstance(want, tuple) else want)
            assert got == shown, f"{c.name}: {expr} printed {got!r}, the component gives {shown!r}"
            checked += 1
    assert checked > 100


def test_program_synthesize_from_python():
    import glia

    prog = glia.compile("def f(x: int) -> int:\n    return ?? * choose(1, 2)\n\nexamples f:\n"
                        "    1 -> 3\n    2 -> 5\n    0 -> 1\n", "pyprog.glia")
    filled = prog.synthesize(timeout=10, cache=False)
    assert filled.f(5) == 11 and "??" not in filled.source.text and "choose" not in filled.source.text
    assert filled.synthesis[0]["function"] == "f"


def test_hole_after_its_parameter_is_reassigned():
    text = "def f(x: int) -> int:\n    x = x * 10\n    return ?? + 1\n\nexamples f:\n    1 -> 12\n    2 -> 22\n"
    assert solve_text(text)[0].expr == "x + 1"  # the x at the hole is ten times the argument


# ---- float holes: skeletons by size, constants fitted by CMA-ES (runtime/search/regression.py) -----

FLOATS = """
def fahrenheit(c: float) -> float:
    return ??

examples fahrenheit:
    0.0 -> 32.0
    100.0 -> 212.0
    37.0 -> 98.6
    -40.0 -> -40.0

def speed(d: int, t: float) -> float:
    return ??

examples speed:
    10, 2.0 -> 5.0
    9, 3.0 -> 3.0
    7, 0.5 -> 14.0
"""


def test_float_holes_get_fitted_readable_constants():
    from glia.compiler import synth
    from glia.compiler.driver import check_source
    from glia.compiler.diagnostics import Source
    from glia.runtime.search import Config

    program = check_source(Source("floats.glia", FLOATS))
    fills = synth.solve(program, Config("auto", 30.0, seed=0), use_cache=False)
    exprs = {f.func: f.expr for f in fills}
    assert "1.8" in exprs["fahrenheit"] and "32.0" in exprs["fahrenheit"]  # rounded: not 1.79999999
    assert exprs["speed"] == "float(d) / t"
    assert all(f.strategy == "regression" for f in fills)
    completed = synth.verify(program, fills)  # the interpreter agrees, to within 1e-6 relative
    again = synth.solve(program, Config("auto", 30.0, seed=0), use_cache=False)
    assert [f.expr for f in again] == [f.expr for f in fills]  # deterministic under a seed
    assert "fahrenheit" in completed.functions


def test_a_float_hole_prefers_a_smaller_program_with_a_constant():
    """x / 2 was `log(sqrt(exp(x)))` (4 nodes, no constant) rather than `x * 0.5` (3 nodes, one constant
    slot, which costs like two more nodes): the smaller skeletons with constants are tried before an
    answer without constants is kept."""
    from glia.compiler import synth
    from glia.compiler.driver import check_source
    from glia.compiler.diagnostics import Source
    from glia.runtime.search import Config

    text = ("def half(x: float) -> float:\n    return ??\n\nexamples half:\n    1.0 -> 0.5\n    2.0 -> 1.0\n"
            "    3.0 -> 1.5\n    10.0 -> 5.0\n\n"
            "def twice(x: float) -> float:\n    return ??\n\nexamples twice:\n    1.0 -> 2.0\n    3.0 -> 6.0\n")
    fills = synth.solve(check_source(Source("half.glia", text)), Config("auto", 30.0), use_cache=False)
    exprs = {f.func: f.expr for f in fills}
    assert exprs["half"] in ("x * 0.5", "0.5 * x", "x / 2.0")
    assert exprs["twice"] == "x + x"  # as small as `x * 2.0`, and without a constant: kept


def test_cma_es_minimises_a_shifted_quadratic():
    import numpy as np

    from glia.runtime.search.regression import cma_es

    target = np.array([3.0, -2.0, 0.5])
    best = cma_es(lambda pop: np.sum((pop - target) ** 2, axis=1), np.zeros(3), 1.0, np.random.default_rng(0),
                  generations=200)
    assert np.allclose(best, target, atol=1e-4)


INSIDE = """
def doubled(c: float) -> float:
    return 2.0 * ?? + 1.0

examples doubled:
    0.0 -> 65.0
    100.0 -> 425.0
    -40.0 -> -79.0
    37.0 -> 198.2

def area(r: float) -> float:
    k = ??
    return k * r * r

examples area:
    1.0 -> 3.14159
    2.0 -> 12.56636
    0.5 -> 0.7853975

def ramp(x: float) -> float:
    return max(??, 0.0)

examples ramp:
    1.0 -> 2.0
    3.0 -> 6.0
    -1.0 -> 0.0
    -5.0 -> 0.0
"""


def test_float_holes_inside_expressions_are_fitted_through_their_context():
    from glia.compiler import synth
    from glia.compiler.driver import check_source
    from glia.compiler.diagnostics import Source
    from glia.runtime.search import Config

    program = check_source(Source("inside.glia", INSIDE))
    fills = synth.solve(program, Config("auto", 30.0, seed=0), use_cache=False)
    exprs = {f.func: f.expr for f in fills}
    assert "1.8" in exprs["doubled"] and "32.0" in exprs["doubled"]  # the hole's own values were never given
    assert exprs["area"] == "3.14159"
    assert "x" in exprs["ramp"]  # anything equal to 2x where x > 0 and at most 0 elsewhere
    assert all(f.strategy == "regression" for f in fills)
    synth.verify(program, fills)  # in place, the interpreter gives every example's result


# ---- top-down with deduction (runtime/search/topdown.py) ---------------------------------------------

def _list_task(name, inputs, outputs, args=("list[int]",), ret="list[int]"):
    from glia.compiler.tasks import task_problem

    return task_problem({"name": name, "inputs": inputs, "outputs": outputs,
                         "types": {"args": list(args), "ret": ret}}, name)


def test_top_down_splits_map_filter_and_zipwith_into_lambda_examples():
    cases = [
        # map's lambda is bigger than any lambda bottom-up enumerates (size 3)
        (_list_task("poly", [[[1, 2, 3]], [[4, 0]], [[-2]]], [[4, 10, 18], [28, 0], [-2]]),
         lambda xs: [x * (x + 3) for x in xs]),
        (_list_task("keep", [[[44, 1, 20, 3]], [[7, 30, 8]], [[100, 5, 9, 12]], [[10]], [[2, 50, 60, 1]]],
                    [[44, 20], [30], [100, 12], [10], [50, 60]]),
         lambda xs: [x for x in xs if x > 9]),
        (_list_task("pairs", [[[1, 2], [3, 4]], [[5], [6]], [[0, 7], [2, 1]]], [[4, 10], [35], [0, 14]],
                    args=("list[int]", "list[int]")),  # a * b + a
         None),
    ]
    for problem, oracle in cases:
        r = synthesize(problem, Config(strategy="top-down", timeout=10.0))
        assert r.solved and r.strategy == "top-down", (problem.name, r)
        assert satisfies(r.term, problem.inputs, problem.outputs)
        if oracle is not None:  # it generalises: the same function on unseen lists
            for xs in ([3, -1, 10], [11, 2, 9, 10]):
                assert satisfies(r.term, [(tuple(xs),)], [tuple(oracle(xs))]), to_glia(r.term, ())
    zipped = synthesize(cases[2][0], Config(strategy="top-down", timeout=10.0))
    assert to_glia(zipped.term, ()).startswith("[") and " for a, b in zip(" in to_glia(zipped.term, ())


def test_top_down_prefers_a_smaller_program_and_splits_under_reverse():
    r = synthesize(_list_task("rev", [[[1, 2]], [[3]]], [[2, 1], [3]]), Config(timeout=10.0))
    assert to_glia(r.term, ()) == "reversed(x)"  # not a lambda fitted to two examples
    problem = _list_task("revmap", [[[1, 2, 3]], [[4, 0]]], [[8, 3, 0], [-1, 15]])
    r = synthesize(problem, Config(strategy="top-down", timeout=10.0))
    assert r.solved and satisfies(r.term, [((5, 6),)], [(35, 24)]), to_glia(r.term, ())


def test_top_down_hands_what_it_cannot_split_to_bottom_up():
    problem = _list_task("total", [[[1, 2, 3]], [[4]]], [6, 4], ret="int")
    r = synthesize(problem, Config(strategy="top-down", timeout=5.0))
    assert r.solved and r.strategy == "top-down/bottom-up" and to_glia(r.term, ()) == "sum(x)"


def test_a_float_hole_over_a_list_uses_its_summaries():
    text = ("def mean(xs: list[float]) -> float:\n    return ??\n\nexamples mean:\n    [1.0, 2.0, 3.0] -> 2.0\n"
            "    [4.5] -> 4.5\n    [1.0, 0.0, 0.0, 1.0] -> 0.5\n")
    fills = solve_text(text)
    assert fills[0].expr == "sum(xs) / float(len(xs))"


def test_int_holes_can_loop_over_a_range_and_lists_compare():
    from glia.runtime.search import Problem, Var
    from glia.runtime.search.library import default_grammar, loop_grammar

    x = (Var(0, "x", "int"),)
    inputs = [(n,) for n in (0, 1, 2, 3, 4, 5, 6, 7, 9, 11, 13, 20)]
    outputs = [sum(i * i for i in range(n + 1)) for (n,) in inputs]  # 1 + 4 + ... + x * x
    wider = loop_grammar(x, "int", inputs, outputs)
    assert "list[int]" in wider.types and loop_grammar(x, "int", inputs, outputs, using=("add",)) is None
    # the plain grammar first (here one that cannot say it), then the wider one with the time left
    plain = default_grammar(x, "int", inputs, outputs, using=("add",))
    r = synthesize(Problem("squares", x, "int", inputs, outputs, plain, wider=wider), Config(timeout=20.0))
    assert r.solved and "range(" in to_glia(r.term, ()) and satisfies(r.term, [(10,)], [385])
    text = ("def mirror(a: list[int], b: list[int]) -> bool:\n    return ??\n\nexamples mirror:\n"
            "    [1, 2], [2, 1] -> True\n    [1, 2], [1, 2] -> False\n    [], [] -> True\n    [3], [4] -> False\n"
            "    [1, 2, 3], [3, 2, 1] -> True\n")
    assert solve_text(text)[0].expr in ("reversed(a) == b", "a == reversed(b)")


def test_depth_bounds_the_answer_and_an_impossible_depth_is_reported():
    from glia.runtime.search.terms import term_depth

    body = "\n\nexamples f:\n    1 -> 8\n    2 -> 12\n    5 -> 24\n    0 -> 4\n"  # 4x + 4
    for depth in (3, 4):
        fill = solve_text("def f(x: int) -> int:\n    return ??(depth=%d)%s" % (depth, body))[0]
        assert term_depth(fill.term) <= depth
    d = error_of("def f(x: int) -> int:\n    return ??(depth=2)" + body, timeout=5.0)
    assert d.code == "E606" and "depth=2" in d.message
    float_fill = solve_text("def c(t: float) -> float:\n    return ??(depth=2)\n\nexamples c:\n    1.0 -> 3.0\n"
                            "    2.0 -> 6.0\n    0.5 -> 1.5\n")[0]
    assert term_depth(float_fill.term) <= 2 and "3" in float_fill.expr


# ---- deduction for SyGuS string targets (runtime/search/deduce.py) -------------------------------
# A candidate bound far below what enumeration needs to reach these programs' sizes (17 and 16 nodes):
# only the deduction steps can solve them within it.
DEDUCED = 50_000

BETWEEN = """
(synth-fun f ((x String)) String
  ((Start String (ntString))
   (ntString String (x "(" ")" (str.++ ntString ntString) (str.replace ntString ntString ntString)
                     (str.substr ntString ntInt ntInt)))
   (ntInt Int (0 1 (+ ntInt ntInt) (- ntInt ntInt) (str.len ntString) (str.indexof ntString ntString ntInt)))))
(constraint (= (f "ab(cd)ef") "cd"))
(constraint (= (f "(xyz) tail") "xyz"))
(constraint (= (f "long prefix (q) and (r)") "q"))
"""

DASHES = """
(synth-fun f ((x String)) String
  ((Start String (ntString))
   (ntString String (x "-" "." (str.++ ntString ntString) (str.replace ntString ntString ntString)))))
(constraint (= (f "1-2-3-4-5-6") "1.2.3.4.5.6"))
(constraint (= (f "10-20-30-40-50-60") "10.20.30.40.50.60"))
"""


def _sygus_problem(text):
    from glia.compiler import sygus

    src = Source("task.sl", text + "(check-synth)\n")
    return sygus.to_problem(sygus.read_sygus(src), src)


def test_substring_between_delimiters_is_deduced_from_positions():
    # substr x (indexof x "(" 0) + 1 with length (indexof x ")" 0) - start: the start and the end
    # positions are looked up by value among the kept integer programs
    problem = _sygus_problem(BETWEEN)
    r = synthesize(problem, Config(timeout=20.0, max_candidates=DEDUCED))
    assert r.solved and r.decisions[1] == "str.substr", r.reason  # under the chain rule Start -> ntString
    assert satisfies(r.term, problem.inputs, problem.outputs)
    assert satisfies(r.term, [("z(ok)",)], ["ok"])  # the positions are computed, not the examples' constants


def test_replace_chain_is_found_by_a_distance_guided_beam():
    # five first-occurrence replaces: out of enumeration's reach, one step at a time for the beam
    problem = _sygus_problem(DASHES)
    r = synthesize(problem, Config(timeout=20.0, max_candidates=DEDUCED))
    assert r.solved and r.decisions.count("str.replace") == 5, r.reason
    assert satisfies(r.term, problem.inputs, problem.outputs)
    assert satisfies(r.term, [("a-b-c-d-e-f",)], ["a.b.c.d.e.f"])


def test_glia_slice_between_delimiters_is_deduced():
    # the same deduction over the Glia library: s[i:j] with the end looked up directly
    text = textwrap.dedent('''
        def f(s: str) -> str:
            return ??

        examples f:
            "ab[cd]ef" -> "cd"
            "[xyz] tail" -> "xyz"
            "long prefix [q] and [r]" -> "q"
        ''')
    fills = solve_text(text, strategy="bottom-up", max_candidates=DEDUCED)
    assert fills[0].expr == 's[1 + s.find("["):s.find("]")]'


def test_bit_parallel_edit_distance_matches_the_textbook_table():
    import random

    from glia.runtime.search.deduce import _distance

    def table(a, b):
        prev = list(range(len(b) + 1))
        for i, ca in enumerate(a, 1):
            cur = [i]
            for j, cb in enumerate(b, 1):
                cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
            prev = cur
        return prev[-1]

    rng = random.Random(0)
    for _ in range(500):
        a, b = ("".join(rng.choice("ab <") for _ in range(rng.randint(0, 90))) for _ in range(2))
        assert _distance(a, b) == table(a, b), (a, b)


def test_list_searches_with_small_lambdas_do_not_load_numba():
    # top-down's list bank and its small lambda bodies (`not x`, `x * x - 1`) are enumerated on Python
    # values: loading the compiled kernel cost each process 0.5-1.5 s, more than the search itself (a
    # list[bool] reverse took 1.7 s for 329 candidates), and a compile after installing
    code = textwrap.dedent("""
        import sys
        from glia.compiler import synth
        from glia.compiler.diagnostics import Source
        from glia.compiler.driver import check_source
        from glia.runtime.search import Config
        tasks = [("list[bool]", "??", "[True, False] -> [False, True]", "[True, True, False] -> [False, True, True]"),
                 ("list[bool]", "??", "[True, False] -> [False, True]", "[False] -> [True]"),
                 ("list[int]", "??", "[1, 2, 3] -> [0, 3, 8]", "[4, -2] -> [15, 3]"),
                 # a bank of leaves alone (the ints at depth=1) was kept as words and loaded Numba too
                 ("list[int]", "??(depth=1)", "[1] -> [1]", "[2, 3] -> [2, 3]")]
        for t, hole, a, b in tasks:
            text = f"def f(xs: {t}) -> {t}:\\n    return {hole}\\n\\nexamples f:\\n    {a}\\n    {b}\\n"
            program = check_source(Source("t.glia", text))
            fills = synth.solve(program, Config(timeout=20.0), use_cache=False)
            synth.verify(program, fills)
            print(fills[0].expr)
        print("numba" in sys.modules)
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:5] == ["reversed(xs)", "map(lambda x: not x, xs)", "map(lambda x: x * x - 1, xs)", "xs", "False"]


def test_a_decision_list_stands_only_if_the_next_level_holds_no_smaller_program():
    # unification assembled `1 if min(xs) else 2 if xs[0] else 0` (size 9) after level 2, before
    # enumeration reached the count of size 3
    program = check_source(Source("t.glia", "def f(xs: list[bool]) -> int:\n    return ??\n\nexamples f:\n"
                                  "    [True, False, True] -> 2\n    [False, False] -> 0\n    [True] -> 1\n"))
    fills = synth.solve(program, Config(timeout=20.0), use_cache=False)
    assert fills[0].expr == "len(filter(lambda x: x, xs))"
    # where no smaller program fits, the decision list stands
    program = check_source(Source("t.glia", "def f(x: int) -> int:\n    return ??\n\nexamples f:\n"
                                  "    1 -> 10\n    2 -> 20\n    3 -> 7\n    4 -> 7\n"))
    fills = synth.solve(program, Config(timeout=20.0), use_cache=False)
    synth.verify(program, fills)
    assert " if " in fills[0].expr
