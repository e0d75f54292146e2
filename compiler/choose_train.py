"""Settling `choose(...)` by training: successive halving with the weights trained inside each trial.

    program with choices + a training (a `train` block, or --train FN --data FILE)
      -> configurations (every combination of options, or a seeded sample of --trials of them)
      -> runtime/search/halving.py: rungs of growing epoch budgets, the best 1/eta kept each time
         one trial = the source with each choice replaced by its option, checked again, and trained
         from scratch by compiler/training.py (the same run as `glia train` for that many epochs),
         scored on the held-out validation rows
      -> the winner's options (synth.Chosen), and a record of every trial, cached by content hash

Choices inside a function that has an `examples` block are settled against the examples first
(synth.settle_choices); every other choice is settled by training when there is a training.
"""
from __future__ import annotations

import hashlib
import itertools
import math
import numbers
import os
import time
from dataclasses import dataclass, replace

import numpy as np

from glia.runtime.errors import GliaRuntimeError
from glia.runtime.params import read_npz, save_npz
from glia.runtime.search.halving import Outcome, hyperband, hyperband_plan, plan, successive_halving

from . import ir
from . import synth
from .diagnostics import Diagnostic, GliaError, Source, Span, counted
from .interp import Interpreter, run_with_big_stack
from .synth import Chosen, _span_text, choose_source
from .training import NOT_FINITE, Options, load_npz, options_from_spec, train

STAGE = "synth"
METRICS = ("val_loss", "val_acc")
SCHEDULERS = ("halving", "hyperband")
DEFAULT_VALIDATION = 0.2  # held out for scoring trials when the training holds out nothing
DEFAULT_TRIALS = 27
DEFAULT_TIMEOUT = 300.0


@dataclass(frozen=True, slots=True)
class Settings:
    """How choices are settled by training (the flags of `glia synth`, the keywords of
    Program.synthesize)."""

    train: str = ""  # the function to train; "" for the program's first train block
    data: str = ""  # a .npz file overriding the train block's
    eta: int = 3
    trials: int = DEFAULT_TRIALS  # at most this many configurations on the first rung
    max_epochs: int = 0  # the last rung's epochs; 0 for the train block's `epochs`
    metric: str = "val_loss"
    seed: int = 0  # which configurations are sampled when there are more than `trials`
    timeout: float = DEFAULT_TIMEOUT
    scheduler: str = "halving"  # "hyperband": several brackets of successive halving (runtime/search/halving.py)

    def key(self) -> str:
        return (f"choose-train-1|{self.train}|{self.eta}|{self.trials}|{self.max_epochs}|{self.metric}|{self.seed}"
                + ("" if self.scheduler == "halving" else f"|{self.scheduler}"))


@dataclass(slots=True)
class Settled:
    chosen: list[Chosen]  # every choice: those settled by examples and those settled by training
    search: dict | None  # the training search's record (rungs, trials, decisions); None without one
    params: dict | None = None  # the winner's trained parameters by name (its trial on the highest rung)


def _err(program: ir.Program, code: str, msg: str, span: Span | None = None) -> GliaError:
    return GliaError(Diagnostic(code, msg, span or Span(0, 0, 0, 0), STAGE, program.source))


def settings_mistake(eta, trials, max_epochs) -> str:
    """What is wrong with the integer settings as a user gave them ("" when nothing)."""
    def whole(v, least):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= least

    return (not whole(eta, 2) and f"--eta (eta=) must be an integer of at least 2, not {eta!r}") or \
        (not whole(trials, 1) and f"--trials (trials=) must be an integer of at least 1, not {trials!r}") or \
        (not whole(max_epochs, 0) and f"--max-epochs (max_epochs=) must be an integer of at least 1, not "
                                      f"{max_epochs!r}") or ""


def check_settings(s: Settings) -> None:
    """Bad search options are E604 (a usage mistake, before anything is trained)."""
    bad = settings_mistake(s.eta, s.trials, s.max_epochs) or \
          (s.metric not in METRICS and f"--metric (metric=) is one of {', '.join(METRICS)}, found {s.metric!r}") or \
          (not s.timeout > 0 and "--timeout must be a positive number of seconds") or \
          (s.scheduler not in SCHEDULERS and
           f"--scheduler (scheduler=) is one of {', '.join(SCHEDULERS)}, found {s.scheduler!r}")
    if bad:
        raise GliaError(Diagnostic("E604", bad, Span(0, 0, 0, 0), STAGE))


def has_training(program: ir.Program, s: Settings | None) -> bool:
    return bool(program.trains) or (s is not None and bool(s.train))


