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

__all__ = ["__version__"]
