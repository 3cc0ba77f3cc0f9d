"""The batch's id table answers as a Python set would, through growth and crowded probes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.data.seen_ids import SeenIds, id_hashes


def test_the_table_agrees_with_a_set_through_growth_and_collisions():
    rng = np.random.default_rng(7)
    # Few distinct slot indexes in a tiny table: most ids probe past others.
    table, reference = SeenIds(capacity=8), set()
    for _ in range(40):
        hashes = np.unique(rng.integers(1, 2**20, size=300, dtype=np.uint64) << np.uint64(3))
        present = table.contains(hashes)
        assert present.tolist() == [int(value) in reference for value in hashes]
        table.add(hashes[~present])
        reference.update(int(value) for value in hashes)
        assert len(table) == len(reference)
    assert table.contains(np.array([1, 2**40], dtype=np.uint64)).tolist() == [False, False]


def test_equal_ids_hash_alike_whatever_their_dtype_and_none_hash_to_the_free_slot():
    ids = ["r1", "r2", "r1"]
    for series in (pd.Series(ids), pd.Series(ids, dtype="string")):
        hashes = id_hashes(series)
        assert hashes[0] == hashes[2] != hashes[1]
        assert (hashes != 0).all()
