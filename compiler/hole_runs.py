"""Running a function with values in its holes, for search (compiler/synth.py, runtime/search).

    (program, function, holes) --example_runner--> run(i, values) -> (ok, the holes' reaches)
                               --joint_contexts--> per hole, context(i, value) -> its context's value
    run --float_context--> float hole values (population x examples) -> the function's results

Search gives a hole one value per example (its program's value on the function's parameters), or,
for a hole that reads locals, its program, evaluated at each reach on the frame's values; these run
the function in the reference interpreter with those in its holes, on each example's own arguments. Loops take fuel (FUEL iterations a run): a candidate in a loop's condition or bound may
never end.
"""
from __future__ import annotations

import math

import numpy as np

from glia.runtime.search.regression import values_match

from . import ir
from .diagnostics import GliaError
from .interp import Interpreter
from .types import BOOL, FLOAT, INT, STR, ListT, StructT, TupleT


def type_name(t) -> str | None:
    if t in (INT, BOOL, STR, FLOAT):
        return str(t)
    if isinstance(t, ListT):
        e = type_name(t.elem)
        return f"list[{e}]" if e else None
    return None


def to_search_value(v):
    if isinstance(v, list):
        return tuple(to_search_value(x) for x in v)
    return v


def to_glia_value(v):
    if isinstance(v, tuple):
        return [to_glia_value(x) for x in v]
    return v


_DEFAULTS = {"int": 0, "bool": False, "str": "", "float": 0.0}


def default_value(name: str | None):
    """A value of the searchable type `name` (a type_name; a list is the empty tuple), as search holds it."""
    return _DEFAULTS.get(name or "", ())


_OTHERS = {"int": 1, "bool": True, "str": "a", "float": 1.0}


def other_value(name: str | None):
    """A second value of the searchable type `name`, unlike default_value's (a list holds one element)."""
    if name and name.startswith("list["):
        return (other_value(name[5:-1]),)
    return _OTHERS.get(name or "", ())


def varied_values(seed: int = 0):
    """value(name): values of the searchable type `name` drawn from a seeded generator, a different one
    at each call (small ints, either bool, short strings, short lists)."""
    import random

    rng = random.Random(seed)

    def value(name: str | None):
        if name and name.startswith("list["):
            return tuple(value(name[5:-1]) for _ in range(rng.randint(0, 3)))
        return {"int": lambda: rng.randint(-2, 9), "bool": lambda: rng.random() < 0.5,
                "str": lambda: rng.choice(("", "a", "ab", " ", "b a")),
                "float": lambda: rng.uniform(-2.0, 9.0)}.get(name or "", tuple)()
    return value


def term_filler(term, slots: tuple):
    """A hole's fill for the interpreter: `term` evaluated on the frame's `slots` at each reach."""
    from glia.runtime.search.terms import evaluate

    def fill(frame):
        return to_glia_value(evaluate(term, tuple(to_search_value(frame[s]) for s in slots)))
    return fill


def split_holes(program: ir.Program) -> dict:
    """The holes of tuple and struct types whose parts search handles, each split into a hole per part
    (searched like any other hole; the hole's value is then made of the parts' values): {hole index:
    (the hole, its struct's name or None for a tuple, the parts' holes)}. The parts are numbered after
    the program's own holes, in source order."""
    nxt = max((h.index for h in program.holes), default=-1) + 1
    out = {}
    for h in program.holes:
        t = h.type
        items = t.items if isinstance(t, TupleT) else program.structs[t.name].types if isinstance(t, StructT) \
            else ()
        if items and all(type_name(x) is not None for x in items):
            out[h.index] = (h, t.name if isinstance(t, StructT) else None,
                            tuple(ir.Hole(nxt + k, h.options, x, h.span) for k, x in enumerate(items)))
            nxt += len(items)
    return out


def join_parts(interp: Interpreter, program: ir.Program) -> None:
    """Fill each split hole (split_holes) of a running interpreter with the tuple or struct of its
    parts' fills (as they are when it is reached)."""
    from glia.runtime.values import new_struct

    fills = interp.hole_fill
    for h, struct, parts in split_holes(program).values():
        def fill(frame, _cls=interp.structs[struct] if struct else None, _parts=parts):
            vals = [fills[p.index](frame) for p in _parts]
            return new_struct(_cls, vals) if _cls is not None else tuple(vals)
        fills[h.index] = fill


