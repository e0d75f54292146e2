"""Syntax highlighting for Glia: a Pygments lexer.

Used by the REPL (through prompt_toolkit) and registered as the Pygments lexer `glia` (entry point
in pyproject.toml), so documentation tools can highlight ```glia blocks.
"""
from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, include, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text, Whitespace

from glia.compiler.builtins import FUNCS, MATH_CONSTS

KEYWORDS = ("def", "struct", "if", "elif", "else", "while", "for", "in", "not", "and", "or", "return", "break",
            "continue", "pass", "lambda", "examples", "train", "on", "assert", "del", "is")
CONSTANTS = ("True", "False", "None")
TYPES = ("int", "float", "f32", "f64", "bool", "str", "list", "dict", "set", "tuple", "fn")


class GliaLexer(RegexLexer):
    name = "Glia"
    aliases = ["glia"]
    filenames = ["*.glia"]
    mimetypes = ["text/x-glia"]

    tokens = {
        "root": [
            (r"\n", Whitespace),
            (r"[^\S\n]+", Whitespace),
            (r"#.*$", Comment.Single),
            (r"(def)(\s+)([A-Za-z_]\w*)", bygroups(Keyword, Whitespace, Name.Function)),
            (r"(struct)(\s+)([A-Za-z_]\w*)", bygroups(Keyword, Whitespace, Name.Class)),
            (r"(examples|train)(\s+)([A-Za-z_]\w*)", bygroups(Keyword, Whitespace, Name.Function)),
            (r"\?\?", Keyword.Pseudo),
            (words(CONSTANTS, suffix=r"\b"), Keyword.Constant),
            (words(KEYWORDS, suffix=r"\b"), Keyword),
            (words(TYPES, suffix=r"\b"), Keyword.Type),
            (words(("choose",), suffix=r"\b"), Keyword.Pseudo),
            (words(tuple(f for f in FUNCS if f not in TYPES and f != "choose"), prefix=r"(?<!\.)", suffix=r"\b"),
             Name.Builtin),
            (words(tuple(MATH_CONSTS) + ("math",), prefix=r"(?<!\.)", suffix=r"\b"), Name.Builtin.Pseudo),
            include("strings"),
            include("numbers"),
            (r"->|\*\*=?|//=?|<<=?|>>=?|[-+*/%@&|^]=?|[<>!=]=|[<>]|~", Operator),
            (r"=", Operator),
            (r"[()\[\]{}:,.;]", Punctuation),
            (r"[A-Za-z_]\w*", Name),
            (r".", Text),
        ],
        "strings": [
            (r'"""(?:[^"\\]|\\[\s\S]|"(?!""))*"""', String.Double),
            (r"'''(?:[^'\\]|\\[\s\S]|'(?!''))*'''", String.Single),
            (r'"(?:[^"\\\n]|\\.)*"', String.Double),
            (r"'(?:[^'\\\n]|\\.)*'", String.Single),
            (r'"(?:[^"\\\n]|\\.)*$', String.Double),  # unterminated, while typing
            (r"'(?:[^'\\\n]|\\.)*$", String.Single),
        ],
        "numbers": [
            (r"0[xX](_?[0-9a-fA-F])+", Number.Hex),
            (r"0[bB](_?[01])+", Number.Bin),
            (r"0[oO](_?[0-7])+", Number.Oct),
            (r"(\d(_?\d)*)?\.\d(_?\d)*([eE][-+]?\d(_?\d)*)?|\d(_?\d)*\.([eE][-+]?\d(_?\d)*)?|\d(_?\d)*[eE][-+]?\d(_?\d)*",
             Number.Float),
            (r"\d(_?\d)*", Number.Integer),
        ],
    }
