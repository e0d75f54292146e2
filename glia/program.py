"""A checked Glia program, callable from Python: what `glia.load`, `glia.compile` and `@glia.fn` give.

    prog = glia.load("graphs.glia")
    prog.bfs([[1], [2], []], 0)        # -> [0, 1, 2]
    prog.run(["arg"])                  # main(), as `glia run` does; returns the exit status
    help(prog.bfs)                     # the Glia signature

Functions are attributes (real Python functions with an `inspect.signature` and a docstring that
show the Glia signature); struct types are attributes too (`prog.Road(to=1, km=2.0)`). Arguments
and results cross the boundary as described in boundary.py. Execution goes through a backend:
`interp` (the reference interpreter) is the one there is; the registry `BACKENDS` is where the
compiled ones slot in.
"""
from __future__ import annotations

import collections.abc
import ctypes
import inspect
import os
import queue
import sys
import threading
from dataclasses import dataclass

import numpy as np

from glia.compiler import ast as A
from glia.compiler import ir
from glia.compiler.diagnostics import Diagnostic, GliaError, Note, Source
from glia.compiler.driver import check_source, main_args, prelude, read_source, sources_of
from glia.compiler.interp import Interpreter
from glia.compiler.sourcemap import SourceMap
from glia.compiler.types import FnT
from glia.runtime.params import is_numeric

from .boundary import HANDED_OVER, RECORD_NAMES, Boundary, GliaKeyError, GliaNotAvailable, Mismatch, boundary_error, \
    caller_location, python_hint, record_class, reserved_field

PRELUDE = "<prelude>"

TRAINING_LATER = ("training from the REPL is not built yet: train with `glia train FILE` or Program.train "
                  "(docs/training.md)")
SEARCH_LATER = ("search is not built yet: holes (`??`) and `choose(...)` are checked now and are filled by "
                "`glia synth` / Program.synthesize once the search issue lands (DESIGN.md §1.5)")
SAVE_LATER = "this program has no parameters to save: none of its functions calls a layer (dense, rnn_cell, ...)"


_NOT_CALLED = "{} is a prelude function this program does not call, so it is not in it (a program holds the " \
    "prelude functions its code calls)"


def _in_prelude(name) -> bool:
    return any(isinstance(it, A.FuncDef) and it.name == name for it in prelude()[0].items)


# ---- running on a big stack -------------------------------------------------------------------


class _BigStack:
    """One long-lived thread with a large stack, so deep (but bounded) Glia recursion cannot crash
    Python; calls are handed to it one at a time (a new thread per call costs ~0.4 ms, a hand-over to
    this one ~0.07 ms).
    A call made from inside it (a Python callback calling Glia again) runs there directly."""

    STACK_MB = 512

    def __init__(self):
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def run(self, fn):
        if threading.current_thread() is self._thread:
            return fn()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._start()
            box: list = [None, None]
            done = threading.Lock()  # released by the big-stack thread when the call is over
            done.acquire()
            old_limit = sys.getrecursionlimit()
            sys.setrecursionlimit(max(old_limit, 1_000_000))
            HANDED_OVER[self._thread.ident] = sys._getframe(1)  # (boundary.caller_location)
            # with compiled code loaded, Ctrl-C reaches it too (runtime/interrupt.py; not imported
            # otherwise: it loads Numba)
            interrupt = sys.modules.get("glia.runtime.interrupt")
            try:
                if interrupt is not None:
                    interrupt.arm(reset=True)
                self._jobs.put((fn, box, done))
                try:
                    done.acquire()
                except KeyboardInterrupt:  # stop the Glia code too, not only the wait for it
                    if interrupt is not None:  # compiled code stops by itself, at its next read
                        interrupt.press()
                    # (compiled code that read it is already on its way out: no second interrupt
                    # where it unwinds, and none for the next call when it has finished)
                    if not done.acquire(timeout=0.25 if interrupt is not None else 0):
                        self._interrupt()
                        done.acquire()
                    raise
            finally:
                HANDED_OVER.pop(self._thread.ident, None)
                sys.setrecursionlimit(old_limit)
        if box[1] is not None:
            interrupt = sys.modules.get("glia.runtime.interrupt")
            raise interrupt.settle(box[1]) if interrupt is not None else box[1]
        return box[0]

    def _start(self):
        old = threading.stack_size()
        threading.stack_size(self.STACK_MB * 1024 * 1024)
        try:
            self._thread = threading.Thread(target=self._loop, name="glia-big-stack", daemon=True)
            self._thread.start()
        finally:
            threading.stack_size(old)

    def _loop(self):
        from glia.compiler.stack import mark_big_stack

        mark_big_stack()
        while True:
            try:
                fn, box, done = self._jobs.get()
            except KeyboardInterrupt:  # an interrupt that came after its call had finished
                continue
            try:
                box[0] = fn()
            except BaseException as e:  # handed to the caller's thread
                box[1] = e.with_traceback(None) if isinstance(e, GliaError) else e
            finally:
                done.release()

    def _interrupt(self):
        tid = self._thread.ident if self._thread else None
        if tid is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid), ctypes.py_object(KeyboardInterrupt))


