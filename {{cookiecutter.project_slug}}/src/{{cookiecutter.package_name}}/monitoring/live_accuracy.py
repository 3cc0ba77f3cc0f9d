"""Accuracy on arrived labels, told apart by how their rows were chosen.

The labelling queue (steps/label_requests.py) asks mostly for the rows the
model was least sure of: their accuracy is biased low. Only the rows it
drew uniformly at random (``reason`` ``random``) estimate the accuracy of
the whole batch without bias, so they are scored on their own, with a 95 %
interval: Wilson's score interval for the accuracy (sound at small samples
and near 0 or 1, where the normal approximation is not), a seeded bootstrap
for the macro F1 (which has no closed form). All labels are scored too, as
the biased figure.

Pure: NumPy only, no MLflow and no I/O (an import-linter contract keeps it so).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# The two-sided 95 % quantile of the standard normal distribution.
Z_95 = 1.959963984540054
BOOTSTRAP_RESAMPLES = 1000
# Resampled labels held at once: the bootstrap runs in blocks of this many cells.
BOOTSTRAP_BLOCK_CELLS = 2_000_000
# What ground truth logs for a day, besides the label coverage, in one place.
UNBIASED = (
    "accuracy_unbiased",
    "accuracy_unbiased_ci_low",
    "accuracy_unbiased_ci_high",
    "macro_f1_unbiased",
    "macro_f1_unbiased_ci_low",
    "macro_f1_unbiased_ci_high",
    "labeled_random_rows",
)
BIASED = ("accuracy_all_labels_biased", "macro_f1_all_labels_biased", "labeled_rows")
# The day's champion against the challenger scored in the shadow, on the same labelled rows.
SHADOW_PREFIX = "shadow_"


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson's score interval of a proportion: ``successes`` of ``trials`` (95 % by default)."""
    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(f"{successes} successes of {trials} trials is not a proportion.")
    share = successes / trials
    spread = z * z / trials
    centre = (share + spread / 2) / (1 + spread)
    half = z * math.sqrt(share * (1 - share) / trials + spread / (4 * trials)) / (1 + spread)
    return max(0.0, centre - half), min(1.0, centre + half)


def _codes(truth: Sequence, predicted: Sequence) -> tuple[np.ndarray, np.ndarray, int]:
    truth, predicted = np.asarray(truth, dtype=str), np.asarray(predicted, dtype=str)
    classes = np.unique(np.concatenate([truth, predicted]))
    return np.searchsorted(classes, truth), np.searchsorted(classes, predicted), len(classes)


