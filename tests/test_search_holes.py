"""Several holes in one function, searched together (runtime/search/joint.py, compiler/synth.py).

Every answer is checked the way `glia synth` checks it: the completed source is checked again and
run on every example by the reference interpreter (synth.verify). Tasks: a condition and a branch,
two branches, a loop's bound and body, three holes each inside a context, strings and lists; the
strategies; determinism; the cache; the diagnostics.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from glia.compiler import hole_runs, ir, synth
from glia.compiler.diagnostics import GliaError, Source
from glia.compiler.driver import check_source
from glia.runtime.search import Config

TASKS = {
    "condition_and_branch": """
        def f(x: int, y: int) -> int:
            if x > ??:
                return ??
            return y

        examples f:
            1, 2 -> 2
            5, 2 -> 10
            7, 3 -> 14
            0, 9 -> 9
        """,
    "two_branches": """
        def g(a: int, b: int) -> int:
            if a < b:
                return ??
            return ??

        examples g:
            1, 5 -> 6
            4, 2 -> 2
            3, 7 -> 10
            9, 1 -> 8
            2, 2 -> 0
        """,
    "loop_bound_and_body": """
        def total(n: int, k: int) -> int:
            s = 0
            for i in range(??):
                s = s + ??
            return s

        examples total:
            3, 2 -> 6
            4, 5 -> 20
            0, 7 -> 0
            5, 1 -> 5
        """,
    "three_holes_in_contexts": """
        def h(a: int, b: int, c: int) -> int:
            if a + ?? > b:
                return a * ??
            return ?? - c

        examples h:
            5, 2, 1 -> 15
            1, 9, 4 -> 6
            2, 5, 0 -> 6
            6, 8, 2 -> 7
            0, 0, 3 -> 0
            3, 12, 7 -> 6
            9, 1, 1 -> 27
        """,
    "threshold": """
        def fee(amount: int) -> int:
            if amount > ??:
                return ??
            return 0

        examples fee:
            5 -> 0
            10 -> 0
            11 -> 22
            40 -> 80
            3 -> 0
        """,
    "bool_and_str": """
        def greet(name: str, formal: bool) -> str:
            if ??:
                return ??
            return name

        examples greet:
            "ann", True -> "Dr. ann"
            "bob", False -> "bob"
            "cy", True -> "Dr. cy"
        """,
    "list_condition_and_branch": """
        def pick(xs: list[int], n: int) -> list[int]:
            if len(xs) > ??:
                return ??
            return xs

        examples pick:
            [1, 2, 3, 4], 2 -> [1, 2]
            [5, 6], 2 -> [5, 6]
            [7, 8, 9], 1 -> [7]
            [1], 3 -> [1]
        """,
    "loop_start_and_step": """
        def f(xs: list[int]) -> int:
            total: int = ??
            for x in xs:
                total = total + ??
            return total

        examples f:
            [1, 2, 3] -> 15
            [] -> 1
            [4] -> 17
        """,
    "run_lengths": """
        def longest(xs: list[int]) -> int:
            best = 0
            run = 0
            prev = -1
            for x in xs:
                if x == prev:
                    run = ??
                else:
                    run = ??
                best = max(best, run)
                prev = x
            return best

        examples longest:
            [1, 1, 2, 2, 2, 3] -> 3
            [5] -> 1
            [] -> 0
            [4, 4, 1, 4] -> 2
            [7, 7, 7, 7] -> 4
        """,
    "loop_condition_and_update": """
        def count_if(xs: list[int], k: int) -> int:
            n = 0
            for x in xs:
                if ??:
                    n = ??
            return n

        examples count_if:
            [1, 5, 7, 2], 4 -> 2
            [10, 3], 3 -> 1
            [], 0 -> 0
            [2, 2, 9], 1 -> 3
        """,
    "hole_inside_a_lambda": """
        def shift(xs: list[int], k: int) -> list[int]:
            if k > ??:
                return map(lambda x: x + ??, xs)
            return xs

        examples shift:
            [1, 2], 5 -> [6, 7]
            [3], 0 -> [3]
            [0, 1], 9 -> [9, 10]
        """,
}


def program_of(name: str, text: str | None = None):
    return check_source(Source(f"{name}.glia", textwrap.dedent(text or TASKS[name]).lstrip()))


def solve(name: str, text: str | None = None, **cfg):
    program = program_of(name, text)
    fills = synth.solve(program, Config(**{"timeout": 20.0, **cfg}), use_cache=False)
    synth.verify(program, fills)  # the completed program, checked and run on every example
    return fills


@pytest.mark.parametrize("name", sorted(TASKS))
def test_several_holes_are_filled_together(name):
    fills = solve(name)
    holes = TASKS[name].count("??")
    assert len(fills) == holes >= 2 and all("joint" in f.strategy for f in fills)
    assert len({(f.candidates, f.seconds) for f in fills}) == 1  # one search for the function's holes


def test_holes_that_read_a_loops_locals_are_evaluated_at_each_reach():
    """Each hole's program reads the parameters and the locals assigned where it is reached."""
    assert [f.expr for f in solve("loop_start_and_step")] == ["1", "x * x"]
    assert [f.expr for f in solve("run_lengths")] == ["run + 1", "1"]
    fills = solve("loop_condition_and_update")
    assert [f.expr for f in fills] == ["k < x", "n + 1"] and all(f.slots for f in fills)


