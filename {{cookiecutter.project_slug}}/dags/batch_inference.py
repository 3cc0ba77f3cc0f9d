"""Batch inference: generate a batch, score it with the champion, monitor, clean up, summarise.

Wiring only. Each task imports and calls one function of the package inside
its body, so parsing this file stays cheap (no scikit-learn, MLflow or pandas).
"""

from __future__ import annotations

import shlex
import sys
from datetime import UTC, datetime, timedelta

from airflow.sdk import Param, dag, task

from {{ cookiecutter.package_name }}.orchestration import BATCH_INFERENCE_DAG_ID, run_tags
from {{ cookiecutter.package_name }}.settings import PACKAGE_NAME, PROJECT_SLUG, load_settings

SETTINGS = load_settings()


@dag(
    dag_id=BATCH_INFERENCE_DAG_ID,
    schedule=SETTINGS.inference_schedule,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    params={
        "batch_size": Param(SETTINGS.batch_size, type="integer", minimum=1),
        "low_confidence_threshold": Param(
            SETTINGS.low_confidence_threshold, type="number", exclusiveMinimum=0, exclusiveMaximum=1
        ),
        "high_confidence_threshold": Param(
            SETTINGS.high_confidence_threshold,
            type="number",
            exclusiveMinimum=0,
            exclusiveMaximum=1,
        ),
        "low_confidence_alert_pct": Param(
            SETTINGS.low_confidence_alert_pct, type="number", minimum=0, maximum=100
        ),
        "monitoring_window_days": Param(SETTINGS.monitoring_window_days, type="integer", minimum=2),
        "retention_days": Param(SETTINGS.retention_days, type="integer", minimum=1),
    },
    tags=[PROJECT_SLUG, "inference"],
    doc_md=__doc__,
)
def batch_inference():
    @task
    def generate_data(ds: str | None = None, params: dict | None = None) -> dict:
        from {{ cookiecutter.package_name }}.data import generate_batch
        from {{ cookiecutter.package_name }}.sources import source_for

        settings = load_settings()
        return generate_batch(source_for(settings), ds, params["batch_size"], settings.random_seed)

    @task
    def batch_predict(batch: dict, params: dict | None = None, dag_run=None) -> dict:
        from {{ cookiecutter.package_name }}.inference import batch_predict as predict

        return predict(
            load_settings(),
            batch["logical_date"],
            low_confidence_threshold=params["low_confidence_threshold"],
            high_confidence_threshold=params["high_confidence_threshold"],
            tags=run_tags(dag_run),
        )

    @task
    def monitor_model(predictions: dict, params: dict | None = None, dag_run=None) -> dict:
        from {{ cookiecutter.package_name }}.monitoring import monitor

        return monitor(
            load_settings(),
            predictions["logical_date"],
            window_days=params["monitoring_window_days"],
            low_confidence_alert_pct=params["low_confidence_alert_pct"],
            tags=run_tags(dag_run),
        )

    @task.bash
    def cleanup_old_artifacts(ds: str | None = None, params: dict | None = None) -> str:
        # The worker's own interpreter, so the command finds this project's package.
        command = [sys.executable, "-m", PACKAGE_NAME, "cleanup", "--date", ds]
        return shlex.join([*command, "--retention-days", str(params["retention_days"])])

    @task
    def generate_summary(monitoring: dict) -> dict:
        from {{ cookiecutter.package_name }}.reporting import write_summary

        return write_summary(load_settings(), monitoring["logical_date"])

    monitoring = monitor_model(batch_predict(generate_data()))
    monitoring >> cleanup_old_artifacts()
    generate_summary(monitoring)


batch_inference()
