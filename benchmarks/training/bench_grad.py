"""Gradients in ordinary code, side by side: `grad` called inside a loop, as a program that uses
derivatives does (a sensitivity for each input, then on to the next). The program is
benchmarks/training/programs/grad.glia:

  saliency  for each of the 1797 digits of examples/data/digits.npz, the gradient of the digits MLP's
            (64-32-10, relu, log_softmax) log-probability of the image's label with respect to its 64
            pixels, summed in absolute value over every image (float32);
  flight    a projectile with drag stepped by a data-dependent while loop until it lands: the slope
            d distance / d launch speed, summed over 300 launch speeds (float64).

Systems, each given the same parameters (Glia's, initialised with seed 0) and checked to give the same
answer (to a relative 1e-4 for saliency, whose float32 sums round differently from library to library;
to 1e-9 for flight):
  glia cpu           glia.load(..., backend="cpu"): the whole loop compiled (the CPU backend, Numba)
  glia interp        the reference interpreter (flight: run once, it takes seconds)
  torch eager        the same loop in Python over PyTorch, torch.autograd.grad per example (one thread)
  jax grad per call  saliency: jax.jit(jax.grad(logp)) called from the Python loop (|g| summed by NumPy)
  jax jit loop       saliency: the whole loop as one lax.fori_loop, compiled by jax.jit
  numba              the same loop written by hand with njit, the backward pass (the adjoint) by hand too

jax.grad cannot reverse-differentiate lax.while_loop, so flight has no JAX row: the error it raises is
printed instead. The gradient cost is time(loop with the gradient) / time(the same loop computing the
values only: grad.glia's `values` and `distances`; for PyTorch, the forward under torch.no_grad); the
target is <= 4.

Each time is the median of --repeat runs after one warm-up (compilation excluded: the first call's time
is reported separately), systems alternating run by run.

    python3 benchmarks/training/bench_grad.py [--repeat 5] [--only saliency,flight]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread each: 2 shared cores (see bench_mlp.py)
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import numpy as np  # noqa: E402
from numba import njit  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, ROOT)
PROGRAM = os.path.join(ROOT, "benchmarks", "training", "programs", "grad.glia")
clock = time.perf_counter
LAUNCHES = 300
C45 = 0.7071067811865476  # cos 45 degrees, as in grad.glia


# ---- hand-written Numba ---------------------------------------------------------------------------

@njit(cache=True)
def nb_saliency(X, y, W1, b1, W2, b2):
    s = 0.0
    for i in range(X.shape[0]):
        a1 = np.dot(X[i], W1) + b1
        z = np.dot(np.maximum(a1, np.float32(0)), W2) + b2
        e = np.exp(z - z.max())
        gz = -e / e.sum()  # d log_softmax(z)[y] / dz = onehot(y) - softmax(z)
        gz[y[i]] += np.float32(1)
        ga1 = np.where(a1 > 0, np.dot(W2, gz), np.float32(0))
        s += np.abs(np.dot(W1, ga1)).sum()
    return s


@njit(cache=True)
def nb_slopes(n):
    VX, VY, SP = np.empty(256), np.empty(256), np.empty(256)  # per step: vx, vy, speed before it
    total = 0.0
    for i in range(n):
        v = 5.0 + 0.01 * i
        y, vx, vy = 0.0, v * C45, v * C45
        k = 0
        while y >= 0.0:
            if k == VX.shape[0]:
                VX = np.concatenate((VX, np.empty_like(VX)))
                VY = np.concatenate((VY, np.empty_like(VY)))
                SP = np.concatenate((SP, np.empty_like(SP)))
            speed = np.sqrt(vx * vx + vy * vy)
            VX[k], VY[k], SP[k] = vx, vy, speed
            vx = vx - 0.05 * speed * vx * 0.01
            vy = vy - (9.81 + 0.05 * speed * vy) * 0.01
            y = y + vy * 0.01
            k += 1
        # reverse sweep: adjoints of vx, vy after each step; d x_end / d x = 1 throughout, and y
        # reaches x_end only through the loop's condition (no derivative)
        gvx, gvy = 0.0, 0.0
        for j in range(k - 1, -1, -1):
            gvx += 0.01  # x = x + vx * 0.01 with the new vx
            vx, vy, speed = VX[j], VY[j], SP[j]
            gspeed = -0.0005 * (gvx * vx + gvy * vy)
            gvx, gvy = (gvx * (1.0 - 0.0005 * speed) + gspeed * vx / speed,
                        gvy * (1.0 - 0.0005 * speed) + gspeed * vy / speed)
        total += C45 * (gvx + gvy)
    return total


# ---- the rows -------------------------------------------------------------------------------------

def saliency_systems(cpu, interp, X, y):
    """(systems, values-only loops by system name)"""
    import jax
    import jax.numpy as jnp
    import torch

    P = {k: np.asarray(v) for k, v in cpu.params.items()}
    W1, b1, W2, b2 = (P[f"logp.dense#{i}.{n}"] for i in (1, 2) for n in ("W", "b"))
    ylist = y.tolist()

    tl1, tl2 = torch.nn.Linear(64, 32), torch.nn.Linear(32, 10)
    with torch.no_grad():
        for lin, W, b in ((tl1, W1, b1), (tl2, W2, b2)):
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
            lin.requires_grad_(False)  # the gradient wanted is the input's only
    Xt = torch.from_numpy(X)

    def torch_eager():
        s = 0.0
        for i in range(len(ylist)):
            x = Xt[i].clone().requires_grad_()
            out = torch.log_softmax(tl2(torch.relu(tl1(x))), -1)[ylist[i]]
            g, = torch.autograd.grad(out, x)
            s += float(g.abs().sum())
        return s

    def torch_values():
        s = 0.0
        with torch.no_grad():
            for i in range(len(ylist)):
                s += float(torch.log_softmax(tl2(torch.relu(tl1(Xt[i]))), -1)[ylist[i]])
        return s

    jW1, jb1, jW2, jb2 = (jnp.asarray(a) for a in (W1, b1, W2, b2))
    jX, jy = jnp.asarray(X), jnp.asarray(y)

    def logp(x, label):
        return jax.nn.log_softmax(jax.nn.relu(x @ jW1 + jb1) @ jW2 + jb2)[label]

    jgrad = jax.jit(jax.grad(logp))

    def jax_per_call():
        s = 0.0
        for i in range(len(ylist)):
            s += float(np.abs(np.asarray(jgrad(X[i], y[i]))).sum())
        return s

    @jax.jit
    def jax_loop(X_, y_):
        def body(i, s):
            return s + jnp.sum(jnp.abs(jax.grad(logp)(X_[i], y_[i])))
        return jax.lax.fori_loop(0, X_.shape[0], body, jnp.float32(0))

    systems = {
        "glia cpu": lambda: cpu.saliency(X, ylist),
        "glia interp": lambda: interp.saliency(X, ylist),
        "torch eager": torch_eager,
        "jax grad per call": jax_per_call,
        "jax jit loop": lambda: float(jax_loop(jX, jy)),
        "numba": lambda: nb_saliency(X, y, W1, b1, W2, b2),
    }
    values = {"glia cpu": lambda: cpu.values(X, ylist), "torch eager": torch_values}
    return systems, values


def flight_systems(cpu, interp, n):
    """(systems, values-only loops by system name)"""
    import torch

    def torch_eager():
        s = 0.0
        for i in range(n):
            v = torch.tensor(5.0 + 0.01 * i, dtype=torch.float64, requires_grad=True)
            x, y = torch.zeros((), dtype=torch.float64), torch.zeros((), dtype=torch.float64)
            vx, vy = v * C45, v * C45
            while y.item() >= 0.0:
                speed = torch.sqrt(vx * vx + vy * vy)
                vx = vx - 0.05 * speed * vx * 0.01
                vy = vy - (9.81 + 0.05 * speed * vy) * 0.01
                x = x + vx * 0.01
                y = y + vy * 0.01
            g, = torch.autograd.grad(x, v)
            s += float(g)
        return s

    systems = {
        "glia cpu": lambda: cpu.slopes(n),
        "glia interp": lambda: interp.slopes(n),
        "torch eager": torch_eager,
        "numba": lambda: nb_slopes(n),
    }
    return systems, {"glia cpu": lambda: cpu.distances(n)}


def jax_while_grad_note():
    """What jax.grad says to a lax.while_loop (flight in JAX)."""
    import jax
    import jax.numpy as jnp

    def flight(v):
        def body(st):
            x, y, vx, vy = st
            speed = jnp.sqrt(vx * vx + vy * vy)
            vx = vx - 0.05 * speed * vx * 0.01
            vy = vy - (9.81 + 0.05 * speed * vy) * 0.01
            return x + vx * 0.01, y + vy * 0.01, vx, vy
        zero = jnp.zeros_like(v)
        return jax.lax.while_loop(lambda st: st[1] >= 0.0, body, (zero, zero, v * C45, v * C45))[0]

    try:
        jax.grad(flight)(jnp.float32(5.0))
    except Exception as e:  # noqa: BLE001 -- the point is which error it is
        return f"{type(e).__name__} ({str(e).splitlines()[0]})"
    return "no error"


def measure(systems, repeat, once=()):
    """(median seconds, answer, first call's seconds) per system, alternating run by run; a system named
    in `once` runs once only, its first call being its time."""
    first = {}
    for name, f in systems.items():  # warm-up: compiles (Numba, XLA) and first calls
        t = clock()
        first[name] = (f(), clock() - t)
    times = {name: [first[name][1]] if name in once else [] for name in systems}
    for _ in range(repeat):
        for name, f in systems.items():
            if name not in once:
                t = clock()
                f()
                times[name].append(clock() - t)
    return {name: (sorted(ts)[len(ts) // 2], first[name][0], first[name][1]) for name, ts in times.items()}


def report(title, n, unit, rtol, systems, values, repeat, once=(), notes=()):
    res = measure({**systems, **{f"{name}, values only": f for name, f in values.items()}}, repeat, once)
    base_sec, base_ans = res["glia cpu"][:2]
    off = {name for name in systems if abs(res[name][1] - base_ans) > rtol * abs(base_ans)}
    print(f"\n{title}; answers {'DIFFER' if off else 'agree'} (relative {rtol:.0e}): {base_ans!r}")
    print(f"| system | total | per {unit} | Glia compiled is ... x faster | first call |")
    print("|---|---|---|---|---|")
    for name in systems:
        sec, ans, first = res[name]
        mark = f" (answer {ans!r})" if name in off else ""
        print(f"| {name} | {sec * 1e3:.2f} ms | {sec / n * 1e6:.2f} us | {sec / base_sec:.1f} | {first:.2f} s |{mark}")
    for name in once:
        print(f"({name}: one run, no warm-up)")
    for name in values:
        grad_sec, val_sec = res[name][0], res[f"{name}, values only"][0]
        print(f"gradient cost, {name}: {grad_sec / val_sec:.1f} ({grad_sec * 1e3:.2f} ms with the gradient, "
              f"{val_sec * 1e3:.2f} ms values only; target <= 4)")
    for note in notes:
        print(note)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--only", default="saliency,flight")
    ns = ap.parse_args(argv)
    import torch

    import glia

    torch.set_num_threads(1)
    t = clock()
    cpu = glia.load(PROGRAM, backend="cpu")
    interp = glia.load(PROGRAM)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; median of {ns.repeat}")
    if "saliency" in ns.only:
        with np.load(os.path.join(ROOT, "examples", "data", "digits.npz")) as d:
            X, y = d["x"].astype(np.float32), d["y"].astype(np.int64)
        report(f"saliency ({X.shape[0]} digits)", X.shape[0], "image", 1e-4,
               *saliency_systems(cpu, interp, X, y), ns.repeat)
    if "flight" in ns.only:
        report(f"flight ({LAUNCHES} launch speeds, a data-dependent while loop)", LAUNCHES, "launch", 1e-9,
               *flight_systems(cpu, interp, LAUNCHES), ns.repeat, once=("glia interp",),
               notes=(f"jax: reverse-mode through lax.while_loop: {jax_while_grad_note()}",))
    print(f"\n(the whole benchmark: {clock() - t:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
