"""Training with control flow, compiled: trace, generate, guard.

    one example runs in the interpreter recording a tape (the trace: every primitive that ran, on
    which values, with which shapes, and the comparisons that decided each `if`/`while`: the guards)
      -> `build`: trace nodes over values, parameters (offsets in the flat buffer) and constants
      -> `generate`: Numba source from each primitive's 'codegen' rule (codegen_rules.py and
         codegen_layers.py): `step` runs a whole batch of examples through the trace (forward, the
         loss and its gradient, the reverse sweep into the flat gradient buffer; U holds each
         example's uniforms for its dropout masks) and `guards` says which examples take it
      -> cached by content: the module in the user's cache folder (Numba's `cache=True` keeps its
         machine code), the loaded trace in memory, keyed by the trace's signature
    `TraceEngine` trains with a few such traces: each minibatch's examples go, in one batched call,
    through the first trace whose guards they pass; an example no trace takes runs on the tape (the
    same answer), and its tape becomes a new trace (at most MAX_TRACES).

Why the guards suffice: the input (recorded as the tape's first leaf) and the parameters are the only
data; every value computed from them is recorded (a box), and everything else a run computes (ints,
bools, lengths, constants) comes from constants and from reading boxes. Boxes are read only by the
comparisons kept as guards, or the run is refused (`Tape.opaque`: argmax, int(), sorted, print), so an
example whose guards give the recorded outcomes runs exactly the recorded primitives on its own values.
Two reads are recorded instead: `int(x)` as an embedding's index (an int of the trace, kept within the
table by two guards) and dropout's masks (each example's uniforms, drawn by the engine in the tape's
order and passed to `step` as U).
A program is refused before anything runs when it reaches a primitive on the gradient path without a
codegen rule (`static_refusal`).
"""
from __future__ import annotations

import functools
import hashlib
import math
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources

import numpy as np

from . import ir, trace_pool
from .autodiff import MOVERS, MOVES, NOT_DIFFERENTIABLE, ADInterpreter, Box, ParamSlot, Tape, raw
from .codegen_rules import FUSED, STATIC
from .backend_cpu import import_module, runtime_hash, write_source
from .diagnostics import GliaError
from .primitives import PRIMS
from .syntax import cache_dir
from .tensor_builtins import differentiable
from .train_compile import OPT_CODES, hyper_of, state_of
from .training import TapeEngine, reachable
from glia.runtime import mlp_kernels as MK, nbcall
from glia.runtime.errors import GliaRuntimeError

# traces kept per training run; examples that take none of them run on the tape. A recursion over
# trees has a trace per tree shape (25 for the binary trees of depth <= 3 of examples/neural/tree_rnn.glia)
MAX_TRACES = 32
# With --engine auto, a trace that is not compiled yet (on this machine) is compiled only when the run
# would keep the tape busy at least this long: compiling one costs about 5 s here (16 s with the shared
# kernels), so a short run is quicker on the tape. A trace compiled once loads in well under a second.
WORTH_COMPILING_SECONDS = 20.0
TAPE_STEP_FACTOR = 3.0  # a tape step (forward, loss, backward, update) per traced forward, roughly
# the generated functions' decorator: NumPy's error model (a division by zero gives inf or NaN, which
# training reports as E702) lets LLVM vectorise divisions (Python's model checks each one and raises)
JIT = '@njit(cache=True, error_model="numpy")'
TO_INT = ("f32.to_int", "float.to_int")
LIST_SUMS = ("float.sum", "f32.sum")  # primitives of a list of recorded values (the only ones compiled yet)
CMP = {"cmp.lt": "<", "cmp.le": "<=", "cmp.gt": ">", "cmp.ge": ">=", "cmp.eq": "==", "cmp.ne": "!="}


class NoTrace(Exception):
    """Why a program or a run cannot be compiled (the engine then uses the tape and says why)."""


# ---- recording ----------------------------------------------------------------------------------

class TraceInterpreter(ADInterpreter):
    """The recording interpreter, also noting each comparison that reads a recorded value (a guard)."""

    def expr(self, e):
        if type(e) is ir.Compare:
            return self.guarded_compare(e)
        if type(e) is ir.Prim and e.op == "layer.embedding" and type(e.args[0]) is ir.Prim and \
                e.args[0].op in TO_INT:
            return self.ad_layer(e, [self.recorded_int(e.args[0])])
        return super().expr(e)

    def recorded_int(self, e: ir.Prim):
        """`int(x)` as an embedding's index: when x is recorded, the int is recorded too (a value of the
        trace, computed per example by the generated code); used anywhere else it stays a read that
        makes the run opaque."""
        x, impl, loc, interp = self.expr(e.args[0]), PRIMS[e.op].impl, self.located(e.span), self

        def run(frame):
            v = x(frame)
            try:
                out = impl(raw(v))
            except GliaRuntimeError as err:
                raise loc(err) from None
            if type(v) is not Box:
                return out
            return interp.tape.push(e.op, None, [v.i], [v.v], out, (), e.span)
        return run

    def guarded_compare(self, e: ir.Compare):
        evs = [self.expr(x) for x in e.operands]
        ops, impls = e.ops, [PRIMS[o].impl for o in e.ops]
        interp = self

        def run(frame):
            left = evs[0](frame)
            for k, f in enumerate(impls):
                right = evs[k + 1](frame)
                out = bool(f(raw(left), raw(right)))
                if type(left) is Box or type(right) is Box:
                    interp.tape.guards.append((ops[k], left, right, out))
                if not out:
                    return False
                left = right
            return True
        return run


