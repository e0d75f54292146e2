"""The embedded Python DSL: `@glia.fn`, `@glia.struct`, `glia.hole()`, `glia.choose()`, `glia.examples()`.

    @glia.struct
    class Edge:
        src: int
        dst: int

    @glia.fn(examples=[(([1, 2, 3],), [2, 4, 6])])
    def double_all(xs: list[int]) -> list[int]:
        return [2 * x for x in xs]

    double_all([5])        # -> [10], run by the reference interpreter

Each decorated definition is translated when it is decorated (python_frontend.py: syntax outside
the shared subset is reported then). The definitions of one Python module form one Glia program,
checked at the first call and checked again after a definition is added or replaced (a notebook
cell run twice replaces its functions). Functions of a module may call each other in any order,
and may call `@glia.fn` functions of other modules (those join the program). Module-level
constants of type int, float, bool and str that a function reads become Glia globals, with the
value they have when the program is checked.
"""
from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import linecache
import sys
import threading
import types
import weakref

import numpy as np

from glia.compiler import ast as A
from glia.compiler.builtins import FUNCS, MATH_CONSTS, MATH_FUNCS
from glia.compiler.checker import check
from glia.compiler.diagnostics import Diagnostic, GliaError, Note, Source, Span, a_or_an
from glia.compiler.driver import prelude
from glia.compiler.sourcemap import SourceMap
from glia.compiler.syntax import first_surrogate, surrogate_message

from .boundary import GliaNotAvailable, boundary_error, caller_location, describe_value, record_class
from .program import Program, backend_class, big_stack, compile, load
from .python_frontend import (STAGE, PySource, Resolver, Translated, Translator, find_definition, read_python,
                              type_text, value_to_ast)

# Every file a DSL definition comes from has its own block of lines in one virtual source, so that
# definitions from several files (modules, notebook cells) can form one program.
_FILES = SourceMap("<glia: python sources>")
_BASES: dict[tuple[str, str], int] = {}
_LOCK = threading.RLock()


def _base_of(source: Source) -> int:
    key = (source.name, source.text)
    base = _BASES.get(key)
    if base is None:
        base = _BASES[key] = _FILES.add(source)
    return base


# ---- the Python-side names ---------------------------------------------------------------------


def hole(**options):
    """`??` inside a @glia.fn function: a piece of code for search to find (options: size, depth, using)."""
    raise boundary_error("glia.hole() is a hole (`??`) for search to fill; it has a meaning only inside a "
                         "@glia.fn function, and only once search fills it (`glia synth`)", "E601")


def choose(*options):
    """A discrete choice settled by search; until then (and when run as plain Python) its first option."""
    if not options:
        raise TypeError("choose() takes one or more options")
    return options[0]


class Builtin:
    """`glia.dense`, `glia.relu`, `glia.zeros`, ...: a Glia builtin named from Python. Inside a
    @glia.fn function `glia.NAME(...)` is the builtin NAME (as is plain `NAME(...)`); called from
    Python it says where it belongs."""

    __slots__ = ("_glia_builtin",)

    def __init__(self, name: str):
        self._glia_builtin = name

    def __call__(self, *args, **kwargs):
        raise boundary_error(f"glia.{self._glia_builtin} is a Glia builtin: call it inside a @glia.fn function "
                             "(or in .glia source), where it is compiled with the rest", "E005", GliaNotAvailable)

    def __repr__(self) -> str:
        return f"glia.{self._glia_builtin}"


def builtin_names() -> frozenset:
    """The Glia builtins reachable as `glia.NAME`: those Python has no builtin of the same name for."""
    import builtins

    from glia.compiler.builtins import FUNCS

    return frozenset(n for n in FUNCS if not hasattr(builtins, n) and n not in ("choose", "f32", "f64"))


# ---- one program per Python module -------------------------------------------------------------


