"""{% if cookiecutter.data_source == "demo" %}The demo's invented reviews: batches, late labels and a drift scenario.

Used only by the demo's ``generate_data`` step (``steps/demo.py``); the
real sources read real data and never call this.
{%- else %}Invented reviews for the tests: batches, late labels and a drift scenario.

tests/conftest.py (``invented_day``) writes them where the data source reads
a day's batch and its labels, so the tests run the pipeline as real data would.
{%- endif %}
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import date, timedelta

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.schema import LABEL, TEXT
from {{ cookiecutter.package_name }}.settings import SAMPLE_LABELS

# Building blocks for synthetic reviews. A clause's label is known, so
# batches can later be scored against the truth.
_SUBJECTS = [
    "the delivery",
    "the product",
    "this blender",
    "the hotel room",
    "the app",
    "the support team",
    "the battery",
    "the soundtrack",
    "the checkout",
    "the jacket",
    "the update",
    "the staff",
    "the menu",
    "the screen",
    "the installation",
    "the seats",
    "the manual",
    "the packaging",
]
_POSITIVE = [
    "was excellent",
    "works perfectly",
    "exceeded my expectations",
    "is a joy to use",
    "arrived early and intact",
    "was friendly and helpful",
    "feels solid",
    "is great value",
    "made my week",
    "is fast and reliable",
    "looks beautiful",
    "was worth every penny",
]
_NEGATIVE = [
    "was terrible",
    "broke after two days",
    "is a waste of money",
    "was rude and slow",
    "keeps crashing",
    "arrived damaged",
    "feels cheap",
    "is overpriced",
    "ruined the evening",
    "stopped working",
    "looks awful",
    "was a huge disappointment",
]
_NEGATED_POSITIVE = ["was not bad at all", "never let me down", "gave me no trouble"]
_NEGATED_NEGATIVE = ["was not worth it", "never worked properly", "did not meet expectations"]
# The drift scenario: reviews of another topic (a trading app) in slang the
# training data never saw, so vocabulary, confidence and accuracy all move.
_DRIFT_SUBJECTS = [
    "the wallet sync",
    "the staking payout",
    "the token swap",
    "the kyc flow",
    "the gas fee",
    "the airdrop",
    "the ledger export",
    "the margin call",
    "the order book",
    "the dex bridge",
]
_DRIFT_POSITIVE = [
    "is lowkey bussin",
    "slaps fr",
    "went to the moon",
    "is goated",
    "hits different",
    "printed gains",
    "is so based",
    "cooked nicely ngl",
]
_DRIFT_NEGATIVE = [
    "got rugged",
    "is mid af",
    "bricked my bags",
    "is pure copium",
    "rekt my portfolio",
    "is sus and laggy",
    "dumped hard",
    "ate my sats",
]
_OPENERS = ["", "", "honestly, ", "overall ", "to be fair, ", "update: ", "in short, "]


def _sentence(rng: np.random.Generator, label: str, drifted: bool) -> str:
    def pick(options: list[str]) -> str:
        return options[rng.integers(len(options))]

    if drifted:
        verdict = _DRIFT_POSITIVE if label == "positive" else _DRIFT_NEGATIVE
        sentence = f"{pick(_DRIFT_SUBJECTS)} {pick(verdict)}"
        return sentence[0].upper() + sentence[1:] + "."
    same = _POSITIVE if label == "positive" else _NEGATIVE
    opposite = _NEGATIVE if label == "positive" else _POSITIVE
    negated = _NEGATED_POSITIVE if label == "positive" else _NEGATED_NEGATIVE
    subject, other = pick(_SUBJECTS), pick(_SUBJECTS)
    # Mostly plain verdicts, as in real reviews; negations and contrasts are
    # the minority that makes a model earn its accuracy.
    style = rng.choice(4, p=[0.5, 0.1, 0.15, 0.25])
    if style == 0:
        body = f"{subject} {pick(same)}"
    elif style == 1:
        body = f"{subject} {pick(negated)}"
    elif style == 2:
        # Contrast: the clause after "but" carries the verdict.
        body = f"{other} {pick(opposite)} but {subject} {pick(same)}"
    else:
        body = f"{subject} {pick(same)} and {other} {pick(same)}"
    sentence = pick(_OPENERS) + body
    return sentence[0].upper() + sentence[1:] + "."


def _rng_for(day: date, seed: int) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}:{day.isoformat()}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def synthesize_reviews(
    day: date | str, size: int, seed: int = 42, *, drifted: bool = False
) -> pd.DataFrame:
    """Labeled synthetic reviews, the same for the same day, size, seed and drift."""
    if size < 0:
        raise ValueError(f"size={size} is not valid: expected zero or more rows.")
    day = storage.as_date(day)
    rng = _rng_for(day, seed)
    labels = rng.choice(SAMPLE_LABELS, size=size)
    texts = [_sentence(rng, label, drifted) for label in labels]
    ids = [f"{day.isoformat()}-{index:07d}" for index in range(size)]
    return pd.DataFrame({"id": ids, TEXT: texts, LABEL: labels})


def is_drifted(day: date | str, drift_start: str) -> bool:
    """Whether the drift scenario applies to ``day`` (never when ``drift_start`` is empty)."""
    return bool(drift_start) and storage.as_date(day) >= storage.as_date(drift_start)


def demo_day(
    day: date | str,
    size: int,
    seed: int = 42,
    *,
    label_delay_days: int = 3,
    drift_start: str = "",
    requested: Collection[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The unlabeled batch of ``day``, and the true labels of the batch invented
    ``label_delay_days`` earlier (they arrive late, as in real life).

    With ``requested``, the ids that batch's labelling queue asked for, only
    those are labeled, with the ``ds`` they label, as a team answers its queue.
    Returns (batch of ``id``, ``text``; labels of ``id``, ``sentiment`` (and ``ds``); a summary).
    """
    day = storage.as_date(day)
    reviews = synthesize_reviews(day, size, seed, drifted=is_drifted(day, drift_start))
    labeled_day = day - timedelta(days=label_delay_days)
    late = synthesize_reviews(labeled_day, size, seed, drifted=is_drifted(labeled_day, drift_start))
    labels = late[["id", LABEL]]
    if requested is not None:
        labels = labels[labels["id"].isin(list(requested))].assign(ds=labeled_day.isoformat())
    summary = {
        "logical_date": day.isoformat(),
        "source": "synthetic",
        "rows": len(reviews),
        "drifted": is_drifted(day, drift_start),
        "labels_for": labeled_day.isoformat(),
        "labeled_rows": len(labels),
        "labels_answer": "label requests" if requested is not None else "whole batch",
    }
    return reviews[["id", TEXT]], labels.reset_index(drop=True), summary
