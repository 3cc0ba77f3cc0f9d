"""MLflow runs keyed by logical date: their names, and the one way to find or replace them."""

from __future__ import annotations

from datetime import date

from mlflow import MlflowClient

from {{ cookiecutter.package_name }}.data.storage import as_date

# The profile of "normal" logged with each model (monitoring/statistics.py builds it).
PROFILE_ARTIFACT = "reference_profile.json"
MONITORING_REPORT_ARTIFACT = "report.json"
INFERENCE = "batch-inference"
MONITORING = "monitoring"


def run_name(kind: str, day: date | str) -> str:
    """One run of each kind (INFERENCE, MONITORING) per logical date; the name is its key."""
    return f"{kind}-{as_date(day).isoformat()}"


def find_runs(
    client: MlflowClient, experiment_name: str, name: str, *, max_results: int = 1
) -> list:
    """The runs called ``name`` in an experiment, newest first (none if it does not exist)."""
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is None:
        return []
    return client.search_runs(
        [experiment.experiment_id],
        filter_string=f"attributes.run_name = '{name}'",
        order_by=["attributes.start_time DESC"],
        max_results=max_results,
    )


def find_run(client: MlflowClient, experiment_name: str, name: str):
    """The newest run called ``name``, or None."""
    runs = find_runs(client, experiment_name, name)
    return runs[0] if runs else None


def delete_runs_named(client: MlflowClient, experiment_name: str, name: str) -> int:
    """Delete earlier runs with this name, so a rerun of a logical date replaces its run."""
    runs = find_runs(client, experiment_name, name, max_results=100)
    for run in runs:
        client.delete_run(run.info.run_id)
    return len(runs)
