"""The default grammar of a hole (Glia dialect): components by type, constants, enumerated lambdas.

Given the inputs' and the result's types, keep the component libraries whose types can take part
(ints, bools, strings, lists with lambdas), add constants (small integers, and string constants
suggested by the examples), and enumerate lambdas for the higher-order list components bottom-up
over the lambda's parameters, with observational equivalence on a probe set of element values
(the elements that occur in the examples, plus small integers).
"""
from __future__ import annotations

import re

from .bottomup import BottomUp
from .components import GLIA_BOOL, GLIA_INT, GLIA_INT_BOOL, GLIA_STR, glia_ite, list_components
from .problem import Component, Config, Const, Grammar, Lam, Production, SearchError, Var
from .terms import leaf_depth

INT_CONSTS = (0, 1, 2, -1, 3)
LIST_ELEMS = ("int", "bool", "str")  # the element types whose lists get the list components
LAMBDA_SIZE = {"int": 3, "bool": 5}  # largest lambda bodies enumerated (x + 1, x % 2 == 0 ...)
LAMBDA_CONSTS = {"int": (0, 1, 2, 3, 4, 5), "bool": (0, 1, 2, 3)}


def _list_elem(t: str) -> str | None:
    return t[5:-1] if t.startswith("list[") and t.endswith("]") else None


def _walk_values(v, out_ints: set, out_strs: set):
    if isinstance(v, bool):
        return
    if isinstance(v, int):
        out_ints.add(v)
    elif isinstance(v, str):
        out_strs.add(v)
    elif isinstance(v, (tuple, list)):
        for x in v:
            _walk_values(x, out_ints, out_strs)


def example_ints(inputs: list[tuple], outputs: list, limit: int = 16) -> tuple[int, ...]:
    """The integers of the examples (inputs and results, inside lists too), the smallest in size
    first, at most `limit` of them."""
    ints: set = set()
    for v in list(inputs) + list(outputs):
        _walk_values(v, ints, set())
    return tuple(sorted(ints, key=lambda v: (abs(v), v))[:limit])


def string_constants(inputs: list[tuple], outputs: list, limit: int = 8) -> list[str]:
    """Constants a string program likely needs: separators and punctuation seen in the examples,
    and substrings that every output shares but no input contains."""
    ins, outs = set(), set()
    ints: set = set()
    for ex in inputs:
        _walk_values(ex, ints, ins)
    for o in outputs:
        _walk_values(o, ints, outs)
    text = "".join(sorted(ins | outs))
    consts = ["", " "]
    for ch in sorted(set(re.findall(r"[^A-Za-z0-9 ]", text)), key=lambda c: -text.count(c)):
        consts.append(ch)
    out_list = [o for o in outputs if isinstance(o, str)]
    if out_list:
        first = out_list[0]
        common = []
        for n in range(min(len(first), 12), 0, -1):
            for i in range(len(first) - n + 1):
                sub = first[i:i + n]
                if all(sub in o for o in out_list) and not any(sub in s for s in ins) and \
                        not any(sub in c for c in common):
                    common.append(sub)
        consts.extend(common[:3])
    seen, out = set(), []
    for c in consts:
        if c not in seen:
            seen.add(c)
            out.append(c)
    return out[:limit]


def lambda_signature(ftype: str, elem: str) -> tuple[tuple[str, ...], str]:
    """The parameter names and the result type of a lambda type (fn(e)->e, fn(e)->bool, fn(e,e)->e)."""
    n = 2 if ftype.startswith(f"fn({elem},{elem})") else 1
    return ("x",) if n == 1 else ("a", "b"), ftype.split("->", 1)[1]


