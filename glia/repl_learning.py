"""The REPL's learning commands: `:params`, `:train NAME ...` and `:synth NAME ...`.

A session's layers own parameters like a file's do (`f.dense#1.W`); the session keeps their values
across entries (`Session.params`, name -> array), so what `:train` learned is what the next entry
computes with. Every entry's interpreter gets a parameter store laid out for its program and filled
from those values; a parameter seen for the first time (or whose shape changed because its function
was redefined) starts from the same seeded initialisation as in a file.

`:train` and `:synth` go through the same machinery as `glia train` and `glia synth`
(compiler/training.py, compiler/synth.py): nothing here decides how training or search work.
"""
from __future__ import annotations

import ast as pyast
import dataclasses
import os

import numpy as np

from glia.compiler import ir
from glia.compiler.diagnostics import counted


class CommandError(Exception):
    """A mistake in a command line (not in Glia code): printed as `error: ...`."""


def split_words(text: str) -> list[str]:
    """A command's words, split at spaces outside brackets and quotes: `schedule=step(every=5, gamma=0.5)`
    and `data="my data.npz"` are one word each (a bracket or quote left open runs to the end)."""
    words, word, closers, quote = [], "", [], None
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            closers.append(")]}"["([{".index(ch)])
        elif closers and ch == closers[-1]:
            closers.pop()
        elif ch.isspace() and not closers:
            if word:
                words.append(word)
            word = ""
            continue
        word += ch
    return words + [word] if word else words


def parse_settings(words: list[str]) -> dict:
    """`key=value` words (split_words); values are Python literals where they read as one (3, 0.01, True,
    "a file.npz"), else text."""
    out = {}
    for w in words:
        key, eq, text = w.partition("=")
        if not eq or not key.isidentifier():
            raise CommandError(f"expected key=value, found {w!r}")
        if key in out:
            raise CommandError(f"{key} is given twice")
        try:
            out[key] = pyast.literal_eval(text)
        except (ValueError, SyntaxError):
            out[key] = text
    return out


# ---- parameters kept across entries -----------------------------------------------------------------

class SessionParams:
    """The session's layer parameters: one store, handed to every entry's interpreter and changed in
    place by `:train`. It is laid out again only when the program's layers change (a redefinition);
    then every parameter (and running statistic) keeps its value where its name and shape are the
    same, and a parameter first seen starts from the seeded initialisation (seed 0)."""

    def __init__(self):
        self.store = None
        self.layout = None
        self.saved: dict[str, np.ndarray] = {}  # values of parameters the current layout lacks
        self.trained: set[str] = set()  # the names :train has changed

    def store_for(self, program: ir.Program):
        """The store for `program`'s layers (None when it has none)."""
        from glia.compiler.params import new_store, param_dtype, param_specs, state_specs

        specs = param_specs(program)
        if not specs:
            return None
        layout = (tuple(specs), tuple(state_specs(program)), param_dtype(program))
        if layout != self.layout:
            if self.store is not None:
                self.saved.update(self.store.state())
            store = new_store(program, seed=0)
            for name, view in store.named().items():  # parameters, then running statistics (batch_norm)
                old = self.saved.get(name)
                if old is not None and old.shape == view.shape:
                    view[...] = old
            self.store, self.layout = store, layout
        return self.store

    def values(self) -> dict[str, np.ndarray]:
        """Every parameter's value by name (the current layout's live views last)."""
        return {**self.saved, **(self.store.named() if self.store is not None else {})}


def show_params(session) -> None:
    from glia.compiler.params import param_dtype, param_specs

    program = session.program
    specs = param_specs(program) if program is not None else []
    if not specs:
        session.out.write("no parameters: no function of this session calls a layer (dense, rnn_cell, ...)\n")
        return
    dt = "f64" if param_dtype(program).__name__ == "float64" else "f32"
    width = max(len(s.name) for s in specs)
    trained = session.learned.trained
    store = session.learned.store_for(program)  # the values the next entry computes with
    for s in specs:
        v = store.views[s.name]
        stats = f"  mean {float(np.mean(v)):+.4f}  std {float(np.std(v)):.4f}"
        mark = "  (trained)" if s.name in trained else ""
        shape = "x".join(map(str, s.shape))
        session.out.write(f"{s.name:<{width}}  {dt}[{shape}]{stats}{mark}\n")
    session.out.write(f"{sum(s.size for s in specs):,} parameters\n")


# ---- :train -----------------------------------------------------------------------------------------

