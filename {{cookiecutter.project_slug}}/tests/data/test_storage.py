from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data import storage


def test_partition_path_is_keyed_by_logical_date(tmp_path):
    path = storage.partition_dir(tmp_path, storage.BATCHES, "2026-01-31T00:00:00+00:00")
    assert path == tmp_path / "batches" / "ds=2026-01-31"


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out" / "file.txt"
    storage.write_text("old", target)

    with pytest.raises(RuntimeError), storage.atomic_path(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("task died")

    assert target.read_text() == "old"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.txt"]


def test_retention_deletes_only_older_partitions(tmp_path):
    for day in ("2026-01-01", "2026-01-10", "2026-01-11", "2026-01-20"):
        for dataset in (storage.BATCHES, storage.PREDICTIONS):
            storage.write_text("x", storage.partition_dir(tmp_path, dataset, day) / "f")
    (tmp_path / storage.BATCHES / "not-a-partition").mkdir()

    result = storage.delete_partitions_before(tmp_path, date(2026, 1, 20), retention_days=9)

    deleted = [Path(path).name for path in result["deleted"]]
    assert sorted(deleted) == sorted(["ds=2026-01-01", "ds=2026-01-10"] * 2)
    remaining = sorted(p.name for p in (tmp_path / storage.BATCHES).iterdir())
    assert remaining == ["ds=2026-01-11", "ds=2026-01-20", "not-a-partition"]


def test_retention_also_deletes_what_unfinished_runs_left(tmp_path):
    for day in ("2026-01-01", "2026-01-20"):
        partition = storage.partition_dir(tmp_path, storage.PREDICTIONS, day)
        storage.write_text("x", storage.staging_dir(partition, "abc123") / "part-00000.parquet")

    storage.delete_partitions_before(tmp_path, date(2026, 1, 20), retention_days=9)

    assert [p.name for p in (tmp_path / storage.PREDICTIONS).iterdir()] == [".ds=2026-01-20.abc123"]


def test_a_range_of_rows_reads_only_those_rows_across_row_groups(tmp_path):
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(250)], "n": range(250)})
    path = tmp_path / "batch.parquet"
    frame.to_parquet(path, row_group_size=100, index=False)
    assert storage.parquet_rows(path) == 250
    for start, stop in ((0, 250), (0, 1), (99, 101), (120, 250), (37, 188), (250, 250)):
        chunks = list(storage.read_parquet_range(path, start, stop, chunk_rows=30))
        assert all(len(chunk) <= 30 for chunk in chunks)
        got = pd.concat(chunks, ignore_index=True) if chunks else frame.iloc[:0]
        pd.testing.assert_frame_equal(got, frame.iloc[start:stop].reset_index(drop=True))


def test_replacing_a_partition_swaps_every_file(tmp_path):
    partition = storage.partition_dir(tmp_path, storage.PREDICTIONS, "2026-01-01")
    for index in range(3):
        storage.write_text("old", partition / storage.part_name(storage.PART_PREFIX, index))
    staging = storage.staging_dir(partition, "t1")
    storage.write_text("new", staging / storage.part_name(storage.PART_PREFIX, 0))

    storage.replace_dir(staging, partition)

    assert [p.name for p in partition.iterdir()] == ["part-00000.parquet"]
    assert (partition / "part-00000.parquet").read_text() == "new"
    assert sorted(p.name for p in partition.parent.iterdir()) == ["ds=2026-01-01"]


def test_retention_keeps_what_it_is_told_and_skips_symlinks(tmp_path, caplog):
    old = storage.partition_dir(tmp_path, storage.TRAINING, "2026-01-01")
    storage.write_text("x", old / storage.TRAINING_VALID_FILE)
    elsewhere = tmp_path / "elsewhere"
    storage.write_text("precious", elsewhere / "f")
    linked = storage.partition_dir(tmp_path, storage.BATCHES, "2026-01-02")
    linked.parent.mkdir(parents=True)
    linked.symlink_to(elsewhere, target_is_directory=True)

    result = storage.delete_partitions_before(
        tmp_path, date(2026, 3, 1), retention_days=10, keep={old: "the champion's training data"}
    )

    assert result["deleted"] == []
    assert {item["why"] for item in result["kept"]} == {
        "the champion's training data",
        "a symlink: not this project's to delete",
    }
    assert (old / storage.TRAINING_VALID_FILE).exists() and (elsewhere / "f").exists()
    assert "is a symlink: not this project" in caplog.text


def test_retention_from_the_first_day_deletes_nothing(tmp_path):
    storage.write_text("x", storage.partition_dir(tmp_path, storage.BATCHES, "0001-01-01") / "f")
    result = storage.delete_partitions_before(tmp_path, date(1, 1, 1), retention_days=30)
    assert result == {"deleted": [], "kept": []}


def test_bad_date_says_the_form(tmp_path):
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        storage.partition_dir(tmp_path, storage.BATCHES, "31/01/2026")


def test_parquet_stream_appears_whole_or_not_at_all(tmp_path):
    target = tmp_path / "out" / "rows.parquet"
    storage.write_parquet(pd.DataFrame({"n": [0]}), target)

    with pytest.raises(RuntimeError), storage.parquet_stream(target) as stream:
        stream.write(pd.DataFrame({"n": [1, 2]}))
        raise RuntimeError("task died after the first chunk")
    assert pd.read_parquet(target)["n"].tolist() == [0]
    assert sorted(p.name for p in target.parent.iterdir()) == ["rows.parquet"]

    with storage.parquet_stream(target) as stream:
        stream.write(pd.DataFrame({"n": [1, 2]}))
        stream.write(pd.DataFrame({"n": [3]}))
    assert pd.read_parquet(target)["n"].tolist() == [1, 2, 3]

    # Nothing to write: an earlier run's file must not stay behind.
    with storage.parquet_stream(target):
        pass
    assert list(target.parent.iterdir()) == []
