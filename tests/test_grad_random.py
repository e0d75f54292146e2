"""Random differentiable programs: compiled gradients (the CPU backend) against the interpreter's tape.

From fixed seeds, functions of one float with assignments, `if`/`else`, `while` and `for` loops with
`break`, `continue` and early `return`, conditional expressions (a call in one taken as the whole
value of an assignment), calls of helpers (one returning a tuple, one taking one, one reading a list,
recursively, one returning a list, one reading constant data, one appending to the list it is passed),
`while True` loops left by a `break` in an if/else, a list of floats appended to, made again, indexed,
summed, read by a comprehension after a call, given another name (`p = m` then `m` made again) and
swapping names with another (`m, p = p, m`), a table (`q[i][j] = v`, rows appended and appended to,
read by index and by a loop over its rows, passed to a function replacing an element), a dict of
floats (`e[k] = v` replacing or adding a key, `e[k]`, `e.get(k, v)`, a loop over its keys, passed to
functions reading it and setting keys), a record of records (`s.a.x = v`, `s.b = Pt(...)`, `s.a.y`,
passed to a function), a constant `list[(float, float)]` argument read, and the elementary functions are
generated, put into ONE program (one compile) whose `main` prints the value and the
gradient of each at a few points. Both backends must print the same text, every number equal to
rounding: where the generated code copies a value into a second name, the compiled reverse sweep adds
that name's cotangents as one sum where the tape adds them one by one (docs/backends.md, "Gradients").
GLIA_GRAD_PROGRAMS (default 4) sets how many functions, GLIA_GRAD_SEED (default 43715: it draws every construct above, test_the_default_seed_draws_every_construct) which.
"""
from __future__ import annotations

import os
import random

from glia.compiler.diagnostics import Source
from glia.compiler.driver import check_source

from test_backend_cpu import run
from test_backend_cpu_tensors import NUMBER

N = int(os.environ.get("GLIA_GRAD_PROGRAMS", "4"))
SEED = int(os.environ.get("GLIA_GRAD_SEED", "43715"))