def static_refusal(program: ir.Program, fn: str) -> str | None:
    """Why `fn` cannot be traced, from its IR alone: a primitive on the gradient path without a rule."""
    for node in reachable(program, fn):
        if not isinstance(node, ir.Prim) or node.op.startswith(MOVES) or node.op in MOVERS or node.op == "ad.grad":
            continue
        if not any(differentiable(a.type) for a in node.args):
            continue
        rules = PRIMS[node.op].rules
        if "codegen" not in rules:
            if "vjp" not in rules and not differentiable(node.type):
                return f"'{node.op}' reads a computed value (from the example or the parameters) other than by a comparison (line {node.span.line})"
            return f"'{node.op}' has no codegen rule yet (line {node.span.line})"
    return None


# ---- the trace as nodes over values, parameters and constants -------------------------------------

@dataclass
class Arg:
    kind: str  # "var" (a value of the trace), "param" (a parameter array), "const"
    name: str  # the expression naming it in generated code
    shape: tuple = ()  # one example's shape (without the batch dimension)
    dtype: str = "float32"
    grad: bool = False  # a cotangent is wanted
    value: object = None  # a constant's value
    index: int = -1  # a var's tape index

    @property
    def gname(self) -> str:
        """A parameter's view of the flat gradient buffer (backward kernels add into it)."""
        return f"g{self.name}"


@dataclass
class Node:
    op: str
    args: list
    outs: list  # names of the outputs
    ids: list  # their tape indices
    out_shapes: list
    out_dtypes: list


@dataclass
class Trace:
    nodes: list
    guards: list  # (cmp op, Arg, Arg, outcome)
    out: int  # tape index of the model's output
    params: dict  # generated name -> (offset, shape)
    consts: list  # constant arrays, C[1:]
    out_shape: tuple  # one example's prediction
    loss_op: str
    signature: str = ""  # a hash of everything above but the constants' values (their hash instead)
    draws: int = 0  # uniforms each example draws for its dropout masks (the columns of `step`'s U)
    decides: bool = False  # it has guards from the control flow (not only embeddings' index ranges)


_DTYPE_NAMES: dict = {}  # np.dtype -> its name (str() of a dtype is slow, and a trace asks thousands of times)


def _dt(v) -> str:
    d = v.dtype if isinstance(v, (np.ndarray, np.generic)) else np.asarray(v).dtype
    name = _DTYPE_NAMES.get(d)
    if name is None:
        name = _DTYPE_NAMES[d] = str(d)
    return name


