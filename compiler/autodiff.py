"""Reverse-mode automatic differentiation: a tape recorded while the reference interpreter runs the
typed IR, replayed backwards through the 'vjp' rule of each primitive (vjp_rules.py).

The forward sweep is the interpreter itself (`ADInterpreter`), so control flow needs no special
treatment: `if`, data-dependent `while`, `for`, `break`/`continue`, recursion and function values
run as they always do, and the tape holds exactly the primitives that ran, in order. A differentiable
value (a float, an f32, a tensor) on the gradient path is a `Box` (its value and a tape index); boxes
travel unchanged through lists, tuples, dicts and structs, whose primitives only move them. Ints,
bools and strings never carry a gradient; comparisons and conversions to them read the value.

Layers record their parameters' gradient views (runtime/params.py) as extra inputs, so a backward
sweep adds into the program's flat gradient buffer.
"""
from __future__ import annotations

import numpy as np

from . import ir
from .diagnostics import Diagnostic, GliaError
from .interp import Interpreter
from .params import new_store
from .primitives import PRIMS
from .tensor_builtins import carries, differentiable
from glia.runtime.errors import GliaRuntimeError
from glia.runtime.fmt import to_repr
from glia.runtime.kernels import VALUE_CMP
from glia.runtime.tensor_ops import batch_norm_update, dropout_mask, like
from glia.runtime.values import Struct, new_struct

NOT_DIFFERENTIABLE = "E701"
MOVES = ("list.", "dict.", "set.", "tuple.", "struct.")  # primitives that only move values around
INTO = {"list.append", "list.insert", "list.extend", "list.setitem", "dict.setitem", "dict.setdefault",
        "dict.update", "set.add", "set.update"}  # the primitives that can put a box into a container
SEARCHES = {"list.index", "list.count", "list.remove"}  # list methods that look for a value
MOVERS = {"map", "filter", "reduce", "reduce1", "sorted", "reversed", "enumerate", "zip", "to_list",
          "minmax.iter", "len", "list.sum"}


class Box:
    """A differentiable value on the tape: its value `v` and its index `i`."""

    __slots__ = ("v", "i", "tape")

    def __init__(self, v, i, tape):
        self.v, self.i, self.tape = v, i, tape

    # comparisons read the value (sorted(), max() of boxed floats pick a box, which is the gradient's path)
    def __lt__(self, o):
        self.tape.read("comparing values on the gradient path (min, max, sorted)")
        return self.v < raw(o)

    def __le__(self, o):
        self.tape.read("comparing values on the gradient path (min, max, sorted)")
        return self.v <= raw(o)

    def __gt__(self, o):
        self.tape.read("comparing values on the gradient path (min, max, sorted)")
        return self.v > raw(o)

    def __ge__(self, o):
        self.tape.read("comparing values on the gradient path (min, max, sorted)")
        return self.v >= raw(o)

    # a box stands for its value wherever values are searched or keyed (list.index/count/remove,
    # dict keys, set elements): `{x: 1.0}.get(1.5, 0.0)` finds x = 1.5, `{x, 1.5}` has one element,
    # as without a tape
    def __eq__(self, o):
        self.tape.read("comparing values on the gradient path (==, in, dict keys, set elements)")
        return self.v == raw(o)

    def __hash__(self):
        self.tape.read("comparing values on the gradient path (==, in, dict keys, set elements)")
        return hash(self.v)

    def __float__(self):
        self.tape.read("converting a value on the gradient path")
        return float(self.v)

    def __len__(self):
        return len(self.v)

    def __iter__(self):  # `for row in t`: each row is a recorded getitem
        get = PRIMS["tensor.getitem"]
        for k in range(len(self.v)):
            yield self.tape.push("tensor.getitem", get.rules["vjp"], [self.i, None], [self.v, k],
                                 get.impl(self.v, k), (), None)

    def __repr__(self):  # as its value: an error message that names a box (a key not found) names it
        return to_repr(self.v)


def raw(v):
    return v.v if type(v) is Box else v


def deep_raw(v):
    t = type(v)
    if t is Box:
        return v.v
    if t is list:
        return [deep_raw(x) for x in v]
    if t is tuple:
        return tuple(deep_raw(x) for x in v)
    if isinstance(v, Struct):
        return new_struct(t, [deep_raw(x) for x in v])
    if t is dict:
        return {k: deep_raw(x) for k, x in v.items()}
    return v


