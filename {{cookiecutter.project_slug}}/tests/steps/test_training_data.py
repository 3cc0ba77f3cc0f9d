"""Bad training data: a clear message, and bad rows counted and kept aside."""

from __future__ import annotations

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.errors import DataValidationError
from {{ cookiecutter.package_name }}.steps import training

DAY = "2026-03-03"


def extract_and_validate(settings, tmp_path, frame):
    path = tmp_path / "training.csv"
    frame.to_csv(path, index=False)
    training.extract(settings, DAY, training_path=path)
    return training.validate(settings, DAY)


def reviews(count):
    return pd.DataFrame(
        {
            "text": [
                f"review number {i} was {'great' if i % 2 else 'awful'}" for i in range(count)
            ],
            "sentiment": ["positive" if i % 2 else "negative" for i in range(count)],
        }
    )


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (reviews(200).drop(columns="sentiment"), "lacks column"),
        (reviews(200).assign(sentiment="positive"), "only the label"),
        (reviews(50), "need at least 100"),
        (reviews(200).assign(text=""), "usable training rows"),
    ],
    ids=["missing sentiment column", "one class", "too few rows", "all texts empty"],
)
def test_unusable_training_data_fails_with_a_clear_message(isolated_data, tmp_path, frame, message):
    with pytest.raises(DataValidationError, match=message):
        extract_and_validate(isolated_data, tmp_path, frame)


def test_bad_rows_are_counted_and_kept_aside(isolated_data, tmp_path):
    frame = reviews(200)
    frame.loc[0:4, "text"] = ""
    frame.loc[5:7, "text"] = None
    frame.loc[8:9, "sentiment"] = "neutral"

    result = extract_and_validate(isolated_data, tmp_path, frame)

    assert result["rows"] == 190
    assert result["rejected_by_reason"] == {"empty text": 8, "unknown label": 2}
    partition = storage.partition_dir(isolated_data.data.data_dir, storage.TRAINING, DAY)
    rejects = pd.read_parquet(partition / storage.REJECTS_FILE)
    assert len(rejects) == 10
    assert set(rejects["reason"]) == {"empty text", "unknown label"}