def lambda_grammar(ftype: str, elem: str) -> Grammar:
    """The grammar of a lambda's body: its parameters (Var -1, -2, ...), small constants, the int
    operations and comparisons."""
    names, ret = lambda_signature(ftype, elem)
    if elem != "int":
        return _elem_lambda_grammar(names, elem, ret)
    types = {"int": "int", "bool": "bool"}
    rules: dict[str, list[Production]] = {"int": [], "bool": []}
    for i, nm in enumerate(names):
        rules["int"].append(Production(Var(-i - 1, nm, "int")))
    for c in LAMBDA_CONSTS.get(ret, (0, 1, 2, 3)):
        rules["int"].append(Production(Const(c, "int")))
    for comp in GLIA_INT:
        if comp.name in ("neg",) and len(names) == 2:
            continue
        rules["int"].append(Production(comp, comp.args))
    for comp in GLIA_INT_BOOL:
        rules["bool"].append(Production(comp, comp.args))
    return Grammar(ret, types, rules)


LAMBDA_STR_CONSTS = ("", " ")


def _elem_lambda_grammar(names: tuple[str, ...], elem: str, ret: str) -> Grammar:
    """The grammar of a one-parameter lambda's body over a str or bool element: the parameter, small
    int and str constants, and the int, bool (and string) operations that can reach `ret`."""
    comps = GLIA_INT + GLIA_INT_BOOL + GLIA_BOOL + (GLIA_STR if elem == "str" else [])
    rules: dict[str, list[Production]] = {t: [] for t in ("int", "bool", "str")}
    for i, nm in enumerate(names):
        rules[elem].append(Production(Var(-i - 1, nm, elem)))
    rules["int"] += [Production(Const(c, "int")) for c in INT_CONSTS]
    if elem == "str":
        rules["str"] += [Production(Const(c, "str")) for c in LAMBDA_STR_CONSTS]
    for comp in comps:
        rules[comp.ret].append(Production(comp, comp.args))
    return _pruned(rules, ret)


def _pruned(rules: dict[str, list[Production]], start: str) -> Grammar:
    """The grammar of `rules` from `start`, less the nonterminals that produce no value or that no
    program of `start` is built from."""
    live = _productive(rules)
    if start not in live:
        raise SearchError("E603", f"no components produce a value of type {start}")
    rules = {nt: [p for p in ps if all(a in live for a in p.args)] for nt, ps in rules.items() if nt in live}
    used = _reachable(rules, start)
    rules = {nt: ps for nt, ps in rules.items() if nt in used}
    return Grammar(start, {nt: nt for nt in rules}, rules)


def lambda_rows(args: list[tuple]) -> list[tuple]:
    """Lambda arguments as bottom-up inputs: a body's Var(-i-1) is parameter i (terms.evaluate), and
    bottom-up reads Var(k) as row[k], so the row holds the parameters last first."""
    return [tuple(reversed(a)) for a in args]


def enumerate_lambdas(ftype: str, elem: str, probe: list, max_size: int = 0) -> list[Lam]:
    """Distinct lambdas of type `ftype` (fn(e)->e, fn(e)->bool, fn(e,e)->e), smallest first."""
    names, ret = lambda_signature(ftype, elem)
    n = len(names)
    max_size = max_size or LAMBDA_SIZE.get(ret, 3)
    if n == 1:
        inputs = [(v,) for v in probe]
    else:
        inputs = lambda_rows([(a, b) for a in probe[:12] for b in probe[:12]])
    g = lambda_grammar(ftype, elem)
    # small banks: Python ints, so that list searches need not load Numba for them
    bu = BottomUp(g, inputs, Config(timeout=2.0, max_bank=3_000_000), max_size=max_size, int_words=False)
    bu.run(collect_only=True)
    out = []
    for size, body in bu.terms(ret):
        if not any(isinstance(v.head, Var) for v in _subterms(body)):
            continue
        fn = _closure(body, n)
        try:
            if len({fn(*args) for args in inputs}) == 1:
                continue  # a constant function (x == x) is never meant
        except Exception:  # noqa: BLE001 - undefined somewhere on the probe: keep it
            pass
        out.append(Lam(fn, body, names, ftype))
    return out


