"""Training: the digits classifier learns, checkpoints resume to the same result, runs are
deterministic under a seed, bad data is refused before anything runs or is written, a NaN names
its operation and line, and parameters are listed, saved and loaded."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import glia
from glia.compiler import training
from glia.compiler.diagnostics import GliaError

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "examples" / "neural" / "digits.glia"
DATA = ROOT / "examples" / "data" / "digits.npz"

MLP = '''
def digit(img: f32[64]) -> f32[10]:
    h = relu(dense(img, 32))
    return softmax(dense(h, 10))
'''
# a model over a batch: training passes each minibatch as one tensor
BN_MLP = '''
def digit(x: f32[n, 64]) -> f32[n, 10]:
    h = relu(batch_norm(dense(x, 32)))
    return softmax(dense(h, 10))
'''


def glia_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "glia", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=300)


@pytest.fixture(scope="module")
def digits():
    with np.load(DATA) as d:
        return d["x"], d["y"]


def test_digits_data_is_the_uci_set(digits):
    x, y = digits
    assert x.shape == (1797, 64) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert sorted(set(y.tolist())) == list(range(10))


@pytest.mark.parametrize("engine", ["tape", "auto"])
def test_digits_classifier_learns(digits, engine):
    x, y = digits
    p = glia.compile(MLP)
    epochs = 4 if engine == "tape" else 20
    h = p.train("digit", x, y, loss="cross_entropy", optimizer="adam", lr=0.01, epochs=epochs, batch=32,
                validation=0.2, seed=0, engine=engine)
    assert h["val_acc"][-1] >= (0.90 if engine == "tape" else 0.95), h
    assert h["loss"][-1] < h["loss"][0]


def test_compiled_and_tape_engines_agree(digits):
    x, y = digits
    x, y = x[:200], y[:200]
    runs = []
    for engine in ("tape", "auto"):
        p = glia.compile(MLP)
        h = p.train("digit", x, y, lr=0.01, epochs=2, batch=16, seed=3, engine=engine)
        runs.append((h, p.params["digit.dense#1.W"].copy()))
    if runs[1][0]["engine"] == runs[0][0]["engine"]:
        pytest.skip("the compiled engine did not take this model")
    assert np.allclose(runs[0][0]["loss"], runs[1][0]["loss"], rtol=1e-3)
    assert np.allclose(runs[0][1], runs[1][1], atol=1e-4)


@pytest.mark.parametrize("engine", ["tape", "auto"])
def test_a_batch_larger_than_the_data_set_is_all_of_it(engine):
    """batch=10**12 sized the compiled kernels' buffers by it (a MemoryError, a traceback); a minibatch
    holds at most the training rows, as a PyTorch DataLoader's: the run is that of batch = their number."""
    x = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    y = np.arange(20) % 2
    runs = []
    for batch in (16, 10 ** 12):
        p = glia.compile("def f(x: f32[4]) -> f32[2]:\n    return softmax(dense(x, 2))\n")
        runs.append(p.train("f", x, y, batch=batch, epochs=2, validation=0.2, engine=engine))
    assert runs[1]["loss"] == runs[0]["loss"] and runs[1]["val_loss"] == runs[0]["val_loss"], runs


def test_deterministic_under_a_seed(digits):
    x, y = digits
    out = []
    for _ in range(2):
        p = glia.compile(MLP + "\ndef drop(img: f32[64]) -> f32[10]:\n    return softmax(dense(dropout(img, 0.2), 10))\n")
        p.train("drop", x[:300], y[:300], epochs=2, seed=5, engine="tape")
        out.append(p.params["drop.dense#1.W"].copy())
    assert np.array_equal(out[0], out[1])


def test_the_seed_decides_the_start_whatever_was_looked_at_first(digits):
    """Reading `prog.params` or calling the model made the parameters with seed 0, and `train(seed=1)`
    then started from them (an audit, 2026-12-07). Parameters only looked at are now made again with the
    run's seed; parameters written, loaded or trained are trained on."""
    x, y = digits
    x, y = x[:200], y[:200]
    hist = []
    for look in (None, "params", "call", "write"):
        p = glia.compile(MLP)
        if look == "params":
            p.params["digit.dense#1.W"]
        elif look == "call":
            p.digit(x[0])
        elif look == "write":
            p.params["digit.dense#1.W"] = np.zeros_like(p.params["digit.dense#1.W"])
        hist.append(p.train("digit", x, y, epochs=1, seed=3, engine="tape")["loss"])
        if look == "call":  # a second run continues from the first
            assert p.train("digit", x, y, epochs=1, seed=3, engine="tape")["loss"][0] < hist[-1][0]
    assert hist[0] == hist[1] == hist[2] and hist[3] != hist[0], hist


