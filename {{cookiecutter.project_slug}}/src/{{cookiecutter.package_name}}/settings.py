"""The one place that reads configuration, grouped by concern.

Defaults are the answers given when the project was generated. Each field can
be overridden by the ``[settings]`` table of ``tuned.toml`` (``<slug> tune``
writes it), then by an environment variable named ``{{ cookiecutter.package_name.upper() }}_<FIELD>``
(for example ``{{ cookiecutter.package_name.upper() }}_RETENTION_DAYS=60``), and per DAG run
through ``Settings.with_overrides``. The tracking store also honours MLflow's
own ``MLFLOW_TRACKING_URI``, and Airflow honours ``AIRFLOW_HOME`` and ``AIRFLOW__*``.
``label_map`` is a table of its own in the file (``[settings.label_map]``) and
a JSON object in its variable.

Standard library only: DAG files import this at parse time.
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from {{ cookiecutter.package_name }}.errors import SettingsError
from {{ cookiecutter.package_name }}.redaction import redact

PROJECT_SLUG = "{{ cookiecutter.project_slug }}"
PACKAGE_NAME = "{{ cookiecutter.package_name }}"
ENV_PREFIX = "{{ cookiecutter.package_name.upper() }}_"
# The labels the project was generated with; the `labels` setting starts as these.
DEFAULT_LABELS = (
{%- for label in cookiecutter.labels.split(',') %}
    "{{ label | trim | lower }}",
{%- endfor %}
)
# The bundled sample reviews{% if cookiecutter.data_source == "demo" %} and the demo's invented batches{% endif %} know these two labels only.
SAMPLE_LABELS = ("negative", "positive")
# A label: a plain lowercase token (labels in data are matched case-insensitively).
LABEL_PATTERN = r"[a-z0-9][a-z0-9_-]{0,31}"
MAX_LABELS = 20
# The names in model/estimators.py (a test keeps the two lists equal).
ESTIMATORS = ("logistic_regression", "linear_svc", "complement_nb", "sgd")
{%- if cookiecutter.data_source == "demo" %}
# "demo" invents batches and late labels; "files" reads what a team really has.
DATA_SOURCES = ("demo", "files")
{%- elif cookiecutter.data_source == "warehouse" %}
DATA_SOURCES = ("warehouse",)
{%- else %}
DATA_SOURCES = ("files",)
{%- endif %}
{%- if cookiecutter.platform == "local" %}
{%- if cookiecutter.executor == "celery" %}
EXECUTORS = ("local", "celery")
{%- endif %}
PROFILES = ("local", "production")
{%- endif %}
VERSION_POLICIES = ("error", "warn")
SCHEDULE_PRESETS = ("@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly")
CHAMPION_ALIAS = "champion"
CHALLENGER_ALIAS = "challenger"
{%- if cookiecutter.data_source == "warehouse" %}
# Names spliced into SQL: checked, so a setting cannot inject a statement.
SQL_IDENTIFIERS = (
    "training_table",
    "batch_table",
    "batch_timestamp_column",
    "labels_table",
    "predictions_table",
    "label_requests_table",
)
{%- endif %}
{%- if cookiecutter.data_source != "warehouse" %}
# Places that may be a local directory or an fsspec URL such as s3://bucket/prefix.
LOCATION_FIELDS = ("incoming_dir", "feedback_dir", "outgoing_dir")
{%- endif %}
# Where the team's files and tables keep the texts, labels and ids.
COLUMN_FIELDS = ("text_column", "label_column", "id_column")
# Columns the pipeline adds to what it writes out: no team column may be named so.
OUTPUT_COLUMNS = ("prediction", "confidence", "model_version", "logical_date", "run_id")
LABEL_MAP_EXAMPLE = '{"1": "negative"}'
# A whole number written with a zero fraction, as a float column of star ratings reads.
LABEL_NUMBER = r"^([+-]?\d+)\.0*$"
_TRUE, _FALSE = {"1", "true", "yes"}, {"0", "false", "no"}
# Inclusive bounds of the numeric settings. The upper ones catch a typo (an
# extra zero, a pasted id) before it costs a machine or a week. These, OPEN_BOUNDS
# and CHOICES are the one statement of each limit: the DAG params' form checks
# (param_schema) and the CLI's options that set a field are derived from them.
BOUNDS: dict[str, tuple[float, float]] = {
    "max_features": (1, 10_000_000),
    "ngram_max": (1, 3),
    "random_seed": (0, 2**32 - 1),
    "min_training_rows": (1, 100_000_000),
    "reference_tolerance": (0, 1),
    "label_agreement_tolerance": (0, 1),
{%- if cookiecutter.data_source == "demo" %}
    "batch_size": (1, 10_000_000),
{%- endif %}
    "retention_days": (1, 3650),
{%- if cookiecutter.data_source == "demo" %}
    "label_delay_days": (0, 365),
{%- endif %}
    "batch_poke_seconds": (1, 86_400),
    "batch_wait_seconds": (1, 7 * 86_400),
{%- if cookiecutter.data_source != "warehouse" %}
    "batch_settle_seconds": (0, 86_400),
{%- endif %}
    "min_labeled_rows": (1, 10_000_000),
    "label_requests_per_day": (0, 10_000_000),
    "label_random_share": (0, 1),
    "inference_chunk_rows": (1, 10_000_000),
    "inference_workers": (0, 256),
    "shard_rows": (1, 1_000_000_000),
    "monitoring_window_days": (2, 365),
    "webhook_timeout_seconds": (0.001, 300),
    "retry_delay_seconds": (1, 86_400),
{%- if cookiecutter.platform == "local" and cookiecutter.executor == "celery" %}
    "celery_workers": (1, 64),
{%- endif %}
{%- if cookiecutter.serving == "http" %}
    "serve_header_timeout_seconds": (0.1, 3600),
    "serve_body_timeout_seconds": (0.1, 3600),
    "serve_keep_alive_seconds": (1, 3600),
    "serve_max_connections": (1, 1_000_000),
    # At least one body of the largest size /predict takes (16 MiB).
    "serve_inflight_body_mib": (16, 1_048_576),
    "serve_inflight_wait_seconds": (0, 3600),
{%- endif %}
    "low_confidence_alert_pct": (0, 100),
    "min_accuracy": (0, 1),
    "min_improvement": (0, 1),
    "shadow_promotion_days": (0, 365),
}
# Exclusive bounds: a value strictly above the first, below the second (None: unbounded).
OPEN_BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "low_confidence_threshold": (0, 1),
    "high_confidence_threshold": (0, 1),
    "drift_psi_threshold": (0, None),
    "oov_increase_threshold": (0, None),
    "class_shift_threshold": (0, None),
}
# Settings that take one of a few names.
CHOICES: dict[str, tuple[str, ...]] = {
    "estimator": ESTIMATORS,
    "data_source": DATA_SOURCES,
    "sklearn_version_policy": VERSION_POLICIES,
{%- if cookiecutter.platform == "local" %}
{%- if cookiecutter.executor == "celery" %}
    "executor": EXECUTORS,
{%- endif %}
    "profile": PROFILES,
{%- endif %}
}


@dataclass(frozen=True)
class ModelSettings:
    """What is trained, and what it must score to become the champion."""

    estimator: str = "{{ cookiecutter.model }}"
    # The classes: training keeps rows with these labels and needs rows of each,
    # and the daily summary lists them in this order. A comma list in the
    # environment, e.g. {{ cookiecutter.package_name.upper() }}_LABELS=negative,neutral,positive.
    labels: tuple[str, ...] = DEFAULT_LABELS
    max_features: int = {{ cookiecutter.max_features | int }}
    ngram_max: int = {{ cookiecutter.ngram_max | int }}
    # Hyperparameters of the estimator as name=value pairs, e.g. "C=3.5";
    # empty: the defaults in model/estimators.py. `tune` writes them.
    estimator_params: str = ""
    # MLflow's classifier evaluator on each new version's hold-out (its PNG
    # ROC, precision-recall and confusion plots cost about 2 s a training).
    mlflow_evaluator: bool = True
    random_seed: int = 42
    registered_model_name: str = "{{ cookiecutter.registered_model_name }}"
    min_accuracy: float = {{ cookiecutter.min_accuracy | float }}
    min_improvement: float = {{ cookiecutter.min_improvement | float }}
    min_training_rows: int = 100
    # Promote the challenger once it has beaten the champion on the unbiased
    # labels (the labelling queue's random part) of this many labelled days
    # in a row while scoring in the shadow (docs/monitoring.md); 0: off.
    shadow_promotion_days: int = 0
    # The reference evaluation set (tracking/reference.py): a challenger more
    # than reference_tolerance below the champion's accuracy on it is refused,
    # and training stops before registering when the champion scores more than
    # label_agreement_tolerance below its reference accuracy on the new data's
    # hold-out: the new labels disagree with the reference.
    reference_tolerance: float = 0.02
    label_agreement_tolerance: float = 0.25
    # What to do when the champion was trained with another scikit-learn
    # minor version than the one running: refuse ("error") or log ("warn").
    sklearn_version_policy: str = "error"


@dataclass(frozen=True)
class DataSettings:
    """Where data comes from, where partitions go, and how batches are read."""

    data_dir: Path = Path("data")
    data_source: str = "{{ cookiecutter.data_source }}"
{%- if cookiecutter.data_source != "warehouse" %}
{%- if cookiecutter.data_source == "demo" %}
    # Labeled training data: CSV/Parquet files matching this glob ("files"),
    # or the bundled sample ("demo").
{%- else %}
    # Labeled training data: CSV/Parquet files matching this glob.
{%- endif %}
    training_files: str = "training_data/*.csv"
    # "files": the batch of logical date D is every CSV, Parquet or JSON Lines
    # file under <incoming_dir>/ds=D/; true labels (id, sentiment) are any
    # such files under <feedback_dir>/, whenever they arrive; predictions are
    # delivered to <outgoing_dir>/ds=D/. A directory or an fsspec URL
    # (s3://bucket/prefix needs the s3 extra).
    incoming_dir: str = "data/incoming"
    feedback_dir: str = "data/feedback"
    outgoing_dir: str = "data/outgoing"
{%- else %}
    # A SQLAlchemy URL and the tables the pipeline reads and writes.
    # The batch is the rows of batch_table whose batch_timestamp_column falls in
    # the run's data interval, or what batch_query (SQL with :start and :end) returns.
    warehouse_url: str = "sqlite:///warehouse.db"
    training_table: str = "training_reviews"
    batch_table: str = "review_batches"
    batch_timestamp_column: str = "created_at"
    batch_query: str = ""
    labels_table: str = "review_labels"
    predictions_table: str = "review_predictions"
    # Where each day's label requests go (see label_requests_per_day).
    label_requests_table: str = "review_label_requests"
{%- endif %}
    # How often the first task looks for the day's batch, and for how long.
    batch_poke_seconds: int = 300
    batch_wait_seconds: int = 6 * 3600
{%- if cookiecutter.data_source != "warehouse" %}
    # A day's files are read once none has changed for this long, or once the
    # folder holds a _SUCCESS marker (Spark's and Hadoop's convention). 0: at once.
    batch_settle_seconds: int = 30
{%- endif %}
    # Accuracy of a prediction date is logged once this many of its rows have labels.
    min_labeled_rows: int = 20
    # The labelling queue: each batch run asks for the true labels of this many
    # of the day's rows (0: none), the least confident ones and a uniform random
    # sample of label_random_share of them, which gives monitoring an unbiased
    # accuracy (steps/label_requests.py). 0.3, not 0.2: the template's labelling
    # benchmark found both teach retraining alike, and 30 random rows still give
    # an unbiased figure (min_labeled_rows) when a few requests go unanswered.
    label_requests_per_day: int = 100
    label_random_share: float = 0.3
    retention_days: int = {{ cookiecutter.retention_days | int }}
{%- if cookiecutter.data_source == "demo" %}
    # The demo: rows per synthetic batch, and how many days later its labels arrive.
    batch_size: int = {{ cookiecutter.batch_size | int }}
    label_delay_days: int = 3
{%- endif %}
    # Train on the batch rows whose labels have arrived, as well as on the
    # source's training data: that is what lets retraining catch up with drift.
    train_on_feedback: bool = True
{%- if cookiecutter.data_source == "demo" %}
    # From this logical date (YYYY-MM-DD) synthetic batches come from a shifted
    # vocabulary and topic, to watch the monitoring loop work; empty: never.
    drift_start: str = ""
{%- endif %}
    # Batch inference reads, scores and writes this many rows at a time, so
    # its memory does not grow with the batch; 0 workers: every core.
    inference_chunk_rows: int = 20_000
    inference_workers: int = 0
    # A day's batch is cut into shards of at most this many rows, each scored
    # by its own Airflow task (on any worker); the default keeps a laptop-sized
    # day in one shard. docs/production.md says how to size it.
    shard_rows: int = 2_000_000
{%- if cookiecutter.data_source == "warehouse" %}
    # The names of the columns in the team's warehouse tables, `train --data`
    # and `predict --input` files; predictions are delivered with their id
    # under id_column.
{%- else %}
    # The names of the columns in the team's training files, batches, label
    # files and `predict --input` files; predictions are delivered with their
    # id under id_column.
{%- endif %}
    text_column: str = "text"
    label_column: str = "sentiment"
    id_column: str = "id"
    # Source label values that are not label names, e.g. star ratings
    # {"1": "negative", "5": "positive"}: a [settings.label_map] table in
    # tuned.toml, or JSON in the environment. Case and surrounding spaces are
    # ignored, and 4.0 reads as 4. Training refuses a label neither a label
    # name nor mapped to one.
    label_map: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MonitoringSettings:
    """What counts as a problem, and where alerts go."""

    low_confidence_threshold: float = {{ cookiecutter.low_confidence_threshold | float }}
    high_confidence_threshold: float = {{ cookiecutter.high_confidence_threshold | float }}
    low_confidence_alert_pct: float = {{ cookiecutter.low_confidence_alert_pct | float }}
    # How many logical days monitoring looks back, and how steep a fall in
    # average confidence (per day, least-squares slope) counts as a decline.
    monitoring_window_days: int = {{ cookiecutter.monitoring_window_days | int }}
    trend_tolerance: float = 0.005
    # Drift of a batch against the reference profile saved with the model.
    drift_psi_threshold: float = {{ cookiecutter.drift_psi_threshold | float }}
    oov_increase_threshold: float = {{ cookiecutter.oov_increase_threshold | float }}
    class_shift_threshold: float = {{ cookiecutter.class_shift_threshold | float }}
    # Slack-compatible webhook for alerts: this URL, else the Airflow
    # connection below (its host/URI), else no delivery.
    alert_webhook_url: str = ""
    alert_connection_id: str = "{{ cookiecutter.package_name }}_alerts"
    webhook_timeout_seconds: float = 5.0


@dataclass(frozen=True)
class PlatformSettings:
    """Where the services run: tracking store, schedules{% if cookiecutter.platform == "local" %},{% if cookiecutter.executor == "celery" %} executor,{% endif %} local stack{% endif %}."""

    project_root: Path = Path(".")
    tracking_uri: str = "sqlite:///mlflow.db"
    artifact_root: Path = Path("mlartifacts")
{%- if cookiecutter.platform == "local" %}
    # Pid files, logs and the JWT secret of `<slug> stack`.
    stack_dir: Path = Path(".stack")
{%- endif %}
    # Settings `tune` chose; the environment and DAG run params still win.
    tuned_settings_file: Path = Path("tuned.toml")
    # Registered model versions already loaded and checked, pickled for this
    # host's next load (tracking/model_cache.py); empty: no cache.
    model_cache_dir: str = ""
    inference_schedule: str = "{{ cookiecutter.inference_schedule }}"
    retrain_schedule: str = "{{ cookiecutter.retrain_schedule }}"
    # How long a failed batch-inference task waits before its retry.
    retry_delay_seconds: int = 60
{%- if cookiecutter.platform == "local" %}
    # "local": the laptop stack (SQLite, LocalExecutor, secrets generated in
{%- if cookiecutter.executor == "celery" %}
    # .stack/). "production": PostgreSQL, the executor below and secrets that
    # must come from the environment (deploy/.env.example lists them).
    profile: str = "local"
    executor: str = "{{ cookiecutter.executor }}"
    # Celery workers `stack up` starts under the production profile.
    celery_workers: int = 1
{%- else %}
    # .stack/). "production": PostgreSQL, LocalExecutor and secrets that must
    # come from the environment (deploy/.env.example lists them).
    profile: str = "local"
{%- endif %}
{%- endif %}
{%- if cookiecutter.serving == "http" %}


@dataclass(frozen=True)
class ServingSettings:
    """What `serve` grants one client, so slow or greedy ones cannot starve the rest."""

    # A request's headers must all arrive within this many seconds of its
    # first byte (or of the connection), its body within the second figure;
    # past either the server answers 408 and closes the connection.
    serve_header_timeout_seconds: float = 10.0
    serve_body_timeout_seconds: float = 60.0
    # An idle keep-alive connection is closed after this many seconds.
    serve_keep_alive_seconds: int = 5
    # Open connections past this get 503 with Retry-After once their headers
    # arrive; `serve` raises the open-files limit to fit them when it can.
    serve_max_connections: int = 4096
    # Bytes of request bodies held at once, across all requests (by their
    # Content-Length, from headers to answer). A body that would take the
    # total past this waits, unread, for up to the second figure, then gets
    # 503 with Retry-After.
    serve_inflight_body_mib: int = 64
    serve_inflight_wait_seconds: float = 10.0
{%- endif %}


GROUPS = {
    "model": ModelSettings,
    "data": DataSettings,
    "monitoring": MonitoringSettings,
    "platform": PlatformSettings,
{%- if cookiecutter.serving == "http" %}
    "serving": ServingSettings,
{%- endif %}
}
# Every field name is unique across the groups, so a flat name (an
# environment variable, a DAG param) says which group it belongs to.
FIELD_GROUPS = {field.name: group for group, kind in GROUPS.items() for field in fields(kind)}
FIELD_TYPES = {field.name: str(field.type) for kind in GROUPS.values() for field in fields(kind)}


@dataclass(frozen=True)
class Settings:
    """Everything the pipeline needs to know, with its source resolved."""

    model: ModelSettings
    data: DataSettings
    monitoring: MonitoringSettings
    platform: PlatformSettings
{%- if cookiecutter.serving == "http" %}
    serving: ServingSettings = ServingSettings()
{%- endif %}

    @property
    def training_experiment(self) -> str:
        return f"{PROJECT_SLUG}-training"

    @property
    def inference_experiment(self) -> str:
        return f"{PROJECT_SLUG}-batch-inference"

    @property
    def monitoring_experiment(self) -> str:
        return f"{PROJECT_SLUG}-monitoring"

    @property
    def champion_uri(self) -> str:
        return f"models:/{self.model.registered_model_name}@{CHAMPION_ALIAS}"

    def value(self, name: str) -> object:
        """A field by its flat name, e.g. ``value("retention_days")``."""
        return getattr(getattr(self, FIELD_GROUPS[name]), name)

    def with_overrides(self, **overrides: object) -> Settings:
        """A copy with fields replaced by flat name, validated like the environment's values."""
        unknown = sorted(set(overrides) - set(FIELD_GROUPS))
        if unknown:
            raise SettingsError(
                f"unknown setting(s) {', '.join(unknown)}: see the fields of settings.py."
            )
        if isinstance(overrides.get("labels"), str | list):
            overrides["labels"] = parse_labels(overrides["labels"])
        groups = {}
        for group in GROUPS:
            changes = {k: v for k, v in overrides.items() if FIELD_GROUPS[k] == group}
            if changes:
                groups[group] = replace(getattr(self, group), **changes)
        return replace(self, **groups).validate()

    def validate(self) -> Settings:
        """Return self, or raise SettingsError naming every variable to fix, in one line."""
        problems = _problems(self)
        if problems:
            raise SettingsError(
                redact(
                    "; ".join(
                        f"{ENV_PREFIX}{name.upper()}={value!r} is not valid: expected {expected}"
                        for name, value, expected in problems
                    )
                    + "."
                )
            )
        return self


