"""The first task for real data: the day's rows snapshotted, bad rows quarantined with a reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
{%- if cookiecutter.data_source == "warehouse" %}
import sqlalchemy as sa
{%- endif %}

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.errors import DataValidationError{% if cookiecutter.data_source == "demo" %}, PipelineError{% endif %}
from {{ cookiecutter.package_name }}.steps.extraction import batch_window, extract_batch
{%- if cookiecutter.data_source == "warehouse" %}
from tests.conftest import append_rows
{%- endif %}

DAY = "2026-03-20"
{%- if cookiecutter.data_source == "warehouse" %}
# A team's own batch table: no key, so an id can arrive twice.
TEAM_TABLE = "CREATE TABLE review_batches (id TEXT, text TEXT, created_at TIMESTAMP)"
DAY_MORNING = datetime(2026, 3, 20, 9)


@pytest.fixture
def source(isolated_data, tmp_path):
    """A warehouse holding the team's batch table, empty for now."""
    settings = isolated_data.with_overrides(warehouse_url=f"sqlite:///{tmp_path / 'team.db'}")
    engine = sa.create_engine(settings.data.warehouse_url)
    with engine.begin() as connection:
        connection.execute(sa.text(TEAM_TABLE))
    engine.dispose()
    return settings


def arrive(settings, rows: dict[str, list]) -> None:
    """The day's rows, stamped in its morning."""
    append_rows(settings, "review_batches", pd.DataFrame(rows).assign(created_at=DAY_MORNING))
{%- else %}


@pytest.fixture
def source(isolated_data):
    return isolated_data.with_overrides(data_source="files")


def incoming(settings, day: str = DAY):
    folder = storage.Path(settings.data.incoming_dir) / f"ds={day}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def arrive(settings, rows: dict[str, list]) -> None:
    pd.DataFrame(rows).to_csv(incoming(settings) / "batch.csv", index=False)
{%- endif %}


def test_the_snapshot_holds_the_good_rows_and_the_rejects_their_reasons(source):
    arrive(
        source,
        {"id": ["r1", "r2", "r3", "r1"], "text": ["Great", " ", "Broken on day one", "Again"]},
    )

    result = extract_batch(source, DAY)

    snapshot = pd.read_parquet(result["path"])
    assert list(snapshot["id"]) == ["r1", "r3"]
    assert list(snapshot["text"]) == ["Great", "Broken on day one"]
    partition = storage.partition_dir(source.data.data_dir, storage.BATCHES, DAY)
    rejects = pd.read_parquet(partition / storage.REJECTS_FILE)
    assert sorted(rejects["reason"]) == ["duplicate id", "empty text"]
    assert result["rejected_by_reason"] == {"empty text": 1, "duplicate id": 1}
    where = {% if cookiecutter.data_source == "warehouse" %}"#review_batches"{% else %}f"ds={DAY}"{% endif %}
    assert storage.read_json(partition / storage.SOURCE_FILE)["source"].endswith(where)


def test_nothing_arrived_yet_is_none_and_writes_nothing(source):
    assert extract_batch(source, DAY) is None
    assert not storage.partition_dir(source.data.data_dir, storage.BATCHES, DAY).exists()


def test_a_batch_of_only_bad_rows_fails_and_keeps_the_rejects(source):
    arrive(source, {"id": ["a", "b"], "text": ["", "   "]})
    with pytest.raises(DataValidationError, match=r"every row of the batch at .* was rejected"):
        extract_batch(source, DAY)
    partition = storage.partition_dir(source.data.data_dir, storage.BATCHES, DAY)
    assert not (partition / storage.BATCH_FILE).exists()
    assert len(pd.read_parquet(partition / storage.REJECTS_FILE)) == 2
{%- if cookiecutter.data_source == "warehouse" %}


def test_a_table_without_the_text_column_names_the_setting(source):
    arrive(source, {"id": ["a"], "text": ["nice"]})
    with pytest.raises(DataValidationError, match=r"has no column body \(text_column\)"):
        extract_batch(source.with_overrides(text_column="body"), DAY)
{%- else %}


def test_a_file_without_a_text_column_is_named(source):
    (incoming(source) / "wrong.csv").write_text("review\nnice\n")
    with pytest.raises(DataValidationError, match=r"wrong.csv has no 'text' column"):
        extract_batch(source, DAY)
{%- endif %}
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
