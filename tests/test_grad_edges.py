"""Edge cases of `grad` and `value_and_grad` found by hunting for bugs: each program runs on the
reference interpreter (which defines the gradient) and compiled (compiler/lower_grad.py), and must
print the same thing there, compiled whole."""
from test_backend_cpu_grad import compiled


def test_infinite_derivatives_are_ieee_compiled():
    """The reverse sweep's divisions are IEEE 754, as the tape's are: sqrt's derivative at 0 is inf,
    a cotangent over a denominator whose square underflows is -inf. Compiled, each raised Python's
    ZeroDivisionError, an internal error, until the reverse sweeps took Numba's numpy error model."""
    got, ref = compiled("""
def root(x: float) -> float:
    return sqrt(x)

def root32(x: f32) -> f32:
    return sqrt(x)

def both(x: float) -> float:
    return abs(x) + sqrt(x * x)

def ratio(x: float) -> float:
    return x / x

def main():
    print(grad(root)(0.0), grad(root32)(f32(0.0)), grad(both)(0.0), grad(ratio)(1e-200))
""")
    assert got == ref == "inf inf nan -inf\n"


SEARCHED = """
def index(x: float) -> float:
    xs = [x, 2.0, x * 3.0]
    return x * float(xs.index(4.5) + xs.count(1.5))

def removed(x: float) -> float:
    xs = [x, 2.0]
    xs.remove(1.5)
    return xs[0] * x

def keyed(x: float) -> float:
    d = {x: 1.0}
    d[x * 1.0] = 5.0
    e = {1.5: 3.0}
    return d.get(1.5, 0.0) * x + e.get(x, 0.0) * x + float(len(d)) * x

def members(x: float) -> float:
    s = {x, 1.5}
    return x * float(len(s))

def missing(x: float) -> float:
    d = {x: 1.0}
    return d[x * 2.0]

def main():
    print(index(1.5), grad(index)(1.5))
    print(removed(1.5), grad(removed)(1.5))
    print(keyed(1.5), grad(keyed)(1.5))
    print(members(1.5), grad(members)(1.5))
    print(grad(missing)(1.5))
"""


def test_values_on_the_gradient_path_are_searched_and_keyed_by_value():
    """Under grad, the interpreter searched lists, dicts and sets for its tape's boxes by identity:
    `xs.index(4.5)` failed (E506 naming `Box(4.5)`), `xs.count(1.5)`, `{x: 1.0}.get(1.5, 0.0)` and
    `d.get(x, 0.0)` missed, `{x, 1.5}` had two elements, so grad(f) ran another program than f (a
    gradient of 0 or of twice the value). A box is its value for ==, hashing and printing."""
    from test_backend_cpu import run
    from glia.compiler.diagnostics import Source
    from glia.compiler.driver import check_source

    out, err, _ = run(check_source(Source("t.glia", SEARCHED)), [], "interp")
    assert out == "4.5 3.0\n3.0 2.0\n13.5 9.0\n1.5 1.0\n"
    assert err is not None and err[:2] == ("E502", "key 3.0 not found in the dict")


def test_grad_of_a_function_whose_parameters_name_dimensions():
    """grad(f) of `def f(x: f32[n], ...)` binds n at each call, as a call of f does: it was E301
    (`expected f32[n], found f32[4]`), the gradient's type keeping the name unbound."""
    got, ref = compiled("""
def f(x: f32[n], k: int) -> f32:
    return sum(x * x) * f32(k)

def g(x: f64[n, m], y: f64[m]) -> float:
    return sum(x @ y)

def main():
    print(grad(f)(ones(4), 2), grad(f)(ones(2), 3))
    print(value_and_grad(g)(ones(2, 3, dtype=f64), arange(3, dtype=f64)), grad(g)(ones(1, 2, dtype=f64), ones(2, dtype=f64)))
""")
    assert got == ref == ("tensor([4.0, 4.0, 4.0, 4.0]) tensor([6.0, 6.0])\n"
                          "(6.0, tensor([[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]])) tensor([[1.0, 1.0]])\n")


def test_grad_in_a_global_initializer():
    """`G = grad(f)(3.0)` at the top level: the tape's interpreter, made while the globals are being
    computed, computed them again, and again (E505, Python's stack exhausted, with no line)."""
    got, ref = compiled("""
def f(x: float) -> float:
    return x * x * K

K = 2.0
G = grad(f)(3.0)
H = value_and_grad(f)(G)

def main():
    print(G, H)
""")
    assert got == ref == "12.0 (288.0, 48.0)\n"


