"""Text for compiled code: formatting values as Python does, parsing numbers, writing to stdout.

All of it runs in nopython mode and is cached (`cache=True`): no `objmode` block, which Numba would
rebuild (type-infer and compile again) every time a cached caller is loaded. Where Python's exact
behaviour matters (the shortest repr of a float, parsing a float, writing through `sys.stdout`),
the helpers call the same C functions CPython uses (`PyOS_double_to_string`,
`PyOS_string_to_double`, `PySys_FormatStdout`), declared by name so the machine code stays cacheable.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir as llir
from numba import types
from numba.core import cgutils
from numba.cpython.unicode import PY_UNICODE_1BYTE_KIND, _empty_string, _set_code_point
from numba.core.imputils import impl_ret_untracked, lower_builtin
from numba.extending import intrinsic, overload

from .nbjit import jit

_DTSF_ADD_DOT_0 = 0x02

# ---- calls into CPython's C API ------------------------------------------------------------------


def _c_function(builder, name, ret, args):
    fnty = llir.FunctionType(ret, args)
    return cgutils.get_or_insert_function(builder.module, fnty, name)


_i8p = llir.IntType(8).as_pointer()


@intrinsic
def _double_to_cstr(typingctx, x, code, precision):
    """PyOS_double_to_string(x, code, precision, Py_DTSF_ADD_DOT_0 if code == 'r' else 0): a
    PyMem-allocated C string (free it with _mem_free)."""
    sig = types.voidptr(types.float64, types.int64, types.int64)

    def codegen(context, builder, signature, args):
        i32 = llir.IntType(32)
        fn = _c_function(builder, "PyOS_double_to_string", _i8p,
                         [llir.DoubleType(), llir.IntType(8), i32, i32, i32.as_pointer()])
        code8 = builder.trunc(args[1], llir.IntType(8))
        flags = builder.select(builder.icmp_signed("==", args[1], llir.Constant(llir.IntType(64), ord("r"))),
                               i32(_DTSF_ADD_DOT_0), i32(0))
        return builder.call(fn, [args[0], code8, builder.trunc(args[2], i32), flags,
                                 llir.Constant(i32.as_pointer(), None)])
    return sig, codegen


@intrinsic
def _cstr_to_double(typingctx, ptr, endptr_out):
    """PyOS_string_to_double(ptr, &end, NULL); end is stored in endptr_out[0] (as an integer). A
    Python exception it raises is cleared: the caller looks at `end` instead."""
    sig = types.float64(types.uintp, types.CPointer(types.uintp))

    def codegen(context, builder, signature, args):
        fn = _c_function(builder, "PyOS_string_to_double", llir.DoubleType(),
                         [_i8p, _i8p.as_pointer(), _i8p])
        end = cgutils.alloca_once(builder, _i8p)
        r = builder.call(fn, [builder.inttoptr(args[0], _i8p), end, llir.Constant(_i8p, None)])
        builder.store(builder.ptrtoint(builder.load(end), llir.IntType(64)), args[1])
        clear = _c_function(builder, "PyErr_Clear", llir.VoidType(), [])
        builder.call(clear, [])
        return r
    return sig, codegen


@intrinsic
def _mem_free(typingctx, ptr):
    sig = types.void(types.voidptr)

    def codegen(context, builder, signature, args):
        builder.call(_c_function(builder, "PyMem_Free", llir.VoidType(), [_i8p]), [args[0]])
        return context.get_dummy_value()
    return sig, codegen


@intrinsic
def _load_byte(typingctx, ptr, i):
    sig = types.int64(types.voidptr, types.int64)

    def codegen(context, builder, signature, args):
        p = builder.gep(builder.bitcast(args[0], _i8p), [args[1]])
        return builder.zext(builder.load(p), llir.IntType(64))
    return sig, codegen


@intrinsic
def code_at(typingctx, data, kind, i):
    """The code point at `i` of a string's characters (`s._data`, `s._kind`: 1, 2 or 4 bytes each),
    0 <= i < len(s) (proven by the caller). With the data and kind read once before a loop, a read is
    a branch on the kind, which the loop never changes, and a load (Numba's `s[i]`-style
    `_get_code_point` reads them from the string at every access)."""
    sig = types.int64(types.voidptr, types.intp, types.intp)

    def codegen(context, builder, signature, args):
        p, k, index = args
        i64 = llir.IntType(64)
        out = cgutils.alloca_once(builder, i64)

        def read(bits: int):
            q = builder.bitcast(p, llir.IntType(bits).as_pointer())
            builder.store(builder.zext(builder.load(builder.gep(q, [index])), i64), out)
        with builder.if_else(builder.icmp_signed("==", k, k.type(1)), likely=True) as (one, wider):
            with one:
                read(8)
            with wider:
                with builder.if_else(builder.icmp_signed("==", k, k.type(2))) as (two, four):
                    with two:
                        read(16)
                    with four:
                        read(32)
        return builder.load(out)
    return sig, codegen


def _write_boxed(context, builder, ty, val) -> None:
    """Write the string `val` to sys.stdout as a Python object (`%U`): a C string would end at a NUL.
    The caller holds the GIL."""
    pyapi = context.get_python_api(builder)
    if context.enable_nrt:
        context.nrt.incref(builder, ty, val)  # boxing steals a reference
    obj = pyapi.from_native_value(ty, val, context.get_env_manager(builder))
    with builder.if_then(cgutils.is_not_null(builder, obj), likely=True):
        pyapi.sys_write_stdout(context.insert_const_string(builder.module, "%U"), obj)
        pyapi.decref(obj)


@intrinsic
def _write_str(typingctx, s):
    """Write a string to sys.stdout, whatever it holds."""
    sig = types.void(types.unicode_type)

    def codegen(context, builder, signature, args):
        pyapi = context.get_python_api(builder)
        gil = pyapi.gil_ensure()
        _write_boxed(context, builder, signature.args[0], args[0])
        pyapi.gil_release(gil)
        return context.get_dummy_value()
    return sig, codegen


_PYIO = "glia.runtime.pyio"


@intrinsic
def call_python(typingctx, name, a, b):
    """`(ok, text)` from the function `name` (a constant) of runtime/pyio.py called with the strings
    `a` and `b`, through CPython's C API with the GIL held: files and standard input as the
    interpreter reads and writes them, in code that stays cacheable (an `objmode` block would be
    compiled again on every run). A Python exception the call raises (a KeyboardInterrupt while
    waiting for input) propagates from the compiled function as it is."""
    text_types = (types.UnicodeType, types.StringLiteral)
    if not (isinstance(name, types.StringLiteral) and isinstance(a, text_types) and isinstance(b, text_types)):
        return None
    result = types.Tuple((types.boolean, types.unicode_type))
    function = name.literal_value

    def codegen(context, builder, signature, args):
        pyapi = context.get_python_api(builder)
        env = context.get_env_manager(builder)
        ok_p = cgutils.alloca_once_value(builder, cgutils.false_bit)
        text_p = cgutils.alloca_once(builder, context.get_value_type(types.unicode_type), zfill=True)
        failed = cgutils.alloca_once_value(builder, cgutils.true_bit)
        gil = pyapi.gil_ensure()
        module = pyapi.import_module(context.insert_const_string(builder.module, _PYIO))
        with builder.if_then(cgutils.is_not_null(builder, module), likely=True):
            fn = pyapi.object_getattr_string(module, function)
            with builder.if_then(cgutils.is_not_null(builder, fn), likely=True):
                boxed = []
                for v in args[1:]:
                    context.nrt.incref(builder, types.unicode_type, v)  # boxing steals a reference
                    boxed.append(pyapi.from_native_value(types.unicode_type, v, env))
                out = pyapi.call_function_objargs(fn, boxed)
                for obj in boxed:
                    pyapi.decref(obj)
                with builder.if_then(cgutils.is_not_null(builder, out), likely=True):
                    builder.store(builder.trunc(pyapi.object_istrue(pyapi.tuple_getitem(out, 0)), llir.IntType(1)),
                                  ok_p)
                    text = pyapi.to_native_value(types.unicode_type, pyapi.tuple_getitem(out, 1))
                    builder.store(text.value, text_p)
                    builder.store(text.is_error, failed)
                    pyapi.decref(out)
                pyapi.decref(fn)
            pyapi.decref(module)
        pyapi.gil_release(gil)
        with builder.if_then(builder.load(failed), likely=False):
            context.call_conv.return_exc(builder)  # the Python exception is set: the caller raises it
        return context.make_tuple(builder, result, [builder.load(ok_p), builder.load(text_p)])
    return result(name, types.unicode_type, types.unicode_type), codegen


@lower_builtin("print_item", types.unicode_type)
def _print_item_str(context, builder, sig, args):
    """Numba's print of a string (its `print_item`, called with the GIL held) writes it through a C
    string, which ends at a NUL; this one writes the string object."""
    _write_boxed(context, builder, sig.args[0], args[0])
    return impl_ret_untracked(context, builder, sig.return_type, context.get_dummy_value())


@lower_builtin("print_item", types.StringLiteral)
def _print_item_str_constant(context, builder, sig, args):
    """The same for a constant string (Numba's writes its str() through a C string too)."""
    pyapi = context.get_python_api(builder)
    obj = pyapi.unserialize(pyapi.serialize_object(sig.args[0].literal_value))
    pyapi.sys_write_stdout(context.insert_const_string(builder.module, "%U"), obj)
    pyapi.decref(obj)
    return impl_ret_untracked(context, builder, sig.return_type, context.get_dummy_value())


@jit
def _cstr_to_str(p):
    n = 0
    while _load_byte(p, n) != 0:
        n += 1
    s = _empty_string(PY_UNICODE_1BYTE_KIND, n, 1)
    for i in range(n):
        _set_code_point(s, i, _load_byte(p, i))
    return s


@jit
def _utf8(s):
    """s encoded as UTF-8, NUL-terminated, in a uint8 array."""
    out = np.empty(4 * len(s) + 1, np.uint8)
    n = 0
    for c in s:
        o = ord(c)
        if o < 0x80:
            out[n] = o
            n += 1
        elif o < 0x800:
            out[n] = 0xC0 | (o >> 6)
            out[n + 1] = 0x80 | (o & 0x3F)
            n += 2
        elif o < 0x10000:
            out[n] = 0xE0 | (o >> 12)
            out[n + 1] = 0x80 | ((o >> 6) & 0x3F)
            out[n + 2] = 0x80 | (o & 0x3F)
            n += 3
        else:
            out[n] = 0xF0 | (o >> 18)
            out[n + 1] = 0x80 | ((o >> 12) & 0x3F)
            out[n + 2] = 0x80 | ((o >> 6) & 0x3F)
            out[n + 3] = 0x80 | (o & 0x3F)
            n += 4
    out[n] = 0
    return out


# ---- output --------------------------------------------------------------------------------------


@jit
def write(s):
    """Write s to sys.stdout (no newline added)."""
    _write_str(s)


# ---- formatting ----------------------------------------------------------------------------------


@jit
def float_repr(x):
    """repr(x) of a Python float: the shortest digits that round-trip."""
    p = _double_to_cstr(x, ord("r"), 0)
    s = _cstr_to_str(p)
    _mem_free(p)
    return s


@jit
def _parse_ascii(s):
    """PyOS_string_to_double of an ASCII string: (value, characters consumed)."""
    buf = _utf8(s)
    end = np.zeros(1, np.uintp)
    start = buf.ctypes.data
    v = _cstr_to_double(start, end.ctypes)
    return v, int(end[0] - start)


@jit
def _round_digits(d, digits):
    """d rounded to that many significant decimal digits (C's %.*e), and its decimal exponent."""
    p = _double_to_cstr(d, ord("e"), digits - 1)
    s = _cstr_to_str(p)
    _mem_free(p)
    v, _ = _parse_ascii(s)
    e = 0
    sign = 1
    for c in s[s.find("e") + 1:]:
        if c == "-":
            sign = -1
        elif c != "+":
            e = e * 10 + ord(c) - ord("0")
    return v, sign * e


@jit
def f32_repr(x):
    """The shortest digits that round-trip in single precision, in Python's float style
    (runtime/fmt.py format_f32, which takes NumPy's). At each length the nearest decimal is tried,
    then the next one away from zero: at a power of two the gap above is twice the gap below, so
    the nearest can miss where the next one up still round-trips (2.0 ** -96 is 1.2621775e-29)."""
    d = np.float64(x)
    if d != d or d == np.inf or d == -np.inf or d == 0.0:
        return float_repr(d)
    for digits in range(1, 10):
        v, e = _round_digits(d, digits)
        if np.float32(v) == x:
            return float_repr(v)
        if abs(v) < abs(d):
            up, _ = _round_digits(v + np.copysign(10.0 ** (e - digits + 1), d), digits)
            if np.float32(up) == x:
                return float_repr(up)
    return float_repr(d)


@jit
def str_repr(s):
    """repr(s) of a Python str."""
    quote = "'"
    if "'" in s and '"' not in s:
        quote = '"'
    out = quote
    hexd = "0123456789abcdef"
    for c in s:
        o = ord(c)
        if c == quote or c == "\\":
            out += "\\" + c
        elif c == "\n":
            out += "\\n"
        elif c == "\r":
            out += "\\r"
        elif c == "\t":
            out += "\\t"
        elif o < 0x20 or o == 0x7F:
            out += "\\x" + hexd[o >> 4] + hexd[o & 15]
        elif o < 0x7F or c.isprintable():
            out += c
        elif o < 0x100:
            out += "\\x" + hexd[o >> 4] + hexd[o & 15]
        elif o < 0x10000:
            out += "\\u" + hexd[o >> 12] + hexd[(o >> 8) & 15] + hexd[(o >> 4) & 15] + hexd[o & 15]
        else:
            out += "\\U"
            for k in range(7, -1, -1):
                out += hexd[(o >> (4 * k)) & 15]
    return out + quote


@jit
def int_str(i):
    """str() of an int. Numba's negates a negative argument first, which overflows for the smallest
    int (its digit count then asks for an impossible allocation)."""
    if i == -9223372036854775808:
        return "-9223372036854775808"
    return str(i)


def repr_value(v):
    """repr() of a number, bool, string or tuple of them, in compiled code (type-dispatched)."""
    raise NotImplementedError  # only called from compiled code; see the overload below


@overload(repr_value)
def _repr_value(v):
    if isinstance(v, types.Boolean):
        return lambda v: "True" if v else "False"
    if isinstance(v, types.Integer):
        return lambda v: int_str(v)
    if v == types.float32:
        return lambda v: f32_repr(v)
    if isinstance(v, types.Float):
        return lambda v: float_repr(v)
    if isinstance(v, types.UnicodeType):
        return lambda v: str_repr(v)
    if isinstance(v, types.BaseTuple):
        n = len(v)
        if n == 0:
            return lambda v: "()"
        if n == 1:
            return lambda v: "(" + repr_value(v[0]) + ",)"
        return lambda v: "(" + _tuple_items(v) + ")"
    if v is types.none:
        return lambda v: "None"
    return None


def _tuple_items(v):
    raise NotImplementedError


@overload(_tuple_items)
def _tuple_items_impl(v):
    # each element may have its own type: recursion on the (statically sliced) rest of the tuple
    if len(v) == 1:
        return lambda v: repr_value(v[0])
    return lambda v: repr_value(v[0]) + ", " + _tuple_items(v[1:])


@jit
def float_round_digits(x, nd):
    """round(x, nd) of a Python float: correctly rounded (half to even on the exact binary value),
    through the same dtoa CPython uses."""
    if x != x or x == np.inf or x == -np.inf or x == 0.0:
        return x
    if nd >= 0:
        if nd > 330:
            return x
        p = _double_to_cstr(x, ord("f"), nd)
        s = _cstr_to_str(p)
        _mem_free(p)
        v, _ = _parse_ascii(s)
        return v
    # nd < 0: keep the digits above 10**-nd, from the exponent form
    p = _double_to_cstr(abs(x), ord("e"), 17)
    e = _cstr_to_str(p)
    _mem_free(p)
    exp10 = parse_int(e[e.find("e") + 1:], 10)[1]
    keep = exp10 + nd  # digits after the first that survive
    if keep >= 0:
        p = _double_to_cstr(x, ord("e"), keep)
        s = _cstr_to_str(p)
        _mem_free(p)
        v, _ = _parse_ascii(s)
        return v
    if keep == -1:  # |x| in [10**(-nd-1), 10**-nd): 0 or 10**-nd, ties to 0 (even)
        unit = 10.0 ** (-nd)
        if abs(x) > unit / 2:
            return unit if x > 0 else -unit
    return 0.0 if x > 0 else -0.0


# ---- parsing -------------------------------------------------------------------------------------


@jit
def _digit(c):
    o = ord(c)
    if 48 <= o <= 57:
        return o - 48
    if 97 <= o <= 122:
        return o - 87
    if 65 <= o <= 90:
        return o - 55
    return 99


@jit
def parse_int(s, base):
    """int(s, base) for ASCII digits: (status, value); status 0 ok, 1 invalid literal, 2 overflow
    (the literal is valid but does not fit in 64 bits), 3 a base that is not 0 or 2..36."""
    if base != 0 and (base < 2 or base > 36):
        return 3, 0
    t = s.strip()
    n = len(t)
    i = 0
    neg = False
    if i < n and (t[i] == "+" or t[i] == "-"):
        neg = t[i] == "-"
        i += 1
    b = base
    prefixed = False
    if i + 1 < n and t[i] == "0":
        p = t[i + 1].lower()
        if (p == "x" and (b == 16 or b == 0)) or (p == "o" and (b == 8 or b == 0)) \
                or (p == "b" and (b == 2 or b == 0)):
            b = 16 if p == "x" else (8 if p == "o" else 2)
            i += 2
            prefixed = True
    if b == 0:
        b = 10
        # base 0 takes no leading zeros in a non-zero decimal literal
        if i < n and t[i] == "0":
            for j in range(i, n):
                if t[j] != "0" and t[j] != "_":
                    return 1, 0
    acc = 0  # accumulated negatively, so that INT_MIN fits
    ndigits = 0
    over = False
    last_underscore = False  # "0x_ff": one underscore may follow a prefix, as in Python
    while i < n:
        c = t[i]
        i += 1
        if c == "_":
            if last_underscore or (ndigits == 0 and not prefixed):
                return 1, 0
            last_underscore = True
            continue
        d = _digit(c)
        if d >= b:
            return 1, 0
        last_underscore = False
        ndigits += 1
        if not over:
            low = -9223372036854775807 - 1 + d  # acc * b - d >= INT_MIN  <=>  acc >= ceil(low / b)
            q = low // b
            if q * b != low:
                q += 1
            if acc < q:
                over = True
            else:
                acc = acc * b - d
    if ndigits == 0 or (last_underscore and ndigits > 0):
        return 1, 0
    if over:
        return 2, 0
    if not neg:
        if acc == -9223372036854775807 - 1:
            return 2, 0
        return 0, -acc
    return 0, acc


@jit
def parse_float(s):
    """float(s) for ASCII text: (ok, value). Whitespace around it, a sign, digits with single
    underscores between them, an exponent, inf/infinity/nan in any case: Python's rules."""
    t = s.strip()
    n = len(t)
    if n == 0:
        return False, 0.0
    clean = ""
    prev_digit = False
    for i in range(n):
        c = t[i]
        o = ord(c)
        if o > 127:
            return False, 0.0
        if c == "_":
            if not prev_digit or i + 1 >= n or not (48 <= ord(t[i + 1]) <= 57):
                return False, 0.0
            continue
        prev_digit = 48 <= o <= 57
        clean += c
    low = clean.lower()
    if low.startswith("0x") or low.startswith("+0x") or low.startswith("-0x"):
        return False, 0.0  # Python's float() takes no hexadecimal
    v, used = _parse_ascii(clean)
    if used != len(clean):
        return False, 0.0
    return True, v
