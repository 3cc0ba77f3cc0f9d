"""Search the estimator's hyperparameters and the vectorizer's, by cross-validation.

Random search with scikit-learn's ``ParameterSampler``, one trial at a time,
so each trial is an MLflow child run of one parent and a time budget can stop
the search between trials (``RandomizedSearchCV`` runs every trial before it
returns). The first trial is the current configuration: the gain is measured
against it on the same folds. The best configuration is written to the tuned
settings file, which the next ``train`` reads; nothing is registered or promoted.
"""

from __future__ import annotations

import json
import time
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from scipy.stats import loguniform
from sklearn.model_selection import (
    ParameterSampler,
    StratifiedKFold,
    cross_val_score,
    train_test_split,
)

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.schema import (
    LABEL,
    TEXT,
    refuse_unknown_labels,
    validate_labeled,
)
from {{ cookiecutter.package_name }}.data.sources import read_feedback, training_source
from {{ cookiecutter.package_name }}.errors import DataValidationError
from {{ cookiecutter.package_name }}.model.estimators import hyperparameters, search_space
from {{ cookiecutter.package_name }}.model.pipeline import build_pipeline
from {{ cookiecutter.package_name }}.settings import (
    ESTIMATORS,
    PROJECT_SLUG,
    Settings,
    format_estimator_params,
    parse_estimator_params,
)
from {{ cookiecutter.package_name }}.steps.training import CV_FOLDS, TEST_SIZE
from {{ cookiecutter.package_name }}.tracking.client import connect, ensure_experiment

# The vectorizer's choices; the estimator's ranges are in model/estimators.py.
MAX_FEATURES = (5_000, 10_000, 20_000, 50_000, 100_000)
NGRAM_MAX = (1, 2, 3)
TUNED_KEYS = ("estimator", "max_features", "ngram_max", "estimator_params")


def tuning_experiment() -> str:
    return f"{PROJECT_SLUG}-tuning"


def _candidates(settings: Settings, estimator: str, trials: int) -> list[dict]:
    """The current configuration, then ``trials - 1`` samples of the search space."""
    current = settings.model
    params = (
        parse_estimator_params(current.estimator_params) if estimator == current.estimator else {}
    )
    first = {
        "max_features": current.max_features,
        "ngram_max": current.ngram_max,
        **hyperparameters(estimator, params),
    }
    space: dict = {"max_features": list(MAX_FEATURES), "ngram_max": list(NGRAM_MAX)}
    for name, spec in search_space(estimator).items():
        space[name] = loguniform(spec.low, spec.high)
    sampled = ParameterSampler(space, n_iter=max(trials - 1, 0), random_state=current.random_seed)
    return [first, *({k: _plain(v) for k, v in sample.items()} for sample in sampled)]


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def _trial_settings(settings: Settings, estimator: str, candidate: dict) -> Settings:
    extra = {k: float(v) for k, v in candidate.items() if k not in ("max_features", "ngram_max")}
    return settings.with_overrides(
        estimator=estimator,
        max_features=int(candidate["max_features"]),
        ngram_max=int(candidate["ngram_max"]),
        estimator_params=format_estimator_params(extra),
    )


def _training_rows(settings: Settings, data: Path | None):
    """The rows ``train`` would fit on: the same source, and the same hold-out left out."""
    source = training_source(settings, data)
    frame = source.read_training()
    if data is None and settings.data.train_on_feedback:
        feedback = read_feedback(settings)
        if feedback is not None and len(feedback):
            frame = pd.concat([frame, feedback], ignore_index=True)
    try:
        validated = validate_labeled(
            frame, labels=settings.model.labels, min_rows=settings.model.min_training_rows
        )
        valid = refuse_unknown_labels(validated, "training data").valid
    except DataValidationError as error:
        raise DataValidationError(f"{source.training_location()}: {error}") from None
    train_rows, _ = train_test_split(
        valid, test_size=TEST_SIZE, stratify=valid[LABEL], random_state=settings.model.random_seed
    )
    return train_rows, source.training_location()


def write_tuned_settings(path: Path, values: dict, comment: str) -> Path:
    """The ``[settings]`` table the settings module reads, with a comment on where it came from.

    Settings the file already holds and ``values`` does not name (a team's
    columns and ``label_map``, say) stay as they were.
    """
    path = Path(path)
    try:
        kept = tomllib.loads(path.read_text(encoding="utf-8")).get("settings", {})
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        kept = {}
    merged = {**kept, **values}
    lines = [f"# {line}" for line in comment.splitlines()]
    lines += ["[settings]"]
    tables = {key: value for key, value in merged.items() if isinstance(value, dict)}
    for key, value in merged.items():
        if key not in tables:
            lines.append(f"{key} = {json.dumps(value)}")
    for key, table in tables.items():
        lines += ["", f"[settings.{key}]"]
        lines += [f"{json.dumps(str(name))} = {json.dumps(value)}" for name, value in table.items()]
    return storage.write_text("\n".join(lines) + "\n", path)