def _subterms(t):
    yield t
    for a in t.args:
        yield from _subterms(a)


def _closure(body, n):
    """A Python function for a lambda body: a tree of closures over the components' rules (no term
    walk per call)."""
    def build(t):
        h = t.head
        if isinstance(h, Var):
            i = -h.index - 1
            return lambda env: env[i]
        if isinstance(h, Const):
            v = h.value
            return lambda env: v
        f = h.fn
        fs = [build(a) for a in t.args]
        if len(fs) == 1:
            a, = fs
            return lambda env: f(a(env))
        if len(fs) == 2:
            a, b = fs
            return lambda env: f(a(env), b(env))
        return lambda env: f(*[g(env) for g in fs])

    g = build(body)
    if n == 1:
        return lambda x: g((x,))
    return lambda a, b: g((a, b))


def loop_grammar(params: tuple[Var, ...], ret: str, inputs: list[tuple], outputs: list,
                 using: tuple[str, ...] = (), extra: list[Component] = ()) -> Grammar | None:
    """For an int hole over ints (no lists anywhere, no `using`): its grammar with the list components
    added, so that a loop can be a list program over range(n). Searched after the plain grammar
    (Problem.wider): the plain one stays on the compiled integer path, which list components leave."""
    types = {p.type for p in params} | {ret}
    if ret != "int" or using or any(_list_elem(t) for t in types):
        return None
    return default_grammar(params, ret, inputs, outputs, extra=extra, loops=True)


def _names(c: Component) -> set[str]:
    """The names `using=[...]` picks a component by: its own, and the call its Glia form begins with."""
    return {c.name, c.glia.split("(")[0]}


def component_names() -> frozenset[str]:
    """Every name `using=[...]` can pick a library component by, whatever the hole's type."""
    from .regression import FLOAT_COMPONENTS, TO_FLOAT, TO_INT, list_summaries

    comps = (GLIA_INT + GLIA_INT_BOOL + GLIA_BOOL + GLIA_STR + [c for e in LIST_ELEMS for c in list_components(e)]
             + FLOAT_COMPONENTS + [TO_FLOAT] + TO_INT + [c for e in ("int", "float") for c in list_summaries(e)])
    return frozenset(n for c in comps for n in _names(c))


def default_grammar(params: tuple[Var, ...], ret: str, inputs: list[tuple], outputs: list,
                    using: tuple[str, ...] = (), extra: list[Component] = (), loops: bool = False) -> Grammar:
    """The Glia-dialect grammar for a hole of type `ret` with inputs `params` (`loops`: with the list
    components for ints too; see loop_grammar)."""
    types = {p.type for p in params} | {ret}
    list_elems = {e for t in types if (e := _list_elem(t))}
    comps: list[Component] = []
    comps += GLIA_INT + GLIA_INT_BOOL + GLIA_BOOL
    if "str" in types:
        comps += GLIA_STR
    for e in sorted(list_elems):
        if e in LIST_ELEMS:
            comps += list_components(e)
    if loops:  # loops, as list programs over range(n): sum(map(f, range(n + 1)))
        comps += list_components("int")
    if ret == "float":  # symbolic regression: float operations, constants fitted (regression.py)
        from .regression import FLOAT_COMPONENTS, TO_FLOAT, list_summaries

        comps += FLOAT_COMPONENTS + ([TO_FLOAT] if "int" in types else [])
        comps += [c for e in sorted(list_elems) if e in ("int", "float") for c in list_summaries(e)]
    elif "float" in types:  # a float parameter of an int (or bool, str) hole: int(x), round(x), floor(x), ceil(x)
        from .regression import TO_INT

        comps += TO_INT
    comps += list(extra)
    if using:
        wanted = set(using)
        comps = [c for c in comps if _names(c) & wanted]
    # ite for the result type (and ints) where no `using` says otherwise
    if not using:
        comps += [glia_ite(ret)] if ret in ("int", "str") else []
    nts = {t for c in comps for t in (c.ret,) + c.args} | types
    rules: dict[str, list[Production]] = {t: [] for t in sorted(nts)}
    for p in params:
        rules[p.type].append(Production(p))
    if "int" in rules:
        for c in INT_CONSTS:
            rules["int"].append(Production(Const(c, "int")))
    if "bool" in rules and ret == "bool":
        rules["bool"] += [Production(Const(True, "bool")), Production(Const(False, "bool"))]
    if "float" in rules and ret == "float":
        from .regression import slot

        rules["float"].append(Production(slot()))
    if "str" in rules:
        for s in string_constants(inputs, outputs):
            rules["str"].append(Production(Const(s, "str")))
    for t in list(rules):
        if t.startswith("fn("):
            elem = t[3:t.index(")")].split(",")[0]
            for lam in enumerate_lambdas(t, elem, _probe(inputs, outputs, elem)):
                rules[t].append(Production(lam))
    for c in comps:
        rules[c.ret].append(Production(c, c.args))
    # drop nonterminals that can never produce a value, and productions using them, and those no program
    # of the hole's type is built from (a list[float] hole's ints): enumerating them would only spend
    # the time limit
    return _pruned(rules, ret)


