"""The compiled CPU backend agrees with the reference interpreter: same output, same error code,
message and position. Numba compiles for seconds per program on this machine, so CI runs a subset
chosen to cover the constructs; `pytest --cpu-all` runs every golden program and example."""
import contextlib
import io
import os
from pathlib import Path

import pytest

from golden import parse_expectations
from glia.compiler.diagnostics import GliaError, Source
from glia.compiler.driver import check_source, run_program

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PROGRAMS = HERE / "programs"

SUBSET = [
    "basics/int_literals.glia", "basics/hello.glia", "basics/chained_comparisons.glia",
    "basics/float_literals_printing.glia", "basics/bitwise.glia", "basics/numeric_mixing.glia",
    "basics/hostile_names.glia", "basics/nested_int_to_float.glia", "basics/float_pow_special.glia",
    "control/if_elif_else.glia", "control/for_over_collections.glia", "control/while_loops.glia",
    "collections/set_basics.glia", "collections/list_methods.glia", "collections/comprehensions.glia",
    "collections/slicing.glia", "collections/scalar_lists.glia", "collections/tuple_lists.glia",
    "collections/list_comparison.glia", "collections/dict_basics.glia", "prelude/dijkstra.glia",
    "builtins/map_filter_reduce.glia", "builtins/argument_order.glia", "builtins/min_max_key.glia", "functions/mutual_recursion.glia",
    "functions/function_values.glia", "runtime_errors/error_in_function_value.glia",
    "runtime_errors/lambda_recursion_too_deep.glia", "structs/recursive_structs.glia", "runtime_errors/error_in_tree.glia",
    "structs/comparing_trees.glia", "runtime_errors/tree_holding_itself_compared.glia",
    "runtime_errors/sort_key_always_fails.glia",
    "structs/gradient_over_a_tree.glia",
    "runtime_errors/index_out_of_range.glia", "runtime_errors/overflow_mul.glia", "runtime_errors/overflow_sum.glia",
    "runtime_errors/floor_div_zero.glia", "runtime_errors/missing_key.glia", "runtime_errors/deep_recursion.glia",
    "runtime_errors/assert_fails.glia", "runtime_errors/dict_resized_in_loop.glia",
    "runtime_errors/dict_resized_in_comprehension.glia", "runtime_errors/set_resized_by_map.glia",
    "runtime_errors/set_resized_by_max_key.glia", "collections/keys_replaced_in_loop.glia", "runtime_errors/pop_empty_list.glia",
    "runtime_errors/tuple_list_pop_empty.glia", "runtime_errors/tuple_list_index_assign.glia",
    "runtime_errors/tuple_list_remove_missing.glia", "builtins/file_io.glia", "runtime_errors/missing_file.glia",
    "runtime_errors/write_to_missing_folder.glia",
]


def pytest_generate_tests(metafunc):
    if "cpu_program" in metafunc.fixturenames:
        if metafunc.config.getoption("--cpu-all"):
            files = sorted(p for p in PROGRAMS.rglob("*.glia") if "errors" != p.parent.name)
            files += sorted((ROOT / "examples").glob("*.glia"))
        else:
            files = [PROGRAMS / f for f in SUBSET if (PROGRAMS / f).exists()]
        metafunc.parametrize("cpu_program", files, ids=lambda p: str(p.relative_to(p.parents[1])))


def run(program, args, backend):
    buf = io.StringIO()
    notes: list[str] = []
    err = None
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(buf):
            run_program(program, args, backend=backend, notes=notes.append)
    except GliaError as e:
        d = e.diagnostic
        err = (d.code, d.message, d.span.line, d.span.col)
    finally:
        os.chdir(old)
    return buf.getvalue(), err, notes


@pytest.mark.slow
def test_cpu_matches_interpreter(cpu_program: Path):
    text = cpu_program.read_text(encoding="utf-8")
    exp = parse_expectations(text)
    program = check_source(Source(str(cpu_program), text))
    ref = run(program, exp.args, "interp")
    got = run(program, exp.args, "cpu")  # (a program not compiled whole: its other functions compiled)
    assert got[:2] == ref[:2]
    assert not any("bug in Glia" in n for n in got[2]), got[2]  # (Numba never rejects the generated code)


def test_unsupported_construct_falls_back_and_says_why(tmp_path):
    src = Source("t.glia", "def one() -> int:\n    return 1\n\ndef main():\n    f = one\n    print(f == one)\n")
    program = check_source(src)
    out, err, notes = run(program, [], "cpu")
    assert out == "True\n" and err is None
    assert len(notes) == 1 and "main runs in the interpreter" in notes[0] and \
        "cannot compile comparing function values" in notes[0] and "t.glia:5:9" in notes[0]


