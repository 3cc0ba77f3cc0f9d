"""The one place that reads configuration.

Defaults are the answers given when the project was generated. Each can be
overridden by an environment variable named ``{{ cookiecutter.package_name.upper() }}_<FIELD>``
(for example ``{{ cookiecutter.package_name.upper() }}_BATCH_SIZE=1000``); the tracking
store also honours MLflow's own ``MLFLOW_TRACKING_URI`` and Airflow honours
``AIRFLOW_HOME`` and ``AIRFLOW__*``.

Standard library only: DAG files import this at parse time.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path

from {{ cookiecutter.package_name }}.errors import SettingsError

PROJECT_SLUG = "{{ cookiecutter.project_slug }}"
PACKAGE_NAME = "{{ cookiecutter.package_name }}"
ENV_PREFIX = "{{ cookiecutter.package_name.upper() }}_"
LABELS = ("negative", "positive")
MODELS = ("logistic_regression", "linear_svc", "complement_nb", "sgd")
DATA_SOURCES = ("bundled", "files", "warehouse")
EXECUTORS = ("local", "celery")
PROFILES = ("local", "production")
VERSION_POLICIES = ("error", "warn")
SCHEDULE_PRESETS = ("@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly")
CHAMPION_ALIAS = "champion"
CHALLENGER_ALIAS = "challenger"


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


@dataclass(frozen=True)
class Settings:
    """Everything the pipeline steps need to know, with its source resolved."""

    project_root: Path
    data_dir: Path
    tracking_uri: str
    artifact_root: Path
    # Where the "files" source looks for labeled CSV/Parquet, and the SQL
    # database the "warehouse" source reads and writes.
    training_files: str
    warehouse_url: str
    # Pid files, logs and the JWT secret of `<slug> stack`.
    stack_dir: Path
    # Registered model versions already loaded and checked, pickled for this
    # host's next load (model_cache.py); empty: no cache.
    model_cache_dir: str
    data_source: str = "{{ cookiecutter.data_source }}"
    model: str = "{{ cookiecutter.model }}"
    max_features: int = {{ cookiecutter.max_features | int }}
    ngram_max: int = {{ cookiecutter.ngram_max | int }}
    inference_schedule: str = "{{ cookiecutter.inference_schedule }}"
    retrain_schedule: str = "{{ cookiecutter.retrain_schedule }}"
    batch_size: int = {{ cookiecutter.batch_size | int }}
    retention_days: int = {{ cookiecutter.retention_days | int }}
    low_confidence_threshold: float = {{ cookiecutter.low_confidence_threshold | float }}
    high_confidence_threshold: float = {{ cookiecutter.high_confidence_threshold | float }}
    low_confidence_alert_pct: float = {{ cookiecutter.low_confidence_alert_pct | float }}
    min_accuracy: float = {{ cookiecutter.min_accuracy | float }}
    min_improvement: float = {{ cookiecutter.min_improvement | float }}
    min_training_rows: int = 100
    registered_model_name: str = "{{ cookiecutter.registered_model_name }}"
    # How many logical days monitoring looks back, and how steep a fall in
    # average confidence (per day, least-squares slope) counts as a decline.
    monitoring_window_days: int = {{ cookiecutter.monitoring_window_days | int }}
    trend_tolerance: float = 0.005
    # Drift of a batch against the reference profile saved with the model.
    drift_psi_threshold: float = {{ cookiecutter.drift_psi_threshold | float }}
    oov_increase_threshold: float = {{ cookiecutter.oov_increase_threshold | float }}
    class_shift_threshold: float = {{ cookiecutter.class_shift_threshold | float }}
    # True labels of a synthetic or warehouse batch arrive this many days later.
    label_delay_days: int = 3
    # Train on the batch rows whose labels have arrived, as well as on the
    # source's training data: that is what lets retraining catch up with drift.
    train_on_feedback: bool = True
    # From this logical date (YYYY-MM-DD) synthetic batches come from a shifted
    # vocabulary and topic, to watch the monitoring loop work; empty: never.
    drift_start: str = ""
    # Slack-compatible webhook for alerts: this URL, else the Airflow
    # connection below (its host/URI), else no delivery.
    alert_webhook_url: str = ""
    alert_connection_id: str = "{{ cookiecutter.package_name }}_alerts"
    webhook_timeout_seconds: float = 5.0
    random_seed: int = 42
    # "local": the laptop stack (SQLite, LocalExecutor, secrets generated in
    # .stack/). "production": PostgreSQL, the executor below and secrets that
    # must come from the environment (deploy/.env.example lists them).
    profile: str = "local"
    executor: str = "{{ cookiecutter.executor }}"
    # Celery workers `stack up` starts under the production profile.
    celery_workers: int = 1
    # How long a failed batch-inference task waits before its retry.
    retry_delay_seconds: int = 60
    # Batch inference reads, scores and writes this many rows at a time, so
    # its memory does not grow with the batch; 0 workers: every core.
    inference_chunk_rows: int = 20_000
    inference_workers: int = 0
    # What to do when the champion was trained with another scikit-learn
    # minor version than the one running: refuse ("error") or log ("warn").
    sklearn_version_policy: str = "error"

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
        return f"models:/{self.registered_model_name}@{CHAMPION_ALIAS}"

    def validate(self) -> Settings:
        """Return self, or raise SettingsError naming the variable to fix."""
        problems = []
        for name, allowed in (
            ("model", MODELS),
            ("data_source", DATA_SOURCES),
            ("sklearn_version_policy", VERSION_POLICIES),
            ("executor", EXECUTORS),
            ("profile", PROFILES),
        ):
            if getattr(self, name) not in allowed:
                problems.append((name, getattr(self, name), "one of " + ", ".join(allowed)))
        counts = (
            "max_features",
            "ngram_max",
            "batch_size",
            "retention_days",
            "min_training_rows",
            "celery_workers",
            "retry_delay_seconds",
            "inference_chunk_rows",
        )
        for name in counts:
            if getattr(self, name) < 1:
                problems.append((name, getattr(self, name), "a positive integer"))
        if self.monitoring_window_days < 2:
            problems.append(("monitoring_window_days", self.monitoring_window_days, "at least 2"))
        for name in ("drift_psi_threshold", "oov_increase_threshold", "class_shift_threshold"):
            if getattr(self, name) <= 0:
                problems.append((name, getattr(self, name), "a number above 0"))
        if self.inference_workers < 0:
            problems.append(("inference_workers", self.inference_workers, "0 (every core) or more"))
        if self.label_delay_days < 0:
            problems.append(("label_delay_days", self.label_delay_days, "0 or more days"))
        if self.drift_start and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", self.drift_start):
            problems.append(("drift_start", self.drift_start, "a date YYYY-MM-DD or empty"))
        for name in ("low_confidence_threshold", "high_confidence_threshold"):
            if not 0 < getattr(self, name) < 1:
                problems.append((name, getattr(self, name), "a number between 0 and 1"))
        if self.low_confidence_threshold >= self.high_confidence_threshold:
            high = self.high_confidence_threshold
            problems.append(("high_confidence_threshold", high, "above the low threshold"))
        if not 0 <= self.low_confidence_alert_pct <= 100:
            problems.append(("low_confidence_alert_pct", self.low_confidence_alert_pct, "0 to 100"))
        for name in ("min_accuracy", "min_improvement"):
            if not 0 <= getattr(self, name) <= 1:
                problems.append((name, getattr(self, name), "a number from 0 to 1"))
        for name in ("inference_schedule", "retrain_schedule"):
            if not is_valid_schedule(getattr(self, name)):
                problems.append((name, getattr(self, name), "an Airflow preset or 5-field cron"))
        if problems:
            name, value, expected = problems[0]
            raise SettingsError(
                f"{ENV_PREFIX}{name.upper()}={value!r} is not valid: expected {expected}."
            )
        return self


def is_valid_schedule(value: str) -> bool:
    """Cheap syntax check; Airflow validates the cron expression fully when it parses the DAG."""
    if value.startswith("@"):
        return value in SCHEDULE_PRESETS
    return len(value.split()) == 5 and all(re.fullmatch(r"[\w*/,-]+", f) for f in value.split())


def _convert(name: str, raw: str, kind: type) -> object:
    try:
        if kind is bool:
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        return kind(raw)
    except ValueError:
        raise SettingsError(
            f"{ENV_PREFIX}{name.upper()}={raw!r} is not valid: expected a {kind.__name__}."
        ) from None


def load_settings(**overrides: object) -> Settings:
    """Build settings from defaults, then environment variables, then ``overrides``."""
    env = os.environ
    root = _project_root()
    data_dir = Path(env.get(f"{ENV_PREFIX}DATA_DIR", root / "data"))
    artifact_root = Path(env.get(f"{ENV_PREFIX}ARTIFACT_ROOT", root / "mlartifacts"))
    tracking_uri = env.get("MLFLOW_TRACKING_URI") or f"sqlite:///{root / 'mlflow.db'}"
    base = Settings(
        project_root=root,
        data_dir=data_dir.resolve(),
        tracking_uri=tracking_uri,
        artifact_root=artifact_root.resolve(),
        training_files=env.get(f"{ENV_PREFIX}TRAINING_FILES", str(root / "training_data/*.csv")),
        warehouse_url=env.get(f"{ENV_PREFIX}WAREHOUSE_URL", f"sqlite:///{root / 'warehouse.db'}"),
        stack_dir=Path(env.get(f"{ENV_PREFIX}STACK_DIR", root / ".stack")).resolve(),
        model_cache_dir=env.get(f"{ENV_PREFIX}MODEL_CACHE_DIR", str(_user_cache_dir() / "models")),
    )
    from_env = {}
    path_fields = {
        "project_root",
        "data_dir",
        "tracking_uri",
        "artifact_root",
        "training_files",
        "warehouse_url",
        "stack_dir",
        "model_cache_dir",
    }
    for field in fields(Settings):
        raw = env.get(f"{ENV_PREFIX}{field.name.upper()}")
        if field.name in path_fields or raw is None:
            continue
        kind = {"int": int, "float": float, "str": str, "bool": bool}[str(field.type)]
        from_env[field.name] = _convert(field.name, raw, kind)
    return replace(base, **{**from_env, **overrides}).validate()


def airflow_environment(settings: Settings | None = None) -> dict[str, str]:
    """Airflow variables for this project; values already in the environment win."""
    settings = settings or load_settings()
    root = settings.project_root
    airflow_home = Path(os.environ.get("AIRFLOW_HOME", root / ".airflow"))
    defaults = {
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
        # A laptop needs a handful of workers, not Airflow's default 32.
        "AIRFLOW__CORE__PARALLELISM": "4",
        # The laptop runs tasks in the scheduler; Celery is for the production profile.
        "AIRFLOW__CORE__EXECUTOR": (
            "CeleryExecutor"
            if settings.profile == "production" and settings.executor == "celery"
            else "LocalExecutor"
        ),
        "MLFLOW_TRACKING_URI": settings.tracking_uri,
    }
    return {key: os.environ.get(key, value) for key, value in defaults.items()}


def mlflow_server_environment(settings: Settings | None = None) -> dict[str, str]:
    """Where a local MLflow tracking server keeps runs and artifacts."""
    settings = settings or load_settings()
    embedded = f"sqlite:///{settings.project_root / 'mlflow.db'}"
    local = not settings.tracking_uri.startswith(("http://", "https://"))
    return {
        "MLFLOW_BACKEND_STORE_URI": os.environ.get(
            f"{ENV_PREFIX}MLFLOW_BACKEND_STORE_URI", settings.tracking_uri if local else embedded
        ),
        # A directory, or an object store URI such as s3://bucket/prefix.
        "MLFLOW_ARTIFACTS_DESTINATION": os.environ.get(
            f"{ENV_PREFIX}ARTIFACTS_DESTINATION", str(settings.artifact_root)
        ),
    }
