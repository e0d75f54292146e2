"""The training loop: epochs, shuffling, learning-rate schedule, validation, early stopping,
progress bar, atomic checkpoints and resuming. What one epoch does (forward, backward, optimizer step
for every minibatch) is the engine's business: a compiled whole-epoch kernel or the interpreter's tape.

An engine provides `epoch(order, batch, lr) -> (mean loss, accuracy)` over the training rows in
`order`, `evaluate(rows) -> (mean loss, accuracy)`, and `store` / `opt` (runtime/params.py,
runtime/optim.py). Accuracy is NaN where the loss has no classes.
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field

import numpy as np

from .errors import GliaRuntimeError, fail
from .optim import schedule_lr
from .params import read_npz, save_npz


@dataclass
class LoopConfig:
    epochs: int = 10
    batch: int = 32
    seed: int = 0
    shuffle: bool = True
    schedule: str = "constant"
    schedule_args: dict = field(default_factory=dict)
    early_stopping: int = 0  # patience in epochs (0: off)
    checkpoint: str | None = None
    resume: bool = False
    progress: bool | str = True  # a tqdm bar; "lines": a line per epoch to the log (where a bar cannot redraw)
    deadline: float | None = None  # a time.perf_counter() time: stop after the epoch that passes it


def run(engine, train_rows: np.ndarray, val_rows: np.ndarray, cfg: LoopConfig, log=None) -> dict:
    """Train; returns the history {'loss': [...], 'acc': [...], 'val_loss': [...], 'val_acc': [...]}."""
    rng = np.random.default_rng(cfg.seed)
    hist = {"loss": [], "acc": [], "val_loss": [], "val_acc": [], "lr": []}
    start, best, best_epoch, best_flat = 0, math.inf, -1, None
    if cfg.resume and cfg.checkpoint and os.path.exists(cfg.checkpoint):
        start, hist, best, best_epoch, best_flat = load_checkpoint(cfg.checkpoint, engine, rng, cfg.epochs,
                                                                   (train_rows, val_rows))
        if log:
            log(f"resumed from {cfg.checkpoint} after epoch {start}")
    elif cfg.resume and log:  # (a job that may be restarted: its first run has nothing to resume from)
        log(f"no checkpoint at {cfg.checkpoint} yet: training from the start")
    # a run that early stopping ended is finished: resuming it trains nothing more (its checkpoint holds
    # the last epoch's parameters; the best are restored as when it stopped)
    stopped = _early_stop(engine, cfg, start - 1, best_epoch, best_flat) if start else ""
    bar = _bar(cfg, start)
    if hasattr(engine, "status"):  # an engine that compiles as it trains says so while it does
        engine.status = compile_status(bar, log if cfg.progress == "lines" else None)
    # a minibatch never holds more than the training rows: a batch larger than the data set is all of it
    # (as a PyTorch DataLoader's), and the engines size their buffers by it (batch = 10**12 ran out of memory)
    batch = max(1, min(cfg.batch, len(train_rows)))
    try:
        for epoch in range(start, start if stopped else cfg.epochs):
            lr = schedule_lr(cfg.schedule, engine.opt.lr, epoch, cfg.epochs, **cfg.schedule_args)
            order = rng.permutation(train_rows) if cfg.shuffle else train_rows
            loss, acc = engine.epoch(order, batch, lr)
            vloss, vacc = engine.evaluate(val_rows) if len(val_rows) else (math.nan, math.nan)
            for k, v in (("loss", loss), ("acc", acc), ("val_loss", vloss), ("val_acc", vacc), ("lr", lr)):
                hist[k].append(float(v))
            watch = vloss if len(val_rows) else loss
            if watch < best:  # a NaN or infinite loss is never the best
                best, best_epoch, best_flat = watch, epoch, engine.store.snapshot()
            if cfg.checkpoint:
                save_checkpoint(cfg.checkpoint, engine, rng, epoch + 1, hist, best, best_epoch, best_flat,
                                (train_rows, val_rows))
            if cfg.progress:
                post = {"loss": f"{loss:.4f}"}
                if not math.isnan(acc):
                    post["acc"] = f"{acc:.3f}"
                if len(val_rows):
                    post["val_loss"] = f"{vloss:.4f}"
                    if not math.isnan(vacc):
                        post["val_acc"] = f"{vacc:.3f}"
                if bar is not None:
                    bar.set_postfix(post, refresh=False)
                    bar.update(1)
                elif log:  # "lines"
                    log(f"epoch {epoch + 1}/{cfg.epochs}: " + ", ".join(f"{k} {v}" for k, v in post.items()))
            stopped = _early_stop(engine, cfg, epoch, best_epoch, best_flat)
            if stopped:
                break
            if cfg.deadline is not None and epoch + 1 < cfg.epochs and time.perf_counter() >= cfg.deadline:
                hist["cut_short"] = True  # the caller's time bound, not a property of the model
                break
    finally:
        if bar is not None:
            bar.close()
    if stopped and log:
        log(stopped)
    hist["stopped"] = stopped
    if stopped and best_flat is not None:  # the parameters are this epoch's (an index into the lists), not the last's
        hist["best_epoch"] = best_epoch
    return hist


def _early_stop(engine, cfg: LoopConfig, epoch: int, best_epoch: int, best_flat) -> str:
    """After `epoch` (from 0): if early stopping ends the run here, restore the best parameters and say
    so; else ""."""
    if not cfg.early_stopping or epoch - best_epoch < cfg.early_stopping:
        return ""
    stopped = f"early stopping after epoch {epoch + 1}: no improvement for {cfg.early_stopping} epochs"
    if best_flat is None:  # no epoch had a finite loss to watch: nothing to restore
        return stopped + " (no epoch had a finite validation loss; the last parameters are kept)"
    engine.store.restore(best_flat)
    return stopped + f" (best epoch {best_epoch + 1} restored)"


def compile_status(bar, log):
    """What the engine is compiling, `what` ("" when done): in the bar's description, or a line to the log
    when it starts and one when it ends."""
    began = [0.0]

    def status(what: str):
        if bar is not None:
            bar.set_description_str(f"train ({what})" if what else "train", refresh=True)
        elif log is not None and what:
            began[0] = time.perf_counter()
            log(what + "...")
        elif log is not None:
            log(f"compiled in {time.perf_counter() - began[0]:.1f} s")
    return status


def _bar(cfg: LoopConfig, start: int):
    if cfg.progress is not True:
        return None
    from tqdm import tqdm

    return tqdm(total=cfg.epochs, initial=start, unit="epoch", desc="train", dynamic_ncols=True, leave=True)


def save_checkpoint(path, engine, rng, epoch, hist, best, best_epoch, best_flat, split=None) -> None:
    """`split`: the run's (training rows, validation rows), kept so that a resumed run holds out the same."""
    arrays = {f"param/{k}": v for k, v in engine.store.state().items()}
    arrays.update({f"opt/{k}": v for k, v in engine.opt.state().items()})
    meta = {"epoch": epoch, "history": hist, "best": best, "best_epoch": best_epoch,
            "rng": rng.bit_generator.state, "optimizer": engine.opt.name}
    if _mask_rng(engine) is not None:
        meta["mask_rng"] = _mask_rng(engine).bit_generator.state
    arrays["meta"] = np.array(json.dumps(meta, default=_jsonable))
    if best_flat is not None:
        arrays["best_flat"] = best_flat
    if split is not None:  # the validation rows and the number of examples (the training rows are the others)
        arrays["split/val"] = np.asarray(split[1], np.int64)
        arrays["split/examples"] = np.asarray(len(split[0]) + len(split[1]), np.int64)
    save_npz(path, arrays)


