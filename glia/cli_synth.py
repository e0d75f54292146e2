"""`glia synth` and `glia bench synth`: program search from the command line.

    glia synth FILE.glia|FILE.sl [--strategy S] [--timeout S] [--seed N] [--json] [--write] [--no-cache]
               [--train FN] [--data FILE.npz] [--eta N] [--trials N] [--max-epochs N] [--metric M]
               [--scheduler halving|hyperband]
    glia bench synth TASKS.jsonl [--timeout S] [--json OUT] [--strategy S] [--limit N] [--match TEXT]
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import sys
import time
from dataclasses import replace

from glia.compiler.diagnostics import counted

STRATEGY_HELP = ("auto (default), bottom-up, top-down (deduction through map/filter/zipwith), gp (genetic "
                 "programming, lexicase selection), portfolio")


def add_commands(sub) -> None:
    s = sub.add_parser("synth", help="fill holes (??) and settle choose(...); solve SyGuS .sl problems",
                       description="Fill every hole of a .glia FILE from its `examples` blocks, settle every "
                                   "choose(...) (against the examples, or by training with successive halving "
                                   "when the program has a train block) and print the completed functions; or "
                                   "solve a SyGuS-IF programming-by-example problem (.sl) and print the answer "
                                   "as (define-fun ...).")
    s.add_argument("file", metavar="FILE")
    _search_options(s)
    s.add_argument("--json", action="store_true", help="print the result as JSON")
    s.add_argument("--write", action="store_true", help="write the completed program back to FILE (.glia)")
    s.add_argument("--no-cache", action="store_true", help="search again even if the answer is cached")
    t = s.add_argument_group("choices settled by training (successive halving; docs/search.md)")
    t.add_argument("--train", metavar="FN", default="", help="the function to train (default: the train block's)")
    t.add_argument("--data", metavar="FILE", default="", help=".npz data set (default: the train block's)")
    t.add_argument("--eta", type=int, default=3, help="keep the best 1/eta of each rung, eta times the epochs "
                                                       "next (default 3)")
    t.add_argument("--trials", type=int, default=27, help="at most this many configurations on the first rung "
                                                           "(a seeded sample when there are more; default 27)")
    t.add_argument("--max-epochs", type=int, default=0, help="epochs of the last rung (default: the train "
                                                             "block's epochs)")
    t.add_argument("--scheduler", choices=["halving", "hyperband"], default="halving",
                   help="successive halving (default), or Hyperband: several brackets of it, from aggressive "
                        "to every trial fully trained (about one halving's cost per bracket)")
    t.add_argument("--metric", choices=["val_loss", "val_acc"], default="val_loss",
                   help="what ranks the trials: validation loss (default) or accuracy")
    t.add_argument("--out", metavar="FILE", help="save the winner's trained parameters (.npz, from its trial on "
                                                 "the highest rung) for glia run/eval --params")
    s.set_defaults(handler=cmd_synth)

    b = sub.add_parser("bench", help="run benchmark task files", description="Run benchmark task files.")
    bsub = b.add_subparsers(dest="bench_command", metavar="KIND", parser_class=sub._parser_class)
    bs = bsub.add_parser("synth", help="run a search task file (JSON lines, see docs/search.md)",
                         description="Search every task of TASKS (JSON lines: name, inputs, outputs, types, "
                                     "optional grammar and test_inputs/test_outputs) and report per task: "
                                     "solved, time, candidates evaluated, program, generalisation.")
    bs.add_argument("tasks", metavar="TASKS")
    _search_options(bs)
    bs.add_argument("--json", metavar="OUT", help="write the per-task results to OUT as JSON")
    bs.add_argument("--limit", type=int, default=0, help="run only the first N tasks")
    bs.add_argument("--match", default="", help="run only tasks whose name contains TEXT")
    bs.add_argument("--quiet", action="store_true", help="print only the summary")
    bs.set_defaults(handler=cmd_bench_synth)
    b.set_defaults(handler=_bench_usage(b))


def _bench_usage(parser):
    def handler(ns) -> int:
        parser.print_help(sys.stderr)
        return 2
    return handler


def _search_options(p) -> None:
    p.add_argument("--strategy", default="auto", help=STRATEGY_HELP)
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds of search per hole or task (default 10); of training search for choices "
                        "(default 300)")
    p.add_argument("--seed", type=int, default=0, help="random seed (genetic programming; the sample of configurations when "
                                                        "choices are settled by training); default 0")
    p.add_argument("--max-candidates", type=int, default=None,
                   help="stop after this many candidates (default 200,000,000, as prog.synthesize's)")
    from glia.cli import add_device_option

    add_device_option(p, "cuda evaluates bottom-up's bit-vector candidates on the GPU (the same answers)")


def _config(ns):
    from glia.compiler.diagnostics import Diagnostic, GliaError, Span
    from glia.runtime.search import STRATEGIES, Config

    config = Config(ns.strategy, 10.0 if ns.timeout is None else ns.timeout, seed=ns.seed,
                    **({} if ns.max_candidates is None else {"max_candidates": ns.max_candidates}))
    bad = config.mistake(STRATEGIES)
    if bad:
        raise GliaError(Diagnostic("E604", bad, Span(0, 0, 0, 0), "synth"))
    from glia.cli import resolve_device

    return replace(config, device=resolve_device(ns).kind)


def _train_settings(ns):
    from glia.compiler.choose_train import DEFAULT_TIMEOUT, Settings, check_settings

    s = Settings(ns.train, ns.data, ns.eta, ns.trials, ns.max_epochs, ns.metric, ns.seed,
                 DEFAULT_TIMEOUT if ns.timeout is None else ns.timeout, ns.scheduler)
    check_settings(s)
    return s


def cmd_synth(ns) -> int:
    from glia.compiler.device import device_failures

    from glia.compiler.sygus import is_sygus_path

    config = _config(ns)
    with device_failures("search"):
        if is_sygus_path(ns.file):
            glia_only = [flag for flag, given in (("--write", ns.write), ("--train", ns.train), ("--data", ns.data),
                                                  ("--out", ns.out)) if given]
            if glia_only:  # (they were ignored: nothing written, no word)
                from glia.compiler.diagnostics import Diagnostic, GliaError, Span

                raise GliaError(Diagnostic("E604", f"{', '.join(glia_only)}: for .glia files; a SyGuS answer is "
                                                   "printed (redirect it to a file)", Span(0, 0, 0, 0), "synth"))
            return _synth_sygus(ns, config)
        return _synth_glia(ns, config)


def _synth_glia(ns, config) -> int:
    from glia.compiler import choose_train, synth
    from glia.compiler.diagnostics import Diagnostic, GliaError, Span
    from glia.compiler.driver import check_source, read_source

    settings = _train_settings(ns)
    if ns.out:
        _check_writable(ns.out, ns.file)
    program = check_source(read_source(ns.file))
    if not program.holes and not program.choices:
        raise GliaError(Diagnostic("E602", "this program has no holes (`??`) or choices (`choose`) to settle",
                                   Span(0, 0, 0, 0), "synth", program.source))
    fills, completed = synth.solve_checked(program, config, use_cache=not ns.no_cache) if program.holes else \
        ([], program)
    text = synth.fill_source(program.source.text, fills)
    log = None if ns.json else (lambda msg: sys.stderr.write(msg + "\n"))
    settled = choose_train.settle(completed, config, settings, use_cache=not ns.no_cache, log=log,
                                  progress=log is not None and sys.stderr.isatty())
    chosen = settled.chosen
    if ns.out and settled.params is None:
        raise GliaError(Diagnostic("E604", "--out saves the parameters a training search trained, and this "
                                           "program's choices were not settled by training", Span(0, 0, 0, 0),
                                   "synth", program.source))
    final = synth.choose_source(text, chosen)
    changed = [f.func for f in fills] + [choose_train.owner(completed, c.choice.span) for c in chosen]
    names = list(dict.fromkeys(changed))
    final_prog = check_source(type(program.source)(program.source.name, final)) if chosen else completed
    blocks = {n: synth.function_source(final, final_prog.functions[n], []) for n in names if n}
    if "" in names:  # a choice outside the functions: show the global definitions and train blocks holding one
        lines = {c.choice.span.line for c in chosen}  # (settling a choice rewrites its line, not the lines)
        blocks.update({f"{g.name}": synth.function_source(final, g, []) for g, old in
                       zip(final_prog.globals, completed.globals) if any(old.span.line <= k <= old.span.end_line
                                                                          for k in lines)})
        blocks.update({f"train {t.func}": synth.function_source(final, t, []) for t, old in
                       zip(final_prog.trains, completed.trains) if any(old.span.line <= k <= old.span.end_line
                                                                        for k in lines)})
    if ns.json:
        print(json.dumps({"holes": [{"function": f.func, "hole": f.hole.index, "line": f.hole.span.line,
                                     "expression": f.expr, "candidates": f.candidates,
                                     "seconds": round(f.seconds, 4), "strategy": f.strategy, "cached": f.cached,
                                     "decisions": f.decisions, "reached": f.reached} for f in fills],
                          "choices": [{"line": c.choice.span.line, "option": c.option, "value": c.text, "reached": c.reached}
                                      for c in chosen],
                          "search": settled.search,
                          "functions": blocks}, indent=2))
    else:
        for block in blocks.values():
            print(block)
            print()
        if settled.search is not None:
            for line in choose_train.table(settled.search):
                sys.stderr.write(line + "\n")
        for f in fills:
            how = "cached" if f.cached else f"{counted(f.candidates, 'candidate')}, {f.seconds:.2f} s, {f.strategy}"
            sys.stderr.write(f"{ns.file}:{f.hole.span.line}:{f.hole.span.col}: hole in {f.func} filled ({how})\n")
            if not f.reached:
                sys.stderr.write(f"  note: no example reaches this hole, so any program passes and {f.expr} is a "
                                 f"guess: add an example whose run reaches it\n")
        for c in chosen:
            sys.stderr.write(f"{ns.file}:{c.choice.span.line}:{c.choice.span.col}: choice settled: {c.text} "
                             f"(option {c.option + 1} of {len(c.choice.options)})\n")
            if not c.reached:
                sys.stderr.write("  note: no example reaches this choice, so any option passes and the first was "
                                 "taken: add an example whose run reaches it\n")
    if ns.write:
        _write_atomic(ns.file, final)
        sys.stderr.write(f"wrote {ns.file}\n")
    if ns.out:
        _save_params(ns.out, settled.params, program.source)
        sys.stderr.write(f"saved the winner's {sum(a.size for a in settled.params.values()):,} trained parameters "
                         f"to {ns.out}\n")
    return 0


def _save_params(path: str, params: dict, source) -> None:
    from glia.compiler.diagnostics import Diagnostic, GliaError, Span
    from glia.runtime.errors import GliaRuntimeError
    from glia.runtime.params import save_npz

    try:
        save_npz(path, params)
    except GliaRuntimeError as e:
        raise GliaError(Diagnostic(e.code, e.message, Span(0, 0, 0, 0), "synth", source)) from None


def _write_atomic(path: str, text: str) -> None:
    """Replace `path` by `text`, keeping what the file had of its own: its line endings (the source was
    read with them turned into \\n), a UTF-8 byte order mark, and its permissions."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(path, "rb") as f:
            old = f.read()
    except OSError:  # (a new file: --json OUT)
        old = None
    try:
        with open(tmp, "w", encoding="utf-8-sig" if old and old.startswith(b"\xef\xbb\xbf") else "utf-8",
                  newline="\r\n" if old and b"\r\n" in old else "\n") as f:
            f.write(text)
        if old is not None:
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except OSError as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise _cannot_write(path, e.strerror) from None