class Gen:
    def __init__(self, rnd: random.Random, k: int):
        self.r, self.k = rnd, k

    def expr(self, depth=0, calls=True, effects=True) -> str:
        """A float expression (`calls`: it may call the helper; not inside a conditional expression,
        which compiled gradients do not take yet; `effects`: it may call the helpers that change the
        table or the dict they are passed)."""
        r = self.r
        if depth > 2 or r.random() < 0.3:
            return r.choice(["x", "a", "b", "x", f"{r.uniform(-2, 2):.3f}", "d[0][1]", "d[-1][0]", "p[-1]",
                             "q[1][0]", "q[-1][-1]", 'e["u"]', 'e.get("w", a)', "s.a.y", "s.b.x"])
        e1, e2 = self.expr(depth + 1, calls, effects), self.expr(depth + 1, calls, effects)
        options = [
            f"({e1} + {e2})", f"({e1} - {e2})", f"({e1} * {e2})", f"({e1} / (1.5 + {e2} * {e2}))",
            f"sin({e1})", f"cos({e1})", f"tanh({e1})", f"exp(tanh({e1}))", f"sqrt(1.0 + {e1} * {e1})",
            f"abs({e1})", f"relu({e1})", f"log(1.0 + {e1} * {e1})", f"(-{e1})",
            f"({self.expr(depth + 1, False)} if {self.expr(depth + 1, False)} > 0.1 else {self.expr(depth + 1, False)})",
        ]
        lists = ["m[-1]", "m[0]", "sum(m)"] + ([f"w(m, {r.randint(0, 3)})", f"sum(r({e1}, 2))",
                                                  f"r({e1}, {r.randint(1, 3)})[1]"] if calls else [])
        return r.choice(options + lists + ([f"h({e1}, 2)", f"c(d, {e1})", f"sl(s, {e1})"] if calls else [])
                        + ([f"tq(q, {e1})", f"ev(e, {e1})"] if calls and effects else []))

    def cond(self) -> str:
        """A condition's float expression: its calls change nothing the gradient reaches (compiled
        gradients follow calls in assignments, appends and returns, not in conditions: one changing a
        list, table or dict the gradient reaches there runs in the interpreter, noted)."""
        return self.expr(effects=False)

    def block(self, indent: int, depth: int, in_loop: bool) -> list[str]:
        r, pad, out = self.r, "    " * indent, []
        for _ in range(r.randint(1, 3)):
            c = r.random()
            if (c < 0.45 or depth > 1) and r.random() < 0.15:  # a call returning a tuple
                out.append(f"{pad}a, b = t({self.expr()}, {r.randint(0, 2)})")
            elif (c < 0.45 or depth > 1) and r.random() < 0.1:  # a call passing a tuple
                out.append(f"{pad}{r.choice(['a', 'b'])} = u(({r.choice(['a', 'b', 'x'])}, {self.expr()}), "
                           f"{r.randint(0, 2)})")
            elif (c < 0.45 or depth > 1) and r.random() < 0.15:  # a conditional expression that calls
                out.append(f"{pad}{r.choice(['a', 'b'])} = h({self.expr()}, 1) if {self.cond()} > "
                           f"{r.uniform(-1, 1):.2f} else {self.expr()}")
            elif (c < 0.45 or depth > 1) and r.random() < 0.2:  # memory: a list of floats grows
                out.append(f"{pad}m.append({self.expr()})")
            elif (c < 0.45 or depth > 1) and r.random() < 0.2:  # ... in a function it is passed to
                out.append(f"{pad}grow(m, {self.expr()})")
            elif (c < 0.45 or depth > 1) and r.random() < 0.2:  # ... made again (in a loop: another each time)
                out.append(f"{pad}m = [{self.expr()}, {self.expr(1, False)}]")
            elif (c < 0.45 or depth > 1) and r.random() < 0.15:  # ... given another name (a move: m made again)
                out.append(f"{pad}p = m")
                out.append(f"{pad}m = [x * {r.uniform(-1, 1):.2f}, p[0] * {r.uniform(-1, 1):.2f} + a]")
            elif (c < 0.45 or depth > 1) and r.random() < 0.15:  # a table: an element replaced
                out.append(f"{pad}q[{r.randint(-2, 1)}][{r.randint(0, 1)}] = {self.expr()}")
            elif (c < 0.45 or depth > 1) and r.random() < 0.1:  # ... a row appended, or appended to
                out.append(f"{pad}q.append([{self.expr()}, {self.expr(1, False)}])" if r.random() < 0.5 else
                           f"{pad}q[{r.randint(0, 1)}].append({self.expr()})")
            elif (c < 0.45 or depth > 1) and r.random() < 0.1:  # ... its rows read by a loop
                out.append(f"{pad}for row in q:")
                out.append(f"{pad}    {r.choice(['a', 'b'])} = {self.expr(1, False)} + row[0] * row[-1]")
            elif (c < 0.45 or depth > 1) and r.random() < 0.15:  # a dict of floats: a key replaced or added
                key = r.choice(['"u"', '"v"', '"w"'])
                out.append(f"{pad}e[{key}] = {self.expr()}")
            elif (c < 0.45 or depth > 1) and r.random() < 0.1:  # ... in a function it is passed to
                key = r.choice(['"v"', '"w"'])
                out.append(f"{pad}setk(e, {key}, {self.expr()})")
            elif (c < 0.45 or depth > 1) and r.random() < 0.1:  # ... its keys looped over
                out.append(f"{pad}for k in e:")
                out.append(f"{pad}    {r.choice(['a', 'b'])} = {self.expr(1, False)} + e[k] * 0.5")
            elif (c < 0.45 or depth > 1) and r.random() < 0.15:  # a record of records: a field replaced
                out.append(f"{pad}s.a.x = {self.expr()}" if r.random() < 0.5 else
                           f"{pad}s.b = Pt({self.expr()}, s.a.y)")
            elif (c < 0.45 or depth > 1) and r.random() < 0.1:  # two lists swap names
                out.append(f"{pad}m, p = p, m")
            elif (c < 0.45 or depth > 1) and r.random() < 0.2:  # a comprehension over it, after a call
                out.append(f"{pad}{r.choice(['a', 'b'])} = h({self.expr()}, 1) + sum([v * {self.expr(1, False)} "
                           f"for v in m if v > {r.uniform(-1, 1):.2f}])")
            elif c < 0.45 or depth > 1:
                out.append(f"{pad}{r.choice(['a', 'b'])} = {self.expr()}")
            elif c < 0.6:
                out.append(f"{pad}if {self.cond()} > {r.uniform(-1, 1):.2f}:")
                out += self.block(indent + 1, depth + 1, in_loop)
                out.append(f"{pad}else:")
                out += self.block(indent + 1, depth + 1, in_loop)
            elif c < 0.75:
                out.append(f"{pad}for i{depth} in range({r.randint(0, 4)}):")
                out += self.block(indent + 1, depth + 1, True)
            elif c < 0.85:
                out.append(f"{pad}n{depth} = 0")
                out.append(f"{pad}while n{depth} < {r.randint(1, 4)} and {self.cond()} < {r.uniform(0, 3):.2f}:")
                out.append(f"{pad}    n{depth} = n{depth} + 1")
                out += self.block(indent + 1, depth + 1, True)
            elif c < 0.9:  # `while True:` left by a `break` in an if/else
                out.append(f"{pad}n{depth} = 0")
                out.append(f"{pad}while True:")
                out.append(f"{pad}    n{depth} = n{depth} + 1")
                out.append(f"{pad}    if n{depth} > {r.randint(1, 3)} or {self.cond()} > {r.uniform(0, 3):.2f}:")
                out.append(f"{pad}        break")
                out.append(f"{pad}    else:")
                out += self.block(indent + 2, depth + 1, True)
                out += self.block(indent + 1, depth + 1, True)
            elif in_loop and c < 0.95:
                out.append(f"{pad}if {self.cond()} > 0.3:")
                out.append(f"{pad}    {r.choice(['break', 'continue'])}")
            else:
                out.append(f"{pad}if {self.cond()} > 0.5:")
                out.append(f"{pad}    return {self.expr()}")
        return out

    def function(self) -> str:
        body = [f"def g{self.k}(x: float, d: list[(float, float)]) -> float:", "    m = [x * 0.3]", "    p = [0.5, x]",
                "    q = [[x, 0.5], [1.0, x * x]]", '    e = {"u": x, "v": 0.5}',
                "    s = Seg(Pt(x, 0.25), Pt(1.0 - x, x * x))",
                "    a = x * 0.5", "    b = 1.0 - x"]
        body += self.block(1, 0, False)
        body.append(f"    return {self.expr()} + a * b")
        return "\n".join(body) + "\n"


