"""Front-end edges: what Python users write that the parser and checker must take, or refuse clearly."""
from __future__ import annotations

import io
import subprocess
import sys

import pytest

from glia.compiler.diagnostics import GliaError, Source
from glia.compiler.driver import check_source
from glia.session import Session

N = 2000  # terms in a chain: far past the nesting limit (150), each chain is one level


CHAINS = {  # kind: (the chain, what printing it shows)
    "int": (" + ".join(["1"] * N), f"{N}"),
    "float": (" + ".join(["0.5"] * N), f"{N * 0.5}"),
    # (500 strings: past Python's 200 nested parentheses; each `+` is a call Numba compiles, 45 s for 2000)
    "str": ("len(" + " + ".join(['"ab"'] * 500) + ")", "1000"),
    "and": (" and ".join(["x > 1"] * 500), "True"),
    "or": (" or ".join(["x < 1"] * 500), "False"),
}


@pytest.mark.parametrize("backend", ["interp", "cpu"])
@pytest.mark.parametrize("kind", sorted(CHAINS))
def test_a_chain_of_thousands_of_terms_runs_on_both_backends(tmp_path, kind, backend):
    """A flat sum of 2000 terms was E005 "nested too deeply" (a left-associative chain is a deep tree);
    compiled, it was also more than Python's 200 nested parentheses, and an `and` chain more than its
    100 levels of indentation."""
    chain, shown = CHAINS[kind]
    p = tmp_path / "chain.glia"
    p.write_text(f"def main():\n    x = 3\n    w = {chain}\n    print(w)\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "glia", "run", "--backend", backend, str(p)], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout == shown + "\n"
    assert "note" not in r.stderr  # compiled, not run interpreted instead


def test_a_chain_of_thousands_of_terms_in_the_repl():
    out, err = io.StringIO(), io.StringIO()
    s = Session(out, err)
    for entry in ["x = 3", f"w = {' + '.join(['x'] * N)}", "w", f"b = {' and '.join(['x > 1'] * 500)}", "b",
                  ":backend cpu", f"def g(y: int) -> int:\n    return {' + '.join(['y'] * N)}\n", "g(2)"]:
        s.execute(entry)
    assert err.getvalue() == ""
    assert out.getvalue().splitlines() == [f"{3 * N} : int", "True : bool", "backend: cpu", f"{2 * N} : int"]


def test_a_chain_longer_than_the_limit_is_refused_by_its_length():
    from glia.compiler.checker import MAX_CHAIN

    text = "def main():\n    w = " + " * ".join(["1"] * (MAX_CHAIN + 1)) + "\n"
    d = error_of(text)
    assert d.code == "E005" and f"this chain of `*` has more than {MAX_CHAIN} terms" in d.message
    assert (d.span.line, d.span.col) == (2, 9)


def test_nesting_still_counts_levels_of_different_operators():
    text = "def main():\n    w = " + "1 + 2 * (" * 200 + "1" + ")" * 200 + "\n"
    d = error_of(text)
    assert d.code == "E005" and "nested too deeply" in d.message


def test_an_f_string_says_glia_has_none_and_what_to_write():
    d = error_of('def main():\n    x = 1\n    print(f"{x}")\n')
    assert d.code == "E005" and "no f-strings" in d.message and '"x = " + str(x)' in d.message
    assert (d.span.line, d.span.col) == (3, 11)


@pytest.mark.parametrize("phrase, shown", [("int", "an int"), ("float", "a float"), ("f32", "an f32"),
                                           ("Edge", "an Edge"), ("Ellipsis literal", "an Ellipsis literal"),
                                           ("list[int]", "a list[int]"), ("str", "a str")])
def test_messages_choose_a_or_an(phrase, shown):
    """Messages said "stays a int", "a Ellipsis literal", "defines a Edge": one helper now picks the article."""
    from glia.compiler.diagnostics import a_or_an

    assert a_or_an(phrase) == shown


def test_a_type_error_names_its_type_with_the_right_article():
    assert "this is an int, not a function" in error_of("def main():\n    x = 1\n    x()\n").message


def _check(text: str):
    return check_source(Source("kw.glia", text))


def error_of(text: str):
    """The diagnostic checking `text` (as t.glia) raises."""
    with pytest.raises(GliaError) as e:
        check_source(Source("t.glia", text))
    return e.value.diagnostic


@pytest.mark.parametrize("first", ["", "    x = 1\n", "    print(0)\n"])
def test_contextual_keywords_are_names_wherever_a_statement_begins(first):
    """`struct = 1` as the first statement of a body was a variable, after another statement E005
    (the contextual lexer's choice followed the parser's state); now `struct`, `examples` and `train`
    are keywords only where they begin a top-level definition, the same in any position."""
    p = _check("struct on:\n    examples: int\n    train: int\n"
               "train = 3\n"
               "def f(x: int) -> int:\n    return x + 1\n"
               "examples f:\n    1 -> 2\n"
               "train f on \"d.npz\":\n    epochs = 1\n"
               "def main():\n" + first +
               "    struct = 1\n    examples = [on(1, 2)]\n    on_ = train\n    print(struct, examples[0].train, on_)\n")
    assert {"f", "main"} <= set(p.functions)


@pytest.mark.parametrize("text, word", [
    ("def def(x: int) -> int:\n    return x\n", "def"),
    ("struct P:\n    if: int\n", "if"),
    ("def f(while: int) -> int:\n    return 1\n", "while"),
    ("def f(x: int) -> int:\n    return x.None\n", "None"),
])
def test_reserved_words_are_never_names(text, word):
    """`def def(...)`, a field `if` and a parameter `while` were accepted: the contextual lexer read a
    keyword as a name wherever the keyword could not come. Reserved words are now keywords everywhere."""
    with pytest.raises(GliaError) as e:
        _check(text)
    d = e.value.diagnostic
    assert d.code == "E001" and f"'{word}' is a keyword" in d.message and d.span.line in (1, 2)


def test_a_definition_inside_a_function_is_still_e005():
    with pytest.raises(GliaError) as e:
        _check("def main():\n    x = 1\n    struct P:\n        x: int\n")
    assert e.value.diagnostic.code == "E005" and (e.value.diagnostic.span.line, e.value.diagnostic.span.col) == (3, 5)


@pytest.mark.parametrize("lit", ["2e308", "1_000e400", "1.8e308"])
def test_a_float_literal_too_large_is_e210_at_the_literal(lit):
    """`2e308` silently became inf (Python's float() of the text), unlike an int literal that does not
    fit (E210)."""
    with pytest.raises(GliaError) as e:
        _check(f"def main():\n    x = 1.0 - {lit}\n    print(x)\n")
    d = e.value.diagnostic
    assert d.code == "E210" and (d.span.line, d.span.col) == (2, 15) and "float literal" in d.message
    assert _check("def main():\n    print(1.7e308, 1e-400, inf)\n")


@pytest.mark.parametrize("lit, col, words", [
    ("08", 11, "write 8\n"), ("0123 + 1", 11, "write 123, or 0o123 for an octal number"), ("[1][00_1]", 15, "write 1,"),
])
def test_a_decimal_integer_with_a_leading_zero_says_so(lit, col, words):
    """`08` said "unexpected character '0'; expected one of ..., a number, ...": a number where a
    number was expected. Python 3 refuses these literals too."""
    with pytest.raises(GliaError) as e:
        _check(f"def main():\n    print({lit})\n")
    d = e.value.diagnostic
    assert d.code == "E002" and (d.span.line, d.span.col) == (2, col) and "cannot begin with 0" in d.message
    assert words in d.message + "\n"
    assert _check("def main():\n    print(0, 00, 0_0, 0.5, 08.5, 09e1, 0x1f)\n")


@pytest.mark.parametrize("text, code, where", [
    ('    print("a\\ud800")\n', "E004", (2, 13)),
    ('    print("\\ud83d" + "\\ude00")\n', "E004", (2, 12)),
])
def test_a_surrogate_escape_is_e004(text, code, where):
    """`print("\\ud800")` was an internal error in the interpreter (UnicodeEncodeError writing it)
    and printed nothing compiled: a surrogate is no character, and no string holds one."""
    with pytest.raises(GliaError) as e:
        _check("def main():\n" + text)
    d = e.value.diagnostic
    assert d.code == code and (d.span.line, d.span.col) == where and "surrogate" in d.message
    assert _check('def main():\n    print("\\U0001F600\\u00e9\\x41")\n')


@pytest.mark.parametrize("backend", ["interp", "cpu"])
def test_chr_of_a_surrogate_is_e506_on_both_backends(tmp_path, backend):
    p = tmp_path / "s.glia"
    p.write_text("def main():\n    s = chr(55296)\n    print(s)\n")
    r = subprocess.run([sys.executable, "-m", "glia", "run", "--backend", backend, str(p)], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 1 and "s.glia:2:9: error[E506]" in r.stderr and "surrogates" in r.stderr, r.stderr


@pytest.mark.parametrize("line, col", [('    print("""abc)\n', 11), ("    x = '''abc\n    y = 1\n", 9)])
def test_an_unterminated_triple_quoted_string_is_placed_at_its_quotes(line, col):
    """`print(\"\"\"abc` said "unterminated string literal" two columns right of the opening quotes
    (the lexer reads `""` as an empty string first)."""
    with pytest.raises(GliaError) as e:
        _check("def main():\n" + line)
    d = e.value.diagnostic
    assert d.code == "E004" and (d.span.line, d.span.col) == (2, col) and "triple-quoted" in d.message


def test_a_statement_at_the_top_level_says_where_statements_go():
    """With reserved words read as keywords everywhere, `if` at the top level must not be told it
    cannot name a variable: it is a statement outside a function."""
    with pytest.raises(GliaError) as e:
        _check("x = 1\nwhile x > 0:\n    x = 0\n")
    d = e.value.diagnostic
    assert d.code == "E001" and (d.span.line, d.span.col) == (2, 1) and "statements go inside a function" in d.message
    assert "cannot name" not in d.message


@pytest.mark.parametrize("text, where, after", [
    ("def main() -> int:\n    return 1 + \\", (2, 16), "the file ends after it"),
    ("def main() -> int:\n    return 1 + \\\n", (2, 16), "the file ends after it"),
    ("def main() -> int:\n    return 1 + \\\n\n# end\n", (2, 16), "the file ends after it"),
    ("x = 1 + \\", (1, 9), "the file ends after it"),
    ("def main() -> int:\n    x = 1 + \\\n\n    return x\n", (2, 13), "the line after it has no code"),
])
def test_a_line_continuation_with_nothing_after_it_is_named(text, where, after):
    """A `\\` at the very end of a file said "unexpected end of the block" at the operator before it (the
    lexer drops a `\\` and its newline, so the parser only saw the line end early)."""
    d = error_of(text)
    assert d.code == "E001" and d.message.startswith("a line continuation '\\' with nothing after it: " + after)
    assert (d.span.line, d.span.col) == where


def test_a_backslash_in_a_comment_at_the_end_is_no_continuation():
    assert "line continuation" not in error_of("def main() -> int:\n    return 1 + # \\\n").message


@pytest.mark.parametrize("body, where", [
    ("    f = lambda: (yield)\n", (2, 18)),
    ("    print(yield)\n", (2, 11)),
    ("    x = (yield 3)\n", (2, 10)),
    ("    x = await g()\n", (2, 9)),
])
def test_a_python_keyword_inside_an_expression_is_named_as_python(body, where):
    """`lambda: (yield)` was E101 "undefined name 'yield'" and `x = await g()` an unexpected name 'g': only a
    line starting with the keyword got the "is Python, not Glia" message."""
    d = error_of("def main():\n" + body)
    assert d.code == "E005" and "is Python, not Glia" in d.message
    assert (d.span.line, d.span.col) == where


def test_a_python_only_keyword_is_still_a_name_in_glia():
    check_source(Source("t.glia", "def main():\n    from = 3\n    print(from + 1)\n"))


@pytest.mark.parametrize("body, where, said", [
    ("    a = [1]\n    b = [a, [2.5]]\n", (3, 13), "'a' is a list[int], not a literal"),
    ("    a = [1]\n    b: list[float] = a\n", (3, 22), "`a: list[float] = ...`"),
    ("    a = {1: 2}\n    b: dict[int, float] = a\n", (3, 27), "`a: dict[int, float] = ...`"),
])
def test_a_list_variable_of_ints_where_floats_are_expected_says_why(body, where, said):
    """`a = [1]; b = [a, [2.5]]` was E201 with no word of why `[[1], [2.5]]` widens and this does not: a
    literal's ints widen, a list variable's cannot (it is shared by reference)."""
    d = error_of("def main():\n" + body)
    assert d.code == "E201" and said in d.message and "shared by reference" in d.message, d.message
    assert (d.span.line, d.span.col) == where


def test_a_mismatch_of_other_types_has_no_reference_hint():
    assert "reference" not in error_of("def main():\n    a = [\"x\"]\n    b: list[float] = a\n").message


@pytest.mark.parametrize("call, said", [
    ("sum(bs, 0.5)", "sum takes numbers, found list[bool] (a bool is not a number in Glia: count the True ones"),
    ("sum(bs)", "sum takes numbers, found list[bool] (a bool is not a number in Glia"),
    ("sum(ss, 0.5)", 'sum takes numbers, found list[str] (join strings with "".join(xs))'),
])
def test_sum_of_bools_or_strings_says_what_sum_takes(call, said):
    """`sum(bools, 0.5)` said "expected bool, found float" at the start (the start was checked against the
    element type before the element type was checked), where Python gives 1.5 for [True, False]."""
    d = error_of(f"def main():\n    bs = [True, False]\n    ss = [\"a\"]\n    print({call})\n")
    assert d.code == "E201" and d.message.startswith(said), d.message
    assert (d.span.line, d.span.col) == (4, 15)


@pytest.mark.parametrize("line, code, said", [
    ("x = 1e", "E002", "invalid number literal '1e' (an exponent needs digits"),
    ("x = 2.5j + 1", "E002", "'2.5j' is a complex number, which Glia does not have"),
    ("x = 3abc", "E002", "invalid number literal '3abc'"),
    ("x: int", "E001", "expected '=' (a declaration needs a value, as in `x: int = 0`)"),
    ("print(*[1, 2])", "E001", "(unpacking with '*' is Python, not Glia)"),
    ("d = {**{1: 2}}", "E001", "(unpacking with '**' is Python, not Glia)"),
])
def test_python_spellings_the_parser_refuses_say_why(line, code, said):
    """Each was only "unexpected name 'e'" (or '*', or the end of the line) with the tokens expected."""
    d = error_of(f"def main():\n    {line}\n    print(1)\n")
    assert d.code == code and said in d.message, d.message
    assert d.span.line == 2


@pytest.mark.parametrize("line, said", [
    ("x = [1, 2][True]", "index type mismatch: expected int, found bool"),
    ("xs = [1]\n    xs[1.0] = 2", "index type mismatch: expected int, found float"),
    ("x = \"ab\"[0:1.5]", "slice bound type mismatch: expected int, found float"),
    ("d = {1: 2}\n    x = d[\"a\"]", "key type mismatch: expected int, found str"),
])
def test_an_index_of_the_wrong_type_is_named_an_index(line, said):
    """`[1, 2][True]` said "argument type mismatch" (an index is checked as an argument of getitem)."""
    d = error_of(f"def main():\n    {line}\n")
    assert d.code == "E201" and d.message.startswith(said)


def test_a_python_file_given_as_glia_source_says_how_it_runs():
    """`glia run model.py` (a module of @glia.fn functions) said only "'import' is Python, not Glia"."""
    with pytest.raises(GliaError) as e:
        check_source(Source("model.py", "import glia\n\n@glia.fn\ndef f(x: int) -> int:\n    return x\n"))
    d = e.value.diagnostic
    assert d.code == "E005" and any("model.py is a Python file" in n.message and "`python`" in n.message
                                    for n in d.notes)
    with pytest.raises(GliaError) as e:
        check_source(Source("model.glia", "import glia\n"))
    assert not e.value.diagnostic.notes


@pytest.mark.parametrize("text, code, said", [
    ("def main():\n    for i in range(3):\n        print(i)\n    else:\n        print(0)\n", "E005",
     "Glia has no `else` after a `for` or `while` loop"),
    ("@cache\ndef main():\n    print(1)\n", "E005", "decorators (`@name` before a def) are Python, not Glia"),
    ("def main():\n    x = 1\n    else:\n        print(0)\n", "E001", "an 'else' follows the block of an 'if'"),
    ("def main():\n    x = [1, 2,, 3]\n", "E001", "unexpected ','; expected one of a name, a number"),
    ("def main():\n    xs = []\n    print(xs < xs)\n", "E205", "annotate them where they are made"),
    ("def main():\n    x = 1\n  y = 2\n", "E003", "(those are indented by 0, 4)"),
    ("def main():\n    while True:\n    x = 1\n", "E003", "expected an indented block after 'while' on line 2"),
])
def test_python_habits_and_layout_mistakes_are_said_plainly(text, code, said):
    """Found by an audit (2026-12-07): a for-else was called a keyword used as a name, a decorator a bare
    E001, brackets offered "a new line" as what could come, an unknown element type showed as
    list[?elem], the indentation levels left out the block just left, and a missing block said
    "expected a new line"."""
    d = error_of(text)
    assert d.code == code and said in d.message, d.message
    assert "a new line" not in d.message, d.message
