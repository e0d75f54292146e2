"""Calling CPU-compiled functions from a running interpreter: `glia.load(..., backend="cpu")`, the
REPL's `:backend cpu`, and `glia run` of a program whose `main` cannot be compiled (`--backend cpu`
compiles each function on its first call; `auto` uses only what the cache has ready, tiered.py).

The interpreter stays in charge (entries, globals, everything it cannot compile); a function the CPU
backend can compile gets a compiled stand-in in the interpreter's function table, compiled on its
first call and cached by content like `glia run --backend cpu`. A call through the stand-in:

1. converts the arguments, and the globals the function reads, to Numba's values (containers are
   copied: typed List / Dict);
2. runs the compiled code (runtime errors come back as the interpreter's diagnostics, at the same
   source line);
3. writes every container argument and global back *in place*, recursively, so the caller sees each
   mutation on the objects it holds (inner lists keep their identity when their shape allows);
4. converts the result.

Copies cannot reproduce identity, so a function is compiled only when `aliasing.returns_fresh`
proves its result shares nothing with its arguments, and a call runs in the interpreter when its
arguments (with the globals it reads) share a container. Nor can writing back by position tell
that an inner container moved (`rows.sort()`, a swap, `d["b"] = d["a"]`, an append of a row that is
already there): a function that may move the inner containers of its arguments' or globals' types
(`aliasing.moves_containers`) runs in the interpreter too. Either way the answer is the
interpreter's; only the speed differs. Why a function or a call ran in
the interpreter is reported once through `notes`.
"""
from __future__ import annotations

from .aliasing import container_types, moves_containers, returns_fresh
from .diagnostics import Source, out_of_memory

_CONTAINERS = (list, dict)  # GSet is a dict


class CpuCalls:
    def __init__(self, interp, sources: dict[str, Source], notes=None, load=None, program=None, source_map=None):
        self.interp = interp
        self.source_map = source_map  # where the program's texts are, when it is made of several (notes)
        self.program = program or interp.program  # (the REPL's, with its variables as globals: the
        # interpreter it drives has them as values only)
        self.sources = sources
        self.notes = notes or (lambda line: None)
        self.load = load  # load(name, lowered): its Compiled, or None to run it in the interpreter (default: compile)

    def install(self) -> None:
        """Give every function the backend can take a stand-in (compiled lazily, on first call)."""
        for name, f in self.program.functions.items():
            if not f.type_params and not name.startswith("$") and name not in self.interp.funcs:
                self.interp.funcs[name] = self._lazy(name)

    def _lazy(self, name: str):
        """A function that, on its first call, becomes the compiled stand-in (or, when the function
        cannot be compiled, the interpreter's own closure, built only then)."""
        f = self.program.functions[name]
        box: list = []

        def call(*args):
            if not box:
                plain = self.interp.compile_function(f)
                compiled = self._compile(name)
                box.append(self._stand_in(name, *compiled, plain) if compiled else plain)
            return box[0](*args)

        call.__glia_name__ = name
        call.__glia_ret_slot__ = f.nslots  # as the interpreter's closure says
        return call

    def _compile(self, name: str):
        from .backend_cpu import fallback_note, load_or_explain, lower_program
        from .lower_numba import Unsupported

        try:
            lowered = lower_program(self.program, name)  # (first: its reason, if any, is the more precise)
            if not returns_fresh(self.program, name):
                self.notes(f"glia: note: {name} runs in the interpreter: its result may share a list, dict or set "
                           "with its arguments, which compiled code (working on copies) cannot reproduce")
                return None
            f = self.program.functions[name]
            reached = container_types(list(f.slot_types[:len(f.params)]) + [g.type for g in self.program.globals],
                                      self.program.structs)
            if moves_containers(self.program, name, reached):
                self.notes(f"glia: note: {name} runs in the interpreter: it may move the lists, dicts or sets held "
                           "inside its arguments (sort, insert, replace or add one), which copies written back "
                           "in place cannot reproduce")
                return None
            compiled = self.load(name, lowered) if self.load else load_or_explain(lowered)
        except Unsupported as u:
            note = fallback_note(u, self.sources, source_map=self.source_map)
            self.notes(note.replace("running in the interpreter", f"{name} runs in the interpreter"))
            return None
        return (compiled, lowered) if compiled is not None else None

    def _stand_in(self, name: str, compiled, lowered, plain):
        from glia.runtime.errors import CompiledRuntimeError
        from glia.runtime.interrupt import arm
        from glia.runtime.nbbox import from_interp, to_interp

        from .backend_cpu import compiled_error

        interp = self.interp
        entry = getattr(compiled.module, lowered.entry)
        specs = lowered.main_arg_specs
        gnames = [g for g, _ in lowered.main_globals]
        gspecs = [s for _, s in lowered.main_globals]
        classes = interp.structs
        notes, warned = self.notes, []

        def call(*args):
            gvals = [global_value(interp, g) for g in gnames]
            if shares_a_container(list(args) + gvals):
                if not warned:
                    warned.append(True)
                    notes(f"glia: note: a call of {name} runs in the interpreter: its arguments share a list, "
                          "dict or set")
                return plain(*args)
            values = list(args) + gvals
            all_specs = list(specs) + gspecs
            nb = [from_interp(v, s) for v, s in zip(values, all_specs)]
            arm()  # Ctrl-C stops it at its next loop pass or call (runtime/interrupt.py)
            try:
                result = entry(*nb, interp.depth + 1)
            except CompiledRuntimeError as e:
                raise compiled_error(e, lowered, self.sources) from None
            except MemoryError:
                raise out_of_memory(interp.program.source) from None
            finally:  # what the call changed before it returned or failed, the caller sees
                for v, x, s in zip(values, nb, all_specs):
                    write_back(v, x, s, classes)
            return to_interp(result, lowered.ret_spec, classes)

        call.__glia_name__ = name
        call.__glia_ret_slot__ = getattr(plain, "__glia_ret_slot__", None)
        return call


