"""The aggregation cell: totals of one (agent, model, provider, session, user, workflow) combination.

Every record updates exactly one cell; a view grouped by any dimension folds the cells on demand. Recent activity
lives in 10-second slices (calls, spend, latency and TTFT sketches) kept only for the longest window.
"""

from __future__ import annotations

from llmcost.engine._sketch import Sketch
from llmcost.engine._sums import Sums

__all__ = ["SLICE_S", "Cell", "Slice"]

SLICE_S = 10
KEEP_SLICES = 15 * 60 // SLICE_S + 1  # 15 minutes of slices, plus the one being filled


class Slice:
    """Ten seconds of one cell."""

    __slots__ = ("calls", "latency", "pico", "ttft")

    def __init__(self, sketches: bool = True) -> None:
        self.calls = 0
        self.pico = 0
        # Sessions and users are many: their slices count calls and spend only (no percentiles), to stay small.
        self.latency: Sketch | None = Sketch() if sketches else None
        self.ttft: Sketch | None = Sketch() if sketches else None


class Cell(Sums):
    """Running totals of one combination of attribution values (:class:`Sums`), first and last call, recent slices."""

    __slots__ = ("first", "last", "slices", "unknown")

    def __init__(self, t: float) -> None:
        super().__init__()
        self.first = t
        self.last = t
        self.unknown: set[str] | None = None
        self.slices: dict[int, Slice] = {}

    def slice_at(self, index: int, sketches: bool = True) -> Slice:
        """The slice for ``index`` (``t // SLICE_S``), created on demand; old slices are dropped then."""
        s = self.slices.get(index)
        if s is None:
            old = index - KEEP_SLICES
            for k in [k for k in self.slices if k <= old]:
                del self.slices[k]
            s = self.slices[index] = Slice(sketches)
        return s

    def merge(self, other: Sums) -> None:
        """Add another cell into this one (folding evicted sessions into ``(other)``)."""
        Sums.merge(self, other)
        if not isinstance(other, Cell):
            return
        self.first = min(self.first, other.first)
        self.last = max(self.last, other.last)
        if other.unknown:
            self.unknown = (self.unknown or set()) | other.unknown
        if not other.slices:
            return
        for index, s in other.slices.items():
            mine = self.slices.get(index)
            if mine is None:
                self.slices[index] = s
            else:
                mine.calls += s.calls
                mine.pico += s.pico
                if mine.latency is not None and s.latency is not None:
                    mine.latency.merge(s.latency)
                if mine.ttft is not None and s.ttft is not None:
                    mine.ttft.merge(s.ttft)
