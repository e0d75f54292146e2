"""`glia train`, `glia params`, `glia eval`, and `glia run --params`: the command-line face of
training (compiler/training.py). Registered through glia/cli.py's COMMAND_MODULES."""
from __future__ import annotations

import argparse
import math
import os
import sys

EXIT_OK, EXIT_PROGRAM = 0, 1


def add_commands(sub) -> None:
    t = sub.add_parser("train", help="train a function's parameters on a data set",
                       description="Train FILE's function on a .npz data set: the settings of its `train` block, "
                                   "overridden by these flags. The trained parameters are saved to --out "
                                   "(default: FILE with .params.npz).")
    t.add_argument("file", metavar="FILE")
    t.add_argument("--fn", help="the function to train (default: the train block's)")
    t.add_argument("--data", help=".npz file with the inputs and targets")
    t.add_argument("--inputs", help="name of the inputs array in the data file (default x)")
    t.add_argument("--targets", help="name of the targets array (default y)")
    t.add_argument("--loss", help="cross_entropy, nll, mse, mae or binary_cross_entropy")
    t.add_argument("--optimizer", help="sgd, adam, adamw or rmsprop, or one with its settings as in the block "
                   "(\"sgd(lr=0.1, momentum=0.9)\")")
    t.add_argument("--momentum", type=float, help="momentum for sgd / rmsprop")
    t.add_argument("--nesterov", action=argparse.BooleanOptionalAction, default=None,
                   help="Nesterov momentum (sgd); --no-nesterov turns the block's off")
    t.add_argument("--weight-decay", type=float, dest="weight_decay")
    t.add_argument("--epochs", type=int)
    t.add_argument("--batch", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--schedule", help="constant, step, exponential, cosine or warmup_cosine, or one with its settings "
                   "as in the train block (\"step(every=5, gamma=0.5)\"); the block's own schedule named keeps "
                   "its settings")
    t.add_argument("--clip", type=float, help="clip the gradient's global norm to this (0: no clipping)")
    t.add_argument("--validation", type=float, help="fraction of the examples held out")
    t.add_argument("--early-stopping", type=int, dest="early_stopping", help="patience in epochs")
    t.add_argument("--seed", type=int)
    t.add_argument("--checkpoint", help="checkpoint file written atomically after every epoch")
    t.add_argument("--resume", action="store_true", help="continue from --checkpoint if it exists")
    t.add_argument("--out", help="where to save the trained parameters (.npz)")
    t.add_argument("--plot", help="save the loss/accuracy curves to this image, in the format its extension names "
                   "(png without one; needs matplotlib)")
    t.add_argument("--engine", choices=["auto", "compiled", "tape"], default="auto",
                   help="auto: compiled when the model allows it, else the interpreter's tape")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    from glia.cli import add_device_option

    add_device_option(t, "where the compiled engine trains (chains of dense layers; the tape stays on the CPU); "
                         "default: the train block's `device = ...`, else cpu", default=None)
    t.set_defaults(handler=cmd_train)

    p = sub.add_parser("params", help="list a program's parameters (names and shapes)",
                       description="List the parameters FILE's layers own, in the flat buffer's order; "
                                   "FILE may also be a saved .npz of parameters or a checkpoint: its arrays.")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--params", help="also show statistics of these trained values (.npz)")
    p.set_defaults(handler=cmd_params)

    e = sub.add_parser("eval", help="loss and accuracy of trained parameters on a data set",
                       description="Evaluate FILE's function with trained parameters on a .npz data set.")
    e.add_argument("file", metavar="FILE")
    e.add_argument("--params", required=True, help="trained parameters (.npz, from glia train)")
    e.add_argument("--fn")
    e.add_argument("--data")
    e.add_argument("--inputs")
    e.add_argument("--targets")
    e.add_argument("--loss")
    e.set_defaults(handler=cmd_eval)

    run = sub.choices.get("run")
    if run is not None:  # glia run FILE --params P: main() runs with trained parameters
        run.add_argument("--params", help="trained parameters (.npz) for the program's layers")
        base = run.get_default("handler")
        run.set_defaults(handler=lambda ns: cmd_run(ns, base))


def _program(path):
    from glia.compiler.driver import check_source, read_source

    return check_source(read_source(path))


def _interp(program):
    from glia.compiler.driver import sources_of
    from glia.compiler.interp import Interpreter

    return Interpreter(program, sources_of(program))


