"""Training a Glia function on a data set: settings, data checks, and the two engines.

    options (a `train` block, command-line flags, Program.train keywords)
      -> data checked against the function's types (E703 before anything runs or is written)
      -> engine: compiled whole-epoch kernels (runtime/mlp_kernels.py) for a chain of dense layers
         and activations, else compiled traces (trace_compile.py) for a model with control flow whose
         primitives have codegen rules, else the interpreter's tape (autodiff.py), which runs any program
      -> runtime/train_loop.run (epochs, validation, early stopping, checkpoints, progress)

The model function takes one example (`def digit(img: f32[64]) -> f32[10]`), or a whole minibatch when
its input and output start with the same named dimension (`def digit(x: f32[n, 64]) -> f32[n, 10]`: a
model over a batch, the only kind that may reach batch_norm); the loss compares each example's output
with its target and is averaged over each minibatch.
"""
from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass, field, replace

import numpy as np

from . import ast as A
from . import ir
from .autodiff import NonFiniteVJP, Tape, ad_interpreter, backward, first_nonfinite, param_store
from .diagnostics import Diagnostic, GliaError, Source, Span
from .checker import TRAIN_SETTINGS
from .device import FLAG, KEYWORD
from .interp import Interpreter
from .ir import reachable
from .params import new_store
from .primitives import PRIMS
from .types import F32, FLOAT, TensorT
from glia.runtime import train_loop
from glia.runtime.errors import GliaRuntimeError
from glia.runtime.optim import OPTIMIZERS, SCHEDULES, clip_grad_norm, make_optimizer, optimizer_settings
from glia.runtime.params import check_writable, read_npz
from glia.runtime.tensor_ops import NO_BATCH

STAGE = "train"
BAD_DATA = "E703"
NOT_FINITE = "E702"
LOSSES = ("cross_entropy", "nll", "mse", "mae", "binary_cross_entropy")
LOSS_NAMES = {"loss.ce_int": "cross_entropy", "loss.ce_onehot": "cross_entropy", "loss.nll_int": "nll",
              "loss.nll_onehot": "nll", "loss.mse": "mse", "loss.mae": "mae", "loss.bce": "binary_cross_entropy"}


@dataclass
class Options:
    fn: str = ""
    data: str = ""
    inputs: str = "x"
    targets: str = "y"
    loss: str = "cross_entropy"
    optimizer: str = "adam"
    opt_args: dict = field(default_factory=dict)
    lr: float | None = None
    epochs: int = 10
    batch: int = 32
    validation: float = 0.0
    seed: int = 0
    schedule: str = "constant"
    schedule_args: dict = field(default_factory=dict)
    clip: float = 0.0
    early_stopping: int = 0
    checkpoint: str | None = None
    shuffle: bool = True
    resume: bool = False
    progress: bool | str = True  # a tqdm bar; "lines" (glia train off a terminal): a line per epoch to the log
    engine: str = "auto"  # auto | compiled | tape
    deadline: float | None = None  # time.perf_counter() time after which training stops (search trials)
    device: str = "cpu"  # cpu | cuda | auto (compiler/device.py); the compiled engine runs on it
    device_asked: str = FLAG  # how a device given over the block's was written (compiler/device.py: FLAG, KEYWORD)
    span: Span | None = None  # the train block's, where the settings came from one
    spans: dict = field(default_factory=dict)  # each setting's value in the block, for later errors


def _err(code, msg, span=None, source=None) -> GliaError:
    return GliaError(Diagnostic(code, msg, span or Span(0, 0, 0, 0), STAGE, source))


def _data_err(msg, source=None, span=None, about=()) -> GliaError:
    """E703 about the data set: `load_task` points it at where the data was named (`about`: the block's
    settings that name what is wrong, `inputs` or `targets`, before the data file itself)."""
    e = _err(BAD_DATA, msg, span, source)
    e.about_data = about
    return e


# ---- settings -----------------------------------------------------------------------------------

def literal(e, source):
    """The value of a setting: a constant, a name (as a string), a list, or a call `name(k=v, ...)`."""
    v = A.setting_constant(e)
    if v is not A.NOT_CONSTANT:
        return v
    match e:
        case A.ListLit(elts):
            return [literal(x, source) for x in elts]
        case A.Call(A.Name("choose"), [first, *_], ()):  # a choice not settled yet: its first option
            return literal(first, source)
        case A.Call(A.Name(name), args, kwargs):
            seen = set()
            for k in kwargs:  # (sgd(lr=0.1, lr=0.2) took the last, silently)
                if k.name in seen:
                    raise _err(BAD_DATA, f"{name}() is given '{k.name}' twice", k.span, source)
                seen.add(k.name)
            return (name, [literal(a, source) for a in args], {k.name: literal(k.value, source) for k in kwargs})
    raise _err(BAD_DATA, "a training setting is a number, a string, a name, a list or a call such as "
               "adam(lr=0.001)", e.span, source)


def setting_from_text(name: str, text: str):
    """A setting's value written as a train block writes it (`--schedule "step(every=5)"`): parsed as
    that block line would be, so a flag takes what the block takes. ValueError when it is not one."""
    from .syntax import parse

    src = Source(f"--{name}", f'train f on "":\n    {name} = {text}\n')
    try:
        [block] = parse(src).items
        [setting] = block.settings
    except (GliaError, ValueError, AttributeError):
        raise ValueError(f"{text!r} is not a value as a train block writes one") from None
    try:
        return literal(setting.value, src)
    except GliaError as e:  # (a value the block would refuse too: step(every=2, every=3))
        raise ValueError(e.diagnostic.message) from None