def test_a_function_that_cannot_be_compiled_runs_interpreted_and_the_others_compiled():
    """Per function: a function taking a gradient that does not compile yet (through a list of lists of tensors) runs in the
    interpreter (noted), the loops and the model it calls compiled."""
    text = ("def steps(n: int) -> int:\n    s = 0\n    for i in range(n):\n        s = (s + i * i) % 1000003\n"
            "    return s\n\ndef model(x: f32[4]) -> f32:\n    return sum(softmax(dense(x, 2)))\n\n"
            "def slope(x: f32[4]) -> f32[4]:\n    return grad(pair)(x)\n\n"
            "def pair(x: f32[4]) -> f32:\n    xs = [[x * 0.0 + model(x)]]\n    return sum(xs[0][0]) * 0.25\n\n"
            "def main():\n    print(steps(1000))\n    g = slope(ones(4))\n    print(model(ones(4)), steps(10), abs(g[0]) < 1e-6)\n")
    program = check_source(Source("t.glia", text))
    out, err, notes = run(program, [], "cpu")
    assert (out, err) == run(program, [], "interp")[:2] and out == "832504\n1.0 285 True\n"
    # steps and model compiled (no note), main and slope interpreted, each noted once with the reason
    assert [n.split(": ")[2] for n in notes] == ["main runs in the interpreter", "slope runs in the interpreter"]
    assert "cannot compile the gradient through 'pair', whose local 'xs' is a list[list[f32[4]]]" in notes[1]
    assert notes[1].endswith("yet (at t.glia:13:1)")


TREE = ("struct Tree:\n    val: int\n    kids: list[Tree]\n\n"
        "def make(d: int, v: int) -> Tree:\n    t = Tree(v, [])\n    if d > 0:\n        for i in range(2):\n"
        "            t.kids.append(make(d - 1, v * 2 + i))\n    return t\n\n"
        "def total(t: Tree) -> int:\n    s = t.val\n    for k in t.kids:\n        s += total(k)\n    return s\n\n"
        "def twice(f: fn(int) -> int, x: int) -> int:\n    return f(f(x))\n\n")


def test_recursive_structs_compile():
    """A struct holding itself (a tree: `kids: list[Tree]`) compiles, its field a box (it crashed the
    lowering once, then ran interpreted)."""
    text = TREE + "def main():\n    t = make(3, 1)\n    print(total(t), make(1, 7), twice(lambda v: v * 3, 2))\n"
    program = check_source(Source("t.glia", text))
    out, err, notes = run(program, [], "cpu")
    assert (out, err) == run(program, [], "interp")[:2]
    assert out == "120 Tree(val=7, kids=[Tree(val=14, kids=[]), Tree(val=15, kids=[])]) 18\n"
    assert notes == []


UNROLLED = """
def fib(n: int) -> int:
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)

def grow(n: int, x: int) -> int:
    if n == 0:
        return x
    return grow(n - 1, x * 3)

def down(n: int) -> int:
    return down(n + 1) + 1

def main(args: list[str]):
    print(fib(25), grow(3, 5))
    if args[0] == "overflow":
        print(grow(50, 1))
    print(down(0))
"""


@pytest.mark.parametrize("arg", ["overflow", "deep"])
def test_a_small_recursive_function_runs_two_levels_a_call(arg):
    """fib, grow and down have one level of their recursion inlined (ModuleLowerer.unrollable): the
    same results, the overflow at the same line, the depth limit at the same call, as interpreted."""
    from glia.compiler.backend_cpu import lower_program

    program = check_source(Source("unrolled.glia", UNROLLED))
    code = lower_program(program).source
    for name in ("fib", "grow", "down"):
        assert f"def inl_f_{name}(" in code and f"inl_f_{name}(" in code.split(f"def f_{name}(")[1]
    ref = run(program, [arg], "interp")
    got = run(program, [arg], "cpu")
    assert got[:2] == ref[:2] and got[2] == []
    assert ref[0] == "75025 135\n" and ref[1][0] == ("E504" if arg == "overflow" else "E505")


def test_comparing_recursive_structs_compiles():
    """==, in and list.index of values holding a struct that holds itself compile (one self-recursive
    function per group of structs holding each other: lower_numba's eq_fn), with no note."""
    text = TREE + ("def main():\n    t = make(3, 1)\n    print(total(t), t == make(3, 1), t in [make(1, 1)], "
                   "[t, make(1, 1)].index(make(1, 1)), twice(lambda v: v * 3, 2))\n")
    program = check_source(Source("t.glia", text))
    out, err, notes = run(program, [], "cpu")
    assert (out, err) == run(program, [], "interp")[:2]
    assert out == "120 True False 1 18\n"
    assert notes == []


