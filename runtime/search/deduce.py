"""Deduction for string targets: programs built top-down from the target's values, their parts looked
up by value among the programs the bottom-up bank keeps (the divide-and-conquer half of search).

- Substrings (SMT-LIB's `str.substr S start length`, Glia's `s[i:j]`, `s[:j]`, `s[i:]`): when the
  target is a substring of a kept string program S on every example, the positions it occurs at are
  known per example; a kept integer program taking one of them on every example is looked up by
  value (a start also as a sum A + B of kept programs), then the length or end the same way (an
  SMT-LIB length also as `(- J I)`, J the end). FlashFill's and DryadSynth's idea: the positions come
  from the data, only the programs computing them are searched. An integer target with a
  `str.to.int` production is the substring of its decimal digits. Concatenation splitting
  (unify.py) deduces its last part the same way.
- Replace chains (SMT-LIB's first-occurrence `str.replace`, Glia's `replace`): a chain
  `replace(replace(X, S1, T1), S2, T2) ...` found by a beam search in which each step replaces with
  kept programs S, T and must bring no example further from the target (edit distance) and the sum
  strictly closer. A chain of six replaces is out of enumeration's reach.
Mixed into `BottomUp` (bottomup.py), which calls `deduce()` after each size level. Every program
found is a derivation of the grammar (each part is a kept program of the nonterminal its production
asks for), is checked on every example here, and the engine checks it again.
"""
from __future__ import annotations

import numpy as np

from .problem import Term
from .terms import evaluate

SOURCES = 60  # kept string programs tried as the S of a substring, smallest first
INT_CELLS = 10_000_000  # kept integer values (programs x examples) looked up as positions: 80 MB
STARTS = 8  # start programs tried per source
SPLIT_INTS = 3_000  # kept integer programs tried as the A of a start A + B
CHAIN_VALUES = 120  # kept string programs tried as the S and T of a replace step, smallest first
CHAIN_WORK = 300_000  # work of one chain search: example values looked at, plus the target's length
# for each edit distance (one bit-parallel step per character)
CHAIN_BEAM = 4  # states kept per step of a replace chain
CHAIN_DEPTH = 8  # replace steps at most
# How a substring component reads its integer arguments: (the start's argument or None, the second
# position's argument or None, whether that is a length or an end, whether negative positions count
# from the end as in Python's slices; SMT-LIB's make the result empty instead)
SUBSTRINGS = {
    "str.substr": (1, 2, "length", False),  # SMT-LIB (str.substr s start length)
    "slice": (1, 2, "end", True),  # Glia s[i:j]
    "prefix": (None, 1, "end", True),  # Glia s[:j]
    "suffix": (1, None, None, True),  # Glia s[i:]
}
PLUS, MINUS = ("+", "add"), ("-", "sub")
TO_INT = ("str.to.int", "str.to_int", "to_int")
REPLACE = ("str.replace", "replace")
FAR = 1 << 62  # integers beyond int64's comfortable range never match a position


