"""Small leftovers found by the bug hunters (2026-12-06): each test runs a program on both backends
(the interpreter is the definition) and wants the same output and error."""
import pytest

from glia.compiler.diagnostics import GliaError, Source
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


def test_len_index_and_in_of_a_range_do_not_build_its_list():
    """`len(range(0, 9223372036854775807, 2))` was E506 "too large to build as a list" though its length
    fits in an int; so were `x in range(...)` and `range(...)[i]` of a large range."""
    out, err = both("def main():\n    big = 9223372036854775807\n"
                    "    print(len(range(0, big, 2)), len(range(5)), len(range(10, 0, -3)), len(range(3, 3)))\n"
                    "    print(range(0, big, 2)[-1], range(10)[3], range(10, 0, -3)[-1], range(-big - 1, big)[5])\n"
                    "    print(7 in range(1, 10, 2), 8 in range(1, 10, 2), 4 not in range(10, 0, -3), "
                    "big - 1 in range(0, big, 2))\n"
                    "    print(-big - 1 in range(-big - 1, big, big), range(-big - 1, big)[-1], 0 in range(5, 0))\n"
                    "    print(len(range(-big - 1, big)))\n")
    big = 2 ** 63 - 1
    want = [[len(range(0, big, 2)), 5, 4, 0], [range(0, big, 2)[-1], 3, 1, range(-big - 1, big)[5]],
            [True, False, False, True], [True, big - 1, False]]
    assert out == "".join(" ".join(map(str, line)) + "\n" for line in want)
    assert err == ("E504", f"len() of a range of {2 ** 64 - 1} elements does not fit in an int", 7, 11)


def test_an_index_or_a_zero_step_of_a_range_read_in_place_is_an_error():
    assert both("def main():\n    print(range(3)[-4])\n")[1] == \
        ("E501", "index -4 out of range for a range of length 3", 2, 11)
    assert both("def main():\n    n = 0\n    print(5 in range(1, 9, n))\n")[1] == \
        ("E506", "range() step cannot be zero", 3, 11)


def test_print_of_a_gradient_names_it():
    """`print(grad(f))` showed `<function f>`, as if it were f."""
    program = check_source(Source("t.glia", "def f(x: float) -> float:\n    return x * x\n\ndef main():\n"
                                            "    print(grad(f), value_and_grad(f), f, str(grad(f)))\n"))
    want = "<function grad(f)> <function value_and_grad(f)> <function f> <function grad(f)>\n"
    for backend in ("interp", "cpu"):
        assert run(program, [], backend)[:2] == (want, None)


def test_binary_cross_entropy_of_a_prediction_outside_0_1_is_an_error():
    """It was clipped to [1e-12, 1 - 1e-7] silently (PyTorch: "all elements of input should be between 0 and 1")."""
    out, err = both("def main():\n    p = ones(3) * 0.5\n    t = ones(3)\n    print(binary_cross_entropy(p, t))\n"
                    "    p[1] = 1.5\n    p[2] = -0.25\n    print(binary_cross_entropy(p, t))\n")
    assert out == "0.6931472\n"
    assert err == ("E506", "binary_cross_entropy takes probabilities in [0, 1], found a prediction of 1.5 "
                   "(end the model with sigmoid)", 7, 11)


def test_cross_entropy_of_scores_not_probabilities_is_an_error():
    """cross_entropy takes probabilities (PyTorch's takes logits): raw scores trained silently to a
    meaningless loss. Every value must be in [0, 1], not only the label's, for either kind of target."""
    out, err = both("def main():\n    p = softmax(arange(3) * 1.0)\n    print(round(cross_entropy(p, 2), 4))\n"
                    "    z = arange(3) * 1.0 - 0.5\n    print(round(cross_entropy(z, ones(3) / 3.0), 4))\n")
    assert out == "0.4076\n"
    assert err == ("E506", "cross_entropy takes probabilities in [0, 1], found a prediction of -0.5 (end the model "
                   "with softmax; for raw scores, write nll(log_softmax(z), y))", 5, 17)
    assert both("def main():\n    z = arange(3) * 0.6\n    print(cross_entropy(z, 1))\n")[1][:2] == \
        ("E506", "cross_entropy takes probabilities in [0, 1], found a prediction of 1.2 (end the model with "
                 "softmax; for raw scores, write nll(log_softmax(z), y))")


def test_sum_of_a_tensor_with_a_start_is_refused_not_dropped():
    """`sum(ones(3), 0.5)` was 3.0: the start was dropped without a word."""
    with pytest.raises(GliaError) as e:
        check_source(Source("t.glia", "def main():\n    t = ones(3)\n    print(sum(t, 0.5))\n"))
    d = e.value.diagnostic
    assert (d.code, d.message, d.span.line, d.span.col) == (
        "E202", "sum(t, start) does not take a start with a tensor; add it: sum(t) + start", 3, 18)
