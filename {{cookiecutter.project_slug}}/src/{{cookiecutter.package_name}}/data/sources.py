"""Where labeled training data and inference batches come from.

- ``bundled``: the sample reviews shipped with the package; batches are
  synthetic and land in date partitions.
- ``files``: every CSV/Parquet file matching a path or glob; batches as above.
- ``warehouse``: a SQL database reached by a SQLAlchemy URL, with a table of
  labeled rows and a table of batch rows keyed by logical date.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.schema import LABEL, TEXT, bundled_dataset_path, read_table
from {{ cookiecutter.package_name }}.errors import DataValidationError
from {{ cookiecutter.package_name }}.settings import Settings

TRAINING_TABLE = "training_reviews"
BATCH_TABLE = "inference_batches"
LABELS_TABLE = "batch_labels"


@dataclass(frozen=True)
class PartitionBatches:
    """Batches as Parquet files in ``<data_dir>/batches/ds=<date>/``."""

    data_dir: Path

    def batch_location(self, day: date | str) -> str:
        return str(storage.partition_dir(self.data_dir, storage.BATCHES, day) / storage.BATCH_FILE)

    def write_batch(self, day: date | str, batch: pd.DataFrame) -> str:
        return str(storage.write_parquet(batch, Path(self.batch_location(day))))

    def open_batch(self, day: date | str, chunk_rows: int) -> Iterator[pd.DataFrame]:
        """The batch in chunks of at most ``chunk_rows`` rows, read as they are consumed."""
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(self._batch_file(day))
        return (chunk.to_pandas() for chunk in parquet.iter_batches(batch_size=chunk_rows))

    def _batch_file(self, day: date | str) -> Path:
        path = Path(self.batch_location(day))
        if not path.is_file():
            raise DataValidationError(f"no batch at {path}: run generate_data for {day} first.")
        return path

    def write_labels(self, day: date | str, labels: pd.DataFrame) -> None:
        path = storage.partition_dir(self.data_dir, storage.LABELS, day) / storage.LABELS_FILE
        storage.write_parquet(labels, path)

    def read_labels(self, day: date | str) -> pd.DataFrame | None:
        """True labels of the day's batch, or None while they have not arrived."""
        path = storage.partition_dir(self.data_dir, storage.LABELS, day) / storage.LABELS_FILE
        return pd.read_parquet(path) if path.is_file() else None

    def read_feedback(self) -> pd.DataFrame:
        """Every batch row whose true label has arrived, as labeled training rows."""
        frames = []
        for partition in sorted((self.data_dir / storage.LABELS).glob("ds=*")):
            day = storage.partition_day(partition)
            batch = Path(self.batch_location(day)) if day else None
            if (
                batch is not None
                and batch.is_file()
                and (partition / storage.LABELS_FILE).is_file()
            ):
                labels = pd.read_parquet(partition / storage.LABELS_FILE)
                frames.append(pd.read_parquet(batch).merge(labels, on="id")[[TEXT, LABEL]])
        if not frames:
            return pd.DataFrame(columns=[TEXT, LABEL])
        return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class BundledSource(PartitionBatches):
    def training_location(self) -> str:
        return str(bundled_dataset_path())

    def read_training(self) -> pd.DataFrame:
        return read_table(bundled_dataset_path())


@dataclass(frozen=True)
class FileSource(PartitionBatches):
    pattern: str = ""

    def training_location(self) -> str:
        return self.pattern

    def read_training(self) -> pd.DataFrame:
        paths = sorted(glob.glob(self.pattern)) if glob.has_magic(self.pattern) else [self.pattern]
        paths = [path for path in paths if Path(path).is_file()]
        if not paths:
            raise DataValidationError(
                f"no training file matches {self.pattern!r}: put CSV or Parquet files with "
                f"columns {TEXT},{LABEL} there, or set the training_files setting."
            )
        return pd.concat([read_table(path) for path in paths], ignore_index=True)


