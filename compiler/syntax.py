"""Stage 1, parse: source text -> AST (`parse(source) -> ast.Module`).

Lark LALR(1) with the contextual lexer; the grammar is `grammar/glia.lark`. The parser tables are
cached on disk (keyed by the grammar's hash) so that start-up stays fast. Lark's parse tree is turned
into the AST by `AstBuilder`, a Transformer that keeps source positions. Lark's exceptions are turned
into diagnostics that name the expected tokens; no Lark exception escapes this module.
"""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.indenter import Indenter

from . import ast as A
from .cache import cache_dir  # noqa: F401  (syntax.cache_dir: where callers have always found it)
from .diagnostics import GliaError, Note, Source, Span, error

STAGE = "syntax"


class GliaIndenter(Indenter):
    NL_type = "_NEWLINE"
    OPEN_PAREN_types = ["LPAR", "LSQB", "LBRACE", "HOLE_CALL"]
    CLOSE_PAREN_types = ["RPAR", "RSQB", "RBRACE"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    # Words that are keywords everywhere (docs/language.md §1): the contextual lexer would read one as a
    # name where its keyword cannot come (`def def(...)`, a field `if`), so they are made keywords here.
    # `on` and `fn` are keywords only where they can come (a train header, a type).
    RESERVED = {w: w.upper() for w in ("def", "if", "elif", "else", "while", "for", "in", "not", "and", "or",
                                       "return", "break", "continue", "pass", "lambda", "True", "False",
                                       "None", "assert", "del", "is")}
    TOP_LEVEL_WORDS = ("_STRUCT", "_EXAMPLES", "_TRAIN")  # keywords only at the start of a top-level line

    def process(self, stream):
        prev = None
        for tok in super().process(stream):
            if tok.type == "NAME" and tok.value in self.RESERVED:
                tok = Token.new_borrow_pos(self.RESERVED[tok.value], tok.value, tok)
            elif tok.type in self.TOP_LEVEL_WORDS and not (
                    self.paren_level == 0 and tok.column == 1
                    and (prev is None or prev.type in (self.NL_type, self.DEDENT_type))):
                tok = Token.new_borrow_pos("NAME", tok.value, tok)
            prev = tok
            yield tok

    def handle_NL(self, token):
        if self.paren_level > 0:
            return
        yield token
        indent_str = token.rsplit("\n", 1)[1]
        indent = indent_str.count(" ") + indent_str.count("\t") * self.tab_len
        if indent > self.indent_level[-1]:
            self.indent_level.append(indent)
            yield self._at_line_start(self.INDENT_type, indent_str, token)
        else:
            open_blocks = list(self.indent_level)  # (the message lists them all, the one left too)
            while indent < self.indent_level[-1]:
                self.indent_level.pop()
                yield self._at_line_start(self.DEDENT_type, indent_str, token)
            if indent != self.indent_level[-1]:
                raise _IndentError(token.end_line, token.end_column, indent, open_blocks)

    @staticmethod
    def _at_line_start(kind: str, indent_str: str, nl: Token) -> Token:
        """An INDENT/DEDENT placed at the first token of the line it starts (the newline token before
        it may span several blank and comment lines)."""
        return Token(kind, indent_str, nl.end_pos, nl.end_line, nl.end_column, nl.end_line, nl.end_column,
                     nl.end_pos)


class _IndentError(Exception):
    def __init__(self, line: int, col: int, width: int, levels: list[int]):
        super().__init__(line, col)
        self.line, self.col, self.width, self.levels = line, col, width, tuple(levels)


def _grammar_text() -> str:
    return resources.files("glia.grammar").joinpath("glia.lark").read_text(encoding="utf-8")


def cached_lark(text: str, name: str, start) -> Lark:
    """The LALR parser of grammar `text`, its tables built once per grammar and Lark version (0.3 s)
    and kept on disk: beside the compiler (`compiler/__pycache__`, as Numba keeps the runtime's machine
    code beside the runtime: they belong to the installed compiler, not to a user's programs, and
    `glia cache clear` leaves them), else in the user's cache folder when the package folder is not
    writable, else nowhere (a read-only home: built each time)."""
    import lark

    key = hashlib.sha256((text + lark.__version__).encode()).hexdigest()[:16]
    options = dict(parser="lalr", lexer="contextual", postlex=GliaIndenter(), propagate_positions=True,
                   maybe_placeholders=True, start=start)
    for folder in (os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__"), cache_dir()):
        try:
            os.makedirs(folder, exist_ok=True)
            if os.access(folder, os.W_OK):
                return Lark(text, cache=os.path.join(folder, f"{name}-{key}.lark.pickle"), **options)
        except OSError:
            continue
    return Lark(text, **options)


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return cached_lark(_grammar_text(), "parser", "start")


# ---- public entry -----------------------------------------------------------------------------


def parse(source: Source) -> A.Module:
    """Parse a whole file. Raises GliaError (stage 'syntax') on any syntax error."""
    text = source.text
    if not text.endswith("\n"):
        text += "\n"
    parser = _parser()
    try:
        tree = parser.parse(text)
    except _IndentError as e:
        raise error("E003", f"inconsistent indentation: this line is indented by {e.width} columns, which "
                    f"matches no enclosing block (those are indented by {', '.join(map(str, e.levels))})",
                    Span.point(e.line, e.col), STAGE, source)
    except UnexpectedInput as e:
        raise _python_file_note(_syntax_error(e, source, parser), source) from None
    try:
        return AstBuilder(source).transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, GliaError):
            raise e.orig_exc from None
        raise


def _python_file_note(e: GliaError, source: Source) -> GliaError:
    """A .py file that does not parse as Glia is most likely a Python module of @glia.fn functions
    given to `glia run`/`check`: say how those run."""
    if not source.name.endswith(".py"):
        return e
    import dataclasses

    note = Note(f"{source.name} is a Python file: a module of @glia.fn functions runs with `python`, not `glia` "
                "(docs/python.md); glia's commands take Glia source")
    return GliaError(dataclasses.replace(e.diagnostic, notes=e.diagnostic.notes + (note,)))


def parse_expr_or_stmt_complete(text: str) -> bool:
    """For the REPL: does `text` parse (as items, statements or an expression), or is it wrong in a
    way more lines cannot mend? False means it needs more lines. See `entry_syntax.entry_complete`."""
    from .entry_syntax import entry_complete

    return entry_complete(text)


# ---- syntax errors ----------------------------------------------------------------------------

_REGEX_NAMES = {
    "NAME": "a name", "DEC_NUMBER": "a number", "HEX_NUMBER": "a number", "BIN_NUMBER": "a number",
    "OCT_NUMBER": "a number", "FLOAT_NUMBER": "a number", "STRING": "a string",
    "_NEWLINE": "a new line", "_INDENT": "an indented block", "_DEDENT": "the end of the block",
    "$END": "the end of the file", "AUGOP": "an augmented assignment like '+='",
    "_STRUCT": "'struct'", "_EXAMPLES": "'examples'", "_TRAIN": "'train'",
}


def _describe_terminal(name: str, parser: Lark) -> str:
    if name in _REGEX_NAMES:
        return _REGEX_NAMES[name]
    for t in parser.terminals:
        if t.name == name:
            pat = t.pattern
            if pat.type == "str":
                return repr(pat.value)
    return name.lower()


def _describe_token(tok: Token) -> str:
    """The unexpected token, as it reads after 'unexpected '."""
    if tok.type == "$END":
        return "end of the file"
    if tok.type == "_NEWLINE":
        return "end of the line"
    if tok.type == "_INDENT":
        return "indentation"
    if tok.type == "_DEDENT":
        return "end of the block"
    if tok.type == "NAME":
        return f"name '{tok.value}'"
    if tok.type in ("DEC_NUMBER", "HEX_NUMBER", "BIN_NUMBER", "OCT_NUMBER", "FLOAT_NUMBER"):
        return f"number {tok.value}"
    if tok.type == "STRING":
        v = tok.value if len(tok.value) < 30 else tok.value[:27] + "..."
        return f"string {v}"
    return repr(str(tok.value))


def _expected_list(names, parser: Lark) -> str:
    descr = sorted({_describe_terminal(n, parser) for n in names if not n.startswith("__")},
                   key=lambda s: (not s[0].isalpha(), s))
    if not descr:
        return "something else"
    if len(descr) > 10:
        descr = descr[:10] + ["..."]
    if len(descr) == 1:
        return descr[0]
    return "one of " + ", ".join(descr)


def _token_span(tok: Token) -> Span:
    line = tok.line or 1
    col = tok.column or 1
    if tok.type in ("_INDENT", "_DEDENT"):
        # at the start of the line it begins (GliaIndenter), or where the input ends
        return Span.point(line, col)
    end_line = tok.end_line or line
    end_col = tok.end_column or col + max(1, len(str(tok.value)))
    if end_line != line:
        end_line, end_col = line, col + 1
    return Span(line, col, end_line, max(end_col, col + 1))


def _end_of_code(source: Source) -> tuple[int, Span]:
    """Where the code of the file ends, as (offset, span): just after its last character that is not
    white space or part of a comment on a line of its own (lines end at '\\n' only, as in the lexer)."""
    lines = source.text.split("\n")
    while len(lines) > 1 and (not lines[-1].strip() or lines[-1].lstrip().startswith("#")):
        lines.pop()
    last = lines[-1].rstrip()
    return sum(len(line) + 1 for line in lines[:-1]) + len(last), Span.point(len(lines), len(last) + 1)


def _syntax_error(e: UnexpectedInput, source: Source, parser: Lark) -> GliaError:
    if isinstance(e, UnexpectedCharacters):
        span = Span.point(e.line, e.column)
        ch = source.text[e.pos_in_stream] if e.pos_in_stream < len(source.text) else ""
        if ch and ch in "\"'":
            if source.text[max(0, e.pos_in_stream - 2):e.pos_in_stream] == ch * 2 and e.column > 2:
                # `"""abc` lexes as the empty string `""` and an unterminated `"abc`: point at the `"""`
                return error("E004", f"unterminated triple-quoted string literal (no closing {ch * 3})",
                             Span.point(e.line, e.column - 2), STAGE, source)
            return error("E004", "unterminated string literal", span, STAGE, source)
        if ch == "\t" or ch == " ":
            return error("E003", "unexpected indentation", span, STAGE, source)
        import re

        zeros = re.match(r"0[0-9_]*[0-9](?![0-9_.eEjJ])", source.text[e.pos_in_stream:])
        if zeros:  # `08`, `0123`: Python 3 refuses them too (C would read an octal number)
            digits = zeros.group().replace("_", "")
            octal = f", or 0o{digits.lstrip('0')} for an octal number" if set(digits) <= set("01234567") else ""
            return error("E002", f"a decimal integer cannot begin with 0: write {int(digits)}{octal}", Span(e.line, e.column, e.line, e.column + len(zeros.group())),
                         STAGE, source)
        shown = repr(ch) if ch.isprintable() else f"U+{ord(ch):04X}" if ch else "end of input"
        allowed = _in_brackets(e.allowed, source, e.pos_in_stream)
        return error("E002", f"unexpected character {shown}; expected {_expected_list(allowed, parser)}",
                     span, STAGE, source)
    if isinstance(e, UnexpectedToken):
        tok = e.token
        end, end_span = _end_of_code(source)
        # the dedents that close the blocks still open where the input ends borrow the last token's
        # position (lark.indenter), so they span it, while the dedents GliaIndenter makes are empty
        final_dedent = tok.type == "_DEDENT" and tok.end_pos != tok.start_pos
        at_end = tok.type == "$END" or final_dedent or (tok.type in ("_NEWLINE", "_DEDENT") and tok.start_pos
                                                        is not None and tok.start_pos >= end)
        span = end_span if at_end else _token_span(tok)
        if tok.type == "_INDENT":
            return error("E003", "unexpected indentation", span, STAGE, source)
        dangling = _dangling_continuation(source, end if at_end or tok.start_pos is None else tok.start_pos)
        if dangling is not None:
            return dangling
        block = _missing_block(source, span.line)
        if block is not None:
            return block
        construct = _foreign_construct(source, span.line) or (None if at_end else _foreign_word_before(source, tok))
        if construct is not None:
            return error("E005", construct[0], construct[1], STAGE, source)
        prefixed = _string_prefix(source, tok)
        if prefixed is not None:
            return error("E005", prefixed[0], prefixed[1], STAGE, source)
        glued = _glued_number(source, tok)
        if glued is not None:
            return error("E002", glued[0], glued[1], STAGE, source)
        expected = _expected_list(e.expected if at_end else _in_brackets(e.expected, source, tok.start_pos), parser)
        hint = _hint(tok, e.expected) or _unclosed_hint(source.text, span.line + 1 if at_end else span.line)
        found = "end of the file" if at_end else _describe_token(tok)
        return error("E001", f"unexpected {found}; expected {expected}{hint}", span, STAGE, source)
    if isinstance(e, UnexpectedEOF):
        end, span = _end_of_code(source)
        dangling = _dangling_continuation(source, end)
        if dangling is not None:
            return dangling
        return error("E001", f"unexpected end of the file; expected {_expected_list(e.expected, parser)}"
                     f"{_unclosed_hint(source.text, span.line + 1)}", span, STAGE, source)
    raise e


def _missing_block(source: Source, line: int) -> GliaError | None:
    """E003 when the code line before `line` (where parsing failed) ends with ':' and `line` is not
    indented deeper: the block after the ':' is missing (the parser alone says it expected a new line)."""
    import re

    lines = source.text.splitlines()
    if not 1 <= line <= len(lines):
        return None
    prev = line - 1
    while prev >= 1 and (not lines[prev - 1].strip() or lines[prev - 1].lstrip().startswith("#")):
        prev -= 1
    if prev < 1:
        return None
    head = lines[prev - 1]
    code = re.sub(r"\s*#[^'\"]*$", "", head).rstrip()  # (a comment after the ':', not inside a string)
    if not code.endswith(":") or code.lstrip().startswith(("#", "@")):
        return None
    indent = lambda text: len(text) - len(text.lstrip(" \t"))  # noqa: E731
    if indent(lines[line - 1]) > indent(head):
        return None
    word = code.split()[0].rstrip(":") if code.split() else ""
    what = f"'{word}'" if word in ("def", "if", "elif", "else", "while", "for", "struct", "examples",
                                     "train") else "the ':'"
    col = indent(lines[line - 1]) + 1
    return error("E003", f"expected an indented block after {what} on line {prev}: the lines of a block are "
                 f"indented deeper than the line that opens it", Span(line, col, line, col), STAGE, source)


def _dangling_continuation(source: Source, offset: int) -> GliaError | None:
    """The error for a line continuation `\\` with nothing after it, when the code just before `offset`
    (where parsing failed on the end of a line, block or file) ends with one, else None. The lexer
    drops a `\\` and the newline after it, so the parser alone would only see the line end early."""
    before = source.text[:offset].rstrip()
    if not before.endswith("\\"):
        return None
    line = before.count("\n") + 1
    line_text = before[before.rfind("\n") + 1:]
    if "#" in line_text or "'" in line_text or '"' in line_text:
        return None  # the backslash may be in a comment or a string: leave the general message
    col = len(line_text)
    after = ("the file ends after it" if len(before) >= _end_of_code(source)[0]
             else "the line after it has no code, so the statement ends there")
    return error("E001", f"a line continuation '\\' with nothing after it: {after} (remove the '\\', "
                 "or continue the expression on the next line)", Span(line, col, line, col + 1), STAGE, source)


NOT_GLIA = ("class", "import", "from", "try", "except", "finally", "with", "raise", "global", "nonlocal",
            "yield", "async", "await")  # Python keywords that Glia lacks (names in Glia, as `from = 3`)


def not_glia(word: str) -> str:
    """The message for a Python keyword of NOT_GLIA written as one."""
    return f"'{word}' is Python, not Glia: see docs/language.md for what Glia has"


def _foreign_word_before(source: Source, tok: Token):
    """A Python-only keyword just before the unexpected token, as `yield` in `x = (yield 3)` or `await` in
    `y = await f()` (the keyword lexes as a name, so the token after it is the unexpected one)."""
    import re

    if tok.start_pos is None:
        return None
    m = re.search(r"(?<![\w.])([A-Za-z_]\w*)[ \t]*$", source.text[:tok.start_pos])
    if m is None or m.group(1) not in NOT_GLIA:
        return None
    line = source.text.count("\n", 0, m.start(1)) + 1
    col = m.start(1) - source.text.rfind("\n", 0, m.start(1))
    return not_glia(m.group(1)), Span(line, col, line, col + len(m.group(1)))


def _foreign_construct(source: Source, line: int):
    """A line that starts with `def` inside a block, or a Python keyword Glia does not have."""
    import re

    text = source.line_text(line)
    deco = re.match(r"^(\s*)@\s*[A-Za-z_]", text)
    if deco:  # (`@` is matrix multiplication in Glia, never a decorator)
        col = len(deco.group(1)) + 1
        return ("decorators (`@name` before a def) are Python, not Glia: call the function you would "
                "decorate with it instead", Span(line, col, line, col + 1))
    m = re.match(r"^(\s*)(\w+)\b", text)
    if not m:
        return None
    indent, word = m.group(1), m.group(2)
    col = len(indent) + 1
    if word == "else" and _loop_before(source, line, len(indent)):
        return ("Glia has no `else` after a `for` or `while` loop: set a flag where the loop breaks and test "
                "it after the loop", Span(line, col, line, col + 4))
    if indent and (word == "def" or word in ("struct", "examples", "train") and re.match(r"\s*\w+\s+[A-Za-z_]", text)):
        return (f"'{word}' must be at the top level of the file: Glia has no nested definitions "
                "(use a lambda, or define the function at the top level)", Span(line, col, line, col + len(word)))
    if word in NOT_GLIA and not re.match(r"^\s*\w+\s*(=|\+=|-=|\.|\[|\()", text):
        return not_glia(word), Span(line, col, line, col + len(word))
    return None


def _loop_before(source: Source, line: int, indent: int) -> bool:
    """Whether the statement at `indent` columns that the code lines before `line` end is a loop."""
    for n in range(line - 1, 0, -1):
        text = source.line_text(n)
        code = text.strip()
        if not code or code.startswith("#"):
            continue
        width = len(text) - len(text.lstrip(" \t"))
        if width < indent:
            return False
        if width == indent:
            return code.startswith(("for ", "while ", "for(", "while("))
    return False


def _string_prefix(source: Source, tok: Token):
    """A string written right after a Python string prefix (`f"{x}"`, `rb'..'`): the message and the span
    of the prefix, or None. The prefix lexes as a name, so the string is an unexpected token."""
    import re

    if tok.type != "STRING" or tok.start_pos is None:
        return None
    m = re.search(r"(?<![\w.])([A-Za-z]{1,2})$", source.text[:tok.start_pos])
    if m is None or m.group(1).lower() not in ("f", "rf", "fr", "r", "b", "rb", "br", "u"):
        return None
    prefix = m.group(1)
    span = Span(tok.line, tok.column - len(prefix), tok.line, tok.column)
    if "f" in prefix.lower():
        return ("Glia has no f-strings: join strings with `+` and `str(...)`, as in `\"x = \" + str(x)`", span)
    return (f"Glia has no string prefix `{prefix}`: write the string without it (escapes such as `\\n` are "
            "as in Python)", span)


def _glued_number(source: Source, tok: Token):
    """A name written right after a number (`1e`, `2j`, `3x`): the message and the span of the whole, or
    None. The number lexes on its own, so the name after it is the unexpected token."""
    import re

    if tok.type != "NAME" or tok.start_pos is None:
        return None
    m = re.search(r"(?<![\w.])(\d[\d_]*\.?\d*|\.\d+)$", source.text[:tok.start_pos])
    if m is None:
        return None
    written = m.group(1) + tok.value
    span = Span(tok.line, tok.column - len(m.group(1)), tok.line, tok.column + len(tok.value))
    if re.fullmatch(r"[\d_.]+[jJ]", written):
        return f"'{written}' is a complex number, which Glia does not have", span
    what = " (an exponent needs digits: 1e3, 2.5e-4)" if tok.value[0] in "eE" else ""
    return f"invalid number literal '{written}'{what}", span


_CLOSERS = {"(": ")", "[": "]", "{": "}"}


def _in_brackets(expected, source: Source, offset) -> set:
    """`expected` without the line ends and blocks when `offset` is inside brackets, where the lexer
    drops them (the parser's tables list them as possible there all the same)."""
    if offset is None or not _open_brackets(source.text, offset=offset):
        return set(expected)
    return {n for n in expected if n not in ("_NEWLINE", "_INDENT", "_DEDENT")} or set(expected)


def _unclosed_hint(text: str, line: int) -> str:
    """' (the '[' at line 2, column 9 is never closed)' when a bracket opened on a line before `line`
    is still open where that line starts (strings and comments skipped), else ''."""
    stack = _open_brackets(text, line=line)
    if not stack:
        return ""
    c, bl, bc = stack[-1]
    return f" (the '{c}' at line {bl}, column {bc} is never closed)"


def _open_brackets(text: str, line: int | None = None, offset: int | None = None) -> list[tuple[str, int, int]]:
    """The brackets still open (each with its line and column) where `line` starts, or at `offset`,
    strings and comments skipped."""
    stack: list[tuple[str, int, int]] = []
    ln, col, i, n = 1, 1, 0, len(text) if offset is None else min(offset, len(text))
    while i < n and (line is None or ln < line):
        c = text[i]
        if c == "#":
            while i < n and text[i] != "\n":
                i += 1
            continue
        if c in "\"'":
            q = text[i:i + 3] if text[i:i + 3] in ('"""', "'''") else c
            j = i + len(q)
            while j < n and not text.startswith(q, j) and (len(q) == 3 or text[j] != "\n"):
                j += 2 if text[j] == "\\" else 1
            j = min(j + len(q), n)
            ln += text.count("\n", i, j)
            col = j - text.rfind("\n", 0, j)
            i = j
            continue
        if c in _CLOSERS:
            stack.append((c, ln, col))
        elif c in ")]}" and stack and _CLOSERS[stack[-1][0]] == c:
            stack.pop()
        if c == "\n":
            ln, col = ln + 1, 1
        else:
            col += 1
        i += 1
    return stack


def _hint(tok: Token, expected) -> str:
    if tok.type == "NAME" and tok.value in NOT_GLIA:
        return f" ('{tok.value}' is not part of Glia; see docs/language.md)"
    if tok.type in ("ELSE", "ELIF") and tok.type not in expected:
        return f" (an '{tok.value}' follows the block of an 'if' or 'elif' at its own indentation)"
    if tok.value in GliaIndenter.RESERVED and "NAME" in expected:
        if "DEF" in expected:  # where a top-level definition may begin
            return " (statements go inside a function; the top level of a file holds definitions and globals)"
        return f" ('{tok.value}' is a keyword, so it cannot name a variable, function, parameter or field)"
    if tok.type == "DEF":
        return " (functions are defined at the top level of a file, not inside other functions)"
    if "_INDENT" in expected and tok.type != "_INDENT":
        return " (the block after ':' must be indented)"
    if set(expected) == {"EQUAL"} and tok.type in ("_NEWLINE", "_DEDENT", "$END"):
        return " (a declaration needs a value, as in `x: int = 0`)"
    if tok.type in ("STAR", "POW") and "NAME" in expected:
        return f" (unpacking with '{tok.value}' is Python, not Glia)"
    return ""


# ---- parse tree -> AST ------------------------------------------------------------------------


def _span(meta) -> Span:
    if getattr(meta, "empty", True):
        return Span(0, 0, 0, 0)
    return Span(meta.line, meta.column, meta.end_line, meta.end_column)


def _tspan(tok: Token) -> Span:
    return Span(tok.line, tok.column, tok.end_line, tok.end_column)


_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", "'": "'", '"': '"', "r": "\r", "0": "\0", "a": "\a",
            "b": "\b", "f": "\f", "v": "\v", "\n": ""}