def holds_box(v) -> bool:
    """Whether `v` holds a value on a gradient path being recorded (a box of a tape)."""
    t = type(v)
    if t is Box:
        return True
    if t is list or t is tuple or t is set or isinstance(v, Struct):
        return any(holds_box(x) for x in v)
    if t is dict:
        return any(holds_box(k) or holds_box(x) for k, x in v.items())
    return False


def plain(v, seen: set[int]):
    """`v` without the tape's boxes: lists, dicts and sets emptied of them in place (so every name for
    them sees it), tuples and structs remade."""
    t = type(v)
    if t is Box:
        return v.v
    if t is tuple:
        return tuple(plain(x, seen) for x in v)
    if isinstance(v, Struct):
        return new_struct(t, [plain(x, seen) for x in v])
    if (t is list or t is dict or t is set) and id(v) not in seen:
        seen.add(id(v))
        if t is list:
            v[:] = [plain(x, seen) for x in v]
        elif t is dict:
            items = [(plain(k, seen), plain(x, seen)) for k, x in v.items()]
            v.clear()
            v.update(items)
        else:
            items = [plain(x, seen) for x in v]
            v.clear()
            v.update(items)
    return v


class ParamSlot:
    """An input of a layer's tape entry that is a parameter: its view of the gradient buffer."""

    __slots__ = ("g",)

    def __init__(self, g):
        self.g = g


class Tape:
    """The primitives that ran, in order. A tape recorded for tracing (compiler/trace_compile.py) also
    keeps `guards`, the comparisons of recorded values that decided the control flow, and `opaque`,
    why the run cannot be replayed from its guards alone (a value on the gradient path was read
    another way: argmax, int(), sorted)."""

    def __init__(self, tracing: bool = False):
        self.nodes: list = []
        self.count = 0
        self.guards: list | None = [] if tracing else None
        self.opaque: str | None = None
        self.stored = False  # whether a box may have been put into a list, dict or set (INTO)

    def read(self, why: str):
        if self.guards is not None and self.opaque is None:
            self.opaque = why

    def leaf(self, v) -> Box:
        b = Box(v, self.count, self)
        self.count += 1
        return b

    def push(self, op, vjp, ins, args, out, attrs, span):
        if type(out) is tuple:
            boxes = tuple(self.leaf(o) for o in out)
            ids = tuple(b.i for b in boxes)
            result = boxes
        else:
            result = self.leaf(out)
            ids = result.i
        self.nodes.append((vjp, ins, args, out, attrs, ids, op, span))
        return result


def _acc(grads, i, ct):
    prev = grads.get(i)
    grads[i] = ct if prev is None else prev + ct


class NonFiniteVJP(Exception):
    """Raised by `backward(..., check=True)` at the first primitive of the reverse sweep whose gradient
    rule made a NaN or an infinity from finite cotangents (sqrt's at 0: 0 * inf)."""

    def __init__(self, op, span):
        super().__init__(op)
        self.op, self.span = op, span


def backward(tape: Tape, seeds: dict, check: bool = False) -> dict:
    """Propagate the cotangents `seeds` ({box index: cotangent}) back through the tape; parameter
    gradients are added into their views; returns the cotangents of the remaining boxes. With `check`
    (locating an error), NonFiniteVJP at the first rule that makes a NaN or an infinity."""
    grads = dict(seeds)
    for vjp, ins, args, out, attrs, ids, op, span in reversed(tape.nodes):
        if type(ids) is tuple:
            g = tuple(grads.pop(i, None) for i in ids)
            if all(x is None for x in g):
                continue
        else:
            g = grads.pop(ids, None)
            if g is None:
                continue
        cts = vjp(g, out, args, attrs)
        if check and _finite(g) and not _finite(cts):
            raise NonFiniteVJP(op, span)
        for spec, ct in zip(ins, cts):
            if spec is None or ct is None:
                continue
            ts = type(spec)
            if ts is int:
                _acc(grads, spec, ct)
            elif ts is list:
                for s, c in zip(spec, ct):
                    if s is not None and c is not None:
                        _acc(grads, s, c)
            else:
                spec.g += ct
    return grads


def _finite(x) -> bool:
    """Whether a cotangent (an array, a number, None, or a tuple or list of them) holds no NaN or infinity."""
    if x is None:
        return True
    if type(x) in (tuple, list):
        return all(_finite(v) for v in x)
    try:
        return bool(np.all(np.isfinite(x)))
    except TypeError:  # (not numbers: nothing to check)
        return True


