"""Running Glia code on a big stack: recursion as deep as the language allows must not crash Python."""
from __future__ import annotations

import signal
import sys
import threading


_local = threading.local()  # .big: this thread has a big stack (run_with_big_stack, glia.program)


def on_big_stack(fn):
    """`fn()`, on a big stack: right here when this thread has one, else in a new thread that has.
    For the recursive passes over a program (checking, lowering), whose depth follows the program's
    nesting (a chain `1 + 1 + ... + 1` of thousands of terms is that deep)."""
    if getattr(_local, "big", False):
        return fn()
    return run_with_big_stack(fn)


def mark_big_stack():
    """Note that the calling thread has a big stack (and runs with a high recursion limit)."""
    _local.big = True


# Set by the command line (glia/cli.py): a Ctrl-C during compiled code ends the process.
EXIT_ON_INTERRUPT = False


def run_with_big_stack(fn, stack_mb: int = 512, compiled: bool = False):
    """Run `fn()` in a thread with a large stack so deep (but bounded) recursion cannot crash Python.

    `compiled`: fn runs compiled code, which holds the GIL and checks no signals, so Python's own
    Ctrl-C handler would never run while it does; from the command line (EXIT_ON_INTERRUPT) the
    signal's default action, ending the process, applies while it runs, and elsewhere compiled code
    reads Ctrl-C itself (runtime/interrupt.py)."""
    if compiled and EXIT_ON_INTERRUPT and threading.current_thread() is threading.main_thread():
        sys.stdout.flush()
        old = signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            return run_with_big_stack(fn, stack_mb)
        finally:
            signal.signal(signal.SIGINT, old)
    if compiled:  # elsewhere (Python) Ctrl-C stops compiled code at its next loop pass or call
        from glia.runtime import interrupt

        interrupt.arm(reset=True)
        try:
            return _on_new_thread(fn, stack_mb, interrupt.press)
        except KeyboardInterrupt as e:
            raise interrupt.settle(e) from None
    return _on_new_thread(fn, stack_mb)


def _on_new_thread(fn, stack_mb: int, on_interrupt=None):
    """fn() on a new thread with a `stack_mb` stack. `on_interrupt`: a Ctrl-C while waiting for it
    calls it (compiled code reads Ctrl-C itself: runtime/interrupt.py) and waits for fn to stop."""
    result: list = [None, None]

    def target():
        mark_big_stack()
        try:
            result[0] = fn()
        except BaseException as e:  # re-raised in the caller's thread
            result[1] = e

    old_limit = sys.getrecursionlimit()
    old_size = threading.stack_size()
    sys.setrecursionlimit(max(old_limit, 1_000_000))
    threading.stack_size(stack_mb * 1024 * 1024)
    try:
        t = threading.Thread(target=target, name="glia-main")
        t.start()
        try:
            t.join()
        except KeyboardInterrupt:
            if on_interrupt is None:
                raise
            on_interrupt()
            t.join()
            raise
    finally:
        threading.stack_size(old_size)
        sys.setrecursionlimit(old_limit)
    if result[1] is not None:
        raise result[1]
    return result[0]
