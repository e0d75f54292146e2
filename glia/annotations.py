"""Python-side names for Glia types that Python lacks: `glia.f32`, `glia.f64` (scalars, and tensors
with `glia.f32[64]`, `glia.f64[8, 8]`, `glia.f32["n", 3]`) and `glia.Fn[[int], int]`.

They are what `@glia.fn` annotations evaluate to at run time (the front end reads the annotations
from the source, not from these objects) and what `inspect.signature` shows for Glia functions.
"""
from __future__ import annotations


class DType:
    """`glia.f32` / `glia.f64`: a float scalar type; subscripted, a tensor type."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __getitem__(self, dims) -> "TensorType":
        dims = dims if isinstance(dims, tuple) else (dims,)
        for d in dims:
            if not (isinstance(d, str) and d.isidentifier()) and not (type(d) is int and d > 0):
                raise _annotation_error(f"a tensor dimension is a positive int or a name, not {d!r}")
        return TensorType(self, dims)

    def __repr__(self) -> str:
        return f"glia.{self.name}"

    def __reduce__(self):
        return self.name


class TensorType:
    __slots__ = ("dtype", "shape")

    def __init__(self, dtype: DType, shape: tuple):
        self.dtype, self.shape = dtype, tuple(shape)

    def __repr__(self) -> str:
        return f"glia.{self.dtype.name}[{', '.join(map(repr, self.shape))}]"

    def __getitem__(self, dims):
        dims = dims if isinstance(dims, tuple) else (dims,)
        raise _annotation_error(f"a tensor type takes all its dimensions in one [...]: write "
                                f"glia.{self.dtype.name}[{', '.join(map(repr, self.shape + dims))}]")

    def __eq__(self, other) -> bool:
        return isinstance(other, TensorType) and (self.dtype.name, self.shape) == (other.dtype.name, other.shape)

    def __hash__(self) -> int:
        return hash((self.dtype.name, self.shape))


class _FnMeta(type):
    def __getitem__(cls, item) -> "FnType":
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], (list, tuple))):
            raise _annotation_error("write a function type as glia.Fn[[ParamType, ...], ReturnType]")
        return FnType(tuple(item[0]), item[1])

    def __repr__(cls) -> str:
        return "glia.Fn"


class Fn(metaclass=_FnMeta):
    """`glia.Fn[[int, int], int]`: the type of a function value (as `typing.Callable`)."""


class FnType:
    __slots__ = ("params", "ret")

    def __init__(self, params: tuple, ret):
        self.params, self.ret = params, ret

    def __repr__(self) -> str:
        return f"glia.Fn[[{', '.join(map(_show, self.params))}], {_show(self.ret)}]"

    def __eq__(self, other) -> bool:
        return isinstance(other, FnType) and (self.params, self.ret) == (other.params, other.ret)

    def __hash__(self) -> int:
        return hash((self.params, self.ret))


def _annotation_error(message: str) -> TypeError:
    """E206 at the user's line that wrote the annotation (Python evaluates it when the def runs), a
    glia.GliaTypeError (a TypeError, as Python's own annotation mistakes are)."""
    from .boundary import boundary_error

    return boundary_error(message, "E206")


def _show(t) -> str:
    if t is None or t is type(None):
        return "None"
    if isinstance(t, type) and not getattr(t, "__args__", None):
        return t.__qualname__ if t.__module__ != "builtins" else t.__name__
    return repr(t)


f32 = DType("f32")
f64 = DType("f64")