def settle(program: ir.Program, config, s: Settings | None, *, x=None, y=None, use_cache: bool = True,
           log=None, progress: bool = False) -> Settled:
    """Settle every choice of `program`: against the examples, and by training (successive halving)
    for the choices outside functions with examples when the program has a training. `log` takes
    the header line, `progress` shows a bar over the trials (on stderr)."""
    if not program.choices:
        return Settled([], None)
    if not has_training(program, s) and x is None:
        return Settled(synth.settle_choices(program, config), None)
    s = s or Settings()
    with_examples = {e.func for e in program.examples if e.examples}
    by_examples = [c for c in program.choices if owner(program, c.span) in with_examples]
    trained = sorted((c for c in program.choices if c not in by_examples), key=lambda c: (c.span.line, c.span.col))
    chosen = synth.settle_choices(program, config, by_examples) if by_examples else []
    if not trained:
        return Settled(chosen, None)
    record, params = settle_by_training(program, trained, chosen, s, x, y, use_cache, log, progress)
    text = program.source.text
    chosen += [Chosen(c, o, _span_text(text, c.options[o].span), alone=synth.choice_alone(program, c))
               for c, o in zip(trained, record["chosen"])]
    return Settled(chosen, record, params)


def owner(program: ir.Program, span: Span) -> str:
    """The name of the user's function whose text holds `span` ("" for a train block or elsewhere)."""
    name = program.source.name if program.source is not None else None
    for f in program.functions.values():
        if f.source_name == name and (f.span.line, f.span.col) <= (span.line, span.col) and \
                span.end_line <= f.span.end_line:
            return f.name
    return ""


# ---- configurations ------------------------------------------------------------------------------

def configurations(sizes: list[int], limit: int, seed: int) -> list[tuple[int, ...]]:
    """Every combination of options (in order, first options first) when there are at most `limit`,
    else `limit` distinct ones drawn with `seed`, kept in that order."""
    if math.prod(sizes) <= limit:
        return list(itertools.product(*[range(n) for n in sizes]))
    rng = np.random.default_rng(seed)
    seen: set[tuple[int, ...]] = set()
    while len(seen) < limit:
        seen.add(tuple(int(rng.integers(n)) for n in sizes))
    return sorted(seen)


# ---- the search ----------------------------------------------------------------------------------

def base_options(program: ir.Program, s: Settings, need_data: bool = True) -> Options:
    spec = _spec(program, s.train)
    if spec is not None:
        o = options_from_spec(spec, program)
    elif s.train:
        o = Options(fn=s.train)
    else:
        raise _err(program, "E602", "nothing to train: name the function with --train FN (train= from Python)")
    if s.data:
        o.data = s.data
    if need_data and not o.data:
        raise _err(program, "E703", f"no data to train {o.fn} on: give --data FILE.npz (data= from Python), or "
                                    f"write a `train {o.fn} on \"FILE.npz\":` block")
    if o.fn not in program.functions:
        raise _err(program, "E703", f"no function named '{o.fn}' to train")
    return o


def _spec(program: ir.Program, fn: str):
    return next((t for t in program.trains if not fn or t.func == fn), None)


