"""Golden programs: parse the expectations a .glia file carries, run it, compare.

Format (see tests/programs/README.md): `# expect: TEXT` per output line, at most one
`# error: CODE at LINE:COL`, and `# args: ...`. Examples keep their output in NAME.out beside them.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from glia.compiler.diagnostics import GliaError, Source
from glia.compiler.driver import check_source, run_program

EXPECT = re.compile(r"#\s*expect:(?: (.*)|)$")
ERROR = re.compile(r"#\s*error:\s*(E\d{3}) at (\d+):(\d+)")
ARGS = re.compile(r"^#\s*args:(.*)$")


@dataclass
class Expectation:
    output: list[str] = field(default_factory=list)
    error: tuple[str, int, int] | None = None
    args: list[str] = field(default_factory=list)


def parse_expectations(text: str) -> Expectation:
    exp = Expectation()
    for line in text.splitlines():
        m = EXPECT.search(line)
        if m:
            exp.output.append(m.group(1) or "")
        m = ERROR.search(line)
        if m:
            exp.error = (m.group(1), int(m.group(2)), int(m.group(3)))
        m = ARGS.match(line.strip())
        if m:
            exp.args = m.group(1).split()
    return exp


@dataclass
class Outcome:
    output: list[str]
    error: tuple[str, int, int] | None
    rendered: str = ""


def run_file(path: Path, args: list[str], cwd: Path | None = None) -> Outcome:
    text = path.read_text(encoding="utf-8")
    buf = io.StringIO()
    err = None
    rendered = ""
    old = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(buf):
            program = check_source(Source(str(path), text), verify_ir=True)
            run_program(program, args)
    except GliaError as e:
        d = e.diagnostic
        err = (d.code, d.span.line, d.span.col)
        rendered = e.render()
    finally:
        os.chdir(old)
    out = buf.getvalue()
    lines = out.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return Outcome(lines, err, rendered)


def rewrite_expectations(path: Path, outcome: Outcome) -> None:
    """--update-goldens: drop the old expectation comments and append the observed ones."""
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if EXPECT.search(line) or ERROR.search(line):
            stripped = EXPECT.sub("", ERROR.sub("", line)).rstrip()
            if stripped.strip():
                kept.append(stripped)
            continue
        kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    kept += [f"# expect: {o}" if o else "# expect:" for o in outcome.output]
    if outcome.error:
        kept.append(f"# error: {outcome.error[0]} at {outcome.error[1]}:{outcome.error[2]}")
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