DROP_MLP = """
def digit(img: f32[64]) -> f32[10]:
    return softmax(dense(dropout(relu(dense(img, 32)), 0.2), 10))
"""


@pytest.mark.parametrize("model", [MLP, BN_MLP, DROP_MLP], ids=["mlp", "batch_norm", "dropout"])
def test_checkpoint_resume_gives_the_same_parameters(digits, tmp_path, model):
    """With batch_norm, the running statistics resume too; with dropout, the generator of its masks."""
    x, y = digits
    x, y = x[:300], y[:300]
    ck = tmp_path / "run.ckpt.npz"
    straight = glia.compile(model)
    straight.train("digit", x, y, epochs=4, seed=1, lr=0.01)
    first = glia.compile(model)
    first.train("digit", x, y, epochs=2, seed=1, lr=0.01, checkpoint=str(ck))
    resumed = glia.compile(model)
    h = resumed.train("digit", x, y, epochs=4, seed=1, lr=0.01, checkpoint=str(ck), resume=True)
    assert len(h["loss"]) == 4
    for name, v in straight.params.items():
        assert np.allclose(v, resumed.params[name], atol=1e-6), name


def test_a_blocks_checkpoint_is_beside_the_program_from_any_folder(tmp_path):
    """The block's checkpoint, like its data file, is relative to the .glia file: run from another folder it
    was written there, and `--resume` from yet another found nothing and silently trained from the start
    (now the log says when there is nothing to resume from)."""
    (tmp_path / "proj").mkdir()
    (tmp_path / "elsewhere").mkdir()
    prog = tmp_path / "proj" / "m.glia"
    np.savez(tmp_path / "proj" / "d.npz", x=np.ones((20, 64), np.float32), y=np.zeros(20, np.int64))
    prog.write_text(MLP + '\ntrain digit on "d.npz":\n    epochs = 1\n    checkpoint = "run.ckpt.npz"\n')
    r = glia_cli("train", prog, "--no-progress", "--resume", cwd=tmp_path / "elsewhere")
    assert r.returncode == 0 and "no checkpoint at " in r.stderr and "training from the start" in r.stderr, r.stderr
    assert (tmp_path / "proj" / "run.ckpt.npz").exists() and not (tmp_path / "elsewhere" / "run.ckpt.npz").exists()
    r = glia_cli("train", prog, "--no-progress", "--resume", "--epochs", "2", cwd=tmp_path)
    assert r.returncode == 0 and "resumed from " in r.stderr and "after epoch 1" in r.stderr, r.stderr


def test_resuming_a_run_that_early_stopping_ended_trains_nothing_more(digits, tmp_path):
    """The checkpoint was written before the best parameters were restored, and resuming it trained on:
    one more epoch (or more) in the history and other parameters. A finished run now stays finished;
    with a longer patience it goes on."""
    x, y = digits
    x, y = x[:200], y[:200]
    ck = tmp_path / "run.ckpt.npz"
    kw = dict(epochs=40, lr=0.5, optimizer="sgd", validation=0.3, early_stopping=2, seed=0, checkpoint=str(ck))
    first = glia.compile(MLP)
    h1 = first.train("digit", x, y, **kw)
    assert h1["stopped"] and len(h1["loss"]) < 40
    again = glia.compile(MLP)
    h2 = again.train("digit", x, y, resume=True, **kw)
    assert h2["loss"] == h1["loss"] and h2["val_loss"] == h1["val_loss"] and h2["stopped"] == h1["stopped"]
    assert h1["best_epoch"] == h2["best_epoch"] == int(np.argmin(h1["val_loss"]))
    for name, v in first.params.items():
        assert np.array_equal(v, again.params[name]), name
    longer = glia.compile(MLP).train("digit", x, y, resume=True, **{**kw, "early_stopping": len(h1["loss"]) + 2})
    assert len(longer["loss"]) > len(h1["loss"])


