"""Edges of Glia's Python boundary met by ML engineers exchanging values with numpy (and PyTorch):
odd arrays and numbers given to Glia functions, parameters set and loaded from arrays and files,
`Program.train` called with bad settings or data. Each case was a raw Python/numpy/Numba exception
or a silently wrong value before its fix; each must now be the interpreter's answer or a GliaError
saying what was expected and what was found."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import glia
from glia.compiler.diagnostics import GliaError

TENSORS = """
def total(x: f64[n]) -> float:
    return sum(x)

def first(x: f32[n]) -> f32:
    return x[0]

def setfirst(x: f64[n]) -> f64[n]:
    x[0] = 7.0
    return x

def twice(v: float) -> float:
    return v * 2.0

def single(v: f32) -> f32:
    return v
"""


@pytest.fixture(scope="module")
def prog():
    return glia.compile(TENSORS)


def e201(fn, *args) -> str:
    with pytest.raises(glia.GliaTypeError) as info:
        fn(*args)
    assert info.value.diagnostic.code == "E201"
    return info.value.diagnostic.message


# ---- values into tensor parameters ------------------------------------------------------------


def test_a_0d_array_is_not_a_vector(prog):
    # np.ascontiguousarray made a 0-d array 1-d: accepted as f32[1]
    msg = e201(prog.first, np.array(3.0, dtype=np.float32))
    assert "shape ()" in msg and "0 dimensions, expected 1" in msg


@pytest.mark.parametrize("value, found", [
    ([1.0, None], "not a rectangular array of numbers"),  # was nan
    ([1.0, "2"], "numpy reads it as <U"),                 # was 2.0
    ([True, False], "numpy reads it as bool"),            # was 1.0, 0.0 (a numpy bool array was refused)
])
def test_lists_for_a_tensor_hold_numbers_only(prog, value, found):
    assert found in e201(prog.total, value)


def test_lists_for_a_tensor_still_take_numbers_and_big_ints(prog):
    assert prog.total([1, 2.5, np.float32(0.5), np.int64(1)]) == 5.0
    assert prog.total([1 << 80]) == float(1 << 80)
    assert "too large for a float" in e201(prog.total, [1 << 2000])


def test_a_masked_array_is_refused_not_unmasked(prog):
    # its mask was dropped: the sum of a masked [1, 2] with 2 masked was 3.0
    assert "masked array" in e201(prog.total, np.ma.masked_array([1.0, 2.0], mask=[0, 1]))


def test_an_array_of_another_library_says_how_to_convert(prog):
    class Foreign:  # what torch, JAX and CuPy arrays have
        def __array__(self, dtype=None, copy=None):
            return np.ones(2)
    assert "numpy.asarray(x)" in e201(prog.total, Foreign())
    assert "numpy.asarray(x)" in e201(prog.twice, Foreign())


def test_a_huge_int_for_a_float_is_e201(prog):
    # float(1 << 2000) raised OverflowError through the call
    assert "too large for a float" in e201(prog.twice, 1 << 2000)
    assert "too large for a float" in e201(prog.single, 1 << 2000)
    assert prog.twice(1 << 70) == float(1 << 71)


@pytest.mark.parametrize("backend", ["interp", "cpu"])
def test_a_read_only_array_is_copied_not_written(backend):
    # interp: numpy's "assignment destination is read-only"; cpu: Numba's "No matching definition
    # for argument type(s) readonly array(...)", even for a function that only reads it
    p = glia.compile(TENSORS, backend=backend)
    a = np.zeros(3)
    a.flags.writeable = False
    assert p.total(a) == 0.0
    assert p.setfirst(a).tolist() == [7.0, 0.0, 0.0]
    assert a.tolist() == [0.0, 0.0, 0.0]
    b = np.zeros(3)  # a writable C-contiguous array of the dtype is still handed over as it is
    assert np.shares_memory(p.setfirst(b), b) and b[0] == 7.0


# ---- parameters from arrays and files ----------------------------------------------------------

MODEL = """
def net(x: f32[4]) -> f32[3]:
    return softmax(dense(x, 3))
