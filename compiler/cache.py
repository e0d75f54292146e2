"""The user's cache folder and the generated modules in it: light (the standard library only), so
the warm path of `glia run` (fastrun.py) can find and import a compiled module without the compiler."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import traceback


def cache_dir() -> str:
    """The user's Glia cache folder (GLIA_CACHE_DIR, else XDG_CACHE_HOME/glia, else ~/.cache/glia)."""
    base = os.environ.get("GLIA_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "glia")
    return base


def module_path(key: str, kind: str = "cpu") -> str:
    """Where the generated module `glia_<kind>_<key>.py` lives: `<cache>/<kind>/` (kind: cpu, cuda)."""
    return os.path.join(cache_dir(), kind, f"glia_{kind}_{key}.py")


def import_module(key: str, path: str | None = None, prefix: str = "glia_cpu_", restore=None):
    """Import the cached module `<prefix><key>` (from `path`, else the CPU backend's file): registered
    in sys.modules before it executes, so Numba's cache finds its functions; importing compiles (or
    loads) every function with a signature.

    When Numba cannot use its cache of the module (an index or machine-code file truncated or
    overwritten, or the module's folder emptied by `glia cache clear` while it compiled), that
    cache is dropped, `restore()` (if given) writes the module's file again, and it is imported once
    more, compiling afresh: a damaged cache costs a compile, never a failed run."""
    modname = f"{prefix}{key}"
    mod = sys.modules.get(modname)
    if mod is not None:
        return mod
    path = path or module_path(key)
    try:
        return _execute(modname, path)
    except Exception as e:
        if not _in_numba_cache(e):
            raise
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        sys.stderr.write(f"glia: note: Numba's cache of {path} could not be used ({type(e).__name__}: {first}); "
                         "compiling it again\n")
    drop_numba_cache(path)
    if restore is not None:
        restore()
    return _execute(modname, path)


def _execute(modname: str, path: str):
    from glia.runtime import nblink  # noqa: F401 (how Numba links the module's functions; loads Numba)

    spec = importlib.util.spec_from_file_location(modname, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[modname] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        del sys.modules[modname]
        raise
    return mod


def _in_numba_cache(e: BaseException) -> bool:
    """Did `e` come from Numba's cache (reading its index or machine code, or finding where to save
    them), rather than from compiling?"""
    return any(frame.f_globals.get("__name__") == "numba.core.caching"
               for frame, _ in traceback.walk_tb(e.__traceback__))


def drop_numba_cache(path: str) -> None:
    """Remove Numba's cache files of the module at `path` (`__pycache__/<module>.*.nbi|nbc` beside it)."""
    folder = os.path.join(os.path.dirname(path), "__pycache__")
    stem = os.path.basename(path)[:-3] + "."
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if name.startswith(stem) and name.endswith((".nbi", ".nbc")):
            try:
                os.remove(os.path.join(folder, name))
            except OSError:
                pass


def intact(path: str, key: str) -> bool:
    """Does the generated module at `path` hold the text its key (a hash of that text) names? False
    for a file that is missing, truncated or overwritten."""
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest().startswith(key)
    except OSError:
        return False


def write_json(path: str, record) -> bool:
    """Write `record` as JSON to `path` atomically (a reader never sees half a file); False if the
    cache folder cannot be written (a cache is never worth an error)."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.replace(tmp, path)
        return True
    except OSError:
        return False
