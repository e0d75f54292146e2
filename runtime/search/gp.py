"""Genetic programming over typed trees with down-sampled lexicase selection.

Individuals are derivation trees of the problem's grammar (so every individual is well typed and
honours a SyGuS grammar). Each generation evaluates the population on a random sample of the
examples (down-sampling), picks parents by lexicase selection (the examples in a random order, keep
the individuals best on each in turn), and makes children by typed subtree crossover (swap subtrees
of the same nonterminal) and subtree mutation; integer constants are also perturbed (a (1+1)
evolution strategy step). An individual perfect on its sample is checked on every example.
Deterministic under the seed; bounded by time, candidate evaluations and tree size.
"""
from __future__ import annotations

import random

from . import clock
from .problem import Component, Config, Const, Problem, Production, Result, Term

POP = 300
MAX_NODES = 25
MAX_DEPTH = 5
BIG = 1 << 40


class Node:
    __slots__ = ("nt", "prod", "kids", "value")

    def __init__(self, nt: str, prod: Production, kids: tuple, value=None):
        self.nt = nt
        self.prod = prod
        self.kids = kids
        self.value = value  # a Const's value (perturbed by the evolution-strategy step)

    def size(self) -> int:
        return 1 + sum(k.size() for k in self.kids)

    def nodes(self, out: list) -> list:
        out.append(self)
        for k in self.kids:
            k.nodes(out)
        return out

    def replace(self, old: "Node", new: "Node") -> "Node":
        if self is old:
            return new
        return Node(self.nt, self.prod, tuple(k.replace(old, new) for k in self.kids), self.value)

    def term(self) -> Term:
        h = self.prod.head
        if isinstance(h, Const) and self.value is not None and self.value != h.value:
            h = Const(self.value, h.type)
        return Term(h, tuple(k.term() for k in self.kids))

    def key(self):
        return (id(self.prod), self.value, tuple(k.key() for k in self.kids))


class GP:
    def __init__(self, problem: Problem, config: Config):
        self.p = problem
        self.g = problem.grammar
        self.rng = random.Random(config.seed)
        self.cfg = config
        self.deadline = clock.now() + config.timeout
        self.evals = 0
        self.height = self._min_heights()
        self.cache: dict = {}

    def _min_heights(self) -> dict:
        h = {nt: BIG for nt in self.g.types}
        changed = True
        while changed:
            changed = False
            for nt, p in self.g.productions():
                v = 1 + max((h[a] for a in p.args), default=0)
                if v < h[nt]:
                    h[nt] = v
                    changed = True
        return h

    def grow(self, nt: str, depth: int) -> Node:
        prods = [p for p in self.g.rules[nt] if 1 + max((self.height[a] for a in p.args), default=0) <= depth]
        if not prods:
            prods = sorted(self.g.rules[nt], key=lambda p: max((self.height[a] for a in p.args), default=0))[:1]
        if depth > 2 and self.rng.random() < 0.7:  # prefer operators while there is room
            ops = [p for p in prods if p.args]
            prods = ops or prods
        p = self.rng.choice(prods)
        kids = tuple(self.grow(a, depth - 1) for a in p.args)
        return Node(nt, p, kids, p.head.value if isinstance(p.head, Const) else None)

    # ---- evaluation ----------------------------------------------------------------------------
    def run_node(self, n: Node, args):
        h = n.prod.head
        if isinstance(h, Component):
            return h.fn(*[self.run_node(k, args) for k in n.kids])
        if isinstance(h, Const):
            return n.value
        if hasattr(h, "fn"):  # Lam
            return h.fn
        return args[h.index]

    def errors(self, ind: Node, cases: list[int]) -> tuple:
        return cached_errors(self, ind.key(), cases, BIG,
                             lambda i: _distance(self.run_node(ind, self.p.inputs[i]), self.p.outputs[i]))

    # ---- variation -----------------------------------------------------------------------------
    def crossover(self, a: Node, b: Node) -> Node:
        na = a.nodes([])
        target = self.rng.choice(na)
        donors = [n for n in b.nodes([]) if n.nt == target.nt]
        if not donors:
            return self.mutate(a)
        child = a.replace(target, self.rng.choice(donors))
        return child if child.size() <= MAX_NODES else a

    def mutate(self, a: Node) -> Node:
        nodes = a.nodes([])
        consts = [n for n in nodes if isinstance(n.prod.head, Const) and isinstance(n.value, int)
                  and not isinstance(n.value, bool) and n.prod.head.type == "int"]
        if consts and self.rng.random() < 0.2:  # an evolution-strategy step on an integer constant
            c = self.rng.choice(consts)
            step = max(1, int(abs(self.rng.gauss(0, 1 + abs(c.value) / 4))))
            new = Node(c.nt, c.prod, (), c.value + self.rng.choice((-step, step)))
            return a.replace(c, new)
        target = self.rng.choice(nodes)
        child = a.replace(target, self.grow(target.nt, self.rng.randint(1, 4)))
        return child if child.size() <= MAX_NODES else a

    def lexicase(self, pop: list[Node], errs: list[tuple], ncases: int) -> Node:
        order = list(range(ncases))
        self.rng.shuffle(order)
        alive = list(range(len(pop)))
        for c in order:
            best = min(errs[i][c] for i in alive)
            alive = [i for i in alive if errs[i][c] == best]
            if len(alive) == 1:
                break
        return pop[self.rng.choice(alive)]

    # ---- the loop ------------------------------------------------------------------------------
    def run(self) -> tuple[Node | None, str]:
        pop = [self.grow(self.g.start, self.rng.randint(2, MAX_DEPTH)) for _ in range(POP)]
        return evolve(self, pop, len(self.p.inputs), self.deadline)

    def breed(self, pop: list[Node], errs: list[tuple], k: int) -> list[Node]:
        nxt = []
        while len(nxt) < POP:
            r = self.rng.random()
            a = self.lexicase(pop, errs, k)
            if r < 0.6:
                nxt.append(self.crossover(a, self.lexicase(pop, errs, k)))
            elif r < 0.95:
                nxt.append(self.mutate(a))
            else:
                nxt.append(a)
        return nxt