def _problems(settings: Settings) -> list[tuple[str, object, str]]:
    """Every (field, value, what it must be) that is wrong."""
    value = settings.value
    problems: list[tuple[str, object, str]] = []
{%- if cookiecutter.data_source == "demo" %}
    if value("data_source") == "bundled":
        problems.append(("data_source", "bundled", "demo (the name of bundled since 0.3.0)"))
    for name, allowed in CHOICES.items():
        if value(name) not in allowed and (name, value(name)) != ("data_source", "bundled"):
            problems.append((name, value(name), "one of " + ", ".join(allowed)))
{%- else %}
    for name, allowed in CHOICES.items():
        if value(name) not in allowed:
            problems.append((name, value(name), "one of " + ", ".join(allowed)))
{%- endif %}
    for name, kind in FIELD_TYPES.items():
        if kind == "float" and not math.isfinite(value(name)):
            problems.append((name, value(name), "a finite number"))
    for name, (low, high) in BOUNDS.items():
        number = value(name)
        if math.isfinite(number) and not low <= number <= high:
            problems.append((name, number, f"from {low:g} to {high:g}"))
    for name, (above, below) in OPEN_BOUNDS.items():
        number = value(name)
        if math.isfinite(number) and not _inside(number, above, below):
            problems.append((name, number, _open_range(above, below)))
    labels = value("labels")
    if not _labels_ok(labels):
        problems.append(
            (
                "labels",
                ",".join(map(str, labels)) if isinstance(labels, tuple | list) else labels,
                f"2 to {MAX_LABELS} distinct comma-separated names of lowercase letters, digits, "
                "'_' or '-', e.g. negative,neutral,positive",
            )
        )
{%- if cookiecutter.data_source == "demo" %}
    elif value("data_source") == "demo" and tuple(labels) != SAMPLE_LABELS:
        problems.append(
            (
                "data_source",
                "demo",
                f"files: the demo knows only the labels {','.join(SAMPLE_LABELS)}, "
                f"not {','.join(labels)}",
            )
        )
{%- endif %}
    try:
        parse_estimator_params(value("estimator_params"))
    except ValueError:
        problems.append(
            ("estimator_params", value("estimator_params"), "name=number pairs, e.g. C=3.5")
        )
{%- if cookiecutter.data_source == "demo" %}
    if value("drift_start") and not _is_date(value("drift_start")):
        problems.append(("drift_start", value("drift_start"), "a date YYYY-MM-DD or empty"))
{%- endif %}
{%- if cookiecutter.data_source == "warehouse" %}
    for name in SQL_IDENTIFIERS:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?", value(name)):
            problems.append((name, value(name), "a table or column name ([schema.]name)"))
    query = value("batch_query")
    if query and not (":start" in query and ":end" in query):
        problems.append(("batch_query", query, "SQL using both :start and :end, or empty"))
{%- else %}
    for name in LOCATION_FIELDS:
        if not str(value(name)).strip():
            problems.append((name, value(name), "a directory or URL"))
{%- endif %}
    monitoring = settings.monitoring
    if monitoring.low_confidence_threshold >= monitoring.high_confidence_threshold:
        low, high = monitoring.low_confidence_threshold, monitoring.high_confidence_threshold
        problems.append(("low_confidence_threshold", low, f"below the high threshold {high}"))
    for name in ("inference_schedule", "retrain_schedule"):
        if not is_valid_schedule(value(name)):
            problems.append((name, value(name), "an Airflow preset or 5-field cron"))
    # Caught here rather than as MLflow's, SQLAlchemy's or a glob's error deep in a run.
    model_name = value("registered_model_name")
    if not model_name.strip() or "/" in model_name or ":" in model_name:
        problems.append(("registered_model_name", model_name, "a name without '/' or ':'"))
    if not value("tracking_uri").strip():
        problems.append(("tracking_uri", value("tracking_uri"), "a URI, e.g. sqlite:///mlflow.db"))
{%- if cookiecutter.data_source == "warehouse" %}
    if not is_url(value("warehouse_url")):
        problems.append(
            ("warehouse_url", value("warehouse_url"), "a SQLAlchemy URL, e.g. sqlite:///w.db")
        )
{%- endif %}
    webhook = value("alert_webhook_url")
    if webhook and not webhook.startswith(("http://", "https://")):
        problems.append(("alert_webhook_url", webhook, "an http(s) URL, or empty"))
{%- if cookiecutter.data_source != "warehouse" %}
    if not value("training_files").strip():
        problems.append(("training_files", value("training_files"), "a file glob"))
{%- endif %}
    problems += _column_problems(settings)
    problems += _label_map_problems(value("label_map"), value("labels"))
    return problems