class _Def:
    __slots__ = ("name", "translated", "resolver", "_pyobj", "group", "added", "replaced")

    def __init__(self, name, translated, resolver, pyobj, group):
        self.name, self.translated, self.resolver, self.group = name, translated, resolver, group
        self.added, self.replaced = 0, False  # (set by _Group.add: when, and whether it replaced one)
        # a function is held weakly: once Python holds it nowhere (`del helper`, a notebook's broken
        # function renamed), it leaves its module's program
        self._pyobj = weakref.ref(pyobj) if isinstance(translated.item, A.FuncDef) else lambda: pyobj

    @property
    def pyobj(self):
        return self._pyobj()

    def live(self) -> bool:
        return self._pyobj() is not None


class _Group:
    """The Glia definitions of one Python module, and the program they form."""

    def __init__(self, module: str):
        self.module = module
        self.defs: dict[str, _Def] = {}
        self.examples: dict[str, list[A.Example]] = {}
        self.version = 0
        self._programs: dict[str, tuple[int, Program]] = {}

    def add(self, d: _Def) -> None:
        with _LOCK:
            d.replaced = d.name in self.defs
            self.defs[d.name] = d
            self.examples.pop(d.name, None)
            self.version += 1
            d.added = self.version

    def add_examples(self, name: str, examples: list[A.Example]) -> None:
        with _LOCK:
            self.examples.setdefault(name, []).extend(examples)
            self.version += 1

    def program(self, backend: str = "interp") -> Program:
        with _LOCK:
            built = self._programs.get(backend)
            stamp = self._stamp()
            if built is None or built[0] != stamp:
                built = self._programs[backend] = (stamp, self._build(backend))
            return built[1]

    def _stamp(self):
        return tuple(g.version for g in self._groups())

    def _groups(self) -> list["_Group"]:
        """This group and the groups of other modules whose definitions it uses, transitively."""
        out, todo = [self], [self]
        while todo:
            g = todo.pop()
            for d in g.defs.values():
                for obj in d.translated.refs.values():
                    other = _owner(obj)
                    if other is not None and other not in out:
                        out.append(other)
                        todo.append(other)
        return out

    def _build(self, backend: str) -> Program:
        groups = self._groups()
        defs: dict[str, _Def] = {}
        for g in groups:
            for name, d in g.defs.items():
                if d.live():
                    defs.setdefault(name, d)
        self._check_distinct(groups, defs)
        items: list[A.Item] = [d.translated.item for d in defs.values()]
        items += self._captured_constants(defs)
        for g in groups:
            for name, exs in g.examples.items():
                if exs and name in defs:  # (not those of a function deleted since)
                    items.append(A.ExamplesDef(name, tuple(exs), exs[0].span))
        source = _FILES.virtual
        try:
            program = check(A.Module(tuple(items), Span(1, 1, 1, 1)), source, prelude())
        except GliaError as e:
            raise _FILES.remap(_with_stale_note(e, defs)) from None
        structs = {n: d.pyobj for n, d in defs.items() if isinstance(d.translated.item, A.StructDef)}
        return Program(program, backend=backend, source_map=_FILES, py_structs=structs, module=self.module)

    def _check_distinct(self, groups: list["_Group"], defs: dict[str, _Def]) -> None:
        """A definition that names one of its own module's must get that one: one program holds one
        definition per name, so two modules defining `helper` would silently swap them (E102)."""
        for g in groups:
            for d in g.defs.values():
                if not d.live():
                    continue
                for name in {**d.translated.free, **d.translated.refs}:
                    own, held = g.defs.get(name), defs.get(name)
                    if own is None or held is None or own is held or not own.live():
                        continue
                    used = d.translated
                    span = used.free.get(name) or used.calls.get(name) or A.name_span(used.item)
                    first = Note(f"the {name} of module {held.group.module}", A.name_span(held.translated.item),
                                 _FILES.virtual)
                    raise _FILES.remap(GliaError(Diagnostic(
                        "E102", f"'{name}' here is module {g.module}'s, but module {held.group.module} defines "
                        f"{a_or_an(name)} too, and the program of {self.module} holds one definition per name: "
                        "rename one",
                        span, STAGE, _FILES.virtual, notes=(first,))))

    def _captured_constants(self, defs: dict[str, _Def]) -> list[A.GlobalDef]:
        known = set(defs) | set(FUNCS) | set(MATH_FUNCS) | set(MATH_CONSTS) | _prelude_names() | {"math"}
        out: dict[str, A.GlobalDef] = {}
        values: dict[str, tuple[object, _Def]] = {}  # the value each captured name has, and who read it first
        for d in defs.values():
            for name, span in d.translated.free.items():
                if name in known:
                    continue
                found, value = d.resolver.lookup(name)
                if not found:
                    continue  # the checker reports the undefined name
                if name in values:
                    first, reader = values[name]
                    if type(value) in (int, float, bool, str) and value is not first and \
                            (type(value), value) != (type(first), first):
                        note = Note(f"where {reader.group.module}'s {name}, {first!r}, is read", out[name].span,
                                    _FILES.virtual)
                        raise _FILES.remap(GliaError(Diagnostic(
                            "E102", f"'{name}' here is module {d.group.module}'s, {value!r}, but another module's "
                            f"{name} is read too, and one program holds one global per name: rename one", span,
                            STAGE, _FILES.virtual, notes=(note,))))
                    continue
                if type(value) is str and first_surrogate(value) is not None:
                    raise _FILES.remap(GliaError(Diagnostic("E004", surrogate_message(
                        f"'{name}' is a string holding '{first_surrogate(value)}', which"), span, STAGE,
                        _FILES.virtual)))
                if type(value) in (int, float, bool, str):
                    values[name] = (value, d)
                    out[name] = A.GlobalDef(name, None, value_to_ast(value, span), span)
                elif name in d.translated.calls and callable(value):
                    message = (f"'{name}' is a builtin of Python that Glia does not have (docs/language.md lists "
                               "Glia's builtins)" if d.resolver.is_python_builtin(name) else
                               f"'{name}' is a Python function, not a Glia one: decorate it with @glia.fn to "
                               "call it from Glia code (or pass it in as a parameter of function type)")
                    raise _FILES.remap(GliaError(Diagnostic("E101", message, span, STAGE, _FILES.virtual)))
                elif value is None or isinstance(value, (list, tuple, dict, set, frozenset, bytes, complex,
                                                         np.ndarray, np.generic)):
                    # (it was "undefined name 'W'", though W is defined)
                    raise _FILES.remap(GliaError(Diagnostic(
                        "E101", f"'{name}' is {describe_value(value)}: @glia.fn code reads module constants of "
                        "type int, float, bool or str only (they become Glia globals): pass it in as a parameter",
                        span, STAGE, _FILES.virtual)))
        return list(out.values())


