"""Holes to search problems, and search results back into source.

    ir.Program --problems--> [HoleTask] --search.synthesize--> Term --fill--> completed source
                                                                           --verify (interpreter)

A hole's context is its function's parameters; the examples come from the function's `examples`
block. A hole that is the function's whole result (`return ??`) is searched against the examples'
results directly; a hole anywhere else is searched by running the function in the reference
interpreter with each candidate's values in the hole (hole_runs.py); several holes of one function
are searched together (runtime/search/joint.py). Every answer is checked by re-checking the
completed source and running it on the examples in the interpreter. Answers are cached by content
hash (program, the function's holes, configuration) in the user cache folder, so a second run is
instant.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
from dataclasses import dataclass, field, replace

from glia.runtime.fmt import to_repr
from glia.runtime.search import Component, Config, Const, Problem, SearchError, Term, Var, synthesize
from glia.runtime.search.library import component_names, default_grammar, depth_bounded, loop_grammar
from glia.runtime.search.regression import values_match
from glia.runtime.search.terms import decisions, to_glia

from . import ir
from .diagnostics import Diagnostic, GliaError, Source, Span, counted
from .hole_runs import (FUEL, ancestors, copy_value, default_value, envs_at_hole, example_runner, fails_unreached,
                        float_context, holes_reached, indirect_acceptor, join_parts, joint_contexts, local_acceptor,
                        other_value, search_interpreter, split_holes, term_filler, to_glia_value, to_search_value,
                        type_name, varied_values)
from .interp import Interpreter, run_with_big_stack
from .cache import write_json
from .syntax import cache_dir
from .types import FLOAT, FnT

STAGE = "synth"
CACHE_VERSION = "search-3"  # (2: answers printed by precedence, list[str]/list[bool] components; 3: a float
#                             hole's smaller skeletons with constants tried before an answer without: x * 0.5)


@dataclass(slots=True)
class HoleTask:
    hole: ir.Hole
    func: ir.Function
    problem: Problem
    direct: bool  # the hole is the whole returned expression
    slots: tuple = ()  # a hole that reads locals: the frame slots of its inputs (parameters first)
    reaches: tuple = ()  # ... and per example, how many of the problem's inputs were sampled there
    args: list = field(default_factory=list)  # the examples' arguments (as search values)
    part: tuple | None = None  # (a tuple or struct hole, the position in it) for one part of such a hole


@dataclass(slots=True)
class Filled:
    hole: ir.Hole
    func: str
    expr: str  # Glia source of the expression found
    candidates: int
    seconds: float
    strategy: str
    cached: bool
    decisions: list
    term: Term | None = None  # None when the answer came from the cache
    slots: tuple = ()  # the frame slots the term's inputs are (empty: the function's parameters)
    struct: str | None = None  # a tuple or struct hole's: its struct's name (None for a tuple) ...
    parts: list = field(default_factory=list)  # ... and its parts' fills
    alone: bool = False  # the hole is a statement's whole expression (`x = ??`): no parentheses needed
    reached: bool = True  # False: no example's run reached the hole, so any program passes (a guess)


def _err(program: ir.Program, code: str, msg: str, span: Span) -> GliaError:
    return GliaError(Diagnostic(code, msg, span, STAGE, program.source))


def _holes_in(func: ir.Function) -> list[ir.Hole]:
    return [n for n in ir.walk(func.body) if isinstance(n, ir.Hole)]


def problems(program: ir.Program) -> list[HoleTask]:
    """One search problem per hole of the user's program, in source order (E602-E605 when a hole
    cannot be searched). Several holes of one function share its examples and are searched together."""
    examples = {e.func: e for e in program.examples}
    interp = Interpreter(program)
    split = split_holes(program)  # a hole of a tuple or struct type: one hole per part
    tasks = []
    for func in program.functions.values():
        whole = {}  # a part's hole index -> (the split hole, the part's position)
        holes = []
        for h in _holes_in(func):
            parts = split[h.index][2] if h.index in split else (h,)
            whole.update({p.index: (h, k) for k, p in enumerate(parts) if p is not h})
            holes += parts
        floats = [h for h in holes if h.type == FLOAT]
        if len(floats) > 1:
            raise _err(program, "E605", f"{func.name} has {len(floats)} float holes: a function may have one "
                                        "for now (fill the others first, or by hand)", floats[1].span)
        for hole in holes:
            tasks.append(_problem(program, interp, func, hole, holes, examples.get(func.name), whole.get(hole.index)))
    in_functions = {h.index for f in program.functions.values() for h in _holes_in(f)}
    outside = [h for h in program.holes if h.index not in in_functions]
    if outside:  # a global's: search fills a function's holes against its examples
        raise _err(program, "E602", "a hole outside a function is not searched (search fills the holes of "
                                    "functions that have examples): use `choose(...)` for a constant's options, "
                                    "or put the hole in a function", outside[0].span)
    return tasks


def _problem(program: ir.Program, interp: Interpreter, func: ir.Function, hole: ir.Hole, holes: list[ir.Hole],
             ex, part: tuple | None = None) -> HoleTask:
    """The search problem of `hole` (with `part` = (a split hole, the position of `hole` in it), one
    part of a tuple or struct hole)."""
    if ex is None or not ex.examples:
        raise _err(program, "E602", f"hole in {func.name} has no examples to search against: add an "
                                    f"`examples {func.name}:` block", hole.span)
    fnt: FnT = func.type
    ptypes = [type_name(t) for t in fnt.params]
    ret = type_name(hole.type)
    if ret is None or ret == "list[float]":  # (a list[float] is an input only: of a float hole's summaries)
        raise _err(program, "E603", f"search cannot fill a hole of type {hole.type} yet (int, bool, str, float, "
                                    "lists of int, bool or str, and tuples and structs of those are supported)",
                   hole.span)
    params = tuple(Var(i, n, t) for i, (n, t) in enumerate(zip(func.params, ptypes)) if t is not None)
    whole, k = part or (hole, None)
    direct = (len(func.body) == 1 and isinstance(func.body[0], ir.Return) and func.body[0].value is whole)
    argss = [[interp.expr(a)([None] * 4) for a in e.args] for e in ex.examples]
    args = [tuple(to_search_value(a) for a in ax) for ax in argss]
    results = [interp.expr(e.result)([None] * 4) for e in ex.examples]
    outputs = [to_search_value(r[k] if direct and part else r) for r in results]  # (a part of a result: its own)
    slots, envs, reaches = ((), [], ()) if direct or ret == "float" else \
        _hole_envs(program, func, hole, holes, argss, whole)
    inputs = args
    # the results suggest constants (strings the results share...): a hole inside the function may
    # make the part of a result that is not one of its arguments ("Dr. " + name)
    hints = outputs if direct else [o for o, args in zip(outputs, inputs) if o not in args]
    if slots:  # a hole that reads locals: its inputs are the slots, sampled where the hole is reached
        types = [type_name(func.slot_types[k]) for k in slots]
        params = tuple(Var(i, func.slot_names[k], t) for i, (k, t) in enumerate(zip(slots, types)))
        inputs = [tuple(default_value(t) if v is None else to_search_value(v) for v, t in zip(env, types))
                  for env in envs] or [tuple(default_value(t) for t in types)]
    opts = dict(hole.options)
    extra = _user_components(program, opts.get("using", ()), func, hole)
    try:
        grammar = default_grammar(params, ret, inputs, hints, using=opts.get("using", ()), extra=extra)
        wider = loop_grammar(params, ret, inputs, hints, opts.get("using", ()), extra)
        if opts.get("depth"):
            grammar = depth_bounded(grammar, opts["depth"])
            wider = wider and depth_bounded(wider, opts["depth"])
    except SearchError as e:
        raise _err(program, e.code, f"hole in {func.name}: {e.message}", hole.span) from None
    prob = Problem(func.name, params, ret, inputs, outputs, grammar, max_size=opts.get("size", 0),
                   wider=wider, max_depth=opts.get("depth", 0))
    return HoleTask(hole, func, prob, direct, slots, reaches, args, part)


LOCAL_REACHES = 8  # reaches of a hole, per example and placeholder, whose environments order a locals-reading
                   # hole's search


def _hole_envs(program: ir.Program, func: ir.Function, hole: ir.Hole, holes: list[ir.Hole], argss: list,
               whole: ir.Hole):
    """(slots, environments, reaches per example) of a hole that reads locals (or parameters its
    function reassigns, or the parameters of a recursive function's inner calls): the slots of the function's parameters and the named locals (of searchable
    types) assigned at some sampled reach, and their values at the first LOCAL_REACHES reaches of each
    example, sampled three times: with each hole (this one too) holding its type's default, then another
    value (`total = total + ??` gives total 0, 0, 0 then 0, 1, 2), then values drawn at each reach from
    a seeded generator (so that locals that move together in the first two, such as a running maximum
    and the value it takes the maximum of, part). ((), [], ()) when the hole sees
    only parameters that keep their values (its value on each example says all)."""
    slots = _local_slots(func)
    if not slots or any(isinstance(a, ir.Lambda) for a in ancestors(func.body, whole) or ()):
        return (), [], ()  # (a lambda's frame is its own: a hole in one sees the parameters' values)
    nparams = len(func.params)
    # a hole of a recursive function is reached in the frames of the inner calls too, with other values
    live = any(isinstance(n, ir.StoreLocal) and n.slot < nparams for n in ir.walk(func.body)) or any(
        isinstance(n, (ir.CallFunc, ir.FuncRef)) and n.name == func.name for n in ir.reachable(program, func.name))
    envs, reaches = [], []
    for args in argss:
        got = [env for value in (default_value, other_value, varied_values()) for env in
               envs_at_hole(program, func, hole, holes, args, slots, LOCAL_REACHES, value)]
        envs += got
        reaches.append(len(got))
    keep = [j for j, k in enumerate(slots) if k < nparams or any(env[j] is not None for env in envs)]
    if not live and all(slots[j] < nparams for j in keep):
        return (), [], ()
    return tuple(slots[j] for j in keep), [[env[j] for j in keep] for env in envs], tuple(reaches)


def _local_slots(func: ir.Function) -> tuple:
    """The frame slots a hole of `func` may read: its parameters, then its named locals, of the types
    search handles."""
    def ok(k):
        n = func.slot_names[k]
        return type_name(func.slot_types[k]) is not None and n.isidentifier() and n[0] != "_"
    return tuple(k for k in range(func.nslots) if ok(k))


def _user_components(program, using, func: ir.Function, hole: ir.Hole) -> list[Component]:
    """User functions named in `using=[...]` become components (run by the interpreter, whose loops
    take fuel as in a run of the hole's function: one that never ends fails that candidate, not the
    search's time limit). One that cannot be is E603 (it was left out without a word)."""
    out = []
    interp = search_interpreter(program) if using else None
    for name in using:
        f = program.functions.get(name)
        if f is None:
            if name not in component_names():
                raise _err(program, "E603", f"using=[{name}]: {name} is not a component of search (builtins such "
                           "as map, filter, len, sorted, sum, max, min, abs, upper, replace, and add, sub, mul "
                           "are; so are the program's own functions)", hole.span)
            continue  # a builtin component
        types = [type_name(t) for t in f.type.params]
        ret = type_name(f.type.ret)
        why = ("it is the function the hole is in" if f is func else "it has holes of its own" if _holes_in(f)
               else f"its type {f.type} is not one search handles (int, bool, str, float and lists of those)"
               if ret is None or None in types else "")
        if why:
            raise _err(program, "E603", f"using=[{name}]: {name} cannot be a component of search: {why}",
                       hole.span)

        def call(*args, _name=name):
            interp.fuel[0] = FUEL
            return to_search_value(interp.call(_name, [to_glia_value(a) for a in args]))

        out.append(Component(name, tuple(types), ret, call, glia=f"{name}(" + ", ".join(
            "{%d}" % i for i in range(len(types))) + ")"))
    return out


def cache_path(*parts: str) -> str:
    """Where the answer for (program or problem text, what in it, configuration) is kept."""
    key = hashlib.sha256("\0".join((CACHE_VERSION,) + parts).encode())
    return os.path.join(cache_dir(), "synth", key.hexdigest()[:32] + ".json")


def cache_get(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        return d if isinstance(d, dict) else None
    except (OSError, ValueError):
        return None


def cache_put(path: str, record: dict) -> None:
    write_json(path, record)


_RECORD = {"expr", "candidates", "seconds", "strategy", "decisions"}  # a hole's answer in the cache


def solve_checked(program: ir.Program, config: Config, use_cache: bool = True) -> tuple[list[Filled], ir.Program]:
    """solve, then verify: the fills and the completed program. A cached answer that fails the check
    (a damaged cache file, or one kept by a Glia whose semantics have changed since) is searched again
    rather than reported as the user's error."""
    fills = solve(program, config, use_cache)
    if not fills:
        return fills, program
    try:
        return fills, verify(program, fills)
    except GliaError:
        if not any(f.cached for f in fills):
            raise
    fills = solve(program, config, use_cache, refresh=True)
    return fills, verify(program, fills)


def solve(program: ir.Program, config: Config, use_cache: bool = True, refresh: bool = False) -> list[Filled]:
    """Fill every hole (a function's holes together); raises GliaError (E606) naming the hole when
    search gives up. `refresh`: search again and replace what the cache holds."""
    text = program.source.text if program.source is not None else ""
    out = []
    for _, group in itertools.groupby(problems(program), key=lambda t: t.func.name):
        group = list(group)
        path = cache_path(text, ",".join(str(t.hole.index) for t in group), config.key())
        d = cache_get(path) if use_cache and not refresh else None
        records = d.get("holes") if d is not None else None
        if isinstance(records, list) and len(records) == len(group) and \
                all(isinstance(r, dict) and _RECORD <= r.keys() and isinstance(r["expr"], str) and
                    isinstance(r["decisions"], list) for r in records):
            out += [Filled(t.hole, t.func.name, r["expr"], r["candidates"], r["seconds"], r["strategy"], True,
                           r["decisions"], reached=r.get("reached") is not False) for t, r in zip(group, records)]
            continue
        if len(group) == 1 or all(t.direct for t in group):  # (the parts of `return ??`: each alone)
            fills = [_search_one(program, t, config) for t in group]
        else:
            fills = _search_joint(program, group, config)
        out += fills
        if use_cache:
            cache_put(path, {"holes": [{"expr": f.expr, "candidates": f.candidates, "seconds": f.seconds,
                                        "strategy": f.strategy, "decisions": f.decisions, "reached": f.reached}
                                       for f in fills]})
    return _joined(program, out)


def _joined(program: ir.Program, fills: list[Filled]) -> list[Filled]:
    """The fills of a tuple or struct hole's parts made into one fill of that hole (`(a, b)`, `P(a, b)`),
    keeping the parts' fills (`parts`)."""
    split = split_holes(program)
    owner = {p.index: h.index for h, _, parts in split.values() for p in parts}
    out: list[Filled] = []
    for f in fills:
        i = owner.get(f.hole.index)
        if i is None:
            f.alone = _stands_alone(program.functions[f.func], f.hole)
            out.append(f)
            continue
        if not out or out[-1].hole.index != i:
            h, struct, _ = split[i]
            out.append(Filled(h, f.func, "", f.candidates, f.seconds, f.strategy, f.cached, [], None, (), struct))
        whole = out[-1]
        if whole.parts and "together" not in f.strategy:  # the parts were searched one by one: add them up
            whole.candidates += f.candidates
            whole.seconds += f.seconds
        whole.parts.append(f)
        whole.reached = all(p.reached for p in whole.parts)  # (the parts are reached together)
        whole.decisions.append(f.decisions)
        exprs = [p.expr for p in whole.parts]
        whole.expr = (f"{whole.struct}({', '.join(exprs)})" if whole.struct else
                      f"({exprs[0]},)" if len(split[i][2]) == 1 else f"({', '.join(exprs)})")
    return out


def _search_one(program: ir.Program, task: HoleTask, config: Config) -> Filled:
    from glia.runtime.search import bottomup, check_problem, regression

    reached = True  # (a direct hole's value is every example's result)
    try:
        if not task.direct:  # (synthesize checks a direct hole's problem): contradictory examples are E602
            check_problem(replace(task.problem, inputs=task.args))
            _check_reachable(program, task.func, [task.hole])
        if task.direct:
            result = synthesize(task.problem, config)
        elif task.problem.ret == "float":
            result = regression.solve(task.problem, config, float_context(
                example_runner(program, task.func, [task.hole]), list(range(len(task.problem.inputs)))))
        else:
            accept = local_acceptor(program, task.func, task.hole, task.slots) if task.slots else \
                indirect_acceptor(program, task.func, task.hole)
            result = bottomup.solve_with(task.problem, config, accept)
            reached = accept.reached
    except SearchError as e:
        raise _err(program, e.code, f"hole in {task.func.name}: {e.message}", task.hole.span) from None
    if not result.solved:
        raise _not_found(program, [task], result, config)
    return Filled(task.hole, task.func.name, to_glia(result.term, ()), result.candidates, result.seconds,
                  result.strategy, False, result.decisions, result.term, task.slots, reached=reached)


def _check_reachable(program: ir.Program, func: ir.Function, holes: list[ir.Hole]) -> None:
    """E606 before any search when an example's run fails, or gives another result, before it reaches
    the holes: no program in them can change that (search ran until its time limit)."""
    bad = fails_unreached(program, func, holes)
    if bad is None:
        return
    i, got = bad
    ex = {e.func: e for e in program.examples}[func.name].examples[i]
    what = "fails" if got is None else f"returns {to_repr(got)}"
    them = "the hole" if len(holes) == 1 else "any of the holes"
    raise SearchError("E606", f"example {i + 1} (line {ex.span.line}) {what} before it reaches {them}, whatever "
                              f"{'it holds' if len(holes) == 1 else 'they hold'}: no program can fill "
                              f"{'it' if len(holes) == 1 else 'them'} (run {func.name} on that example in the "
                              f"interpreter to see why)")


def _search_joint(program: ir.Program, tasks: list[HoleTask], config: Config) -> list[Filled]:
    """A function's holes searched together (runtime/search/joint.py): each hole's programs by
    bottom-up enumeration, tuples of them checked by running the function on the examples. A float
    hole is searched last: for each tuple of the others that every example not reaching it accepts,
    its program by regression through the function with that tuple in the other holes."""
    from glia.runtime.search import STRATEGIES, check_problem, joint

    func = tasks[0].func
    floats = [t for t in tasks if t.problem.ret == "float"]
    others = [t for t in tasks if t.problem.ret != "float"]
    holes = [t.hole for t in others + floats]
    try:
        if config.strategy not in STRATEGIES:
            raise SearchError("E604", f"unknown strategy {config.strategy!r}; expected one of {', '.join(STRATEGIES)}")
        check_problem(replace(tasks[0].problem, inputs=tasks[0].args))  # contradictory examples
        _check_reachable(program, func, holes)
        reads = [joint.Reads(example_spans(t.reaches)) if t.slots else None for t in others]
        run = example_runner(program, func, holes, [t.slots for t in others + floats])
        complete = _float_completion(run, floats[0].problem, config) if floats else None
        result = joint.solve([t.problem for t in others], config, run,
                             joint_contexts(program, func, holes[:len(others)]), reads, complete)
    except SearchError as e:
        raise _err(program, e.code, f"holes in {func.name}: {e.message}", tasks[0].hole.span) from None
    if not result.solved:
        raise _not_found(program, tasks, result, config)
    how = f"{result.strategy}, {len(tasks)} holes together"
    terms = dict(zip((t.hole.index for t in others), zip(result.terms, result.decisions)))
    if floats:  # (a float hole no example reaches can hold anything)
        term = result.completed or Term(Const(0.0, "float"))
        terms[floats[0].hole.index] = (term, decisions(term))
    reached = dict(zip((h.index for h in holes), holes_reached(
        program, func, holes, [terms[h.index][0] for h in holes], [t.slots for t in others + floats], tasks[0].args)))
    return [Filled(t.hole, func.name, to_glia(terms[t.hole.index][0], ()), result.candidates, result.seconds, how,
                   False, terms[t.hole.index][1], terms[t.hole.index][0], t.slots, reached=reached[t.hole.index])
            for t in tasks]


FLOAT_SHARE = 20  # a float hole beside others: each tuple of the others gets 1/20 of the timeout for its regression
FLOAT_SIZE = 5  # ... and skeletons of at most this size (`base * c`, `x * c + d`)


def _float_completion(run, problem: Problem, config: Config):
    """complete(values_on, examples) for joint.solve: the float hole's program (by regression, its
    constants fitted through the function with the other holes' values fixed) for the examples that
    reach it, or None."""
    from glia.runtime.search import clock, regression

    deadline = clock.now() + config.timeout
    size = min(problem.max_size or FLOAT_SIZE, FLOAT_SIZE)

    def complete(values_on, examples: list[int]):
        left = deadline - clock.now()
        if left <= 0:
            return None
        sub = replace(problem, inputs=[problem.inputs[i] for i in examples],
                      outputs=[problem.outputs[i] for i in examples], max_size=size)
        context = float_context(run, examples, [values_on(i) for i in examples])
        got = regression.solve(sub, replace(config, timeout=min(left, max(0.2, config.timeout / FLOAT_SHARE))),
                               context)
        return got.term if got.solved else None
    return complete


def example_spans(reaches: tuple) -> list[range]:
    """Per example, the indexes of its environments among all examples' (`reaches` per example)."""
    ends = list(itertools.accumulate(reaches))
    return [range(e - n, e) for e, n in zip(ends, reaches)]


def _not_found(program: ir.Program, tasks: list[HoleTask], result, config: Config) -> GliaError:
    """E606 at the (first) hole: which bound ended the search."""
    depths = [f"depth={t.problem.max_depth}" for t in tasks if t.problem.max_depth]
    why = {"timeout": f"the time limit ({config.timeout:g} s) ran out",
           "candidates": "the candidate limit was reached", "memory": "the memory bound was reached",
           "exhausted": "every program within the size bound was tried" + (
               f" ({', '.join(depths)})" if depths else "")}.get(result.reason, result.reason)
    what = "the hole" if len(tasks) == 1 else f"the {len(tasks)} holes"
    func = tasks[0].func
    floats = any(t.problem.ret == "float" for t in tasks)  # the only holes that cannot read locals
    # (a local only ever set to a hole's value, `base = ??`, could not be that hole's input: not named)
    stores = [n for n in ir.walk(func.body) if isinstance(n, ir.StoreLocal)]
    by_hole = [n.target for n in ir.walk(func.body) if isinstance(n, ir.Assign) and isinstance(n.value, ir.Hole)
               and isinstance(n.target, ir.StoreLocal)]
    only_holes = {s.name for s in by_hole if sum(t.name == s.name for t in stores) == sum(
        t.name == s.name for t in by_hole)}
    hidden = [n for n in dict.fromkeys(func.slot_names[len(func.params):]) if n.isidentifier() and n[0] != "_"
              and n not in only_holes]
    unseen = (f"; a float hole is built from {func.name}'s parameters ({', '.join(func.params)}) only: its "
              f"locals ({', '.join(hidden)}) are not visible to it yet") if hidden and floats else ""
    unread = [f"{n}: {t}" for n, t in zip(func.params, func.type.params) if type_name(t) is None]
    if unread:  # (left out of the hole's inputs: _problem)
        unseen += (f"; search cannot read {', '.join(unread)} (it reads int, bool, str, float and lists of "
                   f"those): assign the parts the hole needs to locals first, e.g. `a, b = t` or `a = p.a`")
    lambdas = [a for t in tasks for a in ancestors(func.body, t.part[0] if t.part else t.hole) or ()
               if isinstance(a, ir.Lambda)]
    if lambdas:  # (a lambda's own parameters are not among the hole's inputs: _hole_envs)
        inner = ", ".join(lambdas[-1].slot_names[:lambdas[-1].nparams])
        unseen += (f"; a hole inside a lambda is built from {func.name}'s parameters ({', '.join(func.params)}) "
                   f"only, not the lambda's ({inner}): put the hole where the whole expression is, e.g. "
                   f"`return ??`")
    hint = {"candidates": "a larger --max-candidates, more examples, or a smaller `using=[...]`",
            "memory": "more examples, a smaller `size=`, or a smaller `using=[...]`",
            "exhausted": "a larger `size=` or `depth=`, or other components in `using=[...]`"}.get(
        result.reason, "a longer --timeout, more examples, or a smaller `using=[...]`")
    return _err(program, "E606", f"no program found for {what} in {func.name}: {why} after "
                                 f"{counted(result.candidates, 'candidate')} (try {hint}){unseen}", tasks[0].hole.span)


def _offsets(text: str, s: Span) -> tuple[int, int]:
    """The character offsets in `text` where span `s` starts and ends."""
    starts = [0]
    for ln in text.split("\n"):
        starts.append(starts[-1] + len(ln) + 1)
    return starts[s.line - 1] + s.col - 1, starts[s.end_line - 1] + s.end_col - 1


def replace_spans(text: str, edits: list[tuple[Span, str]]) -> str:
    """`text` with each span replaced by its new text (the last span first, so offsets hold)."""
    for s, new in sorted(edits, key=lambda e: (e[0].line, e[0].col), reverse=True):
        a, b = _offsets(text, s)
        text = text[:a] + new + text[b:]
    return text


def fill_source(text: str, fills: list[Filled]) -> str:
    """The source with each hole's text replaced by the expression found (in parentheses where it is
    part of a larger expression and not atomic, but not where it is a whole item between brackets: a
    call's argument, an index, a list's element)."""
    return replace_spans(text, [(f.hole.span, f.expr if f.alone or _is_simple(f.expr) or _bracketed(text, f.hole.span)
                                 else f"({f.expr})") for f in fills])


def _bracketed(text: str, span: Span) -> bool:
    """Is the text at `span` a whole item between brackets or separators (`g(a, ??)`, `xs[??:]`,
    `[??, 1]`, `{k: ??}`, `lambda x: ??)`), where the grammar takes any expression (but a generator,
    which search never gives) without parentheses?"""
    a, b = _offsets(text, span)
    before, after = text[:a].rstrip()[-1:], text[b:].lstrip()[:1]
    return before != "" and before in "([{,:" and after != "" and after in ")]},:"


_WHOLE = (ir.Assign, ir.ExprStmt, ir.If, ir.While, ir.For, ir.ForRange, ir.Return, ir.Assert, ir.StoreLocal)


def _stands_alone(func: ir.Function, hole: ir.Hole) -> bool:
    """Is the hole a statement's whole expression (`return ??`, `x = ??`, `if ??:`)?"""
    above = ancestors(func.body, hole)
    return bool(above) and isinstance(above[-1], _WHOLE)


def _is_simple(expr: str) -> bool:
    from glia.runtime.search.terms import is_atomic

    return is_atomic(expr)


def verify(program: ir.Program, fills: list[Filled]) -> ir.Program:
    """Check the completed source and run every filled function on its examples in the interpreter."""
    from .driver import check_source, sources_of

    src = program.source
    completed = check_source(Source(src.name, fill_source(src.text, fills)))
    interp = Interpreter(completed, sources_of(completed))
    examples = {e.func: e for e in completed.examples}
    for f in fills:
        for e in examples[f.func].examples:
            args = [interp.expr(a)([None] * 4) for a in e.args]
            want = interp.expr(e.result)([None] * 4)
            got = run_with_big_stack(lambda: interp.call(f.func, args))
            if not values_match(got, want):  # the hole's context was not what search assumed: say so
                raise _err(program, "E606", f"the program found for the hole in {f.func} ({f.expr}) gives "
                                            f"{got!r} instead of {want!r} once in place", f.hole.span)
    return completed


def install(interp: Interpreter, program: ir.Program, fills: list[Filled]) -> None:
    """Fill the holes of a running interpreter with the terms found (for programs whose source is not
    Glia text, such as @glia.fn functions): the term is evaluated on the function's parameters."""
    join_parts(interp, program)
    for f in fills:
        for one in f.parts or [f]:
            slots = one.slots or tuple(range(len(program.functions[one.func].params)))
            interp.hole_fill[one.hole.index] = term_filler(one.term, slots)


def function_source(text: str, func: ir.Function, fills: list[Filled]) -> str:
    """The completed text of one function (its `def` through its last line)."""
    lines = fill_source(text, fills).split("\n")
    start = func.span.line - 1
    end = func.span.end_line
    body = lines[start:end]
    for i in range(1, len(body)):  # the function ends before the next line at column 0
        if body[i].strip() and not body[i][0].isspace():
            body = body[:i]
            break
    while body and not body[-1].strip():
        body.pop()
    return "\n".join(body)


# ---- choices -------------------------------------------------------------------------------------

@dataclass(slots=True)
class Chosen:
    choice: ir.Choose
    option: int
    text: str  # the source text of the option chosen
    reached: bool = True  # False: no example's run reached the choice, so any option passes (the first)
    alone: bool = False  # the choice is a statement's whole expression (`return choose(...)`): no parentheses


def _span_text(text: str, span: Span) -> str:
    lines = text.split("\n")
    if span.line == span.end_line:
        return lines[span.line - 1][span.col - 1:span.end_col - 1]
    parts = [lines[span.line - 1][span.col - 1:]] + lines[span.line:span.end_line - 1] + \
        [lines[span.end_line - 1][:span.end_col - 1]]
    return "\n".join(parts)


def settle_choices(program: ir.Program, config: Config, choices: list[ir.Choose] | None = None,
                   fills: list[Filled] = ()) -> list[Chosen]:
    """Settle the `choose(...)`s (every one, or those given) against the examples: the combinations of
    options are tried in order of the sum of their option positions (earlier options first), each run
    on the examples in the reference interpreter, the example that rejected the last combination
    first. Bounded by the timeout. (Choices settled against a training loss: choose_train.py.)
    `fills`: the holes' terms, installed in that interpreter (a program with no Glia text to fill)."""
    import itertools
    import time

    from .driver import check_source

    choices = list(program.choices if choices is None else choices)
    if not choices:
        return []
    examples = [(e.func, ex) for e in program.examples for ex in e.examples]
    if not examples:
        raise _err(program, "E602", "nothing to settle this choice against: add an `examples` block, or a "
                                    "`train` block (or --train FN --data FILE.npz) to settle it by training",
                   choices[0].span)
    interp, cases = _example_cases(program)
    if fills:
        install(interp, program, fills)
    static_ids = {id(c) for c in static_choices(program, choices)}
    static = bool(static_ids)
    sizes = [len(c.options) for c in choices]
    combos = sorted(itertools.product(*[range(n) for n in sizes]), key=lambda c: (sum(c), c)) \
        if _product(sizes) <= 200_000 else itertools.product(*[range(n) for n in sizes])
    deadline = time.perf_counter() + config.timeout
    order = list(range(len(cases)))
    tried = 0
    for combo in combos:
        tried += 1
        if time.perf_counter() > deadline:
            break
        if static:  # check the program with these options in place, then run its examples
            text = choose_source(program.source.text, [Chosen(c, o, _span_text(program.source.text,
                                                                                c.options[o].span))
                                                       for c, o in zip(choices, combo)])
            try:
                interp, cases = _example_cases(check_source(Source(program.source.name, text)))
            except GliaError:
                continue  # these options do not fit together (shapes)
        for c, o in zip(choices, combo):
            interp.choice_fill[c.index] = o
        interp.choice_fill.read.clear()
        ok = True
        for k, i in enumerate(order):
            fn, args, want = cases[i]
            interp.fuel[0] = FUEL
            try:
                got = fn(*[copy_value(a) for a in args])
            except Exception:  # noqa: BLE001 - a runtime error: this combination is wrong
                got = _MISS
            if got is _MISS or not values_match(got, want):
                order.insert(0, order.pop(k))  # the rejecting example goes first next time
                ok = False
                break
        if ok:
            text = program.source.text
            read = interp.choice_fill.read
            return [Chosen(c, o, _span_text(text, c.options[o].span), c.index in read or id(c) in static_ids,
                           choice_alone(program, c)) for c, o in zip(choices, combo)]
    raise _err(program, "E606", f"no combination of the choices satisfies the examples ({tried:,} of "
                                f"{_product(sizes):,} tried)", choices[0].span)


_MISS = object()


def static_choices(program: ir.Program, choices) -> list[ir.Choose]:
    """The choices among `choices` that the functions' IR does not hold (a layer's width: only the
    source text holds it, so settling one checks the text again with each option in place)."""
    in_ir = {id(n) for f in program.functions.values() for n in ir.walk(f.body) if isinstance(n, ir.Choose)}
    return [c for c in choices if id(c) not in in_ir]


def choose_in_ir(program: ir.Program, chosen: list[Chosen]) -> ir.Program:
    """`program` with each choice settled replaced by its option chosen, in the IR itself (for
    programs whose source is not Glia text, such as @glia.fn functions): every backend runs it."""
    option = {c.choice.index: c.option for c in chosen}

    def conv(node):
        if isinstance(node, tuple):
            return tuple(conv(x) for x in node)
        if not ir.is_node(node):
            return node
        if isinstance(node, ir.Choose) and node.index in option:
            return conv(node.options[option[node.index]])
        return ir.rebuild(node, conv)
    functions = {name: conv(f) for name, f in program.functions.items()}
    return replace(program, functions=functions, choices=tuple(c for c in program.choices if c.index not in option))


class _ReadChoices(dict):
    """The interpreter's choice -> option table, noting the choices its runs read (`read`)."""

    def __init__(self):
        super().__init__()
        self.read: set[int] = set()

    def get(self, index, default=None):
        self.read.add(index)
        return super().get(index, default)


def _example_cases(program: ir.Program):
    """An interpreter for `program` (its loops taking fuel: an option may keep one going) and its
    examples as (function, arguments, expected result)."""
    interp = search_interpreter(program)
    interp.choice_fill = _ReadChoices()
    interp.fuel[0] = 1 << 62  # the globals are the program's own, not an option's
    interp.init_globals()
    cases = []
    for e in program.examples:
        for ex in e.examples:
            args = [interp.expr(a)([None] * 4) for a in ex.args]
            cases.append((interp.function(e.func), args, interp.expr(ex.result)([None] * 4)))
    return interp, cases


def _product(xs) -> int:
    n = 1
    for x in xs:
        n *= x
    return n


def choose_source(text: str, chosen: list[Chosen]) -> str:
    """The source with each `choose(...)` replaced by the option chosen, in parentheses unless it is
    atomic, a statement's whole expression or a whole item between brackets, as a hole's expression
    (`x * choose(a + b, c)` becomes `x * (a + b)`, `return choose(a + b, c)` `return a + b`). A choice
    inside the chosen option of another is replaced too; one inside an option not chosen goes with
    that option."""
    edits = []
    for c in chosen:
        if any(d is not c and _within(c.choice.span, d.choice.span)
               and not _within(c.choice.span, d.choice.options[d.option].span) for d in chosen):
            continue
        s, o = c.choice.span, c.choice.options[c.option].span
        # (an option of another choice stands where that choice stands, not between its brackets)
        option = any(d is not c and c.choice.span in [p.span for p in d.choice.options] for d in chosen)
        keep = _NUMBER.fullmatch(c.text) or _is_simple(c.text) or c.alone or (_bracketed(text, s) and not option)
        edits.append((Span(s.line, s.col, o.line, o.col), "" if keep else "("))
        edits.append((Span(o.end_line, o.end_col, s.end_line, s.end_col), "" if keep else ")"))
    return replace_spans(text, edits)


def choice_alone(program: ir.Program, choice: ir.Choose) -> bool:
    """Is the choice a statement's whole expression, or a global's whole value (`K: int = choose(...)`)?"""
    for func in program.functions.values():  # (by its index: passes may rebuild the node the checker listed)
        node = next((n for n in ir.walk(func.body) if isinstance(n, ir.Choose) and n.index == choice.index), None)
        if node is not None:
            above = ancestors(func.body, node)
            return bool(above) and isinstance(above[-1], _WHOLE)
    return any(isinstance(g.value, ir.Choose) and g.value.index == choice.index for g in program.globals)


_NUMBER = re.compile(r"(\d[\d_]*\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _within(inner: Span, outer: Span) -> bool:
    return (outer.line, outer.col) <= (inner.line, inner.col) and \
        (inner.end_line, inner.end_col) <= (outer.end_line, outer.end_col)
