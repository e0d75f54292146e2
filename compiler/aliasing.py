"""May a function's result share a mutable container with its arguments or globals?

Calling a compiled function from the interpreter (the REPL's `:backend cpu`, `glia.load(...,
backend="cpu")`) copies container arguments into Numba's containers and writes them back in place
afterwards, so the caller sees every mutation. What a copy cannot reproduce is identity: a result
that *is* an argument (`return xs`), part of one (`return adj[0]`), a global, or a list that was also
stored into one (`r = []; adj.append(r); return r`) is one object in the interpreter and two after
the copy. `returns_fresh` proves, conservatively, that this cannot happen: every value the function
returns is built inside the call and never stored anywhere else. When it cannot prove it, the
function runs in the interpreter (never a different answer).

Values without a mutable container (ints, strings, tuples and structs of them) are always fine.
"""
from __future__ import annotations

from . import ir
from .types import DictT, ListT, SetT, StructT, TupleT, children, held

# Operations that build a new outer container (their elements may be the operands' elements).
FRESH_OPS = frozenset({
    "list.concat", "list.repeat", "list.slice", "list.copy", "dict.copy", "dict.items", "dict.keys",
    "dict.values", "enumerate", "filter", "map", "range", "reversed", "sorted", "str.split",
    "str.splitlines", "io.read_lines", "to_list", "to_dict", "to_set", "zip", "set.union",
    "set.intersection", "set.difference", "set.symmetric_difference", "set.copy",
})


# Operations that put their other operands into the container that is their first.
FILLS = frozenset({"list.append", "list.insert", "list.extend", "list.setitem", "dict.setitem",
                   "dict.setdefault", "dict.update", "set.add", "set.update"})


def mutable(t, structs: dict) -> bool:
    """Does a value of type t hold (or is it) a list, dict or set?"""
    if isinstance(t, (ListT, DictT, SetT)):
        return True
    if isinstance(t, StructT):
        info = structs.get(t.name)
        return info is not None and any(mutable(x, structs) for x in info.types)
    if isinstance(t, TupleT):
        return any(mutable(x, structs) for x in t.items)
    return False


def shallow(t, structs: dict) -> bool:
    """A container whose elements hold no container (list[int], dict[str, (int, str)], ...)."""
    return isinstance(t, (ListT, DictT, SetT)) and not any(mutable(x, structs) for x in children(t))


def returns_fresh(program: ir.Program, name: str) -> bool:
    return _Analysis(program).function(name)


class _Analysis:
    def __init__(self, program: ir.Program):
        self.p = program
        self.done: dict[str, bool] = {}

    def function(self, name: str) -> bool:
        if name in self.done:
            return self.done[name]
        f = self.p.functions[name]
        if not mutable(f.type.ret, self.p.structs):
            return True
        self.done[name] = True  # assumed while its own recursive calls are looked at
        returns = [n.value for n in _nodes(f.body) if isinstance(n, ir.Return) and n.value is not None]
        ok = all(_Fresh(self, f).expr(v) for v in returns)
        self.done[name] = ok
        return ok


