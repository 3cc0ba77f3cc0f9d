"""Alerts as structured records: their kinds, and which of them request retraining."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum


class AlertKind(StrEnum):
    """Every reason monitoring can raise; the value is what reports and webhooks show."""

    LOW_CONFIDENCE_RATE = "low_confidence_rate"
    DECLINING_CONFIDENCE = "declining_confidence"
    CONFIDENCE_DRIFT = "confidence_drift"
    VOCABULARY_DRIFT = "vocabulary_drift"
    CLASS_SHIFT = "class_shift"
    ACCURACY_DROP = "accuracy_drop"
    # Raised by training, not monitoring: new labels contradict the reference set.
    LABEL_DISAGREEMENT = "label_disagreement"


# Kinds that mean the model no longer fits its inputs: they request retraining.
RETRAINING_KINDS = frozenset(
    {
        AlertKind.CONFIDENCE_DRIFT,
        AlertKind.VOCABULARY_DRIFT,
        AlertKind.CLASS_SHIFT,
        AlertKind.ACCURACY_DROP,
    }
)


@dataclass(frozen=True)
class Alert:
    """One reason to look at the model, in a form a machine can route."""

    kind: AlertKind
    metric: str
    value: float
    threshold: float
    logical_date: str
    message: str

    def as_dict(self) -> dict:
        return {**asdict(self), "kind": str(self.kind)}


def requests_retraining(alerts: list[Alert]) -> bool:
    return any(alert.kind in RETRAINING_KINDS for alert in alerts)
