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


def test_the_demo_labeller_answers_the_label_requests_of_the_day_it_labels(isolated_data):
    settings = isolated_data.with_overrides(data_source="demo", batch_size=40)
    requested = ["2026-03-01-0000003", "2026-03-01-0000017"]
    partition = storage.partition_dir(settings.data.data_dir, storage.PREDICTIONS, "2026-03-01")
    requests = pd.DataFrame({"ds": "2026-03-01", "id": requested, "reason": "random"})
    storage.write_text(requests.to_csv(index=False), partition / storage.LABEL_REQUESTS_FILE)

    result = generate_data(settings, "2026-03-04")

    labels = pd.read_parquet(result["labels_path"])
    assert sorted(labels["id"]) == requested and set(labels["ds"]) == {"2026-03-01"}
    assert result["labeled_rows"] == 2 and result["labels_answer"] == "label requests"
