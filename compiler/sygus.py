"""SyGuS-IF (programming by example): read `.sl` problems, print them back, print answers.

    text --parse_sexprs--> S-expressions --read_sygus--> SyProblem --to_problem--> search.Problem

Supported: `set-logic`, `define-fun` helpers (used as components), `synth-fun` with its grammar (the
SyGuS v1 form `((Start T (prods)) ...)` and the v2 form `((Start T) ...) ((Start T (prods)) ...)`),
`declare-var`, example constraints `(constraint (= (f lit ...) lit))` (of a Bool function also
`(constraint (f lit ...))` and `(constraint (not (f lit ...)))`), `check-synth`. Sorts: Int,
Bool, String, (_ BitVec 64). Anything else is a GliaError at its line and column.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

import numpy as np

from glia.runtime.search import Component, Const, Grammar, Problem, Production, Var
from glia.runtime.search.bvcode import INT_MAX, INT_MIN, WORD_TYPES, substitute
from glia.runtime.search.components import MASK, SYGUS_OPS, sygus_component, sygus_signature, vm_code
from glia.runtime.search.library import string_constants
from glia.runtime.search.terms import sexpr_const

from .diagnostics import Diagnostic, GliaError, Source, Span

STAGE = "sygus"


# ---- S-expressions ------------------------------------------------------------------------------

class _Located:
    """Nodes keep offsets and their text's line table; the Span is made only when it is asked for."""

    __slots__ = ()

    @property
    def span(self) -> Span:
        lines = self.lines
        if lines is None:
            return Span(0, 0, 0, 0)

        def pos(offset):
            i = bisect.bisect_right(lines, offset) - 1
            return i + 1, offset - lines[i] + 1

        return Span(*pos(self.start), *pos(self.end))


@dataclass(frozen=True, slots=True)
class Atom(_Located):
    kind: str  # 'sym' | 'num' | 'str' | 'hex' | 'bin'
    text: str
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)
    lines: list | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class SList(_Located):
    items: tuple
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)
    lines: list | None = field(default=None, compare=False, repr=False)


_TOKEN = re.compile(r'''(?P<ws>[ \t\r\n\f]+|;[^\n]*)|(?P<open>\()|(?P<close>\))|(?P<str>"(?:[^"]|"")*")|(?P<badstr>")|(?P<word>[^ \t\r\n\f();"]+)''')


class _Reader:
    """A regular-expression tokenizer and an explicit stack (deep terms cannot overflow Python's)."""

    def __init__(self, source: Source):
        self.src = source
        self.text = source.text
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]

    def err(self, msg: str, span: Span) -> GliaError:
        return GliaError(Diagnostic("E607", msg, span, STAGE, self.src))

    def pos(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.line_starts, offset) - 1
        return i + 1, offset - self.line_starts[i] + 1

    def span(self, a: int, b: int) -> Span:
        return Span(*self.pos(a), *self.pos(b))

    def read_all(self) -> list:
        top: list = []
        lines = self.line_starts
        stack: list[tuple[int, list]] = []
        cur = top
        for m in _TOKEN.finditer(self.text):
            kind = m.lastgroup
            if kind == "ws":
                continue
            a, b = m.span()
            if kind == "open":
                stack.append((a, cur))
                cur = []
            elif kind == "close":
                if not stack:
                    raise self.err("unexpected ')'", self.span(a, b))
                start, parent = stack.pop()
                parent.append(SList(tuple(cur), start, b, lines))
                cur = parent
            elif kind == "str":
                cur.append(Atom("str", _unescape(m.group()[1:-1].replace('""', '"')), a, b, lines))
            elif kind == "badstr":
                raise self.err("unterminated string literal", self.span(a, a + 1))
            else:
                word = m.group()
                if word.isdigit() or (word[:1] == "-" and word[1:].isdigit()):
                    k = "num"
                elif word.startswith("#x"):
                    k = "hex"
                elif word.startswith("#b"):
                    k = "bin"
                else:
                    k = "sym"
                cur.append(Atom(k, word, a, b, lines))
        if stack:
            start = stack[-1][0]
            raise self.err("unexpected end of input: this '(' is never closed", self.span(start, start + 1))
        return top


