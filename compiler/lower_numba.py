"""Lowering, CPU backend: typed IR -> the source of one Python module for `numba.njit`.

`lower(program, globals_values) -> LoweredModule` writes one `@njit(cache=True)` function per Glia
function reachable from `main`, with comments naming the Glia source line of each statement. User
text never becomes code: identifiers are mangled (`v3_name`, `f_name`) and every literal is emitted
with `repr()` of a Python value. Operations that can fail call helpers of `glia.runtime.nbrt` with a
*site* number; the module's `SITES` table maps it back to the source span, so a compiled runtime
error is reported exactly as the interpreter reports it.

A construct this backend cannot compile yet raises `Unsupported` naming it and its span; the driver
then runs the program in the interpreter and says why.
"""
from __future__ import annotations

import contextvars
import hashlib
import re
from collections.abc import Callable
from math import prod
from contextlib import contextmanager
from dataclasses import dataclass, field

from . import callsites, cycles, ir
from .aliasing import mutable
from .closures import Closures, holds_functions
from .diagnostics import Span
from .fused import DictUpdate, dict_update
from . import prefetch
from .lower_tensor import PARAMS, STATE, TensorLowering, uses_params
from .specialize import Specializer
from .types import (BOOL, F32, FLOAT, INT, NONE, STR, DictT, FnT, ListT, RecordT, Scalar, SetT, StructT, TensorT,
                    TParam, TupleT, held, holds_float, substitute)
from .types import children as type_children
from glia.runtime.values import array_elem


_FN_UNKNOWN = "function values made in code that runs in the interpreter"

def builder_slots(loop) -> list[int]:
    """The str locals that the loop `loop` (its condition, iterable, bounds and body) only extends:
    each of their uses is `s = s + x` (`s += x`) with x not reading s, so the loop can keep s as its
    parts and join them once after it (FunctionLowerer.built). None in a loop holding a lambda, whose
    slots are its own."""
    nodes = list(ir.walk(loop))
    if any(isinstance(n, ir.Lambda) for n in nodes):
        return []
    extends: dict[int, int] = {}
    for n in nodes:
        if isinstance(n, ir.Assign) and isinstance(n.target, ir.StoreLocal) and n.target.type == STR \
                and isinstance(n.value, ir.Prim) and n.value.op == "str.concat" \
                and isinstance(n.value.args[0], ir.Local) and n.value.args[0].slot == n.target.slot:
            extends[n.target.slot] = extends.get(n.target.slot, 0) + 1
    if not extends:
        return []
    uses = {slot: 0 for slot in extends}
    for n in nodes:
        if isinstance(n, (ir.Local, ir.StoreLocal)) and n.slot in uses:
            uses[n.slot] += 1
    # (each extension is one store and one read of s; any other read or store disqualifies it)
    return [slot for slot, k in extends.items() if uses[slot] == 2 * k]


# the tests rt.cp_is makes on a code point, by their index here
_CHAR_TESTS = ("str.isdigit", "str.isalpha", "str.isalnum", "str.isspace", "str.isupper", "str.islower")


def _concat_parts(e) -> list:
    """The operands of a chain of string concatenations `a + b + c`, left to right (computed in that
    order, as the chain computes them), or [e]."""
    if isinstance(e, ir.Prim) and e.op == "str.concat":
        return _concat_parts(e.args[0]) + _concat_parts(e.args[1])
    return [e]


def _sizeless(t) -> bool:
    """Whether values of type t take no bytes: `()`, `((), ())`."""
    return isinstance(t, TupleT) and all(_sizeless(u) for u in t.items)


class Unsupported(Exception):
    def __init__(self, what: str, span: Span, source_name: str = ""):
        super().__init__(what)
        self.what, self.span, self.source_name = what, span, source_name


@contextmanager
def _at_function(fl):
    """An Unsupported raised with no place (a helper of the module's, for a type) at the function that
    needed it, not "at this program"."""
    try:
        yield
    except Unsupported as u:
        if not u.span.line:
            u.span, u.source_name = fl.f.span, fl.src
        raise


@dataclass
class LoweredModule:
    source: str
    key: str  # content hash (includes the runtime's hash)
    sites: list[tuple[int, int, int, int, str]]
    entry: str  # the generated name of the root function (main, unless another was asked for)
    main_arg_specs: tuple  # the root's argument specs
    main_globals: tuple = ()  # (name, spec) of the globals the root takes after its arguments
    function_globals: dict = field(default_factory=dict)  # the same for every compiled function
    ret_spec: tuple = ("None",)  # the root's result spec
    shown: dict = field(default_factory=dict)  # site -> spec of the tuple or struct its error shows
    # (source name, line, col, end_line, end_col) of the root's definition: an error outside it was
    # raised in a callee, and compiled code does not record the calls on the way (runtime_error)
    entry_span: tuple = ()
    # site -> (prelude function, the program's calls leading into it), for an error inside the prelude
    callers: dict = field(default_factory=dict)


_IDENT = re.compile(r"[^A-Za-z0-9_]")
# the most calls of itself, and IR nodes, of a function whose recursion is unrolled once (ModuleLowerer.unrollable)
UNROLL_CALLS = 2
UNROLL_NODES = 40
# the operations whose error shows their second operand (a key or element not found)
_SHOWS_VALUE = {"dict.getitem", "dict.delitem", "dict.pop", "set.remove", "list.remove", "list.index"}


def mangle_local(slot: int, name: str) -> str:
    return f"v{slot}_{_IDENT.sub('', name)}" if not name.startswith("$") else f"t{slot}"


def comment_text(text: str) -> str:
    """User text (a file name) inside a generated comment: one line of printable ASCII, always."""
    return text.encode("unicode_escape").decode("ascii")


def unrolled_name(name: str) -> str:
    """The generated name of the inlined copy of a self-recursive function (ModuleLowerer.unrolled):
    no other generated name begins with `inl_`."""
    return "inl_" + mangle_func(name)


def mangle_func(name: str) -> str:
    """The generated name of a function, or of one instance of a generic one (`first[int]`)."""
    if "&" in name:  # a merged cycle (compiler/cycles.py): no user's name has a `&`
        return f"f_cycle__{hashlib.sha1(name.encode()).hexdigest()[:10]}"
    if "[" in name:
        base = name[:name.index("[")]
        return f"f_{_IDENT.sub('', base)}__{hashlib.sha1(name.encode()).hexdigest()[:10]}"
    return "f_" + _IDENT.sub("", name)


def _bind(param, arg, mapping: dict) -> None:
    """Bind the type parameters in `param` by matching it against the concrete `arg`."""
    if isinstance(param, TParam):
        mapping.setdefault(param.name, arg)
        return
    if type(param) is type(arg):
        for a, b in zip(type_children(param), type_children(arg)):
            _bind(a, b, mapping)


def array_list(t) -> bool:
    """The representation choice point: a list of scalars (int, float, f32, bool) or of tuples of
    scalars is an ArrayList (runtime/nblist.py: a NumPy array, of records for tuples, and a length,
    element access inlined), any other list a `numba.typed.List`. Everything else in the lowering
    follows from this (nbtype, empty_list)."""
    return isinstance(t, ListT) and array_list_elem(t.elem) is not None


def _rows_type(t) -> bool:
    """Whether a list of type `t` is a typed List of ArrayLists (`list[list[int]]`): its rows are what
    compiler/prefetch.py prefetches."""
    return isinstance(t, ListT) and not array_list(t) and array_list(t.elem)


def array_list_elem(t):
    """values.array_elem of the Glia type `t`: 'int' for int, ('float', 'int') for (float, int), None
    when a list of `t` is not an ArrayList."""
    match t:
        case Scalar(name):
            return array_elem((name,))
        case RecordT():  # a struct list stays one (types.RecordT)
            return None
        case TupleT(items) if all(isinstance(i, Scalar) for i in items):
            return array_elem(("tuple", tuple((i.name,) for i in items)))
        case FnT():  # a function value whose captured values are all numbers: a tuple of scalars
            closures = _CLOSURES.get()
            lay = closures.layout(t) if closures is not None else None
            if lay is not None and all(isinstance(s, Scalar) and not b for s, b in zip(lay.slots, lay.boxed)):
                return array_list_elem(TupleT((INT,) + tuple(lay.slots)))
    return None


# The function values of the module being lowered (compiler/closures.py), for array_list_elem
_CLOSURES: contextvars.ContextVar = contextvars.ContextVar("glia_closures", default=None)


def spec(t, structs, inside: tuple = ()) -> tuple:
    """The runtime type spec (see runtime/nbbox.py) of a Glia type. A struct that holds itself has
    none: its values stay on their side of the boundary between compiled code and the interpreter."""
    match t:
        case Scalar(name):
            return (name,)
        case ListT(e):
            return ("list", spec(e, structs, inside))
        case DictT(k, v):
            return ("dict", spec(k, structs, inside), spec(v, structs, inside))
        case SetT(e):
            return ("set", spec(e, structs, inside))
        case RecordT(struct=name):  # a struct as the gradient lowering writes it
            return spec(StructT(name), structs, inside)
        case TupleT(items):
            return ("tuple", tuple(spec(i, structs, inside) for i in items))
        case StructT(name) if name in inside:
            raise Unsupported(f"passing a struct {name}, which holds a {name}, between compiled code and the "
                              "interpreter", Span(0, 0, 0, 0))
        case StructT(name):
            info = structs[name]
            return ("struct", name, info.fields, tuple(spec(x, structs, inside + (name,)) for x in info.types))
        case TensorT(dtype, shape):
            return ("tensor", dtype.name, len(shape))
    raise Unsupported(f"values of type {t}", Span(0, 0, 0, 0))


