"""The benchmark algorithms as a Numba expert would write them by hand: @njit, graphs in CSR numpy
arrays, an array-based binary heap, np.sort, uint8 arrays for the DP strings, a typed Dict[str, int]
for word counting (Numba has nothing faster for string keys). Each generator produces exactly the
Glia program's input (same LCG, same order), so the printed summaries must agree."""
from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.typed import Dict

INF = np.inf


@njit(cache=True)
def lcg(x):
    return x * 48271 % 2147483647


# ---- graphs (CSR, edges kept in generation order per node) --------------------------------------
@njit(cache=True)
def _csr(n, us, vs, ws):
    m = us.shape[0]
    start = np.zeros(n + 1, np.int64)
    for e in range(m):
        start[us[e] + 1] += 1
    for i in range(n):
        start[i + 1] += start[i]
    fill = start[:-1].copy()
    dst = np.empty(m, np.int64)
    wt = np.empty(m, np.float64)
    for e in range(m):
        k = fill[us[e]]
        dst[k] = vs[e]
        wt[k] = ws[e]
        fill[us[e]] = k + 1
    return start, dst, wt


@njit(cache=True)
def bfs_make_graph(n, m, seed):
    us = np.empty(m, np.int64)
    vs = np.empty(m, np.int64)
    x = seed
    for e in range(m):
        x = lcg(x)
        us[e] = x % n
        x = lcg(x)
        vs[e] = x % n
    start, dst, _ = _csr(n, us, vs, np.zeros(0, np.float64) if m == 0 else np.zeros(m, np.float64))
    return start, dst


@njit(cache=True)
def bfs_dist(start, dst, src):
    n = start.shape[0] - 1
    dist = np.full(n, -1, np.int64)
    queue = np.empty(n, np.int64)
    dist[src] = 0
    queue[0] = src
    head, tail = 0, 1
    while head < tail:
        u = queue[head]
        head += 1
        du = dist[u] + 1
        for k in range(start[u], start[u + 1]):
            v = dst[k]
            if dist[v] < 0:
                dist[v] = du
                queue[tail] = v
                tail += 1
    return dist


@njit(cache=True)
def dij_make_graph(n, m, seed):
    us = np.empty(m, np.int64)
    vs = np.empty(m, np.int64)
    ws = np.empty(m, np.float64)
    x = seed
    for e in range(m):
        x = lcg(x)
        us[e] = x % n
        x = lcg(x)
        vs[e] = x % n
        x = lcg(x)
        ws[e] = float(x % 100 + 1)
    return _csr(n, us, vs, ws)


@njit(cache=True)
def dijkstra(start, dst, wt, src):
    n = start.shape[0] - 1
    dist = np.full(n, INF)
    dist[src] = 0.0
    cap = dst.shape[0] + 1  # at most one push per edge relaxation, plus the source
    hd = np.empty(cap, np.float64)
    hv = np.empty(cap, np.int64)
    size = 1
    hd[0] = 0.0
    hv[0] = src
    while size > 0:
        d = hd[0]
        u = hv[0]
        size -= 1
        if size > 0:  # move the last element to the root and sift it down
            ld, lv = hd[size], hv[size]
            i = 0
            while True:
                c = 2 * i + 1
                if c >= size:
                    break
                if c + 1 < size and (hd[c + 1] < hd[c] or (hd[c + 1] == hd[c] and hv[c + 1] < hv[c])):
                    c += 1
                if hd[c] < ld or (hd[c] == ld and hv[c] < lv):
                    hd[i] = hd[c]
                    hv[i] = hv[c]
                    i = c
                else:
                    break
            hd[i] = ld
            hv[i] = lv
        if d > dist[u]:
            continue
        for k in range(start[u], start[u + 1]):
            v = dst[k]
            nd = d + wt[k]
            if nd < dist[v]:
                dist[v] = nd
                i = size  # push and sift up
                size += 1
                while i > 0:
                    p = (i - 1) // 2
                    if nd < hd[p] or (nd == hd[p] and v < hv[p]):
                        hd[i] = hd[p]
                        hv[i] = hv[p]
                        i = p
                    else:
                        break
                hd[i] = nd
                hv[i] = v
    return dist


# ---- sorting -------------------------------------------------------------------------------------
@njit(cache=True)
def make_ints(n, seed):
    xs = np.empty(n, np.int64)
    x = seed
    for i in range(n):
        x = lcg(x)
        xs[i] = x % 1000000000
    return xs


