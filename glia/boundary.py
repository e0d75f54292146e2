"""The boundary between Python and a Glia program: values in, values out, by Glia type.

In: Python values are checked against the parameter's Glia type and turned into the runtime's
representation (runtime/values.py): containers are copied (a Glia function never mutates the
caller's list; compiled backends use their own containers, so this holds on every backend), sets
become insertion-ordered `GSet`s, struct instances become the runtime's records, numbers are
widened the way Glia widens them (an int where a float is expected). numpy arrays for tensor
parameters are passed without copying when their dtype matches (else converted once).

Out: results become plain Python values: list, dict, set, tuple, the struct's Python class,
numpy arrays; `f32` scalars stay `numpy.float32` (exact, and they print as Glia prints them).

A mismatch raises `GliaTypeError` (a `GliaError` and a `TypeError`, code E201) that names the
parameter, the expected Glia type and what the Python value is, at the caller's file:line:col.
"""
from __future__ import annotations

import linecache
import os
import sys
import threading
import typing

import numpy as np

from glia.compiler.diagnostics import Diagnostic, GliaError, Source, Span
from glia.compiler.types import (BOOL, F32, FLOAT, INT, NONE, STR, DictT, FnT, ListT, Scalar, SetT, StructT,
                                 TensorT, TParam, TupleT, children)
from glia.runtime.values import GSet, Struct, new_struct

from .annotations import Fn, f32, f64

INT_MIN, INT_MAX = -(1 << 63), (1 << 63) - 1
_F32_MAX = float(np.finfo(np.float32).max)


def _f32(v) -> np.float32:
    """`v` rounded to f32: beyond its range that is an infinity, as in the language, without numpy's
    overflow warning."""
    if -_F32_MAX <= v <= _F32_MAX:
        return np.float32(v)
    with np.errstate(over="ignore"):
        return np.float32(v)


class GliaTypeError(GliaError, TypeError):
    """A Python value that does not fit the Glia type it is given to (code E201 or E202)."""


class GliaKeyError(GliaError, KeyError):
    """A name a Glia mapping (`prog.params`) does not hold: code E703, naming those it holds."""


class GliaNotAvailable(GliaError, NotImplementedError):
    """A feature a later stage brings (training, search, compiled backends): code E801."""


# ---- where the user is --------------------------------------------------------------------------

_GLIA_DIRS = tuple(os.path.dirname(os.path.abspath(m)) + os.sep for m in (
    __file__, sys.modules["glia.compiler.diagnostics"].__file__, sys.modules["glia.runtime.values"].__file__))


# The frame that handed the call now running on the big-stack thread (program._BigStack) over to it,
# by that thread's id: a Python callable that Glia code calls, calling Glia again, runs there, and
# its line is found through this frame.
HANDED_OVER: dict[int, object] = {}


def caller_location(skip_files: tuple[str, ...] = ()) -> tuple[Source, Span]:
    """The innermost frame outside Glia's own code (and the standard library's `threading`): the
    user's line, with the column of the call being made there when Python knows it."""
    f, jumped = sys._getframe(1), False
    while f is not None:
        name = f.f_code.co_filename
        if not name.startswith(_GLIA_DIRS) and not name.endswith(("threading.py", "functools.py") + skip_files):
            break
        f = f.f_back
        if f is None and not jumped:  # the bottom of the big-stack thread: go on in the caller's thread
            f, jumped = HANDED_OVER.get(threading.get_ident()), True
    if f is None:
        return Source("<python>", ""), Span(0, 0, 0, 0)
    return source_of_file(f.f_code.co_filename), _frame_span(f)


def source_of_file(filename: str) -> Source:
    return Source(filename, "".join(linecache.getlines(filename)))


