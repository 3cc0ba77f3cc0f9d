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
{%- if cookiecutter.data_source != "warehouse" %}

from {{ cookiecutter.package_name }}.settings import is_url
{%- endif %}

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
{%- if cookiecutter.data_source == "warehouse" %}
# What 0.4.0 wrote into a predictions partition.
{%- else %}
# What the pipeline delivers (outgoing_dir) and what 0.4.0 wrote into a predictions partition.
{%- endif %}
PREDICTIONS_FILE = "predictions.parquet"
REJECTS_FILE = "rejects.parquet"
{%- if cookiecutter.data_source == "warehouse" %}
# The day's labelling queue, in its predictions partition (and the label requests table).
{%- else %}
# The day's labelling queue, in its predictions partition and delivered beside the predictions.
{%- endif %}
LABEL_REQUESTS_FILE = "label_requests.csv"
# A predictions partition holds one part of each per shard: part-00000.parquet, ...
PART_PREFIX = "part-"
REJECTS_PREFIX = "rejects-"
SHARD_STATS_PREFIX = "stats-"
# The challenger's predictions of a shard, scored in the shadow: never delivered.
SHADOW_PREFIX = "shadow-"
# Written by the plan into the staging directory of a day's shards.
SHARD_PLAN_FILE = "plan.json"
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


def part_name(prefix: str, shard: int, suffix: str = ".parquet") -> str:
    return f"{prefix}{shard:05d}{suffix}"


def part_files(partition: Path, prefix: str = PART_PREFIX) -> list[Path]:
    """A partition's part files in shard order; a 0.4.0 partition's one file, if that is all."""
    parts = sorted(Path(partition).glob(f"{prefix}[0-9]*.parquet"))
    if not parts and prefix == PART_PREFIX and (Path(partition) / PREDICTIONS_FILE).is_file():
        return [Path(partition) / PREDICTIONS_FILE]
    return parts


def read_parts(
    partition: Path, columns: list[str] | None = None, prefix: str = PART_PREFIX
) -> pd.DataFrame | None:
    """Every part of a partition as one frame, rows in shard order; None if it has none."""
    import pandas as pd

    parts = part_files(partition, prefix)
    if not parts:
        return None
    frames = [pd.read_parquet(part, columns=columns) for part in parts]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def staging_dir(partition: Path, token: str) -> Path:
    """Where the shards of one run write, beside the partition they will replace.

    Hidden (a leading dot), so neither readers nor cleanup take it for a partition.
    """
    return partition.with_name(f".{partition.name}.{token}")


def stale_staging_dirs(partition: Path) -> list[Path]:
    """Staging directories of ``partition`` that earlier, unfinished runs left."""
    return (
        sorted(partition.parent.glob(f".{partition.name}.*")) if partition.parent.is_dir() else []
    )


def replace_dir(staging: Path, partition: Path) -> None:
    """Put ``staging`` in the place of ``partition``, whose old files all go.

    Two renames, then the old directory is removed: no reader ever sees a mix
    of old and new parts (an earlier run's extra shards included).
    """
    old = partition.with_name(f".{partition.name}.replaced")
    if old.exists():
        shutil.rmtree(old)
    if partition.exists():
        os.rename(partition, old)
    os.rename(staging, partition)
    if old.exists():
        shutil.rmtree(old)


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


def parquet_rows(path: Path) -> int:
    """The row count of a Parquet file, from its footer."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def read_parquet_range(
    path: Path, start: int, stop: int, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    """Rows ``start`` to ``stop`` (exclusive) of a Parquet file, in frames of up to ``chunk_rows``.

    Only the row groups that hold the range are read.
    """
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    groups, position, first = [], 0, None
    for index in range(parquet.metadata.num_row_groups):
        rows = parquet.metadata.row_group(index).num_rows
        if position < stop and position + rows > start:
            groups.append(index)
            first = position if first is None else first
        position += rows
    if not groups:
        return
    position = first
    for batch in parquet.iter_batches(batch_size=chunk_rows, row_groups=groups):
        low, high = max(start - position, 0), min(stop - position, batch.num_rows)
        position += batch.num_rows
        if high > low:
            yield batch.slice(low, high - low).to_pandas()
{%- if cookiecutter.data_source != "warehouse" %}


def write_outgoing(
    outgoing_dir: str, day: date | str, name: str, writer: Callable[[Any], Any], mode: str = "wb"
) -> str:
    """Write ``<outgoing_dir>/ds=D/<name>`` with ``writer`` (a path or an open file in ``mode``).

    On disk through a temporary file renamed over the target; on an object store
    as one object, which replaces the old one whole: no reader sees half of it.
    """
    relative = f"{PARTITION_PREFIX}{as_date(day).isoformat()}/{name}"
    if not is_url(outgoing_dir):
        return str(_write(Path(outgoing_dir) / relative, writer))
    import fsspec

    target = f"{outgoing_dir.rstrip('/')}/{relative}"
    text = {} if "b" in mode else {"encoding": "utf-8", "newline": ""}
    with fsspec.open(target, mode, **text) as handle:
        writer(handle)
    return target
{%- endif %}


def write_text(text: str, target: Path) -> Path:
    return _write(target, lambda path: path.write_text(text, encoding="utf-8"))


def write_json(payload: dict, target: Path) -> Path:
    return write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n", target)


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def partition_day(path: Path, *, staging: bool = False) -> date | None:
    """The date of a ``ds=`` directory (or, with ``staging``, of its staging directory)."""
    name = path.name
    if staging and name.startswith(f".{PARTITION_PREFIX}"):
        name = name[1:].split(".", 1)[0]
    if not path.is_dir() or not name.startswith(PARTITION_PREFIX):
        return None
    try:
        return date.fromisoformat(name.removeprefix(PARTITION_PREFIX))
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
            # A run that failed before its merge leaves a staging directory too.
            day = partition_day(partition, staging=True)
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
