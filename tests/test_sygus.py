"""The SyGuS-IF reader: every shared .sl file round-trips (read -> print -> read gives the same
problem), grammars are honoured, answers print as (define-fun ...) and re-read, bad input is a
located diagnostic."""
import subprocess
import sys
from pathlib import Path

import pytest

from glia.compiler import sygus
from glia.compiler.diagnostics import GliaError, Source
from glia.runtime.search import Config, satisfies, synthesize
from glia.runtime.search.terms import to_sexpr

SHARED = Path(__file__).resolve().parents[2] / "shared" / "bench" / "sygus"
SL_FILES = sorted(SHARED.rglob("*.sl")) if SHARED.is_dir() else []


def read(text: str, name: str = "p.sl"):
    src = Source(name, text)
    sp = sygus.read_sygus(src)
    return sp, sygus.to_problem(sp, src)


def round_trip(paths):
    for path in paths:
        src = Source(str(path), path.read_text(encoding="utf-8"))
        sp = sygus.read_sygus(src)
        again = sygus.read_sygus(Source(str(path), sygus.print_sygus(sp)))
        assert again.comparable() == sp.comparable(), path.name
        problem = sygus.to_problem(sp, src)  # grammar and helpers become components
        assert problem.inputs and len(problem.inputs) == len(problem.outputs)


@pytest.mark.skipif(not SL_FILES, reason="the shared SyGuS benchmarks are not in ../shared/bench/sygus")
def test_every_shared_file_round_trips():
    round_trip(SL_FILES)


STRINGS = """
(set-logic SLIA)
(synth-fun f ((name String)) String
  ((Start String (ntString))
   (ntString String (name " " "." (str.++ ntString ntString) (str.at ntString ntInt)
                     (str.substr ntString ntInt ntInt)))
   (ntInt Int (0 1 2 (+ ntInt ntInt) (str.indexof ntString ntString ntInt)))))
(declare-var name String)
(constraint (= (f "Nancy FreeHafer") "Nancy."))
(constraint (= (f "Andrew Cencici") "Andrew."))
(constraint (= (f "Jan Kotas") "Jan."))
(check-synth)
"""

BITVECTORS = """
(set-logic BV)
(define-fun shr1 ((x (_ BitVec 64))) (_ BitVec 64) (bvlshr x #x0000000000000001))
(synth-fun f ((x (_ BitVec 64))) (_ BitVec 64)
    ((Start (_ BitVec 64)))
    ((Start (_ BitVec 64) (#x0000000000000001 x (bvnot Start) (shr1 Start) (bvand Start Start)
                           (bvxor Start Start) (bvadd Start Start)))))
(constraint (= (f #x0000000000000005) #x0000000000000007))
(constraint (= (f #x00000000000000f0) #x0000000000000088))
(constraint (= (f #xffffffffffffffff) #x8000000000000000))
(check-synth)
"""


@pytest.mark.parametrize("text", [STRINGS, BITVECTORS], ids=["strings", "bitvectors"])
def test_solves_and_prints_define_fun(text):
    sp, problem = read(text)
    r = synthesize(problem, Config(timeout=30.0))
    assert r.solved and satisfies(r.term, problem.inputs, problem.outputs)
    answer = sygus.print_answer(sp, to_sexpr(r.term))
    assert answer.startswith(f"(define-fun f (({sp.fun.params[0][0]} ")
    # the answer is itself SyGuS: it reads back as a define-fun next to the problem's own helpers
    renamed = text.replace("(check-synth)", "").replace("(synth-fun f ", "(synth-fun g ").replace("(f ", "(g ")
    sp2, _ = read(renamed + "\n" + answer + "\n(check-synth)\n")
    assert sp2.helpers[-1].name == "f" and sygus.show(sp2.helpers[-1].body) == to_sexpr(r.term)


def test_a_template_production_works_in_a_function_with_parameters():
    # (* Start 3) and (+ Start (- 1)) apply an operator to a nonterminal and fixed terms; every such
    # production was refused (E607, 'mixes nonterminals with parameters') when the synth-fun had any
    # parameter, though it names none
    text = """
    (synth-fun f ((x Int) (y Int)) Int ((Start Int (x y (* Start 3) (+ Start (- 1))))))
    (constraint (= (f 1 2) 2))
    (constraint (= (f 2 0) 5))
    (check-synth)
    """
    _, problem = read(text)
    r = synthesize(problem, Config(timeout=10.0))
    assert r.solved and to_sexpr(r.term) == "(+ (* x 3) (- 1))"
    # one that does name a parameter inside the fixed term is still refused, at the production
    with pytest.raises(GliaError) as info:
        read("(synth-fun f ((x Int)) Int ((Start Int (x (+ Start x)))))\n(constraint (= (f 1) 2))\n(check-synth)")
    d = info.value.diagnostic
    assert (d.span.line, d.span.col) == (1, 43) and "mixes nonterminals with parameters" in d.message


