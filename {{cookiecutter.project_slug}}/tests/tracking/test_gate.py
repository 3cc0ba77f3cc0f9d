"""The promotion gate: reach min_accuracy, and beat the champion by min_improvement."""

from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.tracking.gate import labels_disagree, promotion_decision


@pytest.mark.parametrize(
    ("challenger", "champion", "min_improvement", "promoted", "reason"),
    [
        (0.80, None, 0.0, True, "first model: hold-out accuracy 0.8000 >= min_accuracy 0.7500"),
        (0.70, None, 0.0, False, "hold-out accuracy 0.7000 < min_accuracy 0.7500"),
        (0.82, 0.80, 0.0, True, "hold-out accuracy 0.8200 beats the champion's 0.8000 by at"),
        (0.80, 0.80, 0.0, True, "hold-out accuracy 0.8000 beats the champion's 0.8000 by at"),
        (0.81, 0.80, 0.02, False, "0.8100 does not beat the champion's 0.8000 by min_improvement"),
        (0.79, 0.80, 0.0, False, "0.7900 does not beat the champion's 0.8000 by min_improvement"),
    ],
)
def test_promotion_gate(challenger, champion, min_improvement, promoted, reason):
    decision, why = promotion_decision(challenger, champion, 0.75, min_improvement)
    assert decision is promoted
    assert reason in why


def test_a_challenger_worse_on_the_reference_set_is_refused_whatever_its_hold_out():
    # Inverted labels make the new hold-out agree with the model trained on them.
    promoted, reason = promotion_decision(
        0.95,
        0.85,
        0.75,
        0.0,
        challenger_reference=0.12,
        champion_reference=0.86,
        reference_tolerance=0.02,
    )
    assert not promoted and "reference-set accuracy 0.1200" in reason
    promoted, _ = promotion_decision(
        0.88, 0.85, 0.75, 0.0, challenger_reference=0.85, champion_reference=0.86,
        reference_tolerance=0.02,
    )  # fmt: skip
    assert promoted


@pytest.mark.parametrize(
    ("on_new", "on_reference", "disagree"),
    [(0.12, 0.86, True), (0.51, 0.86, True), (0.70, 0.86, False), (0.90, 0.86, False)],
    ids=["inverted", "shuffled", "drifted world", "better"],
)
def test_labels_that_contradict_the_reference_are_told_apart_from_drift(
    on_new, on_reference, disagree
):
    assert (labels_disagree(on_new, on_reference, 0.25) is not None) is disagree
