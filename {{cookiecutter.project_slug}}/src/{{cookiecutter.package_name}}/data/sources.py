"""Where labeled training data, inference batches and true labels come from.

- ``demo``: the sample reviews shipped with the package; steps/demo.py invents
  each day's batch and, days later, its labels.
- ``files``: training CSV/Parquet files matching a glob; the batch of date D
  is every file under ``<incoming_dir>/ds=D/``; labels are any files under
  ``<feedback_dir>/``. Local directories or fsspec URLs.
- ``warehouse``: tables of a SQL database reached by a SQLAlchemy URL. The
  pipeline never creates them: ``<slug> warehouse init`` does, on request.

Every source answers the same questions: the training data, the day's batch
(or None while it has not arrived), and the labels that have arrived so far,
in the pipeline's own columns. The ``files`` and ``warehouse`` sources read a
team's columns and label values as the settings name them (data/columns.py).
"""

from __future__ import annotations

import glob
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

import pandas as pd
import sqlalchemy as sa

from {{ cookiecutter.package_name }}.data import label_placement, storage
from {{ cookiecutter.package_name }}.data.columns import Columns
from {{ cookiecutter.package_name }}.data.readers import FORMATS, read_chunks, read_table
from {{ cookiecutter.package_name }}.data.schema import (
    DS,
    ID,
    LABEL,
    TEXT,
    bundled_dataset_path,
    stable_ids,
    validate_labels,
)
from {{ cookiecutter.package_name }}.errors import DataValidationError
from {{ cookiecutter.package_name }}.settings import DEMO_LABELS, Settings, is_url

log = logging.getLogger(__name__)
# Rows of a day's batch from the warehouse, or of one incoming file, at a time.
READ_CHUNK_ROWS = 50_000
# Written last by Spark, Hadoop and many exporters: the folder is complete.
SUCCESS_MARKER = "_SUCCESS"


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


def _later_wins(frames: list[pd.DataFrame], where: str) -> pd.DataFrame:
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


@dataclass(frozen=True)
class FeedbackFiles:
    """True labels as files of ids and labels under one directory, in any number."""

    feedback_dir: str
    columns: Columns = field(default_factory=Columns)
    # The `labels` setting; rows with another label are skipped.
    labels: tuple[str, ...] = DEMO_LABELS

    def read_labels(self) -> pd.DataFrame:
        """Every label that has arrived, as ``id``, ``sentiment``; a later file wins.

        With ``ds`` too when some row names the date it labels (data/label_placement.py).
        """
        frames = [
            validate_labels(self.columns.labels(self._read(path), path), path, self.labels)
            for path in _data_files(self.feedback_dir)
        ]
        return _later_wins(frames, self.feedback_dir)

    def labels_location(self) -> str:
        return self.feedback_dir

    def _read(self, path: str) -> pd.DataFrame:
        return read_table(path, strings=self.columns.strings)


@dataclass(frozen=True)
class DemoSource(FeedbackFiles):
    """The bundled sample for training; batches are invented by steps/demo.py."""

    def training_location(self) -> str:
        return str(bundled_dataset_path())

    def read_training(self) -> pd.DataFrame:
        return read_table(bundled_dataset_path())

    def batch_location(self, day) -> str:
        return "the synthetic review generator (data/synthetic.py)"


@dataclass(frozen=True)
class FileSource(FeedbackFiles):
    """Training files matching a glob; batches and labels as files in directories."""

    pattern: str = ""
    incoming_dir: str = ""
    settle_seconds: int = 0

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
                f"columns {self.columns.text},{self.columns.label} there, or set the "
                "training_files setting."
            )
        return pd.concat([self._training_file(path) for path in paths], ignore_index=True)

    def _training_file(self, path: str) -> pd.DataFrame:
        return self.columns.labeled(self._read(path), f"{path}: training data")

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