def _frame_span(frame) -> Span:
    line = frame.f_lineno or 0
    try:
        positions = list(frame.f_code.co_positions())
        pos = positions[frame.f_lasti // 2]
    except (AttributeError, IndexError):
        pos = None
    if pos and pos[0] == line and pos[2] is not None and pos[3] is not None:
        text = linecache.getline(frame.f_code.co_filename, line)
        col = _char_col(text, pos[2])
        end = _char_col(text, pos[3]) if pos[1] == line else len(text.rstrip("\n"))
        return Span(line, col + 1, line, max(end, col) + 1)
    return Span(line, 1, line, 2)


def _callable_span(code) -> Span:
    """Where a Python callable is: a lambda's body (the result it gave), a def's first line from its
    first character (both were column 1 of the first line)."""
    line = code.co_firstlineno
    text = linecache.getline(code.co_filename, line)
    if code.co_name == "<lambda>":
        body = [p for p in code.co_positions() if p[0] == line and p[1] == line and p[3]]
        if body:
            _, _, col, end = body[-1]  # the instruction that returns: it spans the whole body
            return Span(line, _char_col(text, col) + 1, line, _char_col(text, end) + 1)
    first = len(text) - len(text.lstrip()) + 1
    return Span(line, first, line, max(first + 1, len(text.rstrip()) + 1))


def _char_col(line_text: str, byte_offset: int) -> int:
    return len(line_text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def boundary_error(message: str, code: str = "E201", cls: type = GliaTypeError) -> GliaError:
    source, span = caller_location()
    return cls(Diagnostic(code, message, span, "call", source))


# ---- Python classes for Glia structs ----------------------------------------------------------


class Record:
    """Base of the Python classes of Glia structs: immutable records with named fields, compared
    and hashed by value (Glia structs are values). `p._replace(x=1)` gives a changed copy."""

    __slots__ = ()
    _glia_name: str = ""
    _fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        fields = self._fields
        if len(args) > len(fields):
            raise TypeError(f"{type(self).__name__}() takes {len(fields)} field values, got {len(args)}")
        values = dict(zip(fields, args))
        for k, v in kwargs.items():
            if k not in fields:
                raise TypeError(f"{type(self).__name__} has no field {k!r}; its fields are {', '.join(fields)}")
            if k in values:
                raise TypeError(f"{type(self).__name__}() got field {k!r} twice")
            values[k] = v
        missing = [f for f in fields if f not in values]
        if missing:
            raise TypeError(f"{type(self).__name__}() is missing field{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(missing)}")
        for f in fields:
            object.__setattr__(self, f, values[f])

    @classmethod
    def _make(cls, values):
        obj = object.__new__(cls)
        for f, v in zip(cls._fields, values):
            object.__setattr__(obj, f, v)
        return obj

    def _values(self) -> tuple:
        return tuple(getattr(self, f) for f in self._fields)

    def _replace(self, **changes):
        values = {f: getattr(self, f) for f in self._fields}
        for k in changes:
            if k not in values:
                raise TypeError(f"{type(self).__name__} has no field {k!r}")
        values.update(changes)
        return self._make(values[f] for f in self._fields)

    def _asdict(self) -> dict:
        return {f: getattr(self, f) for f in self._fields}

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is a Glia struct, a value: make a changed copy with "
                             f"._replace({name}=...)")

    def __delattr__(self, name):
        raise AttributeError(f"{type(self).__name__} is a Glia struct: its fields cannot be deleted")

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self):
        return hash((type(self).__name__, self._values()))

    def __iter__(self):
        return iter(self._values())

    def __repr__(self):
        return f"{type(self).__name__}(" + ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields) + ")"

    def __reduce__(self):
        return (type(self)._make, (self._values(),))


# what the Python class of every struct has besides its fields (and the module group a DSL one belongs to)
RECORD_NAMES = frozenset(n for n in vars(Record) if n.startswith("_") and not n.startswith("__")) | {"_glia_group"}


def reserved_field(name: str) -> bool:
    """Would a field of this name hide a part of a struct's Python class (`_values`: its == and repr
    would call the field) or keep it from being made (`_fields`)?"""
    return name in RECORD_NAMES or name.startswith("__")


def record_class(name: str, fields: tuple[str, ...], namespace: dict | None = None, module: str | None = None,
                 qualname: str | None = None) -> type:
    """A Record subclass for `struct name` (built with `type()`: no source text is executed)."""
    ns = dict(namespace or {})
    ns.update({"__slots__": tuple(fields), "_glia_name": name, "_fields": tuple(fields),
               "__match_args__": tuple(fields)})
    if module is not None:
        ns["__module__"] = module
    if qualname is not None:
        ns["__qualname__"] = qualname
    return type(name, (Record,), ns)