@dataclass(frozen=True)
class WarehouseSource:
    """A SQL database; on first use the training table is seeded with the sample data."""

    url: str

    def _engine(self) -> sa.Engine:
        return sa.create_engine(self.url)

    def ensure_tables(self, engine: sa.Engine) -> None:
        metadata = sa.MetaData()
        sa.Table(
            TRAINING_TABLE, metadata, sa.Column(TEXT, sa.Text), sa.Column(LABEL, sa.String(32))
        )
        sa.Table(
            BATCH_TABLE,
            metadata,
            sa.Column("logical_date", sa.String(10), index=True, nullable=False),
            sa.Column("id", sa.String(64), nullable=False),
            sa.Column(TEXT, sa.Text),
        )
        sa.Table(
            LABELS_TABLE,
            metadata,
            sa.Column("logical_date", sa.String(10), index=True, nullable=False),
            sa.Column("id", sa.String(64), nullable=False),
            sa.Column(LABEL, sa.String(32)),
        )
        metadata.create_all(engine)
        with engine.begin() as connection:
            count = connection.execute(sa.text(f"SELECT COUNT(*) FROM {TRAINING_TABLE}")).scalar()
            if count == 0:
                sample = read_table(bundled_dataset_path())
                sample.to_sql(TRAINING_TABLE, connection, if_exists="append", index=False)

    def training_location(self) -> str:
        return f"{sa.make_url(self.url).render_as_string(hide_password=True)}#{TRAINING_TABLE}"

    def read_training(self) -> pd.DataFrame:
        engine = self._engine()
        self.ensure_tables(engine)
        with engine.connect() as connection:
            return pd.read_sql_table(TRAINING_TABLE, connection)

    def batch_location(self, day: date | str) -> str:
        day = storage.as_date(day).isoformat()
        return f"{sa.make_url(self.url).render_as_string(hide_password=True)}#{BATCH_TABLE}@{day}"

    def _replace_day(self, table: str, day: date | str, rows: pd.DataFrame) -> None:
        """Replace the rows of ``day`` in one transaction, so a rerun leaves no duplicates."""
        day = storage.as_date(day).isoformat()
        engine = self._engine()
        self.ensure_tables(engine)
        with engine.begin() as connection:
            connection.execute(
                sa.text(f"DELETE FROM {table} WHERE logical_date = :day"), {"day": day}
            )
            rows.assign(logical_date=day).to_sql(
                table, connection, if_exists="append", index=False, chunksize=10_000
            )

    def write_batch(self, day: date | str, batch: pd.DataFrame) -> str:
        self._replace_day(BATCH_TABLE, day, batch)
        return self.batch_location(day)

    def write_labels(self, day: date | str, labels: pd.DataFrame) -> None:
        self._replace_day(LABELS_TABLE, day, labels)

    def read_feedback(self) -> pd.DataFrame:
        """Every batch row whose true label has arrived, as labeled training rows."""
        engine = self._engine()
        self.ensure_tables(engine)
        query = sa.text(
            f"SELECT b.{TEXT}, l.{LABEL} FROM {BATCH_TABLE} b JOIN {LABELS_TABLE} l "
            "ON b.logical_date = l.logical_date AND b.id = l.id"
        )
        with engine.connect() as connection:
            return pd.read_sql_query(query, connection)

    def read_labels(self, day: date | str) -> pd.DataFrame | None:
        day = storage.as_date(day).isoformat()
        engine = self._engine()
        self.ensure_tables(engine)
        query = sa.text(f"SELECT id, {LABEL} FROM {LABELS_TABLE} WHERE logical_date = :day")
        with engine.connect() as connection:
            labels = pd.read_sql_query(query, connection, params={"day": day})
        return None if labels.empty else labels

    def open_batch(self, day: date | str, chunk_rows: int) -> Iterator[pd.DataFrame]:
        """The batch in chunks of at most ``chunk_rows`` rows, fetched as they are consumed."""
        day = storage.as_date(day).isoformat()
        engine = self._engine()
        self.ensure_tables(engine)
        # One row is enough to know the batch exists: a COUNT would scan it.
        first_row = (
            sa.select(sa.literal(1))
            .select_from(sa.table(BATCH_TABLE))
            .where(sa.column("logical_date") == day)
            .limit(1)
        )
        with engine.connect() as connection:
            exists = connection.execute(first_row).first() is not None
        if not exists:
            raise DataValidationError(
                f"no rows for {day} in {self.batch_location(day)}: "
                f"run generate_data for {day} first."
            )
        return self._chunks(engine, day, chunk_rows)

    @staticmethod
    def _chunks(engine: sa.Engine, day: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
        query = sa.text(
            f"SELECT id, {TEXT} FROM {BATCH_TABLE} WHERE logical_date = :day ORDER BY id"
        )
        # A server-side cursor: the database sends rows as the chunks are read.
        with engine.connect().execution_options(stream_results=True) as connection:
            yield from pd.read_sql_query(
                query, connection, params={"day": day}, chunksize=chunk_rows
            )


Source = BundledSource | FileSource | WarehouseSource


def source_for(settings: Settings, training_path: Path | str | None = None) -> Source:
    """The configured source; ``training_path`` reads training data from that file instead."""
    if training_path is not None:
        return FileSource(data_dir=settings.data.data_dir, pattern=str(training_path))
    if settings.data.data_source == "files":
        return FileSource(data_dir=settings.data.data_dir, pattern=settings.data.training_files)
    if settings.data.data_source == "warehouse":
        return WarehouseSource(url=settings.data.warehouse_url)
    return BundledSource(data_dir=settings.data.data_dir)