def _cannot_write(path: str, why: str):
    from glia.compiler.diagnostics import Diagnostic, GliaError, Span

    return GliaError(Diagnostic("E509", f"cannot write {path}: {why}", Span(0, 0, 0, 0), "write"))


def _check_writable(path: str, source: str) -> None:
    """Before a long run: an output path that cannot be written, or that is the `source` file (which it
    would overwrite), is said now, not after the run."""
    from glia.cli import same_file

    if same_file(path, source):
        raise _cannot_write(path, "it is the input file, which writing would overwrite")
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise _cannot_write(path, "it is a directory")
    if not os.path.isdir(folder):
        raise _cannot_write(path, f"no such directory {folder}")
    if not os.access(folder, os.W_OK):
        raise _cannot_write(path, f"the directory {folder} is not writable")


def _synth_sygus(ns, config) -> int:
    from glia.compiler import sygus
    from glia.compiler.diagnostics import Diagnostic, GliaError, Span
    from glia.runtime.search import SearchError, synthesize
    from glia.runtime.search.terms import to_sexpr

    from glia.compiler.synth import cache_get, cache_path, cache_put

    sp, problem, source = sygus.load(ns.file)
    path = cache_path(source.text, "sygus", config.key())
    record = None if ns.no_cache else cache_get(path)
    where = sp.fun.span or Span(0, 0, 0, 0)  # the synth-fun
    if record is None or not {"answer", "candidates", "seconds", "strategy", "decisions"} <= record.keys():
        try:
            result = synthesize(problem, config)
        except SearchError as e:
            raise GliaError(Diagnostic(e.code, e.message, where, "synth", source)) from None
        if not result.solved:
            raise GliaError(Diagnostic("E606", f"no program found ({result.reason}) after "
                                               f"{counted(result.candidates, 'candidate')} in {result.seconds:.1f} s",
                                       where, "synth", source))
        record = {"answer": sygus.print_answer(sp, to_sexpr(result.term)), "candidates": result.candidates,
                  "seconds": round(result.seconds, 4), "strategy": result.strategy, "decisions": result.decisions}
        cache_put(path, record)
        cached = False
    else:
        cached = True
    if ns.json:
        print(json.dumps({**record, "cached": cached}, indent=2))
    else:
        print(record["answer"])
        how = "cached" if cached else f"{counted(record['candidates'], 'candidate')}, {record['seconds']:.2f} s, " \
                                      f"{record['strategy']}"
        sys.stderr.write(f"{ns.file}: solved ({how})\n")
    return 0


