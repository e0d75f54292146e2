"""Terms (found programs): evaluation on new inputs, and printing as SyGuS or as Glia source."""
from __future__ import annotations

import re

from .problem import Component, Const, Lam, Term, Var

MASK = (1 << 64) - 1


def evaluate(term: Term, args: tuple, lam_args: tuple = ()):
    """The value of `term` for one example's arguments (raises where a component is undefined)."""
    h = term.head
    if isinstance(h, Var):
        return lam_args[-h.index - 1] if h.index < 0 else args[h.index]
    if isinstance(h, Const):
        return h.value
    if isinstance(h, Lam):
        return h.fn
    return h.fn(*[evaluate(a, args, lam_args) for a in term.args])


def term_depth(term: Term) -> int:
    """A leaf has depth 1, an operation one more than its deepest argument, a lambda its body's depth."""
    return max([leaf_depth(term.head)] + [1 + term_depth(a) for a in term.args])


def leaf_depth(head) -> int:
    return term_depth(head.body) if isinstance(head, Lam) else 1


def decisions(term: Term) -> list:
    """The term as the list of choices that built it (pre-order production names): replayable."""
    out = []

    def go(t):
        h = t.head
        if isinstance(h, Component):
            out.append(h.name)
        elif isinstance(h, Var):
            out.append(f"${h.name}")
        elif isinstance(h, Lam):
            out.append(to_glia(t, ()))
        else:
            out.append(repr(h.value))
        for a in t.args:
            go(a)

    go(term)
    return out


# ---- SyGuS ---------------------------------------------------------------------------------------

def sexpr_const(value, typ: str) -> str:
    if typ == "bv64":
        return f"#x{value & MASK:016x}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if value >= 0 else f"(- {-value})"
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    raise ValueError(f"no SyGuS literal for {value!r}")


def to_sexpr(term: Term) -> str:
    h = term.head
    if isinstance(h, Var):
        return h.name
    if isinstance(h, Const):
        return sexpr_const(h.value, h.type)
    if isinstance(h, Lam):
        raise ValueError("lambdas have no SyGuS form")
    name = h.sexpr or h.name
    if "{" in name:  # a template production (a chain rule, or an operator over fixed sub-terms)
        return name.format(*[to_sexpr(a) for a in term.args])
    if not term.args:
        return name
    return f"({name} {' '.join(to_sexpr(a) for a in term.args)})"


# ---- Glia ------------------------------------------------------------------------------------------

_ESC = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def glia_const(value) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, str):
        out = []
        for ch in value:
            if ch in _ESC:
                out.append(_ESC[ch])
            elif ord(ch) < 32 or ord(ch) == 127:
                out.append(f"\\x{ord(ch):02x}")
            else:
                out.append(ch)
        return '"' + "".join(out) + '"'
    if isinstance(value, tuple):
        return "[" + ", ".join(glia_const(v) for v in value) + "]"
    return repr(value)


# Precedence levels of Glia's expressions (Python's): what an operand at each place must bind at least as
# tightly as, so that the printed text needs parentheses only where they change the meaning.
LAMBDA, IFEXP, OR, AND, NOT, COMPARE, ATOM = 0, 1, 2, 3, 4, 5, 14
UNARY, POWER = 12, 13
_BINARY = {"|": 6, "^": 7, "&": 8, "<<": 9, ">>": 9, "+": 10, "-": 10, "*": 11, "/": 11, "//": 11, "%": 11,
           "@": 11, "**": POWER, "or": OR, "and": AND, "if": IFEXP, "else": IFEXP,
           **{op: COMPARE for op in ("<", ">", "==", ">=", "<=", "!=", "in", "is")}}
_TOKEN = re.compile(r'\{(\d+)\}|"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z_0-9]*|\d+(?:\.\d*)?(?:e[-+]?\d+)?|'
                    r'\*\*|//|<<|>>|[<>=!]=|\S')
_OPEN, _CLOSE = "([", ")]"


