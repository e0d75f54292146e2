"""Compiled functions called from the interpreter (`glia.load(..., backend="cpu")`, the REPL's
`:backend cpu`): same answers as the interpreter, mutations seen by the caller, and a function whose
result may share a container with its arguments left to the interpreter (compiler/aliasing.py)."""
from __future__ import annotations

import textwrap

import pytest

import glia
from glia.compiler.aliasing import returns_fresh
from glia.compiler.cpu_calls import shares_a_container
from glia.compiler.diagnostics import GliaError, Source
from glia.compiler.driver import check_source


def program(text: str):
    return check_source(Source("t.glia", textwrap.dedent(text)))


FRESHNESS = program("""
    G: list[int] = [1, 2]
    H: list[list[int]] = []

    def bfs(adj: list[list[int]], s: int) -> list[int]:
        dist = [-1] * len(adj)
        dist[s] = 0
        queue = [s]
        for u in queue:
            for v in adj[u]:
                if dist[v] < 0:
                    dist[v] = dist[u] + 1
                    queue.append(v)
        return dist

    def grow(xs: list[int]) -> list[int]:
        r: list[int] = []
        for x in xs:
            r = r + [x]
        return sorted(r)

    def grid(n: int) -> list[list[int]]:
        return [[0] * n for _ in range(n)]

    def count(xs: list[int]) -> int:
        return len(xs)

    def same(xs: list[int]) -> list[int]:
        return xs

    def part(adj: list[list[int]]) -> list[int]:
        return adj[0]

    def escaped(adj: list[list[int]]) -> list[int]:
        r: list[int] = []
        adj.append(r)
        return r

    def renamed(xs: list[int]) -> list[int]:
        r = [1]
        r = xs
        return r

    def global_one() -> list[int]:
        return G

    def via_default(d: dict[str, list[int]]) -> list[int]:
        return d.get("a", [])

    def recursive(n: int, xs: list[int]) -> list[int]:
        if n == 0:
            return xs
        return recursive(n - 1, xs)

    def repeated(n: int) -> list[list[int]]:
        row = [0]
        return [row, row]

    def histogram(xs: list[int]) -> list[int]:
        counts = [0, 0, 0]
        for x in xs:
            counts[x % 3] += 1
        return counts

    def kept_twice(xs: list[int], keep: list[list[int]]) -> list[int]:
        counts = [0, 0, 0]
        for x in xs:
            counts[x % 3] += 1
        keep.append(counts)
        return counts

    def perms(xs: list[int]) -> list[list[int]]:
        if len(xs) == 0:
            return [[]]
        out: list[list[int]] = []
        for i in range(len(xs)):
            for p in perms(xs[:i] + xs[i + 1:]):
                out.append([xs[i]] + p)
        return out

    def board(n: int) -> list[list[int]]:
        m = [[0] * n for _ in range(n)]
        m[0][0] = 1
        m[1].append(5)
        m[0] = [2]
        return m

    def graph(n: int, es: list[(int, int)]) -> list[list[int]]:
        adj: list[list[int]] = []
        for i in range(n):
            adj.append([])
        for (u, v) in es:
            adj[u].append(v)
        return adj

    def groups(ws: list[str]) -> dict[str, list[str]]:
        g: dict[str, list[str]] = {}
        for w in ws:
            g.setdefault(w[0], []).append(w)
        return g

    def holds_argument(xs: list[int]) -> list[list[int]]:
        out: list[list[int]] = []
        out.append(xs)
        return out

    def row_to_global(n: int) -> list[list[int]]:
        out = [[1], [2]]
        H.append(out[0])
        return out

    def row_twice(n: int) -> list[list[int]]:
        row = [1]
        out: list[list[int]] = []
        out.append(row)
        out.append(row)
        return out

    def rows_named(n: int) -> list[list[int]]:
        out = [[1], [2]]
        for r in out:
            H.append(r)
        return out

    def argument_stored(xs: list[int]) -> list[list[int]]:
        out = [[1], [2]]
        out[0] = xs
        return out

    def row_taken(n: int) -> list[list[int]]:
        out = [[1], [2]]
        x = out[1]
        H.append(x)
        return out

    def extended(xs: list[list[int]]) -> list[list[int]]:
        out = [[1], [2]]
        out.extend(xs)
        return out

    def inner_shared(xs: list[int]) -> list[list[int]]:
        out = [[1], [2]]
        out[0].extend(xs)
        out.append(sorted(xs))
        return out
""")


@pytest.mark.parametrize("name,fresh", [
    ("bfs", True), ("grow", True), ("grid", True), ("count", True),
    ("same", False), ("part", False), ("escaped", False), ("renamed", False), ("global_one", False),
    ("via_default", False), ("recursive", False), ("repeated", False), ("histogram", True), ("kept_twice", False),
    ("perms", True), ("board", True), ("graph", True), ("groups", True), ("inner_shared", True),
    ("holds_argument", False), ("row_to_global", False), ("row_twice", False), ("rows_named", False),
    ("argument_stored", False), ("row_taken", False), ("extended", False),
])
def test_which_results_are_fresh(name, fresh):
    assert returns_fresh(FRESHNESS, name) is fresh


