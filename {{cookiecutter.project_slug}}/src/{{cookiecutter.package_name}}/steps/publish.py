"""Deliver the day's predictions to where the team reads them.
{% if cookiecutter.data_source == "warehouse" %}
The output table (``predictions_table``), the date's rows replaced in one
transaction.
{%- else %}
``<outgoing_dir>/ds=D/predictions.parquet``, replaced whole.
{%- endif %}
They carry the id (under the ``id_column`` setting's name, ``id`` by
default), ``prediction``, ``confidence``, ``model_version``,
``logical_date`` and ``run_id`` (the MLflow batch-inference run).
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.schema import ID
{%- if cookiecutter.data_source == "warehouse" %}
from {{ cookiecutter.package_name }}.data.sources import source_for
{%- else %}
from {{ cookiecutter.package_name }}.data.sources import FileSource, source_for
{%- endif %}
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.settings import Settings

OUTPUT_COLUMNS = [ID, "prediction", "confidence", "model_version"]


def published_predictions(settings: Settings, day: date | str, run_id: str) -> pd.DataFrame:
    """The day's predictions in the delivered schema."""
    partition = storage.partition_dir(settings.data.data_dir, storage.PREDICTIONS, day)
    frame = storage.read_parts(partition, OUTPUT_COLUMNS)
    if frame is None:
        raise PipelineError(f"no predictions in {partition}: run predict for {day} first.")
    return frame.astype({ID: "string", "prediction": "string", "model_version": "string"}).assign(
        logical_date=storage.as_date(day).isoformat(), run_id=run_id
    )


def publish_predictions(settings: Settings, day: date | str, *, run_id: str) -> dict:
    """Write the day's predictions to the source's output; a rerun replaces them."""
    source = source_for(settings)
    predictions = published_predictions(settings, day, run_id).rename(
        columns={ID: settings.data.id_column}
    )
{%- if cookiecutter.data_source == "warehouse" %}
    rows = source.write_predictions(day, predictions)
    location = source.predictions_location()
{%- else %}
    if isinstance(source, FileSource):
        location = storage.write_outgoing(
            settings.data.outgoing_dir,
            day,
            storage.PREDICTIONS_FILE,
            lambda target: predictions.to_parquet(target, index=False),
        )
        rows = len(predictions)
{%- if cookiecutter.data_source == "demo" %}
    else:
        raise PipelineError("the demo keeps its predictions in the data directory only.")
{%- endif %}
{%- endif %}
    return {"logical_date": storage.as_date(day).isoformat(), "rows": rows, "location": location}
