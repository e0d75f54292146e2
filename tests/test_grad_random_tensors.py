"""Random differentiable programs over tensors: compiled gradients (the CPU backend) against the
interpreter's tape.

From fixed seeds, functions of an f64[4] vector `x` (and a constant f64[4, 4] matrix `w`) returning a
float are generated: vector locals `h` and `k` and float locals `a` and `b` assigned elementwise
arithmetic, the elementary functions, activations, `softmax`/`log_softmax`, `w @ h`, `transpose(w) @
h`, `dense` and `layer_norm` layers (their parameters are not what the gradient is taken of), a dot
product `h @ k`, reductions (`sum`, `mean`, `max`), elements `h[i]`, `concat` of slices
and a `reshape`; a list of vectors `hs` appended to, indexed, summed by a helper, looped over, and
appended to in a function it is passed to; a dict of vectors `m` read (`m["p"]`, `m.get`), looped
over, changed (`m["q"] = ...`) and changed by a function it is passed to; calls of helpers (a cell,
a recursive one, one returning a tuple of a vector and a float, one applying a function value twice:
a lambda capturing the locals, or a function's name); `if`/`else` on a float, `for` and data-dependent `while` loops
with `break`, `continue` and early `return`. They are put into ONE program (one compile) whose
`main` prints the value and the gradient of each at two points. Both backends must print the same
text, every number equal to rounding (docs/backends.md, "Gradients").

GLIA_GRAD_TENSOR_PROGRAMS (default 6) sets how many functions, GLIA_GRAD_TENSOR_SEED (default 328: it
draws every construct above, test_the_default_seed_draws_every_construct) which.
"""
from __future__ import annotations

import os
import random

from test_grad_random import assert_agrees

N = int(os.environ.get("GLIA_GRAD_TENSOR_PROGRAMS", "6"))
SEED = int(os.environ.get("GLIA_GRAD_TENSOR_SEED", "328"))

HELPERS = """
def cellf(h: f64[4], w: f64[4, 4]) -> f64[4]:
    return tanh(w @ h) * 0.5 + h * 0.5

def deep(h: f64[4], w: f64[4, 4], n: int) -> float:
    if n == 0:
        return sum(h * h) * 0.5
    return deep(cellf(h, w), w, n - 1) + sum(h) * 0.1

def pool(hs: list[f64[4]]) -> f64[4]:
    s = hs[0] * 0.5
    for v in hs:
        s = s + v * 0.25
    return s

def grow(hs: list[f64[4]], h: f64[4]):
    hs.append(sigmoid(h))

def split(h: f64[4]) -> (f64[4], float):
    return (h * 0.9, sum(h) * 0.3)

def stash(m: dict[str, f64[4]], key: str, h: f64[4]):
    m[key] = m.get(key, h) * 0.5 + h

def twice(f: fn(f64[4]) -> f64[4], h: f64[4]) -> f64[4]:
    return f(f(h))

def squash(u: f64[4]) -> f64[4]:
    return sigmoid(u) * 0.8
"""