def _unescape(s: str) -> str:
    """SMT-LIB 2.6 string escapes \\u{...} and \\uXXXX (other backslashes are literal)."""
    if "\\u" not in s:
        return s
    out, i = [], 0
    while i < len(s):
        if s.startswith("\\u{", i):
            j = s.find("}", i)
            if j > 0:
                try:
                    out.append(chr(int(s[i + 3:j], 16)))
                    i = j + 1
                    continue
                except ValueError:
                    pass
        if s.startswith("\\u", i) and len(s) >= i + 6:
            try:
                out.append(chr(int(s[i + 2:i + 6], 16)))
                i += 6
                continue
            except ValueError:
                pass
        out.append(s[i])
        i += 1
    return "".join(out)


def parse_sexprs(source: Source) -> list:
    return _Reader(source).read_all()


def show(node) -> str:
    """An S-expression as text (strings quoted SMT-LIB style)."""
    if isinstance(node, Atom):
        if node.kind == "str":
            return '"' + node.text.replace('"', '""') + '"'
        return node.text
    return "(" + " ".join(show(x) for x in node.items) + ")"


# ---- problems ------------------------------------------------------------------------------------

@dataclass(slots=True)
class SyFun:
    name: str
    params: tuple[tuple[str, str], ...]  # (name, sort text)
    ret: str
    body: object = None  # define-fun: the body; synth-fun: None
    span: Span | None = field(default=None, compare=False)  # where the file declares it


@dataclass(slots=True)
class SyProblem:
    logic: str
    helpers: list[SyFun]
    fun: SyFun
    grammar: list[tuple[str, str, tuple]]  # (nonterminal, sort text, productions as S-expressions)
    examples: list[tuple[tuple, object]]  # (argument values, result value)
    vars: list[tuple[str, str]] = field(default_factory=list)

    def comparable(self):
        return (self.logic, [(h.name, h.params, h.ret, show(h.body)) for h in self.helpers],
                (self.fun.name, self.fun.params, self.fun.ret),
                [(nt, s, tuple(show(p) for p in ps)) for nt, s, ps in self.grammar], self.examples, self.vars)


SORTS = {"Int": "int", "Bool": "bool", "String": "str"}
SORT_TEXT = {"int": "Int", "bool": "Bool", "str": "String", "bv64": "(_ BitVec 64)"}  # a type's sort


def _sort(t: str) -> str:
    return SORT_TEXT.get(t, t)


def _sorts(ts) -> str:
    return ", ".join(_sort(t) for t in ts)


def sort_type(node, err) -> str:
    if isinstance(node, Atom) and node.text in SORTS:
        return SORTS[node.text]
    if isinstance(node, SList) and len(node.items) == 3 and show(node.items[0]) == "_" and \
            show(node.items[1]) == "BitVec":
        if show(node.items[2]) == "64":
            return "bv64"
        raise err(f"only 64-bit bit-vectors are supported, not {show(node)}", node.span)
    raise err(f"unsupported sort {show(node)} (expected Int, Bool, String or (_ BitVec 64))", node.span)


def literal(node, typ: str | None, err):
    """The value of a literal S-expression (None if it is not a literal)."""
    if isinstance(node, Atom):
        if node.kind == "num":
            return int(node.text)
        if node.kind == "str":
            return node.text
        if node.kind == "hex":
            return int(node.text[2:], 16) & MASK
        if node.kind == "bin":
            return int(node.text[2:], 2) & MASK
        if node.text in ("true", "false"):
            return node.text == "true"
        return None
    if len(node.items) == 2 and show(node.items[0]) == "-" and isinstance(node.items[1], Atom) and \
            node.items[1].kind == "num":
        return -int(node.items[1].text)
    return None