_GROUPS: dict[str, _Group] = {}


def _with_stale_note(e: GliaError, defs: dict[str, _Def]) -> GliaError:
    """An error in a function that uses a definition decorated again after it (a notebook cell run
    with a new signature for g, while f, defined before, still calls the old one) says so: the
    module's program holds both, so it stops every call until f is defined again or deleted."""
    d = e.diagnostic
    at = (d.span.line, d.span.col)
    owner = next((x for x in defs.values() if isinstance(x.translated.item, A.FuncDef) and
                  (x.translated.item.span.line, x.translated.item.span.col) <= at <
                  (x.translated.item.span.end_line, x.translated.item.span.end_col)), None)
    if owner is None:
        return e
    used = {**owner.translated.free, **owner.translated.calls}
    newer = [defs[n] for n in used if n in defs and defs[n].replaced and defs[n].added > owner.added]
    if not newer:
        return e
    n = newer[0]
    note = Note(f"{owner.name} was defined before {n.name} was defined again (here): the module's program holds "
                f"both, so define {owner.name} again to fit, or delete it (`del {owner.name}`)",
                A.name_span(n.translated.item), _FILES.virtual)
    return GliaError(dataclasses.replace(d, notes=d.notes + (note,)))


def _group(module: str) -> _Group:
    with _LOCK:
        g = _GROUPS.get(module)
        if g is None:
            g = _GROUPS[module] = _Group(module)
        return g


