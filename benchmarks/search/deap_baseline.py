"""The DEAP genetic-programming baseline on a search task file, with Glia's primitives and budget.

    python benchmarks/search/deap_baseline.py TASKS.jsonl --timeout 10 [--limit N] [--json OUT]

Each task's grammar (the SyGuS grammar, or Glia's default component library for its types) becomes a
DEAP strongly-typed primitive set: one Python class per nonterminal, one primitive per operator, one
terminal per constant/lambda, the task's parameters as arguments. Then DEAP's standard loop
(`eaSimple`-style: tournament selection of 7, one-point crossover 0.8, uniform mutation 0.2,
population 500, ramped half-and-half initialisation, depth limit 17) runs until a program is right on
every example or the time is up. Fitness: the number of examples wrong. Needs `pip install deap`
(the `bench` extra). Not run by CI.
"""
from __future__ import annotations

import argparse
import json
import operator
import os
import random
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from deap import base, creator, gp, tools  # noqa: E402

from glia.compiler.tasks import load_tasks  # noqa: E402
from glia.runtime.search import Component, Const, Lam, Var  # noqa: E402

creator.create("FitnessMin", base.Fitness, weights=(-1.0,))
creator.create("Individual", gp.PrimitiveTree, fitness=creator.FitnessMin)


def primitive_set(problem):
    g = problem.grammar
    classes = {nt: type(f"NT_{i}", (), {}) for i, nt in enumerate(g.types)}
    var_nt = {}
    for nt, p in g.productions():
        if isinstance(p.head, Var) and p.head.index not in var_nt:
            var_nt[p.head.index] = nt
    params = problem.params
    pset = gp.PrimitiveSetTyped("MAIN", [classes[var_nt.get(p.index, g.start)] for p in params], classes[g.start],
                                prefix="arg")
    k = 0
    for nt, p in g.productions():
        h = p.head
        k += 1
        if isinstance(h, Component):
            pset.addPrimitive(h.fn, [classes[a] for a in p.args], classes[nt], name=f"p{k}")
        elif isinstance(h, (Const, Lam)):
            value = h.value if isinstance(h, Const) else h.fn
            pset.addTerminal(value, classes[nt], name=f"c{k}")
        elif isinstance(h, Var) and var_nt.get(h.index) != nt:  # a parameter in a second nonterminal
            pset.addPrimitive(lambda x: x, [classes[var_nt[h.index]]], classes[nt], name=f"v{k}")
    return pset


def _generate(pset, min_, max_, type_=None):
    for _ in range(50):
        try:
            return gp.genHalfAndHalf(pset, min_, max_, type_)
        except (IndexError, TypeError):  # a type without terminals at the depth limit: try again
            continue
    raise RuntimeError("cannot generate a tree for this grammar")


def run(problem, timeout: float, seed: int, pop_size: int = 500):
    random.seed(seed)
    pset = primitive_set(problem)
    toolbox = base.Toolbox()
    toolbox.register("expr", _generate, pset=pset, min_=1, max_=4)
    toolbox.register("individual", tools.initIterate, creator.Individual, toolbox.expr)
    toolbox.register("population", tools.initRepeat, list, toolbox.individual)
    evals = [0]

    def evaluate(ind):
        evals[0] += 1
        try:
            f = gp.compile(ind, pset)
        except Exception:  # noqa: BLE001
            return (len(problem.inputs),)
        wrong = 0
        for args, out in zip(problem.inputs, problem.outputs):
            try:
                if f(*args) != out:
                    wrong += 1
            except Exception:  # noqa: BLE001 - undefined: wrong
                wrong += 1
        return (wrong,)

    toolbox.register("evaluate", evaluate)
    toolbox.register("select", tools.selTournament, tournsize=7)
    toolbox.register("mate", gp.cxOnePoint)
    toolbox.register("expr_mut", _generate, min_=0, max_=2)
    toolbox.register("mutate", gp.mutUniform, expr=toolbox.expr_mut, pset=pset)
    for op in ("mate", "mutate"):
        toolbox.decorate(op, gp.staticLimit(key=operator.attrgetter("height"), max_value=17))
    t0 = time.perf_counter()
    pop = toolbox.population(n=pop_size)
    while True:
        for ind in pop:
            if not ind.fitness.valid:
                ind.fitness.values = toolbox.evaluate(ind)
                if ind.fitness.values[0] == 0:
                    return True, str(ind), evals[0], time.perf_counter() - t0
            if time.perf_counter() - t0 > timeout:
                return False, None, evals[0], time.perf_counter() - t0
        offspring = [toolbox.clone(i) for i in toolbox.select(pop, len(pop))]
        for a, b in zip(offspring[::2], offspring[1::2]):
            if random.random() < 0.8:
                try:
                    toolbox.mate(a, b)
                except Exception:  # noqa: BLE001 - no common type to cross over at the chosen points
                    pass
                del a.fitness.values, b.fitness.values
        for i, ind in enumerate(offspring):
            if random.random() < 0.2:
                try:
                    offspring[i], = toolbox.mutate(ind)
                except Exception:  # noqa: BLE001
                    pass
                del offspring[i].fitness.values
        pop = offspring


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tasks")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json")
    ns = ap.parse_args()
    tasks = load_tasks(ns.tasks)
    if ns.limit:
        tasks = tasks[:ns.limit]
    rows = []
    for t in tasks:
        row = {"name": t.name, "solved": False, "seconds": 0.0, "candidates": 0, "program": None}
        if t.problem is None:
            row["error"] = t.error
        else:
            try:
                ok, prog, n, secs = run(t.problem, ns.timeout, ns.seed)
                row.update(solved=ok, program=prog, candidates=n, seconds=round(secs, 3))
            except RuntimeError as e:
                row["error"] = str(e)
        rows.append(row)
        print(f"{'ok  ' if row['solved'] else '--  '}{t.name[:48]:48s} {row['seconds']:7.2f} s {row['candidates']:>10,}",
              flush=True)
    solved = sum(r["solved"] for r in rows)
    cands = sum(r["candidates"] for r in rows)
    secs = sum(r["seconds"] for r in rows) or 1
    print(f"DEAP {os.path.basename(ns.tasks)}: solved {solved}/{len(rows)} with --timeout {ns.timeout:g} "
          f"({cands:,} evaluations, {cands / secs:,.0f}/s)")
    if ns.json:
        with open(ns.json, "w") as f:
            json.dump({"summary": {"file": ns.tasks, "solved": solved, "tasks": len(rows), "timeout": ns.timeout,
                                   "candidates": cands}, "results": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
