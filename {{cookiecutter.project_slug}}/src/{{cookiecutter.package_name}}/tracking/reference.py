"""The reference evaluation set: labeled rows that new training data cannot change.

Every challenger and the champion are also scored on it, so a labeling bug
upstream (inverted, shifted or mixed-up classes) cannot pass the gate by
being both the training data and the hold-out. It starts as the first
champion's hold-out; ``<slug> model reference --data FILE --reason ...``
replaces it on purpose. Each version is the artifact of its own run in the
``<slug>-reference`` experiment, tagged with who set it, why and from what;
the registered model's tag ``reference_run_id`` names the one in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mlflow
import mlflow.artifacts
import mlflow.data
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from {{ cookiecutter.package_name }}.data.schema import LABEL, TEXT
from {{ cookiecutter.package_name }}.settings import PROJECT_SLUG, Settings
from {{ cookiecutter.package_name }}.tracking.client import ensure_experiment
from {{ cookiecutter.package_name }}.tracking.lineage import dataset_digest, dataset_source

REFERENCE_TAG = "reference_run_id"
ARTIFACT = "reference.parquet"
EXPERIMENT = f"{PROJECT_SLUG}-reference"


@dataclass(frozen=True)
class ReferenceSet:
    """The rows in force, and the run that records them."""

    run_id: str
    rows: pd.DataFrame


def current(client: MlflowClient, settings: Settings) -> ReferenceSet | None:
    """The reference set in force, or None before the first champion."""
    try:
        model = client.get_registered_model(settings.model.registered_model_name)
    except MlflowException as error:
        if error.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    run_id = model.tags.get(REFERENCE_TAG)
    if not run_id:
        return None
    # Downloaded once per run id: the artifact of a run never changes.
    cache = Path(settings.data.data_dir) / "reference" / run_id
    path = cache / ARTIFACT
    if not path.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=ARTIFACT, dst_path=str(cache)
        )
    return ReferenceSet(run_id=run_id, rows=pd.read_parquet(path))


def replace(
    client: MlflowClient,
    settings: Settings,
    rows: pd.DataFrame,
    *,
    source: str,
    reason: str,
    actor: str,
) -> str:
    """Record ``rows`` (``text``, ``sentiment``) as the reference set in force; its run id."""
    rows = rows[[TEXT, LABEL]].reset_index(drop=True)
    name = settings.model.registered_model_name
    try:
        client.get_registered_model(name)
    except MlflowException as error:
        if error.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        client.create_registered_model(name)
    previous = current(client, settings)
    experiment_id = ensure_experiment(client, settings, EXPERIMENT)
    digest = dataset_digest(rows)
    tags = {
        "reason": reason,
        "set_by": actor,
        "source": source,
        "digest": digest,
        "previous_reference_run_id": previous.run_id if previous else "none",
    }
    with mlflow.start_run(experiment_id=experiment_id, run_name="reference", tags=tags) as run:
        local = Path(settings.data.data_dir) / "reference" / run.info.run_id / ARTIFACT
        local.parent.mkdir(parents=True, exist_ok=True)
        rows.to_parquet(local, index=False)
        mlflow.log_artifact(str(local))
        mlflow.log_metric("rows", len(rows))
        dataset = mlflow.data.from_pandas(
            rows, source=dataset_source(source), name="reference-set", digest=digest
        )
        mlflow.log_input(dataset, context="reference")
    client.set_registered_model_tag(name, REFERENCE_TAG, run.info.run_id)
    return run.info.run_id
