"""What the DAG files share: ids, the retraining Asset, run params and run identifiers.

Imports only the Airflow task SDK and the settings, so DAG parsing stays cheap.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from airflow.sdk import Asset, Param, get_current_context
from airflow.sdk.exceptions import AirflowFailException, AirflowSensorTimeout

from {{ cookiecutter.package_name }}.errors import PromotionRejectedError
from {{ cookiecutter.package_name }}.settings import (
    ESTIMATORS,
    PACKAGE_NAME,
    PROJECT_SLUG,
    Settings,
    load_settings,
)

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


# What Airflow's trigger form checks before a run starts, per settings field a
# run may override; Settings.with_overrides then checks the values together.
_PARAM_SCHEMAS: dict[str, dict] = {
    "batch_size": {"type": "integer", "minimum": 1},
    "shard_rows": {"type": "integer", "minimum": 1},
    "low_confidence_threshold": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    "high_confidence_threshold": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    "low_confidence_alert_pct": {"type": "number", "minimum": 0, "maximum": 100},
    "monitoring_window_days": {"type": "integer", "minimum": 2},
    "drift_psi_threshold": {"type": "number", "exclusiveMinimum": 0},
    "oov_increase_threshold": {"type": "number", "exclusiveMinimum": 0},
    "class_shift_threshold": {"type": "number", "exclusiveMinimum": 0},
    "retention_days": {"type": "integer", "minimum": 1},
    "drift_start": {"type": "string", "description": "YYYY-MM-DD or empty"},
    "estimator": {"type": "string", "enum": list(ESTIMATORS)},
    "estimator_params": {
        "type": "string",
        "description": "name=value pairs such as C=3.5 (tune writes them); empty: the defaults",
    },
    "max_features": {"type": "integer", "minimum": 1},
    "ngram_max": {"type": "integer", "minimum": 1, "maximum": 3},
    "min_accuracy": {"type": "number", "minimum": 0, "maximum": 1},
    "min_improvement": {"type": "number", "minimum": 0, "maximum": 1},
}


def run_params(settings: Settings, *names: str) -> dict[str, Param]:
    """DAG params for these settings fields, defaulting to the project's values."""
    return {name: Param(settings.value(name), **_PARAM_SCHEMAS[name]) for name in names}


def stop_waiting_after(ti, timeout_seconds: int, where: str) -> None:
    """Fail the sensor, naming where it looked, once it has waited ``timeout_seconds``.

    Airflow's own sensor timeout says only how long it waited; this one says
    where the data was expected. Counted from the first poke, across reschedules.
    """
    first_poke = ti.get_first_reschedule_date(get_current_context()) or ti.start_date
    waited = (datetime.now(UTC) - first_poke).total_seconds()
    if waited >= timeout_seconds:
        raise AirflowSensorTimeout(
            f"no batch arrived at {where} in {waited:.0f} s (batch_wait_seconds="
            f"{timeout_seconds}): put the day's data there, then clear this task to retry."
        )


@contextmanager
def no_retry_when_the_gate_refuses() -> Iterator[None]:
    """Fail the task at once when the gate refuses: a retry reads the same data again."""
    try:
        yield
    except PromotionRejectedError as error:
        raise AirflowFailException(str(error)) from None


def run_settings(params: dict) -> Settings:
    """The project's settings with a run's params, validated as the environment's are."""
    return load_settings().with_overrides(**params)
