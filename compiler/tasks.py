"""Task files for search (JSON lines, ../shared/BENCHMARKS.md) to search problems.

One task per line: `{"name", "inputs": [[arg, ...], ...], "outputs": [...], "types": {"args": [...],
"ret": ..., "arg_names"?: [...]}, "grammar"?: SyGuS grammar text, "test_inputs"?, "test_outputs"?}`.
A task with a grammar is searched in the SyGuS dialect over that grammar; one without, in the Glia
dialect over the default component library for its types.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

from glia.runtime.search import Problem, SearchError, Var
from glia.runtime.search.library import default_grammar, loop_grammar

from .diagnostics import Diagnostic, GliaError, Source, Span
from .sygus import SORT_TEXT as SORT_OF
from .sygus import SyFun, SyProblem, _Reader, _read_grammar, is_sygus_path, read_sygus, to_problem

STAGE = "tasks"


@dataclass(slots=True)
class Task:
    name: str
    problem: Problem | None
    error: str = ""  # why the task cannot be searched (unsupported types...)


def _value(v, t: str):
    if t.startswith("list["):
        if not isinstance(v, list):
            raise ValueError(f"{v!r} is not a {t}")
        return tuple(_value(x, t[5:-1]) for x in v)
    if t == "int" or t == "bv64":
        if not isinstance(v, int) or isinstance(v, bool):
            raise ValueError(f"{v!r} is not an {t}")
        return v
    if t == "bool":
        if not isinstance(v, bool):
            raise ValueError(f"{v!r} is not a bool")
        return v
    if t == "str":
        if not isinstance(v, str):
            raise ValueError(f"{v!r} is not a str")
        return v
    if t == "float":
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise ValueError(f"{v!r} is not a float")
        return float(v)
    raise ValueError(f"type {t} is not supported by search yet")


def _helpers(d: dict, sl_index: dict) -> list:
    """The define-fun helpers a task's grammar may use live in its SyGuS source file (named by the
    task's `source`): read them when that file is found next to the task file."""
    src = str(d.get("source", ""))
    path = sl_index.get(os.path.basename(src.split(":")[-1])) if is_sygus_path(src) else None
    if path is None:
        return []
    from .driver import read_source

    return read_sygus(read_source(path)).helpers


def sl_files_near(tasks_path: str) -> dict[str, str]:
    """.sl files under the task file's folder and its sibling `sygus/` folder, by file name."""
    base = os.path.dirname(os.path.abspath(tasks_path))
    index: dict[str, str] = {}
    for root in (base, os.path.join(os.path.dirname(base), "sygus")):
        for dirpath, _, files in sorted(os.walk(root)):
            for f in sorted(files):
                if is_sygus_path(f):
                    index.setdefault(f, os.path.join(dirpath, f))
    return index


def _field(d: dict, key: str, kind: type, optional: bool = False):
    if key not in d:
        if optional:
            return kind()
        raise ValueError(f"the task has no \"{key}\"")
    if not isinstance(d[key], kind):
        raise ValueError(f"the task's \"{key}\" is not a JSON {'list' if kind is list else 'object'}")
    return d[key]


def _examples(d: dict, key_in: str, key_out: str, args: list, ret: str, optional: bool) -> tuple[list, list]:
    """A task's argument lists and results, each checked against its types."""
    ins, outs = _field(d, key_in, list, optional), _field(d, key_out, list, optional)
    if len(ins) != len(outs):
        raise ValueError(f"\"{key_in}\" has {len(ins)} examples, \"{key_out}\" {len(outs)}")
    for ex in ins:
        if not isinstance(ex, list) or len(ex) != len(args):
            raise ValueError(f"an example's arguments are a list of {len(args)} (the task's \"args\"), not {ex!r}")
    return [tuple(_value(v, t) for v, t in zip(ex, args)) for ex in ins], [_value(v, ret) for v in outs]


def task_problem(d: dict, where: str, sl_index: dict | None = None) -> Problem:
    types = _field(d, "types", dict)
    args, ret = list(_field(types, "args", list)), types.get("ret")
    if ret is None:
        raise ValueError("the task's \"types\" has no \"ret\"")
    if not isinstance(ret, str) or not all(isinstance(t, str) for t in args):
        raise ValueError("the task's \"args\" and \"ret\" are type names such as \"int\" or \"list[str]\"")
    names = types.get("arg_names") or [f"x{i}" if len(args) > 1 else "x" for i in range(len(args))]
    if not isinstance(names, list) or len(names) != len(args) or len(set(map(str, names))) != len(names) or \
            not all(isinstance(n, str) and n.isidentifier() for n in names):
        raise ValueError(f"the task's \"arg_names\" must be {len(args)} distinct names (one per argument), "
                         f"not {names!r}")
    inputs, outputs = _examples(d, "inputs", "outputs", args, ret, optional=False)
    test_in, test_out = _examples(d, "test_inputs", "test_outputs", args, ret, optional=True)
    if d.get("grammar"):
        if not isinstance(d["grammar"], str):
            raise ValueError("the task's \"grammar\" is not a string of SyGuS grammar text")
        if any(t not in SORT_OF for t in args + [ret]):
            raise ValueError("a SyGuS grammar over types other than int, bool, str, bv64")
        src = Source(where, d["grammar"])
        r = _Reader(src)
        fun = SyFun("f", tuple((n, SORT_OF[t]) for n, t in zip(names, args)), SORT_OF[ret])
        sp = SyProblem("", _helpers(d, sl_index or {}), fun, _read_grammar(r.read_all(), r.err, Span.point(1, 1)),
                       list(zip(inputs, outputs)))
        prob = to_problem(sp, src, d["name"])
    else:
        params = tuple(Var(i, n, t) for i, (n, t) in enumerate(zip(names, args)))
        grammar = default_grammar(params, ret, inputs, outputs)
        prob = Problem(d["name"], params, ret, inputs, outputs, grammar,
                       wider=loop_grammar(params, ret, inputs, outputs))
    prob.test_inputs, prob.test_outputs = test_in, test_out
    return prob


def load_tasks(path: str) -> list[Task]:
    from .driver import read_source

    src = read_source(path)
    sl_index = sl_files_near(path)
    tasks = []
    for i, line in enumerate(src.text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            name = d["name"]
            if not isinstance(name, str):
                raise TypeError(f"its name is {name!r}, not a string")
        except (ValueError, KeyError, TypeError) as e:
            raise GliaError(Diagnostic("E608", f"not a task (a JSON object with a name) on this line: {e}",
                                       Span(i, 1, i, max(2, len(line) + 1)), STAGE, src)) from None
        try:
            tasks.append(Task(name, task_problem(d, f"{path}:{i}", sl_index)))
        except (ValueError, KeyError, TypeError, SearchError) as e:
            tasks.append(Task(name, None, getattr(e, "message", str(e))))
        except GliaError as e:
            tasks.append(Task(name, None, e.diagnostic.message))
    if not tasks:
        raise GliaError(Diagnostic("E608", "no tasks in this file (one JSON object a line)", Span.point(1, 1),
                                   STAGE, src))
    return tasks


