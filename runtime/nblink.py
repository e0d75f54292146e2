"""How Numba links Glia's compiled functions: a large callee is linked after its caller is optimised.

Numba finalizes each function's code library by linking the optimised modules of everything it
calls into its own, running LLVM's whole module pipeline (O3) over the result, and generating
machine code for all of it. Every level of calls optimises its callees' code again, so a program
whose functions call large ones (a gradient's sweeps, inlined into the `grad` entries of `main`)
spends most of its compile time re-optimising code that was already optimised once (docs/backends.md,
"Compile time": 40 of a 65-second compile).

Here a callee library too large for LLVM's inliner to take (more than `LARGE_BLOCKS` basic blocks,
counting what it links in itself) is linked in *after* the caller's module passes: it arrives
optimised, and only its machine code is generated again. A smaller callee is linked before them, as
Numba does, so it can still be inlined and optimised with its caller. The generated code computes the
same thing either way; only where LLVM spends its time changes.

Only libraries of Glia's own code (generated modules and the runtime: mangled names that contain
`glia`) are finalized this way; any other function compiled in the same process (a user's own
`@njit` beside the embedded DSL) is finalized by Numba's own method. `GLIA_LINK_AFTER=0` turns it off
(to measure it). The method replaced is Numba 0.68's `CPUCodeLibrary.finalize`, with the same steps.
"""
from __future__ import annotations

import os

from numba.core import codegen, config
from numba.core.compiler_lock import require_global_compiler_lock

LARGE_BLOCKS = 300  # LLVM's inliner gives up long before: its default threshold is a cost of 225

_numba_finalize = codegen.CPUCodeLibrary.finalize


def _blocks(library) -> int:
    """Basic blocks of the code `library` brings into a caller that links it (cached)."""
    n = getattr(library, "_glia_blocks", None)
    if n is None:
        module = library._get_module_for_linking()
        n = sum(sum(1 for _ in fn.blocks) for fn in module.functions if not fn.is_declaration)
        library._glia_blocks = n
    return n


def _is_glia(library) -> bool:
    for fn in library._final_module.functions:
        if not fn.is_declaration:
            return "glia" in fn.name
    return False


def finalize(self):
    if not _is_glia(self):
        return _numba_finalize(self)
    require_global_compiler_lock()
    self._codegen._check_llvm_bugs()
    self._raise_if_finalized()
    if config.DUMP_FUNC_OPT:
        codegen.dump("FUNCTION OPTIMIZED DUMP %s" % self.name, self.get_llvm_str(), "llvm")
    seen, late = set(), []
    for library in self._linking_libraries:
        if library in seen:
            continue
        seen.add(library)
        self._reload_init.update(library._reload_init)  # a caller inherits its callees' reload_init
        if _blocks(library) > LARGE_BLOCKS:
            late.append(library)
        else:
            self._final_module.link_in(library._get_module_for_linking(), preserve=True)
    self._optimize_final_module()
    for library in late:
        self._final_module.link_in(library._get_module_for_linking(), preserve=True)
    self._final_module.verify()
    self._finalize_final_module()


def install() -> None:
    """Finalize Glia's code libraries as above (idempotent; unless GLIA_LINK_AFTER=0)."""
    if os.environ.get("GLIA_LINK_AFTER", "1") != "0":
        codegen.CPUCodeLibrary.finalize = finalize


install()
