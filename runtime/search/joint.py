"""Several holes in one function, searched together.

    [Problem per hole] --bottom-up per hole--> each hole's programs by size, one per key vector
                       --tuples in order of total size, joined on one example--> a Term per hole

A hole's inputs are its function's parameters, so a hole's program acts on the function only
through its value on each example: two programs with the same values are interchangeable, and each
hole keeps one program per value vector (bottom-up enumeration with observational equivalence, one
engine per hole with the hole's own grammar and size/depth bounds, bottomup.py). Where the hole's
*context* (the expression around it that reads only parameters: `x > ??`) can be evaluated alone,
the key is the context's value instead, a coarser equivalence: of `x > 3` and `x > 4` only the
first is kept when no example has x = 4. An int hole also gets the examples' integers as constants
of size 1 (`x > 10`: arithmetic on 0..3 reaches 10 late).

Tuples of kept programs are tried in order of total size (then of the holes' sizes, the first
hole's smallest first, then the banks' order). A tuple is right when the function, run with each
hole's value, gives every example's result. `check(i, values)` answers that for example i and one
value per hole, and says which holes the run read; it is asked once per example and keys of the
holes read (memoised: a run that did not read a hole, such as the other branch's, is the same
whatever that hole holds), so most tuples cost dictionary look-ups: the keys of one example repeat
far more than whole vectors do. The last hole
is joined rather than looped over: its programs of one size are grouped by their key on the pivot
example (the example that last rejected a tuple), and for each choice of the other holes only the
groups that pass on the pivot are kept (remembered per key of the other holes there), each program
in them then checked on the other examples, the example that rejected the previous tuple first.

`gp` evolves tuples of trees instead (JointGP); `portfolio` enumerates for 70% of the time, then
evolves. Bounded by time, candidates (the programs the holes' enumerations built plus the tuples
looked at) and memory (the bound split between the holes' banks, and the values their levels hold
as Python objects counted PY_VALUE_COST times; the memo is emptied when it reaches MEMO_LIMIT
entries); deterministic (enumeration has no randomness; gp takes the seed).
"""
from __future__ import annotations

import itertools
import random
import time
from dataclasses import dataclass, field, replace
from typing import Callable, NamedTuple

from . import gp
from .bottomup import BottomUp, Stop, _compositions
from .library import example_ints
from .problem import Config, Const, Problem, Term
from .terms import decisions

MEMO_LIMIT = 1_000_000  # (example, the holes' keys) -> passes: emptied when it holds this many
PY_VALUE_COST = 16  # a value the holes' levels hold as Python objects (the vector, its key, the seen set,
                    # the groups) costs about 16 words of the memory bound


@dataclass(slots=True)
class JointResult:
    solved: bool
    terms: tuple[Term, ...] | None  # one per hole, in the problems' order
    candidates: int  # programs enumerated for the holes + tuples of them looked at
    seconds: float
    strategy: str
    reason: str = ""  # why it stopped without a solution: 'timeout', 'candidates', 'memory', 'exhausted'
    decisions: list = field(default_factory=list)  # one list of production choices per hole
    tuples: int = 0  # tuples looked at: each checked, and each group of the last hole's programs probed on
                     # the pivot example (the groups that fail there are the tuples pruned)
    runs: int = 0  # times the function was run on one example (the memo's misses)


class Level(NamedTuple):
    """A hole's programs first made at one size: their values, what the function sees of them (the
    keys: the values themselves, or their context's values) and where their terms are."""

    values: list[tuple]
    keys: list[tuple]
    places: list  # an index in the bottom-up bank's level, or the Term of a constant