class ModuleLowerer:
    def __init__(self, program: ir.Program, runtime_hash: str, all_callable: bool = False):
        self.p = program
        self.reach = Reach(self)
        self.runtime_hash = runtime_hash
        # whether Python may call every function (the benchmark harness, the differential test), or
        # only the root: the others are then compiled without the wrappers that box their arguments
        # and result for Python, which is compile time spent for nothing (docs/backends.md)
        self.all_callable = all_callable
        self.root = "main"
        self.entries: set[str] = {"main"}  # the functions called from Python (_lower)
        self.single_use: set[str] = set()  # called at one place only (see `lower`)
        self.sites: list[tuple[int, int, int, int, str]] = []
        self.site_index: dict[tuple, int] = {}
        self.shown: dict[int, tuple] = {}  # site -> the spec of the tuple or struct its error shows
        self.type_consts: dict[str, str] = {}
        self.spec_consts: dict[tuple, str] = {}
        self.funcs: list[str] = []
        self.cyclic: set[str] = set()
        self.unrolled: set[str] = set()  # self-recursive functions with one level of recursion inlined
        self.uncached: set[str] = set()  # compiled in each process, not cached (lower)
        self.merged_calls: dict[str, str] = {}  # the name of a call of a merged cycle -> its instance
        self.wrappers: dict[str, str] = {}  # a member of a merged cycle -> the merged instance it calls
        # what gets compiled: instances, by name; a generic function gets one per binding of its
        # type parameters (`first[int]`), its IR specialised, so every generated function is monomorphic
        self.instances: dict[str, ir.Function] = {}
        # and a function with a parameter of function type one per lambda or function passed there
        self.specializer = Specializer(self.instances, self.call_instance, self.merged_calls)
        # and the function values that are values at run time: tuples, called through a dispatcher
        self.closures = Closures(self)
        self.specializer.then, self.specializer.undo = self.closures.calls, self.closures.uncalls
        # the fields of the structs that hold themselves, each held in a box (boxed_fields)
        self.boxed = boxed_fields(program.structs)
        # the module's compiled helpers: formatting, and comparing what holds a struct that holds itself
        # (name by key: an operation and a type, or a component; and their definitions, in order)
        self.helpers: dict = {}
        self.helper_defs: list[str] = []
        # Globals are computed by the interpreter before main (a container global is one shared,
        # mutable value); compiled code receives them as extra arguments, threaded from main to every
        # function that uses one, directly or through its callees. So the module does not depend on
        # their values, and nothing runs before the program is known to compile.
        self.threaded = {g.name: (f"g{i}_{_IDENT.sub('', g.name)}", g.type) for i, g in enumerate(program.globals)}
        self.global_uses: dict[str, tuple[str, ...]] = {}
        # the layers' parameters (and running statistics): the flat buffers of the program's ParamStore,
        # threaded like globals into the functions that run a layer (lower_tensor.py)
        self.layout: dict[tuple[str, bool], tuple[int, tuple[int, ...]]] | None = None
        from .lower_grad import GradModule
        self.grads = GradModule(self)  # the functions of compiled gradients (lower_grad.py)

    def boxed_in(self, t) -> str | None:
        """The name of a struct that holds itself which a value of type `t` holds, if any."""
        return next((name for name in self.boxed if _reaches(t, name, self.p.structs)), None)

    # ---- module-level tables -----------------------------------------------------------------
    def site(self, span: Span, source_name: str) -> int:
        key = (span.line, span.col, span.end_line, span.end_col, source_name)
        i = self.site_index.get(key)
        if i is None:
            i = self.site_index[key] = len(self.sites)
            self.sites.append(key)
        return i

    def shown_site(self, span: Span, source_name: str, t) -> int:
        """The site of an error showing a value of type `t` (a key not found, an element not in a
        list): a tuple or struct is sent to Python, which writes it as Glia does from its spec."""
        site = self.site(span, source_name)
        if isinstance(t, (TupleT, StructT)):
            self.shown[site] = spec(t, self.p.structs)
        return site

    def nbtype(self, t) -> str:
        """A module constant holding the Numba type of `t` (for empty containers)."""
        return self.type_const(self._nbtype_expr(t))

    def type_const(self, expr: str) -> str:
        """The module constant (`T3`) holding the value of `expr`, a type or dtype, made once."""
        name = self.type_consts.get(expr)
        if name is None:
            name = self.type_consts[expr] = f"T{len(self.type_consts)}"
        return name

    def _nbtype_expr(self, t) -> str:
        match t:
            case Scalar("int"):
                return "types.int64"
            case Scalar("float"):
                return "types.float64"
            case Scalar("f32"):
                return "types.float32"
            case Scalar("bool"):
                return "types.boolean"
            case Scalar("str"):
                return "types.unicode_type"
            case ListT(e) if array_list(t):
                return f"al.list_type_of({array_list_elem(e)!r})"
            case ListT(e):
                return f"types.ListType({self._nbtype_expr(e)})"
            case DictT(k, v):
                return f"types.DictType({self._nbtype_expr(k)}, {self._nbtype_expr(v)})"
            case SetT(e):
                return f"types.DictType({self._nbtype_expr(e)}, types.boolean)"
            case TupleT(items):
                return "types.Tuple((" + "".join(self._nbtype_expr(i) + ", " for i in items) + "))"
            case StructT(name):
                boxed = self.boxed.get(name, ())
                return "types.Tuple((" + "".join(("al.BOX" if i in boxed else self._nbtype_expr(x)) + ", "
                                                 for i, x in enumerate(self.p.structs[name].types)) + "))"
            case TensorT(dtype, shape):
                return f"types.Array({self._nbtype_expr(dtype)}, {len(shape)}, 'C')"
            case FnT() if self.closures.layout(t) is not None:  # (tag, captured values...): closures.py
                lay = self.closures.layout(t)
                return "types.Tuple((types.int64, " + "".join(("al.BOX" if b else self._nbtype_expr(s)) + ", "
                                                            for s, b in zip(lay.slots, lay.boxed)) + "))"
        raise Unsupported(f"values of type {t}", Span(0, 0, 0, 0))

    def empty_list(self, elem) -> str:
        """An expression making an empty list of `elem`s."""
        if array_list(ListT(elem)):
            return f"al.new({self.array_dtype(elem)})"
        return f"rt.list_new({self.nbtype(elem)})"

    def dict_list(self, d: str, elem, which: str) -> str:
        """An expression making a list of the keys or values (`which`) of the dict or set `d`."""
        if array_list(ListT(elem)):
            return f"al.from_view({d}.{which}(), {self.array_dtype(elem)})"
        return f"rt.dict_{which}({d})"

    def array_dtype(self, elem) -> str:
        """An expression for the NumPy dtype of an ArrayList of `elem`s: a scalar's type, or a module
        constant holding the record dtype of a tuple (runtime/values.py array_dtype)."""
        if elem in _PLAIN:
            return _PLAIN[elem]
        return self.type_const(f"al.array_dtype({array_list_elem(elem)!r})")

    def spec_const(self, t) -> str:
        s = spec(t, self.p.structs)
        name = self.spec_consts.get(s)
        if name is None:
            name = self.spec_consts[s] = f"S{len(self.spec_consts)}"
        return name

    # ---- formatting (str() and print) ---------------------------------------------------------
    def show(self, t, v: str, as_str: bool, site: int | None = None) -> str:
        """An expression for the text of `v` (a variable of Glia type `t`): str() when `as_str`,
        else repr(), exactly as runtime/fmt.py formats it. `site`: where a value that holds a struct
        that holds itself is written (its nesting past rt.MAX_NESTING is an error there)."""
        match t:
            case Scalar("int"):
                return f"rt.int_str({v})"
            case Scalar("bool"):
                return f"('True' if {v} else 'False')"
            case Scalar("float"):
                return f"nbs.float_repr({v})"
            case Scalar("f32"):
                return f"nbs.f32_repr({v})"
            case Scalar("str"):
                return v if as_str else f"nbs.str_repr({v})"
            case Scalar("none"):
                return "'None'"
        if self.boxed_in(t):
            assert site is not None, t
            return f"{self.show_fn(t)}({v}, {site})"
        if isinstance(t, TensorT) and t.dtype in (F32, FLOAT):  # (the runtime's, compiled once)
            return f"nbt.show({v})"
        return f"{self.show_fn(t)}({v})"

    def show_fn(self, t) -> str:
        """A module-level compiled function formatting a container, struct or tuple of type `t`."""
        if isinstance(t, RecordT):  # a struct as the gradient lowering writes it: shown as the struct
            t = StructT(t.struct)
        key = t  # (not its spec: a struct that holds itself has none)
        name = self.helpers.get(key)
        if name is not None:
            return name
        name = self.helpers[key] = f"show_{len(self.helpers)}"
        body: list[str]
        if self.boxed_in(t):  # (show_parts: the lists it is inside)
            body = ["inside = rt.dict_new(types.intp, types.boolean)", "parts = rt.list_new(types.unicode_type)"]
            self.show_parts(t, "v", body, "")
            body.append("return rt.str_join('', parts)")
            self.helper_defs.append("\n".join(["@njit(cache=True)", f"def {name}(v, site):  # {t}"]
                                            + ["    " + line for line in body]))
            return name
        match t:
            case ListT(e):
                body = ["out = rt.list_new(types.unicode_type)", "for i in range(len(v)):",
                        f"    rt.list_append(out, {self.show(e, 'v[i]', False)})",
                        "return '[' + rt.str_join(', ', out) + ']'"]
            case SetT(e):
                body = ["if len(v) == 0:", "    return 'set()'", "out = rt.list_new(types.unicode_type)",
                        "for x in v:", f"    rt.list_append(out, {self.show(e, 'x', False)})",
                        "return '{' + rt.str_join(', ', out) + '}'"]
            case DictT(k, x):
                body = ["out = rt.list_new(types.unicode_type)", "for k, x in v.items():",
                        f"    rt.list_append(out, {self.show(k, 'k', False)} + ': ' + {self.show(x, 'x', False)})",
                        "return '{' + rt.str_join(', ', out) + '}'"]
            case TupleT(items):
                parts = [self.show(it, f"v[{i}]", False) for i, it in enumerate(items)]
                inner = " + ', ' + ".join(parts) if parts else "''"
                body = [f"return '(' + {inner} + {',)' if len(parts) == 1 else ')'!r}"]
            case TensorT(dtype, shape):
                body = ["f = v.reshape(v.size)", "out = rt.list_new(types.unicode_type)", "for i in range(f.size):",
                        "    rt.list_append(out, '[' * nbt.opens(i, v.shape) + "
                        f"{self.show(dtype, 'f[i]', False)} + ']' * nbt.opens(i + 1, v.shape))",
                        "return 'tensor(' + rt.str_join(', ', out) + ')'"]
            case StructT(sname):
                info = self.p.structs[sname]
                parts = [f"{f + '='!r} + {self.show(ft, f'v[{i}]', False)}"
                         for i, (f, ft) in enumerate(zip(info.fields, info.types))]
                inner = " + ', ' + ".join(parts) if parts else "''"
                body = [f"return {sname + '('!r} + {inner} + ')'"]
            case _:
                raise Unsupported(f"formatting values of type {t}", Span(0, 0, 0, 0))
        self.helper_defs.append("\n".join(["@njit(cache=True)", f"def {name}(v):  # {t}"]
                                        + ["    " + line for line in body]))
        return name

    def show_parts(self, t, v: str, body: list[str], pad: str, guarded: bool = False):
        """Lines (indented by `pad`) appending the text of `v` (of type `t`, which may hold a struct that
        holds itself) to the list `parts`. The fields of such a struct that lead back to it are boxes,
        each formatted by a call of the dispatcher of the structs on its cycle (link); the rest is
        formatted here. `inside`: the set of the lists and dicts being written around this value
        (al.identity), which the program can make contain themselves (`t.kids.append(t)`)."""
        def put(text):
            body.append(f"{pad}rt.list_append(parts, {text})")

        if not self.boxed_in(t):
            put(self.show(t, v, False))
            return
        n = len(body)  # a fresh name for each value taken apart here
        if isinstance(t, (ListT, DictT)) and not guarded:  # met again inside itself: `[...]`, as Python
            body.append(f"{pad}id{n} = al.identity({v})")
            body.append(f"{pad}if id{n} in inside:")
            body.append(f"{pad}    rt.list_append(parts, {'[...]' if isinstance(t, ListT) else '{...}'!r})")
            body.append(f"{pad}else:")
            body.append(f"{pad}    inside[id{n}] = True")
            self.show_parts(t, v, body, pad + "    ", guarded=True)
            body.append(f"{pad}    inside.pop(id{n})")
            return
        match t:
            case ListT(e):
                put("'['")
                body.append(f"{pad}for i{n} in range(len({v})):")
                body.append(f"{pad}    if i{n} > 0:")
                body.append(f"{pad}        rt.list_append(parts, ', ')")
                body.append(f"{pad}    x{n} = {v}[i{n}]")
                self.show_parts(e, f"x{n}", body, pad + "    ")
                put("']'")
            case DictT(k, x):  # (a key never holds a struct that holds itself: check_key)
                put("'{'")
                body.append(f"{pad}for i{n}, (k{n}, x{n}) in enumerate({v}.items()):")
                body.append(f"{pad}    if i{n} > 0:")
                body.append(f"{pad}        rt.list_append(parts, ', ')")
                body.append(f"{pad}    rt.list_append(parts, {self.show(k, f'k{n}', False)} + ': ')")
                self.show_parts(x, f"x{n}", body, pad + "    ")
                put("'}'")
            case TupleT(items):
                put("'('")
                for i, it in enumerate(items):
                    if i:
                        put("', '")
                    body.append(f"{pad}y{n}_{i} = {v}[{i}]")
                    self.show_parts(it, f"y{n}_{i}", body, pad)
                put("',)'" if len(items) == 1 else "')'")
            case StructT(sname):
                info = self.p.structs[sname]
                boxed = self.boxed.get(sname, ())
                put(repr(sname + "("))
                for i, (f, ft) in enumerate(zip(info.fields, info.types)):
                    put(repr((", " if i else "") + f + "="))
                    if i in boxed:  # (the kind not a literal: numba/numba#6061)
                        fn, kind = self.link(sname, i, "show")
                        body.append(f"{pad}{fn}(np.int64({kind}), {v}[{i}], inside, parts, site)")
                    else:
                        body.append(f"{pad}y{n}_{i} = {v}[{i}]")
                        self.show_parts(ft, f"y{n}_{i}", body, pad)
                put("')'")
            case _:
                raise Unsupported(f"formatting values of type {t}", Span(0, 0, 0, 0))

    # ---- values that hold a struct that holds itself -----------------------------------------
    # Every cycle of structs passes through boxed fields (boxed_fields). The structs on cycles with
    # each other (a strongly connected component: Tree alone, or Dir and Entry holding each other) share
    # one dispatcher per operation, a self-recursive function taking which boxed field (its "link") and
    # the box: Numba types a function that calls itself, with an explicit signature (which a run loaded
    # from Numba's cache needs: numba/numba#6061), but not two functions that call each other.
    # Everything between two boxed fields is written inline, so the dispatchers of different
    # components call each other only down the order in which components hold one another.
    def component(self, name: str) -> tuple[str, ...]:
        """The structs that hold `name` and that `name` holds, itself included (all hold themselves)."""
        structs = self.p.structs
        return tuple(sorted(s for s in self.boxed
                            if _reaches(StructT(name), s, structs) and _reaches(StructT(s), name, structs)))

    def helper(self, key, prefix: str, deco: str, params: str, lines) -> str:
        """The name of the module's compiled helper for `key` (an operation and a type, or a
        component), written the first time: its name reserved first, so that it may call itself,
        then its body, `lines()`, under `@deco` and `def name(params)`."""
        name = self.helpers.get(key)
        if name is None:
            name = self.helpers[key] = f"{prefix}_{len(self.helpers)}"
            body = lines()
            self.helper_defs.append("\n".join([f"@{deco}", f"def {name}({params}):  # {key[1]}"]
                                               + ["    " + line for line in body]))
        return name

    def link(self, struct: str, index: int, op: str) -> tuple[str, int]:
        """(the dispatcher of `op` ("show" or "eq") for the component of `struct`, the number of the
        boxed field `index` of `struct` in it), writing the dispatcher if it is not yet written."""
        comp = self.component(struct)
        links = [(s, i) for s in comp for i in sorted(self.boxed[s])]
        if op == "show":
            # (appending to the caller's `parts`: a string returned at each level would be copied into
            # the level above, quadratic in the depth)
            sig = ("types.none(types.int64, al.BOX, types.DictType(types.intp, types.boolean), "
                   "types.ListType(types.unicode_type), types.int64)")
            name = self.helper((op, comp), "show_links", f"njit({sig}, cache=True)", "kind, p, inside, parts, site",
                               lambda: self.show_links(links))
        else:
            sig = "types.boolean(types.int64, al.BOX, al.BOX, types.boolean, types.int64, types.int64)"
            name = self.helper((op, comp), "eq_links", f"njit({sig}, cache=True)", "kind, p, q, exact, depth, site",
                               lambda: self.eq_links(links))
        return name, links.index((struct, index))

    def show_links(self, links: list[tuple[str, int]]) -> list[str]:
        # (each level of a value that holds itself passes through a list or dict, which is in
        # `inside` while it is written: its size is the depth)
        body = ["if len(inside) > rt.MAX_NESTING:", "    rt.too_deep_to_write(site)"]
        for kind, (s, i) in enumerate(links):
            ft = self.p.structs[s].types[i]
            body += [f"if kind == {kind}:  # {s}.{self.p.structs[s].fields[i]}",
                     f"    v{kind} = al.unbox(p, {self.nbtype(ft)})"]
            self.show_parts(ft, f"v{kind}", body, "    ")
        return body + ["return None"]

    def eq_links(self, links: list[tuple[str, int]]) -> list[str]:
        body = ["if depth > rt.MAX_NESTING:", "    rt.nested_too_deep(site)"]
        for kind, (s, i) in enumerate(links):
            ft = self.p.structs[s].types[i]
            body += [f"if kind == {kind}:  # {s}.{self.p.structs[s].fields[i]}",
                     f"    a{kind} = al.unbox(p, {self.nbtype(ft)})",
                     f"    b{kind} = al.unbox(q, {self.nbtype(ft)})"]
            self.eq_parts(ft, f"a{kind}", f"b{kind}", body, "    ", "depth + 1")
        return body + ["return True"]

    def eq_fn(self, t) -> str:
        """A module-level compiled function `eq(a, b, exact, site)`: `a == b` for values of type `t`,
        which hold a struct that holds itself. As Python compares (and so the interpreter): lengths
        first, then element by element in order, a dict's values by key; and, unless `exact`, a list
        or dict compared with itself is equal without a look inside, which is what ends the
        comparison of a value that holds itself. `exact` when `t` holds a float: the interpreter then
        compares by value (kernels.value_eq), where a NaN anywhere makes the values unequal, and
        nothing is equal to itself but by its contents. A comparison that goes deeper than
        rt.MAX_NESTING raises E505 at `site`, as the interpreter's does when Python's stack runs out."""
        def lines():
            body: list[str] = []
            self.eq_parts(t, "a", "b", body, "", "0")
            return body + ["return True"]
        return self.helper(("eq", t), "eq", "njit(cache=True)", "a, b, exact, site", lines)

    def find_fn(self, t) -> str:
        """`find(xs, v, start, exact, site)`: the first index from `start` on of an element equal to `v`
        (eq_fn) in `xs`, a list of `t`, or -1."""
        eq = self.eq_fn(t)
        return self.helper(("find", t), "find", "njit(cache=True)", "xs, v, start, exact, site",
                           lambda: ["for i in range(start, len(xs)):", f"    if {eq}(xs[i], v, exact, site):",
                                    "        return i", "return -1"])

    def eq_parts(self, t, a: str, b: str, body: list[str], pad: str, depth: str):
        """Lines (indented by `pad`) that return False unless `a == b` (eq_fn), for values of type `t`;
        `depth`: the nesting of the boxes around them."""
        if not self.boxed_in(t):
            body.append(f"{pad}if not {self.plain_eq(t, a, b)}:")
            body.append(f"{pad}    return False")
            return
        n = len(body)
        match t:
            case ListT(e) | DictT(_, e):
                body.append(f"{pad}if exact or al.identity({a}) != al.identity({b}):")
                body.append(f"{pad}    if len({a}) != len({b}):")
                body.append(f"{pad}        return False")
                if isinstance(t, ListT):
                    body.append(f"{pad}    for i{n} in range(len({a})):")
                    body.append(f"{pad}        x{n} = {a}[i{n}]")
                    body.append(f"{pad}        y{n} = {b}[i{n}]")
                else:
                    body.append(f"{pad}    for k{n}, x{n} in {a}.items():")
                    body.append(f"{pad}        if k{n} not in {b}:")
                    body.append(f"{pad}            return False")
                    body.append(f"{pad}        y{n} = {b}[k{n}]")
                self.eq_parts(e, f"x{n}", f"y{n}", body, pad + "        ", depth)
            case TupleT(items):
                for i, it in enumerate(items):
                    self.eq_parts(it, f"{a}[{i}]", f"{b}[{i}]", body, pad, depth)
            case StructT(sname):
                boxed = self.boxed.get(sname, ())
                for i, ft in enumerate(self.p.structs[sname].types):
                    if i in boxed:
                        fn, kind = self.link(sname, i, "eq")
                        body.append(f"{pad}if not {fn}(np.int64({kind}), {a}[{i}], {b}[{i}], exact, {depth}, site):")
                        body.append(f"{pad}    return False")
                    else:
                        self.eq_parts(ft, f"{a}[{i}]", f"{b}[{i}]", body, pad, depth)
            case _:
                raise Unsupported(f"comparing values of type {t}", Span(0, 0, 0, 0))

    def plain_eq(self, t, a: str, b: str) -> str:
        """`a == b` for values of type `t` that hold no struct that holds itself (FunctionLowerer.compare)."""
        if isinstance(t, ListT):
            return f"rt.list_eq({a}, {b})" if _unordered(t, self.p.structs) else f"rt.list_order({a}, {b}, 0)"
        if isinstance(t, (DictT, SetT)):
            return f"{'rt.dict_eq' if isinstance(t, DictT) else 'rt.set_eq'}({a}, {b})"
        if t == STR:
            return f"rt.str_eq({a}, {b})"
        return f"({a} == {b})"

    # ---- the module ---------------------------------------------------------------------------
    def instance(self, name: str, arg_types=(), ret=None, span: Span | None = None) -> str:
        """The instance of function `name` called with arguments of `arg_types` returning `ret`."""
        f = self.p.functions[name]
        if not f.type_params:
            if name not in self.instances:
                self.instances[name] = f
                self.instances[name] = self.specializer.function(f)
            return name
        if ret is None:
            raise Unsupported(f"the generic function '{name}' used as a value", span or f.span, f.source_name)
        mapping: dict = {}
        for p, a in zip(f.type.params + (f.type.ret,), tuple(arg_types) + (ret,)):
            _bind(p, a, mapping)
        missing = [t for t in f.type_params if t not in mapping]
        if missing:
            raise Unsupported(f"a call of '{name}' that leaves {', '.join(missing)} open", span or f.span,
                              f.source_name)
        inst = f"{name}[{', '.join(str(mapping[t]) for t in f.type_params)}]"
        if inst not in self.instances:
            self.instances[inst] = ir.map_types(f, lambda t: substitute(t, mapping))
            self.instances[inst] = self.specializer.function(self.instances[inst])
        return inst

    def call_instance(self, node) -> str:
        if isinstance(node, ir.CallFunc) and node.name in self.merged_calls:
            return self.merged_calls[node.name]
        if isinstance(node, ir.CallFunc):
            return self.instance(node.name, [a.type for a in node.args], node.type, node.span)
        return self.instance(node.name, span=node.span)  # a FuncRef

    def callees(self, inst: str, through_grads: bool = True) -> list[str]:
        """The instances `inst` calls or makes values of, callees first; with `through_grads`, also each
        function it differentiates (its gradient calls that function's callees, and the function itself
        where a call of it is a constant to the gradient)."""
        out = []
        for node in ir.walk(self.instances[inst].body):
            if isinstance(node, (ir.CallFunc, ir.FuncRef)):
                c = self.call_instance(node)
            elif isinstance(node, ir.Prim) and node.op == "ad.grad" and through_grads:
                c = self.instance(node.attrs[0])
            else:
                continue
            if c not in out:
                out.append(c)
        f = self.instances[inst]
        for c in self.closures.callees(f, f.source_name):  # lambdas made as values; calls of values
            if c not in out:
                out.append(c)
        return out

    def prepare(self, root: str = "main", also: tuple[str, ...] = ()) -> list[str]:
        """The functions to compile for `root` (and the functions `also`), callees first, with their
        threaded globals known."""
        order = self.reachable(root, also)
        while self.closures.update(order):  # the dispatchers of function values call their makers
            order = self.reachable(root, also)
        if self.cyclic and self.merge_cycles(order):
            self.cyclic = set()
            order = self.reachable(root, also)
        self.thread_globals(order)
        return order

    def merge_cycles(self, order: list[str]) -> bool:
        """Each cycle of mutually recursive functions in `order` as one self-recursive function, which
        Numba can cache (compiler/cycles.py); whether any was merged."""
        merged = False
        for members in cycles.sccs([n for n in order if n in self.cyclic], self.callees):
            m = cycles.merge(members, self.instances, self.call_instance)
            if m is None:
                continue  # left cyclic: compiled in each process (lower)
            name = m.function.name
            self.instances[name] = m.function
            self.instances.update(m.wrappers)
            for member in members:
                self.merged_calls[cycles.call_name(member, name)] = name
                self.wrappers[member] = name
            merged = True
        return merged

    def recurses(self, name: str) -> bool:
        """Whether the instance `name` calls itself (a merged cycle does), or is in a cycle typed lazily."""
        return name in self.cyclic or name in self.callees(name)

    def unrollable(self, name: str) -> bool:
        """Whether the function `name` calls itself and is small enough, and its work plain enough,
        to have one level of its recursion inlined: its calls of itself go to a copy of it compiled
        inside it (`inline="always"`), whose calls go back to it, so each native call runs two levels
        of the recursion, as compilers inline a recursive function into itself. Each level is still a
        call for the depth limit (the copy checks it as the function does), and an error in the copy
        is at the same line. Only for numbers and bools in and out, at most UNROLL_CALLS calls of
        itself and UNROLL_NODES IR nodes: there the call is most of the work (fib(30): 1.4x the time
        of hand-written Numba before, 0.9x after: the checks of a language that stops on overflow and
        runaway recursion), while Numba types the copy's calls back by running its type inference
        again for each, about 0.15 s of compile time for fib, 0.6-0.9 s for Ackermann (three calls)
        and n-queens (a loop), which gained nothing measurable, nor did tree walks (reference counts
        are their cost; docs/benchmarks.md). A cycle Numba types lazily is left alone (the copy's
        call back resolves only as a function's call of itself)."""
        if name in self.cyclic or name in self.single_use or name in self.closures.dispatchers.values():
            return False
        f = self.instances[name]
        if not all(t in (INT, FLOAT, F32, BOOL) for t in (*f.type.params, f.type.ret)):
            return False
        calls = sum(1 for n in ir.walk(f.body) if isinstance(n, ir.CallFunc) and self.call_instance(n) == name)
        return 0 < calls <= UNROLL_CALLS and sum(1 for _ in ir.walk(f.body)) <= UNROLL_NODES

    def call_depth(self, caller: str, callee: str, name: str, site: int) -> str:
        """The depth a call from instance `caller` passes to instance `callee` (named `name` in the
        source): one more, checked (E505 at the call), except from a merged cycle's member to the merged
        function, which stands in for the member itself, and to a dispatcher of function values."""
        member = name[:-len(callee) - 1] if name.endswith("@" + callee) else callee  # (a merged call's)
        dispatchers = self.closures.dispatchers.values()
        if self.wrappers.get(caller) == callee or callee in dispatchers or member in dispatchers:
            return "depth"  # (a dispatcher's call is not one of the interpreter's nested calls)
        # a lambda called as a value is one, as the interpreter counts it (a lambda given to a builtin
        # is inlined: not a call)
        shown = "lambda" if member in self.specializer.lifted else cycles.shown(name)
        return f"rt.enter(depth, {shown!r}, {site})"

    def reachable(self, root: str = "main", also: tuple[str, ...] = ()) -> list[str]:
        """Functions reachable from `root` and `also`, callees before callers (post-order), so that
        each can be compiled eagerly with its explicit signature once the functions it calls exist."""
        for name in (root, *also):
            self.instance(name)
        order: list[str] = []
        state: dict[str, int] = {}

        stack: list[str] = []

        def visit(name):
            state[name] = 1
            stack.append(name)
            for c in self.callees(name):
                if c not in state:
                    visit(c)
                elif state[c] == 1 and c != name:  # mutual recursion: the whole cycle compiles lazily
                    self.cyclic.update(stack[stack.index(c):])
            stack.pop()
            state[name] = 2
            order.append(name)
        for name in (root, *also):
            if name not in state:
                visit(name)
        return order

    def thread_globals(self, order: list[str]):
        """For each function, the threaded globals it needs (its own uses and its callees')."""
        uses = {name: {n.name for n in ir.walk(self.instances[name].body)
                       if isinstance(n, ir.Global) and n.name in self.threaded} for name in order}
        for name in order:
            p, st = uses_params(self.instances[name])
            uses[name] |= {PARAMS} if p else set()
            uses[name] |= {STATE} if st else set()
        if any(PARAMS in u for u in uses.values()):
            self.thread_params()
        changed = bool(self.threaded)
        while changed:  # a fixed point: recursion makes the call graph cyclic
            changed = False
            for name in order:
                for c in self.callees(name):
                    if not uses[c] <= uses[name]:
                        uses[name] |= uses[c]
                        changed = True
        index = list(self.threaded)
        self.global_uses = {name: tuple(sorted(u, key=index.index)) for name, u in uses.items()}

    def thread_params(self):
        """Add the parameter buffers to the threaded globals, and read the program's parameter layout."""
        from glia.runtime.params import layout

        from .params import layer_sites, param_dtype, param_specs, state_specs

        sites = layer_sites(self.p)
        dt = FLOAT if param_dtype(self.p, sites).__name__ == "float64" else F32
        self.layout = {}
        for state, specs in ((False, param_specs(self.p, sites)), (True, state_specs(self.p, sites))):
            for s in layout(specs):
                self.layout[(s.name, state)] = (s.offset, s.shape)
        self.threaded[PARAMS] = ("gP", TensorT(dt, (sum(prod(s[1]) for k, s in self.layout.items() if not k[1]),)))
        self.threaded[STATE] = ("gS", TensorT(dt, (sum(prod(s[1]) for k, s in self.layout.items() if k[1]),)))

    def param_layout(self, name: str, state: bool) -> tuple[int, tuple[int, ...]]:
        """(offset, shape) of a parameter (or running statistic, `state`) in its flat buffer."""
        return self.layout[(name, state)]

    def global_args(self, callee: str) -> str:
        return "".join(self.threaded[g][0] + ", " for g in self.global_uses[callee])

    def lower(self, root: str = "main", also: tuple[str, ...] = ()) -> LoweredModule:
        """The module for `root` (main, or any non-generic function called from outside) and
        everything it calls; `also`: more non-generic functions to compile in it (with
        `all_callable`, for Python to call: the differential test's helpers)."""
        token = _CLOSURES.set(self.closures)  # (array_list: a list of function values as records)
        try:
            return self._lower(root, also)
        finally:
            _CLOSURES.reset(token)

    def _lower(self, root: str, also: tuple[str, ...]) -> LoweredModule:
        self.root = root
        self.entries = {root, *also}  # what is called from Python
        order = self.prepare(root, also)
        # Numba compiles a call into a cycle of functions being typed together through a pointer it
        # fills in after linking, which it never fills in for code loaded from its cache (the call
        # jumps to null: numba/numba#6061). So the functions of a cycle that `prepare` could not
        # merge into one (compiler/cycles.py), and every function whose machine code includes theirs
        # (its callers, through gradients too), are compiled again in each process instead of cached.
        self.uncached = set(self.cyclic)
        for name in order:  # callees first: a caller of an uncached function after it
            if any(c in self.uncached for c in self.callees(name)):
                self.uncached.add(name)
        if not self.all_callable:
            # A function called at one place only, not recursively, is inlined into its caller by
            # Numba (`inline="always"`): the caller's module holds its code anyway (Numba links
            # every callee into its caller), so compiling it on its own through LLVM first was
            # compile time for nothing
            uses: dict[str, int] = {}
            for name in order:
                for node in ir.walk(self.instances[name].body):
                    if isinstance(node, (ir.CallFunc, ir.FuncRef)):
                        c = self.call_instance(node)
                        uses[c] = uses.get(c, 0) + (1 if isinstance(node, ir.CallFunc) else 2)
            self.single_use = {n for n in order if uses.get(n) == 1 and n != root and n not in self.cyclic}
        # A function only differentiated (`grad(f)(x)`, never `f(x)`) is not compiled itself: its
        # gradient has its own forward sweep, which calls the function only where a call of it in its
        # own body is a constant to the gradient (a call, so it is compiled then). Its types are
        # checked, and its callees and globals counted, as a called function's.
        called = set(self.entries)
        for name in order:
            called.update(self.callees(name, through_grads=False))
        lowerers = [FunctionLowerer(self, self.instances[name], name) for name in order]
        for fl in lowerers:  # every function's types first, so that a note names the function holding a
            if fl.inst not in self.closures.dispatchers.values():  # value, not the dispatcher it calls
                with _at_function(fl):
                    fl.check_slots()
        lowerers = [fl for fl in lowerers if fl.inst in called]
        self.unrolled = {name for name in order if self.unrollable(name)}
        for fl in lowerers:
            with _at_function(fl):
                if fl.inst in self.unrolled:  # its copy first: the function's own calls of itself inline it
                    self.funcs.append(FunctionLowerer(self, fl.f, fl.inst, copy=True).lower())
                self.funcs.append(fl.lower())
        main = self.p.functions[root]
        head = [
            f"# Generated by Glia from {comment_text(self.p.source.name if self.p.source else '<string>')}: do not "
            "edit.",
            f"# Glia runtime hash: {self.runtime_hash}",
            "import numpy as np",
            "from numba import njit, types",
            "from numba.typed import Dict, List",
            "from glia.runtime import nblist as al",
            "from glia.runtime import nbrt as rt",
            "from glia.runtime import nbstr as nbs",
            "",
        ]
        if any("nbt." in text for text in self.funcs + self.helper_defs):  # tensors (loaded only when used)
            head.insert(-1, "from glia.runtime import nbtensor as nbt")
        for expr, name in self.type_consts.items():
            head.append(f"{name} = {expr}")
        for s, name in self.spec_consts.items():
            head.append(f"{name} = {s!r}")
        head.append(f"SITES = {tuple(self.sites)!r}")
        head.append("")
        text = "\n".join(head) + "\n\n" + "".join(d + "\n\n\n" for d in self.helper_defs) \
            + "\n\n".join(self.funcs) + "\n"
        key = hashlib.sha256(text.encode()).hexdigest()[:20]
        arg_specs = tuple(spec(t, self.p.structs) for t in main.type.params)
        fglobals = {name: tuple((g, spec(self.threaded[g][1], self.p.structs)) for g in uses)
                    for name, uses in self.global_uses.items()}
        return LoweredModule(text, key, self.sites, mangle_func(root), arg_specs, fglobals[root], fglobals,
                             spec(main.type.ret, self.p.structs), dict(self.shown),
                             (main.source_name, main.span.line, main.span.col, main.span.end_line, main.span.end_col),
                             callsites.prelude_callers(self.p, root, self.sites))