class Gen:
    def __init__(self, rnd: random.Random, k: int):
        self.r, self.k = rnd, k

    def vec(self, depth=0) -> str:
        """An f64[4] expression."""
        r = self.r
        if depth > 2 or r.random() < 0.3:
            return r.choice(["x", "h", "k", "hs[-1]", "hs[0]", "(x * a)", "(h * b)"])
        v1, v2, s = self.vec(depth + 1), self.vec(depth + 1), self.num(depth + 1)
        return r.choice([
            f"({v1} + {v2})", f"({v1} - {v2})", f"({v1} * {v2})", f"({v1} / (1.5 + {v2} * {v2}))",
            f"({v1} * {s})", f"({v1} + {s})", f"tanh({v1})", f"sigmoid({v1})", f"relu({v1})",
            f"exp(tanh({v1}))", f"sqrt(1.0 + {v1} * {v1})", f"log(1.0 + {v1} * {v1})", f"abs({v1})",
            f"sin({v1})", f"softmax({v1})", f"log_softmax({v1})", f"(-{v1})", f"(w @ {v1})",
            f"(transpose(w) @ {v1})", f"cellf({v1}, w)", "pool(hs)", f"concat({v1}[2:4], {v2}[0:2])",
            f"reshape(reshape({v1}, 2, 2) * 0.5, 4)", f"leaky_relu({v1})", f"gelu({v1})",
            f"tanh(dense({v1}, 4))", f"layer_norm({v1})", 'm["p"]', f'm.get("q", {v1})',
            f"twice(lambda u: tanh(u * {s}) + h * 0.1, {v1})", f"twice(squash, {v1})",
        ])

    def num(self, depth=0) -> str:
        """A float expression."""
        r = self.r
        if depth > 2 or r.random() < 0.3:
            return r.choice(["a", "b", f"{r.uniform(-2, 2):.3f}", "x[0]", "h[1]", "k[-1]"])
        v, s1, s2 = self.vec(depth + 1), self.num(depth + 1), self.num(depth + 1)
        return r.choice([
            f"sum({v})", f"mean({v})", f"max({v})", f"{v}[{r.randint(-4, 3)}]", f"({v} @ {self.vec(depth + 1)})",
            f"({s1} + {s2})", f"({s1} * {s2})", f"tanh({s1})", f"({s1} / (1.0 + {s2} * {s2}))",
            f"deep({v}, w, {r.randint(0, 2)})", f"sum(hs[{r.randint(-2, 0)}])",
        ])

    def block(self, indent: int, depth: int, in_loop: bool) -> list[str]:
        r, pad, out = self.r, "    " * indent, []
        for _ in range(r.randint(1, 3)):
            c = r.random()
            if c < 0.5 or depth > 1:
                out.append(r.choice([
                    f"{pad}h = {self.vec()}", f"{pad}k = {self.vec()}", f"{pad}a = {self.num()}",
                    f"{pad}b = {self.num()}", f"{pad}hs.append({self.vec()})", f"{pad}grow(hs, {self.vec()})",
                    f"{pad}k, b = split({self.vec()})", f"{pad}hs = [{self.vec()}, x]",
                    f'{pad}m["{r.choice("pq")}"] = {self.vec()}', f'{pad}stash(m, "{r.choice("pq")}", {self.vec()})',
                ]))
            elif c < 0.62:
                out.append(f"{pad}if {self.num()} > {r.uniform(-1, 1):.2f}:")
                out += self.block(indent + 1, depth + 1, in_loop)
                out.append(f"{pad}else:")
                out += self.block(indent + 1, depth + 1, in_loop)
            elif c < 0.72:
                out.append(f"{pad}for i{depth} in range({r.randint(0, 3)}):")
                out += self.block(indent + 1, depth + 1, True)
            elif c < 0.8:
                if r.random() < 0.7:
                    out.append(f"{pad}for v{depth} in hs:")
                    out.append(f"{pad}    {r.choice(['h', 'k'])} = {self.vec(1)} + v{depth} * {r.uniform(-1, 1):.2f}")
                else:
                    out.append(f"{pad}for s{depth} in m:")
                    out.append(f"{pad}    {r.choice(['h', 'k'])} = {self.vec(1)} + m[s{depth}] * {r.uniform(-1, 1):.2f}")
            elif c < 0.87:
                out.append(f"{pad}n{depth} = 0")
                out.append(f"{pad}while n{depth} < {r.randint(1, 3)} and {self.num()} < {r.uniform(0, 3):.2f}:")
                out.append(f"{pad}    n{depth} = n{depth} + 1")
                out += self.block(indent + 1, depth + 1, True)
            elif in_loop and c < 0.97:
                out.append(f"{pad}if {self.num()} > 0.3:")
                out.append(f"{pad}    {r.choice(['break', 'continue'])}")
            else:
                out.append(f"{pad}if {self.num()} > 0.5:")
                out.append(f"{pad}    return {self.num()}")
        return out

    def function(self) -> str:
        body = [f"def g{self.k}(x: f64[4], w: f64[4, 4]) -> float:", "    h = x * 0.5", "    k = tanh(x)",
                "    hs = [x]", "    a = sum(x) * 0.1", "    b = 0.5", '    m = {"p": x * 0.5}']
        body += self.block(1, 0, False)
        body.append(f"    return {self.num()} + a * b + sum(h * k)")
        return "\n".join(body) + "\n"


def program(seed: int, n: int) -> str:
    rnd = random.Random(seed)
    parts = [HELPERS] + [Gen(rnd, k).function() for k in range(n)]
    main = ["def main():", "    x = f64(arange(4)) * 0.3 - 0.4",
            "    w = f64(reshape(arange(16), 4, 4)) * 0.05 - 0.3"] + [
        f"    print(value_and_grad(g{k})({x}, w))" for k in range(n) for x in ("x", "x * -1.5 + 0.2")]
    return "\n".join(parts) + "\n" + "\n".join(main) + "\n"


# what each construct the module docstring names looks like in a program (the default seed draws all)
CONSTRUCTS = ["hs.append(", "grow(hs, ", "k, b = split(", "hs = [", "if ", "for i", "for v", "while n", "break",
              "continue", "return ", "(w @", "transpose(w) @", "cellf(", "pool(hs)", "deep(", "concat(", "reshape(",
              "dense(", "layer_norm(", "softmax(", "log_softmax(", "max(", "mean(", 'm["p"] = ', 'm["q"] = ',
              'stash(m, ', 'm.get("q", ', "for s", "twice(lambda", "twice(squash"]


def test_the_default_seed_draws_every_construct():
    drawn = program(328, 6).split("def g0")[1].split("def main")[0]
    assert [c for c in CONSTRUCTS if c not in drawn] == []


def test_random_tensor_gradients_match_the_interpreter():
    assert_agrees(program(SEED, N), "random_tensors.glia")
