"""A training run's new traces compiled together, this process and worker processes
(compiler/trace_pool.py), and the epoch kernel calling the traces by address (runtime/nbcall.py)."""
from __future__ import annotations

import queue
import subprocess
import sys

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

import glia
from glia.compiler import trace_compile, trace_pool
from glia.compiler.trace_compile import TraceEngine
from glia.runtime import nbcall, train_loop

from test_trace_compile import BRANCHY, data

# a model of its own (no other test compiles its traces): up to six traces, several per minibatch
MODEL = BRANCHY.replace("dense(x[0], 8)", "dense(x[0], 7)").replace("dense(h, 8)", "dense(h, 7)")


def train(monkeypatch, jobs: int, start=None, said=None):
    """Three epochs of MODEL on the compiled engine with `jobs` processes compiling (traces not in this
    process's memory); (parameters, history, the engine, the jobs the workers did, the workers).
    `said`: a list that gets what the engine tells the progress bar or log it is compiling."""
    monkeypatch.setattr(trace_compile, "_LOADED", {})
    if said is not None:
        monkeypatch.setattr(train_loop, "compile_status", lambda bar, log: said.append)
    monkeypatch.setattr(trace_pool, "processes", lambda: jobs)
    started, elsewhere, engines = [], [], []
    real_start, real_compile, real_settle = trace_pool._start, trace_pool.Pool.compile, TraceEngine.settle

    def _start():
        w = (start or real_start)()
        started.append(w)
        return w

    def compile(self, jobs, here):
        done = real_compile(self, jobs, here)
        elsewhere.extend(done)
        return done

    def settle(self, new):
        engines.append(self)
        return real_settle(self, new)
    monkeypatch.setattr(trace_pool, "_start", _start)
    monkeypatch.setattr(trace_pool.Pool, "compile", compile)
    monkeypatch.setattr(TraceEngine, "settle", settle)
    x, y = data("cross_entropy")
    p = glia.compile(MODEL)
    h = p.train("model", x, y, lr=0.01, epochs=3, batch=16, validation=0.25, seed=0, engine="compiled",
                optimizer="adam")
    return p._backend.interp.params.flat.copy(), h, engines[-1], elsewhere, started


def test_traces_compiled_by_workers_train_as_those_compiled_here_and_the_workers_stop(monkeypatch, tmp_path):
    monkeypatch.setenv("GLIA_CACHE_DIR", str(tmp_path))  # nothing compiled yet, in no process
    for name in [m for m in sys.modules if m.startswith(("glia_trace_", "glia_epoch_"))]:
        monkeypatch.delitem(sys.modules, name)
    said: list[str] = []
    flat2, h2, eng2, elsewhere, started = train(monkeypatch, 2, said=said)
    assert len(eng2.traces) >= 3 and started and elsewhere  # a worker compiled some of them
    # the user is told what the run waits for, and when it is done (the bar's description, or the log)
    assert said[:2] == ["compiling 1 new trace of the model", ""], said  # the first, before the loop
    assert any(s.startswith("compiling ") and s.endswith(" new traces of the model in 2 processes") for s in said)
    assert f"compiling the epoch over {len(eng2.taken)} traces" in said and said[-1] == "", said
    assert all(not job.error for job in elsewhere), [job.error for job in elsewhere]
    for job in elsewhere:  # this process loaded the worker's machine code from Numba's cache
        assert sum(job.item.step.stats.cache_hits.values()) == 1, job.item.path
    assert eng2.pool.workers == [] and all(w.poll() is not None for w in started)  # stopped at the end
    assert eng2.kernel is not None  # the epoch kernel over them too, calling them by address

    flat1, h1, eng1, elsewhere1, started1 = train(monkeypatch, 1)
    assert not started1 and not elsewhere1
    assert [c.trace.signature for c in eng1.taken] == [c.trace.signature for c in eng2.taken]
    np.testing.assert_array_equal(flat1, flat2)
    assert h1["loss"] == h2["loss"] and h1["acc"] == h2["acc"]