@pytest.mark.parametrize("model", [MLP, BN_MLP], ids=["mlp", "batch_norm"])
def test_a_checkpoint_loads_as_parameters(digits, tmp_path, model):
    """`glia eval/run --params run.ckpt.npz`, prog.load_params: a checkpoint's parameters (and running
    statistics) are its `param/` arrays; it was refused as having no parameter 'digit.dense#1.W'."""
    x, y = digits
    ck = tmp_path / "run.ckpt.npz"
    trained = glia.compile(model)
    trained.train("digit", x[:100], y[:100], epochs=1, checkpoint=str(ck))
    loaded = glia.compile(model)
    loaded.load_params(ck)
    for name, v in trained.params.items():
        assert np.array_equal(v, loaded.params[name]), name


def test_optimizers_schedules_clipping_early_stopping(digits):
    x, y = digits
    x, y = x[:400], y[:400]
    for opt, extra in (("sgd", {"momentum": 0.9, "nesterov": True}), ("adamw", {}), ("rmsprop", {}), ("adam", {})):
        p = glia.compile(MLP)
        h = p.train("digit", x, y, optimizer=opt, lr=0.01 if opt != "sgd" else 0.05, epochs=3, schedule="cosine",
                    clip=1.0, seed=0, **extra)
        assert h["loss"][-1] < h["loss"][0], opt
    p = glia.compile(MLP)
    h = p.train("digit", x, y, lr=0.5, epochs=30, validation=0.3, early_stopping=2, seed=0, optimizer="sgd")
    assert h["stopped"] and len(h["loss"]) < 30