def global_value(interp, name: str):
    """The value of a global a compiled function reads: the interpreter's, or for the layers'
    parameter buffers (lower_tensor.PARAMS, STATE) its ParamStore's (initialised on first use)."""
    from .lower_tensor import PARAMS, STATE

    if name in (PARAMS, STATE):
        from .autodiff import param_store

        store = param_store(interp)
        return store.flat if name == PARAMS else store.state_flat
    return interp.globals[name]


def shares_a_container(values) -> bool:
    """Is any list, dict or set reachable twice from these values?"""
    seen: set[int] = set()
    stack = list(values)
    while stack:
        v = stack.pop()
        if isinstance(v, _CONTAINERS):
            if id(v) in seen:
                return True
            seen.add(id(v))
            stack.extend(v.values() if isinstance(v, dict) else v)
        elif isinstance(v, tuple):
            stack.extend(v)
    return False


def _holds_containers(spec) -> bool:
    kind = spec[0]
    if kind in ("list", "dict", "set"):
        return True
    if kind == "tuple":
        return any(_holds_containers(s) for s in spec[1])
    if kind == "struct":
        return any(_holds_containers(s) for s in spec[3])
    return False


def write_back(old, new, spec, classes) -> None:
    """Make the interpreter value `old` equal to the compiled value `new`, in place: containers are
    updated rather than replaced, so references to them (and to inner containers of an unchanged
    shape) see the changes."""
    from glia.runtime.nbbox import to_interp

    kind = spec[0]
    if kind == "list":
        es = spec[1]
        if not _holds_containers(es):  # scalars (an array-backed list in compiled code): all at once
            old[:] = to_interp(new, spec, classes)
        elif len(old) == len(new):
            for i in range(len(old)):
                old[i] = _updated(old[i], new[i], es, classes)
        else:
            old[:] = [to_interp(x, es, classes) for x in new]
    elif kind == "dict":
        ks, vs = spec[1], spec[2]
        fresh = {to_interp(k, ks, classes): x for k, x in new.items()}
        kept = {k: _updated(old[k], x, vs, classes) if k in old and _holds_containers(vs) else to_interp(x, vs, classes)
                for k, x in fresh.items()}
        old.clear()  # and refilled in the compiled dict's order: a key removed and added again goes last
        old.update(kept)
    elif kind == "set":
        keys = [to_interp(k, spec[1], classes) for k in new.keys()]
        old.clear()
        old.update(dict.fromkeys(keys))
    elif kind == "tensor":  # compiled code wrote to the array itself, unless it had to get a contiguous copy
        if new is not old:
            old[...] = new
    elif kind in ("tuple", "struct"):  # immutable, but the containers inside may have changed
        for o, x, s in zip(old, new, spec[1] if kind == "tuple" else spec[3]):
            if _holds_containers(s):
                write_back(o, x, s, classes)


def _updated(old, new, spec, classes):
    """The element to keep in a container being written back: `old`, updated in place, when it is a
    container (or an immutable record of them) of the same shape; else the converted new value."""
    from glia.runtime.nbbox import to_interp

    kind = spec[0]
    if kind in ("list", "dict", "set"):
        write_back(old, new, spec, classes)
        return old
    conv = to_interp(new, spec, classes)
    if kind in ("tuple", "struct") and _same_scalars(old, conv, spec):
        write_back(old, new, spec, classes)
        return old
    return conv


def _same_scalars(a, b, spec) -> bool:
    kind = spec[0]
    if kind in ("list", "dict", "set"):
        return True  # containers are updated in place, whatever they hold
    if kind in ("tuple", "struct"):
        subs = spec[1] if kind == "tuple" else spec[3]
        return all(_same_scalars(x, y, s) for x, y, s in zip(a, b, subs))
    if kind == "tensor":
        return a is b
    return a == b and type(a) is type(b)
