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

from numba import types
from numba.core.registry import CPUDispatcher


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
