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


_ATOMIC_END = (")", "]")
_FLOAT = re.compile(r"\d+\.\d*(e[-+]?\d+)?$|\d+e[-+]?\d+$|inf$")


def _paren(text: str) -> str:
    """Parenthesise a sub-expression unless it is atomic (a name, a literal, a call or index)."""
    if text.isidentifier() or text.lstrip("-").isdigit() and not text.startswith("-") or _FLOAT.match(text):
        return text
    if text.startswith('"') and text.endswith('"') and text.count('"') - text.count('\\"') == 2:
        return text
    if text.startswith("(") and _balanced_outer(text):
        return text
    if text[-1] in _ATOMIC_END and _is_postfix(text):
        return text
    return f"({text})"


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


def to_glia(term: Term, params: tuple[str, ...]) -> str:
    """Glia source for `term`; `params` names the lambda parameters (innermost last)."""
    h = term.head
    if isinstance(h, Var):
        return params[-h.index - 1] if h.index < 0 else h.name
    if isinstance(h, Const):
        text = glia_const(h.value)
        return text if not text.startswith("-") else f"({text})"
    if isinstance(h, Lam):
        return f"lambda {', '.join(h.params)}: {to_glia(h.body, h.params)}"
    if not h.glia:
        raise ValueError(f"component {h.name} has no Glia form")
    if "{0.body}" in h.glia and isinstance(term.args[0].head, Lam):  # the lambda's body inlined
        lam = term.args[0].head
        rest = [_paren(to_glia(a, params)) for a in term.args[1:]]
        return h.glia.replace("{0.body}", to_glia(lam.body, lam.params)).replace(
            "{0.params}", ", ".join(lam.params)).format(None, *rest)
    args = []
    for i, a in enumerate(term.args):
        text = to_glia(a, params)
        slot = "{%d}" % i
        if not any(p in h.glia for p in (f"({slot},", f", {slot})", f", {slot},", f"({slot})", f"[{slot}]")):
            text = _paren(text)  # an operand; a call argument or an index needs no parentheses
        args.append(text)
    return h.glia.format(*args)
