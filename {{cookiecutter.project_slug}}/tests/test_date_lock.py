"""One process writes a date at a time: the second is refused in one line, nothing stays locked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }} import cli, terminal
from {{ cookiecutter.package_name }}.data import date_lock
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, PROJECT_SLUG

DAY = "2026-03-02"
HOLD = (
    "import sys, time\n"
    "from {{ cookiecutter.package_name }}.data import date_lock\n"
    "with date_lock.holding(sys.argv[1], 'ds=' + sys.argv[2], 'the holder'):\n"
    "    print('held', flush=True)\n"
    "    time.sleep(60)\n"
)


@pytest.fixture
def holder(isolated_data):
    """Another process holding the day's lock, as a running `extract` or `run-dag` would."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(isolated_data.data.data_dir), DAY],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "held"
    yield process
    process.kill()
    process.wait()


@pytest.mark.parametrize(
    "command",
    [
        ["extract"],
        ["predict"],
        ["publish"],
        ["monitor"],
        ["summarize"],
{%- if cookiecutter.data_source == "demo" %}
        ["generate-data"],
{%- endif %}
        ["run-dag"],
    ],
)
def test_a_second_writer_of_a_date_is_refused_in_one_line(holder, command, capsys):
    assert cli.main([*command, "--date", DAY]) == cli.EXIT_FAILED
    [line] = capsys.readouterr().err.strip().splitlines()
    log = terminal.shown_path(Path(os.environ[f"{ENV_PREFIX}LOG_DIR"]) / f"{command[0]}.log")
    assert line == (
        f"error: ds={DAY} is in use by `the holder` (pid {holder.pid}, since "
        f"{line.split('since ')[1].split(')')[0]}): wait for it to finish, then run "
        f"`{PROJECT_SLUG} {command[0]} --date {DAY}` again. (log: {log})"
    )


def test_other_dates_and_other_dags_and_files_are_free_meanwhile(holder, isolated_data):
    parse = cli.build_parser().parse_args
    assert cli._date_lock_key(parse(["predict", "--input", "x.csv"])) is None
    other_dag = parse(["run-dag", "--dag", "training", "--date", DAY])
    for key in (cli._date_lock_key(other_dag), "ds=2026-03-03"):
        with date_lock.holding(isolated_data.data.data_dir, key, "this test"):
            pass


def test_a_killed_holder_leaves_no_stale_lock(holder, isolated_data):
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    deadline = time.monotonic() + 5
    with date_lock.holding(isolated_data.data.data_dir, f"ds={DAY}", "after the kill"):
        assert time.monotonic() < deadline
