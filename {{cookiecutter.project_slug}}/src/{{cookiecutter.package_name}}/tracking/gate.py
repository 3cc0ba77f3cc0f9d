"""The promotion gate and the label-agreement check, as pure functions: no MLflow, no I/O."""

from __future__ import annotations


def promotion_decision(
    challenger: float,
    champion: float | None,
    min_accuracy: float,
    min_improvement: float,
    *,
    challenger_reference: float | None = None,
    champion_reference: float | None = None,
    reference_tolerance: float = 0.0,
) -> tuple[bool, str]:
    """The gate: reach ``min_accuracy``, beat the champion by ``min_improvement`` on the
    new hold-out, and stay within ``reference_tolerance`` of the champion on the
    reference set (when there is one), which new training data cannot change.
    """
    if challenger < min_accuracy:
        return False, f"hold-out accuracy {challenger:.4f} < min_accuracy {min_accuracy:.4f}"
    if champion is None:
        return (
            True,
            f"first model: hold-out accuracy {challenger:.4f} >= min_accuracy {min_accuracy:.4f}",
        )
    if challenger < champion + min_improvement:
        return False, (
            f"hold-out accuracy {challenger:.4f} does not beat the champion's {champion:.4f} "
            f"by min_improvement {min_improvement:.4f}"
        )
    if (
        challenger_reference is not None
        and champion_reference is not None
        and challenger_reference < champion_reference - reference_tolerance
    ):
        return False, (
            f"reference-set accuracy {challenger_reference:.4f} is more than "
            f"{reference_tolerance:.4f} below the champion's {champion_reference:.4f}: "
            "the new data teaches something the reference set contradicts"
        )
    reason = (
        f"hold-out accuracy {challenger:.4f} beats the champion's {champion:.4f} "
        f"by at least {min_improvement:.4f}"
    )
    if challenger_reference is not None and champion_reference is not None:
        reason += (
            f"; reference-set accuracy {challenger_reference:.4f} "
            f"(champion {champion_reference:.4f})"
        )
    return True, reason


def labels_disagree(
    champion_on_new: float, champion_on_reference: float, tolerance: float
) -> str | None:
    """Why the new labels disagree with the reference set, or None when they agree.

    The champion scored ``champion_on_reference`` on the reference set; far
    less on the new data's hold-out means the labels changed meaning, not
    that the world did: a drifted world costs a model some points, an
    inverted or shuffled labeling costs it half or more.
    """
    if champion_on_new >= champion_on_reference - tolerance:
        return None
    return (
        f"the new labels disagree with the reference set: the champion scores "
        f"{champion_on_new:.4f} on the new hold-out against {champion_on_reference:.4f} on the "
        f"reference set (label_agreement_tolerance {tolerance:.2f}); check the labels for "
        "inverted, shifted or mixed-up classes"
    )
