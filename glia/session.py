"""An interactive Glia session: what the REPL runs each entry through (repl.py is its terminal face).

Definitions (`def`, `struct`, `examples`, `train`) accumulate; a later definition of the same name
replaces the earlier one, and every entry is checked together with all of them, by the same checker
as a file. Statements and expressions run in a session environment of variables:

- an entry of statements is checked as the body of a function `$entry` whose parameters are the
  session's variables (so it can read, mutate and rebind them, with their types) and which returns
  the final values of all its top-level variables; the session keeps those. Nothing earlier is ever
  run again.
- `x = expr` on its own (what a file calls a global) binds the variable `x`, with the type of
  `expr` (a new type replaces the old one).
- the session's variables are also globals of the program (read-only, as in files), so functions
  defined in the session can read them: each is declared `x: T = $session()` for the checker, and
  the interpreter is handed the value itself (`$session` is never run).

Several texts feed one program (entries, loaded files); compiler/sourcemap.py keeps each diagnostic
pointing into the text it is about (`<repl:3>:1:5`, `lib.glia:12:3`).
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import sys
import time
import traceback
from typing import TextIO

from glia.compiler import ast as A
from glia.compiler import ir
from glia.compiler.builtins import DICT_METHODS, FUNCS, LIST_METHODS, MATH_CONSTS, MATH_FUNCS, SET_METHODS, \
    STR_METHODS
from glia.compiler.checker import assigned_names, check
from glia.compiler.diagnostics import REPORT_HINT, Diagnostic, GliaError, Note, Source, Span, a_or_an
from glia.compiler.driver import prelude, read_source, sources_of
from glia.compiler.entry_syntax import Entry, entry_complete, parse_entry, starts_piece
from glia.compiler.sourcemap import SourceMap
from glia.compiler.types import NONE, STR, DictT, FnT, ListT, Scalar, SetT, StructT, TensorT, TupleT, children
from glia.runtime.fmt import to_repr

from . import repl_learning as learning
from .program import BACKENDS, InterpBackend, big_stack

NOWHERE = Span(0, 0, 0, 0)
_DEL_NAMES = re.compile(r"\s*del\s+[A-Za-z_]\w*(\s*,\s*[A-Za-z_]\w*)*\s*(#[^\n]*)?\s*")  # `del x, f`: names
SESSION_FN = "$session"
ENTRY_FN = "$entry"
RESULT = "$result"
SESSION_NAME = "<glia repl session>"  # the virtual source every session text lies in

# `def $session[T]() -> T: assert False`: the declared source of every session variable's value.
# (its type parameter a name no program can write: a user's `struct T` is no clash)
_SESSION_DEF = A.FuncDef(SESSION_FN, ("$T",), (), A.TName("$T", NOWHERE),
                         (A.Assert(A.BoolLit(False, NOWHERE), None, NOWHERE),), NOWHERE, NOWHERE)

KEYWORDS = ("def", "struct", "if", "elif", "else", "while", "for", "in", "not", "and", "or", "return", "break",
            "continue", "pass", "lambda", "examples", "train", "on", "assert", "del", "is", "True", "False", "None")

COMMANDS = {
    ":type": ":type EXPR       the type of an expression (not run)",
    ":ir": ":ir NAME         the typed IR of a function",
    ":emit": ":emit NAME       the code a backend generates for a function",
    ":load": ":load FILE       load a .glia file's definitions and globals",
    ":reload": ":reload          load again every file loaded so far",
    ":time": ":time EXPR       run an expression and say how long it took",
    ":defs": ":defs            this session's definitions and variables",
    ":params": ":params          the program's trained parameters",
    ":train": ":train NAME [data=FILE.npz] [epochs=N] [lr=X] ...  train a function's layers",
    ":synth": ":synth NAME [timeout=S]  fill a function's hole / choices from its examples",
    ":backend": ":backend [NAME]  show or choose what runs the functions entries call (interp, cpu)",
    ":help": ":help            this list",
    ":quit": ":quit            leave (also Ctrl-D)",
}

_NO_ARGUMENT = (":quit", ":q", ":exit", ":help", ":h", ":?", ":reload", ":defs", ":params")


class Session:
    def __init__(self, out: TextIO | None = None, err: TextIO | None = None, backend: str = "interp"):
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.backend = backend
        self.files = SourceMap(SESSION_NAME)
        self.entries = 0
        self.defs: dict[str, A.Item] = {}  # structs and functions, by name
        self.examples: dict[str, A.ExamplesDef] = {}
        self.trains: dict[str, A.TrainDef] = {}
        self.vars: dict[str, tuple[object, object]] = {}  # name -> (type, value)
        self.loaded: list[str] = []
        self.program: ir.Program | None = None  # the last program checked (definitions and variables)
        self._struct_classes: dict[str, tuple[tuple, type]] = {}  # name -> (fields, runtime class)
        self.learned = learning.SessionParams()  # the layers' parameters, kept across entries (:train)
        self._notes: set[str] = set()
        self.quit = False
        self.errors = 0

    # ---- entry points -------------------------------------------------------------------------
    def execute(self, text: str, name: str | None = None) -> bool:
        """Run one entry (code, or a `:command`); print results and diagnostics. False on error."""
        try:
            stripped = text.strip()
            if not stripped:
                return True
            with contextlib.redirect_stdout(self.out):  # what the program prints goes where results go
                # on the big stack: the passes over an entry recurse as deep as it nests (a sum of
                # thousands of terms), as Glia code does when it runs
                if stripped.startswith(":"):
                    return big_stack.run(lambda: self.command(stripped))
                return big_stack.run(lambda: self.run_text(text, name))
        except GliaError as e:
            self.report(e)
        except KeyboardInterrupt:
            self.err.write("interrupted\n")
        except BrokenPipeError:  # the reader of the output went away (`glia repl < x | head`): the session ends
            raise
        except Exception:  # a bug in Glia; the session goes on
            self.err.write(f"glia: internal error ({REPORT_HINT}):\n{traceback.format_exc()}")
        self.errors += 1
        return False

    def report(self, e: GliaError) -> None:
        self.out.flush()
        self.err.write(self.files.remap(e).render() + "\n")
        self.err.flush()

    def run_text(self, text: str, name: str | None = None, as_file: bool = False) -> bool:
        """Run a text: definitions, globals and statements, in order. `as_file`: a loaded file, whose
        globals are defined once each, as `glia check` wants (an entry may bind one twice)."""
        self.entries += 1
        source = Source(name or f"<repl:{self.entries}>", text)
        base = self.files.add(source)
        if _DEL_NAMES.fullmatch(text):
            self._delete(text, base)
            return True
        try:
            whole, whole_error = self._parse(text, base), None
        except GliaError as e:
            whole, whole_error = None, e
        # a `del x` of names among other pieces is a piece of its own (Glia code's del takes an item)
        deletes = not as_file and re.search(r"(?m)^del\b", text) is not None
        if whole is not None and not deletes and (as_file or not _repeats_a_name(whole.items)):
            entries = [whole]  # one entry: all checked together
        else:  # a paste of pieces: each runs in turn, as typed, consecutive definitions together
            try:
                entries = together([_DeleteNames(chunk, base + offset) if _DEL_NAMES.fullmatch(chunk) else
                                    self._parse(chunk, base + offset) for offset, chunk in split_chunks(text)])
            except GliaError:
                entries = []
            if whole is not None and len(entries) < 2:
                entries = [whole]  # (its error: x defined twice)
            elif whole is None and len(entries) < 2:
                raise whole_error from None  # the error as the whole text reads
        for entry in entries:
            self._run_entry(entry)
        return True

    def _parse(self, text: str, base: int):
        return parse_entry(Source(self.files.name, "\n" * base + text))

    # ---- definitions and statements -----------------------------------------------------------
    def _run_entry(self, entry) -> None:
        if isinstance(entry, _DeleteNames):
            self._delete(entry.text, entry.base)
            return
        if entry.stmts:
            self._reject_return(entry.stmts)
            self._run_stmts(entry.stmts, show=True)
            return
        defs = [it for it in entry.items if not isinstance(it, A.GlobalDef)]
        globals_ = [it for it in entry.items if isinstance(it, A.GlobalDef)]
        if defs:
            self._define(defs, globals_)
        for i, g in enumerate(globals_):
            self._bind_global(g, globals_[i + 1:])

    def _define(self, items: list[A.Item], globals_: list[A.GlobalDef]) -> None:
        """Check the new definitions with everything else; keep them only if all is well."""
        new_defs = dict(self.defs)
        new_examples, new_trains = dict(self.examples), dict(self.trains)
        for it in items:
            if isinstance(it, (A.StructDef, A.FuncDef)):
                if it.name in self.vars:
                    raise GliaError(Diagnostic("E102", f"'{it.name}' is a variable of this session; a "
                                               "definition needs a name of its own", A.name_span(it), "names",
                                               self.files.virtual))
                new_defs.pop(it.name, None)  # a redefinition goes to the end, after what it may use
                new_defs[it.name] = it
            elif isinstance(it, A.ExamplesDef):
                new_examples[it.func] = it
            elif isinstance(it, A.TrainDef):
                new_trains[it.func] = it
        redefined = {it.name for it in items if isinstance(it, (A.StructDef, A.FuncDef)) and it.name in self.defs}
        program, dropped_items = self._check_dropping(new_defs, new_examples, new_trains, items, globals_, redefined)
        changed = _changed_structs(self.program, program, {it.name for it in items if isinstance(it, A.StructDef)})
        dropped = [n for n, (t, _) in self.vars.items() if _mentions(t, changed)]
        self.defs, self.examples, self.trains, self.program = new_defs, new_examples, new_trains, program
        for it, e, with_it in dropped_items:
            self.out.write(_dropped_note(it, e, redefined, with_it) + "\n")
        for n in dropped:
            del self.vars[n]
            self.out.write(f"note: variable {n} was dropped: its type uses a struct that was redefined\n")

    def _check_dropping(self, new_defs, new_examples, new_trains, items, globals_, redefined):
        """Check the session with new items: an earlier definition (or examples, train block) that no
        longer checks with what `items` redefine is dropped from the dicts, as a redefined struct drops
        its variables; an error in the new items themselves refuses them. -> (program, what was dropped)"""
        dropped_items: list[tuple[A.Item, GliaError, list[str]]] = []
        while True:
            try:
                program = self._check(new_defs, new_examples, new_trains, extra=globals_,
                                      skip_vars={g.name for g in globals_}, remap=False)
                break
            except GliaError as e:
                with_it: list[str] = []
                old = _item_at(e, list(new_defs.values()) + list(new_examples.values()) + list(new_trains.values()))
                if not redefined or old is None or any(old is it for it in items):
                    raise self.files.remap(e) from None
                if isinstance(old, A.ExamplesDef):
                    del new_examples[old.func]
                elif isinstance(old, A.TrainDef):
                    del new_trains[old.func]
                else:
                    del new_defs[old.name]
                    with_it = [b for b, d in (("examples", new_examples), ("train block", new_trains))
                               if d.pop(old.name, None) is not None]
                dropped_items.append((old, self.files.remap(e), with_it))
        return program, dropped_items

    def _delete(self, text: str, base: int) -> None:
        """`del x, f`: forget session variables and definitions, as Python's `del` of a name does (in Glia
        code `del` takes an item, `del xs[i]`). What is left must still check without them."""
        lines = text.split("\n")
        line = next(i for i, ln in enumerate(lines) if ln.strip())
        start = lines[line].index("del") + 3
        defs, examples, trains, kept = dict(self.defs), dict(self.examples), dict(self.trains), dict(self.vars)
        structs: dict[str, Span] = {}
        for m in re.finditer(r"[A-Za-z_]\w*", lines[line][start:].split("#")[0]):
            name = m.group()
            col = start + m.start() + 1
            span = Span(base + line + 1, col, base + line + 1, col + len(name))
            if name in kept:
                del kept[name]
            elif name in defs:
                if isinstance(defs.pop(name), A.StructDef):
                    structs[name] = span
                examples.pop(name, None)
                trains.pop(name, None)
            elif name in FUNCS or name in MATH_CONSTS or name in _prelude_functions() or name == "math":
                raise GliaError(Diagnostic("E101", f"'{name}' is built in: `del` forgets the session's own "
                                           "variables and definitions", span, "names", self.files.virtual))
            else:
                raise GliaError(Diagnostic("E101", f"undefined name '{name}'", span, "names", self.files.virtual))
        for name, span in structs.items():
            holder = next((v for v, (t, _) in kept.items() if _mentions(t, {name})), None)
            if holder is not None:
                raise GliaError(Diagnostic("E102", f"variable {holder} holds a {name}: del {holder} too", span,
                                           "names", self.files.virtual))
        before, self.vars = self.vars, kept
        try:
            self.program = self._check(defs, examples, trains)
        except GliaError as e:
            self.vars = before  # a definition left uses one of them: its diagnostic says where
            whole = Span(base + line + 1, start - 2, base + line + 1, len(lines[line].rstrip()) + 1)
            note = Note("nothing was deleted: the definitions above still use it", whole, self.files.virtual)
            d = e.diagnostic
            raise self.files.remap(GliaError(dataclasses.replace(d, notes=d.notes + (note,)))) from None
        self.defs, self.examples, self.trains = defs, examples, trains

    def _bind_global(self, g: A.GlobalDef, later: list[A.GlobalDef]) -> None:
        """`x = expr` (or `x: T = expr`): (re)bind the session variable x to the value of expr, with
        its type. `later`: the globals that follow it in the same text (definitions may use them)."""
        if g.name in self.defs:
            raise GliaError(Diagnostic("E102", f"'{g.name}' is already defined (as a {_kind(self.defs[g.name])})",
                                       g.span, "names", self.files.virtual))
        value_stmt = (A.AnnAssign(A.Name(RESULT, g.span), g.annotation, g.value, g.span) if g.annotation is not None
                      else A.Assign((A.Name(RESULT, g.span),), g.value, g.span))
        later_names = {l.name for l in later}
        # definitions may use x: declared as the variable it is, or, the first time, as the global it is
        declared = list(later) if g.name in self.vars else [g] + list(later)
        results = self._run_stmts((value_stmt,), show=False, skip_vars=later_names, extra=declared)
        t, v = results[RESULT]
        old = self.vars.get(g.name)
        self.vars.pop(g.name, None)
        self.vars[g.name] = (t, v)
        if old is not None and old[0] != t:  # the definitions must still agree with the variable's new type
            try:
                self.program = self._check(self.defs, self.examples, self.trains, extra=later, skip_vars=later_names)
            except GliaError as e:
                del self.vars[g.name]
                self.vars[g.name] = old
                d = e.diagnostic
                note = Note(f"{g.name} stays {a_or_an(old[0])}: the definitions above use it as one, and this would "
                            f"make it {a_or_an(t)}", g.span, self.files.virtual)
                raise self.files.remap(GliaError(dataclasses.replace(d, notes=d.notes + (note,)))) from None

    def _run_stmts(self, stmts, show: bool, skip_vars: set[str] = frozenset(), extra=()) -> dict:
        """Run statements as the body of `$entry`; keep the variables they leave; print the value of a
        last expression statement. Returns {name: (type, value)} of the entry's variables."""
        stmts = tuple(stmts)
        if show and isinstance(stmts[-1], A.ExprStmt):
            last = stmts[-1]
            stmts = stmts[:-1] + (A.Assign((A.Name(RESULT, last.span),), last.expr, last.span),)
        for name, span in assigned_names(stmts):
            if name in self.defs:
                raise GliaError(Diagnostic("E102", f"'{name}' is a {_kind(self.defs[name])} of this session; "
                                           "a variable needs a name of its own", span, "names", self.files.virtual))
        params = [(n, t) for n, (t, _) in self.vars.items() if n not in skip_vars]
        entry = A.FuncDef(ENTRY_FN, (), tuple(A.Param(n, type_expr(t), NOWHERE) for n, t in params), None, stmts,
                          _span_of(stmts), NOWHERE)
        program = self._check(self.defs, self.examples, self.trains, extra=list(extra) + [entry],
                              skip_vars=skip_vars)
        names = [n for n, _ in params] + [n for n, _ in assigned_names(stmts)]
        program, kept = _returning_locals(program, names)
        values = self._call(program, [v for n, (t, v) in self.vars.items() if n not in skip_vars])
        results = {}
        for (name, t), v in zip(kept, values):
            if v is None and t != NONE:
                continue  # assigned on a path that was not taken
            results[name] = (t, v)
        for name, tv in results.items():
            if name != RESULT and not name.startswith("$"):
                self.vars[name] = tv
        if show and RESULT in results:
            t, v = results[RESULT]
            if t != NONE:
                self.out.write(f"{to_repr(v)} : {t}\n")
        return results

    def _check(self, defs, examples, trains, extra=(), skip_vars=frozenset(), remap=True) -> ir.Program:
        placeholders = [A.GlobalDef(n, type_expr(t), A.Call(A.Name(SESSION_FN, NOWHERE), (), (), NOWHERE), NOWHERE)
                        for n, (t, _) in self.vars.items() if n not in skip_vars]
        items = list(defs.values()) + list(examples.values()) + list(trains.values()) + placeholders + \
            [_SESSION_DEF] + list(extra)
        try:
            return check(A.Module(tuple(items), NOWHERE), self.files.virtual, prelude())
        except GliaError as e:
            raise (self.files.remap(e) if remap else e) from None

    def _call(self, program: ir.Program, args: list):
        """Run `$entry` with the session's variables as globals (nothing else is evaluated)."""
        backend = InterpBackend(dataclasses.replace(program, globals=()), sources_of(program))
        for name, info in program.structs.items():  # keep one record class per struct across entries
            known = self._struct_classes.get(name)
            if known is not None and known[0] == info.fields:
                backend.rt_structs[name] = known[1]
            else:
                self._struct_classes[name] = (info.fields, backend.rt_structs[name])
        backend.interp.globals.update({n: v for n, (t, v) in self.vars.items()})
        backend.interp.params = self.learned.store_for(program)
        if self.backend == "cpu":
            from glia.compiler.cpu_calls import CpuCalls

            CpuCalls(backend.interp, sources_of(program), notes=self._note, program=program,
                     source_map=self.files).install()
        return backend.call(ENTRY_FN, args)

    def _reject_return(self, stmts) -> None:
        for s in stmts:
            match s:
                case A.Return(span=span):
                    raise GliaError(Diagnostic("E005", "'return' outside a function", span, "syntax",
                                               self.files.virtual))
                case A.If(body=body, orelse=orelse):
                    self._reject_return(body)
                    self._reject_return(orelse)
                case A.While(body=body) | A.For(body=body):
                    self._reject_return(body)

    # ---- commands -----------------------------------------------------------------------------
    def command(self, line: str) -> bool:
        cmd, _, arg = line.partition(" ")
        arg = arg.strip()
        if arg and cmd in _NO_ARGUMENT:  # `:quit now` left, `:help me` listed: the word meant something
            return self._fail(f"{cmd} takes no argument (found '{arg}'); :help lists the commands")
        match cmd:
            case ":quit" | ":q" | ":exit":
                self.quit = True
            case ":help" | ":h" | ":?":
                self.out.write("Enter definitions, statements or expressions; an expression's value is printed "
                               "with its type.\n" + "\n".join("  " + h for h in COMMANDS.values()) + "\n")
            case ":type":
                t = self.type_of(self._need(arg, ":type EXPR"))
                self.out.write(f"{t}\n")
            case ":ir" | ":emit":
                self.show_ir(self._need(arg, f"{cmd} NAME"), emit=cmd == ":emit")
            case ":load":
                self.load(self._need(arg, ":load FILE"))
            case ":reload":
                if not self.loaded:
                    self.out.write("nothing to reload: no file was loaded with :load\n")
                for path in list(self.loaded):
                    self.load(path)
            case ":time":
                self.time(self._need(arg, ":time EXPR"))
            case ":defs":
                self.show_defs()
            case ":params":
                learning.show_params(self)
            case ":train" | ":synth":
                try:
                    (learning.train if cmd == ":train" else learning.synth)(self, arg)
                except learning.CommandError as e:
                    return self._fail(str(e))
            case ":backend":
                if not arg:
                    self.out.write(f"backend: {self.backend} (available: {', '.join(sorted(BACKENDS))})\n")
                elif arg not in BACKENDS:
                    return self._fail(f"unknown backend '{arg}'; choose one of {', '.join(sorted(BACKENDS))}")
                else:
                    self.backend = arg
                    self.out.write(f"backend: {arg}\n")
            case _:
                return self._fail(f"unknown command {cmd}; :help lists the commands")
        return True

    @property
    def params(self) -> dict:
        """The session's parameters by name (what `:params` lists)."""
        return self.learned.values()

    def _note(self, line: str) -> None:
        """A backend's note (why a function runs interpreted), once per session."""
        if line not in self._notes:
            self._notes.add(line)
            self.out.flush()
            self.err.write(line + "\n")

    def _need(self, arg: str, usage: str) -> str:
        if not arg:
            raise _Usage(f"usage: {usage}")
        return arg

    def _fail(self, message: str) -> bool:
        self.err.write(f"error: {message}\n")
        self.errors += 1
        return False


    def type_of(self, text: str):
        self.entries += 1
        base = self.files.add(Source(f"<repl:{self.entries}>", text))
        entry = self._parse(text, base)
        if not (len(entry.stmts) == 1 and isinstance(entry.stmts[0], A.ExprStmt)):
            raise _Usage(":type takes one expression")
        e = entry.stmts[0]
        if isinstance(e.expr, A.Name) and e.expr.id not in self.vars:  # a generic function: its type, with T
            f = self._function(e.expr.id)
            if f is not None and f.type_params:
                return f"{f.type}  (generic in {', '.join(f.type_params)})"
        params = [(n, t) for n, (t, _) in self.vars.items()]
        fd = A.FuncDef(ENTRY_FN, (), tuple(A.Param(n, type_expr(t), NOWHERE) for n, t in params), None,
                       (A.Assign((A.Name(RESULT, e.span),), e.expr, e.span),), e.span, NOWHERE)
        f = self._check(self.defs, self.examples, self.trains, extra=[fd]).functions[ENTRY_FN]
        return f.slot_types[f.slot_names.index(RESULT)]

    def _function(self, name: str, with_program: bool = False):
        """The typed function `name` of the session or the prelude (None if there is none), and, with
        `with_program`, a program that holds it."""
        program = self.program or self._check(self.defs, self.examples, self.trains)
        if name not in program.functions and name in _prelude_functions():
            program = self._check(self.defs, self.examples, self.trains, extra=[_call_of(_prelude_def(name))])
        f = program.functions.get(name)
        return (program, f) if with_program else f

    def show_ir(self, name: str, emit: bool) -> None:
        from glia.compiler.irprint import format_function

        program, f = self._function(name, with_program=True)
        if (f is None or name.startswith("$")) and name in FUNCS:
            raise _Usage(f"{name} is a builtin: each backend implements it itself, so it has no typed IR or "
                         "generated code of its own")
        if f is None or name.startswith("$"):
            what = ("a struct" if isinstance(self.defs.get(name), A.StructDef) else "a variable" if name in self.vars
                    else None)  # (`:ir P` said there is no P)
            raise _Usage(f"{name} is {what}, not a function: :ir and :emit show functions" if what else
                         f"no function named {name!r}; :defs lists this session's definitions")
        where = None
        if f.source_name == self.files.name:
            found = self.files.locate(f.span)
            where = f"{found[0].name}:{found[1].line}" if found else None
        if emit:
            generated = self._generated(program, f)
            if generated is not None:
                self.out.write(generated + "\n")
                return
        self.out.write(format_function(f, where) + "\n")

    def _generated(self, program: ir.Program, f: ir.Function) -> str | None:
        """The CPU backend's code for `f` (None, after saying why, when there is none to show)."""
        try:
            from glia.compiler.backend_cpu import runtime_hash
            from glia.compiler.lower_numba import FunctionLowerer, ModuleLowerer, Unsupported
        except ImportError:
            self.out.write("# the compiled CPU backend is not there yet; the reference interpreter runs the "
                           "typed IR itself:\n")
            return None
        if f.type_params:
            tps = ", ".join(f.type_params)
            self.out.write(f"# {f.name} is generic: the CPU backend compiles a copy of it for each binding of {tps} "
                           f"its calls make ({f.name}[int], ...), with its compiled callers; the reference "
                           "interpreter runs the typed IR:\n")
            return None
        lowerer = ModuleLowerer(program, runtime_hash())
        try:
            lowerer.prepare(f.name)
            text = FunctionLowerer(lowerer, f).lower()
        except Unsupported as u:
            found = self.files.locate(u.span) if u.source_name == self.files.name else None
            at = f" (at {found[0].name}:{found[1].line}:{found[1].col})" if found else ""
            self.out.write(f"# the CPU backend cannot compile {u.what} yet{at}; the reference interpreter runs "
                           "the typed IR:\n")
            return None

        def real_line(m):
            found = self.files.locate(Span(int(m.group(2)), 1, int(m.group(2)), 2))
            return f"{m.group(1)}{found[0].name}:{found[1].line}" if found else m.group(0)
        if f.source_name == self.files.name:  # lines of the session's texts, not of the prelude
            text = re.sub(r"(# line )(\d+)", real_line, text)
            text = re.sub(rf"(at ){re.escape(self.files.name)}:(\d+)", real_line, text)
        return (f"# {f.name}, as the CPU backend generates it (Numba; REPL entries themselves run in the "
                f"reference interpreter)\n{text}")

    def load(self, path: str) -> None:
        source = read_source(os.path.expanduser(path))
        self.run_text(source.text, source.name, as_file=True)
        if path not in self.loaded:
            self.loaded.append(path)
        self.out.write(f"loaded {path}\n")

    def time(self, text: str) -> None:
        t0 = time.perf_counter()
        self.run_text(text)
        dt = time.perf_counter() - t0
        self.out.write(f"time: {_duration(dt)} (checking and running)\n")

    def show_defs(self) -> None:
        lines = []
        for name, it in self.defs.items():
            if isinstance(it, A.StructDef):
                lines.append(f"struct {name}")
            elif self.program is not None and name in self.program.functions:
                f = self.program.functions[name]
                lines.append(f"def {name}({', '.join(f'{p}: {t}' for p, t in zip(f.params, f.type.params))}) "
                             f"-> {f.type.ret}")
        for name, (t, v) in self.vars.items():
            lines.append(f"{name} : {t}")
        self.out.write("\n".join(lines) + "\n" if lines else "nothing defined yet\n")

    # ---- completion -------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Every name an entry can use: keywords, builtins, the prelude, definitions, variables."""
        return sorted(set(KEYWORDS) | set(FUNCS) | set(MATH_CONSTS) | {"math"} | _prelude_functions() | set(self.defs)
                      | set(self.vars))

    def attributes(self, name: str) -> list[str]:
        """What may follow `name.`: methods of a variable's type, a struct's fields, math's names."""
        if name == "math":
            return sorted(set(MATH_FUNCS) | set(MATH_CONSTS) | {"hypot", "atan2", "isnan", "isinf"})
        if name not in self.vars:
            return []
        t = self.vars[name][0]
        match t:
            case ListT():
                return list(LIST_METHODS)
            case DictT():
                return list(DICT_METHODS)
            case SetT():
                return list(SET_METHODS)
            case StructT(sname):
                it = self.defs.get(sname)
                return [f.name for f in it.fields] if isinstance(it, A.StructDef) else []
        return list(STR_METHODS) if t == STR else []