def options_from_spec(spec: ir.TrainSpec, program: ir.Program) -> Options:
    src = program.source
    o = apply_settings(spec.settings, src, Options(fn=spec.func, data=_relative(spec.data, src), span=spec.span))
    if o.checkpoint:  # (the block's files are where the .glia file is, whatever the current folder)
        o.checkpoint = _relative(o.checkpoint, src)
    if spec.data_span is not None:
        o.spans["data"] = spec.data_span
    return o


def apply_settings(settings, source=None, o: Options | None = None) -> Options:
    """A train block's settings applied in order, each value checked (the checker calls this too, so a
    bad value is reported when the program is checked), every error at the setting's value."""
    o = o or Options()
    lr_at = None  # which setting gave the learning rate: `lr = ...` or `optimizer = adam(lr=...)`
    for name, e in settings:
        v = literal(e, source)
        span = e.span
        gives_lr = name == "lr" or (name == "optimizer" and isinstance(v, tuple) and (v[1] or "lr" in v[2]))
        if gives_lr and lr_at is not None:
            raise _err(BAD_DATA, f"the learning rate is given twice, by '{lr_at}' and here by '{name}'; "
                       "give it once", span, source)
        if gives_lr:
            lr_at = name
        try:
            o = apply_setting(o, name, v)
        except (TypeError, ValueError) as ex:
            raise _err(BAD_DATA, f"bad value for training setting '{name}': {ex}", span, source) from None
        except GliaRuntimeError as ex:
            raise _err(BAD_DATA, ex.message, span, source) from None
        o.spans[name] = span
    return o


def _relative(path: str, src: Source | None) -> str:
    """A data or checkpoint path in a train block is relative to the .glia file's folder."""
    if os.path.isabs(path) or src is None or not os.path.exists(os.path.dirname(src.name) or "."):
        return path
    return os.path.join(os.path.dirname(src.name), path)


METRICS = ("loss", "accuracy")
OPTIMIZER_KEYWORDS = ("momentum", "nesterov", "weight_decay", "beta1", "beta2", "eps", "alpha")
# what prog.train(...) and the REPL's :train take as keywords (data= aside)
KEYWORD_SETTINGS = TRAIN_SETTINGS + OPTIMIZER_KEYWORDS + ("engine", "resume", "progress")


def apply_keywords(o: Options, settings: dict) -> Options:
    """Settings given as keywords (`Program.train(..., lr=0.1)`, the REPL's `:train NAME lr=0.1`): those
    of a train block, each checked as in a block, plus engine=, resume= and progress=; an optimizer's
    own (momentum=, beta1=, ...) checked against the optimizer the others leave. ValueError says
    which is wrong."""
    opt_args = {}
    # the optimizer first: lr= overrides its learning rate whatever the keywords' order (as --lr does
    # --optimizer's), optimizer="adam(lr=0.2)" after lr=0.1 having replaced it
    for k, v in sorted(settings.items(), key=lambda kv: kv[0] != "optimizer"):
        try:
            if k == "engine":
                if v not in ("auto", "compiled", "tape"):
                    raise ValueError(f"engine is 'auto', 'compiled' or 'tape', found {v!r}")
                o = replace(o, engine=v)
            elif k in ("resume", "progress"):
                if not isinstance(v, (bool, np.bool_)):
                    raise ValueError(f"{k} is True or False, found {v!r}")
                o = replace(o, **{k: bool(v)})
            elif k in OPTIMIZER_KEYWORDS:
                opt_args[k] = v
            else:
                o = override(o, k, v)
                if k == "device":  # (its errors say device="cuda", as it was written)
                    o = replace(o, device_asked=KEYWORD)
        except UnknownSetting:
            raise UnknownSetting(f"there is no training setting {k!r}; the settings are data, "
                                 f"{', '.join(KEYWORD_SETTINGS)}") from None
        except (TypeError, ValueError) as e:
            raise ValueError(f"bad value for {k}: {e}") from None
    if opt_args:
        check_optimizer_args(o.optimizer, {**o.opt_args, **opt_args})
        o = replace(o, opt_args={**o.opt_args, **opt_args})
    return o


class UnknownSetting(ValueError):
    """A keyword that names no setting (E103 from Python, as an unknown setting in a block is)."""


def override(o: Options, name: str, v) -> Options:
    """A setting given over the block's (a flag, a keyword): checked as in a block, and no longer at the
    block's value, so a later error about it does not point at the value it replaced. A schedule or an
    optimizer may be written as in the block, with its settings (`--schedule "step(every=5)"`,
    `optimizer="sgd(lr=0.1, momentum=0.9)"`)."""
    if name in ("schedule", "optimizer") and isinstance(v, str) and "(" in v:
        v = setting_from_text(name, v)
    o = apply_setting(o, name, v)
    return replace(o, spans={k: span for k, span in o.spans.items() if k != name})


