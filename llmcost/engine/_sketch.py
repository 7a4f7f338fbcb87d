"""Bounded percentile sketches: a sparse histogram over fixed logarithmic buckets.

Each bucket spans 2 % of its value, so a percentile is within 2 % of the exact one, whatever the number of samples.
Sketches of time slices merge by adding counts, which is how the sliding windows are built.
"""

from __future__ import annotations

import math
from collections import _count_elements  # type: ignore[attr-defined]  # C: counts into a dict
from collections.abc import Iterable
from functools import partial
from itertools import repeat
from operator import is_not

from llmcost.engine._snapshot import Percentiles

__all__ = ["Sketch", "bucket_of", "percentiles"]

_GAMMA = 1.02
_ZERO_BUCKET = -(10**6)  # values at or below 1 µs
_present = partial(is_not, None)


def bucket_of(value: float) -> int:
    """The bucket index of a positive number of milliseconds."""
    if value <= 0.001:
        return _ZERO_BUCKET
    return math.floor(math.log(value, _GAMMA))  # log(value) / log(_GAMMA), computed in C


def _value_of(bucket: int) -> float:
    """A representative value: the geometric middle of the bucket."""
    if bucket == _ZERO_BUCKET:
        return 0.0
    return float(_GAMMA ** (bucket + 0.5))


class Sketch:
    """A sparse histogram: ``counts[bucket]``. Memory grows with the spread of values, not their number."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.total = 0

    def add(self, value: float) -> None:
        b = bucket_of(value)
        counts = self.counts
        counts[b] = counts.get(b, 0) + 1
        self.total += 1

    def add_many(self, values: Iterable[float | None]) -> None:
        """Add many values (``None`` skipped) at C speed: the very arithmetic of ``bucket_of``, mapped over them and
        counted straight into ``counts``."""
        present: list[float] = list(filter(_present, values))  # type: ignore[arg-type]  # None is filtered out
        if not present:
            return
        counts = self.counts
        if min(present) <= 0.001:
            small = len(present)
            present = [v for v in present if v > 0.001]
            small -= len(present)
            counts[_ZERO_BUCKET] = counts.get(_ZERO_BUCKET, 0) + small
            self.total += small
        _count_elements(counts, map(math.floor, map(math.log, present, repeat(_GAMMA))))
        self.total += len(present)

    def merge(self, other: Sketch) -> None:
        self.add_counts(other.counts)

    def add_counts(self, buckets: dict[int, int]) -> None:
        """Add values already counted by bucket."""
        counts = self.counts
        for b, n in buckets.items():
            counts[b] = counts.get(b, 0) + n
        self.total += sum(buckets.values())

    def quantile(self, q: float) -> float | None:
        """The value below which a fraction ``q`` of the samples lie (``None`` when empty)."""
        if not self.total:
            return None
        rank = q * (self.total - 1)
        seen = 0
        for b in sorted(self.counts):
            seen += self.counts[b]
            if seen > rank:
                return _value_of(b)
        return _value_of(max(self.counts))

    def percentiles(self) -> Percentiles:
        if not self.total:
            return Percentiles()
        return Percentiles(self.quantile(0.5), self.quantile(0.95), self.quantile(0.99), self.total)


def percentiles(sketches: Iterable[Sketch]) -> Percentiles:
    """p50 / p95 / p99 of several sketches merged."""
    merged = Sketch()
    for s in sketches:
        merged.merge(s)
    return merged.percentiles()