def _macro_f1_rows(truth: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """Macro F1 of each row of 2-D code arrays, over the classes the row shows (as sklearn)."""
    scores = np.full((truth.shape[0], classes), np.nan)
    for code in range(classes):
        actual, guessed = truth == code, predicted == code
        # 2 tp / (2 tp + fp + fn), and 2 tp + fp + fn = actual + guessed.
        shown = actual.sum(axis=1) + guessed.sum(axis=1)
        hits = (actual & guessed).sum(axis=1)
        scores[:, code] = np.where(shown > 0, 2 * hits / np.maximum(shown, 1), np.nan)
    return np.nanmean(scores, axis=1)


def macro_f1(truth: Sequence, predicted: Sequence) -> float:
    """The unweighted mean F1 of the classes in ``truth`` or ``predicted``."""
    codes_true, codes_predicted, classes = _codes(truth, predicted)
    return float(_macro_f1_rows(codes_true[None, :], codes_predicted[None, :], classes)[0])


def macro_f1_interval(
    truth: Sequence, predicted: Sequence, *, seed: int, resamples: int = BOOTSTRAP_RESAMPLES
) -> tuple[float, float]:
    """A 95 % percentile-bootstrap interval of the macro F1: the same for the same seed."""
    codes_true, codes_predicted, classes = _codes(truth, predicted)
    rows = len(codes_true)
    rng = np.random.default_rng(seed)
    block = max(1, BOOTSTRAP_BLOCK_CELLS // max(rows, 1))
    scores = []
    for start in range(0, resamples, block):
        picks = rng.integers(0, rows, size=(min(block, resamples - start), rows))
        scores.append(_macro_f1_rows(codes_true[picks], codes_predicted[picks], classes))
    low, high = np.percentile(np.concatenate(scores), [2.5, 97.5])
    return float(low), float(high)


def live_accuracy(
    truth: Sequence, predicted: Sequence, random: Sequence[bool], *, min_rows: int, seed: int
) -> dict[str, float]:
    """Accuracy and macro F1 of a day's labeled rows: on the random part, and on all.

    ``random`` says which rows the queue drew at random. Each figure needs
    ``min_rows`` rows. ``accuracy`` and ``f1`` are the figures monitoring
    judges: the unbiased ones when there are enough, else those of all
    labels, and ``accuracy_is_unbiased`` says which (1 or 0).
    """
    truth, predicted = np.asarray(truth, dtype=str), np.asarray(predicted, dtype=str)
    random = np.asarray(random, dtype=bool)
    correct = truth == predicted
    metrics: dict[str, float] = {}
    if len(truth) >= min_rows:
        metrics["accuracy_all_labels_biased"] = float(correct.mean())
        metrics["macro_f1_all_labels_biased"] = macro_f1(truth, predicted)
        metrics["labeled_rows"] = float(len(truth))
    drawn = int(random.sum())
    if drawn >= min_rows:
        low, high = wilson_interval(int(correct[random].sum()), drawn)
        f1_low, f1_high = macro_f1_interval(truth[random], predicted[random], seed=seed)
        metrics.update(
            accuracy_unbiased=float(correct[random].mean()),
            accuracy_unbiased_ci_low=low,
            accuracy_unbiased_ci_high=high,
            macro_f1_unbiased=macro_f1(truth[random], predicted[random]),
            macro_f1_unbiased_ci_low=f1_low,
            macro_f1_unbiased_ci_high=f1_high,
            labeled_random_rows=float(drawn),
        )
    if "accuracy_unbiased" in metrics:
        metrics.update(
            accuracy=metrics["accuracy_unbiased"],
            f1=metrics["macro_f1_unbiased"],
            accuracy_is_unbiased=1.0,
        )
    elif "accuracy_all_labels_biased" in metrics:
        metrics.update(
            accuracy=metrics["accuracy_all_labels_biased"],
            f1=metrics["macro_f1_all_labels_biased"],
            accuracy_is_unbiased=0.0,
        )
    return metrics


def agreeing_rows(first: Sequence, second: Sequence) -> int:
    """How many rows two models gave the same label (the shadow's agreement counts these)."""
    first, second = np.asarray(first, dtype=str), np.asarray(second, dtype=str)
    if first.shape != second.shape:
        raise ValueError(f"{len(first)} labels against {len(second)}: not the same rows.")
    return int((first == second).sum())


def shadow_comparison(
    truth: Sequence,
    champion: Sequence,
    challenger: Sequence,
    random: Sequence[bool],
    *,
    min_rows: int,
) -> dict[str, float]:
    """Both models' accuracy on the same labelled rows, as ``shadow_*`` metrics.

    On the random part (unbiased, each with Wilson's 95 % interval) once it
    has ``min_rows`` rows, and on all labels (biased) once they have as many.
    """
    truth = np.asarray(truth, dtype=str)
    random = np.asarray(random, dtype=bool)
    models = {
        "champion": np.asarray(champion, dtype=str),
        "challenger": np.asarray(challenger, dtype=str),
    }
    metrics: dict[str, float] = {}
    if len(truth) >= min_rows:
        metrics[f"{SHADOW_PREFIX}labeled_rows"] = float(len(truth))
        for name, predicted in models.items():
            metrics[f"{SHADOW_PREFIX}{name}_accuracy_all_labels_biased"] = float(
                (predicted == truth).mean()
            )
    drawn = int(random.sum())
    if drawn >= min_rows:
        metrics[f"{SHADOW_PREFIX}labeled_random_rows"] = float(drawn)
        for name, predicted in models.items():
            correct = int((predicted[random] == truth[random]).sum())
            low, high = wilson_interval(correct, drawn)
            metrics[f"{SHADOW_PREFIX}{name}_accuracy_unbiased"] = correct / drawn
            metrics[f"{SHADOW_PREFIX}{name}_accuracy_unbiased_ci_low"] = low
            metrics[f"{SHADOW_PREFIX}{name}_accuracy_unbiased_ci_high"] = high
    return metrics
