"""A program's parameters: one flat float buffer, gradients in a second one of the same layout.

Each parameter is a named view (`digit.dense#1.W`) into the flat buffer; the layers read their views,
the backward sweep adds into the matching views of `grad`, and optimizers update `flat` as a whole.
Initialisation is deterministic under a seed (one numpy Generator, parameters in layout order).
Some layers also own state that is not trained (batch_norm's running statistics): named views
(`buffers`) of a third buffer that optimizers never see, saved and loaded with the parameters.
Saved as .npz: one array per name, readable with `numpy.load` (and `torch.from_numpy`).
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from math import prod

import numpy as np

from .errors import FILE, GliaRuntimeError, fail
from .pyio import replacement_mode


@dataclass(frozen=True)
class ParamSpec:
    name: str  # site.param, e.g. digit.dense#1.W
    shape: tuple[int, ...]
    init: str  # glorot | he | conv | zeros | ones | normal | lstm_bias
    offset: int = 0

    @property
    def size(self) -> int:
        return prod(self.shape)


def layout(specs) -> list[ParamSpec]:
    out, off = [], 0
    for s in specs:
        out.append(ParamSpec(s.name, tuple(s.shape), s.init, off))
        off += prod(s.shape)
    return out


def _views(buf, specs):
    return {s.name: buf[s.offset:s.offset + s.size].reshape(s.shape) for s in specs}


class ParamStore:
    def __init__(self, specs, dtype=np.float32, seed: int = 0, state_specs=()):
        self.specs = layout(specs)
        self.state_specs = layout(state_specs)  # not trained: running statistics
        self.dtype = np.dtype(dtype)
        n = sum(s.size for s in self.specs)
        self.flat = np.zeros(n, self.dtype)
        self.grad = np.zeros(n, self.dtype)
        self.state_flat = np.zeros(sum(s.size for s in self.state_specs), self.dtype)
        self.views = _views(self.flat, self.specs)
        self.grads = _views(self.grad, self.specs)
        self.buffers = _views(self.state_flat, self.state_specs)
        self.init(seed)

    def __len__(self) -> int:
        """The number of trained values (the running statistics are not counted)."""
        return self.flat.size

    def init(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        for s in self.specs:
            self.views[s.name][...] = initial(rng, s)
        for s in self.state_specs:  # ones or zeros: the generator is not drawn from
            self.buffers[s.name][...] = initial(rng, s)
        self.made = seed  # (initialised_with)

    def initialised_with(self) -> int | None:
        """The seed `init` made the parameters with, while they are as it made them (not trained, loaded,
        restored or written since); else None. Checked by making them again (at a training run's start,
        not each time a store is made)."""
        if self.made is None:
            return None
        now, seed = self.snapshot(), self.made
        self.init(seed)
        if np.array_equal(now, self.snapshot()):
            return seed
        self.restore(now)  # (and no longer as made)
        return None

    def zero_grad(self) -> None:
        self.grad[...] = 0

    def named(self) -> dict[str, np.ndarray]:
        """Every named view: the parameters, then the running statistics."""
        return {**self.views, **self.buffers}

    def state(self) -> dict[str, np.ndarray]:
        return {name: v.copy() for name, v in self.named().items()}

    def snapshot(self) -> np.ndarray:
        """The parameters and the running statistics in one array (for `restore`)."""
        return np.concatenate([self.flat, self.state_flat])

    def restore(self, snap: np.ndarray) -> None:
        self.made = None
        self.flat[...] = snap[:self.flat.size]
        self.state_flat[...] = snap[self.flat.size:]

    def save(self, path: str) -> None:
        save_npz(path, self.state())

    def load(self, path: str) -> None:
        """Load a .npz written by `save`, or a training checkpoint's parameters (its `param/` arrays, as
        runtime/train_loop.py writes them); every parameter must be there with its shape."""
        if not os.path.exists(path):
            fail(FILE, f"no such parameter file: {path}")
        self.made = None
        arrays = read_npz(path, "parameter file")
        if "meta" in arrays and any(k.startswith("param/") for k in arrays):  # a checkpoint
            arrays = {k[len("param/"):]: v for k, v in arrays.items() if k.startswith("param/")}
        self.assign(arrays, path)

    def assign(self, arrays: dict, where: str = "the given parameters") -> None:
        views = self.named()
        for name, v in views.items():
            if name not in arrays:
                fail(BAD_FILE, f"{where} has no parameter '{name}' (it has: {', '.join(sorted(arrays)) or 'none'})")
            a = np.asarray(arrays[name])
            if a.shape != v.shape:
                fail(BAD_FILE, f"parameter '{name}' in {where} has shape {a.shape}, the program needs {v.shape}")
            if not is_numeric(a):
                fail(BAD_FILE, f"parameter '{name}' in {where} holds {a.dtype} values; parameters are numbers "
                     f"({self.dtype})")
        for name, v in views.items():
            v[...] = arrays[name]


def is_numeric(a: np.ndarray) -> bool:
    """Integers or floats: what a parameter can be set from (not bools, complex numbers, strings or
    objects, which numpy would cast with a warning, an exception or silently)."""
    return a.dtype.kind in "fiu"


def initial(rng, s: ParamSpec) -> np.ndarray:
    fan_in = s.shape[0] if len(s.shape) > 1 else s.size
    fan_out = s.shape[-1]
    if s.init == "glorot":
        lim = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-lim, lim, s.shape)
    if s.init == "he":
        return rng.normal(0.0, np.sqrt(2.0 / fan_in), s.shape)
    if s.init == "conv":  # PyTorch's default for convolutions: uniform in +-1/sqrt(fan_in)
        lim = 1.0 / np.sqrt(prod(s.shape[1:]))
        return rng.uniform(-lim, lim, s.shape)
    if s.init == "normal":
        return rng.normal(0.0, 1.0, s.shape)
    if s.init == "ones":
        return np.ones(s.shape)
    if s.init == "lstm_bias":  # forget gate starts open (the second quarter)
        b = np.zeros(s.shape)
        q = s.shape[0] // 4
        b[q:2 * q] = 1.0
        return b
    return np.zeros(s.shape)


NPZ_MAGIC = b"PK\x03\x04"  # a .npz is a zip archive
NPY_MAGIC = b"\x93NUMPY"
BAD_FILE = "E703"  # a data, parameter or checkpoint file that is not a whole .npz, or lacks what the program needs


def read_npz(path: str, what: str = "file") -> dict[str, np.ndarray]:
    """Every array of the .npz at `path` (no pickles). A file that is not one, or is truncated or
    damaged, is E703 naming it and what is wrong, never numpy's or zipfile's exception."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(NPY_MAGIC))
    except OSError as e:
        fail(FILE, f"cannot read {what} {path}: {e.strerror or e}")
    if head.startswith(NPY_MAGIC):
        fail(BAD_FILE, f"{what} {path} is a single .npy array, not an .npz archive (write it with numpy.savez)")
    if not head.startswith(NPZ_MAGIC):
        fail(BAD_FILE, f"{what} {path} is not an .npz file" + (" (it is empty)" if not head else ""))
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {}
            for k in data.files:
                try:
                    arrays[k] = data[k]
                except ValueError as e:
                    if "allow_pickle" not in str(e):
                        raise
                    fail(BAD_FILE, f"{what} {path}: its array '{k}' holds Python objects (dtype object, stored "
                         "pickled), which are not loaded; save numbers (or strings) instead")
            return arrays
    except GliaRuntimeError:
        raise
    except Exception as e:  # zipfile, zlib and numpy each raise their own kinds for a damaged archive
        fail(BAD_FILE, f"{what} {path} is damaged or truncated: cannot read it as an .npz archive "
             f"({type(e).__name__}: {e})")


def check_writable(path: str) -> None:
    """Refuse, before any work, a path that `save_npz` could not write: a directory, one in a folder
    that does not exist (no folder is made for it, as `glia compile -o` and `glia synth --out` make
    none: a mistyped folder is said, not created), or a folder where no file can be created (probed
    with a real temporary file: permission bits say nothing to root, nor about /proc)."""
    if os.path.isdir(path):
        fail(FILE, f"cannot write {path}: it is a directory")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        fail(FILE, f"cannot write {path}: no such directory {directory}")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".glia-tmp-", suffix=".npz")
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        fail(FILE, f"cannot write {path}: {e.strerror or e} (in {directory})")


def save_npz(path: str, arrays: dict) -> None:
    """Atomic: an existing file at `path` stays whole until the new one is completely written."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".glia-tmp-", suffix=".npz")
        try:
            os.fchmod(fd, replacement_mode(path))
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    except OSError as e:
        fail(FILE, f"cannot write {path}: {e.strerror or e}")
