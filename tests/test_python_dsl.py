"""The embedded Python DSL and the program objects of glia.load / glia.compile.

Each test writes its Python module to a temporary file and imports it (`pymodule`), because the DSL
reads the source of what it decorates and forms one Glia program per Python module: a module with a
mistake in it must not disturb the others. Errors are checked for their code and for the file, line
and column they point at.
"""
from __future__ import annotations

import importlib.util
import inspect
import itertools
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import glia
from glia.compiler.diagnostics import GliaError

ROOT = Path(__file__).resolve().parents[1]
_counter = itertools.count()


@pytest.fixture
def pymodule(tmp_path):
    """pymodule(code, name=None) -> the imported module (its file in tmp_path)."""
    def load(code: str, name: str | None = None):
        name = name or f"dsl_case_{next(_counter)}"
        path = tmp_path / f"{name}_{next(_counter)}.py"
        path.write_text(textwrap.dedent(code), encoding="utf-8")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    return load


def line_of(module, text: str) -> int:
    """The 1-based line of the first line of `module`'s file containing `text`."""
    for i, line in enumerate(Path(module.__file__).read_text().splitlines(), 1):
        if text in line:
            return i
    raise AssertionError(text)


GRAPHS = """
import glia

@glia.struct
class Edge:
    \"\"\"A directed edge.\"\"\"
    src: int
    dst: int

    def reversed(self):  # a Python method: Python may call it, Glia code does not
        return Edge(self.dst, self.src)

@glia.fn
def adjacency(n: int, edges: list[Edge]) -> list[list[int]]:
    \"\"\"Adjacency lists of a graph with n nodes.\"\"\"
    adj: list[list[int]] = [[] for _ in range(n)]
    for e in edges:
        adj[e.src].append(e.dst)
    return adj

@glia.fn
def distances(n: int, edges: list[Edge], start: int) -> list[int]:
    return bfs(adjacency(n, edges), start)   # a function of this module and one of the prelude

@glia.fn
def is_even(n: int) -> bool:
    return n == 0 or is_odd(n - 1)           # defined below

@glia.fn
def is_odd(n: int) -> bool:
    return n != 0 and is_even(n - 1)

@glia.fn
def depth(n: int) -> int:
    if n == 0:
        return 0
    return 1 + depth(n - 1)
"""


def test_functions_run_and_call_each_other(pymodule):
    m = pymodule(GRAPHS)
    edges = [m.Edge(0, 1), m.Edge(1, 2), m.Edge(0, 3)]
    assert m.adjacency(4, edges) == [[1, 3], [2], [], []]
    assert m.distances(4, edges, 0) == [0, 1, 2, 1]
    assert m.distances(n=4, edges=edges, start=1) == [-1, 0, 1, -1]
    assert (m.is_even(10), m.is_odd(7), m.is_even(3)) == (True, True, False)
    assert m.depth(5000) == 5000  # deep recursion runs on a big stack


def test_signature_doc_and_struct_class(pymodule):
    m = pymodule(GRAPHS)
    assert str(inspect.signature(m.adjacency)).startswith("(n: int, edges: list[")
    assert "Adjacency lists" in m.adjacency.__doc__
    assert "Glia: def adjacency(n: int, edges: list[Edge]) -> list[list[int]]" in m.adjacency.__doc__
    assert m.adjacency.glia.signature == "def adjacency(n: int, edges: list[Edge]) -> list[list[int]]"
    assert "list.append" in m.adjacency.glia.ir()
    e = m.Edge(src=1, dst=2)
    assert e == m.Edge(1, 2) and hash(e) == hash(m.Edge(1, 2)) and repr(e) == "Edge(src=1, dst=2)"
    assert e.reversed() == m.Edge(2, 1) and e._replace(dst=5) == m.Edge(1, 5)
    assert str(inspect.signature(m.Edge)) == "(src: int, dst: int)"
    with pytest.raises(AttributeError, match="a value"):
        e.src = 3
    with pytest.raises(TypeError, match="missing field dst"):
        m.Edge(1)


VALUES = """
import glia

@glia.struct
class P:
    x: int
    y: float

@glia.fn
def bump(p: P) -> P:
    p.x = p.x + 1          # changes the local copy only: structs are values
    return p

@glia.fn
def mutate(xs: list[int]) -> int:
    xs.append(99)
    return len(xs)

@glia.fn
def shapes(d: dict[str, list[int]], s: set[int], t: tuple[int, str]) -> tuple[dict[str, int], set[int], str]:
    return ({k: sum(v) for k, v in d.items()}, {x * 2 for x in s}, t[1] * t[0])

@glia.fn
def halve(x: glia.f32) -> glia.f32:
    return x / 2.0

@glia.fn
def same(v: glia.f64["n"], w: glia.f64["n"]) -> glia.f64["n"]:
    return v

@glia.fn
def as_float(x: float) -> float:
    return x
"""


def test_values_cross_the_boundary(pymodule):
    m = pymodule(VALUES)
    p = m.P(1, 2.5)
    assert m.bump(p) == m.P(2, 2.5) and p == m.P(1, 2.5)
    xs = [1, 2]
    assert m.mutate(xs) == 3 and xs == [1, 2]  # containers are copied at the boundary
    d, s, t = m.shapes({"a": [1, 2], "b": []}, {1, 2}, (3, "ab"))
    assert (d, s, t) == ({"a": 3, "b": 0}, {2, 4}, "ababab") and type(s) is set
    h = m.halve(3.0)
    assert type(h) is np.float32 and h == np.float32(1.5)
    assert m.as_float(2) == 2.0 and type(m.as_float(2)) is float  # an int is accepted where a float is expected


