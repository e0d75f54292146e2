"""A readable listing of the typed IR (`:ir` in the REPL, later `glia compile --emit ir`).

The listing reads like Glia with everything the checker decided made visible: every store carries
its type, every operator is the primitive it resolved to (`int.add`, `list.getitem`), range loops
show their bounds, comprehension and lambda slots are named. It is for reading, not for parsing
back. Nodes this printer does not know yet (a later stage's) print generically, so a new IR node
never breaks the listing.
"""
from __future__ import annotations

from dataclasses import fields, is_dataclass

from . import ir

_CMP = {"cmp.eq": "==", "cmp.ne": "!=", "cmp.lt": "<", "cmp.le": "<=", "cmp.gt": ">", "cmp.ge": ">=",
        "cmp.in": "in", "cmp.notin": "not in", "cmp.is": "is", "cmp.isnot": "is not"}
INDENT = "    "


def format_function(f: ir.Function, where: str | None = None) -> str:
    """`def name(params) -> ret:` and the body, one statement per line. `where` says where it was
    written (default: its source name and line)."""
    p = _Printer(f.slot_names)
    params = ", ".join(f"{n}: {t}" for n, t in zip(f.params, f.type.params))
    tparams = f"[{', '.join(f.type_params)}]" if f.type_params else ""
    if where is None:
        where = f"{f.source_name}:{f.span.line}" if f.source_name else f"line {f.span.line}"
    slots = f"{f.nslots} slot{'' if f.nslots == 1 else 's'}"
    lines = [f"def {f.name}{tparams}({params}) -> {f.type.ret}:    # {slots}, {where}"]
    p.block(f.body, 1, lines)
    if not f.body:
        lines.append(INDENT + "pass")
    return "\n".join(lines)


def format_struct(s: ir.StructInfo) -> str:
    return "\n".join([f"struct {s.name}:"] + [f"{INDENT}{n}: {t}" for n, t in zip(s.fields, s.types)])


def format_global(g: ir.GlobalDef) -> str:
    return f"{g.name}: {g.type} = {_Printer(()).expr(g.value)}"


def format_program(program: ir.Program, source_name: str | None = None) -> str:
    """Structs, globals and functions of one source (default: the program's own, without the prelude)."""
    if source_name is None and program.source is not None:
        source_name = program.source.name
    parts = [format_struct(s) for s in program.structs.values()]
    parts += [format_global(g) for g in program.globals]
    parts += [format_function(f) for f in program.functions.values()
              if source_name is None or f.source_name == source_name]
    return "\n\n".join(parts)


