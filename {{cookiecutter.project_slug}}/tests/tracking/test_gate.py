"""The promotion gate: reach min_accuracy, and beat the champion by min_improvement."""

from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.tracking.gate import promotion_decision


@pytest.mark.parametrize(
    ("challenger", "champion", "min_improvement", "promoted"),
    [
        (0.80, None, 0.0, True),
        (0.70, None, 0.0, False),
        (0.82, 0.80, 0.0, True),
        (0.80, 0.80, 0.0, True),
        (0.81, 0.80, 0.02, False),
        (0.79, 0.80, 0.0, False),
    ],
)
def test_promotion_gate(challenger, champion, min_improvement, promoted):
    decision, reason = promotion_decision(challenger, champion, 0.75, min_improvement)
    assert decision is promoted
    assert reason