class _Fresh:
    """Freshness of the expressions of one function."""

    def __init__(self, analysis: _Analysis, f: ir.Function):
        self.a = analysis
        self.f = f
        self.structs = analysis.p.structs
        self.locals: dict[int, bool] = {}

    def expr(self, e) -> bool:
        if not mutable(e.type, self.structs):
            return True
        match e:
            case ir.Cond(_, then, orelse):
                return self.expr(then) and self.expr(orelse)
            case ir.CallFunc(name, _, _, _):
                f = self.a.p.functions.get(name)
                return f is not None and not f.type_params and self.a.function(name)
        if shallow(e.type, self.structs):
            match e:
                case ir.MakeList() | ir.MakeSet() | ir.MakeDict() | ir.Comprehension():
                    return True
                case ir.Prim(op, _, _, _) if op in FRESH_OPS:
                    return True
                case ir.Local(slot, _, _, _):
                    return self.local(slot)
            return False
        match e:  # elements that hold containers: built right here, each one new
            case ir.Local(slot, _, _, _):  # a local filled only with such elements, none taken out
                return self.local(slot) and self._filled_fresh(slot)
            case ir.MakeList(elts) | ir.MakeSet(elts) | ir.MakeTuple(elts):
                return all(self.built(x) for x in elts)
            case ir.MakeStruct(_, args):
                return all(self.built(x) for x in args)
            case ir.MakeDict(_, values):
                return all(self.built(x) for x in values)
            case ir.Comprehension(_, elt, key):
                return self.built(elt) and (key is None or not mutable(key.type, self.structs))
        return False

    def built(self, e) -> bool:
        """An element of a new container: immutable, or itself built in place (not read from a name)."""
        if not mutable(e.type, self.structs):
            return True
        return not isinstance(e, ir.Local) and self.expr(e)  # a name may stand for one shared value

    def local(self, slot: int) -> bool:
        if slot < len(self.f.params):
            return False
        if slot in self.locals:
            return self.locals[slot]
        self.locals[slot] = True  # assumed while its own stores are looked at (`r = r + [x]`)
        ok = self._stores_fresh(slot) and not self._escapes(slot)
        self.locals[slot] = ok
        return ok

    def _filled_fresh(self, slot: int) -> bool:
        """For a local whose elements hold containers (`out: list[list[int]]`): is every element put
        into it (or into an element of it) built in place, and does no value taken out of it (`out[0]`,
        `sorted(out)`, `for row in out`) go anywhere but a read or a fill of the same kind?"""
        for parent, field_name, index, child in _edges(self.f.body):
            if isinstance(parent, ir.Assign) and isinstance(parent.target, ir.StoreIndex) and field_name == "value" \
                    and self._derives(parent.target.container, slot) and not self.built(child):
                return False  # out[i] = row
            if not (ir.is_node(child) and mutable(getattr(child, "type", None), self.structs)
                    and not isinstance(child, ir.Local) and self._derives(child, slot)):
                continue
            match parent:  # child: a container taken out of the local (or the local, within it)
                case ir.Prim(op, args) if index == 0:
                    if op in FILLS and not self._fill_fresh(op, args):
                        return False  # out[0].append(row)
                case ir.Assign() if field_name == "target":
                    continue
                case ir.StoreIndex() if field_name == "container":
                    continue
                case ir.Compare() | ir.If() | ir.While() | ir.CompIf() | ir.ExprStmt() | ir.Return():
                    continue  # read, or returned (where `expr` judges the returned value itself)
                case _:
                    return False
        for parent, field_name, index, child in _edges(self.f.body):  # the local itself filled
            if isinstance(child, ir.Local) and child.slot == slot and isinstance(parent, ir.Prim) and index == 0 \
                    and parent.op in FILLS and not self._fill_fresh(parent.op, parent.args):
                return False
            if isinstance(child, ir.Local) and child.slot == slot and isinstance(parent, (ir.For, ir.CompFor)) \
                    and field_name == "iter":
                return False  # `for row in out` names an element
        return True

    def _fill_fresh(self, op: str, args) -> bool:
        """Does the fill put only new containers in (`extend` and `update`: the operand's elements)?"""
        if op in ("list.extend", "set.update", "dict.update"):
            return not any(mutable(t, self.structs) for t in children(args[1].type)) or self.built(args[1])
        return all(self.built(a) for a in args[1:])

    def _derives(self, e, slot: int) -> bool:
        """Does `e` (not entering lambdas) read the local?"""
        return any(isinstance(n, ir.Local) and n.slot == slot for _, _, _, n in _edges(e))

    def _stores_fresh(self, slot: int) -> bool:
        for n in _nodes(self.f.body):
            match n:
                case ir.Assign(ir.StoreLocal(s), value) if s == slot:
                    if not self.expr(value):
                        return False
                case ir.Assign(ir.StoreTuple() as t) if _stores(t, slot):
                    return False
                case ir.For(target) if _stores(target, slot):
                    return False
                case ir.CompFor(target) if _stores(target, slot):
                    return False
        return True

    def _escapes(self, slot: int) -> bool:
        """Is the local's value ever put where it outlives the call other than by being returned?"""
        for parent, field_name, index, child in _edges(self.f.body):
            if isinstance(parent, ir.Lambda) and field_name == "captures":
                if child.slot == slot:
                    return True
                continue
            if not (isinstance(child, ir.Local) and child.slot == slot):
                continue
            if _compiler_alias(parent, field_name) and not self._escapes(parent.target.slot):
                continue  # `xs[f(x)] += 1` reads xs into a temporary first: harmless if the temporary is
            if not _harmless_use(parent, field_name, index):
                return True
        return False


