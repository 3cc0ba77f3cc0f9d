"""What a person sees of a command: a few lines, a progress bar on a terminal, and a log file.

MLflow's and Airflow's log lines, Python warnings and whatever a library prints
go to ``logs/<command>.log`` under the project (``<PREFIX>LOG_DIR`` moves it),
unless ``-v``: the terminal shows only what the command has to say. Nothing
here imports MLflow, Airflow or pandas; rich is imported only to draw progress
on a terminal.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

# A log past this size is renamed <command>.log.1 (one generation kept) when the next run starts.
LOG_ROTATE_BYTES = 5_000_000
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class Session:
    """Where a command's own words go: the terminal's streams, as they were when it started."""

    def __init__(
        self,
        *,
        json_output: bool = False,
        verbose: bool = False,
        out: IO[str] | None = None,
        err: IO[str] | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.json_output = json_output
        self.verbose = verbose
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.log_path = log_path
        self.log: IO[str] | None = None

    def log_line(self, line: str) -> None:
        """A line of a subprocess's output: to the log, and to the terminal with ``-v``."""
        if self.log is not None:
            self.log.write(line)
        if self.verbose or self.log is None:
            self.err.write(line)

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def note(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    @property
    def interactive(self) -> bool:
        """Progress is drawn only for a person: on a terminal's stderr."""
        isatty = getattr(self.err, "isatty", None)
        return bool(isatty and isatty())

    def progress(self, description: str, total: int | None = None, unit: str = "") -> Any:
        """A context manager giving ``advance(n)``; it draws nothing off a terminal."""
        if not self.interactive:
            return nullcontext(lambda n=1: None)
        return _drawn(self.err, description, total, unit)


@contextmanager
def _drawn(
    stream: IO[str], description: str, total: int | None, unit: str
) -> Iterator[Callable[[int], None]]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is None:
        columns.append(TextColumn("{task.completed:,} " + unit))
    else:
        columns += [BarColumn(), MofNCompleteColumn()]
    columns.append(TimeElapsedColumn())
    with Progress(*columns, console=Console(file=stream), transient=True) as bar:
        task = bar.add_task(description, total=total)

        def advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield advance


def log_path_for(directory: Path, command: str) -> Path:
    return directory / f"{command}.log"


@contextmanager
def routed(log_path: Path, header: str, *, verbose: bool, json_output: bool) -> Iterator[Session]:
    """Run a command with libraries' output in ``log_path``; yield where its own words go.

    Quiet (the default): file descriptors 1 and 2 point at the log for the
    duration, so subprocesses (the MLflow sidecar) and C code write there too;
    Python's ``sys.stdout`` and ``sys.stderr`` as well; the root logger writes
    there at INFO; loggers that libraries gave a console handler of their own
    (MLflow's) propagate to it instead; warnings are logged. With ``verbose``
    nothing is hidden: log records also go to the terminal's stderr.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    _rotate(log_path)
    log = open(log_path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 (closed below)
    log.write(f"\n=== {datetime.now(UTC).isoformat(timespec='seconds')} {header}\n")
    session = Session(json_output=json_output, verbose=verbose, log_path=log_path)
    session.log = log
    restore: list[Callable[[], None]] = []
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        if not verbose:
            session.out = _own_copy(sys.stdout, 1, restore)
            session.err = _own_copy(sys.stderr, 2, restore)
            for fd in (1, 2):
                _point(fd, log, restore)
            _swap_streams(log, restore)
            _quiet_library_loggers(restore)
            _set_env("MLFLOW_CONFIGURE_LOGGING", "false", restore)
        _log_to(log, session.err if verbose else None, restore)
        try:
            yield session
        except Exception:
            logging.getLogger(__name__).exception("the command failed")
            raise
    finally:
        for undo in reversed(restore):
            with suppress(OSError, ValueError):
                undo()
        log.close()


def _rotate(path: Path) -> None:
    try:
        if path.stat().st_size > LOG_ROTATE_BYTES:
            os.replace(path, path.with_name(f"{path.name}.1"))
    except OSError:
        pass


def _own_copy(stream: IO[str], fd: int, restore: list) -> IO[str]:
    """A stream to the terminal that stays there once ``fd`` points at the log.

    A stream that is not ``fd`` itself (pytest's capture) is used as it is.
    """
    try:
        if stream.fileno() != fd:
            return stream
        copy = os.fdopen(
            os.dup(fd), "w", encoding=stream.encoding, errors=stream.errors, buffering=1
        )
    except (AttributeError, OSError, ValueError):
        return stream
    restore.append(copy.close)
    return copy


def _point(fd: int, log: IO[str], restore: list) -> None:
    try:
        saved = os.dup(fd)
    except OSError:  # no such descriptor (a daemon's closed stdout): nothing to redirect
        return
    os.dup2(log.fileno(), fd)

    def undo() -> None:
        os.dup2(saved, fd)
        os.close(saved)

    restore.append(undo)


def _swap_streams(log: IO[str], restore: list) -> None:
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = log

    def undo() -> None:
        log.flush()
        sys.stdout, sys.stderr = saved

    restore.append(undo)


def _quiet_library_loggers(restore: list) -> None:
    """Loggers with a console handler of their own (MLflow's, once imported) log to the file."""
    for logger in list(logging.root.manager.loggerDict.values()):
        if not isinstance(logger, logging.Logger):
            continue
        consoles = [
            handler
            for handler in logger.handlers
            if isinstance(handler, logging.StreamHandler)
            and not isinstance(handler, logging.FileHandler)
        ]
        if not consoles:
            continue
        for handler in consoles:
            logger.removeHandler(handler)
        restore.append(_restorer(logger, consoles, logger.propagate))
        logger.propagate = True


def _restorer(logger: logging.Logger, handlers: list, propagate: bool) -> Callable[[], None]:
    def undo() -> None:
        for handler in handlers:
            logger.addHandler(handler)
        logger.propagate = propagate

    return undo


def _set_env(name: str, value: str, restore: list) -> None:
    """Set for this process and its children (read by MLflow at import), undone after."""
    before = os.environ.get(name)
    if before is not None:
        return
    os.environ[name] = value
    restore.append(lambda: os.environ.pop(name, None))


def _log_to(log: IO[str], terminal: IO[str] | None, restore: list) -> None:
    root = logging.getLogger()
    handlers: list[logging.Handler] = [logging.StreamHandler(log)]
    if terminal is not None:
        handlers.append(logging.StreamHandler(terminal))
    level = root.level
    for handler in handlers:
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)

    def undo() -> None:
        logging.captureWarnings(False)
        root.setLevel(level)
        for handler in handlers:
            root.removeHandler(handler)
            handler.flush()

    restore.append(undo)


def shown_path(path: Path | str) -> str:
    """A path as short as it can be said: relative to the working directory when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def key_values(result: dict, indent: str = "") -> list[str]:
    """Any result as ``key: value`` lines; nested mappings indented, long lists counted."""
    lines = []
    for key, value in result.items():
        label = key.replace("_", " ")
        if isinstance(value, dict):
            if not value:
                lines.append(f"{indent}{label}: none")
                continue
            lines.append(f"{indent}{label}:")
            lines += key_values(value, indent + "  ")
        elif isinstance(value, list | tuple):
            if not value:
                lines.append(f"{indent}{label}: none")
            elif all(not isinstance(item, dict | list) for item in value) and len(value) <= 5:
                lines.append(f"{indent}{label}: {', '.join(_scalar(item) for item in value)}")
            else:
                lines.append(f"{indent}{label}: {len(value)} (--json lists them)")
        else:
            lines.append(f"{indent}{label}: {_scalar(value)}")
    return lines


def _scalar(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


# What the commands say.


def train_lines(result: dict) -> list[str]:
    """Whether the new version became champion and why, its scores beside the champion's."""
    version = result["model_version"]
    verdict = "is the new champion" if result["promoted"] else "was not promoted"
    lines = [
        f"Version {version} {verdict}: {result['reason']}.",
        f"Trained on {_rows(result['rows'])} ({result['rejected_rows']:,} rejected); scored on "
        f"{result['holdout_rows']:,} hold-out and {result['reference_rows']:,} reference rows.",
        "",
        f"  {'accuracy':<16} {'hold-out':>9} {'reference':>10}",
    ]
    rows = [(f"version {version}", result["challenger"])]
    if result.get("champion"):
        rows.append((f"champion (v{result['champion_version']})", result["champion"]))
    for name, scores in rows:
        holdout = _score(scores.get("accuracy"))
        reference = _score(scores.get("reference_accuracy"))
        lines.append(f"  {name:<16} {holdout:>9} {reference:>10}")
    if not result.get("champion"):
        lines.append("  (no champion before it)")
    lines += ["", f"Evaluation page: {shown_path(result['comparison_page'])}"]
    return lines


def predict_file_lines(result: dict) -> list[str]:
    lines = [f"Scored {_rows(result['rows'])} with model version {result['model_version']}."]
    if result["rejected_rows"]:
        lines.append(f"Rejected {_rows(result['rejected_rows'])}: {shown_path(result['rejects'])}")
    lines.append(f"Predictions: {shown_path(result['output'])}")
    return lines


def _rows(count: int) -> str:
    return f"{count:,} row" if count == 1 else f"{count:,} rows"


def _score(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else "-"


class DagWatch:
    """Reads ``airflow dags test``'s log lines for the tasks that finish and the run's end.

    Airflow's wording, not an API: what it does not recognise it skips, and
    the table at the end comes from Airflow's database when it can be read.
    """

    END = re.compile(r"\[DAG TEST\] end task task_id=(\S+)")
    STATE = re.compile(r"new_state=(\w+)")
    RUN = re.compile(r"DagRun Finished: .*?run_id=([^,\s]+).*?\bstate=(\w+)")

    def __init__(self) -> None:
        self.tasks: dict[str, list[str]] = {}
        self.run_id: str | None = None
        self.state: str | None = None
        self._last_state = "unknown"
        self.text: list[str] = []

    def read(self, line: str) -> int:
        """Take one line; the number of tasks it says finished (0 or 1)."""
        if "could not be found" in line:
            self.text.append(line)
        if match := self.STATE.search(line):
            self._last_state = match.group(1)
        if match := self.END.search(line):
            self.tasks.setdefault(match.group(1), []).append(self._last_state)
            self._last_state = "unknown"
            return 1
        if match := self.RUN.search(line):
            self.run_id, self.state = match.groups()
        return 0


def task_states(connection: str, dag_id: str, run_id: str) -> dict[str, list[str]]:
    """Every task instance's state of a run, mapped ones under their task, in running order."""
    from sqlalchemy import create_engine, text

    engine = create_engine(connection)
    try:
        with engine.connect() as database:
            rows = database.execute(
                text(
                    "SELECT task_id, state FROM task_instance WHERE dag_id = :dag AND run_id = :run"
                    " ORDER BY start_date IS NULL, start_date, task_id, map_index"
                ),
                {"dag": dag_id, "run": run_id},
            ).all()
    finally:
        engine.dispose()
    states: dict[str, list[str]] = {}
    for task_id, state in rows:
        states.setdefault(task_id, []).append(state or "none")
    return states


def dag_lines(dag: str, day: str, state: str, tasks: dict[str, list[str]], outputs: list[str]):
    lines = [f"{dag} {day}: {state}"]
    width = max((len(task) for task in tasks), default=0) + 2
    for task, states in tasks.items():
        if len(states) == 1:
            said = states[0]
        else:
            counts: dict[str, int] = {}
            for one in states:
                counts[one] = counts.get(one, 0) + 1
            said = ", ".join(f"{name} {count}" for name, count in counts.items())
            said = f"{said} (of {len(states)} mapped)"
        lines.append(f"  {task:<{width}}{said}")
    if outputs:
        lines.append("Outputs:")
        lines += [f"  {shown_path(path)}" for path in outputs]
    return lines