# ---- Python type hints for Glia types (signatures, help()) ------------------------------------


def python_hint(t, struct_classes: dict[str, type]):
    match t:
        case Scalar("int"):
            return int
        case Scalar("float"):
            return float
        case Scalar("f32"):
            return f32
        case Scalar("bool"):
            return bool
        case Scalar("str"):
            return str
        case Scalar("None"):
            return None
        case ListT(e):
            return list[python_hint(e, struct_classes)]
        case SetT(e):
            return set[python_hint(e, struct_classes)]
        case DictT(k, v):
            return dict[python_hint(k, struct_classes), python_hint(v, struct_classes)]
        case TupleT(items):
            return tuple[tuple(python_hint(i, struct_classes) for i in items)] if items else tuple[()]
        case StructT(name):
            return struct_classes.get(name, name)
        case FnT(params, ret):
            return Fn[[python_hint(p, struct_classes) for p in params], python_hint(ret, struct_classes)]
        case TensorT(dtype, shape):
            return (f32 if dtype == F32 else f64)[tuple(d if isinstance(d, (int, str)) else str(d) for d in shape)]
        case TParam(name):
            return typing.TypeVar(name)
    return str(t)


# ---- conversions ------------------------------------------------------------------------------


class Mismatch(Exception):
    """Raised inside a conversion; `where` is the path into the value (`[0][2]`, `.x`)."""

    def __init__(self, expected, value, detail: str = ""):
        super().__init__(detail)
        self.expected, self.value, self.detail = expected, value, detail
        self.where = ""

    def at(self, part: str) -> "Mismatch":
        self.where = part + self.where
        return self

    def describe(self) -> str:
        found = describe_value(self.value)
        msg = f"expected {self.expected}, found {found}"
        return msg + (f" ({self.detail})" if self.detail else "")

    def message(self, what: str, name: str, whole) -> str:
        """`what` (e.g. "argument 'adj' of bfs()"), named `name` in paths, should be a `whole`."""
        if not self.where:
            return f"{what}: {self.describe()}"
        detail = f"; {self.detail}" if self.detail else ""
        return (f"{what} must be {whole}, but {name}{self.where} is {describe_value(self.value)} "
                f"(expected {self.expected}{detail})")


def _value_type(v, where: str = ""):
    """The Glia type a Python value has, for a type parameter (None where nothing says: the items of
    an empty list, an array, a callable). Items of two types are a Mismatch at the second."""
    match v:
        case bool() | np.bool_():
            return BOOL
        case int() | np.integer():
            return INT
        case np.float32():
            return F32
        case float() | np.floating():
            return FLOAT
        case str():
            return STR
        case None:
            return NONE
        case Record():
            return StructT(v._glia_name)
        case list() | set() | frozenset():
            return (ListT if isinstance(v, list) else SetT)(_items_type(list(v), "[{}]"))
        case dict():
            return DictT(_items_type(list(v), " (key {!r})", list(v)), _items_type(list(v.values()), "[{!r}]", list(v)))
        case tuple():
            return TupleT(tuple(_value_type(x) for x in v))
    return None


def _items_type(items: list, path: str, labels: list | None = None):
    t = None
    for i, x in enumerate(items):
        try:
            xt = _value_type(x)
        except Mismatch as m:
            raise m.at(path.format(labels[i] if labels else i)) from None
        joined = _join(t, xt)
        if joined is None:
            raise Mismatch(t, x, f"the items before it are {t}: a container holds one type").at(
                path.format(labels[i] if labels else i))
        t = joined
    return t


