"""Successive halving (the inner loop of Hyperband) over opaque trials.

    plan(n, max_budget, eta) -> [(configurations, budget) per rung]
    successive_halving(n, run, max_budget=R, eta=3, deadline=...) -> Halving

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
    kept: bool = False  # promoted to the next rung (or, on the last rung, the winner)
    cut_short: bool = False


@dataclass(slots=True)
class Halving:
    best: int | None  # the winning configuration; None when no trial finished
    trials: list[Trial]
    rungs: list[tuple[int, int]]  # the plan: (configurations, budget) per rung
    stopped: str = ""  # "" when every rung ran; "time" when the deadline stopped it
    seconds: float = 0.0


def _floor_log(n: float, eta: int) -> int:
    k = 0
    while eta ** (k + 1) <= n:
        k += 1
    return k


def plan(n: int, max_budget: int, eta: int = 3, min_budget: int = 1) -> list[tuple[int, int]]:
    """The rungs for `n` configurations: as many halvings as both the configurations (at least one
    left) and the budget (at least `min_budget` on the first rung) allow."""
    if n < 1 or max_budget < 1 or eta < 2:
        raise ValueError("successive halving needs n >= 1, max_budget >= 1 and eta >= 2")
    s = min(_floor_log(n, eta), _floor_log(max_budget / max(1, min_budget), eta))
    return [(max(1, n // eta ** i), max(min_budget, round(max_budget / eta ** (s - i)))) for i in range(s + 1)]


def successive_halving(n: int, run: Callable[[int, int], Outcome], *, max_budget: int, eta: int = 3,
                       min_budget: int = 1, deadline: float | None = None,
                       on_trial: Callable[[Trial], None] | None = None, clock=time.perf_counter) -> Halving:
    """Run the rungs of `plan(n, ...)`; stop cleanly at `deadline` (a `clock()` time) with the best
    configuration of the highest rung that has a finished trial."""
    t0 = clock()
    rungs = plan(n, max_budget, eta, min_budget)
    trials: list[Trial] = []
    alive = list(range(n))
    stopped = ""
    best = None
    for r, (_, budget) in enumerate(rungs):
        done: list[Trial] = []
        for config in alive:
            if deadline is not None and clock() >= deadline:
                stopped = "time"
                break
            start = clock()
            out = run(config, budget)
            t = Trial(config, r, budget, float(out.score), clock() - start, dict(out.info), cut_short=out.cut_short)
            trials.append(t)
            if not out.cut_short:
                done.append(t)
            if on_trial is not None:
                on_trial(t)
            if out.cut_short:
                stopped = "time"
                break
        ranked = sorted(done, key=lambda t: (_key(t.score), alive.index(t.config)))
        if ranked and not math.isinf(ranked[0].score):
            best = ranked[0].config
        if stopped:
            if ranked:
                ranked[0].kept = True
            break
        keep = rungs[r + 1][0] if r + 1 < len(rungs) else 1
        for t in ranked[:keep]:
            t.kept = True
        alive = [t.config for t in ranked[:keep] if not math.isinf(t.score)]
        if not alive:
            break
    return Halving(best, trials, rungs, stopped, clock() - t0)


def _key(score: float) -> float:
    return math.inf if math.isnan(score) else score
