"""Bottom-up enumeration with observational equivalence (the strong baseline for search by example).

Programs are built in order of size from a typed grammar. Every program is represented only by its
value vector (its value on each example); a new program whose vector was seen before (for the same
nonterminal) is dropped, so each size level combines only distinct behaviours. Candidates are never
compiled: a candidate's vector is computed from its children's cached vectors by the component's
rule. Bit-vector (and their boolean) nonterminals keep their vectors as rows of numpy matrices and a
production is evaluated for a whole block of argument combinations at once (broadcasting); the rest
use tuples of Python values and a rule per example.

Bounded by time, candidate count and the number of values kept (memory); deterministic (the
enumeration order is fixed by the grammar's order). After each size level, unify.py assembles
conditionals and concatenations from the programs kept so far.
"""
from __future__ import annotations

import bisect
import gc
import itertools
import time

import numpy as np

from .problem import Component, Config, Const, Grammar, Lam, Production, Result, Term, Var
from .unify import Unification

BV = "bv64"
BLOCK = 1 << 21  # elements per broadcast block


class Stop(Exception):
    def __init__(self, reason: str):
        self.reason = reason


class Recipes:
    """How each kept value was built, (production index, ((size, index), ...)) per value, stored in
    chunks: a block of new numpy rows is one chunk holding the argument index arrays."""

    __slots__ = ("chunks", "starts", "n")

    def __init__(self):
        self.chunks: list = []
        self.starts: list[int] = []
        self.n = 0

    def append(self, recipe) -> None:
        self.chunks.append((recipe,))
        self.starts.append(self.n)
        self.n += 1

    def add_block(self, pi: int, parts: tuple, idxs: list) -> None:
        self.chunks.append((pi, parts, idxs))
        self.starts.append(self.n)
        self.n += len(idxs[0])

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        j = bisect.bisect_right(self.starts, i) - 1
        c = self.chunks[j]
        if len(c) == 1:
            return c[0]
        pi, parts, idxs = c
        off = i - self.starts[j]
        return pi, tuple((s, int(ix[off])) for s, ix in zip(parts, idxs))


class Bank:
    """The distinct values of one nonterminal, by size: vectors and how each was built."""

    __slots__ = ("numpy", "seen", "hashes", "vecs", "mats", "recipes")

    def __init__(self, numpy_kind: bool):
        self.numpy = numpy_kind
        self.seen: dict = {}  # vector -> (size, index) of the program that made it (tuple kinds)
        self.hashes = np.zeros(0, np.uint64)  # sorted 64-bit hashes of the rows kept (numpy kinds)
        self.vecs: dict[int, list] = {}  # size -> vectors (tuples, or numpy rows while a level is built)
        self.mats: dict[int, np.ndarray] = {}  # size -> matrix of rows (numpy kinds, after the level)
        self.recipes: dict[int, Recipes] = {}  # size -> how each value was built

    def count(self, size: int) -> int:
        return len(self.recipes.get(size, ()))