def test_each_occurrence_of_a_nonterminal_in_a_template_is_its_own_argument():
    # (+ Start (* Start 2)) read both Starts as one argument, so x + 2y was out of reach (E606, exhausted)
    _, problem = read("(synth-fun f ((x Int) (y Int)) Int ((Start Int (x y (+ Start (* Start 2))))))\n"
                      "(constraint (= (f 1 2) 5))\n(constraint (= (f 3 1) 5))\n(constraint (= (f 0 0) 0))\n"
                      "(check-synth)")
    r = synthesize(problem, Config(timeout=10.0))
    assert r.solved and to_sexpr(r.term) == "(+ x (* y 2))"


@pytest.mark.parametrize("production,constraint,answer", [
    ("(- Start)", "(= (f 1 2) (- 1))", "(- x)"),  # SMT-LIB's negation was E607 ''-' does not take (Int)'
    ("(- (+ Start Start Start))", "(= (f 1 2) (- 4))", "(- (+ x x y))"),  # n-ary +, read left-associatively
])
def test_smt_lib_negation_and_n_ary_operators_are_read(production, constraint, answer):
    _, problem = read(f"(synth-fun f ((x Int) (y Int)) Int ((Start Int (x y {production}))))\n"
                      f"(constraint {constraint})\n(check-synth)")
    r = synthesize(problem, Config(timeout=10.0))
    assert r.solved and to_sexpr(r.term) == answer
    _, helper = read("(define-fun g ((a Int)) Int (+ (- a) a (- a)))\n"
                     "(synth-fun f ((x Int)) Int ((Start Int (x (g Start)))))\n(constraint (= (f 3) -3))\n(check-synth)")
    assert to_sexpr(synthesize(helper, Config(timeout=10.0)).term) == "(g x)"


def test_a_predicates_constraints_may_be_its_application_or_its_negation():
    """`(constraint (f 1 2))` and `(constraint (not (f 2 1)))`, SyGuS's usual form for a Bool function,
    were E607; they are the examples `= true` and `= false`. A function of another sort still needs `=`."""
    _, problem = read("(synth-fun lt ((x Int) (y Int)) Bool ((B Bool) (I Int)) ((B Bool ((< I I) (= I I) (not B)))"
                      " (I Int (x y 0 1))))\n(constraint (lt 1 2))\n(constraint (lt 0 5))\n"
                      "(constraint (not (lt 2 1)))\n(constraint (not (lt 3 3)))\n(constraint (= (lt 4 7) true))\n"
                      "(check-synth)")
    assert problem.outputs == [True, True, False, False, True]
    r = synthesize(problem, Config(timeout=10.0))
    assert r.solved and to_sexpr(r.term) == "(< x y)"
    with pytest.raises(GliaError) as info:
        read("(synth-fun f ((x Int)) Int ((I Int (x 0 1))))\n(constraint (f 1))\n(check-synth)")
    d = info.value.diagnostic
    assert (d.code, d.span.line, d.span.col) == ("E607", 2, 13) and "(= (f inputs...) output)" in d.message


def test_grammar_is_honoured():
    # no bvadd in the grammar: x + 1 cannot be written, so the search must fail (quickly: a small grammar)
    text = """
    (synth-fun f ((x (_ BitVec 64))) (_ BitVec 64)
        ((Start (_ BitVec 64) (x (bvnot Start) (bvand Start Start)))))
    (constraint (= (f #x0000000000000005) #x0000000000000006))
    (check-synth)
    """
    _, problem = read(text)
    r = synthesize(problem, Config(timeout=2.0))
    assert not r.solved and r.seconds < 5


