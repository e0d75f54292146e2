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
