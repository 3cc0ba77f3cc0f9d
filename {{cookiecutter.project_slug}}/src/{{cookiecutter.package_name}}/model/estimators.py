"""The classifiers behind the TF-IDF features, one function each.

To add one: write a function ``(seed, **hyperparameters) -> estimator`` with
``predict_proba``, add it to ESTIMATORS with the range ``tune`` searches for
each hyperparameter (and the types skops must trust to load it, if any), and
add its name to ``ESTIMATORS`` in ``settings.py``, which validates the setting
and the training DAG's ``estimator`` param without importing this module (a
test keeps the two equal). In the template, it is a ``model`` choice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from {{ cookiecutter.package_name }}.errors import SettingsError


@dataclass(frozen=True)
class Hyperparameter:
    """A number the estimator takes, its default, and the range ``tune`` samples on a log scale."""

    default: float
    low: float
    high: float


@dataclass(frozen=True)
class Estimator:
    """How to build one classifier, what ``tune`` may change, and what loading it back needs."""

    build: Callable[..., Any]
    hyperparameters: dict[str, Hyperparameter] = field(default_factory=dict)
    # MLflow saves scikit-learn models with skops, which refuses on load any
    # type not on its safe list unless the model was logged with it as trusted.
    skops_trusted_types: tuple[str, ...] = ()


def logistic_regression(seed: int, C: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=2000, random_state=seed)


def linear_svc(seed: int, C: float) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    # LinearSVC has no probabilities: calibrate its decision function.
    return CalibratedClassifierCV(LinearSVC(C=C, random_state=seed), cv=3, method="sigmoid")


def complement_nb(seed: int, alpha: float) -> Any:
    from sklearn.naive_bayes import ComplementNB

    return ComplementNB(alpha=alpha)


def sgd(seed: int, alpha: float) -> Any:
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(loss="log_loss", alpha=alpha, max_iter=2000, random_state=seed)


ESTIMATORS: dict[str, Estimator] = {
    "logistic_regression": Estimator(logistic_regression, {"C": Hyperparameter(10.0, 0.01, 100.0)}),
    "linear_svc": Estimator(
        linear_svc,
        {"C": Hyperparameter(1.0, 0.01, 10.0)},
        skops_trusted_types=(
            "sklearn.calibration._CalibratedClassifier",
            "sklearn.calibration._SigmoidCalibration",
        ),
    ),
    "complement_nb": Estimator(complement_nb, {"alpha": Hyperparameter(1.0, 0.01, 3.0)}),
    "sgd": Estimator(sgd, {"alpha": Hyperparameter(1e-4, 1e-6, 1e-2)}),
}


def _estimator(name: str) -> Estimator:
    try:
        return ESTIMATORS[name]
    except KeyError:
        choices = ", ".join(ESTIMATORS)
        raise ValueError(f"estimator={name!r} is not valid: expected one of {choices}.") from None


def hyperparameters(name: str, overrides: dict[str, float] | None = None) -> dict[str, float]:
    """The estimator's hyperparameters: its defaults, replaced by ``overrides``."""
    estimator = _estimator(name)
    unknown = sorted(set(overrides or {}) - set(estimator.hyperparameters))
    if unknown:
        takes = ", ".join(estimator.hyperparameters) or "none"
        raise SettingsError(
            f"estimator_params names {', '.join(unknown)}, which {name} does not take "
            f"(it takes {takes}): fix or clear the estimator_params setting."
        )
    defaults = {key: spec.default for key, spec in estimator.hyperparameters.items()}
    return {**defaults, **(overrides or {})}


def search_space(name: str) -> dict[str, Hyperparameter]:
    """What ``tune`` samples for this estimator."""
    return dict(_estimator(name).hyperparameters)


def build_classifier(name: str, seed: int, overrides: dict[str, float] | None = None) -> Any:
    """A fresh, unfitted classifier of the given name, with its hyperparameters."""
    return _estimator(name).build(seed, **hyperparameters(name, overrides))


def skops_trusted_types(name: str) -> list[str]:
    """Types outside skops' safe list that this classifier's saved model holds."""
    return list(ESTIMATORS[name].skops_trusted_types)


def every_skops_trusted_type() -> list[str]:
    """The types loading trusts: this code's list for every estimator, never a model's own."""
    return sorted({kind for entry in ESTIMATORS.values() for kind in entry.skops_trusted_types})
