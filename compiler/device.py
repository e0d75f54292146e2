"""Choosing the device: `--device cpu|cuda|auto` (the command line), `device = ...` (a train block),
`device=` (Python).

    resolve(requested, simulate, asked) -> Device
        "cpu"  -> the CPU, always
        "cuda" -> numba-cuda on a GPU, or on its simulator when `simulate`; E901 without numba-cuda,
                  E902 without a GPU
        "auto" -> CUDA when numba-cuda finds a GPU (or `simulate` is set), else the CPU, silently

numba-cuda decides at its first import whether it is the simulator (`NUMBA_ENABLE_CUDASIM`), so
`enable_simulator` must run before anything imports `numba.cuda`; the front doors call `resolve`
first, and the runtime's CUDA modules are imported only after it (lazily, by the code that uses them).
`simulate_requested` is where the two environment variables are read, once, at the front door.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

from .diagnostics import Diagnostic, GliaError, Span

DEVICES = ("cpu", "cuda", "auto")
NO_NUMBA_CUDA = "E901"
NO_GPU = "E902"
DEVICE_FAILED = "E903"


@dataclass(frozen=True)
class Device:
    kind: str  # "cpu" | "cuda"
    simulator: bool = False

    @property
    def is_cuda(self) -> bool:
        return self.kind == "cuda"

    def describe(self) -> str:
        return "CUDA simulator" if self.simulator else "CUDA GPU" if self.is_cuda else "CPU"


CPU = Device("cpu")


def simulate_requested(environ=None) -> bool:
    """GLIA_CUDASIM=1 (Glia's name) or NUMBA_ENABLE_CUDASIM=1 (numba-cuda's own)."""
    env = os.environ if environ is None else environ
    return any(env.get(k, "0").strip() not in ("", "0") for k in ("GLIA_CUDASIM", "NUMBA_ENABLE_CUDASIM"))


def enable_simulator() -> None:
    """Make numba-cuda the simulator; it takes effect only before numba.cuda is first imported."""
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
    from numba.core import config

    config.ENABLE_CUDASIM = 1


def _error(code: str, message: str) -> GliaError:
    return GliaError(Diagnostic(code, message, Span(0, 0, 0, 0), "device"))


# how a device request was written, so that its errors say it the user's way
FLAG, BLOCK, KEYWORD = "--device {}", 'device = "{}"', 'device="{}"'


def resolve(requested: str = "auto", simulate: bool | None = None, asked: str = FLAG) -> Device:
    """`asked`: how the request was written (FLAG on the command line, BLOCK in a train block, KEYWORD
    in Python), for the messages of E901/E902."""
    if requested not in DEVICES:
        raise _error(NO_GPU, f"unknown device {requested!r}; choose one of {', '.join(DEVICES)}")
    if requested == "cpu":
        return CPU
    if simulate is None:
        simulate = simulate_requested()
    if simulate:
        enable_simulator()
    try:
        from numba import cuda
    except ImportError:
        if requested == "auto":
            return CPU
        raise _error(NO_NUMBA_CUDA, f"{asked.format(requested)} needs numba-cuda, which is not installed "
                     "(pip install 'glia[cuda]')") from None
    if is_simulator(cuda):
        return Device("cuda", simulator=True)
    if simulate:  # numba.cuda was imported as the real target before the simulator was asked for
        if requested == "auto":
            return CPU
        raise _error(NO_GPU, "the CUDA simulator was asked for after numba.cuda had been loaded for a GPU; "
                     "set GLIA_CUDASIM=1 before starting")
    try:
        available = bool(cuda.is_available())
    except Exception:  # a broken driver or toolkit counts as no GPU
        available = False
    if available:
        return Device("cuda")
    if requested == "auto":
        return CPU
    raise _error(NO_GPU, f"{asked.format('cuda')}: no CUDA GPU found (numba-cuda sees none); use "
                 f"{asked.format('cpu')} or {asked.format('auto')}, or GLIA_CUDASIM=1 to run CUDA code on the simulator")


def is_simulator(cuda) -> bool:
    """Whether the imported numba.cuda is the simulator (it imported its `simulator_init`)."""
    return getattr(cuda, "simulator_init", None) is not None


@contextlib.contextmanager
def device_failures(what: str):
    """Turn numba-cuda's failures (no CUDA toolkit, a driver error, a kernel it cannot compile) while
    doing `what` into one diagnostic, E903, instead of a traceback."""
    try:
        yield
    except Exception as e:  # noqa: BLE001 - only numba-cuda's own failures are converted
        if not _from_numba_cuda(e):
            raise
        from .diagnostics import REPORT_HINT

        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise _error(DEVICE_FAILED, f"{what} failed on the CUDA device: {first} (without the CUDA toolkit, "
                     f"pip install 'glia[cuda]'; otherwise {REPORT_HINT})") from None


def _from_numba_cuda(e: Exception) -> bool:
    from numba.core.errors import NumbaError

    module = type(e).__module__ or ""
    return isinstance(e, NumbaError) or module.startswith(("numba.cuda", "numba_cuda", "cuda."))

