"""The CUDA backend's batched execution: one Glia function over a batch of examples, one GPU thread
per example (`Program.map_batch`).

    map_batch(program, name, columns, device) -> numpy array of results
        device CUDA: compiler/lower_cuda.py writes the kernel, cached by content like the CPU
                     backend's modules (`<cache>/cuda/`); columns go to the device once, results
                     and the per-example error array come back
        device CPU, or a function the CUDA lowering cannot take: the reference interpreter, example
                     by example (a note says why, when CUDA was asked for)

A failed example on the device leaves its error site in `err`; the first failed example (lowest
index) is then run again in the interpreter, which raises the diagnostic with its exact message, so
errors read the same on every device.
"""
from __future__ import annotations

import numpy as np

from . import ir
from .backend_cpu import CompileFailed, fallback_note, load, runtime_hash
from .device import Device, device_failures
from .diagnostics import Diagnostic, GliaError, Note, Source, Span
from .interp import Interpreter, run_with_big_stack
from .lower_cuda import NP_DTYPES, lower_batch
from .lower_numba import LoweredModule, Unsupported
from .types import BOOL, F32, FLOAT, INT

THREADS = 128
_PY = {INT: int, FLOAT: float, BOOL: bool, F32: np.float32}


_KINDS = {INT: "iu", FLOAT: "iuf", F32: "iuf", BOOL: "b"}  # numpy dtype kinds each parameter type accepts


def _usage(message: str, code: str = "E202") -> GliaError:
    return GliaError(Diagnostic(code, message, Span(0, 0, 0, 0), "call"))


def columns_for(program: ir.Program, name: str, columns) -> tuple[list[np.ndarray], int]:
    """The batch's argument columns, checked against the function's parameters."""
    f = program.functions.get(name)
    if f is None or name.startswith("$"):
        raise _usage(f"no function named {name!r} in this program")
    if len(columns) != len(f.params):
        raise _usage(f"{name} takes {len(f.params)} argument{'s' if len(f.params) != 1 else ''} "
                     f"({', '.join(f.params)}): give map_batch one array per argument, got {len(columns)}")
    cols = [np.asarray(c) for c in columns]
    if any(c.ndim != 1 for c in cols):
        raise _usage("map_batch takes one 1-D array per argument (the batch of that argument's values)")
    n = len(cols[0]) if cols else 0
    if any(len(c) != n for c in cols):
        raise _usage(f"map_batch's arrays must have the same length, found {', '.join(str(len(c)) for c in cols)}")
    for p, t, c in zip(f.params, f.type.params, cols):
        kinds = _KINDS.get(t)
        if kinds is None:
            raise _usage(f"map_batch takes functions of int, float, f32 and bool arguments; '{p}' of {name} is {t}",
                         "E201")
        if n and c.dtype.kind not in kinds:
            raise _usage(f"argument '{p}' of {name} is {t}, but its array has dtype {c.dtype}", "E201")
        if t == INT and c.dtype.kind == "u" and n and c.max() > np.iinfo(np.int64).max:
            raise _usage(f"argument '{p}' of {name} is int (64-bit), but its array holds {c.max()}", "E201")
    return cols, n


def map_batch(program: ir.Program, name: str, columns, device: Device, sources: dict[str, Source],
              notes=None) -> np.ndarray:
    notes = notes or (lambda line: None)
    cols, n = columns_for(program, name, columns)
    f = program.functions[name]
    if device.is_cuda:
        try:
            lowered = lower_batch(program, name, runtime_hash(("cuda_rt.py",), " cuda"))
            with device_failures(f"map_batch of {name}"):
                return _run_kernel(program, name, lowered, cols, n, sources)
        except Unsupported as u:
            notes(fallback_note(u, sources, "CUDA", f"{name} on the CPU"))
    return on_cpu(program, name, cols, n, sources, f.type.ret)


def _interp(program, sources):
    interp = Interpreter(program, sources)
    run_with_big_stack(interp.init_globals)
    return interp


def _example(f: ir.Function, cols, i: int) -> list:
    return [_PY[t](c[i]) if t in _PY else c[i].item() if hasattr(c[i], "item") else c[i]
            for t, c in zip(f.type.params, cols)]


def on_cpu(program, name, cols, n, sources, ret) -> np.ndarray:
    """The reference: the interpreter, one example at a time."""
    interp = _interp(program, sources)
    fn = interp.function(name)
    f = program.functions[name]

    def go():
        return [fn(*_example(f, cols, i)) for i in range(n)]

    values = run_with_big_stack(go)
    dtype = NP_DTYPES.get(ret)
    return np.array(values, dtype=dtype) if dtype else values


def _run_kernel(program, name, lowered: LoweredModule, cols, n, sources) -> np.ndarray:
    from numba import cuda
    from numba.core.errors import NumbaError

    mod = load(lowered, "cuda").module
    f = program.functions[name]
    args = [np.ascontiguousarray(c, dtype=dt) for c, dt in zip(cols, mod.ARG_DTYPES)]
    gvals = []
    if mod.GLOBALS:
        interp = _interp(program, sources)
        gvals = [_PY[program_global_type(program, g)](interp.globals[g]) for g in mod.GLOBALS]
    if n == 0:
        return np.zeros(0, dtype=mod.RET_DTYPE)
    out = cuda.device_array(n, dtype=mod.RET_DTYPE)
    err = cuda.to_device(np.zeros(n, np.int64))
    d_args = [cuda.to_device(a) for a in args]
    try:
        mod.batch_kernel[(n + THREADS - 1) // THREADS, THREADS](n, *d_args, *gvals, out, err)
    except NumbaError as e:  # numba-cuda rejected the generated code: a bug in Glia; the CPU runs it
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CompileFailed(first, Span(0, 0, 0, 0), "") from None
    errs = err.copy_to_host()
    failed = np.flatnonzero(errs)
    if len(failed):
        raise _example_error(program, name, f, cols, int(failed[0]), sources, lowered.sites[errs[failed[0]] - 1])
    return out.copy_to_host()


def program_global_type(program: ir.Program, name: str):
    return next(g.type for g in program.globals if g.name == name)


def _example_error(program, name, f, cols, i, sources, site) -> GliaError:
    """The interpreter's diagnostic for example `i`, which failed on the device at `site`."""
    interp = _interp(program, sources)
    fn = interp.function(name)
    args = _example(f, cols, i)
    try:
        run_with_big_stack(lambda: fn(*args))
    except GliaError as e:
        d = e.diagnostic
        note = Note(f"in example {i} of the batch ({', '.join(f'{p}={a!r}' for p, a in zip(f.params, args))})")
        return GliaError(Diagnostic(d.code, d.message, d.span, d.stage, d.source, d.notes + (note,)))
    line, col = site[0], site[1]
    raise RuntimeError(f"internal error: example {i} of {name} failed on the device at {site[4]}:{line}:{col} "
                       "but not in the interpreter")
