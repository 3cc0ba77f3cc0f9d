"""The ``warehouse`` source: tables of a SQL database reached by a SQLAlchemy URL.

Training rows, each day's batch rows (the rows of the data interval, or a
query of the team's), labels, and the predictions and label requests tables out. The pipeline
never creates a table: ``<slug> warehouse init`` does, on request.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from {{ cookiecutter.package_name }}.data import label_placement, storage
from {{ cookiecutter.package_name }}.data.columns import Columns
from {{ cookiecutter.package_name }}.data.readers import READ_CHUNK_ROWS, read_table
from {{ cookiecutter.package_name }}.data.schema import (
    DS,
    ID,
    LABEL,
    TEXT,
    bundled_dataset_path,
    validate_labels,
)
from {{ cookiecutter.package_name }}.errors import DataValidationError
from {{ cookiecutter.package_name }}.settings import SAMPLE_LABELS


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
    label_requests_table: str = "review_label_requests"
    columns: Columns = field(default_factory=Columns)
    labels: tuple[str, ...] = SAMPLE_LABELS

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
        return label_placement.later_wins([validated], where)

    def labels_location(self) -> str:
        return self._where(self.labels_table)

    def predictions_location(self) -> str:
        return self._where(self.predictions_table)

    def write_predictions(self, day, predictions: pd.DataFrame) -> int:
        """Replace the predictions of ``day`` in the output table, in one transaction.

        ``predictions`` carries its ids under the team's ``id_column`` already.
        """
        return self._replace_day(self.predictions_table, "logical_date", day, predictions)

    def label_requests_location(self) -> str:
        return self._where(self.label_requests_table)

    def write_label_requests(self, day, requests: pd.DataFrame) -> int:
        """Replace the label requests of ``day`` (its ``ds``) in their table, in one transaction.

        ``requests`` carries the team's id and text column names already.
        """
        return self._replace_day(self.label_requests_table, DS, day, requests)

    def _replace_day(self, table: str, day_column: str, day, rows: pd.DataFrame) -> int:
        """Delete ``table``'s rows of ``day`` and append ``rows``, in one transaction."""
        engine = self.engine()
        self._require(engine, table)
        schema, _, name = table.rpartition(".")
        with engine.begin() as connection:
            connection.execute(
                sa.text(f"DELETE FROM {table} WHERE {day_column} = :day"),
                {"day": storage.as_date(day).isoformat()},
            )
            rows.to_sql(
                name,
                connection,
                schema=schema or None,
                if_exists="append",
                index=False,
                chunksize=10_000,
            )
        return len(rows)

    def insert_batch(self, batch: pd.DataFrame, stamp: datetime) -> str:
        """Add ``batch`` (the team's id and text columns) to the batch table, stamped ``stamp``.

        Refuses ids already in the table on ``stamp``'s day: the ids of a
        day's batch are its own (another day may use them again).
        """
        if self.batch_query:
            raise DataValidationError(
                "batch_query is set: the batch is what that query returns, so add rows "
                "to the tables it reads yourself."
            )
        engine = self.engine()
        id_ = self.columns.id
        self._require(engine, self.batch_table, id_column=id_, text_column=self.columns.text)
        rows = batch.assign(**{self.timestamp_column: _naive(stamp)})
        schema, _, name = self.batch_table.rpartition(".")
        day = _naive(stamp).replace(hour=0, minute=0, second=0, microsecond=0)
        window = {"start": day, "end": day + timedelta(days=1), "ids": list(batch[id_])}
        with engine.begin() as connection:
            column = self.timestamp_column
            taken = sa.text(
                f"SELECT COUNT(*) FROM {self.batch_table} WHERE {id_} IN :ids "
                f"AND {column} >= :start AND {column} < :end"
            )
            ids = sa.bindparam("ids", expanding=True)
            if connection.execute(taken.bindparams(ids), window).scalar():
                raise DataValidationError(
                    f"{self._where(self.batch_table)} already holds rows with these ids: "
                    "the sample batch of this date is there."
                )
            rows.to_sql(name, connection, schema=schema or None, if_exists="append", index=False)
        return self.batch_location(None)

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
            # No key on the id alone: ids may repeat across days.
            table(
                self.batch_table,
                sa.Column(id_, sa.String(128), nullable=False, index=True),
                sa.Column(text, sa.Text),
                sa.Column(self.timestamp_column, sa.DateTime, index=True, nullable=False),
            )
        # ds: the day whose batch a label is for, as ids may repeat across days;
        # empty when the id is unique (data/label_placement.py).
        table(
            self.labels_table,
            sa.Column(id_, sa.String(128), nullable=False, index=True),
            sa.Column(label, sa.String(32), nullable=False),
            sa.Column(DS, sa.String(10), nullable=True),
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
        table(
            self.label_requests_table,
            sa.Column(DS, sa.String(10), primary_key=True),
            sa.Column(id_, sa.String(128), primary_key=True),
            sa.Column(text, sa.Text),
            sa.Column("prediction", sa.String(32), nullable=False),
            sa.Column("confidence", sa.Float, nullable=False),
            sa.Column("reason", sa.String(16), nullable=False),
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