def first_nonfinite(tape: Tape):
    """(op, span) of the first recorded primitive whose output holds a NaN or an infinity."""
    for vjp, ins, args, out, attrs, ids, op, span in tape.nodes:
        for o in (out if type(out) is tuple else (out,)):
            if not np.all(np.isfinite(o)):
                return op, span
    return None


def _unwrap(args):
    rs, ins, boxed = [], [], False
    for a in args:
        t = type(a)
        if t is Box:
            rs.append(a.v)
            ins.append(a.i)
            boxed = True
        elif t is list and any(type(x) is Box for x in a):
            rs.append([x.v if type(x) is Box else x for x in a])
            ins.append([x.i if type(x) is Box else None for x in a])
            boxed = True
        else:
            rs.append(a)
            ins.append(None)
    return rs, ins, boxed


# ---- layers and grad in the plain interpreter ---------------------------------------------------

def param_store(interp: Interpreter):
    if interp.params is None:
        interp.params = new_store(interp.program, seed=0)
    return interp.params


def run_layer(base: Interpreter, store, op, attrs, rs):
    """Run the kernel of layer `op` on its dynamic arguments `rs`. Returns (output, the kernel's other
    operands, the names of the parameters, which come first among them). The layers with a mode are
    here: dropout draws a mask only while training; batch_norm uses the batch's statistics and updates
    its running ones while training (`base.training`), and the running ones otherwise."""
    impl = PRIMS[op].impl
    if op == "layer.dropout":
        x = rs[0]
        more = [dropout_mask(base.rng, x.shape, attrs[2], x.dtype) if base.training else None]
        return impl(*rs, *more), more, []
    names = [f"{attrs[0]}.{q[0]}" for q in attrs[1]]
    more = [store.views[n] for n in names]
    if op == "layer.batch_norm":
        mean, var = (store.buffers[f"{attrs[0]}.{q[0]}"] for q in attrs[2])
        more += [mean.copy(), var.copy(), base.training, attrs[4]]  # copies: the tape keeps what was used
        out = impl(*rs, *more)
        if base.training:
            batch_norm_update(mean, var, rs[0], attrs[3])
        return out, more, names
    more += attrs[2:]  # static operands (stride, padding) after the parameters
    return impl(*rs, *more), more, names


def special_prim(interp: Interpreter, op, avs, attrs, span):
    """The interpreter's closure for `layer.*` and `ad.grad` (which need the program's parameters)."""
    if op == "ad.grad":
        return grad_value(interp, attrs, span)
    loc = interp.located(span)

    def layer(frame):
        args = [a(frame) for a in avs]
        try:
            return run_layer(interp, param_store(interp), op, attrs, args)[0]
        except GliaRuntimeError as e:
            raise loc(e) from None
    return layer


def grad_value(interp: Interpreter, attrs, span, recording: bool = False):
    """The value of `grad(f)`/`value_and_grad(f)`; `recording`: taken by code a tape is recording,
    whose arguments may then hold that tape's boxes (a gradient of a gradient: refused)."""
    fname, which = attrs

    def make(frame):
        def g(*args):
            # (the inner tape would take the outer one's boxes as constants: a wrong number; raised
            # unlocated, so that the call locates it, not as an error inside fname, which never ran)
            if recording and any(holds_box(a) for a in args):
                raise GliaRuntimeError(NOT_DIFFERENTIABLE, f"{which}({fname}) of a value on the gradient "
                                       "path: a gradient of a gradient (nested grad) is not supported; "
                                       "differentiate the expression the inner gradient stands for")
            value, grad = ad_interpreter(interp).value_and_grad(fname, list(args))
            return grad if which == "grad" else (value, grad)
        g.__glia_name__ = fname  # (an error inside names fname: Interpreter.call_value)
        g.__glia_shown__ = f"{which}({fname})"  # what print shows: <function grad(f)>
        return g
    return make


def ad_interpreter(interp: Interpreter) -> "ADInterpreter":
    adi = getattr(interp, "_ad", None)
    if adi is None:
        interp.init_globals()
        adi = interp._ad = ADInterpreter(interp)
    return adi


# ---- the recording interpreter -----------------------------------------------------------------

_MEMBERSHIP = {PRIMS[op].impl for op in ("cmp.in", "cmp.notin")} | {VALUE_CMP["cmp.in"], VALUE_CMP["cmp.notin"]}


