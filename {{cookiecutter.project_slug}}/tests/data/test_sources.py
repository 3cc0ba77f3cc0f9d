"""The files source reads what a team puts there, as the team names it.

Every batch here is typed in the test, never an invented one.
"""

from __future__ import annotations

from datetime import UTC, datetime

import fsspec
import pandas as pd
import pytest

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