def test_a_run_that_does_not_read_a_hole_serves_every_program_of_it():
    """The run tree of an example: a run is a path of (hole, environment) reaches branching on the
    values the holes gave; a tuple whose values follow a known path is answered without a run."""
    from glia.runtime.search import joint

    program = program_of("condition_and_branch")
    tasks = synth.problems(program)
    func = tasks[0].func
    search = joint.Joint([t.problem for t in tasks], Config(timeout=5.0),
                         hole_runs.example_runner(program, func, [t.hole for t in tasks]))
    label_of = lambda values: lambda h, env: values[h]  # noqa: E731 - parameter holes: their values are the keys
    # example 0 is f(1, 2) -> 2: with 5 in the condition's hole, 1 > 5 is false and the branch is not read
    assert search.passes(0, label_of((5, 7)), lambda: (5, 7)) and search.runs == 1
    assert search.passes(0, label_of((5, 99)), lambda: (5, 99)) and search.runs == 1  # the same path
    assert not search.passes(0, label_of((0, 99)), lambda: (0, 99)) and search.runs == 2  # 1 > 0: reads the branch
    assert search.passes(0, label_of((0, 2)), lambda: (0, 2)) and search.runs == 3
    assert not search.passes(0, label_of((0, 99)), lambda: (0, 99)) and search.runs == 3  # known


def test_the_answers_are_the_smallest_tuples():
    assert [f.expr for f in solve("condition_and_branch")] == ["y", "x + x"]
    assert [f.expr for f in solve("three_holes_in_contexts")] == ["c", "3", "b + 1"]
    assert [f.expr for f in solve("threshold")] == ["10", "amount + amount"]  # an example's number, size 1


@pytest.mark.parametrize("strategy", ["gp", "portfolio", "top-down"])
def test_every_strategy_fills_several_holes(strategy):
    fills = solve("two_branches", strategy=strategy, seed=1)
    assert len(fills) == 2
    assert ("gp" in fills[0].strategy) == (strategy == "gp")  # portfolio's enumeration finds this one


def test_deterministic_under_a_seed():
    for strategy in ("bottom-up", "gp"):
        a = solve("two_branches", strategy=strategy, seed=3)
        b = solve("two_branches", strategy=strategy, seed=3)
        assert [(f.expr, f.candidates, f.decisions) for f in a] == [(f.expr, f.candidates, f.decisions) for f in b]


def test_a_holes_context_is_evaluated_with_its_own_value():
    # each hole's context (`a + ?? > b`, `a * ??`, `?? - c`) on each example, against Python
    program = program_of("three_holes_in_contexts")
    tasks = synth.problems(program)
    contexts = hole_runs.joint_contexts(program, tasks[0].func, [t.hole for t in tasks])
    for i, (a, b, c) in enumerate(tasks[0].problem.inputs):
        for v in (-2, 0, 5):
            assert [ctx(i, v) for ctx in contexts] == [a + v > b, a * v, v - c]


def test_no_context_where_a_parameter_is_reassigned_or_a_local_is_read():
    program = program_of("x", """
        def f(n: int, k: int) -> int:
            t = n + 1
            if t > ??:
                return ??
            while n > ??:
                n = n - 1
            return k
        """)
    func = program.functions["f"]
    assert [hole_runs.context_expr(func, h) for h in synth._holes_in(func)] == [None, None, None]
    func = program_of("hole_inside_a_lambda").functions["shift"]
    first, in_lambda = synth._holes_in(func)
    assert isinstance(hole_runs.context_expr(func, first), ir.Compare)
    assert hole_runs.context_expr(func, in_lambda) is None  # the lambda's locals are not the function's