def depth_bounded(g: Grammar, depth: int) -> Grammar:
    """The grammar of g's programs of depth at most `depth` (a leaf has depth 1, an operation one more
    than its deepest argument, a lambda its body's depth): nonterminal N becomes N@1 .. N@depth, N@d
    holding N's programs of depth at most d, its operations taking arguments from level d - 1. Every
    engine searches it unchanged, and observational equivalence stays exact: each level keeps the
    smallest program of each value among the programs shallow enough for it."""
    rules: dict[str, list[Production]] = {}
    types: dict[str, str] = {}
    for d in range(1, depth + 1):
        for nt, t in g.types.items():
            name = f"{nt}@{d}"
            types[name] = t
            rules[name] = [p for p in g.rules.get(nt, ()) if not p.args and leaf_depth(p.head) <= d] + \
                [Production(p.head, tuple(f"{a}@{d - 1}" for a in p.args)) for p in g.rules.get(nt, ())
                 if p.args and d > 1]
    live = _productive(rules)
    rules = {nt: [p for p in ps if all(a in live for a in p.args)] for nt, ps in rules.items() if nt in live}
    start = f"{g.start}@{depth}"
    if start not in rules:
        raise SearchError("E603", f"no program of type {g.types[g.start]} has depth {depth} or less")
    return Grammar(start, {nt: types[nt] for nt in rules}, rules)


def _probe(inputs, outputs, elem: str = "int") -> list:
    """The element values lambdas over `elem` are told apart on: those of the examples, and a few more."""
    if elem == "bool":
        return [False, True]
    ints: set = set()
    strs: set = set()
    for ex in inputs:
        _walk_values(ex, ints, strs)
    for o in outputs:
        _walk_values(o, ints, strs)
    if elem == "str":
        return sorted(set(sorted(strs, key=lambda s: (len(s), s))[:40]) | {"", "a", "Ab c"})
    small = [v for v in sorted(ints) if -1000 <= v <= 1000][:40]
    return sorted(set(small) | set(range(-3, 11)))


def _productive(rules) -> set:
    live: set = set()
    changed = True
    while changed:
        changed = False
        for nt, ps in rules.items():
            if nt in live:
                continue
            if any(all(a in live for a in p.args) for p in ps):
                live.add(nt)
                changed = True
    return live


def _reachable(rules, start: str) -> set:
    seen, todo = {start}, [start]
    while todo:
        for p in rules[todo.pop()]:
            for a in p.args:
                if a not in seen:
                    seen.add(a)
                    todo.append(a)
    return seen