def _owner(obj) -> _Group | None:
    info = getattr(obj, "glia", None)
    if isinstance(info, DslFunctionInfo):
        return info._group
    return getattr(obj, "_glia_group", None)


@functools.lru_cache(maxsize=1)
def _prelude_names() -> frozenset:
    return frozenset(it.name for it in prelude()[0].items if isinstance(it, A.FuncDef))


# ---- @glia.fn --------------------------------------------------------------------------------


class DslFunctionInfo:
    """`f.glia` for a @glia.fn function: its Glia signature, program, examples and typed IR."""

    def __init__(self, name: str, group: _Group, backend: str, signature: str):
        self.name, self._group, self.backend, self.signature = name, group, backend, signature

    @property
    def program(self) -> Program:
        """The module's program (checked now if it was not yet)."""
        return _public(lambda: self._group.program(self.backend))

    @property
    def type(self):
        return self.program.ir.functions[self.name].type

    def ir(self) -> str:
        """The function's typed IR, readably."""
        return self.program.format_ir(self.name)

    def __repr__(self) -> str:
        return f"<glia function {self.signature} of module {self._group.module}>"


SPECIALS: dict[int, str] = {}


def fn(func=None, *, examples=None, backend: str = "interp"):
    """Make a typed Python function a Glia function (see the module docstring).

    `examples`: a list of `(args, result)` pairs for search (`args` a tuple, or one value when the
    function takes one argument). `backend`: what runs it (`interp`, the reference interpreter, is
    the one there is now)."""
    __tracebackhide__ = True
    if func is None:
        return lambda f: _public(lambda: _make_fn(f, examples, backend))
    return _public(lambda: _make_fn(func, examples, backend))


def _make_fn(func, examples, backend: str):
    # another decorator's result (staticmethod, lru_cache, a functools.wraps wrapper): its function, whose
    # `def` has that decorator, is refused below at the decorator's line
    for _ in range(100):
        inner = getattr(func, "__func__", None) or getattr(func, "__wrapped__", None)
        if not isinstance(inner, types.FunctionType):
            break
        func = inner
    if not isinstance(func, types.FunctionType) or func.__name__ == "<lambda>":
        what = "a lambda" if isinstance(func, types.FunctionType) else type(func).__name__
        raise boundary_error(f"@glia.fn decorates a def function, not {what}", "E005")
    owner = func.__qualname__.rsplit(".", 2)
    if len(owner) > 1 and owner[-2] != "<locals>":  # `A.m`: a def in a class body (`f.<locals>.g` is in a def)
        raise boundary_error(f"@glia.fn decorates a function, not a method: {func.__name__} is defined in class "
                             f"{owner[-2]}; define it at the top level of the module (Glia functions have no "
                             "self) and call it from the method", "E005")
    backend_class(backend)
    code = func.__code__
    py = _source_of(func.__name__, code.co_filename, code.co_firstlineno, "function")
    node = find_definition(py, func.__name__, code.co_firstlineno, (ast.FunctionDef, ast.AsyncFunctionDef))
    if node is None:
        raise _changed(func.__name__, code)
    resolver = Resolver(func.__globals__, _closure_of(func))
    translated = Translator(py, _base_of(py.source), resolver, SPECIALS).function(node)
    name = func.__name__
    _reject_enclosing_constants(func, translated, resolver)
    group = _group(func.__module__)

    @functools.wraps(func)
    def call(*args, **kwargs):
        __tracebackhide__ = True  # IPython and pytest leave this frame out of tracebacks
        try:
            program = group.program(backend)
        except GliaError as e:
            raise e.with_traceback(None) from None
        return program._call(name, args, kwargs)

    fd: A.FuncDef = translated.item
    params = ", ".join(f"{p.name}: {type_text(p.type)}" for p in fd.params)
    signature = f"def {name}({params}) -> {type_text(fd.ret)}"
    call.__doc__ = ((func.__doc__ or "").rstrip() + "\n\n" if func.__doc__ else "") + \
        f"Glia: {signature}  ({py.source.name}:{node.lineno}, run by the {backend} backend)"
    call._glia_name = name
    call.glia = DslFunctionInfo(name, group, backend, signature)
    group.add(_Def(name, translated, resolver, call, group))
    if examples is not None:
        group.add_examples(name, _examples(name, examples, _decorator_example_spans(node, py, len(examples))
                                           if isinstance(examples, (list, tuple)) else None))
    return call


