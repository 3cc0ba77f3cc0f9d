"""The demo's first task: invent the day's batch and the late labels of an earlier one."""

from __future__ import annotations

from datetime import date

from {{ cookiecutter.package_name }}.data.sources import source_for
from {{ cookiecutter.package_name }}.data.synthetic import generate_batch
from {{ cookiecutter.package_name }}.settings import Settings


def generate_data(settings: Settings, day: date | str) -> dict:
    """The synthetic batch of ``day`` (and late labels) into the configured source."""
    return generate_batch(
        source_for(settings),
        day,
        settings.data.batch_size,
        settings.model.random_seed,
        label_delay_days=settings.data.label_delay_days,
        drift_start=settings.data.drift_start,
    )
