"""The bundled sample reviews as the day's batch, to try the pipeline before real data arrives.
{%- if cookiecutter.data_source == "warehouse" %}

Rows in the batch table, stamped at noon UTC of D.
{%- else %}

One CSV under ``<incoming_dir>/ds=D/``, then ``_SUCCESS``.
{%- endif %}
The texts only, under the team's column names: labels are for the team to
give. The batch is then found, snapshotted and scored as a real one would be.
"""

from __future__ import annotations
{%- if cookiecutter.data_source == "warehouse" %}

from datetime import UTC, date, datetime, time
{%- else %}

from datetime import date
{%- endif %}

import pandas as pd

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.readers import read_table
from {{ cookiecutter.package_name }}.data.schema import TEXT, bundled_dataset_path
{%- if cookiecutter.data_source == "warehouse" %}
from {{ cookiecutter.package_name }}.data.sources import Source, source_for
{%- else %}
from {{ cookiecutter.package_name }}.data.sources import SUCCESS_MARKER, FileSource, Source, source_for
from {{ cookiecutter.package_name }}.errors import PipelineError
{%- endif %}
from {{ cookiecutter.package_name }}.settings import Settings

SAMPLE_FILE = "sample-reviews.csv"


def sample_batch(settings: Settings, day: date | str, rows: int) -> pd.DataFrame:
    """``rows`` sample texts (2,600 at most), the same for the same day, in the team's columns."""
    day = storage.as_date(day)
    texts = read_table(bundled_dataset_path())[TEXT]
    chosen = texts.sample(n=min(rows, len(texts)), random_state=day.toordinal())
    chosen = chosen.reset_index(drop=True)
    ids = [f"sample-{day.isoformat()}-{index:05d}" for index in range(len(chosen))]
    return pd.DataFrame({settings.data.id_column: ids, settings.data.text_column: chosen})


def drop_sample_batch(settings: Settings, day: date | str, rows: int) -> dict:
    """Write the sample batch of ``day`` where the source looks for it; never over a batch there."""
    source = source_for(settings)
    batch = sample_batch(settings, day, rows)
    day = storage.as_date(day)
{%- if cookiecutter.data_source != "warehouse" %}
    if isinstance(source, FileSource) and source.batch_files(day):
        raise PipelineError(
            f"{source.batch_location(day)} already holds a batch: sample-batch adds none "
            "over it (pick another --date, or remove those files)."
        )
{%- endif %}
    location = deliver_batch(source, day, batch)
    return {"logical_date": day.isoformat(), "rows": len(batch), "location": location}


def deliver_batch(source: Source, day: date, batch: pd.DataFrame) -> str:
    """Put ``batch`` (the team's id and text columns) where ``source`` reads ``day``'s batch."""
{%- if cookiecutter.data_source == "warehouse" %}
    return source.insert_batch(batch, datetime.combine(day, time(12), tzinfo=UTC))
{%- else %}
    if isinstance(source, FileSource):
        location = source.batch_location(day)
        _write_files(location, batch)
        return location
{%- endif %}
{%- if cookiecutter.data_source == "demo" %}
    raise PipelineError(
        "the demo invents its batches: run generate-data, or set data_source to files."
    )
{%- endif %}
{%- if cookiecutter.data_source != "warehouse" %}


def _write_files(location: str, batch: pd.DataFrame) -> None:
    """The CSV, then the marker that says the folder is complete (data/sources.py's settle rule)."""
    from fsspec.core import url_to_fs

    fs, root = url_to_fs(location)
    fs.makedirs(root, exist_ok=True)
    # A hidden name while it is written: readers skip it until the rename.
    partial = f"{root}/.{SAMPLE_FILE}"
    with fs.open(partial, "w") as handle:
        batch.to_csv(handle, index=False)
    fs.mv(partial, f"{root}/{SAMPLE_FILE}")
    fs.touch(f"{root}/{SUCCESS_MARKER}")
{%- endif %}