def test_a_candidate_that_never_ends_a_loop_runs_out_of_fuel():
    # `while n > ??` with `n = n - ??`: a step of 0 (or less) would loop for ever
    program = program_of("steps", """
        def steps(n: int, k: int) -> int:
            count = 0
            while n > ??:
                n = n - ??
                count = count + 1
            return count

        examples steps:
            10, 3 -> 4
            9, 3 -> 3
            1, 5 -> 1
            0, 2 -> 0
            7, 7 -> 1
        """)
    fills = synth.solve(program, Config(timeout=20.0), use_cache=False)
    synth.verify(program, fills)
    assert [f.expr for f in fills] == ["0", "k"]
    interp = hole_runs.search_interpreter(program)
    for h in synth._holes_in(program.functions["steps"]):
        interp.hole_fill[h.index] = lambda frame: 0
    with pytest.raises(GliaError) as info:
        interp.call("steps", [5, 1])
    assert "out of fuel" in info.value.diagnostic.message


def test_program_synthesize_fills_several_holes():
    import glia

    prog = glia.compile(textwrap.dedent(TASKS["two_branches"]).lstrip(), "two.glia")
    filled = prog.synthesize(timeout=20, cache=False)
    assert filled.g(1, 5) == 6 and filled.g(10, 3) == 7
    assert [s["expression"] for s in filled.synthesis] == ["a + b", "a - b"]


def test_a_hole_no_example_reaches_among_several_is_said_to_be_a_guess(tmp_path):
    # the joint search filled it with no note (`"reached": true`), unlike a single hole or a choice
    text = ("def f(x: int) -> int:\n    if x > 100:\n        return ??\n    total = 0\n    for i in range(x):\n"
            "        total = total + ??\n    return total\n\nexamples f:\n    1 -> 2\n    3 -> 6\n")
    fills = solve("unreached", text=text)
    assert [f.reached for f in fills] == [False, True] and fills[1].slots
    fills = solve("unreached", text=text.replace("3 -> 6", "3 -> 6\n    101 -> 7"))
    assert all(f.reached for f in fills)
    path = tmp_path / "u.glia"
    path.write_text(text)
    env = dict(os.environ, GLIA_CACHE_DIR=str(tmp_path / "cache"))
    for _ in range(2):  # searched, then replayed from the cache
        r = subprocess.run([sys.executable, "-m", "glia", "synth", str(path)], capture_output=True, text=True, env=env)
        assert r.returncode == 0 and r.stderr.count("no example reaches this hole") == 1, r.stderr
        r = subprocess.run([sys.executable, "-m", "glia", "synth", str(path), "--json"], capture_output=True,
                           text=True, env=env)
        assert [h["reached"] for h in json.loads(r.stdout)["holes"]] == [False, True]


def test_several_holes_beside_a_parameter_search_cannot_read():
    # a dict argument was an internal error (unhashable) in the check for contradictory examples
    text = ('def f(d: dict[str, int], x: int) -> int:\n    if x > 100:\n        return ??\n    return d["a"] + ??\n'
            '\nexamples f:\n    {"a": 1}, 1 -> 3\n    {"a": 2}, 5 -> 12\n')
    fills = solve("dict_param", text=text)
    assert [f.expr for f in fills] == ["x", "x + x"] and [f.reached for f in fills] == [False, True]
    d = error_of(text + '    {"a": 2}, 5 -> 13\n')
    assert d.code == "E602" and "examples 2 and 3 have the same inputs" in d.message


def test_cli_json_write_and_cache(tmp_path):
    path = tmp_path / "f.glia"
    path.write_text(textwrap.dedent(TASKS["condition_and_branch"]).lstrip())
    env = dict(os.environ, GLIA_CACHE_DIR=str(tmp_path / "cache"))
    cmd = [sys.executable, "-m", "glia", "synth", str(path), "--json"]
    first = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout)
    assert [h["expression"] for h in first["holes"]] == ["y", "x + x"]
    assert first["holes"][1]["decisions"] == ["add", "$x", "$x"] and not first["holes"][0]["cached"]
    again = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout)
    assert [h["expression"] for h in again["holes"]] == ["y", "x + x"] and all(h["cached"] for h in again["holes"])
    subprocess.run(cmd[:-1] + ["--write"], capture_output=True, check=True, env=env)
    assert "if x > y:\n        return x + x\n    return y" in path.read_text()