def test_a_tree_crossing_to_the_interpreter_runs_interpreted_with_the_reason():
    """Compiled code does not pass values holding a struct that holds itself to or from the
    interpreter (a global holding one is computed by the interpreter); each function that would is
    interpreted, with a note; a function-typed parameter given a lambda by the interpreter is named in
    its note."""
    text = TREE + ("LEAF = Tree(0, [])\n\ndef main():\n    t = make(3, 1)\n    print(total(t), t == make(3, 1), "
                   "LEAF in t.kids, twice(lambda v: v * 3, 2))\n")
    program = check_source(Source("t.glia", text))
    out, err, notes = run(program, [], "cpu")
    assert (out, err) == run(program, [], "interp")[:2]
    assert out == "120 True False 18\n"
    assert any("main runs in the interpreter: the CPU backend cannot compile passing a struct Tree, which holds a "
               "Tree, between compiled code and the interpreter (the global 'LEAF') yet" in n for n in notes), notes
    assert any("total runs in the interpreter: the CPU backend cannot compile passing a struct Tree, which holds a "
               "Tree, between compiled code and the interpreter yet (at t.glia:12:1)" in n for n in notes), notes
    assert any("twice runs in the interpreter" in n and "here twice's parameter 'f'" in n for n in notes), notes


FUNCTION_VALUES = """
def apply_n(f: fn(int) -> int, n: int, x: int) -> int:
    for _ in range(n):
        x = f(x)
    return x

def twice(g: fn(int) -> int, x: int) -> int:
    return apply_n(g, 2, x)

def square(v: int) -> int:
    return v * v

def mapl[T](f: fn(T) -> T, xs: list[T]) -> list[T]:
    return [f(x) for x in xs]

def fold(f: fn(int, int) -> int, n: int) -> int:
    if n <= 1:
        return n
    return f(fold(f, n - 1), fold(f, n - 2))

def logged(f: fn(float) -> float, xs: list[float], log: list[float]) -> float:
    t = 0.0
    for x in xs:
        log.append(f(x))
        t += log[-1]
    return t

def deep(f: fn(int) -> int, n: int) -> int:
    if n == 0:
        return f(0)
    return deep(f, n - 1) + 1

def main(args: list[str]):
    k = 3
    print(apply_n(lambda v: v * k + 1, 4, 1), apply_n(square, 3, 2), twice(lambda v: v - k, 10), twice(square, 3))
    print(mapl(lambda s: s + "!", ["a", "b"]), mapl(lambda x: x * 0.5, [1.0, 3.0]), mapl(square, [1, 2, 3]))
    print(fold(lambda a, b: a + b, 15), fold(lambda a, b: max(a, b) * 2 + k, 10))
    scale = 2.5
    f = lambda x: x * scale
    scale = 100.0
    log: list[float] = []
    print(logged(f, [1.0, 2.0], log), log, f(4.0))
    acc = [0]
    bump = lambda v: v + len(acc)
    acc.append(5)
    g = square
    print(apply_n(bump, 3, 0), g(7), apply_n(g, 2, 3))
    total = 0
    for i in range(4):
        h = lambda v: v + i
        total += apply_n(h, 2, 0)
    rows = [[1, 2], [3]]
    print(total, rows.index([3]), deep(lambda v: v + 1, 100))
    rows.remove([1, 2])
    print(rows)
    print(apply_n(lambda v: v // (v - 3), 5, int(args[0])))
"""


@pytest.mark.parametrize("arg", ["0", "3"])
def test_function_values_known_where_they_are_passed_compile(arg):
    """A function taking a function (a lambda, a function's name, a local assigned one once, passed on
    to another) is compiled as a copy per function passed: the whole program compiles (it ran in the
    interpreter), with the interpreter's output and error (a division by zero inside the lambda,
    inside apply_n: its line and column)."""
    program = check_source(Source("t.glia", FUNCTION_VALUES))
    out, err, notes = run(program, [arg], "cpu")
    assert (out, err) == run(program, [arg], "interp")[:2] and notes == []
    assert out.startswith("121 256 4 81\n['a!', 'b!'] [0.5, 1.5] [1, 4, 9]\n610 2045\n7.5 [2.5, 5.0] 10.0\n"
                          "6 49 81\n12 1 101\n[[3]]\n")
    assert err == (None if arg == "0" else ("E503", "integer division by zero", 56, 29))


def test_function_values_in_a_list_compile():
    """A list of lambdas is a list of (tag, captured values) tuples, called through a dispatcher
    (compiler/closures.py); it ran in the interpreter before."""
    text = ("def main():\n    fs = [lambda v: v + 1, lambda v: v * 2]\n    print(fs[1](fs[0](3)))\n")
    program = check_source(Source("t.glia", text))
    out, err, notes = run(program, [], "cpu")
    assert (out, err, notes) == ("8\n", None, [])


def test_a_list_or_dict_not_found_is_written_as_print_writes_it():
    """list.index / list.remove of a list (or a dict) not there: Numba could not compile the runtime's
    error path (no repr of a list in compiled code), so the whole program ran in the interpreter."""
    for text, message in [
        ("def main():\n    rows = [[1, 2], [3]]\n    print(rows.index([3]))\n    print(rows.index([4, 5]))\n",
         "list.index(x): [4, 5] is not in the list"),
        ("def main():\n    rows = [{1: [2]}]\n    rows.remove({1: [3]})\n", "list.remove(x): {1: [3]} is not in the list"),
    ]:
        program = check_source(Source("t.glia", text))
        out, err, notes = run(program, [], "cpu")
        assert (out, err) == run(program, [], "interp")[:2] and notes == [] and err[:2] == ("E506", message)


