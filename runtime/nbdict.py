"""Updating a typed dict's value in place, with one look-up of its key (compiled code only).

`d[k] = d.get(k, 0) + 1` through Numba's typed dict is two look-ups: `get` finds the key's entry
and copies its value out, then `d[k] = v` finds the entry again to write the value back (each
look-up a call into numba/cext/dictobject.c, which compares keys through a function pointer). Word
counting spends about half its dict time in the second one. `lookup` returns the entry's index with
the value, and `store_value` writes a new value into that entry directly, so the update costs one
look-up; a key that is not there yet goes through the ordinary insertion.

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

from llvmlite import ir as llir
from numba import types
from numba.extending import intrinsic, register_jitable
from numba.typed.dictobject import DKIX, _container_get_data, _dict_lookup

_WORD = 8  # sizeof(Py_ssize_t) and of a pointer (64-bit platforms only, as Numba's typed dict here)
_KEYS_FIELD = 1  # NB_Dict.keys, in words
_KEY_SIZE, _ENTRY_SIZE, _ENTRY_OFFSET = 3, 5, 6  # NB_DictKeys fields, in words
_INDICES = 7 * _WORD + 5 * _WORD  # NB_DictKeys.indices, in bytes

FOUND = DKIX.EMPTY  # `ix > FOUND`: the look-up found the key


@register_jitable
def lookup(d, k):
    """(index of k's entry, its value): the index is > FOUND when k is in d."""
    return _dict_lookup(d, k, hash(k))


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