def _source_of(name: str, filename: str, line: int, what: str) -> PySource:
    py = read_python(filename)
    if py is None and linecache.getlines(filename):
        raise GliaError(Diagnostic("E509", f"{filename} changed since it was imported and no longer parses: @glia "
                                   f"reads the source of what it decorates ({what} {name})",
                                   Span(line, 1, line, 2), STAGE, Source(filename, "")))
    if py is None:
        raise GliaError(Diagnostic("E509", f"the source of {what} {name} is not available: @glia reads the source "
                                   "of what it decorates, so define it in a .py file or a notebook cell (not in "
                                   "exec() or the plain python prompt)", Span(line, 1, line, 2), STAGE,
                                   Source(filename, "")))
    return py


def _changed(name: str, code) -> GliaError:
    return GliaError(Diagnostic("E509", f"cannot find {name} in {code.co_filename} at line {code.co_firstlineno}: "
                                "the file changed since it was imported", Span(code.co_firstlineno, 1,
                                                                               code.co_firstlineno, 2),
                                STAGE, Source(code.co_filename, "")))


def _reject_enclosing_constants(func, translated: Translated, resolver: Resolver) -> None:
    """A @glia.fn nested in a function may name the classes and @glia.fn functions of the enclosing
    function, but not read its numbers or strings: the definition is one of its module's program,
    so decorating it again (the enclosing function called again, with another value) would replace
    it, and the functions made before would silently compute with the new value."""
    for name, span in translated.free.items():
        if type(resolver.closure.get(name)) in (int, float, bool, str):
            where = func.__qualname__.rsplit(".<locals>.", 1)[0]
            raise _FILES.remap(GliaError(Diagnostic(
                "E005", f"'{name}' is a variable of the enclosing function {where}(): a @glia.fn function reads "
                "only module-level constants, since each name has one definition in its module's program (a "
                "second call of the enclosing function would replace it); pass it in as a parameter",
                span, STAGE, _FILES.virtual)))


def _closure_of(func) -> dict:
    out = {}
    for name, cell in zip(func.__code__.co_freevars, func.__closure__ or ()):
        try:
            out[name] = cell.cell_contents
        except ValueError:  # an empty cell
            pass
    return out


# ---- examples ---------------------------------------------------------------------------------


def examples(func, pairs) -> None:
    """Add examples `[(args, result), ...]` to a @glia.fn function (see `fn`)."""
    def add():
        info = getattr(func, "glia", None)
        if not isinstance(info, DslFunctionInfo):
            raise boundary_error("glia.examples(f, [...]) takes a @glia.fn function first", "E401")
        source, span = caller_location()
        base = _base_of(source) if source.text else 0
        where = Span(span.line + base, span.col, span.end_line + base, span.end_col)
        info._group.add_examples(info.name, _examples(info.name, pairs, [where] * _len(pairs)))
    _public(add)


def _len(x) -> int:
    try:
        return len(x)
    except TypeError:
        return 0