def _inside(number: float, above: float | None, below: float | None) -> bool:
    return (above is None or number > above) and (below is None or number < below)


def _open_range(above: float | None, below: float | None) -> str:
    limits = (("above", above), ("below", below))
    sides = [f"{side} {limit:g}" for side, limit in limits if limit is not None]
    return "a number " + " and ".join(sides)


# The JSON schema type of each kind of field a DAG param may set.
_SCHEMA_TYPES = {"int": "integer", "float": "number", "bool": "boolean", "str": "string"}


def param_schema(name: str) -> dict[str, object]:
    """The JSON schema of field ``name`` for a DAG param: its type, BOUNDS, OPEN_BOUNDS, CHOICES.

    Airflow's trigger form checks a value with it before a run starts;
    ``Settings.with_overrides`` then checks the run's values together.
    """
    schema: dict[str, object] = {"type": _SCHEMA_TYPES[FIELD_TYPES[name]]}
    if name in CHOICES:
        schema["enum"] = list(CHOICES[name])
    if name in BOUNDS:
        schema["minimum"], schema["maximum"] = BOUNDS[name]
    above, below = OPEN_BOUNDS.get(name, (None, None))
    if above is not None:
        schema["exclusiveMinimum"] = above
    if below is not None:
        schema["exclusiveMaximum"] = below
    return schema


