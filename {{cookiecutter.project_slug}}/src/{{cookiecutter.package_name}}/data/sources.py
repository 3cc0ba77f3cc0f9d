"""Where labeled training data, inference batches and true labels come from.
{% if cookiecutter.data_source == "demo" %}
- ``demo``: the sample reviews shipped with the package; steps/demo.py invents
  each day's batch and, days later, its labels.
{%- endif %}
{%- if cookiecutter.data_source == "warehouse" %}
The ``warehouse`` source: tables of a SQL database (data/warehouse.py).
{%- else %}
- ``files``: training CSV/Parquet files matching a glob; the batch of date D
  is every file under ``<incoming_dir>/ds=D/``; labels are any files under
  ``<feedback_dir>/``. Local directories or fsspec URLs.
{%- endif %}

Every source answers the same questions: the training data, the day's batch
(or None while it has not arrived), and the labels that have arrived so far,
in the pipeline's own columns. The real sources read a team's columns and
label values as the settings name them (data/columns.py). ``train --data FILE``
reads one file of labeled rows whatever the source (TrainingFiles).
"""

from __future__ import annotations

import glob
{%- if cookiecutter.data_source != "warehouse" %}
import logging
import time
from collections.abc import Iterator
{%- endif %}
from dataclasses import dataclass, field
{%- if cookiecutter.data_source != "warehouse" %}
from datetime import datetime
from pathlib import Path, PurePosixPath
{%- else %}
from pathlib import Path
{%- endif %}

import pandas as pd

from {{ cookiecutter.package_name }}.data import label_placement, storage
from {{ cookiecutter.package_name }}.data.columns import Columns
{%- if cookiecutter.data_source == "warehouse" %}
from {{ cookiecutter.package_name }}.data.readers import read_table
{%- else %}
from {{ cookiecutter.package_name }}.data.readers import FORMATS, READ_CHUNK_ROWS, read_chunks, read_table
{%- endif %}
from {{ cookiecutter.package_name }}.data.schema import (
    DS,
    ID,
    LABEL,
    TEXT,
{%- if cookiecutter.data_source == "demo" %}
    bundled_dataset_path,
{%- endif %}
{%- if cookiecutter.data_source != "warehouse" %}
    stable_ids,
    validate_labels,
{%- endif %}
)
{%- if cookiecutter.data_source == "warehouse" %}
from {{ cookiecutter.package_name }}.data.warehouse import WarehouseSource
{%- endif %}
from {{ cookiecutter.package_name }}.errors import DataValidationError
{%- if cookiecutter.data_source == "warehouse" %}
from {{ cookiecutter.package_name }}.settings import Settings
{%- else %}
from {{ cookiecutter.package_name }}.settings import SAMPLE_LABELS, Settings, is_url

log = logging.getLogger(__name__)
# Written last by Spark, Hadoop and many exporters: the folder is complete.
SUCCESS_MARKER = "_SUCCESS"
{%- endif %}


@dataclass(frozen=True)
class TrainingFiles:
    """Labeled rows in the CSV or Parquet files matching a glob, or in one file."""

    pattern: str
    columns: Columns = field(default_factory=Columns)

    def training_location(self) -> str:
        return self.pattern

    def read_training(self) -> pd.DataFrame:
        """The rows of every matching file as ``text``, ``sentiment`` (labels mapped)."""
        if not glob.has_magic(self.pattern):
            return self._training_file(self.pattern)  # one file: its own error says what is wrong
        paths = [path for path in sorted(glob.glob(self.pattern)) if Path(path).is_file()]
        if not paths:
            raise DataValidationError(
                f"no training file matches {self.pattern!r}: put CSV or Parquet files with "
{%- if cookiecutter.data_source == "warehouse" %}
                f"columns {self.columns.text},{self.columns.label} there."
{%- else %}
                f"columns {self.columns.text},{self.columns.label} there, or set the "
                "training_files setting."
{%- endif %}
            )
        return pd.concat([self._training_file(path) for path in paths], ignore_index=True)

    def _training_file(self, path: str) -> pd.DataFrame:
        rows = read_table(path, strings=self.columns.strings)
        return self.columns.labeled(rows, f"{path}: training data")
{%- if cookiecutter.data_source != "warehouse" %}


def _fs(location: str):
    """The fsspec filesystem of a directory or URL, and the path inside it."""
    from fsspec.core import url_to_fs

    return url_to_fs(location)


