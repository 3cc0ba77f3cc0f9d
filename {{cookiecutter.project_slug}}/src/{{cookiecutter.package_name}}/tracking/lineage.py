"""Lineage: where a run's data came from, and from a day's predictions back to the model.

Training and inference runs log their inputs as MLflow datasets whose source
names the file or table; model versions carry the Airflow run and data digest.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import pandas as pd
from mlflow.data.dataset_source import DatasetSource
from mlflow.data.dataset_source_registry import resolve_dataset_source

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.schema import LABEL, TEXT
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.settings import Settings
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


class SQLTableSource(DatasetSource):
    """A table (or a date's slice of one) in a SQL database, as a dataset source for lineage.

    MLflow ships no SQL source outside Databricks; this records where the rows
    came from (password hidden) so a run's inputs point at the warehouse.
    """

    def __init__(self, location: str) -> None:
        self.location = location

    @staticmethod
    def _get_source_type() -> str:
        return "sql_table"

    def load(self) -> Any:
        raise NotImplementedError("read the table through the project's warehouse source")

    @staticmethod
    def _can_resolve(raw_source: Any) -> bool:
        return False

    @classmethod
    def _resolve(cls, raw_source: Any) -> SQLTableSource:
        return cls(str(raw_source))

    def to_dict(self) -> dict[str, Any]:
        return {"location": self.location}

    @classmethod
    def from_dict(cls, source_dict: dict[Any, Any]) -> SQLTableSource:
        return cls(source_dict["location"])


def dataset_source(location: str) -> str | DatasetSource:
    """What to pass to ``mlflow.data.from_pandas(source=...)`` for a data source's location."""
    return location if "://" not in location else SQLTableSource(location)


def dataset_source_object(location: str) -> DatasetSource:
    """The same source as a DatasetSource, for datasets built without a DataFrame."""
    source = dataset_source(location)
    return source if isinstance(source, DatasetSource) else resolve_dataset_source(source)


def dataset_digest(frame: pd.DataFrame) -> str:
    """A content digest of every labeled row, independent of the file it came from."""
    hashed = pd.util.hash_pandas_object(frame[[TEXT, LABEL]], index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]
