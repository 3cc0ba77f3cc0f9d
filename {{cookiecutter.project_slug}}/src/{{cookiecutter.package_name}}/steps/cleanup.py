"""Delete the partitions older than the retention, keeping what explains the models in use."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.errors import UsageError
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.tracking.registry import protected_training_days


def delete_old_partitions(
    settings: Settings, day: date | str, retention_days: int | None = None
) -> dict:
    """Delete every partition older than ``day`` minus the retention, but the models' training data.

    A run in-process, not a fresh interpreter: the task already holds the
    package, and the registry lookup is the only MLflow call.
    """
    day = storage.as_date(day)
    if day > datetime.now(UTC).date() + timedelta(days=1):
        raise UsageError(
            f"the cleanup date {day} is in the future: cleanup keeps everything newer than "
            "that date minus the retention, so a future date would delete today's data."
        )
    retention = retention_days or settings.data.retention_days
    keep = {
        storage.partition_dir(settings.data.data_dir, storage.TRAINING, kept): why
        for kept, why in protected_training_days(settings).items()
    }
    result = storage.delete_partitions_before(settings.data.data_dir, day, retention, keep=keep)
    return {"logical_date": day.isoformat(), "retention_days": retention, **result}
