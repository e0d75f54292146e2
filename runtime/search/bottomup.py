"""Bottom-up enumeration with observational equivalence (the strong baseline for search by example).

Programs are built in order of size from a typed grammar. Every program is represented only by its
value vector (its value on each example); a new program whose vector was seen before (for the same
nonterminal) is dropped, so each size level combines only distinct behaviours. Candidates are never
compiled: a candidate's vector is computed from its children's cached vectors by the component's
rule. Bit-vector and integer nonterminals (and their booleans) keep their vectors as rows of 64-bit
words in a row hash set, and a production with VM code is evaluated for all its argument
combinations by a precompiled kernel that inserts the new rows in the same pass (bvkernel.py); the
rest use tuples of Python values and a rule per example. An SMT-LIB Int beyond 64 bits starts the
search again with Python ints (`Inexact`).

Bounded by time, candidate count and the number of values kept (memory); deterministic (the
enumeration order is fixed by the grammar's order). After each size level, unify.py assembles
conditionals and concatenations from the programs kept so far.
"""
from __future__ import annotations

import bisect
import gc
import itertools
from dataclasses import replace

import numpy as np

from . import clock
from .bvcode import COPY, INEXACT_HIT, INT_MAX, INT_MIN, MASK, assemble
from .problem import Component, Config, Const, Grammar, Lam, Production, Result, Term, Var
from .deduce import Deduction
from .unify import Unification

BV = "bv64"
BLOCK = 1 << 21  # elements per broadcast block (components with a numpy rule but no VM code)
CHUNK = 1 << 20  # combinations per kernel call: the time and candidate bounds are checked between calls
LOOKAHEAD_MIN = 10_000  # candidates the level after a unified decision list may take at least


class Stop(Exception):
    def __init__(self, reason: str):
        self.reason = reason


class Inexact(Exception):
    """An SMT-LIB Int needed more than 64 bits: the search goes on with Python ints."""


def _words(vals) -> np.ndarray:
    """Values as the VM's words: bit-vectors as they are, booleans as 0 and 1, ints in two's complement."""
    return np.array([int(v) & MASK for v in vals], dtype=np.uint64)


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

    __slots__ = ("numpy", "seen", "rows", "starts", "vecs", "mats", "recipes")

    def __init__(self, numpy_kind: bool, nex: int, limit: int):
        self.numpy = numpy_kind
        self.seen: dict = {}  # vector -> (size, index) of the program that made it (tuple kinds)
        self.rows = None  # every row kept, in order (numpy kinds): a RowSet
        if numpy_kind:
            from .bvkernel import RowSet  # Numba is loaded only by searches that keep numpy banks
            self.rows = RowSet(nex, limit)
        self.starts: dict[int, int] = {}  # size -> its first row in `rows` (numpy kinds)
        self.vecs: dict[int, list] = {}  # size -> vectors (tuple kinds)
        self.mats: dict[int, np.ndarray] = {}  # size -> its rows (numpy kinds, after the level)
        self.recipes: dict[int, Recipes] = {}  # size -> how each value was built

    def count(self, size: int) -> int:
        return len(self.recipes.get(size, ()))

    def close_level(self, size: int) -> None:
        """The level's rows become `mats[size]`; every level's view is taken again from the current
        store (it moves when it grows: the old one is freed)."""
        rows = self.rows.rows
        ends = sorted(self.starts.items()) + [(None, self.rows.n)]
        for (s, lo), (_, hi) in zip(ends, ends[1:]):
            self.mats[s] = rows[lo:hi]