@dataclass(frozen=True)
class WarehouseSource:
    """Tables in a SQL database: training rows, batch rows, labels, and predictions out."""

    url: str
    training_table: str
    batch_table: str
    timestamp_column: str
    batch_query: str
    labels_table: str
    predictions_table: str
    columns: Columns = field(default_factory=Columns)
    labels: tuple[str, ...] = DEMO_LABELS

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.url)

    def _where(self, table: str) -> str:
        return f"{sa.make_url(self.url).render_as_string(hide_password=True)}#{table}"

    def _columns(self, engine: sa.Engine, table: str) -> set[str]:
        schema, _, name = table.rpartition(".")
        columns = sa.inspect(engine).get_columns(name, schema=schema or None)
        return {column["name"] for column in columns}

    def _require(self, engine: sa.Engine, table: str, **columns: str) -> None:
        """Fail in one line when a table or a column is missing: the pipeline never creates one.

        ``columns`` maps each column setting to the name it gives.
        """
        schema, _, name = table.rpartition(".")
        if not sa.inspect(engine).has_table(name, schema=schema or None):
            raise DataValidationError(
                f"table {table} does not exist in {self._where(table).split('#')[0]}: "
                "create it (`warehouse init` creates every table the pipeline uses)."
            )
        if not columns:
            return
        present = self._columns(engine, table)
        missing = {setting: column for setting, column in columns.items() if column not in present}
        if missing:
            raise DataValidationError(
                f"table {table} has no column "
                + ", ".join(f"{column} ({setting})" for setting, column in missing.items())
                + f" (columns: {', '.join(sorted(present))}): set the setting to the name it uses."
            )

    def training_location(self) -> str:
        return self._where(self.training_table)

    def read_training(self) -> pd.DataFrame:
        """The training table as ``text``, ``sentiment`` (labels mapped)."""
        engine = self.engine()
        text, label = self.columns.text, self.columns.label
        self._require(engine, self.training_table, text_column=text, label_column=label)
        query = sa.text(f"SELECT {text}, {label} FROM {self.training_table}")
        with engine.connect() as connection:
            rows = pd.read_sql_query(query, connection, dtype={text: "string", label: "string"})
        return self.columns.labeled(rows, self._where(self.training_table))

    def batch_location(self, day) -> str:
        return self._where("batch_query" if self.batch_query else self.batch_table)

    def _batch_sql(self) -> str:
        if self.batch_query:
            return self.batch_query
        column = self.timestamp_column
        return (
            f"SELECT {self.columns.id}, {self.columns.text} FROM {self.batch_table} "
            f"WHERE {column} >= :start AND {column} < :end"
        )

    def read_batch(self, day, start: datetime, end: datetime) -> Iterator[pd.DataFrame] | None:
        """The rows of the window as chunks of ``id``, ``text``; None while it has none."""
        engine = self.engine()
        if not self.batch_query:
            self._require(
                engine, self.batch_table, id_column=self.columns.id, text_column=self.columns.text
            )
        window = {"start": _naive(start), "end": _naive(end)}
        # One row says the batch has arrived: a COUNT would scan it.
        first_row = sa.text(f"SELECT 1 FROM ({self._batch_sql()}) AS batch LIMIT 1")
        with engine.connect() as connection:
            if connection.execute(first_row, window).first() is None:
                return None
        return self._chunks(engine, window)

    def _chunks(self, engine: sa.Engine, window: dict) -> Iterator[pd.DataFrame]:
        id_, text = self.columns.id, self.columns.text
        query = sa.text(f"SELECT * FROM ({self._batch_sql()}) AS batch ORDER BY {id_}")
        # A server-side cursor: the database sends rows as the chunks are read.
        with engine.connect().execution_options(stream_results=True) as connection:
            for chunk in pd.read_sql_query(
                query, connection, params=window, chunksize=READ_CHUNK_ROWS
            ):
                if id_ not in chunk.columns or text not in chunk.columns:
                    raise DataValidationError(
                        f"the batch from {self.batch_location(None)} has columns "
                        f"{list(chunk.columns)}: it needs '{id_}' (id_column) and "
                        f"'{text}' (text_column)."
                    )
                batch = pd.DataFrame({ID: chunk[id_], TEXT: chunk[text]})
                yield batch.astype({ID: "string"})

    def read_labels(self) -> pd.DataFrame:
        """The labels table as ``id``, ``sentiment`` (labels mapped, unknown ones skipped)."""
        engine = self.engine()
        id_, label = self.columns.id, self.columns.label
        self._require(engine, self.labels_table, id_column=id_, label_column=label)
        # A ds column, where the table has one, says which day's batch a label is for.
        dated = DS in self._columns(engine, self.labels_table)
        selected = [id_, label, DS] if dated else [id_, label]
        query = sa.text(f"SELECT {', '.join(selected)} FROM {self.labels_table}")
        with engine.connect() as connection:
            rows = pd.read_sql_query(query, connection, dtype=dict.fromkeys(selected, "string"))
        where = self._where(self.labels_table)
        validated = validate_labels(self.columns.labels(rows, where), where, self.labels)
        return _later_wins([validated], where)

    def labels_location(self) -> str:
        return self._where(self.labels_table)

    def predictions_location(self) -> str:
        return self._where(self.predictions_table)

    def write_predictions(self, day, predictions: pd.DataFrame) -> int:
        """Replace the predictions of ``day`` in the output table, in one transaction.

        ``predictions`` carries its ids under the team's ``id_column`` already.
        """
        day = storage.as_date(day).isoformat()
        engine = self.engine()
        self._require(engine, self.predictions_table)
        schema, _, name = self.predictions_table.rpartition(".")
        with engine.begin() as connection:
            connection.execute(
                sa.text(f"DELETE FROM {self.predictions_table} WHERE logical_date = :day"),
                {"day": day},
            )
            predictions.to_sql(
                name,
                connection,
                schema=schema or None,
                if_exists="append",
                index=False,
                chunksize=10_000,
            )
        return len(predictions)

    def init(self, *, with_sample_data: bool = False) -> dict:
        """Create the tables the pipeline uses where missing; optionally seed the training one.

        Only ``<slug> warehouse init`` calls this: the pipeline itself never
        creates or fills a table.
        """
        engine = self.engine()
        metadata = sa.MetaData()

        def table(qualified: str, *columns: sa.Column) -> sa.Table:
            schema, _, name = qualified.rpartition(".")
            return sa.Table(name, metadata, *columns, schema=schema or None)

        text, label, id_ = self.columns.text, self.columns.label, self.columns.id
        table(self.training_table, sa.Column(text, sa.Text), sa.Column(label, sa.String(32)))
        if not self.batch_query:
            table(
                self.batch_table,
                sa.Column(id_, sa.String(128), primary_key=True),
                sa.Column(text, sa.Text),
                sa.Column(self.timestamp_column, sa.DateTime, index=True, nullable=False),
            )
        table(
            self.labels_table,
            sa.Column(id_, sa.String(128), primary_key=True),
            sa.Column(label, sa.String(32), nullable=False),
        )
        table(
            self.predictions_table,
            sa.Column(id_, sa.String(128), nullable=False),
            sa.Column("prediction", sa.String(32), nullable=False),
            sa.Column("confidence", sa.Float, nullable=False),
            sa.Column("model_version", sa.String(32), nullable=False),
            sa.Column("logical_date", sa.String(10), index=True, nullable=False),
            sa.Column("run_id", sa.String(64), nullable=False),
        )
        existing = {name for name in metadata.tables if sa.inspect(engine).has_table(name)}
        metadata.create_all(engine)
        seeded = 0
        if with_sample_data:
            with engine.begin() as connection:
                rows = connection.execute(
                    sa.text(f"SELECT COUNT(*) FROM {self.training_table}")
                ).scalar()
                if rows == 0:
                    sample = read_table(bundled_dataset_path())[[TEXT, LABEL]].rename(
                        columns={TEXT: text, LABEL: label}
                    )
                    schema, _, name = self.training_table.rpartition(".")
                    sample.to_sql(
                        name, connection, schema=schema or None, if_exists="append", index=False
                    )
                    seeded = len(sample)
        return {
            "warehouse": self._where("").rstrip("#"),
            "created": sorted(set(metadata.tables) - existing),
            "already_there": sorted(existing),
            "training_rows_seeded": seeded,
        }