def _column_problems(settings: Settings) -> list[tuple[str, object, str]]:
    """Column names: non-empty, distinct, not one the pipeline adds{% if cookiecutter.data_source == "warehouse" %}; plain names for SQL{% endif %}."""
    problems: list[tuple[str, object, str]] = []
    seen: dict[str, str] = {}
    for name in COLUMN_FIELDS:
        column = settings.value(name)
        if not column.strip() or column != column.strip():
            problems.append((name, column, "a column name without surrounding spaces"))
        elif column in OUTPUT_COLUMNS:
            problems.append((name, column, "a column name other than " + ", ".join(OUTPUT_COLUMNS)))
        elif column in seen:
            problems.append((name, column, f"a column name other than {seen[column]}'s"))
{%- if cookiecutter.data_source == "warehouse" %}
        elif settings.data.data_source == "warehouse" and not re.fullmatch(
            r"[A-Za-z_][A-Za-z0-9_]*", column
        ):
            problems.append((name, column, "a plain SQL column name for the warehouse"))
{%- endif %}
        seen.setdefault(column, name)
    return problems


def label_key(value: str) -> str:
    """A source label as it is compared: case and surrounding spaces ignored, ``4.0`` as ``4``."""
    return re.sub(LABEL_NUMBER, r"\1", value.strip().lower())