def _shape(template: str) -> tuple[int, dict[int, int]]:
    """A Glia template's precedence and, per argument slot written at its top level, the least
    precedence an argument there needs (slots inside brackets or a call's parentheses need none).
    `{0} - {1}`: 10, {0: 10, 1: 11} (`-` is left-associative); `-{0}`: 12, {0: 12}; `{0}.upper()`:
    14, {0: 14}; `{1} if {0} else {2}`: 1, {1: 2, 0: 2, 2: 1}."""
    toks = []  # (kind, value) at depth 0: ("slot", i), ("op", text), ("atom", None), ("post", None)
    depth = 0
    for m in _TOKEN.finditer(template):
        t = m.group(0)
        if t in _OPEN:
            if depth == 0:
                toks.append(("post", None) if toks and toks[-1][0] in ("slot", "atom") else ("atom", None))
            depth += 1
        elif t in _CLOSE:
            depth -= 1
        elif depth:
            continue
        elif m.group(1) is not None:
            toks.append(("slot", int(m.group(1))))
        elif t == ".":
            toks.append(("post", None))
        elif t in _BINARY or t in ("not", "lambda"):
            prev_operand = toks and toks[-1][0] in ("slot", "atom", "post")
            if t == "-" and not prev_operand or t == "+" and not prev_operand or t == "~":
                toks.append(("op", "unary"))
            elif t == "not" and prev_operand:  # `not in`
                continue
            else:
                toks.append(("op", t))
        else:
            toks.append(("atom", None))
    ops = [v for k, v in toks if k == "op"]
    prec = min([UNARY if o == "unary" else NOT if o == "not" else LAMBDA if o == "lambda" else _BINARY[o]
                for o in ops], default=ATOM)
    need: dict[int, int] = {}
    for j, (k, v) in enumerate(toks):
        if k != "slot":
            continue
        before = toks[j - 1] if j else None
        after = toks[j + 1] if j + 1 < len(toks) else None
        n = 0
        if before is not None and before[0] == "op":
            o = before[1]
            n = max(n, UNARY if o in ("unary", "**") else NOT if o == "not" else OR if o == "if" else
                    IFEXP if o == "else" else COMPARE + 1 if _BINARY.get(o) == COMPARE else _BINARY[o] + 1)
        if after is not None:
            if after[0] == "post":
                n = ATOM
            elif after[0] == "op":
                o = after[1]
                n = max(n, ATOM if o == "**" else OR if o in ("if", "else") else
                        COMPARE + 1 if _BINARY.get(o) == COMPARE else _BINARY.get(o, 0))
        need[v] = max(need.get(v, 0), n)
    return prec, need


_ATOMIC_END = (")", "]")
_FLOAT = re.compile(r"\d+\.\d*(e[-+]?\d+)?$|\d+e[-+]?\d+$|inf$")


def is_atomic(text: str) -> bool:
    """Whether Glia source text is atomic (a name, a literal, a call or index, or parenthesised): it
    can stand anywhere without parentheses."""
    if text.isidentifier() or text.isdigit() or _FLOAT.match(text):
        return True
    if text.startswith('"') and text.endswith('"') and text.count('"') - text.count('\\"') == 2:
        return True
    if text.startswith("(") and _balanced_outer(text):
        return True
    return text[-1] in _ATOMIC_END and _is_postfix(text)


def _outside_strings(text: str):
    """(index, char, bracket depth after it) for each character outside string literals."""
    depth = 0
    in_str = False
    escaped = False
    for i, ch in enumerate(text):
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
            continue
        if ch == '"':
            in_str = True
            continue
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        yield i, ch, depth


def _balanced_outer(text: str) -> bool:
    """The first bracket closes at the very end: `(a + b)` but not `(a) + (b)`."""
    return all(depth > 0 or i == len(text) - 1 for i, ch, depth in _outside_strings(text) if ch in ")]")


def _is_postfix(text: str) -> bool:
    """`name(...)`, `x[...]`, `x.m(...)` chains: no operator or space at depth 0."""
    return all(depth > 0 or ch.isalnum() or ch in "_.()[]" for _, ch, depth in _outside_strings(text))


def _const_prec(text: str) -> int:
    return UNARY if text.startswith("-") else ATOM


def to_glia(term: Term, params: tuple[str, ...]) -> str:
    """Glia source for `term`, with the parentheses its precedence needs and no others; `params` names
    the lambda parameters (innermost last)."""
    return glia_prec(term, params)[0]


def glia_prec(term: Term, params: tuple[str, ...]) -> tuple[str, int]:
    """(Glia source for `term`, its precedence level: ATOM for a name, a literal, a call...)."""
    h = term.head
    if isinstance(h, Var):
        return (params[-h.index - 1] if h.index < 0 else h.name), ATOM
    if isinstance(h, Const):
        text = glia_const(h.value)
        return text, _const_prec(text)
    if isinstance(h, Lam):
        return f"lambda {', '.join(h.params)}: {to_glia(h.body, h.params)}", LAMBDA
    if not h.glia:
        raise ValueError(f"component {h.name} has no Glia form")
    prec, need = _shape(h.glia)
    args = []
    for i, a in enumerate(term.args):
        if i == 0 and "{0.body}" in h.glia and isinstance(a.head, Lam):
            args.append(None)
            continue
        text, p = glia_prec(a, params)
        glued = text.startswith("-") and "-{%d}" % i in h.glia  # `-(-x)`, not `--x`
        args.append(f"({text})" if p < need.get(i, 0) or glued else text)
    if "{0.body}" in h.glia and isinstance(term.args[0].head, Lam):  # the lambda's body inlined
        lam = term.args[0].head
        return h.glia.replace("{0.body}", to_glia(lam.body, lam.params)).replace(
            "{0.params}", ", ".join(lam.params)).format(*args), prec
    return h.glia.format(*args), prec
