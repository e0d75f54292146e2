"""Holes of type float: expression skeletons enumerated by size, real constants fitted by CMA-ES.

Enumerating float literals is hopeless (`x * 1.8 + 32.0` has two of them), so a float hole is
searched the way symbolic regression does it: the grammar's float productions build *skeletons*
whose leaves are the inputs and constant slots (`FIT`), smallest first. A skeleton without slots is
checked against the examples directly (and its value vector deduplicates later skeletons:
observational equivalence); a skeleton with slots gets its constants from an evolution strategy,
CMA-ES (Hansen's (mu/mu_w, lambda) rules, the whole population evaluated in one vectorised pass),
polished by a few Levenberg-Marquardt steps, and then each constant is rounded to the fewest digits
that still fit (`1.8`, not `1.7999999996`). A program is accepted when every example is matched to
within `values_match` (a relative 1e-6), the tolerance the interpreter's check uses too.

A hole inside a larger expression (`return x * ?? + 1.0`) is searched the same way with a
*context*: a function from the hole's values on every example to the function's results there (it
runs the rest of the user's function, compiler/synth.py). Constants are then fitted to the
function's results through the context, and a skeleton fits when its results, not its own values,
match the examples.

Everything is seeded by the configuration; the bounds are the time limit and the candidate count.
"""
from __future__ import annotations

import math

import numpy as np

from glia.runtime import kernels as K

from . import clock
from .problem import Component, Config, Const, Problem, Result, Term, Var
from .terms import term_depth

FIT = "fit"  # the value of a constant slot's Const in a skeleton
MAX_SLOTS = 3
MAX_SIZE = 11
SIMPLER_FITS = 64  # skeletons with constants fitted, at most, for a smaller answer than one found without
REL_TOL, ABS_TOL = 1e-6, 1e-9