FUEL = 10_000  # loop iterations one run of a function may take while search tries candidates in it


def search_interpreter(program: ir.Program) -> Interpreter:
    """An interpreter whose loops take fuel (refill `interp.fuel[0] = FUEL` before each run): a
    candidate in a loop's condition or bound may never end."""
    interp = Interpreter(program)
    interp.fuel = [FUEL]
    join_parts(interp, program)
    return interp


def envs_at_hole(program: ir.Program, func: ir.Function, hole: ir.Hole, holes: list[ir.Hole], args: list,
                 slots, reaches: int, value=default_value) -> list[list]:
    """Run `func` once with a placeholder in each of its holes (`value` of the hole's type) and return
    the values of its local `slots` (parameters first) at each of the first `reaches` times `hole` is
    reached (a local not assigned yet: None)."""
    interp = search_interpreter(program)
    seen: list = []

    def placeholder(h):
        return lambda frame: to_glia_value(value(type_name(h.type)))

    def fill(frame):
        seen.append([copy_value(frame[s]) for s in slots])
        if len(seen) == reaches:
            raise _Reached()  # the rest of the run does not matter (with placeholders it may not end)
        return placeholder(hole)(frame)

    for h in holes:
        interp.hole_fill[h.index] = fill if h is hole else placeholder(h)
    interp.fuel[0] = FUEL
    try:
        interp.call(func.name, [copy_value(a) for a in args])
    except (GliaError, _Reached):
        pass  # only the values at the hole matter
    return seen


class _Reached(Exception):
    """The hole was reached: stop running the function."""


def copy_value(v):
    return [copy_value(x) for x in v] if isinstance(v, list) else v


def indirect_acceptor(program: ir.Program, func: ir.Function, hole: ir.Hole):
    """For a hole inside a larger expression: does the function, with a candidate's values (one per
    example) in the hole, give every example's result?"""
    run = example_runner(program, func, [hole])
    return _noting_reaches(lambda vec, term: (run(i, (v,)) for i, v in enumerate(vec)))


def _noting_reaches(runs):
    """An acceptor from `runs(vec, term)` -> the (ok, events) of each example's run, stopping at the
    first not ok; `accept.reached` says whether the last candidate accepted was reached by any example
    (when none reaches the hole, any program passes: the answer is a guess)."""
    def accept(vec, term):
        reached = False
        for ok, events in runs(vec, term):
            reached = reached or bool(events)
            if not ok:
                return False
        accept.reached = reached
        return True
    accept.reached = True
    return accept


def local_acceptor(program: ir.Program, func: ir.Function, hole: ir.Hole, slots: tuple):
    """For a hole that reads the function's locals: does the function, with the candidate program
    evaluated in the hole each time it is reached (on the values its `slots` hold then), give every
    example's result? (The value vector, computed on sampled environments, only orders and
    deduplicates the candidates.)"""
    run = example_runner(program, func, [hole], [slots])
    n = len(run.cases)

    def runs(vec, term):
        t = term()
        return (run(i, (t,)) for i in range(n))
    return _noting_reaches(runs)


def function_cases(interp: Interpreter, program: ir.Program, func: ir.Function) -> list[tuple[list, object]]:
    """`func`'s examples as (arguments, expected result), in Glia values."""
    ex = {e.func: e for e in program.examples}[func.name]
    return [([interp.expr(a)([None] * 4) for a in e.args], interp.expr(e.result)([None] * 4)) for e in ex.examples]


