"""`glia compile FILE --emit ast|ir|py` (each stage, readable) and `glia cache info|clear|warm`."""
from __future__ import annotations

import dataclasses
import errno
import os
import sys

EMITS = ("ast", "ir", "py")


def add_commands(sub) -> None:
    c = sub.add_parser("compile", help="show a program at each stage: AST, typed IR, generated code",
                       description="Check FILE and print one stage of its compilation: the syntax tree "
                                   "(ast), the typed IR (ir), or the Python module the CPU backend "
                                   "generates for Numba (py), which is also compiled and cached.")
    c.add_argument("file", metavar="FILE")
    c.add_argument("--emit", choices=EMITS, default="py", help="the stage to print (default: py)")
    c.add_argument("-o", "--output", metavar="OUT", help="write to OUT instead of standard output")
    c.set_defaults(handler=cmd_compile)

    k = sub.add_parser("cache", help="the cache of parser tables and compiled programs",
                       description="`glia cache info` shows where the cache is and what it holds; "
                                   "`glia cache clear` empties it (GLIA_CACHE_DIR overrides the folder); "
                                   "`glia cache warm` compiles the CPU backend's runtime helpers for the common "
                                   "types, and the kernel of program search (glia synth), once, so that the first "
                                   "compile of each new program and the first search are faster (they are "
                                   "cached beside the runtime, for every cache folder).")
    k.add_argument("action", choices=("info", "clear", "warm"))
    k.set_defaults(handler=cmd_cache)


def format_ast(node, indent: int = 0) -> str:
    """An indented listing of a syntax tree (spans as line:col)."""
    pad = "  " * indent
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        name = type(node).__name__
        if name == "Span":
            return f"{node.line}:{node.col}"
        fields = [(f.name, getattr(node, f.name)) for f in dataclasses.fields(node) if f.name != "span"]
        fields = [(k, f"{v.line}:{v.col}" if type(v).__name__ == "Span" else v) for k, v in fields]
        span = getattr(node, "span", None)
        head = f"{name}" + (f" @{span.line}:{span.col}" if span is not None else "")
        simple = [(k, v) for k, v in fields if not _nested(v)]
        nested = [(k, v) for k, v in fields if _nested(v)]
        head += "".join(f" {k}={v!r}" for k, v in simple)
        lines = [head]
        for k, v in nested:
            if isinstance(v, tuple):
                lines.append(f"{pad}  {k}:")
                lines += [f"{pad}    {format_ast(x, indent + 2)}" for x in v]
            else:
                lines.append(f"{pad}  {k}: {format_ast(v, indent + 1)}")
        return "\n".join(lines)
    return repr(node)


def _nested(v) -> bool:
    if isinstance(v, tuple):
        return any(dataclasses.is_dataclass(x) for x in v)
    return dataclasses.is_dataclass(v) and type(v).__name__ != "Span"


def cmd_compile(ns) -> int:
    from glia.cli import same_file
    from glia.compiler.driver import check_source, read_source
    from glia.compiler.syntax import parse

    source = read_source(ns.file)
    status = 0
    if ns.output and same_file(ns.output, ns.file):  # the source would be lost to the generated text
        from glia.compiler.diagnostics import Diagnostic, GliaError, Source, Span

        raise GliaError(Diagnostic("E509", f"cannot write {ns.output}: it is the input file, which writing would "
                                   "overwrite", Span(0, 0, 0, 0), "write", Source(ns.output, "")))
    if ns.emit == "ast":
        text = format_ast(parse(source))
    else:
        program = check_source(source)
        if ns.emit == "ir":
            from glia.compiler.irprint import format_program

            text = format_program(program, source.name)
        else:
            from glia.compiler.backend_cpu import CompileFailed, fallback_note, load_or_explain, lower_program
            from glia.compiler.driver import sources_of
            from glia.compiler.lower_numba import Unsupported

            try:
                lowered = lower_program(program, *_roots(program))
            except Unsupported as u:
                sys.stderr.write(fallback_note(u, sources_of(program)).replace("running in the interpreter: ", "")
                                 + "\n")
                return 1
            try:
                load_or_explain(lowered)  # compile it now, so that `glia run` finds it in the cache
            except CompileFailed as u:  # (a bug: the generated module is still shown, to report it)
                sys.stderr.write(fallback_note(u, sources_of(program)).replace("running in the interpreter: ", "")
                                 + "\n")
                status = 1
            text = lowered.source
    if ns.output:
        try:
            with open(ns.output, "w", encoding="utf-8") as f:
                f.write(text if text.endswith("\n") else text + "\n")
        except OSError as e:
            from glia.compiler.diagnostics import Diagnostic, GliaError, Source, Span

            raise GliaError(Diagnostic("E509", f"cannot write {ns.output}: {e.strerror}", Span(0, 0, 0, 0), "write",
                                       Source(ns.output, ""))) from None
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return status


def _roots(program) -> tuple:
    """lower_program's (root, all_callable, also) for `--emit py`: the program from its `main`, or a
    file of functions without one (a library) with every function that is not generic, each callable."""
    if "main" in program.functions:
        return ("main",)
    names = [n for n, f in program.functions.items() if not f.type_params and not n.startswith("$")
             and f.source_name == program.source.name]
    if not names:
        from glia.compiler.diagnostics import Diagnostic, GliaError, Span

        raise GliaError(Diagnostic("E208", "this file has no `def main():` and no function that is not generic "
                                   "to compile", Span(1, 1, 1, 2), "compile", program.source))
    return names[0], True, tuple(names[1:])


