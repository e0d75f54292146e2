"""Look-ups in a typed dict with string keys hashed once, in C, and updates of a value in place.

Numba's `hash()` of a string made in compiled code (a `split` part, a slice, a concatenation) is
siphash written in Numba and is not kept in the string (its struct is passed by value), so every
`d.get(w)`, `d[w] = v` and `w in d` hashes `w` again, at about three times CPython's cost. `key_hash`
calls CPython's own `_Py_HashBytes` instead (the same function of the same bytes as `hash(w)` in
Python and in Numba, so keys hashed either way meet in the same slots), and the look-ups below hash
once per operation (`dict_getitem` was `k in d` and then `d[k]`: two look-ups, two hashes).

`d[k] = d.get(k, 0) + 1` through Numba's typed dict is two look-ups: `get` finds the key's entry
and copies its value out, then `d[k] = v` finds the entry again to write the value back (each
look-up a call into numba/cext/dictobject.c, which compares keys through a function pointer). Word
counting spends about half its dict time in the second one. `lookup` returns the entry's index with
the value, and `store_value` writes a new value into that entry directly, so the update costs one
look-up; a key that is not there yet goes through the ordinary insertion.

Numba's typed dict compares keys that hold no reference count (numbers, bools, tuples of them) byte
by byte (dictobject.c's memcmp): 0.0 and -0.0, equal and hashed alike, were two keys. `keys_by_value`
gives a dict whose keys hold a float a method table comparing them with `==` instead (as Numba does
for string keys), so the first key inserted stays, with the last value, as in Python; nbrt.dict_new,
dict_copy and nbbox make every dict compiled code sees that way.

`store_value` writes into the entry the way dictobject.c's `get_entry`/`entry_get_val` find it,
from the layout in numba/cext/dictobject.h (Numba 0.68, pinned in pyproject.toml):
    NB_Dict      { Py_ssize_t used; NB_DictKeys *keys; }
    NB_DictKeys  { Py_ssize_t size, usable, nentries, key_size, val_size, entry_size, entry_offset;
                   5 method pointers; char indices[]; }         indices at byte 7 * 8 + 5 * 8 = 96
    entry ix     at indices + entry_offset + ix * entry_size: { Py_ssize_t hash; key; value }
                 (key and value each padded to a multiple of the pointer size)
Only values without a reference count (numbers, bools) are stored this way: nothing is increfed or
decrefed. tests/test_backend_cpu_dicts.py checks it against Numba's own dict operations through
resizes and deletions.
"""
from __future__ import annotations

import operator

from llvmlite import binding as llvm
from llvmlite import ir as llir
from numba import njit, types
from numba.core import cgutils
from numba.cpython.unicode import _kind_to_byte_width
from numba.extending import intrinsic, overload
from numba.typed.dictobject import DKIX, _container_get_data, _dict_insert, _dict_lookup

_WORD = 8  # sizeof(Py_ssize_t) and of a pointer (64-bit platforms only, as Numba's typed dict here)
_KEYS_FIELD = 1  # NB_Dict.keys, in words
_KEY_SIZE, _ENTRY_SIZE, _ENTRY_OFFSET = 3, 5, 6  # NB_DictKeys fields, in words
_INDICES = 7 * _WORD + 5 * _WORD  # NB_DictKeys.indices, in bytes

FOUND = DKIX.EMPTY  # `ix > FOUND`: the look-up found the key
_inline = njit(cache=True, inline="always")  # typed inside its caller (Numba IR), no call


@intrinsic
def _hash_bytes(typingctx, ptr, n):
    """CPython's `_Py_HashBytes(ptr, n)`: the hash of a str whose data is those n bytes."""
    sig = types.intp(types.voidptr, types.intp)

    def codegen(context, builder, sig, args):
        i8p = llir.IntType(8).as_pointer()
        fnty = llir.FunctionType(llir.IntType(64), [i8p, llir.IntType(64)])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "_Py_HashBytes")  # by name: cacheable
        return builder.call(fn, [builder.bitcast(args[0], i8p), args[1]])
    return sig, codegen


@_inline
def _str_hash(s):
    h = s._hash  # set when the string came from Python
    if h != -1:
        return h
    return _hash_bytes(s._data, len(s) * _kind_to_byte_width(s._kind))


def key_hash(k):
    """hash(k), a string's through CPython's C function (compiled code only)."""


@overload(key_hash)
def _key_hash(k):
    if isinstance(k, types.UnicodeType) and llvm.address_of_symbol("_Py_HashBytes"):  # a CPython that has it
        def of_str(k):
            return _str_hash(k)
        return of_str

    def of_other(k):
        return hash(k)
    return of_other


