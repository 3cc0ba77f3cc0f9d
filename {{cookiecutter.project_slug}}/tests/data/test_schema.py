"""Training data: what a usable row is, and the message when there are too few."""

from __future__ import annotations

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data import schema as data
from {{ cookiecutter.package_name }}.data.readers import read_table
from {{ cookiecutter.package_name }}.errors import DataValidationError


def test_bundled_dataset_is_large_balanced_and_clean():
    frame = read_table(data.bundled_dataset_path())
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


def test_batch_rows_are_quarantined_with_a_reason_and_the_rest_go_on():
    validator = data.BatchValidator()
    first = pd.DataFrame(
        {
            "id": ["a", "b", "a", "c", "d", None],
            "text": ["Good", "", "again a", 7, None, "no id"],
        }
    )
    valid, rejected = validator.split(first)
    assert list(valid["id"]) == ["a"]
    assert dict(zip(rejected["id"].fillna("<none>"), rejected["reason"], strict=True)) == {
        "b": "empty text",
        "a": "duplicate id",
        "c": "text is not a string",
        "d": "empty text",
        "<none>": "missing id",
    }
    # An id seen in an earlier chunk of the batch is a duplicate too.
    valid, rejected = validator.split(pd.DataFrame({"id": ["a", "e"], "text": ["dup", "Fine"]}))
    assert list(valid["id"]) == ["e"] and list(rejected["reason"]) == ["duplicate id"]


# Every code point Python strips, and neighbours it does not (zero-width space, BOM).
WHITESPACE = [chr(code) for code in range(0x3001) if chr(code).isspace()]


@pytest.mark.parametrize("dtype", ["str", "string", object])
def test_a_blank_text_is_what_python_strips_to_nothing(dtype):
    texts = ["", "a", " b ", "\u200b", "\ufeff", "x\u3000", *WHITESPACE, "".join(WHITESPACE)]
    column = pd.Series([*texts, None], dtype=dtype)
    expected = [text.strip() == "" for text in texts] + [True]
    assert data.blank(column).tolist() == expected
    assert [data.is_blank(text) for text in texts] == expected[:-1]  # one text{% if cookiecutter.serving == "http" %}: `serve`'s check{% else %} at a time{% endif %}
    # A chunk sliced out of a larger column: its Arrow array starts at an offset.
    assert data.blank(column.iloc[3:]).tolist() == expected[3:]


def test_split_rejects_sets_blank_texts_aside_in_order():
    batch = pd.DataFrame(
        {"id": ["1", "2", "3", "4"], "text": pd.Series(["ok", "\u2003", None, "fine"], dtype="str")}
    )
    valid, rejected = data.split_rejects(batch)
    assert valid["id"].tolist() == ["1", "4"] and valid.index.tolist() == [0, 1]
    assert rejected["id"].tolist() == ["2", "3"]
    assert rejected["reason"].tolist() == ["empty text"] * 2
    clean = batch.iloc[[0, 3]]
    unchanged, none = data.split_rejects(clean)
    assert unchanged is clean and len(none) == 0 and list(none.columns)[-1] == "reason"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("latin1.csv", "text\ncaf\xe9\n".encode("latin-1"), "cannot read .*latin1.csv as csv"),
        ("quoting.csv", b'text,id\n"unterminated,1\n', "cannot read .*quoting.csv as csv"),
        ("corrupt.parquet", b"PAR1 this is not parquet", "cannot read .*corrupt.parquet"),
        ("broken.jsonl", b'{"text": "ok"}\n{"text": \n', "cannot read .*broken.jsonl as jsonl"),
        ("notes.txt", b"text\nhello\n", "notes.txt is not .csv, .parquet or .jsonl"),
    ],
)
def test_an_unreadable_file_is_one_line_naming_it(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataValidationError, match=message) as error:
        read_table(path)
    assert "\n" not in str(error.value)
