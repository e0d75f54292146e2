"""Diagnostics: source spans, error codes and caret excerpts.

Every error a user can cause is a `GliaError` carrying one `Diagnostic`: a code, a message, the
stage that found it and a span. Rendering is `file:line:col: error[CODE]: message`, the source line
and a caret under the span. Internal errors (bugs in Glia) are never reported this way.
"""
from __future__ import annotations

import re

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Span:
    """A region of source text; lines and columns are 1-based, end is exclusive."""

    line: int
    col: int
    end_line: int
    end_col: int

    @staticmethod
    def point(line: int, col: int) -> "Span":
        return Span(line, col, line, col + 1)

    def to(self, other: "Span") -> "Span":
        return Span(self.line, self.col, other.end_line, other.end_col)


NO_SPAN = Span(0, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class Source:
    """A named source text (a file, a REPL entry, a string given to glia.compile)."""

    name: str
    text: str

    def line_text(self, line: int) -> str:
        # lines end at '\n' only, as in the lexer (str.splitlines would also break at '\f', '\x1c', ...)
        lines = self.text.split("\n")
        return lines[line - 1].removesuffix("\r") if 0 < line <= len(lines) else ""


@dataclass(frozen=True, slots=True)
class Note:
    message: str
    span: Span | None = None
    source: Source | None = None


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    span: Span
    stage: str
    source: Source | None = None
    notes: tuple[Note, ...] = field(default_factory=tuple)

    def render(self) -> str:
        src = self.source
        name = src.name if src else "glia"
        where = f"{name}:{self.span.line}:{self.span.col}" if self.span.line > 0 else name  # no position: a file, data
        head = f"{where}: error[{self.code}]: {self.message}"
        parts = [head]
        if src is not None and self.span.line > 0:
            parts.append(_excerpt(src, self.span))
        for note in self.notes:
            nsrc = note.source or src
            if note.span is not None and nsrc is not None and note.span.line > 0:
                parts.append(f"  note: {nsrc.name}:{note.span.line}:{note.span.col}: {note.message}")
            else:
                parts.append(f"  note: {note.message}")
        return "\n".join(parts)


def _excerpt(src: Source, span: Span) -> str:
    text = src.line_text(span.line).replace("\t", " ")
    gutter = f"{span.line:>4} | "
    if span.end_line == span.line:
        width = max(1, span.end_col - span.col)
    else:
        width = max(1, len(text) - span.col + 1)
    width = min(width, max(1, len(text) - span.col + 2))
    caret = " " * (len(gutter) - 2) + "| " + " " * (span.col - 1) + "^" * width
    return f"{gutter}{text}\n{caret}"


class GliaError(Exception):
    """A mistake in the user's program, found at compile time or at run time."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic

    def render(self) -> str:
        return self.diagnostic.render()

    def __str__(self) -> str:
        return self.render()


def compiled_notes(site: tuple, entry_span: tuple, callers=None, source_of=lambda name: None) -> tuple[Note, ...]:
    """The notes of a runtime error compiled code raised at `site` ((line, col, end_line, end_col,
    source name)) under a root defined at `entry_span` ((source name, line, col, end_line,
    end_col)). The interpreter adds a note for each call on the way to the error; compiled code
    does not record its calls (a store at every call: 8-14% of a call-bound program's time), so an
    error raised outside the root says where the calls can be seen. `callers`: for an error inside
    a prelude function, (its name, the program's calls that lead into it) (compiler/callsites.py):
    the one there is, as the interpreter's note, or each it may have been."""
    notes: tuple[Note, ...] = ()
    if callers:
        fn, calls = callers
        shown = calls[:4]

        def note(message, c):
            return Note(message, Span(*c[:4]), source_of(c[4]))
        if len(calls) == 1:
            notes = (note(f"in {fn}(), called from here", calls[0]),)
            site = tuple(calls[0])
        else:
            more = f" ({len(calls) - len(shown)} not shown)" if len(calls) > len(shown) else ""
            other = "its other call" if len(calls) == 2 else f"one of its {len(calls) - 1} other calls{more}"
            notes = (note(f"in {fn}(), called from here or from {other} (compiled code does not record which)",
                          shown[0]),) + tuple(note("or from here", c) for c in shown[1:])
    line, col, _, _, name = site
    if not entry_span or len(notes) <= 1 and (name == entry_span[0] and tuple(entry_span[1:3]) <= (line, col) <
                                                 tuple(entry_span[3:5])):
        return notes
    return notes + (Note("compiled code does not record the calls that led here; "
                         "the interpreter (`--backend interp`) shows them"),)


def a_or_an(phrase) -> str:
    """`phrase` with its indefinite article, for messages: "an int", "a float", "an f32", "an Edge"."""
    text = str(phrase)
    vowel = re.match(r"[aeiouAEIOU]", text) and not re.match(r"(?i)(uni|use|usi|one)", text)
    letter = re.match(r"[fhlmnrsxFHLMNRSX](\d|$|\[)", text)  # read as a letter: an f32, an x
    return ("an " if vowel or letter else "a ") + text


def counted(n: int, noun: str) -> str:
    """`n` and `noun` agreeing, for messages: "1 candidate", "0 candidates", "1,069 candidates"."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def error(code: str, message: str, span: Span, stage: str, source: Source | None = None,
          notes: tuple[Note, ...] = ()) -> GliaError:
    return GliaError(Diagnostic(code, message, span, stage, source, notes))


class InternalError(Exception):
    """A bug in Glia itself, never the user's fault."""


def out_of_memory(source: Source | None) -> "GliaError":
    """E510, for a MemoryError while a program runs (interpreted or compiled): where it happened is
    not known, so the error names the program's file."""
    from glia.runtime.errors import MEMORY, OUT_OF_MEMORY

    return GliaError(Diagnostic(MEMORY, OUT_OF_MEMORY, Span(0, 0, 0, 0), "runtime", source))


REPORT_HINT = ("this is a bug in Glia, not in your program; please report it with the program "
               "and this message")


def read_source(path: str) -> Source:
    """Read a text file (a .glia program, a .sl problem, a task file); a missing or unreadable file is
    a diagnostic (code E509), not a traceback. A UTF-8 byte order mark at the start (some Windows editors write one) is dropped, as Python does."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            return Source(path, f.read())
    except FileNotFoundError:
        msg = f"no such file: {path}"
    except IsADirectoryError:
        msg = f"{path} is a directory, not a file"
    except UnicodeDecodeError as e:
        msg = f"{path} is not UTF-8 text ({e.reason} at byte {e.start})"
    except OSError as e:
        msg = f"cannot read {path}: {e.strerror}"
    raise GliaError(Diagnostic("E509", msg, Span(0, 0, 0, 0), "read", Source(path, "")))