# the helpers every generated function may call (once per program: each is compiled once)
HELPERS = "\n".join([
    "def h(y: float, n: int) -> float:", "    if n == 0:", "        return sin(y) * 0.5",
    "    return h(y * 0.9, n - 1) * y + 0.25", "",
    "def t(y: float, n: int) -> (float, float):", "    if n == 0:", "        return (y * y, cos(y))",
    "    p, q = t(y * 0.8 + 0.1, n - 1)", "    return (p + y, q * y)", "",
    "def u(p: (float, float), n: int) -> float:", "    if n <= 0:", "        return p[0] * p[1]",
    "    return u((p[1] * 0.7, sin(p[0])), n - 1) + p[0]", "",
    "def w(vs: list[float], n: int) -> float:", "    if n <= 0 or n > len(vs):",
    "        return vs[0] * 0.5", "    return vs[n - 1] * 0.6 + w(vs, n - 1)", "",
    "def r(y: float, n: int) -> list[float]:", "    vs = [y * 0.5]", "    for i in range(n):",
    "        vs.append(vs[-1] * y + 0.1)", "    return vs", "",
    "def c(d: list[(float, float)], y: float) -> float:", "    s = y", "    for p in d:",
    "        s = s * p[0] + p[1]", "    return s", "",
    "def grow(vs: list[float], y: float):", "    if y > 2.0:", "        return", "    vs.append(y * vs[-1])", "",
    "def tq(t: list[list[float]], y: float) -> float:", "    t[0][1] = t[0][0] * y + t[-1][1] * 0.5",
    "    return t[0][1] + t[len(t) - 1][0]", "",
    "def ev(env: dict[str, float], y: float) -> float:", "    if y > 1.0:", '        env["u"] = env["u"] * 0.5 + y',
    '    return env["u"] * y + env.get("w", 0.25)', "",
    "def setk(env: dict[str, float], k: str, y: float):", "    env[k] = y * env.get(k, 1.0)", "",
    "struct Pt:", "    x: float", "    y: float", "",
    "struct Seg:", "    a: Pt", "    b: Pt", "",
    "def sl(g: Seg, y: float) -> float:", "    return (g.b.x - g.a.x) * y + g.a.y * g.b.y", ""]) + "\n"


def program(seed: int, n: int) -> str:
    rnd = random.Random(seed)
    parts = [HELPERS] + [Gen(rnd, k).function() for k in range(n)]
    main = ["def main():", "    d = [(0.5, -0.25), (1.5, 0.75)]"] + [
        f"    print(value_and_grad(g{k})({x}, d))" for k in range(n) for x in (-0.7, 0.4, 1.3)]
    return "\n".join(parts) + "\n" + "\n".join(main) + "\n"


# what each construct the module docstring names looks like in a program (the default seed draws all)
CONSTRUCTS = ["a, b = t(", " = u((", " = h(", "m.append(", "grow(m, ", "m = [", "p = m", "q[", "q.append(",
              "for row in q:", "m, p = p, m", "for v in m if", "if ", "while n", "while True:", "break",
              "return ", "w(m, ", "sum(r(", "c(d, ", "tq(q, ", "ev(e, ", "e.get(", "setk(e, ", "for k in e:",
              "s.a.x = ", "s.b = Pt(", "s.a.y", "sl(s, "]


def test_the_default_seed_draws_every_construct():
    text = program(43715, 4)
    drawn = text.split("def g0")[1].split("def main")[0]
    assert [c for c in CONSTRUCTS if c not in drawn] == []


def test_random_gradients_match_the_interpreter():
    assert_agrees(program(SEED, N), "random.glia")


def assert_agrees(text: str, name: str):
    """The program `text` compiles whole and prints what the interpreter prints, numbers equal to
    rounding."""
    prog = check_source(Source(name, text))
    ref = run(prog, [], "interp")
    got = run(prog, [], "cpu")
    assert got[2] == [], got[2]  # compiled whole
    assert got[1] == ref[1]
    a, b = got[0], ref[0]
    assert NUMBER.sub("#", a) == NUMBER.sub("#", b)
    for u, v in zip(NUMBER.findall(a), NUMBER.findall(b)):
        x, y = float(u), float(v)
        assert u == v or abs(x - y) <= 1e-9 * max(abs(x), abs(y)) + 1e-12, (u, v)
