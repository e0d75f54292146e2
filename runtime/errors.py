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
HOLE = "E601"


def fail(code: str, message: str):
    raise GliaRuntimeError(code, message)


class CompiledRuntimeError(Exception):
    """Raised by compiled code: (code, message, site). The backend maps `site` to a source span."""