def cached_errors(search, key, cases: list[int], worst: int, error) -> tuple:
    """An individual's error on each case (`error(i)`; `worst` where it raises: undefined on that
    example), remembered in `search.cache` under the individual's `key`; `search.evals` counts the
    individuals evaluated."""
    key = (key, tuple(cases))
    hit = search.cache.get(key)
    if hit is not None:
        return hit
    search.evals += 1
    out = []
    for i in cases:
        try:
            out.append(error(i))
        except Exception:  # noqa: BLE001 - undefined on this example: the worst error
            out.append(worst)
    res = tuple(out)
    if len(search.cache) < 200_000:
        search.cache[key] = res
    return res


def evolve(search, pop: list, n: int, deadline: float):
    """The generations of `search` (GP here, or joint.JointGP over tuples of trees: it has `rng`, `cfg`,
    `evals`, `errors(individual, cases)` and `breed(pop, errors, ncases)`) from `pop`, each judged on a
    sample of the n examples, until one is right on every example or a bound is hit."""
    all_cases = list(range(n))
    while True:
        k = n if n <= 4 else max(4, n // 2)
        cases = sorted(search.rng.sample(all_cases, k))
        errs = []
        for ind in pop:
            e = search.errors(ind, cases)
            errs.append(e)
            if not any(e) and (k == n or not any(search.errors(ind, all_cases))):
                return ind, "found"
            if search.evals >= search.cfg.max_candidates:
                return None, "candidates"
            if clock.now() > deadline:
                return None, "timeout"
        pop = search.breed(pop, errs, k)


def _distance(v, want) -> int:
    if v == want:
        return 0
    if isinstance(v, bool) or isinstance(want, bool):
        return 1
    if isinstance(v, int) and isinstance(want, int):
        return min(BIG, 1 + abs(v - want))
    if isinstance(v, str) and isinstance(want, str):
        common = 0
        for a, b in zip(v, want):
            if a != b:
                break
            common += 1
        return 1 + abs(len(v) - len(want)) + (min(len(v), len(want)) - common)
    return BIG // 2


def solve(problem: Problem, config: Config) -> Result:
    t0 = clock.now()
    gp = GP(problem, config)
    best, reason = gp.run()
    term = best.term() if best is not None else None
    return Result(term is not None, term, gp.evals, clock.now() - t0, "gp", "" if term else reason)
