"""Partitioned files keyed by logical date, written atomically.

Layout: ``<data_dir>/<dataset>/ds=YYYY-MM-DD/<file>``. A rerun of a date
replaces that date's files and touches nothing else; a write goes to a
temporary file that is renamed into place, so a failed task leaves no half file.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

log = logging.getLogger(__name__)

BATCHES = "batches"
PREDICTIONS = "predictions"
MONITORING = "monitoring"
REPORTS = "reports"
TRAINING = "training"
# What the pipeline writes and cleanup may expire. Incoming batches, labels and
# delivered predictions are the team's data: they live elsewhere and stay.
DATASETS = (BATCHES, PREDICTIONS, MONITORING, REPORTS, TRAINING)
PARTITION_PREFIX = "ds="
# The files a partition holds, named once here.
# The day's batch as it was scored: the snapshot every later task reads.
BATCH_FILE = "batch.parquet"
# Where the snapshot came from: source, data interval, row and reject counts.
SOURCE_FILE = "source.json"
PREDICTIONS_FILE = "predictions.parquet"
REJECTS_FILE = "rejects.parquet"
MONITORING_REPORT_FILE = "report.json"
SUMMARY_JSON = "summary.json"
SUMMARY_MARKDOWN = "summary.md"
REPORT_HTML = "report.html"
TRAINING_RAW_FILE = "raw.parquet"
TRAINING_VALID_FILE = "valid.parquet"
TRAINING_HOLDOUT_FILE = "holdout.parquet"
# Row groups of this many rows let a reader stream a large file in bounded memory.
ROW_GROUP_ROWS = 100_000


def as_date(value: date | str) -> date:
    """Accept a date or an ISO string such as Airflow's ``ds``."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValueError(f"{value!r} is not a date: use the form YYYY-MM-DD.") from None


def partition_dir(data_dir: Path, dataset: str, day: date | str) -> Path:
    return Path(data_dir) / dataset / f"{PARTITION_PREFIX}{as_date(day).isoformat()}"


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it over ``target`` on success."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        yield Path(temporary)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write(target: Path, writer: Callable[[Path], Any]) -> Path:
    with atomic_path(target) as temporary:
        writer(temporary)
    return target


def write_parquet(frame: pd.DataFrame, target: Path) -> Path:
    return _write(
        target, lambda path: frame.to_parquet(path, index=False, row_group_size=ROW_GROUP_ROWS)
    )


class ParquetStream:
    """Frames (or Arrow tables) appended one by one to a Parquet file, each as a row group."""

    def __init__(self, path: Path, target: Path, **writer_options: Any) -> None:
        self.path = path
        self.target = target
        self.rows = 0
        self._writer: Any = None
        self._writer_options = writer_options

    def write(self, rows: pd.DataFrame | pa.Table) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not isinstance(rows, pa.Table):
            schema = None if self._writer is None else self._writer.schema
            rows = pa.Table.from_pandas(rows, schema=schema, preserve_index=False)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, rows.schema, **self._writer_options)
        self._writer.write_table(rows)
        self.rows += rows.num_rows

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


@contextmanager
def parquet_stream(target: Path, **writer_options: Any) -> Iterator[ParquetStream]:
    """Write ``target`` chunk by chunk; it appears only when the block succeeds.

    A block that writes no rows removes ``target``: a rerun that finds nothing
    to write leaves no file from an earlier run behind. ``writer_options`` go
    to ``pyarrow.parquet.ParquetWriter``.
    """
    with atomic_path(target) as temporary:
        stream = ParquetStream(temporary, target, **writer_options)
        try:
            yield stream
        finally:
            stream.close()
    if not stream.rows:  # what was renamed into place is the empty temporary file
        target.unlink()


@contextmanager
def table_stream(target: Path, kind: str) -> Iterator[Callable[[pd.DataFrame], None]]:
    """A function that appends frames to ``target`` as ``csv``, ``parquet`` or ``jsonl``.

    ``target`` appears only when the block succeeds, as with ``parquet_stream``.
    """
    if kind == "parquet":
        with parquet_stream(target) as stream:
            yield stream.write
        return
    with atomic_path(target) as temporary, temporary.open("w", encoding="utf-8", newline="") as out:
        header = [True]

        def write(frame: pd.DataFrame) -> None:
            if kind == "csv":
                frame.to_csv(out, index=False, header=header[0])
            else:
                lines = frame.to_json(orient="records", lines=True, force_ascii=False)
                out.write(lines if lines.endswith("\n") else lines + "\n")
            header[0] = False

        yield write


def read_parquet_chunks(path: Path, chunk_rows: int, columns: list[str] | None = None):
    """A Parquet file as pandas frames of at most ``chunk_rows`` rows, read as consumed."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    return (
        batch.to_pandas() for batch in parquet.iter_batches(batch_size=chunk_rows, columns=columns)
    )


def write_text(text: str, target: Path) -> Path:
    return _write(target, lambda path: path.write_text(text, encoding="utf-8"))


def write_json(payload: dict, target: Path) -> Path:
    return write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n", target)


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def partition_day(path: Path) -> date | None:
    """The date of a ``ds=`` directory, or None for anything else."""
    if not path.is_dir() or not path.name.startswith(PARTITION_PREFIX):
        return None
    try:
        return date.fromisoformat(path.name.removeprefix(PARTITION_PREFIX))
    except ValueError:
        return None


def delete_partitions_before(
    data_dir: Path,
    today: date | str,
    retention_days: int,
    *,
    keep: dict[Path, str] | None = None,
) -> dict[str, list]:
    """Delete partitions of every dataset older than ``retention_days`` before ``today``.

    A partition for ``today - retention_days`` is kept; only strictly older
    ones go. Partitions in ``keep`` stay whatever their age (the value says
    why), and so does a symlinked one: it points at data this project does
    not own. Returns what was deleted, and what was kept and why.
    """
    if retention_days < 1:
        raise ValueError(f"retention_days={retention_days} is not valid: expected at least 1.")
    today = as_date(today)
    if (today - date.min).days <= retention_days:
        return {"deleted": [], "kept": []}  # nothing can be older than the first day
    cutoff = today - timedelta(days=retention_days)
    keep = {Path(path): why for path, why in (keep or {}).items()}
    deleted, kept = [], []
    for dataset in DATASETS:
        root = Path(data_dir) / dataset
        if not root.is_dir():
            continue
        for partition in sorted(root.iterdir()):
            day = partition_day(partition)
            if day is None or day >= cutoff:
                continue
            if partition.is_symlink():
                why = "a symlink: not this project's to delete"
                log.warning("%s is %s", partition, why)
                kept.append({"path": str(partition), "why": why})
            elif partition in keep:
                kept.append({"path": str(partition), "why": keep[partition]})
            else:
                shutil.rmtree(partition)
                deleted.append(str(partition))
    return {"deleted": deleted, "kept": kept}