def test_a_field_assigned_through_an_element_reads_the_element_first():
    """`ps[-1].x = sum(big)` is `ps[-1]` replaced by a copy with x changed: the element is read before
    the value is computed, on both backends (compiled code computed the value first: E504 where the
    interpreter says E501; random programs, GLIA_DIFF_SEED=8000). The same holds for every two-operand
    operation whose second operand needs statements of its own."""
    text = ("struct P:\n    x: int\n\ndef main():\n    big = [9223372036854775807, 1]\n    ps: list[P] = []\n"
            "    ps[-1].x = sum(big)\n")
    program = check_source(Source("t.glia", text))
    assert run(program, [], "cpu")[:2] == run(program, [], "interp")[:2] == \
        ("", ("E501", "index -1 out of range for a list of length 0", 7, 5))


def test_printed_strings_keep_their_nul_characters():
    """Numba writes a string through a C string, which ends at a NUL; the compiled print does not."""
    text = ('def main():\n    print("a\\0b")\n    s = "e" + chr(0) + "f"\n    print(s, 2)\n'
            '    print(s, sep="-")\n    print([s], s, end="!")\n')
    program = check_source(Source("t.glia", text))
    out, err, notes = run(program, [], "cpu")
    assert not notes and (out, err) == run(program, [], "interp")[:2] == ("a\0b\ne\0f 2\ne\0f\n['e\\x00f'] e\0f!", None)


def test_hostile_names_and_strings_stay_data():
    """Identifiers are mangled and literals are repr()'d: no Glia text can become Python code."""
    from glia.compiler.backend_cpu import lower_program

    path = PROGRAMS / "basics" / "hostile_names.glia"
    text = path.read_text(encoding="utf-8")
    program = check_source(Source("hostile.glia", text))
    lowered = lower_program(program)
    code = lowered.source
    assert "def f___import__(" in code and "import os;" not in code.replace("'", "").split("\n")[0]
    for line in code.splitlines():
        stripped = line.strip()
        if stripped.startswith(("import", "from")):
            assert stripped in ("import numpy as np", "from numba import njit, types",
                                "from numba.typed import Dict, List",
                                "from glia.runtime import nblist as al",
                                "from glia.runtime import nbrt as rt", "from glia.runtime import nbstr as nbs",
                                    "from glia.runtime import nbtensor as nbt")
    compile(code, "<generated>", "exec")  # it is well-formed Python whatever the names and strings
    exp = parse_expectations(text)
    out, err, notes = run(program, [], "cpu")
    assert out.splitlines() == exp.output and err is None and not notes
    assert not os.path.exists("/tmp/glia_pwned")


def test_a_hostile_file_name_stays_a_comment():
    """The file name is the one piece of user text in generated comments: a name with newlines in it
    must not start a line of Python."""
    from glia.compiler.backend_cpu import lower_program

    name = 'x\nimport os\nos.system("echo PWNED")\n#.glia'
    lowered = lower_program(check_source(Source(name, "def main():\n    print(1)\n")))
    lines = lowered.source.splitlines()
    assert not any(line.startswith(("import os", "os.system")) for line in lines)
    imports = [line for line in lines if line.startswith(("import", "from"))]
    assert all(line.startswith(("import numpy", "from numba", "from glia.runtime import")) for line in imports)


TUPLE_LISTS = """
G: list[(int, int)] = [(1, 2), (3, 4)]

def relax(h: list[(float, int)], adj: list[list[(int, float)]], marks: list[(bool, f32)]) -> list[(int, f32)]:
    h.append((0.5, len(adj) + G[1][0]))
    out: list[(int, f32)] = []
    for v, w in adj[0]:
        out.append((v, f32(w)))
    for b, x in marks:
        if b:
            out.append((-1, x))
    return out

def grid(n: int) -> list[list[(int, float)]]:
    return [[(i, j * 0.5) for j in range(i)] for i in range(n)]

def nth(h: list[(float, int)], i: int) -> (float, int):
    return h[i]
"""


def _types(v):
    """The type of `v` and of everything inside it, as a nested tuple."""
    return (type(v), tuple(_types(x) for x in v)) if isinstance(v, (list, tuple)) else type(v)