def test_a_float_beyond_f32_becomes_an_infinity_without_numpy_warnings(pymodule):
    """numpy warned "overflow encountered in cast" for `halve(np.float64(1e300))`."""
    import warnings

    m = pymodule(VALUES)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = [m.halve(v) for v in (np.float64(1e300), -1e300, 10 ** 60, 3.5e38, 1.0)]
    assert got == [np.inf, -np.inf, np.inf, np.inf, 0.5] and m.halve(3.4e38) == np.float32(1.7e38)


def test_arrays_are_shared_not_copied(pymodule):
    m = pymodule(VALUES)
    a = np.arange(4.0)
    out = m.same(a, np.ones(4))
    assert np.shares_memory(out, a)
    with pytest.raises(glia.GliaTypeError) as info:
        m.same(a, np.ones(3))
    d = info.value.diagnostic
    assert d.code == "E201" and "dimension 0 (n) is 3, but n is 4" in d.message


def test_boundary_type_errors_name_parameter_type_and_value(pymodule):
    m = pymodule(GRAPHS)
    with pytest.raises(TypeError) as info:  # a GliaTypeError is a TypeError
        m.adjacency(3, [(0, 1)])  # <- the line the error points at
    e = info.value
    assert isinstance(e, GliaError)
    d = e.diagnostic
    assert d.code == "E201"
    assert "argument 'edges' of adjacency() must be list[Edge]" in d.message and "tuple" in d.message
    assert d.source.name == __file__ and "<- the line the error points at" in d.source.line_text(d.span.line)
    with pytest.raises(glia.GliaTypeError, match=r"argument 'n' of adjacency\(\): expected int, found str 'x'"):
        m.adjacency("x", [])
    with pytest.raises(glia.GliaTypeError) as info:
        m.adjacency(3)
    assert info.value.diagnostic.code == "E202" and "missing argument edges" in info.value.diagnostic.message
    with pytest.raises(glia.GliaTypeError, match="fit in 64 bits"):
        m.depth(2 ** 70)


CALLBACKS = """
import glia

@glia.fn
def apply_all(f: glia.Fn[[int], int], xs: list[int]) -> list[int]:
    return [f(x) for x in xs]

@glia.fn
def adder(k: int) -> glia.Fn[[int], int]:
    return lambda x: x + k

@glia.fn
def keyed(xs: list[str], key: glia.Fn[[str], int]) -> list[str]:
    return sorted(xs, key=key)
"""


def test_python_callbacks_and_glia_function_values(pymodule):
    m = pymodule(CALLBACKS)
    assert m.apply_all(lambda x: x * x, [1, 2, 3]) == [1, 4, 9]
    assert m.keyed(["ccc", "a", "bb"], len) == ["a", "bb", "ccc"]
    add3 = m.adder(3)
    assert add3(4) == 7 and m.apply_all(add3, [0]) == [3]

    def wrong(x):
        return str(x)
    with pytest.raises(glia.GliaTypeError) as info:
        m.apply_all(wrong, [1])
    d = info.value.diagnostic
    assert d.code == "E201" and "result of the Python function wrong" in d.message and "str" in d.message
    assert d.source.name == __file__ and d.span.line == inspect.getsourcelines(wrong)[1] and d.span.col == 5
    with pytest.raises(glia.GliaTypeError) as info:  # a lambda's result is shown (it was column 1)
        m.apply_all(lambda x: "é" + str(x), [1])
    d = info.value.diagnostic
    line = inspect.currentframe().f_lineno - 2
    text = Path(__file__).read_text().splitlines()[line - 1]
    assert d.span.line == line and text[d.span.col - 1:d.span.end_col - 1] == '"é" + str(x)'
    # a @glia.fn function passed where Glia expects a function, called by Glia with what it does not
    # take: its E201 was at `<python>` (no line: its call runs on the big-stack thread, where no frame
    # is the user's); now at the Python call that started it all
    with pytest.raises(glia.GliaTypeError) as info:
        m.apply_all(m.keyed, [1])
    d = info.value.diagnostic
    assert d.source.name == __file__ and d.span.line == inspect.currentframe().f_lineno - 2, d.render()


@pytest.mark.parametrize("snippet, code, marker", [
    ("try:\n        return x\n    except Exception:\n        return 0", "E005", "try:"),
    ("with open('f') as f:\n        return 1", "E005", "with open"),
    ("import os\n    return x", "E005", "import os"),
    ("global G\n    return x", "E005", "global G"),
    ("return len(f'{x}')", "E005", "f'{x}'"),
    ("if (y := x) > 0:\n        return y\n    return 0", "E005", "y := x"),
    ("yield x", "E005", "yield x"),
    ("class C:\n        pass\n    return x", "E005", "class C"),
    ("def inner(a: int) -> int:\n        return a\n    return x", "E005", "def inner"),
    ("for i in range(x):\n        pass\n    else:\n        return 1\n    return 0", "E005", "return 1"),
    ("return x if x else 0\n    raise ValueError()", "E005", "raise ValueError"),
])
def test_python_only_constructs_are_located_diagnostics(pymodule, snippet, code, marker):
    src = f"import glia\n\n@glia.fn\ndef f(x: int) -> int:\n    {snippet}\n"
    with pytest.raises(GliaError) as info:
        pymodule(src)
    d = info.value.diagnostic
    assert d.code == code, d.render()
    assert d.source.name.endswith(".py") and "is Python, not Glia" in d.message
    line = next(i for i, text in enumerate(d.source.text.splitlines(), 1) if marker in text)
    assert d.span.line == line and d.span.col > 1, d.render()