def _data_files(location: str) -> list[str]:
    """Every CSV, Parquet or JSON Lines file under ``location``, sorted; hidden files skipped."""
    fs, root = _fs(location)
    if not fs.isdir(root):
        return []
    base = PurePosixPath(root)
    files = sorted(
        path
        for path in fs.find(root)
        if PurePosixPath(path).suffix.lower() in FORMATS
        # Hidden (".x", "_x") at any depth: an upload in progress, or a tool's own files.
        and not any(
            part.startswith((".", "_")) for part in PurePosixPath(path).relative_to(base).parts
        )
    )
    return [fs.unstrip_protocol(path) if is_url(location) else path for path in files]


def _stamp(fs, path: str) -> tuple[int | None, float | None, str | None]:
    """(size, modification time as a Unix time, ETag) of a file, as its filesystem knows them."""
    info = fs.info(path)
    modified = None
    for key in ("mtime", "LastModified", "updated", "last_modified", "created"):
        value = info.get(key)
        if isinstance(value, int | float):
            modified = float(value)
        elif isinstance(value, datetime):
            modified = value.timestamp()
        elif isinstance(value, str):
            try:
                modified = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
        if modified is not None:
            break
    return info.get("size"), modified, info.get("ETag") or info.get("etag")


def _unchanged_while_read(
    location: str, files: list[str], chunks: Iterator[pd.DataFrame]
) -> Iterator[pd.DataFrame]:
    """``chunks``, then a failure if a file changed or arrived while they were read.

    The failure comes before the snapshot is put in place (storage.parquet_stream),
    so a half-read batch is never scored.
    """
    fs, _ = _fs(location)
    before = [_stamp(fs, path) for path in files]
    yield from chunks
    if _data_files(location) != files or [_stamp(fs, path) for path in files] != before:
        raise DataValidationError(
            f"{location} changed while it was read: upload under a hidden name (.x or _x) "
            f"and rename when complete, or write {SUCCESS_MARKER} last; then rerun the date."
        )


@dataclass(frozen=True)
class FeedbackFiles:
    """True labels as files of ids and labels under one directory, in any number."""

    feedback_dir: str
    columns: Columns = field(default_factory=Columns)
    # The `labels` setting; rows with another label are skipped.
    labels: tuple[str, ...] = SAMPLE_LABELS

    def read_labels(self) -> pd.DataFrame:
        """Every label that has arrived, as ``id``, ``sentiment``; a later file wins.

        With ``ds`` too when some row names the date it labels (data/label_placement.py).
        """
        frames = [
            validate_labels(self.columns.labels(self._read(path), path), path, self.labels)
            for path in _data_files(self.feedback_dir)
        ]
        return label_placement.later_wins(frames, self.feedback_dir)

    def labels_location(self) -> str:
        return self.feedback_dir

    def _read(self, path: str) -> pd.DataFrame:
        return read_table(path, strings=self.columns.strings)
{%- if cookiecutter.data_source == "demo" %}


@dataclass(frozen=True)
class DemoSource(FeedbackFiles):
    """The bundled sample for training; batches are invented by steps/demo.py."""

    def training_location(self) -> str:
        return str(bundled_dataset_path())

    def read_training(self) -> pd.DataFrame:
        return read_table(bundled_dataset_path())

    def batch_location(self, day) -> str:
        return "the synthetic review generator (data/synthetic.py)"
{%- endif %}


