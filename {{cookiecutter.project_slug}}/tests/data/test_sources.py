"""The real sources read what a team puts there, and the pipeline never creates their tables.

Every batch here is typed in the test, never produced by the demo's generator.
"""

from __future__ import annotations

from datetime import UTC, datetime

import fsspec
import pandas as pd
import pytest
import sqlalchemy as sa

from {{ cookiecutter.package_name }}.data.readers import read_table
from {{ cookiecutter.package_name }}.data.schema import bundled_dataset_path
from {{ cookiecutter.package_name }}.data.sources import FeedbackFiles, FileSource, source_for
from {{ cookiecutter.package_name }}.errors import DataValidationError

DAY = "2026-03-10"
START = datetime(2026, 3, 10, tzinfo=UTC)
END = datetime(2026, 3, 11, tzinfo=UTC)


def read_all(chunks) -> pd.DataFrame:
    return pd.concat(list(chunks), ignore_index=True)


def test_training_files_matching_a_glob_are_read_together(isolated_data, tmp_path):
    sample = read_table(bundled_dataset_path())
    (tmp_path / "labeled").mkdir()
    sample.iloc[:1300].to_csv(tmp_path / "labeled" / "part-1.csv", index=False)
    sample.iloc[1300:].to_parquet(tmp_path / "labeled" / "part-2.parquet", index=False)
    settings = isolated_data.with_overrides(
        data_source="files", training_files=str(tmp_path / "labeled" / "part-*")
    )
    assert len(source_for(settings).read_training()) == len(sample)


def test_files_source_without_training_files_says_where_to_put_them(isolated_data, tmp_path):
    settings = isolated_data.with_overrides(
        data_source="files", training_files=str(tmp_path / "*.csv")
    )
    with pytest.raises(DataValidationError, match=r"no training file matches"):
        source_for(settings).read_training()


def test_a_day_is_every_csv_parquet_and_jsonl_file_of_its_folder(tmp_path):
    incoming = tmp_path / "incoming"
    day = incoming / f"ds={DAY}"
    day.mkdir(parents=True)
    pd.DataFrame({"text": ["Loved it", "Hated it"]}).to_csv(day / "a.csv", index=False)
    pd.DataFrame({"id": ["p1"], "text": ["Fine, I guess"]}).to_parquet(day / "b.parquet")
    (day / "c.jsonl").write_text('{"id": "j1", "text": "Never again"}\n', encoding="utf-8")
    (day / ".upload.csv").write_text("text\nhalf-written upload\n")  # hidden: not read
    (day / "notes.txt").write_text("not data")
    other_day = incoming / "ds=2026-03-11"
    other_day.mkdir()
    pd.DataFrame({"text": ["tomorrow"]}).to_csv(other_day / "a.csv", index=False)

    source = FileSource(feedback_dir=str(tmp_path / "feedback"), incoming_dir=str(incoming))
    batch = read_all(source.read_batch(DAY, START, END))
    again = read_all(source.read_batch(DAY, START, END))

    assert list(batch["text"]) == ["Loved it", "Hated it", "Fine, I guess", "Never again"]
    assert list(batch["id"])[2:] == ["p1", "j1"]
    # Rows without an id get one from their file and content: the same on a rerun.
    assert batch["id"].iloc[0] != batch["id"].iloc[1]
    pd.testing.assert_frame_equal(batch, again)
    assert source.read_batch("2026-03-12", START, END) is None


def test_an_object_store_url_is_read_through_fsspec(tmp_path):
    # fsspec's in-memory filesystem stands in for s3:// or gs:// (not reachable here).
    fs = fsspec.filesystem("memory")
    with fs.open(f"/bucket/incoming/ds={DAY}/reviews.csv", "w") as handle:
        handle.write("id,text\nm1,Works well\nm2,Stopped working\n")
    with fs.open("/bucket/feedback/late.jsonl", "w") as handle:
        handle.write('{"id": "m1", "sentiment": "positive"}\n')
    try:
        source = FileSource(
            feedback_dir="memory://bucket/feedback", incoming_dir="memory://bucket/incoming"
        )
        batch = read_all(source.read_batch(DAY, START, END))
        assert list(batch["id"]) == ["m1", "m2"]
        assert source.read_labels().to_dict("records") == [{"id": "m1", "sentiment": "positive"}]
    finally:
        fs.rm("/bucket", recursive=True)


def test_labels_come_from_any_number_of_files_and_the_later_file_wins(tmp_path):
    feedback = tmp_path / "feedback"
    (feedback / "2026-03").mkdir(parents=True)
    pd.DataFrame(
        {"id": ["a", "b", "c", ""], "sentiment": ["positive", "Negative", "meh", "x"]}
    ).to_csv(feedback / "2026-03" / "first.csv", index=False)
    pd.DataFrame({"id": ["a"], "sentiment": ["negative"]}).to_parquet(feedback / "second.parquet")

    labels = FeedbackFiles(str(feedback)).read_labels().sort_values("id")

    # "meh" and the row without an id are not labels; "a" was corrected by the later file.
    assert labels.to_dict("records") == [
        {"id": "a", "sentiment": "negative"},
        {"id": "b", "sentiment": "negative"},
    ]
    assert FeedbackFiles(str(tmp_path / "nowhere")).read_labels().empty


def test_a_labels_file_without_the_columns_is_named(tmp_path):
    (tmp_path / "labels.csv").write_text("review,label\nx,positive\n")
    with pytest.raises(DataValidationError, match=r"labels.csv lacks column"):
        FeedbackFiles(str(tmp_path)).read_labels()


@pytest.fixture
def warehouse(isolated_data):
    return isolated_data.with_overrides(data_source="warehouse")


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