def test_lists_of_tuples_cross_the_boundary(capfd):
    """A list of tuples of scalars is an array of records in compiled code: Python values (numpy
    scalars too) go in, plain Python tuples (numpy.float32 for f32 fields) come out, the caller's lists
    stay unchanged, and an index error is the interpreter's."""
    import numpy as np

    import glia

    interp, cpu = glia.compile(TUPLE_LISTS, backend="interp"), glia.compile(TUPLE_LISTS, backend="cpu")
    h = [(1.5, 2), (np.float64(0.25), np.int64(-3))]
    adj = [[(3, 0.25), (4, 2)], []]
    marks = [(True, np.float32(0.1)), (np.bool_(False), 2.5), (True, 1)]
    results = [(prog.relax(h, adj, marks), prog.grid(3), prog.nth(h, -1)) for prog in (interp, cpu)]
    assert results[0] == results[1] == (
        [(3, np.float32(0.25)), (4, np.float32(2.0)), (-1, np.float32(0.1)), (-1, np.float32(1.0))],
        [[], [(1, 0.0)], [(2, 0.0), (2, 0.5)]], (0.25, -3))
    assert _types(results[0]) == _types(results[1])
    assert all(type(v) is int and type(x) is np.float32 for v, x in results[1][0])
    assert h == [(1.5, 2), (0.25, -3)] and len(adj) == 2  # the callers' lists were copied in
    errors = []
    for prog in (interp, cpu):
        with pytest.raises(GliaError) as info:
            prog.nth(h, 2)
        d = info.value.diagnostic
        errors.append((d.code, d.message, d.span.line, d.span.col))
    assert errors[0] == errors[1] and errors[0][:2] == ("E501", "index 2 out of range for a list of length 2")
    assert cpu.backend == "cpu" and "interpreter" not in capfd.readouterr().err  # nothing fell back


def test_runtime_helpers_compile_once_per_type_signature():
    """Constants passed to a runtime helper (site numbers, operands) do not make a specialisation per
    call site: the helper is compiled for the plain types, which a new program finds in Numba's cache
    (runtime/nbjit.py)."""
    from numba import njit, types

    from glia.runtime import nbrt

    @njit
    def two_sites(x):
        return nbrt.int_pow(x, 2, 3) + nbrt.int_pow(x, 3, 4)

    assert two_sites(23) == 23 ** 2 + 23 ** 3
    assert nbrt.int_pow.signatures and all(not isinstance(t, types.Literal)
                                           for sig in nbrt.int_pow.signatures for t in sig)


def test_only_the_root_is_callable_from_python():
    """Functions called from compiled code only are compiled without Python's wrappers, and one called
    at a single place is inlined into its caller (compile time); `all_callable` keeps every function
    whole and callable for callers from Python (the benchmark harness)."""
    from glia.compiler.backend_cpu import lower_program

    program = check_source(Source("t.glia", "def f(x: int) -> int:\n    return x + 1\n\n"
                                            "def g(x: int) -> int:\n    return f(x) * f(x + 1)\n\n"
                                            "def main():\n    print(g(2))\n"))

    def decorators(source):
        lines = source.splitlines()
        return {line.split("def ")[1].split("(")[0]: prev for prev, line in zip(lines, lines[1:])
                if line.startswith("def f_")}

    lean, full = decorators(lower_program(program).source), decorators(lower_program(program, all_callable=True).source)
    assert "no_cpython_wrapper=True" in lean["f_f"] and "types.int64)" in lean["f_f"]  # two calls: compiled once
    assert lean["f_g"] == '@njit(inline="always")'  # one call: inlined into main
    assert "no_cpython_wrapper" not in lean["f_main"] and "inline" not in lean["f_main"]
    assert all("no_cpython_wrapper" not in d and "inline" not in d for d in full.values())


def test_the_warm_program_compiles_on_the_cpu_backend():
    """`glia cache warm` compiles compiler/warm.glia; it must stay within what the backend compiles and
    go through the helpers it is there to warm."""
    from importlib import resources

    from glia.compiler.backend_cpu import lower_program

    text = resources.files("glia.compiler").joinpath("warm.glia").read_text(encoding="utf-8")
    source = lower_program(check_source(Source("<warm>", text))).source  # Unsupported would raise
    for helper in ("dict_new", "dict_set", "dict_get", "contains", "list_new", "list_append", "str_concat",
                   "str_eq", "str_cmp", "int_str", "str_upper", "str_split_ws", "str_join", "list_getitem",
                   "dict_add_get", "dict_add_item", "str_next_word", "str_next_part"):
        assert f"rt.{helper}(" in source, helper


@pytest.mark.parametrize("line", ['print(math.exp(x), sum([1.5, math.exp(x)]), math.exp(709.7827), math.exp(710.0))',
                                  "print(str(m), str((m, 'a')), [m], m)", "print(chr(m))", "print(2 ** m)",
                                  "print(1 << m)", "print(['b c'[m:m], 'b c'[:m], 'b c'[m::-1]], [1, 2][:m], [1, 2][m::-1])",
                                  "print(-m < {'z': 0}[''] <= 1)", "print(math.floor(1e300))",
                                  "print(math.ceil(-1e300), (-2.0) ** 1e300)"])