@pytest.mark.parametrize("signature, code, fragment", [
    ("def f(*xs: int) -> int:", "E005", "*args"),
    ("def f(x: int = 3) -> int:", "E005", "default"),
    ("def f(x) -> int:", "E206", "needs a type annotation"),
    ("def f(x: int | None) -> int:", "E206", "union"),
    ("def f(x: complex) -> int:", "E206", "unknown type 'complex'"),
    # annotations Python evaluates when the def runs: a located E206 (they were bare TypeErrors)
    ("def f(x: glia.f32[0]) -> int:", "E206", "a tensor dimension is a positive int or a name, not 0"),
    ("def f(x: glia.f64[2.5]) -> int:", "E206", "not 2.5"),
    ("def f(x: glia.Fn[int, int]) -> int:", "E206", "glia.Fn[[ParamType, ...], ReturnType]"),
    ("def f(x: glia.f32[3][2]) -> int:", "E206", "write glia.f32[3, 2]"),
])
def test_signatures_outside_the_subset(pymodule, signature, code, fragment):
    src = f"import glia\n\n@glia.fn\n{signature}\n    return 1\n"
    with pytest.raises(GliaError) as info:
        m = pymodule(src)
        m.f(1)  # unknown type names are the checker's to find, at the first call
    d = info.value.diagnostic
    assert d.code == code and fragment in d.message and d.span.line == 4, d.render()
    assert isinstance(info.value, TypeError) or "glia." not in signature  # as Python's own are


def test_other_decorators_are_rejected(pymodule):
    with pytest.raises(GliaError) as info:
        pymodule("import functools, glia\n\n@functools.lru_cache\n@glia.fn\ndef f(x: int) -> int:\n    return x\n")
    d = info.value.diagnostic
    assert d.code == "E005" and d.span.line == 3 and "only @glia.fn" in d.message


@pytest.mark.parametrize("code, name, col", [
    ("@glia.fn\ndef café(x: int) -> int:\n    return x\n", "café", 5),
    ("@glia.fn\ndef f(é: int) -> int:\n    return é\n", "é", 7),
    ("@glia.fn\ndef f(x: int) -> int:\n    ñ = x\n    return ñ\n", "ñ", 5),
    ("@glia.struct\nclass Größe:\n    x: int\n", "Größe", 7),
    ("@glia.struct\nclass P:\n    x: int\n    ü: int\n", "ü", 5),
])
def test_a_name_glia_cannot_spell_is_e002_at_the_def(pymodule, code, name, col):
    """Python allows `def café`; Glia names are ASCII. The DSL took such names (one no .glia file,
    :ir text or diagnostic excerpt can spell back); now E002 where the name stands. A Python method
    of a struct is Python's own and may use any name. (`def train` is fine: Glia's parser takes
    `train`, `on`, `examples` as names of definitions too.)"""
    with pytest.raises(GliaError) as info:
        pymodule("import glia\n\n" + code)
    d = info.value.diagnostic
    assert d.code == "E002" and f"'{name}' is not a Glia name" in d.message, d.render()
    assert d.source.name.endswith(".py") and (d.span.line - 2, d.span.col) == (code[:code.index(name)].count("\n") + 1, col)
    m = pymodule("import glia\n\n@glia.struct\nclass P:\n    x: int\n    def größe(self) -> int:\n        return 1\n"
                 "\n@glia.fn\ndef train(on: int) -> int:\n    examples = on\n    return examples\n")
    assert m.train(3) == 3 and m.P(1).größe() == 1


@pytest.mark.parametrize("decorator", ["@functools.lru_cache", "@staticmethod", "@logged"])
def test_a_decorator_under_glia_fn_is_refused_at_its_line(pymodule, decorator):
    """Under @glia.fn, lru_cache and staticmethod were '<python>: @glia.fn decorates a def function, not
    staticmethod', with no line, and a functools.wraps wrapper E509 'the file changed since it was
    imported'; each is now E005 at the other decorator, as one above @glia.fn is."""
    with pytest.raises(GliaError) as info:
        pymodule("import functools, glia\n\ndef logged(fn):\n    @functools.wraps(fn)\n"
                 "    def wrapper(*a):\n        return fn(*a)\n    return wrapper\n\n"
                 f"@glia.fn\n{decorator}\ndef f(x: int) -> int:\n    return x\n")
    d = info.value.diagnostic
    assert d.code == "E005" and d.span.line == 10 and "only @glia.fn" in d.message, d.render()


@pytest.mark.parametrize("method", ["def m(self, x: int) -> int:", "def m(x: int) -> int:"])
def test_glia_fn_on_a_method_says_glia_functions_are_not_methods(pymodule, method):
    """@glia.fn on a method said "parameter 'self' needs a type annotation, e.g. `self: int`"."""
    with pytest.raises(GliaError) as info:
        pymodule(f"import glia\n\nclass A:\n    @glia.fn\n    {method}\n        return x\n")
    d = info.value.diagnostic
    assert d.code == "E005" and d.span.line == 4, d.render()
    assert d.message.startswith("@glia.fn decorates a function, not a method: m is defined in class A")