_ASSOCIATIVE = ("+", "*", "-", "and", "or")  # SMT-LIB's n-ary operators, read left-associatively


def _sugar(op: str, nargs: int) -> bool:
    """Is (op args...) SMT-LIB shorthand that `_desugar` rewrites: negation `(- x)`, or an associative
    operator of more than two arguments `(+ a b c)`?"""
    return (op == "-" and nargs == 1) or (op in _ASSOCIATIVE and nargs > 2)


def _desugar(node: SList) -> SList:
    """`(- x)` as `(- 0 x)`, `(+ a b c)` as `(+ (+ a b) c)` (a production keeps its own text: the answer
    prints as the grammar wrote it)."""
    head, *args = node.items
    where = {"start": node.start, "end": node.end, "lines": node.lines}
    if len(args) == 1:
        return SList((head, Atom("num", "0", **where), args[0]), **where)
    inner = SList((head, *args[:-1]), **where)
    return SList((head, _desugar(inner) if len(args) > 3 else inner, args[-1]), **where)


def _literal_type(value, node) -> str:
    if isinstance(node, Atom) and node.kind in ("hex", "bin"):
        return "bv64"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    return "str"


def is_sygus_path(path: str) -> bool:
    """Whether a file is SyGuS by its name: `.sl`, in any case (`FILE.SL`)."""
    return path.lower().endswith(".sl")


# The logics whose theories this reader has (Int, Bool, String, 64-bit BitVec), each also with QF_
# (quantifier-free: the same for examples); ALL is whichever the sorts used say
LOGICS = ("LIA", "NIA", "SLIA", "SNIA", "S", "BV", "ALL")


def _check_logic(args, err, span: Span) -> str:
    """The logic of `(set-logic X)`, which must be one of LOGICS (with or without QF_)."""
    if len(args) != 1 or not isinstance(args[0], Atom):
        raise err("malformed set-logic: expected (set-logic LOGIC)", span)
    name = args[0].text
    if name.removeprefix("QF_") not in LOGICS:
        raise err(f"unsupported logic '{name}': expected one of {', '.join(LOGICS)} (or QF_ of them; this reader "
                  "has the Int, Bool, String and 64-bit BitVec theories)", args[0].span)
    return name