class ADInterpreter(Interpreter):
    """The reference interpreter, recording differentiable primitives on `self.tape`."""

    def __init__(self, base: Interpreter):
        super().__init__(base.program, base.sources, base.max_depth)
        self.base = base
        self.globals = base.globals
        self._globals_ready = True
        self.tape = Tape()

    @property
    def params_(self):
        return param_store(self.base)

    def expr(self, e):
        if type(e) is ir.Prim:
            return self.ad_prim(e)
        return super().expr(e)

    def compare(self, evs, impls):
        """Comparisons read values: boxes inside lists, tuples, structs and dicts too (`p == q` of
        records holding floats). The right side of `in` that is a dict or a set is searched as it is
        (its keys hold no box; copying it would make a lookup cost its size)."""
        member = _MEMBERSHIP

        def unboxed(ev, searched):
            def value(frame):
                v = ev(frame)
                return v if searched and type(v) in (dict, set) else deep_raw(v)
            return value
        return super().compare([unboxed(ev, k > 0 and impls[k - 1] in member) for k, ev in enumerate(evs)], impls)

    def store(self, target):
        st = super().store(target)
        if isinstance(target, ir.StoreIndex) and target.op in INTO:
            def store_into(frame, v):
                self.tape.stored = True
                st(frame, v)
            return store_into
        if isinstance(target, ir.StoreIndex) and target.op == "tensor.setitem":
            loc = self.located(target.span)

            def store_tensor(frame, v):
                if type(v) is Box:
                    raise loc(GliaRuntimeError(NOT_DIFFERENTIABLE, "assigning into a tensor element is not "
                                               "differentiable; build the tensor with stack/concat/where instead"))
                st(frame, v)
            return store_tensor
        return st

    def ad_prim(self, e: ir.Prim):
        op, attrs, span = e.op, e.attrs, e.span
        avs = [self.expr(a) for a in e.args]
        if op.startswith("layer."):
            return self.ad_layer(e, avs)
        if op == "ad.grad":
            return grad_value(self.base, attrs, span, recording=True)
        diff_out = differentiable(e.type)
        if op in INTO:
            run_into = self.prim(op, avs, attrs, span)

            def into(frame):
                self.tape.stored = True
                return run_into(frame)
            return into
        if op in SEARCHES:  # the value searched for is compared, never kept: its value (a NaN is
            # then found nowhere, as without a tape, where the box would be found as itself)
            searched = avs[-1]
            avs = [*avs[:-1], lambda frame: deep_raw(searched(frame))]
        if op.startswith(MOVES) or op in MOVERS:
            return self.prim(op, avs, attrs, span)
        if not any(differentiable(a.type) for a in e.args):
            # a struct, dict or set (or a generic function's value) may still hold boxes: what reads
            # them without a gradient (print, str, ==) reads their values
            if diff_out or not any(carries(a.type, self.program.structs) for a in e.args):
                return self.prim(op, avs, attrs, span)
        p = PRIMS[op]
        impl, vjp = p.impl, p.rules.get("vjp")
        loc = self.located(span)
        deep = not diff_out and (vjp is None or not any(differentiable(a.type) for a in e.args))
        interp = self

        def run(frame):
            args = [a(frame) for a in avs]
            if deep:  # the result carries no gradient (a print, a str, an int, a bool)
                if interp.tape.guards is not None and _unwrap(args)[2]:
                    interp.tape.read(f"'{op}' reads a computed value (from the example or the parameters) other than by "
                                    "a comparison")  # (only a trace's tape records it)
                try:
                    return impl(*[deep_raw(a) for a in args], *attrs)
                except GliaRuntimeError as err:
                    raise loc(err) from None
            rs, ins, boxed = _unwrap(args)
            try:
                out = impl(*rs, *attrs)
            except GliaRuntimeError as err:
                raise loc(err) from None
            if not boxed:
                return out
            if vjp is None:
                raise loc(GliaRuntimeError(NOT_DIFFERENTIABLE, f"'{op}' has no gradient rule (VJP), and a "
                                           "value on the gradient path goes through it"))
            return interp.tape.push(op, vjp, ins, rs, out, attrs, span)
        return run

    def ad_layer(self, e: ir.Prim, avs):
        op, attrs, span = e.op, e.attrs, e.span
        vjp = PRIMS[op].rules["vjp"]
        loc = self.located(span)
        interp = self

        def run(frame):
            rs, ins, boxed = _unwrap([a(frame) for a in avs])
            store = interp.params_
            try:
                out, more, names = run_layer(interp.base, store, op, attrs, rs)
            except GliaRuntimeError as err:
                raise loc(err) from None
            ins = ins + [ParamSlot(store.grads[n]) for n in names] + [None] * (len(more) - len(names))
            static = (attrs[2],) if op == "layer.dropout" else ()  # its probability, for compiled traces
            return interp.tape.push(op, vjp, ins, rs + more, out, static, span)
        return run

    # ---- entry points --------------------------------------------------------------------------
    def value_and_grad(self, fname: str, args: list):
        """Value of `fname(*args)` and its gradient with respect to the first argument (shaped as that
        argument was when passed, whatever the call changes in it)."""
        saved = self.tape
        tape = self.tape = Tape()
        pairs: list = []
        try:
            x, leaves = box_copy(tape, args[0], pairs)
            out = self.call(fname, [x] + list(args[1:]))
            grads = backward(tape, {out.i: like(out.v, 1.0)}) if type(out) is Box else {}
            return raw(out), grad_tree(leaves, grads)
        finally:
            # what the call changed in its arguments and globals stays changed, as after a plain call,
            # holding values, not the tape's boxes (also after an error: the REPL goes on with them);
            # the first argument's lists were boxed as copies: their changes are written back
            seen: set[int] = set()
            write_back(pairs, seen)
            if tape.stored:
                for a in args + list(self.globals.values()):  # (a global list may be appended to)
                    plain(a, seen)
            self.tape = saved

    def forward(self, fname: str, args: list):
        """Run `fname` recording a fresh tape (inputs are constants; parameters get gradients)."""
        self.tape = Tape()
        return self.call(fname, args)


