"""The MLflow side of batch inference: pin the champion, fetch its drift reference, log the run.

Each function imports MLflow when called, not this module: ``<slug> predict
--date`` scores in a process that never imports MLflow (about 2 s) and sends
these calls to a sidecar process (tracking/sidecar.py) that does, meanwhile.
The Airflow tasks ``plan_shards`` and ``merge_shards`` call them in-process.
"""

from __future__ import annotations

from datetime import date

from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.tracking.pinned import PinnedVersion

# On a day's run: the challenger version that scored the day in the shadow (unpublished).
SHADOW_VERSION_TAG = "shadow_version"


def prepare(settings: Settings) -> None:
    """Import what the calls below use and connect, so the first call is only its requests."""
    from {{ cookiecutter.package_name }}.tracking import lineage, registry  # noqa: F401
    from {{ cookiecutter.package_name }}.tracking.client import connect

    connect(settings)


def pin_champion(settings: Settings) -> PinnedVersion:
    """The version the champion alias names now, by value, for the day's shards to score with."""
    from {{ cookiecutter.package_name }}.tracking import registry
    from {{ cookiecutter.package_name }}.tracking.client import tracking_server_required

    with tracking_server_required(settings):
        return registry.pinned_champion(settings)


def pin_shadow(settings: Settings, champion: PinnedVersion) -> PinnedVersion | None:
    """The challenger the day's shards also score, unpublished, when it is not the champion."""
    from {{ cookiecutter.package_name }}.tracking import registry
    from {{ cookiecutter.package_name }}.tracking.client import tracking_server_required

    with tracking_server_required(settings):
        return registry.pinned_shadow(settings, champion.version)


def reference_profile(settings: Settings, pinned: PinnedVersion) -> dict | None:
    """The drift reference logged with the pinned version's training run, if it has one."""
    from {{ cookiecutter.package_name }}.tracking import registry
    from {{ cookiecutter.package_name }}.tracking.client import connect, tracking_server_required

    with tracking_server_required(settings):
        connect(settings)  # the artifact is read from the configured store, not MLflow's default
        champion = registry.Champion(model=None, version=pinned.version, run_id=pinned.run_id)
        return registry.reference_profile(champion)


def log_run(
    settings: Settings,
    day: date,
    *,
    pinned: PinnedVersion,
    params: dict[str, float],
    metrics: dict[str, float],
    source: str,
    digest: str,
    tags: dict[str, str] | None = None,
) -> str:
    """Log the day's batch-inference run in place of the day's earlier ones; return its id.

    ``source`` names where the batch came from, ``digest`` is its BatchDigest.
    """
    import mlflow
    from mlflow.data.meta_dataset import MetaDataset

    from {{ cookiecutter.package_name }}.tracking import runs
    from {{ cookiecutter.package_name }}.tracking.client import (
        connect,
        ensure_experiment,
        tracking_server_required,
    )
    from {{ cookiecutter.package_name }}.tracking.lineage import dataset_source

    with tracking_server_required(settings):
        client = connect(settings)
        experiment_id = ensure_experiment(client, settings, settings.inference_experiment)
        name = runs.run_name(runs.INFERENCE, day)
        runs.delete_runs_named(client, settings.inference_experiment, name)
        run_tags = {
            **(tags or {}),
            "logical_date": day.isoformat(),
            "model_version": pinned.version,
            "model_run_id": pinned.run_id or "",
        }
        with mlflow.start_run(experiment_id=experiment_id, run_name=name, tags=run_tags) as run:
            mlflow.log_params(params)
            mlflow.log_metrics(metrics)
            # Digested shard by shard as the chunks went by: the batch is never
            # whole in memory to hand to mlflow.data.from_pandas.
            dataset = MetaDataset(
                dataset_source(source), name=f"batch-{day.isoformat()}", digest=digest
            )
            mlflow.log_input(dataset, context="inference")
        return run.info.run_id
