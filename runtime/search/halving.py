"""Successive halving and Hyperband over opaque trials.

    plan(n, max_budget, eta) -> [(configurations, budget) per rung]
    successive_halving(n, run, max_budget=R, eta=3, deadline=...) -> Halving
    hyperband_plan(n, max_budget, eta) -> [rungs per bracket]
    hyperband(n, run, max_budget=R, eta=3, deadline=...) -> Halving

`n` configurations start at a small budget (epochs, say); after each rung the best 1/eta by score
(lower is better) go on to a budget eta times larger, until the last rung runs at `max_budget`; the
best there wins. A trial is `run(config, budget) -> Outcome`: the scheduler knows nothing of what a
configuration or a budget means (compiler/choose_train.py trains a program inside each trial).
Each trial runs from scratch at its rung's budget, so a trial's score is exactly "this configuration
trained for this budget", reproducible on its own. Ties go to the configuration listed first, so the
result is deterministic whenever the trials are.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from typing import Callable


@dataclass(slots=True)
class Outcome:
    """What one trial reports: its score (lower is better; inf for a failed trial), anything else
    worth showing (metrics, an error message), and whether the deadline cut it short."""

    score: float
    info: dict = field(default_factory=dict)
    cut_short: bool = False


@dataclass(slots=True)
class Trial:
    config: int
    rung: int
    budget: int
    score: float
    seconds: float
    info: dict
    kept: bool = False  # promoted to the next rung (or, on the last rung, the winner of its bracket)
    cut_short: bool = False
    bracket: int = 0  # which Hyperband bracket ran it (0 for plain successive halving)
    reused: bool = False  # the same configuration at the same budget ran in an earlier bracket: its outcome


@dataclass(slots=True)
class Halving:
    best: int | None  # the winning configuration; None when no trial finished
    trials: list[Trial]
    rungs: list[tuple[int, int]]  # the plan of the first bracket: (configurations, budget) per rung
    stopped: str = ""  # "" when every rung ran; "time" when the deadline stopped it
    seconds: float = 0.0
    brackets: list[list[tuple[int, int]]] = field(default_factory=list)  # every bracket's rungs


def _floor_log(n: float, eta: int) -> int:
    k = 0
    while eta ** (k + 1) <= n:
        k += 1
    return k


def _check(n: int, max_budget: int, eta: int) -> None:
    if n < 1 or max_budget < 1 or eta < 2:
        raise ValueError("successive halving needs n >= 1, max_budget >= 1 and eta >= 2")


def _rungs(n: int, s: int, max_budget: int, eta: int, min_budget: int) -> list[tuple[int, int]]:
    """`s` halvings of `n` configurations ending at `max_budget`."""
    return [(max(1, n // eta ** i), max(min_budget, round(max_budget / eta ** (s - i)))) for i in range(s + 1)]


def plan(n: int, max_budget: int, eta: int = 3, min_budget: int = 1) -> list[tuple[int, int]]:
    """The rungs for `n` configurations: as many halvings as both the configurations (at least one
    left) and the budget (at least `min_budget` on the first rung) allow."""
    _check(n, max_budget, eta)
    return _rungs(n, min(_floor_log(n, eta), _floor_log(max_budget / max(1, min_budget), eta)), max_budget, eta,
                  min_budget)


def hyperband_plan(n: int, max_budget: int, eta: int = 3, min_budget: int = 1) -> list[list[tuple[int, int]]]:
    """Hyperband's brackets (Li et al., 2018) for a pool of `n` configurations, most aggressive first.
    The first bracket is `plan(n, ...)`: all `n` with s halvings; bracket s' < s starts
    ceil(c (s + 1) / (s' + 1) eta^s') of them (at most `n`; c = n / eta^s) at `max_budget / eta^s'` and
    halves them s' times, so every bracket spends about the same budget, and the last trains a few
    configurations fully: a hedge against the rankings of small budgets misleading the first bracket."""
    first = plan(n, max_budget, eta, min_budget)
    s = len(first) - 1
    brackets = [first]
    for s_ in range(s - 1, -1, -1):
        n_s = min(n, math.ceil(n / eta ** s * (s + 1) / (s_ + 1) * eta ** s_))
        brackets.append(_rungs(n_s, min(s_, _floor_log(n_s, eta)), max_budget, eta, min_budget))
    return brackets


def successive_halving(n: int, run: Callable[[int, int], Outcome], *, max_budget: int, eta: int = 3,
                       min_budget: int = 1, deadline: float | None = None,
                       on_trial: Callable[[Trial], None] | None = None, clock=time.perf_counter) -> Halving:
    """Run the rungs of `plan(n, ...)`; stop cleanly at `deadline` (a `clock()` time) with the best
    configuration of the highest rung that has a finished trial."""
    t0 = clock()
    rungs = plan(n, max_budget, eta, min_budget)
    run_ = _Runner(run, deadline, on_trial, clock)
    best = run_.bracket(0, list(range(n)), rungs)
    return Halving(best[1] if best else None, run_.trials, rungs, run_.stopped, clock() - t0, [rungs])


def hyperband(n: int, run: Callable[[int, int], Outcome], *, max_budget: int, eta: int = 3, min_budget: int = 1,
              seed: int = 0, deadline: float | None = None, on_trial: Callable[[Trial], None] | None = None,
              clock=time.perf_counter) -> Halving:
    """Hyperband: the brackets of `hyperband_plan`, each a successive halving. The first runs every
    configuration 0..n-1; each later one draws its configurations from a permutation of them
    (seeded), in turn. A configuration already run at a budget is not trained again (its outcome
    is reused, marked `reused`). The winner has the best score at the largest budget any trial
    finished, ties to the earlier bracket; the deadline stops the whole search cleanly."""
    t0 = clock()
    brackets = hyperband_plan(n, max_budget, eta, min_budget)
    draws = list(range(n))
    random.Random(seed).shuffle(draws)
    run_ = _Runner(run, deadline, on_trial, clock)
    best, offset = None, 0
    for b, rungs in enumerate(brackets):
        if b == 0:
            alive = list(range(n))
        else:
            alive = [draws[(offset + i) % n] for i in range(rungs[0][0])]
            offset += rungs[0][0]
        top = run_.bracket(b, alive, rungs)
        if top is not None and (best is None or (-top[0][0], top[0][1]) < (-best[0][0], best[0][1])):
            best = top
        if run_.stopped:
            break
    return Halving(best[1] if best else None, run_.trials, brackets[0], run_.stopped, clock() - t0, brackets)


class _Runner:
    """Runs brackets of successive halving, recording every trial; shared by both schedulers."""

    def __init__(self, run, deadline, on_trial, clock):
        self.run, self.deadline, self.on_trial, self.clock = run, deadline, on_trial, clock
        self.trials: list[Trial] = []
        self.stopped = ""
        self.done: dict[tuple[int, int], Trial] = {}  # (configuration, budget) -> its finished trial

    def trial(self, b: int, r: int, config: int, budget: int) -> Trial:
        old = self.done.get((config, budget))
        if old is not None:
            t = Trial(config, r, budget, old.score, 0.0, dict(old.info), bracket=b, reused=True)
        else:
            start = self.clock()
            out = self.run(config, budget)
            t = Trial(config, r, budget, float(out.score), self.clock() - start, dict(out.info),
                      cut_short=out.cut_short, bracket=b)
            if not out.cut_short:
                self.done[(config, budget)] = t
        self.trials.append(t)
        if self.on_trial is not None:
            self.on_trial(t)
        return t

    def bracket(self, b: int, alive: list[int], rungs: list[tuple[int, int]]):
        """Successive halving of `alive` over `rungs`; returns ((budget, score), configuration) of the
        bracket's best on the highest rung with a finished, finite trial, or None."""
        order = list(alive)
        best = None
        for r, (_, budget) in enumerate(rungs):
            done: list[Trial] = []
            for config in alive:
                if self.deadline is not None and self.clock() >= self.deadline:
                    self.stopped = "time"
                    break
                t = self.trial(b, r, config, budget)
                if t.cut_short:
                    self.stopped = "time"
                    break
                done.append(t)
            ranked = sorted(done, key=lambda t: (_key(t.score), order.index(t.config)))
            if ranked and not math.isinf(ranked[0].score):
                best = ((budget, _key(ranked[0].score)), ranked[0].config)
            if self.stopped:
                if ranked:
                    ranked[0].kept = True
                break
            keep = rungs[r + 1][0] if r + 1 < len(rungs) else 1
            for t in ranked[:keep]:
                t.kept = True
            alive = [t.config for t in ranked[:keep] if not math.isinf(t.score)]
            if not alive:
                break
        return best


def _key(score: float) -> float:
    return math.inf if math.isnan(score) else score