def values_match(got, want) -> bool:
    """Equality of an example's result: floats to within a relative 1e-6 (search fits constants
    numerically), everything else exactly."""
    if isinstance(want, float) and isinstance(got, (float, int)) and not isinstance(got, bool):
        return math.isclose(got, want, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return got == want


def slot() -> Const:
    return Const(FIT, "float")


def solve(problem: Problem, config: Config, context=None) -> Result:
    """A float program for the hole: its values match `problem.outputs`, or, with `context` (hole values
    of shape (population, examples) -> the function's results, same shape, NaN where it fails), its
    results through the context do."""
    return _Search(problem, config, context).run()


class Model:
    """How a skeleton is judged: the inputs' columns, the wanted results `y`, and the context that
    turns the hole's values into results (None: the hole's value is the result)."""

    def __init__(self, cols: dict, y: np.ndarray, context=None):
        self.cols, self.y, self.context = cols, y, context

    def predict(self, term: Term, consts: np.ndarray) -> np.ndarray:
        """Results for a population of constant vectors, shape (population, examples)."""
        return self.results(_evaluate(term, self.cols, consts))

    def results(self, values: np.ndarray) -> np.ndarray:
        """The results of hole values (population x examples), through the context if there is one."""
        return values if self.context is None else self.context(np.array(values, dtype=float))


class _Search:
    def __init__(self, problem: Problem, config: Config, context=None):
        self.p, self.config = problem, config
        self.t0 = clock.now()
        self.deadline = self.t0 + config.timeout
        self.rng = np.random.default_rng(config.seed)
        self.y = np.array([float(o) for o in problem.outputs])
        self.cols = {v.index: np.array([float(ex[v.index]) for ex in problem.inputs]) for v in problem.params
                     if v.type in ("int", "float")}  # other parameters are not leaves of a float skeleton
        g = problem.grammar
        prods = g.rules.get(g.start, [])
        self.leaves = [p.head for p in prods if not p.args]
        self.ops = [p.head for p in prods if p.args and all(g.types.get(a) == "float" for a in p.args)]
        self.convs = [p for p in prods if p.args and any(g.types.get(a) != "float" for a in p.args)]
        self.types = g.types
        for c in self.convs:  # a summary of a list input (its sum, its length...) is a column of its own
            for v in problem.params:
                if c.head.vec is None and v.type == g.types.get(c.args[0]):
                    try:
                        self.cols[(c.head.name, v.index)] = np.array([c.head.fn(ex[v.index]) for ex in problem.inputs])
                    except ArithmeticError:  # undefined on an example (the largest of an empty list)
                        pass
        self.model = Model(self.cols, self.y, context)
        self.max_size = min(problem.max_size or MAX_SIZE, MAX_SIZE)
        # per size: (skeleton, its constant slots, its order key for commutative operations)
        self.levels: list[list[tuple[Term, int, str]]] = [[] for _ in range(self.max_size + 1)]
        self.seen: set[bytes] = set()
        self.candidates = 0

    def result(self, term: Term | None, reason: str = "") -> Result:
        return Result(term is not None, term, self.candidates, clock.now() - self.t0, "regression", reason)

    def run(self) -> Result:
        size1 = [(Term(h), 1 if _is_slot(h) else 0) for h in self.leaves
                 if not (isinstance(h, Var) and h.index not in self.cols)]
        size1 += [(Term(c.head, (Term(v),)), 0) for c in self.convs for v in self.p.params
                  if v.type == self.types.get(c.args[0]) and (c.head.vec is not None or (c.head.name, v.index)
                                                              in self.cols)]  # float(i), sum(xs): size 1
        for term, nslots in sorted(size1, key=lambda t: t[1]):
            found = self.consider(term, nslots)
            if found:
                return self.result(found)
        # a constant slot costs like two more nodes (fitting is expensive, and a constant explains less):
        # skeletons without constants run two sizes ahead of those with constants
        steps = [(s, False) for s in range(2, self.max_size + 1)]
        steps = sorted(steps + [(s, True) for s in range(2, self.max_size + 1)], key=lambda t: t[0] + 2 * t[1])
        for n, (size, with_slots) in enumerate(steps):
            found, stop = self.step(size, with_slots)
            if stop:
                return self.result(None, stop)
            if found and not with_slots:
                # the smaller skeletons with constants not tried yet come first: `x * 0.5`, not
                # `log(sqrt(exp(x)))`, for x / 2 (the answer is the smallest program). At most
                # SIMPLER_FITS of them are fitted (each fit costs milliseconds); a bound reached while
                # they are tried keeps this one
                limit = min(self.config.max_candidates, self.candidates + SIMPLER_FITS)
                for smaller, slots in steps[n + 1:]:
                    if slots and smaller < size:
                        better, stop = self.step(smaller, True, limit)
                        if better or stop:
                            found = better or found
                            break
            if found:
                return self.result(found)
        return self.result(None, "exhausted")

    def step(self, size: int, with_slots: bool, limit: int = 0) -> tuple[Term | None, str]:
        """The skeletons of `size` (those with constant slots, or those without): (the first program that
        fits, or None; why the search stopped: 'timeout', 'candidates' (`limit`, or the configuration's
        bound), or '')."""
        limit = limit or self.config.max_candidates
        for op in self.ops:
            for parts in _splits(size - 1, len(op.args)):
                for args in _combos(self.levels, parts):
                    nslots = sum(a[1] for a in args)
                    if (nslots > 0) != with_slots or not self.useful(op, args, nslots):
                        continue
                    if clock.now() > self.deadline:
                        return None, "timeout"
                    if self.candidates >= limit:
                        return None, "candidates"
                    found = self.consider(Term(op, tuple(a[0] for a in args)), nslots)
                    if found:
                        return found, ""
        return None, ""

    @staticmethod
    def useful(op, args, nslots: int) -> bool:
        if nslots > MAX_SLOTS:
            return False
        if nslots and all(a[1] and a[0].size() == 1 for a in args):
            return False  # an operation on constants alone is one constant
        if op.name in ("add", "mul", "max", "min") and len(args) == 2 and args[0][2] > args[1][2]:
            return False  # commutative: one order is enough
        return True

    def consider(self, term: Term, nslots: int) -> Term | None:
        """Keep the skeleton for larger ones; the program it gives when it fits the examples."""
        if self.p.max_depth and term_depth(term) > self.p.max_depth:
            return None
        self.candidates += 1
        with np.errstate(all="ignore"):
            if nslots == 0:
                v = _evaluate(term, self.cols, np.zeros((1, 0)))[0]
                if not np.all(np.isfinite(v)):
                    return None
                key = np.round(v, 9).tobytes()
                if key in self.seen:
                    return None
                self.seen.add(key)
                self.levels[term.size()].append((term, 0, _order(term)))
                pred = self.model.results(v[None, :])[0]
                return term if np.all(np.isfinite(pred)) and _fits(pred, self.y) else None
            self.levels[term.size()].append((term, nslots, _order(term)))
            consts = fit(term, nslots, self.model, self.rng, self.deadline)
            return _fill(term, iter(consts)) if consts is not None else None


def _is_slot(head) -> bool:
    return isinstance(head, Const) and head.value == FIT


def _order(term: Term) -> str:
    from .terms import decisions

    return " ".join(map(str, decisions(term)))


def _splits(total: int, parts: int):
    if parts == 1:
        yield (total,)
        return
    for first in range(1, total - parts + 2):
        for rest in _splits(total - first, parts - 1):
            yield (first,) + rest


def _combos(levels, sizes):
    if not sizes:
        yield ()
        return
    for item in list(levels[sizes[0]]):
        for rest in _combos(levels, sizes[1:]):
            yield (item,) + rest


def _fits(pred: np.ndarray, y: np.ndarray) -> bool:
    return bool(np.all(np.abs(pred - y) <= ABS_TOL + REL_TOL * np.abs(y)))


# ---- evaluating skeletons: a population of constant vectors at once ----------------------------------

def _evaluate(term: Term, cols: dict, consts: np.ndarray) -> np.ndarray:
    """The skeleton's values, shape (population, examples); consts has a column per slot (pre-order)."""
    counter = iter(range(consts.shape[1]))
    out = _eval(term, cols, consts, counter)
    return np.broadcast_to(out, (consts.shape[0], len(next(iter(cols.values()))) if cols else 1))


def _eval(term: Term, cols, consts, counter):
    h = term.head
    if isinstance(h, Var):
        return cols[h.index][None, :]
    if isinstance(h, Const):
        if h.value == FIT:
            return consts[:, next(counter)][:, None]
        return np.full((1, 1), float(h.value))
    if h.vec is None:  # a summary of a list input: its column
        return cols[(h.name, term.args[0].head.index)][None, :]
    args = [_eval(a, cols, consts, counter) for a in term.args]
    return h.vec(*args)


def _fill(term: Term, values) -> Term:
    h = term.head
    if _is_slot(h):
        return Term(Const(float(next(values)), "float"))
    return Term(h, tuple(_fill(a, values) for a in term.args))


# ---- fitting the constants ---------------------------------------------------------------------------

def _loss(term, model: Model, pop: np.ndarray) -> np.ndarray:
    pred = model.predict(term, pop)
    err = np.mean((pred - model.y[None, :]) ** 2, axis=1)
    return np.where(np.isfinite(err), err, np.inf)


def fit(term: Term, k: int, model: Model, rng, deadline: float) -> list[float] | None:
    """Constants for the skeleton's k slots that reproduce the model's y, or None. Levenberg-Marquardt
    from two plain starting points settles most skeletons at once; CMA-ES searches the rest globally."""
    y = model.y
    scale = max(1.0, float(np.max(np.abs(y)))) if len(y) else 1.0
    starts = [np.ones(k), np.full(k, float(np.mean(y)) if len(y) else 0.0)]
    for x0 in starts:
        x = _polish(term, model, x0)
        if x is not None and _close(term, model, x):
            return _snap(term, model, x)
    if clock.now() > deadline:
        return None
    x = cma_es(lambda pop: _loss(term, model, pop), rng.normal(0, 1, k), scale, rng, generations=30)
    x = _polish(term, model, x)
    if x is not None and _close(term, model, x):
        return _snap(term, model, x)
    return None


def _close(term, model: Model, x) -> bool:
    pred = model.predict(term, x[None, :])[0]
    return bool(np.all(np.isfinite(pred))) and _fits(pred, model.y)


def cma_es(f, mean, sigma: float, rng, generations: int = 80, popsize: int = 0) -> np.ndarray:
    """Minimise f (a population of row vectors -> their losses) by CMA-ES; returns the best point."""
    n = len(mean)
    lam = popsize or max(8, 4 + int(3 * math.log(n)) * 2)
    mu = lam // 2
    w = np.log(mu + 0.5) - np.log(np.arange(1, mu + 1))
    w /= w.sum()
    mueff = 1.0 / np.sum(w ** 2)
    cc = (4 + mueff / n) / (n + 4 + 2 * mueff / n)
    cs = (mueff + 2) / (n + mueff + 5)
    c1 = 2 / ((n + 1.3) ** 2 + mueff)
    cmu = min(1 - c1, 2 * (mueff - 2 + 1 / mueff) / ((n + 2) ** 2 + mueff))
    damps = 1 + 2 * max(0.0, math.sqrt((mueff - 1) / (n + 1)) - 1) + cs
    chi_n = math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n))
    m = np.array(mean, dtype=float)
    C = np.eye(n)
    pc, ps = np.zeros(n), np.zeros(n)
    best, best_f = m.copy(), float(f(m[None, :])[0])
    for gen in range(generations):
        vals, B = np.linalg.eigh(C)
        D = np.sqrt(np.maximum(vals, 1e-30))
        z = rng.standard_normal((lam, n))
        steps = (z * D) @ B.T
        pop = m + sigma * steps
        losses = f(pop)
        order = np.argsort(losses)
        if losses[order[0]] < best_f:
            best_f, best = float(losses[order[0]]), pop[order[0]].copy()
        if best_f < 1e-24:
            break
        sel = steps[order[:mu]]
        step = w @ sel
        m = m + sigma * step
        inv_sqrt = B @ np.diag(1 / D) @ B.T
        ps = (1 - cs) * ps + math.sqrt(cs * (2 - cs) * mueff) * (inv_sqrt @ step)
        hsig = np.linalg.norm(ps) / math.sqrt(1 - (1 - cs) ** (2 * (gen + 1))) / chi_n < 1.4 + 2 / (n + 1)
        pc = (1 - cc) * pc + hsig * math.sqrt(cc * (2 - cc) * mueff) * step
        C = (1 - c1 - cmu) * C + c1 * (np.outer(pc, pc) + (1 - hsig) * cc * (2 - cc) * C) \
            + cmu * (sel.T * w) @ sel
        sigma *= math.exp((cs / damps) * (np.linalg.norm(ps) / chi_n - 1))
        if not np.isfinite(sigma) or sigma < 1e-14 or sigma > 1e14:
            break
    return best