def data_key(x, y) -> str:
    """A hash of the data's contents (part of the cache key: the same file name may hold new data)."""
    h = hashlib.sha256()
    for a in (np.ascontiguousarray(x), np.ascontiguousarray(y)):
        h.update(str((a.dtype, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def settle_by_training(program: ir.Program, choices: list[ir.Choose], fixed: list[Chosen], s: Settings,
                       x, y, use_cache: bool, log, progress: bool = False) -> tuple[dict, dict | None]:
    """Successive halving over the options of `choices` (the `fixed` ones already settled); returns
    the record (the options chosen, the rungs and every trial) and the winner's trained parameters,
    both cached by content hash."""
    text = program.source.text
    base = base_options(program, s, need_data=x is None)
    epochs = s.max_epochs or base.epochs
    if x is None:
        x, y = load_npz(base.data, base.inputs, base.targets)
    path = synth.cache_path(text, s.key(), str(epochs), data_key(x, y))
    record = synth.cache_get(path) if use_cache else None
    params = _load_params(_params_path(path), log) if record is not None else None
    if params is not None and {"chosen", "trials", "rungs", "configs"} <= record.keys() and \
            len(record["chosen"]) == len(choices):
        record["cached"] = True
        return record, params
    sizes = [len(c.options) for c in choices]
    configs = configurations(sizes, s.trials, s.seed)
    labels = [", ".join(_span_text(text, c.options[o].span) for c, o in zip(choices, cfg)) for cfg in configs]
    validation = base.validation or DEFAULT_VALIDATION
    deadline = time.perf_counter() + s.timeout

    best_of_rung: dict[int, tuple[float, int, dict]] = {}  # epochs -> (score, configuration, parameters)

    def run(i: int, budget: int) -> Outcome:
        chosen = fixed + [Chosen(c, o, _span_text(text, c.options[o].span)) for c, o in zip(choices, configs[i])]
        out, params = _trial(program, choose_source(text, chosen), base, s, budget, validation, deadline, x, y)
        if params is not None and not out.cut_short and out.score < best_of_rung.get(budget, (math.inf,))[0]:
            best_of_rung[budget] = (out.score, i, params)  # the first of equals, as the scheduler ranks them
        return out

    brackets = hyperband_plan(len(configs), epochs, s.eta) if s.scheduler == "hyperband" else \
        [plan(len(configs), epochs, s.eta)]
    scheme = f"Hyperband ({len(brackets)} brackets of successive halving)" if len(brackets) > 1 else \
        "successive halving"
    if log:
        log(f"settling {len(choices)} choice{'s' * (len(choices) != 1)} by training {base.fn}: {scheme} "
            f"over {len(configs)} of {counted(math.prod(sizes), 'configuration')}, eta {s.eta}, scored by "
            f"{'validation loss' if s.metric == 'val_loss' else 'validation accuracy'} on "
            f"{validation:g} of the data held out" + ("" if base.validation else " (the training settings hold out "
                                                      "none)"))
    bar = _bar(sum(n for rungs in brackets for n, _ in rungs)) if progress else None

    def on_trial(t):
        if bar is not None:
            where = f"bracket {t.bracket + 1}, " if len(brackets) > 1 else ""
            bar.set_postfix_str(f"{where}rung {t.rung + 1}, {t.budget} epochs: {labels[t.config]}", refresh=False)
            bar.update(1)

    try:
        if s.scheduler == "hyperband":
            result = run_with_big_stack(lambda: hyperband(len(configs), run, max_budget=epochs, eta=s.eta, seed=s.seed,
                                                          deadline=deadline, on_trial=on_trial))
        else:
            result = run_with_big_stack(lambda: successive_halving(len(configs), run, max_budget=epochs, eta=s.eta,
                                                                   deadline=deadline, on_trial=on_trial))
    finally:
        if bar is not None:
            bar.close()
    if result.best is None:
        failed = next((t.info["error"] for t in result.trials if "error" in t.info), None)
        if failed:
            raise _err(program, "E609", f"every configuration failed to train; the first: {failed}", choices[0].span)
        raise _err(program, "E606", f"no configuration finished training within the time limit ({s.timeout:g} s); "
                                    "try a longer --timeout or a smaller --max-epochs", choices[0].span)
    record = {"chosen": list(configs[result.best]), "configs": [list(c) for c in configs], "labels": labels,
              "choices": [{"line": c.span.line, "col": c.span.col, "function": owner(program, c.span) or "train",
                           "options": [_span_text(text, o.span) for o in c.options]} for c in choices],
              "rungs": [{"configurations": n, "epochs": b} for n, b in result.rungs],
              "brackets": [[{"configurations": n, "epochs": b} for n, b in rungs] for rungs in result.brackets],
              "trials": [{"config": t.config, "label": labels[t.config], "bracket": t.bracket + 1, "rung": t.rung + 1,
                          "epochs": t.budget, **t.info, "seconds": round(t.seconds, 3), "kept": t.kept,
                          "cut_short": t.cut_short, "reused": t.reused}
                         for t in result.trials],
              "scheduler": s.scheduler, "metric": s.metric, "eta": s.eta, "function": base.fn, "validation": validation,
              "stopped": result.stopped, "timeout": s.timeout, "seconds": round(result.seconds, 3), "cached": False}
    params = next((p for b, (_, c, p) in sorted(best_of_rung.items(), reverse=True) if c == result.best), None)
    if use_cache and not result.stopped and params is not None:  # one cut short depends on the machine
        _save_params(_params_path(path), params)
        synth.cache_put(path, record)
    return record, params


def _params_path(record_path: str) -> str:
    return record_path[:-len(".json")] + ".params.npz"


def _save_params(path: str, params: dict) -> None:
    try:
        save_npz(path, params)
    except GliaRuntimeError:
        pass  # a cache that cannot be written only costs the next run its time


def _load_params(path: str, log=None) -> dict | None:
    """The cached winner's parameters, or None when there are none, or the file is damaged: a cache
    entry, so the search runs again and replaces it (the log says which file and what is wrong)."""
    if not os.path.exists(path):
        return None
    try:
        return read_npz(path, "cached parameter file")
    except GliaRuntimeError as e:
        if log:
            log(f"{e.message}; searching again")
        return None


def _bar(total: int):
    from tqdm import tqdm

    return tqdm(total=total, unit="trial", desc="choose", dynamic_ncols=True, leave=False)


def _trial(program, text, base: Options, s: Settings, budget: int, validation: float, deadline, x,
           y) -> tuple[Outcome, dict | None]:
    """Train one configuration (its completed source) from scratch for `budget` epochs; its outcome
    and trained parameters."""
    from .driver import check_source, sources_of

    prog = check_source(Source(program.source.name, text))
    spec = _spec(prog, s.train)
    o = options_from_spec(spec, prog) if spec is not None else base  # the train block may hold choices
    o = replace(o, data=base.data, epochs=budget, validation=validation, progress=False, checkpoint=None, resume=False,
                deadline=deadline)
    interp = Interpreter(prog, sources_of(prog))
    try:
        hist = train(interp, o, x, y, trial=True)
    except GliaError as e:
        if e.diagnostic.code != NOT_FINITE:
            raise
        return Outcome(math.inf, {"error": e.diagnostic.message}), None
    k = int(np.nanargmin(hist["val_loss"])) if hist.get("stopped") else len(hist["val_loss"]) - 1
    info = {name: _num(hist[name][k]) for name in ("val_loss", "val_acc", "loss", "acc")}
    if s.metric == "val_loss" or info["val_acc"] is None:
        score = info["val_loss"]
    else:  # ties in accuracy (common on small validation sets) go to the lower loss
        score = -info["val_acc"] + 1e-9 * (info["val_loss"] or 0.0)
    out = Outcome(math.inf if score is None else score, info, cut_short=bool(hist.get("cut_short")))
    return out, interp.params.state()


def _num(v) -> float | None:
    v = float(v)
    return None if math.isnan(v) else round(v, 6)


# ---- the table -----------------------------------------------------------------------------------

def table(record: dict) -> list[str]:
    """The per-rung table, for stderr: each trial's configuration, epochs, validation loss/accuracy."""
    width = max([len(t["label"]) for t in record["trials"]] + [13])
    lines = []
    heads = "; ".join(f"{c['line']}:{c['col']} {', '.join(c['options'])}" for c in record["choices"])
    lines.append(f"choices: {heads}")
    brackets = record.get("brackets") or [record["rungs"]]  # records cached before Hyperband have no brackets
    for b, rungs in enumerate(brackets, 1):
        if len(brackets) > 1 and any(t.get("bracket", 1) == b for t in record["trials"]):
            lines.append(f"bracket {b} of {len(brackets)}:")
        for r, rung in enumerate(rungs, 1):
            rows = [t for t in record["trials"] if t["rung"] == r and t.get("bracket", 1) == b]
            if not rows:
                break
            lines.append(f"rung {r}: {rung['configurations']} configuration{'s' * (rung['configurations'] != 1)} "
                         f"x {rung['epochs']} epoch{'s' * (rung['epochs'] != 1)}")
            lines.append(f"  {'configuration':<{width}}  val_loss  val_acc  seconds")
            for t in rows:
                if "error" in t:
                    lines.append(f"  {t['label']:<{width}}  failed: {t['error']}")
                    continue
                top = "  <- best" if len(brackets) == 1 else "  <- best of the bracket"
                mark = "  <- kept" if t["kept"] and r < len(rungs) else top if t["kept"] else ""
                mark = "  (cut short by the time limit)" if t["cut_short"] else mark
                seconds = " (seen)" if t.get("reused") else f"{t['seconds']:7.2f}"
                lines.append(f"  {t['label']:<{width}}  {_fmt(t.get('val_loss'), 8)}  {_fmt(t.get('val_acc'), 7)}  "
                             f"{seconds}{mark}")
    best = record["labels"][record["configs"].index(record["chosen"])]
    if record["stopped"]:
        lines.append(f"time limit ({record['timeout']:g} s) reached: the best configuration so far is {best}")
    else:
        trained = sum(1 for t in record["trials"] if not t.get("reused"))
        lines.append(f"best: {best} ({counted(trained, 'trial')}, {record['seconds']:.1f} s"
                     f"{', cached' if record.get('cached') else ''})")
    return lines


def _fmt(v, w) -> str:
    return f"{v:{w}.4f}" if v is not None else f"{'-':>{w}}"
