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


HEAPS = '''
def heap_push(h: list[(float, int)], x: (float, int)):
    h.append(x)
    i = len(h) - 1
    while i > 0:
        parent = (i - 1) // 2
        if x < h[parent]:
            h[i] = h[parent]
            i = parent
        else:
            break
    h[i] = x

def heap_pop(h: list[(float, int)]) -> (float, int):
    top = h[0]
    last = h.pop()
    n = len(h)
    if n > 0:
        i = 0
        while True:
            c = 2 * i + 1
            if c >= n:
                break
            if c + 1 < n and h[c + 1] < h[c]:
                c += 1
            if h[c] < last:
                h[i] = h[c]
                i = c
            else:
                break
        h[i] = last
    return top

def last_of(h: list[(float, int)]) -> (float, int):
    return h.pop()

def shortest(adj: list[list[(int, float)]], src: int) -> list[float]:
    dist = [1e300] * len(adj)
    dist[src] = 0.0
    heap = [(0.0, src)]
    while len(heap) > 0:
        d, u = heap_pop(heap)
        if d > dist[u]:
            continue
        for v, w in adj[u]:
            nd = d + w
            if nd < dist[v]:
                dist[v] = nd
                heap_push(heap, (nd, v))
    return dist

def prelude_order(adj: list[list[int]], starts: list[int]) -> list[int]:
    h: list[int] = []
    for s in starts:
        heappush(h, s)
    seen = [False] * len(adj)
    out: list[int] = []
    while len(h) > 0:
        u = heappop(h)
        if seen[u]:
            continue
        seen[u] = True
        out.append(u)
        for v in adj[u]:
            heappush(h, v)
    return out

def stack_order(adj: list[list[(int, float)]], h: list[(float, int)]) -> int:
    t = 0
    while len(h) > 0:
        d, u = last_of(h)
        t += len(adj[u])
    return t

def main(args: list[str]):
    n = 400
    adj: list[list[(int, float)]] = [[] for i in range(n)]
    plain: list[list[int]] = [[] for i in range(n)]
    x = 17
    for e in range(2000):
        x = x * 48271 % 2147483647
        u = x % n
        x = x * 48271 % 2147483647
        adj[u].append((x % n, float(x % 10 + 1)))
        plain[u].append(x % n)
    dist = shortest(adj, 0)
    print(len([d for d in dist if d < 1e300]), sum([d for d in dist if d < 1e300]))
    print(sum(prelude_order(plain, [5, 3, 9])))
    print(stack_order(adj, [(1.0, 3), (2.0, -1), (0.5, 399)]))
    # a heap naming a row out of range: the prefetch skips it, the program fails as the interpreter does
    print(shortest([[(1, 1.0)], [(int(args[0]), 2.0)]], 0))
'''


def test_loops_popping_a_heaps_front_prefetch_the_next_top_row():
    source = lowered(HEAPS)
    assert "al.prefetch_front(v0_adj, len(v0_adj), v3_heap, 1)" in function_source(source, "shortest")
    assert re.search(r"al\.prefetch_front\(v0_adj, len\(v0_adj\), v\d+_h, -1\)", function_source(source, "prelude_order"))
    assert "prefetch" not in function_source(source, "stack_order")  # last_of returns h[-1], not h[0]
    ref, got = both(HEAPS, ["1"])
    assert ref == got and ref[1] is None
    ref, got = both(HEAPS, ["5"])
    assert ref == got and ref[1] is not None and ref[1][0] == "E501"
