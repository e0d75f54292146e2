"""Glia: a language for programs that are half learned and half written.

The public face. The compiler lives in `glia.compiler`, the runtime in `glia.runtime`,
the grammar in `glia.grammar` (folders `compiler/`, `runtime/`, `grammar/` of the repository,
mapped into the `glia` package by pyproject.toml).
"""
import os as _os

# In a source checkout (repository root on sys.path, or an editable install) this folder lacks
# compiler/, runtime/ and grammar/: they sit beside it. Let the package path reach them so that
# `glia.compiler` resolves the same way as in an installed wheel.
_here = _os.path.dirname(_os.path.abspath(__file__))
_root = _os.path.dirname(_here)
if not _os.path.isdir(_os.path.join(_here, "compiler")) and _os.path.isfile(
    _os.path.join(_root, "compiler", "__init__.py")
):
    __path__.append(_root)  # type: ignore[name-defined]

__version__ = "0.1.0"

# The public surface (docs/python.md). Loaded on first use, so that `import glia` (and the command
# line) does not pay for the compiler until it is needed.
_EXPORTS = {
    "fn": "glia.dsl", "struct": "glia.dsl", "hole": "glia.dsl", "choose": "glia.dsl", "examples": "glia.dsl",
    "load": "glia.program", "compile": "glia.program", "Program": "glia.program",
    "f32": "glia.annotations", "f64": "glia.annotations", "Fn": "glia.annotations",
    "GliaError": "glia.compiler.diagnostics", "GliaTypeError": "glia.boundary",
    "GliaNotAvailable": "glia.boundary", "GliaKeyError": "glia.boundary", "Record": "glia.boundary",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        from .dsl import Builtin, builtin_names

        if name in builtin_names():  # glia.dense, glia.relu, ...: the Glia builtins, for @glia.fn code
            value = globals()[name] = Builtin(name)
            return value
        raise AttributeError(f"module 'glia' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