def read_sygus(source: Source) -> SyProblem:
    """A SyGuS-IF problem: its commands, ending with (check-synth); anything unsupported is E607 at its place."""
    r = _Reader(source)
    err = r.err
    cmds = r.read_all()
    logic = ""
    checked = False
    helpers: list[SyFun] = []
    fun: SyFun | None = None
    grammar: list = []
    examples: list = []
    vars_: list = []
    seen: dict = {}  # an example's arguments -> its index
    for c in cmds:
        if not isinstance(c, SList) or not c.items or not isinstance(c.items[0], Atom):
            raise err(f"expected a command such as (synth-fun ...), found {show(c)[:40]}", c.span)
        head = c.items[0].text
        args = c.items[1:]
        if head == "set-logic":
            logic = _check_logic(args, err, c.span)
        elif head in ("define-fun", "synth-fun"):
            if len(args) < 3 or not isinstance(args[0], Atom) or not isinstance(args[1], SList):
                raise err(f"malformed {head}: expected ({head} NAME ((x Sort) ...) Sort ...)", c.span)
            params = []
            for p in args[1].items:
                if not isinstance(p, SList) or len(p.items) != 2 or not isinstance(p.items[0], Atom):
                    raise err("a parameter is (name Sort)", p.span)
                sort_type(p.items[1], err)
                if any(n == p.items[0].text for n, _ in params):
                    raise err(f"parameter {p.items[0].text} is declared twice", p.span)
                params.append((p.items[0].text, show(p.items[1])))
            sort_type(args[2], err)
            name = args[0].text
            if name in SYGUS_OPS or any(h.name == name for h in helpers) or (fun is not None and fun.name == name):
                what = "an SMT-LIB operator" if name in SYGUS_OPS else "defined earlier in the file"
                raise err(f"{head} {name}: {name} is {what}; a program using it would be ambiguous", args[0].span)
            if head == "define-fun":
                if len(args) != 4:
                    raise err("malformed define-fun: expected (define-fun NAME ((x Sort) ...) Sort BODY)", c.span)
                helpers.append(SyFun(args[0].text, tuple(params), show(args[2]), args[3]))
            else:
                if fun is not None:
                    raise err("only one synth-fun per problem is supported", c.span)
                fun = SyFun(args[0].text, tuple(params), show(args[2]), span=c.span)
                grammar = _read_grammar(args[3:], err, c.span)
        elif head == "declare-var":
            if len(args) != 2 or not isinstance(args[0], Atom):
                raise err("malformed declare-var: expected (declare-var NAME Sort)", c.span)
            vars_.append((args[0].text, show(args[1])))
        elif head == "constraint":
            if fun is None:
                raise err("a constraint before the synth-fun it constrains", c.span)
            example = _read_example(args, fun, err, c.span)
            _check_agrees(example, examples, seen, fun.ret, c.span, source)
            examples.append(example)
        elif head == "check-synth":
            checked = True
        elif head in ("set-option", "set-info"):
            pass
        else:
            raise err(f"unsupported command '{head}' (this reader takes programming-by-example problems)", c.span)
    if fun is None:
        raise err("no synth-fun in this file", Span.point(1, 1))
    if not checked:
        end = r.pos(len(source.text.rstrip()))
        raise err("no (check-synth) in this file: a SyGuS problem ends with (check-synth)", Span.point(*end))
    return SyProblem(logic, helpers, fun, grammar, examples, vars_)


def _check_agrees(example, examples: list, seen: dict, ret: str, span: Span, source: Source) -> None:
    """Two constraints that give the same inputs different results: no function satisfies both (E602
    at the second, as the search would say without a place)."""
    args, out = example
    j = seen.setdefault(args, len(examples))
    if examples[j:j + 1] and examples[j][1] != out:
        raise GliaError(Diagnostic("E602", f"this constraint and constraint {j + 1} give the same inputs different "
                                           f"results ({_value_text(examples[j][1], ret)} and {_value_text(out, ret)}): no "
                                           f"function satisfies both", span, STAGE, source))


def _read_grammar(rest, err, span) -> list:
    if not rest:
        return []
    groups = rest[-1]
    if not isinstance(groups, SList):
        raise err("a grammar is a list of (Nonterminal Sort (productions...))", groups.span)
    out = []
    for g in groups.items:
        if not isinstance(g, SList) or len(g.items) != 3 or not isinstance(g.items[0], Atom) or \
                not isinstance(g.items[2], SList):
            raise err("a grammar rule is (Nonterminal Sort (production ...))", g.span)
        sort_type(g.items[1], err)
        if any(name == g.items[0].text for name, _, _ in out):
            raise err(f"nonterminal {g.items[0].text} has a second rule (give all its productions in one)", g.span)
        out.append((g.items[0].text, show(g.items[1]), g.items[2].items))
    if len(rest) >= 2 and isinstance(rest[-2], SList):  # the v2 form: the nonterminals declared first
        for d in rest[-2].items:
            if isinstance(d, SList) and d.items and isinstance(d.items[0], Atom) and \
                    not any(name == d.items[0].text for name, _, _ in out):
                raise err(f"nonterminal {d.items[0].text} is declared but has no rule", d.span)
    return out