big_stack = _BigStack()


# ---- backends ---------------------------------------------------------------------------------


class InterpBackend:
    """The reference interpreter: quick to start (nothing is compiled), the definition of Glia."""

    name = "interp"

    def __init__(self, program: ir.Program, sources: dict[str, Source], source_map: SourceMap | None = None):
        self.interp = Interpreter(program, sources)
        self.rt_structs = self.interp.structs  # the runtime's record class of each struct

    def call(self, name: str, args: list):
        return big_stack.run(lambda: self.interp.call(name, args))


class CpuBackend(InterpBackend):
    """The interpreter, with each function the CPU backend can compile replaced by its compiled code
    (compiled on its first call, cached by content; compiler/cpu_calls.py). What cannot be compiled
    runs interpreted, and a note on stderr says why, once."""

    name = "cpu"

    def __init__(self, program: ir.Program, sources: dict[str, Source], source_map: SourceMap | None = None):
        super().__init__(program, sources)
        from glia.compiler.cpu_calls import CpuCalls

        CpuCalls(self.interp, sources, notes=note_once, source_map=source_map).install()


_noted: set[str] = set()


def note_once(line: str) -> None:
    if line not in _noted:
        _noted.add(line)
        sys.stdout.flush()
        sys.stderr.write(line + "\n")


BACKENDS: dict[str, type] = {"interp": InterpBackend, "cpu": CpuBackend}


def backend_class(name: str) -> type:
    cls = BACKENDS.get(name)
    if cls is None:
        raise boundary_error(f"backend '{name}' is not available; available: {', '.join(sorted(BACKENDS))}",
                             "E801", GliaNotAvailable)
    return cls


# ---- the program object -----------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionInfo:
    """What `f.glia` tells about a Glia function callable from Python."""

    name: str
    type: FnT
    params: tuple[str, ...]
    program: "Program"

    @property
    def signature(self) -> str:
        return glia_signature(self.name, self.params, self.type)

    def ir(self) -> str:
        """The function's typed IR, readably (compiler/irprint.py)."""
        return self.program.format_ir(self.name)


def glia_signature(name: str, params, t: FnT) -> str:
    ps = ", ".join(f"{p}: {pt}" for p, pt in zip(params, t.params))
    return f"def {name}({ps}) -> {t.ret}"


