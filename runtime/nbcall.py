"""Calling a compiled function by its address, handed in at run time, instead of linking its code.

Numba calls a jitted function from another by linking the callee's code into the caller's module:
its machine code is generated again inside every caller. The epoch kernel of a training run over
trees (compiler/trace_epoch.py) calls each of its 25 traces' `step`, so it generated all their code a
second time: 31 of the 118 seconds of examples/neural/tree_rnn.glia's first run.

`at_address(dispatcher)` is instead a function of compiled code, `call(address, (arg, ...))`, that
calls the dispatcher's *already compiled* overload for those argument types through a pointer, with
Numba's own calling convention (so an exception the callee raises reaches the caller as from a
linked call). Nothing of the callee enters the caller's module: its address is an argument, so the
caller's machine code, cached by Numba, holds in any process. The caller's Python side passes
`address(dispatcher, args)`, the address of the same overload, found by the types of the very
arguments the compiled caller passes (trace_compile.TraceEngine.first_args makes them so).

Typing refuses a call whose argument types have no compiled overload (it would not be the one whose
address the caller is given): the caller is then not compiled at all (a TypingError), rather than
compiled to call the wrong code.
"""
from __future__ import annotations

from llvmlite import ir as llvmir
from numba import typeof
from numba.core import cgutils, types
from numba.core.errors import TypingError
from numba.extending import intrinsic


def at_address(dispatcher):
    """A compiled-code function `call(address, args_tuple)`: dispatcher's overload for the tuple's
    element types, called through `address` (an integer)."""

    @intrinsic
    def call(typingctx, address, args):
        if not isinstance(address, types.Integer) or not isinstance(args, types.BaseTuple):
            raise TypingError("at_address: call(address: int, args: tuple)")
        argtys = tuple(args.types)
        cres = dispatcher.overloads.get(argtys)
        if cres is None:
            raise TypingError(f"{dispatcher.py_func.__name__} has no compiled overload for {argtys}: compile it "
                              "first, with the arguments whose address the caller passes")
        restype = cres.signature.return_type

        def codegen(context, builder, sig, llargs):
            addr, packed = llargs
            values = [builder.extract_value(packed, i) for i in range(len(argtys))]
            fnty = context.call_conv.get_function_type(restype, argtys)
            fn = builder.inttoptr(addr, llvmir.PointerType(fnty))
            status, out = context.call_conv.call_function(builder, fn, restype, argtys, values)
            with cgutils.if_unlikely(builder, status.is_error):
                context.call_conv.return_status_propagate(builder, status)
            return out

        return restype(address, args), codegen

    return call


def address(dispatcher, args: tuple) -> int:
    """The address of dispatcher's compiled overload for the types of `args` (KeyError if none)."""
    cres = dispatcher.overloads[tuple(typeof(a) for a in args)]
    addr = cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)
    if not addr:
        raise KeyError(cres.fndesc.llvm_func_name)
    return addr
