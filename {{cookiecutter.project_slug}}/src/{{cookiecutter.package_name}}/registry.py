"""The MLflow side: tracking store, experiments, registry aliases and loading.

The registry is the hand-over between training and inference: inference loads
``models:/<name>@champion``, never a file path or "the latest version".
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow
import mlflow.artifacts
import mlflow.pyfunc
import mlflow.sklearn
import sklearn
from mlflow import MlflowClient
from mlflow.data.dataset_source import DatasetSource
from mlflow.data.dataset_source_registry import resolve_dataset_source
from mlflow.exceptions import MlflowException

from {{ cookiecutter.package_name }} import model_cache
from {{ cookiecutter.package_name }}.errors import (
    ChampionNotFoundError,
    ModelEnvironmentError,
    PipelineError,
    TrackingServerUnavailableError,
)
from {{ cookiecutter.package_name }}.settings import CHAMPION_ALIAS, ENV_PREFIX, PROJECT_SLUG, Settings

# Backends where this process writes artifacts itself; a tracking server
# (http/https) decides artifact locations on its own (artifact proxy).
_LOCAL_BACKENDS = ("sqlite:", "postgresql", "mysql", "mssql", "file:")
log = logging.getLogger(__name__)


def connect(settings: Settings) -> MlflowClient:
    """Point MLflow at the configured store and return a client for it."""
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.tracking_uri)
    return MlflowClient(tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri)


# How requests (under MLflow's client) says that nothing answered.
_UNREACHABLE = ("Max retries exceeded", "Connection refused", "Failed to establish")


@contextlib.contextmanager
def tracking_server_required(settings: Settings) -> Iterator[None]:
    """Turn "the tracking server did not answer" into one error that says what to do."""
    try:
        yield
    except (MlflowException, OSError) as error:
        if not any(marker in str(error) for marker in _UNREACHABLE):
            raise
        raise TrackingServerUnavailableError(
            f"the MLflow tracking server at {settings.tracking_uri} did not answer: start it "
            f"(`{PROJECT_SLUG} stack up`) or fix MLFLOW_TRACKING_URI. Airflow retries the task."
        ) from error


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


def check_sklearn_version(settings: Settings, model_uri: str) -> bool:
    """Whether the scikit-learn recorded with the model is the running one (major.minor).

    A mismatch raises ModelEnvironmentError, or with the "warn" policy logs and
    returns False.
    """
    requirements = Path(mlflow.pyfunc.get_model_dependencies(model_uri)).read_text()
    match = re.search(r"^scikit-learn==(\S+)", requirements, flags=re.MULTILINE)
    if match is None:
        return True
    recorded, running = match.group(1), sklearn.__version__
    if recorded.split(".")[:2] == running.split(".")[:2]:
        return True
    message = (
        f"{model_uri} was trained with scikit-learn {recorded} but this environment runs "
        f"scikit-learn {running}: install the locked environment (`uv sync --locked`) or retrain "
        f"(`{PROJECT_SLUG} train`); set {ENV_PREFIX}SKLEARN_VERSION_POLICY=warn to load it anyway."
    )
    if settings.sklearn_version_policy == "warn":
        log.warning(message)
        return False
    raise ModelEnvironmentError(message)


def load_version(settings: Settings, version: str) -> Any:
    """Load one registered version as a scikit-learn pipeline, after the version check."""
    client = connect(settings)
    return _load(settings, client.get_model_version(settings.registered_model_name, version))


def _load(settings: Settings, model_version: Any) -> Any:
    """The model of an MLflow ``ModelVersion``: from this host's cache, else the registry."""
    entry = None
    if settings.model_cache_dir:
        entry = model_cache.entry_path(Path(settings.model_cache_dir), model_version)
        model = model_cache.load(entry)
        if model is not None:
            return model
    uri = f"models:/{model_version.name}/{model_version.version}"
    matches = check_sklearn_version(settings, uri)
    model = mlflow.sklearn.load_model(uri)
    # A model allowed in by the "warn" policy is not cached: its warning
    # must come again on every load.
    if entry is not None and matches:
        model_cache.store(entry, model)
    return model