@njit(cache=True)
def builtin_sort(xs):
    return np.sort(xs)


@njit
def _merge_rec(a, tmp, lo, hi):
    if hi - lo < 2:
        return
    mid = (lo + hi) // 2
    _merge_rec(a, tmp, lo, mid)
    _merge_rec(a, tmp, mid, hi)
    i, j, k = lo, mid, lo
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


@njit
def merge_sort(xs):
    a = xs.copy()
    tmp = np.zeros_like(a)
    _merge_rec(a, tmp, 0, a.shape[0])
    return a


# ---- edit distance -------------------------------------------------------------------------------
@njit(cache=True)
def make_codes(n, seed):
    out = np.empty(n, np.uint8)
    x = seed
    for i in range(n):
        x = lcg(x)
        out[i] = x % 4
    return out


def codes_to_str(codes) -> str:
    return "".join("acgt"[c] for c in codes)


@njit(cache=True)
def edit_distance(a, b):
    m = b.shape[0]
    prev = np.arange(m + 1).astype(np.int64)
    cur = np.zeros(m + 1, np.int64)
    for i in range(1, a.shape[0] + 1):
        cur[0] = i
        ca = a[i - 1]
        for j in range(1, m + 1):
            best = prev[j - 1] + (0 if ca == b[j - 1] else 1)
            if prev[j] + 1 < best:
                best = prev[j] + 1
            if cur[j - 1] + 1 < best:
                best = cur[j - 1] + 1
            cur[j] = best
        prev, cur = cur, prev
    return prev[m]


@njit(cache=True)
def lcs(a, b):
    """The same table as a 2-D array."""
    n, m = a.shape[0], b.shape[0]
    dp = np.zeros((n + 1, m + 1), np.int64)
    for i in range(1, n + 1):
        ai = a[i - 1]
        for j in range(1, m + 1):
            if ai == b[j - 1]:
                dp[i, j] = dp[i - 1, j - 1] + 1
            else:
                dp[i, j] = max(dp[i - 1, j], dp[i, j - 1])
    return dp[n, m]


# ---- word counting -------------------------------------------------------------------------------
# The text is made by the CPython generator (a str crosses into Numba as one object); counting is
# the kernel.
@njit(cache=True)
def word_counts(text):
    counts = Dict.empty(types.unicode_type, types.int64)
    for w in text.split():
        counts[w] = counts.get(w, 0) + 1
    return counts


# ---- recursion (not cached: Numba 0.68 loading a cached self-recursive function from its cache
# aborted the process with "LLVM ERROR: Symbol not found: .numba.unresolved$...ack...") -----------------------------------------------------------------------------------
@njit("int64(int64)")
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


@njit("int64(int64, int64)")
def ack(m, n):
    if m == 0:
        return n + 1
    if n == 0:
        return ack(m - 1, 1)
    return ack(m - 1, ack(m, n - 1))


@njit("int64(int64, int64, int64, int64, int64)")
def queens_from(n, row, cols, d1, d2):
    if row == n:
        return 1
    count = 0
    full = (1 << n) - 1
    free = full & ~(cols | d1 | d2)
    while free != 0:
        bit = free & -free
        free -= bit
        count += queens_from(n, row + 1, cols | bit, ((d1 | bit) << 1) & full, (d2 | bit) >> 1)
    return count


@njit
def queens(n):
    return queens_from(n, 0, 0, 0, 0)


# ---- the same kernels on Numba's typed List, the data structure Glia's CPU backend uses -----------
# (a second Numba reference: what hand-written Numba gets with the same containers as Glia; the
# generators build the same inputs in typed Lists)
from numba.typed import List  # noqa: E402

TL_INT = types.ListType(types.int64)
EDGE = types.Tuple((types.int64, types.float64))
TL_EDGE = types.ListType(EDGE)
ENTRY = types.Tuple((types.float64, types.int64))


@njit(cache=True)
def tl_bfs_make_graph(n, m, seed):
    adj = List.empty_list(TL_INT)
    for _ in range(n):
        adj.append(List.empty_list(types.int64))
    x = seed
    for _ in range(m):
        x = lcg(x)
        u = x % n
        x = lcg(x)
        adj[u].append(x % n)
    return adj