@pytest.mark.parametrize("text, where, words", [
    ("(synth-fun f ((x Int)) Int\n  ((Start Int (x (+ Start Start))))\n(constraint (= (f 1) 2)", (3, 1), "never closed"),
    ("(synth-fun f ((x Real)) Int)", (1, 18), "unsupported sort"),
    ("(synth-fun f ((x Int)) Int ((Start Int (x (frob Start)))))\n(constraint (= (f 1) 2))\n(check-synth)", (1, 43),
     "unknown operator"),
    ("(synth-fun f ((x Int)) Int)\n(constraint (= (f y) 2))", (2, 19), "must be a literal"),
    ("(declare-datatype T ())", (1, 1), "unsupported command"),
    ("(set-logic LIA)\n)", (2, 1), "unexpected ')'"),
    ('(synth-fun f ((x String)) String)\n(constraint (= (f "a) "b"))', (2, 25), "unterminated"),
    ('(synth-fun f ((x Int)) Int)\n(constraint (= (f "a") 2))', (2, 19), "does not fit f's parameter x of sort Int"),
    ("(set-logic LIA)\n(synth-fun f ((x Int)) Int ((Start Bool (true))))\n(constraint (= (f 1) 2))\n(check-synth)", (2, 1),
     "start symbol Start has sort Bool, but f returns Int"),  # was at 1:1, with 'bool' and 'int'
    ("(synth-fun f ((x Int)) Int ((Start Int (x B)) (B Bool (true))))\n(constraint (= (f 1) 2))\n(check-synth)", (1, 43),
     "production B has sort Bool, but Start is Int"),
    ('(synth-fun f ((x Int)) Int)\n(constraint (= (f 1) true))', (2, 22), "does not fit f's result of sort Int"),
    ('(synth-fun f ((x Int)) Int)\n(constraint (= (f 1) 2))\n(constraint (= (f 1) 3))', (3, 1),
     "constraint 1 give the same inputs different results (2 and 3)"),
    # a file without (check-synth), and logics this reader lacks, were accepted silently
    ("(set-logic LIA)\n(synth-fun f ((x Int)) Int)\n(constraint (= (f 1) 2))\n", (3, 25), "no (check-synth)"),
    ("(set-logic LRA)\n(synth-fun f ((x Int)) Int)\n(check-synth)", (1, 12), "unsupported logic 'LRA'"),
    ("(set-logic FOO)\n(synth-fun f ((x Int)) Int)\n(check-synth)", (1, 12), "unsupported logic 'FOO'"),
    ("(set-logic)\n(synth-fun f ((x Int)) Int)\n(check-synth)", (1, 1), "malformed set-logic"),
    # a parameter named twice was read, and the answer printed with both: (define-fun f ((x Int) (x Int)) Int x)
    ("(synth-fun f ((x Int) (x Int)) Int)\n(constraint (= (f 1 2) 2))\n(check-synth)", (1, 23),
     "parameter x is declared twice"),
    ("(define-fun g ((a Int) (a Int)) Int a)\n(synth-fun f ((x Int)) Int)\n(check-synth)", (1, 24),
     "parameter a is declared twice"),
    # a helper named like an operator, another helper or the synth-fun was read, and the printed answer
    # could mean either: (define-fun + ...) then (+ x x)
    # a declared nonterminal without a rule said 'cannot read the term B'; a second rule for one was read
    ("(synth-fun f ((x Int)) Int ((S Int) (B Bool)) ((S Int (x (ite B S S)))))\n(check-synth)", (1, 37),
     "nonterminal B is declared but has no rule"),
    ("(synth-fun f ((x Int)) Int ((Start Int (x)) (Start Int (1))))\n(check-synth)", (1, 45),
     "nonterminal Start has a second rule"),
    # SyGuS-IF's (Constant Int) said 'cannot read the term Int'
    ("(synth-fun f ((x Int)) Int ((Start Int (x (Constant Int)))))\n(check-synth)", (1, 43),
     "(Constant Sort) productions are not supported"),
    ("(define-fun + ((a Int) (b Int)) Int a)\n(synth-fun f ((x Int)) Int)\n(check-synth)", (1, 13),
     "+ is an SMT-LIB operator"),
    ("(define-fun f ((a Int)) Int a)\n(synth-fun f ((x Int)) Int)\n(check-synth)", (2, 12),
     "f is defined earlier in the file"),
    ("(define-fun g ((a Int)) Int a)\n(define-fun g ((a Int)) Int 1)\n(synth-fun f ((x Int)) Int)\n(check-synth)",
     (2, 13), "g is defined earlier in the file"),
])
def test_bad_input_is_located(text, where, words):
    with pytest.raises(GliaError) as info:
        read(text)
    d = info.value.diagnostic
    assert (d.span.line, d.span.col) == where and words in d.message, d.render()