def _polish(term, model: Model, x: np.ndarray, iters: int = 12) -> np.ndarray | None:
    """Levenberg-Marquardt on the residuals (numerical Jacobian): CMA-ES finds the basin, this finds
    the digits."""
    lam = 1e-3
    y = model.y

    def residual(p):
        return model.predict(term, p[None, :])[0] - y

    r = residual(x)
    if not np.all(np.isfinite(r)):
        return None
    for _ in range(iters):
        if np.all(np.abs(r) <= ABS_TOL + 1e-3 * REL_TOL * np.abs(y)):
            break
        h = 1e-7 * np.maximum(1.0, np.abs(x))
        J = np.stack([(residual(x + h[j] * np.eye(len(x))[j]) - r) / h[j] for j in range(len(x))], axis=1)
        if not np.all(np.isfinite(J)):
            return x
        A = J.T @ J
        step = np.linalg.solve(A + lam * np.diag(np.diag(A) + 1e-12), -J.T @ r) if len(x) else np.zeros(0)
        trial = x + step
        rt = residual(trial)
        if np.all(np.isfinite(rt)) and rt @ rt < r @ r:
            x, r, lam = trial, rt, lam / 3
        else:
            lam *= 4
    return x


def _snap(term, model: Model, x: np.ndarray) -> list[float]:
    """Round each constant to the fewest significant digits that still reproduce y."""
    out = list(map(float, x))
    for j in range(len(out)):
        for digits in range(0, 13):
            trial = list(out)
            trial[j] = _round_sig(out[j], digits)
            if _close(term, model, np.array(trial)):
                out = trial
                break
    return out


