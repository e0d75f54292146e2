"""The CUDA backend (backend matrix entries `cuda-sim` and `cuda`): batched kernels against the
interpreter, the `--device` command-line messages.

numba-cuda decides at its first import whether it is the simulator, so every check runs in a
subprocess of its own: `NUMBA_ENABLE_CUDASIM=1` for `cuda-sim`, a real GPU for `cuda` (skipped here
when there is none). The bodies are the `case_*` functions below; the subprocess imports this file and
calls one. Sizes are tiny: the simulator runs each GPU thread as a Python thread.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

try:
    import numba_cuda  # noqa: F401  (the distribution's top-level package)
    HAVE_NUMBA_CUDA = True
except ImportError:
    HAVE_NUMBA_CUDA = False

HAVE_GPU = shutil.which("nvidia-smi") is not None or os.path.exists("/dev/nvidiactl")

# the backend matrix's CUDA entries; every skip is here, with its reason
DEVICES = [
    pytest.param("cuda-sim", marks=pytest.mark.skipif(not HAVE_NUMBA_CUDA, reason="numba-cuda is not installed "
                                                      "(pip install -e '.[test]' installs it)")),
    pytest.param("cuda", marks=[pytest.mark.gpu,
                                pytest.mark.skipif(not (HAVE_GPU and HAVE_NUMBA_CUDA),
                                                   reason="needs a CUDA GPU and numba-cuda")]),
]


def run_case(device: str, case: str, tmp_path) -> str:
    """Run `case(folder)` of this file in a fresh interpreter on `device`; returns its stdout."""
    env = dict(os.environ, GLIA_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    env.pop("GLIA_CUDASIM", None)
    if device == "cuda-sim":
        env["NUMBA_ENABLE_CUDASIM"] = "1"
    code = f"import sys; sys.path.insert(0, {HERE!r}); import test_cuda_sim as t; t.{case}(*sys.argv[1:])"
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env,
                       timeout=600)
    assert r.returncode == 0, f"{case} on {device} failed:\n{r.stdout}\n{r.stderr}"
    return r.stdout


# ---- batched execution: interp == device ----------------------------------------------------------

SCALAR_PROGRAM = textwrap.dedent("""\
    LIMIT = 500
    SCALE = 2.5

    def collatz(n: int) -> int:
        steps = 0
        while n != 1 and steps < LIMIT:
            if n % 2 == 0:
                n = n // 2
            else:
                n = 3 * n + 1
            steps += 1
        return steps

    def gcd(a: int, b: int) -> int:
        while b != 0:
            a, b = b, a % b
        return abs(a)

    def sq(x: float) -> float:
        return x * x

    def norm(x: float, y: float) -> float:
        return math.sqrt(sq(x) + sq(y)) * SCALE

    def fact(n: int) -> int:
        r = 1
        for i in range(2, n + 1):
            r *= i
        return r

    def digits(n: int, base: int) -> int:
        count = 0
        n = abs(n)
        while True:
            count += 1
            n //= base
            if n == 0:
                break
        return count

    def classify(x: float, y: float) -> int:
        if x > 0.0 and y > 0.0:
            return 1
        elif x < 0.0 or y < 0.0:
            return max(2, int(x), int(y))
        return min(0, int(x * 3.0))

    def odd_sum(n: int) -> int:
        total = 0
        for i in range(n, -1, -1):
            if i % 2 == 0:
                continue
            total += i
        return total

    def half(x: f32) -> f32:
        return x / f32(2.0) + f32(0.25)

    def both(a: bool, b: bool) -> bool:
        return (a or b) and not (a and b)

    def ratio(a: int, b: int) -> float:
        return a / b + float(a // b) + float(a % b)

    def grow(x: float, y: float) -> float:
        return x ** y

    def power(a: int, b: int) -> int:
        return a ** b - (a << 2) + (a >> 1)

    def rounded(x: float) -> int:
        return round(x) + math.floor(x) - math.ceil(x)

    def span(a: int, z: int, st: int) -> int:
        count = 0
        last = 0
        for i in range(a, z, st):
            count += 1
            last = i
            if count == 3:
                break
        return count * 1000 + last % 997

    def span1(a: int, z: int) -> int:
        count = 0
        for i in range(a, z):
            count += 1
            if count == 3:
                break
        return count
    """)

# (function, argument columns)
BATCHES = [
    ("collatz", [list(range(1, 40))]),
    ("gcd", [[12, 18, 7, 0, -8, 100, 5], [8, 27, 3, 5, 12, 75, 0]]),
    ("norm", [[0.0, 3.0, -1.5, 1e3], [0.0, 4.0, 2.0, -7.25]]),
    ("fact", [list(range(0, 21))]),
    ("digits", [[0, 9, 10, -12345, 2 ** 62], [10, 10, 2, 10, 16]]),
    ("classify", [[1.0, -2.5, 0.0, 3.7, 0.9], [1.0, 4.0, 0.0, -0.1, 0.0]]),
    ("odd_sum", [[0, 1, 2, 9, 10]]),
    # ranges whose length overflows int64 (Numba's own range ran none or the wrong number of passes)
    ("span", [[-5, 1, -2 ** 63, 2 ** 63 - 1, 0, 7], [2 ** 63 - 1, -2 ** 63, 2 ** 63 - 1, -2 ** 63, 10, 7],
              [2 ** 63 - 1, 1, 2 ** 62, -2 ** 62, 3, -1]]),
    ("span1", [[-2 ** 63, 1, -5, 0], [2 ** 63 - 1, -2 ** 63, 2, 0]]),
    ("half", [np.array([0.0, 1.0, -3.5, 1e-3], np.float32)]),
    ("both", [[True, True, False, False], [True, False, True, False]]),
    ("ratio", [[7, -7, 7, 0], [2, 2, -2, 5]]),
    ("power", [[2, -3, 0, 10, 1], [10, 3, 0, 18, 62]]),
    ("rounded", [[0.5, 1.5, 2.5, -2.5, 3.7, -0.2]]),
    # (a negative base by an infinite or NaN exponent is pow's answer, not E506)
    ("grow", [[2.0, 10.0, 0.1, -3.0, 0.0, 1.0, -np.inf, -2.0, -0.5, -2.0, -2.0],
              [0.5, 400.0, -400.0, 3.0, 2.0, 1e308, -np.inf, np.inf, np.inf, np.nan, 1e300]]),
]

ERRORS = [  # (function, columns, error code, index of the first failing example)
    ("fact", [[3, 25, 30]], "E504", 1),
    ("gcd", [[1, 2], [1, 0]], None, None),  # b == 0 is fine: the loop does not run
    ("ratio", [[1, 2, 3], [1, 0, 0]], "E503", 1),
    ("power", [[2, 2], [3, -1]], "E506", 1),
    ("rounded", [[1.0, float("nan")]], "E506", 1),
    ("grow", [[4.0, -8.0], [0.5, 0.5]], "E506", 1),
]


def _load(text: str):
    import glia

    return glia.compile(text, "batch.glia")


def _interp_column(prog, name, cols):
    return [prog.call(name, *[c[i].item() if hasattr(c[i], "item") else c[i] for c in cols])
            for i in range(len(cols[0]))]


def case_batches(folder: str) -> None:
    prog = _load(SCALAR_PROGRAM)
    notes: list[str] = []
    for name, cols in BATCHES:
        cols = [np.asarray(c) for c in cols]
        got = prog.map_batch(name, *cols, device="cuda", notes=notes.append)
        want = _interp_column(prog, name, cols)
        assert isinstance(got, np.ndarray) and len(got) == len(want), name
        if got.dtype.kind == "f":
            rtol = 1e-12 if got.dtype == np.float64 else 1e-6  # a GPU's libm may differ in the last bits
            np.testing.assert_allclose(got, np.asarray(want, got.dtype), rtol=rtol, err_msg=name)
        else:
            assert got.tolist() == want, (name, got.tolist(), want)
    assert notes == [], notes  # every function above runs on the device
    print("ok", len(BATCHES))


def case_errors(folder: str) -> None:
    from glia.compiler.diagnostics import GliaError

    prog = _load(SCALAR_PROGRAM)
    for name, cols, code, index in ERRORS:
        cols = [np.asarray(c) for c in cols]
        try:
            prog.map_batch(name, *cols, device="cuda")
        except GliaError as e:
            d = e.diagnostic
            assert code is not None and d.code == code, (name, d.render())
            assert any(f"example {index} of the batch" in n.message for n in d.notes), d.render()
            # the same diagnostic as the interpreter gives for that example
            try:
                prog.call(name, *[c[index].item() for c in cols])
            except GliaError as want:
                assert want.diagnostic.message == d.message and want.diagnostic.span == d.span
            else:
                raise AssertionError(f"{name}: the interpreter did not fail on example {index}")
        else:
            assert code is None, f"{name}: expected {code}"
    print("ok")


FALLBACK_PROGRAM = textwrap.dedent("""\
    def total(n: int) -> int:
        xs = [i * i for i in range(n)]
        return sum(xs)

    def fib(n: int) -> int:
        if n < 2:
            return n
        return fib(n - 1) + fib(n - 2)
    """)


def case_fallback(folder: str) -> None:
    prog = _load(FALLBACK_PROGRAM)
    for name, want in (("total", [0, 0, 1, 5, 14]), ("fib", [0, 1, 1, 2, 3])):
        notes: list[str] = []
        got = prog.map_batch(name, np.arange(5), device="cuda", notes=notes.append)
        assert got.tolist() == want
        assert len(notes) == 1 and "the CUDA backend cannot compile" in notes[0] and "yet" in notes[0], notes
        assert f"{name} on the CPU" in notes[0] and "batch.glia:" in notes[0], notes
    print("ok")


def test_map_batch_on_the_cpu_needs_no_cuda():
    import glia

    prog = glia.compile(SCALAR_PROGRAM, "batch.glia")
    assert prog.map_batch("gcd", [12, 7], [8, 3], device="cpu").tolist() == [4, 1]
    assert prog.map_batch("half", np.array([1.0], np.float32), device="cpu").dtype == np.float32
    for args, words in ((([1.5], [2]), "argument 'a' of gcd is int, but its array has dtype float64"),
                        (([1, 2], [3]), "must have the same length"),
                        (([1],), "gcd takes 2 arguments")):
        with pytest.raises(glia.GliaError, match=words.replace("(", r"\(")):
            prog.map_batch("gcd", *args, device="cpu")


# ---- training a chain of dense layers on the device ---------------------------------------------------

TRAIN_PROGRAM = textwrap.dedent("""\
    def clf(x: f32[6]) -> f32[3]:
        h = relu(dense(x, 5))
        g = tanh(dense(h, 4))
        return softmax(dense(g, 3))

    def reg(x: f32[6]) -> f32[2]:
        h = leaky_relu(dense(x, 7))
        return dense(h, 2)

    def tags(x: f32[6]) -> f32[2]:
        return sigmoid(dense(tanh(dense(x, 5)), 2))
    """)

TRAIN_RUNS = [  # (function, settings): Adam with clipping and a validation split; SGD with Nesterov momentum
    ("clf", dict(loss="cross_entropy", optimizer="adam", lr=0.05, clip=0.5, validation=0.2)),
    ("reg", dict(loss="mse", optimizer="sgd", lr=0.05, momentum=0.9, nesterov=True)),
    ("tags", dict(loss="binary_cross_entropy", optimizer="rmsprop", lr=0.05, validation=0.2)),  # multi-label
]


def case_training(folder: str) -> None:
    import glia

    rng = np.random.default_rng(0)
    X = rng.normal(size=(18, 6)).astype(np.float32)
    labels = rng.integers(0, 3, size=18)
    targets = rng.normal(size=(18, 2)).astype(np.float32)
    for fn, settings in TRAIN_RUNS:
        y = {"clf": labels, "reg": targets, "tags": (targets > 0).astype(np.float32)}[fn]
        runs = {}
        for device in ("cpu", "cuda"):
            prog = glia.compile(TRAIN_PROGRAM, "train.glia")
            hist = prog.train(fn, X, y, epochs=2, batch=8, seed=3, progress=False, device=device, **settings)
            runs[device] = hist, {k: v.copy() for k, v in prog.params.items()}
        (cpu, p_cpu), (gpu, p_gpu) = runs["cpu"], runs["cuda"]
        assert cpu["engine"].startswith("compiled (Numba") and "CUDA" in gpu["engine"], gpu["engine"]
        for key in ("loss", "val_loss"):  # the CPU compiled path's curve, to float32 tolerance
            np.testing.assert_allclose(gpu[key], cpu[key], rtol=2e-5, atol=1e-6, err_msg=f"{fn} {key}")
        assert gpu["acc"] == cpu["acc"] and (fn == "reg" or 0 < cpu["acc"][-1] <= 1)
        for name in p_cpu:
            np.testing.assert_allclose(p_gpu[name], p_cpu[name], rtol=1e-4, atol=1e-5, err_msg=name)
    print("ok")


def case_training_nan(folder: str) -> None:
    """A run that diverges stops with E702, as on the CPU (a NaN probability counted as 1e-12 before)."""
    import glia
    from glia.compiler.diagnostics import GliaError

    rng = np.random.default_rng(0)
    X = rng.normal(size=(18, 6)).astype(np.float32)
    prog = glia.compile(TRAIN_PROGRAM, "train.glia")
    try:
        prog.train("clf", X, rng.integers(0, 3, size=18), epochs=3, batch=8, optimizer="sgd", lr=1e30,
                   progress=False, device="cuda")
    except GliaError as e:
        assert e.diagnostic.code == "E702", e.diagnostic
        print("ok")


def case_training_bce_outside(folder: str) -> None:
    """binary_cross_entropy of a model without a final sigmoid: E506 as on the CPU, not the device's E702."""
    import glia
    from glia.compiler.diagnostics import GliaError

    X = np.random.default_rng(0).normal(size=(12, 6)).astype(np.float32) * 5
    prog = glia.compile(TRAIN_PROGRAM + "\ndef lin(x: f32[6]) -> f32[1]:\n    return dense(x, 1)\n", "train.glia")
    try:
        prog.train("lin", X, (X[:, :1] > 0).astype(np.float32), loss="binary_cross_entropy", epochs=1, batch=6,
                   progress=False, device="cuda")
    except GliaError as e:
        assert e.diagnostic.code == "E506" and "takes probabilities in [0, 1]" in e.diagnostic.message, e.diagnostic
        print("ok")


def case_train_cli(folder: str) -> None:
    """`glia train FILE --device cuda` end to end: the engine line names the device."""
    import contextlib
    import io

    from glia.cli import main

    rng = np.random.default_rng(1)
    data = os.path.join(folder, "d.npz")
    np.savez(data, x=rng.normal(size=(12, 6)).astype(np.float32), y=rng.integers(0, 3, size=12))
    src = os.path.join(folder, "m.glia")
    with open(src, "w") as f:
        f.write(TRAIN_PROGRAM + '\ntrain clf on "d.npz":\n    epochs = 1\n    batch = 6\n')
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["train", src, "--device", "cuda", "--no-progress"])
    assert code == 0, err.getvalue()
    assert "compiled (CUDA kernels" in err.getvalue() and os.path.exists(os.path.join(folder, "m.params.npz"))
    print("ok")