"""


@pytest.fixture(scope="module")
def model():
    return glia.compile(MODEL)


@pytest.mark.parametrize("value, dtype", [
    (np.array(["a"] * 3), "<U1"),   # was numpy's ValueError: could not convert string to float
    (np.ones(3) * 1j, "complex128"),  # was a ComplexWarning and the real parts
    ([None] * 3, "object"),          # was silently NaN
    (np.ones(3, dtype=bool), "bool"),
])
def test_a_parameter_is_set_from_numbers_only(model, value, dtype):
    before = model.params["net.dense#1.b"].copy()
    with pytest.raises(GliaError) as info:
        model.params["net.dense#1.b"] = value
    assert info.value.diagnostic.code == "E703"
    assert f"holds {dtype} values" in info.value.diagnostic.message
    assert np.array_equal(model.params["net.dense#1.b"], before)


def test_a_parameter_set_from_what_numpy_cannot_read_is_e703(model):
    class RequiresGrad:  # a torch tensor with requires_grad=True
        def __array__(self, dtype=None, copy=None):
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
    with pytest.raises(GliaError) as info:
        model.params["net.dense#1.b"] = RequiresGrad()
    assert info.value.diagnostic.code == "E703" and "tensor.detach()" in info.value.diagnostic.message
    model.params["net.dense#1.b"] = np.arange(3)  # integers and other float dtypes are numbers
    assert model.params["net.dense#1.b"].tolist() == [0.0, 1.0, 2.0]


def test_an_unknown_parameter_name_is_a_key_error_naming_the_parameters(model):
    """`prog.params["nope"]` was a bare KeyError('nope') and `prog.params["nope"] = a` a GliaTypeError: both
    are now a glia.GliaKeyError (a KeyError, as a Python mapping gives) naming the parameters there are."""
    for attempt in (lambda: model.params["nope"], lambda: model.params.__setitem__("nope", np.ones(3))):
        with pytest.raises(KeyError) as info:
            attempt()
        assert isinstance(info.value, glia.GliaKeyError) and info.value.diagnostic.code == "E703"
        assert info.value.diagnostic.message == ("no parameter named 'nope'; the parameters are net.dense#1.W, "
                                                 "net.dense#1.b")
        assert info.value.diagnostic.source.name == __file__
    assert "nope" not in model.params and model.params.get("nope") is None
    with pytest.raises(KeyError, match="none"):
        glia.compile("def g() -> int:\n    return 1\n").params["W"]


def test_a_parameter_file_of_strings_or_complex_numbers_is_refused(model, tmp_path):
    good = {k: np.array(v) for k, v in model.params.items()}
    for name, convert in (("text", lambda a: a.astype(str)), ("complex", lambda a: a + 1j)):
        path = tmp_path / f"{name}.npz"
        np.savez(path, **{k: convert(v) for k, v in good.items()})
        with pytest.raises(GliaError) as info:
            model.load_params(path)
        assert "net.dense#1.W" in info.value.diagnostic.message and "values; parameters are numbers" in \
            info.value.diagnostic.message
        assert all(np.array_equal(model.params[k], v) for k, v in good.items())


# ---- Program.train from Python -----------------------------------------------------------------

def _data(n=12):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 4)).astype(np.float32), rng.integers(0, 3, n)


def e703(fn, *args, **kwargs) -> str:
    with pytest.raises(GliaError) as info:
        fn(*args, **kwargs)
    assert info.value.diagnostic.code == "E703", info.value.render()
    return info.value.diagnostic.message


@pytest.mark.parametrize("settings, said", [
    ({"optimizer": "sgd", "momentum": 5}, "sgd(momentum=...) must be in [0, 1), found 5"),  # trained
    ({"optimizer": "sgd", "momentum": "x"}, "must be a finite number, found 'x'"),  # ValueError traceback
    ({"momentum": 0.9}, "adam() has no setting 'momentum'"),
    ({"engine": "gpu"}, "engine is 'auto', 'compiled' or 'tape', found 'gpu'"),  # trained on the tape
    ({"progress": "no"}, "progress is True or False"),
])
def test_train_settings_from_python_are_checked_as_in_a_block(settings, said):
    p = glia.compile(MODEL)
    X, y = _data()
    assert said in e703(p.train, "net", X, y, epochs=1, **settings)


def test_an_unknown_training_keyword_is_e103_as_in_a_block():
    # it was E703 'bad value for epoch: unknown setting', as if the value were wrong
    p = glia.compile(MODEL)
    X, y = _data()
    with pytest.raises(glia.GliaError) as info:
        p.train("net", X, y, epoch=3)
    d = info.value.diagnostic
    assert d.code == "E103" and "there is no training setting 'epoch'" in d.message and "epochs" in d.message


def test_an_optimizer_setting_given_before_the_optimizer_is_kept():
    # momentum=0.9, optimizer="sgd": the optimizer setting replaced the settings given before it
    X, y = _data()
    runs = []
    for order in (("momentum", "optimizer"), ("optimizer", "momentum")):
        p = glia.compile(MODEL)
        kw = dict(momentum=0.9, optimizer="sgd") if order[0] == "momentum" else dict(optimizer="sgd", momentum=0.9)
        runs.append(p.train("net", X, y, epochs=3, batch=4, lr=0.5, engine="tape", **kw)["loss"])
    plain = glia.compile(MODEL).train("net", X, y, epochs=3, batch=4, lr=0.5, engine="tape", optimizer="sgd")["loss"]
    assert runs[0] == runs[1] != plain


def test_train_data_given_by_halves_or_twice_is_e703():
    p = glia.compile(MODEL)
    X, y = _data()
    assert "as both x and y" in e703(p.train, "net", X, epochs=1)  # was len() of unsized object
    assert "as both x and y" in e703(p.train, "net", y=y, epochs=1)
    assert "not both" in e703(p.train, "net", X, y, data="elsewhere.npz", epochs=1)  # data= was ignored


@pytest.mark.parametrize("labels, said", [
    (lambda y: y.astype(str), "class labels must be integers, found dtype <U"),  # numpy's rint TypeError
    (lambda y: np.where(y == 0, np.inf, y).astype(float), "class labels must be integers"),  # OverflowError
    (lambda y: 1, "the targets must be an array with one row per example"),  # len() of unsized object
    # a float array's whole numbers are labels, so 'found dtype float64' did not say what was wrong
    (lambda y: np.where(np.arange(len(y)) == 5, 1.5, y), "(whole numbers in a float64 array are taken); example 5's is 1.5"),
    (lambda y: np.where(np.arange(len(y)) == 2, np.nan, y), "example 2's is nan"),
])
def test_train_labels_that_are_not_integers_are_e703(labels, said):
    p = glia.compile(MODEL)
    X, y = _data()
    assert said in e703(p.train, "net", X, labels(y), epochs=1)


def test_train_settings_may_be_numpy_integers():
    """`epochs=np.int64(2)` (a sweep over np.arange) was 'epochs must be a positive integer, found
    np.int64(2)'; NumPy floats were taken already. A bool is still not an integer."""
    X, y = _data()
    hist = glia.compile(MODEL).train("net", X, y, epochs=np.int64(2), batch=np.int32(4), seed=np.uint8(1),
                                     early_stopping=np.int16(0), schedule="step(every=1)")
    assert len(hist["loss"]) == 2
    assert "epochs must be a positive integer, found True" in e703(glia.compile(MODEL).train, "net", X, y, epochs=True)