@dataclasses.dataclass(frozen=True)
class _DeleteNames:
    """A piece `del x, f` of a paste (Session._delete), among the entries `together` groups."""
    text: str
    base: int
    items = ()
    stmts = ()


class _Usage(GliaError):
    """A command used wrongly (not a diagnostic about code)."""

    def __init__(self, message: str):
        super().__init__(Diagnostic("E001", message, NOWHERE, "repl", None))

    def render(self) -> str:
        return f"error: {self.diagnostic.message}"


# ---- helpers ----------------------------------------------------------------------------------


def together(entries: list[Entry]) -> list[Entry]:
    """Consecutive entries of definitions and globals as one (so functions may call each other and
    read the globals that follow them, as in a file), up to a name that comes a second time (`x = 1`
    then `x = x + 1` rebind x, as typed one after the other; a struct defined again replaces it)."""
    out: list[Entry] = []
    for e in entries:
        last = out[-1] if out else None
        if e.items and last is not None and last.items and not _repeats_a_name(last.items + e.items):
            out[-1] = Entry(last.items + e.items, ())
        else:
            out.append(e)
    return out


def _repeats_a_name(items) -> bool:
    """Does a name come twice (a global bound again, a function or struct redefined, a second examples
    or train block for one function)? Then the pieces are entered one after the other."""
    keys = [(type(it).__name__, it.func) if isinstance(it, (A.ExamplesDef, A.TrainDef)) else
            ("name", getattr(it, "name", None)) for it in items]
    return len(keys) != len(set(keys))


