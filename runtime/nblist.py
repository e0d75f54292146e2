"""Array-backed growable lists for compiled code: how the CPU backend represents `list[T]` for a
scalar `T` (int, float, f32, bool) or a tuple of scalars (`(float, int)`).

A `numba.typed.List` is a C container: every element read or write is an out-of-line call, so LLVM
can neither hoist nor vectorise a loop over it (hand-written Numba over typed Lists ran 6-160x slower
than over arrays; docs/benchmarks.md). An `ArrayList` is a Numba structref (a reference-counted,
mutable record, so aliasing behaves as Python's lists do) holding a NumPy array `data`, whose length
is the capacity, and the number `n` of live elements `data[:n]`; appends double the capacity. Element
access compiles to a load from `data` that LLVM inlines. A list of tuples of scalars stores them as
a NumPy record array (one aligned field per tuple item: runtime/values.py's array_dtype), read and
written a field at a time as a Numba tuple (`_load`, `_store`), so no tuple is ever boxed.

The structref type is defined here, in an importable module, so compiled functions that take or
return one are cached by Numba (`cache=True`) like any other. In jitted code an ArrayList supports
`len`, `xs[i]` (the caller has checked the index: see nbrt.list_getitem), `xs[i] = v`, `x in xs` and
the methods append, pop, insert, extend, copy, clear, reverse and sort; generic helpers that must
also work on a typed List (`empty_like`, `repeat`) are overloaded for both.
"""
from __future__ import annotations

import ctypes
import hashlib
import operator

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.core.extending import intrinsic, overload, overload_method
from numba.core.imputils import impl_ret_borrowed
from numba.experimental import structref
from numba.np.numpy_support import from_dtype
from numba.typed.listobject import _container_get_data, ll_list_type
from llvmlite import binding as llvm
from llvmlite import ir as llir

from . import allocator
from .nbjit import jit
from .values import ARRAY_ELEMS, array_dtype  # which lists are ArrayLists, and their dtypes



@structref.register
class ArrayListType(types.StructRef):
    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(t)) for name, t in fields)


class ArrayList(structref.StructRefProxy):
    """The Python face of an ArrayList (what compiled code returns); `to_list` converts it."""

    def __new__(cls, data, n):
        return structref.StructRefProxy.__new__(cls, data, n)

    def to_array(self) -> np.ndarray:
        return _live(self)

    def to_list(self) -> list:
        """The elements as Python values (tuples of Python scalars for a list of tuples)."""
        return _live(self).tolist()


structref.define_proxy(ArrayList, ArrayListType, ["data", "n"])


def list_type(elem: types.Type) -> ArrayListType:
    """The Numba type of an ArrayList of `elem` (a Numba scalar or record type)."""
    return ArrayListType([("data", types.Array(elem, 1, "C")), ("n", types.int64)])


def list_type_of(elem) -> ArrayListType:
    """The Numba type of an ArrayList of `elem` (a scalar's name, or a tuple of them: values.array_elem)."""
    return list_type(from_dtype(array_dtype(elem)))


def from_values(values, elem) -> ArrayList:
    """An ArrayList holding the Python `values` (scalars, or tuples of scalars), of element `elem`
    (values.array_elem)."""
    data = np.array(values if isinstance(elem, str) else [tuple(v) for v in values], dtype=array_dtype(elem))
    return ArrayList(np.ascontiguousarray(data), len(data))


@jit
def _live(xs):
    return xs.data[:xs.n].copy()


allocator.tune()  # compiled code's small blocks merge when freed (runtime/allocator.py)


# ---- construction ---------------------------------------------------------------------------------

def _dtype_of(dtype) -> types.Type | None:
    """The element type a `dtype` argument names (np.int64 and the like, or an array's `.dtype`)."""
    if isinstance(dtype, types.DType):
        return dtype.dtype
    if isinstance(dtype, types.NumberClass):
        return dtype.instance_type
    return None


def _array(context, builder, elem, count, data, meminfo):
    """The 1-d C array of `count` elements of `elem` at `data`, owned by `meminfo` (or by nothing)."""
    from numba.np.arrayobj import populate_array

    arr = context.make_array(types.Array(elem, 1, "C"))(context, builder)
    itemsize = context.get_constant(types.intp, context.get_abi_sizeof(context.get_data_type(elem)))
    populate_array(arr, data=builder.bitcast(data, arr.data.type), shape=[count], strides=[itemsize],
                   itemsize=itemsize, meminfo=meminfo)
    return arr._getvalue()


