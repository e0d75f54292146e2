"""Edges where compiled code disagreed with the interpreter (found by hand, 2026-12-05): each test
runs a program on both backends and wants the same output and the same error (code, message, line,
column), with no note that the program ran interpreted."""
import pytest

from glia.compiler.diagnostics import Source
from glia.compiler.driver import check_source
from test_backend_cpu import run


def both(text: str, args=()):
    """(output, error) of `text` compiled, after checking that the interpreter gives the same."""
    program = check_source(Source("t.glia", text))
    out, err, notes = run(program, list(args), "cpu")
    assert not notes, notes
    assert (out, err) == run(program, list(args), "interp")[:2]
    return out, err


def test_str_index_takes_start_and_end():
    """`s.index(sub, start, end)` looked from the start of the whole string (the runtime's helper took
    neither bound): `"abcabc".index("a", 1)` was 0."""
    out, err = both('def main():\n    s = "abcabc"\n'
                    '    print(s.index("a", 1), s.index("a", -3), s.index("c", 1, -3), s.index("", 6), '
                    's.index("b", -100, 100), s.index("bc", 4), s.index("a", 0, 1))\n')
    assert out == "3 3 2 6 1 4 0\n" and err is None


@pytest.mark.parametrize("call", ['"abc".index("a", 1)', '"abc".index("c", 0, 2)', '"abc".index("a", -2)',
                                  '"abc".index("", 4)'])
def test_str_index_outside_its_bounds_is_an_error(call):
    out, err = both(f"def main():\n    print(1)\n    print({call})\n")
    sub = call.split("(")[1].split(",")[0].strip('"')
    assert out == "1\n" and err == ("E506", f"str.index: substring {sub!r} not found", 3, 11)


def test_str_replace_of_an_empty_string_and_every_count():
    """Numba's replace put `new` twice into an empty string (`"".replace("", "x")` was "xx") and took
    only -1 for "every one"."""
    subjects, olds, counts = ["", "ab", "aaa", "é😀"], ["", "a", "ab"], [0, 1, -1, 2, -5, 9]
    text = (f"def main():\n    for s in {subjects!r}:\n        for o in {olds!r}:\n"
            f"            print([s.replace(o, 'x', c) for c in {counts}], s.replace(o, 'yz'))\n")
    out, _ = both(text)
    want = "".join(f"{[s.replace(o, 'x', c) for c in counts]} {s.replace(o, 'yz')}\n" for s in subjects for o in olds)
    assert out == want


def test_int_of_a_string_takes_an_underscore_after_its_prefix():
    out, err = both('def main():\n    print(int("0x_ff", 16), int("0b_1010", 0), int("0o_17", 0), int(" -0X_F_F ", 0), '
                    'int("0_0", 0), int("1_0", 2))\n')
    assert out == "255 10 15 -255 0 2\n" and err is None


@pytest.mark.parametrize("literal", ["0x__ff", "_1", "1_", "1__0", "0x_", "0x", "0_x1"])
def test_int_of_a_string_refuses_other_underscores(literal):
    _, err = both(f'def main():\n    print(int("{literal}", 0 if "x" in "{literal}" else 10))\n')
    assert err[0] == "E506" and err[1].startswith("invalid literal for int()")


NEGATIVE_ZERO_KEYS = """
struct P:
    x: float
    n: int

Z = {0.0: "g"}

def main():
    d: dict[float, str] = {}
    d[0.0] = "zero"
    d[-0.0] = "minus zero"
    print(d, len({0.0, -0.0}), {-0.0, 0.0})
    e = {-0.0: 1}
    e[0.0] = 2
    print(e, 0.0 in e, -0.0 in e, e[0.0], e.get(0.0, 5))
    t = {(0.0, 1): "a", (-0.0, 1): "b"}
    print(t, (-0.0, 1) in t, {P(-0.0, 1), P(0.0, 1)})
    c = e.copy()
    c[-0.0] = 7
    s = {0.0}
    s.add(-0.0)
    u = s.copy()
    u.add(-0.0)
    print(c, e, s, u, s == {-0.0}, {-0.0: 1} == {0.0: 1}, s | {-0.0}, {-0.0} - s, {-0.0} & s)
    g = Z
    g[-0.0] = "h"
    f: dict[f32, int] = {f32(0.0): 1}
    f[f32(-0.0)] = 2
    print(g, f, set([0.0, -0.0, 0.0]), {k: 1 for k in [-0.0, 0.0]}, dict([(0.0, 1), (-0.0, 2)]))
    print(e.pop(0.0), e, {(0.0, (-0.0, 2)): 1}[(-0.0, (0.0, 2))])
"""


