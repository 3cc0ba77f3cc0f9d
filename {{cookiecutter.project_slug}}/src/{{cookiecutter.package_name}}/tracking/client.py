"""The connection to MLflow: tracking store, experiments, and a clear error when it is down."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from {{ cookiecutter.package_name }}.errors import TrackingServerUnavailableError
from {{ cookiecutter.package_name }}.redaction import redact
from {{ cookiecutter.package_name }}.settings import {% if cookiecutter.platform == "local" %}PROJECT_SLUG, {% endif %}Settings

# Backends where this process writes artifacts itself; a tracking server
# (http/https) decides artifact locations on its own (artifact proxy).
_LOCAL_BACKENDS = ("sqlite:", "postgresql", "mysql", "mssql", "file:")


def connect(settings: Settings) -> MlflowClient:
    """Point MLflow at the configured store and return a client for it."""
    mlflow.set_tracking_uri(settings.platform.tracking_uri)
    mlflow.set_registry_uri(settings.platform.tracking_uri)
    return MlflowClient(
        tracking_uri=settings.platform.tracking_uri, registry_uri=settings.platform.tracking_uri
    )


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
            f"the MLflow tracking server at {redact(settings.platform.tracking_uri)} "
            "did not answer: "
{%- if cookiecutter.platform == "local" %}
            f"start it (`{PROJECT_SLUG} stack up`) or fix MLFLOW_TRACKING_URI. "
{%- else %}
            "start it or fix MLFLOW_TRACKING_URI. "
{%- endif %}
            "Airflow retries the task."
        ) from error


def ensure_experiment(client: MlflowClient, settings: Settings, name: str) -> str:
    """Return the id of experiment ``name``, creating it with a project-local artifact root."""
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.lifecycle_stage == "deleted":
            client.restore_experiment(experiment.experiment_id)
        return experiment.experiment_id
    location = None
    if settings.platform.tracking_uri.startswith(_LOCAL_BACKENDS):
        # Without this MLflow writes artifacts to ./mlruns of whatever the cwd is.
        location = (settings.platform.artifact_root / name).as_uri()
    return client.create_experiment(name, artifact_location=location)