def _options(program, ns, verb="train"):
    from glia.compiler.diagnostics import Diagnostic, GliaError, Span
    from glia.compiler.training import Options, function_to_train, options_from_spec

    spec = None
    if ns.fn:
        spec = next((s for s in program.trains if s.func == ns.fn), None)
    elif program.trains:
        spec = program.trains[0]
    if spec is not None:
        o = options_from_spec(spec, program)
    elif ns.fn:  # (a name that is no function is said before the missing data)
        o = Options(fn=function_to_train(program, ns.fn, verb).name)
    else:
        what = "the function with --fn" + ("" if getattr(ns, "data", None) else " and the data with --data")
        raise GliaError(Diagnostic("E703", f"nothing to {verb}: this program has no `train` block; name {what}",
                                   Span(0, 0, 0, 0), "train", program.source))
    for name in ("data", "inputs", "targets"):
        if getattr(ns, name, None):  # (over the block's: an error about it no longer points there)
            o = _apply(o, name, getattr(ns, name), program)
    if getattr(ns, "loss", None):
        o = _apply(o, "loss", ns.loss, program)
    if not o.data:
        raise GliaError(Diagnostic("E703", f"no data to {verb} {o.fn} on: give --data FILE.npz", Span(0, 0, 0, 0),
                                   "train", program.source))
    return o


def _apply(o, name, v, program):
    from glia.compiler.diagnostics import Diagnostic, GliaError, Span
    from glia.compiler.training import override

    try:
        return override(o, name, v)
    except ValueError as e:
        raise GliaError(Diagnostic("E703", f"--{name.replace('_', '-')}: {e}", Span(0, 0, 0, 0), "train",
                                   program.source)) from None


def cmd_train(ns) -> int:
    from glia.compiler.diagnostics import Diagnostic, GliaError, Span
    from glia.compiler.interp import run_with_big_stack
    from glia.compiler.training import train

    program = _program(ns.file)
    if ns.plot:
        _plot_format(ns.plot, program)  # refuse --plot before training, not after
    o = _options(program, ns)
    if ns.optimizer:
        o = _apply(o, "optimizer", ns.optimizer, program)  # (the block's optimizer settings go with it)
    _optimizer_flags(o, ns, program)
    for name in ("epochs", "batch", "lr", "schedule", "clip", "validation", "early_stopping", "seed"):
        v = getattr(ns, name)
        if v is not None:
            o = _apply(o, name, v, program)
    if ns.checkpoint:  # (over the block's: an error about it no longer points there)
        o = _apply(o, "checkpoint", ns.checkpoint, program)
    o.resume, o.engine = ns.resume, ns.engine
    # tqdm's bar on a terminal; in a log file or a pipe its redrawing would leave carriage returns and many
    # updates on one line, so there a line per epoch
    o.progress = False if ns.no_progress else True if sys.stderr.isatty() else "lines"
    if ns.device:  # overrides the block's `device = ...`
        o = _apply(o, "device", ns.device, program)
    out = ns.out or os.path.splitext(ns.file)[0] + ".params.npz"
    taken = {"the program": ns.file, "the training data": o.data}
    for flag, what, path in (("--out", "the --out file", out),
                             ("--checkpoint" if ns.checkpoint else "checkpoint", "the checkpoint", o.checkpoint),
                             ("--plot", "the --plot image", ns.plot)):
        _writable(flag, path, program, taken, o.spans.get(flag))  # before training (at the block's checkpoint)
        taken[what] = path  # (--out over the checkpoint lost it: the next --resume found no checkpoint in it)
    interp = _interp(program)

    def log(msg):
        sys.stderr.write(msg + "\n")

    hist = run_with_big_stack(lambda: train(interp, o, log=log))
    line = _summary(hist, len(hist["loss"]) - 1, o.epochs)
    if "best_epoch" in hist:  # early stopping restored another epoch's parameters: those are saved
        line += "\nrestored " + _summary(hist, hist["best_epoch"], o.epochs)
    print(line)
    _save(interp.params, out, program)
    running = interp.params.state_flat.size
    print(f"saved {len(interp.params)} parameters" + (f" and {running} running statistics" if running else "")
          + f" to {out}")
    if ns.plot:
        try:
            plot(hist, ns.plot, _plot_format(ns.plot, program))
        except OSError as e:  # (checked before training; the folder went away since)
            raise GliaError(Diagnostic("E703", f"--plot: cannot write {ns.plot}: {e.strerror or e} (the parameters "
                                       f"are saved in {out})", Span(0, 0, 0, 0), "train", program.source)) from None
        print(f"curves in {ns.plot}")
    return EXIT_OK


def _summary(hist, k, epochs) -> str:
    """`epoch 3/20: loss ..., accuracy ...; validation loss ..., accuracy ...` of the epoch at index k."""
    line = f"epoch {k + 1}/{epochs}: loss {hist['loss'][k]:.4f}"
    if not math.isnan(hist["acc"][k]):
        line += f", accuracy {hist['acc'][k]:.4f}"
    if hist["val_loss"] and not math.isnan(hist["val_loss"][k]):
        line += f"; validation loss {hist['val_loss'][k]:.4f}"
        if not math.isnan(hist["val_acc"][k]):
            line += f", accuracy {hist['val_acc'][k]:.4f}"
    return line