class HoleBank:
    """One hole's programs, size level by size level, enumerated on demand, one per key vector.

    `consts` (an int hole's) join its first level as plain constants: a hole compared with a parameter
    (`x > ??`) wants one of the examples' numbers, which arithmetic on 0..3 reaches late. `context`,
    when given, maps (example, value) to the value of the hole's context on that example (the
    expression around the hole that reads only parameters, such as the condition `x > ??`): programs
    whose contexts agree on every example are interchangeable, and only the first is kept."""

    def __init__(self, problem: Problem, config: Config, deadline: float, consts: tuple[int, ...] = (),
                 context: Callable | None = None):
        # integers as words where the grammar allows (the compiled kernel enumerates them); each level
        # is read back as tuples of Python values, the memo's keys and the function's arguments
        self.bu = BottomUp(problem.grammar, problem.inputs, config, max_size=problem.max_size,
                           deadline=deadline)
        self.start = problem.grammar.start
        self.max_size = self.bu.max_size
        self.consts = consts
        self.context = context
        self.context_memo: dict = {}
        self.seen: set = set()  # every key vector kept
        self.levels: list[Level] = []  # levels[s - 1]: the programs first kept at size s
        self.groups: dict = {}  # (size, example) -> {key on that example: (a value with it, [indexes])}

    def key(self, example: int, value):
        if self.context is None:
            return value
        k = (example, value)
        got = self.context_memo.get(k, _MISSING)
        if got is _MISSING:
            got = self.context_memo[k] = self.context(example, value)
        return got

    def level(self, size: int) -> Level | None:
        while len(self.levels) < min(size, self.max_size):
            s = len(self.levels) + 1
            self.bu.grow(s)  # raises Stop at a bound
            level = Level([], [], [])
            made = self.bu.python_vectors(self.start, s) if self.bu.banks[self.start].count(s) else []
            for j, vec in enumerate(made):
                self._keep(level, vec, j)
            if s == 1:
                n = len(self.bu.inputs)
                for c in self.consts:
                    self._keep(level, (c,) * n, Term(Const(c, "int")))
            self.levels.append(level)
        return self.levels[size - 1] if size <= self.max_size and self.levels[size - 1].values else None

    def _keep(self, level: Level, vec: tuple, place) -> None:
        key = vec if self.context is None else tuple(self.key(i, v) for i, v in enumerate(vec))
        if key in self.seen:
            return
        self.seen.add(key)
        level.values.append(vec)
        level.keys.append(key)
        level.places.append(place)

    def grouped(self, size: int, example: int) -> dict:
        g = self.groups.get((size, example))
        if g is None:
            g = self.groups[(size, example)] = {}
            level = self.levels[size - 1]
            for j, (vec, key) in enumerate(zip(level.values, level.keys)):
                g.setdefault(key[example], (vec[example], []))[1].append(j)
        return g

    def term(self, size: int, index: int) -> Term:
        place = self.levels[size - 1].places[index]
        return place if isinstance(place, Term) else self.bu.term(self.start, size, place)


_MISSING = object()


