"""The user's cache folder and the generated modules in it: light (the standard library only), so
the warm path of `glia run` (fastrun.py) can find and import a compiled module without the compiler."""
from __future__ import annotations

import importlib.util
import json
import os
import sys


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


def import_module(key: str, path: str | None = None, prefix: str = "glia_cpu_"):
    """Import the cached module `<prefix><key>` (from `path`, else the CPU backend's file): registered
    in sys.modules before it executes, so Numba's cache finds its functions; importing compiles (or
    loads) every function with a signature."""
    modname = f"{prefix}{key}"
    mod = sys.modules.get(modname)
    if mod is None:
        spec = importlib.util.spec_from_file_location(modname, path or module_path(key))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[modname] = mod
        try:
            spec.loader.exec_module(mod)
        except BaseException:
            del sys.modules[modname]
            raise
    return mod


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
