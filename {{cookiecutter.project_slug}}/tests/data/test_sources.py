"""Every data source runs end to end: training data in, batch in, predictions out."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from {{ cookiecutter.package_name }}.data import synthetic as data
from {{ cookiecutter.package_name }}.data.schema import bundled_dataset_path, read_table
from {{ cookiecutter.package_name }}.data.sources import BATCH_TABLE, source_for
from {{ cookiecutter.package_name }}.errors import DataValidationError
from {{ cookiecutter.package_name }}.settings import DATA_SOURCES
from {{ cookiecutter.package_name }}.steps.inference import batch_predict

DAY = "2026-03-10"


@pytest.mark.parametrize("source_name", DATA_SOURCES)
def test_source_end_to_end(champion_store, tmp_path, source_name):
    settings = champion_store.with_overrides(data_source=source_name)
    if source_name == "files":
        # Parquet next to CSV: the glob reads both.
        sample = read_table(bundled_dataset_path())
        (tmp_path / "labeled").mkdir()
        sample.iloc[:1300].to_csv(tmp_path / "labeled" / "part-1.csv", index=False)
        sample.iloc[1300:].to_parquet(tmp_path / "labeled" / "part-2.parquet", index=False)
        settings = settings.with_overrides(training_files=str(tmp_path / "labeled" / "part-*"))

    source = source_for(settings)
    assert len(source.read_training()) == 2600
    data.generate_batch(source, DAY, 40)
    data.generate_batch(source, DAY, 40)  # a rerun replaces, it does not append
    predicted = batch_predict(settings, DAY)

    assert predicted["rows"] == 40
    assert len(pd.read_parquet(predicted["path"])) == 40


def test_warehouse_keeps_one_copy_of_a_date(isolated_store):
    settings = isolated_store.with_overrides(data_source="warehouse")
    source = source_for(settings)
    for size in (30, 20):
        data.generate_batch(source, DAY, size)
    engine = sa.create_engine(settings.data.warehouse_url)
    with engine.connect() as connection:
        count = connection.execute(
            sa.text(f"SELECT COUNT(*) FROM {BATCH_TABLE} WHERE logical_date = :day"), {"day": DAY}
        ).scalar()
    assert count == 20


def test_warehouse_without_the_day_says_which_step_to_run(isolated_store):
    settings = isolated_store.with_overrides(data_source="warehouse")
    source = source_for(settings)
    data.generate_batch(source, "2026-04-02", 10)  # another day's rows do not count

    with pytest.raises(DataValidationError, match="run generate_data for 2026-04-01"):
        source.open_batch("2026-04-01", chunk_rows=5)
    assert sum(len(chunk) for chunk in source.open_batch("2026-04-02", chunk_rows=5)) == 10


def test_files_source_without_files_says_where_to_put_them(isolated_store, tmp_path):
    settings = isolated_store.with_overrides(
        data_source="files", training_files=str(tmp_path / "*.csv")
    )
    with pytest.raises(Exception, match="no training file matches"):
        source_for(settings).read_training()