def test_glia_fn_inside_a_function_is_no_method(pymodule):
    m = pymodule("import glia\n\ndef make():\n    @glia.fn\n    def inner(x: int) -> int:\n        return x + 1\n"
                 "    return inner\n")
    assert m.make()(1) == 2


@pytest.mark.parametrize("cls", ["@dataclasses.dataclass\nclass D:\n    a: int\n",
                                 "class D(typing.NamedTuple):\n    a: int\n"])
def test_a_python_class_as_a_type_says_to_make_it_a_struct(pymodule, cls):
    """A dataclass or NamedTuple in an annotation was E206 "unknown type 'D'", though D is defined."""
    with pytest.raises(GliaError) as info:
        pymodule(f"import dataclasses, typing, glia\n\n{cls}\n@glia.fn\ndef f(d: list[D]) -> int:\n    return 1\n")
    d = info.value.diagnostic
    assert d.code == "E206" and d.message.startswith("D is a Python class, not a Glia type: decorate it with "
                                                     "@glia.struct"), d.render()


@pytest.mark.parametrize("value, shown", [("[1.0, 2.0]", "a list of 2 items"), ("(1, 'a')", "a tuple of 2 items"),
                                           ("numpy.ones(3)", "a numpy array of float64 with shape (3,)")])
def test_a_module_container_read_by_glia_code_says_to_pass_it_in(pymodule, value, shown):
    """A module-level list (tuple, array) read by @glia.fn code was E101 "undefined name 'W'", though W is
    defined: only int, float, bool and str constants become Glia globals."""
    with pytest.raises(GliaError) as info:
        m = pymodule(f"import numpy, glia\n\nW = {value}\n\n@glia.fn\ndef f(x: int) -> int:\n    return len(W)\n")
        m.f(1)
    d = info.value.diagnostic
    assert d.code == "E101" and d.message.startswith(f"'W' is {shown}: @glia.fn code reads module constants of "
                                                     "type int, float, bool or str only"), d.render()
    assert d.span.line == 7, d.render()


def test_glia_fn_of_a_glia_function_is_that_function(pymodule):
    m = pymodule("import glia\n\ndef f(x: int) -> int:\n    return x + 1\n\ng = glia.fn(glia.fn(f))\n")
    assert m.g(1) == 2  # (it was E509 'cannot find f in glia/dsl.py')


def test_checker_and_runtime_errors_point_into_the_python_file(pymodule):
    m = pymodule("""
        import glia

        @glia.fn
        def ratio(a: int, b: int) -> int:
            return a // b
    """)
    with pytest.raises(GliaError) as info:
        m.ratio(1, 0)
    d = info.value.diagnostic
    assert (d.code, d.span.line, d.span.col) == ("E503", line_of(m, "a // b"), 12)
    assert d.source.name == m.__file__
    assert any("called from Python here" in n.message and n.source.name == __file__ for n in d.notes)

    bad = pymodule("""
        import glia

        @glia.fn
        def wrong(x: int) -> str:
            return x + 1
    """)
    with pytest.raises(GliaError) as info:
        bad.wrong(1)
    d = info.value.diagnostic
    assert (d.code, d.span.line) == ("E201", line_of(bad, "return x + 1")) and d.source.name == bad.__file__


def test_constants_python_functions_and_redefinition(pymodule):
    m = pymodule("""
        import glia
        SCALE = 3
        NAME = "k"

        def helper(x):
            return x

        @glia.fn
        def scaled(x: int) -> str:
            return NAME + str(x * SCALE)
    """, name="dsl_redefine")
    assert m.scaled(2) == "k6"
    with pytest.raises(GliaError) as info:
        pymodule("""
            import glia

            @glia.fn
            def calls_python(x: int) -> int:
                return helper(x)

            def helper(x):
                return x

            calls_python(1)
        """)
    d = info.value.diagnostic
    assert d.code == "E101" and "Python function" in d.message and "@glia.fn" in d.message and d.span.line == 6
    with pytest.raises(GliaError) as info:  # a builtin of Python's only: no decorator can make it Glia's
        pymodule("""
            import glia

            @glia.fn
            def shown(x: int) -> str:
                return repr(x)

            shown(1)
        """)
    d = info.value.diagnostic
    assert d.code == "E101" and "builtin of Python that Glia does not have" in d.message and "@glia.fn" not in \
        d.message and (d.span.line, d.span.col) == (6, 12)
    with pytest.raises(GliaError) as info:  # glia.sum: sum is Python's name too, so glia has none (it said 'glia' was undefined)
        pymodule("""
            import glia

            @glia.fn
            def total(x: glia.f64[3]) -> float:
                return glia.sum(glia.tanh(x))

            total(1)
        """)
    d = info.value.diagnostic
    assert d.code == "E101" and d.message.startswith("glia.sum is not a name of the glia module") and \
        "called plainly" in d.message and (d.span.line, d.span.col) == (6, 12)
    # A second definition of a function in the same module (a notebook cell run again) replaces it.
    m2 = pymodule("""
        import glia

        @glia.fn
        def scaled(x: int) -> str:
            return "new" + str(x)
    """, name="dsl_redefine")
    assert m2.scaled(2) == "new2" and m.scaled(2) == "new2"