def test_zero_and_negative_zero_are_one_key():
    """0.0 == -0.0, so they are one dict key and one set element, the first one inserted staying with
    the last value (Python's rule): Numba's typed dict compared such keys byte by byte, and
    `d[0.0] = "zero"; d[-0.0] = "minus zero"` made two entries (nbdict.keys_by_value)."""
    out, _ = both(NEGATIVE_ZERO_KEYS)
    assert out.splitlines()[:2] == ["{0.0: 'minus zero'} 1 {-0.0}", "{-0.0: 2} True True 2 2"]


RANGES = """
def f(x: int) -> int:
    print("f", x)
    return x

def main():
    big = 9223372036854775807
    c = 0
    for j in range(-5, big, big):
        c += 1
        print(j)
    d = 0
    for k in range(5, -big, -big):
        d += 1
    e = 0
    for k in range(-big - 1, big, big):
        e += 1
    g = 0
    for i in range(-1, big):
        if i > 3:
            break
        g += 1
    h = 0
    for i in range(1, -big - 1):
        h += 1
    m = 0
    for i in range(0, -big - 1, -1):
        m += 1
        if m > 4:
            break
    n = 0
    for i in range(big, big - 7, -3):
        n += i - big
    xs = [1, 2, 3]
    for lo in [-big - 1, 0, 2, 5]:
        for t in range(lo, -big - 1):
            xs[t] = 0
        for t in range(2, max(lo, -4), -1):
            xs[t] += 1
    print(c, d, e, g, h, m, n, i, k, j, xs)
    for i in range(f(0), f(5), f(2)):
        print(i)
    for i in range(3, 0, f(0)):
        print(i)
"""


def test_ranges_whose_length_overflows():
    """Numba's range counts its passes from `stop - start`, which overflowed: `range(-5, big, big)`
    (big = 2 ** 63 - 1) ran no pass, `range(1, -2 ** 63)` about 2 ** 63; each value past the first is
    computed wrapping (lower_numba's range_head). The bounds are computed once each, in order (the
    step was computed twice, first)."""
    out, err = both(RANGES)
    assert out.splitlines()[2:6] == ["2 2 3 5 0 5 -9 9223372036854775801 9223372036854775806 9223372036854775802 "
                                     "[3, 5, 6]", "f 0", "f 5", "f 2"]
    assert err[:2] == ("E506", "range() step cannot be zero")


@pytest.mark.parametrize("body", ["xs = [1]\n    while True:\n        xs.append(xs[-1] * 1000)",
                                  "n = 1\n    while True:\n        n = n * 1000",
                                  "n = 1\n    if n < 0:\n        while True:\n            n += 1\n    print(n)\n"
                                  "    while True:\n        n += 1\n        if n > 3:\n            break\n    print(n)"])
def test_a_loop_left_only_by_an_error_compiles(body):
    """`while True:` with no `break` or `return` (it ends in an error, or is never reached) made Numba's
    liveness analysis fail with a RuntimeError, which escaped as a traceback."""
    out, err = both(f"def main():\n    {body}\n")
    assert err is not None or out == "1\n4\n"


def test_any_exception_while_compiling_runs_the_program_interpreted(monkeypatch):
    """Numba fails inside its own passes with exceptions that are not NumbaErrors (a RuntimeError from
    its liveness analysis): the program still runs, interpreted, with the note that asks for a report."""
    from glia.compiler import backend_cpu

    def broken(lowered, kind="cpu"):
        raise RuntimeError("liveness info missing for vars: {'x'}")
    monkeypatch.setattr(backend_cpu, "load", broken)
    program = check_source(Source("t.glia", "def main():\n    print(1 + 1)\n"))
    out, err, notes = run(program, [], "cpu")
    assert (out, err) == ("2\n", None)
    assert len(notes) == 1 and "RuntimeError: liveness info missing" in notes[0] and "bug in Glia" in notes[0]


