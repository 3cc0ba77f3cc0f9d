"""What the pipeline's data looks like, and how a bad row is told apart.

Training data has columns ``text`` and ``sentiment``; batches carry ``text``
and optionally ``id``; true labels carry ``id`` and ``sentiment``. Reading
files is ``data/readers.py``; a team's own column names and label values
become these as they are read (``data/columns.py``); this module only looks
at frames.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.data.seen_ids import SeenIds, id_hashes
from {{ cookiecutter.package_name }}.errors import DataValidationError
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, LABEL_NUMBER, SAMPLE_LABELS

log = logging.getLogger(__name__)

TEXT = "text"
LABEL = "sentiment"
ID = "id"
# The logical date a label row labels, when it says: ids repeat across days.
DS = "ds"
# A scored row's top-class probability minus the runner-up's (the labelling queue ranks by it).
MARGIN = "margin"
# Why a row without a usable text is set aside: batch inference{% if cookiecutter.serving == "http" %} and `serve` both say{% else %} says{% endif %} this.
EMPTY_TEXT = "empty text"
UNKNOWN_LABEL = "unknown label"
# Unknown label values a message names; it counts the rest.
SHOWN_UNKNOWN = 10
# A stratified 20 % hold-out and 5 cross-validation folds need this many rows of each label.
MIN_ROWS_PER_CLASS = 10


def bundled_dataset_path() -> Path:
    """The labeled sample reviews shipped with the package."""
    return Path(str(resources.files(__package__) / "sample_data" / "reviews.csv"))


def stable_ids(frame: pd.DataFrame, origin: str, *, start: int = 0) -> pd.Series:
    """An id for each row from where it came from and what it says: a rerun gives the same ids.

    ``origin`` names the file (and batch date); the row's position in the file
    (counting from ``start`` for a later chunk) keeps two equal texts apart.
    """
    texts = frame[TEXT].astype("string").fillna("")
    return pd.Series(
        [
            hashlib.sha256(f"{origin}\x00{position}\x00{text}".encode()).hexdigest()[:20]
            for position, text in enumerate(texts, start)
        ],
        index=frame.index,
        dtype="string",
    )


@dataclass(frozen=True)
class ValidatedData:
    """Rows fit to use, and the rows set aside with the reason why."""

    valid: pd.DataFrame
    rejected: pd.DataFrame
    labels: tuple[str, ...] = SAMPLE_LABELS  # the label names the rows were checked against

    def unknown_labels(self) -> dict[str, int]:
        """The label values set aside as unknown, as compared, with their row counts."""
        rows = self.rejected[self.rejected["reason"] == UNKNOWN_LABEL]
        return unknown_labels(rows[LABEL], self.labels) if len(rows) else {}


def validate_labeled(
    frame: pd.DataFrame, *, labels: Sequence[str] = SAMPLE_LABELS, min_rows: int = 20
) -> ValidatedData:
    """Keep rows with a non-empty text and one of ``labels``; fail if too little is left.

    The pipeline passes the `labels` setting; without it, the bundled sample's two labels.

    Missing columns, fewer than ``min_rows`` usable rows or a label without
    rows fail with a message; bad rows are returned in ``rejected`` with the reason.
    """
    _require_columns(frame, (TEXT, LABEL), "training data", labels)
    text = frame[TEXT].astype("string").str.strip()
    label = normalized_labels(frame[LABEL])
    reason = pd.Series(pd.NA, index=frame.index, dtype="string")
    reason = reason.mask(~label.isin(list(labels)).fillna(False), UNKNOWN_LABEL)
    reason = reason.mask(text.isna() | (text == ""), "empty text")
    keep = reason.isna()
    valid = pd.DataFrame({TEXT: text[keep], LABEL: label[keep]}).reset_index(drop=True)
    rejected = frame.loc[~keep].assign(reason=reason[~keep]).reset_index(drop=True)
    if len(valid) < min_rows:
        unknown = ValidatedData(valid, rejected, tuple(labels)).unknown_labels()
        raise DataValidationError(
            f"only {len(valid)} usable training rows (need at least {min_rows}); "
            f"{len(rejected)} rows were rejected for an empty text or an unknown label"
            + (f": {describe_unknown_labels(unknown, 'rows', labels)}." if unknown else ".")
        )
    counts = valid[LABEL].value_counts()
    if len(counts) < 2:
        needs = " and ".join(labels) if len(labels) == 2 else ", ".join(labels)
        needs = f"both {needs}" if len(labels) == 2 else f"each of {needs}"
        raise DataValidationError(
            f"training data holds only the label {sorted(counts.index)}: it needs {needs}."
        )
    absent = [label for label in labels if label not in counts.index]
    if absent:
        raise DataValidationError(
            f"training data has no row labelled {', '.join(absent)}: each label of the labels "
            f"setting ({','.join(labels)}) needs at least {MIN_ROWS_PER_CLASS} rows; add rows "
            "of those classes or remove them from the labels setting."
        )
    if counts.min() < MIN_ROWS_PER_CLASS:
        raise DataValidationError(
            f"the label '{counts.idxmin()}' has only {counts.min()} usable row(s): each label "
            f"needs at least {MIN_ROWS_PER_CLASS} to be split into a hold-out and "
            "cross-validation folds; add rows of that class."
        )
    return ValidatedData(valid=valid, rejected=rejected, labels=tuple(labels))


def unknown_labels(values: pd.Series, labels: Sequence[str]) -> dict[str, int]:
    """The ``values`` that are none of ``labels``, as compared, with their counts, most first."""
    keys = normalized_labels(values).fillna("")
    counts = keys[~keys.isin(list(labels))].value_counts()
    return {str(value): int(count) for value, count in counts.items()}


def describe_unknown_labels(counts: dict[str, int], rows: str, labels: Sequence[str]) -> str:
    """One sentence: how many ``rows`` have which unknown labels, and the setting that maps them."""
    shown = ", ".join(
        f"{value!r} ({count})" if value else f"(empty) ({count})"
        for value, count in list(counts.items())[:SHOWN_UNKNOWN]
    )
    if len(counts) > SHOWN_UNKNOWN:
        shown += f" and {len(counts) - SHOWN_UNKNOWN} more values"
    example = json.dumps({next((value for value in counts if value), "<value>"): "<label>"})
    total = sum(counts.values())
    counted = f"{total} {rows} have" if total != 1 else f"1 {rows.removesuffix('s')} has"
    return (
        f"{counted} a label that is not one of {', '.join(labels)}: "
        f"{shown}; map each value to a label with the label_map setting "
        f"({ENV_PREFIX}LABEL_MAP='{example}', or a [settings.label_map] table in tuned.toml), "
        "or remove those rows"
    )


def refuse_unknown_labels(validated: ValidatedData, where: str) -> ValidatedData:
    """``validated``, unless some rows were set aside for a label that is no label name.

    Training, tuning, evaluation and the reference set refuse such data in
    one line, rather than learn from what is left without a word.
    """
    unknown = validated.unknown_labels()
    if unknown:
        described = describe_unknown_labels(unknown, "rows", validated.labels)
        raise DataValidationError(f"{where}: {described}.")
    return validated


def split_rejects(batch: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows that can be scored, and the others with the reason they cannot."""
    if TEXT not in batch.columns:
        raise DataValidationError(
            f"the batch has no '{TEXT}' column (columns: {list(batch.columns)})."
        )
    empty = blank(batch[TEXT])
    if not empty.any():  # the usual case: no copy of the batch
        return batch, batch.iloc[:0].assign(reason=pd.Series(dtype="string"))
    text = batch[TEXT].astype("string")
    rejects = batch.loc[empty].assign(**{TEXT: text[empty], "reason": EMPTY_TEXT})
    return batch.loc[~empty].reset_index(drop=True), rejects


