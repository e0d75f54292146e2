"""The typed IR: the checker's output and every later stage's input.

Structured (if/while/for stay as they are, so autodiff can walk them), fully typed (every
expression carries its `type`; no inference variables remain after checking), and resolved: names
are local slots, globals or functions; every operator and builtin is a `Prim` naming an entry of the
primitive table (`primitives.PRIMS`). Nodes are frozen, slotted dataclasses with source spans.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any, Union

from .diagnostics import Span
from .types import Type

# ---- expressions ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Const:
    value: Any  # int, float, bool, str or None (never a container)
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class Local:
    slot: int
    name: str
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class Global:
    name: str
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class FuncRef:
    """A named function used as a value."""

    name: str
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class CallFunc:
    """A direct call of a named user (or prelude) function."""

    name: str
    args: tuple["Expr", ...]
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class CallValue:
    """A call of a function value (a lambda, a parameter of function type)."""

    func: "Expr"
    args: tuple["Expr", ...]
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class Prim:
    """A primitive operation: `op` names an entry of primitives.PRIMS; `attrs` are static operands."""

    op: str
    args: tuple["Expr", ...]
    type: Type
    span: Span
    attrs: tuple = ()


@dataclass(frozen=True, slots=True)
class Lambda:
    """A function value. Its body runs in its own frame: captured values first, then parameters."""

    captures: tuple[tuple[int, "Local"], ...]  # (inner slot, outer local) copied in when the lambda is made
    nparams: int  # parameters occupy slots 0..nparams-1
    body: "Expr"
    nslots: int
    slot_names: tuple[str, ...]
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class MakeList:
    elts: tuple["Expr", ...]
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class MakeTuple:
    elts: tuple["Expr", ...]
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class MakeDict:
    keys: tuple["Expr", ...]
    values: tuple["Expr", ...]
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class MakeSet:
    elts: tuple["Expr", ...]
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class MakeStruct:
    name: str
    args: tuple["Expr", ...]  # in field order
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class GetField:
    obj: "Expr"
    index: int
    name: str
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class Cond:
    cond: "Expr"
    then: "Expr"
    orelse: "Expr"
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class And:
    left: "Expr"
    right: "Expr"
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class Or:
    left: "Expr"
    right: "Expr"
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class Compare:
    """A chain `a < b <= c`: each middle operand evaluated once; ops are primitive names."""

    operands: tuple["Expr", ...]
    ops: tuple[str, ...]
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class CompFor:
    target: "Target"
    iter: "Expr"
    kind: str  # iteration kind, as For.kind


@dataclass(frozen=True, slots=True)
class CompIf:
    cond: "Expr"


@dataclass(frozen=True, slots=True)
class Comprehension:
    kind: str  # 'list' | 'set' | 'dict'
    elt: "Expr"
    key: "Expr | None"
    clauses: tuple[CompFor | CompIf, ...]
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class Hole:
    """`??`: filled by search. `index` numbers the holes of a program in source order."""

    index: int
    options: tuple[tuple[str, Any], ...]
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class Choose:
    """`choose(a, b, ...)`: a discrete choice settled by search; `index` numbers the choices."""

    index: int
    options: tuple["Expr", ...]
    type: Type
    span: Span


Expr = Union[Const, Local, Global, FuncRef, CallFunc, CallValue, Prim, Lambda, MakeList, MakeTuple,
             MakeDict, MakeSet, MakeStruct, GetField, Cond, And, Or, Compare, Comprehension, Hole, Choose]

# ---- assignment targets -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoreLocal:
    slot: int
    name: str
    type: Type
    span: Span


@dataclass(frozen=True, slots=True)
class StoreIndex:
    """`container[index] = value` through primitive `op` (list.setitem / dict.setitem)."""

    container: Expr
    index: Expr
    op: str
    span: Span


@dataclass(frozen=True, slots=True)
class StoreTuple:
    items: tuple["Target", ...]
    span: Span


Target = Union[StoreLocal, StoreIndex, StoreTuple]

# ---- statements -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assign:
    target: Target
    value: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class ExprStmt:
    expr: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class If:
    cond: Expr
    then: tuple["Stmt", ...]
    orelse: tuple["Stmt", ...]
    span: Span


@dataclass(frozen=True, slots=True)
class While:
    cond: Expr
    body: tuple["Stmt", ...]
    span: Span


@dataclass(frozen=True, slots=True)
class ForRange:
    """`for i in range(start, stop, step)` (step known non-zero at run time: E506 otherwise)."""

    target: StoreLocal
    start: Expr
    stop: Expr
    step: Expr
    body: tuple["Stmt", ...]
    span: Span


@dataclass(frozen=True, slots=True)
class For:
    """`for target in iter`; kind is 'list', 'str', 'dict' (keys), 'set' or 'tensor' (rows)."""

    target: Target
    iter: Expr
    kind: str
    body: tuple["Stmt", ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Break:
    span: Span


@dataclass(frozen=True, slots=True)
class Continue:
    span: Span


@dataclass(frozen=True, slots=True)
class Return:
    value: Expr | None
    span: Span


@dataclass(frozen=True, slots=True)
class Assert:
    cond: Expr
    msg: Expr | None
    span: Span


Stmt = Union[Assign, ExprStmt, If, While, ForRange, For, Break, Continue, Return, Assert]

# ---- program ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    type_params: tuple[str, ...]
    params: tuple[str, ...]
    type: Type  # FnT
    body: tuple[Stmt, ...]
    nslots: int  # parameters occupy slots 0..len(params)-1
    slot_names: tuple[str, ...]
    slot_types: tuple[Type, ...]
    span: Span
    source_name: str = ""  # the file it came from (the prelude, or the user's file)


@dataclass(frozen=True, slots=True)
class StructInfo:
    name: str
    fields: tuple[str, ...]
    types: tuple[Type, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class GlobalDef:
    name: str
    type: Type
    value: Expr
    nslots: int  # temporaries used while evaluating `value` (comprehensions, lambdas)
    span: Span


@dataclass(frozen=True, slots=True)
class Example:
    args: tuple[Expr, ...]
    result: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Examples:
    func: str
    examples: tuple[Example, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class TrainSpec:
    func: str
    data: str
    settings: tuple[tuple[str, Expr], ...]
    span: Span
    data_span: Span | None = None  # the data file's string in the block's header


@dataclass(frozen=True, slots=True)
class Program:
    structs: dict[str, StructInfo]
    functions: dict[str, Function]
    globals: tuple[GlobalDef, ...]
    examples: tuple[Examples, ...]
    trains: tuple[TrainSpec, ...]
    holes: tuple[Hole, ...]
    choices: tuple[Choose, ...]
    source: Any = field(default=None, compare=False)  # diagnostics.Source of the user's file


# ---- generic traversal ------------------------------------------------------------------------

_TYPE_FIELDS = ("type",)
_TYPE_TUPLE_FIELDS = ("slot_types", "types")
_LEAF_FIELDS = ("span", "source", "slot_names", "params", "fields", "type_params", "attrs")
_roles: dict[type, tuple[tuple[str, int], ...]] = {}


def _field_roles(cls) -> tuple[tuple[str, int], ...]:
    """Per IR class: (field, role) with role 0 = a type, 1 = a tuple of types, 2 = children."""
    r = _roles.get(cls)
    if r is None:
        out = []
        for fl in fields(cls):
            if fl.name in _TYPE_FIELDS:
                out.append((fl.name, 0))
            elif fl.name in _TYPE_TUPLE_FIELDS:
                out.append((fl.name, 1))
            elif fl.name not in _LEAF_FIELDS:
                out.append((fl.name, 2))  # children; plain values (str, int, ...) are left as they are
        r = _roles[cls] = tuple(out)
    return r


def _is_ir(node) -> bool:
    return type(node).__module__ == __name__ and is_dataclass(node)


def map_types(node, f):
    """Rebuild `node` (any IR value) with every type passed through `f` (unchanged parts are shared)."""
    if isinstance(node, tuple):
        new = tuple(map_types(x, f) for x in node)
        return node if all(a is b for a, b in zip(new, node)) else new
    if isinstance(node, dict):
        return {k: map_types(v, f) for k, v in node.items()}
    if not _is_ir(node):
        return node
    changes = {}
    for name, role in _field_roles(type(node)):
        val = getattr(node, name)
        if role == 0:
            new = f(val)
        elif role == 1:
            new = tuple(f(t) for t in val)
            if all(a is b for a, b in zip(new, val)):
                new = val
        else:
            new = map_types(val, f)
        if new is not val:
            changes[name] = new
    return replace(node, **changes) if changes else node


def walk(node):
    """Yield every IR node below `node` (pre-order), `node` included. With a stack of its own, not
    nested generators: those cost each node the depth it is at (a chain `x*x + x*x + ...` of n terms
    is n deep: n^2 steps per walk, and the gradient's code walks it often)."""
    todo = [node]
    while todo:
        x = todo.pop()
        if isinstance(x, tuple):
            todo.extend(reversed(x))
        elif isinstance(x, dict):
            todo.extend(reversed(list(x.values())))
        elif _is_ir(x):
            yield x
            todo.extend(reversed([val for _, val in child_fields(x)]))


def reachable(program: "Program", fn: str):
    """Every IR node of `fn` and of the functions it can reach through calls or references."""
    seen, todo = set(), [fn]
    while todo:
        name = todo.pop()
        if name in seen or name not in program.functions:
            continue
        seen.add(name)
        for node in walk(program.functions[name].body):
            yield node
            if isinstance(node, (CallFunc, FuncRef)):
                todo.append(node.name)


def rebuild(node, conv):
    """`node` with each of its children `c` (a node, or a tuple of them) replaced by `conv(c)`; the
    same object when nothing changes."""
    changes = {}
    for name, val in child_fields(node):
        new = conv(val)
        if new is not val:
            changes[name] = new
    return replace(node, **changes) if changes else node


def move_slots(body, slot, names, special=None):
    """`body` with each local's slot `s` moved to `slot(s)` (named `names[slot(s)]`), lambda bodies
    left alone (their slots are their own; their captures are moved). `special(node, conv)` may
    return a node's replacement first (None: moved as usual), `conv` moving its parts."""
    def conv(node):
        if isinstance(node, tuple):
            return tuple(conv(x) for x in node)
        if not _is_ir(node):
            return node
        if special is not None:
            new = special(node, conv)
            if new is not None:
                return new
        if isinstance(node, Lambda):
            return replace(node, captures=tuple((i, conv(local)) for i, local in node.captures))
        if isinstance(node, (Local, StoreLocal)):
            s = slot(node.slot)
            return replace(node, slot=s, name=names[s])
        return rebuild(node, conv)
    return conv(body)


def is_node(x) -> bool:
    """Is x an IR node (an expression, statement, target, ...)?"""
    return _is_ir(x)


def child_fields(node):
    """(field name, value) of each field of an IR node that holds children (a node, or a tuple of
    nodes and plain values)."""
    for name, role in _field_roles(type(node)):
        if role == 2:
            val = getattr(node, name)
            if val is not None and not isinstance(val, (str, int, float, bool)):
                yield name, val