def apply_setting(o: Options, name: str, v) -> Options:
    if name in ("data", "inputs", "targets", "checkpoint"):  # (data: the block's header, a flag or a keyword)
        if not isinstance(v, str) and not (name in ("data", "checkpoint") and isinstance(v, os.PathLike)):
            raise ValueError(f"{name} is " + ("a file name" if name in ("data", "checkpoint") else "an array's name")
                             + f", found {v!r}")  # (checkpoint=3 wrote a file named '3')
        return replace(o, **{name: os.fspath(v)})
    if name == "loss":
        if v not in LOSSES:
            found = f"{v[0]}(...), a call: name the loss alone" if isinstance(v, tuple) and v and isinstance(v[0], str) \
                else repr(v)  # (`loss = mse()` is read as a call, (name, args, keywords))
            raise ValueError(f"the loss is one of {', '.join(LOSSES)}, found {found}")
        return replace(o, loss=v)
    if name == "optimizer":
        if not isinstance(v, (str, tuple)):
            raise ValueError(f"the optimizer is a name, or one with its settings as in a train block "
                             f"(\"sgd(lr=0.1, momentum=0.9)\"), found {v!r}")
        opt, args, kw = (v, [], {}) if isinstance(v, str) else v
        if opt not in OPTIMIZERS:
            raise ValueError(f"the optimizer is one of {', '.join(OPTIMIZERS)}, found {opt!r}")
        if len(args) > 1:
            raise ValueError(f"{opt}() takes the learning rate as its one positional argument; name the others "
                             f"({opt}(lr=0.01, ...))")
        if args:
            kw = {"lr": args[0], **kw}
        check_optimizer_args(opt, kw)
        kw = dict(kw)
        lr = kw.pop("lr", o.lr)
        return replace(o, optimizer=opt, opt_args=kw, lr=None if lr is None else float(lr))
    if name in ("epochs", "batch", "seed", "early_stopping"):
        if not _integer(v) or v < (0 if name in ("seed", "early_stopping") else 1):
            kind = "non-negative" if name in ("seed", "early_stopping") else "positive"
            raise ValueError(f"{name} must be a {kind} integer, found {v!r}")
        return replace(o, **{name: int(v)})
    if name in ("validation", "lr", "clip"):
        v = _number(name, v)
        if name == "validation" and not 0 <= v < 1:
            raise ValueError(f"validation is the fraction of examples held out, in [0, 1); found {v}")
        if name == "clip" and not v >= 0:  # 0 is a value: no clipping (`--clip 0` turns the block's off)
            raise ValueError(f"clip must be a number > 0 (the largest gradient norm), or 0 for no clipping; found {v}")
        if name == "lr" and not v > 0:
            raise ValueError(f"lr must be a number > 0, found {v}")
        return replace(o, **{name: v})
    if name == "shuffle":
        if not isinstance(v, (bool, np.bool_)):  # (np.bool_: a value from a sweep, as resume= takes it)
            raise ValueError("shuffle is True or False")
        return replace(o, shuffle=bool(v))
    if name == "schedule":
        if not isinstance(v, (str, tuple)):  # (a tuple: a call as the block writes it, literal())
            raise ValueError(f"the schedule is a name, or one with its settings as in a train block "
                             f"(\"step(every=5)\"), found {v!r}")
        kind, args, kw = (v, [], {}) if isinstance(v, str) else v
        if kind not in SCHEDULES:
            raise ValueError(f"the schedule is one of {', '.join(SCHEDULES)}, found {kind!r}")
        check_schedule_args(kind, args, kw)
        if isinstance(v, str) and kind == o.schedule:  # the same schedule named again keeps its settings
            kw = o.schedule_args                         # (`--schedule step` over `step(every=2)`)
        return replace(o, schedule=kind, schedule_args=kw)
    if name == "device":
        if v not in ("cpu", "cuda", "auto"):
            raise ValueError(f"the device is cpu, cuda or auto, found {v!r}")
        return replace(o, device=v)
    if name == "metrics":  # what is reported is fixed (the loss, and the accuracy where the loss has one):
        names = v if isinstance(v, list) else [v]  # the setting may name those, nothing else
        if not names or any(m not in METRICS for m in names):
            raise ValueError(f"metrics names {' and '.join(METRICS)} (`metrics = [loss, accuracy]`; both are "
                             f"reported, the accuracy where the loss has one), found {v!r}")
        return o
    raise UnknownSetting(f"unknown setting {name!r}")


def _integer(v) -> bool:
    """An int or a NumPy integer (`epochs=np.int64(5)` from a sweep over np.arange), not a bool."""
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def _number(name, v) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, found {v!r}")
    return float(v)


# what each optimizer setting must be (the names an optimizer takes are its class's, runtime/optim.py)
_RATE = (lambda x: x > 0, "a number > 0")
_DECAY = (lambda x: 0 <= x < 1, "in [0, 1)")
OPTIMIZER_ARG_RANGES = {"lr": _RATE, "eps": _RATE, "weight_decay": (lambda x: x >= 0, "a number >= 0"),
                        "momentum": _DECAY, "beta1": _DECAY, "beta2": _DECAY, "alpha": _DECAY, "nesterov": None}
SCHEDULE_ARGS = {  # name: (integer?, test, what it must be)
    "constant": {}, "cosine": {},
    "step": {"every": (True, lambda x: x > 0, "a positive integer"), "gamma": (False, lambda x: x > 0, "a number > 0")},
    "exponential": {"gamma": (False, lambda x: x > 0, "a number > 0")},
    "warmup_cosine": {"warmup": (True, lambda x: x >= 0, "a non-negative integer")},
}


