"""The promotion gate, as a pure function: no MLflow, no I/O."""

from __future__ import annotations


def promotion_decision(
    challenger: float, champion: float | None, min_accuracy: float, min_improvement: float
) -> tuple[bool, str]:
    """The gate: reach ``min_accuracy`` and beat the champion by ``min_improvement``."""
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
    return True, (
        f"hold-out accuracy {challenger:.4f} beats the champion's {champion:.4f} "
        f"by at least {min_improvement:.4f}"
    )
