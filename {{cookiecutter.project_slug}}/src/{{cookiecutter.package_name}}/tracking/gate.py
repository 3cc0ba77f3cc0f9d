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


def shadow_day_won(challenger: float, champion: float, min_improvement: float) -> bool:
    """A labelled day the challenger won: a higher unbiased accuracy than the champion's on
    the same random-part rows, by at least ``min_improvement`` (a tie is no win)."""
    return challenger > champion and challenger >= champion + min_improvement


def shadow_promotion_decision(
    days: list[dict], required_days: int, min_accuracy: float, min_improvement: float
) -> tuple[bool, str]:
    """The gate for a challenger scored in the shadow, on live labels instead of a hold-out.

    ``days`` are its labelled days against the current champion, oldest
    first, each with ``logical_date`` and both unbiased accuracies
    (``challenger``, ``champion``) on the same random-part rows. It is
    promoted when it won each of the last ``required_days`` of them
    (``shadow_day_won``) and reached ``min_accuracy`` on each.
    """
    if required_days < 1:
        raise ValueError("shadow promotion needs at least one labelled day")
    if len(days) < required_days:
        return False, (
            f"{len(days)} of the {required_days} labelled days shadow_promotion_days asks for"
        )
    last = days[-required_days:]
    scores = "; ".join(
        f"{day['logical_date']} {day['challenger']:.4f} against {day['champion']:.4f}"
        for day in last
    )
    lost = [
        day
        for day in last
        if not shadow_day_won(day["challenger"], day["champion"], min_improvement)
    ]
    if lost:
        return False, (
            f"did not beat the champion by min_improvement {min_improvement:.4f} on "
            f"{len(lost)} of the last {required_days} labelled days (unbiased accuracy {scores})"
        )
    weak = [day for day in last if day["challenger"] < min_accuracy]
    if weak:
        return False, (
            f"unbiased accuracy below min_accuracy {min_accuracy:.4f} on {len(weak)} of the "
            f"last {required_days} labelled days ({scores})"
        )
    return True, (
        f"beat the champion on the unbiased labels of the last {required_days} labelled days "
        f"in the shadow, by at least {min_improvement:.4f} (challenger against champion: {scores})"
    )


def shadow_evidence(days: list[dict], champion: str, min_improvement: float) -> dict:
    """What a challenger's days in the shadow show, against champion version ``champion``.

    ``days`` (oldest first) carry ``champion_version``, ``agreement`` and, once
    labelled, both unbiased accuracies; only the days against ``champion``
    count; those with accuracies are the labelled days.
    """
    against = [day for day in days if day["champion_version"] == champion]
    agreements = [day["agreement"] for day in against if day.get("agreement") is not None]
    labelled = [day for day in against if day.get("challenger") is not None]
    wins = sum(shadow_day_won(d["challenger"], d["champion"], min_improvement) for d in labelled)
    return {
        "champion_version": champion,
        "days_shadowed": len(against),
        "mean_agreement": sum(agreements) / len(agreements) if agreements else None,
        "labelled_days": len(labelled),
        "wins": wins,
        "days": against,
    }
