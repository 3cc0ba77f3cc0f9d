"""Continuous training: extract, validate, train a challenger, evaluate it, promote or reject.

Runs on its own schedule and whenever monitoring requests retraining (an
Asset event). A new version becomes champion only through the gate in
``decide``; otherwise the champion stays and the version is tagged with why.
Every version's training run holds its evaluation report; the challenger's
also holds ``evaluation/comparison.html``, champion and challenger side by
side with the gate's decision: ``promote_or_reject`` names it in its log and
returns its path and artifact URI (the task's XCom).
Wiring only: each task imports and calls one package function.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from {{ cookiecutter.package_name }}.orchestration import (
    RETRAINING_REQUESTED,
    TRAINING_DAG_ID,
    no_retry_when_the_gate_refuses,
    run_params,
    run_settings,
    run_tags,
)
from {{ cookiecutter.package_name }}.settings import PROJECT_SLUG, load_settings

SETTINGS = load_settings()


@dag(
    dag_id=TRAINING_DAG_ID,
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(SETTINGS.platform.retrain_schedule, timezone="UTC"),
        assets=[RETRAINING_REQUESTED],
    ),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=2)},
    # Per-run overrides of the model and the gate, e.g. to try a configuration.
    params=run_params(
        SETTINGS,
        "estimator",
        "estimator_params",
        "max_features",
        "ngram_max",
        "min_accuracy",
        "min_improvement",
    ),
    tags=[PROJECT_SLUG, "training"],
    doc_md=__doc__,
)
def training():
    @task
    def extract_training_data(ds: str | None = None, params: dict | None = None) -> dict:
        from {{ cookiecutter.package_name }}.steps.training import extract

        return extract(run_settings(params), ds)

    @task
    def validate_training_data(extracted: dict, params: dict | None = None) -> dict:
        from {{ cookiecutter.package_name }}.steps.training import validate

        return {
            **validate(
                run_settings(params),
                extracted["logical_date"],
                source=extracted["source"],
                refuse_unknown=True,
            ),
            "source": extracted["source"],
        }

    @task
    def train_challenger(validated: dict, params: dict | None = None, dag_run=None) -> dict:
        from {{ cookiecutter.package_name }}.steps.training import train_challenger as train

        with no_retry_when_the_gate_refuses():
            return train(
                run_settings(params),
                validated["logical_date"],
                source=validated["source"],
                tags=run_tags(dag_run),
            )

    @task
    def evaluate_challenger(
        trained: dict, ds: str | None = None, params: dict | None = None
    ) -> dict:
        from {{ cookiecutter.package_name }}.steps.training import evaluate

        return evaluate(run_settings(params), ds, trained["model_version"])

    @task
    def promote_or_reject(
        evaluation: dict, ds: str | None = None, params: dict | None = None, dag_run=None
    ) -> dict:
        from {{ cookiecutter.package_name }}.steps.training import decide

        return decide(run_settings(params), ds, evaluation, actor=f"airflow:{dag_run.run_id}")

    promote_or_reject(
        evaluate_challenger(train_challenger(validate_training_data(extract_training_data())))
    )


training()