def split_chunks(text: str) -> list[tuple[int, str]]:
    """Cut a text into top-level pieces that are complete on their own (a definition, a statement),
    each with the number of lines before it: a paste of definitions followed by calls."""
    lines = text.split("\n")
    chunks: list[tuple[int, list[str]]] = []
    for i, line in enumerate(lines):
        if chunks and not (starts_piece(line) and entry_complete("\n".join(chunks[-1][1]))):
            chunks[-1][1].append(line)
        else:
            chunks.append((i, [line]))
    return [(i, "\n".join(ls)) for i, ls in chunks if "\n".join(ls).strip()]


def type_expr(t) -> A.TypeExpr:
    """A checked type written back as a type expression (to declare session variables)."""
    match t:
        case Scalar(name):
            return A.TName(name, NOWHERE)
        case ListT(e):
            return A.TApp("list", (type_expr(e),), NOWHERE)
        case SetT(e):
            return A.TApp("set", (type_expr(e),), NOWHERE)
        case DictT(k, v):
            return A.TApp("dict", (type_expr(k), type_expr(v)), NOWHERE)
        case TupleT(items):
            return A.TTuple(tuple(type_expr(i) for i in items), NOWHERE)
        case StructT(name):
            return A.TName(name, NOWHERE)
        case FnT(params, ret):
            return A.TFn(tuple(type_expr(p) for p in params), type_expr(ret), NOWHERE)
        case TensorT(dtype, shape):
            dims = tuple(A.TDim(d, NOWHERE) if isinstance(d, int) else A.TName(str(d), NOWHERE) for d in shape)
            return A.TApp("f32" if dtype.name == "f32" else "f64", dims, NOWHERE)
    raise ValueError(f"no type expression for {t}")