def test_a_nested_function_reads_no_number_of_its_enclosing_function(pymodule):
    """Each call of a factory decorated the same name again, so every function it made computed with
    the last call's number (make_adder(5) turned add3(1) into 6); now the read is a located E005.
    Classes of the enclosing function are still named through its closure."""
    with pytest.raises(GliaError) as info:
        pymodule("""
            import glia

            def make_adder(k: int):
                @glia.fn
                def add(x: int) -> int:
                    return x + k
                return add

            add3 = make_adder(3)
        """)
    d = info.value.diagnostic
    assert d.code == "E005" and "make_adder" in d.message and (d.span.line, d.span.col) == (7, 20)
    m = pymodule("""
        import glia

        def make():
            @glia.struct
            class Cell:
                v: int

            @glia.fn
            def bump(c: Cell) -> Cell:
                return Cell(c.v + 1)
            return Cell, bump

        Cell, bump = make()
    """)
    assert m.bump(m.Cell(1)) == m.Cell(2)


def test_a_function_left_behind_by_a_redefinition_says_so(pymodule):
    """A notebook cell defining g again with a new signature stopped every call of the module (g's
    too) with f's E202, f being the function defined before that still calls the old g; the error
    now says so, and where g was defined again."""
    m = pymodule("""
        import glia

        @glia.fn
        def g(x: int) -> int:
            return x + 1

        @glia.fn
        def f(x: int) -> int:
            return g(x)

        @glia.fn
        def g(x: int, y: int) -> int:
            return x + y
    """)
    with pytest.raises(GliaError) as info:
        m.g(1, 2)
    d = info.value.diagnostic
    assert d.code == "E202" and d.span.line == 10 and len(d.notes) == 1, info.value.render()
    assert d.notes[0].span.line == 13 and d.notes[0].message.startswith("f was defined before g was defined again")


def test_a_deleted_definition_leaves_the_program(pymodule):
    """A notebook's broken function stayed in its module's program for good, so every other function
    failed with its error, even after `del helper`; a function Python no longer holds now leaves."""
    m = pymodule("""
        import glia

        @glia.fn
        def helper(x: int) -> int:
            return x + "a"

        @glia.fn
        def fixed(x: int) -> int:
            return x + 1
    """)
    with pytest.raises(GliaError) as info:
        m.fixed(1)
    assert info.value.diagnostic.code == "E203"
    del m.helper
    assert m.fixed(1) == 2
    m = pymodule("""
        import glia

        def plain(x: int) -> int:
            return x * 3

        made = glia.fn(plain)  # the name `plain` stays the Python function: `made` holds the Glia one
    """)
    assert m.made(2) == 6  # (a check of the module's names left it out: KeyError)
    with pytest.raises(GliaError) as info:
        m.glia.fn(lambda x: x)
    assert info.value.diagnostic.code == "E005" and "not a lambda" in info.value.diagnostic.message


def test_a_module_reloaded_after_an_edit_is_read_again(pymodule):
    """importlib.reload (IPython's autoreload) of an edited file kept the old Glia function: the source
    came from linecache's stale copy (f(1) stayed 2 instead of 107)."""
    import os

    m = pymodule("""
        import glia

        @glia.fn
        def f(x: int) -> int:
            return x + 1
    """, name="dsl_reloaded")
    assert m.f(1) == 2
    path = Path(m.__file__)
    path.write_text(path.read_text().replace("return x + 1", "return x * 100 + 7"))
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    m.__spec__.loader.exec_module(m)  # what importlib.reload does (the file is not on sys.path)
    assert m.f(1) == 107
    # a function decorated after its file was broken by an edit: said so (it was "define it in a .py file")
    path.write_text(path.read_text() + "\ndef make():\n    @glia.fn\n    def g(x: int) -> int:\n        return x\n")
    m.__spec__.loader.exec_module(m)
    path.write_text(path.read_text() + "\ndef broken(:\n")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 4_000_000_000))
    with pytest.raises(GliaError) as info:
        m.make()
    assert info.value.diagnostic.code == "E509" and "changed since it was imported and no longer parses" in \
        info.value.diagnostic.message


def test_functions_of_another_module(pymodule):
    lib = pymodule(GRAPHS, name="dsl_graph_lib")
    user = pymodule("""
        import glia
        from dsl_graph_lib import Edge, adjacency as adj

        @glia.fn
        def out_degrees(n: int, edges: list[Edge]) -> list[int]:
            return [len(a) for a in adj(n, edges)]
    """)
    assert user.out_degrees(3, [lib.Edge(0, 1), lib.Edge(0, 2)]) == [2, 0, 0]