@dataclass(frozen=True)
class _FnValue:
    """A function value already computed (FunctionLowerer.fn_arg): its lowered value and type."""

    value: str
    type: FnT
    span: Span


@dataclass
class Buf:
    lines: list[str] = field(default_factory=list)


class FunctionLowerer(TensorLowering):
    # Ctrl-C is read (runtime/interrupt.py) at each pass of every `while`, of every `for` over a list
    # (which may grow while it runs) and of every loop holding another loop, and in every function that
    # calls itself, at two levels in eight of the recursion (its inlined copy, ModuleLowerer.unrolled,
    # reads none); an innermost `for` over a range, a view, a tensor or keys, whose passes are counted
    # before it starts, reads none (a read would keep LLVM from vectorising it).
    POLL = True

    def __init__(self, mod: ModuleLowerer, f: ir.Function, inst: str | None = None, copy: bool = False):
        self.m = mod
        self.f = f
        self.inst = inst or f.name  # the instance this is (a generic function's has its types)
        # `copy`: this is the copy of a self-recursive function that the function's own calls of
        # itself go to, inlined there, whose calls go back to the function (ModuleLowerer.unrolled)
        self.copy = copy
        self.buf: list[str] = []
        self.poll_at = None  # the statement before which a recursive function reads Ctrl-C (lower)
        self.param_views: dict[tuple[str, bool], str] = {}  # the layers' parameters, viewed once (lower_tensor)
        self.param_lines: list[str] = []
        self.indent = 1
        self.ntemp = 0
        self.expr_depth = 0  # how deep `expr` is in one expression (see SPILL_EVERY)
        self.src = f.source_name
        self.lambda_env: list[dict[int, str]] = []  # inlined lambdas: inner slot -> expression
        self.site_at: str | None = None  # the site of the calls in a dispatcher's `fn.at` (closures.py)
        # (list slot, index slot) of the enclosing `for i in range(k, len(xs))` loops whose index is
        # provably within the list (see in_range_index): `xs[i]` needs no bounds check there
        self.safe_index: list[tuple[int, int]] = []
        # in the unchecked copy of a versioned loop (for_range, while_loop)
        self.fast: LoopVersion | WhileVersion | None = None
        # list slot -> (the address of its elements, its length), read before a loop that can neither
        # resize nor rebind the list (viewed): the loop's element reads and writes go through these
        self.views: dict[int, tuple[str, str]] = {}
        # the lists of this function that no other name shares (_private_lists), and what each
        # enclosing loop does to lists (None: it may resize any)
        self.private = _private_lists(f)
        self.effects: list[LoopEffects | None] = []
        self.alive: list[str] = []  # the lists that views of the loops around read: see viewed
        # (list-of-lists slot, row index base, offset) -> (ok, address, length) of a row read before
        # a loop (viewed, _invariant_rows)
        self.row_views: dict[tuple, tuple[str, str, str]] = {}
        self.prefetch_after: dict[int, object] = {}  # while loops' `u = order[j]` and pops: compiler/prefetch.py
        self.builders: dict[int, str] = {}  # str slot -> its parts while the loops around only extend it

    # ---- helpers ------------------------------------------------------------------------------
    def emit(self, line: str):
        self.buf.append("    " * self.indent + line)

    def temp(self) -> str:
        self.ntemp += 1
        return f"_t{self.ntemp}"

    def site(self, span: Span) -> int:
        return self.m.site(span, self.src)

    def unsupported(self, what: str, span: Span):
        raise Unsupported(what, span, self.src)

    def local(self, slot: int, name: str) -> str:
        for env in reversed(self.lambda_env):
            if slot in env:
                return env[slot]
        return mangle_local(slot, name)

    def index_proven(self, container, index) -> bool:
        """Whether `container[index]` is a list indexed by the variable of an enclosing loop that
        provably keeps it in range (never inside an inlined lambda: its slots are its own)."""
        return (not self.lambda_env and isinstance(container, ir.Local) and isinstance(index, ir.Local)
                and (container.slot, index.slot) in self.safe_index)

    def check_type(self, t, span, holder: str = ""):
        """`holder`: what holds a value of type t (a local of the function), for the message."""
        for u in held([t], self.m.p.structs):
            if isinstance(u, FnT) and self.m.closures.layout(u) is None:
                # (a function value with a layout: its slots are checked where the values they hold are made)
                self.unsupported((self.m.closures.problem(u) or _FN_UNKNOWN) + (f" (here {holder})" if holder else ""),
                                 span)
            inside = (u.key, u.val) if isinstance(u, DictT) else (u.elem,) if isinstance(u, (ListT, SetT)) else ()
            if any(_sizeless(x) for x in inside):
                # (a typed List of them divided by their size, 0: SIGFPE; a typed Dict is not typed)
                self.unsupported(f"containers of empty tuples `()` ({u}: Numba's containers hold no items of size "
                                 "0)", span)
            if isinstance(u, (DictT, SetT)):
                key = u.key if isinstance(u, DictT) else u.elem
                self.check_key(key, span)
                if holds_functions(key, self.m.p.structs):
                    self.unsupported("function values as dict keys or set elements (the interpreter compares "
                                     "them by identity)", span)

    def check_key(self, t, span):
        """Unsupported when dict keys or set elements of type `t` hold a struct that holds itself:
        compiled code does not hash those (its boxes would hash as addresses)."""
        name = self.m.boxed_in(t)
        if name:
            self.unsupported(f"dict keys or set elements that hold a struct {name}, which holds a {name}", span)

    # ---- function -----------------------------------------------------------------------------
    def check_slots(self):
        """Whether the types of the function's parameters, locals and result compile (Unsupported)."""
        f = self.f
        dispatcher = self.inst in self.m.closures.dispatchers.values()  # (Glia's own: its names are not the user's)
        for slot, t in enumerate(f.slot_types):
            kind = "parameter" if slot < len(f.params) else "local"
            name = f.slot_names[slot]
            holder = (f"a call of a {f.slot_types[0]} value" if dispatcher else f"{f.name}'s {kind} '{name}'") \
                if not name.startswith("$") else ""
            self.check_type(t, f.span, holder)
        self.check_type(f.type.ret, f.span)
        if self.inst in self.m.entries:  # what crosses from and to the interpreter
            crossing = [("", t) for t in (*f.type.params, f.type.ret)] + \
                [(f" (the global '{g}')", self.m.threaded[g][1]) for g in self.m.global_uses[self.inst]]
            for what, t in crossing:
                name = self.m.boxed_in(t)
                if name:
                    self.unsupported(f"passing a struct {name}, which holds a {name}, between compiled code and the "
                                     f"interpreter{what}", f.span)

    def lower(self) -> str:
        f = self.f
        self.check_slots()
        gnames = self.m.global_uses[self.inst]
        params = [mangle_local(i, n) for i, n in enumerate(f.params)] + [self.m.threaded[g][0] for g in gnames] \
            + ["depth"]
        fname = unrolled_name(self.inst) if self.copy else mangle_func(self.inst)
        if self.POLL and not self.copy and self.m.recurses(self.inst):
            # Ctrl-C is read (at some depths: interrupt.poll_deep) before the first statement that
            # calls, so that a base case returns without reading it
            self.poll_at = next((st for st in f.body if any(isinstance(n, (ir.CallFunc, ir.CallValue))
                                                            for n in ir.walk(st))), None)
        self.block(f.body)
        body = self.buf
        options = "cache=True" if self.inst not in self.m.uncached else "cache=False"
        if self.inst != self.m.root and (not self.m.all_callable or any(
                map(self.m.boxed_in, (*f.type.params, f.type.ret)))):  # (Python cannot pass a box)
            options += ", no_cpython_wrapper=True, no_cfunc_wrapper=True"  # called from compiled code only
        if self.inst in self.m.single_use or self.copy:
            deco = '@njit(inline="always")'  # typed and compiled inside its only caller
        elif self.inst in self.m.cyclic:
            deco = f"@njit({options})"
        else:  # an explicit signature: compilation happens at import (typing still needs a base case: below)
            ret = "types.none" if f.type.ret == NONE else self.m.nbtype(f.type.ret)
            ptypes = list(f.type.params) + [self.m.threaded[g][1] for g in gnames]
            sig = f"{ret}(" + "".join(self.m.nbtype(t) + ", " for t in ptypes) + "types.int64)"
            deco = f"@njit({sig}, {options})"
        out = [deco, f"def {fname}({', '.join(params)}):",
               f"    # {self.inst} at {comment_text(f.source_name)}:{f.span.line}"]
        if (self.m.all_callable or self.inst == self.m.root or self.inst in self.m.cyclic) and not self.copy:
            # Python may pass any depth; compiled callers pass `rt.enter(depth)`, which has checked it
            # (a cyclic function keeps the check as Numba's type inference needs a base case: below)
            out += [f"    if depth > rt.MAX_DEPTH:",
                    f"        rt.too_deep({f.name!r}, {self.site(f.span)})",
                    # never reached (too_deep raises), but it gives type inference a base case
                    f"        return {self.default(f.type.ret)}"]
        elif not self.returns_without_recursing():
            # a function that never returns but through a call of itself (it ends by an error, E505 at
            # the latest): even with a signature, Numba refuses to type it ("runaway recursion")
            # without a return it can type otherwise; this one is never taken
            out += ["    if depth < 0:", f"        return {self.default(f.type.ret)}"]
        if f.type.ret == NONE:
            body.append("    return None")
        return "\n".join(out + self.param_lines + body)

    def returns_without_recursing(self) -> bool:
        """Whether the function has a `return` whose value Numba can type without typing a call of the
        function itself: none of its calls is one, and none of its locals was computed from one."""
        f = self.f
        if f.type.ret == NONE:
            return True
        nodes = list(ir.walk(f.body))

        def recursive_call(n) -> bool:
            return isinstance(n, ir.CallFunc) and self.m.call_instance(n) == self.inst

        tainted: set[int] = set()
        changed = True
        while changed:
            changed = False
            for n in nodes:
                if isinstance(n, ir.Assign) and isinstance(n.target, ir.StoreLocal) and n.target.slot not in tainted \
                        and any(recursive_call(x) or isinstance(x, ir.Local) and x.slot in tainted
                                for x in ir.walk(n.value)):
                    tainted.add(n.target.slot)
                    changed = True
        return any(isinstance(n, ir.Return) and n.value is not None
                   and not any(recursive_call(x) or isinstance(x, ir.Local) and x.slot in tainted
                               for x in ir.walk(n.value)) for n in nodes)

    def default(self, t, boxed: bool = False) -> str:
        """An expression of type `t` (for paths that are never taken); `boxed`: of a box for a `t`."""
        if boxed:
            return "al.no_box()"
        match t:
            case Scalar("int"):
                return "0"
            case Scalar("float"):
                return "0.0"
            case Scalar("f32"):
                return "np.float32(0.0)"
            case Scalar("bool"):
                return "False"
            case Scalar("str"):
                return "''"
            case Scalar("None"):
                return "None"
            case ListT(e):
                return self.m.empty_list(e)
            case DictT(k, v):
                return f"rt.dict_new({self.m.nbtype(k)}, {self.m.nbtype(v)})"
            case SetT(e):
                return f"rt.dict_new({self.m.nbtype(e)}, types.boolean)"
            case TupleT(items):
                return "(" + "".join(self.default(i) + ", " for i in items) + ")"
            case StructT(name):
                return "(" + "".join(self.boxed_field(name, i, self.default(x)) + ", "
                                     for i, x in enumerate(self.m.p.structs[name].types)) + ")"
            case TensorT(dtype, shape):
                return f"np.zeros({(1,) * len(shape)!r}, {'np.float32' if dtype == F32 else 'np.float64'})"
            case FnT() if self.m.closures.layout(t) is not None:
                lay = self.m.closures.layout(t)
                return self.fn_tuple(0, lay, [self.default(s, b) for s, b in zip(lay.slots, lay.boxed)])
        self.unsupported(f"values of type {t}", self.f.span)

    def block(self, stmts):
        if not stmts:
            self.emit("pass")
            return
        i = 0
        while i < len(stmts):
            if stmts[i] is self.poll_at:
                self.emit("rt.poll_deep(depth)  # Ctrl-C: recursion may have no loop to read it in")
            update = dict_update(stmts, i)
            if update:
                self.dict_update(update, stmts[i].span)
                i += update.count
            else:
                self.stmt(stmts[i])
                ahead = self.prefetch_after.get(id(stmts[i]))
                if isinstance(ahead, prefetch.InOrder):
                    order, j = self.local(ahead.order.slot, ahead.order.name), self.local(ahead.counter.slot, ahead.counter.name)
                    self.prefetch(ahead.rows, lambda xss: f"al.prefetch_in_order({xss}, len({xss}), {order}, {j})")
                elif isinstance(ahead, prefetch.Front):
                    h, k = self.local(ahead.heap.slot, ahead.heap.name), -1 if ahead.item is None else ahead.item
                    self.prefetch(ahead.rows, lambda xss: f"al.prefetch_front({xss}, len({xss}), {h}, {k})")
                i += 1

    def dict_update(self, u: DictUpdate, span: Span):
        """One look-up for a read-and-write of a dict's number (compiler/fused.py)."""
        self.emit(f"# line {span.line}")
        d, k, delta = self.expr(u.dict), self.expr(u.key), self.expr(u.delta)
        site = self.site(u.op.span)
        if u.default is not None:
            self.emit(f"rt.dict_add_get({d}, {k}, {self.expr(u.default)}, {delta}, {u.sub}, {site})")
            return
        key_site = self.m.shown_site(u.read.span, self.src, u.key.type)
        call = f"rt.dict_add_item({d}, {k}, {delta}, {u.sub}, {key_site}, {site})"
        if u.result is None:
            self.emit(call)
        else:
            self.store(u.result, call)

    @contextmanager
    def built(self, loop):
        """Around a loop: the str locals it only extends (builder_slots) kept as their parts while it
        runs (rt.sb_new before it, rt.sb_add at each `s += x`), joined once after it."""
        slots = [slot for slot in builder_slots(loop) if slot not in self.builders]
        names = {slot: self.temp() for slot in slots}
        for slot in slots:
            self.emit(f"{names[slot]} = rt.sb_new({self.local(slot, self.f.slot_names[slot])})")
        self.builders.update(names)
        try:
            yield
        finally:
            for slot in slots:
                del self.builders[slot]
        for slot in slots:
            self.emit(f"{self.local(slot, self.f.slot_names[slot])} = rt.sb_str({names[slot]})")

    # ---- statements ---------------------------------------------------------------------------
    def stmt(self, s):
        line = getattr(s, "span", None)
        match s:
            case ir.Assign(ir.StoreLocal(slot), ir.Prim(op="str.concat", args=(_, x)), span) \
                    if slot in self.builders:  # `s += x` in a loop that only extends s (builder_slots)
                self.emit(f"# line {span.line}")
                for part in _concat_parts(x):  # (`s += a + b`: a and b added, not a + b made first)
                    self.emit(f"{self.builders[slot]} = rt.sb_add({self.builders[slot]}, {self.expr(part)})")
            case ir.Assign(target, value, span):
                self.emit(f"# line {span.line}")
                v = self.expr(value)
                self.store(target, v)
            case ir.ExprStmt(e, span):
                self.emit(f"# line {span.line}")
                v = self.expr(e)
                if v not in ("None", ""):
                    self.emit(v)
            case ir.If(cond, then, orelse, span):
                c = self.condition(cond)
                self.emit(f"if {c}:  # line {span.line}")
                self.indent += 1
                self.block(then)
                self.indent -= 1
                if orelse:
                    self.emit("else:")
                    self.indent += 1
                    self.block(orelse)
                    self.indent -= 1
            case ir.While(cond, body, span):
                with self.viewed(cond, body), self.built(s):
                    self.while_loop(cond, body, span)
            case ir.ForRange(target, start, stop, step, body, span):
                with self.viewed(target, start, stop, step, body), self.built(s):  # (the target: assigned in the loop)
                    self.for_range(target, start, stop, step, body, span)
            case ir.For(target, it, kind, body, span):
                with self.viewed(target, it, body, iterated=it), self.built(s):
                    self.for_loop(target, it, kind, body, span)
            case ir.Break():
                self.emit("break")
            case ir.Continue():
                self.emit("continue")
            case ir.Return(value, span):
                if value is None:
                    for xs in self.alive:
                        self.emit(f"al.keep({xs})")
                    self.emit("return None")
                else:
                    v = self.expr(value)
                    for xs in self.alive:  # the value is read before the lists may be freed
                        v = f"al.kept({v}, {xs})"
                    self.emit(f"return {v}  # line {span.line}")
            case ir.Assert(cond, msg, span):
                c = self.expr(cond)
                self.emit(f"if not {c}:  # line {span.line}")
                self.indent += 1
                m = self.expr(msg) if msg is not None else "''"
                self.emit(f"rt.assertion_failed({m}, {self.site(span)})")
                self.indent -= 1
            case _:
                self.unsupported(f"the statement {type(s).__name__}", line or self.f.span)

    @contextmanager
    def viewed(self, *parts, iterated=None):
        """Around the lowering of a loop whose parts (bounds, condition, body) are `parts`: when
        nothing in them can resize a list or rebind it (no call, no append, pop, ...: _viewable),
        the address of the elements and the length of each ArrayList (of scalars or tuples of them) the loop indexes (or
        `iterated`, the list a `for` walks) are read once before it, into locals that its element
        reads and writes use. Otherwise an ArrayList's fields are re-read after every store (LLVM
        cannot tell that a store into one array leaves every list's fields unchanged); and the
        address, unlike `xs.data`, takes no reference: an atomic increment and decrement per list
        and loop cost merge sort 60 ns a call.

        So the lists themselves must outlive the loop: Numba frees a variable's value after its last
        use, which would be the view's `len(xs)` (a list literal passed to a function inlined into its
        caller, a local list walked once). Each is used again by `al.keep` after the loop and in each
        `return` inside it (self.alive)."""
        effects = None if self.lambda_env else _viewable(parts, iterated, self.private, self.m.reach)
        added = [] if effects is None else [(slot, xs) for slot, xs in effects.views.items() if slot not in self.views]
        self.effects.append(effects)
        kept = len(self.alive)
        for slot, local in added:
            d, n = self.temp(), self.temp()
            xs = self.local(local.slot, local.name)
            self.emit(f"{d}, {n} = al.data_ptr({xs}), len({xs})  # no resize in the loop")
            self.views[slot] = (d, n)
            self.alive.append(xs)
        rows = [] if effects is None or effects.list_slots else \
            [(key, row) for key, row in _invariant_rows(parts, effects.changed).items()
             if key not in self.row_views and effects.keeps(row.args[0], row)]
        for key, row in rows:
            ok, d, n = self.temp(), self.temp(), self.temp()
            xss = self.local(row.args[0].slot, row.args[0].name)
            _, base, offset = key
            i = str(base) if isinstance(base, int) else self.local(base[0], base[1])
            self.emit(f"{ok}, {d}, {n} = rt.row_view({xss}, {i}, {offset})  # the row, when its index is good")
            self.row_views[key] = (ok, d, n)
            self.alive.append(xss)
        try:
            yield
            for xs in self.alive[kept:]:
                self.emit(f"al.keep({xs})")
        finally:
            self.effects.pop()
            del self.alive[kept:]
            for slot, _ in added:
                del self.views[slot]
            for key, _ in rows:
                del self.row_views[key]

    def view_element(self, container, index, i: str, span, value: str | None = None) -> str:
        """`container[index]` (`i`: the lowered index) through the list's view: its read, or with
        `value` the statement that writes it; without a bound check where the index is proven in range."""
        d, n = self.view(container)
        if value is None and isinstance(self.versioned(), LoopVersion) and self.fast.carries(container, index):
            return self.fast.carry
        if not (self.index_proven(container, index) or self.unchecked(container, index)):
            i = f"rt.view_index({i}, {n}, {self.site(span)})"
        return f"al.at({d}, {i})" if value is None else f"al.put({d}, {i}, {value})"

    def row_element(self, row: ir.Prim, index, span, value: str | None = None) -> str:
        """`xss[i][j]` (`row` is `xss[i]`, `index` is `j`): the row's slot checked first, then `j`
        computed, as Python does; then the element read in place (rt.row_at), or with `value` the
        statement that writes it (rt.row_put). A dynamic-programming table's `dp[i - 1][j]` took the
        row out of the typed List, a call and a reference count per access: slower than CPython.
        Inside a loop that read the row before it (viewed, rt.row_view), through that: when its
        index was bad there, the check here fails as it would have (`i` and `xss` are unchanged)."""
        key = self.row_key(row)
        if key in self.row_views and self.unchecked(row, index):  # the loop's test read it, long enough
            _, d, _ = self.row_views[key]
            j = self.expr(index)
            return f"al.at({d}, {j})" if value is None else f"al.put({d}, {j}, {value})"
        if key in self.row_views:
            ok, d, n = self.row_views[key]
            lines, i = self.sub(row.args[1])
            self.emit(f"if not {ok}:")
            self.indent += 1
            for ln in lines:
                self.emit(ln)
            self.emit(f"rt.view_index({i}, len({self.expr(row.args[0])}), {self.site(row.span)})  # fails")
            self.indent -= 1
            j = f"rt.view_index({self.expr(index)}, {n}, {self.site(span)})"
            return f"al.at({d}, {j})" if value is None else f"al.put({d}, {j}, {value})"
        xss = self.kept(self.expr(row.args[0]))
        r = self.temp()
        self.emit(f"{r} = rt.view_index({self.expr(row.args[1])}, len({xss}), {self.site(row.span)})")
        j = self.expr(index)
        if value is None:
            return f"rt.row_at({xss}, {r}, {j}, {self.site(span)})"
        return f"rt.row_put({xss}, {r}, {j}, {value}, {self.site(span)})"

    def viewed_row(self, row: ir.Prim) -> tuple | None:
        """The key of `row` when a loop around has read it before (row_views), else None."""
        key = self.row_key(row)
        return key if key in self.row_views else None

    def row_key(self, row: ir.Prim) -> tuple | None:
        """The key of `row` (`xss[i + c]`) among self.row_views (_invariant_rows), if it has one."""
        if self.lambda_env or not isinstance(row.args[0], ir.Local):
            return None
        base, offset = _local_plus_const(row.args[1])
        return None if base is None else (row.args[0].slot, base, offset)

    def view(self, container) -> tuple[str, str] | None:
        """(data array, length) of the list `container` when a loop around has hoisted them."""
        if self.lambda_env or not isinstance(container, ir.Local):
            return None
        return self.views.get(container.slot)

    def condition(self, e) -> str:
        """The expression deciding an `if` or a `while` (the CUDA lowering checks it for errors first)."""
        return self.expr(e)

    def while_loop(self, cond, body, span):
        """`while cond: body`; versioned (WhileVersion) when it is an innermost loop indexing lists or
        strings by counters."""
        def loop():
            self.loop_head(cond, span)
            self.poll(body, unbounded=True)
            self.block(body)
            self.indent -= 1

        version = None if self.lambda_env else WhileVersion.plan(cond, body)
        plans = {} if self.lambda_env else \
            prefetch.in_order(body, _rows_type) | prefetch.front_pops(body, _rows_type, self.callee)
        self.prefetch_after.update(plans)
        try:
            self.twice(version, None if version is None else self.while_test(version), loop)
        finally:
            for k in plans:
                del self.prefetch_after[k]

    def callee(self, call: ir.CallFunc):
        """The function (instance) that `call` runs."""
        return self.m.instances.get(self.m.call_instance(call))

    def prefetch(self, rows, call):
        """Prefetch the rows of the lists of lists `rows` (locals) that the loop will read next:
        `call(xss)` is the runtime call for one (compiler/prefetch.py, runtime/nblist.py)."""
        for xss in rows:
            self.emit(call(self.local(xss.slot, xss.name)) + "  # prefetch the rows read next")

    def poll(self, body, unbounded: bool = False):
        """At the top of a loop's body: read Ctrl-C at each pass when the loop may run unbounded or
        holds another loop (POLL)."""
        if self.POLL and not self.lambda_env and (unbounded or _holds_loop(body)):
            self.emit("rt.poll()  # Ctrl-C")

    def loop_head(self, cond, span):
        """The head of `while cond:` (indented into its body): `while True:` then `if not cond: break`,
        so the test's own statements run at each pass; `while True:` itself as `while rt.always():`,
        a True that Numba cannot see (LLVM folds it): Numba cannot type a loop that Python leaves only
        by `break` (`if c: break else: ...`), and one it never leaves (no `break` or `return`: it ends
        in an error) broke its liveness analysis, even as `go = True` / `while go:`."""
        if isinstance(cond, ir.Const) and cond.value is True:
            self.emit(f"while rt.always():  # line {span.line}")
            self.indent += 1
            return
        self.emit(f"while True:  # line {span.line}")
        self.indent += 1
        c = self.condition(cond)
        self.emit(f"if not {c}:")
        self.emit("    break")

    def twice(self, version, test: str | None, loop):
        """`loop()` lowered twice when `test` (which makes `version`'s accesses in range) is not None:
        a copy without the checks it makes redundant, run when it holds, and the original."""
        if test is None:
            loop()
            return
        self.emit(f"if {test}:  # every index in range: no bound checks")
        self.indent += 1
        for key, operand in version.chars.items():  # the code points compared with s[j + c]
            version.codes[key] = code = self.temp()
            self.emit(f"{code} = rt.char_code({self.expr(operand)})")
        strings = version.containers.items() if isinstance(version, LoopVersion) else ()
        for slot, s in strings:  # the strings whose characters it reads
            if s.type == STR:
                version.strs[slot] = d, k = self.temp(), self.temp()
                self.emit(f"{d}, {k} = rt.str_buffer({self.expr(s)})")
        self.fast = version
        try:
            loop()
        finally:
            self.fast = None
        self.indent -= 1
        self.emit("else:")
        self.indent += 1
        loop()
        self.indent -= 1

    def while_test(self, v: "WhileVersion") -> str:
        """The test that every index of `v` stays within [0, len) throughout the loop."""
        terms, trips = [], None
        for slot, spans in v.spans.items():
            xs = v.containers[slot]
            n = self.view(xs)[1] if self.view(xs) is not None else f"len({self.expr(xs)})"
            for key, (lo, hi, top) in spans.items():
                if isinstance(key, tuple):  # an invariant index
                    index = v.fixed[key]
                    k = self.expr(index)
                    terms.append(f"{k} < {n}" if isinstance(index, ir.Const) else f"0 <= {k} < {n}")
                    continue
                i = self.local(key, v.names[key])
                if key in v.guards:
                    b, inclusive = v.guards[key]
                    terms.append(f"rt.guarded_fits({i}, {self.expr(b)}, {lo}, {hi}, {top + inclusive}, {n})")
                    continue
                if trips is None:
                    trips = self.temp()
                    bounds = ", ".join(f"(np.int64({self.expr(b)}), np.int64({self.local(g, v.names[g])}), "
                                       f"np.int64({inclusive}))" for g, (b, inclusive) in v.guards.items())
                    self.emit(f"{trips} = rt.trips(({bounds},))  # passes of the loop below, at most")
                terms.append(f"rt.counted_fits({i}, {trips}, {v.counters[key]}, {lo}, {hi}, {top}, {n})")
        return " and ".join(terms)

    def for_range(self, target, start, stop, step, body, span):
        """`for target in range(start, stop, step): body`; versioned (LoopVersion) when it is an
        innermost loop indexing lists or strings by its variable."""
        # in order, as Python evaluates range's arguments, each once (the step is read again below)
        a, z, st = (self.kept(x) for x in self.exprs([start, stop, step]))
        if not (isinstance(step, ir.Const) and step.value != 0):
            self.emit(f"rt.check_step({st}, {self.site(span)})")
        safe = in_range_index(target, start, stop, step, body)
        version = None if self.lambda_env else LoopVersion.plan(target, step, body, self.safe_index + safe,
                                                                self.viewed_row)
        cond = None
        if version is not None:
            a, z = self.kept(a), self.kept(z)
            cond = self.version_condition(version, a, z)
        self.twice(version, cond, lambda: self.range_loop(target, a, z, st, body, span, safe))

    def range_loop(self, target, a: str, z: str, st: str, body, span, safe):
        """The loop itself over lowered bounds; `safe`: in_range_index's pairs for its body."""
        v = self.local(target.slot, target.name)
        fast = self.versioned()
        xs = fast.carried if isinstance(fast, LoopVersion) else None
        view = self.view(xs) if xs is not None else None
        if view is not None:  # xs[j - 1] carried in a local (LoopVersion.carried_list)
            fast.carry = self.temp()
            self.emit(f"{fast.carry} = al.at({view[0]}, {a} - 1) if {a} < {z} else {self.default(xs.type.elem)}")
        self.range_head(v, a, z, st, span, isinstance(fast, LoopVersion))
        self.indent += 1
        self.safe_index.extend(safe)
        try:
            self.poll(body)
            self.block(body)
            if view is not None:
                self.emit(f"{fast.carry} = al.at({view[0]}, {v})  # what this iteration stored, for the next")
        finally:
            if view is not None:
                fast.carry = None
        del self.safe_index[len(self.safe_index) - len(safe):]
        self.indent -= 1

    def range_head(self, v: str, a: str, z: str, st: str, span, bounded: bool = False):
        """`for v in range(a, z, st):` (names or literals; its body follows, one level in). Numba's
        range counts its passes from `z - a`, which overflows: `range(-5, 2 ** 63 - 1, 2 ** 63 - 1)`
        ran no pass, `range(1, -2 ** 63)` 2 ** 63 - 1 of them. A step of 1 keeps Numba's loop (the hot
        one: LLVM knows it best) with a stop that cannot overflow (`range(z)` cannot, nor the copy of a
        versioned loop, `bounded`, whose test holds `a <= z` within a list's indices); any other step
        counts the passes in unsigned arithmetic and computes each value, `a + k * st`, wrapping
        (`k * st` may not fit where the sum does; Numba's signed arithmetic may not wrap: LLVM's nsw)."""
        if st == "1":
            stop = z if a == "0" or bounded else f"rt.range_stop({a}, {z})"
            self.emit(f"for {v} in range({stop if a == '0' else f'{a}, {stop}'}):  # line {span.line}")
            return
        k = self.temp()
        self.emit(f"for {k} in range(rt.range_count({a}, {z}, {st})):  # line {span.line}")
        self.emit(f"    {v} = {a} - {k}" if st == "-1" else f"    {v} = rt.range_value({a}, {k}, {st})")

    def kept(self, value: str) -> str:
        """`value`, or a temporary holding it when it is not a plain name or literal (to use it twice)."""
        if _ATOM.fullmatch(value):
            return value
        tmp = self.temp()
        self.emit(f"{tmp} = {value}")
        return tmp

    def version_condition(self, v: "LoopVersion", lo: str, hi: str) -> str | None:
        """The test that every index of `v` stays within [0, len) for j in range(lo, hi); None when
        it can never hold (`lo` a constant below -v.low)."""
        terms = []
        if _INT_LITERAL.fullmatch(lo):
            if int(lo) + v.low < 0:
                return None
        else:
            terms.append(f"{lo} >= {-v.low}")
        terms.append(f"{lo} <= {hi}")  # (so hi - lo cannot overflow: the copy runs Numba's range as it is)
        def fits(n: str, c: int) -> str:  # hi + c <= n
            return f"{hi} <= {n}" + (f" - {c}" if c > 0 else f" + {-c}" if c < 0 else "")
        for slot, c in v.high.items():
            terms.append(fits(f"len({self.expr(v.containers[slot])})", c))
        for key, c in v.rows.items():  # a row read before the loop: read, and long enough
            ok, _, n = self.row_views[key]
            terms.append(f"{ok} and {fits(n, c)}")
        for slot, indices in v.fixed.items():
            n = f"len({self.expr(v.containers[slot])})"
            for key, index in indices.items():
                if key[0] == "shifted":  # wrapping: an overflow leaves [0, len) and fails the test
                    base, c = _local_plus_const(index)
                    k = f"({self.local(*base)} {'+' if c > 0 else '-'} {abs(c)})"
                else:
                    k = self.expr(index)
                terms.append(f"{k} < {n}" if isinstance(index, ir.Const) else f"0 <= {k} < {n}")
        return " and ".join(terms)

    def versioned(self) -> "LoopVersion | None":
        """The versioned loop whose unchecked copy is being lowered (not inside a lambda's body)."""
        return None if self.lambda_env else self.fast

    def unchecked(self, container, index) -> bool:
        """Whether `container[index]` is in the unchecked copy of a versioned loop and proven in range."""
        return self.versioned() is not None and self.fast.covers(container, index)

    def for_loop(self, target, it, kind, body, span):
        if _is_split(it):
            self.store(target, self.split_loop(it, span))
            self.poll(body)
            self.block(body)
            self.indent -= 1
            return
        view = self.view(it) or (self.element_view(it, span) if kind == "list" else None)
        if view is not None:  # the loop cannot change the list's length: one pass over its view
            i = self.temp()
            self.emit(f"for {i} in range({view[1]}):  # line {span.line}")
            self.indent += 1
            self.store(target, f"al.at({view[0]}, {i})")
            if not self.lambda_env and it.type == ListT(INT):
                d, n = view
                self.prefetch(prefetch.walked(target, body, _rows_type),
                              lambda xss: f"al.prefetch_in_view({xss}, len({xss}), {d}, {n}, {i})")
            self.poll(body)
            self.block(body)
            self.indent -= 1
            return
        seq = self.expr(it)
        s = self.temp()
        self.emit(f"{s} = {seq}  # line {span.line}")
        i = self.temp()
        if kind in ("list", "str"):
            item = self.open_loop(s, it.type, fresh=True)
            self.store(target, item)
            self.poll(body, unbounded=kind == "list")
            self.block(body)
            self.indent -= 1
        elif kind in ("dict", "set"):
            self.store(target, self.open_keys_loop(s, kind, span))
            self.poll(body)
            self.block(body)
            self.indent -= 1
        elif kind == "tensor":  # its rows (elements of a vector)
            self.emit(f"for {i} in range({s}.shape[0]):")
            self.indent += 1
            self.store(target, f"{s}[{i}]")
            self.poll(body)
            self.block(body)
            self.indent -= 1
        else:
            self.unsupported(f"iteration over a {kind}", span)

    def element_view(self, it, span) -> tuple[str, str] | None:
        """A view of the list that `for x in it` walks, `it` not a local (`adj[u]`, `f(x)`), when
        the loop can resize no list it does not own (the list `it` gives is nobody's private one),
        and its elements are scalars or tuples. An element of a typed List (`adj[u]`, `adj` a local
        the loop neither assigns nor stores into a typed List through) is read in place: its
        address and length, with no reference taken and no call into the typed List."""
        effects = self.effects[-1] if self.effects else None
        if effects is None or isinstance(it, ir.Local) or not array_list(it.type) or it.type in effects.reached:
            return None
        d, n = self.temp(), self.temp()
        if isinstance(it, ir.Prim) and it.op == "list.getitem" and isinstance(it.args[0], ir.Local) \
                and effects.keeps(it.args[0], it):
            xs, index = it.args
            c, i = self.expr(xs), self.expr(index)
            if not (self.index_proven(xs, index) or self.unchecked(xs, index)):
                i = f"rt.view_index({i}, len({c}), {self.site(it.span)})"
            self.emit(f"{d}, {n} = al.item_view({c}, {i})  # line {span.line}: no resize in the loop")
            self.alive.append(c)
            return d, n
        s = self.temp()
        self.emit(f"{s} = {self.expr(it)}  # line {span.line}")
        self.emit(f"{d}, {n} = al.data_ptr({s}), len({s})  # no resize in the loop")
        self.alive.append(s)
        return d, n

    def split_loop(self, it: ir.Prim, span=None) -> str:
        """Open a loop over the parts of `s.split()` / `s.split(sep)`, made one at a time as the loop
        reaches them, without the list (the same parts, in the same order; an empty separator is the
        same error, before the first iteration); returns the part."""
        args = self.exprs(it.args)
        s, start, end = self.temp(), self.temp(), self.temp()
        self.emit(f"{s} = {args[0]}" + (f"  # line {span.line}" if span else ""))
        if len(args) == 2:  # the next part starts at `after`, past len(s) once the last is made
            sep, after = self.temp(), self.temp()
            self.emit(f"{sep} = {args[1]}")
            self.emit(f"rt.check_sep({sep}, {self.site(it.span)})")
            self.emit(f"{after} = 0")
            self.emit(f"while {after} <= len({s}):")
            self.indent += 1
            self.emit(f"{start} = {after}")
            self.emit(f"{end}, {after} = rt.str_next_part({s}, {sep}, {after})")
        else:
            go = self.temp()  # (a flag, not `while True:`: while_loop)
            self.emit(f"{end}, {go} = 0, True")
            self.emit(f"while {go}:")
            self.indent += 1
            self.emit(f"{start}, {end} = rt.str_next_word({s}, {end})")
            self.emit(f"if {start} < 0:")
            self.emit("    break")
        return f"rt.str_part({s}, {start}, {end})"

    def store(self, target, value: str):
        match target:
            case ir.StoreLocal(slot, name):
                self.emit(f"{self.local(slot, name)} = {value}")
            case ir.StoreTuple(items):
                if all(isinstance(t, ir.StoreLocal) for t in items):
                    names = [self.local(t.slot, t.name) for t in items]
                    self.emit(f"{', '.join(names)}{',' if len(names) == 1 else ''} = {value}")
                else:
                    tmp = self.temp()
                    self.emit(f"{tmp} = {value}")
                    for k, t in enumerate(items):
                        self.store(t, f"{tmp}[{k}]")
            case ir.StoreIndex(container, index, op, span):
                if not all(isinstance(x, (ir.Local, ir.Const)) for x in (container, index)):
                    value = self.kept(value)  # Python computes the value before the target's container and index
                if op == "list.setitem" and _is_row(container):
                    self.emit(self.row_element(container, index, span, value))
                    return
                if op == "tensor.setitem":
                    self.store_tensor(container, index, value, span)
                    return
                c, i = self.expr(container), self.expr(index)
                if op == "list.setitem" and self.view(container) is not None:
                    value = self.kept(value)  # computed before the index's check, as rt.list_setitem's argument is
                    self.emit(self.view_element(container, index, i, span, value))
                elif op == "list.setitem" and self.unchecked(container, index):
                    self.emit(f"al._store({c}, {i}, {value})" if array_list(container.type) else f"{c}[{i}] = {value}")
                elif op == "list.setitem" and self.index_proven(container, index):
                    self.emit(f"{c}[{i}] = {value}")
                elif op == "list.setitem":
                    self.emit(f"rt.list_setitem({c}, {i}, {value}, {self.site(span)})")
                elif op == "dict.setitem":
                    self.emit(f"rt.dict_set({c}, {i}, {value})")
                else:
                    self.unsupported(f"assignment through {op}", span)

    # ---- expressions --------------------------------------------------------------------------
    def sub(self, e) -> tuple[list[str], str]:
        """Lower `e` into a separate buffer (for code that may not run: short-circuits, branches)."""
        saved, saved_indent = self.buf, self.indent
        self.buf, self.indent = [], 0
        try:
            v = self.expr(e)
            return self.buf, v
        finally:
            self.buf, self.indent = saved, saved_indent

    def exprs(self, args, lower=None) -> list[str]:
        """Lower `args` left to right (with `lower(k, arg)`, default `expr`). When an argument emits
        statements (a loop, a temporary), every earlier value that is not a plain name or literal is
        first stored in a temporary, so that it is computed before those statements, as in Python
        (`print(xs.pop(), reversed(xs))` pops first)."""
        vals: list[str] = []
        for k, a in enumerate(args):
            mark = len(self.buf)
            v = lower(k, a) if lower else self.expr(a)
            if len(self.buf) > mark:
                for j, prev in enumerate(vals):
                    if not _ATOM.fullmatch(prev):
                        tmp = self.temp()
                        self.buf.insert(mark, "    " * self.indent + f"{tmp} = {prev}")
                        mark += 1
                        vals[j] = tmp
            vals.append(v)
        return vals

    def guarded(self, lines: list[str], value: str, into: str):
        for ln in lines:
            self.emit(ln)
        self.emit(f"{into} = {value}")

    # Every SPILL_EVERY levels of nested expression, a compound value is stored in a temporary, so that
    # the generated source never nests deeper than Python's parser allows (200 parentheses): a chain
    # `1 + 1 + ... + 1` of 2000 terms is 2000 nested operations. (Storing a value computed first is in
    # order: `exprs` first stores the values its earlier arguments computed.)
    SPILL_EVERY = 40

    def expr(self, e) -> str:
        self.expr_depth += 1
        try:
            v = self.expr_text(e)
        finally:
            self.expr_depth -= 1
        if self.expr_depth % self.SPILL_EVERY == 0 and self.expr_depth and not _ATOM.fullmatch(v):
            tmp = self.temp()
            self.emit(f"{tmp} = {v}")
            return tmp
        return v

    def expr_text(self, e) -> str:
        if isinstance(e, (ir.MakeList, ir.MakeSet, ir.MakeDict, ir.Comprehension)):  # (containers not in a local)
            self.check_type(e.type, e.span)
        match e:
            case ir.Const(value, t, span):
                return self.const(value, t, span)
            case ir.Local(slot, name):
                return self.local(slot, name)
            case ir.Global(name, t, span):
                return self.m.threaded[name][0]
            case ir.CallFunc(name, args, t, span):
                self.check_type(t, span)
                avs = self.exprs(args)
                inst = self.m.call_instance(e)
                if inst == self.inst or inst in self.m.cyclic:
                    # a recursive call: an argument typed Literal[int](1) makes Numba's cached code
                    # refer to a symbol that is never defined (a crash on the next run), so numbers
                    # and bools go through their NumPy constructor, which types them plainly
                    avs = [f"{_PLAIN[a_ir.type]}({a})" if a_ir.type in _PLAIN else a for a, a_ir in zip(avs, args)]
                site = self.site(span) if self.site_at is None else self.site_at
                target = mangle_func(inst)
                if inst == self.inst and inst in self.m.unrolled and not self.copy:
                    target = unrolled_name(inst)  # one level of recursion inlined (ModuleLowerer.unrolled)
                return (f"{target}({''.join(a + ', ' for a in avs)}{self.m.global_args(inst)}"
                        f"{self.m.call_depth(self.inst, inst, name, site)})")
            case ir.Prim(op, args, t, span, attrs):
                return self.prim(e)
            case ir.MakeList(elts, t, span):
                tmp = self.temp()
                self.emit(f"{tmp} = {self.m.empty_list(t.elem)}")
                for x in elts:
                    self.emit(f"rt.list_append({tmp}, {self.expr(x)})")
                return tmp
            case ir.MakeSet(elts, t, span):
                tmp = self.temp()
                self.emit(f"{tmp} = rt.dict_new({self.m.nbtype(t.elem)}, types.boolean)")
                for x in elts:
                    self.emit(f"rt.dict_set({tmp}, {self.expr(x)}, True)")
                return tmp
            case ir.MakeDict(keys, values, t, span):
                tmp = self.temp()
                self.emit(f"{tmp} = rt.dict_new({self.m.nbtype(t.key)}, {self.m.nbtype(t.val)})")
                for k, v in zip(keys, values):
                    kv = self.expr(k)
                    self.emit(f"rt.dict_set({tmp}, {kv}, {self.expr(v)})")
                return tmp
            case ir.MakeTuple(elts) | ir.MakeStruct(_, elts):
                vs = self.exprs(elts)
                # (a constant number through its NumPy constructor: see fn_tuple)
                vs = [f"{_PLAIN[x.type]}({v})" if isinstance(x, ir.Const) and x.type in _PLAIN else v
                      for v, x in zip(vs, elts)]
                if isinstance(e, ir.MakeStruct):
                    vs = [self.boxed_field(e.name, i, v) for i, v in enumerate(vs)]
                return "(" + "".join(v + ", " for v in vs) + ")"
            case ir.GetField(obj, index, type=t):
                v = f"{self.expr(obj)}[{index}]"
                if isinstance(obj.type, StructT) and index in self.m.boxed.get(obj.type.name, ()):
                    return f"al.unbox({v}, {self.m.nbtype(t)})"
                return v
            case ir.Cond(cond, then, orelse, t, span):
                c = self.expr(cond)
                la, a = self.sub(then)
                lb, b = self.sub(orelse)
                if not la and not lb:
                    return f"({a} if {c} else {b})"
                tmp = self.temp()
                self.emit(f"if {c}:")
                self.indent += 1
                self.guarded(la, a, tmp)
                self.indent -= 1
                self.emit("else:")
                self.indent += 1
                self.guarded(lb, b, tmp)
                self.indent -= 1
                return tmp
            case ir.And() | ir.Or():
                return self.bool_chain(e)
            case ir.Compare(operands, ops, t, span):
                return self.compare(operands, ops, span)
            case ir.Comprehension():
                return self.comprehension(e)
            case ir.Choose(index, options):
                return self.expr(options[0])
            case ir.Hole(index, options, t, span):
                self.unsupported("holes (`??`) that search has not filled", span)
            case ir.FuncRef() | ir.Lambda():
                return self.make_fn(e)
            case ir.CallValue(func=ir.Prim(op="ad.grad", span=span, attrs=(fname, which)), args=args):
                entry = self.m.grads.entry(self.m.instance(fname), which, self, span)
                avs = self.exprs(args)
                return f"{entry}({''.join(a + ', ' for a in avs)}{self.m.global_args(fname)}depth)"
            case ir.CallValue(span=span):  # (Closures.calls made each one a call of a dispatcher)
                self.unsupported("a call of this function value", span)
        self.unsupported(f"the expression {type(e).__name__}", getattr(e, "span", self.f.span))

    def bool_chain(self, e) -> str:
        """`a and b and c` (the checker's And(a, And(b, c))) as one flat chain, however long: one
        Python `and` expression, or, where an operand emits statements, a temporary tested before each
        further operand (never nested blocks: Python allows 100 levels of indentation)."""
        kind = type(e)
        operands = []
        while isinstance(e, kind):
            operands.append(e.left)
            e = e.right
        operands.append(e)
        op = "and" if kind is ir.And else "or"
        a = self.expr(operands[0])
        rest = [self.sub(x) for x in operands[1:]]
        if not any(lines for lines, _ in rest):
            return "(" + f" {op} ".join([a] + [v for _, v in rest]) + ")"
        tmp = self.temp()
        self.emit(f"{tmp} = {a}")
        for lines, v in rest:
            self.emit(f"if {'' if op == 'and' else 'not '}{tmp}:")
            self.indent += 1
            self.guarded(lines, v, tmp)
            self.indent -= 1
        return tmp

    def const(self, value, t, span) -> str:
        if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
            if t == F32 and not isinstance(value, bool):
                return f"np.float32({value!r})"
            if t == FLOAT and isinstance(value, int) and not isinstance(value, bool):
                return repr(float(value))
            return repr(value)
        if isinstance(value, float):
            if value != value:
                text = "rt.NAN"
            elif value in (float("inf"), float("-inf")):
                text = "rt.INF" if value > 0 else "(-rt.INF)"
            else:
                text = repr(value)
            return f"np.float32({text})" if t == F32 else text
        if isinstance(value, tuple):
            items = t.items if isinstance(t, TupleT) else self.m.p.structs[t.name].types
            return "(" + "".join(self.const(v, it, span) + ", " for v, it in zip(value, items)) + ")"
        try:
            import numpy as np

            if isinstance(value, np.float32):
                return f"np.float32({float(value)!r})"
        except ImportError:  # pragma: no cover
            pass
        self.unsupported(f"a global constant of type {t} (only numbers, strings, bools and tuples of them)", span)

    def compare(self, operands, ops, span: Span) -> str:
        sym = {"cmp.eq": "==", "cmp.ne": "!=", "cmp.lt": "<", "cmp.le": "<=", "cmp.gt": ">", "cmp.ge": ">=",
               "cmp.in": "in", "cmp.notin": "not in"}
        t = operands[0].type
        if any(holds_functions(o.type, self.m.p.structs) for o in operands):
            self.unsupported("comparing function values (the interpreter compares them by identity)",
                             operands[0].span)
        held = self.m.boxed_in(t)
        if held:
            return self.compare_held(operands, ops, span, held)
        if isinstance(t, (ListT, DictT, SetT)) and ops[0] not in ("cmp.in", "cmp.notin"):
            # Numba's container comparisons differ from Python's: compare through the runtime
            def test(i, op, a, b):
                if op in ("cmp.in", "cmp.notin"):  # (`xs == ys in zss`)
                    return f"({'' if op == 'cmp.in' else 'not '}rt.contains({a}, {b}))"
                if isinstance(operands[i].type, ListT):
                    if op in ("cmp.eq", "cmp.ne") and _unordered(operands[i].type, self.m.p.structs):
                        return f"({'' if op == 'cmp.eq' else 'not '}rt.list_eq({a}, {b}))"  # lists of sets
                    return f"rt.list_order({a}, {b}, {_ORDER_CODES.index(op)})"
                if op not in ("cmp.eq", "cmp.ne"):
                    self.unsupported("ordering comparisons of dicts or sets", operands[i].span)
                fn = "rt.dict_eq" if isinstance(operands[i].type, DictT) else "rt.set_eq"
                return f"({'' if op == 'cmp.eq' else 'not '}{fn}({a}, {b}))"
            if len(ops) == 1:
                return test(0, ops[0], *self.exprs(operands[:2]))
            return self.chain(operands, ops, test)
        if len(ops) == 1 and t == STR and ops[0] in ("cmp.eq", "cmp.ne"):
            fast = self.char_compare(operands[0], operands[1], ops[0])
            if fast:
                return fast
        if len(ops) == 1:
            a, b = self.exprs(operands)
            if ops[0] in ("cmp.in", "cmp.notin"):  # through the runtime (compiled once per type)
                return f"({'' if ops[0] == 'cmp.in' else 'not '}rt.contains({a}, {b}))"
            if t == STR:
                if ops[0] in ("cmp.eq", "cmp.ne"):
                    return f"({'' if ops[0] == 'cmp.eq' else 'not '}rt.str_eq({a}, {b}))"
                return f"(rt.str_cmp({a}, {b}) {sym[ops[0]]} 0)"
            return f"({a} {sym[ops[0]]} {b})"
        return self.chain(operands, ops, lambda i, op, a, b: f"({a} {sym[op]} {b})")

    def chain(self, operands, ops, test) -> str:
        """A chained comparison `a < b <= c`: each middle operand computed once, and only while the
        comparisons before it hold, as in Python; `test(i, op, a, b)`: the i-th comparison."""
        tmp = self.temp()
        left = self.kept(self.expr(operands[0]))  # computed before the operands after it, as in Python
        self.emit(f"{tmp} = True")
        depth = 0
        for i, op in enumerate(ops):
            lr, right = self.sub(operands[i + 1])
            for ln in lr:
                self.emit(ln)
            r = self.temp()
            self.emit(f"{r} = {right}")
            self.emit(f"if not {test(i, op, left, r)}:")
            self.emit(f"    {tmp} = False")
            if i + 1 < len(ops):
                self.emit("else:")
                self.indent += 1
                depth += 1
            left = r
        self.indent -= depth
        return tmp

    def compare_held(self, operands, ops, span: Span, held: str) -> str:
        """A comparison (==, !=, in, not in; chained or not) of values that hold a struct that holds
        itself, through the module's eq_fn and find_fn."""
        if any(op not in ("cmp.eq", "cmp.ne", "cmp.in", "cmp.notin") for op in ops):
            self.unsupported(f"ordering values that hold a struct {held}, which holds a {held}", operands[0].span)
        site = self.site(span)

        def test(op, a, b, ta, tb):
            exact = holds_float(ta, self.m.p.structs)
            if op in ("cmp.eq", "cmp.ne"):
                eq = f"{self.m.eq_fn(ta)}({a}, {b}, {exact}, {site})"
            else:  # (only a list can hold such a value: check_type refuses dict keys and set elements)
                eq = f"({self.m.find_fn(tb.elem)}({b}, {a}, 0, {exact}, {site}) >= 0)"
            return eq if op in ("cmp.eq", "cmp.in") else f"(not {eq})"

        if len(ops) == 1:
            a, b = self.exprs(operands)
            return test(ops[0], a, b, operands[0].type, operands[1].type)
        return self.chain(operands, ops, lambda i, op, a, b: test(op, a, b, operands[i].type, operands[i + 1].type))

    def char_compare(self, left, right, op) -> str | None:
        """`s[i] == x` or `x == s[i]` (or `!=`), x a variable or a constant: compared by code point,
        without making the one-character string s[i]; None for other comparisons. (x has no effects
        and cannot fail, so evaluating it before the index check changes nothing.) In the unchecked
        copy of a versioned loop, an index it proves in range is not checked, and x's code point may
        have been computed before the loop."""
        fast = self.versioned()
        if fast is not None:
            sym = "==" if op == "cmp.eq" else "!="
            for a, b in ((left, right), (right, left)):
                if fast.is_char(a) and fast.is_char(b):
                    return f"({self.code_point(a)} {sym} {self.code_point(b)})"
                if fast.is_char(a) and isinstance(b, (ir.Local, ir.Const)):
                    code = fast.codes.get(fast.key(b)) or f"rt.char_code({self.expr(b)})"
                    return f"({self.code_point(a)} {sym} {code})"
        for a, b in ((left, right), (right, left)):
            if isinstance(a, ir.Prim) and a.op == "str.getitem" and isinstance(b, (ir.Local, ir.Const)):
                s, i = self.expr(a.args[0]), self.expr(a.args[1])
                eq = f"rt.str_char_eq({s}, {i}, {self.expr(b)}, {self.site(a.span)})"
                return eq if op == "cmp.eq" else f"(not {eq})"
        return None

    def comprehension(self, c: ir.Comprehension) -> str:
        acc = self.temp()
        t = c.type
        if c.kind == "list":
            self.emit(f"{acc} = {self.m.empty_list(t.elem)}")
        elif c.kind == "set":
            self.emit(f"{acc} = rt.dict_new({self.m.nbtype(t.elem)}, types.boolean)")
        else:
            self.emit(f"{acc} = rt.dict_new({self.m.nbtype(t.key)}, {self.m.nbtype(t.val)})")
        opened = self.open_comprehension(c)
        if c.kind == "list":
            self.emit(f"rt.list_append({acc}, {self.expr(c.elt)})")
        elif c.kind == "set":
            self.emit(f"rt.dict_set({acc}, {self.expr(c.elt)}, True)")
        else:
            k = self.expr(c.key)
            self.emit(f"rt.dict_set({acc}, {k}, {self.expr(c.elt)})")
        self.indent -= opened
        return acc

    def open_comprehension(self, c: ir.Comprehension) -> int:
        """Open the loops and tests of the comprehension `c`'s clauses, its targets assigned; returns how
        many levels were opened (its element is computed one level in). A clause over a range walks the
        range without building its list (after range_list's checks)."""
        opened = 0
        for cl in c.clauses:
            if isinstance(cl, ir.CompIf):
                cond = self.expr(cl.cond)
                self.emit(f"if {cond}:")
                self.indent += 1
                opened += 1
            else:
                if cl.kind not in ("list", "str", "dict", "set", "tensor"):
                    self.unsupported(f"iteration over a {cl.kind}", c.span)
                if cl.kind == "tensor":  # its rows (elements of a vector), as for_loop
                    rows, item = self.temp(), self.temp()
                    self.emit(f"{rows} = {self.expr(cl.iter)}")
                    self.emit(f"for {item} in range({rows}.shape[0]):")
                    self.indent += 1
                    item = f"{rows}[{item}]"
                elif _is_split(cl.iter):
                    item = self.split_loop(cl.iter)
                elif isinstance(cl.iter, ir.Prim) and cl.iter.op == "range":
                    a, z, st = (self.kept(x) for x in self.exprs(list(cl.iter.args)))
                    self.emit(f"rt.range_fits({a}, {z}, {st}, {self.site(cl.iter.span)})")
                    item = self.temp()
                    self.range_head(item, a, z, st, cl.iter.span)
                    self.indent += 1
                else:
                    item = self.open_loop(self.expr(cl.iter), cl.iter.type, span=c.span)
                opened += 1
                self.store(cl.target, item)
        return opened

    # ---- function arguments of builtins: inlined --------------------------------------------
    def apply(self, fn: ir.Expr, args: list[str]) -> str:
        """The value of calling `fn` (a lambda or a named function) on lowered arguments."""
        if isinstance(fn, ir.Lambda):
            env = {}
            for inner, outer in fn.captures:
                env[inner] = self.expr(outer)
            for k, a in enumerate(args):
                tmp = self.temp()
                self.emit(f"{tmp} = {a}")
                env[k] = tmp
            self.lambda_env.append(env)
            try:
                body = self.expr(fn.body)
            finally:
                self.lambda_env.pop()
            return body
        if isinstance(fn, ir.FuncRef):
            inst = self.m.call_instance(fn)
            return (f"{mangle_func(inst)}({''.join(a + ', ' for a in args)}{self.m.global_args(inst)}"
                    f"rt.enter(depth, {fn.name!r}, {self.site(fn.span)}))")
        if isinstance(fn, _FnValue):
            return self.call_fn(fn.type, fn.value, args, fn.span)
        return self.call_fn(fn.type, self.expr(fn), args, fn.span)

    def fn_arg(self, fn):
        """A builtin's function argument, for `apply`: a lambda or a name as it is (inlined), any other
        function value computed here, once (the builtin calls it in a loop)."""
        if isinstance(fn, (ir.Lambda, ir.FuncRef, ir.Const)):
            return fn
        return _FnValue(self.kept(self.expr(fn)), fn.type, fn.span)

    # ---- function values as data (compiler/closures.py) ----------------------------------------
    def make_fn(self, e) -> str:
        """The tuple (tag, slots...) of the function value a lambda or a function name makes here."""
        self.check_type(e.type, e.span)
        lay = self.m.closures.layout(e.type)
        inst = self.m.closures.maker(e, self.src)
        values = {}
        if isinstance(e, ir.Lambda):
            for j, (_, outer) in zip(lay.places[inst], e.captures):
                values[j] = self.expr(outer)
        slots = [(f"al.box({values[j]})" if b else values[j]) if j in values else self.default(t, b)
                 for j, (t, b) in enumerate(zip(lay.slots, lay.boxed))]
        return self.fn_tuple(lay.makers.index(inst), lay, slots)

    def fn_tuple(self, tag: int, lay, slots: list[str]) -> str:
        """The tuple of a function value: its tag and slots, every number through its NumPy constructor
        (a literal typed Literal[int] in a tuple passed to a recursive call makes Numba's cached code
        refer to a symbol it never defines: a crash on the next run)."""
        slots = [f"{_PLAIN[t]}({v})" if t in _PLAIN and not b else v for v, t, b in zip(slots, lay.slots, lay.boxed)]
        return f"(np.int64({tag}), {''.join(v + ', ' for v in slots)})"

    def call_fn(self, t, fv: str, args: list[str], span) -> str:
        """A call of the function value `fv` (a tuple) of type `t` on lowered arguments."""
        self.check_type(t, span)
        inst = self.m.closures.dispatcher(t)
        return (f"{mangle_func(inst)}({fv}, {''.join(a + ', ' for a in args)}{self.site(span)}, "
                f"{self.m.global_args(inst)}depth)")

    def loop_over(self, seq_ir: ir.Expr, span=None) -> str:
        """Open a loop over a sequence; returns the item variable. `span`: see open_loop."""
        return self.open_loop(self.expr(seq_ir), seq_ir.type, span=span)

    def computed(self, e: ir.Expr) -> str:
        """A new temporary holding `e`, computed here: a builtin's sequence, computed before its other
        arguments as the interpreter does, then looped over (`open_loop(..., fresh=True)`)."""
        tmp = self.temp()
        self.emit(f"{tmp} = {self.expr(e)}")
        return tmp

    def open_keys_loop(self, s: str, kind: str, span) -> str:
        """Open a loop over the keys the dict or set `s` (a variable) holds now; returns the item
        variable. Before each step and after the last, a change of its size is E506, as the
        interpreter's `for` and comprehensions say."""
        keys, n0, i, item = self.temp(), self.temp(), self.temp(), self.temp()
        self.emit(f"{keys} = rt.dict_keys({s})")
        self.emit(f"{n0} = len({s})")
        self.emit(f"for {i} in range(len({keys}) + 1):")
        self.indent += 1
        self.emit(f"if len({s}) != {n0}:")
        self.emit(f"    rt.size_changed({kind!r}, {self.site(span)})")
        self.emit(f"if {i} == len({keys}):")
        self.emit("    break")
        self.emit(f"{item} = {keys}[{i}]")
        return item

    def open_loop(self, seq: str, t, fresh: bool = False, span=None) -> str:
        """Open a loop over the value `seq` of type `t`; returns the item variable. A list is walked
        by index, re-reading its length (elements appended in the loop are visited, as in Python);
        a dict or set through a copy of its keys (with a `span`, where a function the loop applies may
        change it, its size checked as a `for`'s: open_keys_loop); a string by character. `fresh`:
        `seq` is a temporary that nothing else assigns (else it is copied: the loop must not follow a
        reassigned variable)."""
        if span is not None and isinstance(t, (DictT, SetT)):
            d = self.temp()
            self.emit(f"{d} = {seq}")
            return self.open_keys_loop(d, "dict" if isinstance(t, DictT) else "set", span)
        item = self.temp()
        if isinstance(t, ListT):
            s, i = (seq if fresh else self.temp()), self.temp()
            if not fresh:
                self.emit(f"{s} = {seq}")
            self.emit(f"{i} = 0")
            self.emit(f"while {i} < len({s}):")
            self.indent += 1
            self.emit(f"{item} = al.get({s}, {i})")
            self.emit(f"{i} += 1")
            return item
        if t == STR:  # by index, through the runtime: Numba's string iterator is compiled per process
            s, i = self.temp(), self.temp()
            self.emit(f"{s} = {seq}")
            self.emit(f"for {i} in range(len({s})):")
            self.indent += 1
            self.emit(f"{item} = rt.str_at({s}, {i})")
            return item
        if isinstance(t, (DictT, SetT)):
            seq = f"rt.dict_keys({seq})"
        self.emit(f"for {item} in {seq}:")
        self.indent += 1
        return item

    # ---- primitives ---------------------------------------------------------------------------
    def find_held(self, e: ir.Prim) -> str:
        """list.index / list.remove / list.count of a value that holds a struct that holds itself,
        compared as `==` compares it (ModuleLowerer.eq_fn)."""
        t = e.args[1].type
        find, exact, site = self.m.find_fn(t), holds_float(t, self.m.p.structs), self.site(e.span)
        if e.op != "list.count":
            return self.find_container(e, lambda xs, v: f"{find}({xs}, {v}, 0, {exact}, {site})")
        xs, v = (self.kept(x) for x in self.exprs(e.args[:2]))
        n, i = self.temp(), self.temp()
        self.emit(f"{n} = 0")
        self.emit(f"{i} = {find}({xs}, {v}, 0, {exact}, {site})")
        self.emit(f"while {i} >= 0:")
        self.emit(f"    {n} += 1")
        self.emit(f"    {i} = {find}({xs}, {v}, {i} + 1, {exact}, {site})")
        return n

    def find_container(self, e: ir.Prim, find=lambda xs, v: f"rt.list_find({xs}, {v})") -> str:
        """list.index / list.remove of a value holding a container (`rows.index([2, 1])`): its error
        writes the value here, as print does (the runtime's error path writes scalars and tuples).
        `find(xs, v)`: the index of `v` in `xs`, or -1."""
        xs, v = (self.kept(x) for x in self.exprs(e.args[:2]))  # (each used twice)
        site = self.site(e.span)
        i = self.temp()
        self.emit(f"{i} = {find(xs, v)}")
        self.emit(f"if {i} < 0:")
        what = "list.index(x): " if e.op == "list.index" else "list.remove(x): "
        self.emit(f"    rt.fail('E506', {what!r} + {self.m.show(e.args[1].type, v, False, site)} + "
                  f"' is not in the list', {site})")
        if e.op == "list.remove":
            self.emit(f"rt.list_delitem({xs}, {i}, {site})")
            return "None"
        return i

    def prim(self, e: ir.Prim) -> str:
        op, args, t, span, attrs = e.op, e.args, e.type, e.span, e.attrs
        self.check_type(t, span)
        if op == "fn.tag":  # a dispatcher's reads of a function value (compiler/closures.py)
            return f"{self.expr(args[0])}[0]"
        if op == "fn.default":
            return self.default(t)
        if op == "fn.at":  # a dispatcher's call, at the site of the call of the value it serves
            saved, self.site_at = self.site_at, self.expr(args[0])
            try:
                return self.expr(args[1])
            finally:
                self.site_at = saved
        if op == "fn.env":
            if self.m.closures.layout(args[0].type).boxed[attrs[0]]:
                return f"al.unbox({self.expr(args[0])}[{attrs[0] + 1}], {self.m.nbtype(t)})"
            return f"{self.expr(args[0])}[{attrs[0] + 1}]"
        if op in ("list.index", "list.remove", "list.count") and self.m.boxed_in(args[1].type):
            return self.find_held(e)
        if op in ("list.index", "list.remove") and mutable(args[1].type, self.m.p.structs):
            return self.find_container(e)
        if op in _SHOWS_VALUE:  # (its {site} names the type of the value its error shows)
            self.m.shown_site(span, self.src, args[1].type)
        view = self.view(args[0]) if op in ("list.getitem", "len") else None
        if view is not None:  # through the view a loop around has of the list
            return view[1] if op == "len" else self.view_element(args[0], args[1], self.expr(args[1]), span)
        if op == "list.getitem" and _is_row(args[0]):
            return self.row_element(args[0], args[1], span)
        if op == "list.getitem" and self.index_proven(*args):
            return f"{self.expr(args[0])}[{self.expr(args[1])}]"
        if op in _CHAR_TESTS and isinstance(args[0], ir.Prim) and args[0].op == "str.getitem":
            # `s[i].isdigit()`: the test on the code point, without making the one-character string
            # (ASCII in the helper, any other character through Python's own method: rt.cp_is)
            char = args[0]
            fast = self.versioned()
            if fast is not None and fast.is_char(char):
                code = self.code_point(char)
            else:
                code = (f"rt.str_code({self.expr(char.args[0])}, {self.expr(char.args[1])}, "
                        f"{self.site(char.span)})")
            return f"rt.cp_is({code}, {_CHAR_TESTS.index(op)})"
        if self.versioned() is not None:
            fast = self.fast_prim(e)
            if fast is not None:
                return fast
        if op in ("int.floordiv", "int.mod") and isinstance(args[1], ir.Const) and type(args[1].value) is int \
                and args[1].value not in (0, -1):
            # a constant divisor other than 0 and -1: neither division by zero nor overflow (INT_MIN // -1)
            # is possible, and Numba's // and % round as Python's do; LLVM turns them into shifts and
            # multiplications, where the runtime's checked helper is a call
            return f"({self.expr(args[0])} {'//' if op == 'int.floordiv' else '%'} {args[1].value})"
        rule = _SIMPLE.get(op)
        if op in _F32_VIA_F64 and t == F32:
            # as the interpreter: the f32 value through the float64 function, rounded once (the C
            # library's float32 functions differ in the last bit for a few percent of values); a
            # value outside the domain takes the f32 call, whose error shows the value as written
            x = self.kept(self.expr(args[0]))
            wide = f"np.float32({rule.format(f'np.float64({x})', site=self.site(span))})"
            ok = _F32_VIA_F64[op]
            narrow = f"np.float32({rule.format(x, site=self.site(span))})"  # raises (or is NaN): the same type
            return wide if ok is None else f"({wide} if {ok.format(x)} else {narrow})"
        if rule is not None:
            vals = self.exprs(args, lambda k, a: self.slice_arg(op, a, k))
            return rule.format(*vals, site=self.site(span), attrs=attrs)
        method = getattr(self, "p_" + op.replace(".", "_"), None)
        if method is None:
            self.unsupported(f"the operation '{op}'", span)
        return method(e)

    def fast_prim(self, e: ir.Prim) -> str | None:
        """`e` in the unchecked copy of a versioned loop (for_range), when the loop's test proves it
        in range: an element read with no bound check, `j + c` with no overflow check, `ord(s[i])`
        without the one-character string; None otherwise."""
        op, args = e.op, e.args
        if op in ("list.getitem", "str.getitem") and self.fast.covers(*args):
            c, i = self.exprs(args[:2])
            if op == "str.getitem":
                return f"rt.str_at({c}, {i})"
            return f"al.get({c}, {i})"
        if op in ("int.add", "int.sub") and self.fast.no_overflow(e):
            a, b = self.exprs(args[:2])
            return f"({a} {'+' if op == 'int.add' else '-'} {b})"
        if op == "ord" and self.fast.is_char(args[0]):
            return self.code_point(args[0])
        return None

    def code_point(self, char: ir.Prim) -> str:
        """The code point of `s[i]`, i proven in range (LoopVersion.is_char)."""
        s = char.args[0]
        if isinstance(self.versioned(), LoopVersion) and isinstance(s, ir.Local) and s.slot in self.fast.strs:
            return f"nbs.code_at({', '.join(self.fast.strs[s.slot])}, {self.expr(char.args[1])})"
        return f"rt.str_code_at({self.expr(s)}, {self.expr(char.args[1])})"

    def slice_arg(self, op, a, position: int = 0) -> str:
        if op.endswith(".slice") and isinstance(a, ir.Const) and a.value is None:
            return "1" if position == 3 else "rt.INT_MIN"  # an omitted bound; an omitted step is 1
        if op.endswith(".slice") and position in (1, 2) and not isinstance(a, ir.Const):
            return f"rt.slice_bound({self.expr(a)})"  # a bound the program computes may be INT_MIN itself
        return self.expr(a)

    def p_io_print(self, e):
        values = e.args[:-2]
        *vs, sep, end = self.exprs(e.args)
        sep_ir, end_ir = e.args[-2], e.args[-1]
        if all(v.type in (INT, FLOAT, STR, BOOL) for v in values) and isinstance(sep_ir, ir.Const) \
                and isinstance(end_ir, ir.Const) and sep_ir.value == " " and end_ir.value == "\n":
            # Numba's own print boxes scalars and writes through sys.stdout with Python's formatting,
            # and it does not stop the function from being cached.
            self.emit(f"print({', '.join(vs)})" if vs else "print('')")
            return "None"
        # every argument is evaluated, in order, before anything is written
        temps = [self.temp() for _ in vs]
        ts, te = self.temp(), self.temp()
        self.emit(f"{', '.join(temps + [ts, te])} = {', '.join(vs + [sep, end])}")
        parts = [self.m.show(v.type, tv, True, self.site(e.span)) for v, tv in zip(values, temps)]
        text = f" + {ts} + ".join(parts) if parts else "''"
        self.emit(f"nbs.write({text} + {te})")
        return "None"

    def p_to_str(self, e):
        t = e.args[0].type
        v = self.expr(e.args[0])
        if t in (INT, BOOL, FLOAT, F32, STR, NONE):
            return self.m.show(t, v, True)
        tv = self.temp()
        self.emit(f"{tv} = {v}")
        return self.m.show(t, tv, True, self.site(e.span))

    # input and files go through runtime/pyio.py, as in the interpreter (nbstr.call_python)
    def p_io_input(self, e):
        return f"rt.read_input({self.expr(e.args[0])})"

    def p_io_read_file(self, e):
        return f"rt.read_file({self.expr(e.args[0])}, {self.site(e.span)})"

    def p_io_read_lines(self, e):
        return f"rt.read_lines({self.expr(e.args[0])}, {self.site(e.span)})"

    def p_io_write_file(self, e):
        path, text = self.exprs(e.args)
        self.emit(f"rt.write_file({path}, {text}, {self.site(e.span)})")
        return "None"

    def p_list_pop(self, e):
        xs = self.expr(e.args[0])
        if len(e.args) == 1:
            return f"rt.list_pop({xs}, {self.site(e.span)})"
        return f"rt.list_pop_at({xs}, {self.expr(e.args[1])}, {self.site(e.span)})"

    def p_dict_pop(self, e):
        d, k = self.exprs(e.args[:2])
        if len(e.args) == 2:
            return f"rt.dict_pop({d}, {k}, {self.site(e.span)})"
        return f"{d}.pop({k}, {self.expr(e.args[2])})"

    def p_str_split(self, e):
        s = self.expr(e.args[0])
        if len(e.args) == 1:
            return f"rt.str_split_ws({s})"
        return f"rt.str_split({s}, {self.expr(e.args[1])}, {self.site(e.span)})"

    def _strip(self, e, name):
        s = self.expr(e.args[0])
        if len(e.args) == 1:
            return f"{s}.{name}()"
        return f"{s}.{name}({self.expr(e.args[1])})"

    def p_str_strip(self, e):
        return self._strip(e, "strip")

    def p_str_lstrip(self, e):
        return self._strip(e, "lstrip")

    def p_str_rstrip(self, e):
        return self._strip(e, "rstrip")

    def p_str_find(self, e):
        vals = self.exprs(e.args)
        return f"{vals[0]}.find({', '.join(vals[1:])})"

    def p_str_rfind(self, e):
        vals = self.exprs(e.args)
        return f"{vals[0]}.rfind({', '.join(vals[1:])})"

    def p_str_index(self, e):
        s, sub, *bounds = self.exprs(e.args)
        start = bounds[0] if bounds else "0"
        end = bounds[1] if len(bounds) > 1 else "rt.INT_MAX"  # past the end: the whole rest, as no end
        return f"rt.str_index({s}, {sub}, {start}, {end}, {self.site(e.span)})"

    def _pad(self, e, mode):
        s, w = self.exprs(e.args[:2])
        fill = self.expr(e.args[2]) if len(e.args) > 2 else "' '"
        return f"rt.str_pad({s}, {w}, {fill}, {mode}, {self.site(e.span)})"

    def p_str_ljust(self, e):
        return self._pad(e, 0)

    def p_str_rjust(self, e):
        return self._pad(e, 1)

    def p_str_center(self, e):
        return self._pad(e, 2)

    def p_str_replace(self, e):
        vals = self.exprs(e.args)
        count = vals[3] if len(vals) > 3 else "-1"
        return f"rt.str_replace({vals[0]}, {vals[1]}, {vals[2]}, {count})"

    def p_minmax_iter(self, e):
        which, has_default = e.attrs
        seq_ir, key = e.args[0], e.args[1]
        if isinstance(seq_ir, ir.MakeList) and seq_ir.elts and isinstance(key, ir.Const):
            # min(a, b, ...): no list; the first of the values that no later one beats, as the loop
            vals = [self.kept(v) for v in self.exprs(seq_ir.elts)]
            cmp = "<" if which == "min" else ">"
            best = vals[0]
            for v in vals[1:]:
                best = self.kept(f"({v} if {v} {cmp} {best} else {best})")
            return best
        best, found, bestkey = self.temp(), self.temp(), self.temp()
        # (defined before the loop: Numba, pruning a branch whose condition is a constant, dropped the
        # loop's assignments and kept the read after it: "type of variable cannot be determined")
        kt = key.type.ret if not isinstance(key, ir.Const) else e.type
        self.emit(f"{best}, {bestkey}, {found} = {self.default(e.type)}, {self.default(kt)}, False")
        seq = self.computed(seq_ir)
        key = self.fn_arg(key)
        default = self.kept(self.expr(e.args[2])) if has_default else None  # computed as the interpreter does
        item = self.open_loop(seq, seq_ir.type, fresh=True, span=None if isinstance(key, ir.Const) else e.span)
        kv = self.apply(key, [item]) if not (isinstance(key, ir.Const)) else item
        self.emit(f"if not {found}:")
        self.emit(f"    {best}, {bestkey}, {found} = {item}, {kv}, True")
        cmp = "<" if which == "min" else ">"
        self.emit(f"elif {kv} {cmp} {bestkey}:")
        self.emit(f"    {best}, {bestkey} = {item}, {kv}")
        self.indent -= 1
        self.emit(f"if not {found}:")
        if has_default:
            self.emit(f"    {best} = {default}")
        else:
            self.emit(f"    rt.empty_error('{which}() of an empty sequence', {self.site(e.span)})")
        return best

    def _sum(self, e, zero_check=False):
        c = e.args[0]
        if isinstance(c, ir.Comprehension) and c.kind == "list" and isinstance(e.args[1], ir.Const):
            return self._sum_over(c, e)
        acc, seq = self.temp(), self.computed(e.args[0])  # the sequence, then the start
        self.emit(f"{acc} = {self.expr(e.args[1])}")
        item = self.open_loop(seq, e.args[0].type, fresh=True)
        if e.type == INT:
            self.emit(f"{acc} = rt.sum_add({acc}, {item}, {self.site(e.span)})")
        else:
            self.emit(f"{acc} = {acc} + {item}")
        self.indent -= 1
        return acc

    def _sum_over(self, c: ir.Comprehension, e) -> str:
        """sum([... for ...]) without the list: each element added as the comprehension computes it. An
        int sum's overflow is said after the last element (the interpreter computes them all first, so
        an element's own error comes before it)."""
        acc = self.temp()
        self.emit(f"{acc} = {self.expr(e.args[1])}")
        self.check_type(c.type, c.span)
        ovf = None
        if e.type == INT:
            ovf, step = self.temp(), self.temp()
            self.emit(f"{ovf} = False")
        opened = self.open_comprehension(c)
        item = self.expr(c.elt)
        if ovf is not None:
            self.emit(f"{acc}, {step} = rt.sum_step({acc}, {item})")
            self.emit(f"{ovf} = {ovf} or {step}")
        else:
            self.emit(f"{acc} = {acc} + {item}")
        self.indent -= opened
        if ovf is not None:
            self.emit(f"if {ovf}:")
            self.emit(f"    rt.overflow('sum', {self.site(e.span)})")
        return acc

    def p_seq_mean(self, e):
        acc, n = self.temp(), self.temp()
        self.emit(f"{acc}, {n} = 0.0, 0")
        item = self.loop_over(e.args[0])
        self.emit(f"{acc} += {item}")
        self.emit(f"{n} += 1")
        self.indent -= 1
        self.emit(f"if {n} == 0:")
        self.emit(f"    rt.empty_error('mean() of an empty sequence', {self.site(e.span)})")
        return f"({acc} / {n})"

    def p_int_sum(self, e):
        return self._sum(e)

    def p_float_sum(self, e):
        return self._sum(e)

    def p_f32_sum(self, e):
        return self._sum(e)

    def p_seq_any(self, e):
        acc = self.temp()
        self.emit(f"{acc} = False")
        item = self.loop_over(e.args[0])
        self.emit(f"if {item}:")
        self.emit(f"    {acc} = True")
        self.emit("    break")
        self.indent -= 1
        return acc

    def p_seq_all(self, e):
        acc = self.temp()
        self.emit(f"{acc} = True")
        item = self.loop_over(e.args[0])
        self.emit(f"if not {item}:")
        self.emit(f"    {acc} = False")
        self.emit("    break")
        self.indent -= 1
        return acc

    def p_map(self, e):
        out, fn = self.temp(), self.fn_arg(e.args[0])
        self.emit(f"{out} = {self.m.empty_list(e.type.elem)}")
        item = self.loop_over(e.args[1], e.span)
        self.emit(f"rt.list_append({out}, {self.apply(fn, [item])})")
        self.indent -= 1
        return out

    def p_filter(self, e):
        out, fn = self.temp(), self.fn_arg(e.args[0])
        self.emit(f"{out} = {self.m.empty_list(e.type.elem)}")
        item = self.loop_over(e.args[1], e.span)
        self.emit(f"if {self.apply(fn, [item])}:")
        self.emit(f"    rt.list_append({out}, {item})")
        self.indent -= 1
        return out

    def p_reduce(self, e):
        fn = self.fn_arg(e.args[0])
        acc, seq = self.temp(), self.computed(e.args[1])  # the sequence, then the initial value
        self.emit(f"{acc} = {self.expr(e.args[2])}")
        item = self.open_loop(seq, e.args[1].type, fresh=True, span=e.span)
        self.emit(f"{acc} = {self.apply(fn, [acc, item])}")
        self.indent -= 1
        return acc

    def p_reduce1(self, e):
        fn = self.fn_arg(e.args[0])
        acc, first = self.temp(), self.temp()
        self.emit(f"{acc}, {first} = {self.default(e.type)}, True")  # (acc defined: p_minmax_iter)
        item = self.loop_over(e.args[1], e.span)
        self.emit(f"if {first}:")
        self.emit(f"    {acc}, {first} = {item}, False")
        self.emit("else:")
        self.indent += 1
        self.emit(f"{acc} = {self.apply(fn, [acc, item])}")
        self.indent -= 2
        self.emit(f"if {first}:")
        self.emit(f"    rt.empty_error('reduce() of an empty sequence with no initial value', {self.site(e.span)})")
        return acc

    def p_enumerate(self, e):
        out, k = self.temp(), self.temp()
        self.emit(f"{out} = {self.m.empty_list(e.type.elem)}")
        seq = self.computed(e.args[0])  # the sequence, then the start
        self.emit(f"{k} = {self.expr(e.args[1])}")
        item = self.open_loop(seq, e.args[0].type, fresh=True)
        self.emit(f"rt.list_append({out}, ({k}, {item}))")
        self.emit(f"{k} += 1")
        self.indent -= 1
        return out

    def p_zip(self, e):
        seqs = []
        for a in e.args:
            s = self.temp()
            v = self.expr(a)
            if isinstance(a.type, (DictT, SetT)):
                v = f"rt.dict_keys({v})"
            self.emit(f"{s} = {v}")
            seqs.append(s)
        out, n, i = self.temp(), self.temp(), self.temp()
        self.emit(f"{out} = {self.m.empty_list(e.type.elem)}")
        self.emit(f"{n} = min({', '.join('len(' + s + ')' for s in seqs)})" if len(seqs) > 1 else f"{n} = len({seqs[0]})")
        self.emit(f"for {i} in range({n}):")
        self.emit(f"    rt.list_append({out}, (" + "".join(f"{s}[{i}], " for s in seqs) + "))")
        return out

    def p_reversed(self, e):
        out = self.temp()
        self.emit(f"{out} = {self.m.empty_list(e.type.elem)}")
        item = self.loop_over(e.args[0])
        self.emit(f"rt.list_append({out}, {item})")
        self.indent -= 1
        self.emit(f"{out}.reverse()")
        return out

    def p_to_list(self, e):
        return self.p_reversed_like_copy(e)

    def p_reversed_like_copy(self, e):
        out = self.temp()
        self.emit(f"{out} = {self.m.empty_list(e.type.elem)}")
        item = self.loop_over(e.args[0])
        self.emit(f"rt.list_append({out}, {item})")
        self.indent -= 1
        return out

    def p_to_set(self, e):
        out = self.temp()
        self.emit(f"{out} = rt.dict_new({self.m.nbtype(e.type.elem)}, types.boolean)")
        item = self.loop_over(e.args[0])
        self.emit(f"rt.dict_set({out}, {item}, True)")
        self.indent -= 1
        return out

    def p_to_dict(self, e):
        out = self.temp()
        self.emit(f"{out} = rt.dict_new({self.m.nbtype(e.type.key)}, {self.m.nbtype(e.type.val)})")
        item = self.loop_over(e.args[0])
        self.emit(f"rt.dict_set({out}, {item}[0], {item}[1])")
        self.indent -= 1
        return out

    def _sorted_into(self, out: str, src: str, seq_t, key, rev: str, elem_t):
        """Stable sort of the value `src` (of type `seq_t`): by an int or float key, through the keys'
        stable order (an array sort); by any other key, through (key, index) pairs. The key function is
        inlined, never called. `rev`: a name or literal."""
        if isinstance(key, ir.Const):
            if isinstance(seq_t, (DictT, SetT)):
                self.emit(f"{out} = {self.m.dict_list(src, elem_t, 'keys')}")
            else:
                if seq_t == STR:
                    self.emit(f"{out} = rt.list_new(types.unicode_type)")
                    self.emit(f"for _c in {src}:")
                    self.emit(f"    rt.list_append({out}, _c)")
                else:
                    self.emit(f"{out} = {src}.copy()")
            self.emit(f"{out}.sort(reverse={rev})")
            return
        # an int or float key: the keys in an array, sorted with their indices (nblist.order_by); any
        # other: a typed List of (key, index) pairs, typed from the key's Glia type (a key that always
        # fails, `lambda a: 1 % 0`, leaves Numba nothing to type an empty List() by)
        by_array = key.type.ret in (INT, FLOAT)
        keys, items, k, p = self.temp(), self.temp(), self.temp(), self.temp()
        self.emit(f"{items} = {self.m.empty_list(elem_t)}")
        if by_array:
            self.emit(f"{keys} = {self.m.empty_list(key.type.ret)}")
        else:
            self.emit(f"{keys} = List.empty_list({self.m.nbtype(TupleT((key.type.ret, INT)))})")
            self.emit(f"{k} = 0")
        item = self.open_loop(src, seq_t)
        kv = self.apply(key, [item])
        self.emit(f"rt.list_append({items}, {item})")
        if by_array:
            self.emit(f"rt.list_append({keys}, {kv})")
        else:
            self.emit(f"{keys}.append(({kv}, -{k} if {rev} else {k}))")
            self.emit(f"{k} += 1")
        self.indent -= 1
        self.emit(f"{out} = {self.m.empty_list(elem_t)}")
        if by_array:
            self.emit(f"for {p} in al.order_by({keys}, {rev}):")
            self.emit(f"    rt.list_append({out}, {items}[{p}])")
        else:
            self.emit(f"{keys}.sort(reverse={rev})")
            self.emit(f"for {p} in {keys}:")
            self.emit(f"    rt.list_append({out}, {items}[-{p}[1] if {rev} else {p}[1]])")

    def p_sorted(self, e):
        out = self.temp()
        src = self.kept(self.expr(e.args[0]))  # the sequence, the key, then `reverse`, as the interpreter
        key = self.fn_arg(e.args[1])
        rev = self.kept(self.expr(e.args[2]))
        self._sorted_into(out, src, e.args[0].type, key, rev, e.type.elem)
        return out

    def p_list_sort(self, e):
        xs = self.expr(e.args[0])
        key = self.fn_arg(e.args[1])
        rev = self.expr(e.args[2])
        if isinstance(key, ir.Const):  # no key: in place
            self.emit(f"{xs}.sort(reverse={rev})")
            return "None"
        tmp = self.temp()
        self._sorted_into(tmp, xs, e.args[0].type, key, self.kept(rev), e.args[0].type.elem)
        self.emit(f"{xs}.clear()")
        self.emit(f"{xs}.extend({tmp})")
        return "None"

    def p_dict_keys(self, e):
        return self.m.dict_list(self.expr(e.args[0]), e.type.elem, "keys")

    def p_dict_values(self, e):
        return self.m.dict_list(self.expr(e.args[0]), e.type.elem, "values")

    def p_dict_items(self, e):
        d, out = self.expr(e.args[0]), self.temp()
        self.emit(f"{out} = {self.m.empty_list(e.type.elem)}")
        self.emit(f"rt.dict_items_into({out}, {d})")
        return out

    def p_set_add(self, e):
        s, x = self.exprs(e.args[:2])
        self.emit(f"rt.dict_set({s}, {x}, True)")
        return "None"

    def p_set_discard(self, e):
        s, x = self.exprs(e.args[:2])
        self.emit(f"if {x} in {s}:")
        self.emit(f"    del {s}[{x}]")
        return "None"

    def _set_build(self, e, cond_fn):
        out = self.temp()
        a = self.expr(e.args[0])
        b = self.expr(e.args[1])
        bt = e.args[1].type
        if not isinstance(bt, (SetT, DictT)):
            bs = self.temp()
            self.emit(f"{bs} = rt.dict_new({self.m.nbtype(e.type.elem)}, types.boolean)")
            item = self.open_loop(b, bt)
            self.emit(f"rt.dict_set({bs}, {item}, True)")
            self.indent -= 1
            b = bs
        self.emit(f"{out} = rt.dict_new({self.m.nbtype(e.type.elem)}, types.boolean)")
        cond_fn(out, a, b)
        return out

    def p_set_union(self, e):
        def body(out, a, b):
            self.emit(f"for _x in {a}.keys():")
            self.emit(f"    rt.dict_set({out}, _x, True)")
            self.emit(f"for _x in {b}.keys():")
            self.emit(f"    rt.dict_set({out}, _x, True)")
        return self._set_build(e, body)

    def p_set_intersection(self, e):
        def body(out, a, b):
            self.emit(f"for _x in {a}.keys():")
            self.emit(f"    if _x in {b}:")
            self.emit(f"        rt.dict_set({out}, _x, True)")
        return self._set_build(e, body)

    def p_set_difference(self, e):
        def body(out, a, b):
            self.emit(f"for _x in {a}.keys():")
            self.emit(f"    if _x not in {b}:")
            self.emit(f"        rt.dict_set({out}, _x, True)")
        return self._set_build(e, body)

    def p_set_symmetric_difference(self, e):
        def body(out, a, b):
            self.emit(f"for _x in {a}.keys():")
            self.emit(f"    if _x not in {b}:")
            self.emit(f"        rt.dict_set({out}, _x, True)")
            self.emit(f"for _x in {b}.keys():")
            self.emit(f"    if _x not in {a}:")
            self.emit(f"        rt.dict_set({out}, _x, True)")
        return self._set_build(e, body)

    def p_set_update(self, e):
        s = self.expr(e.args[0])
        item = self.loop_over(e.args[1])
        self.emit(f"rt.dict_set({s}, {item}, True)")
        self.indent -= 1
        return "None"

    def p_list_extend(self, e):
        xs, ys = self.exprs(e.args[:2])
        t = e.args[1].type
        if isinstance(t, (SetT, DictT)):
            ys = f"rt.dict_keys({ys})"
        elif t == STR:
            tmp = self.temp()
            self.emit(f"{tmp} = rt.list_new(types.unicode_type)")
            self.emit(f"for _c in {ys}:")
            self.emit(f"    rt.list_append({tmp}, _c)")
            ys = tmp
        elif not array_list(t):  # (an ArrayList's extend copies forwards: right for xs += xs too)
            tmp = self.temp()
            self.emit(f"{tmp} = {ys}.copy()")  # xs += xs must not loop forever
            ys = tmp
        self.emit(f"rt.check_extend(len({xs}), len({ys}), {self.site(e.span)})")
        self.emit(f"{xs}.extend({ys})")
        return "None"

    def p_struct_replace(self, e):
        obj, v = self.exprs(e.args[:2])
        (index,) = e.attrs
        n = len(self.m.p.structs[e.type.name].fields)
        tmp = self.temp()
        self.emit(f"{tmp} = {obj}")
        parts = [self.boxed_field(e.type.name, index, v) if i == index else f"{tmp}[{i}]" for i in range(n)]
        return "(" + "".join(p + ", " for p in parts) + ")"

    def boxed_field(self, struct: str, index: int, v: str) -> str:
        """`v` as field `index` of a `struct` holds it: in a box if the field leads back to the struct
        (boxed_fields)."""
        return f"al.box({v})" if index in self.m.boxed.get(struct, ()) else v

    def p_str_join(self, e):
        sep, seq = self.exprs(e.args[:2])
        return f"rt.str_join({sep}, {seq})"


