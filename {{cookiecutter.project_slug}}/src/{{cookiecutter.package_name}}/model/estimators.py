"""The classifiers behind the TF-IDF features, one function each.

To add one: write a function ``(seed) -> estimator`` with ``predict_proba``,
add it to ESTIMATORS (with the types skops must trust to load it, if any),
and add its name to ``ESTIMATORS`` in ``settings.py``, which validates the
setting and the training DAG's ``estimator`` param without importing this
module (a test keeps the two equal). In the template, it is a ``model`` choice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Estimator:
    """How to build one classifier, and what loading it back needs."""

    build: Callable[[int], Any]
    # MLflow saves scikit-learn models with skops, which refuses on load any
    # type not on its safe list unless the model was logged with it as trusted.
    skops_trusted_types: tuple[str, ...] = ()


def logistic_regression(seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=10.0, max_iter=2000, random_state=seed)


def linear_svc(seed: int) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    # LinearSVC has no probabilities: calibrate its decision function.
    return CalibratedClassifierCV(LinearSVC(C=1.0, random_state=seed), cv=3, method="sigmoid")


def complement_nb(seed: int) -> Any:
    from sklearn.naive_bayes import ComplementNB

    return ComplementNB(alpha=1.0)


def sgd(seed: int) -> Any:
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(loss="log_loss", alpha=1e-4, max_iter=2000, random_state=seed)


ESTIMATORS: dict[str, Estimator] = {
    "logistic_regression": Estimator(logistic_regression),
    "linear_svc": Estimator(
        linear_svc,
        skops_trusted_types=(
            "sklearn.calibration._CalibratedClassifier",
            "sklearn.calibration._SigmoidCalibration",
        ),
    ),
    "complement_nb": Estimator(complement_nb),
    "sgd": Estimator(sgd),
}


def build_classifier(name: str, seed: int) -> Any:
    """A fresh, unfitted classifier of the given name."""
    try:
        return ESTIMATORS[name].build(seed)
    except KeyError:
        choices = ", ".join(ESTIMATORS)
        raise ValueError(f"estimator={name!r} is not valid: expected one of {choices}.") from None


def skops_trusted_types(name: str) -> list[str]:
    """Types outside skops' safe list that this classifier's saved model holds."""
    return list(ESTIMATORS[name].skops_trusted_types)


def every_skops_trusted_type() -> list[str]:
    """The types loading trusts: this code's list for every estimator, never a model's own."""
    return sorted({kind for entry in ESTIMATORS.values() for kind in entry.skops_trusted_types})
