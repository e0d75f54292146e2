"""Deduction for string targets: programs built top-down from the target's values, their parts looked
up by value among the programs the bottom-up bank keeps (the divide-and-conquer half of search).

- Substrings (`str.substr S I L`, SMT-LIB's start and length): when the target is a substring of a
  kept string program S on every example, the start positions it occurs at are known per example; a
  kept integer program I taking one of them on every example is looked up by value (or split once as
  A + B), then the length L by value, or as `(- J I)` with J the end position. FlashFill's and
  DryadSynth's idea: the positions are found from the data, only the programs computing them are
  searched.
- Replace chains (`str.replace R S T`, SMT-LIB's first-occurrence replace): a short chain
  `replace(replace(X, S1, T1), S2, T2) ...` found by a beam search in which each step replaces with
  kept programs S, T and must bring every example no further from the target (edit distance) and
  the sum strictly closer. A chain of six replaces is out of enumeration's reach.
Mixed into `BottomUp` (bottomup.py), which calls `deduce()` after each size level; every program
found is a derivation of the grammar (each part is a kept program of the nonterminal its
production asks for) and the engine checks it again on every example.
"""
from __future__ import annotations

import numpy as np

from .components import _substr
from .problem import Term
from .terms import evaluate

SOURCES = 60  # kept string programs tried as the S of a substring, smallest first
INT_VALUES = 300_000  # kept integer programs looked up as positions and lengths
STARTS = 8  # start programs tried per source
SPLIT_INTS = 3_000  # kept integer programs tried as the A of a start A + B
CHAIN_VALUES = 120  # kept string programs tried as the S and T of a replace step, smallest first
CHAIN_EVALS = 4_000  # new value vectors scored (edit distance) by one chain search
CHAIN_BEAM = 4  # states kept per step of a replace chain
CHAIN_DEPTH = 8  # replace steps at most
FAR = 1 << 62  # integers beyond int64's comfortable range never match a position


