"""Continuous training, one function per step.

extract -> validate -> train_challenger -> evaluate -> decide. Each step reads
what the previous one wrote to the logical date's ``training`` partition, so
the steps can run as separate Airflow tasks (on separate workers) or in one
process (``run_training``, behind ``<slug> train``) with the same result.
"""

from __future__ import annotations

import getpass
import logging
import subprocess
import time
from datetime import date
from pathlib import Path
from typing import Any

import mlflow
import mlflow.data
import mlflow.sklearn
import numpy as np
import pandas as pd
import scipy
import sklearn
from mlflow.models import infer_signature
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.schema import (
    LABEL,
    TEXT,
    refuse_unknown_labels,
    validate_labeled,
)
from {{ cookiecutter.package_name }}.data.sources import read_feedback, training_source
from {{ cookiecutter.package_name }}.errors import DataValidationError, LabelsDisagreeError
from {{ cookiecutter.package_name }}.model.estimators import skops_trusted_types
from {{ cookiecutter.package_name }}.model.evaluation import summary
from {{ cookiecutter.package_name }}.model.pipeline import build_pipeline, fit
from {{ cookiecutter.package_name }}.monitoring.alerts import Alert, AlertKind
from {{ cookiecutter.package_name }}.monitoring.delivery import deliver, webhook_url
from {{ cookiecutter.package_name }}.monitoring.model_report import render_comparison_html
from {{ cookiecutter.package_name }}.monitoring.statistics import build_profile
from {{ cookiecutter.package_name }}.settings import CHALLENGER_ALIAS, Settings
from {{ cookiecutter.package_name }}.steps.evaluation import log_training_evaluation, report_for
from {{ cookiecutter.package_name }}.tracking import reference, registry
from {{ cookiecutter.package_name }}.tracking.client import connect, ensure_experiment
from {{ cookiecutter.package_name }}.tracking.evaluation import COMPARISON_HTML, log_comparison
from {{ cookiecutter.package_name }}.tracking.gate import labels_disagree, promotion_decision
from {{ cookiecutter.package_name }}.tracking.lineage import dataset_digest, dataset_source
from {{ cookiecutter.package_name }}.tracking.runs import PROFILE_ARTIFACT

TEST_SIZE = 0.2
CV_FOLDS = 5
# The evaluate step's reports of both models on both sets, which decide's page shows.
COMPARISON_FILE = "comparison.json"
log = logging.getLogger(__name__)


def _requirements() -> list[str]:
    """Pin what unpickling the pipeline needs, not the whole project environment."""
    return [
        f"scikit-learn=={sklearn.__version__}",
        f"numpy=={np.__version__}",
        f"scipy=={scipy.__version__}",
        f"pandas=={pd.__version__}",
    ]