# math functions of an f32 computed in float64 (FunctionLowerer.prim): the test that keeps a value in
# the domain of a function that has one
_F32_VIA_F64 = {"math.exp": None, "math.sin": None, "math.cos": None, "math.tan": None, "math.atan": None,
                "math.tanh": None, "math.sinh": None, "math.cosh": None, "math.log": "{0} > 0",
                "math.log2": "{0} > 0", "math.log10": "{0} > 0", "math.asin": "-1.0 <= {0} <= 1.0",
                "math.acos": "-1.0 <= {0} <= 1.0"}
_ATOM = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|-?[0-9][0-9.e+-]*|'[^'\\]*'|\"[^\"\\]*\"")  # a name or a literal

_SHRINKING = {"list.pop", "list.remove", "list.clear", "list.delitem"}


def _is_split(it) -> bool:
    """`s.split()` / `s.split(sep)`: a loop over it walks the string (FunctionLowerer.split_loop)."""
    return isinstance(it, ir.Prim) and it.op == "str.split"


def in_range_index(target, start, stop, step, body) -> list[tuple[int, int]]:
    """[(list slot, index slot)] when `for i in range(k, len(xs))` (a constant k >= 0, step 1)
    keeps 0 <= i < len(xs) throughout its body: neither i nor xs is assigned in the body, and nothing
    in it can shrink a list (no pop, remove, clear or del, and no call of a function, which could,
    through an alias); else []."""
    if not (isinstance(target, ir.StoreLocal) and isinstance(step, ir.Const) and step.value == 1
            and isinstance(start, ir.Const) and isinstance(start.value, int) and start.value >= 0
            and isinstance(stop, ir.Prim) and stop.op == "len" and isinstance(stop.args[0], ir.Local)
            and isinstance(stop.args[0].type, ListT)):
        return []
    xs = stop.args[0].slot
    for node in ir.walk(body):
        if isinstance(node, ir.StoreLocal) and node.slot in (xs, target.slot):
            return []
        if isinstance(node, (ir.CallFunc, ir.FuncRef, ir.CallValue)):
            return []
        if isinstance(node, ir.Prim) and node.op in _SHRINKING:
            return []
    return [(xs, target.slot)]


