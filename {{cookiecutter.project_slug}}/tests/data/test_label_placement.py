"""Ids repeat across days: a label lands on the one scored row it labels, or on none."""

from __future__ import annotations

import logging
from datetime import date
{%- if cookiecutter.data_source != "warehouse" %}
from pathlib import Path
{%- endif %}

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.sources import placed_labels, read_feedback
from {{ cookiecutter.package_name }}.steps.monitoring import ground_truth
{%- if cookiecutter.data_source == "warehouse" %}
from tests.conftest import append_rows
{%- endif %}

MONDAY, TUESDAY = "2026-04-06", "2026-04-07"
IDS = [f"r{index}" for index in range(30)]  # both days number their rows alike


@pytest.fixture
def two_days(isolated_data):
    """Monday's batch is all praise, Tuesday's all complaints, under the same 30 ids."""
    settings = isolated_data.with_overrides({% if cookiecutter.data_source != "warehouse" %}data_source="files", {% endif %}min_labeled_rows=20)
    for day, text, label in ((MONDAY, "great", "positive"), (TUESDAY, "awful", "negative")):
        batch = pd.DataFrame({"id": IDS, "text": [f"{text} {index}" for index in range(30)]})
        partition = storage.partition_dir(settings.data.data_dir, storage.BATCHES, day)
        storage.write_parquet(batch, partition / storage.BATCH_FILE)
        predictions = batch.assign(prediction=label)[["id", "prediction"]]
        part = storage.partition_dir(settings.data.data_dir, storage.PREDICTIONS, day)
        storage.write_parquet(predictions, part / "part-00000.parquet")
    return settings
{%- if cookiecutter.data_source == "warehouse" %}


def write_labels(settings, name: str, frame: pd.DataFrame) -> None:
    """Add ``frame``'s rows to the labels table (``name`` says who sent them); "" ds is none."""
    if "ds" in frame.columns:
        frame = frame.assign(ds=frame["ds"].replace("", None))
    append_rows(settings, settings.data.labels_table, frame)
{%- else %}


def write_labels(settings, name: str, frame: pd.DataFrame) -> None:
    folder = Path(settings.data.feedback_dir)
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / name, index=False)
{%- endif %}


def test_labels_without_a_date_for_ids_of_two_days_are_used_on_neither(two_days, caplog):
    # Tuesday's 30 complaints arrive without a date: they could be Monday's rows.
    write_labels(two_days, "tuesday.csv", pd.DataFrame({"id": IDS, "sentiment": "negative"}))
    with caplog.at_level(logging.WARNING):
        assert read_feedback(two_days).empty  # not 60 rows, half of them wrong
    [line] = [record.getMessage() for record in caplog.records if "not used" in record.getMessage()]
    assert line.endswith(
        "labels not used: 30 match ids scored on more than one date "
        "(give the label rows a 'ds' column with the logical date they label)."
    )
    labels = placed_labels(two_days)
    # No accuracy for either day, rather than 0.0 on Monday and a false alert.
    assert ground_truth(two_days, date.fromisoformat(MONDAY), labels) is None
    assert ground_truth(two_days, date.fromisoformat(TUESDAY), labels) is None


def test_labels_that_name_their_date_land_on_that_day_only(two_days):
    for day, label in ((MONDAY, "positive"), (TUESDAY, "negative")):
        frame = pd.DataFrame({"ds": day, "id": IDS, "sentiment": label})
        write_labels(two_days, f"{day}.csv", frame)
    feedback = read_feedback(two_days)
    assert len(feedback) == 60
    meant = feedback["text"].str[:5].map({"great": "positive", "awful": "negative"})
    assert (feedback["sentiment"] == meant).all()
    labels = placed_labels(two_days)
    for day in (MONDAY, TUESDAY):
        truth = ground_truth(two_days, date.fromisoformat(day), labels)
        assert truth["accuracy"] == 1.0 and truth["labeled_rows"] == 30


def test_an_id_scored_on_one_day_only_needs_no_date_and_strays_are_counted(two_days, caplog):
    partition = storage.partition_dir(two_days.data.data_dir, storage.BATCHES, MONDAY)
    batch = pd.read_parquet(partition / storage.BATCH_FILE)
    extra = pd.DataFrame({"id": ["m1"], "text": ["great too"]})
    storage.write_parquet(pd.concat([batch, extra]), partition / storage.BATCH_FILE)
    labels = pd.DataFrame(
        {"id": ["m1", "nowhere", "r1"], "sentiment": "positive", "ds": ["", "", "2026-04-09"]}
    )
    write_labels(two_days, "mixed.csv", labels)
    with caplog.at_level(logging.WARNING):
        placed = placed_labels(two_days)
    assert placed.to_dict("records") == [{"ds": MONDAY, "id": "m1", "sentiment": "positive"}]
    assert "2 match no kept scored row" in caplog.text


{%- if cookiecutter.data_source == "warehouse" %}


def test_a_table_giving_an_id_two_labels_is_refused(two_days, caplog):
    conflicting = pd.DataFrame(
        {"ds": MONDAY, "id": ["r1", "r1", "r2", "r2"], "sentiment": ["positive", "negative"] * 2}
    )
    r3 = pd.DataFrame({"ds": [MONDAY], "id": ["r3"], "sentiment": ["negative"]})
    write_labels(two_days, "labels", pd.concat([conflicting, r3]))
    with caplog.at_level(logging.WARNING):
        placed = placed_labels(two_days)
    assert placed.to_dict("records") == [{"ds": MONDAY, "id": "r3", "sentiment": "negative"}]
    assert "skipped 2 ids labeled twice with different labels" in caplog.text
{%- else %}


def test_one_file_giving_an_id_two_labels_is_refused_and_a_later_file_wins(two_days, caplog):
    conflicting = pd.DataFrame(
        {"ds": MONDAY, "id": ["r1", "r1", "r2", "r2"], "sentiment": ["positive", "negative"] * 2}
    )
    r3 = pd.DataFrame({"ds": [MONDAY], "id": ["r3"], "sentiment": ["negative"]})
    write_labels(two_days, "a.csv", pd.concat([conflicting, r3]))
    write_labels(two_days, "b.csv", r3.assign(sentiment="positive"))
    with caplog.at_level(logging.WARNING):
        placed = placed_labels(two_days)
    assert placed.to_dict("records") == [{"ds": MONDAY, "id": "r3", "sentiment": "positive"}]
    assert "a.csv: skipped 2 ids labeled twice with different labels in this file (4 rows)" in (
        caplog.text
    )
    assert "1 ids relabeled by a later file (the later file wins)" in caplog.text
{%- endif %}
