"""The benchmark algorithms in plain CPython, written as a Python programmer would (list-of-lists
graphs, heapq for the heap, list.sort), mirroring the Glia programs in programs/ line for line where
Python has the same construct. Each generator produces exactly the Glia program's input."""
from __future__ import annotations

import heapq
import math
import sys


def lcg(x: int) -> int:
    return x * 48271 % 2147483647


# ---- BFS -----------------------------------------------------------------------------------------
def bfs_make_graph(n: int, m: int, seed: int) -> list[list[int]]:
    adj: list[list[int]] = [[] for _ in range(n)]
    x = seed
    for _ in range(m):
        x = lcg(x)
        u = x % n
        x = lcg(x)
        v = x % n
        adj[u].append(v)
    return adj


def bfs_dist(adj: list[list[int]], start: int) -> list[int]:
    dist = [-1] * len(adj)
    dist[start] = 0
    queue = [start]
    head = 0
    while head < len(queue):
        u = queue[head]
        head += 1
        du = dist[u] + 1
        for v in adj[u]:
            if dist[v] < 0:
                dist[v] = du
                queue.append(v)
    return dist


def bfs_summary(dist) -> str:
    reached = total = far = 0
    for d in dist:
        if d >= 0:
            reached += 1
            total += d
            if d > far:
                far = d
    return f"reached={reached} total={total} max={far}"


# ---- Dijkstra ------------------------------------------------------------------------------------
def dij_make_graph(n: int, m: int, seed: int) -> list[list[tuple[int, float]]]:
    adj: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    x = seed
    for _ in range(m):
        x = lcg(x)
        u = x % n
        x = lcg(x)
        v = x % n
        x = lcg(x)
        w = float(x % 100 + 1)
        adj[u].append((v, w))
    return adj


def dijkstra(adj, src: int) -> list[float]:
    dist = [math.inf] * len(adj)
    dist[src] = 0.0
    heap = [(0.0, src)]
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist[u]:
            continue
        for v, w in adj[u]:
            nd = d + w
            if nd < dist[v]:
                dist[v] = nd
                heapq.heappush(heap, (nd, v))
    return dist


def dij_summary(dist) -> str:
    reached = 0
    total = far = 0.0
    for d in dist:
        if d < math.inf:
            reached += 1
            total += d
            if d > far:
                far = d
    return f"reached={reached} total={int(total)} max={int(far)}"


# ---- sorting -------------------------------------------------------------------------------------
def make_ints(n: int, seed: int) -> list[int]:
    xs = []
    x = seed
    for _ in range(n):
        x = lcg(x)
        xs.append(x % 1000000000)
    return xs


def builtin_sort(xs: list[int]) -> list[int]:
    ys = xs.copy()
    ys.sort()
    return ys


def merge_rec(a, tmp, lo, hi):
    if hi - lo < 2:
        return
    mid = (lo + hi) // 2
    merge_rec(a, tmp, lo, mid)
    merge_rec(a, tmp, mid, hi)
    i = lo
    j = mid
    k = lo
    while i < mid and j < hi:
        if a[j] < a[i]:
            tmp[k] = a[j]
            j += 1
        else:
            tmp[k] = a[i]
            i += 1
        k += 1
    while i < mid:
        tmp[k] = a[i]
        i += 1
        k += 1
    while j < hi:
        tmp[k] = a[j]
        j += 1
        k += 1
    for t in range(lo, hi):
        a[t] = tmp[t]


def merge_sort(xs: list[int]) -> list[int]:
    a = xs.copy()
    tmp = [0] * len(a)
    merge_rec(a, tmp, 0, len(a))
    return a


def sort_summary(ys) -> str:
    ok = True
    check = 0
    for i in range(len(ys)):
        if i > 0 and ys[i - 1] > ys[i]:
            ok = False
        check = (check * 31 + int(ys[i])) % 1000000007
    return (f"sorted={ok} min={ys[0]} median={ys[len(ys) // 2]} max={ys[len(ys) - 1]} hash={check}")


# ---- edit distance -------------------------------------------------------------------------------
def make_string(n: int, seed: int) -> str:
    letters = "acgt"
    parts = []
    x = seed
    for _ in range(n):
        x = lcg(x)
        parts.append(letters[x % 4])
    return "".join(parts)


def make_seq(n: int, seed: int) -> list:
    out = []
    x = seed
    for _ in range(n):
        x = lcg(x)
        out.append(x % 4)
    return out


