"""Program search: engines that fill holes from examples (see docs/search.md).

The compiler hands a `Problem` (a typed grammar, the inputs and the examples as value vectors) to
`synthesize`, which returns a `Result` with the program found as a `Term`.
"""
from .engine import STRATEGIES, check_problem, satisfies, synthesize
from .problem import Component, Config, Const, Grammar, Lam, Problem, Production, Result, SearchError, Term, Var

__all__ = ["STRATEGIES", "Component", "Config", "Const", "Grammar", "Lam", "Problem", "Production", "Result",
           "SearchError", "Term", "Var", "check_problem", "satisfies", "synthesize"]