def _invariant_rows(parts, changed) -> dict[tuple, ir.Prim]:
    """The rows `xss[i + c]` (`_is_row`) whose elements a loop made of `parts` reads or writes, `xss`
    a local and `i` a local (or a constant) the loop does not change, `c` a constant: by key
    (xss's slot, (i's slot, name) or the constant, c). A loop that can resize no list but private
    ones and stores into no list of lists cannot change such a row's address or length, so
    FunctionLowerer.viewed reads them once before it (rt.row_view)."""
    found: dict[tuple, ir.Prim] = {}
    for node in ir.walk(parts):
        row = node.args[0] if isinstance(node, ir.Prim) and node.op == "list.getitem" else \
            node.container if isinstance(node, ir.StoreIndex) and node.op == "list.setitem" else None
        if not (_is_row(row) and isinstance(row.args[0], ir.Local) and row.args[0].slot not in changed):
            continue
        base, offset = _local_plus_const(row.args[1])
        if base is None or (isinstance(base, tuple) and base[0] in changed):
            continue
        found.setdefault((row.args[0].slot, base, offset), row)
    return found


def _local_plus_const(e):
    """(base, c) for `e` = `i + c`, `i - c`, `c + i` (base: (i's slot, name)) or a constant (base: it,
    c = 0); (None, 0) otherwise."""
    if isinstance(e, ir.Const) and type(e.value) is int:
        return e.value, 0
    if isinstance(e, ir.Local):
        return (e.slot, e.name), 0
    if isinstance(e, ir.Prim) and e.op in ("int.add", "int.sub") and len(e.args) == 2:
        a, b = e.args
        if isinstance(a, ir.Local) and isinstance(b, ir.Const) and type(b.value) is int:
            return (a.slot, a.name), (b.value if e.op == "int.add" else -b.value)
        if e.op == "int.add" and isinstance(b, ir.Local) and isinstance(a, ir.Const) and type(a.value) is int:
            return (b.slot, b.name), a.value
    return None, 0