def test_the_progress_bar_is_a_line_per_epoch_when_stderr_is_not_a_terminal(tmp_path):
    """tqdm redrew its bar into a log file or pipe: carriage returns, several updates on one line. Off a
    terminal each epoch is now a line of its own; --no-progress still prints none."""
    out = tmp_path / "digits.params.npz"
    r = glia_cli("train", DIGITS, "--epochs", "2", "--validation", "0.1", "--out", out)
    assert r.returncode == 0, r.stderr
    assert "\r" not in r.stderr and "%|" not in r.stderr, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.startswith("epoch ")]
    assert [line.split(":")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"], r.stderr
    assert all("loss" in line and "val_acc" in line for line in lines), lines
    r = glia_cli("train", DIGITS, "--epochs", "2", "--out", out, "--no-progress")
    assert r.returncode == 0 and "epoch 1/2" not in r.stderr, r.stderr


def test_the_cli_summary_after_early_stopping_gives_the_restored_epoch(tmp_path):
    """It gave only the last epoch's losses, while the saved parameters are the best epoch's."""
    prog = tmp_path / "m.glia"
    prog.write_text(MLP + f'train digit on "{DATA}":\n    optimizer = sgd(lr=0.5)\n    validation = 0.5\n'
                    '    early_stopping = 1\n    epochs = 40\n')
    r = glia_cli("train", prog, "--no-progress", "--out", tmp_path / "out.npz")
    assert r.returncode == 0 and "early stopping after epoch" in r.stderr, r.stderr
    last, restored = r.stdout.splitlines()[:2]
    best = int(r.stderr.split("(best epoch ")[1].split()[0])
    assert last.startswith("epoch ") and restored.startswith(f"restored epoch {best}/40: loss "), r.stdout
    assert "validation loss" in restored


def test_train_block_and_cli(tmp_path):
    out = tmp_path / "digits.params.npz"
    r = glia_cli("train", DIGITS, "--epochs", "3", "--out", out, "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "accuracy" in r.stdout and f"saved 2410 parameters to {out}" in r.stdout
    with np.load(out) as saved:
        assert saved["digit.dense#1.W"].shape == (64, 32) and saved["digit.dense#2.b"].shape == (10,)
    r = glia_cli("eval", DIGITS, "--params", out)
    assert r.returncode == 0 and "accuracy 0.9" in r.stdout, r.stdout + r.stderr
    r = glia_cli("run", DIGITS, "--params", out)
    assert r.returncode == 0 and r.stdout.startswith("predicted digit: 0"), r.stdout + r.stderr
    r = glia_cli("params", DIGITS)
    assert r.stdout.splitlines() == [
        "digit.dense#1.W  f32[64, 32]", "digit.dense#1.b  f32[32]", "digit.dense#2.W  f32[32, 10]",
        "digit.dense#2.b  f32[10]", "4 parameter arrays, 2,410 values in one flat f32 buffer"]
    r = glia_cli("params", out)  # a saved file: its arrays (it said "not UTF-8 text")
    lines = r.stdout.splitlines()
    assert r.returncode == 0 and len(lines) == 5 and lines[0].startswith("digit.dense#1.W  f32[64, 32]  mean ") \
        and lines[4].startswith("4 arrays, 2,410 values"), r.stdout + r.stderr



def test_params_of_a_damaged_npz_is_e703_not_a_program(tmp_path):
    """A text file named .npz was read as Glia source (E001 at its first line); the name says it is a
    saved .npz, so a file that is not a whole one is E703, as a truncated one is."""
    text = tmp_path / "saved.npz"
    text.write_text("garbage\n")
    r = glia_cli("params", text)
    assert r.returncode == 1 and "error[E703]" in r.stderr and "not an .npz file" in r.stderr, r.stderr
    np.savez(tmp_path / "whole.npz", w=np.zeros(3, np.float32))
    cut = tmp_path / "cut.NPZ"
    cut.write_bytes((tmp_path / "whole.npz").read_bytes()[:40])
    r = glia_cli("params", cut)
    assert r.returncode == 1 and "error[E703]" in r.stderr and "damaged or truncated" in r.stderr, r.stderr

def _bad(tmp_path, name, **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("arrays, message", [
    (dict(x=np.zeros((10, 63), np.float32), y=np.zeros(10, np.int64)), "takes f32[64]"),
    (dict(x=np.zeros((10, 64), np.float32), y=np.full(10, 12)), "label 12 (example 0) is out of range for 10"),
    (dict(x=np.zeros((0, 64), np.float32), y=np.zeros(0, np.int64)), "empty"),
    (dict(x=np.array([["a"] * 64] * 3), y=np.zeros(3, np.int64)), "must be numbers"),
    (dict(x=np.zeros((10, 64), np.float32), y=np.zeros(9, np.int64)), "10 inputs but 9 targets"),
    (dict(inputs=np.zeros((10, 64), np.float32), y=np.zeros(10, np.int64)), "has no array named 'x'"),
    (dict(x=np.zeros((10, 64), np.float32), y=np.zeros((10, 3), np.float32)), "targets have shape (10, 3)"),
])
def test_bad_data_is_refused_before_training(tmp_path, arrays, message):
    prog = tmp_path / "m.glia"
    prog.write_text(MLP)
    out = tmp_path / "keep.npz"
    out.write_bytes(b"precious")
    data = _bad(tmp_path, "bad.npz", **arrays)
    r = glia_cli("train", prog, "--fn", "digit", "--data", data, "--out", out, "--no-progress")
    assert r.returncode == 1 and "E703" in r.stderr and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert out.read_bytes() == b"precious"


def test_missing_data_file(tmp_path):
    prog = tmp_path / "m.glia"
    prog.write_text(MLP)
    r = glia_cli("train", prog, "--fn", "digit", "--data", tmp_path / "nope.npz")
    assert r.returncode == 1 and "no such data file" in r.stderr and "Traceback" not in r.stderr


def test_nan_names_the_operation_and_line(digits):
    x, y = digits
    p = glia.compile('''
def f(img: f32[64]) -> f32[10]:
    h = dense(img, 10)
    return softmax(log(h))
''', "nan.glia")
    with pytest.raises(GliaError) as e:
        p.train("f", x[:50], y[:50], epochs=1, engine="tape")
    d = e.value.diagnostic
    assert d.code == "E702" and "'tensor.log'" in d.message and d.span.line == 4


@pytest.mark.parametrize("engine", ["tape", "compiled"])
def test_a_nan_made_by_a_gradient_rule_names_the_operation_and_line(digits, engine):
    """sqrt(h * h) at h = 0 is finite, its gradient 0 * inf is not: no value of the forward pass is NaN, so
    the error named nothing ('a gradient became NaN or infinite during training'); the minibatch now runs
    again with each gradient rule checked."""
    x, y = digits
    p = glia.compile('''
def f(img: f32[64]) -> f32[10]:
    h = dense(img, 10)
    return softmax(sqrt(h * h))
''', "nan.glia")
    with pytest.raises(GliaError) as e:
        p.train("f", np.zeros_like(x[:20]), y[:20], epochs=1, batch=5, engine=engine)
    d = e.value.diagnostic
    assert d.code == "E702" and "the gradient of 'tensor.sqrt'" in d.message and d.span.line == 4, d.message


def test_save_and_load_round_trip(tmp_path, digits):
    x, y = digits
    p = glia.compile(MLP)
    p.train("digit", x[:100], y[:100], epochs=1)
    path = tmp_path / "p.npz"
    p.save(path)
    q = glia.compile(MLP)
    q.load_params(path)
    assert np.array_equal(q.digit(x[0]), p.digit(x[0]))
    with np.load(path) as d:
        assert set(d.files) == set(p.params)
    os.remove(path)
    with pytest.raises(GliaError) as e:
        q.load_params(path)
    assert e.value.diagnostic.code == "E509"


def test_examples_with_loops_train():
    """The char-level RNN (a for loop over a sequence) and the adaptive-computation model (a
    data-dependent while) learn: the RNN through a compiled trace, ponder on the tape (its five traces
    would compile for half a minute; tests/test_trace_compile.py covers a compiled while). With
    --engine auto a short run stays on the tape until the trace has been compiled once."""
    chars = glia.load(ROOT / "examples" / "neural" / "char_rnn.glia")
    with np.load(ROOT / "examples" / "data" / "chars.npz") as d:
        x, y = d["x"], d["y"]
    first = chars.train("next_char", x[:300], y[:300], epochs=3, lr=0.01, batch=16, seed=0)
    assert first["engine"] == "interpreter tape"  # a short run: compiling the trace would cost more
    h = chars.train("next_char", x[:300], y[:300], epochs=3, lr=0.01, batch=16, seed=0, engine="compiled")
    assert h["engine"].startswith("compiled (traced") and h["acc"][-1] > 0.4 and h["loss"][-1] < h["loss"][0]
    again = glia.load(ROOT / "examples" / "neural" / "char_rnn.glia")  # fresh parameters, a new engine
    h = again.train("next_char", x[:300], y[:300], epochs=3, lr=0.01, batch=16, seed=0)
    assert h["engine"].startswith("compiled (traced")  # compiled once on this machine: auto takes it
    ponder = glia.load(ROOT / "examples" / "neural" / "ponder.glia")
    with np.load(DATA) as d:
        x, y = d["x"], d["y"]
    h = ponder.train("ponder", x[:400], y[:400], epochs=3, lr=0.01, validation=0.25, seed=0, engine="tape")
    assert h["val_acc"][-1] > 0.7 and h["loss"][-1] < h["loss"][0]


def test_the_embedding_example_trains_compiled():
    """examples/neural/char_embed.glia: an embedding of each character's code inside the `for` loop, and
    dropout, in a compiled trace."""
    p = glia.load(ROOT / "examples" / "neural" / "char_embed.glia")
    with np.load(ROOT / "examples" / "data" / "char_codes.npz") as d:
        x, y = d["x"], d["y"]
    h = p.train("next_char", x[:300], y[:300], epochs=3, lr=0.01, batch=16, seed=0, engine="compiled")
    assert h["engine"].startswith("compiled (traced") and h["acc"][-1] > 0.4 and h["loss"][-1] < h["loss"][0], h


def test_convolutional_network_learns(digits):
    x, y = digits
    cnn = glia.load(ROOT / "examples" / "neural" / "digits_cnn.glia")
    assert {k: v.shape for k, v in cnn.params.items()}["cnn.conv2d#1.W"] == (8, 1, 3, 3)
    h = cnn.train("cnn", x[:160], y[:160], epochs=2, lr=0.01, batch=16, seed=0)
    assert h["loss"][-1] < h["loss"][0] and h["acc"][-1] > 0.4, h


def test_data_errors_point_at_where_the_data_was_named(tmp_path, capsys):
    """A data file's mistakes (missing, wrong shape or dtype, an array missing) point at the file's name in
    the train block (an array named by `inputs =`: that setting), not at the block's first column or the
    function; a file given by --data or data= is named in the message (the block names another file).
    `glia eval` the same."""
    from glia.cli import main

    prog = tmp_path / "m.glia"
    prog.write_text(MLP + '\ntrain digit on "missing.npz":\n    epochs = 2\n')
    r = glia_cli("train", prog, "--no-progress")
    assert r.returncode == 1 and f"{prog}:6:16: error[E703]: no such data file" in r.stderr, r.stderr
    glia.compile(MLP).save(tmp_path / "p.npz")
    np.savez(tmp_path / "wide.npz", x=np.zeros((4, 65), np.float32), y=np.zeros(4, np.int64))
    np.savez(tmp_path / "text.npz", x=np.full((4, 64), "a"), y=np.zeros(4, np.int64))
    np.savez(tmp_path / "other.npz", a=np.zeros((4, 64), np.float32), y=np.zeros(4, np.int64))
    for data, block, flags, want in (
            ("wide.npz", "", (), '6:16: error[E703]: the inputs have shape (4, 65)'),
            ("text.npz", "", (), '6:16: error[E703]: the inputs must be numbers, found dtype <U1'),
            ("other.npz", "", (), "6:16: error[E703]: " + str(tmp_path / "other.npz") + " has no array named 'x'"),
            ("other.npz", "    inputs = xx\n", (), "7:14: error[E703]: " + str(tmp_path / "other.npz") + " has no array named 'xx'"),
            ("missing.npz", "", ("--data", tmp_path / "wide.npz"),
             f"m.glia: error[E703]: {tmp_path / 'wide.npz'}: the inputs have shape (4, 65)")):
        prog.write_text(MLP + f'\ntrain digit on "{data}":\n{block}    epochs = 2\n')
        for cmd in (["train", "--no-progress", "--out", tmp_path / "o.npz"], ["eval", "--params", tmp_path / "p.npz"]):
            assert main([cmd[0], str(prog), *map(str, cmd[1:]), *map(str, flags)]) == 1
            err = capsys.readouterr().err
            assert f"{prog}:{want}" in err if want[0].isdigit() else want in err, (cmd, err)
    with pytest.raises(GliaError) as e:
        glia.load(prog).train("digit", data=tmp_path / "wide.npz")
    assert e.value.diagnostic.span.line == 0 and f"{tmp_path / 'wide.npz'}: the inputs have shape" in str(e.value)


DIGITS_BN = ROOT / "examples" / "neural" / "digits_bn.glia"

def test_batch_norm_model_trains_and_evaluates_the_same_after_reload(digits, tmp_path):
    """A model over a batch with batch_norm learns from minibatch statistics; evaluation uses the running
    statistics (each row's output depends on that row alone), which are saved and loaded with the
    parameters."""
    x, y = digits
    x, y = x[:600], y[:600]
    p = glia.compile(BN_MLP)
    h = p.train("digit", x, y, lr=0.01, epochs=5, batch=32, validation=0.2, seed=0)
    assert h["engine"] == "interpreter tape, one call per minibatch"
    assert h["loss"][-1] < h["loss"][0] and h["val_acc"][-1] >= 0.9, h
    assert not np.allclose(p.params["digit.batch_norm#1.running_mean"], 0)
    assert not np.allclose(p.params["digit.batch_norm#1.running_var"], 1)
    out = p.digit(x[:40])
    assert np.allclose(p.digit(x[3:4])[0], out[3], atol=1e-6)
    path = tmp_path / "bn.npz"
    p.save(path)
    with np.load(path) as d:
        assert set(d.files) == set(p.params) and "digit.batch_norm#1.running_var" in d.files
    q = glia.compile(BN_MLP)
    q.load_params(path)
    assert np.array_equal(q.digit(x[:40]), out)
    stale = tmp_path / "no_stats.npz"
    np.savez(stale, **{k: v for k, v in p.params.items() if "running" not in k})
    with pytest.raises(GliaError) as e:
        q.load_params(stale)
    assert "running_mean" in e.value.diagnostic.message


def test_batch_norm_early_stopping_restores_the_running_statistics(digits):
    x, y = digits
    x, y = x[:200], y[:200]
    p = glia.compile(BN_MLP)
    h = p.train("digit", x, y, lr=0.5, epochs=30, validation=0.3, early_stopping=2, seed=0, optimizer="sgd")
    assert h["stopped"]  # the best epoch's parameters and running statistics are restored together
    assert np.isclose(_val_loss(p, x, y, 0.3), min(h["val_loss"]), rtol=1e-4)


def _val_loss(p, x, y, validation):
    from glia.compiler.training import Options, check_task, evaluate, split

    interp = p._backend.interp
    task = check_task(interp.program, Options(fn="digit"), x, y)
    return evaluate(interp, task, split(len(x), validation, 0)[1])[0]


def test_batch_norm_train_and_run_from_the_command_line(tmp_path):
    out = tmp_path / "bn.params.npz"
    r = glia_cli("train", DIGITS_BN, "--epochs", "3", "--out", out, "--no-progress")
    assert r.returncode == 0, r.stderr
    assert f"saved 2474 parameters and 64 running statistics to {out}" in r.stdout
    r = glia_cli("eval", DIGITS_BN, "--params", out)
    assert r.returncode == 0 and "accuracy 0.9" in r.stdout, r.stdout + r.stderr
    r = glia_cli("run", DIGITS_BN, "--params", out)
    assert r.returncode == 0 and r.stdout.startswith("predicted digit: 0"), r.stdout + r.stderr
    r = glia_cli("params", DIGITS_BN)
    lines = r.stdout.splitlines()
    assert lines[0] == "digit.batch_norm#1.gamma         f32[32]"
    assert "digit.batch_norm#1.running_var   f32[32]  (running statistic, not trained)" in lines
    assert lines[-1].endswith("; 2 running statistics, 64 values, not trained")


@pytest.mark.parametrize("source, settings, where, message", [
    ("def f(x: f32[64]) -> f32[10]:\n    return softmax(dense(batch_norm(x), 10))\n", {}, (2, 37),
     "found f32[64], which has no batch dimension"),
    ("def f(x: f32[8, 8]) -> f32[10]:\n    return softmax(dense(flatten(g(x)), 10))\n\n"
     "def g(x: f32[8, 8]) -> f32[8, 8]:\n    return batch_norm(x)\n", {}, (5, 12),
     "f takes one example at a time (f32[8, 8])"),
    (BN_MLP.replace("digit", "f"), {"batch": 1}, (3, 14), "every minibatch would hold a single example"),
    (BN_MLP.replace("digit", "f"), {"batch": 16}, (3, 14), "the last minibatch of each epoch would hold"),
    ("def f(x: f32[n, 64]) -> f32[n, 10]:\n    return softmax(dense(x, 10) + sum(batch_norm(stack(x[0]))))\n",
     {"batch": 10}, (2, 39), "needs a batch of at least 2 rows"),
])
def test_batch_norm_without_a_batch_is_refused(digits, source, settings, where, message):
    """Where no batch exists, E704 at the batch_norm call: when checked, before training, or (a batch of
    one row built inside the model) at the call."""
    x, y = digits
    with pytest.raises(GliaError) as e:
        p = glia.compile(source, "bn.glia")
        p.train("f", x.reshape(-1, 8, 8)[:33] if "8, 8" in source else x[:33], y[:33], epochs=1, **settings)
    d = e.value.diagnostic
    assert d.code == "E704" and (d.span.line, d.span.col) == where and message in d.message, d.message


BCE_MODELS = {  # binary_cross_entropy: one output, two (multi-label), a scalar, a model over a batch, a loop
    "one": ("def clf(x: f32[4]) -> f32[1]:\n    return sigmoid(dense(tanh(dense(x, 8)), 1))\n", 1),
    "two": ("def clf(x: f32[4]) -> f32[2]:\n    return sigmoid(dense(tanh(dense(x, 8)), 2))\n", 2),
    "scalar": ("def clf(x: f32[4]) -> f32:\n    return sum(sigmoid(dense(x, 1)))\n", 0),
    "batched": ("def clf(x: f32[n, 4]) -> f32[n, 1]:\n    return sigmoid(dense(tanh(dense(x, 8)), 1))\n", 1),
    "loop": ("def clf(x: f32[4]) -> f32[2]:\n    h = zeros(6)\n    for k in range(2):\n"
             "        h = rnn_cell(x, h)\n    return sigmoid(dense(h, 2))\n", 2),
}


@pytest.mark.parametrize("model", BCE_MODELS)
def test_binary_cross_entropy_reports_a_thresholded_accuracy(model):
    """Each output and its target on the same side of 0.5 (Keras's binary accuracy), over every output of
    every example; the same on the tape and compiled (before 2026-12-06 the history's acc was NaN)."""
    src, width = BCE_MODELS[model]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4)).astype(np.float32)
    y = np.stack([x[:, 0] + x[:, 1] > 0, x[:, 2] > 0.3], 1).astype(np.float32)[:, :max(width, 1)]
    y = y[:, 0] if width == 0 else y
    hists = []
    for engine in ("tape", "compiled") if model in ("one", "two", "loop") else ("tape",):
        p = glia.compile(src)
        h = p.train("clf", x, y, loss="binary_cross_entropy", lr=0.05, epochs=4, batch=16, validation=0.25,
                    seed=1, engine=engine)
        assert all(0 <= a <= 1 for a in h["acc"] + h["val_acc"]), h
        assert h["acc"][-1] > 0.6 and h["acc"][-1] > h["acc"][0] - 0.1, h
        out = np.array([np.asarray(p.call("clf", r[None] if model == "batched" else r)).ravel() for r in x])
        want = np.mean((out.reshape(y.shape) > 0.5) == (y > 0.5))
        interp = p._backend.interp
        task = training.check_task(interp.program, training.Options(fn="clf", loss="binary_cross_entropy"), x, y)
        assert training.evaluate(interp, task, range(len(x)))[1] == pytest.approx(want)
        hists.append(h)
    if len(hists) == 2:
        assert hists[1]["engine"] != hists[0]["engine"], hists[1]["engine"]
        assert np.allclose(hists[0]["acc"], hists[1]["acc"]) and np.allclose(hists[0]["val_acc"], hists[1]["val_acc"])


@pytest.mark.parametrize("model", ["one", "two", "softmax"])
def test_binary_cross_entropy_trains_on_the_whole_epoch_kernels(model):
    """A dense chain ending in sigmoid with binary_cross_entropy took the tape (or traces): the whole-epoch
    kernels had no such loss. Now they do, with the tape's clipped loss and gradient, thresholded accuracy.
    A chain ending in softmax is not theirs (its backward is fused only with cross_entropy): it trained
    there to other weights than the tape's before that was refused."""
    src, width = BCE_MODELS[model] if model != "softmax" else (
        "def clf(x: f32[4]) -> f32[2]:\n    return softmax(dense(x, 2))\n", 2)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(96, 4)).astype(np.float32)
    y = np.stack([x[:, 0] + x[:, 1] > 0, x[:, 2] > 0.3], 1).astype(np.float32)[:, :width]
    runs = []
    for engine in ("tape", "auto"):
        p = glia.compile(src)
        h = p.train("clf", x, y, loss="binary_cross_entropy", lr=0.05, epochs=3, batch=16, validation=0.25,
                    seed=4, engine=engine, progress=False)
        runs.append((h, dict(p.params)))
    (tape, p_tape), (fused, p_fused) = runs
    assert (fused["engine"] == "compiled (Numba whole-epoch kernels)") == (model != "softmax"), fused["engine"]
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(fused[key], tape[key], rtol=1e-4, err_msg=key)
    assert fused["acc"] == tape["acc"] and fused["val_acc"] == tape["val_acc"]
    for name in p_tape:
        np.testing.assert_allclose(p_fused[name], p_tape[name], atol=1e-5, err_msg=name)


