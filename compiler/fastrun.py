"""The warm path of `glia run`: a program whose compiled module is in the cache runs without the
front end.

Checking and lowering a program is deterministic: the same source text, compiled by the same Glia
and Numba, gives the same generated module. So after a compiled run, a small *run manifest* is kept
in the cache, keyed by a hash of the file's name and text and of the compiler itself
(`fingerprint`: Glia's and Numba's versions and the size and modification time of every file of
the glia package); it names the generated module, its entry point, the argument specs of `main`
and the source spans of its runtime errors. The next `glia run` of the same file finds the
manifest, imports the module (Numba loads its machine code from its own cache) and calls `main`,
without parsing, checking, lowering or loading the compiler (a fifth of a warm run's CPU time). Anything unusual (no
manifest, the module or its `.ready` marker gone, a program with globals, which the interpreter
computes) takes the ordinary path, which writes the manifest again.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from contextlib import contextmanager
from functools import lru_cache

MANIFEST = 1  # the manifest's format
MISS = object()  # what try_run returns when it ran nothing


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """Glia's and Numba's versions and the (name, size, mtime) of every source file of the package:
    the folder holding compiler/ (the repository in a checkout, the glia package once installed),
    its own files and those of glia/, compiler/, runtime/ and grammar/ under it."""
    from importlib.metadata import version

    import glia

    h = hashlib.sha256(f"{MANIFEST} {glia.__version__} numba {version('numba')}".encode())
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for sub in ("", "glia", "compiler", "runtime", "grammar"):
        d = os.path.join(root, sub)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if name.endswith((".py", ".lark", ".glia")):
                st = os.stat(os.path.join(d, name))
                h.update(f"{sub}/{name} {st.st_size} {st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def manifest_path(source, backend: str) -> str:
    """Keyed by the file's name too: the generated module names it (comments, error sites)."""
    from .cache import cache_dir

    key = hashlib.sha256(f"{fingerprint()}\0{backend}\0{source.name}\0{source.text}".encode()).hexdigest()[:24]
    return os.path.join(cache_dir(), "cpu", f"run-{key}.json")


def remember(program, lowered, backends=("cpu", "auto")) -> None:
    """Keep the manifest of a program that just ran compiled (nothing for one with globals: the
    interpreter computes those before main). The layers' parameter buffers, threaded like globals,
    are recorded as their layout: the warm run initialises them as the ordinary path does (seed 0)."""
    from .lower_tensor import PARAMS, STATE

    threaded = [g for g, _ in lowered.main_globals]
    if program.source is None or program.globals or any(g not in (PARAMS, STATE) for g in threaded):
        return
    record = {"module": lowered.key, "entry": lowered.entry, "args": lowered.main_arg_specs,
              "sites": lowered.sites, "name": program.source.name, "entry_span": lowered.entry_span,
              "callers": [[site, fn, calls] for site, (fn, calls) in lowered.callers.items()],
              "shown": [[site, spec] for site, spec in lowered.shown.items()],
              "blas": bool(re.search(r"np\.(dot|vdot|inner|outer|linalg)|\S @ \S", lowered.source))}
    if threaded:
        from .params import layer_sites, param_dtype, param_specs, state_specs

        sites = layer_sites(program)
        record["params"] = {"threaded": threaded, "dtype": np_name(param_dtype(program, sites)),
                            "specs": [[s.name, list(s.shape), s.init] for s in param_specs(program, sites)],
                            "state": [[s.name, list(s.shape), s.init] for s in state_specs(program, sites)]}
    from .cache import write_json

    for backend in backends:
        if not write_json(manifest_path(program.source, backend), record):
            return