def test_numba_cuda_failures_are_one_diagnostic():
    from numba.core.errors import NumbaError

    from glia.compiler.device import device_failures
    from glia.compiler.diagnostics import GliaError

    with pytest.raises(GliaError) as e:
        with device_failures("training"):
            raise NumbaError("libNVVM cannot be found\nmore detail")
    d = e.value.diagnostic
    assert d.code == "E903" and "training failed on the CUDA device: libNVVM cannot be found" in d.message
    assert "more detail" not in d.message and "glia[cuda]" in d.message
    with pytest.raises(ValueError):  # anything else is not the device's failure
        with device_failures("training"):
            raise ValueError("a bug")


def test_activation_rules_match_the_interpreter():
    """runtime/act_rules.py is what both compiled training paths run per element (Numba on the CPU,
    numba-cuda on the GPU and its simulator): against the interpreter's kernels and VJP rules."""
    from glia.compiler.primitives import PRIMS
    from glia.compiler.train_compile import ACTS
    from glia.runtime import act_rules
    from glia.runtime import mlp_kernels as K

    x = np.array([[-30.0, -2.5, -0.3, 0.0], [1e-4, 0.7, 3.0, 40.0]], np.float64)
    for op, code in ACTS.items():
        if code in (K.SOFTMAX, K.LOG_SOFTMAX):
            continue
        attrs = {"nn.leaky_relu": (0.01,), "nn.elu": (1.0,)}.get(op, ())
        alpha = attrs[0] if attrs else 0.0
        want = PRIMS[op].impl(x, *attrs)
        want_d = PRIMS[op].rules["vjp"](np.ones_like(x), want, (x,), attrs)[0]
        for target, (value, slope) in {"python": (act_rules.act_value, act_rules.act_slope),
                                       "numba": (K._act_value, K._act_slope)}.items():
            y = np.array([[value(code, alpha, v) for v in row] for row in x])
            d = np.array([[slope(code, alpha, v, w) for v, w in zip(r, ry)] for r, ry in zip(x, y)])
            np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-15, err_msg=f"{op} {target}")
            np.testing.assert_allclose(d, want_d, rtol=1e-12, atol=1e-15, err_msg=f"{op}' {target}")


