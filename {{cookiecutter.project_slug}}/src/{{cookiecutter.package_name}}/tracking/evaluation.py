"""Evaluation reports on MLflow runs: MLflow's classifier evaluator, and the project's report.

Both log to the active run. Artifact and metric names start with the data
set's name (``holdout``, ``reference``), so one run holds a report of each.
"""

from __future__ import annotations

import logging
from typing import Any

import mlflow
import mlflow.data
import mlflow.models
import mlflow.pyfunc
import pandas as pd
from mlflow.models import Model

from {{ cookiecutter.package_name }}.data.schema import LABEL, TEXT
from {{ cookiecutter.package_name }}.settings import LABELS

EVALUATION_DIR = "evaluation"
COMPARISON_HTML = "comparison.html"
log = logging.getLogger(__name__)


def run_classifier_evaluator(
    model: Any, model_uri: str, rows: pd.DataFrame, *, prefix: str
) -> dict:
    """``mlflow.models.evaluate`` on the logged model: metrics, confusion matrix, ROC, PR curves.

    The fitted pipeline goes in with the logged model's metadata, so MLflow's
    own loader, which the project keeps off (it takes skops' trusted types
    from the model file), never runs. SHAP explanations are off: on TF-IDF
    features they take minutes and say less than the report's n-grams.
    """
    logged = mlflow.pyfunc.PyFuncModel(model_meta=Model.load(model_uri), model_impl=model)
    # Named, so the run's inputs tell this set from the training data.
    dataset = mlflow.data.from_pandas(
        rows[[TEXT, LABEL]].reset_index(drop=True), targets=LABEL, name=f"{prefix}-set"
    )
    result = mlflow.models.evaluate(
        model=logged,
        data=dataset,
        model_type="classifier",
        evaluators=["default"],
        evaluator_config={
            "default": {
                "log_model_explainability": False,
                "pos_label": LABELS[-1],
                "metric_prefix": f"{prefix}_",
            }
        },
    )
    return {name: float(value) for name, value in result.metrics.items()}


def log_report(report: dict, html: str, *, prefix: str) -> dict[str, float]:
    """The project's report as JSON (calibration table and worst mistakes included) and HTML,
    and its headline numbers as metrics."""
    metrics = {
        f"{prefix}_{name}": float(value)
        for name, value in report["metrics"].items()
        if value is not None and name != "rows"
    }
    mlflow.log_metrics(metrics)
    mlflow.log_dict(report, f"{EVALUATION_DIR}/{prefix}_report.json")
    mlflow.log_text(html, f"{EVALUATION_DIR}/{prefix}_report.html")
    return metrics


def log_comparison(run_id: str, html: str, comparison: dict) -> str:
    """The champion/challenger page on the challenger's run; its artifact URI."""
    with mlflow.start_run(run_id=run_id):
        mlflow.log_text(html, f"{EVALUATION_DIR}/{COMPARISON_HTML}")
        mlflow.log_dict(comparison, f"{EVALUATION_DIR}/comparison.json")
        return mlflow.get_artifact_uri(f"{EVALUATION_DIR}/{COMPARISON_HTML}")
