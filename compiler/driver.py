"""The pipeline, as a short straight line of named stages.

    text --parse--> AST --check--> typed IR --verify--> typed IR --run--> (backend)

Each stage is one module with one entry function; `STAGES` names them in order so any intermediate
form can be shown (`glia compile --emit ...`) or a test can enter at any stage.
"""
from __future__ import annotations

import gc
import hashlib
import os
import pickle
from functools import lru_cache

from . import ast as A
from . import ir
from .checker import check, prelude_source
from .diagnostics import Diagnostic, GliaError, Source, Span, read_source  # noqa: F401  (driver.read_source)
from .interp import Interpreter, run_with_big_stack
from .syntax import cache_dir, parse
from .types import INT, NONE, STR, FnT, ListT
from .verify import verify

STAGES = ("parse", "check", "verify")


@lru_cache(maxsize=1)
def prelude() -> tuple[A.Module, Source]:
    """The prelude's AST, parsed once per content and kept in the user cache folder."""
    src = prelude_source()
    key = hashlib.sha256(src.text.encode()).hexdigest()[:16]
    path = os.path.join(cache_dir(), f"prelude-{key}.ast.pickle")
    try:
        with open(path, "rb") as f:
            module = pickle.load(f)
        if isinstance(module, A.Module):
            return module, src
    except Exception:  # missing, or damaged (unpickling garbage raises almost anything): parse it again
        pass
    module = parse(src)
    try:
        os.makedirs(cache_dir(), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            pickle.dump(module, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass
    return module, src


def check_source(source: Source, verify_ir: bool = False) -> ir.Program:
    """Parse and check a source text into the typed IR (the prelude's functions available)."""
    # The front end allocates many small objects that all stay alive until it returns: the cyclic
    # garbage collector would only rescan them (about a fifth of the front end's time).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        module = parse(source)
        program = check(module, source, prelude())
    finally:
        if gc_was_enabled:
            gc.enable()
    if verify_ir:
        verify(program)
    return program


def sources_of(program: ir.Program) -> dict[str, Source]:
    out = {"<prelude>": prelude()[1]}
    if program.source is not None:
        out[program.source.name] = program.source
    return out


def main_args(program: ir.Program, argv: list[str]) -> list:
    """Check `main`'s signature and build its arguments (E208 if it has none or the wrong one)."""
    f = program.functions.get("main")
    src = program.source
    if f is None:
        raise GliaError(Diagnostic("E208", "this program has no `def main():` to run", Span(1, 1, 1, 2), "run", src))
    t: FnT = f.type
    if t.ret not in (NONE, INT):
        raise GliaError(Diagnostic("E208", f"main must return nothing or an int exit status, not {t.ret}",
                                   f.span, "run", src))
    if len(t.params) == 0:
        if argv:  # the user meant something by them: a mistyped option, or a main that forgot `args`
            raise GliaError(Diagnostic(
                "E208", f"main() takes no arguments, but {len(argv)} {'was' if len(argv) == 1 else 'were'} given "
                f"({' '.join(map(repr, argv))}); to receive them, declare `def main(args: list[str])`",
                f.span, "run", src))
        return []
    if len(t.params) == 1 and t.params[0] == ListT(STR):
        return [list(argv)]
    raise GliaError(Diagnostic("E208", "main takes no parameters, or one `args: list[str]` (the command-line "
                               f"arguments); found ({', '.join(map(str, t.params))})", f.span, "run", src))


BACKENDS = ("auto", "cpu", "interp")


def run_program(program: ir.Program, argv: list[str] | None = None, backend: str = "interp",
                notes=None, background: bool = True, trace=None, hot_seconds: float | None = None,
                params=None) -> int:
    """Run `main` and return the exit status. `backend` is 'interp' (the reference interpreter),
    'cpu' (compiled with Numba first; a program it cannot compile yet runs in the interpreter, and a
    line saying why is passed to `notes`, a callable, e.g. printing to stderr) or 'auto' (tiered:
    compiled when the cache has it, else interpreted, and compiled in the background for the next
    run when `background`; compiler/tiered.py; `trace(line)` is told which tier ran). `params`: the
    ParamStore of the program's layers (trained parameters; default: initialised with seed 0)."""
    args = main_args(program, argv or [])
    sources = sources_of(program)

    def interpret(compiled_calls: bool = False, load=None):
        """Run main in the interpreter; with `compiled_calls`, each function the CPU backend can
        compile runs compiled when called (`load(lowered)`, if given, loads its module or says None:
        `auto` loads only what the cache has ready)."""
        interp = Interpreter(program, sources)
        interp.params = params
        if compiled_calls:
            from .cpu_calls import CpuCalls

            CpuCalls(interp, sources, notes=notes, load=load).install()
        return run_with_big_stack(lambda: interp.call("main", args))

    if backend == "auto":
        from . import tiered

        result = tiered.run(program, args, sources, interpret, background=background, trace=trace,
                            hot_seconds=tiered.HOT_SECONDS if hot_seconds is None else hot_seconds, params=params)
        return result if isinstance(result, int) and not isinstance(result, bool) else 0
    say = trace or (lambda line: None)  # `glia run -v`: which backend ran, and why
    if backend == "cpu":
        from .backend_cpu import CompileFailed, fallback_note, run
        from .lower_numba import Unsupported

        try:
            result = run(program, args, sources, params=params, ready=lambda: say("glia: compiled (--backend cpu)"))
        except Unsupported as u:
            if isinstance(u, CompileFailed):  # a bug: Numba rejected generated code
                if notes is not None:
                    notes(fallback_note(u, sources))
                say("glia: interpreted (Numba rejected the generated code: a bug in Glia, noted above)")
            else:  # the functions that can be compiled run compiled, the others (each noted) interpreted
                say("glia: main interpreted (the CPU backend cannot compile it: the note says why); the functions "
                    "it calls that can be compiled run compiled")
                result = interpret(compiled_calls=True)
                return result if isinstance(result, int) and not isinstance(result, bool) else 0
        else:
            return result if isinstance(result, int) and not isinstance(result, bool) else 0
    elif backend != "interp":
        raise ValueError(f"unknown backend {backend!r}")
    else:
        say("glia: interpreted (--backend interp never compiles)")
    result = interpret()
    return result if isinstance(result, int) and not isinstance(result, bool) else 0
