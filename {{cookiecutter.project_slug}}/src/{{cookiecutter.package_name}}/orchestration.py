"""What the DAG files share: the retraining Asset and run identifiers.

Imports only the Airflow task SDK and the settings, so DAG parsing stays cheap.
"""

from __future__ import annotations

from airflow.sdk import Asset

from {{ cookiecutter.package_name }}.settings import PACKAGE_NAME, PROJECT_SLUG

BATCH_INFERENCE_DAG_ID = f"{PACKAGE_NAME}_batch_inference"
TRAINING_DAG_ID = f"{PACKAGE_NAME}_training"

# Monitoring emits an event on this Asset when quality drops; the training
# DAG is scheduled on it as well as on its own cron.
RETRAINING_REQUESTED = Asset(
    name=f"{PACKAGE_NAME}_retraining_requested",
    uri=f"{PROJECT_SLUG}://retraining-requested",
)


def run_tags(dag_run) -> dict[str, str]:
    """Airflow identifiers recorded on the MLflow runs and model versions a DAG run creates."""
    return {"dag_id": dag_run.dag_id, "dag_run_id": dag_run.run_id}