HEX_DIGITS = "0123456789abcdefABCDEF"


def surrogate_message(written: str) -> str:
    """Why a string may not hold a surrogate code point: it could be neither printed nor written as UTF-8."""
    return (f"{written} is a surrogate (D800 to DFFF), half of a UTF-16 pair, not a character; "
            "write the character's code point, as in \\U0001F600")


def first_surrogate(text: str) -> str | None:
    """The first surrogate code point of `text`, as an escape (`\\ud800`), or None."""
    for c in text:
        if 0xD800 <= ord(c) <= 0xDFFF:
            return f"\\u{ord(c):04x}"
    return None


def decode_string(tok: Token, source: Source) -> str:
    raw = tok.value
    q = 3 if raw[:3] in ('"""', "'''") else 1
    body = raw[q:-q]
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < len(body) else ""
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        width = {"x": 2, "u": 4, "U": 8}.get(nxt)
        digits = body[i + 2:i + 2 + width] if width else ""
        code = int(digits, 16) if width and len(digits) == width and all(d in HEX_DIGITS for d in digits) else None
        if code is not None and code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
            out.append(chr(code))
            i += 2 + width
            continue
        # locate the bad escape in the source
        before = raw[:q + i]
        line = tok.line + before.count("\n")
        col = (len(before) - before.rfind("\n")) if "\n" in before else tok.column + len(before)
        if code is not None and 0xD800 <= code <= 0xDFFF:
            what = surrogate_message(f"'\\{nxt}{digits}'")
        else:
            what = (f"invalid escape sequence '\\{nxt}' in string; expected one of "
                    "\\n \\t \\\\ \\' \\\" \\r \\0 \\xNN \\uNNNN \\UNNNNNNNN")
        raise error("E004", what, Span(line, col, line, col + 2), STAGE, source)
    return "".join(out)


