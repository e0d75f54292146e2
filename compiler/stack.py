"""Running Glia code on a big stack: recursion as deep as the language allows must not crash Python."""
from __future__ import annotations

import sys
import threading


def run_with_big_stack(fn, stack_mb: int = 512):
    """Run `fn()` in a thread with a large stack so deep (but bounded) recursion cannot crash Python."""
    result: list = [None, None]

    def target():
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
        t.join()
    finally:
        threading.stack_size(old_size)
        sys.setrecursionlimit(old_limit)
    if result[1] is not None:
        raise result[1]
    return result[0]
