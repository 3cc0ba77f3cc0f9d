"""A day's file is read only once complete: unchanged for a settle interval, or marked _SUCCESS."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.sources import SUCCESS_MARKER, FileSource
from {{ cookiecutter.package_name }}.errors import DataValidationError
from {{ cookiecutter.package_name }}.steps.extraction import extract_batch

DAY = "2026-03-12"


@pytest.fixture
def day_folder(isolated_data):
    folder = Path(isolated_data.data.incoming_dir) / f"ds={DAY}"
    folder.mkdir(parents=True)
    return folder


def settled(settings, seconds):
    return settings.with_overrides(data_source="files", batch_settle_seconds=seconds)


def test_a_file_still_growing_is_not_read_until_it_settles(isolated_data, day_folder, capsys):
    # 5 s while it grows: a writer thread starved by a loaded machine stays "growing".
    settings = settled(isolated_data, 5)
    path = day_folder / "reviews.csv"
    path.write_text("id,text\n", encoding="utf-8")
    writing = threading.Event()
    writing.set()

    def writer() -> None:  # an exporter appending a row every 50 ms
        row = 0
        while writing.is_set():
            with path.open("a", encoding="utf-8") as out:
                out.write(f"r{row},review number {row}\n")
            row += 1
            time.sleep(0.05)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(5):  # the sensor pokes while rows keep coming
            assert extract_batch(settings, DAY) is None
            time.sleep(0.1)
    finally:
        writing.clear()
        thread.join()
    written = len(pd.read_csv(path))
    env = {"BATCH_SETTLE_SECONDS": "5", "DATA_SOURCE": "files"}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(f"{cli.ENV_PREFIX}{name}", value)
        assert cli.main(["extract", "--date", DAY]) == cli.EXIT_FAILED
    [line] = capsys.readouterr().err.strip().splitlines()
    assert re.search(r"changed \d s ago: it is read once unchanged for 5 s \(batch_settle", line)
    assert "; run it again then. (log: " in line

    time.sleep(1.1)  # once it has been quiet for the (now 1 s) interval, all of it is read
    settings = settled(isolated_data, 1)
    summary = extract_batch(settings, DAY)
    assert summary["rows"] == written  # every row, none cut off
    partition = storage.partition_dir(settings.data.data_dir, storage.BATCHES, DAY)
    snapshot = pd.read_parquet(partition / storage.BATCH_FILE)
    assert snapshot["text"].iloc[-1] == f"review number {written - 1}"


def test_a_success_marker_makes_the_folder_complete_at_once(isolated_data, day_folder):
    settings = settled(isolated_data, 3600)
    pd.DataFrame({"id": ["a"], "text": ["fine"]}).to_csv(day_folder / "part-0.csv", index=False)
    assert extract_batch(settings, DAY) is None
    (day_folder / SUCCESS_MARKER).touch()
    assert extract_batch(settings, DAY)["rows"] == 1


def test_a_file_that_changes_while_it_is_read_fails_before_the_snapshot(isolated_data, day_folder):
    path = day_folder / "reviews.csv"
    rows = pd.DataFrame({"id": [f"r{index}" for index in range(120_000)], "text": "fine"})
    rows.to_csv(path, index=False)
    source = FileSource(feedback_dir="", incoming_dir=str(isolated_data.data.incoming_dir))
    chunks = source.read_batch(DAY, None, None)
    next(chunks)  # the first chunk is read, then the exporter appends
    with path.open("a", encoding="utf-8") as out:
        out.write("late,a row written during the read\n")
    with pytest.raises(DataValidationError, match=r"changed while it was read: upload under"):
        list(chunks)