def tune(
    settings: Settings,
    *,
    estimator: str | None = None,
    trials: int = 20,
    budget_seconds: float | None = None,
    data: Path | None = None,
    progress: Callable[[dict], object] | None = None,
) -> dict:
    """Cross-validate up to ``trials`` configurations; write the best as tuned settings.

    ``progress`` is given each trial's result as it ends.
    """
    estimator = estimator or settings.model.estimator
    if estimator not in ESTIMATORS:
        raise DataValidationError(f"--model {estimator!r} is not one of {', '.join(ESTIMATORS)}.")
    rows, source = _training_rows(settings, data)
    folds = StratifiedKFold(
        n_splits=CV_FOLDS, shuffle=True, random_state=settings.model.random_seed
    )
    client = connect(settings)
    experiment_id = ensure_experiment(client, settings, tuning_experiment())
    started = time.perf_counter()
    results: list[dict] = []
    stop_reason = "all trials ran"
    with mlflow.start_run(
        experiment_id=experiment_id,
        run_name=f"tune-{estimator}",
        tags={"estimator": estimator, "training_data_source": source},
    ) as parent:
        mlflow.log_params({"estimator": estimator, "trials": trials, "cv_folds": CV_FOLDS})
        if budget_seconds is not None:
            mlflow.log_param("budget_seconds", budget_seconds)
        for number, candidate in enumerate(_candidates(settings, estimator, trials), start=1):
            spent = time.perf_counter() - started
            # The first trial always runs: it is what the others are measured against.
            if budget_seconds is not None and number > 1 and spent >= budget_seconds:
                stop_reason = f"budget of {budget_seconds:g} s spent after {number - 1} trials"
                break
            trial = _trial_settings(settings, estimator, candidate)
            trial_started = time.perf_counter()
            with mlflow.start_run(
                experiment_id=experiment_id,
                run_name=f"trial-{number}",
                nested=True,
                tags={"baseline": str(number == 1).lower()},
            ) as child:
                mlflow.log_params(candidate)
                scores = cross_val_score(
                    build_pipeline(trial.model), rows[[TEXT]], rows[LABEL], cv=folds
                )
                seconds = time.perf_counter() - trial_started
                mlflow.log_metrics(
                    {
                        "cv_mean_accuracy": float(np.mean(scores)),
                        "cv_std_accuracy": float(np.std(scores)),
                        "seconds": seconds,
                    }
                )
            results.append(
                {
                    "trial": number,
                    "run_id": child.info.run_id,
                    "cv_mean_accuracy": float(np.mean(scores)),
                    "cv_std_accuracy": float(np.std(scores)),
                    "seconds": round(seconds, 2),
                    "settings": {key: trial.value(key) for key in TUNED_KEYS},
                }
            )
            if progress is not None:
                progress(results[-1])
        best = max(results, key=lambda result: result["cv_mean_accuracy"])
        baseline = results[0]
        gain = best["cv_mean_accuracy"] - baseline["cv_mean_accuracy"]
        mlflow.log_metrics(
            {
                "trials_run": len(results),
                "best_cv_mean_accuracy": best["cv_mean_accuracy"],
                "baseline_cv_mean_accuracy": baseline["cv_mean_accuracy"],
                "cv_gain": gain,
                "seconds": time.perf_counter() - started,
            }
        )
        mlflow.set_tags({"stop_reason": stop_reason, "best_trial_run_id": best["run_id"]})
    path = write_tuned_settings(
        settings.platform.tuned_settings_file,
        best["settings"],
        f"Written by `{PROJECT_SLUG} tune` at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
        f"(MLflow run {parent.info.run_id}):\n"
        f"trial {best['trial']} of {len(results)}, CV accuracy {best['cv_mean_accuracy']:.4f} "
        f"against {baseline['cv_mean_accuracy']:.4f} for the configuration before.\n"
        f"The next `{PROJECT_SLUG} train` uses these; environment variables still win.",
    )
    return {
        "run_id": parent.info.run_id,
        "estimator": estimator,
        "trials_run": len(results),
        "stop_reason": stop_reason,
        "baseline_cv_mean_accuracy": baseline["cv_mean_accuracy"],
        "best_cv_mean_accuracy": best["cv_mean_accuracy"],
        "cv_gain": gain,
        "best": best["settings"],
        "tuned_settings_file": str(path),
        "trials": results,
    }
