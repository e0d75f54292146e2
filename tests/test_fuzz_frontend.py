"""Property tests: the front end never crashes (DESIGN point 8: random text never crashes the parser).

The contract of `check_source`: for any text it returns an `ir.Program` or raises `GliaError` with a
documented code, a span inside the text (line 0 for whole-file errors) and a rendering. Any other
exception is a bug in Glia. Four sources of input, each a Hypothesis strategy:

- `random_text`: strings of Glia tokens, whitespace and odd characters in random order;
- `mutated_program`: the golden programs and examples with a few random edits (lines deleted,
  duplicated, swapped or re-indented; characters and tokens deleted or inserted; names and literals
  replaced; the text cut short);
- `generated_program`: programs built from the grammar with random names and types, so the parser
  gets deep and the checker sees odd but well-formed programs;
- `runnable_program`: well-typed programs without unbounded loops or recursion, which must also
  *run* raising nothing but GliaError.

Every test is derandomized and database-less, so CI runs the same cases every time.
"""
from __future__ import annotations

import contextlib
import io
import re
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glia.compiler import ir
from glia.compiler.diagnostics import GliaError, Source
from glia.compiler.driver import check_source, run_program

HERE = Path(__file__).resolve().parent
CORPUS_FILES = sorted([*(HERE / "programs").rglob("*.glia"), *(HERE.parent / "examples").glob("*.glia")])
CORPUS = tuple(p.read_text(encoding="utf-8") for p in CORPUS_FILES)

NAME = "fuzz.glia"

CODES = frozenset({"E001", "E002", "E003", "E004", "E005", "E101", "E102", "E103", "E104",
                   *(f"E2{i:02d}" for i in range(1, 11)), "E301", "E401",
                   *(f"E50{i}" for i in range(1, 10)), "E601",
                   # a train block's settings are checked with the program: a mutated optimizer or
                   # schedule (optimizer = a==dam(lr=0.001)) is E703, batch_norm without a batch E704
                   "E703", "E704"})

# Each property runs this many cases in CI; together the file stays well under a minute.
CASES = 1500