OPTIMIZER_CONFIGS = [("sgd", {}), ("sgd", {"momentum": 0.9}), ("sgd", {"momentum": 0.9, "nesterov": True}),
                     ("sgd", {"weight_decay": 0.1}), ("adam", {}), ("adam", {"weight_decay": 0.1}),
                     ("adamw", {"weight_decay": 0.05}), ("rmsprop", {}), ("rmsprop", {"momentum": 0.5})]


def test_optimizer_rules_match_the_reference_optimizers():
    """runtime/optim_rules.py, through the CPU kernels' step (the CUDA step calls the same rules), against
    runtime/optim.py's optimizers, which the interpreter's tape uses: three steps of each."""
    from glia.compiler.train_compile import OPT_CODES, hyper_of, state_of
    from glia.runtime import mlp_kernels as K
    from glia.runtime.optim import make_optimizer

    rng = np.random.default_rng(0)
    for name, kw in OPTIMIZER_CONFIGS:
        ref, fast = (make_optimizer(name, 40, np.float64, lr=0.01, **kw) for _ in range(2))
        w_ref = rng.normal(size=40)
        w_fast = w_ref.copy()
        hyper = hyper_of(fast, 0.0, np.float64)
        for _ in range(3):
            g = rng.normal(size=40)
            ref.step(w_ref, g.copy(), 0.01)
            fast.t += 1
            K._step(OPT_CODES[name], hyper, fast.t, w_fast, g.copy(), *state_of(fast, np.float64))
        np.testing.assert_allclose(w_fast, w_ref, rtol=1e-10, atol=1e-13, err_msg=f"{name} {kw}")