def _label_map_problems(mapping: object, labels: tuple[str, ...]) -> list[tuple[str, object, str]]:
    """The label map: source values (strings) to configured labels, one meaning per value."""
    if not isinstance(mapping, dict) or not all(
        isinstance(key, str) and isinstance(label, str) for key, label in mapping.items()
    ):
        expected = f"a JSON object of source value to label, e.g. {LABEL_MAP_EXAMPLE}"
        return [("label_map", mapping, expected)]
    shown = json.dumps(mapping, ensure_ascii=False)
    problems: list[tuple[str, object, str]] = []
    unknown = sorted({label for label in mapping.values() if label_key(label) not in labels})
    if unknown:
        problems.append(
            (
                "label_map",
                shown,
                f"every value one of the labels {', '.join(labels)} "
                f"(not {', '.join(map(repr, unknown))})",
            )
        )
    meanings: dict[str, set[str]] = {}
    for key, label in mapping.items():
        meanings.setdefault(label_key(key), set()).add(label_key(label))
    if "" in meanings:
        problems.append(("label_map", shown, "no empty source value"))
    clashes = sorted(key for key, labels in meanings.items() if len(labels) > 1)
    if clashes:
        problems.append(
            ("label_map", shown, f"one label per source value (not two for {clashes[0]!r})")
        )
    return problems


