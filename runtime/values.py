"""Run-time representations of Glia values shared by the interpreter and the Python boundary.

int -> Python int (kept within 64 bits by the kernels), float -> float, f32 -> numpy.float32,
bool -> bool, str -> str, None -> None, list -> list, dict -> dict, tuple -> tuple,
set -> GSet (insertion-ordered), struct -> a subclass of Struct (a tuple with field names),
tensor -> numpy.ndarray, function -> a Python callable.
"""
from __future__ import annotations

import numpy as np

# The most elements a list or string may be built with by `*`, `range` or `extend` (E506 past it): a
# guard against accidental giant allocations ("a" * 10**12), the same on every backend.
MAX_ELEMENTS = 2 ** 31

# The scalar element types whose lists compiled code stores as arrays (runtime/nblist.py's ArrayList):
# the interpreter's type name -> NumPy dtype. This table is the one place that decides which lists
# are ArrayLists (the lowering and the boxing both ask it); it lives here, free of Numba, so the
# lowering can read it without loading Numba's extension machinery.
ARRAY_ELEMS = {"int": np.int64, "float": np.float64, "f32": np.float32, "bool": np.bool_}


def array_elem(spec):
    """The element of an ArrayList whose elements have the type spec `spec` (see runtime/nbbox.py):
    a scalar's name ('int') for a scalar, the tuple of its fields' names (('float', 'int')) for a
    non-empty tuple of scalars, None for anything else (whose lists are typed Lists)."""
    if len(spec) == 1 and spec[0] in ARRAY_ELEMS:
        return spec[0]
    if spec[0] == "tuple" and spec[1] and all(len(s) == 1 and s[0] in ARRAY_ELEMS for s in spec[1]):
        return tuple(s[0] for s in spec[1])
    return None


def array_dtype(elem) -> np.dtype:
    """The NumPy dtype of an ArrayList's storage for `elem` (a result of array_elem): the scalar's, or,
    for a tuple, a record with one aligned field per tuple item (`f0`, `f1`, ...), so the list is one
    contiguous array of records and an element access is a load per field."""
    if isinstance(elem, str):
        return np.dtype(ARRAY_ELEMS[elem])
    return np.dtype([(f"f{i}", ARRAY_ELEMS[name]) for i, name in enumerate(elem)], align=True)


class GSet(dict):
    """A set that iterates in insertion order (a dict whose values are all None)."""

    __slots__ = ()

    def __init__(self, items=()):
        super().__init__()
        for x in items:
            self[x] = None

    def add(self, x):
        self[x] = None

    def __repr__(self):
        from .fmt import to_repr

        return to_repr(self)


class Struct(tuple):
    """Base of the record classes made for each `struct` of a program."""

    __slots__ = ()
    _name = "Struct"
    _fields: tuple[str, ...] = ()

    def __repr__(self):
        from .fmt import to_repr

        return to_repr(self)


def make_struct_class(name: str, fields: tuple[str, ...]) -> type:
    """A record class for `struct name` (no user text is executed: names are data)."""
    cls = type(name, (Struct,), {"__slots__": (), "_name": name, "_fields": tuple(fields)})
    return cls


def new_struct(cls: type, values) -> Struct:
    return tuple.__new__(cls, values)


def struct_replace(obj: Struct, index: int, value):
    vals = list(obj)
    vals[index] = value
    return tuple.__new__(type(obj), vals)


F32 = np.float32
