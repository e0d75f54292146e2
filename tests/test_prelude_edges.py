"""The prelude's graph functions on graphs a user gets wrong: a node number outside the graph and a
negative weight are E508 naming the node or the edge, on both backends, never a wrong answer (a
negative node indexed from the end of a list; Dijkstra with a negative weight gave a path that was
not the cheapest, and looped without end on a negative cycle). Every edge is checked before the
search: shortest_path stops at dst, before the negative edge beyond it."""
import pytest

from test_backend_cpu import run
from glia.compiler.diagnostics import Source
from glia.compiler.driver import check_source

GRAPHS = """
def main(args: list[str]):
    adj = [[1], [], [0, 2], []]
    wadj: list[list[(int, float)]] = [[(1, 4.0), (2, 1.0)], [(2, -5.0)], []]
    case = args[0]
    if case == "bfs_start":
        print(bfs(adj, -1))
    elif case == "dfs_start":
        print(dfs(adj, 4))
    elif case == "bfs_edge":
        print(bfs([[1, -1], []], 0))
    elif case == "dfs_edge":
        print(dfs([[-2], []], 0))
    elif case == "topo_edge":
        print(topo_sort([[-1], []]))
    elif case == "dijkstra_src":
        print(dijkstra(wadj, -3))
    elif case == "dijkstra_negative":
        print(dijkstra(wadj, 0))
    elif case == "dijkstra_negative_cycle":
        print(dijkstra([[(0, -1.0)]], 0))
    elif case == "dijkstra_nan":
        print(dijkstra([[(1, math.nan)], []], 0))
    elif case == "path_negative":
        print(shortest_path(wadj, 0, 2))
    elif case == "path_dst":
        print(shortest_path(wadj, 0, -1))
    elif case == "empty":
        e: list[list[int]] = []
        print(bfs(e, 0))
    else:
        print(bfs(adj, 2), dfs(adj, 2), topo_sort([[1], [], [0]]))
        print(dijkstra([[(1, 0.0), (1, 2.0)], [(1, 0.0)]], 0), shortest_path([[(1, math.inf)], []], 0, 1))
"""

CASES = {
    "bfs_start": "bfs: the start node is -1, which is not in this graph (its nodes are 0 to 3)",
    "dfs_start": "dfs: the start node is 4, which is not in this graph (its nodes are 0 to 3)",
    "bfs_edge": "bfs: the edge 0 -> -1 leads to -1, which is not in this graph (its nodes are 0 to 1)",
    "dfs_edge": "dfs: the edge 0 -> -2 leads to -2, which is not in this graph (its nodes are 0 to 1)",
    "topo_edge": "topo_sort: the edge 0 -> -1 leads to -1, which is not in this graph (its nodes are 0 to 1)",
    "dijkstra_src": "dijkstra: the source node is -3, which is not in this graph (its nodes are 0 to 2)",
    "dijkstra_negative": "dijkstra: the edge 1 -> 2 weighs -5.0; weights must be >= 0",
    "dijkstra_negative_cycle": "dijkstra: the edge 0 -> 0 weighs -1.0; weights must be >= 0",
    "dijkstra_nan": "dijkstra: the edge 0 -> 1 weighs nan; weights must be >= 0",
    "path_negative": "shortest_path: the edge 1 -> 2 weighs -5.0; weights must be >= 0",
    "path_dst": "shortest_path: the destination node is -1, which is not in this graph (its nodes are 0 to 2)",
    "empty": "bfs: the start node is 0, which is not in this graph (it has no nodes)",
}


@pytest.fixture(scope="module")
def graphs():
    return check_source(Source("graphs.glia", GRAPHS))


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_node_or_weight_is_e508_naming_it(graphs, case):
    out, err, _ = run(graphs, [case], "interp")
    assert out == "" and err[0] == "E508" and err[1] == "assertion failed: " + CASES[case]
    assert run(graphs, [case], "cpu")[:2] == (out, err)


def test_good_graphs_still_give_their_answers(graphs):
    out, err, _ = run(graphs, ["ok"], "interp")
    assert err is None and out == "[1, 2, 0, -1] [2, 0, 1] [2, 0, 1]\n[0.0, 0.0] []\n"
    assert run(graphs, ["ok"], "cpu")[:2] == (out, None)