def fuzz_settings(cases: int = CASES) -> settings:
    return settings(max_examples=cases, deadline=None, derandomize=True, database=None, print_blob=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


# ---- the contract -------------------------------------------------------------------------------


def assert_good_diagnostic(e: GliaError, sources: dict[str, Source]) -> None:
    """`e` is a well-formed diagnostic about one of `sources` (by name)."""
    d = e.diagnostic
    assert d.code in CODES, f"undocumented error code {d.code}: {d.message}"
    assert d.message.strip(), "empty error message"
    assert d.source is not None and d.source.name in sources, \
        f"diagnostic about {d.source and d.source.name!r}, expected one of {sorted(sources)}: {d.message}"
    text = sources[d.source.name].text
    span = d.span
    if span.line == 0:
        assert span.col == 0, span
    else:
        lines = text.split("\n")
        assert 1 <= span.line <= len(lines), f"{d.code} at line {span.line} of a {len(lines)}-line text"
        assert 1 <= span.col <= len(lines[span.line - 1]) + 1, \
            f"{d.code} at {span.line}:{span.col}, but that line has {len(lines[span.line - 1])} characters"
    rendered = e.render()
    assert rendered.startswith(f"{d.source.name}:{span.line}:{span.col}: error[{d.code}]: "), rendered
    if span.line > 0:  # the excerpt shows the line the span is on
        shown = text.split("\n")[span.line - 1].removesuffix("\r").replace("\t", " ")
        assert f"\n{span.line:>4} | {shown}\n" in rendered, rendered


def check_text(text: str) -> ir.Program | None:
    """Check `text`: the Program, or None after checking the GliaError it raised."""
    src = Source(NAME, text)
    try:
        prog = check_source(src, verify_ir=True)
    except GliaError as e:
        assert_good_diagnostic(e, {NAME: src})
        return None
    assert isinstance(prog, ir.Program)
    return prog


# ---- deep nesting ---------------------------------------------------------------------------------

NESTED = {
    "parens": lambda n: "def main():\n    x = " + "(" * n + "1" + ")" * n,
    "brackets": lambda n: "def main():\n    x = " + "[" * n + "1" + "]" * n,
    "sum": lambda n: "def main():\n    x = " + " + ".join(["1"] * n),
    "power": lambda n: "def main():\n    x = " + " ** ".join(["1"] * n),
    "minus": lambda n: "def main():\n    x = 1\n    y = " + "-" * n + "x",
    "not": lambda n: "def main():\n    y = " + "not " * n + "True",
    "and": lambda n: "def main():\n    y = " + " and ".join(["True"] * n),
    "calls": lambda n: "def f(x: int) -> int:\n    return x\ndef main():\n    x = " + "f(" * n + "1" + ")" * n,
    "methods": lambda n: "def main():\n    s = 'a'" + ".upper()" * n,
    "conditional": lambda n: "def main():\n    x = " + "1 if True else " * n + "2",
    "lambda": lambda n: "def main():\n    f = " + "lambda: " * n + "1",
    "blocks": lambda n: "def main():\n" + "".join(" " * (i + 1) + "if True:\n" for i in range(n)) + " " * (n + 1) + "pass",
    "elif": lambda n: "def main():\n    x = 1\n    if x == 0:\n        pass\n" + "".join(
        f"    elif x == {i}:\n        print({i})\n" for i in range(1, n)),
}


@pytest.mark.parametrize("n", [100, 600])
@pytest.mark.parametrize("construct", sorted(NESTED))
def test_deep_nesting_is_an_error_not_a_crash(construct, n):
    """Python's recursion limit is never reached: past a fixed depth the nesting is refused (E005)."""
    if check_text(NESTED[construct](n)) is None and n == 600:
        with pytest.raises(GliaError) as e:
            check_source(Source(NAME, NESTED[construct](n)))
        assert e.value.diagnostic.code == "E005" and "nested too deeply" in e.value.diagnostic.message


# ---- random choices -------------------------------------------------------------------------------


class Choices:
    """Choices read from one byte string drawn by Hypothesis. A single draw per program keeps generation
    fast (a draw costs tens of microseconds; a program makes hundreds of choices), and Hypothesis still
    shrinks the bytes: when they run out every choice is 0, and choice 0 is always the simplest."""

    def __init__(self, data: bytes):
        self.data = data
        self.i = 0

    def below(self, n: int) -> int:
        if self.i >= len(self.data) or n <= 1:
            return 0
        self.i += 1
        return self.data[self.i - 1] % n

    def pick(self, options):
        return options[self.below(len(options))]

    def chance(self, n: int) -> bool:
        """True about once in `n` (never once the bytes are used up)."""
        return self.below(n) == n - 1

    def count(self, lo: int, hi: int) -> int:
        return lo + self.below(hi - lo + 1)


choices = st.binary(min_size=50, max_size=500).map(Choices)


# ---- (a) random text ----------------------------------------------------------------------------

KEYWORDS = ("def", "struct", "if", "elif", "else", "while", "for", "in", "not", "and", "or", "return",
            "break", "continue", "pass", "lambda", "True", "False", "None", "examples", "train", "on",
            "assert", "del", "is", "fn", "class", "import")
NAMES = ("main", "x", "y", "n", "xs", "d", "s", "p", "f", "P", "T", "int", "float", "f32", "f64", "bool",
         "str", "list", "dict", "set", "tuple", "len", "print", "range", "choose", "math", "sqrt", "map",
         "append", "zeros", "_", "x1")
PUNCT = ("??", "??(", "->", "(", ")", "[", "]", "{", "}", ":", ",", ".", ";", "=", "==", "!=", "<", "<=",
         ">", ">=", "+", "-", "*", "/", "//", "%", "**", "@", "&", "|", "^", "~", "<<", ">>", "+=", "-=",
         "*=", "//=", "**=", "|=", "@=", "'", '"', '"""', "'''", "\\", "#", "!", "$", "?", "`")
LITERALS = ("0", "1", "42", "007", "1_000", "0x1F", "0b101", "0o17", "0x", "0b2", "1.5", ".5", "2.", "1e-3",
            "1e", "1_", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "'a'",
            '"s"', "'\\n'", "'\\q'", "'\\x4'", "'\\u00e9'", "'\\U0010ffff'", '"""doc"""', "''", '"\\\n"')
SPACE = (" ", "  ", "    ", "\n", "\n", "\n    ", "\n        ", "\n  ", "\t", "\n\t", "\\\n", "\r\n", "\r",
         "\f", "\x0b", "\x00", "\u00e9", "\u2028", "\ufeff", "# c\n")
PREFIXES = ("", "", "def main():\n    ", "def f(x: int) -> int:\n    return ", "struct P:\n    ",
            "def main():\n    x = ", "def main():\n    if x:\n        ", "examples f:\n    ")

SEPARATORS = ("", " ", " ", "\n")
token = st.one_of(*(st.sampled_from(kind) for kind in (KEYWORDS, NAMES, PUNCT, LITERALS, SPACE)))


def token_text(c: Choices) -> str:
    """A prefix, then random tokens of every kind, each followed by a separator."""
    out = [c.pick(PREFIXES)]
    while c.i < len(c.data):
        out += [c.pick(c.pick((KEYWORDS, NAMES, PUNCT, LITERALS, SPACE))), c.pick(SEPARATORS)]
    return "".join(out)


random_text = st.one_of(
    st.binary(min_size=8, max_size=120).map(lambda b: token_text(Choices(b))),
    st.text(alphabet=st.sampled_from("abdefinx_019 \n\t\\'\"#:()[]{},.=+-*/%<>!?@&|^~;\r\f"), max_size=60),
)


@fuzz_settings()
@given(random_text)
def test_random_text_never_crashes(text):
    check_text(text)


# ---- (b) mutations of real programs ---------------------------------------------------------------

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
LITERAL = re.compile(r"\d[\d_.eExXoObB]*|\"[^\"\n]*\"|'[^'\n]*'")
REPLACEMENTS = KEYWORDS + NAMES + LITERALS + ("??", "x.y", "xs[0]", "f(1)", "(1, 'a')", "[]", "{}", "set()",
                                              "lambda: 1", "2 ** 64", "-x")


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _pos(draw, text: str) -> int:
    return draw(st.integers(0, len(text)))


def _line_no(draw, lines: list[str]) -> int:
    return draw(st.integers(0, len(lines) - 1))


def delete_line(draw, text):
    lines = _lines(text)
    del lines[_line_no(draw, lines)]
    return "\n".join(lines)


def duplicate_line(draw, text):
    lines = _lines(text)
    i = _line_no(draw, lines)
    lines.insert(draw(st.integers(0, len(lines))), lines[i])
    return "\n".join(lines)


def swap_lines(draw, text):
    lines = _lines(text)
    i, j = _line_no(draw, lines), _line_no(draw, lines)
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def reindent_line(draw, text):
    lines = _lines(text)
    i = _line_no(draw, lines)
    indent = draw(st.sampled_from(("", " ", "  ", "    ", "        ", "            ", "\t", "    \t", "\t    ")))
    lines[i] = indent + lines[i].lstrip(" \t")
    return "\n".join(lines)


def delete_chars(draw, text):
    i = _pos(draw, text)
    return text[:i] + text[i + draw(st.integers(1, 8)):]


def insert_token(draw, text):
    i = _pos(draw, text)
    return text[:i] + draw(token) + text[i:]


def replace_match(pattern: re.Pattern):
    def mutate(draw, text):
        matches = list(pattern.finditer(text))
        if not matches:
            return text
        m = matches[draw(st.integers(0, len(matches) - 1))]
        return text[:m.start()] + draw(st.sampled_from(REPLACEMENTS)) + text[m.end():]
    mutate.__name__ = f"replace_{'identifier' if pattern is IDENT else 'literal'}"
    return mutate


def truncate(draw, text):
    return text[:_pos(draw, text)]


MUTATIONS = (delete_line, duplicate_line, swap_lines, reindent_line, delete_chars, insert_token,
             replace_match(IDENT), replace_match(IDENT), replace_match(LITERAL), truncate)


@st.composite
def mutated_program(draw):
    text = draw(st.sampled_from(CORPUS))
    for _ in range(draw(st.integers(1, 3))):
        text = draw(st.sampled_from(MUTATIONS))(draw, text)
    return text


def test_corpus_is_there():
    assert len(CORPUS) >= 60


@fuzz_settings()
@given(mutated_program())
def test_mutated_programs_never_crash(text):
    check_text(text)


# ---- (c) programs generated from the grammar ------------------------------------------------------

TYPES = ("int", "float", "bool", "str", "list[int]", "list[float]", "list[str]", "dict[str, int]", "set[int]",
         "(int, str)", "tuple[int, bool]", "fn(int) -> int", "fn() -> None", "P", "list[P]", "f32", "f32[3]",
         "f32[n, 4]", "f64[2, 2]", "f32[n]", "dict[int, list[int]]", "None", "list[list[f32]]", "(P, int)")
GENERIC_TYPES = ("T", "list[T]", "fn(T) -> T", "dict[T, int]", "(T, T)")
BAD_TYPES = ("list", "dict[int]", "set[list[int]]", "f32[0]", "Q", "tuple", "f32[int]", "fn(int)", "list[3]", "T")
VARS = ("x", "y", "n", "xs", "ys", "d", "s", "p", "q", "i", "k", "v", "f", "g", "a", "b", "N")
FUNCS = ("len", "print", "range", "sorted", "sum", "min", "max", "abs", "str", "int", "float", "f32", "bool",
         "list", "set", "dict", "zip", "enumerate", "map", "filter", "reduce", "any", "all", "reversed", "round",
         "divmod", "pow", "chr", "ord", "isqrt", "choose", "zeros", "ones", "mean", "math.sqrt", "math.floor",
         "heappush", "heappop", "bfs", "dijkstra", "topo_sort", "read_file", "input", "hypot", "isnan", "f",
         "g", "P", "Q", "main", "x")
METHODS = ("append", "pop", "get", "keys", "values", "items", "split", "join", "strip", "upper", "add",
           "union", "sort", "index", "count", "setdefault", "update", "copy", "clear", "extend", "insert",
           "remove", "find", "replace", "startswith", "x", "nope")
FIELDS = ("x", "y", "name", "tags", "nope")
PROLOGUE = ("x = 1", "y = 2.5", "n = 3", "xs = [1, 2]", "ys: list[float] = []", "s = 'a b'", "d = {'a': 1}",
            "p = P(1, 2.5, 's', [])", "q = (1, 'a')", "k = True", "f = lambda a: a + 1", "v = zeros(2, 3)",
            "i = 0", "a: set[int] = set()", "b = [P(1, 2.5, 's', [])]", "g: fn(int) -> int = abs")
BINOPS = ("+", "-", "*", "/", "//", "%", "**", "@", "&", "|", "^", "<<", ">>")
CMPOPS = ("<", "==", "<=", ">", ">=", "!=", "in", "not in", "is", "is not")
AUGOPS = ("+=", "-=", "*=", "/=", "//=", "%=", "**=", "&=", "|=", "^=", "<<=", ">>=", "@=")
ATOMS = ("0", "1", "2", "-1", "3.5", "0.0", "1e3", "9223372036854775807", "9223372036854775808", "'a'", '"bc"',
         "''", "True", "False", "None", "[]", "{}", "set()", "()", "??", "??(size=3)", "??(depth=0)",
         "??(using=[map, f])", "??(nope=1)", "math.pi", "math.inf", "pi", "[1, 2]", "[[1], []]", "{'a': 1}",
         "{1, 2}", "(1, 'a')", "P(1, 2.0, 'n', [])", "zeros(2, 3)", "lambda a: a")


class ProgramGen:
    """Random programs from the grammar (names and types at random), each construct drawn as text."""

    def __init__(self, c: Choices):
        self.c = c
        self.generic = False

    def many(self, lo: int, hi: int, make) -> list[str]:
        return [make() for _ in range(self.c.count(lo, hi))]

    def type(self) -> str:
        if self.c.chance(12):
            return self.c.pick(BAD_TYPES)
        return self.c.pick(TYPES + GENERIC_TYPES if self.generic else TYPES)

    # expressions
    def expr(self, depth: int = 3, operand: bool = False) -> str:
        """An expression; an `operand` of an operator gets parentheses around a lambda, a conditional,
        `not`, `and`/`or` and comparisons (the operators below it in precedence)."""
        c = self.c
        if depth <= 0 or c.below(4) == 0:
            atom = c.pick(VARS + ATOMS)
            return f"({atom})" if operand and atom.startswith("lambda") else atom
        d = depth - 1
        e = lambda: self.expr(d)  # noqa: E731
        o = lambda: self.expr(d, operand=True)  # noqa: E731
        kind = c.below(17)
        low = kind in (1, 2, 3, 14, 15)
        if kind == 0:
            text = f"{o()} {c.pick(BINOPS)} {o()}"
        elif kind == 1:
            text = f"{c.pick(('-', '+', '~', 'not '))}{o()}"
        elif kind == 2:
            text = " ".join([o()] + [f"{c.pick(CMPOPS)} {o()}" for _ in range(c.count(1, 2))])
        elif kind == 3:
            text = f"{o()} {c.pick(('and', 'or'))} {o()}"
        elif kind == 4:
            args = self.many(0, 3, e)
            if c.chance(4):
                args.append(f"{c.pick(('key', 'reverse', 'sep', 'end', 'x', 'default', 'dtype', 'name'))}={e()}")
            text = f"{c.pick(FUNCS)}({', '.join(args)})"
        elif kind == 5:
            text = f"{self.primary(d)}.{c.pick(METHODS)}({', '.join(self.many(0, 2, e))})"
        elif kind == 6:
            text = f"{self.primary(d)}[{e()}]"
        elif kind == 7:
            parts = [e() if c.chance(2) else "" for _ in range(c.count(2, 3))]
            text = f"{self.primary(d)}[{':'.join(parts)}]"
        elif kind == 8:
            text = f"{self.primary(d)}.{c.pick(FIELDS)}"
        elif kind == 9:
            text = f"[{', '.join(self.many(0, 3, e))}]"
        elif kind == 10:
            text = "{" + ", ".join(f"{e()}: {e()}" for _ in range(c.count(1, 2))) + "}"
        elif kind == 11:
            text = "{" + ", ".join(self.many(1, 3, e)) + "}"
        elif kind == 12:
            items = self.many(0, 3, e)
            text = f"({', '.join(items)}{',' if len(items) == 1 else ''})"
        elif kind == 13:
            open_, close = c.pick((("[", "]"), ("{", "}"), ("(", ")")))
            elt = f"{e()}: {e()}" if open_ == "{" and c.chance(2) else e()
            clauses = [f"for {self.target()} in {o()}"]
            if c.chance(2):
                clauses.append(f"if {o()}")
            if c.chance(4):
                clauses.append(f"for {self.target()} in {o()}")
            text = f"{open_}{elt} {' '.join(clauses)}{close}"
        elif kind == 14:
            text = f"lambda {', '.join(self.many(0, 2, lambda: c.pick(VARS)))}: {e()}"
        elif kind == 15:
            text = f"{o()} if {o()} else {e()}"
        else:
            text = f"({e()})"
        return f"({text})" if operand and low else text

    def primary(self, depth: int) -> str:
        """An expression that can take a postfix `.name`, `[i]` or `(...)` as it is."""
        if depth <= 0 or self.c.below(3) == 0:
            return self.c.pick(VARS + ("'a b'", "[1, 2]", "{'a': 1}", "(1, 'a')", "P(1, 2.5, 's', [])"))
        return self.c.pick((f"({self.expr(depth - 1)})", f"{self.c.pick(FUNCS)}({self.expr(depth - 1)})",
                             f"{self.primary(depth - 1)}.{self.c.pick(FIELDS)}"))

    def target(self) -> str:
        if self.c.chance(3):
            return ", ".join(self.many(2, 3, lambda: self.c.pick(VARS)))
        return self.c.pick(VARS)

    def lvalue(self) -> str:
        c = self.c
        kind = c.below(8)
        if kind == 1:
            return f"{c.pick(VARS)}[{self.expr(1)}]"
        if kind == 2:
            return f"{c.pick(VARS)}.{c.pick(FIELDS)}"
        if kind == 3:
            return f"{c.pick(VARS)}[{self.expr(1)}].{c.pick(FIELDS)}"
        if kind == 4:
            return self.target()
        return c.pick(VARS)

    # statements
    def stmt(self, indent: str, depth: int) -> list[str]:
        c = self.c
        kind = c.below(17 if depth > 0 else 12)
        if kind <= 2:
            return [f"{indent}{self.lvalue()} = {self.expr()}"]
        if kind == 3:
            return [f"{indent}{c.pick(VARS)}: {self.type()} = {self.expr()}"]
        if kind == 4:
            return [f"{indent}{self.lvalue()} {c.pick(AUGOPS)} {self.expr()}"]
        if kind == 5:
            return [f"{indent}{self.expr()}"]
        if kind == 6:
            return [f"{indent}return" + (f" {self.expr()}" if not c.chance(4) else "")]
        if kind == 7:
            return [f"{indent}{c.pick(('pass', 'break', 'continue'))}"]
        if kind == 8:
            return [f"{indent}assert {self.expr()}" + (f", {self.expr(1)}" if c.chance(2) else "")]
        if kind == 9:
            return [f"{indent}del {c.pick(VARS)}[{self.expr(1)}]"]
        if kind == 10:
            return [f"{indent}{c.pick(VARS)} = {c.pick(VARS)} = {self.expr()}"]
        if kind == 11:
            return [f"{indent}{self.lvalue()} = {self.expr()}; {self.expr()}"]
        inner = indent + "    "
        if kind <= 13:
            out = [f"{indent}if {self.expr()}:"] + self.body(inner, depth - 1)
            for _ in range(c.count(0, 2)):
                out += [f"{indent}elif {self.expr()}:"] + self.body(inner, depth - 1)
            if c.chance(2):
                out += [f"{indent}else:"] + self.body(inner, depth - 1)
            return out
        if kind == 14:
            return [f"{indent}while {self.expr()}:"] + self.body(inner, depth - 1)
        return [f"{indent}for {self.target()} in {self.expr()}:"] + self.body(inner, depth - 1)

    def prologue(self) -> list[str]:
        """Locals of known types at the start of a function, so that its body gets past name lookup."""
        return [f"    {self.c.pick(PROLOGUE)}" for _ in range(self.c.count(0, 4))]

    def body(self, indent: str, depth: int) -> list[str]:
        out: list[str] = []
        for _ in range(self.c.count(1, 3)):
            out += self.stmt(indent, depth)
        return out

    # top-level items
    def struct(self) -> list[str]:
        c = self.c
        if c.chance(3):
            fields = [f"    {c.pick(FIELDS)}: {self.type()}" for _ in range(c.count(1, 3))]
        else:
            fields = ["    x: int", "    y: float", "    name: str", "    tags: list[str]"]
        return [f"struct {'f' if c.chance(20) else 'Q' if c.chance(6) else 'P'}:"] + fields

    def function(self, name: str) -> list[str]:
        c = self.c
        self.generic = c.chance(4)
        tparams = f"[{c.pick(('T', 'T', 'T, U', 'T, U', 'T, T', 'int'))}]" if self.generic else ""
        names = list(dict.fromkeys(c.pick(VARS) for _ in range(c.count(0, 3))))  # distinct, but for a rare clash
        if c.chance(20):
            names += ["x", "x"]
        params = ", ".join(f"{p}: {self.type()}" for p in names)
        ret = f" -> {self.type()}" if c.chance(2) else ""
        lines = [f"def {name}{tparams}({params}){ret}:"] + self.prologue() + self.body("    ", 2)
        self.generic = False
        return lines

    def program(self) -> str:
        c = self.c
        lines: list[str] = []
        if not c.chance(6):
            lines += self.struct()
        if c.chance(3):
            lines.append(f"{c.pick(('N', 'N', 'N', 'N', 'x', 'f', 'P'))}" + (f": {self.type()}" if c.chance(3) else "")
                         + f" = {self.expr()}")
        for name in ("f", "g")[:c.below(3)]:
            lines += self.function(name)
        lines += self.function("main") if c.chance(3) else ["def main():"] + self.prologue() + self.body("    ", 2)
        if c.chance(3):
            examples = [f"    {', '.join(self.many(1, 2, lambda: self.expr(1)))} -> {self.expr(1)}"
                        for _ in range(c.count(1, 3))]
            lines += [f"examples {c.pick(('f', 'g', 'main', 'len'))}:"] + examples
        if c.chance(5):
            keys = ("epochs", "lr", "loss", "optimizer", "batch", "nope", "epochs")
            lines += [f"train {c.pick(('f', 'g', 'nope'))} on \"data.npz\":"] + \
                [f"    {c.pick(keys)} = {self.expr(1)}" for _ in range(c.count(1, 3))]
        if c.chance(8):  # two words of one line swapped: well-formed pieces in a wrong order
            i = c.below(len(lines))
            words = lines[i].split(" ")
            j, k = c.below(len(words)), c.below(len(words))
            words[j], words[k] = words[k], words[j]
            lines[i] = " ".join(words)
        return "\n".join(lines) + "\n"


generated_program = choices.map(lambda c: ProgramGen(c).program())


@fuzz_settings()
@given(generated_program)
def test_generated_programs_never_crash(text):
    check_text(text)


# ---- (d) well-typed programs, checked and run ------------------------------------------------------

RUN_TYPES = ("int", "float", "bool", "str", "list[int]", "list[str]", "dict[str, int]", "(int, str)", "P",
             "list[P]", "set[int]", "(int, float)", "list[(int, float)]")
LITERALS_OF = {
    "int": ("0", "1", "2", "3", "-1", "7", "-4"), "float": ("0.5", "1.0", "2.5", "-1.5", "0.0", "1e-3"),
    "bool": ("True", "False"), "str": ("'a'", "'b c'", "''", "'1'", "'xy'", "'3.5'"),
    "list[int]": ("[1, 2, 3]", "[0]", "[3, -1, 2]"), "list[str]": ("['a', 'b']", "['x']", "['1', '', 'z']"),
    "dict[str, int]": ("{'a': 1, 'b': 2}", "{'z': 0}"), "(int, str)": ("(1, 'a')", "(0, '')"),
    "P": ("P(1, 2.5, 'p')", "P(-3, 0.0, '')"), "list[P]": ("[P(1, 0.5, 'a'), P(2, 1.5, 'b')]", "[P(0, 0.0, 'z')]"),
    "set[int]": ("{1, 2}", "{3}"), "(int, float)": ("(1, 0.5)", "(-2, 0.0)"),
    "list[(int, float)]": ("[(1, 0.5), (0, 2.5)]", "[(3, -1.5)]", "[(2, 0.0), (2, -0.0), (1, 0.0)]"),
    "Node": ("Node(0, [])", "Node(1, [Node(2, []), Node(-1, [])])"),
}
EMPTY_OF = {"list[int]": "[]", "list[str]": "[]", "dict[str, int]": "{}", "list[P]": "[]", "set[int]": "set()",
            "list[(int, float)]": "[]"}
PRINT_OPTIONS = ("", ", sep='-'", ", end='!\\n'")
SIZED = ("list[int]", "list[str]", "dict[str, int]", "str", "set[int]", "list[P]", "list[(int, float)]")


# What every random program starts with: a struct, two generic functions, and a struct that holds
# itself with a recursion over it (trees: built, read, mutated, printed; the CPU backend boxes `kids`)
TYPED_HEADER = ("struct P:", "    x: int", "    y: float", "    name: str", "",
                "def first[T](xs: list[T]) -> T:", "    return xs[0]", "",
                "def twice[T](f: fn(T) -> T, x: T) -> T:", "    return f(f(x))", "",
                "struct Node:", "    v: int", "    kids: list[Node]", "",
                "def node_sum(n: Node) -> int:", "    s = n.v", "    for k in n.kids:", "        s += node_sum(k)",
                "    return s", "")


class TypedGen:
    """Random well-typed programs whose every loop is bounded and whose functions call only functions
    defined before them, so they terminate quickly; growth of lists and strings is kept linear."""

    def __init__(self, c: Choices):
        self.c = c
        self.env: dict[str, str] = {}  # locals (and globals) in scope, by type
        self.funcs: list[tuple[str, tuple[str, ...], str]] = []  # helpers defined so far
        self.n = 0
        self.loops = 0
        self.exits = True  # whether the innermost loop's block may `break` or `continue`

    def fresh(self, prefix: str = "v") -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def with_local(self, name: str, t: str, make):
        """`make()` with `name: t` in scope (a lambda, comprehension or loop variable)."""
        saved = self.env.get(name)
        self.env[name] = t
        try:
            return make()
        finally:
            if saved is None:
                del self.env[name]
            else:
                self.env[name] = saved

    # expressions
    def expr(self, t: str, depth: int = 2) -> str:
        c = self.c
        if depth <= 0 or c.below(3) == 0:
            names = [n for n, nt in self.env.items() if nt == t]
            if names and not c.chance(3):
                return c.pick(names)
            return c.pick(LITERALS_OF[t])
        calls = [f for f in self.funcs if f[2] == t]
        if calls and c.chance(5):
            name, params, _ = c.pick(calls)
            return f"{name}({', '.join(self.expr(p, depth - 1) for p in params)})"
        if t in ("int", "float", "str", "list[int]") and c.chance(12):  # a function value: a lambda or a name
            named = [f[0] for f in self.funcs if f[1] == (t,) and f[2] == t]
            fn = c.pick(named) if named and c.chance(2) else self.lam(t, t, depth - 1)
            if c.chance(3):  # one of two, picked at run time: a value the CPU backend calls through a tag
                fn = f"({fn}) if {self.expr('bool', depth - 1)} else ({self.lam(t, t, depth - 1)})"
            return f"twice({fn}, {self.expr(t, depth - 1)})"
        return getattr(self, "e_" + re.sub(r"\W+", "_", t).strip("_"))(depth - 1)

    def k(self) -> str:
        """A small constant (loop and range bounds stay tiny)."""
        return self.c.pick(("0", "1", "2", "3"))

    def lam(self, t: str, body_t: str, depth: int) -> str:
        a = self.fresh("a")
        return f"lambda {a}: " + self.with_local(a, t, lambda: self.expr(body_t, depth))

    def comp(self, elem_t: str, src_t: str, src: str, depth: int, cond: bool = True) -> tuple[str, str]:
        """(element, clauses) of a comprehension over `src` (elements of type src_t)."""
        v = self.fresh("w")

        def make():
            elt = self.expr(elem_t, depth)
            clause = f"for {v} in {src}"
            if cond and self.c.chance(3):
                clause += f" if {self.expr('bool', depth)}"
            return elt, clause
        return self.with_local(v, src_t, make)

    def e_int(self, d):
        c, e = self.c, lambda t: self.expr(t, d)  # noqa: E731
        if c.chance(25):  # a tree: summed by recursion, or a field read
            return c.pick((f"node_sum({e('Node')})", f"len(({e('Node')}).kids)", f"({e('Node')}).v",
                           f"({e('Node')}).kids.count({e('Node')})", f"({e('Node')}).kids.index({e('Node')})"))
        kind = c.below(24)
        if kind == 0:
            return f"({e('int')} {c.pick(('+', '-', '*', '//', '%', '**', '&', '|', '^', '<<', '>>'))} {e('int')})"
        if kind == 1:
            return f"(-{e('int')})"
        if kind == 2:
            return f"len({e(c.pick(SIZED))})"
        if kind == 3:
            return f"{c.pick(('abs', 'isqrt'))}({e('int')})"
        if kind == 4:
            return f"{c.pick(('min', 'max', 'pow'))}({e('int')}, {e('int')})"
        if kind == 5:
            return f"{c.pick(('sum', 'max', 'min'))}({e('list[int]')})"
        if kind == 6:
            return f"{c.pick(('int', 'round'))}({e('float')})"
        if kind == 7:
            return f"int({e('str')})"
        if kind == 8:
            return f"ord({e('str')})"
        if kind == 9:
            return f"({e('list[int]')})[{e('int')}]"
        if kind == 10:
            return f"({e('dict[str, int]')})[{e('str')}]"
        if kind == 11:
            return f"({e('(int, str)')})[0]"
        if kind == 12:
            return f"({e('P')}).x"
        if kind == 13:
            return f"({e('int')} if {e('bool')} else {e('int')})"
        if kind == 14:
            return f"({e('str')}).{c.pick(('find', 'count'))}({e('str')})"
        if kind == 15:
            return f"({e('dict[str, int]')}).get({e('str')}, {e('int')})"
        if kind == 16:
            return f"divmod({e('int')}, {e('int')})[{c.pick(('0', '1'))}]"
        if kind == 17:
            acc, x = self.fresh("a"), self.fresh("a")
            body = self.with_local(acc, "int", lambda: self.with_local(x, "int", lambda: e("int")))
            return f"reduce(lambda {acc}, {x}: {body}, {e('list[int]')}, {e('int')})"
        if kind == 18:
            return f"choose({e('int')}, {e('int')})"
        if kind == 19:
            return f"({e('list[int]')}).{c.pick(('index', 'count'))}({e('int')})"
        if kind == 20:
            return f"first({e('list[int]')})"
        if kind == 21:
            return f"max({e('list[P]')}, key={self.lam('P', 'float', d)}).x"
        if kind == 22:
            return f"math.floor({e('float')})"
        elt, clause = self.comp("int", "int", f"range({self.k()})", d)
        return f"len([{elt} {clause}])"

    def e_float(self, d):
        c, e = self.c, lambda t: self.expr(t, d)  # noqa: E731
        kind = c.below(15)
        if kind == 0:
            return f"({e('float')} {c.pick(('+', '-', '*', '/', '//', '%', '**'))} {e('float')})"
        if kind == 1:
            return f"({e('int')} / {e('int')})"
        if kind == 2:
            return f"float({e(c.pick(('int', 'str', 'bool')))})"
        if kind == 3:
            return f"math.{c.pick(('sqrt', 'log', 'exp', 'sin', 'atan', 'log10', 'tanh'))}({e('float')})"
        if kind == 4:
            return f"abs({e('float')})" if c.chance(2) else f"round({e('float')}, {e('int')})"
        if kind == 5:
            return f"({e('P')}).y"
        if kind == 6:
            return f"(-{e('float')})"
        if kind == 7:
            return f"sum([{e('float')}, {e('float')}])"
        if kind == 8:
            return f"{c.pick(('hypot', 'atan2', 'min', 'max'))}({e('float')}, {e('float')})"
        if kind == 9:
            return f"({e('float')} if {e('bool')} else {e('float')})"
        if kind == 10:
            return f"({e('float')} + {e('int')})"
        if kind == 11:
            return c.pick(("math.pi", "math.inf", "math.e", "(-math.inf)"))
        if kind == 12:
            return f"first([{e('float')}, {e('float')}])"
        if kind == 13:
            return f"({e('(int, float)')})[1]"
        return f"mean({e('list[int]')})"

    def e_bool(self, d):
        c, e = self.c, lambda t: self.expr(t, d)  # noqa: E731
        if c.chance(30):  # trees compared (a tree may hold itself: `n.kids[i].kids.append(n)`)
            return c.pick((f"({e('Node')} {c.pick(('==', '!='))} {e('Node')})",
                           f"({e('Node')} {c.pick(('in', 'not in'))} ({e('Node')}).kids)",
                           f"([{e('Node')}] == [{e('Node')}, {e('Node')}][:{e('int')}])"))
        kind = c.below(16)
        if kind == 0:
            return f"({e('int')} {c.pick(('<', '<=', '>', '>=', '==', '!='))} {e('int')})"
        if kind == 1:
            t = c.pick(("float", "str", "(int, str)", "list[int]", "bool", "(int, float)", "list[(int, float)]"))
            return f"({e(t)} {c.pick(('<', '<=', '==', '!='))} {e(t)})"
        if kind == 2:
            return f"({e('bool')} {c.pick(('and', 'or'))} {e('bool')})"
        if kind == 3:
            return f"(not {e('bool')})"
        if kind == 4:
            return f"({e('int')} {c.pick(('in', 'not in'))} {e(c.pick(('list[int]', 'set[int]')))})"
        if kind == 5:
            return f"({e('str')} {c.pick(('in', 'not in'))} {e(c.pick(('str', 'list[str]', 'dict[str, int]')))})"
        if kind == 6:
            return f"({e('str')}).{c.pick(('startswith', 'endswith'))}({e('str')})"
        if kind == 7:
            return f"({e('str')}).{c.pick(('isdigit', 'isalpha', 'isspace', 'isupper'))}()"
        if kind == 8:
            return f"{c.pick(('any', 'all'))}([{e('bool')}, {e('bool')}])"
        if kind == 9:
            return f"math.{c.pick(('isnan', 'isinf'))}({e('float')})"
        if kind == 10:
            return f"({e('P')} {c.pick(('==', '!='))} {e('P')})"
        if kind == 11:
            return f"bool({e(c.pick(('int', 'str', 'list[int]')))})"
        if kind == 12:
            return f"({e('int')} < {e('int')} <= {e('int')})"
        if kind == 13:
            return f"({e('set[int]')}).issubset({e('set[int]')})"
        if kind == 14:
            return f"({e('(int, float)')} {c.pick(('in', 'not in'))} {e('list[(int, float)]')})"
        return f"({e('bool')} if {e('bool')} else {e('bool')})"

    def e_str(self, d):
        c, e = self.c, lambda t: self.expr(t, d)  # noqa: E731
        if c.chance(30):
            return f"str({e('Node')})"
        kind = c.below(15)
        if kind == 0:
            return f"({e('str')} + {e('str')})"
        if kind == 1:
            return f"str({e(c.pick(RUN_TYPES))})"
        if kind == 2:
            return f"({e('str')})[{e('int')}]"
        if kind == 3:
            return f"({e('str')})[{e('int')}:{e('int')}]"
        if kind == 4:
            return f"({e('str')}).{c.pick(('upper', 'lower', 'strip', 'title', 'capitalize'))}()"
        if kind == 5:
            return f"{c.pick(LITERALS_OF['str'])}.join({e('list[str]')})"
        if kind == 6:
            return f"chr({e('int')})"
        if kind == 7:
            return f"({e('str')}).replace('a', 'b')"
        if kind == 8:
            return f"({e('(int, str)')})[1]"
        if kind == 9:
            return f"({e('P')}).name"
        if kind == 10:
            return f"({e('str')} if {e('bool')} else {e('str')})"
        if kind == 11:
            return f"({e('list[str]')})[{e('int')}]"
        if kind == 12:
            return f"({e('str')})[::{c.pick(('-1', '2', '0'))}]"
        if kind == 13:
            return f"({e('str')}).zfill(4)"
        return f"first({e('list[str]')})"

    def e_list_int(self, d):
        c, e = self.c, lambda t: self.expr(t, d)  # noqa: E731
        kind = c.below(15)
        if kind == 0:
            return f"[{e('int')}, {e('int')}]"
        if kind == 1:
            return f"({e('list[int]')} + {e('list[int]')})"
        if kind == 2:
            key = c.pick(("", ", reverse=True", f", key={self.lam('int', 'int', d)}"))
            return f"sorted({e(c.pick(('list[int]', 'set[int]')))}{key})"
        if kind == 3:
            return f"list(range({self.k()}{', ' + self.k() if c.chance(2) else ''}))"
        if kind == 4:
            elt, clause = self.comp("int", "int", f"range({self.k()})", d)
            return f"[{elt} {clause}]"
        if kind == 5:
            elt, clause = self.comp("int", "int", e("list[int]"), d)
            return f"[{elt} {clause}]"
        if kind == 6:
            return f"({e('list[int]')})[{e('int')}:{e('int')}]"
        if kind == 7:
            return f"reversed({e('list[int]')})"
        if kind == 8:
            return f"map({self.lam('int', 'int', d)}, {e('list[int]')})"
        if kind == 9:
            return f"filter({self.lam('int', 'bool', d)}, {e('list[int]')})"
        if kind == 10:
            return f"({e('dict[str, int]')}).values()"
        if kind == 11:
            elt, clause = self.comp("int", "str", e("list[str]"), d)
            return f"[{elt} {clause}]"
        if kind == 12:
            return f"({e('list[int]')}).copy()"
        if kind == 13:
            elt, clause = self.comp("int", "P", e("list[P]"), d)
            return f"[{elt} {clause}]"
        return f"list({e('set[int]')})"

    def e_list_str(self, d):
        c, e = self.c, lambda t: self.expr(t, d)  # noqa: E731
        kind = c.below(8)
        if kind == 0:
            return f"({e('str')}).split({c.pick(('', repr(','), repr(' ')))})"
        if kind == 1:
            elt, clause = self.comp("str", "int", f"range({self.k()})", d)
            return f"[{elt} {clause}]"
        if kind == 2:
            return f"({e('dict[str, int]')}).keys()"
        if kind == 3:
            return f"list({e('str')})"
        if kind == 4:
            return f"sorted({e('list[str]')})"
        if kind == 5:
            return f"({e('list[str]')} + {e('list[str]')})"
        if kind == 6:
            return f"[{e('str')}, {e('str')}]"
        elt, clause = self.comp("str", "P", e("list[P]"), d)
        return f"[{elt} {clause}]"

    def e_dict_str_int(self, d):
        c, e = self.c, lambda t: self.expr(t, d)  # noqa: E731
        kind = c.below(4)
        if kind == 0:
            return f"{{{e('str')}: {e('int')}}}"
        if kind == 1:
            w = self.fresh("w")
            body = self.with_local(w, "str", lambda: e("int"))
            return f"{{{w}: {body} for {w} in {e('list[str]')}}}"
        if kind == 2:
            return f"({e('dict[str, int]')}).copy()"
        return f"dict(zip({e('list[str]')}, {e('list[int]')}))"

    def e_int_str(self, d):
        e = lambda t: self.expr(t, d)  # noqa: E731
        if self.c.chance(3):
            return f"({e('(int, str)')} if {e('bool')} else {e('(int, str)')})"
        return f"({e('int')}, {e('str')})"

    def e_int_float(self, d):
        c, e = self.c, lambda t: self.expr(t, d)  # noqa: E731
        kind = c.below(4)
        if kind == 0:
            return f"({e('list[(int, float)]')})[{e('int')}]"
        if kind == 1:
            return f"{c.pick(('min', 'max', 'first'))}({e('list[(int, float)]')})"
        if kind == 2:
            return f"({e('(int, float)')} if {e('bool')} else {e('(int, float)')})"
        return f"({e('int')}, {e('float')})"

    def e_list_int_float(self, d):
        """Lists of tuples of scalars: arrays of records in compiled code."""
        c, e = self.c, lambda t: self.expr(t, d)  # noqa: E731
        kind = c.below(8)
        if kind == 0:
            return f"[{e('(int, float)')}, {e('(int, float)')}]"
        if kind == 1:
            return f"({e('list[(int, float)]')} + {e('list[(int, float)]')})"
        if kind == 2:
            key = c.pick(("", ", reverse=True", f", key={self.lam('(int, float)', 'float', d)}"))
            return f"sorted({e('list[(int, float)]')}{key})"
        if kind == 3:
            return f"({e('list[(int, float)]')})[{e('int')}:{e('int')}:{c.pick(('1', '-1', '2'))}]"
        if kind == 4:
            elt, clause = self.comp("(int, float)", "int", e("list[int]"), d)
            return f"[{elt} {clause}]"
        if kind == 5:
            return f"list(zip({e('list[int]')}, [{e('float')}, {e('float')}]))"
        if kind == 6:
            return f"({e('list[(int, float)]')} * {self.k()})"
        return f"reversed({e('list[(int, float)]')})"

    def e_Node(self, d):
        c, e = self.c, lambda t: self.expr(t, d)  # noqa: E731
        kind = c.below(5)
        if kind == 0:
            return f"Node({e('int')}, [])"
        if kind == 1:
            return f"Node({e('int')}, [{e('Node')}, {e('Node')}])"
        if kind == 2:
            elt, clauses = self.comp("Node", "int", e("list[int]"), d)
            return f"Node({e('int')}, [{elt} {clauses}])"
        if kind == 3:
            return f"({e('Node')}).kids[{e('int')}]"
        return f"({e('Node')} if {e('bool')} else {e('Node')})"

    def e_P(self, d):
        c, e = self.c, lambda t: self.expr(t, d)  # noqa: E731
        kind = c.below(5)
        if kind == 0:
            return f"P({e('int')}, {e('float')}, {e('str')})"
        if kind == 1:
            return f"P(name={e('str')}, x={e('int')}, y={e('float')})"
        if kind == 2:
            return f"({e('list[P]')})[{e('int')}]"
        if kind == 3:
            return f"min({e('list[P]')}, key={self.lam('P', 'int', d)})"
        return f"({e('P')} if {e('bool')} else {e('P')})"

    def e_list_P(self, d):
        c, e = self.c, lambda t: self.expr(t, d)  # noqa: E731
        kind = c.below(5)
        if kind == 0:
            return f"[{e('P')}, {e('P')}]"
        if kind == 1:
            return f"sorted({e('list[P]')}, key={self.lam('P', c.pick(('int', 'float', 'str')), d)})"
        if kind == 2:
            return f"({e('list[P]')} + {e('list[P]')})"
        if kind == 3:
            elt, clause = self.comp("P", "int", f"range({self.k()})", d)
            return f"[{elt} {clause}]"
        return f"filter({self.lam('P', 'bool', d)}, {e('list[P]')})"

    def e_set_int(self, d):
        c, e = self.c, lambda t: self.expr(t, d)  # noqa: E731
        kind = c.below(4)
        if kind == 0:
            return f"{{{e('int')}, {e('int')}}}"
        if kind == 1:
            return f"set({e('list[int]')})"
        if kind == 2:
            return f"({e('set[int]')} {c.pick(('|', '&', '-', '^'))} {e('set[int]')})"
        elt, clause = self.comp("int", "int", e("list[int]"), d)
        return f"{{{elt} {clause}}}"

    # statements
    def vars_of(self, *types: str) -> list[str]:
        return [n for n, t in self.env.items() if t in types and not n.startswith("G")]

    def stmt(self, ind: str, depth: int, ret: str | None) -> list[str]:
        c = self.c
        growable = ("int", "float", "bool", "P", "(int, str)") if self.loops else RUN_TYPES
        containers = self.vars_of("list[int]", "list[str]", "list[P]", "set[int]", "dict[str, int]",
                                  "list[(int, float)]")
        procedures = [f for f in self.funcs if f[2] == "None"]
        kind = c.below(20 if depth > 0 else 15)
        if (kind == 4 and not self.vars_of(*growable) or kind == 5 and not self.vars_of("int", "float", "str")
                or kind == 6 and not containers or kind == 7 and not self.vars_of("P", "list[P]", "Node")
                or kind == 10 and ret is None or kind == 11 and not procedures
                or kind == 12 and not (self.loops and self.exits) or kind == 13 and not self.vars_of("list[int]")):
            kind = 0
        if kind <= 2:  # a new local
            t = "Node" if c.chance(12) else c.pick(RUN_TYPES)
            name = self.fresh()
            if t in EMPTY_OF and c.chance(3):
                line = f"{ind}{name}: {t} = {EMPTY_OF[t]}"
            elif c.chance(25) and t != "Node":
                line = f"{ind}{name}: {t} = ??"
            else:
                line = f"{ind}{name} = {self.expr(t)}"
            self.env[name] = t
            return [line]
        if kind == 3:  # tuple unpacking
            a, b = self.fresh(), self.fresh()
            line = f"{ind}{a}, {b} = {self.expr('(int, str)')}"
            self.env[a], self.env[b] = "int", "str"
            return [line]
        if kind == 4:  # reassignment; in loops only of values that cannot grow
            n = c.pick(self.vars_of(*growable))
            return [f"{ind}{n} = {self.expr(self.env[n])}"]
        if kind == 5:  # augmented assignment
            n = c.pick(self.vars_of("int", "float", "str"))
            if self.env[n] == "str":
                return [f"{ind}{n} += {self.expr('str', 0 if self.loops else 2)}"]
            return [f"{ind}{n} {c.pick(('+=', '-=', '*=', '//=', '%='))} {self.expr(self.env[n])}"]
        if kind == 6:  # mutation of a container
            n = c.pick(containers)
            t = self.env[n]
            if t == "set[int]":
                return [f"{ind}{n}.{c.pick(('add', 'discard', 'remove'))}({self.expr('int')})"]
            if t == "dict[str, int]":
                return [c.pick((f"{ind}{n}[{self.expr('str')}] = {self.expr('int')}",
                                f"{ind}{n}[{self.expr('str')}] += {self.expr('int')}",
                                f"{ind}del {n}[{self.expr('str')}]",
                                f"{ind}{n}.pop({self.expr('str')}, 0)"))]
            elem = t[5:-1]
            return [c.pick((f"{ind}{n}.append({self.expr(elem)})", f"{ind}{n}.insert(0, {self.expr(elem)})",
                            f"{ind}{n}[{self.expr('int')}] = {self.expr(elem)}", f"{ind}{n}.pop()",
                            f"{ind}del {n}[{self.expr('int')}]", f"{ind}{n}.reverse()",
                            f"{ind}{n}.remove({self.expr(elem)})"))]
        if kind == 7:  # field assignment, directly or through a list slot (value semantics)
            n = c.pick(self.vars_of("P", "list[P]", "Node"))
            if self.env[n] == "Node":  # (appending n to its own kids makes a list that holds itself)
                return [c.pick((f"{ind}{n}.v += {self.expr('int')}", f"{ind}{n}.kids.append({self.expr('Node')})",
                                f"{ind}{n}.kids = [{self.expr('Node')}]",
                                f"{ind}{n}.kids[{self.expr('int')}].kids.append({n})"))]
            if self.env[n] == "P":
                return [f"{ind}{n}.{c.pick(('x', 'y'))} += {self.expr('int')}"]
            return [f"{ind}{n}[{self.expr('int')}].x = {self.expr('int')}"]
        if kind == 8:
            args = ", ".join(self.expr(c.pick(RUN_TYPES)) for _ in range(c.count(0, 3)))
            return [f"{ind}print({args}{c.pick(PRINT_OPTIONS) if args else ''})"]
        if kind == 9:
            return [f"{ind}assert {self.expr('bool')}" + (f", {self.expr('str')}" if c.chance(2) else "")]
        if kind == 10:
            return [f"{ind}if {self.expr('bool')}:", f"{ind}    return {self.expr(ret)}"]
        if kind == 11:
            name, params, _ = c.pick(procedures)
            return [f"{ind}{name}({', '.join(self.expr(p) for p in params)})"]
        if kind == 12:
            return [f"{ind}if {self.expr('bool')}:", f"{ind}    {c.pick(('break', 'continue'))}"]
        if kind == 13:
            return [f"{ind}heappush({c.pick(self.vars_of('list[int]'))}, {self.expr('int')})"]
        if kind == 14:
            return [f"{ind}{self.expr(c.pick(('int', 'str', 'list[int]')))}"]
        inner = ind + "    "
        if kind <= 16:
            out = [f"{ind}if {self.expr('bool')}:"] + self.block(inner, depth - 1, ret)
            if c.chance(3):
                out += [f"{ind}elif {self.expr('bool')}:"] + self.block(inner, depth - 1, ret)
            if c.chance(2):
                out += [f"{ind}else:"] + self.block(inner, depth - 1, ret)
            return out
        if kind == 17:
            v = self.fresh("i")
            return [f"{ind}for {v} in range({self.k()}):"] + self.loop_block(inner, depth, ret, {v: "int"})
        if kind == 18:  # over a copy, so that the body may change the original
            t = c.pick(("list[int]", "list[str]", "list[P]", "str", "dict[str, int]", "list[(int, float)]"))
            v = self.fresh("i")
            src = f"list({self.expr(t)})" if t != "str" else self.expr(t)
            elem = {"list[int]": "int", "list[str]": "str", "list[P]": "P", "str": "str", "dict[str, int]": "str",
                    "list[(int, float)]": "(int, float)"}[t]
            if t == "list[(int, float)]" and c.chance(2):  # unpacking each tuple, as Dijkstra's edge loop
                j = self.fresh("i")
                return [f"{ind}for {j}, {v} in {src}:"] + \
                    self.loop_block(inner, depth, ret, {j: "int", v: "float"})
            if t == "list[str]" and c.chance(2):
                j = self.fresh("i")
                return [f"{ind}for {j}, {v} in enumerate({src}):"] + \
                    self.loop_block(inner, depth, ret, {j: "int", v: "str"})
            return [f"{ind}for {v} in {src}:"] + self.loop_block(inner, depth, ret, {v: elem})
        n = self.fresh("n")
        if c.chance(3):  # `while True:` left by a `break` in an if/else (a shape Numba cannot type as written)
            outer = self.vars_of("int")  # one assigned before the `break` is what Numba could not type
            last = [f"{inner}    {c.pick(outer)} += {n}"] if outer else []
            # (the leaving branch has no `continue` of this loop: `continue` before the `break` looped forever)
            return [f"{ind}{n} = 0", f"{ind}while True:", f"{inner}{n} += 1", f"{inner}if {n} > {self.k()}:"] + \
                self.loop_block(inner + "    ", depth, ret, {}, exits=False) + last + [f"{inner}    break", f"{inner}else:"] + \
                self.loop_block(inner + "    ", depth, ret, {}) + self.loop_block(inner, depth, ret, {})
        return [f"{ind}{n} = 0", f"{ind}while {n} < {self.k()}:", f"{inner}{n} += 1"] + \
            self.loop_block(inner, depth, ret, {})

    def loop_block(self, ind, depth, ret, loop_vars: dict[str, str], exits: bool = True) -> list[str]:
        """A loop's statements; `exits=False`: no `break` or `continue` of this loop among them."""
        self.loops += 1
        outer, self.exits = self.exits, exits
        saved = dict(self.env)
        self.env.update(loop_vars)
        try:
            return self.block(ind, depth - 1, ret, scoped=False)
        finally:
            self.env = saved
            self.loops -= 1
            self.exits = outer

    def block(self, ind: str, depth: int, ret: str | None, scoped: bool = True) -> list[str]:
        """Statements; locals first assigned in a nested block are not used after it (E104)."""
        saved = dict(self.env)
        out: list[str] = []
        for _ in range(self.c.count(1, 3)):
            out += self.stmt(ind, depth, ret)
        if scoped:
            self.env = saved
        return out

    def function(self, name: str, params: tuple[str, ...], ret: str) -> list[str]:
        names = [self.fresh("p") for _ in params]
        self.env = {n: t for n, t in self.globals.items()}
        self.env.update(zip(names, params))
        body = self.block("    ", 2, None if ret == "None" else ret, scoped=False)
        if ret != "None":
            body.append(f"    return {self.expr(ret)}")
        head = ", ".join(f"{n}: {t}" for n, t in zip(names, params))
        return [f"def {name}({head})" + ("" if ret == "None" else f" -> {ret}") + ":"] + body

    def program(self) -> str:
        c = self.c
        lines = list(TYPED_HEADER)
        self.globals: dict[str, str] = {}
        self.env = {}
        for _ in range(c.below(3)):
            t = c.pick(RUN_TYPES)
            g = self.fresh("G")
            lines.append(f"{g} = {self.expr(t)}")
            self.globals[g] = t
            self.env[g] = t
        for i in range(c.below(4)):
            params = tuple(c.pick(RUN_TYPES) for _ in range(c.below(4)))
            ret = c.pick(RUN_TYPES + ("None",))
            lines += self.function(f"f{i}", params, ret) + [""]
            self.funcs.append((f"f{i}", params, ret))
        withargs = [f for f in self.funcs if f[1] and f[2] != "None"]
        if withargs and c.chance(3):
            name, params, ret = c.pick(withargs)
            self.env = {}
            lines += [f"examples {name}:"] + [
                f"    {', '.join(self.expr(p, 0) for p in params)} -> {self.expr(ret, 0)}" for _ in range(c.count(1, 2))]
        lines += self.function("main", (), "None")
        return "\n".join(lines) + "\n"


runnable_program = choices.map(lambda c: TypedGen(c).program())


def run_checked(program: ir.Program, timeout_s: float = 20.0) -> tuple[object, str]:
    """Run `main` in a thread (so a hang fails the test instead of CI); (result or exception, output)."""
    out = io.StringIO()
    box: list = [None]

    def target():
        try:
            with contextlib.redirect_stdout(out):
                box[0] = run_program(program, [])
        except BaseException as e:  # handed to the test's thread
            box[0] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout_s)
    if t.is_alive():
        pytest.fail(f"the program ran for more than {timeout_s} s")
    return box[0], out.getvalue()


@fuzz_settings(400)
@given(runnable_program)
def test_well_typed_programs_check_and_run(text):
    src = Source(NAME, text)
    try:
        program = check_source(src, verify_ir=True)
    except GliaError as e:  # the generator makes only well-typed programs
        pytest.fail(f"a well-typed program does not check:\n{e.render()}\n\n{text}")
    result, _ = run_checked(program)
    if isinstance(result, GliaError):
        from glia.compiler.driver import prelude
        assert result.diagnostic.code[1] in "56", result.render()
        assert_good_diagnostic(result, {NAME: src, "<prelude>": prelude()[1]})
    elif isinstance(result, BaseException):
        raise result