def test_two_modules_defining_the_same_name_are_not_swapped(pymodule):
    """The program of a module that uses another's function held one `helper`, its own, so the other
    module's function silently called it (user(1) + helper(1) was 4, not 1003); now E102 says so."""
    lib = pymodule("""
        import glia

        @glia.fn
        def helper(x: int) -> int:
            return x + 1000

        @glia.fn
        def user(x: int) -> int:
            return helper(x)
    """, name="dsl_clash_lib")
    main = pymodule("""
        import glia
        from dsl_clash_lib import user

        @glia.fn
        def helper(x: int) -> int:
            return x * 2

        @glia.fn
        def mine(x: int) -> int:
            return user(x) + helper(x)
    """)
    assert lib.user(1) == 1001
    with pytest.raises(GliaError) as info:
        main.mine(1)
    d = info.value.diagnostic
    assert d.code == "E102" and d.source.name == lib.__file__ and d.span.line == line_of(lib, "return helper(x)")
    assert d.notes[0].source.name == main.__file__ and "rename one" in d.message
    lib = pymodule("""
        import glia
        SCALE = 1000

        @glia.fn
        def scaled(x: int) -> int:
            return x * SCALE
    """, name="dsl_clash_consts")
    main = pymodule("""
        import glia
        from dsl_clash_consts import scaled
        SCALE = 2
        LIMIT = 1000

        @glia.fn
        def mine(x: int) -> int:
            return scaled(x) + x * SCALE
    """)
    with pytest.raises(GliaError) as info:  # (it was 4, not 1002: one SCALE for both)
        main.mine(1)
    d = info.value.diagnostic
    assert d.code == "E102" and "1000" in d.message and d.span.line == line_of(lib, "return x * SCALE")


def test_holes_choices_examples_and_what_comes_later(pymodule):
    m = pymodule("""
        import glia

        @glia.fn(examples=[(([1, 2],), [2, 4]), (([],), [])])
        def double_all(xs: list[int]) -> list[int]:
            return glia.hole(size=4)

        @glia.fn
        def width(x: int) -> int:
            return x * glia.choose(16, 32)

        glia.examples(width, [(1, 16), (2, 32)])
    """)
    assert m.width(2) == 32  # an unsettled choice is its first option
    with pytest.raises(GliaError) as info:
        m.double_all([1])
    d = info.value.diagnostic
    assert d.code == "E601" and d.span.line == line_of(m, "glia.hole(size=4)")
    assert "prog.synthesize()" in d.message  # (it named only `glia synth FILE`, which has no file here)
    program = m.double_all.glia.program
    assert len(program.ir.holes) == 1 and len(program.ir.examples) == 2
    assert dict(program.params) == {}
    with pytest.raises(GliaError) as info:  # no train block, no function named: nothing to train
        program.train()
    assert info.value.diagnostic.code == "E703"
    with pytest.raises(glia.GliaNotAvailable) as info:
        program.save("p.npz")
    assert info.value.diagnostic.code == "E801" and "no parameters" in info.value.diagnostic.message
    filled = program.synthesize(timeout=20)  # search fills the hole from the examples
    assert filled.double_all([1, 2]) == [2, 4] and filled.synthesis[0]["function"] == "double_all"
    assert glia.choose(5, 6) == 5


@pytest.mark.parametrize("backend", ["interp", "cpu"])
def test_synthesize_settles_the_choices_of_glia_fn_functions(pymodule, backend):
    """A choice is settled against the examples, in the IR every backend runs (it was left at its
    first option: `synthesize()` only filled holes)."""
    m = pymodule(f"""
        import glia

        @glia.fn(backend="{backend}")
        def scaled_sum(x: int) -> int:
            s = 0
            for i in range(x):
                s += i * glia.choose(1, 2, 3)
            return s

        @glia.fn(backend="{backend}", examples=[(2, 3), (5, 6)])
        def succ(x: int) -> int:
            return glia.hole(size=3)

        glia.examples(scaled_sum, [(3, 9), (2, 3)])
    """)
    filled = m.scaled_sum.glia.program.synthesize(timeout=20)  # the examples of succ run with its hole filled
    assert filled.scaled_sum(4) == 18 and filled.succ(7) == 8 and filled.ir.choices == ()
    assert m.scaled_sum.glia.program.ir.choices  # the module's own program keeps its choice


def test_a_layer_size_choice_in_glia_fn_is_not_settled_silently(pymodule):
    m = pymodule("""
        import glia

        @glia.fn
        def model(x: glia.f32[4]) -> glia.f32[2]:
            return glia.dense(x, glia.choose(2, 2))

        glia.examples(model, [])
    """)
    with pytest.raises(glia.GliaNotAvailable) as info:
        m.model.glia.program.synthesize(timeout=5)
    d = info.value.diagnostic
    assert d.code == "E801" and d.span.line == line_of(m, "glia.choose(2, 2)")


def test_a_cpu_note_names_the_python_file(pymodule, capsys):
    """Why a function runs interpreted is said at its Python line (it named the DSL's virtual source,
    `<glia: python sources>:N`, whose line numbers are nobody's)."""
    m = pymodule("""
        import glia

        @glia.struct
        class Tree:
            kids: list["Tree"]

        @glia.fn(backend="cpu")
        def size(t: Tree) -> int:
            return 1 + len(t.kids)
    """)
    assert m.size(m.Tree([m.Tree([])])) == 2
    err = capsys.readouterr().err
    assert f"(at {m.__file__}:{line_of(m, 'def size')}:1)" in err and "python sources" not in err