@njit(cache=True)
def tl_bfs_dist(adj, start):
    dist = List.empty_list(types.int64)
    for _ in range(len(adj)):
        dist.append(-1)
    dist[start] = 0
    queue = List.empty_list(types.int64)
    queue.append(start)
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


@njit(cache=True)
def tl_dij_make_graph(n, m, seed):
    adj = List.empty_list(TL_EDGE)
    for _ in range(n):
        adj.append(List.empty_list(EDGE))
    x = seed
    for _ in range(m):
        x = lcg(x)
        u = x % n
        x = lcg(x)
        v = x % n
        x = lcg(x)
        adj[u].append((v, float(x % 100 + 1)))
    return adj


@njit(cache=True)
def tl_dijkstra(adj, src):
    dist = List.empty_list(types.float64)
    for _ in range(len(adj)):
        dist.append(INF)
    dist[src] = 0.0
    heap = List.empty_list(ENTRY)
    heap.append((0.0, src))
    while len(heap) > 0:
        top = heap[0]
        last = heap.pop()
        n = len(heap)
        if n > 0:
            heap[0] = last
            i = 0
            while True:
                s = i
                c = 2 * i + 1
                if c < n and heap[c] < heap[s]:
                    s = c
                if c + 1 < n and heap[c + 1] < heap[s]:
                    s = c + 1
                if s == i:
                    break
                heap[i], heap[s] = heap[s], heap[i]
                i = s
        d, u = top
        if d > dist[u]:
            continue
        for v, w in adj[u]:
            nd = d + w
            if nd < dist[v]:
                dist[v] = nd
                heap.append((nd, v))
                i = len(heap) - 1
                while i > 0:
                    p = (i - 1) // 2
                    if heap[i] < heap[p]:
                        heap[i], heap[p] = heap[p], heap[i]
                        i = p
                    else:
                        break
    return dist


@njit(cache=True)
def tl_make_ints(n, seed):
    xs = List.empty_list(types.int64)
    x = seed
    for _ in range(n):
        x = lcg(x)
        xs.append(x % 1000000000)
    return xs


@njit(cache=True)
def tl_builtin_sort(xs):
    ys = xs.copy()
    ys.sort()
    return ys


@njit
def _tl_merge_rec(a, tmp, lo, hi):
    if hi - lo < 2:
        return
    mid = (lo + hi) // 2
    _tl_merge_rec(a, tmp, lo, mid)
    _tl_merge_rec(a, tmp, mid, hi)
    i, j, k = lo, mid, lo
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


@njit
def tl_merge_sort(xs):
    a = xs.copy()
    tmp = List.empty_list(types.int64)
    for _ in range(len(a)):
        tmp.append(0)
    _tl_merge_rec(a, tmp, 0, len(a))
    return a


@njit(cache=True)
def tl_edit_distance(a, b):
    """On the strings themselves, indexing characters, as the Glia program does."""
    m = len(b)
    prev = List.empty_list(types.int64)
    cur = List.empty_list(types.int64)
    for j in range(m + 1):
        prev.append(j)
        cur.append(0)
    for i in range(1, len(a) + 1):
        cur[0] = i
        ca = a[i - 1]
        for j in range(1, m + 1):
            best = prev[j - 1] + (0 if ca == b[j - 1] else 1)
            if prev[j] + 1 < best:
                best = prev[j] + 1
            if cur[j - 1] + 1 < best:
                best = cur[j - 1] + 1
            cur[j] = best
        prev, cur = cur, prev
    return prev[m]


@njit(cache=True)
def tl_lcs(a, b):
    """The same table as a typed List of typed Lists."""
    n, m = len(a), len(b)
    dp = List()
    for _ in range(n + 1):
        row = List.empty_list(types.int64)
        for _ in range(m + 1):
            row.append(0)
        dp.append(row)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            if a[i - 1] == b[j - 1]:
                dp[i][j] = dp[i - 1][j - 1] + 1
            else:
                dp[i][j] = max(dp[i - 1][j], dp[i][j - 1])
    return dp[n][m]


# ---- strings: building (parts joined once, as an expert writes it), sorting by a key (a stable
# argsort of the keys) ------------------------------------------------------------------------------
@njit(cache=True)
def build(n):
    parts = List.empty_list(types.unicode_type)
    for i in range(n):
        parts.append("<" + str(i % 97) + ">")
    return "".join(parts)


@njit(cache=True)
def by_key(xs):
    return xs[np.argsort(xs % 1000, kind="mergesort")]