class BottomUp(Unification, Deduction):
    def __init__(self, grammar: Grammar, inputs: list[tuple], config: Config, target=None,
                 max_size: int = 0, deadline: float | None = None, accept=None, int_words: bool = True):
        self.g = grammar
        self.inputs = inputs
        self.nex = len(inputs)
        self.cfg = config
        self.max_size = max_size or 60
        self.deadline = deadline if deadline is not None else clock.now() + config.timeout
        self.prods: list[tuple[str, Production]] = list(grammar.productions())
        self.outputs = target
        self.wrap: dict[str, list[int]] = {grammar.start: []}  # target nonterminal -> chain productions above it
        self._chains()
        self.conditionals = self._conditionals() if target is not None else []
        self.max_depth_unify = 6
        self.concats = self._concats() if target is not None else []
        self.deductive = self._deductions() if target is not None else ({}, [], [])
        self.deducing = target is not None and self.deducible()
        self._int_cache: dict = {}  # integer nonterminal -> (values kept, matrix, refs) for deduction
        self._int_blocks: dict = {}  # integer nonterminal -> {size: that level's values as a matrix}
        self._chains_tried: set = set()  # replace-chain searches done (production, programs available)
        self._chain_starts: dict = {}  # kept value -> its edit distance to the target on each example
        self.accept = accept  # or a test of whole start-symbol vectors (a hole inside a larger program)
        self.gpu = None  # binary bit-vector productions evaluated on a CUDA device (cuda_eval.py)
        if config.device == "cuda":
            from .cuda_eval import PairEvaluator

            self.gpu = PairEvaluator()
        self._start(int_words and self._ints_fit())

    def _start(self, int_words: bool) -> None:
        """An empty bank per nonterminal; `int_words`: integer and boolean nonterminals whose productions
        all have VM code are kept as 64-bit words and evaluated by the kernel (else as Python values, and
        a search with no bit-vectors does not load Numba)."""
        self.int_words = int_words
        self.candidates = 0
        self.kept = 0
        kinds = self._kinds()
        limit = self.cfg.max_bank // max(1, self.nex) + 1  # rows of one bank past the memory bound
        self.banks = {nt: Bank(kinds[nt], self.nex, limit) for nt in self.g.types}
        self.codes: dict[int, tuple] = {}  # production index -> assembled VM code
        self.kept_buf = np.empty(CHUNK, np.int64)
        self.target = None
        if self.outputs is not None:
            self.target = _words(self.outputs) if self.banks[self.g.start].numpy else tuple(self.outputs)
        self.found: tuple[str, int, int] | None = None  # (nt, size, index)
        self.built: dict = {}  # (nt, size, index) -> Term, for results built by unification
        self.unified_at = 0

    # ---- set-up ------------------------------------------------------------------------------
    def _kinds(self) -> dict[str, bool]:
        """A nonterminal is kept in numpy form (as words) if it is a bit-vector; with `int_words`, an int
        all of whose productions are leaves or have VM code, or a bool all of whose productions are
        leaves or have VM code or a numpy rule. Arguments of a numpy production must be numpy too."""
        def words(nt: str, t: str) -> bool:
            for p in self.g.rules.get(nt, ()):
                h = p.head
                if isinstance(h, Component):
                    if not (self._code_of(h) is not None or (t == "bool" and h.vec is not None)):
                        return False
                elif not isinstance(h, (Const, Var)):
                    return False
            return True

        kinds = {nt: t == BV or (t in ("bool", "int") and self.int_words) and words(nt, t)
                 for nt, t in self.g.types.items()}
        changed = True
        while changed:
            changed = False
            for nt, p in self.g.productions():
                if kinds[nt] and isinstance(p.head, Component) and not all(kinds[a] for a in p.args):
                    kinds[nt] = False
                    changed = True
        # a bank of leaves that no compiled production reads gains nothing from words, and would load
        # Numba for nothing (a list hole's int constants at depth=1; any bank under size=1)
        combined = {nt for nt, p in self.g.productions() if kinds[nt] and isinstance(p.head, Component)} \
            if self.max_size > 1 else set()
        read = {a for nt, p in self.g.productions() if nt in combined and isinstance(p.head, Component) for a in p.args}
        for nt, t in self.g.types.items():
            if kinds[nt] and t != BV and nt not in combined | read:
                kinds[nt] = False
        return kinds

    def _ints_fit(self) -> bool:
        """Every int the search starts from (inputs, constants, the examples' results) is a 64-bit
        word: else ints stay Python ints (SMT-LIB's are unbounded)."""
        ints = []
        for _, p in self.prods:
            h = p.head
            if isinstance(h, Const) and h.type == "int":
                ints.append(h.value)
            elif isinstance(h, Var) and h.type == "int":
                ints += [ex[h.index] for ex in self.inputs]
        if self.outputs is not None and self.g.types[self.g.start] == "int":
            ints += list(self.outputs)
        return all(INT_MIN <= v <= INT_MAX for v in ints)

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
            return _words(vals)
        return tuple(vals)

    # ---- the search --------------------------------------------------------------------------
    def run(self, collect_only: bool = False) -> str:
        """Enumerate until the target is found (returns 'found') or a bound is hit (the reason). An
        SMT-LIB Int beyond 64 bits starts the search again with Python ints, within the same time."""
        try:
            return self._run(collect_only)
        except Inexact:
            self._start(int_words=False)
            return self._run(collect_only)

    def _run(self, collect_only: bool) -> str:
        try:
            for size in range(1, self.max_size + 1):
                self.grow(size)
                if self.found is not None:
                    return "found"
                if self.conditionals and size >= 2 and self.kept >= 1.3 * self.unified_at:
                    self.unified_at = self.kept  # unify again once the bank has grown by 30%
                    self.unify()
                    if self.found is not None:
                        return self._smaller_than_unified(size)
                if self.concats and size >= 2:
                    self.split_concat()
                    if self.found is not None:
                        return "found"
                if self.deducing and size >= 2:
                    self.deduce(size)
                    if self.found is not None:
                        return "found"
            return "exhausted" if not collect_only else "done"
        except Stop as s:
            return s.reason

    def _smaller_than_unified(self, size: int) -> str:
        """A decision list unified after level `size` is larger than the level, and may only fit the
        examples piece by piece: it stands unless the next level, enumerated within as many candidates
        as the search has taken so far (at least LOOKAHEAD_MIN), holds a smaller program right on its
        own (`len(filter(lambda x: x, xs))` of size 3, not `1 if min(xs) else 2 if xs[0] else 0`,
        unified after level 2). Deterministic: bounded by candidates, not time. (Concatenations and
        deductions are built from the target, not case by case: they stand as found.)"""
        assembled, saved = self.found, self.cfg
        if self.answer().size() <= size + 1:
            return "found"
        self.found = None
        budget = self.candidates + max(self.candidates, LOOKAHEAD_MIN)
        self.cfg = replace(saved, max_candidates=min(saved.max_candidates, budget))
        try:
            self.grow(size + 1)
        except Stop:
            pass
        finally:
            self.cfg = saved
        if self.found is None:
            self.found = assembled
        return "found"

    def grow(self, size: int) -> None:
        """Enumerate one size level of every nonterminal (raises Stop at a bound)."""
        for bank in self.banks.values():
            if bank.numpy:
                bank.starts[size] = bank.rows.n
        self.level(size)
        if self.found is not None:
            return
        for bank in self.banks.values():
            if bank.numpy:
                bank.close_level(size)

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
                if self.banks[nt].numpy and self._code(pi) is not None:
                    self.combine_compiled(nt, size, pi, p.args, parts)
                elif self.banks[nt].numpy and h.vec is not None:
                    self.combine_numpy(nt, size, pi, h, p.args, parts)
                else:
                    self.combine_scalar(nt, size, pi, h, p.args, parts)
                if self.found:
                    return
            if clock.now() > self.deadline:
                raise Stop("timeout")

    def add(self, nt: str, size: int, vec, recipe) -> None:
        bank = self.banks[nt]
        if bank.numpy:
            if not bank.rows.add(vec):
                if bank.rows.full:
                    raise Stop("memory")
                return
        else:
            if vec in bank.seen:
                return
            rec = bank.recipes.get(size)
            bank.seen[vec] = (size, len(rec) if rec is not None else 0)
        if not bank.numpy:
            bank.vecs.setdefault(size, []).append(vec)
        rec = bank.recipes.get(size)
        if rec is None:
            rec = bank.recipes[size] = Recipes()
        rec.append(recipe)
        self.kept += 1
        if self.target is not None and nt in self.wrap:
            if (np.array_equal(vec, self.target) if bank.numpy else vec == self.target):
                self.found = (nt, size, len(bank.recipes[size]) - 1)
        elif nt == self.g.start and self.accept is not None and \
                self.accept(vec, lambda: self.answer((nt, size, len(rec) - 1))):
            self.found = (nt, size, len(rec) - 1)
        if self.kept * self.nex > self.cfg.max_bank:
            raise Stop("memory")

    def _vectors(self, nt: str, size: int):
        bank = self.banks[nt]
        if bank.numpy:
            return bank.mats[size]
        return bank.vecs[size]

    def python_vectors(self, nt: str, size: int) -> list[tuple]:
        """The values `nt` first made at `size`, as tuples of Python values (numpy rows converted)."""
        vs = self._vectors(nt, size)
        if not self.banks[nt].numpy:
            return vs
        t = self.g.types[nt]
        return [tuple(r.tolist()) for r in (vs.astype(bool) if t == "bool" else vs.view(np.int64) if t == "int"
                                             else vs)]

    def combine_scalar(self, nt, size, pi, comp: Component, args, parts):
        fn = comp.fn
        lists = [self.python_vectors(a, s) for a, s in zip(args, parts)]
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
        """A component without VM code or numpy rule, into a numpy bank: rows computed per example
        in Python, a block at a time, then inserted by the kernel."""
        combos = itertools.product(*[range(len(v)) for v in lists])
        while True:
            block = list(itertools.islice(combos, 4096))
            if not block:
                return
            rows, idx = [], []
            for combo in block:
                try:
                    rows.append(tuple(map(fn, *[lists[j][i] for j, i in enumerate(combo)])))
                except Exception:  # noqa: BLE001 - an undefined result drops the candidate
                    continue
                idx.append(combo)
            if rows:
                self._take(nt, size, pi, parts, np.array(rows, dtype=np.uint64).reshape(len(rows), self.nex),
                           [np.array(c, dtype=np.int64) for c in zip(*idx)], counted=len(block))
            else:
                self._check(len(block))
            if self.found:
                return

    def _check(self, n):
        self.candidates += n
        if self.candidates > self.cfg.max_candidates:
            raise Stop("candidates")
        if clock.now() > self.deadline:
            raise Stop("timeout")

    def _code(self, pi: int):
        """The production's component assembled for the VM (None when it has no code, or the VM
        lacks one of its operations)."""
        if pi not in self.codes:
            self.codes[pi] = self._code_of(self.prods[pi][1].head)
        return self.codes[pi]

    @staticmethod
    def _code_of(comp: Component):
        if comp.code is None or not comp.args:
            return None
        try:
            return assemble(comp.code, len(comp.args))
        except KeyError:
            return None

    def combine_compiled(self, nt, size, pi, args, parts):
        """Every combination of the argument rows, evaluated and deduplicated by the kernel in one
        pass, CHUNK combinations a call; the leading arguments of a component with more than three
        are fixed in Python."""
        mats = [self._vectors(a, s) for a, s in zip(args, parts)]
        lead, last = mats[:-3], mats[-3:]
        dims = [len(m) for m in last]
        total = int(np.prod(dims))
        target = self.target if (self.target is not None and nt in self.wrap) else None
        rows = self.banks[nt].rows
        for fixed in itertools.product(*[range(len(m)) for m in lead]):
            F = np.ascontiguousarray(np.stack([m[i] for m, i in zip(lead, fixed)])) if lead else None
            for lo in range(0, total, CHUNK):
                hi = min(total, lo + CHUNK)
                pos, nk, hit = rows.combine(self.codes[pi], last, lo, hi, self.kept_buf, target, F)
                if nk:
                    lin = self.kept_buf[:nk]
                    self._record(nt, size, pi, parts,
                                 [np.full(nk, i, np.int64) for i in fixed] + list(np.unravel_index(lin, dims)))
                if rows.full:
                    raise Stop("memory")
                if hit == INEXACT_HIT:
                    raise Inexact()
                if hit >= 0:
                    self.candidates += pos - lo + 1
                    self.add(nt, size, self.target, (pi, tuple(zip(parts, fixed + _unravel(hit, dims)))))
                    return
                self._check(hi - lo)

    def _record(self, nt, size, pi, parts, idx):
        """Recipes of the rows the kernel kept (`idx[j][r]`: argument j's row for kept row r)."""
        rec = self.banks[nt].recipes.get(size)
        if rec is None:
            rec = self.banks[nt].recipes[size] = Recipes()
        rec.add_block(pi, parts, idx)
        self.kept += len(idx[0])
        if self.kept * self.nex > self.cfg.max_bank:
            raise Stop("memory")

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

    def _take(self, nt, size, pi, parts, out, idx, counted=None):
        """Keep the new rows of a block of results (`idx[j][r]` is argument j's row for result r),
        inserted by the kernel in order."""
        out = np.ascontiguousarray(out, dtype=np.uint64)
        target = self.target if (self.target is not None and nt in self.wrap) else None
        if len(out) > len(self.kept_buf):
            self.kept_buf = np.empty(len(out), np.int64)
        _, nk, hit = self.banks[nt].rows.combine(COPY, [out], 0, len(out), self.kept_buf, target)
        if nk:
            self._record(nt, size, pi, parts, [np.asarray(ix)[self.kept_buf[:nk]] for ix in idx])
        if self.banks[nt].rows.full:
            raise Stop("memory")
        if hit >= 0:
            self.candidates += len(out) if counted is None else counted
            self.add(nt, size, out[hit], (pi, tuple((s, int(ix[hit])) for s, ix in zip(parts, idx))))
            return
        self._check(len(out) if counted is None else counted)

    # ---- results -----------------------------------------------------------------------------
    def answer(self, at=None) -> Term:
        """The program found (or the one kept at `at`: (nonterminal, size, index))."""
        at = at or self.found
        nt, size, index = at
        t = self.built.get(at) or self.term(nt, size, index)
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


def _unravel(lin: int, dims: list[int]) -> tuple[int, ...]:
    return tuple(int(x) for x in np.unravel_index(int(lin), dims))


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
    `accept(vector, program)` takes (`program()` builds the candidate's term)."""
    t0 = clock.now()
    gc_was_enabled = gc.isenabled()
    gc.disable()  # the bank is many small long-lived tuples: the cyclic collector would only rescan them
    try:
        return _solve(problem, config, accept, t0)
    finally:
        if gc_was_enabled:
            gc.enable()


def _solve(problem, config, accept, t0) -> Result:
    bu = BottomUp(problem.grammar, problem.inputs, config, target=None if accept else problem.outputs,
                  max_size=problem.max_size, deadline=t0 + config.timeout, accept=accept,
                  int_words=accept is None)  # `accept` takes Python values, checked one by one in `add`
    reason = bu.run()
    term = bu.answer() if bu.found else None
    return Result(term is not None, term, bu.candidates, clock.now() - t0, "bottom-up",
                  "" if term is not None else reason)
