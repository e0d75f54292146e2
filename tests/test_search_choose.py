"""Choices settled by training: successive halving (runtime/search/halving.py) with the weights trained
inside every trial (compiler/choose_train.py), from Python and from `glia synth`.

The learning problems are tiny and lopsided on purpose (a disk in the plane, which no linear model and
no single hidden unit can carve out), so the better option wins by a wide margin whatever the seed.
"""
import json
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import glia
from glia import GliaError
from glia.runtime.search.halving import Outcome, hyperband, hyperband_plan, plan, successive_halving


def run_glia(*args):
    return subprocess.run([sys.executable, "-m", "glia", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def ring(tmp_path):
    """A folder holding ring.npz: 240 points in [-1, 1]^2, class 1 inside the circle of radius 0.7."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (240, 2)).astype(np.float32)
    y = (np.hypot(x[:, 0], x[:, 1]) < 0.7).astype(np.int64)
    np.savez(tmp_path / "ring.npz", x=x, y=y)
    return tmp_path


def ring_program(folder, model: str, settings: str = "optimizer = adam(lr=0.05)\n    epochs = 30"):
    text = textwrap.dedent("""
        def f(p: f32[2]) -> f32[2]:
        {model}

        train f on "ring.npz":
            {settings}
            validation = 0.25
    """).format(model=textwrap.indent(textwrap.dedent(model).strip(), "    "), settings=settings)
    path = folder / "ring.glia"
    path.write_text(text, encoding="utf-8")
    return path


# ---- the scheduler -------------------------------------------------------------------------------

def test_plan_has_one_rung_per_halving():
    assert plan(6, 20) == [(6, 7), (2, 20)]
    assert plan(27, 20) == [(27, 2), (9, 7), (3, 20)]
    assert plan(81, 81) == [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)]
    assert plan(2, 20) == [(2, 20)]  # fewer configurations than eta: train each fully
    assert plan(9, 1) == [(9, 1)]  # no budget to halve
    assert plan(16, 16, eta=2) == [(16, 1), (8, 2), (4, 4), (2, 8), (1, 16)]
    with pytest.raises(ValueError):
        plan(4, 10, eta=1)


def test_halving_keeps_the_best_third_and_ties_go_first():
    quality = [5.0, 1.0, 3.0, 1.0, 4.0, 2.0, 6.0, 7.0, 8.0]
    calls = []

    def run(config, budget):
        calls.append((config, budget))
        return Outcome(quality[config] + 1.0 / budget, {"q": quality[config]})

    h = successive_halving(9, run, max_budget=9)
    assert h.rungs == [(9, 1), (3, 3), (1, 9)]
    assert [b for _, b in calls] == [1] * 9 + [3] * 3 + [9]
    assert [c for c, b in calls if b == 3] == [1, 3, 5]  # the best third, best first
    assert h.best == 1 and h.stopped == ""  # 1 and 3 tie: the one listed first wins
    assert [(t.rung, t.config) for t in h.trials if t.kept] == [(0, 1), (0, 3), (0, 5), (1, 1), (2, 1)]


def test_failed_trials_are_never_promoted():
    h = successive_halving(3, lambda c, b: Outcome(math.inf if c != 2 else 1.0, {}), max_budget=3)
    assert h.best == 2
    h = successive_halving(3, lambda c, b: Outcome(math.inf, {"error": "nan"}), max_budget=3)
    assert h.best is None


def test_the_deadline_stops_cleanly_with_the_best_so_far():
    now = [0.0]

    def clock():
        return now[0]

    def run(config, budget):
        now[0] += 1.0  # every trial takes a second of this clock
        return Outcome(float(config), {})

    h = successive_halving(9, run, max_budget=9, deadline=10.5, clock=clock)
    assert h.stopped == "time" and h.best == 0
    assert [t.rung for t in h.trials] == [0] * 9 + [1, 1]  # stopped early in the second rung
    # a trial the deadline cut short is recorded but never ranked
    h = successive_halving(3, lambda c, b: Outcome(0.0 if c == 1 else 1.0, {}, cut_short=(c == 1)), max_budget=1)
    assert h.stopped == "time" and h.best == 0 and h.trials[1].cut_short


def test_hyperband_brackets_go_from_aggressive_to_full_training():
    assert hyperband_plan(27, 20) == [[(27, 2), (9, 7), (3, 20)], [(14, 7), (4, 20)], [(9, 20)]]
    assert hyperband_plan(81, 81)[0] == plan(81, 81) and hyperband_plan(81, 81)[-1] == [(5, 81)]
    assert len(hyperband_plan(81, 81)) == 5
    assert hyperband_plan(9, 1) == [[(9, 1)]]  # no budget to halve: one bracket, everything trained fully
    assert hyperband_plan(2, 20) == [[(2, 20)]]


def test_hyperband_finds_what_small_budgets_hide():
    """One configuration is the worst after 1 or 3 epochs and the best after 9 (a small learning rate,
    say): successive halving drops it on the first rung; Hyperband's last bracket trains a sample of
    configurations fully and finds it whenever the sample holds it."""
    last = {t.config for t in hyperband(9, lambda c, b: Outcome(0.0, {}), max_budget=9, seed=0).trials
            if t.bracket == 2}
    assert 0 < len(last) < 9  # a seeded sample: which configurations does not depend on the scores
    hidden = max(last)

    def score(config, budget):
        return (0.5 if budget < 9 else 0.05) if config == hidden else 0.3 - 0.01 * config / budget

    calls = []

    def run(config, budget):
        calls.append((config, budget))
        return Outcome(score(config, budget), {})

    assert successive_halving(9, run, max_budget=9).best != hidden
    calls.clear()
    h = hyperband(9, run, max_budget=9, seed=0)
    assert h.best == hidden and h.stopped == ""
    assert h.brackets == hyperband_plan(9, 9) and {t.bracket for t in h.trials} == {0, 1, 2}
    assert len(calls) == len(set(calls))  # a configuration is never trained twice at one budget
    reused = [t for t in h.trials if t.reused]
    assert all(t.seconds == 0.0 and (t.config, t.budget) in calls for t in reused)
    assert hyperband(9, run, max_budget=9, seed=0).best == hidden  # deterministic under the seed


def test_hyperband_stops_at_the_deadline_with_the_best_of_the_largest_budget():
    now = [0.0]

    def run(config, budget):
        now[0] += 1.0
        return Outcome(float(config) + 1.0 / budget, {})

    h = hyperband(9, run, max_budget=9, deadline=13.5, clock=lambda: now[0])
    assert h.stopped == "time" and h.best == 0  # the first bracket finished: its winner at 9 epochs
    assert max(t.bracket for t in h.trials) == 1


# ---- the checker: choices where AutoML needs them -----------------------------------------------

def test_choices_of_width_activation_and_setting_check_and_run_with_their_first_option(ring):
    path = ring_program(ring, """
        h = choose(relu, tanh)(dense(p, choose(3, 8)))
        return softmax(dense(h, 2))
    """, "optimizer = adam(lr=choose(0.05, 0.01))\n    batch = choose(16, 32)\n    epochs = 2")
    prog = glia.load(str(path))
    assert len(prog.ir.choices) == 4
    assert prog.params["f.dense#1.W"].shape == (2, 3)  # until settled, the first option holds
    hist = prog.train()
    assert len(hist["loss"]) == 2


# ---- settling by training -------------------------------------------------------------------------

def test_relu_beats_identity_on_a_non_linear_task(ring):
    path = ring_program(ring, """
        h = dense(p, 16)
        return softmax(dense(choose(h, relu(h)), 2))
    """)
    for seed in (0, 1):
        done = glia.load(str(path)).synthesize(seed=seed, cache=False)
        assert "dense(relu(h), 2)" in done.source.text and "choose" not in done.source.text
        by_label = {t["label"]: t for t in done.search["trials"]}
        assert by_label["relu(h)"]["val_acc"] > by_label["h"]["val_acc"] + 0.2


def test_hyperband_from_python_keeps_the_winners_weights(ring):
    path = ring_program(ring, """
        h = choose(relu, tanh)(dense(p, choose(1, 32)))
        return softmax(dense(h, 2))
    """, "optimizer = adam(lr=0.05)\n    epochs = 9")
    done = glia.load(str(path)).synthesize(cache=False, scheduler="hyperband")
    assert "relu(dense(p, 32))" in done.source.text
    assert done.search["scheduler"] == "hyperband" and len(done.search["brackets"]) == 2
    assert done.params["f.dense#1.W"].shape == (2, 32)  # (in, out): the width 32 won
    with pytest.raises(GliaError, match="E604.*scheduler"):
        glia.load(str(path)).synthesize(cache=False, scheduler="bogus")


def test_settling_is_deterministic_under_a_seed_and_samples_with_it(ring):
    path = ring_program(ring, """
        h = choose(relu, tanh, sigmoid)(dense(p, choose(2, 8)))
        return softmax(dense(h, 2))
    """, "optimizer = adam(lr=0.05)\n    epochs = 9")

    def record(seed):
        r = dict(glia.load(str(path)).synthesize(seed=seed, trials=3, cache=False).search)
        for t in r["trials"]:
            t.pop("seconds")
        r.pop("seconds")
        return r

    a, b = record(7), record(7)
    assert a == b
    assert len(a["configs"]) == 3 and a["rungs"] == [{"configurations": 3, "epochs": 3}, {"configurations": 1, "epochs": 9}]
    assert [len(c) for c in a["configs"]] == [2, 2, 2]


def test_python_call_names_the_training_and_gives_arrays():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (200, 2)).astype(np.float32)
    y = (np.hypot(x[:, 0], x[:, 1]) < 0.7).astype(np.int64)
    prog = glia.compile("def f(p: f32[2]) -> f32[2]:\n    return softmax(dense(relu(dense(p, choose(1, 32))), 2))\n")
    done = prog.synthesize(train="f", x=x, y=y, max_epochs=30, cache=False)
    assert "dense(p, 32)" in done.source.text
    # the result carries the winner's weights, trained in its last trial: the same as training the
    # completed program with the trial's settings
    again = glia.compile(done.source.text)
    again.train("f", x, y, epochs=30, validation=0.2)
    assert np.allclose(done.params["f.dense#1.W"], again.params["f.dense#1.W"])
    assert done.params["f.dense#1.W"].shape == (2, 32)
    assert done.search["validation"] == 0.2  # nothing held out by a train block: a fifth for scoring


def test_choices_in_functions_with_examples_are_settled_by_the_examples(ring):
    path = ring_program(ring, """
        return softmax(dense(relu(dense(p, choose(1, 32))), 2))
    """)
    path.write_text(path.read_text() + textwrap.dedent("""
        def scale(x: int) -> int:
            return x * choose(2, 3)

        examples scale:
            2 -> 6
    """), encoding="utf-8")
    done = glia.load(str(path)).synthesize(cache=False)
    assert "return x * 3" in done.source.text and "dense(p, 32)" in done.source.text
    assert [c["options"] for c in done.search["choices"]] == [["1", "32"]]


# ---- the command line -----------------------------------------------------------------------------

def test_cli_settles_a_width_prints_the_table_writes_and_caches(ring):
    path = ring_program(ring, """
        h = relu(dense(p, choose(1, 32)))
        return softmax(dense(h, 2))
    """)
    r = run_glia("synth", path)
    assert r.returncode == 0, r.stderr
    assert "h = relu(dense(p, 32))" in r.stdout and "train f on" not in r.stdout
    assert "successive halving over 2 of 2 configurations" in r.stderr
    assert "rung 1: 2 configurations x 30 epochs" in r.stderr and "<- best" in r.stderr
    assert f"{path}:3:23: choice settled: 32 (option 2 of 2)" in r.stderr
    r = run_glia("synth", path, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["search"]["cached"] is True and out["search"]["chosen"] == [1]
    assert {t["label"] for t in out["search"]["trials"]} == {"1", "32"}
    assert out["choices"] == [{"line": 3, "option": 1, "value": "32", "reached": True}]
    r = run_glia("synth", path, "--write", "--out", ring / "best.npz")
    assert r.returncode == 0 and "cached" in r.stderr and "saved the winner's" in r.stderr
    assert "choose" not in path.read_text() and "dense(p, 32)" in path.read_text()
    r = run_glia("eval", path, "--params", ring / "best.npz")  # the winner's weights fit the program written
    assert r.returncode == 0 and "accuracy" in r.stdout, r.stderr


def test_cli_hyperband_prints_its_brackets(ring):
    path = ring_program(ring, """
        h = relu(dense(p, choose(1, 2, 16, 32)))
        return softmax(dense(h, 2))
    """, "optimizer = adam(lr=0.05)\n    epochs = 9")
    r = run_glia("synth", path, "--scheduler", "hyperband", "--eta", "2")
    assert r.returncode == 0, r.stderr
    assert "Hyperband (3 brackets of successive halving) over 4 of 4 configurations" in r.stderr
    assert "bracket 1 of 3:" in r.stderr and "bracket 3 of 3:" in r.stderr and "(seen)" in r.stderr
    r = run_glia("synth", path, "--scheduler", "hyperband", "--eta", "2", "--json")  # from the cache
    out = json.loads(r.stdout)["search"]
    assert out["cached"] is True
    assert out["scheduler"] == "hyperband" and len(out["brackets"]) == 3
    assert out["chosen"] in ([2], [3]) and {t["bracket"] for t in out["trials"]} == {1, 2, 3}
    r = run_glia("synth", path, "--scheduler", "bogus")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_cli_choice_in_the_train_block_prints_the_block(ring):
    path = ring_program(ring, "return softmax(dense(relu(dense(p, 16)), 2))",
                        "optimizer = adam(lr=choose(0.00001, 0.05))\n    epochs = 9")
    r = run_glia("synth", path, "--no-cache", "--max-epochs", "20")
    assert r.returncode == 0, r.stderr
    assert "optimizer = adam(lr=0.05)" in r.stdout and r.stdout.startswith("train f on")
    assert "x 20 epochs" in r.stderr


def test_cli_time_bound_and_bad_options(ring):
    path = ring_program(ring, "return softmax(dense(relu(dense(p, choose(1, 32))), 2))")
    r = run_glia("synth", path, "--timeout", "0.000001", "--no-cache")
    assert r.returncode == 1 and "E606" in r.stderr and "time limit" in r.stderr
    assert "Traceback" not in r.stderr
    r = run_glia("synth", path, "--eta", "1")
    assert r.returncode == 1 and "E604" in r.stderr and "--eta" in r.stderr


def test_choices_with_nothing_to_settle_them_against(tmp_path):
    path = tmp_path / "none.glia"
    path.write_text("def f(x: f32[2]) -> f32[2]:\n    return dense(x, 2) * choose(1.0, 2.0)\n", encoding="utf-8")
    r = run_glia("synth", path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert f"{path}:2:26: error[E602]" in r.stderr and "train" in r.stderr and "examples" in r.stderr


def test_every_configuration_failing_is_E609(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (40, 2)).astype(np.float32)
    np.savez(tmp_path / "reg.npz", x=x, y=x[:, :1] * 3)
    path = tmp_path / "nan.glia"
    path.write_text(textwrap.dedent("""
        def f(p: f32[2]) -> f32[1]:
            return dense(relu(dense(p, 4)), 1)

        train f on "reg.npz":
            loss = mse
            optimizer = sgd(lr=choose(1e30, 1e35))
            epochs = 3
    """), encoding="utf-8")
    with pytest.raises(GliaError) as info:
        glia.load(str(path)).synthesize(cache=False)
    d = info.value.diagnostic
    assert d.code == "E609" and d.span.line == 7 and "NaN" in d.message


def test_the_digits_example_picks_a_network_that_learns():
    from pathlib import Path

    example = Path(__file__).resolve().parent.parent / "examples" / "search" / "choose_digits.glia"
    r = run_glia("synth", example, "--json", "--no-cache")
    assert r.returncode == 0, r.stderr
    search = json.loads(r.stdout)["search"]
    best = [t for t in search["trials"] if t["rung"] == len(search["rungs"]) and t["kept"]]
    assert len(best) == 1 and best[0]["epochs"] == 18 and best[0]["val_acc"] > 0.95
    assert search["stopped"] == "" and len(search["configs"]) == 18


def test_an_option_keeps_its_precedence_and_nested_choices_are_replaced():
    prog = glia.compile("def f(a: int, b: int) -> int:\n"
                        "    return a * choose(a + b, choose(b, 2 * b), max(a, b)) + choose(1, -1)\n\n"
                        "examples f:\n    2, 3 -> 13\n    1, 1 -> 3\n", "nested.glia")
    done = prog.synthesize(cache=False)
    assert "return a * (2 * b) + 1" in done.source.text and done.f(2, 3) == 13


def test_a_static_size_choice_is_settled_against_examples_in_place():
    prog = glia.compile("def f(x: int) -> int:\n    v = zeros(choose(2, 3, 4))\n    return len(v) * x + choose(0, 1)\n\n"
                        "examples f:\n    1 -> 5\n    2 -> 9\n", "static.glia")
    done = prog.synthesize(cache=False)
    assert "v = zeros(4)" in done.source.text and done.f(3) == 13
