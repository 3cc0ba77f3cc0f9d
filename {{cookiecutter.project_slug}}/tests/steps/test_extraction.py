"""The first task for real data: the day's rows snapshotted, bad rows quarantined with a reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.errors import DataValidationError{% if cookiecutter.data_source == "demo" %}, PipelineError{% endif %}
from {{ cookiecutter.package_name }}.steps.extraction import batch_window, extract_batch

DAY = "2026-03-20"


@pytest.fixture
def files(isolated_data):
    return isolated_data.with_overrides(data_source="files")


def incoming(settings, day: str = DAY):
    folder = storage.Path(settings.data.incoming_dir) / f"ds={day}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_snapshot_holds_the_good_rows_and_the_rejects_their_reasons(files):
    pd.DataFrame(
        {"id": ["r1", "r2", "r3", "r1"], "text": ["Great", " ", "Broken on day one", "Again"]}
    ).to_csv(incoming(files) / "batch.csv", index=False)

    result = extract_batch(files, DAY)

    snapshot = pd.read_parquet(result["path"])
    assert list(snapshot["id"]) == ["r1", "r3"]
    assert list(snapshot["text"]) == ["Great", "Broken on day one"]
    partition = storage.partition_dir(files.data.data_dir, storage.BATCHES, DAY)
    rejects = pd.read_parquet(partition / storage.REJECTS_FILE)
    assert list(rejects["reason"]) == ["empty text", "duplicate id"]
    assert result["rejected_by_reason"] == {"empty text": 1, "duplicate id": 1}
    assert storage.read_json(partition / storage.SOURCE_FILE)["source"].endswith(f"ds={DAY}")


def test_nothing_arrived_yet_is_none_and_writes_nothing(files):
    assert extract_batch(files, DAY) is None
    assert not storage.partition_dir(files.data.data_dir, storage.BATCHES, DAY).exists()


def test_a_batch_of_only_bad_rows_fails_and_keeps_the_rejects(files):
    (incoming(files) / "batch.csv").write_text('text\n""\n"   "\n')
    with pytest.raises(DataValidationError, match=r"every row of the batch at .* was rejected"):
        extract_batch(files, DAY)
    partition = storage.partition_dir(files.data.data_dir, storage.BATCHES, DAY)
    assert not (partition / storage.BATCH_FILE).exists()
    assert len(pd.read_parquet(partition / storage.REJECTS_FILE)) == 2


def test_a_file_without_a_text_column_is_named(files):
    (incoming(files) / "wrong.csv").write_text("review\nnice\n")
    with pytest.raises(DataValidationError, match=r"wrong.csv has no 'text' column"):
        extract_batch(files, DAY)
{%- if cookiecutter.data_source == "demo" %}


def test_the_demo_has_no_batch_to_extract(isolated_data):
    with pytest.raises(PipelineError, match=r"the demo invents its batches"):
        extract_batch(isolated_data.with_overrides(data_source="demo"), DAY)
{%- endif %}


def test_an_empty_data_interval_means_the_logical_day():
    midnight = datetime(2026, 3, 20, tzinfo=UTC)
    assert batch_window(DAY, midnight, midnight) == (midnight, midnight.replace(day=21))
    hour = (midnight.replace(hour=5), midnight.replace(hour=6))
    assert batch_window(DAY, *hour) == hour
