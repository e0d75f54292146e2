"""Top-down search with deduction for higher-order list programs (the idea of lambda^2, Feser et al.
2015): work from the result's type downwards, and where the grammar offers a higher-order component
whose examples can be split, split them instead of enumerating its lambda.

Bottom-up enumeration (bottomup.py) treats a lambda as a leaf from a fixed pool enumerated up to a
small size (`x + 1`, `x % 2 == 0`), so `map(lambda x: x * x - 1, xs)` is out of its reach however long
it runs. Top-down, the examples of the whole program tell what the lambda must do:

    map(f, L)       out_i has L_i's length       -> f(L_i[j]) = out_i[j] for every j: f's own examples
    filter(p, L)    out_i is a subsequence of L_i -> p is true on the kept elements, false on the others
    zipwith(f, A, B) out_i has A_i's, B_i's length -> f(A_i[j], B_i[j]) = out_i[j]
    reverse(L)      -> L's examples are the results reversed: a new goal, searched the same way

The lists L, A, B are the small list programs of the grammar (the inputs, `sorted(xs)`, `xs[1:]`,
`filter(...)` with a pooled lambda, ...: bottom-up's bank up to size 3), smallest first. A lambda's
examples (pooled over every element of every example; one element value with two wanted results
ends that split) are a problem of their own, solved by bottom-up enumeration over the lambda's
parameters with no size cap short of the time left. Each split is tried in turn, so the program
found is the first split (by the list's size) whose lambda exists; it is checked on every example.
What deduction cannot split (an int result, a fold) goes to bottom-up with the time that is left.
"""
from __future__ import annotations

from dataclasses import replace

from . import clock
from .bottomup import BottomUp, solve_with
from .library import _closure, lambda_grammar, lambda_rows, lambda_signature
from .problem import Component, Config, Lam, Problem, Result, Term
from .terms import evaluate, term_depth

LIST_SIZE = 3  # list programs tried as the L of a split
DEDUCTION_SHARE = 0.4  # of the time limit, before bottom-up takes over
MAX_DEPTH = 2  # nested goals (reverse(map(...)))
SPLITS = ("map", "map_to_bool", "filter", "zipwith", "reverse")
LAMBDA_SIZES = (5, 7, 9, 11)  # the bounds of iterative deepening over every split's lambda
# Lambda bodies up to this size are enumerated on Python values: their banks are small (one row per
# distinct element), and the compiled kernel would cost the process Numba's import and cache load
# (0.5-1.5 s, more than the whole search; a compile after installing); larger bounds use the kernel.
PYTHON_LAMBDA_SIZE = LAMBDA_SIZES[0]


def solve(problem: Problem, config: Config) -> Result:
    """Deduction first; a program it finds stands only if bottom-up finds none smaller (the smaller
    program generalises better: `reversed(xs)`, not a lambda that fits two examples). Without one,
    bottom-up has the time that is left."""
    t0 = clock.now()
    td = TopDown(problem, config, t0 + config.timeout * DEDUCTION_SHARE)
    term = td.goal(problem.grammar.start, list(problem.outputs), 0)
    if term is not None and (problem.max_size and enumeration_size(term) > problem.max_size or
                             problem.max_depth and term_depth(term) > problem.max_depth):
        term = None  # beyond the hole's size= or depth= bound
    smaller = problem
    if term is not None:
        bound = enumeration_size(term) - 1
        smaller = replace(problem, max_size=min(problem.max_size or bound, bound))
    rest = replace(config, timeout=max(0.05, config.timeout - (clock.now() - t0)))
    result = solve_with(smaller, rest, None) if smaller.max_size != 0 or term is None else None
    if term is not None and (result is None or not result.solved):
        result = Result(True, term, td.candidates + (result.candidates if result else 0), 0.0, "top-down")
    else:
        result.candidates += td.candidates
        result.strategy = "top-down/" + result.strategy
    result.seconds = clock.now() - t0
    return result


def enumeration_size(term: Term) -> int:
    """The size bottom-up gives `term` (an enumerated lambda costs its body's size less one)."""
    h = term.head
    own = max(1, h.body.size() - 1) if isinstance(h, Lam) else 1
    return own + sum(enumeration_size(a) for a in term.args)


def applies(problem: Problem) -> bool:
    """Whether deduction has anything to split: a list result and a splitting component for it."""
    g = problem.grammar
    return g.types.get(g.start, "").startswith("list[") and any(
        isinstance(p.head, Component) and p.head.name in SPLITS for p in g.rules.get(g.start, ()))