def is_blank(text: str) -> bool:
    """Whether a text is empty or all whitespace: the rule ``blank`` applies to a column."""
    return not text or text.isspace()


def blank(texts: pd.Series) -> np.ndarray:
    """Which texts are missing, or blank by ``is_blank``; the same answer, column at a time.

    A column read from Parquet is checked in Arrow (pandas runs ``str.isspace``
    of an Arrow-backed column as Arrow's ``utf8_is_space``), without the
    stripped copy of every text that ``str.strip`` makes; Arrow's whitespace
    is Python's, so both ways agree. No pyarrow import here: the pure modules
    that import this one's column names must stay free of it.
    """
    dtype = texts.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        empty = texts.isna() | (texts.str.len() == 0) | texts.str.isspace()
        return empty.fillna(True).to_numpy(dtype=bool)
    text = texts.astype("string")
    return (text.isna() | (text.str.strip() == "")).to_numpy(dtype=bool)


class BatchValidator:
    """Checks a batch chunk by chunk: the rows fit to score, and the others with a reason.

    A text that is missing, not a string, or blank is rejected, and so is an
    id already seen earlier in the batch (the first one is scored).
    """

    def __init__(self) -> None:
        self._seen = SeenIds()  # linear in the batch's rows, however many chunks

    def split(self, chunk: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(valid rows as ``id``, ``text`` strings; rejected rows with ``reason``)."""
        text = chunk[TEXT]
        is_string = text.map(lambda value: isinstance(value, str)).to_numpy(dtype=bool)
        ids = chunk[ID].astype("string")
        reason = pd.Series(pd.NA, index=chunk.index, dtype="string")
        hashes = id_hashes(ids)
        duplicate = ids.duplicated().to_numpy(dtype=bool) | self._seen.contains(hashes)
        reason = reason.mask(duplicate, "duplicate id")
        reason = reason.mask(ids.isna() | (ids.str.strip() == ""), "missing id")
        blank = is_string & (text.astype("string").str.strip() == "").fillna(True).to_numpy(bool)
        reason = reason.mask(blank, EMPTY_TEXT)
        reason = reason.mask(~is_string, "text is not a string")
        reason = reason.mask(text.isna(), EMPTY_TEXT)
        keep = reason.isna().to_numpy(dtype=bool)
        valid = pd.DataFrame({ID: ids[keep], TEXT: text[keep].astype("string")}).reset_index(
            drop=True
        )
        self._seen.add(hashes[keep])
        rejected = pd.DataFrame(
            {
                ID: ids[~keep],
                TEXT: text[~keep].map(lambda value: None if pd.isna(value) else str(value)),
                "reason": reason[~keep],
            }
        ).astype("string")
        return valid, rejected.reset_index(drop=True)


def validate_labels(
    frame: pd.DataFrame, origin: str, labels: Sequence[str] = SAMPLE_LABELS
) -> pd.DataFrame:
    """The rows of a labels file with an id and one of ``labels``, as ``id``, ``sentiment``.

    Rows whose label is no label name are skipped with one warning line that
    counts them by value.
    """
    _require_columns(frame, (ID, LABEL), origin, labels)
    ids = frame[ID].astype("string").str.strip()
    label = normalized_labels(frame[LABEL])
    known = label.isin(list(labels)).fillna(False)
    if not known.all():
        unknown = unknown_labels(frame[LABEL][~known.to_numpy(bool)], labels)
        skipped = describe_unknown_labels(unknown, "label rows", labels)
        log.warning("%s: skipped: %s.", origin, skipped)
    day, bad_day = _label_dates(frame, origin)
    keep = (ids.notna() & (ids != "") & known & ~bad_day).fillna(False).to_numpy(bool)
    rows = pd.DataFrame({DS: day[keep], ID: ids[keep], LABEL: label[keep]}).drop_duplicates()
    # One id (of one date) with two different labels in one file: neither is believed.
    conflicting = rows.duplicated([DS, ID], keep=False)
    if conflicting.any():
        log.warning(
            "%s: skipped %d ids labeled twice with different labels in this file (%d rows); "
            "the rule: a file must give an id one label, a later file may replace it.",
            origin,
            rows.loc[conflicting, [DS, ID]].drop_duplicates().shape[0],
            int(conflicting.sum()),
        )
    return rows[~conflicting].reset_index(drop=True)


def _label_dates(frame: pd.DataFrame, origin: str) -> tuple[pd.Series, pd.Series]:
    """(each label row's ``ds`` as YYYY-MM-DD, missing where it names none; rows whose is bad)."""
    if DS not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="string"), pd.Series(False, frame.index)
    given = frame[DS].astype("string").str.strip().replace("", pd.NA)
    parsed = pd.to_datetime(given.str[:10], format="%Y-%m-%d", errors="coerce")
    bad = (parsed.isna() & given.notna()).astype(bool)
    if bad.any():
        log.warning(
            "%s: skipped %d label rows whose %s is not a date (YYYY-MM-DD).", origin, bad.sum(), DS
        )
    return parsed.dt.strftime("%Y-%m-%d").astype("string"), bad


def _require_columns(
    frame: pd.DataFrame, columns: tuple[str, str], what: str, labels: Sequence[str]
) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{what} lacks column(s) {', '.join(missing)}: it needs "
            f"'{columns[0]}' and '{columns[1]}' (labels: {', '.join(labels)})."
        )


def normalized_labels(labels: pd.Series) -> pd.Series:
    """Labels as the pipeline compares them: case and surrounding spaces ignored, 4.0 as 4.

    The column at a time of ``settings.label_key``, which compares the keys of ``label_map``.
    """
    return (
        labels.astype("string").str.strip().str.lower().str.replace(LABEL_NUMBER, r"\1", regex=True)
    )