# ---- candidate evaluation for search --------------------------------------------------------------------

BV_TASK = {"name": "bv", "types": {"args": ["bv64"], "ret": "bv64", "arg_names": ["x"]},
           "grammar": "((Start (_ BitVec 64))) ((Start (_ BitVec 64) (#x0000000000000001 x (bvlshr Start Start)"
                      " (bvxor Start Start) (bvadd Start Start))))"}
BV_XS = [3, 10, 2 ** 63 + 5, 12345678901234]


def case_pair_kernel(folder: str) -> None:
    """Every operator the kernel knows, on rows with the edge values, against the CPU engine's numpy rules."""
    from glia.runtime.search.components import SYGUS_OPS
    from glia.runtime.search.cuda_eval import OPS, PairEvaluator

    edges = [0, 1, 2, 63, 64, 65, 2 ** 63 - 1, 2 ** 63, 2 ** 64 - 1, 12345678901234567]
    rng = np.random.default_rng(0)
    a = np.array([edges[:5], edges[5:], rng.integers(0, 2 ** 63, 5) * 2 + 1], np.uint64)
    b = np.array([edges[::2], edges[1::2], rng.integers(0, 70, 5), np.zeros(5)], np.uint64)
    import time

    from glia.runtime.search import clock

    paused = time.perf_counter() - clock.now()
    ev = PairEvaluator()  # its first launch (the device's context, the kernel's compile) is off the search clock
    assert time.perf_counter() - clock.now() > paused
    for name in OPS:
        vec = SYGUS_OPS[name][3]
        with np.errstate(all="ignore"):
            want = vec(a[1:3, None, :], b[None, :, :]).reshape(-1, a.shape[1])
        got = ev.pairs(name, "a", a, 1, 2, "b", b)
        assert got.dtype == want.dtype and np.array_equal(got, want), name
    assert ev.launches == len(OPS) and len(ev.resident) == 2  # the banks went to the device once
    print("ok")


