"""Pure statistics of scored batches: histograms, class shares, PSI, drift against a profile.

No MLflow and no I/O (an import-linter contract keeps it so). Batch counts
are mergeable: shards or chunks counted apart add up to the same figures.

Confidence alone barely moves when the input domain changes, so a batch is
compared on three axes: its confidence distribution (population stability
index), the share of tokens the vectorizer has never seen, and the shares of
the predicted classes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.data.schema import TEXT
from {{ cookiecutter.package_name }}.model.pipeline import known_token_counts

# Top-class confidence of K classes lies in [1/K, 1]: ten equal bins over it.
CONFIDENCE_BIN_COUNT = 10
# Keeps PSI finite when a bin is empty on one side.
EPSILON = 1e-4


def confidence_bins(n_classes: int) -> np.ndarray:
    """The edges of the confidence histogram of ``n_classes`` classes: 1/K to 1 in ten bins."""
    return np.linspace(1.0 / n_classes, 1.0, CONFIDENCE_BIN_COUNT + 1)


def confidence_counts(confidence: np.ndarray, n_classes: int = 2) -> np.ndarray:
    """How many confidences fall in each bin of ``confidence_bins(n_classes)``."""
    bins = confidence_bins(n_classes)
    return np.histogram(np.clip(confidence, bins[0], 1.0), bins=bins)[0]


def exact_sum_parts(values: np.ndarray) -> dict[int, int]:
    """``values`` summed exactly, as integers per binary exponent (value = integer * 2**(e - 53)).

    Float addition depends on its order, so sums taken per chunk or per shard
    and then added would differ in the last bits from one pass. Integer sums
    do not: a batch scored in any number of shards gets the same average.
    """
    mantissa, exponent = np.frexp(np.asarray(values, dtype=np.float64))
    integer = (mantissa * 2.0**53).astype(np.int64)  # exact: a float64 mantissa has 53 bits
    # Halves of 27 bits, so int64 sums of up to 2**36 values cannot overflow.
    high, low = integer >> 26, integer & (2**26 - 1)
    parts = {}
    for power in np.unique(exponent).tolist():
        mask = exponent == power
        parts[power] = int(high[mask].sum()) * 2**26 + int(low[mask].sum())
    return parts


def add_parts(one: dict[int, int], other: dict[int, int]) -> dict[int, int]:
    return {power: one.get(power, 0) + other.get(power, 0) for power in {*one, *other}}


def parts_value(parts: dict[int, int]) -> Fraction:
    return sum(
        (Fraction(total) * Fraction(2) ** (power - 53) for power, total in parts.items()),
        Fraction(0),
    )


def normalized(counts: np.ndarray) -> list[float]:
    total = counts.sum()
    return (counts / total).tolist() if total else [0.0] * len(counts)


def confidence_histogram(confidence: np.ndarray, n_classes: int = 2) -> list[float]:
    return normalized(confidence_counts(confidence, n_classes))


def class_shares(predicted: pd.Series, labels: list[str]) -> dict[str, float]:
    total = len(predicted)
    return {label: float((predicted == label).sum() / total) if total else 0.0 for label in labels}


def oov_rate(pipeline: Any, texts: pd.Series) -> float:
    """Share of word tokens that are not in the fitted vocabulary."""
    known, total = known_token_counts(pipeline, texts)
    return 1.0 - known / total if total else 0.0


@dataclass
class BatchStats:
    """Counts over every scored row, added chunk by chunk, from which the run's metrics come."""

    classes: list[str]
    low_threshold: float
    high_threshold: float
    rows: int = 0
    # The exact sum of every confidence (see exact_sum_parts).
    confidence_parts: dict[int, int] = field(default_factory=dict)
    low_confidence: int = 0
    high_confidence: int = 0
    class_counts: dict[str, int] = field(default_factory=dict)
    histogram: np.ndarray = field(default_factory=lambda: np.zeros(CONFIDENCE_BIN_COUNT))
    oov_known: int = 0
    oov_total: int = 0

    def __post_init__(self) -> None:
        # Every class counted, from zero: a class no row was given still has its metric.
        self.class_counts = {**dict.fromkeys(self.classes, 0), **self.class_counts}

    def add(self, best: np.ndarray, confidence: np.ndarray, oov_known: int, oov_total: int) -> None:
        """Count one chunk: each row's class index and confidence, and its token counts."""
        self.rows += len(confidence)
        self.confidence_parts = add_parts(self.confidence_parts, exact_sum_parts(confidence))
        self.low_confidence += int((confidence < self.low_threshold).sum())
        self.high_confidence += int((confidence >= self.high_threshold).sum())
        counts = np.bincount(best, minlength=len(self.classes))
        for label, count in zip(self.classes, counts.tolist(), strict=True):
            self.class_counts[label] = self.class_counts.get(label, 0) + count
        self.histogram += confidence_counts(confidence, len(self.classes))
        self.oov_known += oov_known
        self.oov_total += oov_total

    def merge(self, other: BatchStats) -> BatchStats:
        """These counts plus ``other``'s, as if one pass had seen both parts."""
        if (other.classes, other.low_threshold, other.high_threshold) != (
            self.classes,
            self.low_threshold,
            self.high_threshold,
        ):
            raise ValueError("batch stats with other classes or thresholds cannot be merged")
        labels = set(self.class_counts) | set(other.class_counts)
        return BatchStats(
            classes=self.classes,
            low_threshold=self.low_threshold,
            high_threshold=self.high_threshold,
            rows=self.rows + other.rows,
            confidence_parts=add_parts(self.confidence_parts, other.confidence_parts),
            low_confidence=self.low_confidence + other.low_confidence,
            high_confidence=self.high_confidence + other.high_confidence,
            class_counts={
                label: self.class_counts.get(label, 0) + other.class_counts.get(label, 0)
                for label in labels
            },
            histogram=self.histogram + other.histogram,
            oov_known=self.oov_known + other.oov_known,
            oov_total=self.oov_total + other.oov_total,
        )

    def to_dict(self) -> dict:
        """The counts as JSON-safe values, for a shard to hand to the merge."""
        return {
            "classes": self.classes,
            "low_threshold": self.low_threshold,
            "high_threshold": self.high_threshold,
            "rows": self.rows,
            "confidence_parts": {
                str(power): total for power, total in self.confidence_parts.items()
            },
            "low_confidence": self.low_confidence,
            "high_confidence": self.high_confidence,
            "class_counts": self.class_counts,
            "histogram": self.histogram.astype(int).tolist(),
            "oov_known": self.oov_known,
            "oov_total": self.oov_total,
        }

    @classmethod
    def from_dict(cls, saved: dict) -> BatchStats:
        parts = {int(power): int(total) for power, total in saved["confidence_parts"].items()}
        histogram = np.asarray(saved["histogram"], dtype=float)
        return cls(**{**saved, "confidence_parts": parts, "histogram": histogram})

    @property
    def average_confidence(self) -> float:
        # Rounded once, from the exact sum: the same for any sharding.
        return float(parts_value(self.confidence_parts) / self.rows) if self.rows else 0.0

    @property
    def oov_rate(self) -> float:
        return 1.0 - self.oov_known / self.oov_total if self.oov_total else 0.0

    def confidence_histogram(self) -> list[float]:
        return normalized(self.histogram)

    def class_shares(self) -> dict[str, float]:
        return {
            label: self.class_counts[label] / self.rows if self.rows else 0.0
            for label in self.classes
        }

    def metrics(self) -> dict[str, float]:
        def share(part: int) -> float:
            return 100.0 * part / self.rows if self.rows else 0.0

        metrics = {
            "prediction_count": float(self.rows),
            "average_confidence": self.average_confidence,
            "low_confidence_predictions": float(self.low_confidence),
            "high_confidence_predictions": float(self.high_confidence),
            "low_confidence_percentage": share(self.low_confidence),
        }
        for label in self.classes:
            metrics[f"predictions_{label}"] = float(self.class_counts[label])
            metrics[f"predictions_{label}_percentage"] = share(self.class_counts[label])
        return metrics


