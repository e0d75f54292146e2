"""Generate a realistic N-line Glia program (graph code, DP, strings, structs, dicts) for timing the
front end. Deterministic: the same N gives the same text."""
from __future__ import annotations

import sys

TEMPLATE = '''
struct Item{i}:
    name: str
    weight: int
    value: float

def knapsack{i}(items: list[Item{i}], cap: int) -> float:
    best = [0.0] * (cap + 1)
    for it in items:
        w = cap
        while w >= it.weight:
            cand = best[w - it.weight] + it.value
            if cand > best[w]:
                best[w] = cand
            w -= 1
    return best[cap]

def edit_distance{i}(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for x in range(1, len(a) + 1):
        cur = [x] + [0] * len(b)
        for y in range(1, len(b) + 1):
            cost = 0 if a[x - 1] == b[y - 1] else 1
            cur[y] = min(prev[y] + 1, cur[y - 1] + 1, prev[y - 1] + cost)
        prev = cur
    return prev[len(b)]

def word_counts{i}(text: str) -> dict[str, int]:
    counts: dict[str, int] = {{}}
    for w in text.lower().split():
        w = w.strip(".,;:!?")
        if len(w) > 0:
            counts[w] = counts.get(w, 0) + 1
    return counts

def top_words{i}(text: str, k: int) -> list[(str, int)]:
    pairs = sorted(word_counts{i}(text).items(), key=lambda p: (-p[1], p[0]))
    return pairs[:k]

def components{i}(adj: list[list[int]]) -> int:
    seen = set()
    count = 0
    for s in range(len(adj)):
        if s in seen:
            continue
        count += 1
        stack = [s]
        while len(stack) > 0:
            u = stack.pop()
            if u in seen:
                continue
            seen.add(u)
            for v in adj[u]:
                if v not in seen:
                    stack.append(v)
    return count

def summary{i}(xs: list[int]) -> (int, int, float):
    evens = [x for x in xs if x % 2 == 0]
    total = reduce(lambda acc, x: acc + x, xs, 0)
    mean = total / len(xs) if len(xs) > 0 else 0.0
    return (len(evens), max(xs) if len(xs) > 0 else 0, mean)
'''


def program(lines: int) -> str:
    parts = []
    i = 0
    text = ""
    while text.count("\n") < lines - 12:
        parts.append(TEMPLATE.format(i=i))
        i += 1
        text = "".join(parts)
    main = f'''
def main():
    items = [Item0("a", 2, 3.0), Item0("b", 3, 4.5), Item0("c", 4, 6.0)]
    print(knapsack0(items, 6), edit_distance0("kitten", "sitting"))
    print(top_words0("the cat and the hat and the bat", 2))
    print(components0([[1], [0], [3], [2], []]), summary0([1, 2, 3, 4]))
'''
    return text + main


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    sys.stdout.write(program(n))
