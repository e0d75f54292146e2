"""The character model with an embedding (and with dropout) on the trace engine: compiled against the
interpreter's tape, seconds per epoch, the two taking turns (compiler/trace_compile.py; the codegen
rules of `layer.embedding` and `layer.dropout`). The data is examples/data/chars.npz with each one-hot
character as its index (an f32 code, `int(c)` in the model).

Each engine is timed after a warm-up run of two epochs in this process (the traces and the epoch
kernel built, or loaded from the Glia cache folder).

    python3 benchmarks/training/bench_embedding.py [--epochs 5] [--repeat 3] [--cpu-time]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.pop("OPENBLAS_CORETYPE", None)  # each library picks its kernels for this CPU (see bench_mlp.py)

import numpy as np  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_control import round_robin  # noqa: E402

MODEL = '''
def next_char(seq: f32[8]) -> f32[28]:
    h = zeros(48)
    for c in seq:
        h = rnn_cell(DROP(embedding(int(c), 28, 16)), h)
    return softmax(dense(h, 28))
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cpu-time", action="store_true", help="this process's CPU seconds, not wall-clock time")
    a = ap.parse_args()
    clock = time.process_time if a.cpu_time else time.perf_counter
    import glia

    with np.load(os.path.join(ROOT, "examples", "data", "chars.npz")) as d:
        x, y = np.argmax(d["x"], axis=2).astype(np.float32), d["y"]
    print(f"{len(x)} windows of 8 characters, batch 16, Adam lr 0.01, {a.epochs} epochs, "
          f"{'CPU' if a.cpu_time else 'wall-clock'} seconds; load {os.getloadavg()}")
    for name, drop in (("embedding", "{}"), ("embedding + dropout 0.1", "dropout({}, 0.1)")):
        src = MODEL.replace("DROP(embedding(int(c), 28, 16))", drop.format("embedding(int(c), 28, 16)"))

        def run(engine, epochs):
            p = glia.compile(src)
            t = clock()
            h = p.train("next_char", x, y, epochs=epochs, lr=0.01, batch=16, seed=0, engine=engine, validation=0.0)
            assert engine == "tape" or h["engine"].startswith("compiled"), h["engine"]
            return (clock() - t) / epochs, h["loss"][-1], h["acc"][-1]

        run("compiled", 2)
        run("tape", 1)
        (tc, lc, ac), (tt, lt, at) = round_robin(a.repeat, lambda: run("compiled", a.epochs),
                                                 lambda: run("tape", a.epochs))
        print(f"{name}: compiled {tc:.4f} s/epoch (loss {lc:.4f}, acc {ac:.3f}), tape {tt:.4f} s/epoch "
              f"(loss {lt:.4f}, acc {at:.3f}): {tt / tc:.1f}x")
    print(f"load {os.getloadavg()}")


if __name__ == "__main__":
    main()
