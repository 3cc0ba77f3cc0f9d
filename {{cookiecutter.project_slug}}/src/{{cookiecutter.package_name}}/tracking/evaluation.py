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

EVALUATION_DIR = "evaluation"
COMPARISON_HTML = "comparison.html"
COMPARISON_JSON = "comparison.json"
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
    config = {"log_model_explainability": False, "metric_prefix": f"{prefix}_"}
    classes = [str(label) for label in model.classes_]
    if len(classes) == 2:
        # The second class (sorted: "positive" of negative,positive) is the positive one;
        # with more classes the evaluator reports per class and needs none.
        config["pos_label"] = classes[-1]
    result = mlflow.models.evaluate(
        model=logged,
        data=dataset,
        model_type="classifier",
        evaluators=["default"],
        evaluator_config={"default": config},
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
    # Per class: <prefix>_class_<label>_precision, _recall, _f1 (holdout_class_neutral_recall);
    # "class_" keeps a label such as "macro" from taking a headline metric's name.
    for label, scores in report.get("per_class", {}).items():
        for name in ("precision", "recall", "f1"):
            metrics[f"{prefix}_class_{label}_{name}"] = float(scores[name])
    mlflow.log_metrics(metrics)
    mlflow.log_dict(report, f"{EVALUATION_DIR}/{prefix}_report.json")
    mlflow.log_text(html, f"{EVALUATION_DIR}/{prefix}_report.html")
    return metrics


def log_comparison(run_id: str, html: str, comparison: dict) -> str:
    """The champion/challenger page on the challenger's run; its artifact URI."""
    with mlflow.start_run(run_id=run_id):
        mlflow.log_text(html, f"{EVALUATION_DIR}/{COMPARISON_HTML}")
        mlflow.log_dict(comparison, f"{EVALUATION_DIR}/{COMPARISON_JSON}")
        return mlflow.get_artifact_uri(f"{EVALUATION_DIR}/{COMPARISON_HTML}")
