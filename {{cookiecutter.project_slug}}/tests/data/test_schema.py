"""Training data: what a usable row is, and the message when there are too few."""

from __future__ import annotations

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data import schema as data
from {{ cookiecutter.package_name }}.errors import DataValidationError


def test_bundled_dataset_is_large_balanced_and_clean():
    frame = data.read_table(data.bundled_dataset_path())
    validated = data.validate_labeled(frame)
    counts = validated.valid["sentiment"].value_counts()
    assert len(validated.valid) >= 1000
    assert validated.rejected.empty
    assert counts["positive"] == counts["negative"]
    assert not frame["text"].str.lower().duplicated().any()
    negations = frame["text"].str.contains(r"\b(?:not|no|never)\b|n't", case=False)
    assert negations.mean() > 0.1


def test_bad_rows_are_set_aside_with_a_reason():
    frame = pd.DataFrame(
        {
            "text": ["good", "", None, "bad", "fine"] * 10,
            "sentiment": ["positive", "negative", "positive", "negative", "meh"] * 10,
        }
    )
    validated = data.validate_labeled(frame)
    assert len(validated.valid) == 20
    assert validated.rejected["reason"].value_counts().to_dict() == {
        "empty text": 20,
        "unknown label": 10,
    }


def test_missing_label_column_says_what_is_needed():
    with pytest.raises(DataValidationError, match="sentiment"):
        data.validate_labeled(pd.DataFrame({"text": ["good"] * 50}))


def test_one_class_is_not_enough():
    frame = pd.DataFrame({"text": ["good"] * 50, "sentiment": ["positive"] * 50})
    with pytest.raises(DataValidationError, match="both"):
        data.validate_labeled(frame)