# ---- diagnostics -----------------------------------------------------------------------------------

def error_of(text: str, timeout: float = 2.0):
    with pytest.raises(GliaError) as info:
        synth.solve(program_of("bad", text), Config(timeout=timeout), use_cache=False)
    return info.value.diagnostic


FLOAT_BESIDE = """
    def price(qty: int, member: bool) -> float:
        base = float(qty) * 2.5
        if ??:
            return base * ??
        return base

    examples price:
        4, True -> 9.0
        2, False -> 5.0
        10, True -> 22.5
        3, False -> 7.5
        6, True -> 13.5

    def shipping(weight: int) -> float:
        if weight > ??:
            return 0.75 * float(weight) + ??
        return 4.0

    examples shipping:
        1 -> 4.0
        5 -> 4.0
        12 -> 11.5
        20 -> 17.5
        11 -> 10.75
    """


def test_a_float_hole_beside_others_gets_its_constants_fitted_for_each_tuple_of_theirs():
    program = program_of("float_beside", FLOAT_BESIDE)
    fills = synth.solve(program, Config(timeout=20.0), use_cache=False)
    synth.verify(program, fills)
    assert [f.expr for f in fills] == ["member", "0.9", "5", "2.5"]
    assert all("regression" in f.strategy for f in fills)


TUPLES = """
    struct Stats:
        total: int
        count: int

    def divmod2(a: int, b: int) -> (int, int):
        return ??

    examples divmod2:
        7, 2 -> (3, 1)
        9, 3 -> (3, 0)
        10, 4 -> (2, 2)
        5, 7 -> (0, 5)

    def stats(xs: list[int]) -> Stats:
        return ??

    examples stats:
        [1, 2, 3] -> Stats(6, 3)
        [] -> Stats(0, 0)
        [5] -> Stats(5, 1)

    def bounds(xs: list[int]) -> (int, int):
        lo = xs[0]
        hi = xs[0]
        for x in xs:
            lo, hi = ??
        return (lo, hi)

    examples bounds:
        [3, 1, 4] -> (1, 4)
        [5] -> (5, 5)
        [2, 9, 7, 1] -> (1, 9)
        [-3, 6] -> (-3, 6)
    """


def test_a_tuple_or_struct_hole_is_a_hole_per_part():
    """A returned tuple's parts are searched each against its part of the results; elsewhere the parts
    are holes of the function, searched together."""
    program = program_of("tuples", TUPLES)
    fills = synth.solve(program, Config(timeout=20.0), use_cache=False)
    synth.verify(program, fills)
    assert [f.expr for f in fills] == ["(a // b, a % b)", "Stats(sum(xs), len(xs))", "(min(xs), max(xs))"]
    assert [len(f.parts) for f in fills] == [2, 2, 2] and "together" in fills[2].strategy
    assert [len(d) for d in fills[0].decisions] == [3, 3]  # one list of choices per part
    synth.solve(program, Config(timeout=20.0))  # into the cache, by part
    again = synth.solve(program, Config(timeout=20.0))
    assert [f.expr for f in again] == [f.expr for f in fills] and all(f.cached for f in again)


def test_a_hole_of_a_type_without_components_says_which_types_are_searched():
    d = error_of("""
        def f(x: int) -> dict[str, int]:
            return ??

        examples f:
            1 -> {"a": 1}
        """)
    assert d.code == "E603" and "tuples and structs" in d.message


def test_two_float_holes_in_one_function_are_not_searched_yet():
    d = error_of("""
        def f(x: float, n: int) -> float:
            if n > ??:
                return x * ??
            return x + ??

        examples f:
            1.0, 2 -> 1.0
        """)
    assert d.code == "E605" and "2 float holes" in d.message and (d.span.line, d.span.col) == (4, 16)


def test_contradictory_examples_and_types_without_components():
    d = error_of("def f(x: int) -> int:\n    if x > ??:\n        return ??\n    return 0\n\nexamples f:\n"
                 "    1 -> 2\n    1 -> 3\n")
    assert d.code == "E602" and "same inputs" in d.message
    d = error_of("def f(x: int) -> list[str]:\n    if x > ??:\n        return ??(using=[add])\n    return []\n\n"
                 "examples f:\n    1 -> []\n")
    assert d.code == "E603" and d.span.line == 3


