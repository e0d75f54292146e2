"""Edge cases of tensors found by a bug hunt: the interpreter (the definition) against IEEE 754 and
PyTorch, and the compiled CPU backend against the interpreter."""
from __future__ import annotations

import contextlib
import io

import pytest

import glia
from glia.compiler.diagnostics import GliaError, Source
from glia.compiler.driver import check_source

from test_backend_cpu import run


def interp(src: str) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        glia.compile(src, "t.glia").run()
    return buf.getvalue()


POW = '''
def main():
    z = zeros(3)
    t = concat(z[0:1] * -1.0, -1.0 / z[0:1], arange(1) + 4.0)
    print(t ** 0.5, f64(t) ** 0.5, t ** (ones(3) * 0.5), t ** f32(0.5), reshape(t, 3, 1) ** (ones(2) * 0.5))
'''


def test_a_tensor_to_the_power_one_half_is_pow_not_sqrt():
    """`t ** 0.5` is IEEE's pow element by element, as compiled code and Python's floats compute it:
    -0.0 ** 0.5 is 0.0 and -inf ** 0.5 is inf. The interpreter gave -0.0 and nan (NumPy computes a
    power whose exponent is one number for every element as sqrt), so `t ** 0.5` and
    `t ** (ones(3) * 0.5)` differed."""
    assert interp(POW) == ("tensor([0.0, inf, 2.0]) tensor([0.0, inf, 2.0]) tensor([0.0, inf, 2.0]) "
                           "tensor([0.0, inf, 2.0]) tensor([[0.0, 0.0], [inf, inf], [2.0, 2.0]])\n")


def test_the_gradient_of_a_power_at_minus_zero_is_pow_not_sqrt():
    out = interp('''
def f(x: f64[2]) -> float:
    return sum(x ** 1.5)

def main():
    x = zeros(2, dtype=f64) * -1.0
    print(grad(f)(x))
''')
    assert out == "tensor([0.0, 0.0])\n"


def test_compiled_powers_print_the_interpreters_digits():
    program = check_source(Source("t.glia", POW))
    assert run(program, [], "cpu")[:2] == run(program, [], "interp")[:2]


ZEROS = '''
def main():
    nz = zeros(2) * -1.0
    a = concat(nz, zeros(2))
    b = concat(zeros(2), nz)
    print(min(a), max(b), min(f64(a)), max(f64(b)))
    print(max(stack(b, b), axis=1), max(transpose(stack(b, b)), axis=0), min(stack(a, a), axis=-1))
    print(max_pool(reshape(b, 1, 2, 2), 2), max_pool(reshape(b, 1, 4), 4))
    print(max(concat(arange(2), zeros(1) / 0.0, ones(1))), min(transpose(reshape(concat(arange(3), zeros(1) / 0.0), 2, 2)), axis=1))
'''


def test_max_and_min_of_signed_zeros_are_the_first_extreme():
    """max/min (whole, along an axis, max_pool) give the first extreme element, as Python's max and
    compiled code: NumPy's SIMD reductions gave min([-0.0, -0.0, 0.0, 0.0]) = 0.0 and
    max([0.0, 0.0, -0.0, -0.0]) = -0.0 in the interpreter, -0.0 and 0.0 compiled."""
    assert interp(ZEROS).splitlines() == [
        "-0.0 0.0 -0.0 0.0",
        "tensor([0.0, 0.0]) tensor([0.0, 0.0]) tensor([-0.0, -0.0])",
        "tensor([[[0.0]]]) tensor([[0.0]])",
        "nan tensor([0.0, nan])",
    ]


def test_compiled_signed_zero_extremes_print_the_interpreters_digits():
    program = check_source(Source("t.glia", ZEROS))
    assert run(program, [], "cpu")[:2] == run(program, [], "interp")[:2]


def test_where_has_the_broadcast_shape_of_its_three_operands():
    """where(c, a, b) broadcasts c, a and b together: its type was c's, so where(f32[3], f32[2, 3], ...)
    was typed f32[3] while its value had two rows (`w[2]` passed the checker and failed with E501)."""
    assert interp('''
def main():
    w = where(arange(3) > 1.0, reshape(arange(6), 2, 3), 0.0)
    print(w, len(w), w[1], where(ones(2, 1) > 0.0, arange(3), 5.0))
''') == ("tensor([[0.0, 0.0, 2.0], [0.0, 0.0, 5.0]]) 2 tensor([0.0, 0.0, 5.0]) "
         "tensor([[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]])\n")
    with pytest.raises(GliaError) as e:
        interp("def main():\n    print(where(arange(3) > 1.0, arange(3, dtype=f64), 0.0))\n")
    assert e.value.diagnostic.code == "E203" and "where mixes f32[3] and f64[3]" in e.value.diagnostic.message


@pytest.mark.parametrize("call", ["xs.count(ones(2))", "xs.index(t)", "xs.remove(t)", "ps.count((1, t))"])
def test_searching_a_list_of_tensors_is_refused_as_in_is(call):
    """list.count/index/remove compare with `==`, which tensors lack: the interpreter said E506 "not in
    the list" (for count too) and compiled code failed in Numba's typing, with a note."""
    src = ("def main():\n    t = zeros(2)\n    xs = [ones(2), t]\n    ps = [(1, t)]\n"
           f"    print({call})\n")
    with pytest.raises(GliaError) as e:
        check_source(Source("t.glia", src))
    d = e.value.diagnostic
    assert d.code == "E203" and "compares elements with '=='" in d.message and d.span.line == 5
