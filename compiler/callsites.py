"""Where a program's own code calls into the prelude, for the runtime errors of compiled code.

The interpreter notes each call on the way to a runtime error; compiled code records no calls (a
store at every call costs a call-bound program 8-14%). An error raised inside a prelude function
(`heappop` of an empty heap, `dijkstra` from a node the graph lacks) would then name only a line of
the prelude. Which calls of the program's own functions lead into that prelude function is known
before running: `prelude_callers` finds them, and diagnostics.compiled_notes names them (the one
call there is, as the interpreter's innermost note does, or each of those it may have been).
"""
from __future__ import annotations

from . import ir

PRELUDE = "<prelude>"  # the prelude's source name (checker.prelude_source)
MAX_SHOWN = 4  # the most call sites one error names

Site = tuple[int, int, int, int, str]  # line, col, end_line, end_col, source name (LoweredModule.sites)


def prelude_callers(program: ir.Program, root: str, sites: list[Site]) -> dict[int, tuple[str, tuple[Site, ...]]]:
    """For each of `sites` that lies in a prelude function: that function's name and the calls in the
    program's own functions (those `root` reaches) that lead into it, directly or through other
    prelude functions."""
    calls = {name: _calls(f) for name, f in program.functions.items()}
    reached, todo = {root}, [root]
    while todo:
        for callee, _ in calls.get(todo.pop(), ()):
            if callee not in reached and callee in calls:
                reached.add(callee)
                todo.append(callee)
    in_prelude = {n for n in reached if program.functions[n].source_name == PRELUDE}
    # the program's calls into the prelude: callee -> sites
    entries: dict[str, list[Site]] = {}
    for name in sorted(reached - in_prelude):
        src = program.functions[name].source_name
        for callee, span in calls[name]:
            if callee in in_prelude:
                entries.setdefault(callee, []).append((span.line, span.col, span.end_line, span.end_col, src))
    out = {}
    for i, (line, col, _, _, src) in enumerate(sites):
        owner = next((n for n in in_prelude if src == PRELUDE and _within(program.functions[n].span, line, col)),
                     None)
        if owner is None:
            continue
        found = sorted({s for callee, ss in entries.items() if owner in _reach(callee, calls, in_prelude) for s in ss},
                       key=lambda s: (s[4], s[0], s[1]))
        if found:
            out[i] = (owner, tuple(found))
    return out


def _calls(f: ir.Function) -> list[tuple[str, object]]:
    """The functions `f` calls or passes as values, with where."""
    return [(node.name, node.span) for node in ir.walk(f.body) if isinstance(node, (ir.CallFunc, ir.FuncRef))]


def _reach(start: str, calls: dict, within: set[str]) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for callee, _ in calls.get(todo.pop(), ()):
            if callee in within and callee not in seen:
                seen.add(callee)
                todo.append(callee)
    return seen


def _within(span, line: int, col: int) -> bool:
    return (span.line, span.col) <= (line, col) < (span.end_line, span.end_col)
