"""Dict updates in place and split loops in the CPU backend (compiler/fused.py, runtime/nbdict.py):
the compiled program prints what the interpreter prints and fails with the same error at the same
place. One program, compiled once; its `main` picks a case from its arguments."""
import contextlib
import io
import random

import pytest

from glia.compiler.diagnostics import GliaError, Source
from glia.compiler.driver import check_source, run_program

PROGRAM = '''\
struct Box:
    counts: dict[str, int]

SEEN: dict[str, int] = {"k": 1}

def bump(d: dict[str, int], k: str) -> int:
    d.pop(k, 0)
    return 1

def word_counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for w in text.split():
        counts[w] = counts.get(w, 0) + 1
    return counts

def updates() -> str:
    d: dict[str, int] = {"x": 1, "y": 2}
    d["x"] += 10
    d["y"] = d["y"] - 3
    d["y"] -= 1
    k = "z"
    d[k] = d.get(k, 5) - 2
    del d["x"]
    d["x"] = d.get("x", 0) + 1
    f: dict[int, float] = {}
    for i in range(7):
        f[i % 3] = f.get(i % 3, 0) + 0.5
        f[i % 3] -= 0.25
    t: dict[(int, str), int] = {}
    t[(1, "a")] = t.get((1, "a"), 0) + 4
    t[(1, "a")] += 1
    b = Box({})
    b.counts["q"] = 1
    b.counts["q"] += 2
    b.counts["r"] = b.counts.get("r", 0) + 3
    SEEN["k"] = SEEN.get("k", 0) + 1
    n = 3
    e: dict[str, int] = {"a": 1, "b": 2}
    e["a"] = e.get("a", 0) + bump(e, "a")
    n += e.setdefault("c", 4) + e.setdefault("b", 9)
    for kk, vv in e.items():
        n = n * 10 + vv
    pick = ["p", "q", "r"][e.get("zz", 1)] + ["p", "q", "r"][SEEN.get("nope", 2)]  # the value's type, not optional
    return str(d) + " " + str(f) + " " + str(t) + " " + str(b.counts) + " " + str(n) + " " + str(e) + " " + pick

def split_loops(s: str) -> str:
    out: list[str] = []
    for w in s.split():
        if w == "skip":
            continue
        if w == "stop":
            break
        s = s + "!"
        out.append(w)
    for p in "a,,b,".split(","):
        out.append("[" + p + "]")
    for p in "x--y----z".split("--"):
        out.append("<" + p + ">")
    for p in "".split(","):
        out.append("(" + p + ")")
    out.append(str([w + "." for w in " x  y ".split()]) + str({p: len(p) for p in "ab,c,".split(",") if p != "c"}))
    for w in "":
        out.append(w)
    for w in "   ".split():
        out.append("never")
    return "|".join(out) + " " + s

def main(args: list[str]):
    text = "the cat\\tsat\\u00a0on the\\u2003mat\\x1cthe end\\n  cat "
    print(word_counts(text))
    print(updates())
    print(split_loops("a b skip c stop d"))
    if len(args) == 0:
        return
    d: dict[str, int] = {"a": 9223372036854775800}
    big = 100
    if args[0] == "missing":
        d["zz"] += 1
    if args[0] == "missing-sub":
        d["zz"] = d["zz"] - 1
    if args[0] == "overflow":
        d["a"] = d.get("a", 0) + big
    if args[0] == "overflow-aug":
        d["a"] += big
    if args[0] == "sep":
        for p in text.split(""):
            print(p)
    if args[0] == "getitem":
        print(d["nope"])
'''


def run(program, args, backend):
    buf = io.StringIO()
    err = None
    notes: list[str] = []
    with contextlib.redirect_stdout(buf):
        try:
            run_program(program, args, backend=backend, notes=notes.append)
        except GliaError as e:
            d = e.diagnostic
            err = (d.code, d.message, d.span.line, d.span.col)
    assert not notes, notes  # compiled, not a fallback to the interpreter
    return buf.getvalue(), err


@pytest.fixture(scope="module")
def program():
    return check_source(Source("dicts.glia", PROGRAM))


def test_the_fused_lowerings_are_taken(program):
    from glia.compiler.backend_cpu import lower_program

    source = lower_program(program).source
    for helper in ("dict_add_get", "dict_add_item", "str_next_word", "str_next_part", "check_sep"):
        assert f"rt.{helper}(" in source, helper
    assert "rt.str_split_ws(" not in source and "rt.str_split(" not in source
    # `e[k] = e.get(k, 0) + bump(e, k)`: bump runs between the read and the write, so not fused
    assert "rt.dict_set(_t" in source or "rt.dict_set(v" in source


