"""Software prefetching of a list of lists' rows (compiler/prefetch.py, runtime/nblist.py): which loops
prefetch, and that a prefetch changes nothing a program computes or reports: every program here runs
on both backends with the same output and the same error, including queues holding indices out of
range, negative ones (which wrap, as in Python), rows that are empty and rows replaced while walked."""
import re

from glia.compiler.backend_cpu import lower_program
from glia.compiler.diagnostics import Source
from glia.compiler.driver import check_source

from test_backend_cpu import run
from test_backend_cpu_loops import function_source

IN_ORDER, IN_VIEW = "al.prefetch_in_order(", "al.prefetch_in_view("

GRAPHS = '''
def lcg(x: int) -> int:
    return x * 48271 % 2147483647

def make_graph(n: int, m: int, seed: int) -> list[list[int]]:
    adj: list[list[int]] = []
    for i in range(n):
        adj.append([])
    x = seed
    for e in range(m):
        x = lcg(x)
        u = x % n
        x = lcg(x)
        adj[u].append(x % n)
    return adj

def bfs(adj: list[list[int]], start: int) -> list[int]:
    dist = [-1] * len(adj)
    dist[start] = 0
    queue = [start]
    head = 0
    while head < len(queue):
        u = queue[head]
        head += 1
        for v in adj[u]:
            if dist[v] < 0:
                dist[v] = dist[u] + 1
                queue.append(v)
    return dist

def degrees_in(adj: list[list[int]], order: list[int]) -> int:
    t = 0
    for u in order:
        t = t * 31 % 1000003 + len(adj[u])
        for v in adj[u]:
            t += v
    return t

def walk(adj: list[list[int]], queue: list[int]) -> int:
    t = 0
    i = 0
    while i < len(queue):
        u = queue[i]
        t = t * 7 % 1000003 + len(adj[u])
        i = 1 + i
    return t

def replaced(adj: list[list[int]], order: list[int]) -> int:
    t = 0
    for u in order:
        t += len(adj[u])
        adj[u] = [1, 2, 3]
    return t

def main(args: list[str]):
    adj = make_graph(3000, 12000, 5)
    d = bfs(adj, 0)
    print(len([x for x in d if x >= 0]), sum(d))
    order = [(i * 7919) % 3000 for i in range(3000)]
    print(degrees_in(adj, order))
    print(walk(adj, [2999, -1, -3000, 0, 5, 17] + order))
    print(replaced(adj, order[:100] + order[:10]))
    print(walk([[], [], [1]], [0, 1, 2, 2, 1, 0, 2]))
    print(walk(adj, []), degrees_in(adj, []), degrees_in([[]], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
    print(walk(adj, [1, 2, int(args[0])]))
'''


def lowered(text: str) -> str:
    return lower_program(check_source(Source("graphs.glia", text))).source


def both(text: str, args):
    program = check_source(Source("graphs.glia", text))
    ref, got = run(program, list(args), "interp"), run(program, list(args), "cpu")
    assert not got[2], got[2]
    return ref[:2], got[:2]


def test_walks_along_a_queue_or_an_order_prefetch_the_rows_they_read():
    source = lowered(GRAPHS)
    assert function_source(source, "bfs").count(IN_ORDER) == 1
    assert re.search(r"prefetch_in_order\(v0_adj, len\(v0_adj\), v\d+_queue, v\d+_head\)", function_source(source, "bfs"))
    assert IN_ORDER in function_source(source, "walk")  # i = 1 + i counts up too (in each copy of the loop)
    assert function_source(source, "degrees_in").count(IN_VIEW) == 1
    # rows replaced while walked: a prefetch reads the row the list holds at that moment
    assert function_source(source, "replaced").count(IN_VIEW) == 1
    assert "prefetch" not in function_source(source, "make_graph")  # rows read at computed indices


def test_prefetching_changes_no_result_and_no_error():
    ref, got = both(GRAPHS, ["2"])
    assert ref == got and ref[1] is None
    ref, got = both(GRAPHS, ["3000"])  # the queue's last index is out of range: the same error, same line
    assert ref == got and ref[1] is not None and ref[1][0] == "E501"
    ref, got = both(GRAPHS, ["-3001"])
    assert ref == got and ref[1] is not None and ref[1][0] == "E501"


LOOPS = '''
def back(adj: list[list[int]], queue: list[int]) -> int:
    t = 0
    i = len(queue) - 1
    while i >= 0:
        u = queue[i]
        t += len(adj[u])
        i -= 1
    return t

def by_two(adj: list[list[int]], queue: list[int]) -> int:
    t = 0
    i = 0
    while i < len(queue):
        u = queue[i]
        t += len(adj[u])
        i += 2
    return t

def moved(adj: list[list[int]], queue: list[int]) -> int:
    t = 0
    i = 0
    while i < len(queue):
        u = queue[i]
        i += 1
        u = u // 2
        t += len(adj[u])
    return t

def rebound(adj: list[list[int]], queue: list[int]) -> int:
    t = 0
    i = 0
    while i < len(queue):
        u = queue[i]
        i += 1
        t += len(adj[u])
        adj = [[1], [2, 3], [], [4]]
    return t

def counted(adj: list[list[int]]) -> int:
    t = 0
    for u in range(len(adj)):
        t += len(adj[u])
    return t

def scalars(xs: list[int], queue: list[int]) -> int:
    t = 0
    i = 0
    while i < len(queue):
        u = queue[i]
        i += 1
        t += xs[u]
    return t

def main():
    adj = [[1, 2], [0], [], [2, 2, 2]]
    q = [0, 1, 3, 1, 0, 0, 1, 1]
    print(back(adj, q), by_two(adj, q), moved(adj, q), rebound(adj, q), counted(adj), scalars([5, 6, 7, 8], q))
'''


def test_loops_of_other_shapes_do_not_prefetch():
    source = lowered(LOOPS)
    for name in ("back", "by_two", "moved", "rebound", "counted", "scalars"):
        assert "prefetch" not in function_source(source, name), name
    ref, got = both(LOOPS, [])
    assert ref == got and ref[1] is None
