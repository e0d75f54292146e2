"""Several holes in one function, searched together.

    [Problem per hole] --bottom-up per hole--> each hole's programs by size, one per key vector
                       --tuples in order of total size, joined on one example--> a Term per hole

A hole that reads only its function's parameters (never reassigned) acts on the function through its
value on each example: two programs with the same values are interchangeable, and each hole keeps one
program per value vector (bottom-up enumeration with observational equivalence, one engine per hole
with the hole's own grammar and size/depth bounds, bottomup.py). Where the hole's *context* (the
expression around it that reads only parameters: `x > ??`) can be evaluated alone, the key is the
context's value instead, a coarser equivalence: of `x > 3` and `x > 4` only the first is kept when no
example has x = 4. An int hole also gets the examples' integers as constants of size 1 (`x > 10`:
arithmetic on 0..3 reaches 10 late).

A hole that reads locals (`acc = acc + ??` in a loop; or parameters the function reassigns) has no
single value per example: its program (a Term) is evaluated at each reach on the frame's values then
(`Reads`: its slots). Its bank is enumerated on environments sampled where it is reached
(compiler/hole_runs.envs_at_hole, with placeholders in the holes), keeping one program per vector of
values there: a heuristic equivalence (a right program equal on the samples to a wrong one kept
earlier is lost). Everything after the banks is exact.

Tuples of kept programs are tried in order of total size (then of the holes' sizes, the first
hole's smallest first, then the banks' order). A tuple is right when the function, run with each
hole's program, gives every example's result. `check(i, values)` runs example i and returns its
result and its *events*: each reach of a hole that could tell something new, (hole, environment,
value) (a parameter-reading hole's first reach only; a locals-reading hole's reaches at environments
not seen before in that run). The interpreter is deterministic, so a run is decided by the values the
holes gave at those reaches, and each example keeps its runs as a *run tree*: a node is a reach (the
hole, the environment), its branches the values the hole gave there (a parameter-reading hole's key),
a leaf the result. A tuple is looked up by walking the tree, asking each hole's program for its value
at each node (a parameter-reading hole: its key on the example, already computed; a locals-reading
one: its value in its bank's vector where the environment was sampled, else evaluated); only a walk
that leaves the tree runs the function, and the run's events grow the tree. So a run that did not
read a hole serves every program of that hole, and a locals-reading hole's programs that give the same
values where the function reached it share the run, exactly. The last hole is joined rather than
looped over: its programs of one size are grouped by their key on the pivot example (the example
that last rejected a tuple; a locals-reading hole's programs each in a group of their own), and for
each choice of the other holes only the groups that pass on the pivot are kept (remembered per key of
the other holes there), each program in them then checked on the other examples, the example that
rejected the previous tuple first.

`gp` evolves tuples of trees instead (JointGP); `portfolio` enumerates for 70% of the time, then
evolves. Bounded by time, candidates (the programs the holes' enumerations built plus the tuples
looked at) and memory (the bound split between the holes' banks, and the values their levels hold
as Python objects counted PY_VALUE_COST times; the run trees are emptied when they reach MEMO_LIMIT
nodes); deterministic (enumeration has no randomness; gp takes the seed).
"""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field, replace
from typing import Callable, NamedTuple

from . import clock, gp
from .bottomup import BottomUp, Stop, _compositions
from .library import example_ints
from .problem import Config, Const, Problem, Term
from .terms import decisions, evaluate

MEMO_LIMIT = 1_000_000  # the run trees' nodes: emptied when they hold this many
EVENTS_LIMIT = 4096  # a run with more events than this (a long loop) is not added to its run tree
ERROR = ("error",)  # the value of a program that fails where the hole is reached (the run fails there)
OPEN = "open"  # a run's result when it reached the function's float hole, which `complete` fills (solve)
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
    runs: int = 0  # times the function was run on one example (walks that left the run trees)
    completed: Term | None = None  # the float hole's program (beside the others), when there is one


class Level(NamedTuple):
    """A hole's programs first made at one size: their values, what the function sees of them (the
    keys: the values themselves, or their context's values) and where their terms are."""

    values: list[tuple]
    keys: list[tuple]
    places: list  # an index in the bottom-up bank's level, or the Term of a constant


class Reads(NamedTuple):
    """A hole that reads locals: its problem's inputs are environments sampled where it is reached,
    `spans[i]` example i's. The check is given the hole's program as a Term, evaluated at each reach."""

    spans: list[range]


