"""The embedded DSL's front end: a typed Python function (or `@glia.struct` class) -> the Glia AST.

Python source is read as data: the file the function lives in is parsed with Python's `ast` (from
`linecache`, so notebook cells work too), the function's node is found by name and first line, and
the Python subset Glia shares is mapped node by node onto compiler/ast.py, the same AST the Glia
parser builds, so the same checker and backends see it. Nothing the user wrote is executed here.
Spans keep the real file's lines and columns (shifted by a `base` when several files form one
program, see compiler/sourcemap.py); everything outside the subset is a diagnostic at its
file:line:col (E005 for Python-only constructs, E206 for annotations Glia cannot read).

Names are resolved against the function's globals only where Python objects matter: `glia.hole()`,
`glia.choose(...)`, struct classes and other `@glia.fn` functions used under another name, and the
annotation objects (`glia.f32[64]`, `typing.Callable`). Every other name is passed on as written.
"""
from __future__ import annotations

import ast
import builtins
import collections.abc
import linecache
import math
import re
import types
import typing
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from glia.compiler import ast as A
from glia.compiler.syntax import first_surrogate, surrogate_message
from glia.compiler.diagnostics import Diagnostic, GliaError, Source, Span, a_or_an

from . import annotations as ann

STAGE = "python"

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
           ast.Pow: "**", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<",
           ast.RShift: ">>"}
_GLIA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # docs/language.md, section 1
_UNARY = {ast.USub: "-", ast.UAdd: "+", ast.Invert: "~"}
_CMPOPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.In: "in",
           ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}

_PYTHON_ONLY_STMTS = {
    ast.Try: "'try'", ast.With: "'with'", ast.AsyncWith: "'async with'", ast.Raise: "'raise' (Glia has assert)",
    ast.Import: "'import'", ast.ImportFrom: "'import'", ast.Global: "'global'", ast.Nonlocal: "'nonlocal'",
    ast.ClassDef: "a class inside a function", ast.AsyncFor: "'async for'", ast.Match: "'match'",
    ast.FunctionDef: "a nested def (Glia has no nested functions: use a lambda, or another @glia.fn)",
    ast.AsyncFunctionDef: "'async def'",
}
if hasattr(ast, "TryStar"):
    _PYTHON_ONLY_STMTS[ast.TryStar] = "'try'"
_PYTHON_ONLY_EXPRS = {
    ast.JoinedStr: "an f-string (build the text with str() and +)", ast.FormattedValue: "an f-string",
    ast.NamedExpr: "the walrus operator ':='", ast.Await: "'await'", ast.Yield: "'yield'",
    ast.YieldFrom: "'yield from'", ast.Starred: "*unpacking",
}

_SCALAR_NAMES = {int: "int", float: "float", bool: "bool", str: "str", type(None): "None"}
_GENERIC_NAMES = {list: "list", dict: "dict", set: "set", tuple: "tuple", typing.List: "list",
                  typing.Dict: "dict", typing.Set: "set", typing.Tuple: "tuple"}
_CALLABLES = (typing.Callable, collections.abc.Callable, ann.Fn)


def python_only(what: str) -> str:
    return f"{what} is Python, not Glia: a @glia.fn function is written in the Python subset Glia shares " \
           "(see docs/python.md)"


# ---- reading a file's Python source ------------------------------------------------------------


@dataclass(frozen=True)
class PySource:
    source: Source  # the file, as diagnostics show it
    tree: ast.Module


def read_python(filename: str) -> PySource | None:
    """The parsed text of a Python file or notebook cell (None if Python has no text for it)."""
    linecache.checkcache(filename)  # a file changed on disk (importlib.reload, autoreload) is read again
    lines = linecache.getlines(filename)
    if not lines:
        return None
    return _parse_python(filename, "".join(lines))


@lru_cache(maxsize=64)
def _parse_python(filename: str, text: str) -> PySource | None:
    try:
        tree = ast.parse(text, filename)
    except (SyntaxError, ValueError):
        return None  # the file changed since it was imported; the caller says so
    return PySource(Source(filename, text), tree)


