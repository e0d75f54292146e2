"""The compiled bit-vector path of bottom-up search (runtime/search/bvkernel.py).

The kernel is checked against a straightforward reference on seeded random banks: every
combination evaluated by the Python VM (`evaluate`), the distinct rows kept in order of first
occurrence (a dict), the combinations that made them, the first hit of a target. Forced hash
collisions (all hashes equal, and a real pair of rows with equal hashes) must keep both rows; repeated
rows must be dropped. Then whole searches: with VM code, with numpy rules only, and with Python rules
only, the banks and the programs found are the same. Integers as words: every integer component's
code against its Python rule on edge values (an undefined result drops the candidate, an SMT-LIB Int
beyond 64 bits is reported), and whole SyGuS and Glia integer searches with and without the kernel.
"""
import itertools
import random

import numpy as np
import pytest

from glia.compiler.diagnostics import Source
from glia.compiler.sygus import read_sygus, to_problem
from glia.runtime.search import Config, Production, satisfies
from glia.runtime.search.bottomup import BottomUp
from glia.runtime.search.terms import to_sexpr
from glia.runtime.search.bvcode import (INEXACT_HIT, INT_MAX, INT_MIN, MASK, OPCODES, assemble, column_keys, evaluate,
                                       row_hashes)
from glia.runtime.search.components import GLIA_BOOL, GLIA_INT, GLIA_INT_BOOL, SYGUS_OPS, glia_ite, sygus_component
from glia.runtime.search.library import default_grammar
from glia.runtime.search.problem import Var
from glia.runtime.search.bvkernel import RowSet

EDGES = [0, 1, 2, 63, 64, 65, MASK, MASK - 1, 1 << 63, (1 << 63) - 1, 0x8000000000000001]
BINARY = ["bvand", "bvor", "bvxor", "bvadd", "bvsub", "bvmul", "bvudiv", "bvurem", "bvsdiv", "bvsrem",
          "bvshl", "bvlshr", "bvashr", "bvult", "bvule", "bvugt", "bvuge", "bvslt", "bvsle", "bvsgt",
          "bvsge", "=", "and", "or", "xor", "=>"]
UNARY = ["bvnot", "bvneg", "not", "copy"]
INT_BINARY = ["+", "-", "*", "div", "mod", "<", "<=", ">", ">=", "int.add", "int.sub", "int.mul", "int.floordiv",
              "int.mod"]