def _join(a, b, widen: bool = True):
    """The one type both `a` and `b` are (None: not known; `widen`: an int is also a float), else None."""
    if a is None or b is None:
        return a if b is None else b
    if a == b:
        return a
    if widen and {a, b} == {INT, FLOAT}:
        return FLOAT
    match a, b:
        case (ListT(x), ListT(y)) | (SetT(x), SetT(y)):
            j = _join(x, y, widen)
            return None if j is None and x is not None and y is not None else type(a)(j)
        case DictT(k1, v1), DictT(k2, v2):
            k, w = _join(k1, k2, widen), _join(v1, v2, widen)
            if (k is None and k1 is not None and k2 is not None) or (w is None and v1 is not None and v2 is not None):
                return None
            return DictT(k, w)
        case TupleT(xs), TupleT(ys) if len(xs) == len(ys):
            js = [_join(x, y, widen) for x, y in zip(xs, ys)]
            if any(j is None and x is not None and y is not None for j, x, y in zip(js, xs, ys)):
                return None
            return TupleT(tuple(js))
    return None


def _known(t) -> bool:
    return t is not None and all(_known(c) for c in children(t))


def describe_value(v) -> str:
    if isinstance(v, np.ndarray):
        return f"a numpy array of {v.dtype} with shape {tuple(v.shape)}"
    if isinstance(v, Record):
        return f"a {type(v).__name__} struct"
    if isinstance(v, (bool, int, float, str)) or v is None:
        r = repr(v)
        return f"{type(v).__name__} {r if len(r) <= 40 else r[:37] + '...'}"
    if isinstance(v, np.generic):
        return f"numpy.{type(v).__name__} {v!r}"
    if isinstance(v, (list, tuple, set, frozenset, dict)):
        n = len(v)
        return f"a {type(v).__name__} of {n} item{'s' if n != 1 else ''}"
    return f"a Python {type(v).__qualname__}"


_PLAIN_SCALARS = (INT, FLOAT, BOOL, STR, NONE, F32)


def is_plain(t) -> bool:
    """Is the runtime representation of `t` already the Python value handed out?"""
    match t:
        case Scalar():
            return True
        case ListT(e):
            return is_plain(e)
        case DictT(k, v):
            return is_plain(k) and is_plain(v)
        case TupleT(items):
            return all(is_plain(i) for i in items)
        case TensorT():
            return True
    return False