def test_compiled_matches_interpreter(program):
    ref = run(program, [], "interp")
    assert ref[1] is None
    assert run(program, [], "cpu") == ref
    lines = ref[0].splitlines()
    assert lines[0] == "{'the': 3, 'cat': 2, 'sat': 1, 'on': 1, 'mat': 1, 'end': 1}"
    assert lines[2] == "a|b|c|[a]|[]|[b]|[]|<x>|<y>|<>|<z>|()|['x.', 'y.']{'ab': 2, '': 0} a b skip c stop d!!!"


@pytest.mark.parametrize("case, code", [("missing", "E502"), ("missing-sub", "E502"), ("overflow", "E504"),
                                        ("overflow-aug", "E504"), ("sep", "E506"), ("getitem", "E502")])
def test_errors_match_interpreter(program, case, code):
    ref = run(program, [case], "interp")
    assert ref[1] is not None and ref[1][0] == code, ref
    assert run(program, [case], "cpu") == ref


def test_in_place_updates_agree_with_numba_dicts_through_resizes_and_deletions():
    """runtime/nbdict.py writes into Numba's dict entries by their C layout: checked against Numba's
    own `d[k] = d.get(k, 5) + 3` over thousands of keys (index tables of 1, 2 and 4 bytes),
    deletions and re-insertions, in the same order."""
    from numba import njit, types
    from numba.typed import Dict, List

    from glia.runtime import nbrt as rt

    @njit
    def replay(keys, ops):
        d = Dict.empty(types.unicode_type, types.int64)
        e = Dict.empty(types.unicode_type, types.int64)
        for i in range(len(keys)):
            k, op = keys[i] + "", ops[i]  # a string made in compiled code (no hash kept)
            if op == 0:
                rt.dict_add_get(d, k, 5, 3, False, 1)
                e[k] = e.get(k, 5) + 3
            elif op == 1 and k in e:
                rt.dict_add_item(d, k, 2, True, 1, 2)
                e[k] = e[k] - 2
            elif op == 2 and k in e:
                del d[k]
                del e[k]
        return d, e

    rnd = random.Random(7)
    keys = [rnd.choice(["k", "é", "日本", "😀"]) + str(rnd.randrange(40_000)) for _ in range(60_000)]
    ops = [rnd.choice([0, 0, 0, 1, 2]) for _ in keys]
    d, e = replay(List(keys), List(ops))
    assert len(e) > 0xffff // 3 and list(d.items()) == list(e.items())


def test_string_keys_hash_as_in_python():
    """nbdict.key_hash (CPython's _Py_HashBytes) gives Python's hash() for strings of every kind,
    made in compiled code or passed from Python, so keys from either meet in one dict."""
    from numba import njit
    from numba.typed import List

    from glia.runtime import nbdict

    @njit
    def hashes(strs):
        out = List()
        for s in strs:
            out.append((nbdict.key_hash(s), nbdict.key_hash(s + ""), hash(s + "")))
        return out

    strs = ["", "a", "ab", "abcdefgh", "abcdefghi", "é", "日本語テキスト", "😀x", "x" * 100]
    for s, (a, b, c) in zip(strs, hashes(List(strs))):
        assert a == b == c == hash(s), s


def test_split_helpers_split_as_python():
    """rt.str_split_ws (s.split() as a list) and the split loop's walkers find Python's parts, with
    every kind of whitespace str.isspace() knows."""
    from glia.runtime import nbrt as rt

    spaces = " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2028\u3000"
    rnd = random.Random(3)
    cases = ["", "   ", "a", " a ", "日本 語", "😀\u3000x"] + [
        "".join(rnd.choice(spaces + "ab,-é") for _ in range(rnd.randrange(12))) for _ in range(200)]
    for s in cases:
        assert list(rt.str_split_ws(s)) == s.split(), repr(s)
        words, end = [], 0
        while True:
            start, end = rt.str_next_word(s, end)
            if start < 0:
                break
            words.append(rt.str_part(s, start, end))
        assert words == s.split(), repr(s)
        for sep in (",", "-,", "é"):
            parts, start = [], 0
            while start <= len(s):
                end, after = rt.str_next_part(s, sep, start)
                parts.append(s[start:end])
                start = after
            assert parts == s.split(sep), (repr(s), sep)