def build_profile(pipeline: Any, holdout: pd.DataFrame) -> dict:
    """What "normal" looks like for this model, measured on its hold-out rows."""
    classes = [str(label) for label in pipeline.classes_]
    confidence = pipeline.predict_proba(holdout[[TEXT]]).max(axis=1)
    predicted = pd.Series(pipeline.predict(holdout[[TEXT]])).astype(str)
    return {
        "rows": len(holdout),
        "confidence_bins": confidence_bins(len(classes)).tolist(),
        "confidence_histogram": confidence_histogram(confidence, len(classes)),
        "average_confidence": float(confidence.mean()),
        "predicted_class_shares": class_shares(predicted, classes),
        "oov_rate": oov_rate(pipeline, holdout[TEXT]),
    }


def population_stability_index(expected: list[float], actual: list[float]) -> float:
    """PSI = sum((a - e) * ln(a / e)); under 0.1 is stable, above 0.25 a real shift."""
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, EPSILON), max(a, EPSILON)
        total += (a - e) * math.log(a / e)
    return total


def batch_drift(profile: dict, stats: BatchStats) -> dict[str, float]:
    """Drift metrics of a scored batch, from its counts, against the model's reference profile."""
    shares = stats.class_shares()
    reference_shares = profile["predicted_class_shares"]
    return {
        # Positive: the batch is more confident than the reference.
        "confidence_shift": stats.average_confidence - profile["average_confidence"],
        "confidence_psi": population_stability_index(
            profile["confidence_histogram"], stats.confidence_histogram()
        ),
        "oov_rate": stats.oov_rate,
        "oov_rate_increase": stats.oov_rate - profile["oov_rate"],
        # The largest move of any of the K classes' shares.
        "class_share_shift": max(
            abs(shares.get(label, 0.0) - reference_shares.get(label, 0.0))
            for label in {*shares, *reference_shares}
        ),
    }