@intrinsic
def lookup(typingctx, d, k, h):
    """(index of k's entry, its value or None), h being key_hash(k): the index is > FOUND when k is
    in d. Numba's own look-up, refusing a key not of d's key type (the lowering coerces keys). Not
    wrapped in a function: a call layer here, even inlined, cost a fifth of word counting's time."""
    if not isinstance(d, types.DictType) or types.unliteral(k) != d.key_type:
        return None
    return _dict_lookup._defn(typingctx, d, k, h)


@intrinsic
def insert(typingctx, d, k, h, v):
    """d[k] = v, h being key_hash(k); a status < 0 is a failure (Numba's own insertion, refusing a
    key or value not of d's types)."""
    if not isinstance(d, types.DictType) or types.unliteral(k) != d.key_type \
            or types.unliteral(v) != d.value_type:
        return None
    return _dict_insert._defn(typingctx, d, k, h, v)


@intrinsic
def store_value(typingctx, d, ix, val):
    """Overwrite the value of entry `ix` (from `lookup`, with no insertion or deletion since) of the
    typed dict `d` with `val`, a number or bool."""
    if not isinstance(d, types.DictType) or not isinstance(d.value_type, (types.Number, types.Boolean)):
        return None
    sig = types.void(d, types.intp, d.value_type)

    def codegen(context, builder, sig, args):
        i64 = llir.IntType(64)
        i8p = llir.IntType(8).as_pointer()
        dp = builder.bitcast(_container_get_data(context, builder, sig.args[0], args[0]), i64.as_pointer())
        keys = builder.inttoptr(builder.load(builder.gep(dp, [i64(_KEYS_FIELD)])), i8p)
        fields = builder.bitcast(keys, i64.as_pointer())

        def field(k):
            return builder.load(builder.gep(fields, [i64(k)]))
        key_padded = builder.and_(builder.add(field(_KEY_SIZE), i64(_WORD - 1)), i64(-_WORD))
        offset = builder.add(i64(_INDICES), field(_ENTRY_OFFSET))
        offset = builder.add(offset, builder.mul(args[1], field(_ENTRY_SIZE)))
        offset = builder.add(offset, builder.add(i64(_WORD), key_padded))  # past the hash and the key
        data = context.data_model_manager[sig.args[2]].as_data(builder, args[2])
        builder.store(data, builder.bitcast(builder.gep(keys, [offset]), data.type.as_pointer()))
        return context.get_dummy_value()
    return sig, codegen


def _holds_float(t) -> bool:
    if isinstance(t, types.Float):
        return True
    return isinstance(t, types.BaseTuple) and any(_holds_float(c) for c in t.types)


@intrinsic
def keys_by_value(typingctx, d):
    """Make the typed dict `d` (new, empty) compare its keys with `==` when they hold a float and no
    reference count (a key with one already is: Numba's own table); a no-op for any other."""
    if not isinstance(d, types.DictType):
        return None
    key = d.key_type

    def codegen(context, builder, sig, args):
        model = context.data_model_manager[key]
        if model.contains_nrt_meminfo() or not _holds_float(key):
            return context.get_dummy_value()
        i32, i8p = llir.IntType(32), llir.IntType(8).as_pointer()
        name = f".glia_{context.fndesc.mangled_name}.key_equal"
        equal = cgutils.get_or_insert_function(builder.module, llir.FunctionType(i32, [i8p, i8p]), name)
        if equal.is_declaration:  # int equal(key *a, key *b): a == b, as dictobject.c's key_equal
            equal.linkage = "internal"
            b = llir.IRBuilder(equal.append_basic_block())
            a_key, b_key = (model.load_from_data_pointer(b, b.bitcast(x, model.get_data_type().as_pointer()))
                            for x in equal.args)
            eq = context.typing_context.resolve_value_type(operator.eq)
            eq_sig = eq.get_call_type(context.typing_context, (key, key), {})
            same = context.get_function(eq, eq_sig)(b, (a_key, b_key))
            b.ret(b.zext(same, i32))
        table_type = llir.LiteralStructType([i8p] * 5)  # key equal, key incref/decref, value incref/decref
        table = cgutils.alloca_once(builder, table_type, zfill=True)
        builder.store(builder.bitcast(equal, i8p), cgutils.gep_inbounds(builder, table, 0, 0))
        fn = cgutils.get_or_insert_function(builder.module, llir.FunctionType(llir.VoidType(), [
            i8p, table_type.as_pointer()]), "numba_dict_set_method_table")
        builder.call(fn, [_container_get_data(context, builder, sig.args[0], args[0]), table])
        return context.get_dummy_value()
    return types.void(d), codegen
