"""runtime/nblink.py: a large callee of Glia's code is linked into its caller after the caller's
module passes, a small one before them, and code that is not Glia's is finalized by Numba's own method.
The functions here are plain Numba, compiled in a module whose name marks them as Glia's or not."""
from __future__ import annotations

import pytest
from numba import njit

from glia.runtime import nblink


FUNCTIONS = ("big", "small", "caller")


def _module(name: str, arms: int) -> dict:
    """`big(x)`: a chain of `arms` pairs of branches (200 make more than LARGE_BLOCKS basic blocks);
    `small(x)`: a tiny function; `caller(n)` calls both in a loop. Compiled (lazily, at the first
    call) in the module `name`; "py" holds the Python functions, "nb" the Numba ones."""
    chain = "\n".join(f"    if x == {k}:\n        y = y * {k + 3} + {k}\n    elif x > {k * 7}:\n        y = y - {k}"
                      for k in range(arms))
    src = f"""
def big(x):
    y = x
{chain}
    return y

def small(x):
    return x * 2 + 1

def caller(n):
    s = 0
    for i in range(n):
        s += big(i % 50) + small(i)
    return s
"""
    scope = {"__name__": name}
    exec(compile(src, f"<{name}>", "exec"), scope)
    py = {k: scope[k] for k in FUNCTIONS}
    for k in FUNCTIONS:
        scope[k] = njit(scope[k])  # `caller` calls the dispatchers through the module's globals
    return {"py": py, "nb": scope}


def _defines(module, fn: str) -> bool:
    return any(f"{len(fn)}{fn}B" in f.name and not f.is_declaration for f in module.functions)


@pytest.fixture
def spy(monkeypatch):
    """For each library finalized: whether Numba's own method did it, and which of `big` and `small`
    its module defined when LLVM's module passes ran over it."""
    seen = {"numba": [], "optimised_with": {}}
    numba_finalize = nblink._numba_finalize
    optimize = nblink.codegen.CPUCodeLibrary._optimize_final_module

    def counted_numba(self):
        seen["numba"].append(self.name)
        return numba_finalize(self)

    def recorded_optimize(self):
        seen["optimised_with"][self.name] = {fn for fn in ("big", "small") if _defines(self._final_module, fn)}
        return optimize(self)

    monkeypatch.setattr(nblink, "_numba_finalize", counted_numba)
    monkeypatch.setattr(nblink.codegen.CPUCodeLibrary, "finalize", nblink.finalize)
    monkeypatch.setattr(nblink.codegen.CPUCodeLibrary, "_optimize_final_module", recorded_optimize)
    return seen


def test_large_callee_of_glia_code_linked_after_its_caller_is_optimised(spy):
    m = _module("glia_linktest_large", 2 * nblink.LARGE_BLOCKS // 3)
    assert m["nb"]["caller"](500) == m["py"]["caller"](500)
    assert spy["optimised_with"]["caller"] == {"small"}, spy  # big came in after the module passes
    caller = m["nb"]["caller"]
    library = caller.overloads[caller.signatures[0]].library
    assert _defines(library._final_module, "big")  # and is in the caller's machine code
    assert not [n for n in spy["numba"] if n in FUNCTIONS]


def test_code_that_is_not_glias_finalized_by_numba(spy):
    m = _module("user_model_code", 3)
    assert m["nb"]["caller"](300) == m["py"]["caller"](300)
    assert set(FUNCTIONS) <= set(spy["numba"])
    assert spy["optimised_with"]["caller"] == {"big", "small"}  # both linked before, as Numba does


def test_off_switch(monkeypatch):
    monkeypatch.setattr(nblink.codegen.CPUCodeLibrary, "finalize", nblink._numba_finalize)
    monkeypatch.setenv("GLIA_LINK_AFTER", "0")
    nblink.install()
    assert nblink.codegen.CPUCodeLibrary.finalize is nblink._numba_finalize
    monkeypatch.setenv("GLIA_LINK_AFTER", "1")
    nblink.install()
    assert nblink.codegen.CPUCodeLibrary.finalize is nblink.finalize