def build(tape, out, store, loss_op: str) -> Trace:
    """The trace of one recorded run whose model output is the box `out`."""
    if tape.opaque:
        raise NoTrace(tape.opaque)
    if type(out) is not Box:
        raise NoTrace("the model's output is not computed from the parameters")
    names = {id(store.views[s.name]): s for s in store.specs}
    shape, dtype, grad = {0: None}, {}, {0: False}
    params, consts, nodes, sig = {}, [], [], []

    def arg(spec, v):
        if type(spec) is int:
            if spec not in grad:
                raise NoTrace("a value of an earlier run reached this one")
            return Arg("var", f"v{spec}", shape[spec], dtype[spec], grad[spec], index=spec)
        if type(spec) is ParamSlot:
            s = names[id(v)]
            pname = next((k for k, (name, _) in params.items() if name == s.name), None)
            if pname is None:
                pname = f"p{len(params)}"
                params[pname] = (s.name, (s.offset, tuple(v.shape)))
            return Arg("param", pname, tuple(v.shape), _dt(v), True, value=(s.name, s.offset))
        if spec is not None:
            raise NoTrace("a list of values on the gradient path reaches a primitive (not compiled yet)")
        if isinstance(v, np.ndarray):
            consts.append(v)
            return Arg("const", f"C[{len(consts)}]", v.shape, _dt(v), value=v)
        if isinstance(v, (bool, int, float, str, np.floating, np.integer)) or (
                type(v) is tuple and all(type(d) is int for d in v)):  # a tuple: reshape's dimensions
            return Arg("const", repr(v), (), _dt(v), value=v)
        raise NoTrace(f"a constant of type {type(v).__name__} in the trace")

    draws = 0
    # the input is the tape's first leaf (index 0); its shape comes from the first node that reads it
    for vjp, ins, args, o, attrs, ids, op, span in tape.nodes:
        if attrs and op not in STATIC:
            raise NoTrace(f"'{op}' with static operands is not compiled yet")
        if "codegen" not in PRIMS[op].rules:
            raise NoTrace(f"'{op}' has no codegen rule yet")
        args = tuple(args) + tuple(attrs)
        if op in LIST_SUMS and type(ins[0]) is list:  # sum(xs, start): the list's elements as arguments
            args, ins = (*args[0], args[1]), (*ins[0], ins[1])
        if op == "seq.mean" and type(ins[0]) is list:  # mean(xs): the list's elements as arguments
            args, ins = tuple(args[0]), tuple(ins[0])
        if op == "layer.dropout":  # (x, mask, p): the mask is drawn per example, from U's columns
            args, ins = (args[0], args[2], draws), ins[:1]
            draws += int(np.size(args[0]))
        full = list(ins) + [None] * (len(args) - len(ins))
        for spec, v in zip(full, args):
            if spec == 0 and shape[0] is None:
                shape[0], dtype[0] = np.shape(v), _dt(v)
        a = [arg(spec, v) for spec, v in zip(full, args)]
        outs = list(o) if type(o) is tuple else [o]
        idl = list(ids) if type(ids) is tuple else [ids]
        g = any(x.grad for x in a)
        for i, v in zip(idl, outs):
            shape[i], dtype[i] = np.shape(v), _dt(v)
            grad[i] = g and dtype[i].startswith("float")  # an int (an embedding's index) has no gradient
        nodes.append(Node(op, a, [f"v{i}" for i in idl], idl, [np.shape(v) for v in outs], [_dt(v) for v in outs]))
        sig.append((op, [(x.kind, x.name, x.shape, x.dtype, x.value if x.kind != "const" or x.shape == () else
                          hashlib.sha1(np.ascontiguousarray(x.value).tobytes()).hexdigest()) for x in a],
                    idl, nodes[-1].out_shapes, nodes[-1].out_dtypes))
    guards = []
    for op, a, b, outcome in tape.guards:
        ga = [arg(x.i, None) if type(x) is Box else _guard_const(x) for x in (a, b)]
        if any(x.kind == "var" and x.shape != () for x in ga):
            raise NoTrace("a comparison of tensors decides the control flow")
        guards.append((op, ga[0], ga[1], outcome))
    for n in nodes:  # an index computed from the example stays within its table (else: the tape, which says so)
        if n.op == "layer.embedding" and n.args[0].kind == "var":
            guards += [("cmp.ge", n.args[0], _guard_const(0), True),
                       ("cmp.lt", n.args[0], _guard_const(n.args[1].shape[0]), True)]
    if draws and any(n.op == "layer.dropout" for n in _cone(nodes, [a.index for g in guards for a in g[1:3]
                                                                   if a.kind == "var"])):
        raise NoTrace("a decision that depends on a dropout mask")
    for op, a, b, outcome in guards:
        sig.append((op, [(x.kind, x.name, x.value) for x in (a, b)], outcome))
    if not grad.get(out.i):
        raise NoTrace("the model's output does not depend on its parameters")
    sig.append((loss_op, out.i, shape[0], dtype[0]))
    return Trace(nodes, guards, out.i, {k: v[1] for k, v in params.items()}, consts, shape[out.i], loss_op,
                 hashlib.sha256(repr(sig).encode()).hexdigest(), draws, bool(tape.guards))


def _guard_const(v):
    if isinstance(v, (bool, int, float, np.floating, np.integer)):
        return Arg("const", repr(v), (), _dt(v), value=v)
    raise NoTrace("a comparison with a list or a structure decides the control flow")


# ---- code generation ------------------------------------------------------------------------------