def example_runner(program: ir.Program, func: ir.Function, holes: list[ir.Hole], reads: list | None = None):
    """run(i, values) -> (ok, events): does `func`, with values[h] in holes[h], give its example i's
    result? (In the reference interpreter, on the example's own arguments, its loops bounded by FUEL.)
    A hole with `reads[h]` (its slots: parameters and locals) is given a Term, evaluated at each reach
    on those slots' values; any other hole a value. `events` are the reaches that can tell something
    new, in order: (h, None, value) at a value hole's first reach, (h, environment, value) at a
    reading hole's reach at an environment not seen before in the run, the value joint.ERROR where
    its program fails (the run stops there). A hole with no value in `values` (the last, a float
    hole, while the others are searched) stops the run when reached: its result is then joint.OPEN.
    `run.got` is the function's result of the last run (None where it failed)."""
    from glia.runtime.search.joint import ERROR, OPEN
    from glia.runtime.search.terms import evaluate

    interp = search_interpreter(program)
    reads = reads or [()] * len(holes)
    current: list = [()]
    events: list = []
    seen: set = set()

    def filler(h: int, slots: tuple):
        types = [type_name(func.slot_types[k]) for k in slots]

        def fill(frame):
            if h >= len(current[0]):
                raise _Open()
            v = current[0][h]
            if not slots:
                if h not in seen:
                    seen.add(h)
                    events.append((h, None, v))
                return to_glia_value(v)
            env = tuple(default_value(t) if frame[k] is None else to_search_value(frame[k])
                        for k, t in zip(slots, types))
            try:
                out = evaluate(v, env)
            except Exception:  # noqa: BLE001 - an undefined component: the run fails here
                out = ERROR
            if (h, env) not in seen:
                seen.add((h, env))
                events.append((h, env, out))
            if out is ERROR:
                raise _Failed()
            return to_glia_value(out)
        return fill

    for h, (hole, slots) in enumerate(zip(holes, reads)):
        interp.hole_fill[hole.index] = filler(h, tuple(slots))
    fn = interp.function(func.name)
    interp.init_globals()
    cases = function_cases(interp, program, func)

    def run(i: int, values: tuple) -> tuple[bool | str, list]:
        current[0] = values
        events.clear()
        seen.clear()
        interp.fuel[0] = FUEL
        run.got = None
        args, want = cases[i]
        try:
            run.got = fn(*[copy_value(a) for a in args])
        except _Open:
            return OPEN, list(events)
        except Exception:  # noqa: BLE001 - a runtime error in the program (or a candidate): these values are wrong
            return False, list(events)
        return values_match(run.got, want), list(events)

    run.cases = cases
    return run


def fails_unreached(program: ir.Program, func: ir.Function, holes: list[ir.Hole]) -> tuple[int, object] | None:
    """The first example whose run of `func` fails, or gives another result, without reaching any of
    `holes`, so whatever they hold: (its index, the result it gave, or None where the run failed)."""
    run = example_runner(program, func, holes)  # (no values: a run stops where it reaches a hole)
    for i in range(len(run.cases)):
        if run(i, ())[0] is False:
            return i, run.got
    return None


def holes_reached(program: ir.Program, func: ir.Function, holes: list[ir.Hole], terms: list, reads: list,
                  args: list) -> list[bool]:
    """Per hole, whether some example's run of `func`, with the program terms[h] in holes[h], reaches
    it: where none does, any program passes and the one kept is a guess. A hole with `reads[h]` (its
    slots) has its term evaluated at each reach; any other its value on the example's `args` (search
    values)."""
    from glia.runtime.search.terms import evaluate

    run = example_runner(program, func, holes, reads)

    def value(term, ex):
        try:
            return evaluate(term, ex)
        except Exception:  # noqa: BLE001 - undefined here: then no run that passes reaches it
            return None
    hit: set = set()
    for i, ex in enumerate(args):
        values = tuple(t if r else value(t, ex) for t, r in zip(terms, reads))
        hit.update(e[0] for e in run(i, values)[1])
    return [h in hit for h in range(len(holes))]


class _Failed(Exception):
    """A hole's program failed where the hole was reached."""


class _Open(Exception):
    """A hole without a value yet (the float hole) was reached."""