def test_edges_the_random_arguments_found(line):
    """exp(NaN) is NaN (it was inf); the smallest int turns into text (Numba's str() negated it and
    asked for an impossible allocation: MemoryError), in results and in error messages; and as a
    slice bound it is not taken for an omitted one (which compiled code encodes as that int); and a
    chained comparison computes its first operand first (E504 here, not the E502 after it); floor
    and ceil of a float past the int64 range are E504 (Numba's math.floor wrapped to -2**63)."""
    text = f"def main():\n    x = float('nan')\n    m = -9223372036854775807 - 1\n    {line}\n"
    program = check_source(Source("t.glia", text))
    out, err, notes = run(program, [], "cpu")
    assert not notes and (out, err) == run(program, [], "interp")[:2]


def test_min_max_and_reduce_after_a_constant_break_compile_eagerly():
    """A function compiled on its own (callable from Python) whose loop leaves by a `break` under a
    condition Numba folds to a constant, before a min/max/reduce over a sequence: Numba dropped the
    loop that assigns the result and kept its read ("type of variable cannot be determined"; random
    programs, GLIA_DIFF_SEED=7000); the result is now defined before the loop."""
    from glia.compiler.backend_cpu import load, lower_program
    from glia.compiler.lower_numba import mangle_func

    text = ("def f(k: int) -> int:\n    p = [k, k + 1]\n    n = 0\n    w = 0\n    while n < 3:\n        n += 1\n"
            "        if (1 if True else 2) != min(2, 7):\n            break\n"
            "        v = max([(2, 0.0), (1, 0.5)][2:0:2])\n        u = reduce(lambda a, b: a + b, p[2:0])\n"
            "        w = min(p, key=lambda a: -a)\n    return w + n\n\n"
            "def main():\n    print(f(4))\n")
    program = check_source(Source("t.glia", text))
    module = load(lower_program(program, all_callable=True)).module
    assert getattr(module, mangle_func("f"))(4, 1) == 1
    assert run(program, [], "cpu")[:2] == run(program, [], "interp")[:2] == ("1\n", None)


@pytest.mark.parametrize("line", ["print(5 << k, 5 >> k)", "print(-5 >> -k, 5 << -k)", "print(1 << (k + 60), 1 << (k + 61))",
                                  "print(-m)", "print(abs(m + 1), abs(m))", "print(m // (k - 4))", "print(7 % (k - 3), 7 // (k - 3))",
                                  "print(math.sqrt(2.25), math.sqrt(-2.5 * k))", "print(math.log(1.0 * k), math.log(0.0 * k))",
                                  "print(math.log(-x))", "print(math.sqrt(x), math.sqrt(-x))", "print(1.5 / (k - 3.0))",
                                  "print(math.asin(x - x), math.acos(x - x), math.sin(1.0 * k), math.cos(-x))",
                                  "print(math.tan(f32(1.0)), math.sin(f32(x)))"])
def test_checked_arithmetic_fails_as_the_interpreter(line):
    """The helpers inlined into every caller (shifts, negation, abs, `//`, `%`, `/`, sqrt, log, sin,
    cos, tan) raise the interpreter's error with its message, values written as the interpreter
    writes them (sin, cos and tan of an infinity are errors, as in Python, not NumPy's NaN; asin and
    acos of NaN are NaN, no error)."""
    text = f"def main():\n    k = 3\n    x = float('inf')\n    m = -9223372036854775807 - 1\n    {line}\n"
    program = check_source(Source("t.glia", text))
    out, err, notes = run(program, [], "cpu")
    ref = run(program, [], "interp")
    assert not notes and (out, err) == ref[:2]


def test_a_comprehension_over_a_tensors_rows_compiles():
    text = ("def main():\n    x = reshape(arange(6, dtype=f64), 3, 2)\n    rows = [sum(r) * 2.0 for r in x if r[0] > 0.5]\n"
            "    v = [e + 1.0 for e in x[1]]\n    print(rows, v, [[e for e in r] for r in x])\n")
    program = check_source(Source("t.glia", text))
    out, err, notes = run(program, [], "cpu")
    assert not notes and (out, err) == run(program, [], "interp")[:2] and out.startswith("[10.0, 18.0]")


NAN_IN_CONTAINERS = """
struct P:
    a: float
    b: int

def main():
    x = float('nan')
    a = [x, 1.0]
    p = P(x, 1)
    t = [(x, 1), (2.0, 2)]
    zs = [[x], [1.0]]
    print(a == a, a != a, a == [x, 1.0], (x, 1) == (x, 1), p == p, [p] == [p], t == t, zs == zs, {1: a} == {1: a})
    print((x, 1) < (1.0, 2), (1.0, 1) > (x, 0), [x, 1.0] < [1.0, 2.0], [1.0, x] >= [1.0, 0.0], [[1.0, x]] >= [[1.0, 0.0]])
    print(x in a, (x, 1) in t, [x] in zs, [1.0] in zs, a.count(x), t.count((x, 1)), t.count((2.0, 2)), a.index(1.0))
    a.remove(x)
"""