_BINOP_TOKENS = {"BAR": "|", "CARET": "^", "AMP": "&", "LSHIFT": "<<", "RSHIFT": ">>", "PLUS": "+",
                 "MINUS": "-", "STAR": "*", "SLASH": "/", "DSLASH": "//", "PERCENT": "%", "AT": "@",
                 "POW": "**"}


_PRECEDENCE = {"BAR": 1, "CARET": 2, "AMP": 3, "LSHIFT": 4, "RSHIFT": 4, "PLUS": 5, "MINUS": 5, "STAR": 6,
               "SLASH": 6, "DSLASH": 6, "PERCENT": 6, "AT": 6}


# Deeper parse trees are refused (E005) rather than risk Python's recursion limit in the recursive
# passes over them. About 2 Python frames per level here; `checker.MAX_NESTING` bounds the AST.
MAX_TREE_DEPTH = 300


def _too_deep(tree: Tree) -> Tree | None:
    """The first subtree of `tree` deeper than MAX_TREE_DEPTH (an iterative walk), or None."""
    stack = [(tree, 1)]
    while stack:
        t, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            return t
        stack.extend((c, depth + 1) for c in t.children if isinstance(c, Tree))
    return None


def nested_too_deeply(span: Span, limit: int, source: Source | None, stage: str = STAGE) -> GliaError:
    return error("E005", f"this is nested too deeply (more than {limit} levels of brackets, calls, operators, "
                 "blocks or elif branches; a chain of one operator, `a + b + c`, is one level); split it up "
                 "with intermediate variables or helper functions", span, stage, source)