class HoleBank:
    """One hole's programs, size level by size level, enumerated on demand, one per key vector.

    `consts` (an int hole's) join its first level as plain constants: a hole compared with a parameter
    (`x > ??`) wants one of the examples' numbers, which arithmetic on 0..3 reaches late. `context`,
    when given, maps (example, value) to the value of the hole's context on that example (the
    expression around the hole that reads only parameters, such as the condition `x > ??`): programs
    whose contexts agree on every example are interchangeable, and only the first is kept. `reads`,
    when given, makes it a locals-reading hole's bank (its vectors are over the sampled environments)."""

    def __init__(self, problem: Problem, config: Config, deadline: float, consts: tuple[int, ...] = (),
                 context: Callable | None = None, reads: Reads | None = None):
        # integers as words where the grammar allows (the compiled kernel enumerates them); each level
        # is read back as tuples of Python values, the keys and the function's arguments
        self.bu = BottomUp(problem.grammar, problem.inputs, config, max_size=problem.max_size,
                           deadline=deadline)
        self.start = problem.grammar.start
        self.max_size = self.bu.max_size
        self.consts = consts
        self.context = context
        self.context_memo: dict = {}
        self.reads = reads
        self.sampled = {env: k for k, env in enumerate(problem.inputs)} if reads else {}  # env -> its index
        self.terms: dict = {}  # (size, index) -> a locals-reading hole's Term
        self.seen: set = set()  # every key vector kept
        self.levels: list[Level] = []  # levels[s - 1]: the programs first kept at size s
        self.groups: dict = {}  # (size, example) -> {key on that example: [indexes]}

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
        key = vec if self.context is None or self.reads else tuple(self.key(i, v) for i, v in enumerate(vec))
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
            for j, key in enumerate(self.levels[size - 1].keys):
                g.setdefault(self.example_key(size, j, example), []).append(j)
        return g

    def example_key(self, size: int, index: int, example: int):
        """What tells the program (size, index) apart on `example`: a parameter-reading hole's key
        there; a locals-reading hole's program itself."""
        return (size, index) if self.reads else self.levels[size - 1].keys[index][example]

    def value(self, size: int, index: int, example: int):
        """What the check puts in the hole on `example` for the program (size, index)."""
        return self.term(size, index) if self.reads else self.levels[size - 1].values[index][example]

    def label(self, size: int, index: int, example: int, env):
        """The program's branch at a run-tree node of this hole: its key on the example, or for a
        locals-reading hole its value at the node's environment."""
        if not self.reads:
            return self.levels[size - 1].keys[index][example]
        k = self.sampled.get(env)
        return self.levels[size - 1].values[index][k] if k is not None else value_at(self.term(size, index), env)

    def term(self, size: int, index: int) -> Term:
        got = self.terms.get((size, index))
        if got is None:
            place = self.levels[size - 1].places[index]
            got = place if isinstance(place, Term) else self.bu.term(self.start, size, place)
            if self.reads:
                self.terms[(size, index)] = got
        return got


def value_at(term: Term, env: tuple):
    """A locals-reading hole's program's value at a reach (ERROR where it fails)."""
    try:
        return evaluate(term, env)
    except Exception:  # noqa: BLE001 - an undefined component: the function fails at this reach
        return ERROR


_MISSING = object()


