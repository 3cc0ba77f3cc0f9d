"""Batch inference: take the day's batch, score it with the champion, deliver the
predictions, monitor, clean up, summarise.

{%- if cookiecutter.data_source == "demo" %}
The first task depends on the data source: ``extract_batch`` waits for the
day's files (rescheduling itself between looks), snapshots and validates
them; the demo's ``generate_data`` invents them instead. Either ends by
cutting the snapshot into shards of at most ``shard_rows`` rows, with the
champion pinned.
{%- else %}
The first task, ``extract_batch``, waits for the day's {% if cookiecutter.data_source == "warehouse" %}warehouse rows{% else %}files{% endif %}
(rescheduling itself between looks), snapshots and validates them, and cuts
the snapshot into shards of at most ``shard_rows`` rows, with the champion
pinned.
{%- endif %} ``batch_predict`` is mapped over the shards (one task
each, on any worker; a failed one retries alone), and ``merge_shards`` puts
their parts in place and logs the day's one batch-inference run.
``request_labels`` then writes the day's labelling queue beside the predictions.

When monitoring finds drift or an accuracy drop, request_retraining emits the
"retraining requested" Asset event and the training DAG runs; otherwise it is
skipped.

While the challenger alias names another version than the champion, each
shard also scores with it, in the shadow: never published nor delivered,
compared by monitoring. With ``shadow_promotion_days`` set,
``promote_challenger`` promotes it once it has won that many labelled days.

Wiring only. Each task imports and calls one function of the package inside
its body, so parsing this file stays cheap (no scikit-learn, MLflow or pandas).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import PokeReturnValue, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

from {{ cookiecutter.package_name }}.orchestration import (
    BATCH_INFERENCE_DAG_ID,
    RETRAINING_REQUESTED,
    run_params,
    run_settings,
    run_tags,
    stop_waiting_after,
)
from {{ cookiecutter.package_name }}.settings import PROJECT_SLUG, load_settings

# Airflow renders this with its own Jinja; written in halves, because
# cookiecutter's Jinja rendered this file and leaves no braces behind.
SHARD_LABEL = "{" + "{ shard_label }" + "}"
SETTINGS = load_settings()
{%- if cookiecutter.data_source == "demo" %}
DEMO = SETTINGS.data.data_source == "demo"
# Settings a run can override from its config (thresholds, batch size, demo drift).
{%- else %}
# Settings a run can override from its config (thresholds, shards, retention).
{%- endif %}
RUN_PARAMS = run_params(
    SETTINGS,
{%- if cookiecutter.data_source == "demo" %}
    "batch_size",
{%- endif %}
    "shard_rows",
    "low_confidence_threshold",
    "high_confidence_threshold",
    "low_confidence_alert_pct",
    "monitoring_window_days",
    "drift_psi_threshold",
    "oov_increase_threshold",
    "class_shift_threshold",
    "retention_days",
{%- if cookiecutter.data_source == "demo" %}
    "drift_start",
{%- endif %}
    "label_requests_per_day",
    "shadow_promotion_days",
)


@dag(
    dag_id=BATCH_INFERENCE_DAG_ID,
    schedule=SETTINGS.platform.inference_schedule,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 2,
        "retry_delay": timedelta(seconds=SETTINGS.platform.retry_delay_seconds),
    },
    params=RUN_PARAMS,
    tags=[PROJECT_SLUG, "inference"],
    doc_md=__doc__,
)
def batch_inference():
{%- if cookiecutter.data_source == "demo" %}
    @task
    def generate_data(ds: str | None = None, params: dict | None = None) -> list[dict]:
        from {{ cookiecutter.package_name }}.steps.demo import generate_data as generate
        from {{ cookiecutter.package_name }}.steps.inference import plan_shards

        settings = run_settings(params)
        generate(settings, ds)
        return plan_shards(settings, ds)

{%- endif %}

    # Airflow's own timeout is a poke later than ours, so ours, which names
    # the place it looked, is the one that fires.
    @task.sensor(
        mode="reschedule",
        poke_interval=SETTINGS.data.batch_poke_seconds,
        timeout=SETTINGS.data.batch_wait_seconds + SETTINGS.data.batch_poke_seconds,
    )
    def extract_batch(
        ds: str | None = None,
        params: dict | None = None,
        data_interval_start=None,
        data_interval_end=None,
        ti=None,
    ) -> PokeReturnValue:
        from {{ cookiecutter.package_name }}.steps.extraction import batch_location
        from {{ cookiecutter.package_name }}.steps.extraction import extract_batch as extract

        settings = run_settings(params)
        batch = extract(settings, ds, start=data_interval_start, end=data_interval_end)
        if batch is None:
            stop_waiting_after(ti, settings.data.batch_wait_seconds, batch_location(settings, ds))
            return PokeReturnValue(is_done=False)
        # Imported once the batch is here: planning pins the champion (MLflow).
        from {{ cookiecutter.package_name }}.steps.inference import plan_shards

        return PokeReturnValue(is_done=True, xcom_value=plan_shards(settings, ds))

    # Mapped: one task per shard, listed in Airflow's UI under the shard's label.
    @task(map_index_template=SHARD_LABEL)
    def batch_predict(shard: dict, params: dict | None = None) -> dict:
        from {{ cookiecutter.package_name }}.steps.shards import predict_shard, shard_label

        get_current_context()["shard_label"] = shard_label(shard)
        return predict_shard(run_settings(params), shard)

    @task
    def merge_shards(shards: list[dict], params: dict | None = None, dag_run=None) -> dict:
        from {{ cookiecutter.package_name }}.steps.inference import merge_shards as merge

        return merge(run_settings(params), shards, tags=run_tags(dag_run))

    @task
    def request_labels(predictions: dict, params: dict | None = None) -> dict:
        from {{ cookiecutter.package_name }}.steps.label_requests import request_labels as request

        return request(run_settings(params), predictions["logical_date"])

    @task
    def monitor_model(predictions: dict, params: dict | None = None, dag_run=None) -> dict:
        from {{ cookiecutter.package_name }}.steps.monitoring import monitor

        return monitor(run_settings(params), predictions["logical_date"], tags=run_tags(dag_run))

    @task(outlets=[RETRAINING_REQUESTED])
    def request_retraining(monitoring: dict) -> dict:
        # Success emits the Asset event that schedules the training DAG; a skip does not.
        if not monitoring["retraining_requested"]:
            raise AirflowSkipException("no drift or accuracy alert: the champion stays")
        return {"kinds": sorted({alert["kind"] for alert in monitoring["alerts"]})}

    @task
    def promote_challenger(monitoring: dict, params: dict | None = None) -> dict:
        from {{ cookiecutter.package_name }}.steps.shadow import promote_proven_challenger

        settings = run_settings(params)
        if not settings.model.shadow_promotion_days:
            raise AirflowSkipException("shadow_promotion_days is 0: shadow promotion is off")
        return promote_proven_challenger(settings, monitoring["logical_date"])

    @task
    def publish_predictions(predictions: dict, params: dict | None = None) -> dict:
        from {{ cookiecutter.package_name }}.steps.publish import publish_predictions as publish

        settings = run_settings(params)
        return publish(settings, predictions["logical_date"], run_id=predictions["run_id"])

    @task
    def cleanup_old_artifacts(ds: str | None = None, params: dict | None = None) -> dict:
        from {{ cookiecutter.package_name }}.steps.cleanup import delete_old_partitions

        return delete_old_partitions(run_settings(params), ds, params["retention_days"])

    @task
    def generate_summary(monitoring: dict, params: dict | None = None) -> dict:
        from {{ cookiecutter.package_name }}.steps.summary import write_summary

        return write_summary(
            run_settings(params), monitoring["logical_date"], monitoring_run_id=monitoring["run_id"]
        )
{%- if cookiecutter.data_source == "demo" %}

    shards = generate_data() if DEMO else extract_batch()
    predictions = merge_shards(batch_predict.expand(shard=shards))
    if not DEMO:
        publish_predictions(predictions)
{%- else %}

    predictions = merge_shards(batch_predict.expand(shard=extract_batch()))
    publish_predictions(predictions)
{%- endif %}
    monitoring = monitor_model(predictions)
    # Monitoring reports the day's label coverage, its requests included.
    request_labels(predictions) >> monitoring
    monitoring >> cleanup_old_artifacts()
    generate_summary(monitoring)
    request_retraining(monitoring)
    promote_challenger(monitoring)


batch_inference()