def test_a_nan_inside_a_container_equals_nothing():
    """Containers compare by value: a NaN inside a list, tuple, struct or dict is unequal to
    everything, itself included, on both backends. Python's own comparisons take an object as equal to
    itself first, so the interpreter gave True for `[x] == [x]` (one NaN object) where compiled code,
    comparing values, gave False; and compiled ordering of lists answered through a three-way result,
    which has no answer for a NaN: `[1.0, nan] >= [1.0, 0.0]` was True (Python's rule: `nan >= 0.0`)."""
    program = check_source(Source("t.glia", NAN_IN_CONTAINERS))
    out, err, notes = run(program, [], "cpu")
    assert not notes and (out, err) == run(program, [], "interp")[:2]
    assert out == ("False True False False False False False False False\n"
                   "False False False False False\n"
                   "False False False True 0 0 1 1\n")
    assert err[0] == "E506" and err[2] == 15  # a.remove(nan): not in the list


@pytest.mark.parametrize("target", ["d[k(-1)]", "xs[k(-1) % 2]", "rows[k(-1) % 2][0]"])
def test_an_assignment_computes_its_value_before_its_target(target):
    """`t[i] = v` computes v first, then t and i, as Python does (found by the differential test)."""
    text = ("def k(x: int) -> int:\n    assert x > 0\n    return 1\n\n"
            "def main():\n    d: dict[int, int] = {}\n    xs = [0, 0]\n    rows = [[0], [0]]\n"
            f"    {target} = int('z')\n")
    program = check_source(Source("t.glia", text))
    out, err, notes = run(program, [], "cpu")
    assert not notes and (out, err) == run(program, [], "interp")[:2] and err[0] == "E506"


NOT_FOUND = """struct P:
    x: int
    y: float

def main(argv: list[str]):
    k = int(argv[0])
    d = {(1, 2.5): 1}
    e = {(f32(1.5), "a"): 1}
    ps = [(P(1, 0.1), 2)]
    c = {P(1, 2.0): 1}
    s = {P(2, 1.0)}
    if k == 0:
        print(d[(1, 0.1)])
    if k == 1:
        print(e[(f32(0.1), "b")])
    if k == 2:
        ps.remove((P(2, 1e300), 3))
    if k == 3:
        print(ps.index((P(-1, -0.0), 0)))
    if k == 4:
        c[P(5, 1.0)] += 2
    if k == 5:
        print(c.pop(P(7, 2.0)))
    if k == 6:
        del c[P(9, 3.5)]
    if k == 7:
        s.remove(P(3, 1.0))
"""


@pytest.mark.parametrize("k", range(8))
def test_a_struct_not_found_is_written_as_the_struct(k):
    """A key or element not found (d[k], d[k] += v, d.pop, del d[k], set.remove, list.remove,
    list.index) that is a struct, or a tuple holding one or an f32, is written as the interpreter
    writes it: compiled code sends the tuple standing for it to Python, which writes it from the type
    (it said `key (2, 2.0)` for `P(x=2, y=2.0)`; random programs, GLIA_DIFF_SEED=19000)."""
    program = check_source(Source("nf.glia", NOT_FOUND))
    ref, got = run(program, [str(k)], "interp"), run(program, [str(k)], "cpu")
    assert ref[1] is not None and got[:2] == ref[:2]
    assert "P(x=" in ref[1][1] or k < 2


GIANT = """def main(args: list[str]):
    k = int(args[1])
    if args[0] == "list":
        print(len([1, 2] * k))
    elif args[0] == "empty":
        print(len([1][:0] * k), len([[1]][:0] * k), len([""][:0] * k))
    elif args[0] == "strs":
        print(len(["a", "b"] * k))
    elif args[0] == "str":
        print(len("ab" * k))
    elif args[0] == "range":
        print(len(list(range(-k, k))))
    elif args[0] == "zfill":
        print(len("ab".zfill(k)))
    elif args[0] == "pad":
        print(len("ab".ljust(k)), len("ab".rjust(k, "-")), len("ab".center(k, "-")))
    elif args[0] == "tensor":
        print(zeros(1099511627776)[0])
    else:
        print(len(range(k, -9223372036854775807 - 1, -k)))
"""


@pytest.mark.parametrize("args", [["list", "4611686018427387904"], ["list", "4611686018427387903"],
                                  ["list", "1073741825"], ["empty", "4611686018427387904"], ["strs", str(2 ** 63 - 1)],
                                  ["str", "1073741825"], ["range", str(2 ** 63 - 1)], ["other", "1"],
                                  ["zfill", str(2 ** 62)], ["pad", "2147483649"], ["pad", "5"],
                                  ["other", "4611686018427387904"]])
