"""The demo's synthetic batches: the same for the same date, replaced on a rerun."""

from __future__ import annotations

import pandas as pd

from {{ cookiecutter.package_name }}.data import sources, storage
from {{ cookiecutter.package_name }}.data import synthetic as data


def test_synthetic_batches_are_deterministic_per_date():
    first = data.synthesize_reviews("2026-03-01", 50)
    assert first.equals(data.synthesize_reviews("2026-03-01", 50))
    assert not first["text"].equals(data.synthesize_reviews("2026-03-02", 50)["text"])
    assert set(first["sentiment"]) <= {"positive", "negative"}


def test_generate_batch_writes_the_partition_and_a_rerun_replaces_it(tmp_path):
    source = sources.BundledSource(data_dir=tmp_path)
    result = data.generate_batch(source, "2026-03-01", 40)
    again = data.generate_batch(source, "2026-03-01", 40)
    batch = pd.read_parquet(result["location"])
    assert result == again
    assert list(batch.columns) == ["id", "text"]
    assert len(batch) == 40
    partition = storage.partition_dir(tmp_path, storage.BATCHES, "2026-03-01")
    assert [p.name for p in partition.iterdir()] == [storage.BATCH_FILE]
