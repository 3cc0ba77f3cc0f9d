"""What the pipeline's data looks like, and how a bad row is told apart.

Training data is CSV or Parquet with columns ``text`` and ``sentiment``.
Batches for inference carry ``id`` and ``text``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

from {{ cookiecutter.package_name }}.errors import DataValidationError
from {{ cookiecutter.package_name }}.settings import LABELS

TEXT = "text"
LABEL = "sentiment"


def bundled_dataset_path() -> Path:
    """The labeled sample reviews shipped with the package."""
    return Path(str(resources.files(__package__) / "sample_data" / "reviews.csv"))


def read_table(path: Path | str) -> pd.DataFrame:
    """Read one CSV or Parquet file."""
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path} does not exist: pass a CSV or Parquet file.")
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path, dtype={TEXT: "string", LABEL: "string"}, keep_default_na=False)
    raise DataValidationError(f"{path} is neither .csv nor .parquet: convert it to one of those.")


@dataclass(frozen=True)
class ValidatedData:
    """Rows fit to use, and the rows set aside with the reason why."""

    valid: pd.DataFrame
    rejected: pd.DataFrame


def validate_labeled(frame: pd.DataFrame, *, min_rows: int = 20) -> ValidatedData:
    """Keep rows with a non-empty text and a known label; fail if too little is left.

    Missing columns, fewer than ``min_rows`` usable rows or a single class fail
    with a message; bad rows are returned in ``rejected`` with the reason.
    """
    missing = [column for column in (TEXT, LABEL) if column not in frame.columns]
    if missing:
        raise DataValidationError(
            f"training data lacks column(s) {', '.join(missing)}: "
            f"it needs '{TEXT}' and '{LABEL}' (labels: {', '.join(LABELS)})."
        )
    text = frame[TEXT].astype("string").str.strip()
    label = frame[LABEL].astype("string").str.strip().str.lower()
    reason = pd.Series(pd.NA, index=frame.index, dtype="string")
    reason = reason.mask(~label.isin(LABELS).fillna(False), "unknown label")
    reason = reason.mask(text.isna() | (text == ""), "empty text")
    keep = reason.isna()
    valid = pd.DataFrame({TEXT: text[keep], LABEL: label[keep]}).reset_index(drop=True)
    rejected = frame.loc[~keep].assign(reason=reason[~keep]).reset_index(drop=True)
    if len(valid) < min_rows:
        raise DataValidationError(
            f"only {len(valid)} usable training rows (need at least {min_rows}); "
            f"{len(rejected)} rows were rejected for an empty text or an unknown label."
        )
    classes = sorted(valid[LABEL].unique())
    if len(classes) < 2:
        raise DataValidationError(
            f"training data holds only the label {classes}: it needs both {' and '.join(LABELS)}."
        )
    return ValidatedData(valid=valid, rejected=rejected)


def split_rejects(batch: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows that can be scored, and the others with the reason they cannot."""
    if TEXT not in batch.columns:
        raise DataValidationError(
            f"the batch has no '{TEXT}' column (columns: {list(batch.columns)})."
        )
    text = batch[TEXT].astype("string")
    empty = (text.isna() | (text.str.strip() == "")).to_numpy(dtype=bool)
    if not empty.any():  # the usual case: no copy of the batch
        return batch, batch.iloc[:0].assign(reason=pd.Series(dtype="string"))
    rejects = batch.loc[empty].assign(**{TEXT: text[empty], "reason": "empty text"})
    return batch.loc[~empty].reset_index(drop=True), rejects
