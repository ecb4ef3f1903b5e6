"""Union-find over row indices: clusters are transitive, and each root is its smallest member."""

from __future__ import annotations

from collections.abc import Iterable


class UnionFind:
    def __init__(self) -> None:
        self._parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self._parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while x != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller index becomes the root, so the result is the same in any edge order.
            lo, hi = (ra, rb) if ra < rb else (rb, ra)
            self._parent[hi] = lo
            self._parent.setdefault(lo, lo)

    def union_all(self, pairs: Iterable[tuple[int, int]]) -> None:
        for a, b in pairs:
            self.union(a, b)

    def clusters(self) -> list[list[int]]:
        """Every cluster of two or more members, members ascending, clusters by smallest member."""
        groups: dict[int, list[int]] = {}
        for x in self._parent:
            groups.setdefault(self.find(x), []).append(x)
        return sorted((sorted(m) for m in groups.values() if len(m) > 1), key=lambda m: m[0])
