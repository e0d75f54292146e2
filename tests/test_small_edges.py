"""Small leftovers found by the bug hunters (2026-12-06): each test runs a program on both backends
(the interpreter is the definition) and wants the same output and error."""
from glia.compiler.diagnostics import Source
from glia.compiler.driver import check_source
from test_backend_cpu import run
from test_backend_cpu_edges import both


def test_sum_of_ints_with_a_float_start_is_a_float():
    """`sum(range(100), 0.5)` was E201 "expected int, found float"; Python adds the ints to the float
    start left to right, each converted on the way (9007199254740993 rounds to 2**53)."""
    out, err = both("def main():\n    xs = [1, 2, 3]\n"
                    "    print(sum(range(100), 0.5), sum(xs, 0.0), sum(xs, f32(0.25)), sum([], 0.5))\n"
                    "    print(sum([9007199254740993, 1], 0.0), sum([2, 3], -0.0))\n")
    assert err is None
    assert out == "4950.5 6.0 6.25 0.5\n9007199254740992.0 5.0\n"
    grad_of_start = ("def g(w: float) -> float:\n    return sum([1, 2, 3], w) * w\n\n"
                     "def main():\n    print(value_and_grad(g)(2.0))\n")
    assert run(check_source(Source("t.glia", grad_of_start)), [], "interp")[:2] == ("(16.0, 10.0)\n", None)