class Deduction:
    """The deduction steps of `BottomUp` (uses its banks, target, budget checks and term building)."""

    def _deductions(self):
        """The substring productions of each string nonterminal (nt -> [pi]), the replace productions
        (pi, nt, S, T) and the `str.to.int S` productions (pi, nt, S) of the target nonterminals."""
        subs, reps, to_int = {}, [], []
        for pi, (nt, p) in enumerate(self.prods):
            name = getattr(p.head, "name", None)
            if name in SUBSTRINGS and len(p.args) == 1 + (SUBSTRINGS[name][1] is not None) + \
                    (SUBSTRINGS[name][0] is not None):
                subs.setdefault(nt, []).append(pi)
            elif nt in self.wrap and name in REPLACE and len(p.args) == 3 and p.args[0] == nt:
                reps.append((pi, nt, p.args[1], p.args[2]))
            elif nt in self.wrap and name in TO_INT and len(p.args) == 1:
                to_int.append((pi, nt, p.args[0]))
        return subs, reps, to_int

    def deducible(self) -> bool:
        """Whether the grammar gives deduction anything to build for the target."""
        subs, reps, to_int = self.deductive
        return bool(reps or to_int or any(self.g.types[nt] == "str" and nt in subs for nt in self.wrap))

    def deduce(self, size: int):
        """Try the substring and replace-chain deductions against the target; sets `found`."""
        _, reps, to_int = self.deductive
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
        the (size, index) of each row, smallest first, at most INT_CELLS values in all. Each finished
        size level is converted once."""
        bank = self.banks[nt]
        count = self._kept_count(nt)
        cached = self._int_cache.get(nt)
        if cached is not None and cached[0] == count:
            return cached[1], cached[2]
        blocks = self._int_blocks.setdefault(nt, {})
        room = max(1, INT_CELLS // self.nex)
        mats, refs = [], []
        for size in sorted(bank.recipes):
            if room <= 0:
                break
            if size not in blocks:
                vecs = bank.vecs[size][:room]
                try:
                    mat = np.array(vecs, dtype=np.int64).reshape(len(vecs), self.nex)
                except OverflowError:
                    mat = np.array([[max(-FAR, min(FAR, v)) for v in vec] for vec in vecs],
                                   dtype=np.int64).reshape(len(vecs), self.nex)
                self._check(len(vecs))
                blocks[size] = mat
            mats.append(blocks[size][:room])
            refs.extend((size, i) for i in range(len(mats[-1])))
            room -= len(mats[-1])
        mat = np.concatenate(mats) if mats else np.zeros((0, self.nex), np.int64)
        self._int_cache[nt] = (count, mat, refs)
        return mat, refs

    def substring(self, target: tuple, nt: str):
        """A program of `nt` that takes a substring of a kept program S (one containing the target on
        every example) equal to `target`, or None: its positions are looked up among the kept integer
        programs (a start also as A + B; an SMT-LIB length also as end - start)."""
        for pi in self.deductive[0].get(nt, ()):
            t = self._substring(target, pi)
            if t is not None:
                return t
        return None

    def _substring(self, target: tuple, pi: int):
        _, p = self.prods[pi]
        si, ji, kind, negative = SUBSTRINGS[p.head.name]
        s_nt = p.args[0]
        if not any(target):
            return None
        svals, srefs = self._all(s_nt, SOURCES)
        for sv, sref in zip(svals, srefs):
            if not all(t in s for t, s in zip(target, sv)):
                continue
            occ = [_occurrences(s, t) if t else None for s, t in zip(sv, target)]
            for i_term, pos in self._starts(p.args[si] if si is not None else None, occ, sv, negative):
                args = [self.term(s_nt, *sref), i_term]
                if ji is not None:
                    second = self._second(p.args[ji], kind, negative, p.args[si] if si is not None else None,
                                          i_term, pos, sv, target)
                    if second is None:
                        continue
                    args.append(second)
                args = tuple(a for a in args if a is not None)
                term = Term(p.head, args)
                if all(_value(term, ex) == t for ex, t in zip(self.inputs, target)):
                    return term
        return None

    def _starts(self, nt, occ, sv, negative):
        """(term, position per example) of the start programs: kept integer programs of `nt` whose
        value on each example is one of the target's positions there (None: any; with Python's
        slices also counted from the end), then a sum A + B of kept programs where the positions are
        one per example. With no start argument (a prefix), position 0 and no term."""
        if nt is None:
            if all(o is None or 0 in o for o in occ):
                yield None, [0] * len(occ)
            return
        allowed = [None if o is None else (o + [q - len(s) for q in o] if negative else o) for o, s in zip(occ, sv)]
        found = self._lookup(nt, allowed, [None] * self.nex, STARTS)
        for term, vec in found:
            yield term, [v + len(s) if negative and v < 0 else v for v, s in zip(vec, sv)]
        if found or any(o is None or len(o) != 1 for o in occ):
            return
        want = np.array([o[0] for o in occ], dtype=np.int64)
        for pi, a_nt, b_nt in self._binary(nt, PLUS):
            amat, arefs = self._ints(a_nt)
            rest = want[None, :] - amat[:SPLIT_INTS]
            for k, vec in enumerate(map(tuple, rest.tolist())):
                hit = self.banks[b_nt].seen.get(vec)
                if hit is not None:
                    self._check(k)
                    yield Term(self.prods[pi][1].head, (self.term(a_nt, *arefs[k]), self.term(b_nt, *hit))), \
                        want.tolist()
                    return
            self._check(len(rest))

    def _binary(self, nt, names):
        """The productions (pi, A, B) of `nt` whose component is one of `names` (`+`, `-`)."""
        return [(pi, *p.args) for pi, (n, p) in enumerate(self.prods)
                if n == nt and getattr(p.head, "name", None) in names and len(p.args) == 2]

    def _lookup(self, nt, allowed, at_least, limit):
        """(term, values) of the first `limit` kept integer programs of `nt` whose value on each example
        e is in allowed[e] or at least at_least[e] (allowed[e] None: any value)."""
        mat, refs = self._ints(nt)
        ok = np.ones(len(refs), dtype=bool)
        for e, (al, least) in enumerate(zip(allowed, at_least)):
            if al is None:
                continue
            col = mat[:, e]
            m = np.isin(col, al)
            if least is not None:
                m |= col >= least
            ok &= m
        return [(self.term(nt, *refs[r]), mat[r].tolist()) for r in np.flatnonzero(ok)[:limit].tolist()]

    def _second(self, nt, kind, negative, i_nt, i_term, pos, sv, target):
        """The program for a substring's second position (its length, or its end) at start `pos`:
        a kept program, or `J - I` for a length where `nt` has a `-` over the start's nonterminal."""
        ends = [p + len(t) for p, t in zip(pos, target)]
        # a substring running to the end of S takes any length or end past it
        least = [(len(t) if kind == "length" else len(s)) if e == len(s) else None
                 for e, s, t in zip(ends, sv, target)]
        if kind == "length":
            allowed = [[len(t)] if t else None for t in target]
        else:
            allowed = [([e] + ([e - len(s)] if negative and e < len(s) else [])) if t else None
                       for e, s, t in zip(ends, sv, target)]
        found = self._lookup(nt, allowed, least, 1)
        if found:
            return found[0][0]
        if kind != "length" or i_term is None:
            return None
        for pi, j_nt, b_nt in self._binary(nt, MINUS):
            if b_nt != i_nt:
                continue  # the start program must be a derivation of the subtrahend's nonterminal
            found = self._lookup(j_nt, [[e] if t else None for e, t in zip(ends, target)],
                                 [len(s) if e == len(s) else None for e, s in zip(ends, sv)], 1)
            if found:
                return Term(self.prods[pi][1].head, (found[0][0], i_term))
        return None

    # ---- replace chains -------------------------------------------------------------------------
    def replace_chain(self, target: tuple, pi: int, nt: str, s_nt: str, t_nt: str):
        """A chain of replaces of kept programs, from a kept program of `nt`, equal to `target`.
        Bounded by CHAIN_WORK: a value looked at counts 1, an edit distance the target's length."""
        comp = self.prods[pi][1].head
        svals, srefs = self._all(s_nt, CHAIN_VALUES)
        tvals, trefs = self._all(t_nt, CHAIN_VALUES)
        svals = [(v, r) for v, r in zip(svals, srefs) if any(v)]  # replacing "" only inserts at the front
        # what a step writes must be in the target where it writes: the examples where each T may write
        t_ok = [sum(1 << e for e, (t, g) in enumerate(zip(tv, target)) if t in g) for tv in tvals]
        xvals, xrefs = self._all(nt, CHAIN_VALUES)
        tlen = [len(t) + 1 for t in target]
        work = 0
        beam = []
        for v, r in zip(xvals, xrefs):
            d = self._chain_starts.get(v)  # the starts' distances are kept for the next search
            if d is None:
                d = self._chain_starts[v] = [_distance(a, b) for a, b in zip(v, target)]
                work += sum(tlen)
            beam.append((sum(d), d, v, ("ref", r)))
            if work > CHAIN_WORK:
                break
        self._check(len(beam))
        beam.sort(key=lambda s: s[0])
        beam = beam[:CHAIN_BEAM]
        seen = {s[2] for s in beam}
        for _ in range(CHAIN_DEPTH):
            nxt = []
            for total, dist, cur, how in beam:
                for sv, sref in svals:
                    hits = sum(1 << e for e, (s, c) in enumerate(zip(sv, cur)) if s in c)
                    work += self.nex
                    if not hits:
                        continue
                    for tv, tref, ok in zip(tvals, trefs, t_ok):
                        if hits & ~ok:
                            continue
                        new = tuple(map(comp.fn, cur, sv, tv))
                        work += self.nex
                        if new in seen:
                            continue
                        seen.add(new)
                        d = [_distance(a, b) if a != c else old for a, b, c, old in zip(new, target, cur, dist)]
                        work += sum(n for a, c, n in zip(new, cur, tlen) if a != c)
                        if work > CHAIN_WORK:
                            self._check(len(seen))
                            return None
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


def _value(term: Term, args):
    try:
        return evaluate(term, tuple(args))
    except Exception:  # noqa: BLE001 - undefined on an example: not the target
        return None


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
