"""The `glia` command line: check, run, and (as they land) compile, train, synth, repl.

Exit status: 0 success, 1 the program is wrong (a diagnostic was printed), 2 bad usage,
3 an internal error (a bug in Glia).
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback

import glia

EXIT_OK, EXIT_PROGRAM, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """Options may come anywhere among a command's arguments (`glia run FILE --backend interp`,
    `glia check a.glia --time b.glia`); a `--` ends the options: every word after it is an argument
    as written, a later `--` included (`glia run FILE -- --backend -- x` passes all three to main)."""
    _intermixing = False

    def error(self, message):  # argparse exits with 2 on bad usage, as we want; keep its message short
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")

    def parse_known_args(self, args=None, namespace=None):
        positionals = self._get_positional_actions()
        if self._intermixing or any(a.nargs in (argparse.PARSER, argparse.REMAINDER) for a in positionals):
            return super().parse_known_args(args, namespace)  # the top level, whose subcommands parse the rest
        args = list(sys.argv[1:] if args is None else args)
        if "--" in args:  # argparse (before 3.13) drops every `--`, not only the first: keep the later ones
            end = args.index("--") + 1
            args = args[:end] + [_LATER_DASHES if a == "--" else a for a in args[end:]]
        self._intermixing = True
        try:
            ns, extras = self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False
        for key, value in vars(ns).items():
            if isinstance(value, list):
                setattr(ns, key, ["--" if v == _LATER_DASHES else v for v in value])
        return ns, ["--" if v == _LATER_DASHES else v for v in extras]


_LATER_DASHES = "\0--"  # stands for a `--` after the first while argparse reads (no argument holds a NUL)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="glia", description="Glia: a language for programs that are half learned and half written.")
    p.add_argument("--version", action="version", version=f"glia {glia.__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    c = sub.add_parser("check", help="parse and type-check .glia files",
                       description="Parse and type-check each FILE; print every diagnostic. "
                                   "Exit 0 when all are correct, 1 otherwise.")
    c.add_argument("files", nargs="+", metavar="FILE")
    c.add_argument("--time", action="store_true", help="print how long each stage took")

    r = sub.add_parser("run", help="run a program's main()",
                       description="Check FILE and call its main(). The ARGS (the words after FILE that are "
                                   "not options of glia run; everything after `--`) are passed to "
                                   "main(args: list[str]); it is an error to give any to a main without "
                                   "parameters.")
    r.add_argument("file", metavar="FILE")
    r.add_argument("args", nargs="*", default=[], metavar="ARGS",
                   help="the strings passed to main(args: list[str]); after `--` (glia run FILE -- -n 3), "
                        "words that begin with - are passed too")
    r.add_argument("--backend", choices=["auto", "cpu", "interp"], default=os.environ.get("GLIA_BACKEND") or "auto",
                   help="auto (default; $GLIA_BACKEND changes it): compiled when the cache has the program, "
                        "else interpreted now and, if the run took a while, compiled in the background for "
                        "the next run ($GLIA_BACKGROUND_COMPILE=0 turns that off); cpu: compiled before "
                        "running (the first run of a program waits for Numba); interp: the reference "
                        "interpreter. See docs/backends.md")
    r.add_argument("-v", "--verbose", action="store_true", help="say on stderr which backend ran and why")

    add_device_option(r, "where main's batched work runs; main itself runs on the CPU (docs/backends.md)")

    i = sub.add_parser("repl", help="an interactive session (also reads entries from a pipe)",
                       description="Start an interactive Glia session; FILEs are loaded first (as :load). "
                                   "With input from a pipe or a file, entries are read from it and only "
                                   "their output is printed; the exit status is 1 if any entry failed.")
    i.add_argument("files", nargs="*", metavar="FILE")
    i.add_argument("--backend", choices=["interp", "cpu"], default="interp",
                   help="what runs the functions entries call, as :backend chooses (interp: the reference "
                        "interpreter; cpu: each function compiled on its first call)")
    c.set_defaults(handler=cmd_check)
    r.set_defaults(handler=cmd_run)
    i.set_defaults(handler=cmd_repl)
    for name in COMMAND_MODULES:  # each capability's commands live in a module of their own
        importlib.import_module(name).add_commands(sub)
    return p


# Modules that add subcommands: each defines add_commands(sub), which adds its parsers to `sub` and
# sets `handler=fn(ns) -> exit status` on each; handlers raise GliaError for the user's mistakes.
COMMAND_MODULES: list[str] = ["glia.cli_compile", "glia.cli_synth", "glia.cli_train"]


def add_device_option(p, what: str, default: str | None = "cpu") -> None:
    p.add_argument("--device", choices=["cpu", "cuda", "auto"], default=default,
                   help=f"cpu (the default), cuda (numba-cuda; GLIA_CUDASIM=1 runs it on the simulator), or auto "
                        f"(cuda when a GPU is there, else cpu): {what}")


def same_file(a: str, b: str) -> bool:
    """Do two paths name one file (an output that would overwrite an input)?"""
    return os.path.realpath(a) == os.path.realpath(b) or (
        os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b))


def resolve_device(ns):
    """The device --device names (compiler/device.py); E901/E902 when cuda is asked for and absent."""
    from glia.compiler.device import resolve

    return resolve(getattr(ns, "device", "cpu") or "cpu")


def _print_error(err, file: str | None = None) -> None:
    """The diagnostic on stderr; one without a source or a position (a --device, a flag, a setting) is
    said as the program file's (`F: error[E902]: ...`), not as glia's."""
    from dataclasses import replace

    from glia.compiler.diagnostics import Source

    d = err.diagnostic
    if d.source is None and d.span.line == 0 and file:
        d = replace(d, source=Source(file, ""))
    sys.stderr.write(d.render() + "\n")


def cmd_check(ns) -> int:
    from glia.compiler.diagnostics import GliaError
    from glia.compiler.driver import check_source, main_args, read_source

    status = EXIT_OK
    if ns.time:  # load the parser tables and the prelude first, so the figures below are the file's own
        t0 = time.perf_counter()
        from glia.compiler.driver import prelude
        from glia.compiler.syntax import _parser

        _parser()
        prelude()
        sys.stderr.write(f"glia: start-up (parser tables, prelude) {1000 * (time.perf_counter() - t0):.0f} ms\n")
    for path in ns.files:
        t0 = time.perf_counter()
        try:
            program = check_source(read_source(path))
            if "main" in program.functions:  # a file without main is a library; a main must fit `glia run`
                main_args(program, [])
        except GliaError as e:
            _print_error(e, path)
            status = EXIT_PROGRAM
            continue
        dt = time.perf_counter() - t0
        n = len([f for f in program.functions.values() if f.source_name == path])
        msg = f"{path}: ok ({n} function{'s' if n != 1 else ''}"
        if program.holes:
            msg += f", {len(program.holes)} hole{'s' if len(program.holes) != 1 else ''} to fill"
        msg += ")"
        if ns.time:
            msg += f" in {dt * 1000:.0f} ms"
        print(msg)
    return status


def cmd_run(ns) -> int:
    from glia.compiler.diagnostics import GliaError, read_source

    say = lambda line: (sys.stdout.flush(), sys.stderr.write(line + "\n"))  # noqa: E731
    if ns.backend in ("auto", "cpu") and (getattr(ns, "device", "cpu") or "cpu") == "cpu":
        from glia.compiler import fastrun  # warm: the cached module's run manifest, no front end

        try:
            result = fastrun.try_run(read_source(ns.file), ns.args, ns.backend,
                                     trace=say if getattr(ns, "verbose", False) else None)
        except GliaError as e:
            sys.stdout.flush()
            _print_error(e, ns.file)
            return EXIT_PROGRAM
        if result is not fastrun.MISS:
            sys.stdout.flush()
            return result if isinstance(result, int) and not isinstance(result, bool) else 0
    from glia.compiler.driver import BACKENDS, check_source, run_program

    if ns.backend not in BACKENDS:  # from $GLIA_BACKEND, which argparse does not check
        sys.stderr.write(f"glia run: error: unknown backend {ns.backend!r} (GLIA_BACKEND); choose one of "
                         f"{', '.join(BACKENDS)}\n")
        return EXIT_USAGE
    try:
        device = resolve_device(ns)
        program = check_source(read_source(ns.file))
    except GliaError as e:
        _print_error(e, ns.file)
        return EXIT_PROGRAM
    if ns.device == "cuda":
        sys.stderr.write(f"glia: note: main runs on the CPU ({ns.backend} backend); the {device.describe()} runs "
                         "batched functions (Program.map_batch), training and search (docs/backends.md)\n")
    try:
        code = run_program(program, ns.args, backend=ns.backend, notes=say,
                           background=os.environ.get("GLIA_BACKGROUND_COMPILE", "1") != "0",
                           trace=say if getattr(ns, "verbose", False) else None)
    except GliaError as e:
        sys.stdout.flush()
        _print_error(e, ns.file)
        return EXIT_PROGRAM
    sys.stdout.flush()
    return code


def cmd_repl(ns) -> int:
    from glia.repl import main as repl_main

    return repl_main(ns.files, ns.backend)


def _innermost(parser: argparse.ArgumentParser, ns) -> argparse.ArgumentParser:
    """The parser of the (sub)command `ns` was parsed by: `glia bench synth`'s, not `glia bench`'s."""
    while True:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        chosen = getattr(ns, subs[0].dest, None) if subs else None
        if chosen not in (subs[0].choices if subs else ()):
            return parser
        parser = subs[0].choices[chosen]


def main(argv: list[str] | None = None) -> int:
    from glia.compiler.diagnostics import GliaError

    from glia.compiler import stack

    stack.EXIT_ON_INTERRUPT = True  # a Ctrl-C while compiled code runs ends the process (stack.py)
    parser = build_parser()
    ns, extras = parser.parse_known_args(argv)
    if extras:  # said by the subcommand's parser, with its usage line
        hint = " (to pass words that begin with - to main, put them after --: glia run FILE -- -n 3)"
        _innermost(parser, ns).error(f"unrecognized arguments: {' '.join(extras)}"
                                     + (hint if ns.command == "run" else ""))
    if ns.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return ns.handler(ns)
    except GliaError as e:  # the user's mistake, found by a command module
        sys.stdout.flush()
        _print_error(e, getattr(ns, "file", None))
        return EXIT_PROGRAM
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as e:  # a bug in Glia, never the user's fault
        if caused_by_interrupt(e):  # Ctrl-C while a Numba kernel ran (search): a SystemError from its dispatcher
            sys.stderr.write("interrupted\n")
            return 130
        from glia.compiler.diagnostics import REPORT_HINT

        sys.stderr.write(f"glia: internal error ({REPORT_HINT}):\n")
        traceback.print_exc()
        return EXIT_INTERNAL


def caused_by_interrupt(e: BaseException) -> bool:
    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