class Deduction:
    """The deduction steps of `BottomUp` (uses its banks, target, budget checks and term building)."""

    def _deductions(self):
        """The substring productions of each string nonterminal (nt -> [pi]), the `-` productions of
        each integer nonterminal (nt -> [(pi, A, B)]), the replace productions (pi, nt, S, T) and the
        `str.to.int S` productions (pi, nt, S) of the target nonterminals."""
        subs, minus, reps, to_int = {}, {}, [], []
        for pi, (nt, p) in enumerate(self.prods):
            name = getattr(p.head, "name", None)
            if name == "-" and len(p.args) == 2:
                minus.setdefault(nt, []).append((pi, *p.args))
            elif name == "str.substr" and len(p.args) == 3:
                subs.setdefault(nt, []).append(pi)
            elif nt in self.wrap and name == "str.replace" and len(p.args) == 3 and p.args[0] == nt:
                reps.append((pi, nt, p.args[1], p.args[2]))
            elif nt in self.wrap and name in ("str.to.int", "str.to_int") and len(p.args) == 1:
                to_int.append((pi, nt, p.args[0]))
        return subs, minus, reps, to_int

    def deducible(self) -> bool:
        """Whether the grammar gives deduction anything to build for the target."""
        subs, _, reps, to_int = self.deductive
        return bool(reps or to_int or any(self.g.types[nt] == "str" and nt in subs for nt in self.wrap))

    def deduce(self, size: int):
        """Try the substring and replace-chain deductions against the target; sets `found`."""
        _, _, reps, to_int = self.deductive
        target = tuple(self.target)
        for nt in self.wrap:
            if self.g.types[nt] == "str":
                t = self.substring(target, nt)
                if t is not None:
                    return self._deduced(nt, t, -3)
        if all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in target):
            digits = tuple(str(v) for v in target)  # str.to.int's canonical preimage: the decimal digits
            for pi, nt, s_nt in to_int:
                t = self.substring(digits, s_nt)
                if t is not None:
                    return self._deduced(nt, Term(self.prods[pi][1].head, (t,)), -3)
        for pi, nt, s_nt, t_nt in reps:
            # the chain's steps are the first kept programs: search again only when those have changed
            key = (pi, *(min(CHAIN_VALUES, self._kept_count(n)) for n in (nt, s_nt, t_nt)))
            if key not in self._chains_tried:
                self._chains_tried.add(key)
                t = self.replace_chain(target, pi, nt, s_nt, t_nt)
                if t is not None:
                    return self._deduced(nt, t, -4)

    def _kept_count(self, nt) -> int:
        return sum(len(r) for r in self.banks[nt].recipes.values())

    def _deduced(self, nt, term, tag):
        key = (nt, tag, 0)
        self.built[key] = term
        self.found = key

    # ---- substrings -----------------------------------------------------------------------------
    def _ints(self, nt):
        """The kept integer programs of `nt` as an int64 matrix (values beyond FAR clipped to it) with
        the (size, index) of each row, smallest first; rebuilt when the bank has grown."""
        count = self._kept_count(nt)
        cached = self._int_cache.get(nt)
        if cached is not None and cached[0] == count:
            return cached[1], cached[2]
        vecs, refs = self._all(nt, INT_VALUES)
        try:
            mat = np.array(vecs, dtype=np.int64).reshape(len(vecs), self.nex)
        except OverflowError:
            mat = np.array([[max(-FAR, min(FAR, v)) for v in vec] for vec in vecs],
                           dtype=np.int64).reshape(len(vecs), self.nex)
        self._check(len(vecs))
        self._int_cache[nt] = (count, mat, refs)
        return mat, refs

    def substring(self, target: tuple, nt: str):
        """A program of `nt`, `str.substr S I L`, equal to `target`, or None: S a kept program
        containing the target on every example, I a kept start (or A + B), L a kept length (or J - I
        with J the end)."""
        for pi in self.deductive[0].get(nt, ()):
            t = self._substring(target, pi)
            if t is not None:
                return t
        return None

    def _substring(self, target: tuple, pi: int):
        _, p = self.prods[pi]
        s_nt, i_nt, l_nt = p.args
        if not any(target):
            return None
        svals, srefs = self._all(s_nt, SOURCES)
        for sv, sref in zip(svals, srefs):
            if not all(t in s for t, s in zip(target, sv)):
                continue
            starts = [_occurrences(s, t) if t else None for s, t in zip(sv, target)]
            for i_term, ivec in self._starts(i_nt, starts):
                l_term = self._length(l_nt, i_nt, i_term, ivec, sv, target)
                if l_term is None:
                    continue
                lens = [evaluate(l_term, tuple(ex)) for ex in self.inputs]
                if all(_substr(s, i, n) == t for s, i, n, t in zip(sv, ivec, lens, target)):
                    return Term(p.head, (self.term(s_nt, *sref), i_term, l_term))
        return None

    def _starts(self, nt, starts):
        """(term, vector) of kept integer programs of `nt` whose value on each example is one of that
        example's start positions (None: any), then of sums A + B of kept programs where `nt` has a
        `+` production over itself and the positions are one per example."""
        mat, refs = self._ints(nt)
        ok = np.ones(len(refs), dtype=bool)
        for e, st in enumerate(starts):
            if st is not None:
                ok &= np.isin(mat[:, e], st)
        rows = np.flatnonzero(ok)[:STARTS]
        for r in rows.tolist():
            yield self.term(nt, *refs[r]), tuple(int(v) for v in mat[r])
        if len(rows) or any(st is None or len(st) != 1 for st in starts):
            return
        want = np.array([st[0] for st in starts], dtype=np.int64)
        seen = self.banks[nt].seen
        for pi, a_nt, b_nt in self._plus(nt):
            amat, arefs = self._ints(a_nt)
            rest = want[None, :] - amat[:SPLIT_INTS]
            for k, vec in enumerate(map(tuple, rest.tolist())):
                hit = self.banks[b_nt].seen.get(vec) if b_nt != nt else seen.get(vec)
                if hit is not None:
                    yield Term(self.prods[pi][1].head, (self.term(a_nt, *arefs[k]), self.term(b_nt, *hit))), \
                        tuple(want.tolist())
                    return

    def _plus(self, nt):
        return [(pi, *p.args) for pi, (n, p) in enumerate(self.prods)
                if n == nt and getattr(p.head, "name", None) == "+" and len(p.args) == 2]

    def _length(self, l_nt, i_nt, i_term, ivec, sv, target):
        """A kept length program for a substring of `sv` at `ivec` equal to `target`, or `(- J I)`."""
        exact = [len(t) for t in target]
        # a substring running to the end of S takes any length at least the rest
        open_end = [i + len(t) == len(s) for i, s, t in zip(ivec, sv, target)]
        mat, refs = self._ints(l_nt)
        ok = np.ones(len(refs), dtype=bool)
        for e, t in enumerate(target):
            if t:
                col = mat[:, e]
                ok &= (col >= exact[e]) if open_end[e] else (col == exact[e])
        rows = np.flatnonzero(ok)
        if len(rows):
            return self.term(l_nt, *refs[rows[0]])
        for pi, j_nt, b_nt in self.deductive[1].get(l_nt, ()):
            if b_nt != i_nt:
                continue  # the start program must be a derivation of the subtrahend's nonterminal
            jmat, jrefs = self._ints(j_nt)
            ok = np.ones(len(jrefs), dtype=bool)
            for e, t in enumerate(target):
                if t:
                    end = ivec[e] + exact[e]
                    col = jmat[:, e]
                    ok &= (col >= end) if open_end[e] else (col == end)
            rows = np.flatnonzero(ok)
            if len(rows):
                return Term(self.prods[pi][1].head, (self.term(j_nt, *jrefs[rows[0]]), i_term))
        return None

    # ---- replace chains -------------------------------------------------------------------------
    def replace_chain(self, target: tuple, pi: int, nt: str, s_nt: str, t_nt: str):
        """A chain of replaces of kept programs, from a kept program of `nt`, equal to `target`."""
        comp = self.prods[pi][1].head
        svals, srefs = self._all(s_nt, CHAIN_VALUES)
        tvals, trefs = self._all(t_nt, CHAIN_VALUES)
        svals = [(v, r) for v, r in zip(svals, srefs) if any(v)]  # replacing "" only inserts at the front
        xvals, xrefs = self._all(nt, CHAIN_VALUES)
        beam = []
        for v, r in zip(xvals, xrefs):
            d = [_distance(a, b) for a, b in zip(v, target)]
            beam.append((sum(d), d, v, ("ref", r)))
        self._check(len(beam))
        beam.sort(key=lambda s: s[0])
        beam = beam[:CHAIN_BEAM]
        seen = {s[2] for s in beam}
        for _ in range(CHAIN_DEPTH):
            nxt = []
            for total, dist, cur, how in beam:
                for sv, sref in svals:
                    hits = [s in c for s, c in zip(sv, cur)]
                    if not any(hits):
                        continue
                    for tv, tref in zip(tvals, trefs):
                        # what a step writes must be in the target, where it writes
                        if not all(not h or t in g for h, t, g in zip(hits, tv, target)):
                            continue
                        new = tuple(map(comp.fn, cur, sv, tv))
                        if new in seen:
                            continue
                        if len(seen) > CHAIN_EVALS:
                            return None
                        seen.add(new)
                        d = [_distance(a, b) if a != c else old for a, b, c, old in zip(new, target, cur, dist)]
                        if sum(d) >= total or any(x > y for x, y in zip(d, dist)):
                            continue
                        step = ("rep", how, sref, tref)
                        if new == target:
                            self._check(len(seen))
                            return self._chain_term(step, comp, nt, s_nt, t_nt)
                        nxt.append((sum(d), d, new, step))
                self._check(len(svals))
            if not nxt:
                return None
            nxt.sort(key=lambda s: s[0])
            beam = nxt[:CHAIN_BEAM]
        return None

    def _chain_term(self, how, comp, nt, s_nt, t_nt) -> Term:
        if how[0] == "ref":
            return self.term(nt, *how[1])
        _, inner, sref, tref = how
        return Term(comp, (self._chain_term(inner, comp, nt, s_nt, t_nt), self.term(s_nt, *sref),
                           self.term(t_nt, *tref)))


def _occurrences(s: str, t: str) -> list[int]:
    out, i = [], s.find(t)
    while i >= 0:
        out.append(i)
        i = s.find(t, i + 1)
    return out


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions) by Myers' bit-parallel algorithm
    (Hyyro's formulation): one column of the table per character of `b`, as bits of Python ints."""
    if a == b:
        return 0
    if not a or not b:
        return len(a) + len(b)
    peq: dict = {}
    for i, c in enumerate(a):
        peq[c] = peq.get(c, 0) | (1 << i)
    mask, top = (1 << len(a)) - 1, 1 << (len(a) - 1)
    pv, mv, score = mask, 0, len(a)
    for c in b:
        eq = peq.get(c, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | ~(xh | pv)
        mh = pv & xh
        if ph & top:
            score += 1
        elif mh & top:
            score -= 1
        ph = (ph << 1) | 1
        pv = ((mh << 1) | ~(xv | ph)) & mask
        mv = ph & xv & mask
    return score