def test_a_checkpoint_that_cannot_be_written_is_e703_before_training(tmp_path):
    """It was E509 at the first checkpoint, after an epoch of training; docs/training.md says E703
    before training starts, as `glia train` does."""
    p = glia.compile(MODEL)
    X, y = _data()
    before = {k: np.array(p.params[k]) for k in p.params}
    assert "checkpoint: cannot write" in e703(p.train, "net", X, y, epochs=1, checkpoint=str(tmp_path))
    assert all(np.array_equal(before[k], p.params[k]) for k in before)  # (no epoch ran)


def test_train_ragged_inputs_are_e703():
    p = glia.compile(MODEL)
    assert "not a rectangular array" in e703(p.train, "net", [[1.0] * 4, [1.0] * 3], [0, 1], epochs=1)


# ---- empty tensors (a named dimension bound to 0 by the caller) --------------------------------

REDUCTIONS = """
def mx(a: f64[n]) -> float:
    return max(a)

def am(a: f64[n]) -> int:
    return argmax(a)

def me(a: f64[n]) -> float:
    return mean(a)

def rows(a: f64[n, m]) -> f64[n]:
    return sum(a, axis=1)

def row_means(a: f64[n, m]) -> f64[n]:
    return mean(a, axis=1)

def row_max(a: f64[n, m]) -> f64[n]:
    return max(a, axis=1)

def sm(a: f64[n]) -> f64[n]:
    return softmax(a)
"""


def _outcome(p, name, arg):
    try:
        return "ok", repr(p.call(name, arg))
    except GliaError as e:
        return e.diagnostic.code, e.diagnostic.message


def test_reductions_of_empty_tensors_agree_on_both_backends():
    # interp: numpy's "attempt to get argmax of an empty sequence" / "zero-size array to reduction
    # operation maximum" and a RuntimeWarning; cpu: uninitialised memory for max, min and sums along
    # an empty axis (6.9e-310), inf for their means, ZeroDivisionError for mean and softmax
    progs = [glia.compile(REDUCTIONS, backend=b) for b in ("interp", "cpu")]
    cases = [("mx", np.zeros(0)), ("am", np.zeros(0)), ("me", np.zeros(0)), ("rows", np.ones((3, 0))),
             ("row_means", np.ones((2, 0))), ("row_max", np.ones((2, 0))), ("row_max", np.ones((0, 2))),
             ("sm", np.zeros(0))]
    expected = [("E506", "max() of an empty tensor"), ("E506", "argmax() of an empty tensor"), ("ok", "nan"),
                ("ok", "array([0., 0., 0.])"), ("ok", "array([nan, nan])"),
                ("E506", "max(..., axis=1) over a dimension of length 0"), ("ok", "array([], dtype=float64)"),
                ("ok", "array([], dtype=float64)")]
    for (name, arg), want in zip(cases, expected):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            assert [_outcome(p, name, arg) for p in progs] == [want, want], name
        assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], name


def test_a_string_argument_holding_a_lone_surrogate_is_refused_at_the_call():
    """'\\ud800' is E004 in Glia source; passed at run time it reached print as Python's
    UnicodeEncodeError. It is refused where it crosses into Glia, in a list or dict too."""
    @glia.fn
    def shout(s: str) -> str:
        print(s)
        return s + "!"

    @glia.fn
    def count(d: dict[str, int]) -> int:
        return len(d)

    assert shout("é ok") == "é ok!"
    with pytest.raises(GliaError) as e:
        shout("a\ud800b")
    d = e.value.diagnostic
    assert d.code == "E201" and "it holds '\\ud800' at index 1, half of a UTF-16 pair, not a character" in d.message
    with pytest.raises(GliaError) as e:
        count({"x": 1, "\udfff": 2})
    assert "'\\udfff' at index 0" in e.value.diagnostic.message