class Boundary:
    """Conversions for one program: its structs' Python classes (`py_structs`) and the backend's
    record classes (`rt_structs`). Converters are built once per type and cached."""

    def __init__(self, struct_fields: dict[str, tuple[tuple[str, ...], tuple]], py_structs: dict[str, type],
                 rt_structs: dict[str, type]):
        self.struct_fields = struct_fields  # name -> (field names, field types)
        self.py_structs = py_structs
        self.rt_structs = rt_structs
        self._in: dict = {}
        self._out: dict = {}
        self._deep: dict = {}

    def deep(self, t) -> bool:
        """Whether a value of type `t` can nest without bound: it holds a struct that holds itself
        (a tree), so converting it recurses as deeply as the value goes (Program runs such
        conversions on its big stack)."""
        d = self._deep.get(t)
        if d is None:
            d = self._deep[t] = any(s in self._reached(StructT(s)) for s in self._reached(t))
        return d

    def _reached(self, t) -> set:
        """The names of the structs that values of type `t` hold (through elements, items and fields)."""
        seen: set = set()
        if isinstance(t, FnT):  # (converted when called, a level at a time)
            return seen
        stack = list(children(t)) if not isinstance(t, StructT) else list(self.struct_fields[t.name][1])
        while stack:
            x = stack.pop()
            if isinstance(x, StructT):
                if x.name in seen:
                    continue
                seen.add(x.name)
                stack.extend(self.struct_fields[x.name][1])
            elif not isinstance(x, FnT):
                stack.extend(children(x))
        return seen

    # -- Python -> Glia
    def to_glia(self, t):
        c = self._in.get(t)
        if c is None:
            c = self._in[t] = self._make_in(t)
        return c

    def _make_in(self, t):  # noqa: C901 (one case per type)
        match t:
            case Scalar("int"):
                def conv_int(v, dims):
                    if type(v) is int and INT_MIN <= v <= INT_MAX:
                        return v
                    if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
                        v2 = int(v)
                        if INT_MIN <= v2 <= INT_MAX:
                            return v2
                        raise Mismatch(t, v, "it does not fit in 64 bits")
                    raise Mismatch(t, v)
                return conv_int
            case Scalar("float") | Scalar("f32"):
                make = float if t == FLOAT else _f32

                def conv_float(v, dims):
                    if isinstance(v, (float, int, np.floating, np.integer)) and not isinstance(v, (bool, np.bool_)):
                        try:
                            return make(v)
                        except OverflowError:  # an int beyond the range of a float
                            raise Mismatch(t, v, "it is too large for a float") from None
                    raise Mismatch(t, v, _foreign_array_hint(v))
                return conv_float
            case Scalar("bool"):
                def conv_bool(v, dims):
                    if isinstance(v, (bool, np.bool_)):
                        return bool(v)
                    raise Mismatch(t, v)
                return conv_bool
            case Scalar("str"):
                def conv_str(v, dims):
                    if isinstance(v, str):
                        if not v.isascii():  # a lone surrogate is no character: E004 in a Glia literal
                            try:
                                v.encode("utf-8")
                            except UnicodeEncodeError as e:
                                raise Mismatch(t, v, f"it holds {v[e.start]!r} at index {e.start}, half of a "
                                               "UTF-16 pair, not a character") from None
                        return str(v)
                    raise Mismatch(t, v)
                return conv_str
            case Scalar("None"):
                def conv_none(v, dims):
                    if v is None:
                        return None
                    raise Mismatch(t, v)
                return conv_none
            case ListT(e):
                ce = self.to_glia(e)
                fast = _FAST_CHECK.get(e)

                def conv_list(v, dims):
                    if not isinstance(v, list):
                        raise Mismatch(t, v, _hint_for(v, "list"))
                    if fast is not None and all(map(fast, v)):
                        return list(v)
                    out = []
                    for i, x in enumerate(v):
                        try:
                            out.append(ce(x, dims))
                        except Mismatch as m:
                            raise m.at(f"[{i}]") from None
                    return out
                return conv_list
            case SetT(e):
                ce = self.to_glia(e)

                def conv_set(v, dims):
                    if not isinstance(v, (set, frozenset, GSet)):
                        raise Mismatch(t, v, _hint_for(v, "set"))
                    out = GSet()
                    for x in v:
                        try:
                            out[ce(x, dims)] = None
                        except Mismatch as m:
                            raise m.at(" (an element)") from None
                    return out
                return conv_set
            case DictT(k, val):
                ck, cv = self.to_glia(k), self.to_glia(val)

                def conv_dict(v, dims):
                    if not isinstance(v, dict) or isinstance(v, GSet):
                        raise Mismatch(t, v, _hint_for(v, "dict"))
                    out = {}
                    for key, x in v.items():
                        try:
                            gk = ck(key, dims)
                        except Mismatch as m:
                            raise m.at(f" (key {key!r})") from None
                        try:
                            out[gk] = cv(x, dims)
                        except Mismatch as m:
                            raise m.at(f"[{key!r}]") from None
                    return out
                return conv_dict
            case TupleT(items):
                cs = [self.to_glia(i) for i in items]

                def conv_tuple(v, dims):
                    if not isinstance(v, tuple) or isinstance(v, Struct) or len(v) != len(cs):
                        raise Mismatch(t, v, f"a tuple of {len(cs)} items" if isinstance(v, tuple) else "")
                    out = []
                    for i, (c, x) in enumerate(zip(cs, v)):
                        try:
                            out.append(c(x, dims))
                        except Mismatch as m:
                            raise m.at(f"[{i}]") from None
                    return tuple(out)
                return conv_tuple
            case StructT(name):
                return self._struct_in(t, name)
            case FnT(params, ret):
                return self._callback_in(t)
            case TensorT(dtype, shape):
                np_dtype = np.float32 if dtype == F32 else np.float64

                def conv_tensor(v, dims):
                    a = _tensor_in(t, v, np_dtype)
                    if a.ndim != len(shape):
                        raise Mismatch(t, v, f"{a.ndim} dimension{'s' if a.ndim != 1 else ''}, expected {len(shape)}")
                    for i, (want, got) in enumerate(zip(shape, a.shape)):
                        if isinstance(want, int):
                            if want != got:
                                raise Mismatch(t, v, f"dimension {i} is {got}, expected {want}")
                        elif isinstance(want, str):
                            bound = dims.setdefault(want, got)
                            if bound != got:
                                raise Mismatch(t, v, f"dimension {i} ({want}) is {got}, but {want} is {bound} "
                                               "from an earlier argument")
                    return a
                return conv_tensor
            case TParam(name):
                return lambda v, dims: self._generic_in(name, v, dims)
        raise Mismatch(t, None, f"Glia type {t} cannot cross the Python boundary")

    def _struct_in(self, t, name):
        fields, types = self.struct_fields[name]
        cs = None

        def conv_struct(v, dims):
            nonlocal cs
            if not isinstance(v, Record) or v._glia_name != name or v._fields != fields:
                raise Mismatch(t, v, _struct_hint(v, name, self.py_structs.get(name)))
            if cs is None:
                cs = [self.to_glia(ft) for ft in types]
            out = []
            for f, c in zip(fields, cs):
                try:
                    out.append(c(getattr(v, f), dims))
                except Mismatch as m:
                    raise m.at(f".{f}") from None
            return new_struct(self.rt_structs[name], out)
        return conv_struct

    def _callback_in(self, t: FnT):
        def conv_fn(v, dims):
            if not callable(v) or isinstance(v, type):
                raise Mismatch(t, v, "pass a function")
            return self.callback(v, t)
        return conv_fn

    def callback(self, py_fn, t: FnT):
        """A Python function given where Glia expects `t`: arguments go out as Python values, the
        result comes back checked against `t.ret`."""
        args_out = [self.to_python(p) for p in t.params]
        ret_in = self.to_glia(t.ret)

        def glia_callable(*args):
            result = py_fn(*[c(a) for c, a in zip(args_out, args)])
            try:
                return ret_in(result, {})
            except Mismatch as m:
                raise _callback_error(py_fn, t, m) from None

        glia_callable.__glia_name__ = getattr(py_fn, "__name__", "callback")
        return glia_callable

    def _generic_in(self, name: str, v, dims):
        """A value for a type parameter T: T is the Glia type of the value (one type for all the items
        of a container; the same for every argument of the call that is a T), and the value is
        converted as one of that type."""
        t = _value_type(v)
        key = ("type parameter", name)  # (dims holds the named dimensions of the call's arguments too)
        bound = dims.get(key)
        if bound is not None:  # (what came before is converted already: an int stays one, a float takes an int)
            joined = _join(bound, t, widen=False)
            if joined is None and _join(bound, t) == bound:
                joined = bound
            if joined is None:
                raise Mismatch(bound, v, f"{name} is already {bound} in this call")
            t = joined
        dims[key] = t
        if _known(t) and not isinstance(v, Record):
            return self.to_glia(t)(v, dims)
        return self._dynamic_in(v, dims)

    def _dynamic_in(self, v, dims):
        """A value for a generic parameter: converted by its own Python type."""
        if isinstance(v, Record):
            cls = self.rt_structs.get(v._glia_name)
            if cls is None:
                raise Mismatch(v._glia_name, v, "this program has no such struct")
            return new_struct(cls, [self._dynamic_in(x, dims) for x in v._values()])
        if isinstance(v, list):
            return [self._dynamic_in(x, dims) for x in v]
        if isinstance(v, (set, frozenset)):
            return GSet(self._dynamic_in(x, dims) for x in v)
        if isinstance(v, dict):
            return {self._dynamic_in(k, dims): self._dynamic_in(x, dims) for k, x in v.items()}
        if isinstance(v, tuple):
            return tuple(self._dynamic_in(x, dims) for x in v)
        return v

    # -- Glia -> Python
    def to_python(self, t):
        c = self._out.get(t)
        if c is None:
            c = self._out[t] = self._make_out(t)
        return c

    def _make_out(self, t):
        if is_plain(t):
            return _identity
        if self.deep(t):
            return lambda v: self._deep_out(t, v)
        match t:
            case ListT(e):
                ce = self.to_python(e)
                return lambda v: [ce(x) for x in v]
            case SetT(e):
                ce = self.to_python(e)
                return lambda v: {ce(x) for x in v}
            case DictT(k, val):
                ck, cv = self.to_python(k), self.to_python(val)
                return lambda v: {ck(key): cv(x) for key, x in v.items()}
            case TupleT(items):
                cs = [self.to_python(i) for i in items]
                return lambda v: tuple(c(x) for c, x in zip(cs, v))
            case StructT(name):
                fields, types = self.struct_fields[name]
                cls = self.py_structs[name]
                cs = []

                def conv_struct(v):
                    if not cs:
                        cs.extend(self.to_python(ft) for ft in types)
                    return cls._make(c(x) for c, x in zip(cs, v))
                return conv_struct
            case FnT(params, ret):
                return lambda v: self.glia_function(v, t)
            case TParam():
                return self._dynamic_out
        return _identity

    def _deep_out(self, t, v):
        """The Python value of `v`, of a type that holds a tree, converted with a stack of its own: a
        recursive conversion went as deep as the tree on Python's stack and took time quadratic in the
        depth (40,000 levels: 7 s)."""
        root: list = []
        stack = [[t, v, root, None, None]]  # [type, value, where its result goes, its parts left, their results]
        while stack:
            frame = stack[-1]
            ft, fv, sink, parts, done = frame
            if parts is None:
                if not self.deep(ft):
                    sink.append(self.to_python(ft)(fv))
                    stack.pop()
                    continue
                parts = frame[3] = self._parts_out(ft, fv)[::-1]
                done = frame[4] = []
            if parts:
                pt, pv = parts.pop()
                stack.append([pt, pv, done, None, None])
                continue
            sink.append(self._build_out(ft, done))
            stack.pop()
        return root[0]

    def _parts_out(self, t, v) -> list:
        """(type, value) of each part of `v`, in the order _build_out takes their Python values."""
        match t:
            case ListT(e) | SetT(e):
                return [(e, x) for x in v]
            case DictT(k, val):
                return [p for key, x in v.items() for p in ((k, key), (val, x))]
            case TupleT(items):
                return list(zip(items, v))
            case StructT(name):
                return list(zip(self.struct_fields[name][1], v))
        raise AssertionError(f"no parts in a {t}")

    def _build_out(self, t, parts: list):
        match t:
            case ListT():
                return parts
            case SetT():
                return set(parts)
            case DictT():
                return dict(zip(parts[0::2], parts[1::2]))
            case TupleT():
                return tuple(parts)
            case StructT(name):
                return self.py_structs[name]._make(parts)
        raise AssertionError(f"no parts in a {t}")

    def glia_function(self, fn, t: FnT):
        """A Glia function value handed to Python: a callable converting at both ends."""
        args_in = [self.to_glia(p) for p in t.params]
        ret_out = self.to_python(t.ret)

        def call(*args):
            if len(args) != len(args_in):
                raise boundary_error(f"this Glia function of type {t} takes {len(args_in)} argument"
                                     f"{'s' if len(args_in) != 1 else ''}, got {len(args)}", "E202")
            dims: dict = {}
            converted = []
            for i, (c, a) in enumerate(zip(args_in, args)):
                try:
                    converted.append(c(a, dims))
                except Mismatch as m:
                    raise boundary_error(m.message(f"argument {i + 1} of a Glia function of type {t}",
                                                   f"argument {i + 1}", t.params[i])) from None
            return ret_out(fn(*converted))
        call.__qualname__ = call.__name__ = getattr(fn, "__glia_name__", "lambda")
        call.__doc__ = f"A Glia function value of type {t}."
        return call

    def _dynamic_out(self, v):
        if isinstance(v, Struct):
            cls = self.py_structs.get(v._name)
            return cls._make(self._dynamic_out(x) for x in v) if cls is not None else v
        if isinstance(v, GSet):
            return {self._dynamic_out(x) for x in v}
        if isinstance(v, list):
            return [self._dynamic_out(x) for x in v]
        if isinstance(v, dict):
            return {self._dynamic_out(k): self._dynamic_out(x) for k, x in v.items()}
        if isinstance(v, tuple):
            return tuple(self._dynamic_out(x) for x in v)
        return v