def _read_example(args, fun: SyFun, err, span):
    if len(args) != 1:
        raise err("a constraint takes one term", span)
    t = args[0]

    def applies(x) -> bool:
        return isinstance(x, SList) and bool(x.items) and show(x.items[0]) == fun.name
    boolean = sort_type(_sort_node(fun.ret), err) == "bool"
    if boolean and applies(t):  # a predicate's shorthand: (constraint (f 1 2)) is (= (f 1 2) true) ...
        lhs, rhs = t, None
    elif boolean and isinstance(t, SList) and len(t.items) == 2 and show(t.items[0]) == "not" and applies(t.items[1]):
        lhs, rhs = t.items[1], None  # ... and (constraint (not (f 2 1))) is (= (f 2 1) false)
    elif isinstance(t, SList) and len(t.items) == 3 and show(t.items[0]) == "=":
        lhs, rhs = t.items[1], t.items[2]
    else:
        raise err("only example constraints (= (f inputs...) output) are supported"
                  + (f", and (f inputs...) or (not (f inputs...)) of the predicate {fun.name}" if boolean else ""),
                  t.span)
    if rhs is not None and not applies(lhs):
        lhs, rhs = rhs, lhs
    if not applies(lhs):
        raise err(f"an example constraint must apply {fun.name} to literals", t.span)
    if len(lhs.items) - 1 != len(fun.params):
        raise err(f"{fun.name} takes {len(fun.params)} arguments, this constraint gives {len(lhs.items) - 1}",
                  lhs.span)
    vals = []
    for a, (pname, psort) in zip(lhs.items[1:], fun.params):
        v = literal(a, None, err)
        if v is None:
            raise err(f"an example argument must be a literal, not {show(a)[:40]}", a.span)
        _check_value(v, sort_type(_sort_node(psort), err), err, f"{fun.name}'s parameter {pname}", a.span)
        vals.append(v)
    if rhs is None:
        return tuple(vals), lhs is t
    out = literal(rhs, None, err)
    if out is None:
        raise err(f"an example result must be a literal, not {show(rhs)[:40]}", rhs.span)
    _check_value(out, sort_type(_sort_node(fun.ret), err), err, f"{fun.name}'s result", rhs.span)
    return tuple(vals), out


# ---- printing ------------------------------------------------------------------------------------

def _value_text(v, sort: str) -> str:
    return sexpr_const(v, "bv64" if sort.startswith("(_ BitVec") else "")


def print_sygus(p: SyProblem) -> str:
    lines = [f"(set-logic {p.logic})" if p.logic else ""]
    for h in p.helpers:
        ps = " ".join(f"({n} {s})" for n, s in h.params)
        lines.append(f"(define-fun {h.name} ({ps}) {h.ret}\n    {show(h.body)})")
    ps = " ".join(f"({n} {s})" for n, s in p.fun.params)
    head = f"(synth-fun {p.fun.name} ({ps}) {p.fun.ret}"
    if p.grammar:
        decl = " ".join(f"({nt} {s})" for nt, s, _ in p.grammar)
        rules = "\n    ".join(f"({nt} {s} ({' '.join(show(x) for x in prods)}))" for nt, s, prods in p.grammar)
        head += f"\n    ({decl})\n    ({rules})"
    lines.append(head + ")")
    for n, s in p.vars:
        lines.append(f"(declare-var {n} {s})")
    for args, out in p.examples:
        a = " ".join(_value_text(v, s) for v, (_, s) in zip(args, p.fun.params))
        lines.append(f"(constraint (= ({p.fun.name} {a}) {_value_text(out, p.fun.ret)}))")
    lines.append("(check-synth)")
    return "\n".join(x for x in lines if x) + "\n"


def print_answer(p: SyProblem, body: str) -> str:
    ps = " ".join(f"({n} {s})" for n, s in p.fun.params)
    return f"(define-fun {p.fun.name} ({ps}) {p.fun.ret} {body})"


# ---- to a search problem -------------------------------------------------------------------------

