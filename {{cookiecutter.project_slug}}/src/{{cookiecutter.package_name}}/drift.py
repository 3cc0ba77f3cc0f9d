"""The reference profile saved with each model, and a batch's drift against it.

Confidence alone barely moves when the input domain changes, so a batch is
compared on three axes: its confidence distribution (population stability
index), the share of tokens the vectorizer has never seen, and the shares of
the predicted classes.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.data import TEXT
from {{ cookiecutter.package_name }}.settings import LABELS

if TYPE_CHECKING:
    from {{ cookiecutter.package_name }}.scoring import BatchStats

PROFILE_FILE = "reference_profile.json"
# Top-class confidence of a binary classifier lies in [0.5, 1].
CONFIDENCE_BINS = np.linspace(0.5, 1.0, 11)
# Keeps PSI finite when a bin is empty on one side.
EPSILON = 1e-4


def confidence_counts(confidence: np.ndarray) -> np.ndarray:
    """How many confidences fall in each of CONFIDENCE_BINS."""
    return np.histogram(np.clip(confidence, 0.5, 1.0), bins=CONFIDENCE_BINS)[0]


def normalized(counts: np.ndarray) -> list[float]:
    total = counts.sum()
    return (counts / total).tolist() if total else [0.0] * len(counts)


def confidence_histogram(confidence: np.ndarray) -> list[float]:
    return normalized(confidence_counts(confidence))


def class_shares(predicted: pd.Series) -> dict[str, float]:
    total = len(predicted)
    return {label: float((predicted == label).sum() / total) if total else 0.0 for label in LABELS}


def _vectorizer(pipeline: Any) -> Any:
    return pipeline.named_steps["features"].named_transformers_["tfidf"]


def oov_counts(pipeline: Any, texts: pd.Series) -> tuple[int, int]:
    """Word tokens of ``texts`` that are in the fitted vocabulary, and all of them."""
    vectorizer = _vectorizer(pipeline)
    preprocess, tokenize = vectorizer.build_preprocessor(), vectorizer.build_tokenizer()
    vocabulary = vectorizer.vocabulary_
    known = total = 0
    for text in texts.astype(str):
        tokens = tokenize(preprocess(text))
        total += len(tokens)
        known += sum(token in vocabulary for token in tokens)
    return known, total


def oov_rate(pipeline: Any, texts: pd.Series) -> float:
    """Share of word tokens that are not in the fitted vocabulary."""
    known, total = oov_counts(pipeline, texts)
    return 1.0 - known / total if total else 0.0


def build_profile(pipeline: Any, holdout: pd.DataFrame) -> dict:
    """What "normal" looks like for this model, measured on its hold-out rows."""
    confidence = pipeline.predict_proba(holdout[[TEXT]]).max(axis=1)
    return {
        "rows": len(holdout),
        "confidence_bins": CONFIDENCE_BINS.tolist(),
        "confidence_histogram": confidence_histogram(confidence),
        "average_confidence": float(confidence.mean()),
        "predicted_class_shares": class_shares(pd.Series(pipeline.predict(holdout[[TEXT]]))),
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
        "class_share_shift": max(abs(shares[label] - reference_shares[label]) for label in LABELS),
    }