def check_optimizer_args(opt: str, kw: dict) -> None:
    allowed = optimizer_settings(opt)
    for k, x in kw.items():
        if k not in allowed:
            raise ValueError(f"{opt}() has no setting '{k}'; it takes {', '.join(allowed)}")
        if OPTIMIZER_ARG_RANGES.get(k) is None:  # nesterov
            if not isinstance(x, bool):
                raise ValueError(f"{opt}({k}=...) is True or False, found {x!r}")
            continue
        test, what = OPTIMIZER_ARG_RANGES[k]
        if not test(_number(f"{opt}({k}=...)", x)):
            raise ValueError(f"{opt}({k}=...) must be {what}, found {x!r}")
    if kw.get("nesterov") and not kw.get("momentum", 0) > 0:
        raise ValueError("sgd(nesterov=True) needs a momentum > 0")


def check_schedule_args(kind: str, args: list, kw: dict) -> None:
    allowed = SCHEDULE_ARGS[kind]
    if args:
        raise ValueError(f"name the schedule's settings: {kind}({', '.join(k + '=...' for k in allowed)})"
                         if allowed else f"{kind} takes no settings")
    for k, x in kw.items():
        if k not in allowed:
            raise ValueError(f"{kind}() has no setting '{k}'" +
                             (f"; it takes {', '.join(allowed)}" if allowed else "; it takes none"))
        integer, test, what = allowed[k]
        if integer and not _integer(x):
            raise ValueError(f"{kind}({k}=...) must be {what}, found {x!r}")
        if not test(_number(f"{kind}({k}=...)", x)):
            raise ValueError(f"{kind}({k}=...) must be {what}, found {x!r}")


# ---- data ---------------------------------------------------------------------------------------

def load_npz(path: str, inputs: str, targets: str):
    if not os.path.exists(path):
        raise _data_err(f"no such data file: {path}")
    try:
        arrays = read_npz(path, "data file")
    except GliaRuntimeError as e:
        raise _data_err(e.message) from None
    missing = [k for k in (inputs, targets) if k not in arrays]
    if missing:
        raise _data_err(f"{path} has no array named '{missing[0]}' (it has: {', '.join(arrays) or 'none'}); "
                        "name them with `inputs = ...` / `targets = ...` or --inputs/--targets",
                        about=("inputs" if missing[0] == inputs else "targets",))
    return arrays[inputs], arrays[targets]


@dataclass
class Task:
    fn: str
    in_t: TensorT
    out_t: object
    loss_op: str
    classes: int  # number of classes for accuracy (0: none)
    X: np.ndarray
    y: np.ndarray
    batched: bool = False  # the function takes a whole minibatch (its input's first dimension is named)
    binary: int = 0  # binary_cross_entropy: the outputs of one example, each scored right when it and its
    #                  target are on the same side of 0.5 (Keras's binary accuracy); 0: not scored so

    @property
    def score(self) -> str:
        """How accuracy is counted: "argmax" (a class per example), "threshold" (each output at 0.5), or ""."""
        return "argmax" if self.classes else "threshold" if self.binary else ""

    def accuracy(self, correct: int, n: int) -> float:
        """The fraction right of `n` examples that had `correct` right (outputs, when thresholded); NaN
        for a loss without an accuracy (mse, mae)."""
        per = 1 if self.classes else self.binary
        return correct / (max(1, n) * per) if per else math.nan


def batch_norm_site(program: ir.Program, fn: str) -> ir.Prim | None:
    """The first batch_norm call that `fn` can reach through the functions it calls or refers to."""
    return next((n for n in reachable(program, fn) if isinstance(n, ir.Prim) and n.op == "layer.batch_norm"), None)


def function_to_train(program: ir.Program, name: str, verb: str = "train") -> ir.Function:
    """The program's own function `name` (E703 naming the program's functions when there is none; `verb`:
    what was to be done with it, train or evaluate)."""
    src = program.source
    f = program.functions.get(name)
    if f is None or f.source_name != (src.name if src else f.source_name):
        mine = sorted(n for n, g in program.functions.items() if g.source_name == (src.name if src else g.source_name))
        raise _err(BAD_DATA, f"no function named '{name}' to {verb} (this program's functions: "
                   f"{', '.join(mine) or 'none'})", None, src)
    return f