def _optimizer_flags(o, ns, program) -> None:
    """--momentum, --[no-]nesterov and --weight-decay over the optimizer's settings, checked as the block's are
    (E703). A value of 0 is a value: `--momentum 0` turns the block's momentum off (with --no-nesterov
    where the block has nesterov=True)."""
    from glia.compiler.diagnostics import Diagnostic, GliaError, Span
    from glia.compiler.training import check_optimizer_args

    given = {name: getattr(ns, name) for name in ("momentum", "weight_decay") if getattr(ns, name) is not None}
    if ns.nesterov is not None:
        given["nesterov"] = ns.nesterov
    if not given:
        return
    try:
        check_optimizer_args(o.optimizer, {**o.opt_args, **given})
    except ValueError as e:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        raise GliaError(Diagnostic("E703", f"{flags}: {e}", Span(0, 0, 0, 0), "train", program.source)) from None
    o.opt_args = {**o.opt_args, **given}


def _writable(flag, path, program, inputs: dict, span=None) -> None:
    """Refuse, before training, a path the parameters cannot be written to, or one that would overwrite
    one of `inputs` (what -> path: the program, the data, another output), which would lose it; at
    `span` (the train block's setting that names the path) when there is one."""
    from glia.compiler.diagnostics import Diagnostic, GliaError, Span
    from glia.runtime.errors import GliaRuntimeError
    from glia.cli import same_file
    from glia.runtime.params import check_writable

    if not path:
        return
    for what, other in inputs.items():
        if other and same_file(other, path):
            raise GliaError(Diagnostic("E703", f"{flag} {path} is {what}: saving there would overwrite it",
                                       span or Span(0, 0, 0, 0), "train", program.source))
    try:
        check_writable(path)
    except GliaRuntimeError as e:
        raise GliaError(Diagnostic("E703", f"{flag}: {e.message}", span or Span(0, 0, 0, 0), "train",
                                   program.source)) from None


def _save(store, out, program) -> None:
    """Save the trained parameters to `out`; if that fails after all (the disk filled, the folder went
    away), to a new file in the current folder or the temporary one, so the training is not lost."""
    import tempfile
    import time

    from glia.compiler.diagnostics import Diagnostic, GliaError, Span
    from glia.runtime.errors import GliaRuntimeError

    try:
        store.save(out)
        return
    except GliaRuntimeError as e:
        why = e.message
    name = f"glia-rescued-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.params.npz"
    for folder in (os.getcwd(), tempfile.gettempdir()):
        rescue = os.path.join(folder, name)
        try:
            store.save(rescue)
        except GliaRuntimeError:
            continue
        raise GliaError(Diagnostic("E703", f"{why}; the trained parameters were saved to {rescue} instead",
                                   Span(0, 0, 0, 0), "train", program.source))
    raise GliaError(Diagnostic("E703", f"{why}, nor anywhere else: the trained parameters are lost",
                               Span(0, 0, 0, 0), "train", program.source))


def _matplotlib():
    from glia.compiler.diagnostics import Diagnostic, GliaError, Span

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise GliaError(Diagnostic("E801", "--plot needs matplotlib: pip install 'glia[plot]'", Span(0, 0, 0, 0),
                                   "train")) from None
    return plt


def _plot_format(path, program) -> str:
    """The image format --plot's extension names (png without one), one matplotlib writes (E703 else):
    `curves.pdf` was a PNG under that name."""
    from glia.compiler.diagnostics import Diagnostic, GliaError, Span

    plt = _matplotlib()
    ext = os.path.splitext(path)[1][1:].lower() or "png"
    formats = plt.figure().canvas.get_supported_filetypes()
    plt.close("all")
    if ext not in formats:
        raise GliaError(Diagnostic("E703", f"--plot {path}: matplotlib cannot write .{ext} images; name the file "
                                   f"with one of {', '.join('.' + f for f in sorted(formats))}", Span(0, 0, 0, 0),
                                   "train", program.source))
    return ext