def _compiler_alias(parent, field_name: str) -> bool:
    """Is this the compiler's temporary taking the value (`$tmp = xs`, made for an augmented assignment
    through a computed index, so that the container and the index are evaluated once)?"""
    return (isinstance(parent, ir.Assign) and field_name == "value" and isinstance(parent.target, ir.StoreLocal)
            and parent.target.name.startswith("$"))


def _harmless_use(parent, field_name: str, index: int) -> bool:
    match parent:
        case ir.Return():
            return True
        case ir.Prim(op):  # the receiver or first operand: read, mutated in place, never stored
            return index == 0 or op.startswith(("cmp.", "io.print")) or op == "len"
        case ir.Compare():
            return True
        case ir.For() | ir.CompFor():
            return field_name == "iter"
        case ir.StoreIndex():
            return field_name == "container"
        case ir.If() | ir.While() | ir.CompIf() | ir.And() | ir.Or():
            return True  # a condition: its truth is read
        case ir.ExprStmt():
            return True
    return False


def _stores(target, slot: int) -> bool:
    return any(isinstance(n, ir.StoreLocal) and n.slot == slot for n in ir.walk(target))


def _nodes(body):
    """The function's own nodes (lambda bodies have frames of their own)."""
    for _, _, _, child in _edges(body):
        yield child


def _edges(node, parent=None, field_name: str = "", index: int = 0):
    """(parent, field, index within the field, child) for every node below `node`, not entering
    lambda bodies."""
    if isinstance(node, tuple):
        for i, x in enumerate(node):
            yield from _edges(x, parent, field_name, i)
        return
    if not ir.is_node(node):
        return
    yield parent, field_name, index, node
    if isinstance(node, ir.Lambda):
        for i, (_, outer) in enumerate(node.captures):
            yield node, "captures", i, outer
        return
    for name, val in ir.child_fields(node):
        yield from _edges(val, node, name, 0)


# Operations that change which inner containers a list or dict holds, or where (on a container whose
# elements hold containers): after a compiled call, writing the copies back by position cannot tell
# that a row moved (`rows.sort()`, a swap `g[0], g[1] = g[1], g[0]`, `d["b"] = d["a"]`) or that one
# row now stands in two places (`v.append(v[0])`).
_MOVES = frozenset({"list.sort", "list.reverse", "list.insert", "list.pop", "list.remove", "list.clear",
                    "list.append", "list.extend", "list.delitem", "list.setitem",
                    "dict.pop", "dict.clear", "dict.setdefault", "dict.setitem", "dict.update", "dict.delitem"})


def moves_containers(program: ir.Program, name: str, reached_types) -> bool:
    """May `name` (or a function it calls) move the inner containers of a container of one of the
    types `reached_types` (its arguments' and globals' container types)? Conservative: by type, so a
    local list of the same type counts too."""
    structs = program.structs
    for node in ir.reachable(program, name):
        op, c = None, None
        if isinstance(node, ir.Prim) and node.op in _MOVES and node.args:
            op, c = node.op, node.args[0]
        elif isinstance(node, ir.StoreIndex) and node.op in _MOVES:
            op, c = node.op, node.container
        if op is None or c.type not in reached_types:
            continue
        inner = c.type.elem if isinstance(c.type, ListT) else c.type.val if isinstance(c.type, DictT) else None
        if inner is not None and mutable(inner, structs):
            return True
    return False


def container_types(ts, structs: dict) -> set:
    """The list, dict and set types that values of the types `ts` are or hold (a function value's
    parameters and result count: its closure may hold such values)."""
    return {t for t in held(ts, structs, functions=True) if isinstance(t, (ListT, DictT, SetT))}
