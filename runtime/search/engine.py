"""The entry point of search: check a problem, pick a strategy, run it within its bounds."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from . import bottomup, clock, gp, regression, topdown
from .problem import Config, Problem, Result, SearchError
from .regression import values_match
from .terms import decisions, evaluate

STRATEGIES = ("auto", "bottom-up", "top-down", "gp", "portfolio")


def check_problem(problem: Problem) -> None:
    """Refuse problems no search can solve: no examples, contradictory examples (the message does not
    name the problem: where it is reported says which, `hole in f: ...`)."""
    if not problem.inputs:
        raise SearchError("E602", "no examples to search against")
    for i, out in enumerate(problem.outputs):
        if isinstance(out, float) and out != out:  # (a 10 s search for nothing, then "time limit ran out")
            raise SearchError("E602", f"example {i + 1}'s result is NaN, which no result matches (NaN equals "
                                      "nothing, itself included): no function satisfies it")
    seen: dict = {}
    for i, (args, out) in enumerate(zip(problem.inputs, problem.outputs)):
        key = _hashable(args)
        if key in seen and seen[key][1] != out:
            j = seen[key][0]
            raise SearchError("E602", f"examples {j + 1} and {i + 1} have the same inputs but "
                                      f"different results ({seen[key][1]!r} and {out!r}): no function satisfies both")
        seen.setdefault(key, (i, out))


def _widening(problem: Problem, config: Config, t0: float):
    """Half the time on the problem's grammar, the rest on its wider one."""
    first = bottomup.solve(problem, replace(config, timeout=config.timeout / 2))
    if first.solved or first.reason == "memory":
        return first
    rest = max(0.1, config.timeout - (clock.now() - t0))
    second = bottomup.solve(replace(problem, grammar=problem.wider, wider=None), replace(config, timeout=rest))
    second.candidates += first.candidates
    return second


def _hashable(v):
    """A key equal for equal example values: lists and tuples by their items, dicts and sets by their
    contents, arrays by their bytes; any other unhashable value only equals itself (never a false
    contradiction)."""
    if isinstance(v, (list, tuple)):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return ("dict", frozenset((_hashable(k), _hashable(x)) for k, x in v.items()))
    if isinstance(v, (set, frozenset)):
        return ("set", frozenset(_hashable(x) for x in v))
    if isinstance(v, np.ndarray):
        return ("array", v.dtype.str, v.shape, v.tobytes())
    try:
        hash(v)
    except TypeError:
        return ("value", id(v))
    return v


def synthesize(problem: Problem, config: Config) -> Result:
    check_problem(problem)
    strategy = config.strategy
    if strategy not in STRATEGIES:
        raise SearchError("E604", f"unknown strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")
    t0 = clock.now()
    if problem.ret == "float":  # every strategy: skeletons by size, constants by CMA-ES
        result = regression.solve(problem, config)
    elif strategy == "top-down" or (strategy == "auto" and topdown.applies(problem)):
        result = topdown.solve(problem, config)
    elif strategy in ("auto", "bottom-up") and problem.wider is not None:
        result = _widening(problem, config, t0)
    elif strategy in ("auto", "bottom-up"):
        result = bottomup.solve(problem, config)
    elif strategy == "gp":
        result = gp.solve(problem, config)
    else:  # portfolio: bottom-up for most of the budget, then genetic programming on what is left
        first = replace(config, strategy="bottom-up", timeout=config.timeout * 0.7)
        result = bottomup.solve(problem, first)
        if not result.solved:
            rest = max(0.1, config.timeout - (clock.now() - t0))
            second = gp.solve(problem, replace(config, strategy="gp", timeout=rest))
            second.candidates += result.candidates
            result = second
        result.strategy = "portfolio/" + result.strategy
    result.seconds = clock.now() - t0
    if result.solved:
        if not satisfies(result.term, problem.inputs, problem.outputs):  # belt and braces: re-evaluate
            raise AssertionError(f"search returned a program that fails its examples: {problem.name}")
        result.decisions = decisions(result.term)
    return result


def satisfies(term, inputs, outputs) -> bool:
    for args, out in zip(inputs, outputs):
        try:
            if not values_match(evaluate(term, tuple(args)), out):
                return False
        except Exception:  # noqa: BLE001 - an undefined result is a failure on that example
            return False
    return True