def check_task(program: ir.Program, o: Options, X, y) -> Task:
    """The function, the loss and the data must fit together; every problem is E703 before training
    (E704 for a function taking one example that reaches batch_norm)."""
    src = program.source
    f = function_to_train(program, o.fn)
    t = f.type
    if len(t.params) != 1 or not isinstance(t.params[0], TensorT):
        raise _err(BAD_DATA, f"{o.fn} must take one tensor (one example, or a batch of them), e.g. def {o.fn}(x: "
                   f"f32[64]) -> f32[10]; it takes ({', '.join(map(str, t.params))})", f.span, src)
    in_t = t.params[0]
    out_t = t.ret
    batched = bool(in_t.shape) and isinstance(in_t.shape[0], str)
    if not all(isinstance(d, int) for d in in_t.shape[batched:]):
        raise _err(BAD_DATA, f"{o.fn}'s input {in_t} must have a fixed shape to train on a data set (a named first "
                   "dimension, f32[n, 64], makes it a model over a batch)", f.span, src)
    if batched and not (isinstance(out_t, TensorT) and out_t.shape and out_t.shape[0] == in_t.shape[0]):
        raise _err(BAD_DATA, f"{o.fn} takes a batch ({in_t}), so it must return one prediction per row, a tensor "
                   f"whose first dimension is {in_t.shape[0]} (e.g. f32[{in_t.shape[0]}, 10]); it returns {out_t}",
                   f.span, src)
    if not (isinstance(out_t, TensorT) or out_t in (FLOAT, F32)):
        raise _err(BAD_DATA, f"{o.fn} must return a tensor or a float to compute a loss; it returns {out_t}", f.span, src)
    site = None if batched else batch_norm_site(program, o.fn)
    if site is not None:
        raise _err(NO_BATCH, f"{o.fn} takes one example at a time ({in_t}), so this batch_norm would normalise over "
                   "one example's rows, not over the minibatch; write the model over a batch, with a named first "
                   f"dimension on its input and output (e.g. def {o.fn}(x: f32[n, 64]) -> f32[n, 10]), and each "
                   "minibatch is passed as one tensor", site.span, src)
    ex_in = tuple(in_t.shape[batched:])  # one example's shape and one prediction's
    out_shape = tuple(out_t.shape[batched:]) if isinstance(out_t, TensorT) else ()
    X, y = _rows(X, "inputs", src), _rows(y, "targets", src)
    if X.dtype.kind not in "fiub":
        raise _data_err(f"the inputs must be numbers, found dtype {X.dtype}", src)
    if len(X) == 0:
        raise _data_err("the data set is empty (0 examples)", src)
    if X.shape[1:] != ex_in:
        raise _data_err(f"the inputs have shape {X.shape}: {len(X)} examples of shape {X.shape[1:]}, but {o.fn} "
                        f"takes {in_t} (expected {(len(X),) + ex_in})", src, f.span)
    if len(y) != len(X):
        raise _data_err(f"{len(X)} inputs but {len(y)} targets", src)
    if not np.all(np.isfinite(X)):
        raise _data_err("the inputs contain NaN or infinite values", src)
    dt = np.float32 if in_t.dtype == F32 else np.float64
    classes = 0
    if o.loss in ("cross_entropy", "nll") and y.ndim == 1:
        if len(out_shape) != 1:
            raise _err(BAD_DATA, f"{o.loss} with class labels needs {o.fn} to return a vector of class scores; it "
                       f"returns {out_t}", f.span, src)
        if y.dtype.kind not in "iub" and (y.dtype.kind != "f" or not np.all(np.isfinite(y) & (y == np.round(y)))):
            if y.dtype.kind != "f":
                raise _data_err(f"class labels must be integers, found dtype {y.dtype}", src)
            k = int(np.argmin(np.isfinite(y) & (y == np.round(y))))  # whole numbers in a float array are labels
            raise _data_err(f"class labels must be integers (whole numbers in a {y.dtype} array are taken); "
                            f"example {k}'s is {y[k]}", src)
        classes = out_shape[0]
        bad = (y < 0) | (y >= classes)
        if np.any(bad):
            k = int(np.argmax(bad))
            raise _data_err(f"label {int(y[k])} (example {k}) is out of range for {classes} classes "
                            f"({o.fn} returns {out_t})", src)
        y = y.astype(np.int64)
        loss_op = "loss.ce_int" if o.loss == "cross_entropy" else "loss.nll_int"
    else:
        if y.shape[1:] != out_shape:
            raise _data_err(f"the targets have shape {y.shape}, but {o.fn} returns {out_t} (expected "
                            f"{(len(y),) + out_shape}{' or integer class labels of shape (' + str(len(y)) + ',)' if o.loss in ('cross_entropy', 'nll') else ''})",
                            src, f.span)
        if y.dtype.kind not in "fiub" or not np.all(np.isfinite(y)):
            raise _data_err("the targets must be finite numbers", src)
        outside = (y < 0) | (y > 1)
        if o.loss == "binary_cross_entropy" and np.any(outside):  # (its loss of them is meaningless, even negative)
            k = [int(i) for i in np.unravel_index(int(np.argmax(outside)), y.shape)]
            at = f"[{', '.join(map(str, k[1:]))}]" if y[0].size > 1 else ""
            raise _data_err(f"binary_cross_entropy's targets are probabilities, in [0, 1]; example {k[0]}'s target{at} "
                            f"is {y[tuple(k)]:g}", src)
        with np.errstate(over="ignore"):
            y = y.astype(dt)
        loss_op = {"cross_entropy": "loss.ce_onehot", "nll": "loss.nll_onehot", "mse": "loss.mse",
                   "mae": "loss.mae", "binary_cross_entropy": "loss.bce"}[o.loss]
        if o.loss in ("cross_entropy", "nll") and len(out_shape) == 1:
            classes = out_shape[0]
    binary = int(np.prod(out_shape)) if o.loss == "binary_cross_entropy" else 0  # (a scalar output: one)
    with np.errstate(over="ignore"):
        Xd = np.ascontiguousarray(X, dtype=dt)
    if not np.all(np.isfinite(Xd)):  # finite as given, but too large for the model's dtype (1e40 in f32)
        raise _data_err(f"the inputs hold values too large for {in_t.dtype} (largest magnitude "
                        f"{float(np.max(np.abs(X))):g}); scale the data, or use f64 in {o.fn}", src)
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise _data_err(f"the targets hold values too large for {in_t.dtype}", src)
    return Task(o.fn, in_t, out_t, loss_op, classes, Xd, y, batched, binary)


def _rows(a, what: str, src) -> np.ndarray:
    """The inputs or targets as an array with one row per example (E703 for a ragged list or a 0-d value,
    and for a masked array, whose mask numpy would drop: training on its hidden values would be silent)."""
    if isinstance(a, np.ma.MaskedArray):
        raise _data_err(f"the {what} are a numpy masked array, whose mask training cannot use; fill the masked "
                        f"values (a.filled(...)) or drop their rows first", src)
    try:
        a = np.asarray(a)
    except (TypeError, ValueError) as e:
        raise _data_err(f"the {what} are not a rectangular array ({e})", src) from None
    if a.ndim == 0:
        raise _data_err(f"the {what} must be an array with one row per example; found a single value "
                        f"({a.dtype})", src)
    return a


