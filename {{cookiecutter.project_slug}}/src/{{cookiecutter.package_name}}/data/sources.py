"""Where labeled training data, inference batches and true labels come from.

- ``demo``: the sample reviews shipped with the package; steps/demo.py invents
  each day's batch and, days later, its labels.
- ``files``: training CSV/Parquet files matching a glob; the batch of date D
  is every file under ``<incoming_dir>/ds=D/``; labels are any files under
  ``<feedback_dir>/``. Local directories or fsspec URLs.
- ``warehouse``: tables of a SQL database reached by a SQLAlchemy URL. The
  pipeline never creates them: ``<slug> warehouse init`` does, on request.

Every source answers the same questions: the training data, the day's batch
(or None while it has not arrived), and the labels that have arrived so far.
"""

from __future__ import annotations

import glob
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

import pandas as pd
import sqlalchemy as sa

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.readers import FORMATS, read_chunks, read_table
from {{ cookiecutter.package_name }}.data.schema import (
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


@dataclass(frozen=True)
class FeedbackFiles:
    """True labels as files of ``id``, ``sentiment`` under one directory, in any number."""

    feedback_dir: str
    # The `labels` setting; rows with another label are skipped.
    labels: tuple[str, ...] = DEMO_LABELS

    def read_labels(self) -> pd.DataFrame:
        """Every label that has arrived; where two files label one id, the later file wins."""
        frames = [
            validate_labels(read_table(path), path, self.labels)
            for path in _data_files(self.feedback_dir)
        ]
        if not frames:
            return pd.DataFrame({ID: pd.Series(dtype="string"), LABEL: pd.Series(dtype="string")})
        labels = pd.concat(frames, ignore_index=True)
        return labels.drop_duplicates(ID, keep="last").reset_index(drop=True)


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

    def training_location(self) -> str:
        return self.pattern

    def read_training(self) -> pd.DataFrame:
        if not glob.has_magic(self.pattern):
            return read_table(self.pattern)  # one file: its own error says what is wrong
        paths = [path for path in sorted(glob.glob(self.pattern)) if Path(path).is_file()]
        if not paths:
            raise DataValidationError(
                f"no training file matches {self.pattern!r}: put CSV or Parquet files with "
                f"columns {TEXT},{LABEL} there, or set the training_files setting."
            )
        return pd.concat([read_table(path) for path in paths], ignore_index=True)

    def batch_location(self, day) -> str:
        day = storage.as_date(day).isoformat()
        return f"{self.incoming_dir.rstrip('/')}/{storage.PARTITION_PREFIX}{day}"

    def batch_files(self, day) -> list[str]:
        return _data_files(self.batch_location(day))

    def read_batch(self, day, start: datetime, end: datetime) -> Iterator[pd.DataFrame] | None:
        """The day's files as chunks of ``id``, ``text``; None while no file has arrived.

        A file without an ``id`` column gets stable ids from its name and rows.
        """
        files = self.batch_files(day)
        return self._chunks(day, files) if files else None

    def _chunks(self, day, files: list[str]) -> Iterator[pd.DataFrame]:
        for path in files:
            origin = f"{storage.as_date(day).isoformat()}/{PurePosixPath(path).name}"
            offset = 0
            for chunk in read_chunks(path, READ_CHUNK_ROWS):
                if TEXT not in chunk.columns:
                    raise DataValidationError(
                        f"{path} has no '{TEXT}' column (columns: {list(chunk.columns)}): "
                        f"a batch file needs '{TEXT}' and may have '{ID}'."
                    )
                if ID not in chunk.columns:
                    ids = stable_ids(chunk.reset_index(drop=True), origin, start=offset)
                    chunk = chunk.assign(**{ID: ids.to_numpy()})
                offset += len(chunk)
                yield chunk[[ID, TEXT]]


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
    labels: tuple[str, ...] = DEMO_LABELS

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.url)

    def _where(self, table: str) -> str:
        return f"{sa.make_url(self.url).render_as_string(hide_password=True)}#{table}"

    def _require(self, engine: sa.Engine, *tables: str) -> None:
        """Fail in one line when a table is missing: the pipeline never creates one itself."""
        inspector = sa.inspect(engine)
        for table in tables:
            schema, _, name = table.rpartition(".")
            if not inspector.has_table(name, schema=schema or None):
                raise DataValidationError(
                    f"table {table} does not exist in {self._where(table).split('#')[0]}: "
                    "create it (`warehouse init` creates every table the pipeline uses)."
                )

    def training_location(self) -> str:
        return self._where(self.training_table)

    def read_training(self) -> pd.DataFrame:
        engine = self.engine()
        self._require(engine, self.training_table)
        query = sa.text(f"SELECT {TEXT}, {LABEL} FROM {self.training_table}")
        with engine.connect() as connection:
            return pd.read_sql_query(query, connection, dtype={TEXT: "string", LABEL: "string"})

    def batch_location(self, day) -> str:
        return self._where("batch_query" if self.batch_query else self.batch_table)

    def _batch_sql(self) -> str:
        if self.batch_query:
            return self.batch_query
        column = self.timestamp_column
        return (
            f"SELECT {ID}, {TEXT} FROM {self.batch_table} "
            f"WHERE {column} >= :start AND {column} < :end"
        )

    def read_batch(self, day, start: datetime, end: datetime) -> Iterator[pd.DataFrame] | None:
        """The rows of the window as chunks of ``id``, ``text``; None while it has none."""
        engine = self.engine()
        if not self.batch_query:
            self._require(engine, self.batch_table)
        window = {"start": _naive(start), "end": _naive(end)}
        # One row says the batch has arrived: a COUNT would scan it.
        first_row = sa.text(f"SELECT 1 FROM ({self._batch_sql()}) AS batch LIMIT 1")
        with engine.connect() as connection:
            if connection.execute(first_row, window).first() is None:
                return None
        return self._chunks(engine, window)

    def _chunks(self, engine: sa.Engine, window: dict) -> Iterator[pd.DataFrame]:
        query = sa.text(f"SELECT * FROM ({self._batch_sql()}) AS batch ORDER BY {ID}")
        # A server-side cursor: the database sends rows as the chunks are read.
        with engine.connect().execution_options(stream_results=True) as connection:
            for chunk in pd.read_sql_query(
                query, connection, params=window, chunksize=READ_CHUNK_ROWS
            ):
                yield chunk[[ID, TEXT]].astype({ID: "string"})

    def read_labels(self) -> pd.DataFrame:
        engine = self.engine()
        self._require(engine, self.labels_table)
        query = sa.text(f"SELECT {ID}, {LABEL} FROM {self.labels_table}")
        with engine.connect() as connection:
            labels = pd.read_sql_query(query, connection, dtype={ID: "string", LABEL: "string"})
        return validate_labels(labels, self._where(self.labels_table), self.labels).drop_duplicates(
            ID, keep="last"
        )

    def predictions_location(self) -> str:
        return self._where(self.predictions_table)

    def write_predictions(self, day, predictions: pd.DataFrame) -> int:
        """Replace the predictions of ``day`` in the output table, in one transaction."""
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

        table(self.training_table, sa.Column(TEXT, sa.Text), sa.Column(LABEL, sa.String(32)))
        if not self.batch_query:
            table(
                self.batch_table,
                sa.Column(ID, sa.String(128), primary_key=True),
                sa.Column(TEXT, sa.Text),
                sa.Column(self.timestamp_column, sa.DateTime, index=True, nullable=False),
            )
        table(
            self.labels_table,
            sa.Column(ID, sa.String(128), primary_key=True),
            sa.Column(LABEL, sa.String(32), nullable=False),
        )
        table(
            self.predictions_table,
            sa.Column(ID, sa.String(128), nullable=False),
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
                    sample = read_table(bundled_dataset_path())[[TEXT, LABEL]]
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
            labels=settings.model.labels,
            pattern=data.training_files,
            incoming_dir=data.incoming_dir,
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
            labels=settings.model.labels,
        )
    return DemoSource(feedback_dir=data.feedback_dir, labels=settings.model.labels)


def training_source(settings: Settings, training_path: Path | str | None = None):
    """Where training data is read: ``training_path`` if given, else the configured source."""
    if training_path is not None:
        return FileSource(
            feedback_dir=settings.data.feedback_dir,
            labels=settings.model.labels,
            pattern=str(training_path),
        )
    return source_for(settings)


def read_feedback(settings: Settings) -> pd.DataFrame:
    """Scored batch rows whose true label has arrived, as labeled training rows.

    Joins the batch snapshots (exactly what was scored) with the source's labels.
    """
    labels = source_for(settings).read_labels()
    frames = []
    if len(labels):
        for partition in sorted((Path(settings.data.data_dir) / storage.BATCHES).glob("ds=*")):
            snapshot = partition / storage.BATCH_FILE
            if storage.partition_day(partition) and snapshot.is_file():
                batch = pd.read_parquet(snapshot, columns=[ID, TEXT])
                frames.append(batch.astype({ID: "string"}).merge(labels, on=ID)[[TEXT, LABEL]])
    if not frames:
        return pd.DataFrame({TEXT: pd.Series(dtype="string"), LABEL: pd.Series(dtype="string")})
    return pd.concat(frames, ignore_index=True)
