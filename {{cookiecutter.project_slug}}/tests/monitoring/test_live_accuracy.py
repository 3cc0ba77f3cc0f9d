"""Live accuracy: Wilson's interval, macro F1 and its bootstrap, and which figure is judged."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from {{ cookiecutter.package_name }}.monitoring.live_accuracy import (
    agreeing_rows,
    live_accuracy,
    macro_f1,
    macro_f1_interval,
    shadow_comparison,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        # Published 95 % Wilson score intervals.
        (8, 10, 0.4902, 0.9433),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (81, 100, 0.7222, 0.8749),
    ],
)
def test_wilson_interval_matches_known_values(successes, trials, low, high):
    assert wilson_interval(successes, trials) == pytest.approx((low, high), abs=1e-4)


def test_wilson_interval_refuses_what_is_no_proportion():
    with pytest.raises(ValueError):
        wilson_interval(3, 0)


def test_macro_f1_is_scikit_learns_and_its_bootstrap_is_seeded():
    rng = np.random.default_rng(1)
    truth = rng.choice(["negative", "neutral", "positive"], 60)
    predicted = np.where(rng.random(60) < 0.7, truth, rng.choice(["negative", "other"], 60))
    assert macro_f1(truth, predicted) == pytest.approx(f1_score(truth, predicted, average="macro"))
    low, high = macro_f1_interval(truth, predicted, seed=7)
    assert low < macro_f1(truth, predicted) < high
    assert macro_f1_interval(truth, predicted, seed=7) == (low, high)


def test_the_random_part_is_judged_when_it_has_enough_labels_else_all_labels():
    truth = ["positive"] * 10
    # Five random rows, four right; five uncertain rows, one right.
    predicted = ["positive"] * 4 + ["negative"] + ["positive"] + ["negative"] * 4
    drawn = [True] * 5 + [False] * 5

    enough = live_accuracy(truth, predicted, drawn, min_rows=5, seed=1)
    assert enough["accuracy"] == enough["accuracy_unbiased"] == 0.8
    assert (enough["accuracy_unbiased_ci_low"], enough["accuracy_unbiased_ci_high"]) == (
        wilson_interval(4, 5)
    )
    assert enough["accuracy_all_labels_biased"] == 0.5
    assert enough["accuracy_is_unbiased"] == 1.0 and enough["labeled_random_rows"] == 5

    few = live_accuracy(truth, predicted, drawn, min_rows=6, seed=1)
    assert few["accuracy"] == few["accuracy_all_labels_biased"] == 0.5
    assert few["accuracy_is_unbiased"] == 0.0 and "accuracy_unbiased" not in few

    assert live_accuracy(truth, predicted, drawn, min_rows=11, seed=1) == {}


def test_agreement_counts_the_rows_both_models_label_alike():
    assert agreeing_rows(["a", "b", "a", "c"], np.array(["a", "a", "a", "b"])) == 2
    assert agreeing_rows([], []) == 0
    with pytest.raises(ValueError, match="3 labels against 2: not the same rows"):
        agreeing_rows(["a", "b", "a"], ["a", "b"])


def test_shadow_comparison_scores_both_models_on_the_same_rows():
    truth = ["p", "p", "n", "n", "p", "n"]
    champion = ["p", "p", "n", "p", "n", "n"]  # 4 of 6; 2 of the 3 random rows
    challenger = ["p", "p", "n", "n", "n", "n"]  # 5 of 6; 3 of 3
    random = [True, True, False, True, False, False]
    metrics = shadow_comparison(truth, champion, challenger, random, min_rows=3)
    assert metrics["shadow_labeled_rows"] == 6 and metrics["shadow_labeled_random_rows"] == 3
    assert metrics["shadow_champion_accuracy_all_labels_biased"] == pytest.approx(4 / 6)
    assert metrics["shadow_challenger_accuracy_all_labels_biased"] == pytest.approx(5 / 6)
    assert metrics["shadow_champion_accuracy_unbiased"] == pytest.approx(2 / 3)
    assert metrics["shadow_challenger_accuracy_unbiased"] == 1.0
    low, high = wilson_interval(2, 3)
    assert metrics["shadow_champion_accuracy_unbiased_ci_low"] == pytest.approx(low)
    assert metrics["shadow_champion_accuracy_unbiased_ci_high"] == pytest.approx(high)
    # Too few random rows: the biased figures alone.
    fewer = shadow_comparison(truth, champion, challenger, random, min_rows=4)
    assert "shadow_champion_accuracy_unbiased" not in fewer
    assert fewer["shadow_labeled_rows"] == 6