def split(n: int, validation: float, seed: int):
    rows = np.random.default_rng(seed + 7919).permutation(n)
    k = int(round(n * validation))
    if validation > 0 and k == 0:
        k = 1
    if k >= n:
        raise _err(BAD_DATA, f"validation {validation} leaves no training examples out of {n}")
    return np.sort(rows[k:]), np.sort(rows[:k])


# ---- engines ------------------------------------------------------------------------------------

def _as_tensor(v):
    return v if isinstance(v, np.ndarray) else np.asarray([v])


class TapeEngine:
    """Any program: each example (or, for a model over a batch, each minibatch) runs in the interpreter
    recording a tape; backward adds the parameters' gradients into the flat gradient buffer. With
    `tracing`, the input is recorded too and the tape keeps the control-flow decisions (a trace)."""

    tracing = False

    def __init__(self, interp: Interpreter, task: Task, opt, clip: float):
        self.interp, self.task, self.opt, self.clip = interp, task, opt, clip
        self.store = param_store(interp)
        self.adi = ad_interpreter(interp)
        p = PRIMS[task.loss_op]
        self.loss, self.loss_vjp = p.impl, p.rules["vjp"]
        self.source = interp.program.source
        self.name = "interpreter tape" + (", one call per minibatch" if task.batched else "")

    def epoch(self, order, batch, lr):
        total, correct = 0.0, 0
        self.interp.training = True
        errstate = np.errstate(divide="ignore", invalid="ignore", over="ignore")  # NaN is reported as E702
        errstate.__enter__()
        try:
            for s in range(0, len(order), batch):
                rows = order[s:s + batch]
                self.store.zero_grad()
                for part in [rows] if self.task.batched else [rows[k:k + 1] for k in range(len(rows))]:
                    loss, right, tape = self.step(part, len(rows))
                    total += loss
                    correct += right
                if self.clip:
                    clip_grad_norm(self.store.grad, self.clip)
                if not np.all(np.isfinite(self.store.grad)):
                    raise self.locate_nonfinite(rows, "a gradient") or self.not_finite(tape, "a gradient")
                self.opt.step(self.store.flat, self.store.grad, lr)
        finally:
            errstate.__exit__(None, None, None)
            self.interp.training = False
        return total / len(order), self.task.accuracy(correct, len(order))

    def step(self, rows, n):
        """Forward and backward over `rows` (the minibatch, for a model over a batch; else one example) in
        a minibatch of `n`; returns (summed loss, number correct, tape)."""
        X, y, task = self.task.X, self.task.y, self.task
        tape = self.adi.tape = Tape(self.tracing)
        x = X[rows] if task.batched else X[rows[0]]
        out = self.adi.call(task.fn, [tape.leaf(x) if self.tracing else x])
        self.last_out = out
        ov = out.v if hasattr(out, "v") else out
        preds = ov if task.batched else [ov]
        total, correct, cts = 0.0, 0, []
        for p, r in zip(preds, rows):
            o = _as_tensor(p)
            L = loss_of(self.loss, o, y[r])
            if not math.isfinite(L):
                raise self.not_finite(tape, "the loss", o)
            total += float(L)
            correct += _correct(task, o, y[r])
            cts.append(np.reshape(self.loss_vjp(1.0 / n, L, (o, y[r]), ())[0], np.shape(p)))
        if hasattr(out, "i"):
            ct = np.stack(cts).astype(ov.dtype) if task.batched else cts[0]
            try:
                backward(tape, {out.i: ct if isinstance(ov, np.ndarray) else type(ov)(ct)}, self.locating)
            except NonFiniteVJP as e:
                raise _err(NOT_FINITE, f"a gradient became NaN or infinite: the first NaN/infinity came from the "
                           f"gradient of '{e.op}' here (lower the learning rate, or clip gradients with `clip = 1.0`)",
                           e.span, self.source) from None
        return total, correct, tape

    locating = False  # a minibatch runs again to name the operation that made a NaN (its gradient rules checked)

    def locate_nonfinite(self, rows, what):
        """E702 naming the operation: the minibatch `rows` again (example by example; a model over a batch at
        once), up to the first NaN or infinity in a value, the loss, or a gradient rule's result; None if none
        is found. The compiled engines call this too when their loss or gradient is not finite."""
        self.locating = True
        try:
            self.store.zero_grad()
            for part in [rows] if self.task.batched else [rows[k:k + 1] for k in range(len(rows))]:
                tape = self.step(np.asarray(part), len(rows))[2]  # raises for the loss or a gradient rule
                if first_nonfinite(tape) is not None:
                    return self.not_finite(tape, what)
        finally:
            self.locating = False
        return None

    def evaluate(self, rows):
        return evaluate(self.interp, self.task, rows, self.loss)

    def not_finite(self, tape, what, out=None):
        found = first_nonfinite(tape)
        if found is None and out is not None and np.all(np.isfinite(out)):  # the loss itself (mse of 1e20)
            return _err(NOT_FINITE, f"{what} became NaN or infinite: the model's output is finite (largest magnitude "
                        f"{float(np.max(np.abs(out), initial=0)):.3g}) but the {LOSS_NAMES[self.task.loss_op]} loss of "
                        "it is not (lower the learning rate, or clip gradients with `clip = 1.0`)", None, self.source)
        if found is None or found[1] is None:
            return _err(NOT_FINITE, f"{what} became NaN or infinite during training (lower the learning rate, or "
                        "clip gradients with `clip = 1.0`)", None, self.source)
        op, span = found
        return _err(NOT_FINITE, f"{what} became NaN or infinite: the first NaN/infinity came from '{op}' here "
                    "(lower the learning rate, or clip gradients with `clip = 1.0`)", span, self.source)