class _Printer:
    def __init__(self, slot_names):
        self.names = tuple(slot_names)
        counts: dict[str, int] = {}
        for n in self.names:
            counts[n] = counts.get(n, 0) + 1
        self.ambiguous = {n for n, c in counts.items() if c > 1}

    def slot(self, slot: int, name: str) -> str:
        return f"{name}#{slot}" if name in self.ambiguous or name.startswith("$") else name

    # ---- statements ---------------------------------------------------------------------------
    def block(self, stmts, depth: int, out: list[str]) -> None:
        for s in stmts:
            self.stmt(s, depth, out)

    def stmt(self, s, depth: int, out: list[str]) -> None:
        pad = INDENT * depth
        match s:
            case ir.Assign(target, value):
                out.append(f"{pad}{self.target(target, typed=True)} = {self.expr(value)}")
            case ir.ExprStmt(e):
                out.append(pad + self.expr(e))
            case ir.If(cond, then, orelse):
                out.append(f"{pad}if {self.expr(cond)}:")
                self.suite(then, depth + 1, out)
                if orelse:
                    out.append(f"{pad}else:")
                    self.suite(orelse, depth + 1, out)
            case ir.While(cond, body):
                out.append(f"{pad}while {self.expr(cond)}:")
                self.suite(body, depth + 1, out)
            case ir.ForRange(target, start, stop, step, body):
                out.append(f"{pad}for {self.target(target, typed=True)} in range({self.expr(start)}, "
                           f"{self.expr(stop)}, {self.expr(step)}):")
                self.suite(body, depth + 1, out)
            case ir.For(target, it, kind, body):
                out.append(f"{pad}for {self.target(target, typed=True)} in {self.expr(it)}:    # over a {kind}")
                self.suite(body, depth + 1, out)
            case ir.Break():
                out.append(pad + "break")
            case ir.Continue():
                out.append(pad + "continue")
            case ir.Return(value):
                out.append(pad + "return" + ("" if value is None else " " + self.expr(value)))
            case ir.Assert(cond, msg):
                out.append(f"{pad}assert {self.expr(cond)}" + ("" if msg is None else f", {self.expr(msg)}"))
            case _:
                out.append(pad + self.generic(s))

    def suite(self, stmts, depth: int, out: list[str]) -> None:
        if stmts:
            self.block(stmts, depth, out)
        else:
            out.append(INDENT * depth + "pass")

    def target(self, t, typed: bool = False) -> str:
        match t:
            case ir.StoreLocal(slot, name, typ):
                return f"{self.slot(slot, name)}: {typ}" if typed else self.slot(slot, name)
            case ir.StoreIndex(container, index, op):
                return f"{self.expr(container)}[{self.expr(index)}]"
            case ir.StoreTuple(items):
                return "(" + ", ".join(self.target(i, typed) for i in items) + ("," if len(items) == 1 else "") + ")"
        return self.generic(t)

    # ---- expressions --------------------------------------------------------------------------
    def exprs(self, es) -> str:
        return ", ".join(self.expr(e) for e in es)

    def expr(self, e) -> str:
        match e:
            case ir.Const(value):
                return repr(value)
            case ir.Local(slot, name):
                return self.slot(slot, name)
            case ir.Global(name) | ir.FuncRef(name):
                return name
            case ir.CallFunc(name, args):
                return f"{name}({self.exprs(args)})"
            case ir.CallValue(func, args):
                return f"{self.atom(func)}({self.exprs(args)})"
            case ir.Prim(op, args, t, span, attrs):
                extra = [repr(a) for a in attrs]
                return f"{op}({', '.join([self.expr(a) for a in args] + extra)})"
            case ir.Lambda(captures, nparams, body, nslots, names):
                inner = _Printer(names)
                params = ", ".join(inner.slot(i, names[i]) for i in range(nparams))
                caps = ""
                if captures:
                    caps = " [" + ", ".join(f"{inner.slot(i, names[i])}={self.expr(o)}" for i, o in captures) + "]"
                return f"(lambda{' ' if params else ''}{params}{caps}: {inner.expr(body)})"
            case ir.MakeList(elts):
                return f"[{self.exprs(elts)}]"
            case ir.MakeTuple(elts):
                return f"({self.exprs(elts)}{',' if len(elts) == 1 else ''})"
            case ir.MakeSet(elts):
                return f"{{{self.exprs(elts)}}}" if elts else "set()"
            case ir.MakeDict(keys, values):
                return "{" + ", ".join(f"{self.expr(k)}: {self.expr(v)}" for k, v in zip(keys, values)) + "}"
            case ir.MakeStruct(name, args):
                return f"{name}({self.exprs(args)})"
            case ir.GetField(obj, index, name):
                return f"{self.atom(obj)}.{name}"
            case ir.Cond(cond, then, orelse):
                return f"({self.expr(then)} if {self.expr(cond)} else {self.expr(orelse)})"
            case ir.And(left, right):
                return f"({self.expr(left)} and {self.expr(right)})"
            case ir.Or(left, right):
                return f"({self.expr(left)} or {self.expr(right)})"
            case ir.Compare(operands, ops):
                parts = [self.expr(operands[0])]
                for op, x in zip(ops, operands[1:]):
                    parts += [_CMP.get(op, op), self.expr(x)]
                return "(" + " ".join(parts) + ")"
            case ir.Comprehension(kind, elt, key, clauses):
                head = f"{self.expr(key)}: {self.expr(elt)}" if key is not None else self.expr(elt)
                tail = ""
                for cl in clauses:
                    if isinstance(cl, ir.CompFor):
                        tail += f" for {self.target(cl.target)} in {self.expr(cl.iter)}"
                    else:
                        tail += f" if {self.expr(cl.cond)}"
                o, c = ("[", "]") if kind == "list" else ("{", "}")
                return f"{o}{head}{tail}{c}"
            case ir.Hole(index, options, t):
                opts = ", ".join(f"{k}={v!r}" for k, v in options)
                return f"??#{index}" + (f"({opts})" if opts else "") + f" : {t}"
            case ir.Choose(index, options):
                return f"choose#{index}({self.exprs(options)})"
        return self.generic(e)

    def atom(self, e) -> str:
        s = self.expr(e)
        return s if isinstance(e, (ir.Local, ir.Global, ir.FuncRef, ir.CallFunc, ir.GetField)) else f"({s})"

    def generic(self, node) -> str:
        """Any IR node: its class and fields (children printed as expressions where they are)."""
        if not is_dataclass(node):
            return repr(node)
        parts = []
        for fl in fields(node):
            if fl.name in ("span", "type"):
                continue
            v = getattr(node, fl.name)
            if isinstance(v, tuple):
                v = "(" + ", ".join(self.generic_child(x) for x in v) + ")"
            else:
                v = self.generic_child(v)
            parts.append(f"{fl.name}={v}")
        return f"{type(node).__name__}({', '.join(parts)})"

    def generic_child(self, v) -> str:
        if is_dataclass(v) and type(v).__module__ == ir.__name__:
            return self.expr(v)  # expressions as such, anything else generically
        return repr(v)