def _is_row(e) -> bool:
    """Whether `e` is `xss[i]`, a row of a typed List of ArrayLists (read in place: row_element)."""
    return isinstance(e, ir.Prim) and e.op == "list.getitem" and array_list(e.type)


def _viewable(parts, iterated, private=frozenset(), reach=None) -> "LoopEffects | None":
    """What a loop made of `parts` does to lists, or None when it may change the storage of a list it
    does not own: it calls a function value or a function whose arguments (or the program's globals)
    could hold any list (`reach`: Reach.call), or resizes a list other than a private one (`private`:
    _private_lists). Its `views` are the ArrayLists it indexes, takes the length of or (`iterated`)
    walks, that it neither resizes nor assigns, and whose type no call in it can reach (`reached`)."""
    found: dict[int, ir.Local] = {}
    changed: set[int] = set()
    reached: set = set()
    list_slots = False

    def note(xs):
        if isinstance(xs, ir.Local) and array_list(xs.type):
            found[xs.slot] = xs

    note(iterated)
    for node in ir.walk(parts):
        if isinstance(node, ir.CallFunc) and reach is not None:
            types_ = reach.call(node)
            if types_ is None:
                return None
            reached |= types_
        elif isinstance(node, _OPAQUE):
            return None
        if _resizes(node):
            xs = node.args[0]
            if not (isinstance(xs, ir.Local) and xs.slot in private):
                return None
            changed.add(xs.slot)
        elif isinstance(node, ir.StoreLocal):
            changed.add(node.slot)
        elif isinstance(node, ir.Prim) and node.op in ("list.getitem", "len"):
            note(node.args[0])
        elif isinstance(node, ir.StoreIndex) and node.op == "list.setitem":
            note(node.container)
            list_slots = list_slots or not array_list(node.container.type)
    return LoopEffects({slot: xs for slot, xs in found.items() if slot not in changed and xs.type not in reached},
                       frozenset(changed), list_slots, frozenset(reached))


