"""The demo's first task: invent the day's batch and the late labels of an earlier one.

The labels answer that earlier day's label requests (steps/label_requests.py)
when it has them, else they label its whole batch.

Only the ``demo`` data source uses it; the others read real data (steps/extraction.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.schema import ID
from {{ cookiecutter.package_name }}.data.synthetic import demo_day
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.settings import Settings, is_url
from {{ cookiecutter.package_name }}.steps.label_requests import read_requests


def generate_data(settings: Settings, day: date | str) -> dict:
    """Write the synthetic batch of ``day`` as its snapshot, and late labels as a feedback file.

    The labels land where real ones would (``feedback_dir``), so monitoring
    and retraining read them the same way for every source. A rerun replaces both.
    """
    if settings.data.data_source != "demo":
        raise PipelineError(
            f"generate-data writes invented reviews, and data_source is "
            f"{settings.data.data_source}: put real batches where that source reads them."
        )
    if is_url(settings.data.feedback_dir):
        raise PipelineError("the demo writes its labels to a local feedback_dir, not a URL.")
    data = settings.data
    day = storage.as_date(day)
    # The labeller answers the labelling queue of that day, where it has one.
    requests = read_requests(settings, day - timedelta(days=data.label_delay_days))
    batch, labels, summary = demo_day(
        day,
        data.batch_size,
        settings.model.random_seed,
        label_delay_days=data.label_delay_days,
        drift_start=data.drift_start,
        requested=None if requests is None else requests[ID],
    )
    partition = storage.partition_dir(data.data_dir, storage.BATCHES, day)
    path = storage.write_parquet(batch, partition / storage.BATCH_FILE)
    (partition / storage.REJECTS_FILE).unlink(missing_ok=True)
    labels_file = Path(data.feedback_dir) / f"demo-labels-{summary['labels_for']}.parquet"
    storage.write_parquet(labels, labels_file)
    return {**summary, "path": str(path), "labels_path": str(labels_file)}