@dataclass(frozen=True)
class FileSource(FeedbackFiles):
    """Training files matching a glob; batches and labels as files in directories."""

    pattern: str = ""
    incoming_dir: str = ""
    settle_seconds: int = 0

    def training_location(self) -> str:
        return self.pattern

    def read_training(self) -> pd.DataFrame:
        return TrainingFiles(self.pattern, self.columns).read_training()

    def batch_location(self, day) -> str:
        day = storage.as_date(day).isoformat()
        return f"{self.incoming_dir.rstrip('/')}/{storage.PARTITION_PREFIX}{day}"

    def batch_files(self, day) -> list[str]:
        return _data_files(self.batch_location(day))

    def read_batch(self, day, start: datetime, end: datetime) -> Iterator[pd.DataFrame] | None:
        """The day's files as chunks of ``id``, ``text``; None until they are complete.

        A file without an ``id`` column gets stable ids from its name and rows.
        """
        files = self.batch_files(day)
        if not files:
            return None
        waiting = self.still_written(day, files)
        if waiting:
            log.info("not read yet: %s", waiting)
            return None
        return _unchanged_while_read(self.batch_location(day), files, self._chunks(day, files))

    def still_written(self, day, files: list[str] | None = None) -> str | None:
        """Why the day's files may still be growing, or None once they are complete.

        Complete: the folder holds ``_SUCCESS``, or no file has changed for
        ``settle_seconds``. An object store shows an object only once its upload
        is whole; its modification time settles as a local file's does.
        """
        files = self.batch_files(day) if files is None else files
        location = self.batch_location(day)
        fs, root = _fs(location)
        if not files or self.settle_seconds == 0 or fs.exists(f"{root}/{SUCCESS_MARKER}"):
            return None
        changed = max((_stamp(fs, path)[1] or 0.0) for path in files)
        quiet = time.time() - changed
        if quiet >= self.settle_seconds:
            return None
        return (
            f"{location} changed {quiet:.0f} s ago: it is read once unchanged for "
            f"{self.settle_seconds} s (batch_settle_seconds), or once {SUCCESS_MARKER} is there"
        )

    def _chunks(self, day, files: list[str]) -> Iterator[pd.DataFrame]:
        for path in files:
            origin = f"{storage.as_date(day).isoformat()}/{PurePosixPath(path).name}"
            offset = 0
            text, id_ = self.columns.text, self.columns.id
            for chunk in read_chunks(path, READ_CHUNK_ROWS, strings=self.columns.strings):
                if text not in chunk.columns:
                    raise DataValidationError(
                        f"{path} has no '{text}' column (columns: {list(chunk.columns)}): "
                        f"a batch file needs '{text}' and may have '{id_}' "
                        "(the text_column and id_column settings)."
                    )
                batch = pd.DataFrame({TEXT: chunk[text]})
                if id_ in chunk.columns:
                    batch.insert(0, ID, chunk[id_])
                else:
                    ids = stable_ids(batch.reset_index(drop=True), origin, start=offset)
                    batch.insert(0, ID, ids.to_numpy())
                offset += len(batch)
                yield batch
{%- endif %}
{%- if cookiecutter.data_source == "demo" %}


Source = DemoSource | FileSource
{%- elif cookiecutter.data_source == "warehouse" %}


Source = WarehouseSource
{%- else %}


Source = FileSource
{%- endif %}


def source_for(settings: Settings) -> Source:
    """The configured data source."""
    data = settings.data
{%- if cookiecutter.data_source == "warehouse" %}
    return WarehouseSource(
        url=data.warehouse_url,
        training_table=data.training_table,
        batch_table=data.batch_table,
        timestamp_column=data.batch_timestamp_column,
        batch_query=data.batch_query,
        labels_table=data.labels_table,
        predictions_table=data.predictions_table,
        label_requests_table=data.label_requests_table,
        columns=Columns.of(settings),
        labels=settings.model.labels,
    )
{%- else %}
{%- if cookiecutter.data_source == "demo" %}
    if data.data_source == "demo":
        # The demo writes and reads its own invented files, in the pipeline's columns.
        return DemoSource(feedback_dir=data.feedback_dir, labels=settings.model.labels)
{%- endif %}
    return FileSource(
        feedback_dir=data.feedback_dir,
        columns=Columns.of(settings),
        labels=settings.model.labels,
        pattern=data.training_files,
        incoming_dir=data.incoming_dir,
        settle_seconds=data.batch_settle_seconds,
    )
{%- endif %}


def training_source(settings: Settings, training_path: Path | str | None = None):
    """Where training data is read: ``training_path`` if given, else the configured source."""
    if training_path is not None:
        return TrainingFiles(str(training_path), Columns.of(settings))
    return source_for(settings)


def placed_labels(settings: Settings) -> pd.DataFrame:
    """The arrived labels as ``ds``, ``id``, ``sentiment``, each on the one scored row it labels.

    The labels it cannot place are counted in one warning line (data/label_placement.py).
    """
    source = source_for(settings)
    labels = source.read_labels()
    scored = label_placement.scored_rows(settings.data.data_dir, labels[ID])
    placed, unused = label_placement.place(labels, scored)
    label_placement.report_unused(unused, source.labels_location())
    return placed


def read_feedback(settings: Settings) -> pd.DataFrame:
    """Scored batch rows whose true label has arrived, as labeled training rows.

    Joins the batch snapshots (exactly what was scored) with the source's labels.
    """
    labels = placed_labels(settings)
    frames = []
    for day, day_labels in labels.groupby(DS):
        snapshot = storage.partition_dir(settings.data.data_dir, storage.BATCHES, day)
        batch = pd.read_parquet(snapshot / storage.BATCH_FILE, columns=[ID, TEXT])
        frames.append(batch.astype({ID: "string"}).merge(day_labels, on=ID)[[TEXT, LABEL]])
    if not frames:
        return pd.DataFrame({TEXT: pd.Series(dtype="string"), LABEL: pd.Series(dtype="string")})
    return pd.concat(frames, ignore_index=True)