class BottomUp(Unification):
    def __init__(self, grammar: Grammar, inputs: list[tuple], config: Config, target=None,
                 max_size: int = 0, deadline: float | None = None, accept=None):
        self.g = grammar
        self.inputs = inputs
        self.nex = len(inputs)
        self.cfg = config
        self.max_size = max_size or 60
        self.deadline = deadline if deadline is not None else time.perf_counter() + config.timeout
        self.candidates = 0
        self.kept = 0
        self.prods: list[tuple[str, Production]] = list(grammar.productions())
        kinds = self._kinds()
        self.banks = {nt: Bank(kinds[nt]) for nt in grammar.types}
        self.target = None
        self.target_key = None
        if target is not None:
            start = grammar.start
            if self.banks[start].numpy:
                self.target = np.array(target, dtype=self._dtype(start))
            else:
                self.target = tuple(target)
            self.target_set = None
        self.found: tuple[str, int, int] | None = None  # (nt, size, index)
        self.wrap: dict[str, list[int]] = {grammar.start: []}  # target nonterminal -> chain productions above it
        self._chains()
        self.conditionals = self._conditionals() if target is not None else []
        self.built: dict = {}  # (nt, size, index) -> Term, for results built by unification
        self.max_depth_unify = 6
        self.unified_at = 0
        self.concats = self._concats() if target is not None else []
        self.accept = accept  # or a test of whole start-symbol vectors (a hole inside a larger program)
        self.gpu = None  # binary bit-vector productions evaluated on a CUDA device (cuda_eval.py)
        if config.device == "cuda":
            from .cuda_eval import PairEvaluator

            self.gpu = PairEvaluator()

    # ---- set-up ------------------------------------------------------------------------------
    def _kinds(self) -> dict[str, bool]:
        """A nonterminal is kept in numpy form if it is a bit-vector, or a bool all of whose
        productions have numpy rules over numpy-kind arguments."""
        kinds = {nt: t == BV for nt, t in self.g.types.items()}
        for nt, t in self.g.types.items():
            if t == "bool":
                ok = True
                for p in self.g.rules.get(nt, ()):
                    h = p.head
                    if isinstance(h, Component):
                        if h.vec is None or not all(kinds.get(a) or self.g.types[a] == "bool" for a in p.args):
                            ok = False
                    elif not isinstance(h, Const):
                        ok = False
                kinds[nt] = ok
        changed = True
        while changed:  # a bool argument of a numpy production must itself be numpy
            changed = False
            for nt, p in self.g.productions():
                if kinds[nt] and isinstance(p.head, Component) and not all(kinds[a] for a in p.args):
                    kinds[nt] = False
                    changed = True
        return kinds

    def _chains(self):
        """Start -> X chain rules (`(Start String (ntString))`): X's values are Start's values, so the
        target is checked on X and the answer wrapped in the chain."""
        changed = True
        while changed:
            changed = False
            for pi, (nt, p) in enumerate(self.prods):
                h = p.head
                if nt in self.wrap and isinstance(h, Component) and h.name.startswith("<") and len(p.args) == 1 \
                        and p.args[0] not in self.wrap and self.g.types[p.args[0]] == self.g.types[nt]:
                    self.wrap[p.args[0]] = self.wrap[nt] + [pi]
                    changed = True

    def _conditionals(self) -> list[tuple[int, str, str]]:
        """Productions c(cond, then, else) of a target nonterminal (ite, or a helper such as
        `im`): searched by unification, not only by enumeration."""
        out = []
        for pi, (nt, p) in enumerate(self.prods):
            h = p.head
            if nt in self.wrap and isinstance(h, Component) and len(p.args) == 3 and p.args[1] == p.args[2] == nt:
                out.append((pi, nt, p.args[0]))
        return out

    def _concats(self) -> list[tuple[int, str]]:
        """String concatenation productions of a target nonterminal, over that same nonterminal."""
        out = []
        for pi, (nt, p) in enumerate(self.prods):
            h = p.head
            if nt in self.wrap and isinstance(h, Component) and h.name in ("str.++", "concat") and \
                    self.g.types[nt] == "str" and p.args == (nt, nt):
                out.append((pi, nt))
        return out

    def _dtype(self, nt):
        return np.uint64 if self.g.types[nt] == BV else np.bool_

    def leaf_vector(self, nt, head):
        n = self.nex
        if isinstance(head, Var):
            vals = [ex[head.index] for ex in self.inputs]
        elif isinstance(head, Const):
            vals = [head.value] * n
        elif isinstance(head, Lam):
            vals = [head.fn] * n
        else:
            raise TypeError(head)
        if self.banks[nt].numpy:
            return np.array(vals, dtype=self._dtype(nt))
        return tuple(vals)

    # ---- the search --------------------------------------------------------------------------
    def run(self, collect_only: bool = False) -> str:
        """Enumerate until the target is found (returns 'found') or a bound is hit (the reason)."""
        try:
            for size in range(1, self.max_size + 1):
                self.level(size)
                if self.found is not None:
                    return "found"
                for bank in self.banks.values():
                    if bank.numpy and size in bank.vecs:
                        blocks = bank.vecs.pop(size)
                        bank.mats[size] = np.concatenate(blocks) if blocks else \
                            np.zeros((0, self.nex), self._dtype_of(bank))
                if self.conditionals and size >= 2 and self.kept >= 1.3 * self.unified_at:
                    self.unified_at = self.kept  # unify again once the bank has grown by 30%
                    self.unify()
                    if self.found is not None:
                        return "found"
                if self.concats and size >= 2:
                    self.split_concat()
                    if self.found is not None:
                        return "found"
            return "exhausted" if not collect_only else "done"
        except Stop as s:
            return s.reason

    def _dtype_of(self, bank):
        for nt, b in self.banks.items():
            if b is bank:
                return self._dtype(nt)
        return np.uint64

    def level(self, size: int):
        for pi, (nt, p) in enumerate(self.prods):
            h = p.head
            if not isinstance(h, Component):
                cost = max(1, h.body.size() - 1) if isinstance(h, Lam) else 1  # x is free in a lambda
                if size == cost:
                    self.add(nt, size, self.leaf_vector(nt, h), (pi, ()))
                    self.candidates += 1
                    if self.found:
                        return
                continue
            rest = size - h.cost
            k = len(p.args)
            if rest < k:
                continue
            for parts in _compositions(rest, k):
                if any(self.banks[a].count(s) == 0 for a, s in zip(p.args, parts)):
                    continue
                if self.banks[nt].numpy and h.vec is not None:
                    self.combine_numpy(nt, size, pi, h, p.args, parts)
                else:
                    self.combine_scalar(nt, size, pi, h, p.args, parts)
                if self.found:
                    return
            if time.perf_counter() > self.deadline:
                raise Stop("timeout")

    def add(self, nt: str, size: int, vec, recipe) -> None:
        bank = self.banks[nt]
        if bank.numpy:
            h = row_hashes(vec[None, :])
            if len(_new_hashes(bank, h)) == 0:
                return
        else:
            if vec in bank.seen:
                return
            rec = bank.recipes.get(size)
            bank.seen[vec] = (size, len(rec) if rec is not None else 0)
        bank.vecs.setdefault(size, []).append(vec[None, :] if bank.numpy else vec)
        rec = bank.recipes.get(size)
        if rec is None:
            rec = bank.recipes[size] = Recipes()
        rec.append(recipe)
        self.kept += 1
        if self.target is not None and nt in self.wrap:
            if (np.array_equal(vec, self.target) if bank.numpy else vec == self.target):
                self.found = (nt, size, len(bank.recipes[size]) - 1)
        elif nt == self.g.start and self.accept is not None and self.accept(vec):
            self.found = (nt, size, len(bank.recipes[size]) - 1)
        if self.kept * self.nex > self.cfg.max_bank:
            raise Stop("memory")

    def _vectors(self, nt: str, size: int):
        bank = self.banks[nt]
        if bank.numpy:
            return bank.mats[size]
        return bank.vecs[size]

    def combine_scalar(self, nt, size, pi, comp: Component, args, parts):
        fn = comp.fn
        lists = []
        for a, s in zip(args, parts):
            vs = self._vectors(a, s)
            if self.banks[a].numpy:
                vs = [tuple(r.tolist()) for r in vs]
            lists.append(vs)
        numpy_out = self.banks[nt].numpy
        if numpy_out:
            self._combine_into_numpy(nt, size, pi, fn, lists, parts)
            return
        seen = self.banks[nt].seen
        if len(lists) == 1:
            pairs = ((((i,), (a,)) for i, a in enumerate(lists[0])))
        elif len(lists) == 2:
            pairs = (((i, j), (a, b)) for i, a in enumerate(lists[0]) for j, b in enumerate(lists[1]))
        else:
            pairs = ((idx, tuple(lists[k][i] for k, i in enumerate(idx)))
                     for idx in itertools.product(*[range(len(v)) for v in lists]))
        n = 0
        for idx, vals in pairs:
            n += 1
            if n & 4095 == 0:
                self._check(n)
                n = 0
            try:
                out = tuple(map(fn, *vals))
            except Exception:  # noqa: BLE001 - an undefined result (index, overflow, ...) drops the candidate
                continue
            if out in seen:
                continue
            self.add(nt, size, out, (pi, tuple(zip(parts, idx))))
            if self.found:
                break
        self._check(n)

    def _combine_into_numpy(self, nt, size, pi, fn, lists, parts):
        dt = self._dtype(nt)
        n = 0
        for idx in itertools.product(*[range(len(v)) for v in lists]):
            n += 1
            try:
                out = tuple(map(fn, *[lists[j][i] for j, i in enumerate(idx)]))
            except Exception:  # noqa: BLE001
                continue
            self.add(nt, size, np.array(out, dtype=dt), (pi, tuple(zip(parts, idx))))
            if self.found:
                break
            if n & 4095 == 0:
                self._check(n)
                n = 0
        self._check(n)

    def _check(self, n):
        self.candidates += n
        if self.candidates > self.cfg.max_candidates:
            raise Stop("candidates")
        if time.perf_counter() > self.deadline:
            raise Stop("timeout")

    def combine_numpy(self, nt, size, pi, comp: Component, args, parts):
        mats = [self._vectors(a, s) for a, s in zip(args, parts)]
        vec = comp.vec
        e = self.nex
        if len(mats) == 1:
            out = vec(mats[0])
            self._take(nt, size, pi, parts, out, [np.arange(len(mats[0]))])
            return
        # fix all but the last two arguments, broadcast the last two in blocks
        lead = mats[:-2]
        a, b = mats[-2], mats[-1]
        rows_a = max(1, BLOCK // max(1, len(b) * e))
        on_gpu = self.gpu is not None and self.gpu.supports(comp.name, len(mats))
        with np.errstate(all="ignore"):
            for fixed in itertools.product(*[range(len(m)) for m in lead]):
                fixed_rows = [m[i] for m, i in zip(lead, fixed)]
                for start in range(0, len(a), rows_a):
                    blk = a[start:start + rows_a]
                    if on_gpu:
                        out = self.gpu.pairs(comp.name, (args[0], parts[0]), a, start, len(blk),
                                             (args[1], parts[1]), b)
                    else:
                        out = vec(*fixed_rows, blk[:, None, :], b[None, :, :]).reshape(-1, e)
                    ia = np.repeat(np.arange(start, start + len(blk)), len(b))
                    ib = np.tile(np.arange(len(b)), len(blk))
                    idx = [np.full(len(out), i) for i in fixed] + [ia, ib]
                    self._take(nt, size, pi, parts, out, idx)
                    if self.found:
                        return

    def _take(self, nt, size, pi, parts, out, idx):
        """Keep the new rows of a block of results (`idx[j][r]` is argument j's row for result r)."""
        self._check(len(out))
        bank = self.banks[nt]
        if out.dtype != self._dtype(nt):
            out = out.astype(self._dtype(nt))
        if self.target is not None and nt in self.wrap:
            hit = np.flatnonzero((out == self.target).all(axis=1))
            if len(hit):
                r = int(hit[0])
                self.add(nt, size, out[r], (pi, tuple((s, int(ix[r])) for s, ix in zip(parts, idx))))
                if self.found:
                    return
        # drop duplicates inside the block and against the bank, by 64-bit row hashes, all vectorised
        h = row_hashes(out)
        uh, first = np.unique(h, return_index=True)
        fresh = _new_hashes(bank, uh, first)
        if len(fresh) == 0:
            return
        rows = np.sort(fresh)
        sel = rows
        bank.vecs.setdefault(size, []).append(out[rows])
        rec = bank.recipes.get(size)
        if rec is None:
            rec = bank.recipes[size] = Recipes()
        rec.add_block(pi, parts, [np.asarray(ix)[rows] for ix in idx])
        self.kept += len(sel)
        if self.kept * self.nex > self.cfg.max_bank:
            raise Stop("memory")

    # ---- results -----------------------------------------------------------------------------
    def answer(self) -> Term:
        nt, size, index = self.found
        t = self.built.get(self.found) or self.term(nt, size, index)
        for pi in reversed(self.wrap.get(nt, [])):
            t = Term(self.prods[pi][1].head, (t,))
        return t

    def term(self, nt: str, size: int, index: int) -> Term:
        pi, kids = self.banks[nt].recipes[size][index]
        _, p = self.prods[pi]
        args = tuple(self.term(a, s, i) for a, (s, i) in zip(p.args, kids))
        return Term(p.head, args)

    def terms(self, nt: str):
        """Every distinct program kept for `nt`, smallest first (for lambda enumeration)."""
        bank = self.banks[nt]
        for size in sorted(bank.recipes):
            for i in range(len(bank.recipes[size])):
                yield size, self.term(nt, size, i)


_MULT = np.uint64(0x9E3779B97F4A7C15)


_COLUMN_KEYS = np.random.default_rng(0x5EED).integers(1, 2 ** 63, size=4096, dtype=np.uint64) * np.uint64(2) + \
    np.uint64(1)  # fixed odd multipliers, one per example (deterministic)


def row_hashes(mat: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row: every value is mixed by a bijection (xorshift, odd multiply), then
    the row is a weighted sum with a fixed odd key per column, mod 2**64. Two rows with the same hash
    are taken to be the same value (for a million kept values the chance of any false merge is
    about 3e-8)."""
    m = np.ascontiguousarray(mat)
    if m.dtype != np.uint64:
        m = m.astype(np.uint64)
    e = m.shape[1]
    keys = _COLUMN_KEYS[:e] if e <= len(_COLUMN_KEYS) else np.resize(_COLUMN_KEYS, e)
    with np.errstate(over="ignore"):
        x = m ^ (m >> np.uint64(31))
        x *= _MULT
        x ^= x >> np.uint64(29)
        x *= keys
        h = x.sum(axis=1, dtype=np.uint64)
        h ^= h >> np.uint64(32)
    return h


def _new_hashes(bank: Bank, uh: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Of the distinct sorted hashes `uh`, those not in the bank: added to it; returns their rows."""
    hs = bank.hashes
    if len(hs):
        pos = np.minimum(np.searchsorted(hs, uh), len(hs) - 1)
        new = hs[pos] != uh
    else:
        new = np.ones(len(uh), dtype=bool)
    if new.any():
        merged = np.concatenate([hs, uh[new]])
        merged.sort(kind="stable")
        bank.hashes = merged
    return (rows if rows is not None else np.arange(len(uh)))[new]


def _compositions(total: int, k: int):
    """Ordered ways of writing `total` as a sum of k positive parts."""
    if k == 1:
        yield (total,)
        return
    for first in range(1, total - k + 2):
        for rest in _compositions(total - first, k - 1):
            yield (first,) + rest


def solve(problem, config: Config) -> Result:
    return solve_with(problem, config, None)


def solve_with(problem, config: Config, accept) -> Result:
    """Search against the examples' results, or (with `accept`) for a start-symbol value vector that
    `accept` takes."""
    t0 = time.perf_counter()
    gc_was_enabled = gc.isenabled()
    gc.disable()  # the bank is many small long-lived tuples: the cyclic collector would only rescan them
    try:
        return _solve(problem, config, accept, t0)
    finally:
        if gc_was_enabled:
            gc.enable()


def _solve(problem, config, accept, t0) -> Result:
    bu = BottomUp(problem.grammar, problem.inputs, config, target=None if accept else problem.outputs,
                  max_size=problem.max_size, deadline=t0 + config.timeout, accept=accept)
    reason = bu.run()
    term = bu.answer() if bu.found else None
    return Result(term is not None, term, bu.candidates, time.perf_counter() - t0, "bottom-up",
                  "" if term is not None else reason)