def _examples(name: str, pairs, spans) -> list[A.Example]:
    if not isinstance(pairs, (list, tuple)):
        raise boundary_error(f"examples for {name} are a list of (args, result) pairs", "E401")
    out = []
    for i, pair in enumerate(pairs):
        span = spans[i] if spans else Span(0, 0, 0, 0)
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise _example_error(f"example {i + 1} of {name} is not an (args, result) pair", span)
        args, result = pair
        args = args if isinstance(args, tuple) else (args,)
        try:
            out.append(A.Example(tuple(value_to_ast(a, span) for a in args), value_to_ast(result, span), span))
        except TypeError as e:
            raise _example_error(f"example {i + 1} of {name} holds a Python {e}, which has no Glia literal", span) \
                from None
    return out


def _example_error(message: str, span: Span) -> GliaError:
    if span.line > 0:
        return _FILES.remap(GliaError(Diagnostic("E401", message, span, "examples", _FILES.virtual)))
    return boundary_error(message, "E401")


def _decorator_example_spans(node, py: PySource, n: int) -> list[Span] | None:
    """The span of each example in `@glia.fn(examples=[...])` when it is written out in the source."""
    base = _base_of(py.source)
    tr = Translator(py, base, Resolver({}), {})
    for d in node.decorator_list:
        if isinstance(d, ast.Call):
            for k in d.keywords:
                if k.arg == "examples":
                    if isinstance(k.value, (ast.List, ast.Tuple)) and len(k.value.elts) == n:
                        return [tr.span(e) for e in k.value.elts]
                    return [tr.span(k)] * n
    return None


# ---- @glia.struct ----------------------------------------------------------------------------


def struct(cls):
    """Make an annotated class a Glia struct: an immutable record class with the same fields."""
    __tracebackhide__ = True
    frame = sys._getframe(1)
    return _public(lambda: _make_struct(cls, frame.f_code.co_filename, frame.f_lineno))


def _make_struct(cls, filename: str, line: int):
    if not isinstance(cls, type) or cls.__module__ == "builtins":
        what = f"the builtin {cls.__name__}" if isinstance(cls, type) else type(cls).__name__
        raise boundary_error(f"@glia.struct decorates a class, not {what}", "E005")
    py = read_python(filename)
    node = find_definition(py, cls.__name__, line, ast.ClassDef) if py is not None else None
    if node is None:
        try:
            filename = inspect.getsourcefile(cls) or filename
            line = inspect.getsourcelines(cls)[1]
        except (OSError, TypeError):
            pass
        py = _source_of(cls.__name__, filename, line, "class")
        node = find_definition(py, cls.__name__, line, ast.ClassDef)
        if node is None:
            raise GliaError(Diagnostic("E509", f"cannot find class {cls.__name__} in {filename}", Span(line, 1, line, 2),
                                       STAGE, Source(filename, "")))
    group = _group(cls.__module__)
    resolver = Resolver(sys.modules[cls.__module__].__dict__ if cls.__module__ in sys.modules else {})
    translated: Translated = Translator(py, _base_of(py.source), resolver, SPECIALS).struct(node, cls.__name__)
    fields = tuple(f.name for f in translated.item.fields)
    namespace = {k: v for k, v in vars(cls).items() if k not in ("__dict__", "__weakref__", "__module__",
                                                                   "__qualname__")}
    namespace["_glia_group"] = group
    new = record_class(cls.__name__, fields, namespace, module=cls.__module__, qualname=cls.__qualname__)
    hints = getattr(cls, "__annotations__", {})
    new.__signature__ = inspect.Signature([inspect.Parameter(f, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                             annotation=hints.get(f, inspect.Parameter.empty))
                                           for f in fields])
    group.add(_Def(cls.__name__, translated, resolver, new, group))
    return new


# ---- errors at the public surface -------------------------------------------------------------


def _public(thunk):
    """Run `thunk`; a GliaError leaves without the frames of Glia's own code in its traceback."""
    __tracebackhide__ = True
    try:
        return big_stack.run(thunk)  # (translating and checking recurse as deep as the function nests)
    except GliaError as e:
        raise e.with_traceback(None) from None


SPECIALS.update({id(fn): "fn", id(struct): "struct_deco", id(hole): "hole", id(choose): "choose",
                 id(examples): "api", id(load): "api", id(compile): "api"})

