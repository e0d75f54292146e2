"""The search problem, as the compiler hands it to the search engines (DESIGN.md §2).

A problem is a typed grammar (nonterminals, each with a type and productions), the inputs (the
hole's context: the function's parameters) and the examples as value vectors, one value per
example. A plain component library is a grammar whose nonterminals are types. Nothing here knows
about the compiler: types are strings (`int`, `bool`, `str`, `bv64`, `float`, `list[int]`,
`fn(int)->int`, `fn(int,int)->int`), values are Python values (lists as tuples, bit-vectors as
Python ints in [0, 2**64)).
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any, Callable


class SearchError(Exception):
    """A problem the search cannot take (no components for the hole's type, bad examples...)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Component:
    """An operation candidates may use. `fn` evaluates one example's arguments (raising any exception
    for an undefined result: the candidate is dropped); `vec`, when given, evaluates whole value
    vectors at once (numpy arrays for bv64). `code`, when given, is the same rule as an expression
    for the word VM of bottom-up search (runtime/search/bvkernel.py): `("arg", i)`,
    `("const", word)` or `(op, code, ...)` with `op` a bit-vector, integer or boolean operation of
    bvcode.OPCODES (booleans are the words 0 and 1, ints two's complement words). `sexpr` is the SyGuS name, `glia` a source template with
    `{0}`, `{1}`... for the arguments."""

    name: str
    args: tuple[str, ...]
    ret: str
    fn: Callable
    sexpr: str = ""
    glia: str = ""
    vec: Callable | None = None
    cost: int = 1
    code: tuple | None = None


@dataclass(frozen=True, slots=True)
class Var:
    """An input of the hole: the function's parameter `index`."""

    index: int
    name: str
    type: str


@dataclass(frozen=True, slots=True)
class Const:
    """A literal; `text` is how it prints (SyGuS or Glia, chosen by the printer from `value`)."""

    value: Any
    type: str


@dataclass(frozen=True, slots=True)
class Lam:
    """A function value found by lambda enumeration: `fn` is callable, `body` a Term over the lambda's
    parameters (Var with index -1, -2, ...)."""

    fn: Callable
    body: "Term"
    params: tuple[str, ...]
    type: str


@dataclass(frozen=True, slots=True)
class Production:
    """`head` is a Component (with one argument nonterminal per parameter in `args`), a Var, a Const
    or a Lam (the last three are leaves)."""

    head: Component | Var | Const | Lam
    args: tuple[str, ...] = ()


@dataclass(slots=True)
class Grammar:
    start: str
    types: dict[str, str]  # nonterminal -> type
    rules: dict[str, list[Production]]  # nonterminal -> productions (in a fixed order)

    def productions(self):
        for nt in self.types:
            for p in self.rules.get(nt, ()):
                yield nt, p


@dataclass(frozen=True, slots=True)
class Term:
    """A candidate program: a production applied to sub-terms."""

    head: Component | Var | Const | Lam
    args: tuple["Term", ...] = ()

    def size(self) -> int:
        return 1 + sum(a.size() for a in self.args)


@dataclass(slots=True)
class Problem:
    """Find a Term of grammar.start's type with term(inputs[i]) == outputs[i] for every example."""

    name: str
    params: tuple[Var, ...]
    ret: str
    inputs: list[tuple]  # one tuple of argument values per example
    outputs: list
    grammar: Grammar
    test_inputs: list[tuple] = field(default_factory=list)
    test_outputs: list = field(default_factory=list)
    dialect: str = "glia"  # 'glia' (Glia's semantics and printing) or 'sygus'
    max_size: int = 0  # a hole's size= bound (0: none)
    wider: Grammar | None = None  # a larger grammar bottom-up searches after `grammar` (library.loop_grammar)
    max_depth: int = 0  # a hole's depth= bound (0: none); the grammar is already stratified by depth
                        # (library.depth_bounded), which float regression, building its own skeletons, checks


@dataclass(frozen=True, slots=True)
class Config:
    strategy: str = "auto"
    timeout: float = 10.0
    max_candidates: int = 200_000_000  # the one default of `glia synth --max-candidates` and prog.synthesize
    max_bank: int = 100_000_000  # the memory bound: values kept x examples (800 MB of bit-vector rows)
    seed: int = 0
    device: str = "cpu"  # "cuda": bottom-up evaluates bit-vector candidates on the GPU (same answers)

    def key(self) -> str:
        return f"{self.strategy}|{self.timeout}|{self.max_candidates}|{self.max_bank}|{self.seed}"

    def mistake(self, strategies: tuple) -> str:
        """What is wrong with these settings as a user gave them ("" when nothing): the flag and its
        Python keyword, for E604."""
        if self.strategy not in strategies:
            return f"unknown strategy {self.strategy!r}; expected one of {', '.join(strategies)}"
        if not (_is_number(self.timeout) and self.timeout > 0):
            return f"--timeout (timeout=) must be a positive number of seconds, not {self.timeout!r}"
        if not (_is_int(self.max_candidates) and self.max_candidates > 0):
            return f"--max-candidates (max_candidates=) must be a positive integer, not {self.max_candidates!r}"
        if not _is_int(self.seed):
            return f"--seed (seed=) must be an integer, not {self.seed!r}"
        return ""


def _is_int(v) -> bool:  # numpy's integers too
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


@dataclass(slots=True)
class Result:
    solved: bool
    term: Term | None
    candidates: int
    seconds: float
    strategy: str
    reason: str = ""  # why it stopped without a solution: 'timeout', 'candidates', 'memory', 'exhausted'
    decisions: list = field(default_factory=list)  # the replayable record: the term as a list of production names
