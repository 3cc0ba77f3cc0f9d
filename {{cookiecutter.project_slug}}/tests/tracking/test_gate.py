"""The promotion gate: reach min_accuracy, and beat the champion by min_improvement."""

from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.tracking.gate import (
    labels_disagree,
    promotion_decision,
    shadow_day_won,
    shadow_evidence,
    shadow_promotion_decision,
)


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


@pytest.mark.parametrize(
    ("challenger", "champion", "min_improvement", "won"),
    [
        (0.85, 0.80, 0.0, True),
        (0.80, 0.80, 0.0, False),  # a tie is no evidence
        (0.79, 0.80, 0.0, False),
        (0.81, 0.80, 0.02, False),
        (0.83, 0.80, 0.02, True),
    ],
)
def test_a_shadow_day_is_won_by_a_higher_unbiased_accuracy(
    challenger, champion, min_improvement, won
):
    assert shadow_day_won(challenger, champion, min_improvement) is won


def day(logical_date: str, challenger: float, champion: float) -> dict:
    return {"logical_date": logical_date, "challenger": challenger, "champion": champion}


def test_shadow_promotion_needs_every_one_of_the_last_days_won():
    days = [day("2026-07-01", 0.70, 0.80), day("2026-07-02", 0.85, 0.80)]
    promote, reason = shadow_promotion_decision(days, 3, 0.75, 0.0)
    assert not promote and reason == "2 of the 3 labelled days shadow_promotion_days asks for"
    promote, reason = shadow_promotion_decision(days, 2, 0.75, 0.0)
    assert not promote and reason.startswith("did not beat the champion by min_improvement")
    assert "1 of the last 2 labelled days" in reason
    assert "2026-07-01 0.7000 against 0.8000" in reason
    # An old defeat falls out of the window of the last days.
    days.append(day("2026-07-03", 0.90, 0.80))
    promote, reason = shadow_promotion_decision(days, 2, 0.75, 0.0)
    assert promote and reason.startswith(
        "beat the champion on the unbiased labels of the last 2 labelled days"
    )
    assert "2026-07-01" not in reason and "2026-07-03 0.9000 against 0.8000" in reason


def test_shadow_promotion_needs_min_accuracy_too():
    days = [day("2026-07-01", 0.70, 0.60)]
    promote, reason = shadow_promotion_decision(days, 1, 0.75, 0.0)
    assert not promote and reason.startswith("unbiased accuracy below min_accuracy 0.7500")
    with pytest.raises(ValueError, match="at least one labelled day"):
        shadow_promotion_decision(days, 0, 0.75, 0.0)


def test_shadow_evidence_counts_the_days_against_the_current_champion_only():
    days = [
        {"logical_date": "2026-07-01", "champion_version": "1", "agreement": 0.9},
        {**day("2026-07-02", 0.9, 0.8), "champion_version": "2", "agreement": 0.8},
        {**day("2026-07-03", 0.7, 0.8), "champion_version": "2", "agreement": 0.6},
        {"logical_date": "2026-07-04", "champion_version": "2", "agreement": 0.7},
    ]
    found = shadow_evidence(days, "2", 0.0)
    assert found["days_shadowed"] == 3 and found["labelled_days"] == 2 and found["wins"] == 1
    assert found["mean_agreement"] == pytest.approx(0.7)
    assert [point["logical_date"] for point in found["days"]] == [
        "2026-07-02",
        "2026-07-03",
        "2026-07-04",
    ]