def _size(path: str) -> tuple[int, int]:
    files = total = 0
    for root, _, names in os.walk(path):
        for n in names:
            try:
                total += os.path.getsize(os.path.join(root, n))
                files += 1
            except OSError:
                pass
    return files, total


def cmd_cache(ns) -> int:
    from glia.compiler.syntax import cache_dir

    folder = cache_dir()
    if ns.action == "warm":
        return warm_runtime()
    if os.path.exists(folder) and not os.path.isdir(folder):
        sys.stderr.write(f"glia: the cache folder {folder} is not a folder (GLIA_CACHE_DIR chooses another)\n")
        return 1
    if ns.action == "clear":
        return clear_cache(folder)
    print(f"cache folder: {folder}" + ("" if os.path.isdir(folder) else " (empty: not created yet)"))
    if os.path.isdir(folder):
        parts = {"parser tables and prelude": 0, "compiled programs (CPU)": 0, "other": 0}
        counts = dict.fromkeys(parts, 0)
        for entry in sorted(os.listdir(folder)):
            path = os.path.join(folder, entry)
            n, size = _size(path) if os.path.isdir(path) else (1, _file_size(path))
            kind = ("compiled programs (CPU)" if entry == "cpu" else
                    "parser tables and prelude" if entry.endswith(".pickle") else "other")
            parts[kind] += size
            counts[kind] += n
        for kind, size in parts.items():
            if counts[kind]:
                print(f"  {kind}: {counts[kind]} files, {size / 1e6:.1f} MB")
        cpu = os.path.join(folder, "cpu")
        if os.path.isdir(cpu):
            names = os.listdir(cpu)
            mods = [n for n in names if n.endswith(".py")]
            marks = {kind: sum(n.endswith("." + kind) for n in names) for kind in ("ready", "lock", "failed")}
            print(f"  {len(mods)} generated module{'s' if len(mods) != 1 else ''} ({marks['ready']} ready for `glia run`, "
                  f"{marks['lock']} compiling now, {marks['failed']} failed)")
    runtime = _runtime_cache()
    if runtime:  # Numba keeps the runtime's machine code beside its sources, not in the cache folder
        n = sum(name.endswith((".nbi", ".nbc")) for name in os.listdir(runtime)) if os.path.isdir(runtime) else 0
        print(f"runtime helpers (Numba's cache, compiled once per machine; `glia cache warm`): {runtime}, "
              f"{n} files" + ("" if n else " (empty: compiled at first use)"))
    return 0


def _file_size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:  # (removed meanwhile, by another process)
        return 0


def clear_cache(folder: str) -> int:
    """Empty the cache folder but for the REPL history; what could not be removed (a read-only folder)
    is said, with exit status 1. Files that vanish meanwhile (another process's) are no error."""
    removed, failed = 0, []

    def remove(path: str) -> None:
        nonlocal removed
        try:
            os.remove(path)
            removed += 1
        except FileNotFoundError:
            pass
        except OSError as e:
            failed.append(e)

    if os.path.isdir(folder):
        for entry in os.listdir(folder):
            if entry == "repl_history":  # the user's own typing, not a cache
                continue
            path = os.path.join(folder, entry)
            if os.path.isdir(path) and not os.path.islink(path):
                for root, dirs, names in os.walk(path, topdown=False):
                    for name in names:
                        remove(os.path.join(root, name))
                    for name in dirs:
                        _remove_dir(os.path.join(root, name), failed)
                _remove_dir(path, failed)
            else:
                remove(path)
    if failed:
        sys.stderr.write(f"glia: could not clear {folder}: {failed[0].strerror} ({len(failed)} files or folders "
                         f"left, {removed} removed)\n")
        return 1
    print(f"cleared {folder} ({removed} files; REPL history kept)")
    return 0


def _remove_dir(path: str, failed: list) -> None:
    try:
        os.rmdir(path)
    except FileNotFoundError:  # (removed meanwhile, by another process)
        pass
    except OSError as e:
        # not empty: a file that could not be removed (counted) or that another process wrote meanwhile
        if e.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            failed.append(e)


def _runtime_cache() -> str | None:
    """Where Numba caches the CPU backend's runtime helpers (runtime/__pycache__, or Numba's own
    folder when the package's is read-only)."""
    from glia.runtime import nbrt

    for obj in vars(nbrt).values():
        path = getattr(getattr(obj, "_cache", None), "_cache_path", None)
        if path:
            return path
    return None


def warm_runtime() -> int:
    """Compile compiler/warm.glia (a program using the runtime's helpers with the common types) on
    the CPU backend, and search's kernel (runtime/search/bvkernel.py): Numba caches each helper it
    compiles, beside the runtime, for every later program (docs/backends.md, "Compile time")."""
    import time
    from importlib import resources

    from glia.compiler.backend_cpu import load_or_explain, lower_program
    from glia.compiler.diagnostics import Source
    from glia.compiler.driver import check_source
    from glia.runtime import nbrt
    from glia.runtime.search import bvkernel

    t0 = time.perf_counter()
    text = resources.files("glia.compiler").joinpath("warm.glia").read_text(encoding="utf-8")
    load_or_explain(lower_program(check_source(Source("<warm>", text))))
    bvkernel.load(announce=False)  # the kernel of program search (`glia synth`)
    print(f"compiled the runtime's helpers for the common types and the search kernel in "
          f"{time.perf_counter() - t0:.1f} s (Numba's cache: {nbrt.dict_get._cache._cache_path})")
    return 0