def test_generics_with_typevars(pymodule):
    """Before Python 3.12 (no `def f[T]`) a TypeVar is how Python writes a generic function: it was
    E206 "unknown type 'T'"."""
    m = pymodule("""
        import glia
        from typing import TypeVar
        K = TypeVar("K")
        V = TypeVar("V")

        @glia.fn
        def invert(d: dict[K, V]) -> dict[V, K]:
            out: dict[V, K] = {}
            for k, v in d.items():
                out[v] = k
            return out

        @glia.fn
        def both() -> str:
            return str(invert({1: "a"})["a"]) + invert({"b": 2.5})[2.5]
    """)
    assert m.invert({"a": 1}) == {1: "a"} and m.both() == "1b"
    # a type parameter is one type in a call: {1: "a", "b": 2} was taken (K int and str at once), and
    # sorted() of such a list was Python's own TypeError from inside the interpreter
    for bad, said in (({1: "a", "b": 2}, "but d (key 'b') is str 'b' (expected int; K is already int in this call)"),
                      ({1: "a", 2: 3}, "but d[2] is int 3 (expected str; V is already str in this call)")):
        with pytest.raises(glia.GliaTypeError) as info:
            m.invert(bad)
        assert info.value.diagnostic.code == "E201" and said in info.value.diagnostic.message, info.value.render()
    assert m.invert({1: 2.5, 2: 3}) == {2.5: 1, 3: 2} and m.invert({1: (), 2: ()}) == {(): 2}
    with pytest.raises(GliaError) as info:
        pymodule("""
            import glia
            from typing import TypeVar
            N = TypeVar("N", int, float)

            @glia.fn
            def same(x: N) -> N:
                return x
        """)
    d = info.value.diagnostic
    assert d.code == "E206" and "bound or constraints" in d.message and (d.span.line, d.span.col) == (7, 13)


@pytest.mark.parametrize("field, extra", [("_fields", ""), ("_values", ""), ("_replace", ""),
                                          ("norm", "\n                def norm(self) -> float:\n                    return 1.0\n")])
def test_a_field_named_like_a_part_of_the_python_class(pymodule, field, extra):
    """`_fields` (and a method's name) was Python's ValueError from the class statement; `_values` made
    a class whose ==, hash and repr called the field."""
    with pytest.raises(GliaError) as info:
        pymodule(f"""
            import glia

            @glia.struct
            class R:
                {field}: int
{extra}
        """)
    d = info.value.diagnostic
    assert d.code == "E102" and f"'{field}' names a part of the struct's Python class" in d.message
    assert (d.span.line, d.span.col) == (6, 5)


@pytest.mark.parametrize("field", ["_fields", "_values"])
def test_a_glia_struct_field_its_python_class_cannot_have(field):
    """A .glia struct may name a field `_fields` (glia run is fine); from Python that was a ValueError
    (`_fields`) or a class whose == called the field (`_values`)."""
    with pytest.raises(GliaError) as info:
        glia.compile(f"struct R:\n    {field}: int\n\ndef mk() -> R:\n    return R(1)\n")
    d = info.value.diagnostic
    assert d.code == "E102" and f"field '{field}' names a part of its Python class" in d.message and d.span.line == 1


def test_examples_are_checked_against_the_signature(pymodule):
    m = pymodule("""
        import glia

        @glia.fn(examples=[
            ((1,), 2),
            (("one",), 2),
        ])
        def inc(x: int) -> int:
            return x + 1
    """)
    with pytest.raises(GliaError) as info:
        m.inc(1)
    d = info.value.diagnostic
    assert d.code == "E401" and d.span.line == line_of(m, '(("one",), 2)')


def test_unknown_backend_is_a_clear_error(pymodule):
    with pytest.raises(glia.GliaNotAvailable) as info:
        pymodule("import glia\n\n@glia.fn(backend='gpu')\ndef f(x: int) -> int:\n    return x\n")
    assert info.value.diagnostic.code == "E801" and "available: cpu, interp" in info.value.diagnostic.message


# ---- glia.load / glia.compile -----------------------------------------------------------------


def test_load_a_file(capsys):
    prog = glia.load(ROOT / "examples" / "shortest_paths.glia")
    assert "city" in prog.function_names() and "main" in dir(prog)
    assert prog.city("Carrow") == 2
    road = prog.Road(to=1, km=2.5)
    assert road.km == 2.5 and repr(road) == "Road(to=1, km=2.5)"
    assert prog.run() == 0
    expected = (ROOT / "examples" / "shortest_paths.out").read_text()
    assert capsys.readouterr().out == expected
    with pytest.raises(AttributeError, match="no function or struct named 'nope'"):
        prog.nope
    # a prelude function the program never calls is not in it: said so (it was "no function named")
    small = glia.compile("def f(x: int) -> int:\n    return x\n")
    with pytest.raises(AttributeError, match="heappop is a prelude function this program does not call"):
        small.heappop
    with pytest.raises(GliaError, match="dijkstra is a prelude function this program does not call"):
        small.call("dijkstra", [[]], 0)


def test_compile_text_signature_help_and_errors():
    prog = glia.compile("""
def bfs_from(adj: list[list[int]], start: int) -> list[int]:
    return bfs(adj, start)

def main(args: list[str]) -> int:
    print(len(args))
    return 3
""", name="graphs.glia")
    assert prog.bfs_from([[1, 2], [3], [3], []], 0) == [0, 1, 1, 2]
    assert prog.bfs([[1], []], 0) == [0, 1]  # the prelude's functions are there too
    assert str(inspect.signature(prog.bfs_from)) == "(adj: list[list[int]], start: int) -> list[int]"
    assert prog.bfs_from.__doc__.startswith("def bfs_from(adj: list[list[int]], start: int) -> list[int]")
    assert "graphs.glia:2" in prog.bfs_from.__doc__
    assert prog.run(["a", "b"]) == 3
    with pytest.raises(GliaError) as info:
        glia.compile("def f(x: int) -> int:\n    return x +\n", name="broken.glia")
    d = info.value.diagnostic
    assert (d.code, d.source.name, d.span.line) == ("E001", "broken.glia", 2)
    with pytest.raises(GliaError) as info:
        glia.load("no/such/file.glia")
    assert info.value.diagnostic.code == "E509"