def test_cli_refuses_options_for_glia_files_on_an_sl_file(tmp_path):
    # --write (and --train, --data, --out) were ignored: nothing written, exit 0, no word
    p = tmp_path / "f.sl"
    p.write_text("(synth-fun f ((x Int)) Int)\n(constraint (= (f 1) 2))\n(check-synth)\n")
    r = subprocess.run([sys.executable, "-m", "glia", "synth", str(p), "--write"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1 and "error[E604]: --write: for .glia files" in r.stderr, r.stderr
    assert p.read_text().startswith("(synth-fun f")


def test_cli_solves_an_sl_file(tmp_path):
    p = tmp_path / "bv.sl"
    p.write_text(BITVECTORS)
    r = subprocess.run([sys.executable, "-m", "glia", "synth", str(p), "--timeout", "30"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("(define-fun f ((x (_ BitVec 64))) (_ BitVec 64) ")
    again = subprocess.run([sys.executable, "-m", "glia", "synth", str(p), "--timeout", "30"], capture_output=True,
                           text=True, timeout=120)
    assert again.stdout == r.stdout and "(cached)" in again.stderr  # replayed from the cache
    bad = tmp_path / "bad.sl"
    bad.write_text("(synth-fun f ((x Int)) Int\n")
    r = subprocess.run([sys.executable, "-m", "glia", "synth", str(bad)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "bad.sl:1:1: error[E607]" in r.stderr and "Traceback" not in r.stderr


def test_cli_reads_an_upper_case_sl_file_as_sygus(tmp_path):
    # FILE.SL was parsed as Glia (a syntax error at the first parenthesis)
    p = tmp_path / "UP.SL"
    p.write_text("(set-logic QF_LIA)\n(synth-fun f ((x Int)) Int)\n(constraint (= (f 1) 2))\n"
                 "(constraint (= (f 2) 3))\n(check-synth)\n")
    r = subprocess.run([sys.executable, "-m", "glia", "synth", str(p), "--no-cache"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("(define-fun f ((x Int)) Int "), r.stderr


def test_cli_places_search_errors_at_the_synth_fun(tmp_path):
    # no constraints: E602 at the synth-fun's line, not at a file without a place
    p = tmp_path / "none.sl"
    p.write_text("(set-logic LIA)\n(synth-fun f ((x Int)) Int)\n(check-synth)\n")
    r = subprocess.run([sys.executable, "-m", "glia", "synth", str(p), "--no-cache"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1 and "none.sl:2:1: error[E602]" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_without_a_grammar_string_constants_come_from_the_examples():
    # only "" and " " were constants: x ++ "!" could not be built, and the search ran out of time
    _, problem = read('(synth-fun f ((x String)) String)\n(constraint (= (f "ab") "ab!"))\n'
                      '(constraint (= (f "c") "c!"))\n(check-synth)')
    r = synthesize(problem, Config(timeout=10.0))
    assert r.solved and to_sexpr(r.term) == '(str.++ x "!")'


def test_a_one_letter_substring_every_result_shares_is_a_constant():
    # shared substrings were looked for from two characters up: x ++ "H" (a letter, not punctuation)
    # had no constant and ran out of time
    _, problem = read('(synth-fun f ((x String)) String)\n(constraint (= (f "a") "aH"))\n'
                      '(constraint (= (f "bc") "bcH"))\n(check-synth)')
    r = synthesize(problem, Config(timeout=10.0))
    assert r.solved and to_sexpr(r.term) == '(str.++ x "H")'


def test_set_info_and_set_option_are_read_and_ignored():
    """docs/search.md said every command it does not list is E607, while set-info and set-option were
    (rightly: SyGuS benchmark files carry them) read and ignored; the doc now lists them."""
    sp, _ = read('(set-info :source |x|)\n(set-option :produce-models true)\n(synth-fun f ((x Int)) Int)\n'
              '(constraint (= (f 1) 2))\n(check-synth)')
    assert sp.fun.name == "f" and len(sp.examples) == 1
    assert "`set-info` and `set-option`" in (Path(__file__).resolve().parents[1] / "docs" / "search.md").read_text()
