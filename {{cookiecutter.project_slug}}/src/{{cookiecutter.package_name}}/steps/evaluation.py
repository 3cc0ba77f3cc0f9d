"""Evaluation reports: with every trained version, and for any version on any labeled file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.schema import refuse_unknown_labels, validate_labeled
from {{ cookiecutter.package_name }}.data.sources import training_source
from {{ cookiecutter.package_name }}.errors import DataValidationError, UsageError
from {{ cookiecutter.package_name }}.model.evaluation import evaluation_report
from {{ cookiecutter.package_name }}.monitoring.model_report import render_evaluation_html
from {{ cookiecutter.package_name }}.settings import CHAMPION_ALIAS, PROJECT_SLUG, Settings
from {{ cookiecutter.package_name }}.tracking import reference, registry
from {{ cookiecutter.package_name }}.tracking.client import connect
from {{ cookiecutter.package_name }}.tracking.evaluation import log_report, run_classifier_evaluator

EVALUATIONS = "evaluations"


def report_for(settings: Settings, model: Any, rows: pd.DataFrame) -> dict:
    """The evaluation report of ``model`` on ``rows``, with the project's confidence thresholds."""
    return evaluation_report(
        model,
        rows,
        low_confidence_threshold=settings.monitoring.low_confidence_threshold,
        high_confidence_threshold=settings.monitoring.high_confidence_threshold,
    )


def log_training_evaluation(
    settings: Settings, model: Any, model_uri: str, sets: dict[str, pd.DataFrame | None]
) -> None:
    """Inside the training run: the report on each labeled set (hold-out, reference), and
    MLflow's evaluator on the hold-out only: its PNG plots cost about 2 s a set."""
    if settings.model.mlflow_evaluator:
        run_classifier_evaluator(model, model_uri, sets["holdout"], prefix="holdout")
    for name, rows in sets.items():
        if rows is None:
            continue
        report = report_for(settings, model, rows)
        html = render_evaluation_html(report, model="the new version", data=f"its {name} set")
        log_report(report, html, prefix=name)


def _resolve_version(settings: Settings, version: str | None, alias: str | None) -> Any:
    client = connect(settings)
    if version is not None:
        return registry.model_version(client, settings, version)
    found = registry.alias_version(client, settings, alias or CHAMPION_ALIAS)
    if found is None:
        raise UsageError(
            f"no version of '{settings.model.registered_model_name}' has the alias "
            f"'{alias or CHAMPION_ALIAS}': pass --version N, or run `{PROJECT_SLUG} train` first."
        )
    return found


def _labeled_rows(settings: Settings, data: Path | None) -> tuple[pd.DataFrame, str]:
    if data is not None:
        try:
            frame = training_source(settings, data).read_training()
            rows = validate_labeled(frame, labels=settings.model.labels, min_rows=1)
            return refuse_unknown_labels(rows, str(data)).valid, data.name
        except DataValidationError as error:
            message = str(error)
            raise DataValidationError(
                message if str(data) in message else f"{data}: {message}"
            ) from None
    current = reference.current(connect(settings), settings)
    if current is None:
        raise UsageError(
            "there is no reference set yet to evaluate on: pass --data with a labeled "
            "text,sentiment file."
        )
    return current.rows, "the reference set"


def evaluate_version(
    settings: Settings,
    *,
    version: str | None = None,
    alias: str | None = None,
    data: Path | None = None,
) -> dict:
    """Write the report of one registered version on a labeled file (default: the reference set).

    An HTML page and a JSON file under ``<data_dir>/evaluations/``; their paths and
    the headline numbers are returned.
    """
    rows, data_name = _labeled_rows(settings, data)
    model_version = _resolve_version(settings, version, alias)
    model = registry.load_version(settings, str(model_version.version))
    report = report_for(settings, model, rows)
    label = f"version {model_version.version}"
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(data_name).stem if data else "reference")
    target = Path(settings.data.data_dir) / EVALUATIONS / f"version-{model_version.version}"
    html = render_evaluation_html(report, model=label, data=data_name)
    html_path = storage.write_text(html, target / f"{stem}.html")
    json_path = storage.write_json(
        {"model_version": str(model_version.version), "data": data_name, **report},
        target / f"{stem}.json",
    )
    return {
        "model_version": str(model_version.version),
        "data": data_name,
        "metrics": report["metrics"],
        "html": str(html_path),
        "json": str(json_path),
    }