LISTS_OF_SETS = """
struct W:
    d: dict[str, int]
    s: set[int]

struct T:
    kids: list[T]
    tags: list[set[int]]

def main():
    s = {1}
    a = {"a": 1, "b": 2}
    b = {"b": 2, "a": 1}
    print([s] == [s], [s] != [{2}], [a] == [b], [[s], [s, s]] == [[{1}], [s, {1}]], [s] == [s, s])
    print([W(a, s)] == [W(b, {1})], [(s, 1.5)] != [(s, 1.5)], [[a]] == [[b]] == [[a]], [{1: [s]}] == [{1: [{1}]}])
    t = T([], [s])
    print(t == T([], [{1}]), [t] == [T([t], [s])])
"""


def test_lists_of_sets_and_dicts_compare_for_equality():
    """`[s] == [s]` for a list of sets or dicts (or of what holds them) went through the list ordering,
    which also instantiates `<` on the elements, and Numba could not type it: the program ran in the
    interpreter with a note calling it a bug (rt.list_eq compares with `==` alone)."""
    out, _ = both(LISTS_OF_SETS)
    assert out == "True True True True False\nTrue False True True\nTrue False\n"


def test_a_function_held_in_a_struct_field_is_called_through_the_field():
    """`op.f(5)` was read as a method call and refused (E103, "struct Op has no methods"), though
    `g = op.f; g(5)` worked."""
    out, err = both("struct Op:\n    name: str\n    f: fn(int) -> int\n\n"
                    "def double(x: int) -> int:\n    return x * 2\n\n"
                    "def main():\n    ops = [Op(\"d\", double), Op(\"s\", lambda x: x - 1)]\n"
                    "    for op in ops:\n        print(op.name, op.f(5), ops[0].f(op.f(1)))\n")
    assert out == "d 10 4\ns 4 0\n" and err is None


@pytest.mark.parametrize("call, message", [("op.name(5)", "this is a str, not a function; it cannot be called"),
                                           ("op.g(5)", "struct Op has no methods; 'g' is not defined")])
def test_calling_a_struct_field_that_is_not_a_function_is_refused(call, message):
    from glia.compiler.diagnostics import GliaError
    with pytest.raises(GliaError) as e:
        check_source(Source("t.glia", "struct Op:\n    name: str\n    f: fn(int) -> int\n\n"
                                      f"def main():\n    op = Op(\"d\", lambda x: x)\n    print({call})\n"))
    assert message in str(e.value)


def test_a_global_read_by_a_function_before_its_definition_ran_is_e104():
    """`G = f(3.0)` with `f` reading `K`, defined below G: an internal error (KeyError: 'K') on both
    backends; the checker cannot see it (f may read K on some calls only), so the read says it."""
    text = ("def f(x: float) -> float:\n    if x > 10.0:\n        return x\n    return x * K\n\n"
            "A = f(30.0)\nG = f(3.0)\nK = 2.0\n\ndef main():\n    print(A, G)\n")
    out, err = both(text)
    assert out == "" and err == ("E104", "global 'K' is read before its definition has run (a global defined "
                                 "above it calls a function that reads it)", 4, 16)
    out, err = both(text.replace("G = f(3.0)", "G = 1.5"))
    assert out == "30.0 1.5\n" and err is None


def test_f32_prints_its_shortest_digits_in_pythons_layout():
    """The interpreter chose between `0.0001` and `1e-05` on the f32's exact value, which for f32(0.0001)
    is just below 1e-4, and wrote `1e-04`; compiled code kept the nearest decimal of each length, which
    at a power of two (gap above twice the gap below) can miss the shortest: 2.0 ** -96 came out as
    1.26217745e-29, not 1.2621775e-29. Both now take the shortest digits and lay them out as repr does."""
    out, err = both("def main():\n"
                    "    xs = [f32(0.0001), f32(-0.0001), f32(0.00011), f32(1e-05), f32(1e16), f32(9.999999e15)]\n"
                    "    print(xs, f32(2.0) ** -96, f32(2.0) ** 87, f32(2.0) ** 90, -(f32(2.0) ** -96))\n")
    assert out == ("[0.0001, -0.0001, 0.00011, 1e-05, 1e+16, 9999999000000000.0] "
                   "1.2621775e-29 1.5474251e+26 1.2379401e+27 -1.2621775e-29\n") and err is None