def _returning_locals(program: ir.Program, names: list[str]):
    """`$entry` with `return (v1, v2, ...)` of its top-level variables appended; and [(name, type)]."""
    f = program.functions[ENTRY_FN]
    kept, seen = [], set()
    for n in names:
        if n not in seen and n in f.slot_names:
            seen.add(n)
            slot = f.slot_names.index(n)  # top-level variables get the first slot of their name
            kept.append((n, slot, f.slot_types[slot]))
    span = f.span
    values = tuple(ir.Local(slot, n, t, span) for n, slot, t in kept)
    ret_t = TupleT(tuple(t for _, _, t in kept))
    body = f.body + (ir.Return(ir.MakeTuple(values, ret_t, span), span),)
    new_f = dataclasses.replace(f, body=body, type=FnT(f.type.params, ret_t))
    program = dataclasses.replace(program, functions={**program.functions, ENTRY_FN: new_f})
    return program, [(n, t) for n, _, t in kept]


def _changed_structs(old: ir.Program | None, new: ir.Program, redefined: set[str]) -> set[str]:
    """The structs whose values made before `new` no longer fit: those redefined with other fields or
    field types, and those holding one of them (struct A holds a B: B's change changes A's values)."""
    def shape(info: ir.StructInfo):
        return info.fields, info.types
    changed = {n for n in redefined if old is None or n not in old.structs or shape(old.structs[n]) !=
               shape(new.structs[n])}
    grew = bool(changed)
    while grew:
        holders = {n for n, info in new.structs.items()
                   if n not in changed and any(_mentions(t, changed) for t in info.types)}
        changed |= holders
        grew = bool(holders)
    return changed