def try_run(source, argv: list[str], backend: str, trace=None):
    """Run `source` (a diagnostics.Source) from its manifest: main's result, or MISS when there is no
    usable manifest (then nothing has run). Raises GliaError for a runtime error, as the ordinary
    path does."""
    if backend not in ("cpu", "auto"):
        return MISS
    try:
        with open(manifest_path(source, backend), encoding="utf-8") as f:
            m = json.load(f)
        if len(m["args"]) > 1 or (m["args"] and tuple(m["args"][0]) != ("list", ["str"])) or (argv and not m["args"]):
            return MISS  # (arguments for a main without parameters: the ordinary path says E208)
    except (OSError, ValueError, KeyError, TypeError):
        return MISS
    from .cache import cache_dir

    from .cache import import_module, intact

    module_file = os.path.join(cache_dir(), "cpu", f"glia_cpu_{m['module']}.py")
    if not intact(module_file, m["module"]) or (backend == "auto" and not os.path.exists(module_file[:-3] + ".ready")):
        return MISS  # (a module file truncated or overwritten: the ordinary path writes it again)
    from glia.runtime.errors import CompiledRuntimeError

    try:
        with _blas_unless(m.get("blas", True)):
            module = import_module(m["module"], module_file)
        entry = getattr(module, m["entry"])
    except Exception:  # nothing has run: the ordinary path loads it again, and explains what fails
        return MISS
    args = []
    if m["args"]:
        from glia.runtime.nbbox import from_interp

        args = [from_interp(list(argv), m["args"][0])]
    if "params" in m:  # the layers' buffers, initialised as new_store(program, seed=0) does
        args += _param_buffers(m["params"])
    if trace is not None:
        trace("glia: compiled (from the cache; the run manifest skipped the front end)")
    try:
        return _call(lambda: entry(*args, 1))
    except CompiledRuntimeError as e:
        raise _error(e, m, source) from None
    except MemoryError:
        from .diagnostics import out_of_memory

        raise out_of_memory(source) from None


def np_name(dtype) -> str:
    return "float64" if dtype.__name__ == "float64" else "float32"


def _param_buffers(p: dict) -> list:
    import numpy as np

    from glia.runtime.params import ParamSpec, ParamStore

    def specs(rows):
        return [ParamSpec(name, tuple(shape), init) for name, shape, init in rows]

    store = ParamStore(specs(p["specs"]), getattr(np, p["dtype"]), 0, specs(p["state"]))
    return [store.flat if g == "$params" else store.state_flat for g in p["threaded"]]


@contextmanager
def _blas_unless(needed: bool):
    """Loading Numba's registries checks for BLAS by importing scipy.linalg (0.12-0.25 s here, a seventh
    of a warm run); a module that calls no BLAS is loaded with scipy.linalg hidden, so the check finds
    none (Numba then refuses np.dot in code compiled later in this process, and this process compiles
    nothing). Hidden only while the module loads; nothing changes if scipy.linalg is already loaded."""
    if needed or "scipy.linalg" in sys.modules:
        yield
        return
    sys.modules["scipy.linalg"] = None  # `import scipy.linalg...` raises ImportError, which Numba expects
    try:
        yield
    finally:
        if sys.modules.get("scipy.linalg", 0) is None:
            del sys.modules["scipy.linalg"]


def _call(thunk):
    """main on a big stack, as the ordinary path runs it (deep recursion)."""
    from .stack import run_with_big_stack

    return run_with_big_stack(thunk, compiled=True)


def _tuples(v):
    """A spec read back from JSON: its lists as tuples again."""
    return tuple(_tuples(x) for x in v) if isinstance(v, list) else v


def _error(e, m: dict, source):
    from glia.runtime.errors import shown_message

    from .diagnostics import Diagnostic, GliaError, Span, compiled_notes

    code, _, site = e.args
    line, col, end_line, end_col, name = m["sites"][site]
    shown = {s: _tuples(spec) for s, spec in m.get("shown", ())}
    message = shown_message(e, shown.get(site))
    if name == source.name == m["name"]:
        src = source
    else:  # a prelude function's error: its text, for the excerpt
        from .checker import prelude_source

        src = prelude_source()
    callers = {s: (fn, calls) for s, fn, calls in m.get("callers", ())}
    return GliaError(Diagnostic(code, message, Span(line, col, end_line, end_col), "runtime", src,
                                compiled_notes(m["sites"][site], m.get("entry_span", ()), callers.get(site),
                                               lambda name: source if name == source.name else None)))
