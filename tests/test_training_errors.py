"""Training's failures are diagnostics, never a traceback or a silent wrong result: a NaN in the
compiled kernels stops training and names its operation, unreadable .npz files and checkpoints are
E7xx errors naming the file, early stopping with no finite validation loss, an unwritable --out,
file modes, and settings checked where they are written."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import glia
from glia.compiler.diagnostics import GliaError
from glia.runtime import mlp_kernels as K

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data" / "digits.npz"

MLP = '''
def digit(img: f32[64]) -> f32[10]:
    h = relu(dense(img, 32))
    return softmax(dense(h, 10))
'''


def glia_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "glia", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=300)


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