def test_no_tuple_within_the_size_bounds():
    d = error_of("def f(x: int) -> int:\n    if x > ??(size=1):\n        return ??(size=1)\n    return 0\n\n"
                 "examples f:\n    1 -> 0\n    5 -> 10\n    7 -> 15\n")
    assert d.code == "E606" and "2 holes" in d.message and "size bound" in d.message


def test_example_program_is_solved():
    from pathlib import Path

    from glia.compiler.driver import read_source

    program = check_source(read_source(str(Path(__file__).resolve().parents[1] / "examples" / "search" /
                                           "several_holes.glia")))
    fills = synth.solve(program, Config(timeout=20.0), use_cache=False)
    synth.verify(program, fills)
    assert [f.expr for f in fills] == ["express", "weight * 3", "20", "weight // 2", "0", "k", "run + 1", "1"]


def test_the_memory_bound_ends_the_search():
    program = program_of("two_branches")
    with pytest.raises(GliaError) as info:
        synth.solve(program, Config(timeout=20.0, max_bank=3_000), use_cache=False)
    assert info.value.diagnostic.code == "E606" and "memory bound" in info.value.diagnostic.message


def test_an_unsatisfiable_task_ends_within_the_timeout():
    import time

    t0 = time.perf_counter()
    d = error_of("def f(a: int, b: int, c: int) -> int:\n    if a * ?? > b + c:\n        return ?? * c\n"
                 "    return ??\n\nexamples f:\n    3, 7, 1 -> 99\n    2, 9, 5 -> 17\n    8, 1, 4 -> 3\n"
                 "    5, 5, 5 -> 1\n    1, 2, 3 -> 12\n    9, 9, 9 -> 0\n", timeout=1.0)
    assert d.code == "E606" and "3 holes" in d.message
    assert time.perf_counter() - t0 < 10  # the bound is checked between levels, tuples and hits


def test_a_local_assigned_from_a_hole_gets_its_type_from_its_uses_or_a_note_naming_the_annotation():
    # a later use that fixes the type (an operand, a return) types the hole: no annotation needed
    ok = program_of("inferred", "def f(x: int) -> int:\n    y = ??\n    return y + 1\n\n"
                    "examples f:\n    1 -> 3\n    2 -> 5\n")
    assert str(ok.holes[0].type) == "int"
    # a use that does not (len, iteration, indexing) is E205 at the use, with a note at the hole
    for use, at in (("return len(y)", (3, 16)), ("for v in y:\n        return v\n    return 0", (3, 14)),
                    ("return y[0]", (3, 12))):
        with pytest.raises(GliaError) as info:
            program_of("unknown", f"def f(xs: list[int]) -> int:\n    y = ??\n    {use}\n\nexamples f:\n    [1] -> 1\n")
        d = info.value.diagnostic
        assert d.code == "E205" and (d.span.line, d.span.col) == at
        assert [(n.span.line, n.span.col) for n in d.notes] == [(2, 9)] and "`y: T = ??`" in d.notes[0].message
    # beside a tensor the operand's type is not fixed either (it was E203 '* is not defined for f32[3] and ?hole')
    with pytest.raises(GliaError) as info:
        program_of("tensor", "def f(x: f32[3]) -> f32[3]:\n    return x * ??\n")
    d = info.value.diagnostic
    assert d.code == "E205" and (d.span.line, d.span.col) == (2, 16) and "hole" in d.notes[0].message
    # a hole nothing types at all is E205 at the hole
    with pytest.raises(GliaError) as info:
        program_of("unused", "def f(x: int) -> int:\n    y = ??\n    return x\n\nexamples f:\n    1 -> 1\n")
    d = info.value.diagnostic
    assert d.code == "E205" and "this hole" in d.message and (d.span.line, d.span.col) == (2, 9)


def test_a_hole_added_to_a_str_is_a_str():
    # `out + ??` with out a str was E205 (the operand types of '+' are not known: str and ?hole), though
    # a str adds only to a str (an int operand already typed its hole as int)
    fills = solve("str_concat", """
        def f(s: str) -> str:
            out = ""
            for c in s:
                if c != ??:
                    out = out + ??
            return out

        examples f:
            "a-b" -> "ab"
            "--x" -> "x"
        """)
    assert [f.expr for f in fills] == ['"-"', "c"]