def find_definition(py: PySource, name: str, line: int, kind: type) -> ast.AST | None:
    """The `def`/`class` named `name` whose first line (a decorator's, if any) or body holds `line`."""
    best = None
    for node in ast.walk(py.tree):
        if isinstance(node, kind) and node.name == name:
            first = min([d.lineno for d in node.decorator_list] + [node.lineno])
            if first == line:
                return node
            if first <= line <= (node.end_lineno or node.lineno):
                best = node
    return best


# ---- resolving names to Python objects ---------------------------------------------------------


class Resolver:
    """Looks up the Python objects a function's names refer to (its globals, closure and builtins)."""

    def __init__(self, globals_: dict, closure: dict | None = None):
        self.globals = globals_
        self.closure = closure or {}

    def lookup(self, name: str):
        for scope in (self.closure, self.globals, vars(builtins)):
            if name in scope:
                return True, scope[name]
        return False, None

    def is_python_builtin(self, name: str) -> bool:
        """Does `name` mean Python's builtin of that name (`repr`, `open`): nothing of the module's?"""
        return name not in self.closure and name not in self.globals and hasattr(builtins, name)

    def resolve(self, node: ast.AST):
        """The object an expression like `glia.hole` or `Point` names, or None (only names and
        attributes of modules are followed; nothing is called)."""
        if isinstance(node, ast.Name):
            return self.lookup(node.id)[1]
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            if isinstance(base, types.ModuleType) or base is np:
                return getattr(base, node.attr, None)
        return None


# ---- the translator -------------------------------------------------------------------------


@dataclass
class Translated:
    """A translated definition: the Glia item, and the names it reads that it does not bind."""

    item: A.Item
    free: dict[str, Span] = field(default_factory=dict)
    calls: dict[str, Span] = field(default_factory=dict)  # free names used as functions
    refs: dict[str, object] = field(default_factory=dict)  # struct classes and @glia.fn functions used