class _Builder:
    """Turns the grammar and helpers into components (each production a typed component)."""

    def __init__(self, sp: SyProblem, err):
        self.sp = sp
        self.err = err
        self.helpers: dict[str, tuple[Component, SyFun]] = {}
        self.params = {n: Var(i, n, sort_type(_sort_node(s), err)) for i, (n, s) in enumerate(sp.fun.params)}

    def helper(self, h: SyFun) -> Component:
        types = {n: sort_type(_sort_node(s), self.err) for n, s in h.params}
        ret = sort_type(_sort_node(h.ret), self.err)
        names = [n for n, _ in h.params]
        fn, vec, t, code = self.compile(h.body, types, names)
        if t != ret:
            raise self.err(f"define-fun {h.name}: the body has sort {_sort(t)}, not {_sort(ret)}", h.body.span)
        comp = Component(h.name, tuple(types[n] for n in names), ret, lambda *a: fn(a), sexpr=h.name,
                         vec=(lambda *a: vec(a)) if vec is not None else None, code=code)
        self.helpers[h.name] = (comp, h)
        return comp

    def compile(self, node, types: dict, names: list):
        """(scalar fn(env), numpy fn(env) or None, type, bit-vector VM code or None) for a helper's
        body."""
        err = self.err
        if isinstance(node, Atom) and node.kind == "sym" and node.text in types:
            i = names.index(node.text)
            t = types[node.text]
            return (lambda env: env[i]), (lambda env: env[i]), t, (("arg", i) if t in WORD_TYPES else None)
        v = literal(node, None, err)
        if v is not None:
            t = _literal_type(v, node)
            nv = np.uint64(v) if t == "bv64" else v
            words = t in WORD_TYPES and (t != "int" or INT_MIN <= v <= INT_MAX)  # an Int the VM cannot hold: no code
            return (lambda env: v), (lambda env: nv), t, (("const", int(v)) if words else None)
        if not isinstance(node, SList) or not node.items or not isinstance(node.items[0], Atom):
            raise err(f"cannot read the term {show(node)[:40]}", node.span)
        op = node.items[0].text
        if op not in self.helpers and _sugar(op, len(node.items) - 1):
            node = _desugar(node)
            op = node.items[0].text
        kids = [self.compile(k, types, names) for k in node.items[1:]]
        arg_types = tuple(k[2] for k in kids)
        if op in self.helpers:
            comp, _ = self.helpers[op]
            if comp.args != arg_types:
                raise err(f"{op} takes ({_sorts(comp.args)}), not ({_sorts(arg_types)})", node.span)
            f, vf = comp.fn, comp.vec
            ret = comp.ret
            code = substitute(comp.code, [k[3] for k in kids])
        else:
            ret = sygus_signature(op, arg_types)
            if ret is None:
                raise err(_op_error(op, arg_types), node.span)
            _, _, f, vf = SYGUS_OPS[op]
            code = vm_code(op, [k[3] for k in kids]) if ret in WORD_TYPES else None
        fs = [k[0] for k in kids]
        vfs = [k[1] for k in kids]
        scalar = lambda env: f(*[g(env) for g in fs])  # noqa: E731
        vector = None
        if vf is not None and all(t in ("bv64", "bool") for t in arg_types + (ret,)):
            vector = lambda env: vf(*[g(env) for g in vfs])  # noqa: E731
        return scalar, vector, ret, code

    def production(self, node, nts: dict) -> tuple[Production, str]:
        """A grammar production: a leaf (parameter, literal) or an operator over nonterminals and
        fixed sub-terms."""
        err = self.err
        if isinstance(node, Atom) and node.kind == "sym":
            if node.text in self.params:
                p = self.params[node.text]
                return Production(p), p.type
            if node.text in nts:  # a chain rule: Start -> ntString
                t = nts[node.text]
                comp = Component(f"<{node.text}>", (node.text,), t, lambda x: x, sexpr="{0}",
                                 vec=lambda x: x, code=("arg", 0) if t in WORD_TYPES else None)
                return Production(comp, (node.text,)), t
        v = literal(node, None, err)
        if v is not None:
            t = _literal_type(v, node)
            return Production(Const(v, t)), t
        if not isinstance(node, SList) or not node.items or not isinstance(node.items[0], Atom):
            raise err(f"cannot read the production {show(node)[:40]}", node.span)
        op = node.items[0].text
        args = node.items[1:]
        if op in ("Constant", "Variable"):  # SyGuS-IF's any-constant / any-variable productions
            raise err(f"({op} Sort) productions are not supported: list the {'constants' if op == 'Constant' else 'parameters'} "
                      "the grammar may use",
                      node.span)
        if all(isinstance(a, Atom) and a.text in nts for a in args) and (op in self.helpers or not _sugar(op, len(args))):
            # the common case: an operator over nonterminals
            arg_nts = tuple(a.text for a in args)
            arg_types = tuple(nts[a] for a in arg_nts)
            if op in self.helpers:
                comp, _ = self.helpers[op]
                if comp.args != arg_types:
                    raise err(f"{op} takes ({_sorts(comp.args)}), not ({_sorts(arg_types)})", node.span)
                return Production(comp, arg_nts), comp.ret
            ret = sygus_signature(op, arg_types)
            if ret is None:
                raise err(_op_error(op, arg_types), node.span)
            return Production(sygus_component(op, arg_types, ret), arg_nts), ret
        # a template: an operator applied to nonterminals and fixed terms, e.g. (bvadd Start #x01); each
        # occurrence of a nonterminal is an argument of its own: (+ Start (* Start 2)) is x + 2y too
        arg_nts: list[str] = []
        numbered = _number_occurrences(node, nts, arg_nts)
        holes = [f"{nt}#{i}" for i, nt in enumerate(arg_nts)]  # ('#' is in no SMT-LIB symbol)
        types = {**{h: nts[nt] for h, nt in zip(holes, arg_nts)}, **{n: p.type for n, p in self.params.items()}}
        names = holes + list(self.params)
        fn, vec, ret, code = self.compile(numbered, types, names)
        template = show(numbered)
        for i, h in enumerate(holes):
            template = _replace_symbol(template, h, "{%d}" % i)
        arg_nts = tuple(arg_nts)
        npar = len(self.params)
        comp = Component(template, tuple(nts[nt] for nt in arg_nts), ret,
                         lambda *a: fn(a + (None,) * npar), sexpr=template, code=code)
        if any(a.kind == "sym" and a.text in self.params and a.text not in nts for a in _atoms(node)):
            raise err("a production that mixes nonterminals with parameters inside a fixed term is not supported",
                      node.span)
        return Production(comp, arg_nts), ret


