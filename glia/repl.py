"""`glia repl`: the interactive face of a Session (session.py does the work).

At a terminal: a prompt_toolkit prompt with syntax highlighting (highlight.py), completion of names,
keywords, builtins, methods and commands (Tab), history kept across sessions in the user's cache
folder (GLIA_CACHE_DIR, else ~/.cache/glia: `repl_history`), and multi-line entry: Enter runs an
entry once it is complete, and a block (`def`, `for`, ...) ends with an empty line, as in Python.

From a pipe or a file (`glia repl < script`): the same entries, read line by line, with no prompt
and no colour; the output is only what the entries print. Lines that open a block are continued
until an empty line or the next line that starts at column 0. The exit status is 1 if any entry
failed, else 0.
"""
from __future__ import annotations

import os
import re
import sys
from typing import Iterable

from glia.compiler.entry_syntax import entry_complete, starts_piece
from glia.compiler.syntax import cache_dir

from .session import COMMANDS, Session

PROMPT, CONTINUATION = ">>> ", "... "
BANNER = "Glia {version}: enter definitions, statements or expressions. :help lists the commands; :quit or " \
         "Ctrl-D leaves."


# `examples` and `train` open a block only before the function's name: they are names too (`train = 2`)
_BLOCK = re.compile(r"\s*((def|struct|if|while|for)\b|(examples|train)\s+[A-Za-z_])")


def should_run(text: str) -> bool:
    """At Enter: is this entry finished? An entry that opens a block (`def`, `for`, ...) runs at an
    empty line, as in Python; any other runs as soon as it parses (brackets closed)."""
    stripped = text.strip()
    if not stripped or stripped.startswith(":"):
        return True
    first = stripped.split("\n", 1)[0]
    if _BLOCK.match(first) or _code_of(first).rstrip().endswith(":"):
        lines = text.split("\n")
        return len(lines) > 1 and lines[-1].strip() == "" and entry_complete(text)
    return not text.rstrip(" \t").endswith("\\") and entry_complete(text)  # (not after an empty line)


def next_indent(text: str) -> str:
    """The indentation for a new line after `text`: the last line's, one level deeper after ':'."""
    last = text.rsplit("\n", 1)[-1]
    indent = last[:len(last) - len(last.lstrip())]
    if _code_of(last).rstrip().endswith(":"):
        indent += "    "
    return indent


def _code_of(line: str) -> str:
    """`line` without its comment (a `#` outside a string): `x = 1  # note:` opens no block."""
    quote = None
    i = 0
    while i < len(line):
        c = line[i]
        if quote is not None:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "#":
            return line[:i]
        i += 1
    return line


# ---- scripts (a pipe, a file) -----------------------------------------------------------------


def entries(lines: Iterable[str]):
    """Group the lines of a script into entries, as a person at the prompt would have entered them."""
    buf: list[str] = []
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not buf:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line.lstrip().startswith(":"):
                yield line
                continue
            buf = [line]
            if should_run(line):
                yield line
                buf = []
            continue
        text = "\n".join(buf)
        if not line.strip():
            if entry_complete(text):
                yield text
                buf = []
            else:
                buf.append(line)
        elif starts_piece(line) and entry_complete(text):
            yield text
            buf = []
            if line.lstrip().startswith(":"):
                yield line
            elif should_run(line):
                yield line
            else:
                buf = [line]
        else:
            buf.append(line)
    if buf:
        yield "\n".join(buf)


_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # a byte that is not UTF-8, as surrogateescape reads it


def utf8_lines(session: Session, lines: Iterable[str]):
    """`lines` up to the first one holding a byte that is not UTF-8 (read with surrogateescape): that
    one is E509 naming the line and the byte, as `glia run` refuses such a file, and reading stops."""
    from glia.compiler.diagnostics import Diagnostic, GliaError, Source, Span

    for n, line in enumerate(lines, 1):
        bad = _NOT_UTF8.search(line)
        if bad is None:
            yield line
            continue
        byte = ord(bad.group()) - 0xDC00
        col = bad.start() + 1
        shown = _NOT_UTF8.sub("\ufffd", line)
        session.report(GliaError(Diagnostic("E509", f"the input is not UTF-8 text (byte 0x{byte:02x} on line {n}); "
                                            "nothing from this line on is read", Span(n, col, n, col + 1), "read",
                                            Source("<stdin>", "\n" * (n - 1) + shown))))
        session.errors += 1
        return


