"""`sample-batch`: sample reviews arrive where a real batch would; the pipeline takes them."""

from __future__ import annotations

import pandas as pd
import pytest
{% if cookiecutter.data_source == "demo" %}
from {{ cookiecutter.package_name }} import cli
{%- endif %}
from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.errors import PipelineError
{%- if cookiecutter.data_source == "demo" %}
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX
{%- endif %}
from {{ cookiecutter.package_name }}.steps.extraction import extract_batch
from {{ cookiecutter.package_name }}.steps.sample_batch import drop_sample_batch

DAY = "2026-03-20"


def snapshot(settings, day: str = DAY) -> pd.DataFrame:
    partition = storage.partition_dir(settings.data.data_dir, storage.BATCHES, day)
    return pd.read_parquet(partition / storage.BATCH_FILE)


{%- if cookiecutter.data_source != "warehouse" %}


def test_a_files_sample_batch_is_extracted_as_a_real_one_and_never_doubled(isolated_data):
    files = isolated_data.with_overrides(data_source="files", id_column="review_id")

    written = drop_sample_batch(files, DAY, 40)

    folder = storage.Path(files.data.incoming_dir) / f"ds={DAY}"
    assert written["rows"] == 40 and written["location"] == str(folder)
    assert sorted(path.name for path in folder.iterdir()) == ["_SUCCESS", "sample-reviews.csv"]
    assert list(pd.read_csv(folder / "sample-reviews.csv").columns) == ["review_id", "text"]
    extract_batch(files, DAY)
    batch = snapshot(files)
    assert len(batch) == 40 and batch["id"].is_unique
    assert batch["id"].str.startswith(f"sample-{DAY}-").all()
    with pytest.raises(PipelineError, match=r"already holds a batch"):
        drop_sample_batch(files, DAY, 40)
    # The same day gives the same texts: a rerun of a tutorial scores the same batch.
    other = isolated_data.with_overrides(
        data_source="files", incoming_dir=str(folder.parent.parent / "again")
    )
    drop_sample_batch(other, DAY, 40)
    again = pd.read_csv(storage.Path(other.data.incoming_dir) / f"ds={DAY}" / "sample-reviews.csv")
    assert again["text"].tolist() == batch["text"].tolist()
{%- endif %}
{%- if cookiecutter.data_source == "demo" %}


def test_the_command_refuses_the_demo_in_one_line(isolated_data, monkeypatch, capsys):
    monkeypatch.setenv(f"{ENV_PREFIX}DATA_SOURCE", "demo")
    assert cli.main(["sample-batch", "--date", DAY]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "the demo invents its batches" in err
{%- endif %}
{%- if cookiecutter.data_source == "warehouse" %}


def test_a_warehouse_sample_batch_lands_in_the_day_s_interval_once(isolated_data):
    warehouse = isolated_data  # its batch table is empty

    written = drop_sample_batch(warehouse, DAY, 25)

    assert written["rows"] == 25 and "review_batches" in written["location"]
    extract_batch(warehouse, DAY)
    assert len(snapshot(warehouse)) == 25
    assert extract_batch(warehouse, "2026-03-21") is None  # the next day has none
    with pytest.raises(PipelineError, match=r"already holds rows with these ids"):
        drop_sample_batch(warehouse, DAY, 25)
{%- endif %}