def _identity(v):
    return v


def _tensor_in(t, v, np_dtype):
    """`v` as a C-contiguous, writable array of `np_dtype` for a parameter of tensor type `t`: a numpy
    array that already is one is handed over as it is (Glia code may write into it), any other array of
    numbers (a read-only one too: Glia code may write into it) is converted once, and nested lists of
    numbers are read as numpy reads them. Anything that is not numbers (bools, strings, None, complex,
    objects) is a Mismatch, never a value numpy would coerce."""
    if isinstance(v, np.ndarray):
        if v.dtype.kind not in "fiu":
            raise Mismatch(t, v)
        if isinstance(v, np.ma.MaskedArray):
            raise Mismatch(t, v, "a masked array: fill it first (a.filled(...))")
        if v.flags.c_contiguous and v.flags.writeable and v.dtype == np_dtype and type(v) is np.ndarray:
            return v
        with np.errstate(over="ignore"):  # beyond f32's range is an infinity, as in the language
            return np.array(v, dtype=np_dtype, order="C")  # (0-d stays 0-d: ascontiguousarray makes it 1-d)
    if isinstance(v, (list, tuple)) or (isinstance(v, (float, int, np.generic)) and not isinstance(v, (bool, np.bool_))):
        try:
            a = np.asarray(v)
        except (TypeError, ValueError, OverflowError):
            raise Mismatch(t, v, "not a rectangular array of numbers") from None
        if a.dtype.kind == "O" and all(type(x) is int for x in a.flat):  # ints beyond 64 bits
            try:
                a = np.array(a.tolist(), dtype=np.float64)
            except OverflowError:
                raise Mismatch(t, v, "a number too large for a float") from None
        if a.dtype.kind not in "fiu":
            raise Mismatch(t, v, "not a rectangular array of numbers" if a.dtype.kind == "O" else
                           f"not an array of numbers: numpy reads it as {a.dtype}")
        with np.errstate(over="ignore"):
            return a.astype(np_dtype, order="C")
    raise Mismatch(t, v, _foreign_array_hint(v))


