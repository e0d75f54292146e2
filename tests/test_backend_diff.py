"""Differential tests of the CPU backend against the reference interpreter on random programs.

Random well-typed programs (loops, branches, lists, dicts, sets, tuples, structs, strings, globals,
calls; `TypedGen` in test_fuzz_frontend.py) are generated from fixed seeds, renamed apart and put
into ONE Glia program, so Numba compiles one module for all of them (a compile per program would
cost seconds each). Each sub-program's `main_k` is then called, in order, in both backends, sharing
the globals as the language says; the printed output and the runtime error (code, message, line,
column) must be identical.

CI runs GLIA_DIFF_PROGRAMS programs (default 24) per seed block; set it higher to look harder
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

from test_fuzz_frontend import Choices, TypedGen

N_PROGRAMS = int(os.environ.get("GLIA_DIFF_PROGRAMS", "24"))
HEADER_LINES = 8  # struct P and first[T]: written once for all sub-programs


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
    header = "\n".join(["struct P:", "    x: int", "    y: float", "    name: str", "",
                        "def first[T](xs: list[T]) -> T:", "    return xs[0]", ""])
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
            bad = re.match(r"G(\d+)_", text.splitlines()[e.diagnostic.span.line - 1])
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
    return out.getvalue(), err


@pytest.mark.slow
@pytest.mark.parametrize("seed0", [1000])
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
    lowered = lower_program(program, all_callable=True)  # each main_<k> is called from Python
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