def test_a_worker_that_dies_leaves_its_traces_to_this_process(monkeypatch):
    dying = lambda: subprocess.Popen([sys.executable, "-c", "pass"], stdin=subprocess.PIPE,  # noqa: E731
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    flat, h, eng, elsewhere, started = train(monkeypatch, 2, start=dying)
    assert started and elsewhere and all("stopped" in job.error for job in elsewhere)
    assert len(eng.traces) >= 3 and not eng.refused  # compiled here instead
    flat1, h1, _, _, _ = train(monkeypatch, 1)
    np.testing.assert_array_equal(flat, flat1)


def test_a_job_a_worker_cannot_compile_says_why():
    pool = trace_pool.Pool()
    worker = trace_pool._start()
    pool.workers.append(worker)
    try:
        todo, done = queue.SimpleQueue(), []
        todo.put(trace_pool.Job("a", "/nonexistent/glia_trace_a.py", (), None))
        trace_pool._serve(worker, todo, done)
        assert len(done) == 1 and "nonexistent" in done[0].error, done[0].error
        assert worker.poll() is None  # and it takes the next job
    finally:
        pool.close()


def test_compile_jobs_caps_the_processes(monkeypatch):
    monkeypatch.setenv("GLIA_COMPILE_JOBS", "1")
    assert trace_pool.processes() == 1
    monkeypatch.setenv("GLIA_COMPILE_JOBS", "64")
    assert 1 <= trace_pool.processes() <= trace_pool.MAX_WORKERS + 1
    monkeypatch.setenv("GLIA_COMPILE_JOBS", "many")  # not a number: the CPUs
    assert trace_pool.processes() >= 1


# ---- calls by address ---------------------------------------------------------------------------

@njit
def _callee(X, k, t):
    if k < 0:
        raise ValueError("k is negative")
    return X.sum() * k + t[0], X * 2.0


_call = nbcall.at_address(_callee)


@njit
def _caller(addr, X, k):
    total = 0.0
    for _ in range(3):
        a, b = _call(addr, (X, k, (1.5, 2)))
        total += a + b.sum()
    return total


def test_a_call_by_address_runs_the_compiled_overload_without_linking_it():
    X = np.arange(6.0).reshape(2, 3)
    args = (X, 3, (1.5, 2))
    a, b = _callee(*args)
    addr = nbcall.address(_callee, args)
    assert _caller(addr, X, 3) == 3 * (a + b.sum())
    with pytest.raises(ValueError, match="k is negative"):  # the callee's exception reaches the caller
        _caller(addr, X, -1)
    name = _callee.overloads[_callee.signatures[0]].fndesc.llvm_func_name
    assert name not in _caller.inspect_llvm(_caller.signatures[0])  # not linked, not even declared


def test_a_call_by_address_without_a_compiled_overload_is_refused():
    @njit
    def other(x):
        return x + 1
    call = nbcall.at_address(other)

    @njit
    def caller(addr, x):
        return call(addr, (x,))
    with pytest.raises(TypingError, match="no compiled overload"):
        caller(0, 1.5)
    with pytest.raises(KeyError):
        nbcall.address(other, (1.5,))


def test_what_compiles_is_said_in_the_bar_or_as_log_lines():
    """train_loop.compile_status: in the bar's description while it compiles, or (a log file, `glia train`
    off a terminal) a line when it starts and one with the time when it ends."""
    class Bar:
        desc = None

        def set_description_str(self, text, refresh=True):
            self.desc = text
    bar, lines = Bar(), []
    status = train_loop.compile_status(bar, lines.append)
    status("compiling 3 new traces of the model in 2 processes")
    assert bar.desc == "train (compiling 3 new traces of the model in 2 processes)" and not lines
    status("")
    assert bar.desc == "train"
    status = train_loop.compile_status(None, lines.append)
    status("compiling the epoch over 3 traces")
    status("")
    assert lines[0] == "compiling the epoch over 3 traces..." and lines[1].startswith("compiled in ")
    train_loop.compile_status(None, None)("compiling")  # (nowhere to say it: Program.train's default)