def test_a_nested_grad_is_refused_at_the_call_without_blaming_the_inner_function():
    """A gradient of a gradient (E701) is refused before the inner function runs: the diagnostic
    named it as where the error happened (`note: ...: in sq(), called from here`)."""
    import glia
    from glia.compiler.diagnostics import GliaError

    p = glia.compile("def sq(x: float) -> float:\n    return x * x * x\n\n"
                     "def outer(x: float) -> float:\n    return grad(sq)(x) + 1.0\n\n"
                     "def main():\n    print(grad(outer)(1.0))\n", "nested.glia")
    try:
        p.run()
        raise AssertionError("no error")
    except GliaError as e:
        d = e.diagnostic
        assert (d.code, d.span.line, d.span.col) == ("E701", 5, 12)
        assert not any("sq()" in n.message for n in d.notes), d.notes
        assert any(n.message == "in outer(), called from here" for n in d.notes), d.notes


def test_augmented_element_assignment_compiles_in_a_gradient():
    """`xs[i] += v` on a local list of floats is `xs[i] = xs[i] + v`: it copied `xs` into a temporary
    first, a second name for the list, so the gradient ran in the interpreter with a note naming the
    temporary (`its list '$t4' is given the list 'xs' ... write `$t4 = xs.copy()``)."""
    got, ref = compiled("""
def aug(x: float) -> float:
    xs = [1.0, 2.0, 3.0]
    for i in range(3):
        xs[i] += x * float(i)
        xs[i] *= xs[i]
    return xs[0] - xs[1] * x + xs[2]

def main():
    d = {"a": 1}
    d["a"] += 5
    ks = [1, 2, 3]
    ks[-1] //= 2
    print(d, ks, grad(aug)(0.5), value_and_grad(aug)(1.5))
""")
    assert got == ref == "{'a': 6} [1, 2, 1] 7.25 (18.625, 1.25)\n"


def test_a_nan_on_the_gradient_path_is_found_nowhere():
    """A NaN equals nothing, itself included, inside a list as outside: `[y].count(y)` is 0. Under grad
    the searched value was the tape's box, found as itself (1)."""
    from test_backend_cpu import run
    from glia.compiler.diagnostics import Source
    from glia.compiler.driver import check_source

    text = ("def f(x: float) -> float:\n    y = x * nan\n    xs = [y, 1.0]\n    print(xs.count(y), y in xs)\n"
            "    return x\n\ndef main():\n    print(f(1.0))\n    print(grad(f)(1.0))\n")
    out, err, _ = run(check_source(Source("t.glia", text)), [], "interp")
    assert (out, err) == ("0 False\n1.0\n0 False\n1.0\n", None)


def test_a_long_sum_compiles_with_one_test_of_its_cotangent():
    """The reverse sweep of a sum of many terms added each term's cotangent with a test of its own,
    `b0 = (b0 + t) if k0 else t`: a branch per term, which Numba's SSA pass is quadratic in (with
    b0 defined again per term, cubic), and each walk of the n-deep expression cost n^2 (nested
    generators): a 300-term sum took a minute to compile. Once the cotangent is surely live in the
    block, the terms are added without the test, many to a line, in the same order."""
    from glia.compiler.backend_cpu import lower_program
    from glia.compiler.diagnostics import Source
    from glia.compiler.driver import check_source

    terms = " + ".join(["x * x"] * 150)
    text = (f"def f(x: float) -> float:\n    return {terms}\n\n"
            "def g(x: float) -> float:\n    s = 0.0\n    y = x\n    for i in range(3):\n"
            "        s = s + y * x + y * y\n        y = y * x + x\n    return s + x * x + x\n\n"
            "def main():\n    print(grad(f)(3.0), grad(f)(-0.0), grad(g)(0.5), value_and_grad(g)(-1.5))\n")
    got, ref = compiled(text)
    assert got == ref == "900.0 -0.0 15.8125 (15.515625, -41.9375)\n"
    src = lower_program(check_source(Source("t.glia", text))).source
    bwd = src[src.index("def ad_bwd"):]
    bwd = bwd[:bwd.index("\n@")]
    assert bwd.count(" if k0 else ") == 1, bwd
    assert bwd.count("b0 = ") < 20, bwd  # (one per term: 300)