def random_word(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.3:
        return rng.choice(EDGES)
    if r < 0.5:
        return rng.randrange(0, 70)  # shift amounts around 64, small divisors
    if r < 0.6:
        return rng.randrange(2)  # booleans
    return rng.getrandbits(64)


def random_code(rng: random.Random, arity: int, depth: int):
    if depth == 0 or rng.random() < 0.25:
        return ("arg", rng.randrange(arity)) if rng.random() < 0.8 else ("const", random_word(rng))
    r = rng.random()
    if r < 0.15:
        return (rng.choice(UNARY), random_code(rng, arity, depth - 1))
    if r < 0.25:
        return ("ite",) + tuple(random_code(rng, arity, depth - 1) for _ in range(3))
    return (rng.choice(BINARY), random_code(rng, arity, depth - 1), random_code(rng, arity, depth - 1))


def random_bank(rng: random.Random, rows: int, nex: int) -> np.ndarray:
    m = np.array([[random_word(rng) for _ in range(nex)] for _ in range(rows)], dtype=np.uint64).reshape(rows, nex)
    if rows > 2:  # some repeated rows
        m[rng.randrange(rows)] = m[rng.randrange(rows)]
    return m


def reference(code, mats, fixed=None, target=None, seen=None):
    """(kept combination numbers, kept rows, hit) by the Python VM and a dict."""
    seen = {} if seen is None else seen
    kept, rows = [], []
    lead = [] if fixed is None else [list(map(int, r)) for r in fixed]
    for t, combo in enumerate(itertools.product(*[range(len(m)) for m in mats])):
        row = tuple(evaluate(code, [lead[q][e] for q in range(len(lead))] +
                             [int(m[i, e]) for m, i in zip(mats, combo)]) for e in range(mats[0].shape[1]))
        if target is not None and row == tuple(map(int, target)):
            return kept, rows, t
        if row not in seen:
            seen[row] = len(seen)
            kept.append(t)
            rows.append(row)
    return kept, rows, -1


def run_kernel(rs: RowSet, code, mats, fixed=None, target=None, chunk=None):
    total = int(np.prod([len(m) for m in mats]))
    kept_all, hit = [], -1
    chunk = chunk or max(1, total)
    buf = np.empty(chunk, np.int64)
    asm = assemble(code, len(mats) + (0 if fixed is None else len(fixed)))
    for lo in range(0, total, chunk):
        pos, nk, hit = rs.combine(asm, mats, lo, min(total, lo + chunk), buf, target, fixed)
        kept_all += buf[:nk].tolist()
        if hit >= 0 or rs.full:
            break
    return kept_all, hit


@pytest.mark.parametrize("seed", range(12))
def test_kernel_agrees_with_the_reference_vm(seed):
    rng = random.Random(seed)
    arity = rng.choice([1, 2, 3])
    nex = rng.choice([1, 3, 7])
    code = random_code(rng, arity, 3)
    mats = [random_bank(rng, rng.randrange(1, 14), nex) for _ in range(arity)]
    want_kept, want_rows, _ = reference(code, mats)
    rs = RowSet(nex, 10_000)
    got_kept, hit = run_kernel(rs, code, mats, chunk=rng.choice([1, 5, 1000]))
    assert hit == -1
    assert got_kept == want_kept, code
    assert rs.n == len(want_rows)
    assert [tuple(map(int, r)) for r in rs.rows[:rs.n]] == want_rows


def test_every_opcode_matches_the_reference_on_edge_values():
    words = np.array(EDGES + [3, 5, 0xFF], dtype=np.uint64)
    grid = np.array(list(itertools.product(words, repeat=2)), dtype=np.uint64)
    a, b = grid[:, :1], grid[:, 1:]  # one example per combination, paired row by row below
    for op in BINARY + UNARY + ["ite"]:
        args = [("arg", i) for i in range(3 if op == "ite" else 1 if op in UNARY else 2)]
        code = (op, *args)
        for x, y in zip(a, b):
            mats = [x[None, :], y[None, :], (x ^ y)[None, :]][:len(args)]
            rs = RowSet(1, 10)
            run_kernel(rs, code, mats)
            assert int(rs.rows[0, 0]) == evaluate(code, [int(m[0, 0]) for m in mats]), (op, x, y)
    assert set(BINARY + UNARY + ["ite"] + INT_BINARY + ["abs"]) == set(OPCODES)


def test_leading_arguments_fixed_for_a_component_of_four():
    rng = random.Random(7)
    code = ("ite", ("=", ("arg", 0), ("const", 1)), ("bvadd", ("arg", 1), ("arg", 2)), ("bvxor", ("arg", 3), ("arg", 1)))
    nex = 4
    fixed = np.ascontiguousarray(random_bank(rng, 1, nex))
    fixed[0, :2] = 1
    mats = [random_bank(rng, 6, nex) for _ in range(3)]
    want_kept, want_rows, _ = reference(code, mats, fixed=fixed)
    rs = RowSet(nex, 10_000)
    got_kept, _ = run_kernel(rs, code, mats, fixed=fixed)
    assert got_kept == want_kept
    assert [tuple(map(int, r)) for r in rs.rows[:rs.n]] == want_rows


def test_duplicates_are_dropped_within_and_across_calls():
    m = np.array([[1, 2], [3, 4], [1, 2], [1, 2], [5, 6], [3, 4]], dtype=np.uint64)
    rs = RowSet(2, 10_000)
    kept, _ = run_kernel(rs, ("arg", 0), [m])
    assert kept == [0, 1, 4]
    kept, _ = run_kernel(rs, ("arg", 0), [m[::-1].copy()])
    assert kept == [] and rs.n == 3


def test_all_hashes_equal_keeps_every_distinct_row():
    rng = random.Random(3)
    m = random_bank(rng, 40, 3)
    rs = RowSet(3, 10_000)
    rs.keys = np.zeros(3, np.uint64)  # every row hashes to 0: only full comparisons tell them apart
    kept, _ = run_kernel(rs, ("bvxor", ("arg", 0), ("arg", 1)), [m, m[:5].copy()])
    want, rows, _ = reference(("bvxor", ("arg", 0), ("arg", 1)), [m, m[:5].copy()])
    assert kept == want and rs.n == len(rows)
    assert len(set(row_hashes(rs.rows[:rs.n], rs.keys).tolist())) == 1


def _unmix(y: int, key: int) -> int:
    """The inverse of the per-value mix of the row hash (times the column key)."""
    x = (y * pow(key, -1, 1 << 64)) & MASK
    x = x ^ (x >> 29) ^ (x >> 58)  # undo x ^= x >> 29
    x = (x * pow(0x9E3779B97F4A7C15, -1, 1 << 64)) & MASK
    return x ^ (x >> 31) ^ (x >> 62)  # undo x ^= x >> 31


def _mix(v: int, key: int) -> int:
    x = v ^ (v >> 31)
    x = (x * 0x9E3779B97F4A7C15) & MASK
    x ^= x >> 29
    return (x * key) & MASK


def test_a_real_hash_collision_keeps_both_rows():
    keys = [int(k) for k in column_keys(2)]
    a = (12345, 67890)
    b0 = 999
    b1 = _unmix((_mix(a[0], keys[0]) + _mix(a[1], keys[1]) - _mix(b0, keys[0])) & MASK, keys[1])
    rows = np.array([a, (b0, b1), a], dtype=np.uint64)
    h = row_hashes(rows, column_keys(2))
    assert h[0] == h[1] and rows[0].tolist() != rows[1].tolist()  # distinct rows, equal hashes
    rs = RowSet(2, 10_000)
    kept, _ = run_kernel(rs, ("arg", 0), [rows])
    assert kept == [0, 1] and rs.n == 2


def test_target_hit_is_the_first_combination_equal_to_it():
    rng = random.Random(11)
    mats = [random_bank(rng, 9, 3) for _ in range(2)]
    code = ("bvor", ("arg", 0), ("arg", 1))
    t = 4 * 9 + 5
    target = np.array([evaluate(code, [int(mats[0][4, e]), int(mats[1][5, e])]) for e in range(3)], np.uint64)
    want_kept, _, want_hit = reference(code, mats, target=target)
    rs = RowSet(3, 10_000)
    got_kept, hit = run_kernel(rs, code, mats, target=target, chunk=7)
    assert hit == want_hit <= t and got_kept == want_kept


# ---- whole searches: VM code, numpy rules and Python rules give the same banks and answers ---------

BV_PROBLEMS = {
    "helpers": """
(define-fun ehad ((x (_ BitVec 64))) (_ BitVec 64) (bvlshr x #x0000000000000001))
(define-fun smol ((x (_ BitVec 64))) (_ BitVec 64) (bvshl x #x0000000000000001))
(define-fun im ((x (_ BitVec 64)) (y (_ BitVec 64)) (z (_ BitVec 64))) (_ BitVec 64)
    (ite (= x #x0000000000000001) y z))
(synth-fun f ((x (_ BitVec 64))) (_ BitVec 64)
    ((Start (_ BitVec 64) (#x0000000000000000 #x0000000000000001 x (bvnot Start) (smol Start) (ehad Start)
                           (bvand Start Start) (bvor Start Start) (bvxor Start Start) (bvadd Start Start)
                           (im Start Start Start)))))
(constraint (= (f #xb3cac86be739e234) #x9f387a711ef79aba))
(constraint (= (f #x51a9d52072e4b62d) #x45c3a0686e5d9ba7))
(constraint (= (f #x0000000000000001) #x0000000000000002))
(constraint (= (f #xffffffffffffffff) #xc000000000000001))
""",
    "four_arguments": """
(define-fun sel4 ((c (_ BitVec 64)) (a (_ BitVec 64)) (b (_ BitVec 64)) (d (_ BitVec 64))) (_ BitVec 64)
    (ite (= (bvand c #x0000000000000001) #x0000000000000001) (bvxor a b) (bvxor d #x0000000000000001)))
(synth-fun f ((x (_ BitVec 64))) (_ BitVec 64)
    ((Start (_ BitVec 64) (x #x0000000000000001 (bvadd Start Start) (sel4 Start Start Start Start)))))
(constraint (= (f #x0000000000000005) #x0000000000000003))
(constraint (= (f #x00000000000000f0) #x00000000000000f1))
(constraint (= (f #xffffffffffffffff) #xffffffffffffffff))
(constraint (= (f #x0000000000001234) #x0000000000001235))
""",
    "booleans": """
(synth-fun f ((x (_ BitVec 64)) (y (_ BitVec 64))) (_ BitVec 64)
    ((Start (_ BitVec 64)) (B Bool))
    ((Start (_ BitVec 64) (x y #x0000000000000001 (bvadd Start Start) (bvsub Start Start) (bvashr Start Start)
                           (ite B Start Start)))
     (B Bool ((bvult Start Start) (bvslt Start Start) (= Start Start) (and B B) (not B)))))
(constraint (= (f #x0000000000000005 #x0000000000000009) #x0000000000000009))
(constraint (= (f #xffffffffffffff00 #x0000000000000003) #xffffffffffffff00))
(constraint (= (f #x0000000000000007 #x0000000000000002) #x0000000000000007))
(constraint (= (f #x0000000000000001 #x8000000000000000) #x8000000000000000))
""",
}


def _problem(text):
    src = Source("t.sl", text + "(check-synth)\n")
    return to_problem(read_sygus(src), src)


def _strip(problem, vec: bool):
    """The same problem with the VM code (and, if `vec`, the numpy rules) taken off the components."""
    g = problem.grammar
    rules = {}
    for nt, prods in g.rules.items():
        out = []
        for p in prods:
            h = p.head
            if hasattr(h, "code"):
                h = type(h)(h.name, h.args, h.ret, h.fn, h.sexpr, h.glia, None if vec else h.vec, h.cost, None)
            out.append(Production(h, p.args))
        rules[nt] = out
    return type(g)(g.start, dict(g.types), rules)


def _bank_snapshot(bu):
    out = {}
    for nt, bank in bu.banks.items():
        for size in sorted(bank.recipes):
            vals = bank.mats.get(size) if bank.numpy else bank.vecs.get(size)
            vals = [tuple(map(int, r)) for r in vals] if bank.numpy and vals is not None else vals
            if vals is not None and bank.numpy and nt == "B":  # booleans: the numpy path keeps 0/1
                vals = [tuple(map(bool, r)) for r in vals]
            out[nt, size] = (vals, [bank.recipes[size][i] for i in range(len(bank.recipes[size]))])
    return out


@pytest.mark.parametrize("name", sorted(BV_PROBLEMS))
def test_compiled_numpy_and_python_paths_agree(name):
    p = _problem(BV_PROBLEMS[name])
    answers, banks = [], []
    for grammar in (p.grammar, _strip(p, vec=False), _strip(p, vec=True)):
        bu = BottomUp(grammar, p.inputs, Config(timeout=60.0), target=p.outputs, max_size=p.max_size)
        assert bu.run() == "found"
        term = bu.answer()
        assert satisfies(term, p.inputs, p.outputs)
        answers.append(to_sexpr(term))
        banks.append(_bank_snapshot(bu))
    assert answers[0] == answers[1] == answers[2]
    assert banks[0] == banks[1] == banks[2]


def test_collect_only_levels_agree_between_paths():
    p = _problem(BV_PROBLEMS["helpers"])
    snaps = []
    for grammar in (p.grammar, _strip(p, vec=False)):
        bu = BottomUp(grammar, p.inputs, Config(timeout=60.0), max_size=6)
        bu.run(collect_only=True)
        snaps.append(_bank_snapshot(bu))
    assert snaps[0] == snaps[1] and sum(len(v[1]) for v in snaps[0].values()) > 1000


def test_the_table_grows_without_losing_rows():
    rng = np.random.default_rng(5)
    m = rng.integers(0, 1 << 62, size=(3000, 2), dtype=np.uint64)
    rs = RowSet(2, 100_000)  # the table starts with 2,048 slots
    kept, _ = run_kernel(rs, ("bvadd", ("arg", 0), ("arg", 1)), [m, m[:3].copy()], chunk=1000)
    assert rs.n == len(kept) == 9000 - 3  # x + y and y + x among the first three rows are the same
    assert len(rs.table) >= 2 * rs.n
    assert not rs.add(rs.rows[4321].copy()) and rs.add(np.array([1, 2], np.uint64))


def test_a_full_store_stops_the_kernel_and_the_search():
    m = np.array([[0, 0], [1, 1], [2, 2], [1, 1], [3, 3], [4, 4], [5, 5]], dtype=np.uint64)
    rs = RowSet(2, 4)
    kept = np.empty(10, np.int64)
    pos, nk, hit = rs.combine(assemble(("arg", 0), 1), [m], 0, len(m), kept)
    assert rs.full and nk == 4 and rs.n == 4 and hit == -1 and kept[:4].tolist() == [0, 1, 2, 4]
    assert pos == 5  # the first combination not done
    p = _problem(BV_PROBLEMS["helpers"])
    bu = BottomUp(p.grammar, p.inputs, Config(timeout=60.0, max_bank=2000), target=p.outputs)
    assert bu.run() == "memory" and bu.kept * bu.nex <= 2000 + bu.nex


# ---- integers as words ----------------------------------------------------------------------------

INT_EDGES = [0, 1, -1, 2, -2, 3, -3, 7, -7, 1 << 31, -(1 << 31), 1 << 32, 3037000499, 3037000500, -3037000500,
             INT_MAX, INT_MIN, INT_MAX - 1, INT_MIN + 1, INT_MIN // 2]


def _int_components():
    """Every component whose code holds integers: SyGuS's operators and Glia's."""
    for name, (params, ret, _, _) in SYGUS_OPS.items():
        if params and all(t == "int" for t in params) and ret in ("int", "bool"):
            yield sygus_component(name, params, ret), "exact"
    yield sygus_component("ite", ("bool", "int", "int"), "int"), "exact"
    for comp in GLIA_INT + GLIA_INT_BOOL + GLIA_BOOL + [glia_ite("int")]:
        yield comp, "checked"


DROPPED, TOO_BIG = "dropped", "beyond 64 bits"


def _kernel_value(code, arity, args):
    """What the kernel makes of one combination: the value (signed), DROPPED or TOO_BIG."""
    rs = RowSet(1, 10)
    kept = np.empty(1, np.int64)
    mats = [np.array([[a & MASK]], np.uint64) for a in args]
    _, nk, hit = rs.combine(assemble(code, arity), mats, 0, 1, kept)
    if hit == INEXACT_HIT:
        return TOO_BIG
    if nk == 0:
        return DROPPED
    v = int(rs.rows[0, 0])
    return v - (1 << 64) if v >> 63 else v


@pytest.mark.parametrize("comp,dialect", list(_int_components()), ids=lambda x: getattr(x, "name", x))
def test_integer_code_computes_the_components_rule(comp, dialect):
    values = [[0, 1] if t == "bool" else INT_EDGES for t in comp.args]
    for args in itertools.product(*values):
        try:
            want = int(comp.fn(*args))
        except Exception:  # noqa: BLE001 - the rule has no value: the candidate is dropped
            want = DROPPED
        else:
            if not INT_MIN <= want <= INT_MAX:
                want = TOO_BIG  # only SMT-LIB's unbounded ints get here: Glia's kernels raise
        assert dialect == "exact" or want != TOO_BIG
        assert _kernel_value(comp.code, len(comp.args), args) == want, (comp.name, args)


def test_the_python_vm_reference_agrees_on_integers():
    for op in ["+", "-", "*", "div", "mod", "int.floordiv", "int.mod"]:
        for a, b in itertools.product(INT_EDGES, repeat=2):
            code = (op, ("arg", 0), ("arg", 1))
            try:
                want = evaluate(code, [a & MASK, b & MASK])
            except ZeroDivisionError:
                want = DROPPED
            except OverflowError:
                want = TOO_BIG if op in ("+", "-", "*", "div", "mod") else DROPPED
            else:
                want = want - (1 << 64) if want >> 63 else want
            assert _kernel_value(code, 2, [a, b]) == want, (op, a, b)


INT_PROBLEMS = {
    "lia": """
(define-fun half ((a Int)) Int (div a 2))
(define-fun safe ((a Int) (b Int)) Int (ite (= b 0) a (mod a b)))
(synth-fun f ((x Int) (y Int)) Int
  ((Start Int (x y 0 1 2 (+ Start Start) (- Start Start) (* Start Start) (div Start Start) (abs Start)
               (half Start) (safe Start Start) (ite B Start Start)))
   (B Bool ((< Start Start) (<= Start Start) (= Start Start) (and B B) (not B)))))
(constraint (= (f 3 7) 17))
(constraint (= (f -5 2) -8))
(constraint (= (f 100 -9) 82))
(constraint (= (f 0 0) 0))
(constraint (= (f -7 -3) -13))
""",
}


def _int_snapshot(bu):
    """Each level's values (as Python ints and bools) and recipes, whichever way the banks keep them."""
    out = {}
    for nt, bank in bu.banks.items():
        t = bu.g.types[nt]
        for size in sorted(bank.recipes):
            if bank.numpy:
                m = bank.mats.get(size)
                if m is None:
                    continue
                vals = [tuple(r) for r in (m.astype(bool) if t == "bool" else m.view(np.int64)).tolist()]
            else:
                vals = bank.vecs.get(size)
            out[nt, size] = (vals, [bank.recipes[size][i] for i in range(len(bank.recipes[size]))])
    return out


def _int_grammars():
    p = _problem(INT_PROBLEMS["lia"])
    yield "lia", p.grammar, p.inputs, p.outputs
    params = (Var(0, "x", "int"), Var(1, "y", "int"))
    inputs = [(3, 7), (-5, 2), (100, -9), (0, 0), (-7, -3), (1 << 62, 3)]  # x * y overflows: dropped
    outputs = [max(x, y) * 2 - 1 for x, y in inputs[:-1]] + [(1 << 63) - 1]
    yield "glia", default_grammar(params, "int", inputs, outputs), inputs, outputs


@pytest.mark.parametrize("name,grammar,inputs,outputs", list(_int_grammars()), ids=lambda x: x if isinstance(x, str) else "")
def test_integer_searches_agree_with_and_without_words(name, grammar, inputs, outputs):
    runs = []
    for words in (True, False):
        bu = BottomUp(grammar, inputs, Config(timeout=60.0), max_size=6, int_words=words)
        assert bu.run(collect_only=True) == "done"
        assert all(bank.numpy == words for bank in bu.banks.values())
        runs.append((bu.candidates, bu.kept, _int_snapshot(bu)))
    assert runs[0] == runs[1] and runs[0][1] > 500
    found = []
    for words in (True, False):
        bu = BottomUp(grammar, inputs, Config(timeout=60.0), target=outputs, max_size=12, int_words=words)
        assert bu.run() == "found"
        term = bu.answer()
        assert satisfies(term, inputs, outputs)
        found.append((to_sexpr(term), bu.candidates))
    assert found[0] == found[1]


def test_an_smt_int_beyond_64_bits_restarts_the_search_with_python_ints():
    text = INT_PROBLEMS["lia"].replace("(constraint (= (f 0 0) 0))", "(constraint (= (f 4611686018427387904 1) "
                                                                       "4611686018427387904))")
    p = _problem(text)
    runs = []
    for words in (True, False):
        bu = BottomUp(p.grammar, p.inputs, Config(timeout=60.0), max_size=6, int_words=words)
        assert bu.run(collect_only=True) == "done"
        assert not bu.int_words and not bu.banks["Start"].numpy  # x + x needs 64 bits: Python ints from the start
        runs.append((bu.candidates, bu.kept, _int_snapshot(bu)))
    assert runs[0] == runs[1]


def test_ints_beyond_64_bits_in_the_examples_keep_python_ints():
    p = _problem(INT_PROBLEMS["lia"].replace("(f 0 0) 0", "(f 0 0) 36893488147419103232"))
    bu = BottomUp(p.grammar, p.inputs, Config(timeout=60.0), target=p.outputs, max_size=3)
    assert not bu.int_words and not bu.banks["Start"].numpy


def test_a_helper_with_an_int_beyond_64_bits_has_no_code():
    text = INT_PROBLEMS["lia"].replace(
        "(define-fun half", "(define-fun same ((a Int)) Int (- (+ a 36893488147419103232) 36893488147419103232))\n"
                            "(define-fun half").replace("(half Start)", "(half Start) (same Start)")
    p = _problem(text)
    bu = BottomUp(p.grammar, p.inputs, Config(timeout=60.0), target=p.outputs, max_size=12)
    assert not bu.banks["Start"].numpy  # 2**65 would wrap in a word: the search keeps Python ints
    assert bu.run() == "found" and satisfies(bu.answer(), p.inputs, p.outputs)


def test_compiling_the_kernel_is_not_counted_in_the_search_time(monkeypatch, capsys):
    """The first search on a machine compiles the kernel (tens of seconds): the search clock stops
    meanwhile, so a short --timeout still searches its whole budget, and the user is told. (A slow
    compile is stood for by a sleep longer than the timeout.)"""
    import time

    from glia.runtime.search import bvkernel, synthesize

    p = _problem(BV_PROBLEMS["booleans"])
    assert synthesize(p, Config(timeout=10.0)).solved
    assert bvkernel._cached()  # Numba's cache has it now: a new process loads it, and says nothing
    monkeypatch.setattr(bvkernel, "_loaded", [False])
    monkeypatch.setattr(bvkernel, "_cached", lambda: False)
    monkeypatch.setattr(bvkernel, "_compile", lambda: time.sleep(2.0))
    capsys.readouterr()
    result = synthesize(p, Config(timeout=1.5))
    assert result.solved and result.seconds < 1.5
    err = capsys.readouterr().err
    assert "compiling the search kernel" in err and "not counted in the search's --timeout" in err
    assert "compiled the search kernel in 2." in err
    monkeypatch.setattr(bvkernel, "_compile", lambda: pytest.fail("compiled twice"))
    assert synthesize(p, Config(timeout=10.0)).solved and capsys.readouterr().err == ""