def _correct(task: Task, o, target) -> int:
    """How many of one example's prediction `o` are right (its class, or each thresholded output)."""
    if task.binary:
        return int(np.sum((o > 0.5) == (np.reshape(target, np.shape(o)) > 0.5)))
    if not task.classes:
        return 0
    return int(np.argmax(o) == (target if task.y.ndim == 1 else np.argmax(target)))


EVAL_CHUNK = 256  # rows per call when evaluating a model over a batch


def loss_of(loss, o, target):
    """The loss of one prediction; its error (a prediction binary_cross_entropy cannot take) is said at the
    block's `loss = ...` (train's handler)."""
    try:
        return loss(o, target)
    except GliaRuntimeError as e:
        e.settings = ("loss",)
        raise


def evaluate(interp: Interpreter, task: Task, rows, loss=None):
    """Mean loss and accuracy of the function over `rows`, in evaluation mode (the interpreter; a model
    over a batch is called on chunks of rows, batch_norm using its running statistics)."""
    loss = loss or PRIMS[task.loss_op].impl
    f = interp.function(task.fn)
    interp.init_globals()
    rows = np.asarray(rows, np.int64)
    if task.batched:
        preds = (p for s in range(0, len(rows), EVAL_CHUNK) for p in f(task.X[rows[s:s + EVAL_CHUNK]]))
    else:
        preds = (f(task.X[r]) for r in rows)
    total, correct = 0.0, 0
    for p, r in zip(preds, rows):
        o = _as_tensor(p)
        total += float(loss_of(loss, o, task.y[r]))
        correct += _correct(task, o, task.y[r])
    return total / max(1, len(rows)), task.accuracy(correct, len(rows))


def check_batches(program: ir.Program, task: Task, o: Options, n_train: int) -> None:
    """batch_norm's training statistics need two rows or more in every minibatch (PyTorch refuses one too)."""
    site = batch_norm_site(program, task.fn) if task.batched else None
    if site is None:
        return
    last = n_train % o.batch
    if o.batch == 1 or last == 1:
        where = "every minibatch" if o.batch == 1 else "the last minibatch of each epoch"
        raise _err(NO_BATCH, f"{where} would hold a single example ({n_train} training examples, batch {o.batch}), "
                   "and batch_norm's statistics in training mode need at least 2; change batch (or validation)",
                   site.span, program.source)


def make_engine(interp: Interpreter, task: Task, o: Options, device=None, status=None):
    """The engine that trains `task`, and why not a faster one (or None). `status`: told what the engine
    compiles before training starts (a trace's first compile), as the training loop is later."""
    store = param_store(interp)
    if len(store) == 0:
        f = interp.program.functions[task.fn]
        raise _err(BAD_DATA, f"{task.fn} has no parameters to train: it calls no layer (dense, rnn_cell, ...)",
                   f.span, interp.program.source)
    kw = dict(o.opt_args)
    if o.lr is not None:
        kw["lr"] = o.lr
    try:
        opt = make_optimizer(o.optimizer, len(store), store.dtype, **kw)
    except GliaRuntimeError as e:
        raise _err(BAD_DATA, e.message, None, interp.program.source) from None
    reason = None
    if o.engine in ("auto", "compiled"):
        from .train_compile import CompiledEngine, plan

        p, reason = plan(interp.program, task)
        if p is not None and device is not None and device.is_cuda:
            from .train_compile import CudaEngine

            return CudaEngine(interp, task, opt, o.clip, p, device), None
        if p is not None:
            return CompiledEngine(interp, task, opt, o.clip, p), None
        from .trace_compile import trace_engine

        examples = 0 if o.engine == "compiled" else o.epochs * len(task.X)  # auto: compile when it pays off
        engine, trace_reason = trace_engine(interp, task, opt, o.clip, examples, status)
        if engine is not None:
            return engine, ("it trains on the CPU" if device is not None and device.is_cuda else None)
        reason = trace_reason
        if device is not None and device.is_cuda:
            reason += "; it trains on the CPU"
        if o.engine == "compiled":
            raise _err(BAD_DATA, f"{task.fn} cannot take the compiled training path: {reason}", None,
                       interp.program.source)
    return TapeEngine(interp, task, opt, o.clip), reason


def _located(e: GliaError, span: Span | None, program: ir.Program) -> GliaError:
    """`e` at `span` (a setting, or the train block) when it has no position of its own."""
    d = e.diagnostic
    if d.span.line == 0 and span is not None:
        return GliaError(replace(d, span=span, source=program.source))
    if d.source is None:  # (else it is said as glia's, not the program's)
        return GliaError(replace(d, source=program.source))
    return e