def case_search(folder: str) -> None:
    """Bottom-up search with the GPU evaluating candidates: the same program, after the same candidates."""
    from glia.compiler.tasks import task_problem
    from glia.runtime.search import Config, synthesize
    from glia.runtime.search.terms import to_sexpr

    task = dict(BV_TASK, inputs=[[x] for x in BV_XS], outputs=[((x ^ (x >> 1)) + 1) % 2 ** 64 for x in BV_XS])
    cpu = synthesize(task_problem(task, "bv"), Config(timeout=300.0))
    gpu = synthesize(task_problem(task, "bv"), Config(timeout=300.0, device="cuda"))
    assert cpu.solved and gpu.solved
    assert to_sexpr(gpu.term) == to_sexpr(cpu.term) and gpu.candidates == cpu.candidates
    print("ok")


def case_synth_cli(folder: str) -> None:
    import contextlib
    import io

    from glia.cli import main

    sl = os.path.join(folder, "p.sl")
    with open(sl, "w") as f:
        f.write("(set-logic BV)\n(synth-fun f ((x (_ BitVec 64))) (_ BitVec 64)\n"
                "    ((Start (_ BitVec 64) (#x0000000000000001 x (bvand Start Start) (bvadd Start Start)))))\n"
                + "".join(f"(constraint (= (f #x{x:016x}) #x{(x + x + 1) % 2 ** 64:016x}))\n" for x in BV_XS)
                + "(check-synth)\n")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["synth", sl, "--device", "cuda", "--no-cache"])
    assert code == 0 and out.getvalue().startswith("(define-fun f ((x (_ BitVec 64))) (_ BitVec 64) "), out.getvalue()
    print("ok")


