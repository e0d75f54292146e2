"""The Glia abstract syntax tree: frozen, slotted dataclasses, each with a source span.

Built from the Lark parse tree by `syntax.AstBuilder`; consumed by `checker.check`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from .diagnostics import Span

# ---- type expressions -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TName:
    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class TApp:
    name: str
    args: tuple["TypeExpr", ...]
    span: Span


@dataclass(frozen=True, slots=True)
class TDim:
    value: int
    span: Span


@dataclass(frozen=True, slots=True)
class TTuple:
    items: tuple["TypeExpr", ...]
    span: Span


@dataclass(frozen=True, slots=True)
class TFn:
    params: tuple["TypeExpr", ...]
    ret: "TypeExpr"
    span: Span


TypeExpr = Union[TName, TApp, TDim, TTuple, TFn]

# ---- expressions ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Name:
    id: str
    span: Span


@dataclass(frozen=True, slots=True)
class IntLit:
    value: int
    span: Span


@dataclass(frozen=True, slots=True)
class FloatLit:
    value: float
    span: Span


@dataclass(frozen=True, slots=True)
class StrLit:
    value: str
    span: Span


@dataclass(frozen=True, slots=True)
class BoolLit:
    value: bool
    span: Span


@dataclass(frozen=True, slots=True)
class NoneLit:
    span: Span


@dataclass(frozen=True, slots=True)
class ListLit:
    elts: tuple["Expr", ...]
    span: Span


@dataclass(frozen=True, slots=True)
class TupleLit:
    elts: tuple["Expr", ...]
    span: Span


@dataclass(frozen=True, slots=True)
class DictLit:
    keys: tuple["Expr", ...]
    values: tuple["Expr", ...]
    span: Span


@dataclass(frozen=True, slots=True)
class SetLit:
    elts: tuple["Expr", ...]
    span: Span


@dataclass(frozen=True, slots=True)
class CompFor:
    target: "Expr"
    iter: "Expr"
    span: Span


@dataclass(frozen=True, slots=True)
class CompIf:
    cond: "Expr"
    span: Span


@dataclass(frozen=True, slots=True)
class Comp:
    """A comprehension: kind is 'list', 'set' or 'dict' (then `key` is set)."""

    kind: str
    elt: "Expr"
    key: "Expr | None"
    clauses: tuple[CompFor | CompIf, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class BinOp:
    op: str
    left: "Expr"
    right: "Expr"
    span: Span
    op_span: Span


@dataclass(frozen=True, slots=True)
class UnaryOp:
    op: str  # '-', '+', '~'
    operand: "Expr"
    span: Span


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # 'and' | 'or'
    values: tuple["Expr", ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Not:
    operand: "Expr"
    span: Span


@dataclass(frozen=True, slots=True)
class Compare:
    left: "Expr"
    ops: tuple[str, ...]  # '<', '==', 'in', 'not in', 'is', 'is not', ...
    comparators: tuple["Expr", ...]
    op_spans: tuple[Span, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class IfExp:
    cond: "Expr"
    then: "Expr"
    orelse: "Expr"
    span: Span


@dataclass(frozen=True, slots=True)
class Lambda:
    params: tuple[str, ...]
    body: "Expr"
    span: Span


@dataclass(frozen=True, slots=True)
class Keyword:
    name: str
    value: "Expr"
    span: Span


@dataclass(frozen=True, slots=True)
class Call:
    func: "Expr"
    args: tuple["Expr", ...]
    kwargs: tuple[Keyword, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Attribute:
    value: "Expr"
    attr: str
    span: Span
    attr_span: Span


@dataclass(frozen=True, slots=True)
class Slice:
    lo: "Expr | None"
    hi: "Expr | None"
    step: "Expr | None"
    span: Span


@dataclass(frozen=True, slots=True)
class Subscript:
    value: "Expr"
    index: "Expr"  # a Slice, a TupleLit of indices (tensors) or an expression
    span: Span


@dataclass(frozen=True, slots=True)
class Hole:
    """`??` or `??(size=8, using=[map, filter])`."""

    options: tuple[Keyword, ...]
    span: Span


Expr = Union[Name, IntLit, FloatLit, StrLit, BoolLit, NoneLit, ListLit, TupleLit, DictLit, SetLit,
             Comp, BinOp, UnaryOp, BoolOp, Not, Compare, IfExp, Lambda, Call, Attribute, Subscript,
             Slice, Hole]

# ---- statements -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExprStmt:
    expr: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Assign:
    targets: tuple[Expr, ...]  # `a = b = e` has two targets
    value: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class AnnAssign:
    target: Name
    annotation: TypeExpr
    value: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class AugAssign:
    target: Expr
    op: str  # the binary operator: '+', '//', ...
    value: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class If:
    cond: Expr
    body: tuple["Stmt", ...]
    orelse: tuple["Stmt", ...]
    span: Span


@dataclass(frozen=True, slots=True)
class While:
    cond: Expr
    body: tuple["Stmt", ...]
    span: Span


@dataclass(frozen=True, slots=True)
class For:
    target: Expr
    iter: Expr
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
class Pass:
    span: Span


@dataclass(frozen=True, slots=True)
class Assert:
    cond: Expr
    msg: Expr | None
    span: Span


@dataclass(frozen=True, slots=True)
class Del:
    target: Expr
    span: Span


Stmt = Union[ExprStmt, Assign, AnnAssign, AugAssign, If, While, For, Break, Continue, Return, Pass,
             Assert, Del]

# ---- top level --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: TypeExpr
    span: Span


@dataclass(frozen=True, slots=True)
class StructDef:
    name: str
    fields: tuple[Field, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: TypeExpr
    span: Span


@dataclass(frozen=True, slots=True)
class FuncDef:
    name: str
    type_params: tuple[str, ...]
    params: tuple[Param, ...]
    ret: TypeExpr | None
    body: tuple[Stmt, ...]
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True)
class GlobalDef:
    name: str
    annotation: TypeExpr | None
    value: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Example:
    args: tuple[Expr, ...]
    result: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class ExamplesDef:
    func: str
    examples: tuple[Example, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    value: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class TrainDef:
    func: str
    data: str
    settings: tuple[Setting, ...]
    span: Span
    data_span: Span | None = None  # the data file's string in the header (errors about the data point there)


Item = Union[StructDef, FuncDef, GlobalDef, ExamplesDef, TrainDef]


def name_span(item: Item) -> Span:
    """Where an item's name stands (a function's), or the whole item."""
    return getattr(item, "name_span", None) or item.span


@dataclass(frozen=True, slots=True)
class Module:
    items: tuple[Item, ...]
    span: Span


NOT_CONSTANT = object()


def setting_constant(e: Expr):
    """The value of a constant in a `train` block setting (a literal, a negated number, or a name as a
    string), else NOT_CONSTANT."""
    match e:
        case IntLit(v) | FloatLit(v) | StrLit(v) | BoolLit(v):
            return v
        case UnaryOp("-", IntLit(v) | FloatLit(v)):
            return -v
        case Name(name):
            return name
    return NOT_CONSTANT
