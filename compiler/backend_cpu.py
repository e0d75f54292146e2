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
import sys
from dataclasses import dataclass
from importlib import resources

from . import ir
from .diagnostics import Diagnostic, GliaError, Note, Source, Span
from .interp import Interpreter, run_with_big_stack
from .lower_numba import LoweredModule, ModuleLowerer, Unsupported
from .syntax import cache_dir

_RUNTIME_FILES = ("nbrt.py", "nbstr.py", "nbbox.py", "fmt.py", "values.py", "errors.py")


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


def lower_program(program: ir.Program) -> LoweredModule:
    """Lower to Python source (raises Unsupported for what the backend cannot compile yet)."""
    interp = Interpreter(program)
    globals_values = {}
    if program.globals:
        interp.init_globals()
        globals_values = interp.globals
    return ModuleLowerer(program, globals_values, runtime_hash()).lower()


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
        spec.loader.exec_module(mod)
    return Compiled(mod, lowered, path)


def compiled_error(e, lowered: LoweredModule, sources: dict[str, Source]) -> GliaError:
    code, message, site = e.args
    line, col, end_line, end_col, name = lowered.sites[site]
    return GliaError(Diagnostic(code, message, Span(line, col, end_line, end_col), "runtime", sources.get(name)))


def run(program: ir.Program, args: list, sources: dict[str, Source]):
    """Compile `main` and run it. Raises Unsupported before running anything if it cannot compile."""
    from glia.runtime.errors import CompiledRuntimeError
    from glia.runtime.nbbox import from_interp

    lowered = lower_program(program)
    compiled = load(lowered)
    entry = getattr(compiled.module, lowered.entry)
    nb_args = [from_interp(a, s) for a, s in zip(args, lowered.main_arg_specs)]

    def go():
        try:
            return entry(*nb_args, 1)  # main is at depth 1, as in the interpreter
        except CompiledRuntimeError as e:
            raise compiled_error(e, lowered, sources) from None

    return run_with_big_stack(go)


def fallback_note(u: Unsupported, sources: dict[str, Source]) -> str:
    src = sources.get(u.source_name)
    where = f"{src.name}:{u.span.line}:{u.span.col}" if src is not None and u.span.line else "this program"
    return (f"glia: note: running in the interpreter: the CPU backend cannot compile {u.what} yet "
            f"(at {where})")
