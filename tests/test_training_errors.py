"""Training's failures are diagnostics, never a traceback or a silent wrong result: a NaN in the
compiled kernels stops training and names its operation, unreadable .npz files and checkpoints are
E7xx errors naming the file, early stopping with no finite validation loss, an unwritable --out,
file modes, and settings checked where they are written."""
from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import glia
from glia.compiler.diagnostics import GliaError
from glia.runtime import mlp_kernels as K

from test_training import DATA, MLP, glia_cli  # the same data, model and command line


@pytest.fixture(scope="module")
def digits():
    with np.load(DATA) as d:
        return d["x"][:300], d["y"][:300]


# ---- 1. a NaN in the compiled whole-epoch kernels -------------------------------------------------

def test_compiled_kernels_stop_at_a_nan_and_name_the_operation(digits):
    x, y = digits
    p = glia.compile(MLP, "m.glia")
    with pytest.raises(GliaError) as e:
        p.train("digit", x, y, optimizer="sgd", lr=1e20, epochs=3, engine="compiled", progress=False)
    d = e.value.diagnostic
    assert d.code == "E702" and "'layer.dense'" in d.message and d.span.line == 4, d


def test_the_kernels_loss_is_nan_for_a_nan_prediction():
    out = np.full((1, 3), np.nan, np.float32)
    total, _ = K._loss(K.CE_SOFTMAX, out, np.zeros(1, np.int64), np.zeros((1, 1), np.float32),
                       np.zeros(1, np.int64), 1, np.zeros((1, 3), np.float32), 0.0)
    assert np.isnan(total)
    total, _ = K._loss(K.CE_SOFTMAX, out, np.zeros(0, np.int64), np.ones((1, 3), np.float32),
                       np.zeros(1, np.int64), 1, np.zeros((1, 3), np.float32), 0.0)
    assert np.isnan(total)


def test_inputs_too_large_for_f32_are_refused(tmp_path):
    x = np.zeros((10, 64))
    x[3, 5] = 1e40  # finite in float64, infinite in the model's f32
    with pytest.raises(GliaError) as e:
        glia.compile(MLP).train("digit", x, np.zeros(10, np.int64), epochs=1, progress=False)
    assert e.value.diagnostic.code == "E703" and "too large for f32" in e.value.diagnostic.message


def test_masked_inputs_targets_or_parameters_are_refused():
    """A masked array's mask was dropped (np.asarray): training used the values it hides."""
    x, y = np.ones((10, 64)), np.zeros(10, np.int64)
    hidden = np.ma.masked_array(x, mask=np.zeros_like(x, bool))
    hidden.mask[0, 0] = True
    p = glia.compile(MLP)
    for args, what in (((hidden, y), "inputs"), ((x, np.ma.masked_array(y)), "targets")):
        with pytest.raises(GliaError) as e:
            p.train("digit", *args, epochs=1, progress=False)
        d = e.value.diagnostic
        assert d.code == "E703" and d.message.startswith(f"the {what} are a numpy masked array"), d.message
    with pytest.raises(GliaError) as e:
        p.params["digit.dense#1.b"] = np.ma.masked_array(np.ones(32, np.float32))
    assert e.value.diagnostic.code == "E703" and "masked array" in e.value.diagnostic.message


@pytest.mark.parametrize("engine", ["tape", "compiled"])
def test_binary_cross_entropy_of_a_model_without_sigmoid_is_an_error(engine):
    """Predictions outside [0, 1] were clipped flat, with no gradient there: training went on silently,
    learning nothing. PyTorch refuses them; so does Glia, at the block's `loss =` setting."""
    src = ('def m(x: f32[2]) -> f32[1]:\n    return dense(x, 1)\n\ntrain m on "d.npz":\n    inputs = x\n'
           '    targets = y\n    loss = binary_cross_entropy\n')
    x = np.random.default_rng(0).normal(size=(32, 2)).astype(np.float32) * 5
    with pytest.raises(GliaError) as e:
        glia.compile(src, "m.glia").train("m", x, (x[:, :1] > 0).astype(np.float32), epochs=1, engine=engine,
                                          progress=False)
    d = e.value.diagnostic
    assert d.code == "E506" and d.message.startswith("binary_cross_entropy takes probabilities in [0, 1], found a "
                                                     "prediction of "), d.message
    assert (d.span.line, d.span.col) == (7, 12)


@pytest.mark.parametrize("engine", ["tape", "compiled"])
@pytest.mark.parametrize("targets", ["labels", "one-hot"])
def test_cross_entropy_of_a_model_without_softmax_is_an_error(engine, targets):
    """A model ending in raw scores (PyTorch's cross_entropy takes them) trained silently, its loss
    meaningless (17 -> 13 on two classes); now E506 at the block's `loss =`, on the tape and compiled."""
    src = ('def m(x: f32[2]) -> f32[3]:\n    return dense(x, 3)\n\ntrain m on "d.npz":\n    inputs = x\n'
           '    targets = y\n    loss = cross_entropy\n')
    x = np.random.default_rng(0).normal(size=(32, 2)).astype(np.float32) * 5
    y = (x[:, 0] > 0).astype(np.int64)
    if targets == "one-hot":
        y = np.eye(3, dtype=np.float32)[y]
    with pytest.raises(GliaError) as e:
        glia.compile(src, "m.glia").train("m", x, y, epochs=1, engine=engine, progress=False)
    d = e.value.diagnostic
    assert d.code == "E506" and d.message.startswith("cross_entropy takes probabilities in [0, 1], found a "
                                                     "prediction of "), d.message
    assert (d.span.line, d.span.col) == (7, 12)