class Emit:
    """What codegen rules write into: forward lines, backward lines, and the cotangents defined.

    Stacked buffers: a value that is row block i of a buffer [n * B, ...] (a stacked product's outputs,
    the states of a recurrence written one after another, their cotangents) is noted in `blocks`, so
    that reading consecutive blocks together takes a slice of the buffer instead of concatenating them."""

    def __init__(self):
        self.f, self.b = [], []
        self.defined: set[str] = set()
        self.deferred: dict[str, list[tuple[str, str]]] = {}  # a gradient view -> (rows, cotangent) terms
        self.blocks: dict[str, tuple[str, int]] = {}  # a value's name -> (buffer, i): it is buffer[i * B:(i + 1) * B]
        self.buffers: set[str] = set()  # the stacked buffers allocated so far
        self.node = None
        self.k = 0

    def fwd(self, line):
        self.f.append(line)

    def bwd(self, line):
        self.b.append(line)

    def tmp(self) -> str:
        self.k += 1
        return f"t{self.k}"

    def refuse(self, why):
        raise NoTrace(f"{why} is not compiled yet")

    def defer(self, w: Arg, rows: str, g: str):
        """Leave `rows^T g` for the end of the reverse sweep: there, each parameter's deferred terms are
        added as one product of the stacked rows (see trace_fuse.py). `rows` and `g` are never
        reassigned once a node's backward has run."""
        self.deferred.setdefault(w.gname, []).append((rows, g))

    def deferred_lines(self) -> list[str]:
        out = []
        for gw, terms in self.deferred.items():
            xs, gs = (", ".join(t[k] for t in terms) for k in (0, 1))
            if len(terms) == 1:
                out.append(f"K.add_xtg({gw}, {xs}, {gs})")
                continue
            xs, gs = self.stacked(terms, 0), self.stacked(terms, 1)
            if xs is None or gs is None:  # the rows not in one buffer, in the same order: stacked here
                xs, gs = (f"np.concatenate(({', '.join(t[k] for t in terms)},), axis=0)" for k in (0, 1))
            out.append(f"K.add_xtg({gw}, {xs}, {gs})")
        return out

    def stack(self, name: str, like: str, backward: bool = False) -> str:
        """A stacked buffer shaped as `like` (a stacked product's outputs): allocated (zeros in reverse,
        where a block nothing flows to stays zero) at its first use."""
        if name not in self.buffers:
            self.buffers.add(name)
            (self.bwd if backward else self.fwd)(f"{name} = np.{'zeros' if backward else 'empty'}_like({like})")
        return name

    def block(self, name: str, buffer: str, i: int) -> str:
        """`name = buffer[i * B:(i + 1) * B]` (a view: a kernel writing into it fills the buffer's block)."""
        self.blocks[name] = (buffer, i)
        return f"{buffer}[{i} * B:{i + 1} * B]"

    def stacked(self, terms, k: int) -> str | None:
        """The deferred terms' rows (k = 0) or cotangents (k = 1), ordered by their rows' blocks, as one
        slice of a buffer when they are consecutive blocks of it; else None."""
        at = [self.blocks.get(t[j]) for t in terms for j in (0, 1)]
        if any(a is None for a in at):
            return None
        pairs = sorted(zip(at[0::2], at[1::2]), key=lambda p: p[0][1])
        blocks = [p[k] for p in pairs]
        if any(b[0] != blocks[0][0] or b[1] != blocks[0][1] + i for i, b in enumerate(blocks)):
            return None
        return f"{blocks[0][0]}[{blocks[0][1]} * B:{blocks[-1][1] + 1} * B]"

    def g(self, k):
        name = f"g{self.node.ids[k]}"
        return name if name in self.defined else None

    def acc(self, a: Arg, expr: str):
        if not a.grad:
            return
        if a.kind == "param":
            self.b.append(f"g{a.name} += {expr}")
            return
        name = f"g{a.index}"
        self.b.append(f"{name} = {name} + {expr}" if name in self.defined else f"{name} = {expr}")
        self.defined.add(name)

    def rows(self, a: Arg) -> str:
        if a.kind == "var":
            return a.name
        if a.kind == "const" and a.shape:
            return f"K.rows({a.name}, B)"
        self.refuse("a scalar constant where a row of values is expected")

    def expand(self, a: Arg, rank: int, n: Node) -> str:
        if a.kind == "const" and not a.shape:
            return f"np.{n.out_dtypes[0]}({a.value!r})"
        if a.kind != "var" or len(a.shape) == rank:
            return a.name
        return f"{a.name}.reshape((B,) + {(1,) * (rank - len(a.shape)) + tuple(a.shape)!r})"

    def unb(self, a: Arg, g: str, rank: int) -> str:
        if a.kind != "var" or not a.grad:
            return g
        out = self.node.out_shapes[0]
        if any(d == 1 and D != 1 for d, D in zip(a.shape, out[rank - len(a.shape):])):
            self.refuse("broadcasting a dimension of size 1")
        for _ in range(rank - len(a.shape)):
            g = f"({g}).sum(axis=1)"
        return g


def _cone(nodes, roots):
    """The nodes the values `roots` (tape indices) depend on, in order."""
    need, keep = set(roots), []
    for n in reversed(nodes):
        if need.intersection(n.ids):
            keep.append(n)
            need.update(a.index for a in n.args if a.kind == "var")
    return keep[::-1]


def _rule(op):
    """A node's codegen rule: its primitive's, or for the nodes trace_fuse.py writes, theirs."""
    return FUSED[op] if op in FUSED else PRIMS[op].rules["codegen"]


def generate(t: Trace) -> str:
    """The Numba module of a trace: `step` (always) and `guards` (when the trace has any)."""
    head = ["    B = X.shape[0]", "    v0 = X"]
    head += [f"    {p} = flat[{o}:{o + int(np.prod(s))}].reshape({s!r})" for p, (o, s) in t.params.items()]
    e = Emit()
    nodes = _cone(fuse(_cone(t.nodes, [t.out])), [t.out])  # again: a stacked input can leave nodes unread
    for n in nodes:
        e.node = n
        _rule(n.op).fwd(e, n)
    loss = Node(t.loss_op, [Arg("var", f"v{t.out}", t.out_shape, grad=True, index=t.out)], ["L"], [-1], [()],
                ["float32"])
    e.node = loss
    lrule = PRIMS[t.loss_op].rules["codegen"]
    lrule.fwd(e, loss)
    lrule.bwd(e, loss)
    for n in reversed(nodes):
        e.node = n
        _rule(n.op).bwd(e, n)
    lines = [f"# a training trace generated by glia (compiler/trace_compile.py); runtime {_kernels_hash()}",
             "import numpy as np", "from numba import njit", "from glia.runtime import trace_kernels as K", "",
             "", JIT, "def step(X, Y, U, flat, grad, C, s):"] + head
    lines += [f"    g{p} = grad[{o}:{o + int(np.prod(s))}].reshape({s!r})" for p, (o, s) in t.params.items()]
    lines += ["    " + x for x in e.f + e.b + e.deferred_lines()] + [f"    return L, v{t.out}"]
    # the value alone (for measuring what the gradient costs; Numba compiles it only if it is called)
    lines += ["", "", JIT, "def value(X, Y, U, flat, C, s):"] + head
    lines += ["    " + x for x in e.f] + [f"    return L, v{t.out}"]
    if t.guards:
        g = Emit()
        for n in _cone(t.nodes, [a.index for _, x, y, _ in t.guards for a in (x, y) if a.kind == "var"]):
            g.node = n
            PRIMS[n.op].rules["codegen"].fwd(g, n)
        lines += ["", "", JIT, "def guards(X, flat, C):"] + head + ["    " + x for x in g.f]
        lines.append("    ok = np.ones(B, np.bool_)")
        for op, a, b, outcome in t.guards:
            dt = a.dtype if a.kind == "var" else b.dtype
            x, y = (v.name if v.kind == "var" else f"np.{dt}({v.value!r})" for v in (a, b))
            lines.append(f"    ok &= ({x} {CMP[op]} {y}) == {outcome}")
        lines.append("    return ok")
    return "\n".join(lines) + "\n"