def _number_occurrences(node, nts: dict, found: list):
    """`node` with each occurrence of a nonterminal renamed NT#k, k counting them in order (appended to
    `found`)."""
    if isinstance(node, Atom):
        if node.kind == "sym" and node.text in nts:
            found.append(node.text)
            return Atom("sym", f"{node.text}#{len(found) - 1}", node.start, node.end, node.lines)
        return node
    return SList(tuple(_number_occurrences(x, nts, found) for x in node.items), node.start, node.end, node.lines)


def _atoms(node):
    if isinstance(node, Atom):
        yield node
    else:
        for x in node.items:
            yield from _atoms(x)


def _replace_symbol(text: str, sym: str, repl: str) -> str:
    parts = text.replace("(", " ( ").replace(")", " ) ").split()
    return " ".join(repl if p == sym else p for p in parts).replace("( ", "(").replace(" )", ")")


def _op_error(op: str, arg_types) -> str:
    if op not in SYGUS_OPS:
        return f"unknown operator '{op}'"
    return f"'{op}' does not take arguments of sorts ({_sorts(arg_types)})"


def _sort_node(text: str):
    nodes = parse_sexprs(Source("<sort>", text))
    return nodes[0]


def default_sygus_grammar(sp: SyProblem, b: _Builder):
    """No grammar given: every operator of the logic over the parameter sorts (SyGuS's default)."""
    ret = sort_type(_sort_node(sp.fun.ret), b.err)
    types = {p.type for p in b.params.values()} | {ret}
    if "str" in types:
        types |= {"int", "bool"}
    types.add("bool")
    rules: dict[str, list] = {t: [] for t in sorted(types)}
    for p in b.params.values():
        rules[p.type].append(Production(p))
    # strings: "", " ", the examples' punctuation and what every result shares (as the Glia dialect's)
    consts = {"int": [0, 1], "bool": [True, False], "bv64": [0, 1],
              "str": string_constants([a for a, _ in sp.examples], [o for _, o in sp.examples])}
    for t in rules:
        for c in consts.get(t, ()):
            rules[t].append(Production(Const(c, t)))
    for op, (params, r, _, _) in SYGUS_OPS.items():
        if op in ("str.to_int", "str.from_int", "=>", "xor"):
            continue
        for t in sorted(types):
            arg_types = tuple(t if a == "T" else a for a in params)
            res = sygus_signature(op, arg_types)
            if res is None or res not in rules or not all(a in rules for a in arg_types):
                continue
            if "T" not in params and t != sorted(types)[0]:
                continue
            rules[res].append(Production(sygus_component(op, arg_types, res), arg_types))
    return Grammar(ret, {t: t for t in rules}, rules)


