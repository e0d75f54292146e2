"""The CPU backend: lower the typed IR to a Numba module, cache it by content, load it, run it.

Generated modules live in the user's cache folder (`<cache>/cpu/glia_<hash>.py`), so Numba's own
on-disk cache (`cache=True`) works for them: a second run of the same program loads machine code
instead of compiling. The hash covers the generated text, which names the runtime's hash, so a change
in the runtime recompiles its callers.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from importlib import resources

from . import ir
from .diagnostics import Diagnostic, GliaError, Note, Source, Span
from .interp import Interpreter, run_with_big_stack
from .lower_numba import LoweredModule, ModuleLowerer, Unsupported
from .syntax import cache_dir

_RUNTIME_FILES = ("nbrt.py", "nblist.py", "nbstr.py", "nbbox.py", "fmt.py", "values.py", "errors.py")


def runtime_hash() -> str:
    import numba

    import glia

    h = hashlib.sha256(f"{glia.__version__} numba {numba.__version__}".encode())
    for name in _RUNTIME_FILES:
        h.update(resources.files("glia.runtime").joinpath(name).read_bytes())
    return h.hexdigest()[:16]


@dataclass
class Compiled:
    module: object
    lowered: LoweredModule
    path: str
    globals_values: dict = None  # the globals, as the interpreter computed them before main


def lower_program(program: ir.Program) -> LoweredModule:
    """Lower to Python source (raises Unsupported for what the backend cannot compile yet)."""
    return ModuleLowerer(program, runtime_hash()).lower()


def global_values(program: ir.Program) -> dict:
    """The globals, computed by the interpreter (once, in order, before main: the language's rule)."""
    if not program.globals:
        return {}
    interp = Interpreter(program)
    run_with_big_stack(interp.init_globals)
    return interp.globals


def load(lowered: LoweredModule) -> Compiled:
    folder = os.path.join(cache_dir(), "cpu")
    os.makedirs(folder, exist_ok=True)
    modname = f"glia_cpu_{lowered.key}"
    path = os.path.join(folder, modname + ".py")
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(lowered.source)
        os.replace(tmp, path)
    mod = sys.modules.get(modname)
    if mod is None:
        spec = importlib.util.spec_from_file_location(modname, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[modname] = mod  # before executing: Numba's cache locates functions through it
        try:
            spec.loader.exec_module(mod)
        except BaseException:
            del sys.modules[modname]
            raise
    return Compiled(mod, lowered, path)


class CompileFailed(Unsupported):
    """Numba rejected the generated module: a bug in Glia, never the user's; the program still runs
    (in the interpreter) and the note says how to report it."""


def compiled_error(e, lowered: LoweredModule, sources: dict[str, Source]) -> GliaError:
    code, message, site = e.args
    line, col, end_line, end_col, name = lowered.sites[site]
    return GliaError(Diagnostic(code, message, Span(line, col, end_line, end_col), "runtime", sources.get(name)))


def run(program: ir.Program, args: list, sources: dict[str, Source]):
    """Compile `main` and run it. Raises Unsupported before running anything if it cannot compile."""
    from glia.runtime.errors import CompiledRuntimeError
    from glia.runtime.nbbox import from_interp

    from numba.core.errors import NumbaError

    lowered = lower_program(program)
    try:
        compiled = load(lowered)
    except NumbaError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CompileFailed(re.sub(r"\x1b\[[0-9;]*m", "", first), Span(0, 0, 0, 0), "") from None
    compiled.globals_values = global_values(program)
    entry = getattr(compiled.module, lowered.entry)
    nb_args = [from_interp(a, s) for a, s in zip(args, lowered.main_arg_specs)]
    nb_args += [from_interp(compiled.globals_values[g], s) for g, s in lowered.main_globals]

    def go():
        try:
            return entry(*nb_args, 1)  # main is at depth 1, as in the interpreter
        except CompiledRuntimeError as e:
            raise compiled_error(e, lowered, sources) from None

    return run_with_big_stack(go)


def fallback_note(u: Unsupported, sources: dict[str, Source]) -> str:
    if isinstance(u, CompileFailed):
        from .diagnostics import REPORT_HINT

        return (f"glia: note: running in the interpreter: Numba could not compile the generated code "
                f"({u.what}); {REPORT_HINT}")
    src = sources.get(u.source_name)
    where = f"{src.name}:{u.span.line}:{u.span.col}" if src is not None and u.span.line else "this program"
    return (f"glia: note: running in the interpreter: the CPU backend cannot compile {u.what} yet "
            f"(at {where})")