def check_schedule_fits(o: Options, program: ir.Program) -> None:
    """The schedule against the run's epochs, once the block, the flags and the keywords are all applied
    (`--epochs` may shorten the block's run): warmup_cosine(warmup=W) ramps the rate up over W epochs and
    reaches the base rate in epoch W + 1, so a run of W epochs or fewer never would. E703 at the block's
    schedule, else at its epochs."""
    if o.schedule != "warmup_cosine":
        return
    w = int(o.schedule_args.get("warmup", 1))
    if w < o.epochs:
        return
    at = o.spans.get("schedule") or o.spans.get("epochs")  # (both given as flags or keywords: no line of the block)
    raise _err(BAD_DATA, f"warmup_cosine(warmup={w}) warms the learning rate up over {w} epoch{'s' * (w != 1)}, and "
               f"this run has {o.epochs}: it would never reach its base rate; make warmup less than epochs, or "
               "train for more epochs", at, program.source)


def load_task(program: ir.Program, o: Options, X=None, y=None) -> Task:
    """The data set (o.data's file, unless the arrays are given) checked against the function to train
    (`glia train`, `glia eval`, Program.train, :train). An error about a file's data points at where the
    file was named: the data file's string in the train block (an array missing: the block's `inputs`
    or `targets`, where it names them); a file given by a flag or keyword is named in the message."""
    from_file = X is None
    try:
        if from_file:
            X, y = load_npz(o.data, o.inputs, o.targets)
        return check_task(program, o, X, y)
    except GliaError as e:
        about = getattr(e, "about_data", None)
        if about is None or not from_file:  # the function's own mistake, or arrays passed in
            raise _located(e, o.span, program) from None
        d = e.diagnostic
        at = next((o.spans[k] for k in (*about, "data") if k in o.spans), None)
        if at is not None:
            raise GliaError(replace(d, span=at, source=program.source)) from None
        message = d.message if o.data in d.message else f"{o.data}: {d.message}"  # (no line of the program names it)
        raise GliaError(replace(d, message=message, span=Span(0, 0, 0, 0), source=program.source)) from None


def train(interp: Interpreter, o: Options, X=None, y=None, log=None, trial: bool = False) -> dict:
    """Train `o.fn` of the interpreter's program; parameters are updated in `interp.params`. A `trial`
    (a search's, compiler/choose_train.py) may be shorter than its schedule's warmup: it is a rung's
    budget, not the run the settings describe."""
    program = interp.program
    if not trial:
        check_schedule_fits(o, program)
    if o.checkpoint:  # refused before anything trains, not at the first save (nor read as one by resume)
        try:
            check_writable(o.checkpoint)
        except GliaRuntimeError as e:
            raise _err(BAD_DATA, f"checkpoint: {e.message}", o.spans.get("checkpoint"), program.source) from None
    if o.resume and not o.checkpoint:  # (else it would train from the start, saying nothing)
        raise _err(BAD_DATA, "resume needs a checkpoint to resume from: --checkpoint FILE, `checkpoint = \"FILE\"` "
                   "in the train block, or checkpoint= in Program.train", o.span, program.source)
    task = load_task(program, o, X, y)
    if interp.params is None:
        interp.params = new_store(program, o.seed)
    elif interp.params.initialised_with() not in (None, o.seed):
        # made with seed 0 when first looked at (`prog.params`, a call of the model) and unchanged since:
        # made again as this run's seed says, as if nothing had looked (a trained, loaded or edited
        # store is trained on from where it is)
        interp.params.init(o.seed)
    interp.rng = np.random.default_rng(o.seed + 1)
    try:
        train_rows, val_rows = split(len(task.X), o.validation, o.seed)
    except GliaError as e:
        raise _located(e, o.spans.get("validation"), program) from None
    check_batches(program, task, o, len(train_rows))
    from .device import BLOCK, resolve

    try:
        device = resolve(o.device, asked=BLOCK if "device" in o.spans else o.device_asked)
    except GliaError as e:  # at the block's `device = ...` when it came from there
        raise _located(e, o.spans.get("device"), program) from None
    # (before the loop's bar exists, what compiles goes to the log: the bar's mode prints to stderr too)
    before = train_loop.compile_status(None, log if o.progress and log else None)
    engine, why_not = make_engine(interp, task, o, device, before)
    if log:
        log(f"training {o.fn}: {len(train_rows)} examples ({len(val_rows)} held out for validation), "
            f"{len(engine.store)} parameters, {engine.name}" + (f" ({why_not})" if why_not else ""))
    cfg = train_loop.LoopConfig(o.epochs, o.batch, o.seed, o.shuffle, o.schedule, o.schedule_args,
                                o.early_stopping, o.checkpoint, o.resume, o.progress, o.deadline)
    try:
        hist = train_loop.run(engine, train_rows, val_rows, cfg, log)
    except GliaRuntimeError as e:
        raise _at_setting(e, o, program) from None
    finally:
        if hasattr(engine, "close"):
            engine.close()  # (the trace engine's compiling workers)
    hist["engine"] = engine.name
    return hist


def _at_setting(e: GliaRuntimeError, o: Options, program: ir.Program) -> GliaError:
    """An error of training itself, not of an operation of the program (the loss's, an optimizer step's),
    at the block's setting it is about if it says one and the block has it."""
    at = [o.spans[k] for k in getattr(e, "settings", ()) if k in o.spans]
    return _err(e.code, e.message, at[0] if at else None, program.source)


def evaluate_all(interp: Interpreter, task: Task, o: Options) -> tuple[float, float]:
    """`glia eval`: mean loss and accuracy over every example; the loss's error (binary_cross_entropy of a
    prediction outside [0, 1]) at the block's `loss =`, as in training (it was a traceback)."""
    try:
        return evaluate(interp, task, range(len(task.X)))
    except GliaRuntimeError as e:
        raise _at_setting(e, o, interp.program) from None