def test_glia_eval_of_binary_cross_entropy_outside_0_1_is_a_diagnostic(tmp_path):
    """`glia eval` of a model without a final sigmoid was an internal error (the loss's error, raised
    outside the interpreter, reached the command as a traceback); now E506 at the block's `loss =`, as
    in training, and with no position when --loss gave it."""
    x = np.random.default_rng(0).normal(size=(8, 2)).astype(np.float32)
    np.savez(tmp_path / "d.npz", x=x, y=(x[:, :1] > 0).astype(np.float32))
    np.savez(tmp_path / "p.npz", **{"m.dense#1.W": np.full((2, 1), 5, np.float32), "m.dense#1.b": np.zeros(1, np.float32)})
    prog = tmp_path / "m.glia"
    prog.write_text('def m(x: f32[2]) -> f32[1]:\n    return dense(x, 1)\n\ntrain m on "d.npz":\n'
                    '    loss = binary_cross_entropy\n')
    r = glia_cli("eval", prog, "--params", tmp_path / "p.npz")
    assert r.returncode == 1 and "m.glia:5:12: error[E506]: binary_cross_entropy takes probabilities in [0, 1]" \
        in r.stderr and "Traceback" not in r.stderr, r.stderr
    prog.write_text('def m(x: f32[2]) -> f32[1]:\n    return dense(x, 1)\n')
    r = glia_cli("eval", prog, "--params", tmp_path / "p.npz", "--fn", "m", "--data", tmp_path / "d.npz", "--loss",
                 "binary_cross_entropy")
    assert r.returncode == 1 and "m.glia: error[E506]: binary_cross_entropy takes" in r.stderr, r.stderr


# ---- 2. unreadable .npz files and checkpoints -----------------------------------------------------

