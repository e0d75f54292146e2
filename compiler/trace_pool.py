"""Compiling a training run's new traces at once: this process one, worker processes the others.

A recursion over trees has a trace per tree shape (25 for examples/neural/tree_rnn.glia), and Numba
takes seconds over each (typing, lowering, LLVM), one after the other in one process. The trace
engine (trace_compile.py) collects the traces a minibatch finds and hands them here at its end:

    the traces' modules (written to the cache folder by the engine)
      -> a queue: this process takes one at a time and compiles it as ever (`compile_one`); each worker
         thread takes one, sends it to its worker process, which imports the module and calls `step`
         (and `guards`) on the same example arguments, so Numba compiles them into its cache
      -> when the queue is empty and every worker has answered, the engine loads the workers' traces
         from Numba's cache (well under a second each) in the order they were found

So a run ends with the same traces, in the same order, from the same minibatch on, whatever the
number of processes: the parameters do not depend on it (tests/test_trace_pool.py).

Workers are started with `python -m glia.compiler.trace_pool` (not multiprocessing: its spawn would
import the user's main script again), in their own session so that Ctrl-C reaches only this process,
which stops them (and on Linux the kernel ends them with it, however it ends: the command line ends
at a Ctrl-C without closing anything). They live until the training run ends (`close`); one whose compile fails or dies
says why, and this process compiles that trace itself, so a Numba error reads as it does without
workers. At most one fewer than the CPUs this process may use (it compiles too), and at most
`MAX_WORKERS`; `GLIA_COMPILE_JOBS=N` caps the processes compiling at once (1: this process alone).
"""
from __future__ import annotations

import ctypes
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading

MAX_WORKERS = 7  # a worker holds Numba and LLVM: about 0.3 GB


def processes() -> int:
    """How many processes may compile at once (this one included)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # (macOS, Windows)
        cpus = os.cpu_count() or 1
    asked = os.environ.get("GLIA_COMPILE_JOBS", "")
    n = int(asked) if asked.isdigit() and int(asked) > 0 else cpus
    return max(1, min(n, cpus, MAX_WORKERS + 1))


class Job:
    """One trace's compile: its module's file and the arguments `step` and `guards` are called with."""

    def __init__(self, item, path: str, step_args: tuple, guards_args: tuple | None):
        self.item, self.path, self.step_args, self.guards_args = item, path, step_args, guards_args
        self.error = ""  # a worker's failure (this process then compiles the trace itself)


class Pool:
    """Worker processes for one training run (started when first needed, stopped by `close`)."""

    def __init__(self):
        self.workers: list[subprocess.Popen] = []

    def compile(self, jobs: list[Job], compile_one) -> list[Job]:
        """Compile every job: `compile_one(job)` here, the others in the workers; returns the jobs the
        workers compiled (into Numba's cache) or failed, in their order, for the caller to load."""
        want = min(processes() - 1, len(jobs) - 1)
        if want <= 0:
            for job in jobs:
                compile_one(job)
            return []
        for w in [w for w in self.workers if w.poll() is not None]:  # one that died is sent no more
            _stop(w)
            self.workers.remove(w)
        while len(self.workers) < want:
            self.workers.append(_start())
        todo: queue.SimpleQueue = queue.SimpleQueue()
        for job in jobs:
            todo.put(job)
        elsewhere: list[Job] = []
        threads = [threading.Thread(target=_serve, args=(w, todo, elsewhere), daemon=True)
                   for w in self.workers[:want]]
        try:
            for t in threads:
                t.start()
            while True:
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    break
                compile_one(job)
            for t in threads:
                t.join()
        except BaseException:  # Ctrl-C, or compile_one's own error: the workers' compiles are not waited for
            self.close()
            raise
        order = {id(j): i for i, j in enumerate(jobs)}
        return sorted(elsewhere, key=lambda j: order[id(j)])

    def close(self) -> None:
        for w in self.workers:
            _stop(w)
        self.workers = []


def _stop(worker: subprocess.Popen) -> None:
    try:
        worker.kill()
        worker.wait(timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        pass
    for f in (worker.stdin, worker.stdout):
        try:
            f.close()
        except OSError:
            pass


def _start() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "glia.compiler.trace_pool", str(os.getpid())], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
                            close_fds=True)


def _serve(worker: subprocess.Popen, todo: queue.SimpleQueue, done: list) -> None:
    """A worker thread: jobs from the queue to its process until the queue is empty."""
    while True:
        try:
            job = todo.get_nowait()
        except queue.Empty:
            return
        try:
            _send(worker.stdin, (job.path, job.step_args, job.guards_args))
            job.error = _receive(worker.stdout)
        except (OSError, EOFError, pickle.PickleError, struct.error) as e:
            job.error = f"the worker process stopped ({type(e).__name__})"
            done.append(job)
            return  # the others go to this process and the other workers
        done.append(job)


def _send(f, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    f.write(struct.pack("<Q", len(data)) + data)
    f.flush()


def _receive(f):
    head = f.read(8)
    if len(head) < 8:
        raise EOFError
    (n,) = struct.unpack("<Q", head)
    data = f.read(n)
    if len(data) < n:
        raise EOFError
    return pickle.loads(data)


def first_call(path: str, step, guards, step_args: tuple, guards_args: tuple | None) -> None:
    """The call on one example that compiles (or loads) a trace module's `step` and `guards`, then its
    `.ok` beside it: compiled on this machine, so later runs load it, whatever their length."""
    step(*step_args)
    if guards_args is not None:
        guards(*guards_args)
    ok = path + ".ok"
    if not os.path.exists(ok):
        open(ok, "w").close()


def compile_in_worker(path: str, step_args: tuple, guards_args: tuple | None) -> str:
    """What a worker does with a job: the engine's first call, in this process, so that Numba
    compiles the trace into its cache; '' or why it failed."""
    from .cache import import_module

    key = os.path.basename(path)[len("glia_trace_"):-len(".py")]
    try:
        mod = import_module(key, path, "glia_trace_")
        first_call(path, mod.step, getattr(mod, "guards", None), step_args, guards_args)
    except Exception as e:  # noqa: BLE001 (the engine compiles it again in its own process, and says why)
        return f"{type(e).__name__}: {str(e)[:200]}"
    return ""


def _die_with(parent: int) -> None:
    """End this worker when the process that started it ends, however it ends (Ctrl-C on the command
    line ends `glia` at once, without closing its pool): at once on Linux, else at its next read."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # (it ended before that)
        sys.exit(0)


def _worker_main() -> None:
    """python -m glia.compiler.trace_pool PARENT_PID: jobs from stdin, answers to stdout, until stdin
    closes (or the parent ends)."""
    if len(sys.argv) > 1 and sys.argv[1].isdigit():
        _die_with(int(sys.argv[1]))
    stdin = sys.stdin.buffer
    stdout = os.fdopen(os.dup(1), "wb")  # the answers' pipe, on a descriptor of its own: nothing a
    os.dup2(2, 1)  # compile prints, from Python or from C, reaches it (file descriptor 1 is stderr's now)
    while True:
        try:
            path, step_args, guards_args = _receive(stdin)
        except EOFError:
            return
        _send(stdout, compile_in_worker(path, step_args, guards_args))


if __name__ == "__main__":
    _worker_main()