class Translator:
    """Translates one definition of one file. `base` shifts lines into the program's virtual source."""

    def __init__(self, py: PySource, base: int, resolver: Resolver, specials: dict):
        self.py = py
        self.source = py.source
        self.lines = py.source.text.splitlines()
        self.base = base
        self.resolver = resolver
        self.specials = specials  # id(object) -> role: 'fn', 'struct_deco', 'hole', 'choose', 'api'
        self.locals: set[str] = set()
        self.free: dict[str, Span] = {}
        self.calls: dict[str, Span] = {}
        self.refs: dict[str, object] = {}  # Glia definitions named through Python objects
        self.typevars: dict[str, None] = {}  # typing.TypeVar names met in annotations, in order

    # -- spans and errors
    def _col(self, line: int, byte_offset: int) -> int:
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore")) + 1

    def real_span(self, node) -> Span:
        line = getattr(node, "lineno", 0) or 0
        if not line:
            return Span(0, 0, 0, 0)
        end_line = getattr(node, "end_lineno", None) or line
        col = self._col(line, node.col_offset)
        end_col = self._col(end_line, node.end_col_offset) if node.end_col_offset is not None else col + 1
        return Span(line, col, end_line, end_col)

    def span(self, node) -> Span:
        s = self.real_span(node)
        return Span(s.line + self.base, s.col, s.end_line + self.base, s.end_col) if s.line else s

    def shift(self, s: Span) -> Span:
        return Span(s.line + self.base, s.col, s.end_line + self.base, s.end_col)

    def err(self, code: str, message: str, node) -> GliaError:
        span = node if isinstance(node, Span) else self.real_span(node)
        return GliaError(Diagnostic(code, message, span, STAGE, self.source))

    def python_only(self, what: str, node) -> GliaError:
        return self.err("E005", python_only(what), node)

    def op_span(self, left, right, op: str) -> Span:
        """Where operator `op` stands between two operands (Python's ast does not record it)."""
        line, start = left.end_lineno, left.end_col_offset
        if right.lineno == line:
            text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
            seg = text.encode("utf-8")[start:right.col_offset].decode("utf-8", errors="ignore")
            i = seg.find(op)
            if i >= 0:
                col = self._col(line, start) + i
                return self.shift(Span(line, col, line, col + len(op)))
        col = self._col(line, start)
        return self.shift(Span(line, col, line, col + 1))

    # -- definitions
    def function(self, node: ast.FunctionDef) -> Translated:
        if isinstance(node, ast.AsyncFunctionDef):
            raise self.python_only("'async def'", node)
        self.check_decorators(node, "fn", "@glia.fn")
        for n in ast.walk(node):
            self.check_name(n)
        args = node.args
        if args.vararg or args.kwarg:
            raise self.python_only("*args and **kwargs", args.vararg or args.kwarg)
        if args.kwonlyargs:
            raise self.python_only("a keyword-only parameter", args.kwonlyargs[0])
        if args.defaults or args.kw_defaults and any(d is not None for d in args.kw_defaults):
            d = (args.defaults or [x for x in args.kw_defaults if x is not None])[0]
            raise self.python_only("a default parameter value", d)
        self.locals = {a.arg for a in args.posonlyargs + args.args}
        self.locals |= _bound_names(node.body)
        tparams = tuple(getattr(tp, "name", "") for tp in getattr(node, "type_params", ()) or ())
        params = []
        for a in args.posonlyargs + args.args:
            if a.annotation is None:
                raise self.err("E206", f"parameter '{a.arg}' needs a type annotation, e.g. `{a.arg}: int`", a)
            params.append(A.Param(a.arg, self.type_expr(a.annotation), self.span(a)))
        ret = self.type_expr(node.returns) if node.returns is not None else None
        body = node.body
        if body and _is_docstring(body[0]):
            body = body[1:]
        stmts = self.block(body) if body else (A.Pass(self.span(node)),)
        tparams = tparams or tuple(self.typevars)  # `T = TypeVar("T")` before Python 3.12's def f[T]
        line = node.lineno
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        i = text.find(node.name, max(0, text.find("def")))
        name_span = self.shift(Span(line, i + 1, line, i + 1 + len(node.name))) if i >= 0 else self.span(node)
        fd = A.FuncDef(node.name, tparams, tuple(params), ret, stmts, self.span(node), name_span)
        return Translated(fd, self.free, self.calls, self.refs)

    def struct(self, node: ast.ClassDef, glia_name: str) -> Translated:
        self.check_decorators(node, "struct_deco", "@glia.struct")
        self.check_name(node)
        if node.bases or node.keywords:
            raise self.python_only("a base class or metaclass", (node.bases or node.keywords)[0])
        fields = []
        methods = {st.name for st in node.body if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef))}
        for st in node.body:
            if _is_docstring(st) or isinstance(st, ast.Pass) or isinstance(st, (ast.FunctionDef,)):
                continue  # methods stay Python methods of the class (Glia code does not call them)
            if isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant) and st.value.value is Ellipsis:
                continue
            if isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name):
                self.check_name(st.target)
                if st.value is not None:
                    raise self.err("E005", "a Glia struct field has no default value", st.value)
                from .boundary import RECORD_NAMES, reserved_field

                if reserved_field(st.target.id) or st.target.id in methods:
                    raise self.err("E102", f"'{st.target.id}' names a part of the struct's Python class: rename the "
                                   f"field (the class has {', '.join(sorted(RECORD_NAMES | methods))})", st.target)
                fields.append(A.Field(st.target.id, self.type_expr(st.annotation), self.span(st)))
                continue
            raise self.err("E005", "a @glia.struct class body holds annotated fields (`x: int`), a docstring "
                           "and Python-only methods, nothing else", st)
        if not fields:
            raise self.err("E005", "a Glia struct needs at least one field (`x: int`)", node)
        return Translated(A.StructDef(glia_name, tuple(fields), self.span(node)))

    def check_name(self, node) -> None:
        """A name Glia source could not spell (Python allows `café`; Glia names are ASCII) is E002."""
        match node:
            case ast.FunctionDef(name=name) | ast.ClassDef(name=name):
                line = self.lines[node.lineno - 1] if 0 < node.lineno <= len(self.lines) else ""
                i = line.find(name, max(0, line.find("def" if isinstance(node, ast.FunctionDef) else "class")))
                at = Span(node.lineno, i + 1, node.lineno, i + 1 + len(name)) if i >= 0 else node
            case ast.Name(id=name) | ast.arg(arg=name) | ast.Attribute(attr=name) | ast.keyword(arg=name):
                at = node
            case _:
                return
        if name is not None and not _GLIA_NAME.fullmatch(name):
            raise self.err("E002", f"'{name}' is not a Glia name: Glia names are ASCII letters, digits and '_' "
                           "(rename it)", at)

    def check_decorators(self, node, role: str, shown: str):
        for d in node.decorator_list:
            target = d.func if isinstance(d, ast.Call) else d
            if self.specials.get(id(self.resolver.resolve(target))) != role:
                raise self.err("E005", f"only {shown} may decorate a Glia "
                               f"{'function' if role == 'fn' else 'struct'}: other decorators would change it "
                               "in ways Glia cannot see", d)

    # -- types
    def type_expr(self, node) -> A.TypeExpr:
        sp = self.span(node)
        if isinstance(node, ast.Constant):
            if node.value is None:
                return A.TName("None", sp)
            if isinstance(node.value, str):  # a forward reference: "Point", "list[Point]"
                try:
                    inner = _strip_positions(ast.parse(node.value.strip(), mode="eval").body)
                    return _respan(self.type_expr(inner), sp)
                except SyntaxError:
                    raise self.err("E206", f"cannot read the annotation {node.value!r}", node) from None
                except GliaError as err:  # said of the string as a whole: its parts have no position
                    raise self.err(err.diagnostic.code, err.diagnostic.message, node) from None
            raise self.err("E206", f"{node.value!r} is not a type", node)
        if isinstance(node, (ast.Name, ast.Attribute)):
            obj = self.resolver.resolve(node)
            if isinstance(obj, typing.TypeVar) and isinstance(node, ast.Name):
                if obj.__bound__ is not None or obj.__constraints__:
                    raise self.err("E206", f"a Glia type parameter stands for any type: {node.id} has a bound "
                                   "or constraints", node)
                self.typevars[node.id] = None
                return A.TName(node.id, sp)
            name = self.type_name(obj)
            if name is not None:
                if isinstance(getattr(obj, "_glia_name", None), str):
                    self.refs[name] = obj  # a struct class, perhaps of another module
                return A.TName(name, sp)
            if any(obj is c for c in _CALLABLES):
                raise self.err("E206", "a function type needs its parameter and result types: "
                               "glia.Fn[[int], int]", node)
            if isinstance(node, ast.Name) and isinstance(obj, type) and obj.__module__ not in ("builtins", "numpy"):
                # a class of the user's (a dataclass, a NamedTuple): it was "unknown type 'D'"
                raise self.err("E206", f"{node.id} is a Python class, not a Glia type: decorate it with @glia.struct "
                               "to make it a Glia struct", node)
            if isinstance(node, ast.Name):
                return A.TName(node.id, sp)  # a struct defined later, or unknown (the checker says which)
            raise self.err("E206", f"{ast.unparse(node)} is not a Glia type{_np_hint(obj)}", node)
        if isinstance(node, ast.Subscript):
            base = self.resolver.resolve(node.value)
            args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
            if isinstance(base, ann.DType):
                return A.TApp(base.name, tuple(self.dim(a) for a in args), sp)
            if any(base is c for c in _CALLABLES):
                if len(args) != 2 or not isinstance(args[0], ast.List):
                    raise self.err("E206", "write a function type as glia.Fn[[int, int], int] "
                                   "(parameter types in a list, then the result type)", node)
                return A.TFn(tuple(self.type_expr(p) for p in args[0].elts), self.type_expr(args[1]), sp)
            generic = _lookup(_GENERIC_NAMES, base)
            if generic is None and isinstance(node.value, ast.Name) and node.value.id in ("list", "dict", "set",
                                                                                           "tuple"):
                generic = node.value.id
            if generic is not None:
                return A.TApp(generic, tuple(self.type_expr(a) for a in args), sp)
            raise self.err("E206", f"{ast.unparse(node)} is not a Glia type; expected list[...], dict[...], "
                           "set[...], tuple[...], glia.f32[...], glia.f64[...] or glia.Fn[[...], ...]", node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            raise self.err("E206", "union and optional types are not Glia types: every value has one type", node)
        raise self.err("E206", f"{ast.unparse(node)} is not a type annotation Glia can read", node)

    def type_name(self, obj) -> str | None:
        if isinstance(obj, ann.DType):
            return obj.name
        if isinstance(obj, type) and getattr(obj, "_glia_name", None) and getattr(obj, "_fields", None) is not None:
            return obj._glia_name
        name = _lookup(_SCALAR_NAMES, obj)
        if name is None:
            name = _lookup(_GENERIC_NAMES, obj)
        return name

    def dim(self, node) -> A.TypeExpr:
        sp = self.span(node)
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return A.TDim(node.value, sp)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
            return A.TName(node.value, sp)
        if isinstance(node, ast.Name):
            return A.TName(node.id, sp)
        raise self.err("E206", "a tensor dimension is an integer or a name, e.g. glia.f32[64] or "
                       "glia.f32['n', 3]", node)

    # -- statements
    def block(self, stmts) -> tuple[A.Stmt, ...]:
        out: list[A.Stmt] = []
        for s in stmts:
            r = self.stmt(s)
            if isinstance(r, list):
                out.extend(r)
            else:
                out.append(r)
        return tuple(out)

    def stmt(self, s):  # noqa: C901 (one case per statement kind)
        sp = self.span(s)
        match s:
            case ast.Expr(value):
                return A.ExprStmt(self.expr(value), sp)
            case ast.Assign(targets, value):
                return A.Assign(tuple(self.target(t) for t in targets), self.expr(value), sp)
            case ast.AnnAssign(target, annotation, value):
                if not isinstance(target, ast.Name):
                    raise self.err("E209", "only a plain name can be annotated (`x: int = ...`)", target)
                if value is None:
                    raise self.err("E005", f"a declaration without a value: Glia needs `{target.id}: "
                                   f"{ast.unparse(annotation)} = value`", s)
                return A.AnnAssign(A.Name(target.id, self.span(target)), self.type_expr(annotation),
                                   self.expr(value), sp)
            case ast.AugAssign(target, op, value):
                if isinstance(target, (ast.Tuple, ast.List)):
                    raise self.err("E209", "augmented assignment needs a single target", target)
                return A.AugAssign(self.target(target), _BINOPS[type(op)], self.expr(value), sp)
            case ast.If(test, body, orelse):
                return A.If(self.expr(test), self.block(body), self.block(orelse), sp)
            case ast.While(test, body, orelse):
                if orelse:
                    raise self.python_only("'while ... else'", orelse[0])
                return A.While(self.expr(test), self.block(body), sp)
            case ast.For(target, it, body, orelse):
                if orelse:
                    raise self.python_only("'for ... else'", orelse[0])
                return A.For(self.target(target), self.expr(it), self.block(body), sp)
            case ast.Return(value):
                return A.Return(self.expr(value) if value is not None else None, sp)
            case ast.Pass():
                return A.Pass(sp)
            case ast.Break():
                return A.Break(sp)
            case ast.Continue():
                return A.Continue(sp)
            case ast.Assert(test, msg):
                return A.Assert(self.expr(test), self.expr(msg) if msg is not None else None, sp)
            case ast.Delete(targets):
                out = []
                for t in targets:
                    if not isinstance(t, ast.Subscript):
                        raise self.err("E209", "`del` takes an index or key: `del xs[i]` or `del d[k]`", t)
                    out.append(A.Del(self.expr(t), sp))
                return out
        what = _PYTHON_ONLY_STMTS.get(type(s), a_or_an(f"{type(s).__name__} statement"))
        raise self.python_only(what, s)

    def target(self, t) -> A.Expr:
        if isinstance(t, (ast.Tuple, ast.List)):
            elts = tuple(self.target(e) for e in t.elts)
            return (A.TupleLit if isinstance(t, ast.Tuple) else A.ListLit)(elts, self.span(t))
        if isinstance(t, (ast.Name, ast.Subscript, ast.Attribute)):
            return self.expr(t)
        if isinstance(t, ast.Starred):
            raise self.python_only("*unpacking", t)
        raise self.err("E209", "cannot assign to this expression; expected a name, an index `xs[i]`, a field "
                       "`p.x` or a tuple of those", t)

    # -- expressions
    def exprs(self, nodes) -> tuple[A.Expr, ...]:
        return tuple(self.expr(n) for n in nodes)

    def expr(self, e) -> A.Expr:  # noqa: C901 (one case per expression kind)
        sp = self.span(e)
        match e:
            case ast.Constant(value):
                if value is None:
                    return A.NoneLit(sp)
                if type(value) is bool:
                    return A.BoolLit(value, sp)
                if type(value) is int:
                    return A.IntLit(value, sp)
                if type(value) is float:
                    return A.FloatLit(value, sp)
                if type(value) is str:
                    bad = first_surrogate(value)
                    if bad is not None:  # as in a .glia file (syntax.decode_string)
                        raise self.err("E004", surrogate_message(f"this string's '{bad}'"), e)
                    return A.StrLit(value, sp)
                raise self.python_only(a_or_an(f"{type(value).__name__} literal"), e)
            case ast.Name(name):
                if isinstance(e.ctx, ast.Load) and name not in self.locals:
                    self.free.setdefault(name, sp)
                return A.Name(name, sp)
            case ast.BinOp(left, op, right):
                sym = _BINOPS[type(op)]
                return A.BinOp(sym, self.expr(left), self.expr(right), sp, self.op_span(left, right, sym))
            case ast.UnaryOp(ast.Not(), operand):
                return A.Not(self.expr(operand), sp)
            case ast.UnaryOp(op, operand):
                sym = _UNARY[type(op)]
                inner = self.expr(operand)
                if sym == "-" and isinstance(inner, (A.IntLit, A.FloatLit)) and inner.value >= 0 \
                        and not isinstance(inner, A.BoolLit):
                    return type(inner)(-inner.value, sp)  # as the Glia parser folds negative literals
                return A.UnaryOp(sym, inner, sp)
            case ast.BoolOp(op, values):
                return A.BoolOp("and" if isinstance(op, ast.And) else "or", self.exprs(values), sp)
            case ast.Compare(left, ops, comparators):
                syms = tuple(_CMPOPS[type(o)] for o in ops)
                prev = [left] + list(comparators[:-1])
                spans = tuple(self.op_span(a, b, s.split()[0]) for a, b, s in zip(prev, comparators, syms))
                return A.Compare(self.expr(left), syms, self.exprs(comparators), spans, sp)
            case ast.IfExp(test, body, orelse):
                return A.IfExp(self.expr(test), self.expr(body), self.expr(orelse), sp)
            case ast.Lambda(args, body):
                if args.vararg or args.kwarg or args.kwonlyargs or args.defaults or args.posonlyargs:
                    raise self.python_only("a lambda with defaults, *args or keyword-only parameters", e)
                return A.Lambda(tuple(a.arg for a in args.args), self.expr(body), sp)
            case ast.List(elts):
                return A.ListLit(self.exprs(elts), sp)
            case ast.Tuple(elts):
                return A.TupleLit(self.exprs(elts), sp)
            case ast.Set(elts):
                return A.SetLit(self.exprs(elts), sp)
            case ast.Dict(keys, values):
                if any(k is None for k in keys):
                    raise self.python_only("**unpacking in a dict", e)
                return A.DictLit(self.exprs(keys), self.exprs(values), sp)
            case ast.ListComp(elt, gens) | ast.GeneratorExp(elt, gens):
                return A.Comp("list", self.expr(elt), None, self.clauses(gens), sp)
            case ast.SetComp(elt, gens):
                return A.Comp("set", self.expr(elt), None, self.clauses(gens), sp)
            case ast.DictComp(key, value, gens):
                return A.Comp("dict", self.expr(value), self.expr(key), self.clauses(gens), sp)
            case ast.Call():
                return self.call(e, sp)
            case ast.Attribute(value, attr):
                end = self.real_span(e)
                attr_span = self.shift(Span(end.end_line, max(1, end.end_col - len(attr)), end.end_line, end.end_col))
                return A.Attribute(self.expr(value), attr, sp, attr_span)
            case ast.Subscript(value, index):
                return A.Subscript(self.expr(value), self.index(index), sp)
            case ast.Slice():
                return self.index(e)
        what = _PYTHON_ONLY_EXPRS.get(type(e), a_or_an(f"{type(e).__name__} expression"))
        raise self.python_only(what, e)

    def index(self, node) -> A.Expr:
        if isinstance(node, ast.Slice):
            part = lambda x: self.expr(x) if x is not None else None  # noqa: E731
            return A.Slice(part(node.lower), part(node.upper), part(node.step), self.span(node))
        if isinstance(node, ast.Tuple):
            return A.TupleLit(tuple(self.index(x) for x in node.elts), self.span(node))
        return self.expr(node)

    def clauses(self, gens) -> tuple:
        out: list = []
        for g in gens:
            if g.is_async:
                raise self.python_only("async comprehension", g.iter)
            tspan = self.real_span(g.target)
            ispan = self.real_span(g.iter)
            out.append(A.CompFor(self.target(g.target), self.expr(g.iter), self.shift(tspan.to(ispan))))
            for cond in g.ifs:
                out.append(A.CompIf(self.expr(cond), self.span(cond)))
        return tuple(out)

    def call(self, e: ast.Call, sp: Span) -> A.Expr:
        for a in e.args:
            if isinstance(a, ast.Starred):
                raise self.python_only("*args in a call", a)
        for k in e.keywords:
            if k.arg is None:
                raise self.python_only("**kwargs in a call", k)
        func = e.func
        root = func
        while isinstance(root, ast.Attribute):
            root = root.value
        role, obj = None, None
        if isinstance(root, ast.Name) and root.id not in self.locals:
            obj = self.resolver.resolve(func)
            role = self.specials.get(id(obj)) if obj is not None else None
        kwargs = tuple(A.Keyword(k.arg, self.expr(k.value), self.span(k)) for k in e.keywords)
        if role == "hole":
            if e.args:
                raise self.err("E001", "hole options are keywords: glia.hole(size=8, depth=3, using=[...])",
                               e.args[0])
            return A.Hole(kwargs, sp)
        if role == "choose":
            return A.Call(A.Name("choose", self.span(func)), self.exprs(e.args), kwargs, sp)
        if role == "api":
            raise self.err("E005", f"{ast.unparse(func)} belongs to Python, outside Glia code; inside a "
                           "@glia.fn function only glia.hole() and glia.choose() have a meaning", func)
        if obj is None and isinstance(func, ast.Attribute) and isinstance(root, ast.Name) \
                and root.id not in self.locals and getattr(self.resolver.resolve(func.value), "__name__", "") == "glia":
            raise self.err("E101", f"{ast.unparse(func)} is not a name of the glia module (a Glia builtin that "
                           "Python has too, such as sum, len, min, max or abs, is called plainly: sum(xs))", func)
        builtin = getattr(obj, "_glia_builtin", None) if role is None else None
        if isinstance(builtin, str):  # glia.dense(...), glia.relu(...): the Glia builtin
            return A.Call(A.Name(builtin, self.span(func)), self.exprs(e.args), kwargs, sp)
        if role is None and obj is not None and isinstance(func, ast.Attribute) and isinstance(root, ast.Name) \
                and root.id != "math" and callable(obj):
            raise self.err("E101", f"{ast.unparse(func)} is a Python function: Glia code calls Glia functions, "
                           "builtins and math.NAME only", func)
        if isinstance(obj, ann.DType):  # glia.f32(x): the conversion f32(x)
            return A.Call(A.Name(obj.name, self.span(func)), self.exprs(e.args), kwargs, sp)
        glia_name = getattr(obj, "_glia_name", None) if role is None else None
        if isinstance(glia_name, str):  # a struct class or @glia.fn function, perhaps under another name
            self.refs[glia_name] = obj
            target = A.Name(glia_name, self.span(func))
        else:
            target = self.expr(func)
        if isinstance(func, ast.Name) and func.id not in self.locals:
            self.calls.setdefault(func.id, self.span(func))
        return A.Call(target, self.exprs(e.args), kwargs, sp)


# ---- Python values -> Glia literals (examples) ------------------------------------------------


def value_to_ast(v, span: Span) -> A.Expr:
    """A Python value as a Glia literal expression (for examples given as Python values)."""
    from .boundary import Record

    if v is None:
        return A.NoneLit(span)
    if isinstance(v, (bool, np.bool_)):
        return A.BoolLit(bool(v), span)
    if isinstance(v, (int, np.integer)):
        return A.IntLit(int(v), span)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if math.isnan(f):
            return A.Name("nan", span)
        if math.isinf(f):
            return A.Name("inf", span) if f > 0 else A.UnaryOp("-", A.Name("inf", span), span)
        return A.FloatLit(f, span)
    if isinstance(v, str):
        if first_surrogate(v) is not None:
            raise TypeError(f"str holding the surrogate '{first_surrogate(v)}' (half of a UTF-16 pair, not a "
                            "character)")
        return A.StrLit(v, span)
    if isinstance(v, list):
        return A.ListLit(tuple(value_to_ast(x, span) for x in v), span)
    if isinstance(v, Record):
        return A.Call(A.Name(v._glia_name, span), tuple(value_to_ast(x, span) for x in v._values()), (), span)
    if isinstance(v, tuple):
        return A.TupleLit(tuple(value_to_ast(x, span) for x in v), span)
    if isinstance(v, dict):
        return A.DictLit(tuple(value_to_ast(k, span) for k in v), tuple(value_to_ast(x, span) for x in v.values()),
                         span)
    if isinstance(v, (set, frozenset)):
        if not v:
            return A.Call(A.Name("set", span), (), (), span)
        return A.SetLit(tuple(value_to_ast(x, span) for x in v), span)
    raise TypeError(f"{type(v).__name__}")


# ---- helpers ----------------------------------------------------------------------------------


def _lookup(table: dict, obj):
    try:
        return table.get(obj)
    except TypeError:  # unhashable
        return None


def _is_docstring(s) -> bool:
    return isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str)


