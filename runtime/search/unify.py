"""Unification: programs assembled from the bottom-up bank instead of enumerated whole.

- Conditionals (`ite`, or helpers such as SyGuS's `im`): a decision list c(C1, T1, c(C2, T2, ... Tk))
  over kept programs, each T right on the examples its condition sends to it (EUSolver's idea).
- String concatenation: the target as A ++ B (++ C), A a kept prefix, the rest looked up by value
  (or deduced as a substring, deduce.py).
Mixed into `BottomUp` (bottomup.py), which calls `unify()` and `split_concat()` after each size level.
"""
from __future__ import annotations

import numpy as np

from .problem import Term

UNIFY_CELLS = 40_000_000  # condition values x examples looked at by one unification (160 MB of float32)
UNIFY_CELLS_PY = 4_000_000  # the same for values kept as Python tuples (each a Python call)
SPLIT_VALUES = 200_000  # kept strings scanned as prefixes by one concatenation split


class Unification:
    """The unification steps of `BottomUp` (uses its banks, target, budget checks and term building)."""

    def _all(self, nt, limit: int):
        """The first `limit` kept vectors of `nt`, smallest programs first (a matrix for numpy kinds, a
        list otherwise), and the (size, index) of each."""
        bank = self.banks[nt]
        sizes = sorted(s for s in bank.recipes if (s in bank.mats if bank.numpy else True))
        refs, vecs = [], []
        for s in sizes:
            take = min(len(bank.recipes[s]), limit - len(refs))
            if take <= 0:
                break
            refs.extend((s, i) for i in range(take))
            if not bank.numpy:
                vecs.extend(bank.vecs[s][:take])
        if bank.numpy:  # the finished levels are the first rows of the bank's store, smallest first: no copy
            return bank.rows.rows[:len(refs)], refs
        return vecs, refs

    def unify(self):
        """Decision lists over kept programs: c(C1, T1, c(C2, T2, ... Tk)) where each T is a kept
        program right on the examples its condition C (a kept program of the condition's
        nonterminal) sends to it, and the last covers what is left (EUSolver's idea, greedy)."""
        for pi, nt, cnt in self.conditionals:
            comp = self.prods[pi][1].head
            numpy_kind = self.banks[nt].numpy and self.banks[cnt].numpy and comp.vec is not None
            limit = max(1, (UNIFY_CELLS if numpy_kind else UNIFY_CELLS_PY) // max(1, self.nex))
            vals, refs = self._all(nt, limit)
            conds, crefs = self._all(cnt, limit)
            if not refs or not crefs:
                continue
            right = self._right(vals, self.banks[nt].numpy)
            sel = self._selects(comp, conds, numpy_kind)
            self._check(len(crefs) + len(refs))
            plan = _decision_list(right, sel, self.max_depth_unify)
            if plan is None:
                continue
            steps, last = plan
            t = self.term(nt, *refs[last])
            for c, ti, then in reversed(steps):
                ct, tt = self.term(cnt, *crefs[c]), self.term(nt, *refs[ti])
                t = Term(comp, (ct, tt, t) if then else (ct, t, tt))
            key = (nt, -1, 0)
            self.built[key] = t
            self.found = key
            return

    def split_concat(self):
        """The target as A ++ B ++ ...: for each kept program A that is a prefix of the target on every
        example, look the rest up among the kept programs (a hash lookup), or split it again (up to
        three parts). Finds concatenations long before enumeration reaches their size."""
        for pi, nt in self.concats:
            comp = self.prods[pi][1].head
            bank = self.banks[nt]
            vals, refs = self._all(nt, SPLIT_VALUES)
            t = self._split(tuple(self.target), vals, refs, bank, comp, nt, 3)
            if t is not None:
                key = (nt, -2, 0)
                self.built[key] = t
                self.found = key
                return

    def _split(self, target, vals, refs, bank, comp, nt, parts):
        hit = bank.seen.get(target)
        if hit is not None:
            return self.term(nt, *hit)
        if parts == 1:
            return None
        tried = 0
        n = 0
        for v, ref in zip(vals, refs):
            n += 1
            if n & 4095 == 0:
                self._check(n)
                n = 0
            if not all(t.startswith(a) for a, t in zip(v, target)) or not any(v):
                continue
            rest = tuple(t[len(a):] for a, t in zip(v, target))
            sub = self._split(rest, vals, refs, bank, comp, nt, parts - 1) if parts > 2 else self._part(rest, nt)
            if sub is not None:
                self._check(n)
                return Term(comp, (self.term(nt, *ref), sub))
            tried += 1
            if tried > (30 if parts > 2 else 400):
                break
        self._check(n)
        return None

    def _part(self, value: tuple, nt: str):
        """The last part of a concatenation: a kept program with this value, or a substring deduced
        for it (deduce.py)."""
        hit = self.banks[nt].seen.get(value)
        if hit is not None:
            return self.term(nt, *hit)
        return self.substring(value, nt) if self.deducing else None

    def _right(self, vals, numpy_kind) -> np.ndarray:
        if numpy_kind:
            return vals == self.target
        tgt = self.target
        return np.array([[a == b for a, b in zip(v, tgt)] for v in vals], dtype=bool).reshape(len(vals), self.nex)

    def _selects(self, comp, conds, numpy_kind) -> np.ndarray:
        """sel[c, e]: condition c sends example e to the `then` argument."""
        if numpy_kind:
            yes, no = np.zeros(self.nex, np.uint64), np.ones(self.nex, np.uint64)
            with np.errstate(all="ignore"):
                return comp.vec(conds, yes[None, :], no[None, :]) == yes[None, :]
        yes, no = object(), object()
        fn = comp.fn
        out = np.zeros((len(conds), self.nex), dtype=bool)
        for i, c in enumerate(conds):
            if i & 1023 == 1023:
                self._check(0)
            for e, ce in enumerate(c):
                try:
                    out[i, e] = fn(ce, yes, no) is yes
                except Exception:  # noqa: BLE001
                    pass
        return out


def _decision_list(right: np.ndarray, sel: np.ndarray, depth: int):
    """Greedy: repeatedly pick a program T and a condition C that sends only examples T gets right
    (among those left) to T, covering the most; stop when one program is right on all that is left.
    Returns ([(condition, program, then?)...], last program) as row indices, or None."""
    left = np.ones(right.shape[1], dtype=bool)
    steps = []
    for _ in range(depth + 1):
        on_left = (right & left).sum(axis=1)
        full = np.flatnonzero(on_left == left.sum())
        if len(full):
            return steps, int(full[0])
        if len(steps) == depth:
            return None
        best = None
        cands = [t for t in np.argsort(-on_left, kind="stable")[:16].tolist() if on_left[t] > 0]
        if not cands:
            return None
        wrong = (~right[cands]).T.astype(np.float32)  # examples x candidate programs
        for then, s in ((True, sel), (False, ~sel)):
            reach = (s & left).astype(np.float32)  # conditions x examples sent to the program
            bad = reach @ wrong  # how many examples each condition sends to a program that gets them wrong
            gain = np.where(bad == 0, reach.sum(axis=1)[:, None], 0)
            c, k = np.unravel_index(int(np.argmax(gain)), gain.shape)
            if gain[c, k] > 0 and (best is None or gain[c, k] > best[0]):
                best = (int(gain[c, k]), int(c), cands[k], then)
        if best is None:
            return None
        _, c, t, then = best
        steps.append((c, t, then))
        left = left & ~(sel[c] if then else ~sel[c])
    return None