from .trace_fuse import fuse  # noqa: E402 (it builds on this module's Node and Arg)
from . import trace_epoch  # noqa: E402


@functools.cache
def _kernels_hash() -> str:
    """The shared kernels' and the runtime's hash (in every module's first line): once per process."""
    data = resources.files("glia.runtime").joinpath("trace_kernels.py").read_bytes()
    return hashlib.sha256(data + runtime_hash().encode()).hexdigest()[:16]


@dataclass
class Compiled:
    trace: Trace
    step: object
    guards: object
    consts: tuple
    value: object = None
    path: str = ""  # the module's file
    hits: int = 0
    ready: bool = False  # run once (compiled or loaded) by an engine of this process


_LOADED: dict[str, Compiled] = {}  # in memory, by trace signature (the module file also by content)


def _trace_path(src: str) -> str:
    return f"{cache_dir()}/trace/glia_trace_{hashlib.sha256(src.encode()).hexdigest()[:20]}.py"


def compiled_before(t: Trace) -> bool:
    """Was this trace's module compiled on this machine already (Numba's cache holds it)?"""
    return t.signature in _LOADED or os.path.exists(_trace_path(generate(t)) + ".ok")


def compile_trace(t: Trace, dtype) -> Compiled:
    c = _LOADED.get(t.signature)
    if c is None:
        src = generate(t)
        path = write_source(_trace_path(src), src)
        key = os.path.basename(path)[len("glia_trace_"):-3]
        mod = import_module(key, path, "glia_trace_", restore=lambda: write_source(path, src))
        consts = (np.zeros(1, dtype),) + tuple(t.consts)
        c = _LOADED[t.signature] = Compiled(t, mod.step, getattr(mod, "guards", None), consts, mod.value, path)
    return c


# ---- the engine -----------------------------------------------------------------------------------