def _mentions(t, struct_names: set[str]) -> bool:
    if isinstance(t, StructT):
        return t.name in struct_names
    return any(_mentions(c, struct_names) for c in children(t))


def _item_at(e: GliaError, items: list[A.Item]) -> A.Item | None:
    """The item of the session's virtual source a diagnostic lies in, if any."""
    d = e.diagnostic
    if d.source is None or d.source.name != SESSION_NAME or d.span.line <= 0:
        return None
    at = (d.span.line, d.span.col)
    return next((it for it in items if (it.span.line, it.span.col) <= at < (it.span.end_line, it.span.end_col)), None)


def _dropped_note(it: A.Item, e: GliaError, redefined: set[str], with_it: list[str]) -> str:
    """The note for an earlier item dropped because it no longer checks with the redefined names."""
    match it:
        case A.ExamplesDef(func=f) if f in redefined:
            return f"note: the examples of {f} were dropped: they do not fit its new definition"
        case A.ExamplesDef(func=f):
            what = f"the examples of {f}"
        case A.TrainDef(func=f):
            what = f"the train block of {f}"
        case _:
            what = f"{_kind(it)} {it.name}" + "".join(f" (and its {b})" for b in with_it)
    d = e.diagnostic
    where = f"{d.source.name}:{d.span.line}:{d.span.col}: " if d.source is not None else ""
    return (f"note: {what} was dropped: it no longer checks with the new {', '.join(sorted(redefined))} "
            f"({where}error[{d.code}]: {d.message}); enter it again to use it")


