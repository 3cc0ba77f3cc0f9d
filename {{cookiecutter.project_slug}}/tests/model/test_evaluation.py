"""The evaluation report's numbers are scikit-learn's on the same predictions, per estimator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from {{ cookiecutter.package_name }}.errors import SettingsError
from {{ cookiecutter.package_name }}.model.estimators import ESTIMATORS, build_classifier
from {{ cookiecutter.package_name }}.model.evaluation import (
    calibration_table,
    evaluation_report,
    expected_calibration_error,
)
from {{ cookiecutter.package_name }}.model.pipeline import CLASSIFIER_STEP, build_pipeline, fit
from {{ cookiecutter.package_name }}.settings import load_settings

POSITIVE = ["a superb stay", "superb food, kind staff", "superb and quick", "truly superb"]
NEGATIVE = ["a dreadful stay", "dreadful food, rude staff", "dreadful and slow", "truly dreadful"]
ROWS = pd.DataFrame(
    {"text": (POSITIVE + NEGATIVE) * 6, "sentiment": (["positive"] * 4 + ["negative"] * 4) * 6}
)
# Rows the model has not seen, some of them hard, so that it makes mistakes.
HELD_OUT = pd.DataFrame(
    {
        "text": ["superb", "dreadful", "not superb at all", "kind but dreadful", "quick", "slow"],
        "sentiment": ["positive", "negative", "negative", "negative", "positive", "negative"],
    }
)


def fitted(estimator: str):
    model = load_settings().with_overrides(estimator=estimator, max_features=200).model
    return fit(build_pipeline(model), ROWS[["text"]], ROWS["sentiment"])


def report(model, rows=HELD_OUT):
    return evaluation_report(
        model, rows, low_confidence_threshold=0.6, high_confidence_threshold=0.8
    )


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_metrics_are_scikit_learn_s_on_the_model_s_predictions(estimator):
    model = fitted(estimator)
    result = report(model)
    predicted = model.predict(HELD_OUT[["text"]])

    metrics = result["metrics"]
    assert metrics["accuracy"] == pytest.approx(accuracy_score(HELD_OUT["sentiment"], predicted))
    assert metrics["macro_f1"] == pytest.approx(
        f1_score(HELD_OUT["sentiment"], predicted, average="macro")
    )
    assert (
        result["confusion_matrix"]["counts"]
        == confusion_matrix(
            HELD_OUT["sentiment"], predicted, labels=["negative", "positive"]
        ).tolist()
    )
    confidence = model.predict_proba(HELD_OUT[["text"]]).max(axis=1)
    assert metrics["high_confidence_share"] == pytest.approx(np.mean(confidence >= 0.8))
    wrong = [row["text"] for row in result["confidently_wrong"]]
    assert set(wrong) == set(HELD_OUT["text"][predicted != HELD_OUT["sentiment"]])


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_the_top_ngrams_of_each_class_are_its_telling_words(estimator):
    ngrams = report(fitted(estimator))["top_ngrams"]

    assert ngrams["positive"][0][0] == "superb"
    assert ngrams["negative"][0][0] == "dreadful"


def test_expected_calibration_error_is_the_weighted_gap_per_bin():
    # Bin [0.5, 0.75): confidence 0.6 twice, right once; bin [0.75, 1]: 0.9 twice, right twice.
    confidence = np.array([0.6, 0.6, 0.9, 0.9])
    correct = np.array([True, False, True, True])
    table = calibration_table(correct, confidence, 2, floor=0.5)

    assert [row["count"] for row in table] == [2, 2]
    assert expected_calibration_error(table) == pytest.approx(0.5 * 0.1 + 0.5 * 0.1)


def test_the_accuracy_above_a_threshold_counts_only_those_predictions():
    model = fitted("logistic_regression")
    result = report(model)
    probabilities = model.predict_proba(HELD_OUT[["text"]])
    sure = probabilities.max(axis=1) >= 0.6
    predicted = np.asarray(model.classes_)[probabilities.argmax(axis=1)]
    expected = np.mean(predicted[sure] == HELD_OUT["sentiment"].to_numpy()[sure])

    assert result["metrics"]["low_confidence_accuracy"] == pytest.approx(expected)


def test_hyperparameters_reach_the_classifier_and_unknown_ones_are_refused():
    settings = load_settings().with_overrides(
        estimator="complement_nb", estimator_params="alpha=0.3"
    )
    assert build_pipeline(settings.model).named_steps[CLASSIFIER_STEP].alpha == 0.3
    with pytest.raises(SettingsError, match="names C, which complement_nb does not take"):
        build_classifier("complement_nb", 0, {"C": 1.0})
