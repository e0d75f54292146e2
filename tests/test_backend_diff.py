"""Differential tests of the CPU backend against the reference interpreter on random programs.

Random well-typed programs (loops, branches, lists, dicts, sets, tuples, structs, trees (`struct Node`
with `kids: list[Node]`), strings, globals, calls; `TypedGen` in test_fuzz_frontend.py) are
generated from fixed seeds, renamed apart and put into ONE Glia program, so Numba compiles one module for all of them (a compile per program would
cost seconds each). Each sub-program's `main_k` is then called, in order, in both backends, sharing
the globals as the language says; the printed output and the runtime error (code, message, line,
column) must be identical.

Then every function with parameters that the programs define is compiled too and called from Python on GLIA_DIFF_INPUTS random arguments of its parameter types (seeded;
small values mostly, with the edges a compiled backend gets wrong: 64-bit limits, -0.0, infinities,
NaN, empty and non-ASCII strings, empty containers): its printed output, result, error, and what it
did to its arguments must be identical too. Compiling is what costs (about a second a program), so
this is how CI checks thousands of runs: 40 programs x 40 inputs.

CI runs GLIA_DIFF_PROGRAMS programs (default 40) per seed block; set it (or GLIA_DIFF_INPUTS,
default 40) higher, or GLIA_DIFF_SEED (default 1000) elsewhere, to look harder
(`GLIA_DIFF_PROGRAMS=400 pytest tests/test_backend_diff.py`).
"""
from __future__ import annotations

import contextlib
import io
import os
import random
import re

import pytest

from glia.compiler.diagnostics import GliaError, Source
from glia.compiler.driver import check_source, sources_of
from glia.compiler.interp import Interpreter

from test_fuzz_frontend import TYPED_HEADER, Choices, TypedGen

N_PROGRAMS = int(os.environ.get("GLIA_DIFF_PROGRAMS", "40"))
N_INPUTS = int(os.environ.get("GLIA_DIFF_INPUTS", "40"))
HEADER_LINES = len(TYPED_HEADER)  # struct P, first[T], twice[T], struct Node: once for all sub-programs


def sub_program(seed: int, k: int) -> str:
    rnd = random.Random(seed)
    text = TypedGen(Choices(bytes(rnd.randrange(256) for _ in range(400)))).program()
    body = "\n".join(text.splitlines()[HEADER_LINES:])
    body = re.sub(r"\bf(\d)\b", rf"f{k}_\1", body)
    body = re.sub(r"\bG(\d+)\b", rf"G{k}_\1", body)
    body = re.sub(r"\bmain\b", f"main_{k}", body)
    return body


def combined(seed0: int, n: int) -> str:
    """n sub-programs in one program; those whose globals fail to initialise (a runtime error before
    any main) are left out: the test compares what the mains do."""
    header = "\n".join(TYPED_HEADER)
    parts = {k: sub_program(seed0 + k, k) for k in range(n)}
    # the generator also writes holes (`??`): the CPU backend compiles filled programs only, and a
    # running hole is E601 on either backend, so those sub-programs are not what this test compares
    parts = {k: p for k, p in parts.items() if "??" not in p}
    while True:
        text = header + "\n" + "\n\n".join(parts.values()) + "\n\ndef main():\n" \
            + "".join(f"    main_{k}()\n" for k in parts)
        program = check_source(Source("diff.glia", text))
        try:
            Interpreter(program, sources_of(program)).init_globals()
            return text
        except GliaError as e:
            # the failing line, or (an error inside a helper a global's initializer calls) the
            # line of a call on the way there
            lines = [e.diagnostic.span.line] + [n.span.line for n in e.diagnostic.notes if n.span]
            found = (re.match(r"G(\d+)_", text.splitlines()[ln - 1]) for ln in lines if ln > 0)
            bad = next((m for m in found if m), None)
            assert bad, e.render()
            del parts[int(bad.group(1))]


def outcome(fn) -> tuple[str, tuple | None]:
    out = io.StringIO()
    err = None
    with contextlib.redirect_stdout(out):
        try:
            fn()
        except GliaError as e:
            d = e.diagnostic
            err = (d.code, d.message, d.span.line, d.span.col)
        except Exception as e:  # not a diagnostic: a bug in a backend, reported as a disagreement
            err = ("Python exception", f"{type(e).__name__}: {e}")
    return out.getvalue(), err


