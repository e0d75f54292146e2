"""The decorator of the runtime's compiled helpers: `njit(cache=True)`, typed without literals.

Numba compiles a function called from compiled code once per *argument types*, and a constant
argument is typed as its literal (`Literal[int](17)`, `Literal[str]('fib')`): every call site of a
helper that passes a site number, an operator's name or a constant operand would get a
specialisation of its own, compiled in the caller's process and cached under a key that no other
program shares. A helper made by `jit` types its calls with the plain types (`int64`,
`unicode_type`), so it is compiled once per type signature, and a new program finds it in Numba's
cache. Branch pruning on a constant argument is lost, which the helpers do not rely on (LLVM still
propagates constants once it inlines a helper); the hot helpers that must see their constants
(`nbrt.hot`) are inlined into their callers by Numba instead.
"""
from __future__ import annotations

import itertools
import secrets

from numba import types
from numba.core.bytecode import FunctionIdentity
from numba.core.registry import CPUDispatcher

from . import nblink  # noqa: F401 (large callees linked after their caller's module passes)

# Numba names each compiled function by its qualified name, argument types and a counter of the
# process that compiled it (`case_operation.<locals>.impl` v3), and links code loaded from its cache
# by those names. Two helpers cached by different processes could carry one name for different code:
# str.upper and str.title are both `case_operation.<locals>.impl` on a unicode_type, and a program
# whose cached `upper` came from one run printed "AB" for "ab".title() (the linker kept one of the
# two). A counter starting at a random point in each process keeps those names apart across runs
# (Numba's own open report of the collision, with the same remedy: numba/numba#10486).
FunctionIdentity._unique_ids = itertools.count(secrets.randbits(48) << 8)


class UnliteralDispatcher(CPUDispatcher):
    """A CPU dispatcher whose callers in compiled code use the unliteral argument types."""

    def get_call_template(self, args, kws):
        return super().get_call_template(tuple(types.unliteral(a) for a in args),
                                         {k: types.unliteral(v) for k, v in kws.items()})


def jit(fn):
    """`njit(cache=True)`, as an UnliteralDispatcher."""
    dispatcher = UnliteralDispatcher(py_func=fn, locals={}, targetoptions={"nopython": True})
    dispatcher.enable_caching()
    return dispatcher