class TopDown:
    def __init__(self, problem: Problem, config: Config, deadline: float):
        self.p, self.config, self.deadline = problem, config, deadline
        self.g = problem.grammar
        self.inputs = problem.inputs
        self.candidates = 0
        self._lists: dict[str, list[tuple[Term, list]]] = {}
        self._lambdas: dict[tuple, tuple[Lam | None, int]] = {}  # examples -> (lambda, size bound exhausted)

    def time_left(self) -> float:
        return self.deadline - clock.now()

    def goal(self, nt: str, outs: list, depth: int, reverse: bool = True) -> Term | None:
        """A program of nonterminal `nt` whose value on example i is outs[i], by splitting: every
        split's lambda is searched with a small size bound first, then larger ones (iterative
        deepening, so one lambda that does not exist cannot use up the time); a split under
        `reverse` comes last, and never twice in a row."""
        prods = [p for p in self.g.rules.get(nt, ()) if isinstance(p.head, Component) and p.head.name in SPLITS]
        splits = [s for p in prods if p.head.name != "reverse" for s in self.splits(p.head, p.args, outs)]
        for cap in LAMBDA_SIZES:
            for h, ftype, elem, lists, pairs in splits:
                if self.time_left() <= 0:
                    return None
                lam = self.lambda_for(ftype, elem, pairs, cap)
                if lam is not None:
                    found = self.checked(Term(h, (Term(lam),) + tuple(t for t, _ in lists)), outs)
                    if found is not None:
                        return found
        for p in prods:
            if p.head.name == "reverse" and reverse and depth < MAX_DEPTH:
                inner = self.goal(p.args[0], [tuple(reversed(o)) for o in outs], depth + 1, reverse=False)
                if inner is not None:
                    return self.checked(Term(p.head, (inner,)), outs)
        return None

    def splits(self, h: Component, args: tuple[str, ...], outs: list):
        """Every way to split `outs` through h(lambda, lists...): (h, the lambda's type, the element
        type, the lists with their values, the lambda's examples), smallest lists first."""
        ftype, list_nts = self.g.types[args[0]], args[1:]
        if not ftype.startswith("fn(") or (h.name == "zipwith") != (len(list_nts) == 2):
            return
        elem = self.g.types[list_nts[0]][5:-1]
        for lists in self._list_choices(list_nts, outs):
            pairs = _element_examples(h.name, [v for _, v in lists], outs)
            if pairs:
                yield h, ftype, elem, lists, pairs

    def _list_choices(self, list_nts, outs):
        """Lists (with their values) whose lengths fit the results, smallest programs first; pairs of
        equally long lists for zipwith."""
        first = self.lists(list_nts[0])
        if len(list_nts) == 1:
            yield from ([c] for c in first)
            return
        second = self.lists(list_nts[1])
        for a in first:
            if not all(len(x) == len(o) for x, o in zip(a[1], outs)):
                continue
            for b in second:
                if all(len(x) == len(o) for x, o in zip(b[1], outs)):
                    yield [a, b]

    def lists(self, nt: str) -> list[tuple[Term, list]]:
        """The distinct list programs of `nt` up to LIST_SIZE, with their values, smallest first."""
        if nt not in self._lists:
            bu = BottomUp(self.g, self.inputs, Config(timeout=max(0.05, self.time_left() / 4),
                                                      max_bank=self.config.max_bank), max_size=LIST_SIZE,
                          int_words=False)  # a small bank: Python values, no Numba
            bu.run(collect_only=True)
            self.candidates += bu.candidates
            out = []
            for _, t in bu.terms(nt):
                try:
                    out.append((t, [evaluate(t, ex) for ex in self.inputs]))
                except Exception:  # noqa: BLE001 - undefined on an example: no use as a split
                    continue
            self._lists[nt] = out
        return self._lists[nt]

    def lambda_for(self, ftype: str, elem: str, pairs: dict, max_size: int) -> Lam | None:
        """The smallest lambda body (at most `max_size`) mapping every argument tuple of `pairs` to its
        result (memoised: the same examples come back at the next size bound and in other splits)."""
        key = (ftype, tuple(pairs.items()))
        done = self._lambdas.get(key)
        if done is not None and (done[0] is not None or done[1] >= max_size):
            return done[0]
        names, _ = lambda_signature(ftype, elem)
        args = list(pairs)
        deadline = clock.now() + max(0.05, min(self.time_left(), self.config.timeout * 0.25))
        bu = BottomUp(lambda_grammar(ftype, elem), lambda_rows(args),
                      Config(timeout=self.config.timeout, max_bank=self.config.max_bank),
                      target=[pairs[a] for a in args], max_size=max_size, deadline=deadline,
                      int_words=max_size > PYTHON_LAMBDA_SIZE)
        reason = bu.run()
        self.candidates += bu.candidates
        lam = None
        if reason == "found":
            body = bu.answer()
            lam = Lam(_closure(body, len(names)), body, names, ftype)
        self._lambdas[key] = (lam, max_size if reason == "exhausted" else 0)
        return lam

    def checked(self, term: Term, outs: list) -> Term | None:
        self.candidates += 1
        try:
            return term if all(evaluate(term, ex) == o for ex, o in zip(self.inputs, outs)) else None
        except Exception:  # noqa: BLE001 - undefined on an example
            return None


def _element_examples(name: str, lists: list[list], outs: list) -> dict | None:
    """The lambda's examples {argument tuple: result} that `name(lambda, *lists) == outs` needs, or None
    when the split is impossible (lengths differ, not a subsequence, one argument wanting two
    results)."""
    pairs: dict = {}

    def want(key, value) -> bool:
        return pairs.setdefault(key, value) == value and type(pairs[key]) is type(value)

    if name == "filter":
        for xs, out in zip(lists[0], outs):
            j = 0
            for x in xs:  # the greedy alignment: the first unmatched element equal to the next result
                keep = j < len(out) and x == out[j]
                j += keep
                if not want((x,), keep):
                    return None
            if j != len(out):
                return None
        return pairs
    for i, out in enumerate(outs):
        cols = [lst[i] for lst in lists]
        if any(len(c) != len(out) for c in cols):
            return None
        for j, y in enumerate(out):
            if not want(tuple(c[j] for c in cols), y):
                return None
    return pairs