def program_text(problem, term) -> str:
    from glia.runtime.search.terms import to_glia, to_sexpr

    if problem.dialect == "sygus":
        return to_sexpr(term)
    params = ", ".join(f"{p.name}: {p.type}" for p in problem.params)
    return f"def f({params}) -> {problem.ret}:\n    return {to_glia(term, ())}"


def run_task(task, config) -> dict:
    from glia.runtime.search import SearchError, satisfies, synthesize

    row = {"name": task.name, "solved": False, "seconds": 0.0, "candidates": 0, "program": None,
           "generalises": None}
    if task.problem is None:
        row["error"] = task.error
        return row
    from glia.compiler.device import device_failures

    try:
        with device_failures("search"):
            r = synthesize(task.problem, config)
    except SearchError as e:
        row["error"] = e.message
        return row
    row.update(solved=r.solved, seconds=round(r.seconds, 4), candidates=r.candidates, strategy=r.strategy)
    if r.solved:
        row["program"] = program_text(task.problem, r.term)
        if task.problem.test_inputs:
            row["generalises"] = satisfies(r.term, task.problem.test_inputs, task.problem.test_outputs)
    else:
        row["reason"] = r.reason
    return row


def cmd_bench_synth(ns) -> int:
    from glia.compiler.tasks import load_tasks

    config = _config(ns)
    if ns.limit < 0:
        from glia.compiler.diagnostics import Diagnostic, GliaError, Span

        raise GliaError(Diagnostic("E604", f"--limit must be a number of tasks (0: all), not {ns.limit}",
                                   Span(0, 0, 0, 0), "synth"))
    if ns.json:
        _check_writable(ns.json, ns.tasks)
    tasks = load_tasks(ns.tasks)
    if ns.match:
        tasks = [t for t in tasks if ns.match in t.name]
        if not tasks:  # (a mistyped name ran nothing and reported 'solved 0/0', exit 0)
            from glia.compiler.diagnostics import Diagnostic, GliaError, Span

            raise GliaError(Diagnostic("E608", f"no task of {ns.tasks} has a name containing {ns.match!r} (--match)",
                                       Span(0, 0, 0, 0), "synth"))
    if ns.limit:
        tasks = tasks[:ns.limit]
    from glia.cli import caused_by_interrupt

    rows = []
    t0 = time.perf_counter()
    interrupted = False
    try:
        for t in tasks:
            row = run_task(t, config)
            rows.append(row)
            if not ns.quiet:
                mark = "ok  " if row["solved"] else "--  "
                extra = row.get("error") or row.get("reason") or ""
                gen = {True: " (generalises)", False: " (does not generalise)", None: ""}[row["generalises"]]
                print(f"{mark}{row['name'][:48]:48s} {row['seconds']:7.2f} s {row['candidates']:>12,}{gen} {extra}",
                      flush=True)
    except (KeyboardInterrupt, Exception) as e:  # Ctrl-C: the tasks done so far are reported and written
        if not caused_by_interrupt(e):
            raise
        interrupted = True
        sys.stderr.write(f"interrupted after {len(rows)} of {counted(len(tasks), 'task')}\n")
    solved = sum(r["solved"] for r in rows)
    cands = sum(r["candidates"] for r in rows)
    secs = sum(r["seconds"] for r in rows)
    summary = {"file": ns.tasks, "tasks": len(rows), "solved": solved, "timeout": config.timeout,
               "strategy": ns.strategy, "seed": ns.seed, "seconds": round(time.perf_counter() - t0, 2),
               "candidates": cands, "candidates_per_second": round(cands / secs) if secs else 0,
               "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"}
    tested = [r for r in rows if r["generalises"] is not None]
    if tested:
        summary["generalises"] = sum(r["generalises"] for r in tested)
        summary["tested"] = len(tested)
    print(f"{os.path.basename(ns.tasks)}: solved {solved}/{len(rows)} with --timeout {config.timeout:g} "
          f"({counted(cands, 'candidate')}, {summary['candidates_per_second']:,}/s)")
    if interrupted:
        summary["interrupted"] = True
    if ns.json:
        _write_atomic(ns.json, json.dumps({"summary": summary, "results": rows}, indent=1))
    return 130 if interrupted else 0