class TraceEngine(TapeEngine):
    """Trains through compiled traces, a batch of examples per call; the tape for the rest."""

    tracing = True

    def __init__(self, interp, task, opt, clip, tape_examples: int = 0):
        super().__init__(interp, task, opt, clip)
        self.adi = TraceInterpreter(interp)
        # examples the run will train (epochs x rows) when compiling must pay off within the run
        # (--engine auto); 0 when it compiles regardless (--engine compiled)
        self.tape_examples = tape_examples
        self.traced_seconds = 0.0  # one traced forward of the first example
        self.traces: list[Compiled] = []
        self.refused: dict[str, str] = {}  # why a run's trace was not compiled
        self.on_tape = 0  # examples the last epoch ran on the tape
        self.compiled_here = 0  # traces this run compiled (not loaded: compiled on this machine before)
        self.closed = False  # no more traces (the run is too short for compiling another)
        self.taken: list[Compiled] = []  # the traces in the order they came (self.traces is re-sorted)
        self.found: list[Trace] = []  # new traces of the minibatch running, compiled at its end
        self.pool = trace_pool.Pool()  # the worker processes that compile them with this one
        self.slot: dict[int, int] = {}  # id(trace) -> its index in self.taken
        self.route = np.full(len(task.X), -1, np.int64)  # each example's last trace (in self.taken)
        self.kernel = None  # the epoch kernel over self.taken (trace_epoch.py), once the traces settle
        self.kernel_addresses = ()  # its traces' compiled code (EpochKernel.order), for this engine's types
        self.kernel_refused: set[tuple] = set()  # the trace sets whose kernel is not to be built
        self.epochs_run = 0
        self.status = None  # what is compiling, for the progress bar or log: a callable(str), "" when done
        # the optimizer step is runtime/mlp_kernels._step on the optimizer's own buffers (checkpoints)
        self.opt_code, self.hyper = OPT_CODES[opt.name], hyper_of(opt, clip, self.store.dtype)
        self.m, self.v = state_of(opt, self.store.dtype)
        self.name = "compiled (traced Numba code, examples batched per trace; the tape for the rest)"
        y = task.y
        self.Y = y if y.ndim == 1 else np.ascontiguousarray(y, self.store.dtype)

    def first_trace(self):
        """Trace the first example (no gradient is kept); raises NoTrace."""
        tape = self.adi.tape = Tape(True)
        try:
            out = self.adi.call(self.task.fn, [tape.leaf(self.task.X[0])])
        except GliaError as e:
            if e.diagnostic.code != NOT_DIFFERENTIABLE:
                raise
            # a trace holds the example as a leaf of its tape, so a grad inside the model of a value
            # computed from it reads as a gradient of a gradient: such a model trains on the tape
            raise NoTrace("the model takes a gradient (grad) of a value computed from its input, which "
                          f"traces do not compile (line {e.diagnostic.span.line})") from None
        if self.tape_examples:  # time a second, warm traced forward: what a tape step costs, roughly
            timing = self.adi.tape = Tape(True)
            t0 = time.perf_counter()
            self.adi.call(self.task.fn, [timing.leaf(self.task.X[min(1, len(self.task.X) - 1)])])
            self.traced_seconds = time.perf_counter() - t0
        self.add(build(tape, out, self.store, self.task.loss_op))
        if not self.traces:
            raise NoTrace(next(iter(self.refused.values()), "no trace"))

    def add(self, t: Trace):
        """Compile (or load) the first trace now (first_trace)."""
        if self.admit(t):
            self.settle([t])

    def admit(self, t: Trace) -> bool:
        """Is the new trace t to be compiled (room, not one the engine has, a run long enough)?"""
        if len(self.traces) + len(self.found) >= MAX_TRACES or any(
                c.trace.signature == t.signature for c in self.traces) or any(
                f.signature == t.signature for f in self.found):
            return False
        if self.tape_examples and not compiled_before(t):
            # the whole run on the tape must outlast compiling this trace and those compiled before it
            tape_seconds = TAPE_STEP_FACTOR * self.traced_seconds * self.tape_examples
            if tape_seconds < WORTH_COMPILING_SECONDS * (self.compiled_here + 1):
                self.refused[t.signature] = (f"a short run: about {tape_seconds:.0f} s on the tape, less than compiling "
                                             f"{'its trace' if not self.compiled_here else 'one more trace'} would "
                                             "take (--engine compiled compiles anyway, and later runs load it)")
                self.closed = True  # the budget only shrinks: the run's other new traces are not built
                return False
            self.compiled_here += 1
        return True

    def settle(self, new: list[Trace]):
        """Compile (or load) the new traces, not inside a minibatch: several at once, this process and
        worker processes (trace_pool.py), each by a call on one example into a scratch gradient buffer;
        then they join the engine in the order they were found. Numba refusing the generated code is a
        bug in a codegen rule: the trace is refused with Numba's message, and its examples train on the
        tape."""
        made, failed = [], {}
        for t in new:
            try:
                made.append(compile_trace(t, self.store.dtype))
            except Exception as e:  # noqa: BLE001 (a codegen rule's refusal, the cache folder)
                self.refused[t.signature] = _refusal(e)

        def here(job):
            try:
                self.first_call(job.item)
            except Exception as e:  # noqa: BLE001 (Numba's typing and lowering errors)
                failed[id(job.item)] = e
        todo: dict[str, Compiled] = {}  # one job per module (two traces may share one), if not compiled yet
        for c in made:
            if not c.ready:
                todo.setdefault(c.path, c)
        # (minutes, for a model with many traces on a first run: the user is told why it waits)
        n, procs = len(todo), min(len(todo), trace_pool.processes())
        with self.saying(n and f"compiling {n} new trace{'s' if n > 1 else ''} of the model"
                         + (f" in {procs} processes" if procs > 1 else "")):
            self.pool.compile([trace_pool.Job(c, c.path, *self.first_args(c)) for c in todo.values()], here)
        for c in made:
            try:
                if id(c) in failed:
                    raise failed[id(c)]
                if not c.ready:  # compiled into Numba's cache by a worker (or not: compiled here then)
                    self.first_call(c)
            except Exception as e:  # noqa: BLE001 (Numba's typing and lowering errors)
                self.refused[c.trace.signature] = _refusal(e)
                continue
            self.traces.append(c)
            self.slot[id(c)] = len(self.taken)
            self.taken.append(c)

    @contextmanager
    def saying(self, what: str):
        """Tell `status` what is compiling while the block runs, and "" after it (nothing if `what` is
        empty: nothing to compile)."""
        if not what or self.status is None:
            yield
            return
        self.status(what)
        try:
            yield
        finally:
            self.status("")

    def first_args(self, c: Compiled) -> tuple:
        """The arguments of the call that compiles c's `step`, and its `guards`' (or None): one example,
        of the types the epoch kernel passes them (rows taken by an index array: C-contiguous, writable),
        so that the kernel's calls by address reach these very overloads."""
        X, flat = self.task.X[[0]], self.store.flat
        step = (X, self.Y[[0]], np.zeros((1, c.trace.draws)), flat, np.zeros_like(self.store.grad), c.consts,
                self.store.dtype.type(1))
        return step, (X, flat, c.consts) if c.guards is not None else None

    def first_call(self, c: Compiled):
        trace_pool.first_call(c.path, c.step, c.guards, *self.first_args(c))
        c.ready = True

    def close(self):
        """The end of the run: the compiling workers stop."""
        self.pool.close()

    def epoch(self, order, batch, lr):
        """Minibatches through the epoch kernel (trace_epoch.py) while it can take them, else here."""
        total, correct, self.on_tape = 0.0, 0, 0
        self.hyper[MK.LR] = lr
        order = np.ascontiguousarray(order, np.int64)
        kernel = self.epoch_kernel()
        self.interp.training = True
        errstate = np.errstate(divide="ignore", invalid="ignore", over="ignore")
        errstate.__enter__()
        try:
            s = 0
            while s < len(order):
                if kernel is not None:
                    s, status, loss, right = self.run_kernel(kernel, order, s, batch)
                    total, correct = total + loss, correct + right
                    if status == trace_epoch.DONE:
                        break
                    if status != trace_epoch.NEEDS_TAPE:
                        what = "the loss" if status == trace_epoch.LOSS_NOT_FINITE else "a gradient"
                        raise self.nonfinite(order[s:s + batch], what)
                loss, right = self.minibatch(order[s:s + batch])
                total, correct = total + loss, correct + right
                if kernel is not None and kernel.slots != len(self.taken):
                    kernel = None  # a new trace: the kernel again from the next epoch, with it
                s += batch
            self.traces.sort(key=lambda c: -c.hits)
        finally:
            errstate.__exit__(None, None, None)
            self.interp.training = False
        self.epochs_run += 1
        return total / len(order), self.task.accuracy(correct, len(order))

    def minibatch(self, rows):
        """One minibatch in Python, in its order: the examples up to the first that no trace takes through
        the compiled traces, that one on the tape (its tape perhaps a new trace), and so on; then the
        optimizer step. The order is the tape engine's, so dropout masks are drawn as there. Returns
        (summed loss, number right)."""
        self.store.zero_grad()
        total, correct, n = 0.0, 0, len(rows)
        todo = np.asarray(rows, np.int64)
        while len(todo):
            plan, pending = self.assign(todo)
            k = int(np.argmax(np.isin(todo, pending))) if len(pending) else len(todo)
            if k < len(todo):  # the examples after it go again once it has run (perhaps through its trace)
                plan = [(c, m[np.isin(m, todo[:k])]) for c, m in plan]
            loss, right = self.run(plan, todo[:k], n)
            total, correct = total + loss, correct + right
            if k == len(todo):
                break
            loss, right, tape = self.step(todo[k:k + 1], n)
            total, correct = total + loss, correct + right
            self.on_tape += 1
            todo = todo[k + 1:]
            if len(self.traces) + len(self.found) >= MAX_TRACES or self.closed:
                continue  # no room for its trace: building it (a few ms) would be for nothing
            try:
                t = build(tape, self.last_out, self.store, self.task.loss_op)
            except NoTrace as e:
                self.refused.setdefault(str(e), str(e))
                continue
            if self.admit(t):
                self.found.append(t)  # compiled with the minibatch's other new traces at its end
        if not math.isfinite(total):
            raise self.nonfinite(rows, "the loss")
        if not np.all(np.isfinite(self.store.grad)):
            raise self.nonfinite(rows, "a gradient")
        if self.found:
            found, self.found = self.found, []
            self.settle(found)  # so from the next minibatch on, however many processes compile them
        self.opt.t += 1  # the optimizer step of the epoch kernel: the same parameters either way
        MK._step(self.opt_code, self.hyper, self.opt.t, self.store.flat, self.store.grad, self.m, self.v)
        return total, correct

    def epoch_kernel(self):
        """The epoch kernel over the current traces (built, or loaded, when the traces have settled:
        from the first epoch when a trace without decisions takes every example, else after one epoch),
        or None."""
        if not self.traces or (not self.epochs_run and all(c.trace.decides for c in self.traces)):
            return None
        if self.kernel is not None and self.kernel.slots == len(self.taken):
            return self.kernel
        self.kernel = None
        key = tuple(c.path for c in self.taken)
        if key in self.kernel_refused:
            return None
        int_labels, score = self.Y.ndim == 1, self.task.score
        if self.tape_examples and not trace_epoch.compiled_before(self.taken, int_labels, score):
            tape_seconds = TAPE_STEP_FACTOR * self.traced_seconds * self.tape_examples
            if tape_seconds < WORTH_COMPILING_SECONDS * (self.compiled_here + 1):
                self.kernel_refused.add(key)  # a short run: the minibatch loop stays in Python
                return None
            self.compiled_here += 1
        try:
            k = trace_epoch.epoch_kernel(self.taken, int_labels, score)
            self.kernel_addresses = self.addresses(k)
            if not k.ready:
                with self.saying(f"compiling the epoch over {len(self.taken)} trace{'s' if len(self.taken) > 1 else ''}"):
                    self.run_kernel(k, np.zeros(0, np.int64), 0, 1)  # compiles (or loads) it, runs nothing
        except Exception as e:  # noqa: BLE001 (Numba's typing and lowering errors: the loop stays in Python)
            self.kernel_refused.add(key)
            self.refused[key] = f"Numba could not compile the epoch ({type(e).__name__}: {str(e)[:200]})"
            return None
        if not k.ready:
            if not os.path.exists(k.path + ".ok"):
                open(k.path + ".ok", "w").close()
            k.ready = True
        self.kernel = k
        return k

    def addresses(self, k) -> tuple:
        """The addresses of the kernel's traces' compiled `step` and `guards` (0: none), in its canonical
        order, for this engine's argument types (those the kernel passes them, see first_args)."""
        saddr, gaddr = np.zeros(len(k.order), np.int64), np.zeros(len(k.order), np.int64)
        for j, c in enumerate(k.order):
            step, guards = self.first_args(c)
            saddr[j] = nbcall.address(c.step, step)
            if guards is not None:
                gaddr[j] = nbcall.address(c.guards, guards)
        return saddr, gaddr

    def run_kernel(self, k, order, start, batch):
        """Minibatches of `order` from `start` in the epoch kernel k: returns (where it stopped, its
        status, summed loss, number right)."""
        hits = np.array([c.hits for c in self.taken], np.int64)
        trace_order = np.array([self.slot[id(c)] for c in self.traces], np.int64)
        s, status, total, correct, t = k.fn(self.task.X, self.Y, order, start, batch, self.store.flat,
                                            self.store.grad, k.consts, self.route, k.canon, trace_order, hits,
                                            self.opt_code, self.hyper, self.opt.t, self.m, self.v,
                                            self.interp.rng, k.draws, *self.kernel_addresses)
        self.opt.t = int(t)
        for c, h in zip(self.taken, hits):
            c.hits = int(h)
        return int(s), int(status), float(total), int(correct)

    def nonfinite(self, rows, what):
        """E702 for the minibatch `rows`, naming the operation where the tape finds it."""
        return self.locate_nonfinite(rows, what) or GliaRuntimeError(
            "E702", f"{what} became NaN or infinite in compiled training code")

    def compiled_step(self, rows, n):
        """Forward and backward of `rows` (in a minibatch of `n`) through the traces whose guards they pass,
        gradients added into the flat buffer; returns (summed loss, number correct, rows left)."""
        rows = np.asarray(rows, np.int64)
        plan, pending = self.assign(rows)
        return self.run(plan, rows[~np.isin(rows, pending)], n) + (pending,)

    def assign(self, rows):
        """Each trace's share of `rows`, by their guards, and the rows none takes: [(trace, rows)], rows. A
        row tries first the trace it took last time (its guards checked again, as they may read the
        parameters): a tree's shape, for one, never changes; then the traces in the engine's order."""
        plan = []
        pending = np.asarray(rows, np.int64)
        last = self.route[pending]
        left = [pending[last < 0]]
        for k in np.unique(last[last >= 0]):
            match, rest = self.passing(self.taken[k], pending[last == k])
            plan.append((self.taken[k], match))
            left.append(rest)
        pending = np.concatenate(left)
        for c in self.traces:
            if not len(pending):
                break
            match, pending = self.passing(c, pending)
            plan.append((c, match))
        return plan, pending

    def passing(self, c, rows):
        """The rows that pass trace c's guards, and the others."""
        if c.guards is None:
            return rows, rows[:0]
        ok = c.guards(self.task.X[rows], self.store.flat, c.consts)
        return rows[ok], rows[~ok]

    def run(self, plan, rows, n):
        """Each trace of the plan over its rows (`rows`, in the minibatch's order, are theirs together);
        returns (summed loss, number correct)."""
        total, correct = 0.0, 0
        X, Y = self.task.X, self.Y
        for (c, match), U in zip(plan, self.uniforms(plan, rows)):
            if not len(match):
                continue
            c.hits += len(match)
            self.route[match] = self.slot[id(c)]
            L, out = c.step(X[match], Y[match], U, self.store.flat, self.store.grad, c.consts,
                            self.store.dtype.type(1.0 / n))
            total, correct = total + float(L.sum()), correct + _correct_rows(self.task, out, self.task.y[match])
        return total, correct

    def uniforms(self, plan, rows):
        """For each trace of the plan, the uniforms of its rows' dropout masks ([rows, draws]), drawn from
        the interpreter's generator as the tape draws them: example after example in the order of
        `rows` (the epoch kernel draws the same way, trace_epoch.py)."""
        if not any(c.trace.draws for c, _ in plan):
            return [np.empty((len(m), 0)) for _, m in plan]
        at = {r: i for i, r in enumerate(rows.tolist())}
        size = np.zeros(len(rows), np.int64)
        for c, m in plan:
            size[[at[r] for r in m.tolist()]] = c.trace.draws
        start = np.concatenate(([0], np.cumsum(size)))
        u = self.interp.rng.random(int(start[-1]))
        return [u[start[[at[r] for r in m.tolist()]][:, None] + np.arange(c.trace.draws)] for c, m in plan]


def _refusal(e: Exception) -> str:
    """Why a trace is not compiled: a codegen rule's refusal (NoTrace), else Numba's message."""
    if isinstance(e, NoTrace):
        return str(e)
    return f"Numba could not compile the trace ({type(e).__name__}: {str(e)[:200]})"


def _correct_rows(task, out, y) -> int:
    if task.binary:
        return int(np.sum((out > 0.5) == (np.reshape(y, np.shape(out)) > 0.5)))
    if not task.classes:
        return 0
    return int(np.sum(np.argmax(out, axis=1) == (y if y.ndim == 1 else np.argmax(y, axis=1))))


def trace_engine(interp, task, opt, clip, tape_examples: int = 0, status=None):
    """(TraceEngine, None), or (None, why the model trains on the tape). `tape_examples`: see
    TraceEngine (0: compile whatever the run's length). `status`: see TraceEngine.status, for the
    first trace's compile."""
    if task.batched:
        return None, "a model over a batch is not traced yet"
    why = static_refusal(interp.program, task.fn)
    if why:
        return None, why
    eng = TraceEngine(interp, task, opt, clip, tape_examples)
    eng.status = status
    try:
        eng.first_trace()
    except NoTrace as e:
        return None, str(e)
    return eng, None

