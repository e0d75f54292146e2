"""Input and output that both backends do through Python: reading and writing files, reading a line
of input.

The interpreter's kernels (runtime/kernels.py) call these, and compiled code calls the same
functions through CPython's C API while it holds the GIL (runtime/nbstr.py, `call_python`), so the
two backends read, write and fail alike. Each takes two strings and returns `(ok, text)`: the text
read (or "" after a write), or, when `ok` is false, the error's message. Exceptions other than
`OSError` and `UnicodeError` (a KeyboardInterrupt while waiting for input) propagate.
"""
from __future__ import annotations

import os
import sys
import tempfile

from .fmt import to_repr


def read_file(path: str, _unused: str = "") -> tuple[bool, str]:
    try:
        with open(path, encoding="utf-8") as f:
            return True, f.read()
    except (OSError, UnicodeError) as e:
        return False, f"cannot read file {to_repr(path)}: {getattr(e, 'strerror', None) or e}"


def replacement_mode(path: str) -> int:
    """The permissions for a file written at `path` through a temporary file and os.replace (mkstemp
    makes it 0600): an existing file's own, else a new file's usual 0666 less the umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)  # the only way to read it is to set it: put it back at once
        os.umask(umask)
        return 0o666 & ~umask


def write_file(path: str, text: str) -> tuple[bool, str]:
    """Atomic: the old file stays intact until the new one is completely written."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".glia-tmp-")
        try:
            os.fchmod(fd, replacement_mode(path))
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except (OSError, UnicodeError) as e:
        return False, f"cannot write file {to_repr(path)}: {getattr(e, 'strerror', None) or e}"
    return True, ""


def read_input(prompt: str, _unused: str = "") -> tuple[bool, str]:
    """A line of standard input without its newline ("" at the end of input), after writing `prompt`."""
    if prompt:
        sys.stdout.write(prompt)
        sys.stdout.flush()
    line = sys.stdin.readline()
    return True, line[:-1] if line.endswith("\n") else line