def _damaged(tmp_path, kind):
    """A file that is not a whole .npz: cut short, a flipped byte, a .npy, text."""
    good = tmp_path / "good.npz"
    np.savez(good, **{"digit.dense#1.W": np.ones((64, 32), np.float32), "x": np.ones((4, 64), np.float32)})
    data = good.read_bytes()
    path = tmp_path / f"{kind}.npz"
    if kind == "truncated":
        path.write_bytes(data[:len(data) // 2])
    elif kind == "corrupt":  # a byte inside the first array's data: zipfile's CRC check fails
        i = data.index(b"NUMPY") + 200
        path.write_bytes(data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:])
    elif kind == "npy":
        with open(path, "wb") as f:
            np.save(f, np.ones(3))
    else:
        path.write_text("hello\n")
    return path


MESSAGES = {"truncated": "is damaged or truncated", "corrupt": "is damaged or truncated",
            "npy": "is a single .npy array, not an .npz archive", "text": "is not an .npz file"}


@pytest.mark.parametrize("kind", list(MESSAGES))
def test_a_damaged_npz_is_a_diagnostic_naming_the_file(tmp_path, kind):
    bad = _damaged(tmp_path, kind)
    with pytest.raises(GliaError) as e:  # as data
        glia.compile(MLP).train("digit", data=str(bad), epochs=1, progress=False)
    d = e.value.diagnostic
    assert d.code == "E703" and f"data file {bad} {MESSAGES[kind]}" in d.message, d.message
    with pytest.raises(GliaError) as e:  # as parameters
        glia.compile(MLP).load_params(bad)
    assert e.value.diagnostic.code == "E703" and f"parameter file {bad} {MESSAGES[kind]}" in e.value.diagnostic.message


def test_an_npz_holding_an_object_array_says_so(tmp_path):
    """It was 'damaged or truncated' (numpy's allow_pickle ValueError), though the file is whole."""
    path = tmp_path / "obj.npz"
    np.savez(path, x=np.zeros((4, 64), np.float32), y=np.zeros(4, np.int64),
             names=np.array([[1], "two"], dtype=object))
    for call, what in ((lambda: glia.compile(MLP).train("digit", data=str(path), epochs=1), "data file"),
                       (lambda: glia.compile(MLP).load_params(path), "parameter file")):
        with pytest.raises(GliaError) as e:
            call()
        d = e.value.diagnostic
        assert d.code == "E703" and f"{what} {path}: its array 'names' holds Python objects" in d.message, d.message
        assert "damaged" not in d.message


def test_a_parameter_file_without_a_parameter_or_of_another_shape_is_e703(tmp_path, capsys):
    """A file missing one of the program's parameters (or with one of another shape, or of strings) was
    E506, a runtime error of the program, where every other parameter-file problem is E703."""
    from glia.cli import main

    prog = tmp_path / "m.glia"
    prog.write_text(MLP)
    good = {k: np.array(v) for k, v in glia.compile(MLP).params.items()}
    files = {"missing": {k: v for k, v in good.items() if k != "digit.dense#2.b"},
             "shape": {**good, "digit.dense#2.b": np.zeros(3, np.float32)},
             "strings": {**good, "digit.dense#2.b": good["digit.dense#2.b"].astype(str)}}
    for name, arrays in files.items():
        path = tmp_path / f"{name}.npz"
        np.savez(path, **arrays)
        with pytest.raises(GliaError) as e:
            glia.compile(MLP).load_params(path)
        assert e.value.diagnostic.code == "E703" and "digit.dense#2.b" in e.value.diagnostic.message, name
        for cmd in (["eval", str(prog), "--fn", "digit", "--data", str(DATA)], ["run", str(prog)], ["params", str(prog)]):
            assert main([*cmd, "--params", str(path)]) == 1
            err = capsys.readouterr().err
            assert "error[E703]" in err and "digit.dense#2.b" in err, (cmd, err)


def test_a_damaged_checkpoint_or_data_from_the_command_line(tmp_path):
    prog = tmp_path / "m.glia"
    prog.write_text(MLP)
    bad = _damaged(tmp_path, "corrupt")
    r = glia_cli("train", prog, "--fn", "digit", "--data", DATA, "--checkpoint", bad, "--resume", "--epochs", "1",
                 "--no-progress")
    assert r.returncode == 1 and f"checkpoint {bad} is damaged" in r.stderr and "Traceback" not in r.stderr, r.stderr
    r = glia_cli("eval", prog, "--fn", "digit", "--data", _damaged(tmp_path, "text"), "--params", bad)
    assert r.returncode == 1 and "E703" in r.stderr and "Traceback" not in r.stderr, r.stderr


def _checkpoint(tmp_path, digits, **kw):
    x, y = digits
    ck = tmp_path / "run.ckpt.npz"
    glia.compile(MLP).train("digit", x, y, epochs=1, checkpoint=str(ck), **kw)
    return ck


@pytest.mark.parametrize("change, message", [
    (lambda m: m.pop("rng"), "its meta record has no 'rng'"),
    (lambda m: m.update(epoch="x"), "its meta record's 'epoch' is 'x'"),
    (lambda m: m.update(epoch=1.5), "its meta record's 'epoch' is 1.5"),
    (lambda m: m.update(history=[]), "its meta record's 'history' is []"),
])
def test_a_checkpoint_with_a_bad_meta_record_is_refused(tmp_path, digits, change, message):
    import json

    ck = _checkpoint(tmp_path, digits)
    with np.load(ck) as d:
        arrays = {k: d[k] for k in d.files}
    meta = json.loads(str(arrays["meta"]))
    change(meta)
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(ck, **arrays)
    x, y = digits
    with pytest.raises(GliaError) as e:
        glia.compile(MLP).train("digit", x, y, epochs=2, checkpoint=str(ck), resume=True)
    assert e.value.diagnostic.code == "E703" and message in e.value.diagnostic.message, e.value.diagnostic.message


# ---- 7. resuming with another optimizer ------------------------------------------------------------

def test_resuming_with_another_optimizer_is_refused(tmp_path, digits):
    x, y = digits
    ck = _checkpoint(tmp_path, digits, optimizer="adam")
    before = ck.read_bytes()
    with pytest.raises(GliaError) as e:
        glia.compile(MLP).train("digit", x, y, epochs=2, optimizer="sgd", momentum=0.9, checkpoint=str(ck),
                                resume=True)
    m = e.value.diagnostic.message
    assert e.value.diagnostic.code == "E703" and "written by the adam optimizer and this run uses sgd" in m, m
    assert ck.read_bytes() == before  # nothing trained, nothing overwritten
    p = glia.compile(MLP)
    p.train("digit", x, y, epochs=1, optimizer="sgd", lr=0.1)
    kept = {k: v.copy() for k, v in p.params.items()}
    with pytest.raises(GliaError):
        p.train("digit", x, y, epochs=2, optimizer="sgd", checkpoint=str(ck), resume=True)
    assert all(np.array_equal(p.params[k], v) for k, v in kept.items())  # the refused resume changed nothing
    h = glia.compile(MLP).train("digit", x, y, epochs=2, optimizer="adam", checkpoint=str(ck), resume=True)
    assert len(h["loss"]) == 2


def test_an_old_checkpoint_without_the_optimizer_is_refused_when_its_state_differs(tmp_path, digits):
    import json

    ck = _checkpoint(tmp_path, digits, optimizer="rmsprop")
    with np.load(ck) as d:
        arrays = {k: d[k] for k in d.files}
    meta = json.loads(str(arrays["meta"]))
    del meta["optimizer"]  # as written before 2026-12-05
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(ck, **arrays)
    x, y = digits
    with pytest.raises(GliaError) as e:
        glia.compile(MLP).train("digit", x, y, epochs=2, optimizer="adam", checkpoint=str(ck), resume=True)
    assert "its optimizer state (buf.sq, buf.v, t) is not adam's (buf.m, buf.v, t)" in e.value.diagnostic.message
    h = glia.compile(MLP).train("digit", x, y, epochs=2, optimizer="rmsprop", checkpoint=str(ck), resume=True)
    assert len(h["loss"]) == 2


# ---- 3. early stopping when no validation loss is finite ------------------------------------------

class _Engine:
    """The training loop's view of an engine, with a validation loss given per epoch."""

    def __init__(self, val_losses):
        from glia.runtime.optim import make_optimizer
        from glia.runtime.params import ParamSpec, ParamStore

        self.store = ParamStore([ParamSpec("f.dense#1.W", (2, 2), "glorot")])
        self.opt = make_optimizer("sgd", 4, np.float32)
        self.val_losses = list(val_losses)

    def epoch(self, order, batch, lr):
        self.store.flat += 1.0  # each epoch changes the parameters
        return 1.0, float("nan")

    def evaluate(self, rows):
        return self.val_losses.pop(0), float("nan")


@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
def test_early_stopping_with_no_finite_validation_loss_keeps_the_last_parameters(bad):
    from glia.runtime import train_loop

    e = _Engine([bad] * 5)
    cfg = train_loop.LoopConfig(epochs=5, early_stopping=2, progress=False)
    h = train_loop.run(e, np.arange(8), np.arange(8, 10), cfg)
    assert "no epoch had a finite validation loss" in h["stopped"] and len(h["loss"]) == 2
    assert np.all(e.store.flat == e.store.snapshot()[:4])


def test_early_stopping_ignores_a_non_finite_validation_loss_after_a_finite_one():
    from glia.runtime import train_loop

    e = _Engine([float("nan"), 0.5, float("inf"), float("nan"), 0.1])
    first = e.store.flat.copy()
    h = train_loop.run(e, np.arange(8), np.arange(8, 10), train_loop.LoopConfig(epochs=5, early_stopping=2,
                                                                                  progress=False))
    assert h["stopped"].endswith("(best epoch 2 restored)") and np.allclose(e.store.flat, first + 2)


# ---- 4. an --out that cannot be written ------------------------------------------------------------

@pytest.mark.parametrize("out, message", [("{tmp}", "it is a directory"), ("/proc/x.npz", "cannot write /proc/x.npz")])
def test_an_unwritable_out_is_refused_before_training(tmp_path, out, message):
    prog = tmp_path / "m.glia"
    prog.write_text(MLP)
    r = glia_cli("train", prog, "--fn", "digit", "--data", DATA, "--epochs", "1", "--no-progress",
                 "--out", out.format(tmp=tmp_path))
    assert r.returncode == 1 and "E703" in r.stderr and message in r.stderr, r.stderr
    assert "training digit" not in r.stderr and "Traceback" not in r.stderr  # refused before training


def test_an_out_checkpoint_or_plot_in_a_missing_folder_is_refused_as_compile_refuses_one(tmp_path):
    """`glia train --out missing/x.npz` made the folder (and so did a checkpoint's and --plot's), while
    `glia compile -o missing/x` and `glia synth --out missing/x.npz` refuse it: now train refuses it too,
    before training, so a mistyped folder is said rather than created."""
    prog = tmp_path / "m.glia"
    prog.write_text(MLP)
    missing = tmp_path / "missing"
    for flag, name in (("--out", "x.npz"), ("--checkpoint", "x.npz"), ("--plot", "x.png")):
        r = glia_cli("train", prog, "--fn", "digit", "--data", DATA, "--epochs", "1", "--no-progress", flag,
                     missing / name)
        assert r.returncode == 1 and "E703" in r.stderr and f"no such directory {missing}" in r.stderr, r.stderr
        assert "training digit" not in r.stderr and not missing.exists()
    p = glia.compile(MLP)
    with pytest.raises(GliaError) as e:
        p.train("digit", np.zeros((4, 64), np.float32), np.zeros(4, np.int64), checkpoint=str(missing / "c.npz"))
    assert e.value.diagnostic.code == "E703" and "no such directory" in e.value.diagnostic.message
    assert not missing.exists()


def test_an_out_or_checkpoint_that_is_the_program_or_the_data_is_refused(tmp_path):
    import shutil

    prog = tmp_path / "m.glia"
    prog.write_text(MLP)
    data = tmp_path / "d.npz"
    shutil.copy(DATA, data)
    before = (prog.read_bytes(), data.read_bytes())
    for flag, path, what in (("--out", prog, "the program"), ("--out", data, "the training data"),
                             ("--checkpoint", data, "the training data")):
        r = glia_cli("train", prog, "--fn", "digit", "--data", data, "--epochs", "1", "--no-progress", flag, path)
        assert r.returncode == 1 and "E703" in r.stderr and what in r.stderr, r.stderr
        assert "training digit" not in r.stderr
    assert (prog.read_bytes(), data.read_bytes()) == before


def test_a_failure_to_save_keeps_the_trained_parameters(tmp_path, monkeypatch, capsys):
    from glia.cli import main
    from glia.runtime import params
    from glia.runtime.errors import FILE, fail

    prog = tmp_path / "m.glia"
    prog.write_text(MLP)
    out = tmp_path / "out.npz"
    save = params.ParamStore.save

    def disk_full_at_out(self, path):  # the folder was writable when training started
        if path == str(out):
            fail(FILE, f"cannot write {path}: No space left on device")
        save(self, path)

    monkeypatch.setattr(params.ParamStore, "save", disk_full_at_out)
    monkeypatch.chdir(tmp_path)
    rc = main(["train", str(prog), "--fn", "digit", "--data", str(DATA), "--epochs", "1", "--no-progress",
               "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 1 and "No space left on device; the trained parameters were saved to" in err, err
    rescued = err.split("saved to ")[1].split(" instead")[0]
    assert os.path.dirname(rescued) == str(tmp_path)
    with np.load(rescued) as d:
        assert d["digit.dense#1.W"].shape == (64, 32)


# ---- 5. file modes ----------------------------------------------------------------------------------

@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_saved_files_get_the_usual_mode_and_an_overwritten_file_keeps_its_own(tmp_path, umask_022):
    from glia.runtime.params import save_npz
    from glia.runtime.pyio import write_file

    for write, name in ((lambda p: save_npz(str(p), {"a": np.zeros(2)}), "p.npz"),
                        (lambda p: write_file(str(p), "text"), "t.txt")):
        path = tmp_path / name
        write(path)
        assert os.stat(path).st_mode & 0o777 == 0o644, name  # 0666 less the umask, not mkstemp's 0600
        os.chmod(path, 0o640)
        write(path)
        assert os.stat(path).st_mode & 0o777 == 0o640, name


# ---- 6, 8, 9 and the nits: settings are checked with the program, at their value ---------------------

def _block(*settings):
    return MLP + 'train digit on "digits.npz":\n' + "".join(f"    {s}\n" for s in settings)


@pytest.mark.parametrize("setting, col, message", [
    ("schedule = step(every=0)", 16, "step(every=...) must be a positive integer, found 0"),
    ("schedule = step(every=2.5)", 16, "step(every=...) must be a positive integer, found 2.5"),
    ("schedule = step(every=-1)", 16, "step(every=...) must be a positive integer, found -1"),
    ("schedule = step(10)", 16, "name the schedule's settings: step(every=..., gamma=...)"),
    ("schedule = cosine(every=3)", 16, "cosine() has no setting 'every'; it takes none"),
    ("schedule = exponential(gamma=0)", 16, "exponential(gamma=...) must be a number > 0, found 0"),
    ("optimizer = adam(beta=0.9)", 17, "adam() has no setting 'beta'; it takes lr, beta1, beta2, eps"),
    ("optimizer = adam(lr=0)", 17, "adam(lr=...) must be a number > 0, found 0"),
    ("optimizer = sgd(nesterov=True)", 17, "sgd(nesterov=True) needs a momentum > 0"),
    ("lr = 0", 10, "lr must be a number > 0"),
    ("clip = -1", 12, "clip must be a number > 0"),
    ("seed = -5", 12, "seed must be a non-negative integer, found -5"),
    ("device = tpu", 14, "the device is cpu, cuda or auto, found 'tpu'"),
    # (metrics took any value, unchecked and unused)
    ("metrics = bogus", 15, "metrics names loss and accuracy (`metrics = [loss, accuracy]`; both are reported"),
    ("metrics = [accuracy, f1]", 15, "found ['accuracy', 'f1']"),
    # (a list was "not enough values to unpack"; checkpoint = 3 wrote a file named '3')
    ("schedule = [1]", 16, "the schedule is a name, or one with its settings as in a train block"),
    ("optimizer = 0.1", 17, "the optimizer is a name, or one with its settings as in a train block"),
    ("checkpoint = 3", 18, "checkpoint is a file name, found 3"),
    ("inputs = [1]", 14, "inputs is an array's name, found [1]"),
    ("optimizer = sgd(lr=0.1, lr=0.2)", 29, "sgd() is given 'lr' twice"),  # (the last was taken)
])
def test_a_bad_setting_is_an_error_at_its_value_when_checked(setting, col, message):
    with pytest.raises(GliaError) as e:
        glia.compile(_block("epochs = 1", setting), "m.glia")
    d = e.value.diagnostic
    assert d.code == "E703" and message in d.message and (d.span.line, d.span.col) == (7, col), (d, d.span)


def test_device_is_a_training_setting(digits):
    x, y = digits
    p = glia.compile(_block("device = cpu", "epochs = 1"))  # was E103 unknown training setting
    assert len(p.train("digit", x, y)["loss"]) == 1


@pytest.mark.parametrize("first, second, line_col", [
    ("lr = 0.1", "optimizer = adam(lr=0.01)", (7, 17)),
    ("optimizer = sgd(0.1)", "lr = 0.01", (7, 10)),
])
def test_the_learning_rate_given_twice_is_an_error(first, second, line_col):
    with pytest.raises(GliaError) as e:
        glia.compile(_block(first, second), "m.glia")
    d = e.value.diagnostic
    assert d.code == "E703" and "the learning rate is given twice" in d.message
    assert (d.span.line, d.span.col) == line_col


def test_a_validation_that_leaves_nothing_to_train_on_points_at_it(digits):
    x, y = digits
    p = glia.compile(_block("validation = 0.999"), "m.glia")
    with pytest.raises(GliaError) as e:
        p.train("digit", x[:20], y[:20], epochs=1)
    d = e.value.diagnostic
    assert "leaves no training examples" in d.message and (d.span.line, d.span.col) == (6, 18), d.span
    # given as a keyword (a flag): not at the block's header, but the program's error, not glia's own
    p = glia.compile(MLP + 'train digit on "digits.npz":\n    epochs = 1\n', "m.glia")
    with pytest.raises(GliaError) as e:
        p.train("digit", x[:20], y[:20], validation=0.999)
    d = e.value.diagnostic
    assert d.span.line == 0 and str(e.value).startswith("m.glia: error[E703]: validation 0.999 leaves"), str(e.value)
    p.train("digit", x[:20], y[:20], epochs=1, shuffle=np.bool_(False))  # (np.bool_ was refused, as resume takes it)


def test_an_error_about_an_overridden_setting_does_not_point_at_the_value_it_replaced(digits, tmp_path, capsys):
    """`validation = 0.1` in the block, 0.999 from a keyword or flag: the error quoted the block's line
    `validation = 0.1` for the value 0.999 (and `epochs = 40` for a --epochs 1 too small to resume)."""
    x, y = digits
    p = glia.compile(_block("validation = 0.1"), "m.glia")
    with pytest.raises(GliaError) as e:
        p.train("digit", x[:20], y[:20], epochs=1, validation=0.999)
    d = e.value.diagnostic
    assert "validation 0.999 leaves no training examples" in d.message and d.span.line != 6, d.span
    err = _train_cli(tmp_path, capsys, ("validation = 0.1",), "--validation", "0.9999")
    assert "validation 0.9999 leaves no training examples" in err and "validation = 0.1" not in err, err


def test_a_step_that_overflows_a_parameter_names_the_optimizer_setting():
    x, y = np.ones((64, 4), np.float32), np.full((64, 1), 100.0, np.float32)  # gradients of about 20
    p = glia.compile('def f(x: f32[4]) -> f32[1]:\n    return dense(x, 1)\n\ntrain f on "d.npz":\n'
                     '    loss = mse\n    optimizer = sgd(lr=3e38)\n', "m.glia")
    with pytest.raises(GliaError) as e:
        p.train("f", x, y, epochs=1, engine="compiled")
    d = e.value.diagnostic
    assert d.code == "E702" and "the sgd step made a parameter NaN or infinite" in d.message
    assert (d.span.line, d.span.col) == (6, 17)


def test_training_a_function_that_does_not_exist_names_those_that_do(digits):
    x, y = digits
    with pytest.raises(GliaError) as e:
        glia.compile(MLP).train("nofn", x, y, epochs=1)  # no source location: the name comes from Python
    assert "no function named 'nofn' to train (this program's functions: digit)" in e.value.diagnostic.message


def test_the_kernels_finiteness_check():
    a = np.full(1000, 3e38, np.float32)  # finite, though their sum is not in float32
    assert K._finite_sum(a)
    for bad in (np.nan, np.inf, -np.inf):
        b = a.copy()
        b[517] = bad
        assert not K._finite_sum(b), bad


def test_optimizer_flags_are_checked_and_zero_overrides_the_block(tmp_path, capsys):
    """`--momentum 0` turns the block's momentum off (it was ignored: 0 is falsy), and --momentum,
    --weight-decay and --nesterov are checked as the block's settings are (they went unchecked:
    `--momentum 1.5` trained, diverging)."""
    def train(block_opt, *flags):
        return _train_cli(tmp_path, capsys, [f"optimizer = {block_opt}", "epochs = 1"], *flags)

    plain = train("sgd(lr=0.1)")
    off = train("sgd(lr=0.1, momentum=0.9)", "--momentum", "0")
    assert all(np.array_equal(plain[k], off[k]) for k in plain)
    # --no-nesterov turns the block's nesterov off (--nesterov could only turn it on)
    classic = train("sgd(lr=0.1, momentum=0.9)")
    assert _same(classic, train("sgd(lr=0.1, momentum=0.9, nesterov=True)", "--no-nesterov"))
    assert not _same(classic, train("sgd(lr=0.1, momentum=0.9)", "--nesterov"))
    assert _same(plain, train("sgd(lr=0.1, momentum=0.9, nesterov=True)", "--momentum", "0", "--no-nesterov"))
    for flags, message in ((["--momentum", "1.5"], "--momentum: sgd(momentum=...) must be in [0, 1), found 1.5"),
                           (["--weight-decay", "-0.5"], "--weight-decay: sgd(weight_decay=...) must be a number >= 0"),
                           (["--momentum", "0", "--nesterov"], "sgd(nesterov=True) needs a momentum > 0"),
                           (["--optimizer", "adam", "--momentum", "0.5"], "adam() has no setting 'momentum'")):
        err = train("sgd(lr=0.1, momentum=0.9)", *flags)
        assert "error[E703]" in err and message in err, (flags, err)


def _train_cli(tmp_path, capsys, settings, *flags):
    """`glia train` of the MLP with a block of `settings`: the saved parameters, or the error output."""
    from glia.cli import main

    prog = tmp_path / "m.glia"
    prog.write_text(MLP + f'train digit on "{DATA}":\n' + "".join(f"    {s}\n" for s in settings))
    out = tmp_path / "out.npz"
    rc = main(["train", str(prog), "--no-progress", "--out", str(out), *flags])
    err = capsys.readouterr().err
    if rc:
        return err
    with np.load(out) as d:
        return {k: d[k].copy() for k in d.files}


def _same(a, b):
    return sorted(a) == sorted(b) and all(np.array_equal(a[k], b[k]) for k in a)


def test_clip_0_turns_clipping_off_from_the_flag_and_the_keyword(digits, tmp_path, capsys):
    """`--clip 0` was E703 'must be > 0', so nothing could turn a block's clip off; 0 now means no
    clipping, as `--momentum 0` means no momentum, in the block, the flag and Program.train alike."""
    block = ("optimizer = sgd(lr=0.5)", "epochs = 1", "seed = 0")
    plain = _train_cli(tmp_path, capsys, block)
    clipped = _train_cli(tmp_path, capsys, block + ("clip = 0.01",))
    assert not _same(plain, clipped)
    assert _same(plain, _train_cli(tmp_path, capsys, block + ("clip = 0.01",), "--clip", "0"))
    assert _same(plain, _train_cli(tmp_path, capsys, block + ("clip = 0",)))
    x, y = digits
    p, q = glia.compile(_block("clip = 0.01")), glia.compile(_block("clip = 0.01"))
    p.train("digit", x, y, epochs=1, seed=0, optimizer="sgd", lr=0.5, clip=0)
    q.train("digit", x, y, epochs=1, seed=0, optimizer="sgd", lr=0.5)
    assert not all(np.array_equal(v, q.params[k]) for k, v in p.params.items())
    err = _train_cli(tmp_path, capsys, block, "--clip", "-1")
    assert "error[E703]" in err and "--clip: clip must be a number > 0 (the largest gradient norm), or 0" in err


def test_the_schedule_flag_keeps_the_blocks_settings_or_takes_its_own(tmp_path, capsys):
    """`--schedule step` over `schedule = step(every=2)` went back to step's defaults (every=10) silently;
    the block's own schedule named keeps its settings, and the flag takes settings as the block does."""
    block = ("optimizer = sgd(lr=0.5)", "epochs = 4", "seed = 0", "batch = 64")
    every2 = _train_cli(tmp_path, capsys, block + ("schedule = step(every=2, gamma=0.1)",))
    assert not _same(every2, _train_cli(tmp_path, capsys, block + ("schedule = step",)))
    assert _same(every2, _train_cli(tmp_path, capsys, block + ("schedule = step(every=2, gamma=0.1)",),
                                    "--schedule", "step"))
    assert _same(every2, _train_cli(tmp_path, capsys, block, "--schedule", "step(every=2, gamma=0.1)"))
    for flag, message in (("step(every=0)", "--schedule: step(every=...) must be a positive integer, found 0"),
                          ("step(2)", "--schedule: name the schedule's settings"),
                          ("step(every=2", "--schedule: 'step(every=2' is not a value as a train block writes one"),
                          ("step(every=2, every=3)", "--schedule: step() is given 'every' twice"),
                          ("linear", "--schedule: the schedule is one of constant, step")):
        err = _train_cli(tmp_path, capsys, block, "--schedule", flag)
        assert "error[E703]" in err and message in err, (flag, err)
    x, y = np.ones((8, 64), np.float32), np.zeros(8, np.int64)
    hist = glia.compile(_block("schedule = step(every=1, gamma=0.5)")).train(
        "digit", x, y, epochs=3, schedule="step", lr=1.0)
    assert hist["lr"] == [1.0, 0.5, 0.25]
    hist = glia.compile(_block("epochs = 1")).train("digit", x, y, epochs=3, schedule="step(every=2, gamma=0.1)", lr=1.0)
    assert np.allclose(hist["lr"], [1.0, 1.0, 0.1])  # as the flag takes it


def test_plot_writes_the_format_its_name_says_and_is_checked_before_training(tmp_path, capsys):
    """`--plot curves.pdf` wrote a PNG under that name, `--plot curves.txt` a PNG too, and a --plot path
    that could not be written was an internal error (a traceback) after training."""
    pytest.importorskip("matplotlib")
    block = ("epochs = 1", "batch = 256")
    for name, magic in (("curves.pdf", b"%PDF"), ("curves.svg", b"<?xml"), ("curves", b"\x89PNG")):
        assert isinstance(_train_cli(tmp_path, capsys, block, "--plot", str(tmp_path / name)), dict)
        assert (tmp_path / name).read_bytes().startswith(magic), name
    assert not [f for f in os.listdir(tmp_path) if ".tmp" in f]
    for target, message in ((tmp_path / "curves.txt", "matplotlib cannot write .txt images"),
                            (tmp_path, "it is a directory"),  # a missing folder: refused, not made (as --out's)
                            (tmp_path / "new" / "folder" / "curves.png", f"no such directory {tmp_path / 'new'}")):
        (tmp_path / "out.npz").unlink(missing_ok=True)
        err = _train_cli(tmp_path, capsys, block, "--plot", str(target))
        assert "error[E703]" in err and message in err and "Traceback" not in err, err
        assert not (tmp_path / "out.npz").exists() and not (tmp_path / "new").exists()  # refused before training


def test_out_and_the_checkpoint_in_one_file_is_refused_before_training(tmp_path, capsys, monkeypatch):
    """`--out run.npz --checkpoint run.npz` trained, then the parameters overwrote the checkpoint: the next
    --resume found no checkpoint there. Two outputs in one file (or an output over the program) are E703."""
    monkeypatch.chdir(tmp_path)
    for flags, message in ((["--checkpoint", "run.npz", "--out", "./run.npz"], "checkpoint run.npz is the --out file"),
                           (["--out", "m.glia"], "--out m.glia is the program")):
        err = _train_cli(tmp_path, capsys, ("epochs = 1",), *flags)
        assert isinstance(err, str) and "error[E703]" in err and message in err, (flags, err)
        assert not os.path.exists("run.npz")


def test_a_blocks_checkpoint_that_cannot_be_written_is_said_at_the_block(tmp_path, capsys, monkeypatch):
    """`glia train` refused the block's `checkpoint = "a folder"` with no position (Program.train pointed
    at it); a --checkpoint over the block's was said as the block's setting, and later errors about it
    could point at the block's value it replaced."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    line = MLP.count("\n") + 3
    err = _train_cli(tmp_path, capsys, ("epochs = 1", 'checkpoint = "folder"'))
    assert f"m.glia:{line}:18: error[E703]: checkpoint: cannot write {tmp_path / 'folder'}: it is a directory" \
        in err, err
    err = _train_cli(tmp_path, capsys, ("epochs = 1", 'checkpoint = "run.npz"'), "--checkpoint", "folder")
    assert "m.glia: error[E703]: --checkpoint: cannot write folder: it is a directory" in err, err


def test_plot_without_matplotlib_is_refused_before_training(tmp_path, capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kw):
        if name.split(".")[0] == "matplotlib":
            raise ImportError(name)
        return real_import(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    err = _train_cli(tmp_path, capsys, ("epochs = 1",), "--plot", str(tmp_path / "c.png"))
    assert "error[E801]" in err and "--plot needs matplotlib" in err and not (tmp_path / "out.npz").exists(), err


def test_resuming_with_another_validation_split_is_an_error(digits, tmp_path):
    """Another validation fraction or seed (or other data) resumed silently, holding out other examples:
    some the run had trained on. The checkpoint records its split; the same one resumes as before."""
    x, y = digits
    ck = tmp_path / "run.ckpt.npz"
    glia.compile(MLP).train("digit", x, y, epochs=1, validation=0.2, checkpoint=str(ck))
    for change, held in (({"validation": 0.5}, "this run holds out 150 of 300"),
                         ({"validation": 0.2, "seed": 3}, "this run holds out 60 of 300 (other ones)")):
        with pytest.raises(GliaError) as e:
            glia.compile(MLP).train("digit", x, y, epochs=2, checkpoint=str(ck), resume=True, **change)
        d = e.value.diagnostic
        assert d.code == "E703" and "its run held out 60 of 300 examples for validation" in d.message, d.message
        assert held in d.message, d.message
    with pytest.raises(GliaError) as e:
        glia.compile(MLP).train("digit", x[:200], y[:200], epochs=2, validation=0.2, checkpoint=str(ck), resume=True)
    assert "this run holds out 40 of 200" in e.value.diagnostic.message
    h = glia.compile(MLP).train("digit", x, y, epochs=2, validation=0.2, checkpoint=str(ck), resume=True)
    assert len(h["loss"]) == 2


def test_resume_without_a_checkpoint_is_an_error(digits):
    """It trained from the start, silently, as if --resume had not been given."""
    x, y = digits
    with pytest.raises(GliaError) as e:
        glia.compile(MLP).train("digit", x, y, epochs=1, resume=True)
    assert e.value.diagnostic.code == "E703" and "resume needs a checkpoint" in e.value.diagnostic.message


@pytest.mark.parametrize("engine", ["tape", "compiled"])
def test_a_loss_that_overflows_on_finite_predictions_says_so(engine):
    """No operation of the model made the NaN: mse of predictions near 1e20 overflows float32. The
    error said only 'during training'; it now names the loss and the predictions' size."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6)).astype(np.float32)
    y = np.stack([x[:, 0] * 2, x[:, 1]], 1).astype(np.float32)
    p = glia.compile("def g(x: f32[6]) -> f32[2]:\n    h = relu(dense(x, 8))\n    return dense(h, 2)\n")
    with pytest.raises(GliaError) as e:
        p.train("g", x, y, loss="mse", optimizer="sgd", lr=1e4, epochs=20, batch=8, engine=engine)
    d = e.value.diagnostic
    assert d.code == "E702" and "the model's output is finite" in d.message and "the mse loss of it" in d.message


def test_resuming_a_checkpoint_past_the_runs_epochs_is_refused(digits, tmp_path):
    """It loaded the checkpoint's parameters, trained nothing, and `glia train` printed 'epoch 3/2'."""
    x, y = digits
    ck = tmp_path / "run.ckpt.npz"
    glia.compile(MLP).train("digit", x[:100], y[:100], epochs=3, checkpoint=str(ck))
    p = glia.compile(MLP)
    kept = {k: v.copy() for k, v in p.params.items()}
    with pytest.raises(GliaError) as e:
        p.train("digit", x[:100], y[:100], epochs=2, checkpoint=str(ck), resume=True)
    d = e.value.diagnostic
    assert d.code == "E703" and "written after epoch 3, and this run has 2 epochs" in d.message, d.message
    assert all(np.array_equal(p.params[k], v) for k, v in kept.items())  # the refused resume changed nothing
    assert len(p.train("digit", x[:100], y[:100], epochs=3, checkpoint=str(ck), resume=True)["loss"]) == 3


def test_eval_without_a_function_or_data_says_evaluate(tmp_path, capsys):
    """`glia eval` said 'nothing to train' / 'no data to train f on'."""
    from glia.cli import main

    prog = tmp_path / "m.glia"
    prog.write_text(MLP)
    params = tmp_path / "p.npz"
    glia.compile(MLP).save(str(params))
    assert main(["eval", str(prog), "--params", str(params)]) == 1
    assert "nothing to evaluate: this program has no `train` block" in capsys.readouterr().err
    assert main(["eval", str(prog), "--params", str(params), "--fn", "digit"]) == 1
    assert "no data to evaluate digit on: give --data" in capsys.readouterr().err


def test_a_warmup_as_long_as_the_run_is_an_error_naming_both(digits, tmp_path, capsys):
    """warmup_cosine(warmup=W) reaches the base rate in epoch W + 1: a run of W epochs or fewer never did,
    silently. E703 at the block's schedule (else its epochs), from the block, the flags and Program.train
    (the REPL's :train trains through the same function); a search trial shorter than the warmup (a rung's budget) still trains."""
    says = "warmup_cosine(warmup=3) warms the learning rate up over 3 epochs, and this run has 3"
    err = _train_cli(tmp_path, capsys, ["schedule = warmup_cosine(warmup=3)", "epochs = 3"])
    assert f"m.glia:6:16: error[E703]: {says}" in err, err
    err = _train_cli(tmp_path, capsys, ["epochs = 3"], "--schedule", "warmup_cosine(warmup=3)")
    assert f"m.glia:6:14: error[E703]: {says}" in err, err  # at the block's epochs
    err = _train_cli(tmp_path, capsys, ["schedule = warmup_cosine(warmup=3)", "epochs = 9"], "--epochs", "2")
    assert "m.glia:6:16: error[E703]: warmup_cosine(warmup=3) " in err and "this run has 2" in err, err
    assert isinstance(_train_cli(tmp_path, capsys, ["schedule = warmup_cosine(warmup=3)", "epochs = 1"],
                                 "--epochs", "4"), dict)
    x, y = digits
    with pytest.raises(GliaError) as e:
        glia.compile(MLP).train("digit", x, y, epochs=1, schedule="warmup_cosine", progress=False)
    assert e.value.diagnostic.code == "E703" and "warmup=1) warms the learning rate up over 1 epoch," in str(e.value)
    from glia.compiler import training
    from glia.compiler.interp import Interpreter

    p = glia.compile(MLP + 'train digit on "d.npz":\n    schedule = warmup_cosine(warmup=3)\n    epochs = 1\n')
    interp = Interpreter(p._backend.interp.program)
    o = training.Options(fn="digit", schedule="warmup_cosine", schedule_args={"warmup": 3}, epochs=1, progress=False)
    assert len(training.train(interp, o, x[:40], y[:40], trial=True)["loss"]) == 1


def test_the_optimizer_flag_and_keyword_take_an_optimizer_with_its_settings(tmp_path, capsys):
    """`--optimizer "sgd(lr=0.1, momentum=0.9)"` (and optimizer= in Program.train and :train) was E703 'the
    optimizer is one of sgd, ...': only --schedule took a value written as the block writes it."""
    block = ("optimizer = sgd(lr=0.5, momentum=0.9)", "epochs = 1", "seed = 0")
    want = _train_cli(tmp_path, capsys, block)
    assert _same(want, _train_cli(tmp_path, capsys, ("epochs = 1", "seed = 0"), "--optimizer", "sgd(lr=0.5, momentum=0.9)"))
    err = _train_cli(tmp_path, capsys, block, "--optimizer", "adam(momentum=0.5)")
    assert "error[E703]: --optimizer: adam() has no setting 'momentum'" in err, err
    x, y = np.ones((8, 64), np.float32), np.zeros(8, np.int64)
    hist = glia.compile(MLP).train("digit", x, y, epochs=2, optimizer="sgd(lr=0.25, momentum=0.5)", progress=False)
    assert hist["lr"] == [0.25, 0.25]
    for order in ({"lr": 0.5, "optimizer": "sgd(lr=0.25)"}, {"optimizer": "sgd(lr=0.25)", "lr": 0.5}):
        assert glia.compile(MLP).train("digit", x, y, epochs=1, progress=False, **order)["lr"] == [0.5]  # lr= wins


@pytest.mark.parametrize("cmd", ["train", "eval"])
def test_fn_that_does_not_exist_is_said_before_the_missing_data(tmp_path, cmd):
    """`glia train FILE --fn nope` said "no data to train nope on: give --data", as if the function
    were there; it now says there is no such function, naming those that are (`glia eval` said "to
    train" too)."""
    prog = tmp_path / "m.glia"
    prog.write_text(MLP)
    r = glia_cli(cmd, prog, "--fn", "nope", *(["--params", tmp_path / "p.npz"] if cmd == "eval" else []))
    verb = "evaluate" if cmd == "eval" else "train"
    assert r.returncode == 1 and f"error[E703]: no function named 'nope' to {verb} (this program's functions: " \
        "digit)" in r.stderr, r.stderr


def test_a_clip_bound_past_f32s_range_is_no_bound_without_a_numpy_warning():
    """clip=1e308 on an f32 model: numpy warned "overflow encountered in cast" writing it into the
    kernels' f32 hyper-parameters; it is the largest f32 now, which bounds nothing, as 1e308 does."""
    src = 'def m(x: f32[2]) -> f32[2]:\n    return softmax(dense(x, 2))\n'
    x = np.random.default_rng(0).normal(size=(32, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        unbounded = glia.compile(src, "m.glia").train("m", x, y, epochs=2, clip=1e308, seed=1, engine="compiled")
    plain = glia.compile(src, "m.glia").train("m", x, y, epochs=2, seed=1, engine="compiled")
    assert unbounded["loss"] == plain["loss"]


def test_program_save_into_a_missing_folder_is_an_error_not_a_new_folder(tmp_path):
    """`Program.save("missing/p.npz")` made the folder; a mistyped folder is said (E509), as `glia train
    --out` says it, and nothing is created."""
    p = glia.compile('def m(x: f32[2]) -> f32[1]:\n    return dense(x, 1)\n', "m.glia")
    with pytest.raises(GliaError) as e:
        p.save(tmp_path / "missing" / "p.npz")
    assert e.value.diagnostic.code == "E509" and "no such directory" in e.value.diagnostic.message
    assert not (tmp_path / "missing").exists()
    p.save(tmp_path / "p.npz")
    assert set(np.load(tmp_path / "p.npz")) == {"m.dense#1.W", "m.dense#1.b"}


def test_an_audits_training_messages(tmp_path):
    """Found by an audit (2026-12-07): `loss = mse()` showed an internal tuple, a flag's error spelt it
    --early_stopping, `glia eval` asked for --data it was given, and prog.train(prog.model, ...) said
    there was no function named '<function model at 0x...>'."""
    with pytest.raises(GliaError) as e:
        glia.compile(MLP + 'train digit on "d.npz":\n    loss = mse()\n', "m.glia")
    assert "found mse(...), a call: name the loss alone" in e.value.diagnostic.message
    prog = tmp_path / "m.glia"
    prog.write_text(MLP)
    r = glia_cli("train", prog, "--fn", "digit", "--data", DATA, "--early-stopping", "-2", "--no-progress")
    assert r.returncode == 1 and "--early-stopping: " in r.stderr and "--early_stopping" not in r.stderr, r.stderr
    r = glia_cli("eval", prog, "--params", tmp_path / "none.npz", "--data", DATA)
    assert r.returncode == 1 and r.stderr.strip().endswith("name the function with --fn"), r.stderr
    p = glia.compile(MLP)
    x, y = np.load(DATA)["x"][:64], np.load(DATA)["y"][:64]
    assert p.train(p.digit, x, y, epochs=1)["loss"]
    with pytest.raises(GliaError) as e:
        p.train(3, x, y)
    assert "train() takes the name of the function to train" in e.value.diagnostic.message


def test_a_split_that_changed_on_resume_is_said_at_the_setting_that_changed(tmp_path):
    """The error pointed at `seed` when the validation fraction had changed (an audit, 2026-12-07): the
    fraction when the number held out differs, the seed when the same number of other examples is."""
    def block(validation, seed):
        return (MLP + f'train digit on "{DATA}":\n    epochs = 1\n    validation = {validation}\n'
                f'    seed = {seed}\n    checkpoint = "{tmp_path / "run.ckpt.npz"}"\n')
    glia.compile(block(0.2, 3), "m.glia").train()
    for validation, seed, line in ((0.5, 3, 7), (0.2, 4, 8)):
        with pytest.raises(GliaError) as e:
            glia.compile(block(validation, seed), "m.glia").train(epochs=2, resume=True)
        d = e.value.diagnostic
        assert d.code == "E703" and "its run held out" in d.message and d.span.line == line, (d.span, d.message)
