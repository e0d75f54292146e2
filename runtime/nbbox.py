"""The Python side of compiled code: converting values between the interpreter's representation and
Numba's (typed List/Dict, tuples), and printing, for the CPU backend at the boundary. A type spec is
a nested tuple such as ('list', ('int',)), ('set', ('str',)),
('struct', 'Point', ('x', 'y'), (('int',), ('int',))).
"""
from __future__ import annotations

import sys

import numpy as np
from numba import types
from numba.typed import List

from . import nblist, nbrt
from .fmt import to_str
from .values import GSet, array_elem, make_struct_class, new_struct

_struct_classes: dict[tuple, type] = {}


def struct_class(name: str, fields: tuple[str, ...]) -> type:
    key = (name, fields)
    cls = _struct_classes.get(key)
    if cls is None:
        cls = _struct_classes[key] = make_struct_class(name, fields)
    return cls


def to_interp(v, spec, classes=None):
    """A value coming out of compiled code, in the interpreter's representation. `classes`: the
    record class of each struct name, when the value goes back to a running interpreter."""
    kind = spec[0]
    if kind in ("int", "str", "bool", "None"):
        return v if kind != "bool" else bool(v)
    if kind == "float":
        return float(v)
    if kind == "f32":
        return np.float32(v)
    if kind == "list" and array_elem(spec[1]) is not None:  # an ArrayList
        if spec[1][0] == "tuple":  # of tuples: .tolist() gives Python floats for f32 fields
            return [to_interp(x, spec[1], classes) for x in v.to_list()]
        return v.to_list() if spec[1][0] != "f32" else list(v.to_array())
    if kind == "list":
        return [to_interp(x, spec[1], classes) for x in v]
    if kind == "dict":
        return {to_interp(k, spec[1], classes): to_interp(x, spec[2], classes) for k, x in v.items()}
    if kind == "set":
        return GSet(to_interp(k, spec[1], classes) for k in v.keys())
    if kind == "tuple":
        return tuple(to_interp(x, s, classes) for x, s in zip(v, spec[1]))
    if kind == "struct":
        cls = (classes or {}).get(spec[1]) or struct_class(spec[1], spec[2])
        return new_struct(cls, [to_interp(x, s, classes) for x, s in zip(v, spec[3])])
    if kind == "tensor":  # the compiled code's array itself
        return v
    raise TypeError(f"no conversion for {spec}")


def nb_type(spec):
    kind = spec[0]
    simple = {"int": types.int64, "float": types.float64, "f32": types.float32, "bool": types.boolean,
              "str": types.unicode_type, "None": types.none}
    if kind in simple:
        return simple[kind]
    if kind == "list" and array_elem(spec[1]) is not None:
        return nblist.list_type_of(array_elem(spec[1]))
    if kind == "list":
        return types.ListType(nb_type(spec[1]))
    if kind == "dict":
        return types.DictType(nb_type(spec[1]), nb_type(spec[2]))
    if kind == "set":
        return types.DictType(nb_type(spec[1]), types.boolean)
    if kind == "tuple":
        return types.Tuple(tuple(nb_type(s) for s in spec[1]))
    if kind == "struct":
        return types.Tuple(tuple(nb_type(s) for s in spec[3]))
    if kind == "tensor":
        return types.Array(simple[spec[1]], spec[2], "C")
    raise TypeError(f"no Numba type for {spec}")


def from_interp(v, spec, memo: dict | None = None):
    """An interpreter value going into compiled code. With `memo` (id -> (value, converted)), shared
    across the values of one call, a list, dict or set reached twice (two globals holding the same
    list, a global list inside another) becomes one compiled container, so a change through one name
    shows through the other, as in the interpreter."""
    kind = spec[0]
    if kind in ("int", "str", "bool", "float"):
        return v
    if kind == "f32":
        return np.float32(v)
    if kind in ("list", "dict", "set") and memo is not None and id(v) in memo:
        return memo[id(v)][1]
    if kind == "list" and array_elem(spec[1]) is not None:
        out = nblist.from_values(v, array_elem(spec[1]))
    elif kind == "list":
        out = List.empty_list(nb_type(spec[1]))
        for x in v:
            out.append(from_interp(x, spec[1], memo))
    elif kind == "dict":  # (nbrt.dict_new: float keys compared by value, as in compiled code's own dicts)
        out = nbrt.dict_new(nb_type(spec[1]), nb_type(spec[2]))
        for k, x in v.items():
            out[from_interp(k, spec[1], memo)] = from_interp(x, spec[2], memo)
    elif kind == "set":
        out = nbrt.dict_new(nb_type(spec[1]), types.boolean)
        for k in v:
            out[from_interp(k, spec[1], memo)] = True
    elif kind == "tuple":
        return tuple(from_interp(x, s, memo) for x, s in zip(v, spec[1]))
    elif kind == "struct":
        return tuple(from_interp(x, s, memo) for x, s in zip(v, spec[3]))
    elif kind == "tensor":  # the same array (compiled code writes to it) unless it must be made contiguous
        return np.ascontiguousarray(v, np.float32 if spec[1] == "f32" else np.float64)
    else:
        raise TypeError(f"no conversion for {spec}")
    if memo is not None:
        memo[id(v)] = (v, out)
    return out


def show(v, spec) -> str:
    return to_str(to_interp(v, spec))


def print_values(values, specs, sep, end) -> None:
    sys.stdout.write(sep.join([show(v, s) for v, s in zip(values, specs)]) + end)
