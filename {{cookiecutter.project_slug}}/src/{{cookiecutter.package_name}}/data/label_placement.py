"""Which scored row each arrived label belongs to, when ids repeat across days.

Ids are unique within a day's batch, not across days: two days may both use
``r0``-``r29``. A label row that carries ``ds`` (the logical date of the batch
it labels) lands on that date's row. One without ``ds`` lands on the one
scored row with its id, and only when there is exactly one: a label whose id
was scored on two dates is used on neither, so monitoring never scores a day
against another day's truth and training never learns a text with a label
meant for another. Labels left unused are counted in one line that says why.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.schema import DS, ID, LABEL

log = logging.getLogger(__name__)


def scored_rows(data_dir: Path | str, ids: pd.Series) -> pd.DataFrame:
    """``ds``, ``id`` of every kept batch snapshot's row whose id is among ``ids``."""
    wanted = pd.Index(ids.astype("string").unique())
    frames = []
    batches = Path(data_dir) / storage.BATCHES
    for partition in sorted(batches.glob(f"{storage.PARTITION_PREFIX}*")):
        day = storage.partition_day(partition)
        snapshot = partition / storage.BATCH_FILE
        if day is None or not snapshot.is_file():
            continue
        batch_ids = pd.read_parquet(snapshot, columns=[ID])[ID].astype("string")
        matched = batch_ids[batch_ids.isin(wanted)]
        frames.append(pd.DataFrame({DS: day.isoformat(), ID: matched.to_numpy()}))
    if not frames:
        return pd.DataFrame({DS: pd.Series(dtype="string"), ID: pd.Series(dtype="string")})
    return pd.concat(frames, ignore_index=True).astype("string")


def place(labels: pd.DataFrame, scored: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """(labels as ``ds``, ``id``, ``sentiment`` on exactly one scored row each; unused counts).

    ``labels`` has ``id``, ``sentiment`` and maybe ``ds`` (missing where a
    label names no date); ``scored`` has ``ds``, ``id``.
    """
    if DS not in labels:
        labels = labels.assign(**{DS: pd.Series(pd.NA, index=labels.index, dtype="string")})
    dated = labels[labels[DS].notna()]
    undated = labels[labels[DS].isna()].drop(columns=DS)
    on_their_date = dated.merge(scored, on=[DS, ID])
    dates_per_id = scored.groupby(ID, observed=True)[DS].agg(["count", "first"])
    candidates = undated.merge(dates_per_id, left_on=ID, right_index=True)
    unique = candidates[candidates["count"] == 1].rename(columns={"first": DS})
    placed = pd.concat([on_their_date, unique[[ID, LABEL, DS]]], ignore_index=True)
    unused = {
        "on more than one date": int((candidates["count"] > 1).sum()),
        "matching no scored row": len(dated) - len(on_their_date) + len(undated) - len(candidates),
    }
    return placed[[DS, ID, LABEL]].astype("string"), unused


def report_unused(unused: dict[str, int], where: str) -> None:
    """One warning line for the labels ``place`` could not use, if any."""
    parts = []
    if unused.get("on more than one date"):
        parts.append(
            f"{unused['on more than one date']} match ids scored on more than one date "
            f"(give the label rows a '{DS}' column with the logical date they label)"
        )
    if unused.get("matching no scored row"):
        parts.append(
            f"{unused['matching no scored row']} match no kept scored row (not scored yet, "
            "an id or date that was never in a batch, or past retention)"
        )
    if parts:
        log.warning("%s: labels not used: %s.", where, "; ".join(parts))


def later_wins(frames: list[pd.DataFrame], where: str) -> pd.DataFrame:
    """The labels of ``frames``, in order: where two label one id (of one date), the later wins."""
    if not frames:
        return pd.DataFrame({ID: pd.Series(dtype="string"), LABEL: pd.Series(dtype="string")})
    labels = pd.concat(frames, ignore_index=True)
    latest = labels.drop_duplicates([DS, ID], keep="last")
    earlier = labels.drop(latest.index).drop_duplicates([DS, ID], keep="last")
    changed = earlier.merge(latest, on=[DS, ID], suffixes=("", "_later"))
    replaced = int((changed[LABEL] != changed[f"{LABEL}_later"]).sum())
    if replaced:
        log.warning("%s: %d ids relabeled by a later file (the later file wins).", where, replaced)
    latest = latest.reset_index(drop=True)
    # ds only where some row names its date: the usual labels stay id, sentiment.
    return latest if latest[DS].notna().any() else latest.drop(columns=DS)