class Joint:
    def __init__(self, problems: list[Problem], config: Config, check: Callable[[int, tuple], tuple[bool, int]],
                 contexts: list | None = None):
        self.t0 = time.perf_counter()
        self.cfg = config
        self.deadline = self.t0 + config.timeout
        consts = example_ints(problems[0].inputs, problems[0].outputs)
        contexts = contexts or [None] * len(problems)
        share = replace(config, max_bank=config.max_bank // len(problems))  # the memory bound, split
        self.banks = [HoleBank(p, share, self.deadline, consts if p.ret == "int" else (), ctx)
                      for p, ctx in zip(problems, contexts)]
        self.check = check
        self.memo: dict = {}  # (example, holes read, their keys) -> passes
        self.reads: list[list] = [[] for _ in problems[0].inputs]  # per example: the sets of holes runs read
        self.order = list(range(len(problems[0].inputs)))  # examples, the last to reject a tuple first
        self.tuples = 0
        self.runs = 0

    def passes(self, example: int, keys: tuple, values: tuple) -> bool:
        """Does the function give example's result with `values` in the holes? Asked once per example
        and keys of the holes the run read (values with the same keys act alike, and a run that did
        not read a hole is the same run whatever that hole holds)."""
        reads = self.reads[example]
        for mask, picks in reads:
            ok = self.memo.get((example, mask, tuple(keys[h] for h in picks)))
            if ok is not None:
                return ok
        if len(self.memo) >= MEMO_LIMIT:
            self.memo.clear()
        self.runs += 1
        ok, mask = self.check(example, values)
        picks = tuple(h for h in range(len(keys)) if mask >> h & 1)
        if (mask, picks) not in reads:
            reads.append((mask, picks))
        self.memo[(example, mask, tuple(keys[h] for h in picks))] = ok
        return ok

    def passes_values(self, example: int, values: tuple) -> bool:
        return self.passes(example, tuple(b.key(example, v) for b, v in zip(self.banks, values)), values)

    def passes_all(self, vecs: list[tuple], keys: list[tuple]) -> bool:
        for k, i in enumerate(self.order):
            if not self.passes(i, tuple(v[i] for v in keys), tuple(v[i] for v in vecs)):
                if k:
                    self.order.insert(0, self.order.pop(k))  # the rejecting example goes first next time
                return False
        return True

    def candidates(self) -> int:
        return sum(b.bu.candidates for b in self.banks) + self.tuples

    def bound(self) -> None:
        if self.candidates() > self.cfg.max_candidates:
            raise Stop("candidates")
        held = sum(len(b.seen) for b in self.banks) * len(self.order)  # values kept as Python objects
        if held * PY_VALUE_COST > self.cfg.max_bank:
            raise Stop("memory")
        if time.perf_counter() > self.deadline:
            raise Stop("timeout")

    def run(self) -> tuple[tuple, str]:
        """((size, index) per hole, '') for the first tuple right on every example, or (None, reason)."""
        k = len(self.banks)
        try:
            for total in range(k, sum(b.max_size for b in self.banks) + 1):
                for parts in _compositions(total, k):
                    levels = [b.level(s) for b, s in zip(self.banks, parts)]
                    if all(lv is not None for lv in levels):
                        hit = self.combine(parts, levels)
                        if hit is not None:
                            return tuple(zip(parts, hit)), ""
                    self.bound()
            return None, "exhausted"
        except Stop as s:
            return None, s.reason

    def combine(self, parts: tuple[int, ...], levels: list[Level]):
        """The indexes of the first tuple of these levels right on every example, or None."""
        *lead, last = levels
        bank = self.banks[-1]
        passing: dict = {}  # (pivot, the other holes' keys on it) -> the last hole's programs passing there
        for n, idx in enumerate(itertools.product(*[range(len(lv.values)) for lv in lead])):
            if n & 255 == 255:
                self.bound()
            vecs = [lv.values[i] for lv, i in zip(lead, idx)]
            keys = [lv.keys[i] for lv, i in zip(lead, idx)]
            e = self.order[0]
            head_keys = tuple(k[e] for k in keys)
            hits = passing.get((e, head_keys))
            if hits is None:
                head_values = tuple(v[e] for v in vecs)
                groups = bank.grouped(parts[-1], e)
                self.tuples += len(groups)
                hits = passing[(e, head_keys)] = sorted(
                    j for key, (value, js) in groups.items()
                    if self.passes(e, head_keys + (key,), head_values + (value,)) for j in js)
            self.tuples += len(hits)
            for m, j in enumerate(hits):
                if m & 4095 == 4095:
                    self.bound()
                if self.passes_all(vecs + [last.values[j]], keys + [last.keys[j]]):
                    return idx + (j,)
        return None


class JointGP:
    """Genetic programming over tuples of trees, one per hole (gp.py's operators, each hole in its own
    grammar): a child changes one hole (typed subtree crossover with the other parent's tree for that
    hole, or subtree mutation) or swaps whole holes between the parents; parents are chosen by lexicase
    selection on which examples the function gets right. Deterministic under the seed."""

    def __init__(self, problems: list[Problem], config: Config, passes: Callable[[int, tuple], bool]):
        self.problems = problems
        self.cfg = config
        self.rng = random.Random(config.seed)
        self.hole_gp = [gp.GP(p, config) for p in problems]
        for g in self.hole_gp:
            g.rng = self.rng  # one stream of random numbers: the run is a function of the seed
        self.passes = passes
        self.evals = 0
        self.cache: dict = {}

    def errors(self, ind: tuple, cases: list[int]) -> tuple:
        def error(i: int) -> int:
            values = tuple(g.run_node(n, p.inputs[i]) for g, n, p in zip(self.hole_gp, ind, self.problems))
            return 0 if self.passes(i, values) else 1

        return gp.cached_errors(self, tuple(n.key() for n in ind), cases, 1, error)

    def child(self, a: tuple, b: tuple) -> tuple:
        r = self.rng.random()
        if r < 0.2:  # whole holes from either parent
            return tuple(x if self.rng.random() < 0.5 else y for x, y in zip(a, b))
        h = self.rng.randrange(len(a))
        g = self.hole_gp[h]
        new = g.crossover(a[h], b[h]) if r < 0.6 else g.mutate(a[h]) if r < 0.95 else a[h]
        return a[:h] + (new,) + a[h + 1:]

    def run(self, deadline: float) -> tuple[tuple | None, str]:
        pop = [tuple(g.grow(g.g.start, self.rng.randint(2, gp.MAX_DEPTH)) for g in self.hole_gp)
               for _ in range(gp.POP)]
        return gp.evolve(self, pop, len(self.problems[0].inputs), deadline)

    def breed(self, pop: list[tuple], errs: list[tuple], k: int) -> list[tuple]:
        lexicase = self.hole_gp[0].lexicase
        return [self.child(lexicase(pop, errs, k), lexicase(pop, errs, k)) for _ in range(gp.POP)]


def solve(problems: list[Problem], config: Config, check: Callable[[int, tuple], tuple[bool, int]],
          contexts: list | None = None) -> JointResult:
    """Programs for several holes of one function: `problems` holds one per hole (the same examples'
    inputs, each its own grammar and bounds); `check(i, values)` says whether the function, with
    values[h] in hole h, gives example i's result, and which holes it read (bit h for hole h). The
    strategy `gp` evolves tuples of trees;
    `portfolio` enumerates for 70% of the time, then evolves; every other enumerates (there is no
    deduction through a function's statements)."""
    t0 = time.perf_counter()
    strategy = config.strategy
    search = Joint(problems, replace(config, timeout=config.timeout * 0.7) if strategy == "portfolio" else config,
                   check, contexts)
    found, reason, terms = None, "", None
    if strategy != "gp":
        found, reason = search.run()
        if found is not None:
            terms = tuple(b.term(s, i) for b, (s, i) in zip(search.banks, found))
    name, candidates = "joint bottom-up", search.candidates()
    if terms is None and strategy in ("gp", "portfolio"):
        evolve = JointGP(problems, config, search.passes_values)
        best, reason = evolve.run(t0 + config.timeout)
        terms = None if best is None else tuple(n.term() for n in best)
        name, candidates = ("portfolio/" if strategy == "portfolio" else "") + "joint gp", candidates + evolve.evals
    return JointResult(terms is not None, terms, candidates, time.perf_counter() - t0, name,
                       "" if terms else reason, [decisions(t) for t in terms] if terms else [],
                       search.tuples, search.runs)