# ---- the checks above, on each CUDA entry of the backend matrix ------------------------------------------

CASES = {
    "batched-kernel-matches-interpreter": "case_batches",
    "failing-example-reports-interpreters-error": "case_errors",
    "what-the-gpu-cannot-take-runs-on-the-cpu": "case_fallback",
    "training-follows-cpu-compiled-path": "case_training",
    "diverged-training-stops-with-e702": "case_training_nan",
    "bce-outside-0-1-is-e506": "case_training_bce_outside",
    "glia-train-device-cuda": "case_train_cli",
    "candidate-kernel-matches-cpu-rules": "case_pair_kernel",
    "search-finds-what-the-cpu-finds": "case_search",
    "glia-synth-device-cuda": "case_synth_cli",
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
@pytest.mark.parametrize("device", DEVICES)
def test_on_the_device(device, case, tmp_path):
    assert run_case(device, case, tmp_path).strip().startswith("ok")


# ---- --device on the command line -------------------------------------------------------------------

def _glia(args, tmp_path, **env_extra):
    env = dict(os.environ, GLIA_CACHE_DIR=str(tmp_path / "cache"), **env_extra)
    for k in ("NUMBA_ENABLE_CUDASIM", "GLIA_CUDASIM"):
        if k not in env_extra:
            env.pop(k, None)
    return subprocess.run([sys.executable, "-m", "glia", *args], capture_output=True, text=True, env=env,
                          timeout=300, cwd=ROOT)


@pytest.fixture
def hello(tmp_path):
    p = tmp_path / "hello.glia"
    p.write_text('def main():\n    print("hi")\n')
    return str(p)


@pytest.mark.skipif(HAVE_GPU, reason="checks the messages of a machine without a GPU")
@pytest.mark.skipif(not HAVE_NUMBA_CUDA, reason="numba-cuda is not installed")
def test_device_flags_on_a_machine_without_a_gpu(hello, tmp_path):
    r = _glia(["run", "--device", "cuda", hello], tmp_path)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "error[E902]" in r.stderr and "no CUDA GPU" in r.stderr, r.stderr
    r = _glia(["run", "--device", "auto", hello], tmp_path)  # falls back silently
    assert r.returncode == 0 and r.stdout == "hi\n" and r.stderr == "", r.stderr
    r = _glia(["run", "--device", "cuda", hello], tmp_path, GLIA_CUDASIM="1")
    assert r.returncode == 0 and r.stdout == "hi\n" and "CUDA simulator" in r.stderr, r.stderr
    r = _glia(["run", "--device", "tpu", hello], tmp_path)
    assert r.returncode == 2 and "invalid choice" in r.stderr


@pytest.mark.skipif(HAVE_GPU, reason="checks the messages of a machine without a GPU")
@pytest.mark.skipif(not HAVE_NUMBA_CUDA, reason="numba-cuda is not installed")
def test_no_gpu_is_said_as_the_device_was_asked_for(tmp_path):
    """A train block's `device = "cuda"` and Program.train's device="cuda" were told "--device cuda", a flag
    the user never gave."""
    np.savez(tmp_path / "d.npz", x=np.zeros((8, 6), np.float32), y=np.zeros(8, np.int64))
    prog = tmp_path / "m.glia"
    prog.write_text(TRAIN_PROGRAM + '\ntrain clf on "d.npz":\n    device = "cuda"\n    epochs = 1\n')
    r = _glia(["train", str(prog), "--no-progress"], tmp_path)
    assert r.returncode == 1 and 'm.glia:14:14: error[E902]: device = "cuda": no CUDA GPU found' in r.stderr, r.stderr
    assert "--device" not in r.stderr and 'use device = "cpu" or device = "auto"' in r.stderr, r.stderr
    r = _glia(["train", str(prog), "--no-progress", "--device", "cuda"], tmp_path)
    assert r.returncode == 1 and "error[E902]: --device cuda: no CUDA GPU found" in r.stderr, r.stderr
    code = ("import glia, numpy as np\nfrom glia.compiler.diagnostics import GliaError\n"
            f"p = glia.compile(open({str(prog)!r}).read(), 'm.glia')\n"
            "for call in (lambda: p.train('reg', np.zeros((4, 6), 'f4'), np.zeros((4, 2), 'f4'), device='cuda'),\n"
            "             lambda: p.map_batch('reg', np.zeros((2, 6), 'f4'), device='cuda')):\n"
            "    try:\n        call()\n    except GliaError as e:\n        print(e.diagnostic.message)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT,
                       env={k: v for k, v in os.environ.items() if k not in ("NUMBA_ENABLE_CUDASIM", "GLIA_CUDASIM")})
    lines = r.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith('device="cuda": no CUDA GPU found') for line in lines), r
    repl = subprocess.run([sys.executable, "-m", "glia", "repl"], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path, input=TRAIN_PROGRAM + '\n:train clf data="d.npz" device="cuda"\n',
                          env={k: v for k, v in os.environ.items() if k not in ("NUMBA_ENABLE_CUDASIM", "GLIA_CUDASIM")})
    assert 'error[E902]: device="cuda": no CUDA GPU found' in repl.stdout + repl.stderr, repl