@pytest.mark.slow
@pytest.mark.parametrize("seed0", [int(os.environ.get("GLIA_DIFF_SEED", "1000"))])
def test_random_programs_agree(seed0):
    from glia.compiler.backend_cpu import compiled_error, global_values, load, lower_program
    from glia.compiler.interp import run_with_big_stack
    from glia.compiler.lower_numba import mangle_func
    from glia.runtime.errors import CompiledRuntimeError
    from glia.runtime.nbbox import from_interp

    text = combined(seed0, N_PROGRAMS)
    mains = re.findall(r"^def (main_\d+)\(", text, re.M)
    src = Source("diff.glia", text)
    program = check_source(src)
    sources = sources_of(program)
    # each main_<k> is called from Python, and so is every helper that takes arguments
    helpers = tuple(name for name, f in program.functions.items()
                    if f.params and not f.type_params and re.fullmatch(r"f\d+_\d+", name))
    lowered = lower_program(program, all_callable=True, also=helpers)
    module = load(lowered).module

    interp = Interpreter(program, sources)
    run_with_big_stack(interp.init_globals)
    gvals = global_values(program)
    nb_globals = {}
    for name, uses in lowered.function_globals.items():
        for g, s in uses:
            if g not in nb_globals:
                nb_globals[g] = from_interp(gvals[g], s)

    def compiled_call(name):
        f = getattr(module, mangle_func(name))
        args = [nb_globals[g] for g, _ in lowered.function_globals[name]]

        def go():
            try:
                f(*args, 1)  # the depth of an entry point, as interp.call gives it
            except CompiledRuntimeError as e:
                raise compiled_error(e, lowered, sources) from None
        return lambda: run_with_big_stack(go)

    disagreements = []
    for name in mains:
        expected = outcome(lambda: run_with_big_stack(lambda: interp.call(name, [])))
        got = outcome(compiled_call(name))
        if got != expected:
            disagreements.append(f"{name} (seed {seed0 + int(name[5:])}):\n  interp: {expected}\n  cpu:    {got}")
    assert not disagreements, "\n".join(disagreements) + "\n\nprogram:\n" + text

    # the helpers on random arguments
    from glia.compiler.lower_numba import spec
    from glia.runtime.fmt import to_repr
    from glia.runtime.nbbox import to_interp

    rnd = random.Random(seed0)
    runs = 0
    for name in helpers:
        f, compiled = program.functions[name], getattr(module, mangle_func(name))
        specs = [spec(t, program.structs) for t in f.slot_types[:len(f.params)]]
        ret = spec(f.type.ret, program.structs) if str(f.type.ret) != "None" else ("None",)
        gargs = [nb_globals[g] for g, _ in lowered.function_globals[name]]
        for _ in range(N_INPUTS):
            args = [random_value(rnd, s, interp.structs) for s in specs]
            nb_args = [from_interp(a, s) for a, s in zip(args, specs)]  # copies, before the interpreter's call
            box: list = []

            def go():
                try:
                    box.append(compiled(*nb_args, *gargs, 1))
                except CompiledRuntimeError as e:
                    raise compiled_error(e, lowered, sources) from None
            shown = [to_repr(a) for a in args]
            expected = outcome(lambda: box.append(run_with_big_stack(lambda: interp.call(name, args))))
            expected += (to_repr(box.pop()) if expected[1] is None else None, [to_repr(a) for a in args])
            got = outcome(lambda: run_with_big_stack(go))
            got += (to_repr(to_interp(box.pop(), ret, interp.structs)) if got[1] is None else None,
                    [to_repr(to_interp(a, s, interp.structs)) for a, s in zip(nb_args, specs)])
            runs += 1
            if got != expected:
                disagreements.append(f"{name}({', '.join(shown)}):\n  interp: {expected}\n  cpu:    {got}")
    assert not disagreements, "\n".join(disagreements[:5]) + "\n\nprogram:\n" + text
    print(f"{len(mains)} programs, {runs} calls of {len(helpers)} helpers on random arguments")
    assert runs >= N_INPUTS * N_PROGRAMS // 4  # the programs do define helpers: this part is not empty


INTS = (0, 1, 2, 3, -1, 7, -4, 10, 2**31, -2**31, 2**62, 2**63 - 1, -2**63)
FLOATS = (0.0, -0.0, 0.5, 1.0, -1.5, 2.5, 1e-3, 1e300, -1e300, float("inf"), float("-inf"), float("nan"))
CHARS = "ab cz019-.é中\n"


def random_value(rnd: random.Random, spec, structs):
    """A random interpreter value of a type spec (runtime/nbbox.py), mostly small."""
    kind = spec[0]
    if kind == "int":
        return rnd.choice(INTS) if rnd.random() < 0.3 else rnd.randint(-5, 12)
    if kind == "float":
        return rnd.choice(FLOATS) if rnd.random() < 0.3 else round(rnd.uniform(-4, 4), 2)
    if kind == "bool":
        return rnd.random() < 0.5
    if kind == "str":
        return "".join(rnd.choice(CHARS) for _ in range(rnd.choice((0, 1, 1, 2, 3, 5))))
    size = rnd.choice((0, 1, 2, 3, 4))
    if kind == "list":
        return [random_value(rnd, spec[1], structs) for _ in range(size)]
    if kind == "dict":
        return {random_value(rnd, spec[1], structs): random_value(rnd, spec[2], structs) for _ in range(size)}
    if kind == "set":
        from glia.runtime.values import GSet

        return GSet(random_value(rnd, spec[1], structs) for _ in range(size))
    if kind == "tuple":
        return tuple(random_value(rnd, s, structs) for s in spec[1])
    if kind == "struct":
        from glia.runtime.values import new_struct

        return new_struct(structs[spec[1]], [random_value(rnd, s, structs) for s in spec[3]])
    raise AssertionError(f"no random values of {spec}")
