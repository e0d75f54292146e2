"""Formatting of Glia values for `print` and `str()`: Python's conventions, exactly."""
from __future__ import annotations

import numpy as np

from .values import GSet, Struct


def to_str(v) -> str:
    if isinstance(v, str):
        return v
    return to_repr(v)


def to_repr(v, _inside: set | None = None) -> str:
    """repr() as Python writes it. `_inside`: the lists and dicts being written around `v` (by id): one
    met again inside itself, possible only through a struct that holds itself (`t.kids.append(t)`), is
    `[...]` or `{...}`, as Python writes it."""
    t = type(v)
    if t is list or t is dict:
        inside = set() if _inside is None else _inside
        if id(v) in inside:
            return "[...]" if t is list else "{...}"
        inside.add(id(v))
        try:
            if t is list:
                return "[" + ", ".join([to_repr(x, inside) for x in v]) + "]"
            return "{" + ", ".join([f"{to_repr(k, inside)}: {to_repr(x, inside)}" for k, x in v.items()]) + "}"
        finally:
            inside.discard(id(v))
    return _repr(v, _inside)


def _repr(v, inside) -> str:
    t = type(v)
    if t is bool or t is int or t is str:
        return repr(v)
    if t is float:
        return repr(v)
    if v is None:
        return "None"
    if t is GSet:
        return "{" + ", ".join([to_repr(x) for x in v]) + "}" if v else "set()"
    if isinstance(v, Struct):
        return f"{v._name}(" + ", ".join(f"{n}={to_repr(x, inside)}" for n, x in zip(v._fields, v)) + ")"
    if t is tuple:
        if len(v) == 1:
            return "(" + to_repr(v[0], inside) + ",)"
        return "(" + ", ".join([to_repr(x, inside) for x in v]) + ")"
    if t is np.float32:
        return format_f32(v)
    if t is np.bool_:
        return "True" if v else "False"
    if isinstance(v, np.ndarray):
        return format_tensor(v)
    if callable(v):
        return f"<function {getattr(v, '__glia_shown__', None) or getattr(v, '__glia_name__', 'lambda')}>"
    return repr(v)


def format_f32(x) -> str:
    """Shortest digits that round-trip in single precision, in Python's float style: those digits
    (NumPy's) read as a float and written by repr, so that the choice between `0.0001` and `1e-05`
    is made on the digits, as Python makes it, not on the f32's exact value (f32(0.0001) is just
    below 1e-4)."""
    f = float(x)
    if f != f or f in (float("inf"), float("-inf")) or f == 0:
        return repr(f)
    return repr(float(np.format_float_scientific(x, unique=True)))


def format_tensor(a: np.ndarray) -> str:
    if a.ndim == 0:
        return format_f32(a) if a.dtype == np.float32 else repr(float(a))
    f = format_f32 if a.dtype == np.float32 else (lambda x: repr(float(x)))
    def rec(x):
        if x.ndim == 1:
            return "[" + ", ".join(f(e) for e in x) + "]"
        return "[" + ", ".join(rec(e) for e in x) + "]"
    return "tensor(" + rec(a) + ")"