class Program:
    """A checked Glia program. Its functions and structs are attributes; see the module docstring."""

    def __init__(self, program: ir.Program, *, backend: str = "interp", source_map: SourceMap | None = None,
                 py_structs: dict[str, type] | None = None, module: str | None = None):
        self._ir = program
        self._source_map = source_map
        self._module = module or "glia.program"
        self._backend_name = backend
        self._backend = backend_class(backend)(program, sources_of(program), source_map)
        classes = dict(py_structs or {})
        for name, info in program.structs.items():
            if name not in classes:
                taken = next((f for f in info.fields if reserved_field(f)), None)
                if taken is not None:  # (Glia code may name a field so; the Python class cannot have it)
                    raise GliaError(Diagnostic("E102", f"struct {name}'s field '{taken}' names a part of its Python "
                                               f"class ({', '.join(sorted(RECORD_NAMES))}): rename the field to "
                                               "use the program from Python", info.span, "call", program.source))
                classes[name] = record_class(name, info.fields, {"__doc__": _struct_doc(info)}, module=self._module)
        self._structs = classes
        fields = {n: (info.fields, info.types) for n, info in program.structs.items()}
        self._boundary = Boundary(fields, classes, self._backend.rt_structs)
        self._functions: dict[str, object] = {}

    # -- what is in it
    @property
    def ir(self) -> ir.Program:
        """The typed IR (compiler/ir.py)."""
        return self._ir

    @property
    def source(self) -> Source | None:
        return self._ir.source

    @property
    def backend(self) -> str:
        return self._backend_name

    def function_names(self) -> list[str]:
        """The program's own functions (not the prelude's, which are there too: `prog.bfs`)."""
        return [n for n, f in self._ir.functions.items() if f.source_name != PRELUDE and not n.startswith("$")]

    @property
    def structs(self) -> dict[str, type]:
        return dict(self._structs)

    @property
    def params(self) -> "Params":
        """The layers' parameters by name (`digit.dense#1.W`): numpy views of the program's flat
        parameter buffer, so writing into one changes what the program computes; then batch_norm's
        running statistics (`digit.batch_norm#1.running_mean`), which are not trained.
        `prog.params[name] = array` copies an array of the same shape in."""
        from glia.compiler.params import param_specs

        interp = self._interp()
        if interp is None or not param_specs(self._ir):
            return Params({})
        from glia.compiler.autodiff import param_store

        return Params(param_store(interp).named())

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        fn = self._functions.get(name)
        if fn is not None:
            return fn
        if name in self._ir.functions and not name.startswith("$"):
            fn = self._functions[name] = self._make_function(name)
            return fn
        if name in self._structs:
            return self._structs[name]
        if _in_prelude(name):
            raise AttributeError(_NOT_CALLED.format(name))
        src = self.source.name if self.source else "this program"
        raise AttributeError(f"{src} has no function or struct named {name!r}; it has: "
                             f"{', '.join(self.function_names() + list(self._structs)) or 'nothing'}")

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self.function_names()) | set(self._structs))

    def __repr__(self) -> str:
        src = self._module if self._source_map is not None else self.source.name if self.source else "?"
        return f"<glia.Program {src}: {', '.join(self.function_names()) or 'no functions'}>"

    def where(self, name: str) -> str:
        """`file:line` of a function's definition, in the user's own files."""
        f = self._ir.functions[name]
        if self._source_map is not None and f.source_name == self._source_map.name:
            found = self._source_map.locate(f.span)
            if found is not None:
                return f"{found[0].name}:{found[1].line}"
        return f"{f.source_name}:{f.span.line}"

    def format_ir(self, name: str) -> str:
        """A function's typed IR, readably (compiler/irprint.py)."""
        from glia.compiler.irprint import format_function

        return format_function(self._ir.functions[name], self.where(name))

    # -- running
    def run(self, argv: list[str] | None = None) -> int:
        """Call `main` as `glia run` does (main() or main(args: list[str])); returns the exit status."""
        if argv is not None and (isinstance(argv, (str, bytes)) or not isinstance(argv, (list, tuple))
                                 or not all(isinstance(a, str) for a in argv)):
            raise boundary_error(f"run takes the command-line arguments as a list of strings, not {argv!r:.60}")
        try:
            args = main_args(self._ir, list(argv or []))
            result = self._backend.call("main", args)
        except GliaError as e:
            raise self._located(e) from None
        return result if isinstance(result, int) and not isinstance(result, bool) else 0

    def call(self, name: str, *args, **kwargs):
        """`prog.call("bfs", adj, 0)` is `prog.bfs(adj, 0)`."""
        if name not in self._ir.functions or name.startswith("$"):
            if _in_prelude(name):
                raise boundary_error(_NOT_CALLED.format(name), "E101")
            raise boundary_error(f"no function named {name!r} in this program", "E101")
        return self._call(name, args, kwargs)

    def map_batch(self, name: str, *columns, device: str = "auto", notes=None) -> np.ndarray:
        """`name` applied to every example of a batch: one 1-D array per argument (int, float, f32
        or bool values), one result per example, as a numpy array. On `device="cuda"` (or "auto"
        with a GPU) one GPU thread runs each example (compiler/backend_cuda.py); a function the GPU
        lowering cannot take yet runs on the CPU, and `notes` (default: stderr) says why. The
        results, and the error of the first failing example, are the interpreter's."""
        from glia.compiler.backend_cuda import map_batch
        from glia.compiler.device import KEYWORD, resolve

        notes = notes or (lambda line: sys.stderr.write(line + "\n"))
        try:
            return map_batch(self._ir, name, columns, resolve(device, asked=KEYWORD), sources_of(self._ir), notes)
        except GliaError as e:
            raise self._located(e) from None

    def _call(self, name: str, args: tuple, kwargs: dict):
        __tracebackhide__ = True  # IPython and pytest leave this frame out of tracebacks
        f = self._ir.functions[name]
        t: FnT = f.type
        values = self._bind(name, f.params, args, kwargs)
        dims: dict = {}
        converted = []
        for p, pt, v in zip(f.params, t.params, values):
            try:
                converted.append(self._convert(pt, lambda: self._boundary.to_glia(pt)(v, dims), f"argument '{p}'"))
            except Mismatch as m:
                raise boundary_error(m.message(f"argument '{p}' of {name}()", p, pt)) from None
        try:
            result = self._backend.call(name, converted)
        except GliaError as e:
            raise self._located(e) from None
        return self._convert(t.ret, lambda: self._boundary.to_python(t.ret)(result), f"the result of {name}()")

    def _convert(self, t, thunk, what: str):
        """thunk(), a conversion of a value of type `t` across the boundary: on the big stack when `t`
        holds a tree, whose conversion recurses as deeply as the tree goes (a chain of 200 trees passed
        Python's recursion limit); E201 past what that stack allows."""
        if not self._boundary.deep(t):
            return thunk()
        try:
            return big_stack.run(thunk)
        except RecursionError:
            raise boundary_error(f"{what} is nested too deeply to cross the Python boundary (type {t}); "
                                 f"keep such a value inside Glia code", "E201") from None

    def _bind(self, name, params, args, kwargs) -> list:
        if len(args) > len(params):
            raise boundary_error(f"{name}() takes {len(params)} argument{'s' if len(params) != 1 else ''} "
                                 f"({', '.join(params)}), got {len(args)}", "E202")
        values = list(args) + [_MISSING] * (len(params) - len(args))
        for k, v in kwargs.items():
            if k not in params:
                raise boundary_error(f"{name}() has no parameter {k!r}; its parameters are {', '.join(params)}",
                                     "E103")
            i = params.index(k)
            if values[i] is not _MISSING:
                raise boundary_error(f"{name}() got argument {k!r} twice", "E202")
            values[i] = v
        missing = [p for p, v in zip(params, values) if v is _MISSING]
        if missing:
            raise boundary_error(f"{name}() is missing argument{'s' if len(missing) > 1 else ''} "
                                 f"{', '.join(missing)}", "E202")
        return values

    def _located(self, e: GliaError) -> GliaError:
        """A runtime error, in the user's coordinates, with a note naming the Python line that called."""
        if self._source_map is not None:
            e = self._source_map.remap(e)
        d = e.diagnostic
        source, span = caller_location()
        if span.line > 0 and len(d.notes) < 9:
            d = Diagnostic(d.code, d.message, d.span, d.stage, d.source,
                           d.notes + (Note("called from Python here", span, source),))
        return type(e)(d)

    def _make_function(self, name: str):
        f = self._ir.functions[name]
        prog = self

        def call(*args, **kwargs):
            __tracebackhide__ = True
            return prog._call(name, args, kwargs)

        call.__name__ = call.__qualname__ = name
        call.__module__ = self._module
        call.__signature__ = self.signature(name)
        call.__doc__ = f"{glia_signature(name, f.params, f.type)}\n\nA Glia function ({self.where(name)}), run by " \
                       f"the {self._backend_name} backend."
        call.glia = FunctionInfo(name, f.type, f.params, self)
        return call

    def signature(self, name: str) -> inspect.Signature:
        f = self._ir.functions[name]
        hint = lambda t: python_hint(t, self._structs)  # noqa: E731
        params = [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=hint(t))
                  for p, t in zip(f.params, f.type.params)]
        return inspect.Signature(params, return_annotation=hint(f.type.ret))

    # -- training (compiler/training.py, docs/training.md)
    def _interp(self):
        return getattr(self._backend, "interp", None)

    def train(self, fn: str | None = None, x=None, y=None, *, data: str | None = None, **settings) -> dict:
        """Train `fn` (default: the program's `train` block) on arrays `x`, `y` or on a .npz `data` file.
        Keywords are the settings of a `train` block (loss="cross_entropy", optimizer="adam", lr=0.01,
        epochs=20, batch=32, validation=0.1, seed=0, schedule="cosine", clip=1.0 (0: none), early_stopping=3,
        checkpoint="run.ckpt.npz", shuffle=True) plus resume=, progress= (default False here) and
        engine= ("auto", "compiled" or "tape"). Returns the history: per-epoch lists `loss`, `acc`,
        `val_loss`, `val_acc`, `lr`, `engine`, `stopped` (why it stopped early, else ""), and after early
        stopping `best_epoch`, the index of the epoch whose parameters were restored. The parameters are updated in place (`.params`)."""
        from glia.compiler import training

        interp = self._interp()
        if interp is None:
            raise boundary_error(f"training runs on the interpreter; this program uses backend '{self._backend_name}'",
                                 "E801", GliaNotAvailable)
        info = getattr(fn, "glia", None)
        if info is not None and getattr(info, "program", None) is self:  # prog.train(prog.model, ...): its name
            fn = info.name
        elif fn is not None and not isinstance(fn, str):
            raise boundary_error(f"train() takes the name of the function to train, e.g. prog.train('model', x, y); "
                                 f"found {type(fn).__name__}", "E703")
        try:
            spec = next((t for t in self._ir.trains if fn is None or t.func == fn), None)
            o = training.options_from_spec(spec, self._ir) if spec is not None else training.Options(fn=fn or "")
            if not o.fn:
                raise boundary_error("name the function to train: prog.train('f', x, y, ...)", "E703")
            o.progress = False
            try:
                o = training.apply_keywords(o, settings)
            except training.UnknownSetting as e:
                raise boundary_error(f"train(): {e}", "E103") from None
            except ValueError as e:
                raise boundary_error(f"train(): {e}", "E703") from None
            if (x is None) != (y is None):
                raise boundary_error("give the training data as both x and y (or data='file.npz')", "E703")
            if x is not None and data is not None:
                raise boundary_error("give the training data as arrays x, y or as data='file.npz', not both", "E703")
            if data is not None:
                o = training.override(o, "data", str(data))  # (not the block's: an error names this file)
            if x is None and not o.data:
                raise boundary_error("give the training data: prog.train('f', x, y) or data='file.npz'", "E703")
            return big_stack.run(lambda: training.train(interp, o, x, y))
        except GliaError as e:
            raise e.with_traceback(None) from None

    def save(self, path) -> None:
        """Save the parameters to a .npz file (one array per name; numpy.load reads it), atomically."""
        interp = self._interp()
        if interp is None or not self.params:
            raise boundary_error(SAVE_LATER, "E801", GliaNotAvailable)
        from glia.compiler.autodiff import param_store
        from glia.runtime.params import check_writable

        def save():
            check_writable(str(path))  # (a mistyped folder is said, not made: as `glia train --out`)
            param_store(interp).save(str(path))
        self._runtime_call(save)

    def load_params(self, path) -> None:
        """Load parameters saved by `save` or `glia train` (every name, with its shape, must be there)."""
        interp = self._interp()
        from glia.compiler.autodiff import param_store

        self._runtime_call(lambda: param_store(interp).load(str(path)))

    def _runtime_call(self, thunk):
        from glia.runtime.errors import GliaRuntimeError

        try:
            thunk()
        except GliaRuntimeError as e:
            raise boundary_error(e.message, e.code) from None

    def synthesize(self, *, strategy: str = "auto", timeout: float | None = None, seed: int = 0,
                   max_candidates: int | None = None, cache: bool = True, train: str = "", data: str = "", x=None, y=None, eta: int = 3,
                   trials: int = 27, max_epochs: int = 0, metric: str = "val_loss", device: str = "cpu",
                   scheduler: str = "halving") -> "Program":
        """Fill every hole (`??`) from the examples and settle every `choose(...)`; returns a new Program
        made from the completed source (its `.source.text`), checked and verified on the examples by
        the interpreter. `.synthesis` on the result lists what each hole became. GliaError when no
        program is found.

        Choices outside functions with examples are settled by training when the program has a `train`
        block, or `train="fn"` names the function (with `data="file.npz"` or arrays `x`, `y`):
        successive halving (keep the best 1/`eta` of each rung; at most `trials` configurations; the
        last rung trains `max_epochs`, default the block's epochs; ranked by `metric`, "val_loss" or
        "val_acc"; `scheduler="hyperband"` runs several brackets of it). `.search` on the result holds every trial, and `.params` the winner's trained
        weights (its trial on the highest rung). `timeout` defaults to 10 s per hole and 300 s for the
        training search; `max_candidates` (a search's bound) to the CLI's --max-candidates default. `device="cuda"` evaluates bottom-up's bit-vector candidates on the GPU (the same
        answers)."""
        from glia.compiler import choose_train, synth
        from glia.runtime.search import STRATEGIES, Config

        most = {} if max_candidates is None else {"max_candidates": max_candidates}  # (default: Config's, as the CLI's)
        bad = Config(strategy, 10.0 if timeout is None else timeout, seed=seed, **most).mistake(STRATEGIES) or \
            choose_train.settings_mistake(eta, trials, max_epochs) or \
            (None if isinstance(cache, (bool, np.bool_)) else f"cache must be True or False, not {cache!r}") or \
            (None if isinstance(train, str) else f"train must name a function (a str), not {train!r}") or \
            (None if isinstance(data, (str, os.PathLike)) else f"data must be a .npz file's path, not {data!r}")
        if bad:
            raise boundary_error(bad, "E604")
        if (x is None) != (y is None):
            raise boundary_error("give the training data as both x and y (or data='file.npz')", "E703")
        from glia.compiler.device import KEYWORD, resolve

        try:
            kind = resolve(device, asked=KEYWORD).kind
        except GliaError as e:
            raise e.with_traceback(None) from None
        seed, eta, trials, max_epochs = int(seed), int(eta), int(trials), int(max_epochs)  # numpy's too
        most = {k: int(v) for k, v in most.items()}  # (numpy's too)
        config = Config(strategy, 10.0 if timeout is None else float(timeout), seed=seed, device=kind, **most)
        settings = choose_train.Settings(train, str(data), eta, trials, max_epochs, metric, seed,
                                         choose_train.DEFAULT_TIMEOUT if timeout is None else float(timeout),
                                         scheduler)
        search = params = None
        try:
            choose_train.check_settings(settings)
            if self._source_map is None:  # a .glia text: fill it, check it again, run the examples
                fills, completed = synth.solve_checked(self._ir, config, use_cache=cache)
                settled = choose_train.settle(completed, config, settings, x=x, y=y, use_cache=cache)
                chosen, search, params = settled.chosen, settled.search, settled.params
                if chosen:
                    text = synth.choose_source(synth.fill_source(self._ir.source.text, fills), chosen)
                    completed = check_source(Source(self._ir.source.name, text))
                prog = Program(completed, backend=self._backend_name, module=self._module)
            else:  # @glia.fn functions: the holes of the same IR are filled in the interpreter, its choices
                fills = synth.solve(self._ir, config, use_cache=False)  # settled in the IR itself
                settled = self._ir
                if self._ir.choices:
                    _choices_need_no_text(self._ir, settings, x)
                    settled = synth.choose_in_ir(self._ir, synth.settle_choices(self._ir, config, fills=fills))
                prog = Program(settled, backend=self._backend_name, source_map=self._source_map,
                               py_structs=self._structs, module=self._module)
                synth.install(prog._backend.interp, settled, fills)
        except GliaError as e:
            raise (self._source_map.remap(e) if self._source_map is not None else e).with_traceback(None) from None
        prog.synthesis = [{"function": f.func, "expression": f.expr, "candidates": f.candidates,
                           "seconds": f.seconds, "cached": f.cached, "reached": f.reached} for f in fills]
        prog.search = search
        if params is not None:  # the winner's weights, from its trial on the highest rung
            from glia.compiler.autodiff import param_store

            param_store(prog._backend.interp).assign(params)
        return prog



