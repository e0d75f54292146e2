"""What both GPU benchmark scripts share: the CUDA device, or the reason there is none."""
from __future__ import annotations

import sys


def cuda_device():
    """The CUDA device (compiler/device.py), or None after printing why there is none (E901/E902: no
    numba-cuda, no GPU)."""
    from glia.compiler.device import resolve
    from glia.compiler.diagnostics import GliaError

    try:
        return resolve("cuda")
    except GliaError as e:
        sys.stderr.write(e.render() + "\n")
        return None
