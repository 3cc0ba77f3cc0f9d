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
    PACKAGE_NAME,
    PROJECT_SLUG,
    Settings,
    load_settings,
    param_schema,
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


# Help in Airflow's trigger form for the text fields a run may set; the form
# checks every value with the field's type and bounds from settings.py.
_DESCRIPTIONS = {
{%- if cookiecutter.data_source == "demo" %}
    "drift_start": "YYYY-MM-DD or empty",
{%- endif %}
    "estimator_params": "name=value pairs such as C=3.5 (tune writes them); empty: the defaults",
}


def run_params(settings: Settings, *names: str) -> dict[str, Param]:
    """DAG params for these settings fields, defaulting to the project's values.

    Airflow's trigger form checks each against ``param_schema`` (the bounds in
    settings.py) before a run starts; ``run_settings`` then checks them together.
    """
    return {
        name: Param(settings.value(name), description=_DESCRIPTIONS.get(name), **param_schema(name))
        for name in names
    }


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
