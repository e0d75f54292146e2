"""Training throughput on a GPU, side by side in one run: Glia's CUDA kernels (`--device cuda`,
runtime/cuda_mlp.py) vs PyTorch CUDA vs Glia's CPU compiled path (Numba whole-epoch kernels).

Workloads (Adam, cross-entropy, shuffled minibatches):
- digits: the 64-32-10 MLP on examples/data/digits.npz (1,797 examples), batch 32, 20 epochs;
- large: a 1024-2048-2048-10 MLP on 65,536 random examples, batch 4,096, 3 epochs.

Each system runs once untimed (compiling its kernels), then --repeat timed runs; the table shows the
median seconds per epoch, examples per second, and the speed relative to PyTorch CUDA (above 1:
faster than PyTorch). Not run by CI; needs a CUDA GPU (and torch with CUDA for the PyTorch column).
`--smoke` shrinks everything so the script can be checked on numba-cuda's simulator
(GLIA_CUDASIM=1): its figures mean nothing.

    python3 benchmarks/gpu/bench_train.py [--repeat 3] [--only glia-cuda,torch-cuda,glia-cpu] [--smoke]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks", "training"))

from models import glia_source  # noqa: E402

LR = 1e-3


def workloads(smoke: bool):
    with np.load(os.path.join(ROOT, "examples", "data", "digits.npz")) as d:
        dx, dy = d["x"].astype(np.float32), d["y"].astype(np.int64)
    rng = np.random.default_rng(0)
    if smoke:
        return [("digits (smoke)", dx[:64], dy[:64], (8,), 16, 1),
                ("large (smoke)", rng.normal(size=(64, 32)).astype(np.float32), rng.integers(0, 10, 64), (16, 16),
                 32, 1)]
    n, k = 65_536, 1024
    return [("digits 64-32-10", dx, dy, (32,), 32, 20),
            ("large 1024-2048-2048-10", rng.normal(size=(n, k)).astype(np.float32), rng.integers(0, 10, n),
             (2048, 2048), 4096, 3)]


def run_glia(device, x, y, hidden, batch, epochs):
    import glia

    p = glia.compile(glia_source(hidden, k=x.shape[1]))
    t = time.perf_counter()
    h = p.train("model", x, y, loss="cross_entropy", optimizer="adam", lr=LR, epochs=epochs, batch=batch, seed=0,
                progress=False, device=device)
    dt = time.perf_counter() - t
    assert h["engine"].startswith("compiled") and (device == "cpu") != ("CUDA" in h["engine"]), h["engine"]
    return dt, h["acc"][-1]


def run_torch_cuda(x, y, hidden, batch, epochs):
    import torch

    dev = torch.device("cuda")
    torch.manual_seed(0)
    layers, k = [], x.shape[1]
    for n in hidden:
        layers += [torch.nn.Linear(k, n), torch.nn.ReLU()]
        k = n
    layers.append(torch.nn.Linear(k, 10))
    model = torch.nn.Sequential(*layers).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    X, Y = torch.from_numpy(x).to(dev), torch.from_numpy(y).to(dev)  # data moved once, as Glia does
    gen = torch.Generator(device=dev).manual_seed(0)
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(x), device=dev, generator=gen)
        correct = torch.zeros((), dtype=torch.int64, device=dev)
        for s in range(0, len(x), batch):
            idx = order[s:s + batch]
            out = model(X[idx])
            loss = torch.nn.functional.cross_entropy(out, Y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            correct += (out.argmax(1) == Y[idx]).sum()
    acc = int(correct) / len(x)
    torch.cuda.synchronize()
    return time.perf_counter() - t, acc


SYSTEMS = {
    "glia-cuda": lambda *a: run_glia("cuda", *a),
    "torch-cuda": run_torch_cuda,
    "glia-cpu": lambda *a: run_glia("cpu", *a),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default=",".join(SYSTEMS))
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, to check the script (e.g. on the simulator)")
    ns = ap.parse_args()
    from common import cuda_device  # benchmarks/gpu/common.py, beside this script

    device = cuda_device()
    if device is None:
        return 2
    only = [s for s in ns.only.split(",") if s]
    if device.simulator and "torch-cuda" in only:
        only.remove("torch-cuda")
    print(f"# {time.strftime('%Y-%m-%d')} {platform.node()} ({platform.processor() or platform.machine()}), "
          f"{device.describe()}{', simulator: figures are meaningless' if device.simulator else ''}")
    print(f"{'workload':26s} {'system':11s} {'s/epoch':>10s} {'examples/s':>14s} {'vs torch':>9s} {'acc':>6s}")
    for name, x, y, hidden, batch, epochs in workloads(ns.smoke):
        rows = {}
        for system in only:
            try:
                SYSTEMS[system](x[:batch * 2], y[:batch * 2], hidden, batch, 1)  # warm-up: compile
                runs = [SYSTEMS[system](x, y, hidden, batch, epochs) for _ in range(max(1, ns.repeat))]
            except Exception as e:  # noqa: BLE001 - a missing system is a row saying so
                print(f"{name:26s} {system:11s} unavailable: {type(e).__name__}: {str(e).splitlines()[0][:60]}")
                continue
            sec = statistics.median(r[0] for r in runs) / epochs
            rows[system] = (sec, runs[-1][1])
        base = rows.get("torch-cuda", (None,))[0]
        for system, (sec, acc) in rows.items():
            ratio = f"{base / sec:8.2f}x" if base else f"{'-':>9s}"
            print(f"{name:26s} {system:11s} {sec:10.4f} {len(x) / sec:14,.0f} {ratio} {acc:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