def test_shared_containers_are_found():
    a = [1]
    assert shares_a_container([a, a]) and shares_a_container([[a], (1, a)])
    assert not shares_a_container([[1], [1], {"k": [2]}, (3, "x")])


CODE = """
struct P:
    x: int
    tags: list[str]

def fill(xs: list[int], n: int):
    for i in range(n):
        xs.append(i * i)

def bump(grid: list[list[int]], d: dict[str, int], s: set[int], p: P) -> int:
    grid[0][0] += 10
    d["new"] = 1
    s.add(99)
    p.tags.append("t")
    return len(grid)

def pick(n: int) -> P:
    return P(n, ["a"])

def boom(xs: list[int]) -> int:
    return xs[len(xs) + 2]

def same(xs: list[int]) -> list[int]:
    return xs

def both(a: list[int], b: list[int]) -> int:
    a.append(1)
    return len(b)
"""

# what the REPL prints for these entries, on either backend
ENTRIES = [
    ("xs = [7]\nfill(xs, 4)\nxs", "[7, 0, 1, 4, 9] : list[int]\n"),
    ("row = [1, 2]\ngrid = [row]\nd = {'a': 0}\ns = {1}\np = P(1, ['x'])\nbump(grid, d, s, p)", "1 : int\n"),
    ("(grid, row, d, s, p)",
     "([[11, 2]], [11, 2], {'a': 0, 'new': 1}, {1, 99}, P(x=1, tags=['x', 't'])) : "
     "(list[list[int]], list[int], dict[str, int], set[int], P)\n"),
    ("row[1] = 5\ngrid", "[[11, 5]] : list[list[int]]\n"),  # row is still grid's first row
    ("pick(3)", "P(x=3, tags=['a']) : P\n"),
    ("ys = [1]\nsame(ys).append(2)\nys", "[1, 2] : list[int]\n"),  # same's result is ys itself
    ("zs = [0]\nboth(zs, zs)", "2 : int\n"),  # a and b are one list
    ("both([0], [0])", "1 : int\n"),
]


@pytest.mark.parametrize("backend", ["interp", "cpu"])
def test_the_repl_gives_the_interpreters_answers(backend):
    import io

    from glia.session import Session

    out, err = io.StringIO(), io.StringIO()
    session = Session(out, err)
    session.execute(CODE)
    session.execute(f":backend {backend}")
    for entry, expected in ENTRIES:
        n = len(out.getvalue())
        assert session.execute(entry), err.getvalue()
        assert out.getvalue()[n:] == expected, entry
    if backend == "cpu":
        notes = err.getvalue()
        assert "same runs in the interpreter" in notes and "arguments share" in notes
        assert "runs in the interpreter" not in notes.replace("same runs", "").replace("of both runs", "")


def test_python_calls_and_errors_match_the_interpreter():
    interp, cpu = glia.compile(CODE, backend="interp"), glia.compile(CODE, backend="cpu")
    assert tuple(cpu.pick(3)) == tuple(interp.pick(3)) == (3, ["a"])
    errors = []
    for prog in (interp, cpu):
        with pytest.raises(GliaError) as info:
            prog.boom([1, 2])
        d = info.value.diagnostic
        errors.append((d.code, d.message, d.span.line, d.span.col))
    assert errors[0] == errors[1] and errors[0][0] == "E501"
    assert cpu.backend == "cpu" and cpu.both([0], [5, 6]) == 2


TREES = """
struct T:
    v: float
    kids: list[T]
    names: dict[str, (int, T)]

def chain(n: int) -> T:
    t = T(0.0, [], {})
    for i in range(n):
        if i % 2 == 0:
            t = T(float(i), [t], {})
        else:
            t = T(float(i), [], {"k": (i, t)})
    return t

def depth(t: T) -> int:
    d = 0
    while len(t.kids) + len(t.names) > 0:
        t = t.kids[0] if len(t.kids) > 0 else t.names["k"][1]
        d += 1
    return d
"""


@pytest.mark.parametrize("backend", ["interp", "cpu"])
def test_trees_cross_the_python_boundary_however_deep(backend):
    """A chain of 20,000 trees (through a list, then a dict of tuples, by turns) returned to Python
    and passed back: its conversion went a few Python frames per tree deep and stopped with Python's
    RecursionError (a traceback) at about 200 trees, in the interpreter and compiled alike. Out of
    Glia it is converted with a stack of its own; into Glia, on the big stack."""
    prog = glia.compile(TREES, backend=backend)
    t = prog.chain(20_000)
    assert type(t).__name__ == "T" and t.v == 19_999.0 and t.names["k"][0] == 19_999
    assert t.names["k"][1].kids[0].v == 19_997.0
    assert prog.depth(t) == 20_000
    assert prog.depth(prog.chain(3)) == 3 and prog.chain(0) == prog.chain(0)