_MISSING = object()


class Params(collections.abc.Mapping):
    """A program's parameters by name: reading gives the live numpy view, assigning copies in."""

    def __init__(self, views: dict):
        self._views = views

    def __getitem__(self, name: str):
        view = self._views.get(name) if isinstance(name, str) else None
        if view is None:
            raise self._missing(name)
        return view

    def __contains__(self, name) -> bool:  # (Mapping's would build the located error of a missing name)
        return name in self._views

    def get(self, name, default=None):
        return self._views.get(name, default)

    def _missing(self, name) -> GliaError:
        """A KeyError (as a mapping gives) that is a located E703 naming the parameters there are."""
        return boundary_error(f"no parameter named {name!r}; the parameters are "
                              f"{', '.join(self._views) or 'none (the program has no layers)'}", "E703", GliaKeyError)

    def __iter__(self):
        return iter(self._views)

    def __len__(self) -> int:
        return len(self._views)

    def __setitem__(self, name: str, value) -> None:
        view = self._views.get(name) if isinstance(name, str) else None
        if view is None:
            raise self._missing(name)
        if isinstance(value, np.ma.MaskedArray):  # (np.asarray would drop the mask and keep what it hides)
            raise boundary_error(f"parameter {name!r}: the value given is a numpy masked array; fill it first "
                                 "(a.filled(...))", "E703")
        try:
            a = np.asarray(value)
        except Exception as e:  # a torch tensor that requires grad, an object numpy cannot read
            raise boundary_error(f"parameter {name!r}: the value given cannot be read as an array "
                                 f"({type(e).__name__}: {e})", "E703") from None
        if not is_numeric(a):
            raise boundary_error(f"parameter {name!r} holds numbers ({view.dtype}); the array given holds "
                                 f"{a.dtype} values", "E703")
        if a.shape != view.shape:
            raise boundary_error(f"parameter {name!r} has shape {view.shape}; the array given has shape {a.shape}",
                                 "E703")
        view[...] = a

    def __repr__(self) -> str:
        return "Params(" + ", ".join(f"{n}: {v.dtype}{list(v.shape)}" for n, v in self._views.items()) + ")"


