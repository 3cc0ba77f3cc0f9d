"""One writer per logical date: a command that writes a date's partitions holds its lock.

Two runs of one date at once would interleave their partitions and race for
the same Airflow and MLflow rows (the second died in a foreign-key error).
The CLI's date-writing steps and `run-dag` take this lock (one per data
directory and date, on this machine) and refuse, in one line naming the
holder, while another process holds it; the DAG itself runs
one date at a time by ``max_active_runs=1``. An advisory ``flock``: the kernel
drops it when its process ends, however it ends, so a killed run leaves no
stale lock behind.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.settings import PACKAGE_NAME


class DateBusyError(PipelineError):
    """Another process is writing this date's partitions."""


def lock_folder(data_dir: Path | str) -> Path:
    """Where the locks of ``data_dir`` live: the temporary folder, not the data directory.

    A command refused before it writes anything leaves the data directory as it was.
    """
    digest = hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"{PACKAGE_NAME}-locks" / digest


@contextmanager
def holding(data_dir: Path | str, key: str, command: str) -> Iterator[None]:
    """Hold the lock ``key`` (``ds=<date>``) for the block, or raise DateBusyError at once."""
    folder = lock_folder(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{key}.lock", "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise DateBusyError(
                f"{key} is in use by {holder}: wait for it to finish, then run `{command}` again."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"`{command}` (pid {os.getpid()}, since {datetime.now():%H:%M:%S})")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