def _kind(it) -> str:
    return "struct" if isinstance(it, A.StructDef) else "function"


def _span_of(stmts) -> Span:
    return stmts[0].span.to(stmts[-1].span) if stmts else NOWHERE


def _prelude_functions() -> set[str]:
    return {it.name for it in prelude()[0].items if isinstance(it, A.FuncDef)}


def _prelude_def(name: str) -> A.FuncDef:
    return next(it for it in prelude()[0].items if isinstance(it, A.FuncDef) and it.name == name)


def _call_of(fd: A.FuncDef) -> A.FuncDef:
    """A function that calls the prelude's `fd` with parameters of its types, so the checker includes
    it in the program (a generic one too: a mention alone left its type parameters open, E205). Its
    type parameters are renamed `$T`: a session's own struct T is no clash."""
    rename = {t: "$" + t for t in fd.type_params}

    def renamed(t: A.TypeExpr) -> A.TypeExpr:
        match t:
            case A.TName(n, span) if n in rename:
                return A.TName(rename[n], span)
            case A.TApp(n, args, span):
                return A.TApp(n, tuple(renamed(a) for a in args), span)
            case A.TTuple(items, span):
                return A.TTuple(tuple(renamed(a) for a in items), span)
            case A.TFn(params, ret, span):
                return A.TFn(tuple(renamed(a) for a in params), renamed(ret), span)
        return t
    params = tuple(A.Param(p.name, renamed(p.type), NOWHERE) for p in fd.params)
    call = A.Call(A.Name(fd.name, NOWHERE), tuple(A.Name(p.name, NOWHERE) for p in fd.params), (), NOWHERE)
    return A.FuncDef("$show", tuple(rename.values()), params, None, (A.ExprStmt(call, NOWHERE),), NOWHERE,
                     NOWHERE)


def _duration(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"
