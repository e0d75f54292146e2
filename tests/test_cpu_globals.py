"""Globals that share a container, compiled (backend_cpu.run_main, runtime/nbbox.py from_interp's
memo): a list that two globals reach, directly or inside a struct, a list or a dict, is one list in
compiled code as in the interpreter, so a change through one name shows through the others."""
from glia.compiler.diagnostics import Source
from glia.compiler.driver import check_source

from test_backend_cpu import run

SHARED = '''
struct Cfg:
    name: str
    sizes: list[int]

XS = [1]
HOLDER = [XS]
SIZES = [10, 20]
CFG = Cfg("net", SIZES)
BY_NAME: dict[str, list[int]] = {"sizes": SIZES, "xs": XS}
SEEN = {3}
SETS = [SEEN, SEEN]

def grow() -> int:
    SIZES.append(len(SIZES))
    return len(CFG.sizes) + len(BY_NAME["sizes"])

def main():
    XS.append(2)
    print(XS, HOLDER, BY_NAME["xs"])
    print(grow(), grow(), CFG, SIZES)
    SETS[0].add(4)
    print(SEEN, SETS)
    HOLDER[0].append(3)
    print(XS)
'''


def test_globals_sharing_a_container_share_it_when_compiled():
    program = check_source(Source("shared.glia", SHARED))
    ref, got = run(program, [], "interp"), run(program, [], "cpu")
    assert not got[2], got[2]  # main compiled, no note
    assert ref[:2] == got[:2]
    assert ref[0].splitlines() == ["[1, 2] [[1, 2]] [1, 2]", "6 8 Cfg(name='net', sizes=[10, 20, 2, 3]) [10, 20, 2, 3]",
                                   "{3, 4} [{3, 4}, {3, 4}]", "[1, 2, 3]"]