def _int_ok(x) -> bool:
    return type(x) is int and INT_MIN <= x <= INT_MAX


_FAST_CHECK = {INT: _int_ok, FLOAT: lambda x: type(x) is float, STR: lambda x: type(x) is str,
               BOOL: lambda x: type(x) is bool}


def _foreign_array_hint(v) -> str:
    """What to do with an array of another library (torch, JAX, CuPy, pandas) given for a tensor."""
    if not (hasattr(v, "__array__") or hasattr(v, "__dlpack__")):
        return ""
    if type(v).__module__.split(".")[0] == "torch":
        return "a torch tensor: pass x.detach().cpu().numpy()"
    return "convert it to a numpy array first: numpy.asarray(x)"


def _hint_for(v, want: str) -> str:
    if isinstance(v, np.ndarray):
        return f"a {want} is needed: convert with .tolist(), or annotate the parameter as a tensor (glia.f64[n])"
    if want == "list" and isinstance(v, tuple):
        return "a list is needed, not a tuple"
    return ""


def _struct_hint(v, name: str, cls: type | None) -> str:
    if isinstance(v, Record) and v._glia_name == name:
        return f"a struct {name} with fields {', '.join(v._fields)}, from another program"
    if cls is not None:
        return f"build it with {cls.__qualname__}(...)"
    return ""


def _callback_error(py_fn, t: FnT, m: Mismatch) -> GliaError:
    code = getattr(py_fn, "__code__", None)
    name = getattr(py_fn, "__name__", None) or repr(py_fn)
    msg = m.message(f"the result of the Python function {name} (called by Glia as a {t})", "the result",
                    t.ret)
    if code is not None:
        source = source_of_file(code.co_filename)
        span = _callable_span(code)
    else:
        source, span = caller_location()
    return GliaTypeError(Diagnostic("E201", msg, span, "call", source))