def train(session, arg: str) -> None:
    """`:train NAME [data=FILE.npz] [epochs=N lr=... batch=... loss=... ...]`: train NAME with the
    settings of its `train` block (if the session has one), overridden by the words given."""
    from glia.compiler import training
    from glia.compiler.driver import sources_of
    from glia.compiler.interp import Interpreter

    words = split_words(arg)
    if not words:
        raise CommandError("usage: :train NAME [data=FILE.npz] [epochs=N] [lr=X] [batch=N] [loss=...] ...")
    name, settings = words[0], parse_settings(words[1:])
    program = _program_with(session, name)
    spec = next((t for t in program.trains if t.func == name), None)
    if spec is not None:
        o = training.options_from_spec(spec, program)
        found = session.files.locate(spec.span)
        if found is not None:  # the block's data and checkpoint are relative to the file that said it
            folder = os.path.dirname(found[0].name) if os.path.exists(found[0].name) else ""

            def beside(path):
                return os.path.join(folder, path) if path and folder and not os.path.isabs(path) else path

            o = dataclasses.replace(o, data=beside(spec.data), checkpoint=beside(o.checkpoint))
    else:
        o = training.Options(fn=name)
    if "data" in settings:
        o = training.override(o, "data", os.path.expanduser(str(settings.pop("data"))))
    try:
        o = training.apply_keywords(o, settings)  # as Program.train checks them
    except ValueError as e:
        raise CommandError(str(e)) from None
    if not o.data:
        raise CommandError(f"no data to train {name} on: give data=FILE.npz, or define `train {name} on "
                           "\"FILE.npz\": ...` first")
    o = dataclasses.replace(o, progress=False)
    interp = Interpreter(dataclasses.replace(program, globals=()), sources_of(program))
    interp.globals.update({n: v for n, (t, v) in session.vars.items()})
    interp.params = session.learned.store_for(program)
    hist = training.train(interp, o, log=lambda line: session.out.write(line + "\n"))
    for epoch in range(len(hist["loss"])):
        parts = [f"epoch {epoch + 1:>3}", f"loss {hist['loss'][epoch]:.4f}"]
        for key, label in (("acc", "acc"), ("val_loss", "val_loss"), ("val_acc", "val_acc")):
            v = hist[key][epoch]
            if v == v:  # not NaN
                parts.append(f"{label} {v:.4f}" if "loss" in key else f"{label} {v:.3f}")
        session.out.write("  ".join(parts) + "\n")
    session.learned.trained.update(s.name for s in interp.params.specs)


# ---- :synth -----------------------------------------------------------------------------------------

def synth(session, arg: str) -> None:
    """`:synth NAME [timeout=S] [seed=N] [strategy=S]`: fill NAME's hole (and settle its choices)
    against the session's `examples NAME:` block, print the completed function and define it."""
    from glia.compiler import synth as S
    from glia.runtime.search import STRATEGIES, Config

    words = split_words(arg)
    if not words:
        raise CommandError("usage: :synth NAME [timeout=SECONDS] [seed=N] [strategy=auto|bottom-up|...]")
    name, settings = words[0], parse_settings(words[1:])
    unknown = set(settings) - {"timeout", "seed", "strategy"}
    if unknown:
        raise CommandError(f"unknown setting {sorted(unknown)[0]!r}: :synth takes timeout=, seed= and strategy=")
    strategy = str(settings.get("strategy", "auto"))
    if strategy not in STRATEGIES:
        raise CommandError(f"unknown strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")
    timeout, seed = settings.get("timeout", 10.0), settings.get("seed", 0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise CommandError(f"bad value for timeout: a positive number of seconds, found {timeout!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise CommandError(f"bad value for seed: an integer, found {seed!r}")
    config = Config(strategy, float(timeout), seed=seed)
    program = _program_with(session, name)
    func = program.functions[name]
    if not any(isinstance(n, (ir.Hole, ir.Choose)) for n in ir.walk(func.body)):
        raise CommandError(f"{name} has no hole (??) and no choose(...) to fill")
    # search sees the one function: other functions' holes and choices are not its business
    others = {n for n, f in program.functions.items() if n != name and
              any(isinstance(x, (ir.Hole, ir.Choose)) for x in ir.walk(f.body))}
    if others:
        raise CommandError(f"{', '.join(sorted(others))} also ha{'s' if len(others) == 1 else 've'} holes or "
                           f"choices: fill {'it' if len(others) == 1 else 'them'} first (:synth NAME), or "
                           "redefine without")
    text = session.files.virtual.text
    fills = S.solve(program, config)
    for f in fills:
        tag = "cached" if f.cached else f"{counted(f.candidates, 'candidate')}, {f.seconds:.2f} s, {f.strategy}"
        session.out.write(f"# hole in {f.func}: {f.expr}  ({tag})\n")
    completed_text = S.fill_source(text, fills)
    if any(isinstance(n, ir.Choose) for n in ir.walk(func.body)):
        completed = S.verify(program, fills) if fills else program
        chosen = S.settle_choices(completed, config)
        completed_text = S.choose_source(completed_text, chosen)
        for c in chosen:
            found = session.files.locate(c.choice.span)
            where = f"{found[0].name}:{found[1].line}:{found[1].col}" if found else name
            session.out.write(f"# choice at {where}: {c.text}\n")
    completed_func = S.function_source(completed_text, func, [])
    session.out.write(completed_func + "\n")
    session.run_text(completed_func + "\n", f"<synth {name}>")


def _program_with(session, name: str) -> ir.Program:
    program = session.program
    if program is None or name not in program.functions or name.startswith("$"):
        raise CommandError(f"no function named {name!r} in this session (:defs lists them)")
    if program.functions[name].source_name != session.files.name:
        raise CommandError(f"{name} is part of the prelude, not of this session")
    return program