def test_round_of_an_int_to_tens_near_the_smallest_int():
    """Compiled `round(n, -k)` computed the remainder as `n - (n // p) * p`, which overflows for n near
    -(2 ** 63); with n a constant, LLVM folded that to a wrong quotient and round(-(2 ** 63), -2) was
    E504 (the interpreter: -9223372036854775800). Its overflow was also named `*`, not `round`."""
    out, err = both("def main():\n    n = -9223372036854775807 - 1\n"
                    "    print(round(n, -2), round(n, -18), round(n + 3, -1), round(-15, -1), round(-25, -1))\n"
                    "    print(round(9223372036854775807, -1))\n")
    assert out == "-9223372036854775800 -9000000000000000000 -9223372036854775800 -20 -20\n"
    assert err == ("E504", "integer overflow in round (the result does not fit in 64 bits)", 4, 11)


def test_recursion_too_deep_names_a_function_specialised_for_a_lambda_by_its_source_name():
    """Compiled code named the call `loop[fn f=lambda` (a piece of the name of the copy of `loop`
    made for the lambda it is given), where the interpreter says `loop`."""
    out, err = both("def loop(f: fn(int) -> int, n: int) -> int:\n    return f(n)\n\n"
                    "def rec(n: int) -> int:\n    g = lambda k: rec(k - 1) + 1\n    if n == 0:\n        return 0\n"
                    "    return loop(g, n)\n\ndef main():\n    print(rec(10))\n    print(rec(15000))\n")
    assert out == "10\n" and err == ("E505", "recursion too deep: more than 20000 nested calls (in loop)", 8, 12)


CASING_MODULE = '''
from numba import njit
from glia.runtime.nbjit import jit

@jit
def up(s):
    return s.upper()

@njit
def both(s):
    return up(s), s.title()
'''


def test_helpers_cached_by_two_runs_keep_their_own_code(tmp_path):
    """A runtime helper cached by one run and code compiled in the next are linked by Numba's names,
    which held a per-process counter: `str.upper` cached by one run and `str.title` compiled in the
    next were both `case_operation.<locals>.impl` v2, and one replaced the other ("ab".title() gave
    "AB" in a program that also called upper on a non-ASCII string; runtime/nbjit.py)."""
    import os
    import subprocess
    import sys

    (tmp_path / "casing_mod.py").write_text(CASING_MODULE)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}

    def python(code):
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                              check=True).stdout.strip()

    assert python("import casing_mod; print(casing_mod.up('ab'))") == "AB"  # cached by this run
    assert python("import casing_mod; print(casing_mod.both('ab'))") == "('AB', 'Ab')"


def test_containers_of_empty_tuples_run_in_the_interpreter_and_say_so():
    """Numba's typed List divided by its items' size, 0 for `()`: `[()]` stopped the compiled program
    with SIGFPE (and a Dict of them is not typed). Such a function now runs interpreted, with a note."""
    text = ('def count(n: int) -> int:\n    return len([() for i in range(n)])\n\n'
            'def main():\n    print(count(3))\n    s = {()}\n    d = {1: ((), ())}\n    print(len(s), d)\n')
    program = check_source(Source("e.glia", text))
    ref = run(program, [], "interp")
    out, err, notes = run(program, [], "cpu")
    assert (out, err) == ref[:2] == ("3\n1 {1: ((), ())}\n", None)
    assert len(notes) == 2 and all("containers of empty tuples `()`" in n for n in notes), notes
    assert not any("bug in Glia" in n for n in notes), notes


def test_a_note_about_a_type_names_the_function_that_needs_it():
    """A type the backend cannot compile, found while making a module-level helper (formatting, a
    conversion), had no place: the note said "(at this program)". It is now at the function."""
    program = check_source(Source("n.glia", "def f() -> None:\n    return None\n\ndef main():\n"
                                  "    x = [f()]\n    print(x)\n"))
    out, err, notes = run(program, [], "cpu")
    assert (out, err) == ("[None]\n", None)
    assert len(notes) == 1 and "cannot compile values of type None" in notes[0] and "(at n.glia:4:1)" in notes[0], notes
