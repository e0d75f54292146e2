"""Edge cases of tensors found by a bug hunt: the interpreter (the definition) against IEEE 754 and
PyTorch, and the compiled CPU backend against the interpreter."""
from __future__ import annotations

import contextlib
import io

import glia
from glia.compiler.diagnostics import Source
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
