"""The warehouse source: tables a team fills, read and written in its own columns.

The pipeline never creates a table: `warehouse init` does, on request. Every
row here is typed in the test. The DAG run on a warehouse is in
tests/dags/test_batch_inference_warehouse.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.data.readers import read_table
from {{ cookiecutter.package_name }}.data.schema import bundled_dataset_path
from {{ cookiecutter.package_name }}.data.sources import source_for
from {{ cookiecutter.package_name }}.errors import DataValidationError

DAY = "2026-03-10"
START = datetime(2026, 3, 10, tzinfo=UTC)
END = datetime(2026, 3, 11, tzinfo=UTC)


def read_all(chunks) -> pd.DataFrame:
    return pd.concat(list(chunks), ignore_index=True)


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def warehouse(isolated_data, tmp_path, monkeypatch):
    """An empty warehouse: no table yet (the suite's others start seeded)."""
    from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, load_settings

    monkeypatch.setenv(f"{ENV_PREFIX}WAREHOUSE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    return load_settings()


def tables(settings) -> set[str]:
    return set(sa.inspect(sa.create_engine(settings.data.warehouse_url)).get_table_names())


def test_the_pipeline_never_creates_a_table_in_the_warehouse(warehouse):
    source = source_for(warehouse)
    with pytest.raises(
        DataValidationError, match=r"training_reviews does not exist.*warehouse init"
    ):
        source.read_training()
    with pytest.raises(DataValidationError, match=r"review_batches does not exist"):
        source.read_batch(DAY, START, END)
    with pytest.raises(DataValidationError, match=r"review_labels does not exist"):
        source.read_labels()
    assert tables(warehouse) == set()


def test_init_creates_the_tables_and_seeds_training_only_on_request(warehouse):
    source = source_for(warehouse)
    created = source.init()
    assert set(created["created"]) == tables(warehouse)
    assert created["training_rows_seeded"] == 0
    assert len(source.read_training()) == 0
    seeded = source.init(with_sample_data=True)
    assert seeded["created"] == [] and seeded["training_rows_seeded"] == 2600
    assert source.init(with_sample_data=True)["training_rows_seeded"] == 0  # not twice


def insert_batch(settings, rows: list[tuple[str, str, str]]) -> None:
    engine = sa.create_engine(settings.data.warehouse_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO review_batches (id, text, created_at) VALUES (:id, :text, :at)"),
            [{"id": i, "text": t, "at": datetime.fromisoformat(at)} for i, t, at in rows],
        )


def test_the_warehouse_batch_is_the_rows_of_the_data_interval(warehouse):
    source_for(warehouse).init()
    insert_batch(
        warehouse,
        [
            ("before", "late last night", "2026-03-09 23:59:59"),
            ("first", "Arrived early, works great", "2026-03-10 00:00:00"),
            ("last", "Cracked screen on arrival", "2026-03-10 23:59:59"),
            ("after", "the next day", "2026-03-11 00:00:00"),
        ],
    )
    batch = read_all(source_for(warehouse).read_batch(DAY, START, END))
    assert list(batch["id"]) == ["first", "last"]
    next_day = (END.replace(day=12), END.replace(day=13))
    assert source_for(warehouse).read_batch("2026-03-12", *next_day) is None


def test_a_batch_query_with_start_and_end_replaces_the_table(warehouse):
    source_for(warehouse).init()
    insert_batch(
        warehouse, [("q1", "Solid", "2026-03-10 10:00:00"), ("q2", "", "2026-03-10 11:00:00")]
    )
    query = (
        "SELECT id, text FROM review_batches WHERE created_at >= :start AND created_at < :end "
        "AND id <> 'q2'"
    )
    settings = warehouse.with_overrides(batch_query=query)
    assert list(read_all(source_for(settings).read_batch(DAY, START, END))["id"]) == ["q1"]


def test_predictions_replace_the_rows_of_their_date(warehouse):
    source = source_for(warehouse)
    source.init()
    rows = pd.DataFrame(
        {
            "id": ["a", "b"],
            "prediction": ["positive", "negative"],
            "confidence": [0.9, 0.7],
            "model_version": ["1", "1"],
            "logical_date": DAY,
            "run_id": "r1",
        }
    )
    source.write_predictions(DAY, rows)
    source.write_predictions("2026-03-11", rows.assign(logical_date="2026-03-11"))
    source.write_predictions(DAY, rows.iloc[:1].assign(run_id="r2"))

    engine = sa.create_engine(warehouse.data.warehouse_url)
    stored = pd.read_sql("SELECT * FROM review_predictions ORDER BY logical_date, id", engine)
    assert list(zip(stored["logical_date"], stored["id"], stored["run_id"], strict=True)) == [
        (DAY, "a", "r2"),
        ("2026-03-11", "a", "r1"),
        ("2026-03-11", "b", "r1"),
    ]


def test_label_requests_replace_the_rows_of_their_date(warehouse):
    source = source_for(warehouse)
    source.init()
    requests = pd.DataFrame(
        {
            "ds": DAY,
            "id": ["a", "b"],
            "text": ["Fine", "Loud"],
            "prediction": ["positive", "negative"],
            "confidence": [0.55, 0.6],
            "reason": ["uncertain", "random"],
        }
    )
    source.write_label_requests(DAY, requests)
    source.write_label_requests("2026-03-11", requests.assign(ds="2026-03-11"))
    source.write_label_requests(DAY, requests.iloc[1:])

    engine = sa.create_engine(warehouse.data.warehouse_url)
    stored = pd.read_sql("SELECT * FROM review_label_requests ORDER BY ds, id", engine)
    assert list(zip(stored["ds"], stored["id"], stored["reason"], strict=True)) == [
        (DAY, "b", "random"),
        ("2026-03-11", "a", "uncertain"),
        ("2026-03-11", "b", "random"),
    ]
    engine.dispose()


def test_warehouse_init_creates_the_tables_once_and_seeds_only_an_empty_table(warehouse, capsys):
    code, out, _ = run_cli(capsys, "--json", "warehouse", "init", "--with-sample-data")

    assert code == 0
    first = json.loads(out)
    data = warehouse.data
    tables = [
        data.training_table,
        data.batch_table,
        data.labels_table,
        data.predictions_table,
        data.label_requests_table,
    ]
    assert first["created"] == sorted(tables) and first["already_there"] == []
    sample_rows = len(read_table(bundled_dataset_path()))
    assert first["training_rows_seeded"] == sample_rows

    code, out, _ = run_cli(capsys, "--json", "warehouse", "init", "--with-sample-data")

    again = json.loads(out)
    assert code == 0 and again["created"] == [] and again["training_rows_seeded"] == 0
    engine = sa.create_engine(data.warehouse_url)
    with engine.connect() as connection:
        count = connection.execute(sa.text(f"SELECT COUNT(*) FROM {data.training_table}"))
        assert count.scalar() == sample_rows
    engine.dispose()


def test_labels_name_the_day_they_are_for_where_ids_repeat_across_days(warehouse):
    source = source_for(warehouse)
    source.init()
    engine = sa.create_engine(warehouse.data.warehouse_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO review_labels (id, sentiment, ds) VALUES (:id, :label, :ds)"),
            [
                {"id": "r-1", "label": "positive", "ds": "2026-03-09"},
                {"id": "r-1", "label": "Negative", "ds": "2026-03-10"},
                {"id": "r-2", "label": "meh", "ds": "2026-03-10"},
                {"id": "r-3", "label": "positive", "ds": None},
            ],
        )
    engine.dispose()

    labels = source.read_labels().sort_values(["id", "ds"], na_position="last")

    # The same id on two days is two labels; "meh" is no label and is skipped.
    assert labels.fillna("").to_dict("records") == [
        {"id": "r-1", "sentiment": "positive", "ds": "2026-03-09"},
        {"id": "r-1", "sentiment": "negative", "ds": "2026-03-10"},
        {"id": "r-3", "sentiment": "positive", "ds": ""},
    ]


def test_the_batch_table_takes_the_same_ids_on_another_day_not_twice_on_one(warehouse):
    source = source_for(warehouse)
    source.init()
    batch = pd.DataFrame({"id": ["r-1", "r-2"], "text": ["Lovely", "Noisy"]})
    source.insert_batch(batch, datetime(2026, 3, 10, 12, tzinfo=UTC))
    again = batch.assign(text=["Broken", "Fine"])
    source.insert_batch(again, datetime(2026, 3, 11, 12, tzinfo=UTC))

    monday = read_all(source.read_batch(DAY, START, END))
    tuesday = read_all(source.read_batch("2026-03-11", END, END.replace(day=12)))
    assert list(monday["text"]) == ["Lovely", "Noisy"]
    assert list(tuesday["text"]) == ["Broken", "Fine"]
    with pytest.raises(DataValidationError, match=r"already holds rows with these ids"):
        source.insert_batch(batch, datetime(2026, 3, 10, 18, tzinfo=UTC))