# A hole's context: the largest expression around it that reads only parameters (never reassigned)
# and constants through pure operations, with no other hole: `x > ??` in `if x > ??:`. Its value on
# an example follows from the hole's value alone, and two programs whose contexts agree on every
# example make the function act alike, so joint search keeps one of them (joint.HoleBank).
_PURE_EXPRS = (ir.Const, ir.Local, ir.Global, ir.Prim, ir.MakeList, ir.MakeTuple, ir.Cond, ir.And, ir.Or,
               ir.Compare, ir.Hole)
_PURE_PRIMS = ("int.", "float.", "bool.", "cmp.", "math.", "minmax.", "str.")  # every one of these kinds
_PURE_SEQ = {"len", "chr", "ord", "to_str", "sorted", "reversed", "range", "list.getitem", "tuple.getitem",
             "list.slice", "list.concat", "tuple.concat", "list.sum", "list.count", "list.index", "seq.any",
             "seq.all", "seq.mean"}
_FAILS = object()  # the context's value where evaluating it fails (the function fails there too)


def context_expr(func: ir.Function, hole: ir.Hole):
    """The hole's context expression (None when it is the hole itself or cannot be told)."""
    nparams = len(func.params)
    if any(isinstance(n, ir.StoreLocal) and n.slot < nparams for n in ir.walk(func.body)):
        return None

    def pure(node) -> bool:
        return isinstance(node, _PURE_EXPRS) and type_name(node.type) is not None and all(
            isinstance(n, _PURE_EXPRS) and (n is hole or not isinstance(n, ir.Hole)) and
            not (isinstance(n, ir.Local) and n.slot >= nparams) and
            not (isinstance(n, ir.Prim) and not (n.op.startswith(_PURE_PRIMS) or n.op in _PURE_SEQ))
            for n in ir.walk(node))

    above = ancestors(func.body, hole) or []
    if any(isinstance(a, ir.Lambda) for a in above):  # its locals are the lambda's, not the function's
        return None
    best = None
    for node in reversed(above):
        if not pure(node):
            break
        best = node
    return best


def ancestors(body: tuple, target) -> list | None:
    """The IR nodes from a statement of `body` down to `target`'s parent, outermost first (None when
    `target` is not below)."""
    for node in body:
        if node is target:
            return []
        if ir.is_node(node):
            for _, val in ir.child_fields(node):
                found = ancestors(val if isinstance(val, tuple) else (val,), target)
                if found is not None:
                    return [node] + found
    return None


def joint_contexts(program: ir.Program, func: ir.Function, holes: list[ir.Hole]) -> list:
    """Per hole, context(i, value): its context's value on example i with `value` in the hole (None
    where the context is the hole itself)."""
    out = []
    for hole in holes:
        expr = context_expr(func, hole)
        if expr is None:
            out.append(None)
            continue
        interp = search_interpreter(program)
        value: list = [None]
        interp.hole_fill[hole.index] = lambda frame, _value=value: to_glia_value(_value[0])
        interp.init_globals()
        ev = interp.expr(expr)
        frames = [a + [None] * (func.nslots + 1 - len(a)) for a, _ in function_cases(interp, program, func)]

        def context(i: int, v, _ev=ev, _value=value, _frames=frames, _interp=interp):
            _value[0] = v
            _interp.fuel[0] = FUEL
            try:
                return to_search_value(_ev([copy_value(x) for x in _frames[i]]))
            except Exception:  # noqa: BLE001 - the context fails on this value, and so does the function
                return _FAILS
        out.append(context)
    return out


def float_context(run, examples: list[int], fixed: list[tuple] | None = None):
    """For a float hole inside a larger expression, the last of `run`'s holes (an example_runner's):
    hole values (population x examples) -> the function's results on each of `examples` with that value
    in the hole and `fixed[k]` in the other holes on examples[k] (NaN where it fails or does not give
    a number)."""
    fixed = fixed or [()] * len(examples)

    def context(vals: np.ndarray) -> np.ndarray:
        out = np.full(vals.shape, np.nan)
        for (r, k), h in np.ndenumerate(vals):
            if not math.isfinite(h):
                continue
            run(examples[k], fixed[k] + (float(h),))
            got = run.got
            if isinstance(got, (int, float)) and not isinstance(got, bool):
                out[r, k] = got
        return out

    return context