def test_giant_lists_and_strings_are_an_error_before_they_are_made(args):
    """`*` and `range` past 2 ** 31 elements are E506 with the exact size on both backends (as the
    interpreter's guard). Compiled, `[1, 2] * 2 ** 62` wrapped its size to a negative number and wrote
    past a 4-element array (a segmentation fault), a typed List's `[] * 2 ** 62` looped 2 ** 62 times,
    and `"ab" * 2 ** 30` or a giant range stopped with Numba's MemoryError (a traceback); the
    interpreter's `len` of a range past 2 ** 63 elements was an internal error (OverflowError); it is
    E504 on both backends, as `len` now reads a range without building it.
    Padding (`zfill`, `ljust`, `rjust`, `center`) to such a width was E510 with no line."""
    program = check_source(Source("g.glia", GIANT))
    ref, got = run(program, args, "interp"), run(program, args, "cpu")
    assert got == ref
    assert (ref[1] is None) == (args in (["empty", "4611686018427387904"], ["other", "4611686018427387904"],
                                         ["pad", "5"])), ref
    if args == ["other", "1"]:  # 2 ** 63 + 1 elements: a length no int holds (Python's OverflowError)
        assert ref[1][0] == "E504" and "does not fit in an int" in ref[1][1], ref
    else:
        assert ref[1] is None or (ref[1][0] == "E506" and "too large" in ref[1][1]), ref


def test_running_out_of_memory_is_an_error_not_a_traceback():
    """A MemoryError while a program runs (`zeros(2 ** 40)`, 8 TiB: NumPy's, or Numba's "Allocation
    failed") is E510 on both backends, naming the file (where is not known), and `glia run` exits 1;
    it was an internal error with a Python traceback."""
    program = check_source(Source("g.glia", GIANT))
    ref, got = run(program, ["tensor", "0"], "interp"), run(program, ["tensor", "0"], "cpu")
    assert got == ref and ref[0] == "" and ref[1][0] == "E510" and ref[1][2:] == (0, 0), ref


FREE_CHAIN = """
import sys, threading
from glia.compiler import backend_cpu
from glia.compiler.diagnostics import Source
from glia.compiler.driver import check_source
from glia.runtime import nblist
text = ("struct T:\\n    v: float\\n    kids: list[T]\\n    by: dict[str, T]\\n\\n"
        "def drop(n: int) -> int:\\n    t = T(0.0, [], {})\\n    for i in range(n):\\n"
        "        if i % 3 == 0:\\n            t = T(float(i), [t], {})\\n"
        "        else:\\n            t = T(float(i), [], {'k': t})\\n"
        "    return len(t.kids) + len(t.by)\\n")
module = backend_cpu.load(backend_cpu.lower_program(check_source(Source("t.glia", text)), root="drop")).module
out = []
threading.stack_size(8 << 20)  # a thread's usual stack: freeing must not need more
worker = threading.Thread(target=lambda: out.append(module.f_drop(int(sys.argv[1]), 1)))
worker.start()
worker.join()
print(out, nblist.free_state())
"""


def test_freeing_a_chain_of_trees_deeper_than_the_stack(tmp_path):
    """A chain of 300,000 trees, each held by the next through a list or a dict, freed when the
    function returns, on an 8 MB thread stack: freeing went a box destructor per tree deep on the
    native stack (a segmentation fault; ten million trees overflowed even the 512 MB stack that `glia
    run` gives compiled code). The destructors defer what lies past nblist.FREE_DEPTH nested frees
    and release it from the outermost one; the state is back to (0, 0) after."""
    import subprocess
    import sys
    env = dict(os.environ, GLIA_CACHE_DIR=str(tmp_path))
    for n in ("5", "300000"):
        done = subprocess.run([sys.executable, "-c", FREE_CHAIN, n], capture_output=True, text=True, env=env,
                              cwd=ROOT, timeout=600)
        assert done.returncode == 0, (n, done.returncode, done.stderr[-2000:])
        assert done.stdout.split() == ["[1]", "(0,", "0)"], done.stdout


def test_writing_a_value_nested_too_deeply_is_an_error_at_the_call():
    """A chain of 600,000 trees, each the only kid of the next: writing it stops with E505 at the
    str() call on both backends (the interpreter when Python's stack runs out, compiled code past
    nbrt.MAX_NESTING lists), where compiled code overflowed its stack (a segmentation fault) and the
    interpreter's error had no position; comparing two goes as deep, and so stops too."""
    text = ("struct T:\n    v: float\n    kids: list[T]\n\n"
            "def chain(n: int) -> T:\n    t = T(0.0, [])\n    for i in range(n):\n        t = T(float(i), [t])\n"
            "    return t\n\n"
            "def main(args: list[str]):\n    a = chain(int(args[0]))\n    print(a.kids[0].v)\n"
            "    if args[1] == 'eq':\n        print(a == chain(int(args[0])))\n    print(len(str(a)))\n")
    program = check_source(Source("t.glia", text))
    for args, line, col in ((["600000", "str"], 16, 15), (["600000", "eq"], 15, 15)):
        out, err, notes = run(program, args, "cpu")
        assert notes == [] and out == "599998.0\n"
        assert err[0] == "E505" and err[2:] == (line, col), err
        assert (out, err) == run(program, args, "interp")[:2]