def test_binary_cross_entropy_outside_0_1_in_validation_on_the_kernels_is_an_error():
    """The kernels count binary_cross_entropy of a prediction outside [0, 1] as NaN; in validation that was
    a NaN val_loss, and now it is the interpreter's E506, as on the tape."""
    x = np.zeros((40, 2), np.float32)  # training rows: the output is the bias, 0 (inside, and no gradient)
    _, val = training.split(40, 0.25, 0)
    x[val] = 1000.0  # validation rows: far outside [0, 1]
    p = glia.compile("def m(x: f32[2]) -> f32[1]:\n    return dense(x, 1)\n")
    with pytest.raises(GliaError) as e:
        p.train("m", x, np.ones((40, 1), np.float32), loss="binary_cross_entropy", epochs=1, validation=0.25,
                seed=0, engine="compiled", progress=False)
    d = e.value.diagnostic
    assert d.code == "E506" and d.message.startswith("binary_cross_entropy takes probabilities in [0, 1]"), d.message


@pytest.mark.parametrize("target, said", [(3.0, "example 2's target[1] is 3"), (-0.5, "example 2's target[1] is -0.5")])
def test_binary_cross_entropy_targets_outside_0_1_are_refused(target, said):
    """They trained to a meaningless loss (a target of 3 made it negative); PyTorch refuses them too."""
    y = np.zeros((5, 3), np.float32)
    y[2, 1] = target
    p = glia.compile("def f(x: f32[2]) -> f32[3]:\n    return sigmoid(dense(x, 3))\n")
    with pytest.raises(GliaError) as e:
        p.train("f", np.zeros((5, 2), np.float32), y, loss="binary_cross_entropy", progress=False)
    assert e.value.diagnostic.code == "E703" and "targets are probabilities, in [0, 1]; " + said in str(e.value)
    p.train("f", np.zeros((5, 2), np.float32), y * 0 + 1, loss="binary_cross_entropy", epochs=1, progress=False)
