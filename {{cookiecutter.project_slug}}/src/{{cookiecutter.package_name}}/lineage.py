"""From a predictions partition back to the model, its training run and its data."""

from __future__ import annotations

from datetime import date

import pandas as pd

from {{ cookiecutter.package_name }} import registry, storage
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.inference import PREDICTIONS_FILE, run_name
from {{ cookiecutter.package_name }}.settings import Settings

LINEAGE_TAGS = (
    "training_data_digest",
    "training_data_source",
    "git_commit",
    "dag_id",
    "dag_run_id",
    "logical_date",
    "promotion",
    "promotion_reason",
)


def trace_predictions(settings: Settings, day: date | str) -> dict:
    """The model versions behind a day's predictions, each with its training run and data."""
    day = storage.as_date(day)
    path = storage.partition_dir(settings.data_dir, storage.PREDICTIONS, day) / PREDICTIONS_FILE
    if not path.is_file():
        raise PipelineError(
            f"no predictions for {day} at {path}: run the batch-inference DAG first."
        )
    predictions = pd.read_parquet(path, columns=["model_version"])
    client = registry.connect(settings)
    models = []
    for version in sorted(predictions["model_version"].astype(str).unique()):
        model_version = client.get_model_version(settings.registered_model_name, version)
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
                ],
            }
        )
    experiment = client.get_experiment_by_name(settings.inference_experiment)
    runs = (
        client.search_runs(
            [experiment.experiment_id], f"attributes.run_name = '{run_name(day)}'", max_results=1
        )
        if experiment
        else []
    )
    return {
        "logical_date": day.isoformat(),
        "predictions": str(path),
        "rows": len(predictions),
        "inference_run_id": runs[0].info.run_id if runs else None,
        "models": models,
    }