class Joint:
    def __init__(self, problems: list[Problem], config: Config, check: Callable[[int, tuple], tuple],
                 contexts: list | None = None, reads: list | None = None, complete: Callable | None = None):
        self.t0 = clock.now()
        self.cfg = config
        self.deadline = self.t0 + config.timeout
        consts = example_ints(problems[0].inputs, problems[0].outputs)
        contexts = contexts or [None] * len(problems)
        reads = reads or [None] * len(problems)
        share = replace(config, max_bank=config.max_bank // len(problems))  # the memory bound, split
        self.banks = [HoleBank(p, share, self.deadline, consts if p.ret == "int" else (), ctx, r)
                      for p, ctx, r in zip(problems, contexts, reads)]
        self.check = check
        examples = len(problems[0].outputs)
        self.trees: list = [None] * examples  # per example, its run tree (None: no run yet)
        self.nodes = 0
        self.order = list(range(examples))  # examples, the last to reject a tuple first
        self.tuples = 0
        self.runs = 0
        self.enumerating = False  # inside run(), which catches the Stop that bound() raises
        self.complete = complete  # (values on an example, the examples that reached the float hole) -> a Term
        self.completed: Term | None = None  # ... what it gave for the answer
        self.completions = 0  # candidates `complete` looked at

    def passes(self, example: int, label: Callable, values: Callable[[], tuple]) -> bool | str:
        """Does the function give example's result with `values()` in the holes (OPEN: it reached the
        float hole)? Looked up in the example's run tree, `label(hole, environment)` giving each hole's branch at a node; run (and
        added to the tree) only when the walk leaves it."""
        node = self.trees[example]
        while type(node) is tuple:
            node = node[2].get(label(node[0], node[1]), _MISSING)
        if type(node) is bool or node is OPEN:
            return node
        if self.nodes >= MEMO_LIMIT:
            self.trees = [None] * len(self.trees)
            self.nodes = 0
        self.runs += 1
        if self.enumerating and self.runs & 15 == 0:
            self.bound()  # a run may take long (a candidate that keeps a loop going until its fuel ends)
        ok, events = self.check(example, values())
        if len(events) <= EVENTS_LIMIT:
            self._grow(example, [(h, env, self.banks[h].key(example, v) if env is None else v)
                                 for h, env, v in events], ok)
        return ok

    def _grow(self, example: int, events: list, ok: bool) -> None:
        """Add a run (its events, each value as the branch it takes, and its result) to the tree."""
        node, at, branch = self.trees[example], None, None
        for k, (h, env, b) in enumerate(events):
            if type(node) is not tuple or node[0] != h or node[1] != env:
                break  # where the tree ends (or a different reach: the run replaces that part)
            at, branch = node[2], b
            node = at.get(b, _MISSING)
        else:
            k = len(events)
        sub = self._path(events[k:], ok)
        if at is None:
            self.trees[example] = sub
        else:
            at[branch] = sub

    def _path(self, events: list, ok: bool):
        node = ok
        for h, env, branch in reversed(events):
            node = (h, env, {branch: node})
            self.nodes += 1
        return node

    def labeler(self, example: int, parts: tuple, idx: tuple) -> Callable:
        banks = self.banks
        return lambda h, env: banks[h].label(parts[h], idx[h], example, env)

    def values(self, parts: tuple, idx: tuple, example: int) -> tuple:
        return tuple(b.value(s, j, example) for b, s, j in zip(self.banks, parts, idx))

    def passes_all(self, parts: tuple, idx: tuple) -> bool:
        """Is the tuple of programs (parts[h], idx[h]) right on every example? (With a float hole: is
        it right on every example that does not reach the float hole, and does `complete` find the
        float hole's program for those that do?)"""
        opens = []
        for k, i in enumerate(self.order):
            ok = self.passes(i, self.labeler(i, parts, idx), lambda i=i: self.values(parts, idx, i))
            if ok is OPEN:
                opens.append(i)
            elif not ok:
                if k:
                    self.order.insert(0, self.order.pop(k))  # the rejecting example goes first next time
                return False
        if opens:
            self.completions += 1
            self.completed = self.complete(lambda i: self.values(parts, idx, i), sorted(opens))
            return self.completed is not None
        return True

    def candidates(self) -> int:
        return sum(b.bu.candidates for b in self.banks) + self.tuples + self.completions

    def bound(self) -> None:
        if self.candidates() > self.cfg.max_candidates:
            raise Stop("candidates")
        held = sum(len(b.seen) for b in self.banks) * len(self.order)  # values kept as Python objects
        if held * PY_VALUE_COST > self.cfg.max_bank:
            raise Stop("memory")
        if clock.now() > self.deadline:
            raise Stop("timeout")

    def run(self) -> tuple[tuple, str]:
        """((size, index) per hole, '') for the first tuple right on every example, or (None, reason)."""
        k = len(self.banks)
        self.enumerating = True
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
        finally:
            self.enumerating = False

    def combine(self, parts: tuple[int, ...], levels: list[Level]):
        """The indexes of the first tuple of these levels right on every example, or None."""
        *lead, last = levels
        bank = self.banks[-1]
        passing: dict = {}  # (pivot, the other holes' keys on it) -> the last hole's programs passing there
        for n, idx in enumerate(itertools.product(*[range(len(lv.values)) for lv in lead])):
            if n & 255 == 255:
                self.bound()
            e = self.order[0]
            head_keys = tuple(b.example_key(s, i, e) for b, s, i in zip(self.banks, parts, idx))
            hits = passing.get((e, head_keys))
            if hits is None:
                groups = bank.grouped(parts[-1], e)
                self.tuples += len(groups)
                hits = passing[(e, head_keys)] = sorted(
                    j for js in groups.values() for one in [idx + (js[0],)]
                    if self.passes(e, self.labeler(e, parts, one), lambda one=one: self.values(parts, one, e))
                    for j in js)
            self.tuples += len(hits)
            for m, j in enumerate(hits):
                if m & 4095 == 4095:
                    self.bound()
                if self.passes_all(parts, idx + (j,)):
                    return idx + (j,)
        return None


class JointGP:
    """Genetic programming over tuples of trees, one per hole (gp.py's operators, each hole in its own
    grammar): a child changes one hole (typed subtree crossover with the other parent's tree for that
    hole, or subtree mutation) or swaps whole holes between the parents; parents are chosen by lexicase
    selection on which examples the function gets right. Deterministic under the seed."""

    def __init__(self, problems: list[Problem], config: Config, search: Joint):
        self.problems = problems
        self.cfg = config
        self.rng = random.Random(config.seed)
        self.hole_gp = [gp.GP(p, config) for p in problems]
        for g in self.hole_gp:
            g.rng = self.rng  # one stream of random numbers: the run is a function of the seed
        self.search = search  # its run trees and banks (a hole's keys, which holes read locals)
        self.evals = 0
        self.cache: dict = {}

    def errors(self, ind: tuple, cases: list[int]) -> tuple:
        banks = self.search.banks
        terms: list = []  # a locals-reading hole's Term (None for the others), made at the first error()

        def error(i: int) -> int:
            if not terms:
                terms.extend(n.term() if b.reads else None for b, n in zip(banks, ind))
            values = tuple(t if t is not None else g.run_node(n, p.inputs[i])
                           for t, g, n, p in zip(terms, self.hole_gp, ind, self.problems))

            def label(h, env):
                return banks[h].key(i, values[h]) if terms[h] is None else value_at(terms[h], env)
            return 0 if self.search.passes(i, label, lambda: values) else 1

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
        return gp.evolve(self, pop, len(self.problems[0].outputs), deadline)

    def breed(self, pop: list[tuple], errs: list[tuple], k: int) -> list[tuple]:
        lexicase = self.hole_gp[0].lexicase
        return [self.child(lexicase(pop, errs, k), lexicase(pop, errs, k)) for _ in range(gp.POP)]


def solve(problems: list[Problem], config: Config, check: Callable[[int, tuple], tuple],
          contexts: list | None = None, reads: list | None = None, complete: Callable | None = None) -> JointResult:
    """Programs for several holes of one function: `problems` holds one per hole (the same examples'
    results, each its own grammar and bounds, and inputs: the examples' arguments, or for a hole with
    `reads[h]` the environments sampled where it is reached); `check(i, values)` runs example i with
    values[h] in hole h (a Term for a hole with reads: evaluated at each reach) and returns whether it
    gives the example's result (OPEN where it reached the function's float hole) and the run's events.
    With a float hole, `complete(values_on, examples)` finds its program for a tuple of the other
    holes that every example not reaching it accepts (None if it cannot), `values_on(i)` being the
    tuple's values on example i; the result's `completed` is the float hole's program.
    The strategy `gp` evolves tuples of trees; `portfolio` enumerates for 70% of the time, then
    evolves; every other enumerates (there is no deduction through a function's statements), and so do
    they all beside a float hole."""
    t0 = clock.now()
    strategy = config.strategy if complete is None else "enumerate"
    search = Joint(problems, replace(config, timeout=config.timeout * 0.7) if strategy == "portfolio" else config,
                   check, contexts, reads, complete)
    found, reason, terms = None, "", None
    if strategy != "gp":
        found, reason = search.run()
        if found is not None:
            terms = tuple(b.term(s, i) for b, (s, i) in zip(search.banks, found))
    name, candidates = "joint bottom-up", search.candidates()
    if terms is None and strategy in ("gp", "portfolio"):
        evolve = JointGP(problems, config, search)
        best, reason = evolve.run(t0 + config.timeout)
        terms = None if best is None else tuple(n.term() for n in best)
        name, candidates = ("portfolio/" if strategy == "portfolio" else "") + "joint gp", candidates + evolve.evals
    if complete is not None:
        name += " + regression"
    return JointResult(terms is not None, terms, candidates, clock.now() - t0, name,
                       "" if terms else reason, [decisions(t) for t in terms] if terms else [],
                       search.tuples, search.runs, search.completed if terms else None)
