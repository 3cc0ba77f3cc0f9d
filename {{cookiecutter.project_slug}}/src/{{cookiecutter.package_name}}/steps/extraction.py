"""The batch DAG's first task for real data: find the day's batch, snapshot it, validate it.

The snapshot (``<data_dir>/batches/ds=D/batch.parquet``) is what every later
task reads, so predictions, reruns and lineage refer to exactly what was
scored, even if the source changes afterwards. Bad rows go to the
partition's ``rejects.parquet`` with their reason; the rest go on.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.schema import BatchValidator
{%- if cookiecutter.data_source == "demo" %}
from {{ cookiecutter.package_name }}.data.sources import DemoSource, FileSource, source_for
from {{ cookiecutter.package_name }}.errors import DataValidationError, PipelineError
{%- elif cookiecutter.data_source == "warehouse" %}
from {{ cookiecutter.package_name }}.data.sources import source_for
from {{ cookiecutter.package_name }}.errors import DataValidationError
{%- else %}
from {{ cookiecutter.package_name }}.data.sources import FileSource, source_for
from {{ cookiecutter.package_name }}.errors import DataValidationError
{%- endif %}
from {{ cookiecutter.package_name }}.settings import Settings

log = logging.getLogger(__name__)


def batch_window(
    day: date | str, start: datetime | None = None, end: datetime | None = None
) -> tuple[datetime, datetime]:
    """The run's data interval; the logical day [D, D+1) UTC when that interval is empty.

    Manual runs and trigger timetables have an empty interval (start == end).
    """
    if start is not None and end is not None and end > start:
        return start, end
    midnight = datetime.combine(storage.as_date(day), time(), tzinfo=UTC)
    return midnight, midnight + timedelta(days=1)


def batch_location(settings: Settings, day: date | str) -> str:
    """Where the day's batch is looked for, for messages."""
    return source_for(settings).batch_location(day)


def not_ready(settings: Settings, day: date | str) -> str:
{%- if cookiecutter.data_source == "warehouse" %}
    """Why the day's batch cannot be read yet, and what to do."""
    source = source_for(settings)
{%- else %}
    """Why the day's batch cannot be read yet, and what to do: absent, or still being written."""
    source = source_for(settings)
    if isinstance(source, FileSource) and (writing := source.still_written(day)):
        return f"{writing}; run it again then."
{%- endif %}
    return f"no batch for {day} at {source.batch_location(day)}: put the day's data there first."


def extract_batch(
    settings: Settings,
    day: date | str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict | None:
    """Snapshot and validate the day's batch; None while it has not arrived.

    Fails when every row is rejected (the reasons are in the rejects file).
    """
    source = source_for(settings)
{%- if cookiecutter.data_source == "demo" %}
    if isinstance(source, DemoSource):
        raise PipelineError(
            "the demo invents its batches: run generate-data, or set data_source to files."
        )
{%- endif %}
    day = storage.as_date(day)
    window = batch_window(day, start, end)
    chunks = source.read_batch(day, *window)
    if chunks is None:
        return None
    partition = storage.partition_dir(settings.data.data_dir, storage.BATCHES, day)
    validator = BatchValidator()
    reasons: dict[str, int] = {}
    with (
        storage.parquet_stream(partition / storage.REJECTS_FILE) as rejects,
        storage.parquet_stream(partition / storage.BATCH_FILE) as snapshot,
    ):
        for chunk in chunks:
            valid, rejected = validator.split(chunk)
            if len(valid):
                snapshot.write(valid)
            if len(rejected):
                rejects.write(rejected)
                for reason, count in rejected["reason"].value_counts().items():
                    reasons[reason] = reasons.get(reason, 0) + int(count)
    location = source.batch_location(day)
    if rejects.rows:
        log.warning("%d rows of %s quarantined: %s", rejects.rows, location, reasons)
    if not snapshot.rows:
        raise DataValidationError(
            f"every row of the batch at {location} was rejected ({reasons}): "
            f"see {rejects.target}, fix the data and rerun {day}."
        )
    summary = {
        "logical_date": day.isoformat(),
        "source": location,
        "window": [moment.isoformat() for moment in window],
        "rows": snapshot.rows,
        "rejected_rows": rejects.rows,
        "rejected_by_reason": reasons,
        "path": str(snapshot.target),
    }
    storage.write_json(summary, partition / storage.SOURCE_FILE)
    return summary
