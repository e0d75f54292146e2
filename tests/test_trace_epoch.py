"""The epoch kernel of the trace engine (compiler/trace_epoch.py): whole epochs of compiled traces in
one Numba call end with the same parameters, losses and accuracies as the same minibatches run one by
one from Python, with one trace or several (guards), and when some examples train on the tape."""
from __future__ import annotations

import numpy as np

import glia
from glia.compiler import trace_compile, training
from glia.compiler.trace_compile import TraceEngine

from test_trace_compile import BRANCHY, DROPOUT, RNN, data


def train(src, engine_kernel: bool, monkeypatch, engine="compiled", **kw):
    """3 epochs of the compiled engine, with or without the epoch kernel; (history, parameters,
    optimizer steps, the engine)."""
    made = []
    real = TraceEngine.epoch_kernel

    def epoch_kernel(self):
        made.append(self)
        return real(self) if engine_kernel else None
    with monkeypatch.context() as m:
        m.setattr(TraceEngine, "epoch_kernel", epoch_kernel)
        x, y = data("cross_entropy")
        p = glia.compile(src)
        h = p.train("model", x, y, lr=0.01, epochs=3, batch=16, validation=0.25, seed=0, engine=engine,
                    optimizer="adam", clip=1.0, **kw)
    return h, p._backend.interp.params.flat.copy(), made[-1] if made else None


def test_the_epoch_kernel_gives_the_parameters_of_the_minibatch_loop(monkeypatch):
    """One trace without guards (the RNN): the kernel from the first epoch."""
    h1, flat1, eng1 = train(RNN, True, monkeypatch)
    h0, flat0, eng0 = train(RNN, False, monkeypatch)
    assert eng1.kernel is not None and eng0.kernel is None
    np.testing.assert_array_equal(flat1, flat0)
    np.testing.assert_allclose(h1["loss"], h0["loss"], rtol=1e-6)
    assert h1["acc"] == h0["acc"] and h1["val_loss"] == h0["val_loss"]
    assert eng1.opt.t == eng0.opt.t == 3 * 3  # 36 training rows, minibatches of 16


def test_a_second_run_reuses_the_kernel_and_the_trace_it_made_and_ends_where_the_first_did(monkeypatch):
    """The epoch kernel and the compiled trace are kept in memory and not run again to compile (a
    tenth of a millisecond per run); a new program of the same source trains to the same parameters."""
    runs = []
    real = TraceEngine.run_kernel
    monkeypatch.setattr(TraceEngine, "run_kernel", lambda self, k, order, *a: runs.append(len(order)) or
                        real(self, k, order, *a))
    h1, flat1, eng1 = train(RNN, True, monkeypatch)
    first = list(runs)
    h2, flat2, eng2 = train(RNN, True, monkeypatch)
    assert eng2.kernel is eng1.kernel and eng2.traces[0] is eng1.traces[0] and eng1.kernel.ready
    assert runs[len(first):] == [36] * 3 and (first == [0] + [36] * 3 or first == [36] * 3)  # no zero-row call
    np.testing.assert_array_equal(flat2, flat1)
    assert h2["loss"] == h1["loss"] and h2["acc"] == h1["acc"]


def test_guarded_traces_and_examples_for_the_tape_leave_the_kernel_and_come_back(monkeypatch):
    """BRANCHY with room for two traces: guards route the examples between them, the other decision
    sequences train on the tape, so the kernel stops at each minibatch holding one, Python runs it,
    and the kernel goes on from the next; the parameters are those of the loop in Python."""
    monkeypatch.setattr(trace_compile, "MAX_TRACES", 2)
    stops = []
    real = TraceEngine.run_kernel

    def run_kernel(self, k, order, start, batch):
        out = real(self, k, order, start, batch)
        stops.append(out[1])
        return out
    monkeypatch.setattr(TraceEngine, "run_kernel", run_kernel)
    h1, flat1, eng1 = train(BRANCHY, True, monkeypatch)
    assert eng1.kernel is not None and eng1.on_tape > 0 and len(eng1.traces) == 2
    assert all(c.guards is not None for c in eng1.traces)
    assert stops.count(1) > 0 and stops.count(0) > 0  # NEEDS_TAPE, then DONE
    h0, flat0, eng0 = train(BRANCHY, False, monkeypatch)
    np.testing.assert_array_equal(flat1, flat0)
    np.testing.assert_allclose(h1["loss"], h0["loss"], rtol=1e-6)
    assert h1["acc"] == h0["acc"] and eng1.opt.t == eng0.opt.t
    assert [c.hits for c in eng1.taken] == [c.hits for c in eng0.taken]


