"""The CPU backend: lower the typed IR to a Numba module, cache it by content, load it, run it.

Generated modules live in the user's cache folder (`<cache>/cpu/glia_<hash>.py`), so Numba's own
on-disk cache (`cache=True`) works for them: a second run of the same program loads machine code
instead of compiling. The hash covers the generated text, which names the runtime's hash, so a change
in the runtime recompiles its callers.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from importlib import resources

from . import ir
from .diagnostics import Diagnostic, GliaError, Note, Source, Span, compiled_notes, out_of_memory
from .interp import Interpreter, run_with_big_stack
from .stack import on_big_stack
from .lower_numba import LoweredModule, ModuleLowerer, Unsupported
from .cache import import_module, module_path

_RUNTIME_FILES = ("nbjit.py", "nblink.py", "nbrt.py", "nbdict.py", "nblist.py", "nbstr.py", "nbtensor.py", "nbbox.py",
                  "fmt.py", "values.py", "errors.py", "interrupt.py")


def runtime_hash(files=_RUNTIME_FILES, extra: str = "") -> str:
    from importlib.metadata import version  # not `import numba`: an interpreted run need not load it

    import glia

    h = hashlib.sha256(f"{glia.__version__} numba {version('numba')}{extra}".encode())
    for name in files:
        h.update(resources.files("glia.runtime").joinpath(name).read_bytes())
    return h.hexdigest()[:16]


@dataclass
class Compiled:
    module: object
    lowered: LoweredModule
    path: str
    globals_values: dict = None  # the globals, as the interpreter computed them before main


def lower_program(program: ir.Program, root: str = "main", all_callable: bool = False,
                  also: tuple[str, ...] = ()) -> LoweredModule:
    """Lower `root` (and the functions `also`) and what they call to Python source (raises
    Unsupported for what the backend cannot compile yet). Python can call the root, or with
    `all_callable` every generated function."""
    return on_big_stack(lambda: ModuleLowerer(program, runtime_hash(), all_callable).lower(root, also))


def global_values(program: ir.Program) -> dict:
    """The globals, computed by the interpreter (once, in order, before main: the language's rule)."""
    if not program.globals:
        return {}
    interp = Interpreter(program)
    run_with_big_stack(interp.init_globals)
    return interp.globals


def write_module(lowered: LoweredModule, kind: str = "cpu") -> str:
    """The generated module's file in the cache (written atomically if it is not there yet)."""
    return write_source(module_path(lowered.key, kind), lowered.source)


def write_source(path: str, source: str) -> str:
    """Write a generated module to `path` (atomically), unless the file already holds `source` (a file
    truncated or overwritten since is written again); a cache folder that cannot be written is E509,
    naming it (Numba compiles the module from that file)."""
    for attempt in (1, 2):
        if _holds(path, source):
            break
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                f.write(source)
            os.replace(tmp, path)
            break
        except FileNotFoundError as e:  # the folder removed under us (`glia cache clear`): once more
            if attempt == 2:
                raise cache_unwritable(path, e) from None
        except OSError as e:
            raise cache_unwritable(path, e) from None
    return path


def cache_unwritable(path: str, e: OSError) -> GliaError:
    """E509 for a file of the cache folder that cannot be written, naming the folder."""
    from .cache import cache_dir

    return GliaError(Diagnostic("E509", f"cannot write compiled code to the cache folder {cache_dir()}: "
                                f"{e.strerror} (GLIA_CACHE_DIR chooses another)", Span(0, 0, 0, 0), "cache",
                                Source(os.path.dirname(path), "")))


def _holds(path: str, source: str) -> bool:
    try:
        with open(path, encoding="utf-8", newline="") as f:
            return f.read() == source
    except (OSError, UnicodeDecodeError):
        return False


def load(lowered: LoweredModule, kind: str = "cpu") -> Compiled:
    """Write the generated module to `<cache>/<kind>/` (once) and import it."""
    path = write_module(lowered, kind)
    module = import_module(lowered.key, path, f"glia_{kind}_", restore=lambda: write_source(path, lowered.source))
    if kind == "cpu":  # importing compiled it into Numba's cache: `glia run`'s default tier may use it now
        from .tiered import mark_ready

        mark_ready(lowered.key)
    return Compiled(module, lowered, path)


class CompileFailed(Unsupported):
    """Numba rejected the generated module: a bug in Glia, never the user's; the program still runs
    (in the interpreter) and the note says how to report it."""


def load_or_explain(lowered: LoweredModule) -> Compiled:
    """`load`, with Numba's rejection (or Python's, of a generated line: a bug in the lowering) turned
    into CompileFailed. Any exception counts: besides its NumbaErrors, Numba fails inside its own
    passes (a RuntimeError from its liveness analysis), and the program still runs, interpreted."""
    from numba.core.errors import NumbaError

    try:
        return load(lowered)
    except GliaError:  # the user's or the machine's (a cache folder that cannot be written), not a bug
        raise
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if not isinstance(e, (NumbaError, SyntaxError)):
            first = f"{type(e).__name__}: {first}"
        raise CompileFailed(re.sub(r"\x1b\[[0-9;]*m", "", first), Span(0, 0, 0, 0), "") from None


def compiled_error(e, lowered: LoweredModule, sources: dict[str, Source]) -> GliaError:
    from glia.runtime.errors import shown_message

    code, _, site = e.args
    line, col, end_line, end_col, name = lowered.sites[site]
    message = shown_message(e, lowered.shown.get(site))
    return GliaError(Diagnostic(code, message, Span(line, col, end_line, end_col), "runtime", sources.get(name),
                                compiled_notes(lowered.sites[site], lowered.entry_span, lowered.callers.get(site),
                                               sources.get)))


def run(program: ir.Program, args: list, sources: dict[str, Source], params=None, ready=None):
    """Compile `main` and run it. Raises Unsupported before running anything if it cannot compile."""
    return run_lowered(program, lower_program(program), args, sources, params=params, ready=ready)


def run_lowered(program: ir.Program, lowered: LoweredModule, args: list, sources: dict[str, Source],
                compiled: Compiled | None = None, params=None, ready=None):
    """Load (compiling unless Numba's cache has it) and run an already lowered program's `main`.
    `params`: the ParamStore of the program's layers (default: initialised with seed 0, as the
    interpreter's). `ready()`, if given, is called once the module is loaded, before `main` runs."""
    from glia.runtime.errors import CompiledRuntimeError
    from glia.runtime.nbbox import from_interp

    from .lower_tensor import PARAMS, STATE

    compiled = compiled or load_or_explain(lowered)
    if ready is not None:
        ready()
    compiled.globals_values = global_values(program)
    if any(g in (PARAMS, STATE) for g, _ in lowered.main_globals):
        from .params import new_store

        store = params if params is not None else new_store(program, seed=0)
        compiled.globals_values.update({PARAMS: store.flat, STATE: store.state_flat})
    from . import fastrun

    fastrun.remember(program, lowered)  # the next `glia run` of this text can skip the front end
    entry = getattr(compiled.module, lowered.entry)
    nb_args = [from_interp(a, s) for a, s in zip(args, lowered.main_arg_specs)]
    shared: dict = {}  # a container two globals reach is one container in compiled code too
    nb_args += [from_interp(compiled.globals_values[g], s, shared) for g, s in lowered.main_globals]

    def go():
        try:
            return entry(*nb_args, 1)  # main is at depth 1, as in the interpreter
        except CompiledRuntimeError as e:
            raise compiled_error(e, lowered, sources) from None
        except MemoryError:
            raise out_of_memory(program.source) from None

    return run_with_big_stack(go, compiled=True)


def fallback_note(u: Unsupported, sources: dict[str, Source], backend: str = "CPU",
                  where_to: str = "in the interpreter", source_map=None) -> str:
    """Why a function runs elsewhere, at its place in the user's text (`source_map`: the SourceMap of
    a program made of several texts, the REPL's or a Python module's)."""
    if isinstance(u, CompileFailed):
        from .diagnostics import REPORT_HINT

        return (f"glia: note: running {where_to}: Numba could not compile the generated code "
                f"({u.what}); {REPORT_HINT}")
    src, span = sources.get(u.source_name), u.span
    found = source_map.locate(span) if source_map is not None and u.source_name == source_map.name else None
    if found is not None:
        src, span = found
    where = f"{src.name}:{span.line}:{span.col}" if src is not None and span.line else "this program"
    return (f"glia: note: running {where_to}: the {backend} backend cannot compile {u.what} yet "
            f"(at {where})")
