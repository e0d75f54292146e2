"""Parsing of interactive entries (the REPL): definitions, or statements run in the session.

A file is a sequence of top-level items (`syntax.parse`). An entry typed at the REPL may also be a
sequence of statements or an expression (`xs.append(3)`, `for i in range(3): ...`, `1 + 2`). This
module parses the same grammar (`grammar/glia.lark`) with one more start rule for that case, and
decides whether an entry is complete or needs more lines. Entries that are both (`x = 1` is a
global definition and an assignment) parse as items; the REPL gives them statement meaning.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from lark import Lark, v_args
from lark.exceptions import UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from . import ast as A
from .diagnostics import GliaError, Source
from .syntax import AstBuilder, _grammar_text, _IndentError, _syntax_error, cached_lark, parse

_STMTS_RULE = "\nentry_stmts: (_NEWLINE | _stmt)*\n"


@lru_cache(maxsize=1)
def _entry_parser() -> Lark:
    return cached_lark(_grammar_text() + _STMTS_RULE, "entry-parser", ["start", "entry_stmts"])


@dataclass(frozen=True, slots=True)
class Entry:
    """A parsed entry: top-level items, or statements to run in the session (never both)."""

    items: tuple[A.Item, ...]
    stmts: tuple[A.Stmt, ...]


@v_args(meta=True)
class _EntryBuilder(AstBuilder):
    def entry_stmts(self, meta, c):
        out = []
        for s in c:
            if isinstance(s, list):
                out.extend(s)
            elif s is not None:
                out.append(s)
        return tuple(out)


def _parse(text: str, start: str):
    return _entry_parser().parse(text if text.endswith("\n") else text + "\n", start=start)


def parse_entry(source: Source) -> Entry:
    """Parse an entry as items (exactly as a file is parsed) if it is items, else as statements. When
    it is neither, the error reported is the one of the reading that got further into the text."""
    try:
        return Entry(parse(source).items, ())
    except GliaError as e:
        items_error = e
    try:
        tree = _parse(source.text, "entry_stmts")
    except _IndentError:
        raise items_error from None  # the file parser words indentation errors
    except UnexpectedInput as e:
        stmts_error = _syntax_error(e, source, _entry_parser())
        first, second = items_error.diagnostic.span, stmts_error.diagnostic.span
        raise (stmts_error if (second.line, second.col) > (first.line, first.col) else items_error) from None
    try:
        return Entry((), _EntryBuilder(source).transform(tree))
    except VisitError as e:
        if isinstance(e.orig_exc, GliaError):
            raise e.orig_exc from None
        raise


_CONTINUES = re.compile(r"(elif|else)\b|[)\]}]")


def starts_piece(line: str) -> bool:
    """Does `line` of a script or paste start a new top-level piece: at column 0, not a comment, not
    the `elif`/`else` of the block before nor the closing bracket of its last line (a variable
    named `else_count` starts one)?"""
    return line[:1] not in ("", " ", "\t", "#") and not _CONTINUES.match(line)


def entry_complete(text: str) -> bool:
    """Does `text` parse as an entry, or is it wrong in a way more lines cannot mend? False means
    the entry is unfinished (an open bracket, a block header, a trailing backslash...)."""
    if not text.strip():
        return True
    unfinished = False
    for start in ("start", "entry_stmts"):
        try:  # (`text` is lines joined by '\n': its last line ends too, so that a line continuation
            # followed by an empty line ends the entry, as in Python, and is not continued by the next)
            _parse(text + "\n", start)
            return True
        except UnexpectedEOF:
            unfinished = True
        except UnexpectedToken as e:
            if e.token.type in ("$END", "_DEDENT"):
                unfinished = True
        except (UnexpectedInput, _IndentError):
            pass
    if unfinished:
        return False
    # A string left open (an unterminated triple-quoted string) is unfinished too.
    return not _open_triple_quote(text)


def _open_triple_quote(text: str) -> bool:
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith('"""', i) or text.startswith("'''", i):
            q = text[i:i + 3]
            j = text.find(q, i + 3)
            if j < 0:
                return True
            i = j + 3
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] not in (c, "\n"):
                j += 2 if text[j] == "\\" else 1
            i = j + 1
        else:
            i += 1
    return False