def test_public_surface():
    assert set(glia.__all__) >= {"fn", "struct", "hole", "choose", "examples", "load", "compile", "Program",
                                 "f32", "f64", "Fn", "GliaError", "GliaTypeError", "GliaNotAvailable"}
    for name in glia.__all__:
        assert getattr(glia, name) is not None
    assert repr(glia.f32[64]) == "glia.f32[64]" and repr(glia.Fn[[int], int]) == "glia.Fn[[int], int]"


# ---- Jupyter ----------------------------------------------------------------------------------


def test_dsl_in_a_real_jupyter_kernel():
    pytest.importorskip("ipykernel", reason="ipykernel is not installed (pip install -e '.[test]')")
    manager = pytest.importorskip("jupyter_client.manager", reason="jupyter_client is not installed")
    km, kc = manager.start_new_kernel(kernel_name="python3")
    try:
        def run(code: str):
            outputs = []

            def hook(msg):
                if msg["msg_type"] in ("stream", "execute_result", "error"):
                    outputs.append(msg["content"])
            reply = kc.execute_interactive(code, timeout=60, output_hook=hook)
            return reply["content"]["status"], outputs

        status, _ = run(f"import sys; sys.path.insert(0, {str(ROOT)!r}); import glia")
        assert status == "ok"
        status, out = run("@glia.struct\nclass P:\n    x: int\n    y: int\n\n"
                          "@glia.fn\ndef norm1(p: P) -> int:\n    print('norm1 of', p)\n"
                          "    return abs(p.x) + abs(p.y)\n\nnorm1(P(3, -4))\n")
        assert status == "ok", out
        assert out[0]["text"] == "norm1 of P(x=3, y=-4)\n" and out[1]["data"]["text/plain"] == "7"
        # a later cell: a function calling one of an earlier cell, printing into its own cell
        status, out = run("@glia.fn\ndef twice(p: P) -> int:\n    return 2 * norm1(p)\n\ntwice(P(1, 1))\n")
        assert status == "ok" and out[0]["text"] == "norm1 of P(x=1, y=1)\n" and out[1]["data"]["text/plain"] == "4"
        status, out = run("@glia.fn\ndef bad(x: int) -> int:\n    with open('f') as f:\n        return 1\n")
        assert status == "error" and out[-1]["ename"] == "GliaError"
        assert ":3:5: error[E005]: 'with' is Python, not Glia" in out[-1]["evalue"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_layers_and_tensor_builtins_as_glia_names(pymodule):
    """`glia.dense`, `glia.relu`, ... inside @glia.fn are the Glia builtins (so linters and readers see
    where they come from); from plain Python they say where they belong."""
    import numpy as np

    m = pymodule("""
        import glia

        @glia.fn
        def digit(x: glia.f32[64]) -> glia.f32[10]:
            h = glia.relu(glia.dense(x, 16))
            return glia.softmax(glia.dense(h, 10))
    """)
    out = m.digit(np.ones(64, np.float32))
    assert out.shape == (10,) and abs(float(out.sum()) - 1.0) < 1e-5
    prog = m.digit.glia.program
    assert sorted(prog.params)[:2] == ["digit.dense#1.W", "digit.dense#1.b"]
    data = np.load(ROOT / "examples" / "data" / "digits.npz")
    hist = prog.train("digit", data["x"][:300], data["y"][:300], epochs=3, lr=0.01)
    assert hist["loss"][-1] < hist["loss"][0]
    with pytest.raises(glia.GliaNotAvailable) as info:
        glia.relu(1.0)
    assert info.value.diagnostic.code == "E005" and "inside a @glia.fn function" in info.value.diagnostic.message
    with pytest.raises(AttributeError):
        glia.no_such_builtin


@pytest.mark.parametrize("before, body, said", [
    ("", "return '\\ud800' + str(x)", "this string's '\\ud800' is a surrogate"),
    ("S = '\\udfff'\n", "return S", "'S' is a string holding '\\udfff', which is a surrogate"),
])
def test_a_lone_surrogate_in_a_string_is_e004_as_in_a_glia_file(pymodule, before, body, said):
    """A string literal '\\ud800' in @glia.fn code (or a global string holding one) was taken, though a
    .glia file refuses it (E004: it can be neither printed nor written as UTF-8)."""
    src = f"import glia\n{before}\n@glia.fn\ndef f(x: int) -> str:\n    {body}\n"
    with pytest.raises(GliaError) as info:
        m = pymodule(src)
        m.f(1)
    d = info.value.diagnostic
    assert d.code == "E004" and said in d.message, d.render()
    assert d.span.line == src.splitlines().index(f"    {body}") + 1, d.render()


def test_a_lone_surrogate_in_an_example_is_e401(pymodule):
    src = "import glia\n\n@glia.fn(examples=[('\\ud800', 1)])\ndef f(s: str) -> int:\n    return len(s)\n"
    with pytest.raises(GliaError) as info:
        m = pymodule(src)
        m.f("a")
    d = info.value.diagnostic
    assert d.code == "E401" and "surrogate '\\ud800'" in d.message, d.render()