def chain_too_long(span: Span, op: str, limit: int, source: Source | None, stage: str = STAGE) -> GliaError:
    return error("E005", f"this chain of `{op}` has more than {limit} terms; split it up with intermediate "
                 "variables", span, stage, source)


class _DepthGuard(Transformer):
    """A Transformer (recursive) that first refuses trees deeper than MAX_TREE_DEPTH."""

    source: Source

    def transform(self, tree: Tree):
        deep = _too_deep(tree)
        if deep is not None:
            while getattr(deep.meta, "empty", True) and deep.children and isinstance(deep.children[0], Tree):
                deep = deep.children[0]
            # (in the language's levels: a call, an index, a block is two levels of the parse tree, so
            # this limit and the checker's, MAX_NESTING = 150, meet at about 147 of them)
            raise nested_too_deeply(_span(deep.meta), MAX_TREE_DEPTH // 2, self.source)
        return super().transform(tree)


@v_args(meta=True)
class AstBuilder(_DepthGuard):
    def __init__(self, source: Source):
        super().__init__(visit_tokens=False)
        self.source = source

    # -- top level
    def start(self, meta, items):
        return A.Module(tuple(items), _span(meta))

    def struct_def(self, meta, c):
        return A.StructDef(str(c[0]), tuple(c[1:]), _span(meta))

    def field(self, meta, c):
        return A.Field(str(c[0]), c[1], _span(meta))

    def func_def(self, meta, c):
        name, tparams, params, ret, body = c
        return A.FuncDef(str(name), tuple(tparams or ()), tuple(params or ()), ret, body, _span(meta),
                         _tspan(name))

    def type_params(self, meta, c):
        return [str(t) for t in c]

    def params(self, meta, c):
        return [p for p in c if p is not None]

    def param(self, meta, c):
        return A.Param(str(c[0]), c[1], _span(meta))

    def global_def(self, meta, c):
        name, ann, value = c
        return A.GlobalDef(str(name), ann, value, _span(meta))

    def examples_def(self, meta, c):
        return A.ExamplesDef(str(c[0]), tuple(c[1:]), _span(meta))

    def example(self, meta, c):
        args = [x for x in c if not isinstance(x, Token)]
        return A.Example(tuple(args[:-1]), args[-1], _span(meta))

    def train_def(self, meta, c):
        return A.TrainDef(str(c[0]), decode_string(c[1], self.source), tuple(c[2:]), _span(meta), _token_span(c[1]))

    def setting(self, meta, c):
        return A.Setting(str(c[0]), c[1], _span(meta))

    # -- types
    def type_name(self, meta, c):
        return A.TName(str(c[0]), _span(meta))

    def type_app(self, meta, c):
        return A.TApp(str(c[0]), tuple(c[1:]), _span(meta))

    def type_dim(self, meta, c):
        return A.TDim(int(str(c[0]).replace("_", "")), _span(meta))

    def type_tuple(self, meta, c):
        return A.TTuple(tuple(x for x in c if x is not None), _span(meta))

    def type_fn(self, meta, c):
        parts = [x for x in c if x is not None and not isinstance(x, Token)]
        return A.TFn(tuple(parts[:-1]), parts[-1], _span(meta))

    # -- statements
    def suite(self, meta, c):
        out = []
        for s in c:
            if isinstance(s, list):
                out.extend(s)
            elif s is not None:
                out.append(s)
        return tuple(out)

    def expr_stmt(self, meta, c):
        return A.ExprStmt(c[0], _span(meta))

    def assign(self, meta, c):
        *targets, value = c
        for t in targets:
            self._check_target(t)
        return A.Assign(tuple(targets), value, _span(meta))

    def ann_assign(self, meta, c):
        target, ann, value = c
        if not isinstance(target, A.Name):
            raise error("E209", "only a plain name can be annotated (`x: int = ...`)", target.span, STAGE,
                        self.source)
        return A.AnnAssign(target, ann, value, _span(meta))

    def aug_assign(self, meta, c):
        target, op, value = c
        if isinstance(target, A.TupleLit):
            raise error("E209", "augmented assignment needs a single target", target.span, STAGE, self.source)
        self._check_target(target)
        return A.AugAssign(target, str(op)[:-1], value, _span(meta))

    def _check_target(self, t):
        if isinstance(t, A.TupleLit) or isinstance(t, A.ListLit):
            for e in t.elts:
                self._check_target(e)
            return
        if not isinstance(t, (A.Name, A.Subscript, A.Attribute)):
            raise error("E209", "cannot assign to this expression; expected a name, an index `xs[i]`, "
                        "a field `p.x` or a tuple of those", t.span, STAGE, self.source)

    def pass_stmt(self, meta, c):
        return A.Pass(_span(meta))

    def break_stmt(self, meta, c):
        return A.Break(_span(meta))

    def continue_stmt(self, meta, c):
        return A.Continue(_span(meta))

    def return_stmt(self, meta, c):
        return A.Return(c[0], _span(meta))

    def assert_stmt(self, meta, c):
        return A.Assert(c[0], c[1], _span(meta))

    def del_stmt(self, meta, c):
        if not isinstance(c[0], A.Subscript):
            raise error("E209", "`del` takes an index or key: `del xs[i]` or `del d[k]`", c[0].span, STAGE,
                        self.source)
        return A.Del(c[0], _span(meta))

    def if_stmt(self, meta, c):
        cond, body, *rest = c
        orelse = rest.pop() if rest and (rest[-1] is None or isinstance(rest[-1], tuple)) else None
        orelse = orelse or ()
        for cond2, body2, span2 in reversed(rest):
            orelse = (A.If(cond2, body2, orelse, span2),)
        return A.If(cond, body, orelse, _span(meta))

    def elif_clause(self, meta, c):
        return (c[0], c[1], _span(meta))

    def else_clause(self, meta, c):
        return c[0]

    def while_stmt(self, meta, c):
        return A.While(c[0], c[1], _span(meta))

    def for_stmt(self, meta, c):
        self._check_target(c[0])
        return A.For(c[0], c[1], c[2], _span(meta))

    # -- expressions
    def tuple(self, meta, c):
        return A.TupleLit(tuple(x for x in c if x is not None), _span(meta))

    def empty_tuple(self, meta, c):
        return A.TupleLit((), _span(meta))

    def ifexp(self, meta, c):
        then, cond, orelse = c
        return A.IfExp(cond, then, orelse, _span(meta))

    def lambdef(self, meta, c):
        *params, body = c
        return A.Lambda(tuple(str(p) for p in params if p is not None), body, _span(meta))

    def or_test(self, meta, c):
        return A.BoolOp("or", tuple(c), _span(meta))

    def and_test(self, meta, c):
        return A.BoolOp("and", tuple(c), _span(meta))

    def not_op(self, meta, c):
        return A.Not(c[0], _span(meta))

    def comparison(self, meta, c):
        left = c[0]
        ops, spans, rights = [], [], []
        for i in range(1, len(c), 2):
            op, span = c[i]
            ops.append(op)
            spans.append(span)
            rights.append(c[i + 1])
        return A.Compare(left, tuple(ops), tuple(rights), tuple(spans), _span(meta))

    def comp_op(self, meta, c):
        return (" ".join(str(t) for t in c), _span(meta))

    def expr(self, meta, c):
        """operand (op operand)*: apply precedence (all left-associative) by operator-precedence parsing."""
        operands = [c[0]]
        ops: list[Token] = []

        def reduce():
            tok = ops.pop()
            right = operands.pop()
            left = operands.pop()
            operands.append(A.BinOp(_BINOP_TOKENS[tok.type], left, right, left.span.to(right.span), _tspan(tok)))

        for i in range(1, len(c), 2):
            tok = c[i]
            prec = _PRECEDENCE[tok.type]
            while ops and _PRECEDENCE[ops[-1].type] >= prec:
                reduce()
            ops.append(tok)
            operands.append(c[i + 1])
        while ops:
            reduce()
        return operands[0]

    def power(self, meta, c):
        left, tok, right = c
        return A.BinOp("**", left, right, left.span.to(right.span), _tspan(tok))

    def unary(self, meta, c):
        tok, operand = c
        if str(tok) == "-" and isinstance(operand, (A.IntLit, A.FloatLit)) and operand.value >= 0:
            # fold negative literals so that -9223372036854775808 is representable
            return type(operand)(-operand.value, _span(meta))
        return A.UnaryOp(str(tok), operand, _span(meta))

    def call(self, meta, c):
        func, args = c
        if isinstance(args, A.Comp):
            return A.Call(func, (args,), (), _span(meta))
        args = args or []
        pos = tuple(a for a in args if not isinstance(a, A.Keyword))
        kws = tuple(a for a in args if isinstance(a, A.Keyword))
        seen_kw = False
        for a in args:
            if isinstance(a, A.Keyword):
                seen_kw = True
            elif seen_kw:
                raise error("E001", "a positional argument cannot follow a keyword argument", a.span, STAGE,
                            self.source)
        return A.Call(func, pos, kws, _span(meta))

    def arguments(self, meta, c):
        return [a for a in c if a is not None]

    def genexp_arg(self, meta, c):
        return A.Comp("list", c[0], None, tuple(c[1]), _span(meta))

    def kwarg(self, meta, c):
        return A.Keyword(str(c[0]), c[1], _span(meta))

    def subscript(self, meta, c):
        value, subs = c
        index = subs[0] if len(subs) == 1 and not subs.trailing_comma else A.TupleLit(tuple(subs), _span(meta))
        return A.Subscript(value, index, _span(meta))

    def subscripts(self, meta, c):
        items = [x for x in c if x is not None]
        out = _SubList(items)
        out.trailing_comma = len(c) > len(items)
        return out

    def slice(self, meta, c):
        lo, hi, step = (c + [None, None, None])[:3]
        return A.Slice(lo, hi, step, _span(meta))

    def attribute(self, meta, c):
        value, name = c
        return A.Attribute(value, str(name), _span(meta), _tspan(name))

    def name(self, meta, c):
        return A.Name(str(c[0]), _span(meta))

    def int_lit(self, meta, c):
        text = str(c[0]).replace("_", "").lower()
        base = {"0x": 16, "0b": 2, "0o": 8}.get(text[:2], 10)
        return A.IntLit(int(text[2:] if base != 10 else text, base), _span(meta))

    def float_lit(self, meta, c):
        return A.FloatLit(float(str(c[0]).replace("_", "")), _span(meta))

    def str_lit(self, meta, c):
        return A.StrLit("".join(decode_string(t, self.source) for t in c), _span(meta))

    def true_lit(self, meta, c):
        return A.BoolLit(True, _span(meta))

    def false_lit(self, meta, c):
        return A.BoolLit(False, _span(meta))

    def none_lit(self, meta, c):
        return A.NoneLit(_span(meta))

    def paren(self, meta, c):
        return c[0]

    def list_lit(self, meta, c):
        return A.ListLit(tuple(x for x in c if x is not None), _span(meta))

    def listcomp(self, meta, c):
        return A.Comp("list", c[0], None, tuple(c[1]), _span(meta))

    def setcomp(self, meta, c):
        return A.Comp("set", c[0], None, tuple(c[1]), _span(meta))

    def dictcomp(self, meta, c):
        return A.Comp("dict", c[1], c[0], tuple(c[2]), _span(meta))

    def dict_lit(self, meta, c):
        items = [x for x in c if x is not None]
        return A.DictLit(tuple(k for k, _ in items), tuple(v for _, v in items), _span(meta))

    def dict_item(self, meta, c):
        return (c[0], c[1])

    def set_lit(self, meta, c):
        return A.SetLit(tuple(x for x in c if x is not None), _span(meta))

    def hole(self, meta, c):
        opts = []
        for a in c[1] if len(c) > 1 and c[1] else []:
            if not isinstance(a, A.Keyword):
                raise error("E001", "hole options are keywords: ??(size=8, depth=3, using=[...])", a.span, STAGE,
                            self.source)
            opts.append(a)
        return A.Hole(tuple(opts), _span(meta))

    def comp_for(self, meta, c):
        target, it, rest = (c + [None])[:3]
        self._check_target(target)
        return [A.CompFor(target, it, _span(meta))] + (rest or [])

    def comp_if(self, meta, c):
        cond, rest = (c + [None])[:2]
        return [A.CompIf(cond, _span(meta))] + (rest or [])


class _SubList(list):
    trailing_comma = False