def test_device_cuda_without_numba_cuda_is_one_line(hello, tmp_path):
    """Hide numba-cuda from a subprocess: `import numba.cuda` fails as it does when it is not installed."""
    blocker = tmp_path / "block" / "sitecustomize.py"
    blocker.parent.mkdir()
    blocker.write_text("import sys\nclass _B:\n    def find_spec(self, name, path=None, target=None):\n"
                       "        if name == 'numba.cuda' or name.startswith('numba_cuda'):\n"
                       "            raise ImportError('blocked')\nsys.meta_path.insert(0, _B())\n")
    r = _glia(["run", "--device", "cuda", hello], tmp_path, PYTHONPATH=str(blocker.parent))
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "error[E901]" in r.stderr, r.stderr
    assert "pip install" in r.stderr
    r = _glia(["run", "--device", "auto", hello], tmp_path, PYTHONPATH=str(blocker.parent))
    assert r.returncode == 0 and r.stdout == "hi\n" and r.stderr == ""


@pytest.mark.skipif(HAVE_GPU, reason="checks the messages of a machine without a GPU")
@pytest.mark.skipif(not HAVE_NUMBA_CUDA, reason="numba-cuda is not installed")
def test_a_device_error_names_the_program_file(hello, tmp_path):
    """`glia train F --device cuda` without a GPU said `glia: error[E902]`, as if glia's own; the block's
    `device = "cuda"` is said where it is written."""
    import numpy as np

    np.savez(tmp_path / "d.npz", x=np.zeros((4, 2), np.float32), y=np.zeros((4, 1), np.float32))
    model = tmp_path / "m.glia"
    model.write_text('def m(x: f32[2]) -> f32[1]:\n    return dense(x, 1)\n\ntrain m on "d.npz":\n'
                     '    inputs = x\n    targets = y\n    loss = mse\n    epochs = 1\n    device = "cuda"\n')
    r = _glia(["run", "--device", "cuda", hello], tmp_path)
    assert r.returncode == 1 and r.stderr.startswith(f"{hello}: error[E902]: --device cuda: no CUDA GPU"), r.stderr
    r = _glia(["train", str(model), "--device", "cuda"], tmp_path)
    assert r.returncode == 1 and r.stderr.startswith(f"{model}: error[E902]: --device cuda"), r.stderr
    r = _glia(["train", str(model)], tmp_path)
    assert r.returncode == 1 and r.stderr.startswith(f"{model}:9:14: error[E902]:"), r.stderr
