"""One program from several source texts: the REPL's entries, or the files of a Python module's
`@glia.fn` functions (a notebook's cells are separate files).

The checker and the backends take one `Source` per program. A `SourceMap` lays the texts out one
after another in a virtual source (text number k starts at line `base_k + 1`), so every span of the
program names one line of one text. Diagnostics that come back in virtual coordinates are mapped to
the text they belong to with `remap`, so users always read `file:line:col` of their own text.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import replace

from .diagnostics import Diagnostic, GliaError, Note, Source, Span


class SourceMap:
    def __init__(self, name: str):
        self.name = name  # the virtual source's name (never shown once diagnostics are remapped)
        self._bases: list[int] = []  # first virtual line of each text, minus one
        self._sources: list[Source] = []
        self._lines = 0
        self._virtual: Source | None = None

    def add(self, source: Source) -> int:
        """Append a text; returns its base: its line k is virtual line base + k."""
        base = self._lines
        text = source.text if source.text.endswith("\n") or not source.text else source.text + "\n"
        self._bases.append(base)
        self._sources.append(source)
        self._lines += text.count("\n") or 1
        self._virtual = None
        return base

    def base_of(self, name: str) -> int | None:
        """The base of the most recent text named `name`."""
        for base, src in zip(reversed(self._bases), reversed(self._sources)):
            if src.name == name:
                return base
        return None

    @property
    def virtual(self) -> Source:
        if self._virtual is None:
            parts = []
            for src in self._sources:
                text = src.text if src.text.endswith("\n") or not src.text else src.text + "\n"
                parts.append(text or "\n")
            self._virtual = Source(self.name, "".join(parts))
        return self._virtual

    def locate(self, span: Span) -> tuple[Source, Span] | None:
        """The text a virtual span lies in, and the span in that text's own lines."""
        if span.line <= 0 or not self._bases:
            return None
        i = bisect_right(self._bases, span.line - 1) - 1
        if i < 0:
            return None
        base = self._bases[i]
        end_line = span.end_line - base if span.end_line > 0 else 0
        return self._sources[i], Span(span.line - base, span.col, end_line, span.end_col)

    def remap_diagnostic(self, d: Diagnostic) -> Diagnostic:
        source, span = d.source, d.span
        if source is not None and source.name == self.name:
            found = self.locate(span)
            if found is not None:
                source, span = found
        notes = tuple(self._remap_note(n, d.source) for n in d.notes)
        if source is d.source and span is d.span and all(a is b for a, b in zip(notes, d.notes)):
            return d
        return replace(d, source=source, span=span, notes=notes)

    def _remap_note(self, n: Note, default: Source | None) -> Note:
        src = n.source or default
        if n.span is None or src is None or src.name != self.name:
            return n
        found = self.locate(n.span)
        if found is None:
            return n
        return Note(n.message, found[1], found[0])

    def remap(self, err: GliaError) -> GliaError:
        """The same error with its diagnostic (and notes) in the coordinates of the user's texts."""
        d = self.remap_diagnostic(err.diagnostic)
        return err if d is err.diagnostic else type(err)(d)  # (a GliaTypeError stays one)
