"""Bounded-memory summaries behind the data-quality engine (``dataquality``).

Captured traffic is read once, as a stream, and can be far larger than memory, so every
per-feature summary here has a size fixed in advance no matter how many values pass through:

- ``KllSketch``: quantiles of a numeric feature. Model Monitor's statistics.json describes
  each numeric distribution with a KLL sketch (Karnin, Lang and Liberty, 2016), and its
  buckets are read from that sketch, so the engine uses the same kind of sketch with the
  parameters Model Monitor writes (k = 2048, c = 0.64). Up to roughly ``k / (1 - c)`` values it
  keeps every value and its answers are exact; beyond that each answer's rank error is a small
  fraction of a percent.
- ``HyperLogLog``: how many distinct values a text feature has once there are too many to
  keep them all.
- ``FrequentValues``: the most frequent values of a text feature (Misra-Gries), exact while
  the feature has few distinct values, with counts that are lower bounds off by at most
  ``total / limit`` afterwards.

All three are deterministic: the same input gives the same summary, so a statistics file
computed twice from the same data is the same file.

None of this imports Django; the sandbox uses it too.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import random
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

KLL_K = 2048
KLL_C = 0.64


class KllSketch:
    """A KLL quantile sketch: levels of values, where a value on level h stands for 2**h.

    Values enter level 0. When the sketch holds more than its capacity, the lowest level that
    is over its own capacity is sorted and every other value (a random half of the pairs) moves
    up a level, doubling its weight. Capacities shrink geometrically (by ``c``) from the top
    level down, which is what keeps the total size near ``k / (1 - c)``. Levels are arrays of
    doubles (8 bytes a value rather than a Python float's 32), sorted only while compacting.
    """

    __slots__ = ("k", "c", "levels", "count", "_rng", "_size")

    def __init__(self, *, k: int = KLL_K, c: float = KLL_C, seed: int = 0) -> None:
        if k < 2 or not 0.5 <= c < 1:
            raise ValueError("KLL needs k >= 2 and 0.5 <= c < 1")
        self.k = k
        self.c = c
        self.levels: list[array[float]] = [array("d")]
        self.count = 0
        # A fixed seed: which half of a pair survives is random for the error bound's sake,
        # but the same data must give the same statistics file every time.
        self._rng = random.Random(seed)
        self._size = 0

    def _capacity(self, level: int) -> int:
        depth = len(self.levels) - level - 1
        return int(math.ceil(self.k * self.c**depth)) + 1

    def _max_size(self) -> int:
        return sum(self._capacity(level) for level in range(len(self.levels)))

    def extend(self, values: Sequence[float]) -> None:
        """Add finite values (a list or tuple; one call per chunk keeps the cost per value low)."""
        self.levels[0].extend(values)
        self.count += len(values)
        self._size += len(values)
        self._compress()

    def _compress(self) -> None:
        while self._size >= self._max_size():
            for height, level in enumerate(self.levels):
                if len(level) < self._capacity(height):
                    continue
                if height + 1 == len(self.levels):
                    self.levels.append(array("d"))
                ordered = sorted(level)
                # An odd value out stays behind (the smallest), so weights always add up.
                start = len(ordered) % 2
                self.levels[height + 1].extend(ordered[start + self._rng.getrandbits(1) :: 2])
                self.levels[height] = array("d", ordered[:start])
                self._size = sum(len(each) for each in self.levels)
                break

    def merge(self, other: KllSketch) -> None:
        """Fold another sketch (same k) into this one: hourly files combine into a day."""
        if other.k != self.k:
            raise ValueError("Only sketches with the same k can be merged")
        while len(self.levels) < len(other.levels):
            self.levels.append(array("d"))
        for height, level in enumerate(other.levels):
            self.levels[height].extend(level)
        self.count += other.count
        self._size = sum(len(each) for each in self.levels)
        self._compress()

    def cell_counts(self, cuts: Sequence[float]) -> list[int]:
        """Weight in each cell between ascending cut points: ``len(cuts) + 1`` counts.

        Cell ``i`` holds the values ``x`` with ``cuts[i-1] <= x < cuts[i]``; the first cell is
        open below and the last open above (see ``cut_counts``).
        """
        counts = [0] * (len(cuts) + 1)
        for height, level in enumerate(self.levels):
            if level:
                weight = 1 << height
                for index, count in enumerate(cut_counts(sorted(level), cuts)):
                    counts[index] += count * weight
        return counts

    def quantile(self, fraction: float) -> float | None:
        """The value at ``fraction`` (0..1) of the weight; None while the sketch is empty."""
        items = sorted(
            (value, 1 << height) for height, level in enumerate(self.levels) for value in level
        )
        if not items:
            return None
        target = fraction * self.count
        running = 0
        for value, weight in items:
            running += weight
            if running >= target:
                return value
        return items[-1][0]

    def to_document(self) -> dict[str, Any]:
        """The ``sketch`` object of statistics.json: parameters and one array per level."""
        return {
            "parameters": {"c": self.c, "k": float(self.k)},
            "data": [list(level) for level in self.levels],
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> KllSketch | None:
        """A sketch from statistics.json's ``sketch`` object; None if it is not one."""
        parameters = document.get("parameters") if isinstance(document, Mapping) else None
        data = document.get("data") if isinstance(document, Mapping) else None
        if not isinstance(data, list):
            return None
        try:
            k = int((parameters or {}).get("k", KLL_K))
            c = float((parameters or {}).get("c", KLL_C))
            sketch = cls(k=k, c=c)
            sketch.levels = [
                array("d", [float(value) for value in level if math.isfinite(float(value))])
                for level in data
                if isinstance(level, list)
            ] or [array("d")]
        except (TypeError, ValueError):
            return None
        sketch.count = sum(len(level) << height for height, level in enumerate(sketch.levels))
        sketch._size = sum(len(level) for level in sketch.levels)
        return sketch


def cut_counts(ordered: Sequence[float], cuts: Sequence[float]) -> list[int]:
    """How many of the sorted values fall in each cell between ascending cut points.

    Cell ``i`` holds ``cuts[i-1] <= x < cuts[i]``: a value equal to a cut point belongs to the
    cell above it, the rule that makes ``[lower_bound, upper_bound)`` buckets.
    """
    counts = []
    previous = 0
    for cut in cuts:
        position = max(previous, bisect_left(ordered, cut))
        counts.append(position - previous)
        previous = position
    counts.append(len(ordered) - previous)
    return counts


class HyperLogLog:
    """Distinct-count estimate in 2**precision bytes (4 KiB: about 1.6% standard error)."""

    __slots__ = ("precision", "registers")

    def __init__(self, *, precision: int = 12) -> None:
        self.precision = precision
        self.registers = bytearray(1 << precision)

    def update(self, values: Iterable[str]) -> None:
        precision = self.precision
        rest_bits = 64 - precision
        rest_mask = (1 << rest_bits) - 1
        registers = self.registers
        for value in values:
            # A keyed-free, stable hash: Python's own str hash changes with every process.
            digest = hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=8).digest()
            hashed = int.from_bytes(digest, "big")
            index = hashed >> rest_bits
            rank = rest_bits - (hashed & rest_mask).bit_length() + 1
            if rank > registers[index]:
                registers[index] = rank

    def estimate(self) -> int:
        size = len(self.registers)
        alpha = 0.7213 / (1 + 1.079 / size)
        raw = alpha * size * size / sum(2.0**-rank for rank in self.registers)
        zeros = self.registers.count(0)
        if raw <= 2.5 * size and zeros:
            # Small cardinalities: linear counting is far more accurate there.
            return round(size * math.log(size / zeros))
        return round(raw)


