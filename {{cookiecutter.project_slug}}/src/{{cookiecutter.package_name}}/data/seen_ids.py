"""The ids a batch has shown so far: constant time a lookup, 16 to 32 bytes an id.

A batch of tens of millions of rows is validated chunk by chunk, and every
chunk's ids are checked against all the earlier ones. ``Series.isin`` against
a growing set rebuilds its table on every call (quadratic: 38 s for 1M rows);
a Python set of the strings costs about 100 bytes an id. This keeps each id's
64-bit hash in an open-addressing table of NumPy, probed a whole chunk at a
time. Two different ids share a hash with a chance below 1 in 300,000 at ten
million ids; the later one is then rejected as a duplicate id, with that
reason in the rejects file, never dropped in silence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EMPTY = np.uint64(0)  # a free slot; a real hash of 0 is stored as 1
MAX_LOAD = 0.5  # linear probing stays short while the table is at most half full


def id_hashes(ids: pd.Series) -> np.ndarray:
    """A nonzero 64-bit hash of each id (pandas' own, stable across runs and processes)."""
    hashes = pd.util.hash_array(ids.astype(object).to_numpy(), categorize=False)
    hashes[hashes == EMPTY] = np.uint64(1)
    return hashes


class SeenIds:
    """A set of id hashes: ``contains`` and ``add`` take arrays, one probe round at a time."""

    def __init__(self, capacity: int = 1 << 16) -> None:
        self._table = np.zeros(capacity, dtype=np.uint64)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        """Which of ``hashes`` are in the set."""
        found = np.zeros(len(hashes), dtype=bool)
        mask = np.uint64(len(self._table) - 1)
        pending = np.arange(len(hashes))
        slots = hashes & mask
        while pending.size:
            current = self._table[slots]
            hit = current == hashes[pending]
            found[pending[hit]] = True
            # Stop at a hit or a free slot; step past a slot another id holds.
            going_on = ~hit & (current != EMPTY)
            pending, slots = pending[going_on], (slots[going_on] + np.uint64(1)) & mask
        return found

    def add(self, hashes: np.ndarray) -> None:
        """Add ``hashes``: distinct, and none of them in the set yet (``contains`` said so)."""
        if self._count + len(hashes) > MAX_LOAD * len(self._table):
            self._grow(self._count + len(hashes))
        self._insert(hashes)
        self._count += len(hashes)

    def _insert(self, hashes: np.ndarray) -> None:
        mask = np.uint64(len(self._table) - 1)
        pending = hashes
        slots = hashes & mask
        while pending.size:
            free = self._table[slots] == EMPTY
            # Of several hashes that reach one free slot this round, the first takes it.
            taken, first = np.unique(slots[free], return_index=True)
            self._table[taken] = pending[free][first]
            placed = np.zeros(len(pending), dtype=bool)
            placed[np.flatnonzero(free)[first]] = True
            # The others look at the next slot; a slot taken this round is checked again.
            moves = ~placed & ~free
            slots = np.where(moves, (slots + np.uint64(1)) & mask, slots)
            pending, slots = pending[~placed], slots[~placed]

    def _grow(self, needed: int) -> None:
        capacity = len(self._table)
        while needed > MAX_LOAD * capacity:
            capacity *= 2
        old = self._table[self._table != EMPTY]
        self._table = np.zeros(capacity, dtype=np.uint64)
        self._insert(old)
