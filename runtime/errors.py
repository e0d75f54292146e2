"""Runtime errors raised by kernels. The backend that called the kernel attaches the source span."""


class GliaRuntimeError(Exception):
    """A defined runtime error of a Glia program (see docs/language.md, codes E5xx/E6xx)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


INDEX = "E501"
KEY = "E502"
ZERO_DIV = "E503"
OVERFLOW = "E504"
RECURSION = "E505"
VALUE = "E506"
EMPTY = "E507"
ASSERTION = "E508"
FILE = "E509"
MEMORY = "E510"
OUT_OF_MEMORY = "out of memory: the machine could not give an allocation the program asked for"
HOLE = "E601"


def fail(code: str, message: str):
    raise GliaRuntimeError(code, message)


class CompiledRuntimeError(Exception):
    """Raised by compiled code: (code, message, site). The backend maps `site` to a source span.

    The subclasses below are raised with the parts of a message and write it here, in Python:
    compiled code that builds a message (string concatenation, `str` of an int) links Numba's string
    machinery into every function that can fail, and compiling that again in each one made a
    program's first compile several times slower (docs/backends.md, "Compile time")."""

    def __reduce__(self):
        return (CompiledRuntimeError, self.args)


class Overflow(CompiledRuntimeError):
    def __init__(self, op, site):
        super().__init__(OVERFLOW, f"integer overflow in {op} (the result does not fit in 64 bits)", site)


class IndexOutOfRange(CompiledRuntimeError):
    def __init__(self, i, n, what, site):
        super().__init__(INDEX, f"index {i} out of range for a {what} of length {n}", site)


class ReprError(CompiledRuntimeError):
    """`before + repr(x) + after`, for an int, bool or str `x` (whose repr is Python's), or a tuple,
    which may stand for a struct: the backend writes it as Glia does from the type of the value at
    `site` (shown_message)."""

    def __init__(self, code, before, x, after, site):
        super().__init__(code, before + repr(x) + after, site)
        self.parts = (before, x, after)


def shown_message(e: CompiledRuntimeError, spec) -> str:
    """The message of `e`, its value written as Glia writes a value of `spec` (the struct a tuple
    stands for) when it is a ReprError and `spec` is known."""
    if spec is None or not isinstance(e, ReprError):
        return e.args[1]
    from .fmt import to_repr
    from .nbbox import to_interp

    before, x, after = e.parts
    return before + to_repr(to_interp(x, spec)) + after


class TooDeep(CompiledRuntimeError):
    def __init__(self, name, limit, site):
        super().__init__(RECURSION, f"recursion too deep: more than {limit} nested calls (in {name})", site)


# The error of a comparison that never ends (two values that hold themselves, `a.kids.append(a)`)
# or goes too deep: the interpreter's when Python's stack runs out, compiled code's past
# nbrt.MAX_NESTING boxes (lower_numba's eq_fn).
NESTED_TOO_DEEP = "recursion too deep: the values compared hold themselves, or are nested too deeply"


# The same for writing a value (print, str): one nested deeper than the interpreter's stack, or than
# nbrt.MAX_NESTING lists and dicts in compiled code (lower_numba's show_parts).
WRITTEN_TOO_DEEP = "recursion too deep: the value written is nested too deeply"


class NestedTooDeep(CompiledRuntimeError):
    def __init__(self, site, message=NESTED_TOO_DEEP):
        super().__init__(RECURSION, message, site)