def lcs(a: list, b: list) -> int:
    n, m = len(a), len(b)
    dp = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            if a[i - 1] == b[j - 1]:
                dp[i][j] = dp[i - 1][j - 1] + 1
            else:
                dp[i][j] = max(dp[i - 1][j], dp[i][j - 1])
    return dp[n][m]


def edit_distance(a: str, b: str) -> int:
    m = len(b)
    prev = list(range(m + 1))
    cur = [0] * (m + 1)
    for i in range(1, len(a) + 1):
        cur[0] = i
        ca = a[i - 1]
        for j in range(1, m + 1):
            cost = 0 if ca == b[j - 1] else 1
            best = prev[j - 1] + cost
            if prev[j] + 1 < best:
                best = prev[j] + 1
            if cur[j - 1] + 1 < best:
                best = cur[j - 1] + 1
            cur[j] = best
        prev, cur = cur, prev
    return prev[m]


# ---- word counting -------------------------------------------------------------------------------
def make_text(n: int, v: int, seed: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = []
    x = seed
    for _ in range(v):
        x = lcg(x)
        length = 2 + x % 8
        chars = []
        for _ in range(length):
            x = lcg(x)
            chars.append(letters[x % 26])
        vocab.append("".join(chars))
    words = []
    for _ in range(n):
        x = lcg(x)
        a = x % v
        x = lcg(x)
        b = x % v
        words.append(vocab[min(a, b)])
    return " ".join(words)


def word_counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for w in text.split():
        counts[w] = counts.get(w, 0) + 1
    return counts


def wc_summary(counts) -> str:
    best = ""
    best_n = 0
    total = 0
    for w, c in counts.items():
        total += c
        if c > best_n or (c == best_n and w < best):
            best = w
            best_n = c
    return f"distinct={len(counts)} total={total} top={best}:{best_n}"


# ---- recursion -----------------------------------------------------------------------------------
def fib(n: int) -> int:
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def ack(m: int, n: int) -> int:
    if m == 0:
        return n + 1
    if n == 0:
        return ack(m - 1, 1)
    return ack(m - 1, ack(m, n - 1))


def queens_from(n, row, cols, d1, d2) -> int:
    if row == n:
        return 1
    count = 0
    free = ((1 << n) - 1) & ~(cols | d1 | d2)
    while free != 0:
        bit = free & -free
        free -= bit
        count += queens_from(n, row + 1, cols | bit, ((d1 | bit) << 1) & ((1 << n) - 1), (d2 | bit) >> 1)
    return count


def queens(n: int) -> int:
    return queens_from(n, 0, 0, 0, 0)


sys.setrecursionlimit(max(sys.getrecursionlimit(), 100000))  # ack(3, n) nests ~2**(n+3) calls


# ---- whole programs (the same printed output as the .glia files' main) ---------------------------
def main_bfs(n, m, seed):
    return bfs_summary(bfs_dist(bfs_make_graph(n, m, seed), 0)) + "\n"


def main_dijkstra(n, m, seed):
    return dij_summary(dijkstra(dij_make_graph(n, m, seed), 0)) + "\n"


def main_sort(n, seed):
    xs = make_ints(n, seed)
    return "builtin " + sort_summary(builtin_sort(xs)) + "\nmerge " + sort_summary(merge_sort(xs)) + "\n"


def main_editdist(n, seed):
    return f"distance={edit_distance(make_string(n, seed), make_string(n, seed + 1))}\n"


def main_lcs(n, seed):
    return f"lcs={lcs(make_seq(n, seed), make_seq(n, seed + 1))}\n"


def main_wordcount(n, v, seed):
    return wc_summary(word_counts(make_text(n, v, seed))) + "\n"


def main_recursion(fn, am, an, qn):
    return f"fib={fib(fn)}\nack={ack(am, an)}\nqueens={queens(qn)}\n"


# ---- strings: building by +=, sorting by a key ------------------------------------------------
def build(n: int) -> str:
    out = ""
    for i in range(n):
        out += "<" + str(i % 97) + ">"
    return out


def build_summary(s: str) -> str:
    return f"len={len(s)} nines={s.count('<9')} tail={s[len(s) - 12:]}"


def by_key(xs: list[int]) -> list[int]:
    return sorted(xs, key=lambda x: x % 1000)


def key_summary(ys) -> str:
    check = 0
    for y in ys:
        check = (check * 31 + int(y)) % 1000000007
    return f"first={ys[0]} last={ys[len(ys) - 1]} hash={check}"