def parse_labels(text: str | list | tuple) -> tuple[str, ...]:
    """``"negative, neutral, positive"`` as a tuple of names; brackets and quotes are ignored,
    so a TOML list (``["a", "b"]``) and a Python tuple's text read the same."""
    items = text if isinstance(text, list | tuple) else str(text).split(",")
    # An empty name stays, for the validation to refuse ("negative,,positive").
    return tuple(str(item).strip().strip("()[]'\" ").lower() for item in items)


def _labels_ok(labels: object) -> bool:
    return (
        isinstance(labels, tuple)
        and 2 <= len(labels) <= MAX_LABELS
        and len(set(labels)) == len(labels)
        and all(isinstance(label, str) and re.fullmatch(LABEL_PATTERN, label) for label in labels)
    )


def parse_estimator_params(text: str) -> dict[str, float]:
    """``"C=3.5, max_iter=100"`` as ``{"C": 3.5, "max_iter": 100.0}``; ValueError if malformed."""
    params: dict[str, float] = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        name, equals, number = pair.partition("=")
        if not equals or not re.fullmatch(r"[A-Za-z_]\w*", name.strip()):
            raise ValueError(pair)
        params[name.strip()] = float(number)
        if not math.isfinite(params[name.strip()]):
            raise ValueError(pair)
    return params