def _round_sig(v: float, digits: int) -> float:
    """v with `digits` digits after the point (0: an integer), or the same number of significant
    digits for small magnitudes."""
    if v == 0 or not math.isfinite(v):
        return v
    if abs(v) >= 1:
        return float(round(v, digits))
    return float(f"{v:.{max(1, digits)}g}")


# ---- the float components ----------------------------------------------------------------------------

def _checked(op):
    def fn(*args):
        v = op(*args)
        if isinstance(v, complex) or not math.isfinite(v):
            raise ArithmeticError("not a finite float")
        return v
    return fn


def _f(name, args, fn, vec, glia, cost=1) -> Component:
    return Component(name, args, "float", _checked(fn), glia=glia, vec=vec, cost=cost)


FLOAT_COMPONENTS = [
    _f("add", ("float", "float"), lambda a, b: a + b, np.add, "{0} + {1}"),
    _f("sub", ("float", "float"), lambda a, b: a - b, np.subtract, "{0} - {1}"),
    _f("mul", ("float", "float"), lambda a, b: a * b, np.multiply, "{0} * {1}"),
    _f("div", ("float", "float"), lambda a, b: a / b, np.divide, "{0} / {1}"),
    _f("neg", ("float",), lambda a: -a, np.negative, "-{0}"),
    _f("sqrt", ("float",), math.sqrt, lambda a: np.where(a >= 0, np.sqrt(np.abs(a)), np.nan), "sqrt({0})", 2),
    _f("exp", ("float",), math.exp, np.exp, "exp({0})", 2),
    _f("log", ("float",), math.log, lambda a: np.where(a > 0, np.log(np.abs(a) + (a == 0)), np.nan), "log({0})", 2),
    _f("abs", ("float",), abs, np.abs, "abs({0})", 2),
    _f("max", ("float", "float"), max, np.maximum, "max({0}, {1})", 2),
    _f("min", ("float", "float"), min, np.minimum, "min({0}, {1})", 2),
]
TO_FLOAT = Component("to_float", ("int",), "float", float, glia="float({0})", vec=lambda a: a.astype(float))
# a float in scope of a hole of another type reaches the int grammar through these (as the language's
# kernels: nan, an infinity or an int overflow is undefined, and the candidate dropped)
TO_INT = [Component(name, ("float",), "int", K.KERNELS[op], glia=glia) for name, op, glia in (
    ("to_int", "float.to_int", "int({0})"), ("round", "float.round", "round({0})"),
    ("floor", "math.floor", "floor({0})"), ("ceil", "math.ceil", "ceil({0})"))]


def _nonempty(f):
    def fn(xs):
        if not xs:
            raise ArithmeticError("empty list")
        return float(f(xs))
    return fn


def list_summaries(elem: str) -> list[Component]:
    """Leaves of a float skeleton made from a list input: its sum, length, largest and smallest."""
    L = f"list[{elem}]"
    return [Component("sum_f", (L,), "float", lambda xs: float(sum(xs)), glia="sum({0})"),
            Component("len_f", (L,), "float", lambda xs: float(len(xs)), glia="float(len({0}))"),
            Component("max_f", (L,), "float", _nonempty(max), glia="max({0})"),
            Component("min_f", (L,), "float", _nonempty(min), glia="min({0})")]