def test_the_kernel_of_a_run_too_short_to_pay_for_it_is_not_built(monkeypatch):
    """--engine auto: an epoch kernel never compiled on this machine is built only for a run long enough."""
    from glia.compiler import trace_epoch

    monkeypatch.setattr(trace_epoch, "compiled_before", lambda *a: False)
    monkeypatch.setattr(trace_compile, "compiled_before", lambda t: True)  # the traces themselves load
    x, y = data("cross_entropy")
    p = glia.compile(RNN)
    interp = p._backend.interp
    o = training.Options(fn="model", epochs=2, progress=False, validation=0.0)
    task = training.check_task(interp.program, o, x, y)
    interp.params = training.new_store(interp.program, 0)
    eng, why = training.make_engine(interp, task, o)
    assert isinstance(eng, TraceEngine), why
    eng.epoch(np.arange(len(x)), 16, 0.01)
    assert eng.kernel is None


# dropout after the decisions (the guards do not read a mask): two traces, the other examples on the tape
DROPOUT_BRANCHY = BRANCHY.replace("    return softmax(dense(h, 4))", "    return softmax(dense(dropout(h, 0.3), 4))")


def test_dropout_masks_are_those_of_the_tape_in_the_kernel_and_around_examples_on_the_tape(monkeypatch):
    """The masks are drawn from the interpreter's generator example after example in each minibatch's
    order, by the epoch kernel and by the loop in Python, also when an example in the middle of a
    minibatch trains on the tape (it draws its own masks there): the parameters are the tape engine's."""
    h1, flat1, eng1 = train(DROPOUT, True, monkeypatch)
    h0, flat0, _ = train(DROPOUT, False, monkeypatch)
    ht, flatt, _ = train(DROPOUT, False, monkeypatch, engine="tape")
    assert eng1.kernel is not None and eng1.traces[0].trace.draws == 5 * 6 + 8
    np.testing.assert_array_equal(flat1, flat0)
    np.testing.assert_allclose(flat1, flatt, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h1["loss"], ht["loss"], rtol=1e-5)
    monkeypatch.setattr(trace_compile, "MAX_TRACES", 2)
    h2, flat2, eng2 = train(DROPOUT_BRANCHY, True, monkeypatch)
    ht, flatt, _ = train(DROPOUT_BRANCHY, False, monkeypatch, engine="tape")
    assert eng2.on_tape > 0 and len(eng2.traces) == 2 and eng2.kernel is not None
    np.testing.assert_allclose(flat2, flatt, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h2["loss"], ht["loss"], rtol=1e-5)


def test_an_embeddings_range_guards_do_not_hold_the_kernel_back(monkeypatch):
    """The embedding model's trace has guards (its index within the table) but no decision: the
    kernel runs from the first epoch, and its parameters are the Python loop's."""
    from test_trace_compile import EMBED

    in_python = []
    real = TraceEngine.minibatch
    with monkeypatch.context() as m:
        m.setattr(TraceEngine, "minibatch", lambda self, rows: in_python.append(rows) or real(self, rows))
        h1, flat1, eng1 = train(EMBED, True, monkeypatch)
    assert not in_python  # every minibatch of every epoch in the kernel
    h0, flat0, _ = train(EMBED, False, monkeypatch)
    c = eng1.traces[0]
    assert c.guards is not None and not c.trace.decides and eng1.kernel is not None
    assert eng1.on_tape == 0
    np.testing.assert_array_equal(flat1, flat0)
    np.testing.assert_allclose(h1["loss"], h0["loss"], rtol=1e-6)