def plot(hist, path, fmt="png"):
    plt = _matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    ep = range(1, len(hist["loss"]) + 1)
    for ax, key, label in ((axes[0], "loss", "loss"), (axes[1], "acc", "accuracy")):
        ax.plot(ep, hist[key], label="train")
        if hist["val_" + key] and not math.isnan(hist["val_" + key][0]):
            ax.plot(ep, hist["val_" + key], label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.legend()
    fig.tight_layout()
    tmp = path + ".tmp"
    try:
        fig.savefig(tmp, format=fmt)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.remove(tmp)


def cmd_params(ns) -> int:
    from glia.compiler.params import param_dtype, param_specs, state_specs

    if _is_npz(ns.file):
        return _list_npz(ns.file)
    program = _program(ns.file)
    specs, running = param_specs(program), state_specs(program)
    if not specs:
        print(f"{ns.file}: no parameters (no layer calls)")
        return EXIT_OK
    store = None
    if ns.params:
        store = _load_params(program, ns.params)
    width = max(len(s.name) for s in specs + running)
    dt = "f64" if param_dtype(program).__name__ == "float64" else "f32"
    for s in specs + running:
        line = f"{s.name:<{width}}  {dt}[{', '.join(map(str, s.shape))}]"
        if store is not None:
            v = store.named()[s.name]
            line += f"  mean {v.mean():+.4f}  std {v.std():.4f}"
        if s in running:
            line += "  (running statistic, not trained)"
        print(line)
    total = sum(s.size for s in specs)
    print(f"{len(specs)} parameter arrays, {total:,} values in one flat {dt} buffer"
          + (f"; {len(running)} running statistics, {sum(s.size for s in running):,} values, not trained"
             if running else ""))
    return EXIT_OK


def _is_npz(path: str) -> bool:
    """A saved .npz rather than a program: its name says so (a damaged one is then E703, not read as
    Glia source), or its first bytes do."""
    from glia.runtime.params import NPZ_MAGIC

    if path.lower().endswith(".npz"):
        return True
    try:
        with open(path, "rb") as f:
            return f.read(len(NPZ_MAGIC)) == NPZ_MAGIC
    except OSError:
        return False  # (read_source says what is wrong with the path)


def _list_npz(path: str) -> int:
    """`glia params saved.npz`: the arrays of a saved parameters file or checkpoint."""
    from glia.compiler.diagnostics import Diagnostic, GliaError, Source, Span
    from glia.runtime.errors import GliaRuntimeError
    from glia.runtime.params import read_npz

    try:
        arrays = read_npz(path, "parameters file")
    except GliaRuntimeError as e:
        raise GliaError(Diagnostic(e.code, e.message, Span(0, 0, 0, 0), "params", Source(path, ""))) from None
    if not arrays:
        print(f"{path}: an .npz with no arrays")
        return EXIT_OK
    width = max(len(k) for k in arrays)
    for name, v in arrays.items():
        dt = {"float32": "f32", "float64": "f64"}.get(v.dtype.name, v.dtype.name)
        line = f"{name:<{width}}  {dt}[{', '.join(map(str, v.shape))}]"
        if v.dtype.kind == "f" and v.size:
            line += f"  mean {v.mean():+.4f}  std {v.std():.4f}"
        print(line)
    print(f"{len(arrays)} arrays, {sum(v.size for v in arrays.values()):,} values ({path}: a saved .npz; "
          "`glia params PROGRAM` lists what a program's layers own)")
    return EXIT_OK


def _load_params(program, path):
    from glia.compiler.diagnostics import Diagnostic, GliaError, Span
    from glia.compiler.params import new_store
    from glia.runtime.errors import GliaRuntimeError

    store = new_store(program)
    try:
        store.load(path)
    except GliaRuntimeError as e:
        raise GliaError(Diagnostic(e.code, e.message, Span(0, 0, 0, 0), "params", program.source)) from None
    return store


def cmd_eval(ns) -> int:
    from glia.compiler.interp import run_with_big_stack
    from glia.compiler.training import evaluate_all, load_task

    program = _program(ns.file)
    o = _options(program, ns, "evaluate")
    interp = _interp(program)
    interp.params = _load_params(program, ns.params)
    task = load_task(program, o)
    loss, acc = run_with_big_stack(lambda: evaluate_all(interp, task, o))
    line = f"{o.fn} on {o.data} ({len(task.X)} examples): loss {loss:.4f}"
    if not math.isnan(acc):
        line += f", accuracy {acc:.4f}"
    print(line)
    return EXIT_OK


def cmd_run(ns, base) -> int:
    if not getattr(ns, "params", None):
        return base(ns)
    from glia.compiler.diagnostics import GliaError
    from glia.compiler.driver import BACKENDS, run_program

    if ns.backend not in BACKENDS:  # from $GLIA_BACKEND, which argparse does not check
        sys.stderr.write(f"glia run: error: unknown backend {ns.backend!r} (GLIA_BACKEND); choose one of "
                         f"{', '.join(BACKENDS)}\n")
        return 2
    program = _program(ns.file)
    store = _load_params(program, ns.params)
    say = lambda line: (sys.stdout.flush(), sys.stderr.write(line + "\n"))  # noqa: E731
    try:
        code = run_program(program, ns.args, backend=ns.backend, notes=say, params=store,
                           background=os.environ.get("GLIA_BACKGROUND_COMPILE", "1") != "0",
                           trace=say if getattr(ns, "verbose", False) else None)
    except GliaError:
        sys.stdout.flush()
        raise
    sys.stdout.flush()
    return code