def run_script(session: Session, lines: Iterable[str]) -> int:
    for entry in entries(utf8_lines(session, lines)):
        session.execute(entry)
        session.out.flush()
        if session.quit:
            break
    return 1 if session.errors else 0


# ---- the terminal -----------------------------------------------------------------------------


def history_path() -> str:
    return os.path.join(cache_dir(), "repl_history")


def make_completer(session: Session):
    from prompt_toolkit.completion import Completer, Completion, PathCompleter
    from prompt_toolkit.document import Document

    paths = PathCompleter(expanduser=True)

    class GliaCompleter(Completer):
        def get_completions(self, document, complete_event):
            text = document.text_before_cursor
            stripped = text.lstrip()
            if stripped.startswith(":") and " " not in stripped:
                for c in COMMANDS:
                    if c.startswith(stripped):
                        yield Completion(c, start_position=-len(stripped))
                return
            if stripped.startswith(":load "):
                arg = stripped[len(":load "):]
                yield from paths.get_completions(Document(arg, len(arg)), complete_event)
                return
            m = re.search(r"([A-Za-z_]\w*\.)?([A-Za-z_]\w*)?$", text)
            owner, prefix = (m.group(1) or "")[:-1], m.group(2) or ""
            if owner:
                candidates = session.attributes(owner)
            elif prefix:
                candidates = session.names()
            else:
                return
            for c in candidates:
                if c.startswith(prefix) and c != prefix:
                    yield Completion(c, start_position=-len(prefix))

    return GliaCompleter()


def make_key_bindings(completer):
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.completion.base import get_common_complete_suffix
    from prompt_toolkit.key_binding import KeyBindings

    kb = KeyBindings()

    @kb.add("enter")
    def _enter(event):
        buf = event.current_buffer
        state = buf.complete_state
        if state is not None and state.current_completion is not None:
            buf.apply_completion(state.current_completion)
            return
        text = buf.text
        if buf.document.is_cursor_at_the_end and should_run(text):
            buf.text = text.rstrip()  # the history keeps the entry without its closing empty line
            buf.validate_and_handle()
        else:
            buf.insert_text("\n" + next_indent(buf.document.text_before_cursor))

    @kb.add("tab")
    def _tab(event):
        buf = event.current_buffer
        before = buf.document.current_line_before_cursor
        if not before.strip():
            buf.insert_text("    ")
            return
        # computed here, not in the background, so that what is typed next lands after it
        found = list(completer.get_completions(buf.document, CompleteEvent(completion_requested=True)))
        if len(found) == 1:
            buf.apply_completion(found[0])
        elif found:
            buf.insert_text(get_common_complete_suffix(buf.document, found))
            buf.start_completion()

    return kb


def interactive(session: Session) -> int:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, InMemoryHistory
    from prompt_toolkit.lexers import PygmentsLexer

    from .highlight import GliaLexer

    try:
        os.makedirs(cache_dir(), exist_ok=True)
        history = FileHistory(history_path())
    except OSError:
        history = InMemoryHistory()
    completer = make_completer(session)
    prompt = PromptSession(multiline=True, key_bindings=make_key_bindings(completer), history=history,
                           lexer=PygmentsLexer(GliaLexer), completer=completer,
                           complete_while_typing=False, prompt_continuation=lambda w, n, soft: CONTINUATION)
    import glia

    print(BANNER.format(version=glia.__version__))
    while not session.quit:
        try:
            text = prompt.prompt(PROMPT)
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        session.execute(text)
        sys.stdout.flush()
    return 0


def main(files: list[str] | None = None, backend: str = "interp", interactive_mode: bool | None = None) -> int:
    session = Session(backend=backend)
    for path in files or ():
        session.execute(f":load {path}")
    if interactive_mode is None:
        interactive_mode = sys.stdin.isatty() and sys.stdout.isatty()
    if interactive_mode:
        return interactive(session)
    if hasattr(sys.stdin, "reconfigure"):
        sys.stdin.reconfigure(errors="surrogateescape")  # (a byte that is not UTF-8 is E509: utf8_lines)
    return run_script(session, sys.stdin)