def _mask_rng(engine):
    """The generator dropout draws its masks from: the interpreter's (None for the chain kernels,
    which have no dropout)."""
    interp = getattr(engine, "interp", None)
    return None if interp is None else interp.rng


def _jsonable(x):
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    raise TypeError(type(x))


BAD_CHECKPOINT = "E703"


def load_checkpoint(path, engine, rng, epochs=None, split=None):
    """Everything is checked before the parameters are assigned, so a refused checkpoint changes none
    (one written after more epochs than the run's `epochs` included: its parameters are past the run's end;
    one whose run held out other validation examples than this run's `split` would)."""
    arrays = read_npz(path, "checkpoint")
    meta = _meta(path, arrays)
    if split is not None:
        _same_split(path, arrays, split)
    if epochs is not None and meta["epoch"] > epochs:
        e = GliaRuntimeError(BAD_CHECKPOINT, f"cannot resume from {path}: it was written after epoch {meta['epoch']}, "
                             f"and this run has {epochs} epochs; resume with epochs >= {meta['epoch']}, or train from "
                             "the start without resume")
        e.settings = ("epochs",)  # at the train block's `epochs`, where it has one
        raise e
    state = {k[len("opt/"):]: v for k, v in arrays.items() if k.startswith("opt/")}
    _same_optimizer(path, meta, engine.opt, state)
    best_flat = arrays.get("best_flat")
    if best_flat is not None and best_flat.shape != engine.store.snapshot().shape:
        fail(BAD_CHECKPOINT, f"cannot resume from {path}: its best parameters have {best_flat.size} values, "
             f"this model has {engine.store.snapshot().size}")
    try:
        rng.bit_generator.state = meta["rng"]
        if "mask_rng" in meta and _mask_rng(engine) is not None:  # (written since 2026-12-01)
            _mask_rng(engine).bit_generator.state = meta["mask_rng"]
    except (TypeError, ValueError, KeyError) as e:
        fail(BAD_CHECKPOINT, f"cannot resume from {path}: its random generator's state is not valid ({e})")
    params = {k[len("param/"):]: v for k, v in arrays.items() if k.startswith("param/")}
    engine.store.assign(params, path)  # (checks every name and shape before it writes)
    engine.opt.load_state(state)
    return meta["epoch"], meta["history"], meta["best"], meta["best_epoch"], best_flat


