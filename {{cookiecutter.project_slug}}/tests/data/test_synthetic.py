"""The demo's invented batches: the same for the same date, replaced on a rerun."""

from __future__ import annotations

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data import synthetic as data
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.steps.demo import generate_data


def test_synthetic_batches_are_deterministic_per_date():
    first = data.synthesize_reviews("2026-03-01", 50)
    assert first.equals(data.synthesize_reviews("2026-03-01", 50))
    assert not first["text"].equals(data.synthesize_reviews("2026-03-02", 50)["text"])
    assert set(first["sentiment"]) <= {"positive", "negative"}


def test_the_demo_writes_the_snapshot_and_late_labels_and_a_rerun_replaces_them(isolated_data):
    settings = isolated_data.with_overrides(data_source="demo", batch_size=40)
    result = generate_data(settings, "2026-03-04")
    again = generate_data(settings, "2026-03-04")

    assert result == again
    batch = pd.read_parquet(result["path"])
    assert list(batch.columns) == ["id", "text"] and len(batch) == 40
    partition = storage.partition_dir(settings.data.data_dir, storage.BATCHES, "2026-03-04")
    assert [p.name for p in partition.iterdir()] == [storage.BATCH_FILE]
    # The labels of the batch three days earlier, where real ones would arrive.
    labels = pd.read_parquet(result["labels_path"])
    assert result["labels_for"] == "2026-03-01"
    assert labels["id"].str.startswith("2026-03-01-").all()
    assert str(settings.data.feedback_dir) in result["labels_path"]


def test_the_generator_refuses_to_write_into_a_real_source(isolated_data):
    with pytest.raises(PipelineError, match="invented reviews, and data_source is files"):
        generate_data(isolated_data.with_overrides(data_source="files"), "2026-03-04")