def to_problem(sp: SyProblem, source: Source, name: str = "") -> Problem:
    err = _Reader(source).err
    b = _Builder(sp, err)
    for h in sp.helpers:
        b.helper(h)
    ret = sort_type(_sort_node(sp.fun.ret), err)
    if sp.grammar:
        nts = {nt: sort_type(_sort_node(s), err) for nt, s, _ in sp.grammar}
        rules = {nt: [] for nt in nts}
        for nt, _, prods in sp.grammar:
            for node in prods:
                prod, t = b.production(node, nts)
                if t != nts[nt]:
                    raise err(f"production {show(node)[:40]} has sort {_sort(t)}, but {nt} is "
                              f"{_sort(nts[nt])}", node.span)
                rules[nt].append(prod)
        start = sp.grammar[0][0]
        if nts[start] != ret:
            raise err(f"the grammar's start symbol {start} has sort {_sort(nts[start])}, but "
                      f"{sp.fun.name} returns {_sort(ret)}", sp.fun.span or Span.point(1, 1))
        grammar = Grammar(start, nts, rules)
    else:
        grammar = default_sygus_grammar(sp, b)
    params = tuple(b.params.values())
    return Problem(name or source.name, params, ret, [a for a, _ in sp.examples], [o for _, o in sp.examples],
                   grammar, dialect="sygus")


def _check_value(v, t, err, what, span):
    ok = {"bool": isinstance(v, bool), "int": isinstance(v, int) and not isinstance(v, bool),
          "bv64": isinstance(v, int) and not isinstance(v, bool), "str": isinstance(v, str)}.get(t, False)
    if not ok:
        raise err(f"example value {v!r} does not fit {what} of sort {_sort(t)}", span)


def load(path: str) -> tuple[SyProblem, Problem, Source]:
    from .driver import read_source

    source = read_source(path)
    sp = read_sygus(source)
    return sp, to_problem(sp, source), source


def grammar_from_text(text: str, params: tuple[tuple[str, str], ...], ret_sort: str, name: str) -> SyProblem:
    """A task file's grammar string (SyGuS syntax) as an SyProblem without examples."""
    src = Source(name, text)
    r = _Reader(src)
    nodes = r.read_all()
    fun = SyFun("f", params, ret_sort)
    return SyProblem("", [], fun, _read_grammar(nodes, r.err, Span.point(1, 1)), [])