def format_estimator_params(params: dict[str, float]) -> str:
    """The setting's text for ``params``, the inverse of ``parse_estimator_params``."""
    return ",".join(f"{name}={value:.6g}" for name, value in sorted(params.items()))

{%- if cookiecutter.data_source == "demo" %}


def _is_date(value: str) -> bool:
    from datetime import date

    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value))
{%- endif %}


def is_valid_schedule(value: str) -> bool:
    """Cheap syntax check; Airflow validates the cron expression fully when it parses the DAG."""
    if value.startswith("@"):
        return value in SCHEDULE_PRESETS
    return len(value.split()) == 5 and all(re.fullmatch(r"[\w*/,-]+", f) for f in value.split())


def _convert(name: str, raw: str) -> object:
    kind = FIELD_TYPES[name]
    if kind.startswith("dict"):
        return _json_object(name, raw)
    expected = {
        "int": "an integer",
        "float": "a number",
        "bool": "one of true, false, yes, no, 1, 0",
    }.get(kind)
    try:
        if kind == "bool":
            word = raw.strip().lower()
            if word not in _TRUE | _FALSE:
                raise ValueError(word)
            return word in _TRUE
        if kind in ("int", "float"):
            return {"int": int, "float": float}[kind](raw)
    except ValueError:
        raise SettingsError(
            redact(f"{ENV_PREFIX}{name.upper()}={raw!r} is not valid: expected {expected}.")
        ) from None
    if name == "labels":
        return parse_labels(raw)
{%- if cookiecutter.data_source != "warehouse" %}
    if name in LOCATION_FIELDS:
        return as_location(raw)
{%- endif %}
    if kind != "Path":
        return raw
    if not raw.strip():
        raise SettingsError(f"{ENV_PREFIX}{name.upper()} is empty: unset it or give a directory.")
    return Path(raw).resolve()


def _json_object(name: str, raw: str) -> dict:
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise SettingsError(
            redact(
                f"{ENV_PREFIX}{name.upper()}={raw!r} is not valid: expected a JSON object "
                f"of source value to label, e.g. {LABEL_MAP_EXAMPLE}."
            )
        )
    return value


def is_url(location: str) -> bool:
    """An fsspec URL (s3://, gs://, memory://...) rather than a local path."""
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", location))
{%- if cookiecutter.data_source != "warehouse" %}


def as_location(raw: str) -> str:
    """A URL as given; a local path made absolute, so the working directory does not matter."""
    raw = raw.strip()
    return raw if not raw or is_url(raw) else str(Path(raw).resolve())
{%- endif %}


def _project_root() -> Path:
    """The checkout this package was installed from (``uv sync`` installs it editable)."""
    configured = os.environ.get(f"{ENV_PREFIX}HOME")
    if configured:
        return Path(configured).resolve()
    candidate = Path(__file__).resolve().parents[2]
    return candidate if (candidate / "pyproject.toml").is_file() else Path.cwd().resolve()


