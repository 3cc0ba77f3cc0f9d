"""Lineage: where a run's data came from, and from a day's predictions back to the model.

Training and inference runs log their inputs as MLflow datasets whose source
names the file or table; model versions carry the Airflow run and data digest.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import pandas as pd
{%- if cookiecutter.data_source == "warehouse" %}
from fsspec import available_protocols
{%- endif %}
from mlflow.data.dataset_source import DatasetSource
from mlflow.data.dataset_source_registry import resolve_dataset_source
from mlflow.exceptions import MlflowException

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.schema import LABEL, TEXT
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.settings import Settings{% if cookiecutter.data_source == "warehouse" %}, is_url{% endif %}
from {{ cookiecutter.package_name }}.tracking.client import connect
from {{ cookiecutter.package_name }}.tracking.runs import INFERENCE, find_run, run_name

# The tag of a run's dataset input that says what the run used it for.
CONTEXT_TAG = "mlflow.data.context"
LINEAGE_TAGS = (
    "training_data_digest",
    "training_data_source",
    "git_commit",
    "dag_id",
    "dag_run_id",
    "logical_date",
    "promotion",
    "promotion_reason",
    "gate_refused_reason",
)


def trace_predictions(settings: Settings, day: date | str) -> dict:
    """The model versions behind a day's predictions, each with its training run and data."""
    day = storage.as_date(day)
    partition = storage.partition_dir(settings.data.data_dir, storage.PREDICTIONS, day)
    predictions = storage.read_parts(partition, ["model_version"])
    if predictions is None:
        raise PipelineError(
            f"no predictions for {day} in {partition}: run the batch-inference DAG first."
        )
    client = connect(settings)
    models = []
    for version in sorted(predictions["model_version"].astype(str).unique()):
        model_version = client.get_model_version(settings.model.registered_model_name, version)
        training_run = client.get_run(model_version.run_id)
        models.append(
            {
                "model_version": version,
                "training_run_id": model_version.run_id,
                "tags": {
                    key: model_version.tags[key]
                    for key in LINEAGE_TAGS
                    if key in model_version.tags
                },
                "training_datasets": [
                    {
                        "name": item.dataset.name,
                        "digest": item.dataset.digest,
                        "source": item.dataset.source,
                    }
                    for item in training_run.inputs.dataset_inputs
                    # The run also records the hold-out MLflow's evaluator scored.
                    if {tag.key: tag.value for tag in item.tags}.get(CONTEXT_TAG) == "training"
                ],
            }
        )
    run = find_run(client, settings.inference_experiment, run_name(INFERENCE, day))
    return {
        "logical_date": day.isoformat(),
        "predictions": str(partition),
        "rows": len(predictions),
        "inference_run_id": run.info.run_id if run else None,
        "models": models,
    }


class LocationSource(DatasetSource):
    """Where rows came from when MLflow has no source type for the place: the location only.

    Never loaded back: the project's own source reads it.
    """

    def __init__(self, location: str) -> None:
        self.location = location

    def load(self) -> Any:
        raise NotImplementedError("read it through the project's data source")

    @staticmethod
    def _can_resolve(raw_source: Any) -> bool:
        return False

    @classmethod
    def _resolve(cls, raw_source: Any) -> LocationSource:
        return cls(str(raw_source))

    def to_dict(self) -> dict[str, Any]:
        return {"location": self.location}

    @classmethod
    def from_dict(cls, source_dict: dict[Any, Any]) -> LocationSource:
        return cls(source_dict["location"])


class FileLocationSource(LocationSource):
    """Files under an fsspec URL MLflow does not resolve (memory://, az://...)."""

    @staticmethod
    def _get_source_type() -> str:
        return "files"
{%- if cookiecutter.data_source == "warehouse" %}


class SQLTableSource(LocationSource):
    """A table (or a date's slice of one) in a SQL database, password hidden.

    MLflow ships no SQL source outside Databricks.
    """

    @staticmethod
    def _get_source_type() -> str:
        return "sql_table"
{%- endif %}


def dataset_source(location: str) -> DatasetSource:
    """The dataset source of a data source's location, for ``mlflow.data`` datasets.

    A path, or a URL of a store MLflow knows (s3://, gs://...), as MLflow records
    it; files under another fsspec URL as a FileLocationSource.
{%- if cookiecutter.data_source == "warehouse" %}
    A location whose scheme is no filesystem's (sqlite://, postgresql+psycopg://)
    is a warehouse table: a SQLTableSource.
{%- endif %}
    """
{%- if cookiecutter.data_source == "warehouse" %}
    if is_url(location) and location.split("://", 1)[0] not in available_protocols():
        return SQLTableSource(location)
{%- endif %}
    try:
        return resolve_dataset_source(location)
    except MlflowException:
        return FileLocationSource(location)


def dataset_digest(frame: pd.DataFrame) -> str:
    """A content digest of every labeled row, independent of the file it came from."""
    hashed = pd.util.hash_pandas_object(frame[[TEXT, LABEL]], index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]