@dataclass(frozen=True)
class LoopEffects:
    """A loop that can change no list's storage but its private ones' and those of the types its
    calls can reach (_viewable)."""
    views: dict[int, ir.Local]
    changed: frozenset[int]  # the locals it assigns and the (private) lists it resizes
    list_slots: bool  # it stores into a typed List (of lists, dicts, ...): an element may be freed
    reached: frozenset = frozenset()  # the types of the containers its calls could change

    def keeps(self, xss: ir.Local, row) -> bool:
        """Whether the loop leaves the row `row` (an element of the list of lists `xss`) in place: it
        neither assigns `xss` nor stores into a typed List, and no call in it can reach either."""
        return xss.slot not in self.changed and not self.list_slots and xss.type not in self.reached \
            and row.type not in self.reached


class Reach:
    """Which containers a call can change, by type: only those its arguments hold, or the globals it
    (or a function it calls) reads, since a function reaches nothing else but what it makes. A loop
    that calls `heap_push(heap, (d, v))` can keep its views of a `list[float]` and of the rows of a
    `list[list[(int, float)]]`: no value of type `list[(float, int)]` or `(float, int)` holds one."""

    def __init__(self, mod: "ModuleLowerer"):
        self.m = mod
        self.structs = mod.p.structs

    def closure(self, ts):
        """The container types that values of the types `ts` can hold or be (through elements, keys,
        values, tuple items and struct fields), or None when one is a function (its closure could hold
        any list) or not a concrete type."""
        out: set = set()
        for t in held(ts, self.structs):
            if isinstance(t, (ListT, SetT, DictT, StructT)):
                out.add(t)
            elif not isinstance(t, (Scalar, TensorT, TupleT)):
                return None
        return out

    def call(self, node: ir.CallFunc):
        """The container types `node` could change, or None when it could change any."""
        inst = self.m.call_instance(node)
        uses = self.m.global_uses.get(inst)
        globals_ = [g.type for g in self.m.p.globals] if uses is None else [self.m.threaded[g][1] for g in uses]
        return self.closure([a.type for a in node.args] + globals_)


def _private_lists(f: ir.Function) -> frozenset[int]:
    """The list locals of `f` that never share their list with another name: each assignment gives
    one a new list (a literal, a comprehension, `*`, `+`, a slice, a copy) and each use is as the list
    an operation works on (`xs[i]`, `xs[i] = v`, `len(xs)`, `xs.append(v)`, `for x in xs`, ...) or
    the value returned. Resizing one cannot change the storage of any other list, so loops that do
    (a queue's `append`) keep their views of the others (_viewable)."""
    candidates = {k for k in range(len(f.params), f.nslots) if isinstance(f.slot_types[k], ListT)}
    fresh_stores: set[int] = set()
    lost: set[int] = set()
    for node in ir.walk(f.body):
        if isinstance(node, ir.Assign) and isinstance(node.target, ir.StoreLocal) and _fresh_list(node.value):
            fresh_stores.add(id(node.target))
        if isinstance(node, ir.Lambda):  # a list captured by a lambda is shared with it
            lost.update(outer.slot for _, outer in node.captures)
        for name, val in ir.child_fields(node):
            for k, child in enumerate(val if isinstance(val, tuple) else (val,)):
                if isinstance(child, ir.Local) and not _operated_on(node, name, k):
                    lost.add(child.slot)
    for node in ir.walk(f.body):
        if isinstance(node, ir.StoreLocal) and id(node) not in fresh_stores:
            lost.add(node.slot)
    return frozenset(candidates - lost)


def _holds_loop(stmts) -> bool:
    """Whether the statements hold a `while` or `for` (at any depth of `if`s and loops)."""
    for s in stmts:
        match s:
            case ir.While() | ir.ForRange() | ir.For():
                return True
            case ir.If(then=then, orelse=orelse) if _holds_loop(then) or _holds_loop(orelse):
                return True
    return False


def _fresh_list(e) -> bool:
    """Whether `e` makes a new list (nothing else holds it)."""
    return isinstance(e, ir.MakeList) or (isinstance(e, ir.Comprehension) and e.kind == "list") or \
        (isinstance(e, ir.Prim) and e.op in ("list.repeat", "list.concat", "list.slice", "list.copy"))


def _operated_on(parent, field: str, k: int) -> bool:
    """Whether the child `k` of `parent`'s field `field` is in a place where a list is only worked on
    (or returned), not shared: what _private_lists allows."""
    match parent:
        case ir.Prim(op=op) if field == "args" and k == 0:
            return op == "len" or op.startswith("list.")
        case ir.StoreIndex(op="list.setitem"):
            return field == "container"
        case ir.For():
            return field == "iter"
        case ir.Return():
            return True
    return False


# A loop with one of these has no views (FunctionLowerer.viewed): a call could resize a list through an
# alias; a lambda's or comprehension's slots are its own.
_OPAQUE = (ir.CallFunc, ir.FuncRef, ir.CallValue, ir.Lambda, ir.Comprehension)
# The list operations that leave every list's storage and length as they are.
_KEEPS_LISTS = {"list.getitem", "list.setitem", "list.slice", "list.concat", "list.repeat", "list.sum", "list.copy",
                "list.index", "list.count", "list.reverse"}


def _resizes(node) -> bool:
    """Whether `node` is a list operation that may change a list's length or storage (append, pop,
    sort, del, ...): what neither a view nor a versioned loop's test may outlive."""
    return isinstance(node, ir.Prim) and node.op.startswith("list.") and node.op not in _KEEPS_LISTS

# nbrt.list_order's op codes
_ORDER_CODES = ("cmp.eq", "cmp.ne", "cmp.lt", "cmp.le", "cmp.gt", "cmp.ge")

_INT_LITERAL = re.compile(r"-?[0-9]+")

# What may not appear in a loop that is versioned: a nested loop (only innermost loops are copied:
# the copy costs compile time), a call (it could resize a list through an alias) or a function value.
_NOT_VERSIONED = (ir.For, ir.ForRange, ir.While, ir.Comprehension, ir.CallFunc, ir.FuncRef, ir.CallValue,
                  ir.Lambda)
_MAX_OFFSET = 1 << 31


def _offset(index, var: int) -> int | None:
    """c when `index` is the loop variable plus a constant (j, j + c, c + j, j - c), else None."""
    if isinstance(index, ir.Local):
        return 0 if index.slot == var else None
    if not (isinstance(index, ir.Prim) and index.op in ("int.add", "int.sub")):
        return None
    a, b = index.args
    if index.op == "int.add" and isinstance(a, ir.Const):
        a, b = b, a
    if not (isinstance(a, ir.Local) and a.slot == var and isinstance(b, ir.Const) and type(b.value) is int
            and abs(b.value) < _MAX_OFFSET):
        return None
    return b.value if index.op == "int.add" else -b.value


@dataclass
class LoopVersion:
    """The accesses of an innermost `for j in range(lo, hi)` loop (step 1) that a copy of it may make
    without bound checks, once a test before the loop has shown them in range for every j: an index
    j + c into a list or string that the loop neither reassigns nor resizes (nothing in it can:
    no call, no append, pop, ...), or a loop-invariant index (a local the loop does not assign, or a
    constant >= 0). FunctionLowerer.for_range emits the test, the copy and the original loop."""
    var: int  # j's slot
    low: int = 0  # the least c of the indices j + c: the test is lo >= -low
    high: dict[int, int] = field(default_factory=dict)  # container slot -> greatest c: hi <= len - c
    fixed: dict[int, dict] = field(default_factory=dict)  # container slot -> {key: invariant index}
    containers: dict[int, ir.Local] = field(default_factory=dict)
    # invariant operands compared with a character s[j + c] (a local or constant): their code points
    # are computed before the loop (the temporaries in `codes`), so the loop compares two integers
    chars: dict[tuple, ir.Expr] = field(default_factory=dict)
    codes: dict[tuple, str] = field(default_factory=dict)
    assigned: set[int] = field(default_factory=set)  # the slots the loop assigns
    # the list xs whose `xs[j - 1]` the loop reads and whose `xs[j]` it writes last, in no branch:
    # its read is the value the iteration before wrote (carried_list), held in a local `carry`
    carried: ir.Local | None = None
    carry: str | None = None
    # string slot -> (its characters' address, their width), read before the unchecked copy (code_point)
    strs: dict[int, tuple[str, str]] = field(default_factory=dict)
    # rows `xss[i + c]` read before the loop (FunctionLowerer.row_views), indexed by j + c: the key of
    # each (FunctionLowerer.row_key) -> greatest c; the test adds that the row was read and is long enough
    rows: dict[tuple, int] = field(default_factory=dict)
    row_key: Callable | None = None  # a row's key when the loop around has read it before, else None

    @staticmethod
    def plan(target, step, body, safe, row_key=None) -> "LoopVersion | None":
        """The accesses of `for target in range(lo, hi, step): body` worth a copy without bound checks
        (at least one index j + c that in_range_index has not already proven), or None. `safe`: the
        (list slot, index slot) pairs in_range_index proved for this loop and the enclosing ones;
        `row_key`: the key of a row the loop around has read before it, else None."""
        if not (isinstance(target, ir.StoreLocal) and isinstance(step, ir.Const) and step.value == 1):
            return None
        v = LoopVersion(target.slot, row_key=row_key)
        for node in ir.walk(body):
            if isinstance(node, _NOT_VERSIONED) or _resizes(node):
                return None
            if isinstance(node, ir.StoreLocal):
                v.assigned.add(node.slot)
        if v.var in v.assigned:
            return None
        for node in ir.walk(body):
            if isinstance(node, ir.Prim) and node.op in ("list.getitem", "str.getitem"):
                v.add(*node.args, safe)
            elif isinstance(node, ir.StoreIndex) and node.op == "list.setitem":
                v.add(node.container, node.index, safe)
        if not v.high and not v.rows:
            return None
        v.carried = v.carried_list(body)
        for node in ir.walk(body):
            if isinstance(node, ir.Compare) and len(node.ops) == 1 and node.ops[0] in ("cmp.eq", "cmp.ne") \
                    and node.operands[0].type == STR:
                for a, b in (node.operands, node.operands[::-1]):
                    if v.is_char(a) and v.invariant(b):
                        v.chars[v.key(b)] = b
        return v

    def carried_list(self, body) -> ir.Local | None:
        """The list xs of numbers or bools whose `xs[j] = v` is the body's last statement and its only
        store into any list, in a body with no break, continue or return, that reads `xs[j - 1]`:
        each such read is the value the iteration before stored (no other store can have changed it,
        through another name either), or, in the first, the element before the loop. A dynamic
        programming row's `cur[j - 1]` (edit distance) otherwise went through memory from one
        iteration to the next: a store and a load in the chain of dependent operations, which LLVM's
        own forwarding of loads (loop-load-elimination) does not remove from a loop that leaves at
        every checked operation (docs/benchmarks.md, "Edit distance: the row carried in a local")."""
        last = body[-1] if body else None
        if not (isinstance(last, ir.Assign) and isinstance(last.target, ir.StoreIndex)
                and last.target.op == "list.setitem" and _offset(last.target.index, self.var) == 0):
            return None
        xs = last.target.container
        if not (isinstance(xs, ir.Local) and xs.slot in self.containers and xs.type.elem in (INT, FLOAT, F32, BOOL)):
            return None
        reads = False
        for node in ir.walk(body):
            if isinstance(node, (ir.Break, ir.Continue, ir.Return)) or isinstance(node, ir.StoreIndex) and node is not last.target:
                return None
            if isinstance(node, ir.Prim) and node.op == "list.getitem" and isinstance(node.args[0], ir.Local) \
                    and node.args[0].slot == xs.slot and _offset(node.args[1], self.var) == -1:
                reads = True
        return xs if reads else None

    def carries(self, container, index) -> bool:
        """Whether `container[index]` is the carried list's `xs[j - 1]` (carried_list)."""
        return self.carry is not None and isinstance(container, ir.Local) and container.slot == self.carried.slot \
            and _offset(index, self.var) == -1

    def invariant(self, e) -> bool:
        """A local the loop does not assign, or a constant."""
        return isinstance(e, ir.Const) or isinstance(e, ir.Local) and e.slot not in self.assigned

    @staticmethod
    def key(e) -> tuple:
        return ("local", e.slot) if isinstance(e, ir.Local) else ("const", e.value)

    def add(self, container, index, safe):
        key = self.row_key(container) if self.row_key is not None and _is_row(container) else None
        if key is not None:  # dp[i][j + c]: a row read before the loop (so `dp` and `i` are unchanged in it)
            c = _offset(index, self.var)
            if c is not None:
                self.low = min(self.low, c)
                self.rows[key] = max(self.rows.get(key, c), c)
            return
        if not (isinstance(container, ir.Local) and container.slot not in self.assigned):
            return
        if isinstance(index, ir.Local) and (container.slot, index.slot) in safe:
            return  # already unchecked (in_range_index)
        c = _offset(index, self.var)
        if c is not None:
            self.low = min(self.low, c)
            self.high[container.slot] = max(self.high.get(container.slot, c), c)
        elif self.invariant(index) and index.type == INT and (isinstance(index, ir.Local) or index.value >= 0):
            self.fixed.setdefault(container.slot, {})[self.key(index)] = index
        elif (key := self.shifted(index)) is not None:  # `a[i - 1]`, i a local the loop does not assign
            self.fixed.setdefault(container.slot, {})[key] = index
        else:
            return
        self.containers[container.slot] = container

    def shifted(self, e) -> tuple | None:
        """("shifted", slot, c) for `e` = `i + c` or `i - c` (c != 0), `i` a local the loop does not
        assign, other than j: a loop-invariant index the test computes with wrapping arithmetic (so
        that an `i + c` that would overflow fails the test, as it is then outside [0, len))."""
        base, c = _local_plus_const(e)
        if isinstance(e, ir.Prim) and isinstance(base, tuple) and base[0] != self.var and base[0] not in self.assigned \
                and c != 0 and abs(c) < _MAX_OFFSET:
            return ("shifted", base[0], c)
        return None

    def covers(self, container, index) -> bool:
        """Whether the test makes `container[index]` in range (0 <= index < len) for every j."""
        if self.rows and _is_row(container):
            key, c = self.row_key(container), _offset(index, self.var)
            return key in self.rows and c is not None and self.low <= c <= self.rows[key]
        if not isinstance(container, ir.Local) or container.slot not in self.containers:
            return False
        c = _offset(index, self.var)
        if c is not None:
            return container.slot in self.high and self.low <= c <= self.high[container.slot]
        key = self.key(index) if self.invariant(index) else self.shifted(index)
        return key is not None and key in self.fixed.get(container.slot, {})

    def is_char(self, e) -> bool:
        """`s[i]` with i proven in range."""
        return isinstance(e, ir.Prim) and e.op == "str.getitem" and self.covers(*e.args)

    def no_overflow(self, e) -> bool:
        """`j + c` (or `j - c`) whose value the test keeps within [0, len) of a container, or an
        invariant `i + c` the test found within [0, len) of one (shifted)."""
        key = self.shifted(e)
        if key is not None and any(key in indices for indices in self.fixed.values()):
            return True
        c = _offset(e, self.var)
        return c is not None and not isinstance(e, ir.Local) and self.low <= c <= max((*self.high.values(),
                                                                                        *self.rows.values()))