class FrequentValues:
    """Counts of text values, bounded: exact until ``2 * limit`` distinct values are seen.

    Past that, the summary keeps the ``limit`` most frequent values with the Misra-Gries rule
    (every count is lowered by the count of the first value that no longer fits), so a
    value's reported count is a lower bound at most ``total / limit`` below the truth, and any
    value more frequent than that is guaranteed to be listed. The number of distinct values is
    then estimated with a HyperLogLog.
    """

    __slots__ = ("limit", "counts", "exact", "_distinct")

    def __init__(self, *, limit: int) -> None:
        self.limit = limit
        self.counts: Counter[str] = Counter()
        self.exact = True
        self._distinct: HyperLogLog | None = None

    def update(self, values: Sequence[str]) -> None:
        counts = self.counts
        if self._distinct is not None:
            self._distinct.update([value for value in values if value not in counts])
        counts.update(values)
        if len(counts) > 2 * self.limit:
            self._prune()

    def _prune(self) -> None:
        if self._distinct is None:
            self._distinct = HyperLogLog()
            self._distinct.update(self.counts)
        threshold = heapq.nlargest(self.limit + 1, self.counts.values())[-1]
        self.counts = Counter(
            {value: count - threshold for value, count in self.counts.items() if count > threshold}
        )
        self.exact = False

    def distinct_count(self) -> int:
        if self._distinct is None:
            return len(self.counts)
        return max(len(self.counts), self._distinct.estimate())

    def most_common(self) -> list[tuple[str, int]]:
        """Up to ``limit`` values, most frequent first, ties in value order."""
        ordered = sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))
        return ordered[: self.limit]