NAN_SELECTED = """
def full(x: f64[3]) -> float:
    return max(x) + 2.0 * min(x)

def rows(x: f64[2, 3]) -> float:
    return sum(max(x, axis=1)) + 2.0 * sum(min(x, axis=0))

def main():
    a = arange(3, dtype=f64)
    print(grad(full)(where(a == 1.0, a * nan, a)), grad(full)(a * nan))
    m = reshape(arange(6, dtype=f64), 2, 3)
    print(grad(rows)(where(m == 4.0, m * nan, m)))
"""


def test_max_and_min_of_a_tensor_holding_nan_give_the_cotangent_to_the_nan():
    """max/min of a tensor holding a NaN is NaN (numpy's), and its cotangent goes to the first NaN, as
    max_pool's does and as PyTorch's (which shares it among the NaNs). The rules looked for an element
    equal to the result, which a NaN is not: the whole tensor's gave it to element 0, a reduction along
    an axis to no element (the gradient lost); both backends and the training traces alike."""
    import numpy as np
    from glia.compiler.vjp_rules import vjp_reduce
    from glia.runtime import trace_kernels as K

    got, ref = compiled(NAN_SELECTED)
    assert got == ref == ("tensor([0.0, 3.0, 0.0]) tensor([3.0, 0.0, 0.0])\n"
                          "tensor([[2.0, 0.0, 3.0], [0.0, 3.0, 0.0]])\n")
    t = np.array([[1.0, np.nan, 3.0, np.nan], [4.0, 2.0, 4.0, 0.0]])
    g = np.array([5.0, 7.0])
    for how, code in (("max", 2), ("min", 3)):
        out = K.reduce_rows(t, code)
        want = vjp_reduce(g, out, (t,), (how, 1))[0]
        assert want[0].tolist() == [0.0, 5.0, 0.0, 0.0]
        assert K.reduce_rows_back(g, t, out, code).tolist() == want.tolist()


def test_a_scalar_gradient_of_minus_zero_keeps_its_sign():
    """The tape's rules for a scalar operand summed its cotangent with numpy, whose sum of -0.0 is 0.0:
    grad of x * x at -0.0 was 0.0 in the interpreter, -0.0 compiled (and in PyTorch)."""
    got, ref = compiled("def f(x: float) -> float:\n    return x * x\n\ndef g(x: f32) -> f32:\n"
                        "    return x * x * f32(2.0) + x / f32(4.0)\n\ndef main():\n"
                        "    print(grad(f)(-0.0), grad(f)(0.0), grad(g)(f32(-0.0)), grad(g)(f32(1.0)))\n")
    assert got == ref == "-0.0 0.0 0.25 4.25\n"


def test_grad_kept_as_a_function_value_compiles():
    """`g = grad(f)` in a local, gradients in a list, a dict, a struct field, returned, chosen by a
    conditional expression, passed to a function and to map: each ran the whole function that made it
    in the interpreter, with a note ('function values made in code that runs in the interpreter'),
    until grad(f) kept as a value became the lambda that calls it (specialize._grad_lambda)."""
    got, ref = compiled("""
struct P:
    w: f64[2]
    b: float

struct Opt:
    step: fn(P, list[float]) -> P

def loss(p: P, xs: list[float]) -> float:
    t = 0.0
    for x in xs:
        d = sum(p.w) * x + p.b - 2.0 * x
        t = t + d * d
    return t

def loss2(p: P, xs: list[float]) -> float:
    return p.b * p.b + sum(p.w * p.w) * float(len(xs))

def descend(g: fn(P, list[float]) -> P, p: P, xs: list[float], n: int) -> P:
    for i in range(n):
        d = g(p, xs)
        p = P(p.w - d.w * 0.01, p.b - d.b * 0.01)
    return p

def pick(k: int) -> fn(P, list[float]) -> P:
    if k == 0:
        return grad(loss)
    return grad(loss2)

def main():
    xs = [1.0, 2.0, -0.5]
    p = P(ones(2, dtype=f64), 0.5)
    g = grad(loss)
    print(g(p, xs).w, descend(g, p, xs, 3).b)
    gs = [grad(loss), grad(loss2), pick(0), pick(1)]
    print(list(map(lambda q: q(p, xs).b, gs)), descend(gs[1], p, xs, 3).w)
    d: dict[str, fn(P, list[float]) -> P] = {"a": grad(loss2)}
    print(d["a"](p, xs).w, Opt(grad(loss)).step(p, xs).b)
    h = grad(loss) if len(xs) > 5 else grad(loss2)
    vg = value_and_grad(loss)
    v, dp = vg(p, xs)
    print(h(p, xs).b, v, dp.b)
""")
    assert got == ref
    assert got.splitlines()[0] == "tensor([2.5, 2.5]) 0.421967"
