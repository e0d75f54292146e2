"""Ctrl-C in compiled code called from Python or the REPL.

Compiled code holds the GIL and checks no signals. Python's own SIGINT handler only notes the signal
for the interpreter to act on between bytecodes, in the main thread, so while a compiled call ran,
Ctrl-C did nothing until it returned, and a call that never returned could only be killed, with the
session.

Once compiled code has run from Python (`arm`, at each call from Python and each compiled call),
SIGINT goes first to a small compiled handler (`_on_sigint`) that counts the presses in a C int, then
to Python's own handler, as before. Compiled code reads that count (`poll`) at each pass of its loops
and in functions that call themselves (`poll_deep`), and raises `Interrupted`, a KeyboardInterrupt,
when it is set: the call ends as an interrupted interpreted call does (and Python's handler raises
KeyboardInterrupt in the thread waiting for it). A loop that reads nothing (an innermost `for` over a range, whose passes are counted beforehand,
and the runtime's own kernels) runs to its end first; Ctrl-\\ (SIGQUIT) ends the process.

The command line does not use this: there a Ctrl-C during compiled code ends the process at once
(compiler/stack.py, EXIT_ON_INTERRUPT).
"""
from __future__ import annotations

import _signal
import ctypes
import signal
import sys
import threading

import llvmlite.binding as ll
from llvmlite import ir as llvm_ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

PRESSES = "glia_interrupt_presses"  # the count's symbol in compiled code (resolved below, per process)
_presses = ctypes.c_int32(0)
ll.add_symbol(PRESSES, ctypes.addressof(_presses))
PYTHON_HANDLER = "glia_python_sigint"  # the address of Python's C handler, which ours calls after counting
_python_handler = ctypes.c_void_p(0)
ll.add_symbol(PYTHON_HANDLER, ctypes.addressof(_python_handler))
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform != "win32" else None

I32 = llvm_ir.IntType(32)


class Interrupted(KeyboardInterrupt):
    """Raised by compiled code that read a Ctrl-C."""


def _external(builder, name, ty):
    """The C variable `name`, declared in the module being built (the JIT links it to ours, above)."""
    gv = builder.module.globals.get(name)
    if gv is None:
        gv = llvm_ir.GlobalVariable(builder.module, ty, name)
        gv.linkage = "external"
    return gv


def _presses_ref(builder):
    return _external(builder, PRESSES, I32)


@intrinsic
def poll(typingctx):
    """Raise Interrupted if Ctrl-C was pressed: one load (atomic, so LLVM reads it at every pass rather
    than once before a loop) and a branch that is never taken."""
    def codegen(context, builder, sig, args):
        _raise_if_pressed(context, builder)
        return context.get_dummy_value()
    return types.none(), codegen


def _raise_if_pressed(context, builder):
    n = builder.load_atomic(_presses_ref(builder), "monotonic", 4)
    with cgutils.if_unlikely(builder, builder.icmp_signed("!=", n, I32(0))):
        context.call_conv.return_user_exc(builder, Interrupted, ())


@intrinsic
def poll_deep(typingctx, depth):
    """poll() at two levels in eight of a recursion (depth 0 or 1 modulo 8: a function that runs every
    other level, having its own calls inlined once (compiler/lower_numba.py, unrollable), sees depths of
    one parity only). A recursion that runs long either goes deep, through those levels, or runs loops,
    which read Ctrl-C themselves. The read is out of line: the common case is one test of the depth's
    low bits (a read at every level cost fib 15%)."""
    def codegen(context, builder, sig, args):
        d = args[0]
        low = builder.and_(d, d.type(6))
        with cgutils.if_unlikely(builder, builder.icmp_signed("==", low, d.type(0))):
            _raise_if_pressed(context, builder)
        return context.get_dummy_value()
    return types.none(types.int64), codegen


@intrinsic
def _count_press(typingctx, sig):
    """The handler's body: count the press, then hand the signal to Python's handler (async-signal-safe:
    an atomic add and a call of the C function Python installed)."""
    def codegen(context, builder, signature, args):
        builder.atomic_rmw("add", _presses_ref(builder), I32(1), "seq_cst")
        fnty = llvm_ir.FunctionType(llvm_ir.VoidType(), [I32])
        python = builder.load(_external(builder, PYTHON_HANDLER, fnty.as_pointer()))
        builder.call(python, [args[0]])
        return context.get_dummy_value()
    return types.none(types.int32), codegen


def _on_sigint(sig):
    _count_press(sig)


_handler = None  # _on_sigint compiled to a C function (a Numba cfunc), on first use


def _handler_address() -> int:
    global _handler
    if _handler is None:
        from numba import cfunc

        _handler = cfunc(types.void(types.int32), cache=True)(_on_sigint)
    return _handler.address


# ---- installing the handler -----------------------------------------------------------------------
# sigaction through libc, not signal.signal: a compiled call may run in any thread (the REPL's and
# glia.fn's run on a big-stack thread), and signal.signal works only in the main one. The action is
# Python's own with only its handler replaced (the first field of struct sigaction on Linux and macOS);
# ours calls Python's, so nothing else changes, and it stays. It is never taken out: taking it out
# after each call would be bookkeeping that a KeyboardInterrupt (raised between any two bytecodes of
# the waiting thread) could cut short. Python's signal.signal(SIGINT, ...) replaces it, and arm puts it
# back in front of Python's handler when that is the default one again.
_ACTION_BYTES = 512  # more than struct sigaction needs on any platform Glia runs on
_lock = threading.Lock()
_action = ctypes.create_string_buffer(_ACTION_BYTES)  # SIGINT's action as read (under _lock)
_action_handler = ctypes.c_void_p.from_buffer(_action)  # its first field


def arm(reset: bool = False) -> None:
    """Make sure Ctrl-C reaches compiled code: our handler in front of Python's, when SIGINT is Python's
    default KeyboardInterrupt (a program that set its own handler, or ignores Ctrl-C, keeps it as it
    is). `reset` forgets earlier presses: at the start of a call from Python, in the thread that makes
    it (a press before is Python's KeyboardInterrupt there). Once installed, under 2 us: one sigaction
    read into a buffer kept for it (each call from Python arms)."""
    if reset:
        _presses.value = 0
    # (_signal's getsignal: signal.getsignal wraps it to turn SIG_DFL and SIG_IGN into enums, 2.5 us)
    if _libc is None or _signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return
    with _lock:
        if _libc.sigaction(signal.SIGINT, None, _action) != 0:
            return
        current = _action_handler.value
        ours = _handler_address()
        if current == ours or not current or current == 1:  # (1: SIG_IGN)
            return
        _python_handler.value = current
        _action_handler.value = ours
        _libc.sigaction(signal.SIGINT, _action, None)


def press() -> None:
    """A Ctrl-C that Python's handler received (a KeyboardInterrupt in the thread waiting for Glia code),
    for compiled code to read: it may have come before our handler was installed."""
    _presses.value += 1


def settle(exc: BaseException) -> BaseException:
    """What to raise for `exc`, the exception of a call that the calling thread waited for. Each press
    that compiled code read reached Python's handler too (ours calls it), which raises its own
    KeyboardInterrupt in the main thread at its next check: there, that one is raised now, in place of
    `exc`, rather than a second one later (in the REPL, while it reads the next line)."""
    if isinstance(exc, KeyboardInterrupt) and threading.current_thread() is threading.main_thread():
        _check()  # a pending SIGINT raises KeyboardInterrupt on entry to a Python function
    return exc


def _check() -> None:
    pass
