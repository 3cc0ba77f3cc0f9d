"""What a fitted model gets right and wrong on labeled rows: pure numbers, no MLflow, no I/O.

``evaluation_report`` is the one entry point; training logs its result with
each version, ``<slug> evaluate`` renders it for any version on any file,
and the champion/challenger comparison puts two of them side by side.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.data.schema import LABEL, TEXT
from {{ cookiecutter.package_name }}.model.pipeline import CLASSIFIER_STEP, vectorizer

CALIBRATION_BINS = 10
CONFIDENTLY_WRONG = 20
TOP_NGRAMS = 15
# Points kept of the ROC and precision-recall curves: enough for a chart.
CURVE_POINTS = 101
# The headline numbers, in the order the pages show them.
SUMMARY_METRICS = (
    "accuracy",
    "macro_f1",
    "macro_precision",
    "macro_recall",
    "roc_auc",
    "log_loss",
    "expected_calibration_error",
    "high_confidence_accuracy",
    "high_confidence_share",
    "low_confidence_accuracy",
    "low_confidence_share",
)


def calibration_table(
    correct: np.ndarray, confidence: np.ndarray, bins: int, *, floor: float = 0.0
) -> list[dict]:
    """Rows per equal-width confidence bin: how sure the model was, and how often it was right.

    The bins span ``floor`` to 1: the top-class confidence of c classes is at least 1/c.
    """
    edges = np.round(np.linspace(floor, 1.0, bins + 1), 4)
    # A bin holds [lower, upper); the last one also holds 1.0.
    index = np.clip(np.digitize(confidence, edges[1:-1], right=False), 0, bins - 1)
    table = []
    for position in range(bins):
        members = index == position
        count = int(members.sum())
        table.append(
            {
                "lower": float(edges[position]),
                "upper": float(edges[position + 1]),
                "count": count,
                "mean_confidence": float(confidence[members].mean()) if count else None,
                "accuracy": float(correct[members].mean()) if count else None,
            }
        )
    return table


def expected_calibration_error(table: list[dict]) -> float:
    """The count-weighted mean gap between confidence and accuracy over the bins."""
    total = sum(row["count"] for row in table)
    if not total:
        return 0.0
    return float(
        sum(
            row["count"] / total * abs(row["accuracy"] - row["mean_confidence"])
            for row in table
            if row["count"]
        )
    )


def _at_threshold(correct: np.ndarray, confidence: np.ndarray, threshold: float) -> tuple:
    """Accuracy of the predictions at or above ``threshold``, and their share of all."""
    kept = confidence >= threshold
    accuracy = float(correct[kept].mean()) if kept.any() else None
    return accuracy, float(kept.mean()) if len(kept) else 0.0


def _curve(xs: np.ndarray, ys: np.ndarray) -> list[list[float]]:
    """At most CURVE_POINTS points of a curve, its ends kept."""
    keep = np.unique(np.linspace(0, len(xs) - 1, min(len(xs), CURVE_POINTS)).astype(int))
    return [[round(float(xs[i]), 5), round(float(ys[i]), 5)] for i in keep]


def _binary_curves(truth: np.ndarray, scores: np.ndarray) -> dict:
    """ROC and precision-recall curves of the second class, and the areas under them."""
    from sklearn.metrics import auc, precision_recall_curve, roc_auc_score, roc_curve

    if truth.all() or not truth.any():
        return {"roc_auc": None, "roc_curve": [], "pr_auc": None, "pr_curve": []}
    false_positive_rate, true_positive_rate, _ = roc_curve(truth, scores)
    precision, recall, _ = precision_recall_curve(truth, scores)
    order = np.argsort(recall, kind="stable")
    return {
        "roc_auc": float(roc_auc_score(truth, scores)),
        "roc_curve": _curve(false_positive_rate, true_positive_rate),
        "pr_auc": float(auc(recall[order], precision[order])),
        "pr_curve": _curve(recall[order], precision[order]),
    }


def class_evidence(model: Any) -> np.ndarray | None:
    """Per class, how much each feature pushes a row towards that class; None if not linear.

    Logistic regression and SGD: ``coef_`` (one row for two classes: for the
    second class, and negated for the first). The calibrated LinearSVC: its
    folds' base estimators' ``coef_``, averaged. Complement naive Bayes:
    ``feature_log_prob_`` of each class less the mean of the others' (it
    predicts the class with the largest ``X @ feature_log_prob_.T``).
    """
    classifier = model.named_steps[CLASSIFIER_STEP]
    n_classes = len(classifier.classes_)
    if hasattr(classifier, "calibrated_classifiers_"):
        folds = classifier.calibrated_classifiers_
        weights = np.mean([fold.estimator.coef_ for fold in folds], axis=0)
    elif hasattr(classifier, "coef_"):
        weights = np.asarray(classifier.coef_)
    elif hasattr(classifier, "feature_log_prob_"):
        log_prob = np.asarray(classifier.feature_log_prob_)
        others = (log_prob.sum(axis=0, keepdims=True) - log_prob) / max(n_classes - 1, 1)
        return log_prob - others
    else:
        return None
    weights = np.asarray(weights, dtype=float)
    if weights.shape[0] == 1 and n_classes == 2:
        return np.vstack([-weights[0], weights[0]])
    return weights


def top_ngrams(model: Any, top: int = TOP_NGRAMS) -> dict[str, list[list]] | None:
    """The n-grams that count most for each class, with their weight; None if not linear."""
    evidence = class_evidence(model)
    if evidence is None:
        return None
    terms = np.empty(len(vectorizer(model).vocabulary_), dtype=object)
    for term, index in vectorizer(model).vocabulary_.items():
        terms[index] = term
    classes = model.named_steps[CLASSIFIER_STEP].classes_
    result = {}
    for position, label in enumerate(classes):
        best = np.argsort(evidence[position])[::-1][:top]
        result[str(label)] = [[str(terms[i]), round(float(evidence[position][i]), 5)] for i in best]
    return result


def _ovr_roc_auc(truth: np.ndarray, probabilities: np.ndarray) -> tuple[float | None, list]:
    """One-vs-rest ROC AUC of each class, and their mean; None where a class is absent or alone."""
    from sklearn.metrics import roc_auc_score

    per_class = []
    for position in range(probabilities.shape[1]):
        members = truth == position
        per_class.append(
            float(roc_auc_score(members, probabilities[:, position]))
            if members.any() and not members.all()
            else None
        )
    known = [value for value in per_class if value is not None]
    return (float(np.mean(known)) if len(known) == len(per_class) else None), per_class


def per_class_scores(matrix: np.ndarray, classes: list[str]) -> dict[str, dict]:
    """Precision, recall, F1 and support of each class, from the confusion matrix."""
    true_positives = np.diag(matrix).astype(float)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)

    def ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
        return np.divide(top, bottom, out=np.zeros_like(top, dtype=float), where=bottom > 0)

    precision, recall = ratio(true_positives, predicted), ratio(true_positives, actual)
    f1 = ratio(2 * true_positives, predicted + actual)
    return {
        label: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(actual[i]),
        }
        for i, label in enumerate(classes)
    }


def _macro_f1(matrix: np.ndarray) -> float:
    """Macro F1 from a confusion matrix (rows true, columns predicted); 0 for an absent class."""
    true_positives = np.diag(matrix).astype(float)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    denominator = predicted + actual
    scores = np.divide(
        2 * true_positives, denominator, out=np.zeros_like(true_positives), where=denominator > 0
    )
    return float(scores.mean())


def evaluation_report(
    model: Any,
    rows: pd.DataFrame,
    *,
    low_confidence_threshold: float,
    high_confidence_threshold: float,
) -> dict:
    """Everything the evaluation pages show about ``model`` on labeled ``rows``, JSON-ready.

    The counts and scores are computed from the class indices in NumPy: the
    same numbers as scikit-learn's metrics (the tests check), at a fraction
    of their input checks' cost on string labels.
    """
    classes = [str(label) for label in model.classes_]
    labels = rows[LABEL].astype(str).to_numpy()
    unknown = sorted(set(labels) - set(classes))
    if unknown:
        raise ValueError(f"labels {unknown} are not classes the model knows ({classes})")
    truth = np.searchsorted(np.asarray(classes), labels)
    probabilities = model.predict_proba(rows[[TEXT]])
    best = probabilities.argmax(axis=1)
    confidence = probabilities[np.arange(len(rows)), best]
    correct = best == truth
    matrix = np.zeros((len(classes), len(classes)), dtype=int)
    np.add.at(matrix, (truth, best), 1)
    table = calibration_table(correct, confidence, CALIBRATION_BINS, floor=1 / len(classes))
    high_accuracy, high_share = _at_threshold(correct, confidence, high_confidence_threshold)
    low_accuracy, low_share = _at_threshold(correct, confidence, low_confidence_threshold)
    true_class = np.clip(probabilities[np.arange(len(rows)), truth], 1e-15, 1.0)
    per_class = per_class_scores(matrix, classes)
    metrics = {
        "rows": len(rows),
        "accuracy": float(correct.mean()),
        "macro_f1": _macro_f1(matrix),
        "macro_precision": float(np.mean([s["precision"] for s in per_class.values()])),
        "macro_recall": float(np.mean([s["recall"] for s in per_class.values()])),
        "log_loss": float(-np.log(true_class).mean()),
        "expected_calibration_error": expected_calibration_error(table),
        "high_confidence_accuracy": high_accuracy,
        "high_confidence_share": high_share,
        "low_confidence_accuracy": low_accuracy,
        "low_confidence_share": low_share,
    }
    if len(classes) == 2:
        curves = _binary_curves(truth == 1, probabilities[:, 1])
    else:
        # One-vs-rest: each class against the others; the headline is their mean.
        roc_auc, class_auc = _ovr_roc_auc(truth, probabilities)
        curves = {"roc_auc": roc_auc, "roc_curve": [], "pr_auc": None, "pr_curve": []}
        for label, value in zip(classes, class_auc, strict=True):
            per_class[label]["roc_auc"] = value
    metrics["roc_auc"] = curves.pop("roc_auc")
    metrics["pr_auc"] = curves.pop("pr_auc")
    wrong = np.flatnonzero(~correct)
    worst = wrong[np.argsort(-confidence[wrong], kind="stable")][:CONFIDENTLY_WRONG]
    texts = rows[TEXT].astype(str).to_numpy()
    return {
        "metrics": metrics,
        "thresholds": {"low": low_confidence_threshold, "high": high_confidence_threshold},
        "confusion_matrix": {"labels": classes, "counts": matrix.tolist()},
        "per_class": per_class,
        "calibration": table,
        **curves,
        "confidently_wrong": [
            {
                "text": str(texts[i]),
                "label": classes[truth[i]],
                "prediction": classes[best[i]],
                "confidence": round(float(confidence[i]), 5),
            }
            for i in worst
        ],
        "top_ngrams": top_ngrams(model),
    }


def summary(report: dict) -> dict[str, float | None]:
    """The headline metrics of a report, for the comparison and the gate's record."""
    return {name: report["metrics"].get(name) for name in SUMMARY_METRICS}