def _bound_names(body) -> set[str]:
    """Every name a function body binds (assignments, loop and comprehension targets, lambda parameters)."""
    out: set[str] = set()
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                out.add(node.id)
            elif isinstance(node, ast.arg):
                out.add(node.arg)
    return out


def _np_hint(obj) -> str:
    if obj is np.ndarray:
        return " (annotate an array with its element type and shape: glia.f32[64], glia.f64['n', 3])"
    if obj in (np.float32, np.float64):
        return " (use glia.f32 or glia.f64)"
    return ""


def _strip_positions(node):
    for n in ast.walk(node):
        for attr in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
            if hasattr(n, attr):
                setattr(n, attr, None)
    return node


def _respan(t, span: Span):
    """Give every node of a type expression the span `span` (types read from a string annotation)."""
    match t:
        case A.TName(name):
            return A.TName(name, span)
        case A.TDim(value):
            return A.TDim(value, span)
        case A.TApp(name, args):
            return A.TApp(name, tuple(_respan(a, span) for a in args), span)
        case A.TTuple(items):
            return A.TTuple(tuple(_respan(a, span) for a in items), span)
        case A.TFn(params, ret):
            return A.TFn(tuple(_respan(p, span) for p in params), _respan(ret, span), span)
    return t


def type_text(t: A.TypeExpr | None) -> str:
    """A type expression as Glia writes it (for docstrings)."""
    match t:
        case None:
            return "None"
        case A.TName(name):
            return name
        case A.TDim(value):
            return str(value)
        case A.TApp(name, args):
            return f"{name}[{', '.join(type_text(a) for a in args)}]"
        case A.TTuple(items):
            return "(" + ", ".join(type_text(i) for i in items) + ("," if len(items) == 1 else "") + ")"
        case A.TFn(params, ret):
            return f"fn({', '.join(type_text(p) for p in params)}) -> {type_text(ret)}"
    return "?"