def _naive(moment: datetime) -> datetime:
    """UTC without a zone: how a TIMESTAMP WITHOUT TIME ZONE column compares it."""
    from datetime import UTC

    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


Source = DemoSource | FileSource | WarehouseSource


def source_for(settings: Settings) -> Source:
    """The configured data source."""
    data = settings.data
    if data.data_source == "files":
        return FileSource(
            feedback_dir=data.feedback_dir,
            columns=Columns.of(settings),
            labels=settings.model.labels,
            pattern=data.training_files,
            incoming_dir=data.incoming_dir,
            settle_seconds=data.batch_settle_seconds,
        )
    if data.data_source == "warehouse":
        return WarehouseSource(
            url=data.warehouse_url,
            training_table=data.training_table,
            batch_table=data.batch_table,
            timestamp_column=data.batch_timestamp_column,
            batch_query=data.batch_query,
            labels_table=data.labels_table,
            predictions_table=data.predictions_table,
            columns=Columns.of(settings),
            labels=settings.model.labels,
        )
    # The demo writes and reads its own invented files, in the pipeline's columns.
    return DemoSource(feedback_dir=data.feedback_dir, labels=settings.model.labels)


def training_source(settings: Settings, training_path: Path | str | None = None):
    """Where training data is read: ``training_path`` if given, else the configured source."""
    if training_path is not None:
        return FileSource(
            feedback_dir=settings.data.feedback_dir,
            columns=Columns.of(settings),
            labels=settings.model.labels,
            pattern=str(training_path),
        )
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