@dataclass
class WhileVersion:
    """The accesses of an innermost `while` loop that a copy of it may make without bound checks, once
    a test before the loop has shown them in range (FunctionLowerer.while_loop). Its counters are the
    int locals the loop only ever increases by constants (`i += 1`); an index is a counter plus a
    constant, or loop-invariant. A counter i bounded by the condition (a conjunct `i < b` or `i <= b`,
    b invariant: a local the loop does not assign, a constant or len(xs)) is below b at the start of
    a pass; any other counter k is below k0 + t * (its largest increase in one pass), where t bounds
    the number of passes, when every pass increases some bounded counter (each can only b - i times).
    An access in the body adds what its pass has added before it; one in the condition, a whole pass.
    Like LoopVersion, nothing in the loop may call, resize a list or nest a loop."""
    counters: dict[int, int]  # slot -> its largest increase in one pass through the body
    names: dict[int, str]  # counter slot -> its name
    guards: dict[int, tuple[ir.Expr, int]]  # counter slot -> (b, 1 for `<=` else 0)
    progress: bool  # every pass increases a guarded counter (so t above exists)
    assigned: set[int]
    # container slot -> {counter slot or ("fixed", key): [least offset, greatest offset, greatest
    # offset plus what the pass has added before the access]}
    spans: dict[int, dict] = field(default_factory=dict)
    containers: dict[int, ir.Local] = field(default_factory=dict)
    fixed: dict[tuple, ir.Expr] = field(default_factory=dict)
    planned: set[tuple[int, int]] = field(default_factory=set)  # id()s of (container, index) covered
    chars: dict = field(default_factory=dict)  # (as LoopVersion's: no character is pre-computed here)
    codes: dict = field(default_factory=dict)

    @staticmethod
    def plan(cond, body) -> "WhileVersion | None":
        stores: dict[int, int] = {}
        names: dict[int, str] = {}
        for node in ir.walk((cond, body)):
            if isinstance(node, _NOT_VERSIONED) or _resizes(node):
                return None
            if isinstance(node, ir.StoreLocal):
                stores[node.slot] = stores.get(node.slot, 0) + 1
                names[node.slot] = node.name
        incs: dict[int, int] = {}
        for node in ir.walk(body):
            if _increment(node) is not None:
                incs[node.target.slot] = incs.get(node.target.slot, 0) + 1
        counters = {slot: _most_added(body, slot) for slot, n in incs.items() if stores[slot] == n}
        counters = {slot: d for slot, d in counters.items() if d < _MAX_OFFSET}
        guards = {}
        for term in _conjuncts(cond):
            g = _guard(term, counters, set(stores))
            if g is not None and g[0] not in guards:
                guards[g[0]] = g[1:]
        v = WhileVersion(counters, names, guards, _progress(body, set(guards)), set(stores))
        v.scan_expr(cond, v.counters)
        v.scan(body, {slot: 0 for slot in counters})
        return v if v.spans else None

    def scan(self, stmts, added: dict[int, int]) -> dict[int, int]:
        """Note the accesses of `stmts`, `added` (slot -> the most each counter has grown in this pass
        so far) before them; returns it after them."""
        for st in stmts:
            if isinstance(st, ir.If):
                self.scan_expr(st.cond, added)
                a, b = self.scan(st.then, dict(added)), self.scan(st.orelse, dict(added))
                added = {slot: max(a[slot], b[slot]) for slot in added}
                continue
            self.scan_expr(st, added)
            c = _increment(st)
            if c is not None and st.target.slot in added:
                added = dict(added)
                added[st.target.slot] += c
        return added

    def scan_expr(self, node, added):
        for x in ir.walk(node):
            if isinstance(x, ir.Prim) and x.op in ("list.getitem", "str.getitem"):
                self.add(*x.args, added)
            elif isinstance(x, ir.StoreIndex) and x.op == "list.setitem":
                self.add(x.container, x.index, added)

    def bounded(self, slot: int) -> bool:
        """Whether the counter's values through the loop can be bounded (guarded, or counted)."""
        return slot in self.guards or self.progress and bool(self.guards)

    def add(self, container, index, added):
        if not (isinstance(container, ir.Local) and container.slot not in self.assigned):
            return
        key = c = None
        for slot in self.counters:
            c = _offset(index, slot)
            if c is not None:
                if not self.bounded(slot):
                    return
                key = slot
                break
        if key is None:
            if not (isinstance(index, ir.Const) and type(index.value) is int and index.value >= 0
                    or isinstance(index, ir.Local) and index.type == INT and index.slot not in self.assigned):
                return
            key, c = ("fixed",) + self.key(index), 0
            self.fixed[key] = index
        top = c + added.get(key, 0)
        span = self.spans.setdefault(container.slot, {}).setdefault(key, [c, c, top])
        span[0], span[1], span[2] = min(span[0], c), max(span[1], c), max(span[2], top)
        self.containers[container.slot] = container
        self.planned.add((id(container), id(index)))

    def covers(self, container, index) -> bool:
        return (id(container), id(index)) in self.planned

    is_char = LoopVersion.is_char  # `s[i]` with i proven in range
    key = staticmethod(LoopVersion.key)

    def no_overflow(self, e) -> bool:
        """counter ± c for a counter the test bounds within a container's length (|c| < 2**31)."""
        return not isinstance(e, ir.Local) and any(
            _offset(e, slot) is not None for spans in self.spans.values() for slot in spans
            if not isinstance(slot, tuple))


def _increment(node) -> int | None:
    """c when `node` is `v = v + c` (or `v += c`) for an int local v and a constant 0 <= c < 2**31."""
    if not (isinstance(node, ir.Assign) and isinstance(node.target, ir.StoreLocal) and node.target.type == INT):
        return None
    c = _offset(node.value, node.target.slot)
    return c if c is not None and c >= 0 and not isinstance(node.value, ir.Local) else None


def _most_added(stmts, slot: int) -> int:
    """The most the increments of `slot` in `stmts` can add in one pass (a branch taken at a time)."""
    total = 0
    for s in stmts:
        if isinstance(s, ir.If):
            total += max(_most_added(s.then, slot), _most_added(s.orelse, slot))
        elif isinstance(s, ir.Assign) and isinstance(s.target, ir.StoreLocal) and s.target.slot == slot:
            total += _increment(s)
    return total


def _conjuncts(e):
    if isinstance(e, ir.And):
        return _conjuncts(e.left) + _conjuncts(e.right)
    return [e]


def _guard(term, counters, assigned):
    """(counter slot, b, 1 for <= else 0) when `term` is `i < b`, `i <= b`, `b > i` or `b >= i`."""
    if not (isinstance(term, ir.Compare) and len(term.ops) == 1):
        return None
    a, b = term.operands
    op = term.ops[0]
    if op in ("cmp.gt", "cmp.ge"):
        a, b, op = b, a, "cmp.lt" if op == "cmp.gt" else "cmp.le"
    if op not in ("cmp.lt", "cmp.le") or not (isinstance(a, ir.Local) and a.slot in counters):
        return None
    invariant = isinstance(b, ir.Const) and type(b.value) is int \
        or isinstance(b, ir.Local) and b.type == INT and b.slot not in assigned \
        or isinstance(b, ir.Prim) and b.op == "len" and isinstance(b.args[0], ir.Local) \
        and b.args[0].slot not in assigned
    return (a.slot, b, 1 if op == "cmp.le" else 0) if invariant else None


def _progress(body, guarded: set[int]) -> bool:
    """Whether every way through `body` that finishes a pass (falls off its end or reaches
    `continue`) increases a guarded counter by 1 or more."""
    def go(stmts, done: bool) -> tuple[set[bool], set[bool]]:  # (falling off the end, continuing)
        ways, cont = {done}, set()
        for st in stmts:
            if isinstance(st, ir.If):
                fall = set()
                for w in ways:
                    for branch in (st.then, st.orelse):
                        f, c = go(branch, w)
                        fall |= f
                        cont |= c
                ways = fall
            elif isinstance(st, ir.Continue):
                return set(), cont | ways
            elif isinstance(st, (ir.Break, ir.Return)):
                return set(), cont
            elif _increment(st) and st.target.slot in guarded:
                ways = {True} if ways else set()
        return ways, cont

    if not guarded:
        return False
    fall, cont = go(body, False)
    return all(fall | cont)


_PLAIN = {INT: "np.int64", FLOAT: "np.float64", F32: "np.float32", BOOL: "np.bool_"}


def _holds(t, structs: dict, found) -> bool:
    """Is `t`, or a type it holds (in a container, a tuple, or a struct it holds), one that `found`
    accepts?"""
    return any(found(u) for u in held([t], structs))


def _reaches(t, name: str, structs: dict) -> bool:
    """Is `t` a struct `name`, or does it hold one (in a container, a tuple, or a struct it holds)?"""
    return _holds(t, structs, lambda u: isinstance(u, StructT) and u.name == name)


def _unordered(t, structs: dict) -> bool:
    """Is `t` a dict or a set, or does it hold one (in a list, a tuple or a struct)? Such values have
    `==` but no order, and Numba cannot type a comparison of them that also instantiates `<`."""
    return _holds(t, structs, lambda u: isinstance(u, (DictT, SetT)))


def boxed_fields(structs: dict) -> dict[str, frozenset[int]]:
    """For each struct that holds itself (`kids: list[Tree]`, or A holding a list of B holding an
    A), the fields on the way back to it: a Numba type cannot hold itself, so each of these is a box
    (runtime/nblist.py `box`) in the struct's tuple, and reading the field unboxes it. Every cycle
    of structs passes through one such field of each struct on it."""
    out = {}
    for name, info in structs.items():
        fields = frozenset(i for i, t in enumerate(info.types) if _reaches(t, name, structs))
        if fields:
            out[name] = fields
    return out


# Primitives whose lowering is one expression: a template over the lowered arguments.
_SIMPLE: dict[str, str] = {
    "int.add": "rt.int_add({0}, {1}, {site})",
    "int.sub": "rt.int_sub({0}, {1}, {site})",
    "int.mul": "rt.int_mul({0}, {1}, {site})",
    "int.floordiv": "rt.int_floordiv({0}, {1}, {site})",
    "int.mod": "rt.int_mod({0}, {1}, {site})",
    "int.truediv": "rt.int_truediv({0}, {1}, {site})",
    "int.pow": "rt.int_pow({0}, {1}, {site})",
    "int.neg": "rt.int_neg({0}, {site})",
    "int.abs": "rt.int_abs({0}, {site})",
    "int.and": "({0} & {1})",
    "int.or": "({0} | {1})",
    "int.xor": "({0} ^ {1})",
    "int.invert": "(~{0})",
    "int.lshift": "rt.int_lshift({0}, {1}, {site})",
    "int.rshift": "rt.int_rshift({0}, {1}, {site})",
    "int.to_float": "float({0})",
    "int.to_f32": "np.float32({0})",
    "float.to_f32": "np.float32({0})",
    "f32.to_float": "float({0})",
    "bool.to_int": "(1 if {0} else 0)",
    "bool.to_float": "(1.0 if {0} else 0.0)",
    "float.add": "({0} + {1})",
    "float.sub": "({0} - {1})",
    "float.mul": "({0} * {1})",
    "float.truediv": "rt.float_truediv({0}, {1}, {site})",
    "float.floordiv": "rt.float_floordiv({0}, {1}, {site})",
    "float.mod": "rt.float_mod({0}, {1}, {site})",
    "float.pow": "rt.float_pow({0}, {1}, {site})",
    "float.neg": "(-{0})",
    "float.abs": "abs({0})",
    "float.to_int": "rt.float_to_int({0}, {site})",
    "float.round": "rt.float_round({0}, {site})",
    "f32.add": "({0} + {1})",
    "f32.sub": "({0} - {1})",
    "f32.mul": "({0} * {1})",
    "f32.truediv": "np.float32(rt.float_truediv({0}, {1}, {site}))",
    "f32.neg": "(-{0})",
    "f32.abs": "abs({0})",
    "f32.to_int": "rt.float_to_int({0}, {site})",
    "bool.not": "(not {0})",
    "bool.and": "({0} & {1})",  # `&` of bools: both sides run, as in Python (not `and`)
    "bool.or": "({0} | {1})",
    "bool.xor": "({0} != {1})",
    "str.concat": "rt.str_concat({0}, {1})",
    "list.concat": "rt.list_concat({0}, {1})",
    "str.repeat": "rt.str_repeat({0}, {1}, {site})",
    "list.repeat": "rt.list_repeat({0}, {1}, {site})",
    "len": "len({0})",
    "range": "rt.range_list({0}, {1}, {2}, {site})",
    "range.len": "rt.range_len({0}, {1}, {2}, {site})",
    "range.getitem": "rt.range_getitem({0}, {1}, {2}, {3}, {site})",
    "range.contains": "rt.range_contains({0}, {1}, {2}, {3}, {site})",
    "list.getitem": "rt.list_getitem({0}, {1}, {site})",
    "str.getitem": "rt.str_getitem({0}, {1}, {site})",
    "tuple.getitem": "{0}[{attrs[0]}]",
    "dict.getitem": "rt.dict_getitem({0}, {1}, {site})",
    "list.slice": "rt.list_slice({0}, {1}, {2}, {3}, {site})",
    "str.slice": "rt.str_slice({0}, {1}, {2}, {3}, {site})",
    "list.delitem": "rt.list_delitem({0}, {1}, {site})",
    "dict.delitem": "rt.dict_delitem({0}, {1}, {site})",
    "list.append": "rt.list_append({0}, {1})",
    "list.insert": "rt.list_insert({0}, {1}, {2})",
    "list.remove": "rt.list_remove({0}, {1}, {site})",
    "list.index": "rt.list_index({0}, {1}, {site})",
    "list.count": "rt.list_count({0}, {1})",
    "list.reverse": "{0}.reverse()",
    "list.copy": "{0}.copy()",
    "list.clear": "{0}.clear()",
    "dict.get": "rt.dict_get({0}, {1}, {2})",
    "dict.setdefault": "rt.dict_setdefault({0}, {1}, {2})",
    "dict.copy": "rt.dict_copy({0})",
    "dict.clear": "{0}.clear()",
    "set.remove": "rt.set_remove({0}, {1}, {site})",
    "set.pop": "rt.set_pop({0}, {site})",
    "set.copy": "rt.dict_copy({0})",
    "set.clear": "{0}.clear()",
    "set.issubset": "rt.set_issubset({0}, {1})",
    "set.issuperset": "rt.set_issubset({1}, {0})",
    "str.upper": "rt.str_upper({0})",
    "str.lower": "rt.str_lower({0})",
    "str.startswith": "{0}.startswith({1})",
    "str.endswith": "{0}.endswith({1})",
    "str.isdigit": "bool({0}.isdigit())",  # Numba's returns an int
    "str.isalpha": "bool({0}.isalpha())",  # Numba's returns an int
    "str.isalnum": "bool({0}.isalnum())",  # Numba's returns an int
    "str.isspace": "{0}.isspace()",
    "str.isupper": "{0}.isupper()",
    "str.islower": "{0}.islower()",
    "str.count": "{0}.count({1})",
    "str.zfill": "rt.str_zfill({0}, {1}, {site})",
    "str.title": "{0}.title()",
    "str.capitalize": "{0}.capitalize()",
    "str.to_int": "rt.str_to_int({0}, {1}, {site})",
    "str.to_float": "rt.str_to_float({0}, {site})",
    "ord": "rt.k_ord({0}, {site})",
    "chr": "rt.k_chr({0}, {site})",
    "math.sqrt": "rt.math_sqrt({0}, {site})",
    "math.log": "rt.math_log({0}, {site})",
    "math.exp": "rt.math_exp({0})",
    "math.sin": "rt.math_sin({0}, {site})",
    "math.cos": "rt.math_cos({0}, {site})",
    "math.tan": "rt.math_tan({0}, {site})",
    "math.atan": "np.arctan({0})",
    "math.tanh": "np.tanh({0})",
    "math.floor": "rt.math_floor({0}, {site})",
    "math.ceil": "rt.math_ceil({0}, {site})",
    "math.hypot": "np.hypot({0}, {1})",
    "math.atan2": "np.arctan2({0}, {1})",
    "math.isnan": "np.isnan({0})",
    "math.isinf": "np.isinf({0})",
    "to_bool": "rt.to_bool({0})",
    "int.divmod": "rt.int_divmod({0}, {1}, {site})",
    "int.isqrt": "rt.int_isqrt({0}, {site})",
    "int.powmod": "rt.int_powmod({0}, {1}, {2}, {site})",
    "int.round": "rt.int_round({0}, {1}, {site})",
    "float.divmod": "rt.float_divmod({0}, {1}, {site})",
    "float.roundn": "rt.float_roundn({0}, {1})",
    "f32.floordiv": "np.float32(rt.float_floordiv({0}, {1}, {site}))",
    "f32.mod": "np.float32(rt.float_mod({0}, {1}, {site}))",
    "f32.pow": "np.float32(rt.float_pow({0}, {1}, {site}))",
    "f32.divmod": "rt.f32_pair(rt.float_divmod({0}, {1}, {site}))",
    "f32.round": "rt.float_round(np.float64({0}), {site})",
    "f32.roundn": "np.float32(rt.float_roundn(np.float64({0}), {1}))",
    "bool.to_f32": "(np.float32(1.0) if {0} else np.float32(0.0))",
    "str.to_f32": "np.float32(rt.str_to_float({0}, {site}))",
    "math.log2": "rt.math_log2({0}, {site})",
    "math.log10": "rt.math_log10({0}, {site})",
    "math.asin": "rt.math_asin({0}, {site})",
    "math.acos": "rt.math_acos({0}, {site})",
    "math.sinh": "np.sinh({0})",
    "math.cosh": "np.cosh({0})",
    "math.trunc": "rt.math_trunc({0}, {site})",
    "set.isdisjoint": "rt.set_isdisjoint({0}, {1})",
    "dict.update": "rt.dict_update({0}, {1})",
    "tuple.concat": "({0} + {1})",
    "list.sum": "rt.list_sum({0}, {1})",
    "str.casefold": "{0}.casefold()",
    "str.swapcase": "{0}.swapcase()",
    "str.splitlines": "rt.str_splitlines({0})",
    "str.partition": "rt.str_partition({0}, {1}, False, {site})",
    "str.rpartition": "rt.str_partition({0}, {1}, True, {site})",
}