def _choices_need_no_text(program: ir.Program, settings, x) -> None:
    """@glia.fn choices are settled against the examples in the IR; a layer's width, or settling by
    training, rewrites and checks Glia source text, which a Python module does not have yet (E801)."""
    from glia.compiler import choose_train, synth

    static = synth.static_choices(program, program.choices)
    if static or choose_train.has_training(program, settings) or x is not None:
        what = "a layer's size" if static else "a training"
        raise GliaNotAvailable(Diagnostic(
            "E801", f"settling glia.choose(...) by {what} needs Glia source: write the model in a .glia file "
            "(glia.load) for now; @glia.fn choices are settled against examples", (static or program.choices)[0].span,
            "synth", program.source))


def _struct_doc(info: ir.StructInfo) -> str:
    fields = "\n".join(f"    {n}: {t}" for n, t in zip(info.fields, info.types))
    return f"struct {info.name}:\n{fields}\n\nA Glia struct: an immutable record (use ._replace(field=...))."


def load(path: str, *, backend: str = "interp", params: str | None = None) -> Program:
    """Read, parse and check a .glia file; returns a Program whose functions are callable.
    `params`: a parameter file written by `prog.save` or `glia train` to load into it."""
    try:
        prog = Program(check_source(read_source(str(path))), backend=backend, module=str(path))
    except GliaError as e:
        raise e.with_traceback(None) from None
    if params is not None:
        prog.load_params(params)
    return prog


def compile(text: str, name: str = "<string>", *, backend: str = "interp") -> Program:  # noqa: A001
    """Parse and check Glia source text; diagnostics name it `name`."""
    if not isinstance(text, str):  # (it was an AttributeError from deep inside: 'int' has no 'endswith')
        hint = " (decode it first: text.decode())" if isinstance(text, (bytes, bytearray)) else \
            "; glia.load(path) reads a .glia file"
        raise boundary_error(f"glia.compile takes Glia source text, a str, not {type(text).__name__}{hint}")
    try:
        return Program(check_source(Source(name, text)), backend=backend, module=name)
    except GliaError as e:
        raise e.with_traceback(None) from None