def load_champion(settings: Settings) -> Champion:
    """Load the champion as a scikit-learn pipeline (for ``predict_proba``)."""
    client = connect(settings)
    version = champion_version(client, settings)
    if version is None:
        raise ChampionNotFoundError(
            f"no model version of '{settings.registered_model_name}' has the alias "
            f"'{CHAMPION_ALIAS}' in {settings.tracking_uri}: run `{PROJECT_SLUG} train` first."
        )
    # Resolve the alias once, then load that exact version: a promotion
    # between the two calls cannot mix two models.
    model = _load(settings, version)
    return Champion(model=model, version=str(version.version), run_id=version.run_id)


def reference_profile(champion: Champion) -> dict | None:
    """The drift reference logged with the model's training run, if it has one."""
    try:
        return mlflow.artifacts.load_dict(f"runs:/{champion.run_id}/reference_profile.json")
    except (MlflowException, OSError):
        return None


def promotion_decision(
    challenger: float, champion: float | None, min_accuracy: float, min_improvement: float
) -> tuple[bool, str]:
    """The gate: reach ``min_accuracy`` and beat the champion by ``min_improvement``."""
    if challenger < min_accuracy:
        return False, f"hold-out accuracy {challenger:.4f} < min_accuracy {min_accuracy:.4f}"
    if champion is None:
        return (
            True,
            f"first model: hold-out accuracy {challenger:.4f} >= min_accuracy {min_accuracy:.4f}",
        )
    if challenger < champion + min_improvement:
        return False, (
            f"hold-out accuracy {challenger:.4f} does not beat the champion's {champion:.4f} "
            f"by min_improvement {min_improvement:.4f}"
        )
    return True, (
        f"hold-out accuracy {challenger:.4f} beats the champion's {champion:.4f} "
        f"by at least {min_improvement:.4f}"
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def promote(
    client: MlflowClient,
    settings: Settings,
    version: str,
    *,
    reason: str,
    actor: str,
    record_previous: bool = True,
) -> None:
    """Move the champion alias to ``version`` and record who, why and what it replaced."""
    name = settings.registered_model_name
    previous = champion_version(client, settings)
    tags = {
        "promotion": "promoted",
        "promotion_reason": reason,
        "promoted_by": actor,
        "promoted_at": _now(),
    }
    if previous is not None and str(previous.version) != str(version) and record_previous:
        tags["previous_champion"] = str(previous.version)
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
    client.set_registered_model_alias(name, CHAMPION_ALIAS, version)


def reject(
    client: MlflowClient,
    settings: Settings,
    version: str,
    *,
    reason: str,
    challenger: float,
    champion: float | None,
) -> None:
    """Leave the champion alone and tag the rejected version with the reason and both scores."""
    name = settings.registered_model_name
    tags = {
        "promotion": "rejected",
        "promotion_reason": reason,
        "challenger_holdout_accuracy": f"{challenger:.4f}",
        "champion_holdout_accuracy": "none" if champion is None else f"{champion:.4f}",
    }
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)


def rollback(client: MlflowClient, settings: Settings, *, reason: str, actor: str) -> str:
    """Give the champion alias back to the version the current champion replaced."""
    current = champion_version(client, settings)
    if current is None:
        raise ChampionNotFoundError(
            f"there is no champion to roll back: run `{PROJECT_SLUG} train`."
        )
    previous = current.tags.get("previous_champion")
    if not previous:
        raise PipelineError(
            f"version {current.version} records no earlier champion: "
            f"use `{PROJECT_SLUG} promote <version>` to choose one."
        )
    client.set_model_version_tag(
        settings.registered_model_name, str(current.version), "rolled_back_by", actor
    )
    promote(
        client,
        settings,
        previous,
        reason=f"rollback from version {current.version}: {reason}",
        actor=actor,
        record_previous=False,
    )
    return previous