@intrinsic
def _buffer(typingctx, n, dtype):
    """np.empty(n, dtype) for an ArrayList's elements, n >= 0: one allocation of the reference-count
    header and n elements, 16-byte aligned as malloc gives it. NumPy's `np.empty` in Numba asks for
    32-byte alignment, which NRT gets by allocating 64 bytes more than the elements need: a list of
    4 ints took a 160-byte block for 32 bytes of elements, and a `list[list[int]]` of 200,000 rows of
    about 5 ints 80 MB, where its elements are 8 MB (52 MB now; docs/benchmarks.md, "BFS")."""
    elem = _dtype_of(dtype)
    if elem is None or not isinstance(n, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        itemsize = context.get_abi_sizeof(context.get_data_type(elem))
        size = builder.mul(args[0], context.get_constant(types.intp, itemsize))
        meminfo = context.nrt.meminfo_alloc(builder, size)  # MemoryError if NULL
        return _array(context, builder, elem, args[0], context.nrt.meminfo_data(builder, meminfo), meminfo)
    return types.Array(elem, 1, "C")(n, dtype), codegen


@intrinsic
def _no_buffer(typingctx, dtype):
    """A 0-element array of `dtype` that owns nothing (a null address and no reference count): an
    empty list's elements until its first append, so `[]` allocates nothing but the list (the empty
    lists of a tree's leaves, half its nodes; the rows of a graph before their first edge). A view of
    nothing cannot outlive what it points to, wherever it is passed."""
    elem = _dtype_of(dtype)
    if elem is None:
        return None

    def codegen(context, builder, sig, args):
        return _array(context, builder, elem, context.get_constant(types.intp, 0),
                      context.get_constant_null(types.voidptr),
                      context.get_constant_null(types.MemInfoPointer(types.voidptr)))
    return types.Array(elem, 1, "C")(dtype), codegen


@jit
def new(dtype):
    """An empty ArrayList of `dtype` (np.int64, np.float64, np.float32 or np.bool_): no elements
    allocated until the first append, which makes room for 4 (_reserve)."""
    return ArrayList(_no_buffer(dtype), 0)


@jit
def from_array(a):
    """An ArrayList owning a copy of the 1-d array `a`."""
    data = _buffer(max(len(a), 4), a.dtype)
    for i in range(len(a)):  # loops, not slice assignments, here and below: an assignment checks
        data[i] = a[i]       # shapes, and its error message links Numba's string code into callers
    return ArrayList(data, len(a))


@jit
def full(v, n, dtype):
    """[v] * n."""
    n = max(n, 0)
    xs = ArrayList(_buffer(max(n, 4), dtype), n)
    for i in range(n):
        _store(xs, i, v)
    return xs


# ---- the operations jitted code uses on an ArrayList --------------------------------------------------

def _is_al(t) -> bool:
    return isinstance(t, ArrayListType)


@overload(len)
def _len(xs):
    if _is_al(xs):
        return lambda xs: xs.n


@overload(bool)
def _bool(xs):
    if _is_al(xs):
        return lambda xs: xs.n > 0


def _element_ptr(context, builder, xs_type, xs, i):
    """The address of data[i] in the ArrayList `xs`: read straight from its payload, so an element
    access costs two loads and no reference counting (`xs.data` would incref and decref the array)."""
    payload = structref._Utils(context, builder, xs_type).get_data_struct(xs)
    arr_type = xs_type.field_dict["data"]
    arr = context.make_array(arr_type)(context, builder, value=payload.data)
    return arr_type, cgutils.gep(builder, arr.data, i)


def _fields(record: types.Record):
    """(offset, Numba type) of each field of a record, in order."""
    return [(record.offset(name), ty) for name, ty in record.members]


def _field_ptr(context, builder, ptr, offset, ty):
    """The address of the field at byte `offset` of the record at `ptr`, as a pointer to its data type."""
    byte_ptr = builder.bitcast(ptr, cgutils.voidptr_t)
    raw = cgutils.pointer_add(builder, byte_ptr, context.get_constant(types.intp, offset))
    return builder.bitcast(raw, context.get_data_type(ty).as_pointer())


def _item_type(dt):
    """The Numba type of an element stored as `dt`: the scalar, or a tuple of a record's fields."""
    return types.Tuple(tuple(ty for _, ty in _fields(dt))) if isinstance(dt, types.Record) else dt


def elem_type(xs: ArrayListType) -> types.Type:
    """The Numba type of an element of the ArrayList type `xs`: its scalar, or a tuple for records."""
    return _item_type(xs.field_dict["data"].dtype)


def _read(context, builder, dt, ptr, tuple_type):
    """The element stored as `dt` at `ptr`: the scalar, or a tuple (`tuple_type`) read field by field."""
    if not isinstance(dt, types.Record):
        return context.unpack_value(builder, dt, ptr)
    values = [context.unpack_value(builder, ty, _field_ptr(context, builder, ptr, off, ty)) for off, ty in _fields(dt)]
    return context.make_tuple(builder, tuple_type, values)


def _write(context, builder, dt, ptr, value, value_type):
    """Store `value` (of Numba type `value_type`: a tuple for a record) as `dt` at `ptr`."""
    if not isinstance(dt, types.Record):
        context.pack_value(builder, dt, context.cast(builder, value, value_type, dt), ptr)
        return context.get_dummy_value()
    for k, (off, ty) in enumerate(_fields(dt)):
        item = context.cast(builder, builder.extract_value(value, k), value_type[k], ty)
        context.pack_value(builder, ty, item, _field_ptr(context, builder, ptr, off, ty))
    return context.get_dummy_value()


def _load_code(xs):
    def codegen(context, builder, sig, args):
        arr_type, ptr = _element_ptr(context, builder, sig.args[0], args[0], args[1])
        return _read(context, builder, arr_type.dtype, ptr, sig.return_type)
    return elem_type(xs)(xs, types.intp), codegen


@intrinsic
def _load(typingctx, xs, i):
    """data[i], 0 <= i < n (checked by the caller); a tuple, read field by field, for a record list."""
    return _load_code(xs)


def _typed_list_base(context, builder, xs_type, xs):
    """The address of a typed List's first element (its items array), from Numba's C helper."""
    fn = cgutils.get_or_insert_function(builder.module, llir.FunctionType(cgutils.voidptr_t, [ll_list_type]),
                                        "numba_list_base_ptr")
    return builder.call(fn, [_container_get_data(context, builder, xs_type, xs)])


@intrinsic
def get(typingctx, xs, i):
    """xs[i], 0 <= i < len(xs) (checked by the caller), for an ArrayList (as _load) or a typed List.
    A typed List's element is read in place and given a new reference: its own `xs[i]` calls a
    compiled function that checks the index again and copies the element through Numba's C helper,
    a third of a tree walk's time (a sum over 524,287 nodes: 78 ms, 55 ms with this)."""
    if _is_al(xs):
        return _load_code(xs)
    if not isinstance(xs, types.ListType):
        return None
    item = xs.item_type

    def codegen(context, builder, sig, args):
        base = builder.bitcast(_typed_list_base(context, builder, sig.args[0], args[0]),
                               context.get_data_type(item).as_pointer())
        value = context.data_model_manager[item].load_from_data_pointer(builder, cgutils.gep(builder, base, args[1]))
        context.nrt.incref(builder, item, value)
        return value
    return item(xs, types.intp), codegen


@intrinsic
def _store(typingctx, xs, i, v):
    """data[i] = v, 0 <= i < n (checked by the caller); `v` a tuple, written field by field, for a
    record list."""
    def codegen(context, builder, sig, args):
        arr_type, ptr = _element_ptr(context, builder, sig.args[0], args[0], args[1])
        return _write(context, builder, arr_type.dtype, ptr, args[2], sig.args[2])
    return types.none(xs, types.intp, v), codegen


@intrinsic
def data_ptr(typingctx, xs):
    """The address of the ArrayList `xs`'s first element, as a typed pointer, with no reference taken:
    valid while `xs` is alive and nothing resizes it (a loop's view of a list it cannot resize:
    lower_numba's FunctionLowerer.viewed). `at` and `put` read and write through it."""
    arr_type = xs.field_dict["data"]

    def codegen(context, builder, sig, args):
        payload = structref._Utils(context, builder, sig.args[0]).get_data_struct(args[0])
        return context.make_array(arr_type)(context, builder, value=payload.data).data
    return types.CPointer(arr_type.dtype)(xs), codegen


@intrinsic
def keep(typingctx, xs):
    """A use of `xs` that compiles to nothing: after a loop that reads `xs` through a view, so that
    Numba, which frees a value after its variable's last use, keeps it alive until then."""
    return types.none(xs), lambda context, builder, sig, args: context.get_dummy_value()


@intrinsic
def kept(typingctx, v, xs):
    """`v`, using `xs` as `keep` does: a value returned from inside a loop reading `xs` through a view
    is read before `xs` may be freed."""
    def codegen(context, builder, sig, args):
        return impl_ret_borrowed(context, builder, sig.return_type, args[0])
    return v(v, xs), codegen


def _is_rows(xss) -> bool:
    """Whether `xss` is a typed List of ArrayLists (a `list[list[int]]`)."""
    return isinstance(xss, types.ListType) and isinstance(xss.item_type, ArrayListType)


def _row_ptr_type(xss):
    return types.CPointer(xss.item_type.field_dict["data"].dtype)


# Where an ArrayList's fields are: Numba allocates a structref's payload in one block with its
# reference-count header (NRT_MemInfo_alloc_dtor: the header's six words, then the payload), so the
# payload is at a fixed offset from the header's address. A row read computes that address instead of
# loading it from the header: one dependent load fewer on the way to a row's elements, which is a
# cache miss per row when a graph search visits rows in no order (tests/test_nblist.py checks the
# offset against the header's own pointer).
PAYLOAD_OFFSET = 48


def _payload_at(context, builder, inner, item):
    """The payload of the ArrayList `item` (at PAYLOAD_OFFSET from its header: _row)."""
    meminfo = cgutils.create_struct_proxy(inner)(context, builder, value=item).meminfo
    raw = cgutils.pointer_add(builder, builder.bitcast(meminfo, cgutils.voidptr_t),
                              context.get_constant(types.intp, PAYLOAD_OFFSET))
    payload_type = inner.get_data_type()
    return cgutils.create_struct_proxy(payload_type)(
        context, builder, ref=builder.bitcast(raw, context.get_value_type(payload_type).as_pointer()))


def _row(context, builder, xss_type, xss, i):
    """(address of the elements, length) of the ArrayList `xss[i]`, read in place: from its payload,
    at PAYLOAD_OFFSET from its header."""
    inner = xss_type.item_type
    base = _rows_base(context, builder, xss_type, xss)
    item = context.data_model_manager[inner].load_from_data_pointer(builder, cgutils.gep(builder, base, i))
    payload = _payload_at(context, builder, inner, item)
    data = context.make_array(inner.field_dict["data"])(context, builder, value=payload.data).data
    return data, payload.n


@intrinsic
def item_view(typingctx, xss, i):
    """(data_ptr, len) of the ArrayList `xss[i]`, an element of a typed List, 0 <= i < len(xss)
    (checked by the caller): read in place, with no reference taken and no call but the typed List's
    base address. `xss[i]` bumps and drops the element's reference count (two atomic operations) and
    copies it out through calls into the typed List: a third of a breadth-first search's time. Valid
    while nothing stores into `xss` or resizes it or the element (FunctionLowerer.element_view)."""
    if not _is_rows(xss):
        return None
    result = types.Tuple((_row_ptr_type(xss), types.intp))

    def codegen(context, builder, sig, args):
        return context.make_tuple(builder, result, list(_row(context, builder, sig.args[0], *args)))
    return result(xss, types.intp), codegen


@intrinsic
def row_or_none(typingctx, xss, i, ok):
    """(ok, data_ptr, len) of `xss[i]` as item_view when `ok`, else (False, a null address, 0)
    without touching `xss` (nbrt.row_view)."""
    if not _is_rows(xss):
        return None
    ptr_type = _row_ptr_type(xss)
    result = types.Tuple((types.boolean, ptr_type, types.intp))

    def codegen(context, builder, sig, args):
        xs, index, good = args
        none = context.make_tuple(builder, result, [cgutils.false_bit, context.get_constant_null(ptr_type),
                                                    context.get_constant(types.intp, 0)])
        out = cgutils.alloca_once_value(builder, none)
        with builder.if_then(good):
            data, n = _row(context, builder, sig.args[0], xs, index)
            builder.store(context.make_tuple(builder, result, [cgutils.true_bit, data, n]), out)
        return builder.load(out)
    return result(xss, types.intp, types.boolean), codegen


# Software prefetching of rows read in an order that a list of indices gives (a breadth-first
# search's queue, a visiting order): compiler/prefetch.py decides where. A row of a list of lists is two cache misses away (its fields, then its elements) and the
# order is usually random, so the hardware prefetchers cannot guess the next row; the loop can, by
# reading the index some iterations ahead. Each pass asks for the fields of the row ROWS_AHEAD
# indices ahead and for the elements of the row ITEMS_AHEAD ahead, whose fields were asked for
# ROWS_AHEAD - ITEMS_AHEAD passes before (Ainsworth and Jones, "Software prefetching for indirect
# memory accesses", CGO 2017). A prefetch changes nothing a program can see: an index out of range,
# or one not read yet, is skipped. Distances measured on BFS over 200k-1M nodes (4/8, 8/16 and
# 16/32: within noise of each other; docs/benchmarks.md).
ROWS_AHEAD = 8
ITEMS_AHEAD = 4
_I32 = llir.IntType(32)


def _prefetch(builder, address):
    """llvm.prefetch for reading, kept in every cache level."""
    fn = cgutils.get_or_insert_function(
        builder.module, llir.FunctionType(llir.VoidType(), [cgutils.voidptr_t, _I32, _I32, _I32]), "llvm.prefetch.p0")
    builder.call(fn, [builder.bitcast(address, cgutils.voidptr_t), _I32(0), _I32(3), _I32(1)])


def _prefetch_row(context, builder, inner, base, w, m, fields: bool, items: bool):
    """Prefetch the fields and/or the elements (reading the fields) of the row `w` of a typed List of
    ArrayLists (`inner`: their type; `base`: its items' address; `m`: its length), when 0 <= w < m."""
    good = builder.and_(builder.icmp_signed(">=", w, w.type(0)), builder.icmp_signed("<", w, m))
    with builder.if_then(good, likely=True):
        item = context.data_model_manager[inner].load_from_data_pointer(builder, cgutils.gep(builder, base, w))
        payload = _payload_at(context, builder, inner, item)
        arr_type = inner.field_dict["data"]
        if fields:  # the line of the elements' address and the line of the length (they may differ)
            arr = context.make_array(arr_type)(context, builder, ref=payload._get_ptr_by_name("data"))
            _prefetch(builder, arr._get_ptr_by_name("data"))
            _prefetch(builder, payload._get_ptr_by_name("n"))
        if items:
            _prefetch(builder, context.make_array(arr_type)(context, builder, value=payload.data).data)


def _rows_base(context, builder, xss_type, xss):
    """The address of a typed List of ArrayLists' items, typed as pointers to its rows."""
    return builder.bitcast(_typed_list_base(context, builder, xss_type, xss),
                           context.get_data_type(xss_type.item_type).as_pointer())


def _prefetch_rows_ahead(context, builder, xss_type, xss, m, index_at):
    """Prefetch the fields of the row ROWS_AHEAD places ahead and the elements of the row ITEMS_AHEAD
    ahead, each when `index_at(ahead)`, a pair (valid, index), says there is one (`index()` emits the
    read of its number w, where `valid` holds) and 0 <= w < m (m: len(xss))."""
    base = _rows_base(context, builder, xss_type, xss)
    for ahead, items in ((ROWS_AHEAD, False), (ITEMS_AHEAD, True)):
        valid, index = index_at(context.get_constant(types.intp, ahead))
        with builder.if_then(valid, likely=True):
            _prefetch_row(context, builder, xss_type.item_type, base, index(), m, not items, items)


def _ahead_in(builder, data, n, j):
    """index_at for _prefetch_rows_ahead: (whether 0 <= j + ahead < n, the read of data[j + ahead]),
    `data` the address of n ints."""
    def index_at(ahead):
        k = builder.add(j, ahead)
        valid = builder.and_(builder.icmp_signed(">=", k, ahead.type(0)), builder.icmp_signed("<", k, n))
        return valid, lambda: builder.load(cgutils.gep(builder, data, k))
    return index_at


@intrinsic
def prefetch_in_order(typingctx, xss, m, order, j):
    """Prefetch rows of `xss` (m = len(xss)) for a loop at index `j` of `order`, the ArrayList of
    ints giving the rows it reads (a queue: `u = queue[head]`, then `xss[u]`)."""
    if not (_is_rows(xss) and _is_al(order) and order.field_dict["data"].dtype == types.int64):
        return None

    def codegen(context, builder, sig, args):
        rows, m_, order_, j_ = args
        payload = structref._Utils(context, builder, sig.args[2]).get_data_struct(order_)
        data = context.make_array(sig.args[2].field_dict["data"])(context, builder, value=payload.data).data
        _prefetch_rows_ahead(context, builder, sig.args[0], rows, m_, _ahead_in(builder, data, payload.n, j_))
        return context.get_dummy_value()
    return types.none(xss, types.intp, order, types.intp), codegen


@intrinsic
def prefetch_in_view(typingctx, xss, m, p, n, j):
    """prefetch_in_order for a loop walking a list's view (`for u in order`: data_ptr `p`, length `n`)
    at its index `j`."""
    if not (_is_rows(xss) and isinstance(p, types.CPointer) and p.dtype == types.int64):
        return None

    def codegen(context, builder, sig, args):
        rows, m_, p_, n_, j_ = args
        _prefetch_rows_ahead(context, builder, sig.args[0], rows, m_, _ahead_in(builder, p_, n_, j_))
        return context.get_dummy_value()
    return types.none(xss, types.intp, p, types.intp, types.intp), codegen


@intrinsic(prefer_literal=True)
def prefetch_front(typingctx, xss, m, heap, item):
    """Prefetch the row of `xss` (m = len(xss)) that `heap[0]` names (its field `item`, a constant, for
    a list of tuples; -1 for a list of ints), when `heap` is not empty: a loop that pops the front of
    a heap reads that row next, unless it pushes something before it (compiler/prefetch.py)."""
    if not (_is_rows(xss) and _is_al(heap) and isinstance(item, types.IntegerLiteral)):
        return None
    k = item.literal_value
    dt = heap.field_dict["data"].dtype
    if (dt != types.int64) if k < 0 else not (isinstance(dt, types.Record) and k < len(dt.members)
                                             and dt.members[k][1] == types.int64):
        return None

    def codegen(context, builder, sig, args):
        rows, m_, heap_, _ = args
        payload = structref._Utils(context, builder, sig.args[2]).get_data_struct(heap_)
        with builder.if_then(builder.icmp_signed(">", payload.n, payload.n.type(0)), likely=True):
            arr_type, ptr = _element_ptr(context, builder, sig.args[2], heap_, context.get_constant(types.intp, 0))
            w = context.unpack_value(builder, types.int64, ptr if k < 0 else
                                     _field_ptr(context, builder, ptr, dt.offset(dt.members[k][0]), types.int64))
            _prefetch_row(context, builder, sig.args[0].item_type, _rows_base(context, builder, sig.args[0], rows),
                          w, m_, True, True)
        return context.get_dummy_value()
    return types.none(xss, types.intp, heap, item), codegen


@intrinsic
def at(typingctx, p, i):
    """p[i] for an address from data_ptr, 0 <= i < the list's length (checked by the caller): a load
    with no wraparound; a tuple, read field by field, for a list of tuples."""
    def codegen(context, builder, sig, args):
        return _read(context, builder, p.dtype, cgutils.gep(builder, args[0], args[1]), sig.return_type)
    return _item_type(p.dtype)(p, types.intp), codegen


@intrinsic
def put(typingctx, p, i, v):
    """p[i] = v, as `at`."""
    def codegen(context, builder, sig, args):
        return _write(context, builder, p.dtype, cgutils.gep(builder, args[0], args[1]), args[2], sig.args[2])
    return types.none(p, types.intp, v), codegen


@overload(operator.getitem)
def _getitem(xs, i):
    if _is_al(xs) and isinstance(i, types.Integer):
        def impl(xs, i):
            return _load(xs, i + xs.n if i < 0 else i)
        return impl


@overload(operator.setitem)
def _setitem(xs, i, v):
    if _is_al(xs) and isinstance(i, types.Integer):
        def impl(xs, i, v):
            _store(xs, i + xs.n if i < 0 else i, v)
        return impl


@overload(operator.contains)
def _contains(xs, v):
    if _is_al(xs):
        def impl(xs, v):
            for i in range(xs.n):
                if _load(xs, i) == v:
                    return True
            return False
        return impl


@intrinsic
def _capacity(typingctx, xs):
    """len(xs.data), read from the payload with no reference taken (`xs.data` increfs and decrefs the
    array: two atomic operations on every append)."""
    def codegen(context, builder, sig, args):
        payload = structref._Utils(context, builder, sig.args[0]).get_data_struct(args[0])
        arr = context.make_array(sig.args[0].field_dict["data"])(context, builder, value=payload.data)
        return builder.extract_value(arr.shape, 0)
    return types.intp(xs), codegen


@jit
def _reserve(xs, need):
    d = xs.data
    if need > len(d):
        nd = _buffer(max(need, 2 * len(d), 4), d.dtype)
        for i in range(xs.n):
            nd[i] = d[i]
        xs.data = nd


@overload_method(ArrayListType, "append")
def _append(xs, v):
    def impl(xs, v):
        n = xs.n
        if n == _capacity(xs):
            _reserve(xs, n + 1)
        xs.n = n + 1
        _store(xs, n, v)
    return impl


def _grow_by_one(xs):
    _reserve(xs, xs.n + 1)


@intrinsic
def push(typingctx, xs, v):
    """xs.append(v) for a gradient's tape (compiler/lower_grad.py), in LLVM: one compare, a store and
    the new length, the doubling out of line. A tape is passed by reference and never changes name: a
    NumPy array regrown by reassignment made Numba count references at every push, and so did an
    inlined Python function (its parameter is a name of its own): 13 and 20 ns a push and its pop,
    against 1.5 here."""
    if not _is_al(xs):
        return None
    return types.none(xs, v), push_code


def push_code(context, builder, sig, args):
    """The code of push: also nbrt.list_append's for an ArrayList."""
    xs_type, value_type = sig.args
    utils = structref._Utils(context, builder, xs_type)
    arr_type = xs_type.field_dict["data"]
    payload = utils.get_data_struct(args[0])
    n = payload.n
    arr = context.make_array(arr_type)(context, builder, value=payload.data)
    full = builder.icmp_signed("==", n, builder.extract_value(arr.shape, 0))
    with builder.if_then(full, likely=False):
        context.compile_internal(builder, _grow_by_one, types.none(xs_type), [args[0]])
    payload = utils.get_data_struct(args[0])  # (the data array is another after growing)
    arr = context.make_array(arr_type)(context, builder, value=payload.data)
    _write(context, builder, arr_type.dtype, cgutils.gep(builder, arr.data, n), args[1], value_type)
    payload.n = builder.add(n, n.type(1))
    return context.get_dummy_value()


@intrinsic
def take(typingctx, xs):
    """The top of a gradient's tape, taken off (the tape holds it: the reverse sweep takes only what
    its forward sweep pushed)."""
    if not _is_al(xs):
        return None
    return elem_type(xs)(xs), take_code


def take_code(context, builder, sig, args):
    """The code of take: also nbrt.list_pop's for an ArrayList."""
    xs_type = sig.args[0]
    payload = structref._Utils(context, builder, xs_type).get_data_struct(args[0])
    n = builder.sub(payload.n, payload.n.type(1))
    payload.n = n
    arr_type, ptr = _element_ptr(context, builder, xs_type, args[0], n)
    return _read(context, builder, arr_type.dtype, ptr, sig.return_type)


def length_code(context, builder, xs_type, xs):
    """len(xs) of an ArrayList, read from its payload."""
    return structref._Utils(context, builder, xs_type).get_data_struct(xs).n


@overload_method(ArrayListType, "pop")
def _pop(xs, i=-1):
    def impl(xs, i=-1):  # the caller has checked the index
        n = xs.n
        if i < 0:
            i += n
        v = _load(xs, i)
        for k in range(i, n - 1):
            _store(xs, k, _load(xs, k + 1))
        xs.n = n - 1
        return v
    return impl


@overload_method(ArrayListType, "insert")
def _insert(xs, i, v):
    def impl(xs, i, v):  # 0 <= i <= n: the caller has clipped it
        n = xs.n
        _reserve(xs, n + 1)
        d = xs.data
        for k in range(n, i, -1):
            d[k] = d[k - 1]
        xs.n = n + 1
        _store(xs, i, v)
    return impl


@overload_method(ArrayListType, "extend")
def _extend(xs, ys):
    if _is_al(ys):
        def impl(xs, ys):
            m, n = ys.n, xs.n
            _reserve(xs, n + m)
            d, s = xs.data, ys.data
            for k in range(m):  # forwards, writing past ys's m elements: right even for xs += xs
                d[n + k] = s[k]
            xs.n = n + m
        return impl

    def impl_seq(xs, ys):  # a typed List or another sequence of scalars
        for k in range(len(ys)):
            xs.append(ys[k])
    return impl_seq


@overload_method(ArrayListType, "copy")
def _copy(xs):
    return lambda xs: from_array(xs.data[:xs.n])


@overload_method(ArrayListType, "clear")
def _clear(xs):
    def impl(xs):
        xs.n = 0
    return impl


@overload_method(ArrayListType, "reverse")
def _reverse(xs):
    def impl(xs):
        i, j = 0, xs.n - 1
        while i < j:  # by value: for a record array, d[i] would be a view of the slot it swaps
            a = _load(xs, i)
            _store(xs, i, _load(xs, j))
            _store(xs, j, a)
            i += 1
            j -= 1
    return impl


@overload_method(ArrayListType, "sort")
def _sort(xs, reverse=False):
    # Python's sort is stable; reverse=True reverses, sorts stably and reverses back, so equal
    # elements keep their order. Equal ints or bools are indistinguishable: np.sort's quicksort is
    # exact for them; floats (0.0 and -0.0 compare equal) take a stable merge sort.
    # Tuples (record lists) take a stable merge sort comparing them as tuples, as Python does.
    # 64-bit ints and floats from RADIX_MIN elements on take an LSD radix sort (_radix_sort): stable, so
    # equal floats (0.0 and -0.0) keep their order; 5-10x np.sort's quicksort and NumPy's merge sort.
    dt = xs.field_dict["data"].dtype
    floats, records = isinstance(dt, types.Float), isinstance(dt, types.Record)
    radix = isinstance(dt, (types.Integer, types.Float)) and dt.bitwidth == 64 and getattr(dt, "signed", True)

    def impl(xs, reverse=False):
        if reverse:
            xs.reverse()
        live = xs.data[:xs.n]
        if records:
            _merge_sort(xs)
        elif radix and xs.n >= RADIX_MIN:
            _radix_sort(live.view(np.uint64), floats, np.empty(0, np.int64))  # (nothing carried)
        elif floats:
            live[:] = live[np.argsort(live, kind="mergesort")]
        else:
            live.sort()
        if reverse:
            xs.reverse()
    return impl


RADIX_MIN = 512  # below this, np.sort's quicksort is faster (2026-12-07: even at 256, 2.1 vs 2.5 us)
RADIX_BITS = 11  # at most 2**11 counters a digit: 16 KiB, inside L1 with the rows streaming by
_SIGN, _EXP, _MANT = np.uint64(1 << 63), np.uint64(0x7FF << 52), np.uint64((1 << 52) - 1)


@jit
def _radix_key(u, floats):
    """The unsigned key whose order is the order of the 64-bit value whose bits are u: an int64's with
    its sign bit flipped; a float64's with its sign bit flipped when positive and every bit when negative,
    -0.0 taken as 0.0 (they are equal) and every NaN as the largest key (NaNs last, as NumPy's sort)."""
    if not floats:
        return u ^ _SIGN
    if (u & _EXP) == _EXP and (u & _MANT) != np.uint64(0):
        return ~np.uint64(0)
    if u == _SIGN:
        return _SIGN
    return ~u if u & _SIGN else u | _SIGN


@jit
def _radix_sort(a, floats, carry):
    """Sort in place the 64-bit values whose bits are the uint64 array `a` (ints, or floats if `floats`),
    stably: least significant digit first, on the keys' offsets from the smallest key, so the passes are
    as few as the span of the values needs (3 for ints spanning less than 2**33, at most 6), with every
    digit's counts taken in one pass before the scatters. `carry`: an int64 array of a's size moved as
    a is (an argsort: the indices of the elements), or of size 0."""
    n = a.size
    lo = hi = _radix_key(a[0], floats)
    for i in range(n):
        k = _radix_key(a[i], floats)
        lo = min(lo, k)
        hi = max(hi, k)
    span = hi - lo
    bits = 0
    while span > np.uint64(0):
        span >>= np.uint64(1)
        bits += 1
    if bits == 0:  # all equal
        return
    passes = (bits + RADIX_BITS - 1) // RADIX_BITS
    width = (bits + passes - 1) // passes  # digits of equal width, as narrow as the passes allow
    mask = np.uint64((1 << width) - 1)
    counts = np.zeros((passes, 1 << width), np.int64)
    for i in range(n):
        u = _radix_key(a[i], floats) - lo
        for p in range(passes):
            counts[p, (u >> np.uint64(p * width)) & mask] += 1
    src, dst = a, np.empty_like(a)
    carried = carry.size > 0
    csrc, cdst = carry, np.empty_like(carry)
    for p in range(passes):
        start = 0
        for d in range(1 << width):  # counts to starting positions
            c = counts[p, d]
            counts[p, d] = start
            start += c
        shift = np.uint64(p * width)
        for i in range(n):  # stable: equal digits keep the previous pass's order
            x = src[i]
            d = ((_radix_key(x, floats) - lo) >> shift) & mask
            j = counts[p, d]
            dst[j] = x
            if carried:
                cdst[j] = csrc[i]
            counts[p, d] = j + 1
        src, dst = dst, src
        csrc, cdst = cdst, csrc
    if passes % 2 == 1:  # the sorted values are in the second buffer
        a[:] = src
        carry[:] = csrc


def _holds_floats(a):
    """Whether the array `a` holds floats (jitted code only: a constant there)."""


@overload(_holds_floats)
def _holds_floats_ov(a):
    floats = isinstance(a.dtype, types.Float)
    return lambda a: floats


@jit
def order_by(keys, reverse):
    """The order in which `sorted(..., key=, reverse=)` takes the elements whose int or float keys are the
    ArrayList `keys`: an int64 array of their indices, stable (equal keys keep their order, reverse=True
    too, as Python's: the reversed list sorted stably, then reversed)."""
    n = keys.n
    live = keys.data[:n]
    k = live[::-1].copy() if reverse else live.copy()
    idx = np.arange(n - 1, -1, -1) if reverse else np.arange(n)
    if n >= RADIX_MIN:
        _radix_sort(k.view(np.uint64), _holds_floats(k), idx)
    else:
        idx = idx[np.argsort(k, kind="mergesort")]
    return idx[::-1].copy() if reverse else idx


@jit
def _merge_sort(xs):
    """Sort xs in place, stably, by `<` on its elements (bottom-up merges through a second buffer)."""
    n = xs.n
    src, dst = xs, ArrayList(_buffer(max(n, 4), xs.data.dtype), n)
    width, moved = 1, False
    while width < n:
        for lo in range(0, n, 2 * width):
            mid, hi = min(lo + width, n), min(lo + 2 * width, n)
            i, j = lo, mid
            for k in range(lo, hi):
                if j < hi and (i >= mid or _load(src, j) < _load(src, i)):  # ties take the left run
                    _store(dst, k, _load(src, j))
                    j += 1
                else:
                    _store(dst, k, _load(src, i))
                    i += 1
        src, dst = dst, src
        width, moved = 2 * width, not moved
    if moved:  # the sorted run ended in the second buffer
        xs.data[:n] = src.data[:n]


def _comparison(op):
    """`op` on two ArrayLists, by Python's rule (nbrt.list_order): at the first pair of elements that
    differ, their order; else their lengths'."""
    def ov(a, b):
        if _is_al(a) and _is_al(b):
            def impl(a, b):
                for i in range(min(a.n, b.n)):
                    x, y = _load(a, i), _load(b, i)
                    if x != y:
                        return op(x, y)
                return op(a.n, b.n)
            return impl
    overload(op)(ov)


for _op in (operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge):
    _comparison(_op)


# ---- generic helpers, for ArrayLists and typed Lists alike -----------------------------------------

def empty_like(xs):
    """An empty list of the same type as `xs` (jitted code only)."""


@overload(empty_like)
def _empty_like(xs):
    if _is_al(xs):
        return lambda xs: new(xs.data.dtype)
    return lambda xs: xs[0:0]  # a typed List: an empty list of its type, without copying xs


def repeat(xs, n):
    """xs * n, a new list (jitted code only)."""


@overload(repeat)
def _repeat(xs, n):
    if _is_al(xs):
        def impl(xs, n):
            m, k = xs.n, max(n, 0)
            data = _buffer(max(m * k, 4), xs.data.dtype)
            for r in range(k):
                for i in range(m):
                    data[r * m + i] = xs.data[i]
            return ArrayList(data, m * k)
        return impl

    def impl_typed(xs, n):
        out = xs[0:0]
        if len(xs) == 0:  # ([] * 2 ** 62 is empty at once)
            return out
        for _ in range(n):
            out.extend(xs)
        return out
    return impl_typed


@njit(inline="always")  # not cached on its own: Numba cannot cache a signature with a dict view
def from_view(view, dtype):
    """The keys or values (`view`: d.keys() or d.values() of a typed Dict) as an ArrayList of `dtype`."""
    out = ArrayList(_buffer(max(len(view), 4), dtype), len(view))
    k = 0
    for x in view:
        _store(out, k, x)
        k += 1
    return out


__all__ = ["ARRAY_ELEMS", "ArrayList", "ArrayListType", "array_dtype", "compare", "empty_like", "from_array",
           "from_values", "from_view", "full", "list_type", "list_type_of", "new", "repeat"]


# ---- boxes: a value behind a reference-counted pointer whose type does not name it ----------------
# A function value that captures function values (compiler/closures.py: `compose(f, g)` returning
# `lambda x: f(g(x))`) would be a tuple holding tuples of its own type, which no Numba type can be.
# Its captured function values are kept in boxes instead: `box(v)` copies `v` into memory of its own
# (NRT, reference-counted, freed with what it holds), typed as an opaque pointer; `unbox(p, T)` reads
# it back as the `T` it was.
BOX = types.MemInfoPointer(types.voidptr)


# Freeing a box frees what its value holds, and so on down: a chain of ten million trees, each the
# only kid of the next, went ten million boxes deep on the native stack (box destructor, the list's,
# the tree's box...) and overflowed it. So the destructors count how deeply they are nested (in
# FREE_STATE, one word shared by every module: llvmlite.binding.add_symbol, resolved when a module is
# linked, from Numba's cache too). Past FREE_DEPTH, a box's value is moved into a node of a list of
# values still to release and the destructor returns; the outermost destructor, when its own value is
# released, releases the nodes one by one (each may defer more), as CPython's trashcan does for deep
# chains of lists. Compiled code runs with the GIL held, so one state serves the process.
FREE_DEPTH = 2000
_FREE_STATE_NAME = "glia_free_state"
_free_state = (ctypes.c_int64 * 2)()  # [how deeply destructors are nested, the first node to release]
llvm.add_symbol(_FREE_STATE_NAME, ctypes.addressof(_free_state))


def free_state() -> tuple[int, int]:
    """(destructor nesting, address of the first deferred node): (0, 0) whenever no value is being
    freed (tests)."""
    return _free_state[0], _free_state[1]


def _state_words(module):
    gv = module.globals.get(_FREE_STATE_NAME)
    if gv is None:
        gv = llir.GlobalVariable(module, llir.ArrayType(cgutils.intp_t, 2), _FREE_STATE_NAME)
        gv.linkage = "external"
    zero = cgutils.intp_t(0)
    return gv.gep([zero, zero]), gv.gep([zero, cgutils.intp_t(1)])


def _dtor_function(module, name):
    fnty = llir.FunctionType(llir.VoidType(), [cgutils.voidptr_t, cgutils.intp_t, cgutils.voidptr_t])
    fn = cgutils.get_or_insert_function(module, fnty, name)
    if not fn.is_declaration:
        return fn, None
    fn.linkage = "linkonce_odr"
    return fn, llir.IRBuilder(fn.append_basic_block())


def _release(context, builder, vt, ptr):
    """Drop the references held by the `vt` stored at `ptr` (an i8*)."""
    model = context.data_model_manager[vt]
    typed = builder.bitcast(ptr, model.get_data_type().as_pointer())
    context.nrt.decref(builder, vt, model.load_from_data_pointer(builder, typed))


def _deferred_dtor(context, module, vt):
    """The destructor of a deferred node: [next node, a `vt`], which releases the value."""
    fn, builder = _dtor_function(module, "_glia_box_deferred." + hashlib.sha1(str(vt).encode()).hexdigest()[:16])
    if builder is not None:
        _release(context, builder, vt, cgutils.pointer_add(builder, fn.args[0], cgutils.intp_t(8)))
        builder.ret_void()
    return fn


def _box_dtor(context, module, vt):
    """The destructor of a box holding a `vt`: releases the references the value holds, or past
    FREE_DEPTH nested destructors moves the value to a node released later (FREE_STATE above)."""
    fn, builder = _dtor_function(module, "_glia_box_dtor." + hashlib.sha1(str(vt).encode()).hexdigest()[:16])
    if builder is None:
        return fn
    model = context.data_model_manager[vt]
    depth_p, head_p = _state_words(module)
    depth = builder.load(depth_p)
    with builder.if_then(builder.icmp_signed(">=", depth, cgutils.intp_t(FREE_DEPTH)), likely=False):
        size = context.get_abi_sizeof(model.get_data_type())
        node = context.nrt.meminfo_alloc_dtor_unchecked(builder, context.get_constant(types.uintp, size + 8),
                                                        _deferred_dtor(context, module, vt))
        with builder.if_then(cgutils.is_not_null(builder, node), likely=True):  # (no memory: free it now)
            data = context.nrt.meminfo_data(builder, node)
            builder.store(builder.load(head_p), builder.bitcast(data, cgutils.intp_t.as_pointer()))
            value = model.load_from_data_pointer(builder, builder.bitcast(fn.args[0], model.get_data_type().as_pointer()))
            dest = cgutils.pointer_add(builder, data, cgutils.intp_t(8))
            builder.store(model.as_data(builder, value), builder.bitcast(dest, model.get_data_type().as_pointer()))
            builder.store(builder.ptrtoint(node, cgutils.intp_t), head_p)  # the node owns the value now
            builder.ret_void()
    builder.store(builder.add(depth, cgutils.intp_t(1)), depth_p)
    _release(context, builder, vt, fn.args[0])
    outermost = builder.icmp_signed("==", depth, cgutils.intp_t(0))
    with builder.if_then(outermost, likely=False):
        # release the deferred nodes, newest first, still nested one deep so that none of them drains
        loop, done = builder.append_basic_block("drain"), builder.append_basic_block("drained")
        builder.branch(loop)
        builder.position_at_end(loop)
        head = builder.load(head_p)
        with builder.if_then(builder.icmp_signed("==", head, cgutils.intp_t(0)), likely=False):
            builder.branch(done)
        node = builder.inttoptr(head, context.get_value_type(BOX))
        data = context.nrt.meminfo_data(builder, node)
        builder.store(builder.load(builder.bitcast(data, cgutils.intp_t.as_pointer())), head_p)
        context.nrt.decref(builder, BOX, node)
        builder.branch(loop)
        builder.position_at_end(done)
    builder.store(depth, depth_p)
    builder.ret_void()
    return fn


@intrinsic
def box(typingctx, v):
    """A box holding (a new reference to) `v`."""
    def codegen(context, builder, sig, args):
        vt = sig.args[0]
        model = context.data_model_manager[vt]
        size = context.get_abi_sizeof(model.get_data_type())
        meminfo = context.nrt.meminfo_alloc_dtor(builder, context.get_constant(types.uintp, size),
                                                 _box_dtor(context, builder.module, vt))
        ptr = builder.bitcast(context.nrt.meminfo_data(builder, meminfo), model.get_data_type().as_pointer())
        context.nrt.incref(builder, vt, args[0])
        builder.store(model.as_data(builder, args[0]), ptr)
        return meminfo
    return BOX(v), codegen


@intrinsic
def unbox(typingctx, p, t):
    """The value of type `t` in the box `p` (a new reference)."""
    vt = getattr(t, "instance_type", None)  # (a TypeRef: the type passed as a value)
    if p != BOX or vt is None:
        return None

    def codegen(context, builder, sig, args):
        model = context.data_model_manager[vt]
        ptr = builder.bitcast(context.nrt.meminfo_data(builder, args[0]), model.get_data_type().as_pointer())
        value = model.load_from_data_pointer(builder, ptr)
        context.nrt.incref(builder, vt, value)
        return value
    return vt(p, t), codegen


@intrinsic
def identity(typingctx, xs):
    """Which typed List or Dict `xs` is (the address of its reference-counted header): the formatting
    of a struct that holds itself writes a list met again inside itself as `[...]`, as Python does."""
    if not isinstance(xs, (types.ListType, types.DictType)):
        return None

    def codegen(context, builder, sig, args):
        meminfo = cgutils.create_struct_proxy(sig.args[0])(context, builder, value=args[0]).meminfo
        return builder.ptrtoint(meminfo, cgutils.intp_t)
    return types.intp(xs), codegen


@intrinsic
def no_box(typingctx):
    """An empty box (a null pointer: a slot no function value of that tag uses)."""
    def codegen(context, builder, sig, args):
        return context.get_constant_null(BOX)
    return BOX(), codegen