def _user_cache_dir() -> Path:
    """This project's per-user cache, where the XDG base directory convention puts it."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / PROJECT_SLUG


def _located_defaults(root: Path) -> dict[str, object]:
    """Defaults that are places inside the project checkout (or the user's cache)."""
    return {
        "project_root": root,
        "data_dir": root / "data",
        "artifact_root": root / "mlartifacts",
{%- if cookiecutter.platform == "local" %}
        "stack_dir": root / ".stack",
{%- endif %}
        "tracking_uri": os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{root / 'mlflow.db'}",
{%- if cookiecutter.data_source == "warehouse" %}
        "warehouse_url": f"sqlite:///{root / 'warehouse.db'}",
{%- else %}
        "training_files": str(root / "training_data" / "*.csv"),
        "incoming_dir": str(root / "data" / "incoming"),
        "feedback_dir": str(root / "data" / "feedback"),
        "outgoing_dir": str(root / "data" / "outgoing"),
{%- endif %}
        "model_cache_dir": str(_user_cache_dir() / "models"),
        "tuned_settings_file": root / "tuned.toml",
    }


def read_tuned_settings(path: Path) -> dict[str, object]:
    """The ``[settings]`` table of a tuned-settings file, converted like environment values."""
    if not path.is_file():
        return {}
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("settings", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SettingsError(f"{path} is not valid TOML ({error}): fix it or delete it.") from None
    unknown = sorted(
        set(table) - set(FIELD_GROUPS) | set(table) & {"project_root", "tuned_settings_file"}
    )
    if unknown:
        raise SettingsError(
            f"{path} sets unknown setting(s) {', '.join(unknown)}: see the fields of settings.py."
        )
    return {name: _from_toml(name, raw) for name, raw in table.items()}


def _from_toml(name: str, raw: object) -> object:
    """A value of the tuned-settings file: a table or a list of labels as it is, else as text."""
    if name == "labels" and isinstance(raw, list):
        return parse_labels(raw)
    if isinstance(raw, dict):
        if not FIELD_TYPES[name].startswith("dict"):
            raise SettingsError(
                f"{ENV_PREFIX}{name.upper()}={raw!r} is not valid: expected one value, not a table."
            )
        return dict(raw)
    return _convert(name, str(raw).lower() if isinstance(raw, bool) else str(raw))


def load_settings(**overrides: object) -> Settings:
    """Build settings from defaults, then the tuned file, the environment, ``overrides``."""
    root = _project_root()
    values: dict[str, object] = _located_defaults(root)
    environment: dict[str, object] = {}
    for name in FIELD_GROUPS:
        raw = os.environ.get(f"{ENV_PREFIX}{name.upper()}")
        if raw is not None and name != "project_root":
            environment[name] = _convert(name, raw)
    tuned_file = Path(environment.get("tuned_settings_file", values["tuned_settings_file"]))
    values.update(read_tuned_settings(tuned_file))
    values.update(environment)
    base = Settings(
        model=ModelSettings(),
        data=DataSettings(),
        monitoring=MonitoringSettings(),
        platform=PlatformSettings(),
{%- if cookiecutter.serving == "http" %}
        serving=ServingSettings(),
{%- endif %}
    )
    return base.with_overrides(**{**values, **overrides})


def airflow_environment(settings: Settings | None = None) -> dict[str, str]:
    """Airflow variables for this project; values already in the environment win."""
    settings = settings or load_settings()
    platform = settings.platform
    root = platform.project_root
    airflow_home = Path(os.environ.get("AIRFLOW_HOME", root / ".airflow"))
    defaults = {
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
        # A laptop needs a handful of workers, not Airflow's default 32.
        "AIRFLOW__CORE__PARALLELISM": "4",
{%- if cookiecutter.platform == "local" and cookiecutter.executor == "celery" %}
        # The laptop runs tasks in the scheduler; Celery is for the production profile.
        "AIRFLOW__CORE__EXECUTOR": (
            "CeleryExecutor"
            if platform.profile == "production" and platform.executor == "celery"
            else "LocalExecutor"
        ),
{%- else %}
        # The scheduler runs the tasks, on a laptop and under the production profile alike.
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
{%- endif %}
        "MLFLOW_TRACKING_URI": platform.tracking_uri,
    }
    return {key: os.environ.get(key, value) for key, value in defaults.items()}


def mlflow_server_environment(settings: Settings | None = None) -> dict[str, str]:
    """Where a local MLflow tracking server keeps runs and artifacts."""
    settings = settings or load_settings()
    platform = settings.platform
    embedded = f"sqlite:///{platform.project_root / 'mlflow.db'}"
    local = not platform.tracking_uri.startswith(("http://", "https://"))
    return {
        "MLFLOW_BACKEND_STORE_URI": os.environ.get(
            f"{ENV_PREFIX}MLFLOW_BACKEND_STORE_URI", platform.tracking_uri if local else embedded
        ),
        # A directory, or an object store URI such as s3://bucket/prefix.
        "MLFLOW_ARTIFACTS_DESTINATION": os.environ.get(
            f"{ENV_PREFIX}ARTIFACTS_DESTINATION", str(platform.artifact_root)
        ),
    }