def test_params_assign_and_load_with_the_program(tmp_path):
    import numpy as np

    text = "def f(x: f32[3]) -> f32[2]:\n    return dense(x, 2)\n"
    path = tmp_path / "m.glia"
    path.write_text(text)
    prog = glia.load(str(path))
    w = np.arange(6, dtype=np.float32).reshape(3, 2)
    prog.params["f.dense#1.W"] = w
    assert np.array_equal(prog.params["f.dense#1.W"], w)
    with pytest.raises(GliaError) as info:
        prog.params["f.dense#1.W"] = np.zeros((2, 3))
    assert info.value.diagnostic.code == "E703" and "shape (3, 2)" in info.value.diagnostic.message
    prog.save(str(tmp_path / "m.npz"))
    again = glia.load(str(path), params=str(tmp_path / "m.npz"))
    x = np.ones(3, np.float32)
    assert np.array_equal(again.f(x), prog.f(x)) and "f.dense#1.W" in repr(again.params)


def test_the_repls_variables_are_globals_of_compiled_functions_and_dicts_keep_their_order():
    import io

    from glia.session import Session

    out, err = io.StringIO(), io.StringIO()
    session = Session(out, err)
    session.execute(":backend cpu")
    for entry, expected in [
        ("N = 10\ndef twice() -> int:\n    return N * 2\n", ""),
        ("twice()", "20 : int\n"),
        ("N = 7", ""),
        ("twice()", "14 : int\n"),
        ("D = {'a': 1, 'b': 2}\ndef again(m: dict[str, int]) -> int:\n    m.pop('a')\n    m['a'] = 9\n"
         "    return len(m)\n", ""),
        ("again(D)", "2 : int\n"),
        ("list(D.keys())", "['b', 'a'] : list[str]\n"),
        ("def readd() -> int:\n    D.pop('b')\n    D['b'] = 3\n    return len(D)\n", ""),
        ("readd()", "2 : int\n"),
        ("D", "{'a': 9, 'b': 3} : dict[str, int]\n"),
    ]:
        n = len(out.getvalue())
        assert session.execute(entry), err.getvalue()
        assert out.getvalue()[n:] == expected, (entry, out.getvalue()[n:])
    assert "internal error" not in err.getvalue() and "runs in the interpreter" not in err.getvalue(), err.getvalue()


MOVES = '''
def order(rows: list[list[int]]) -> int:
    rows.sort()
    return len(rows)

def swap(g: list[list[int]]) -> int:
    t = g[0]
    g[0] = g[1]
    g[1] = t
    return 0

def dup(v: list[list[int]]) -> int:
    v.append(v[0])
    return len(v)

def rename(d: dict[str, list[int]]) -> int:
    d["b"] = d["a"]
    d["a"] = [0]
    return len(d)

def fill(adj: list[list[int]]) -> int:
    adj[0].append(5)
    return len(adj[0])
'''


# what the REPL prints for these entries on either backend: the inner lists keep their identity
MOVED = [
    ("big = [9, 9]\nsmall = [1]\nrows = [big, small]\norder(rows)", "2 : int\n"),
    ("big.append(0)", ""),
    ("(rows, big, small)", "([[1], [9, 9, 0]], [9, 9, 0], [1]) : (list[list[int]], list[int], list[int])\n"),
    ("a = [1]\nc = [2]\ng = [a, c]\nswap(g)", "0 : int\n"),
    ("a.append(3)", ""),
    ("g", "[[2], [1, 3]] : list[list[int]]\n"),
    ("v = [[7]]\ndup(v)", "2 : int\n"),
    ("v[0].append(8)", ""),
    ("v", "[[7, 8], [7, 8]] : list[list[int]]\n"),
    ("keep = [3]\nd = {'a': keep}\nrename(d)", "2 : int\n"),
    ("keep.append(4)", ""),
    ("d", "{'a': [0], 'b': [3, 4]} : dict[str, list[int]]\n"),
    ("row = [1]\nadj = [row]\nfill(adj)", "2 : int\n"),
    ("row", "[1, 5] : list[int]\n"),
]


@pytest.mark.parametrize("backend", ["interp", "cpu"])
def test_calls_that_move_inner_containers_keep_them_as_the_interpreter_does(backend):
    import io

    from glia.session import Session

    out, err = io.StringIO(), io.StringIO()
    session = Session(out, err)
    session.execute(MOVES)
    session.execute(f":backend {backend}")
    for entry, expected in MOVED:
        n = len(out.getvalue())
        assert session.execute(entry), err.getvalue()
        assert out.getvalue()[n:] == expected, entry
    if backend == "cpu":
        notes = err.getvalue().splitlines()
        moved = [n for n in notes if "may move the lists" in n]
        assert len(moved) == 4 and not any("fill" in n for n in notes), notes