def git_commit(root: Path) -> str | None:
    """The project's current commit, when it is a git checkout with git installed."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _partition(settings: Settings, day: date | str) -> Path:
    return storage.partition_dir(settings.data.data_dir, storage.TRAINING, day)


def extract(
    settings: Settings,
    day: date | str,
    *,
    training_path: Path | str | None = None,
    with_feedback: bool | None = None,
) -> dict:
    """Snapshot the labeled data into the day's partition.

    The configured source, plus the labeled batch rows while
    ``train_on_feedback`` is on; or exactly the file ``training_path``, plus
    those rows only when ``with_feedback`` asks for them.
    """
    source = training_source(settings, training_path)
    frame = source.read_training()
    if training_path is not None and frame.empty:
        raise DataValidationError(
            f"{training_path} has no rows: give a file of labeled {TEXT},{LABEL} rows."
        )
    if with_feedback is None:
        with_feedback = training_path is None and settings.data.train_on_feedback
    feedback = read_feedback(settings) if with_feedback else None
    if feedback is not None and len(feedback):
        frame = pd.concat([frame, feedback], ignore_index=True)
    path = storage.write_parquet(frame, _partition(settings, day) / storage.TRAINING_RAW_FILE)
    return {
        "logical_date": storage.as_date(day).isoformat(),
        "rows": len(frame),
        "feedback_rows": 0 if feedback is None else len(feedback),
        "source": source.training_location(),
        "path": str(path),
    }


def validate(
    settings: Settings,
    day: date | str,
    *,
    source: str | None = None,
    refuse_unknown: bool = False,
) -> dict:
    """Keep the usable rows, set the others aside with their reason, fail if too few remain.

    ``source`` (where extract read the rows) starts the message when it fails.
    With ``refuse_unknown`` (``train`` and the training DAG), a row whose label
    is no label name, even after ``label_map``, fails it in one line instead
    of being set aside: nothing a team labelled is dropped without a word.
    """
    partition = _partition(settings, day)
    try:
        result = validate_labeled(
            pd.read_parquet(partition / storage.TRAINING_RAW_FILE),
            labels=settings.model.labels,
            min_rows=settings.model.min_training_rows,
        )
        if refuse_unknown:
            refuse_unknown_labels(result, "training data")
    except DataValidationError as error:
        if source is None:
            raise
        raise DataValidationError(f"{source}: {error}") from None
    storage.write_parquet(result.valid, partition / storage.TRAINING_VALID_FILE)
    if len(result.rejected):
        storage.write_parquet(
            result.rejected.astype({"reason": "string"}), partition / storage.REJECTS_FILE
        )
    else:
        (partition / storage.REJECTS_FILE).unlink(missing_ok=True)
    return {
        "logical_date": storage.as_date(day).isoformat(),
        "rows": len(result.valid),
        "rejected_rows": len(result.rejected),
        "rejected_by_reason": result.rejected["reason"].value_counts().to_dict(),
        "unknown_labels": result.unknown_labels(),
        "digest": dataset_digest(result.valid),
    }


def train_challenger(
    settings: Settings,
    day: date | str,
    *,
    source: str,
    tags: dict[str, str] | None = None,
) -> dict:
    """Fit on the validated data, log and register the model, give it the challenger alias.

    The hold-out split is written to the partition so that ``evaluate`` scores
    the challenger and the champion on exactly the same rows.
    """
    day = storage.as_date(day)
    partition = _partition(settings, day)
    valid = pd.read_parquet(partition / storage.TRAINING_VALID_FILE)
    rejected = (
        pd.read_parquet(partition / storage.REJECTS_FILE)
        if (partition / storage.REJECTS_FILE).is_file()
        else None
    )
    train_rows, holdout = train_test_split(
        valid, test_size=TEST_SIZE, stratify=valid[LABEL], random_state=settings.model.random_seed
    )
    storage.write_parquet(holdout, partition / storage.TRAINING_HOLDOUT_FILE)
    check_label_agreement(settings, day, holdout)
    x_train, y_train = train_rows[[TEXT]], train_rows[LABEL]
    folds = StratifiedKFold(
        n_splits=CV_FOLDS, shuffle=True, random_state=settings.model.random_seed
    )
    cv_scores = cross_val_score(build_pipeline(settings.model), x_train, y_train, cv=folds)
    pipeline = fit(build_pipeline(settings.model), x_train, y_train)
    predicted = pipeline.predict(holdout[[TEXT]])
    metrics = {
        "training_accuracy": accuracy_score(y_train, pipeline.predict(x_train)),
        "cv_mean_accuracy": float(np.mean(cv_scores)),
        "cv_std_accuracy": float(np.std(cv_scores)),
        "test_accuracy": accuracy_score(holdout[LABEL], predicted),
        # Macro F1 weighs both classes equally whatever the class balance.
        "test_f1": f1_score(holdout[LABEL], predicted, average="macro"),
        "training_rows": float(len(valid)),
        "rejected_rows": float(0 if rejected is None else len(rejected)),
    }
    digest = dataset_digest(valid)
    lineage = {
        "training_data_digest": digest,
        "training_data_source": source,
        "logical_date": day.isoformat(),
        **(tags or {}),
    }
    commit = git_commit(settings.platform.project_root)
    if commit:
        lineage["git_commit"] = commit

    client = connect(settings)
    experiment_id = ensure_experiment(client, settings, settings.training_experiment)
    with mlflow.start_run(experiment_id=experiment_id, tags=lineage) as run:
        mlflow.log_params(
            {
                "estimator": settings.model.estimator,
                "max_features": settings.model.max_features,
                "ngram_max": settings.model.ngram_max,
                "estimator_params": settings.model.estimator_params or "defaults",
                "test_size": TEST_SIZE,
                "cv_folds": CV_FOLDS,
                "random_seed": settings.model.random_seed,
            }
        )
        mlflow.log_metrics(metrics)
        dataset = mlflow.data.from_pandas(
            valid, source=dataset_source(source), name="training-data", digest=digest
        )
        mlflow.log_input(dataset, context="training")
        if rejected is not None:
            mlflow.log_table(rejected.astype(str), "rejected_rows.json")
        # Monitoring compares every batch with this profile of the hold-out.
        mlflow.log_dict(build_profile(pipeline, holdout), PROFILE_ARTIFACT)
        model_info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            signature=infer_signature(x_train.head(20), pipeline.predict(x_train.head(20))),
            pip_requirements=_requirements(),
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_SKOPS,
            skops_trusted_types=skops_trusted_types(settings.model.estimator),
            registered_model_name=settings.model.registered_model_name,
            # No input_example: MLflow validates one by reloading the model with its
            # own loader, which the project keeps off (MLFLOW_ALLOW_PICKLE_DESERIALIZATION
            # =false); `evaluate` loads the registered version with registry.py's instead.
        )
        started = time.perf_counter()
        reference_set = reference.current(client, settings)
        sets = {"holdout": holdout, "reference": reference_set.rows if reference_set else None}
        log_training_evaluation(settings, pipeline, model_info.model_uri, sets)
        metrics["evaluation_seconds"] = time.perf_counter() - started
        mlflow.log_metric("evaluation_seconds", metrics["evaluation_seconds"])
    version = str(model_info.registered_model_version)
    for key, value in lineage.items():
        client.set_model_version_tag(settings.model.registered_model_name, version, key, value)
    client.set_registered_model_alias(
        settings.model.registered_model_name, CHALLENGER_ALIAS, version
    )
    return {"run_id": run.info.run_id, "model_version": version, "metrics": metrics}


def _score(model: Any, rows: pd.DataFrame) -> dict[str, float]:
    predicted = model.predict(rows[[TEXT]])
    return {
        "accuracy": float(accuracy_score(rows[LABEL], predicted)),
        "f1": float(f1_score(rows[LABEL], predicted, average="macro")),
    }


def check_label_agreement(settings: Settings, day: date, holdout: pd.DataFrame) -> dict | None:
    """Stop before anything is registered when the new labels contradict the reference set.

    Scores the champion on the new hold-out and on the reference set; a gap
    wider than ``label_agreement_tolerance`` raises an alert (webhook) and
    LabelsDisagreeError. Nothing to compare before the first champion.
    """
    client = connect(settings)
    champion = registry.champion_version(client, settings)
    reference_set = reference.current(client, settings)
    if champion is None or reference_set is None:
        return None
    model = registry.load_version(settings, str(champion.version))
    on_new = _score(model, holdout)["accuracy"]
    on_reference = _score(model, reference_set.rows)["accuracy"]
    tolerance = settings.model.label_agreement_tolerance
    problem = labels_disagree(on_new, on_reference, tolerance)
    scores = {"champion_new_holdout_accuracy": on_new, "champion_reference_accuracy": on_reference}
    log.info("label agreement: %s", scores)
    if problem is None:
        return scores
    alert = Alert(
        kind=AlertKind.LABEL_DISAGREEMENT,
        metric="champion_new_holdout_accuracy",
        value=on_new,
        threshold=on_reference - tolerance,
        logical_date=day.isoformat(),
        message=problem,
    )
    log.warning("ALERT %s", alert.as_dict())
    deliver([alert], webhook_url(settings), timeout=settings.monitoring.webhook_timeout_seconds)
    raise LabelsDisagreeError(
        f"{problem}. Nothing was registered and champion version {champion.version} stays."
    )


def _reports(settings: Settings, model: Any, sets: dict[str, pd.DataFrame | None]) -> dict:
    """The evaluation report of ``model`` on each labeled set that exists."""
    return {
        name: report_for(settings, model, rows) for name, rows in sets.items() if rows is not None
    }


def _scores(reports: dict) -> dict:
    """What the gate and the run record of a model: hold-out numbers, reference accuracy."""
    scores = {"accuracy": reports["holdout"]["metrics"]["accuracy"]}
    scores["f1"] = reports["holdout"]["metrics"]["macro_f1"]
    scores.update(summary(reports["holdout"]))
    if "reference" in reports:
        scores["reference_accuracy"] = reports["reference"]["metrics"]["accuracy"]
    return scores


def evaluate(settings: Settings, day: date | str, challenger_version: str) -> dict:
    """Score the registered challenger and the current champion on the same hold-out rows,
    and both on the reference set, which the new training data cannot change.

    The full reports go to the partition's ``comparison.json`` for ``decide``'s page.
    """
    partition = _partition(settings, day)
    holdout = pd.read_parquet(partition / storage.TRAINING_HOLDOUT_FILE)
    client = connect(settings)
    name = settings.model.registered_model_name
    challenger = client.get_model_version(name, challenger_version)
    reference_set = reference.current(client, settings)
    sets = {"holdout": holdout, "reference": reference_set.rows if reference_set else None}
    # Loaded back from the registry: what is scored is what was registered.
    challenger_model = registry.load_version(settings, challenger_version)
    reports = {"challenger": _reports(settings, challenger_model, sets), "champion": None}
    result = {
        "challenger_version": str(challenger.version),
        "challenger_run_id": challenger.run_id,
        "challenger": _scores(reports["challenger"]),
        "champion_version": None,
        "champion": None,
        "holdout_rows": len(holdout),
        "reference_run_id": reference_set.run_id if reference_set else None,
        "reference_rows": len(reference_set.rows) if reference_set else 0,
    }
    champion = registry.champion_version(client, settings)
    if champion is not None and str(champion.version) != result["challenger_version"]:
        result["champion_version"] = str(champion.version)
        champion_model = registry.load_version(settings, str(champion.version))
        reports["champion"] = _reports(settings, champion_model, sets)
        result["champion"] = _scores(reports["champion"])
    storage.write_json(reports, partition / COMPARISON_FILE)
    metrics = {"challenger_holdout_accuracy": result["challenger"]["accuracy"]}
    if "reference_accuracy" in result["challenger"]:
        metrics["challenger_reference_accuracy"] = result["challenger"]["reference_accuracy"]
    if result["champion"]:
        metrics["champion_holdout_accuracy"] = result["champion"]["accuracy"]
        if "reference_accuracy" in result["champion"]:
            metrics["champion_reference_accuracy"] = result["champion"]["reference_accuracy"]
    with mlflow.start_run(run_id=challenger.run_id):
        mlflow.log_metrics(metrics)
    return result


def decide(
    settings: Settings, day: date | str, evaluation: dict, *, actor: str | None = None
) -> dict:
    """Promote the challenger if it passes the gate; otherwise tag it with why not.

    The first champion's hold-out becomes the reference set, if there is none yet.
    """
    challenger = evaluation["challenger"]["accuracy"]
    champion = evaluation["champion"]["accuracy"] if evaluation["champion"] else None
    promote, reason = promotion_decision(
        challenger,
        champion,
        settings.model.min_accuracy,
        settings.model.min_improvement,
        challenger_reference=evaluation["challenger"].get("reference_accuracy"),
        champion_reference=(evaluation["champion"] or {}).get("reference_accuracy"),
        reference_tolerance=settings.model.reference_tolerance,
    )
    client = connect(settings)
    version = evaluation["challenger_version"]
    actor = actor or "training-gate"
    if promote:
        registry.promote(client, settings, version, reason=reason, actor=actor)
        if evaluation.get("reference_run_id") is None:
            holdout = pd.read_parquet(_partition(settings, day) / storage.TRAINING_HOLDOUT_FILE)
            evaluation["reference_run_id"] = reference.replace(
                client,
                settings,
                holdout,
                source=str(_partition(settings, day) / storage.TRAINING_HOLDOUT_FILE),
                reason=f"the hold-out of version {version}, the first champion with a reference",
                actor=actor,
            )
            evaluation["reference_rows"] = len(holdout)
    else:
        registry.reject(
            client, settings, version, reason=reason, challenger=challenger, champion=champion
        )
    page = write_comparison(settings, day, evaluation, promoted=promote, reason=reason)
    log.info(
        "version %s %s: %s. Champion and challenger side by side: %s",
        version,
        "promoted" if promote else "rejected",
        reason,
        page["comparison_artifact"],
    )
    return {
        "logical_date": storage.as_date(day).isoformat(),
        "model_version": version,
        "promoted": promote,
        "reason": reason,
        **evaluation,
        **page,
    }


def write_comparison(
    settings: Settings, day: date | str, evaluation: dict, *, promoted: bool, reason: str
) -> dict:
    """The champion/challenger page, in the partition and on the challenger's run."""
    partition = _partition(settings, day)
    reports = storage.read_json(partition / COMPARISON_FILE)
    comparison = {
        "logical_date": storage.as_date(day).isoformat(),
        "promoted": promoted,
        "reason": reason,
        "challenger": {"version": evaluation["challenger_version"], **reports["challenger"]},
        "champion": (
            {"version": evaluation["champion_version"], **reports["champion"]}
            if reports["champion"]
            else None
        ),
    }
    html = render_comparison_html(comparison)
    path = storage.write_text(html, partition / COMPARISON_HTML)
    client = connect(settings)
    run_id = evaluation.get("challenger_run_id")
    if run_id is None:  # an evaluation recorded before the run id was part of it
        name = settings.model.registered_model_name
        run_id = client.get_model_version(name, evaluation["challenger_version"]).run_id
    uri = log_comparison(run_id, html, comparison)
    return {"comparison_page": str(path), "comparison_artifact": uri}


def run_training(
    settings: Settings,
    day: date | str,
    *,
    training_path: Path | str | None = None,
    with_feedback: bool | None = None,
    tags: dict[str, str] | None = None,
) -> dict:
    """All steps in one process, with the same gate as the training DAG."""
    extracted = extract(settings, day, training_path=training_path, with_feedback=with_feedback)
    validated = validate(settings, day, source=extracted["source"], refuse_unknown=True)
    trained = train_challenger(settings, day, source=extracted["source"], tags=tags)
    evaluation = evaluate(settings, day, trained["model_version"])
    decision = decide(settings, day, evaluation, actor=getpass.getuser())
    return {
        **decision,
        "run_id": trained["run_id"],
        "metrics": trained["metrics"],
        "rows": validated["rows"],
        "rejected_rows": validated["rejected_rows"],
    }