def box_copy(tape: Tape, v, pairs: list):
    """`v` with each float and tensor in it made a leaf of `tape` (lists copied: another name for one
    of them, a global, reads the values, constants to the gradient, as in compiled code), and the tree
    of those leaves, so that the gradient has the argument's shape as passed; `pairs` gets (list,
    its copy) for `write_back`."""
    t = type(v)
    if t is float or t is np.float32 or t is np.float64 or t is np.ndarray:
        b = tape.leaf(v)
        return b, b
    if t is list:
        made = [box_copy(tape, a, pairs) for a in v]
        copy = [m[0] for m in made]
        pairs.append((v, copy))
        return copy, [m[1] for m in made]
    if t is tuple or isinstance(v, Struct):
        made = [box_copy(tape, a, pairs) for a in v]
        if t is tuple:
            return tuple(m[0] for m in made), tuple(m[1] for m in made)
        return new_struct(t, [m[0] for m in made]), new_struct(t, [m[1] for m in made])
    return v, v


def write_back(pairs: list, seen: set[int]) -> None:
    """Each list `box_copy` copied gets its copy's contents, in place, as values: the copies of its
    inner lists are the lists themselves again (so every name for them sees the call's changes)."""
    back = {id(c): o for o, c in pairs}

    def value(x):
        t = type(x)
        if t is list and id(x) in back:
            return back[id(x)]
        if t is tuple:
            return tuple(value(a) for a in x)
        if isinstance(x, Struct):
            return new_struct(t, [value(a) for a in x])
        return plain(x, seen)
    for o, c in pairs:
        o[:] = [value(x) for x in c]
    seen.update(id(o) for o, _ in pairs)


def grad_tree(x, grads):
    t = type(x)
    if t is Box:
        g = grads.get(x.i)
        return like(x.v, 0.0 if g is None else g) if not isinstance(x.v, np.ndarray) else \
            (np.zeros_like(x.v) if g is None else np.asarray(g, dtype=x.v.dtype))
    if t is list:
        return [grad_tree(a, grads) for a in x]
    if t is tuple:
        return tuple(grad_tree(a, grads) for a in x)
    if isinstance(x, Struct):
        return new_struct(t, [grad_tree(a, grads) for a in x])
    return x


def not_finite_error(tape: Tape, what: str, sources, fallback_source) -> GliaError:
    """A diagnostic at the first operation that produced a NaN or an infinity."""
    found = first_nonfinite(tape)
    if found is None or found[1] is None:
        return GliaError(Diagnostic("E702", f"{what} is not finite", _nospan(), "train", fallback_source))
    op, span = found
    return GliaError(Diagnostic("E702", f"{what} is not finite: the first NaN or infinity came from '{op}' "
                                "here", span, "train", fallback_source))


def _nospan():
    from .diagnostics import Span

    return Span(0, 0, 0, 0)
