"""The MLflow side: tracking store, experiments, registry aliases and loading.

The registry is the hand-over between training and inference: inference loads
``models:/<name>@champion``, never a file path or "the latest version".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mlflow
import mlflow.sklearn
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from {{ cookiecutter.package_name }}.errors import ChampionNotFoundError
from {{ cookiecutter.package_name }}.settings import CHAMPION_ALIAS, PROJECT_SLUG, Settings

# Backends where this process writes artifacts itself; a tracking server
# (http/https) decides artifact locations on its own (artifact proxy).
_LOCAL_BACKENDS = ("sqlite:", "postgresql", "mysql", "mssql", "file:")


def connect(settings: Settings) -> MlflowClient:
    """Point MLflow at the configured store and return a client for it."""
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.tracking_uri)
    return MlflowClient(tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri)


def ensure_experiment(client: MlflowClient, settings: Settings, name: str) -> str:
    """Return the id of experiment ``name``, creating it with a project-local artifact root."""
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.lifecycle_stage == "deleted":
            client.restore_experiment(experiment.experiment_id)
        return experiment.experiment_id
    location = None
    if settings.tracking_uri.startswith(_LOCAL_BACKENDS):
        # Without this MLflow writes artifacts to ./mlruns of whatever the cwd is.
        location = (settings.artifact_root / name).as_uri()
    return client.create_experiment(name, artifact_location=location)


def delete_runs_named(client: MlflowClient, experiment_id: str, run_name: str) -> int:
    """Delete earlier runs with this name, so a rerun of a logical date replaces its run."""
    runs = client.search_runs(
        [experiment_id], filter_string=f"attributes.run_name = '{run_name}'", max_results=100
    )
    for run in runs:
        client.delete_run(run.info.run_id)
    return len(runs)


@dataclass(frozen=True)
class Champion:
    """The model behind the champion alias and where it came from."""

    model: Any
    version: str
    run_id: str | None


def champion_version(client: MlflowClient, settings: Settings) -> Any | None:
    """The model version carrying the champion alias, or None."""
    try:
        return client.get_model_version_by_alias(settings.registered_model_name, CHAMPION_ALIAS)
    except MlflowException as error:
        if error.error_code in {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"}:
            return None
        raise


def load_champion(settings: Settings) -> Champion:
    """Load the champion as a scikit-learn pipeline (for ``predict_proba``)."""
    client = connect(settings)
    version = champion_version(client, settings)
    if version is None:
        raise ChampionNotFoundError(
            f"no model version of '{settings.registered_model_name}' has the alias "
            f"'{CHAMPION_ALIAS}' in {settings.tracking_uri}: run `{PROJECT_SLUG} train` first."
        )
    model = mlflow.sklearn.load_model(f"models:/{version.name}/{version.version}")
    return Champion(model=model, version=str(version.version), run_id=version.run_id)


def promote_if_qualified(
    client: MlflowClient, settings: Settings, version: str, test_accuracy: float
) -> tuple[bool, str]:
    """Give ``version`` the champion alias if it reaches ``min_accuracy``; say why either way."""
    name = settings.registered_model_name
    if test_accuracy >= settings.min_accuracy:
        client.set_registered_model_alias(name, CHAMPION_ALIAS, version)
        reason = f"test_accuracy {test_accuracy:.4f} >= min_accuracy {settings.min_accuracy:.4f}"
        client.set_model_version_tag(name, version, "promotion", "promoted")
        client.set_model_version_tag(name, version, "promotion_reason", reason)
        return True, reason
    reason = f"test_accuracy {test_accuracy:.4f} < min_accuracy {settings.min_accuracy:.4f}"
    client.set_model_version_tag(name, version, "promotion", "rejected")
    client.set_model_version_tag(name, version, "promotion_reason", reason)
    return False, reason