def _same_split(path, arrays, split) -> None:
    """Resuming with another validation fraction, seed or data set would hold out other examples, some
    the run has trained on (checkpoints record the split since 2026-12-06; an older one is trusted)."""
    if "split/val" not in arrays or "split/examples" not in arrays:
        return
    try:
        was_val, was_n = np.asarray(arrays["split/val"], np.int64), int(arrays["split/examples"])
    except (TypeError, ValueError):
        fail(BAD_CHECKPOINT, f"cannot resume from {path}: not a Glia checkpoint (its 'split' record is not the "
             "validation rows and the number of examples)")
    train, val = split
    n = len(train) + len(val)
    if n == was_n and np.array_equal(val, was_val):
        return
    e = GliaRuntimeError(BAD_CHECKPOINT, f"cannot resume from {path}: its run held out {len(was_val)} of {was_n} "
                         f"examples for validation, and this run holds out {len(val)} of {n}"
                         + (" (other ones)" if (len(val), n) == (len(was_val), was_n) else "")
                         + ": the validation fraction, the seed or the data differ (held-out examples must stay "
                         "those it never trained on); resume with the same ones, or train from the start without "
                         "resume")
    # at the block's setting that must have changed, where the block has it (a flag's has no place): the
    # data if the number of examples differs, else the fraction if the number held out does, else the seed
    e.settings = ("data",) if n != was_n else ("validation",) if len(val) != len(was_val) else ("seed",)
    raise e


def _meta(path, arrays) -> dict:
    """The checkpoint's meta record, each field there with its type (a file from elsewhere, or damaged,
    is refused here rather than failing halfway through resuming)."""
    def bad(why):
        fail(BAD_CHECKPOINT, f"cannot resume from {path}: not a Glia checkpoint ({why})")

    if "meta" not in arrays:
        bad("it has no 'meta' record")
    try:
        meta = json.loads(str(arrays["meta"]))
    except ValueError as e:
        bad(f"its 'meta' record is not JSON: {e}")
    if not isinstance(meta, dict):
        bad("its 'meta' record is not a JSON object")
    fields = {"epoch": int, "history": dict, "best": (int, float), "best_epoch": int, "rng": dict}
    for name, kind in fields.items():
        if name not in meta:
            bad(f"its meta record has no '{name}'")
        if not isinstance(meta[name], kind) or isinstance(meta[name], bool):
            bad(f"its meta record's '{name}' is {meta[name]!r}")
    if meta["epoch"] < 0:
        bad(f"its meta record's epoch is {meta['epoch']}")
    hist = meta["history"]
    if any(not isinstance(hist.get(k), list) for k in ("loss", "acc", "val_loss", "val_acc")):
        bad("its meta record's history is not the lists of losses and accuracies")
    hist.setdefault("lr", [math.nan] * len(hist["loss"]))
    return meta


def _same_optimizer(path, meta, opt, state) -> None:
    """A checkpoint's optimizer state fits only the optimizer that wrote it (SGD's momentum is not
    Adam's second moment). Checkpoints record the optimizer's name and state since 2026-12-05; an older
    one must hold exactly the state this optimizer keeps."""
    mine = sorted(opt.state())
    written = meta.get("optimizer")
    if written is not None and written != opt.name:
        fail(BAD_CHECKPOINT, f"cannot resume from {path}: it was written by the {written} optimizer and this "
             f"run uses {opt.name}; resume with the same optimizer, or train from the start without --resume")
    if sorted(state) != mine:
        fail(BAD_CHECKPOINT, f"cannot resume from {path}: its optimizer state ({', '.join(sorted(state)) or 'none'}) "
             f"is not {opt.name}'s ({', '.join(mine)}); it was written with another optimizer")
    for k, v in opt.state().items():
        if np.shape(state[k]) != v.shape:
            fail(BAD_CHECKPOINT, f"cannot resume from {path}: its optimizer state '{k}' has shape "
                 f"{np.shape(state[k])}, this model's is {v.shape}")
