"""The `{{ cookiecutter.project_slug }}` command, in the order people use it.

Heavy modules (scikit-learn, MLflow) are imported inside the subcommand that
needs them, so `--help` and `env` answer at once.

Every command says what it did in a few lines (``--json``: the whole result,
for scripts); what MLflow, Airflow and Python warnings have to say goes to
``logs/<command>.log`` (terminal.py), or also to the terminal with ``-v``.
"""

from __future__ import annotations

import argparse
import gc
import getpass
import json
import os
import re
import shlex
import subprocess
import sys
import webbrowser
from collections.abc import Callable
from contextlib import nullcontext, suppress
from datetime import UTC, datetime
from pathlib import Path

from {{ cookiecutter.package_name }} import terminal
from {{ cookiecutter.package_name }}.errors import (
    DataValidationError,
    PipelineError,
    PromotionRejectedError,
    SettingsError,
    UsageError,
)
from {{ cookiecutter.package_name }}.settings import (
    BOUNDS,
    CHAMPION_ALIAS,
    ENV_PREFIX,
    ESTIMATORS,
    PACKAGE_NAME,
    PROJECT_SLUG,
{%- if cookiecutter.data_source == "warehouse" %}
    SAMPLE_LABELS,
{%- endif %}
    airflow_environment,
{%- if cookiecutter.data_source != "warehouse" %}
    is_url,
{%- endif %}
    load_settings,
    mlflow_server_environment,
)

BATCH_INFERENCE_DAG = f"{PACKAGE_NAME}_batch_inference"
TRAINING_DAG = f"{PACKAGE_NAME}_training"
# Commands that write a date's partitions: one process a date (data/date_lock.py).
DATE_WRITERS = {
{%- if cookiecutter.data_source == "demo" %}
    "generate-data",
{%- endif %}
    "sample-batch",
    "extract",
    "predict",
    "publish",
    "label-requests",
    "monitor",
    "summarize",
    "report",
}
# Exit codes: 2 the input was wrong, 3 the gate refused the model, 1 anything else.
EXIT_FAILED, EXIT_BAD_INPUT, EXIT_REJECTED = 1, 2, 3

# Where the running command's words go (main sets it; a handler called directly prints).
_session = terminal.Session()


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def _print(result: dict, render: Callable[[dict], list[str]] = terminal.key_values) -> None:
    """The result in a few lines for a person, or all of it as JSON with ``--json``."""
    if _session.json_output:
        _session.say(json.dumps(result, indent=2, default=str))
    else:
        for line in render(result):
            _session.say(line)


def _actor() -> str:
    """Who ran the command, for the registry's record."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


# Pipeline steps, in the order a DAG run takes them.


def cmd_train(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.steps.training import run_training

    result = run_training(
        load_settings(),
        args.date,
        training_path=args.data,
        with_feedback=True if args.with_feedback else None,
        tags={"trigger": "cli"},
    )
    _print(result, terminal.train_lines)
    if not result["promoted"]:
        raise PromotionRejectedError(
            f"version {result['model_version']} was registered but not promoted: "
            f"{result['reason']}. The registry's champion is unchanged; "
            "improve the data or the model and train again."
        )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.steps.evaluation import evaluate_version

    result = evaluate_version(
        load_settings(), version=args.version, alias=args.alias, data=args.data
    )
    _print(result)
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.steps.tuning import tune

    with _session.progress("Trials", total=args.trials) as advance:
        result = tune(
            load_settings(),
            estimator=args.model,
            trials=args.trials,
            budget_seconds=args.budget_seconds,
            data=args.data,
            progress=lambda trial: advance(1),
        )
    _print({key: value for key, value in result.items() if key != "trials"})
    return 0

{%- if cookiecutter.data_source == "demo" %}


def cmd_generate_data(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.steps.demo import generate_data

    overrides = {"batch_size": args.batch_size} if args.batch_size else {}
    _print(generate_data(load_settings(**overrides), args.date))
    return 0
{%- endif %}


def cmd_extract(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.steps.extraction import extract_batch, not_ready

    settings = load_settings()
    result = extract_batch(settings, args.date)
    if result is None:
        raise PipelineError(not_ready(settings, args.date))
    _print(result)
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    if args.input is not None:
        from {{ cookiecutter.package_name }}.steps.inference import predict_file

        with _session.progress("Scoring", unit="rows") as advance:
            result = predict_file(load_settings(), args.input, args.output, progress=advance)
        _print(result, terminal.predict_file_lines)
        return 0
    settings = load_settings()
    # Started before the imports below: the sidecar imports MLflow while this
    # process imports pandas and scikit-learn and scores, and logs the run at the end.
    from functools import partial

    from {{ cookiecutter.package_name }}.tracking import inference_run, sidecar

    with sidecar.started(partial(inference_run.prepare, settings)) as mlflow_side:
        from {{ cookiecutter.package_name }}.steps.inference import batch_predict

        _print(batch_predict(settings, args.date, mlflow_side=mlflow_side))
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.steps.publish import publish_predictions
    from {{ cookiecutter.package_name }}.tracking import runs
    from {{ cookiecutter.package_name }}.tracking.client import connect

    settings = load_settings()
    name = runs.run_name(runs.INFERENCE, args.date)
    run = runs.find_run(connect(settings), settings.inference_experiment, name)
    if run is None:
        raise PipelineError(f"no batch-inference run for {args.date}: run predict first.")
    _print(publish_predictions(settings, args.date, run_id=run.info.run_id))
    return 0


def cmd_label_requests(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.steps.label_requests import request_labels

    _print(request_labels(load_settings(), args.date))
    return 0


def cmd_monitor(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.steps.monitoring import monitor

    _print(monitor(load_settings(), args.date))
    return 0


def cmd_summarize(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.steps.summary import write_summary

    _print(write_summary(load_settings(), args.date))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.steps.summary import write_summary

    result = write_summary(load_settings(), args.date)
    _session.say(result["report_path"])
    if args.open:
        webbrowser.open(Path(result["report_path"]).as_uri())
    return 0


def cmd_cleanup(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.steps.cleanup import delete_old_partitions

    _print(delete_old_partitions(load_settings(), args.date, args.retention_days))
    return 0


def cmd_run_dag(args: argparse.Namespace) -> int:
    """Run a DAG once, in-process, against the project's Airflow database.

    Airflow's log goes to the command's log file (to the terminal as well with
    ``-v``); the terminal shows the tasks as they finish, then each one's state.
    """
    env = {**os.environ, **airflow_environment()}
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    airflow = [sys.executable, "-m", "airflow"]
    if _logged_run([*airflow, "db", "migrate"], env):
        raise PipelineError("`airflow db migrate` failed: its output is in the log.")
    watch = terminal.DagWatch()
    with _session.progress(f"{args.dag} {args.date}", unit="tasks done") as advance:
        code = _logged_run(
            [*airflow, "dags", "test", args.dag, args.date],
            env,
            lambda line: advance(watch.read(line)),
        )
    # Airflow's own error first: a DAG id it cannot find is one line, not its traceback.
    if code and any(f"Dag '{args.dag}' could not be found" in line for line in watch.text):
        raise UsageError(
            f"no DAG {args.dag!r} in {env['AIRFLOW__CORE__DAGS_FOLDER']}: this project's are "
            f"{BATCH_INFERENCE_DAG} and {TRAINING_DAG} (a DAG file that fails to parse says "
            "why with `uv run python dags/<file>.py`)."
        )
    tasks = watch.tasks
    if watch.run_id is not None:
        connection = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        # The table is a courtesy: the log has every task's story.
        with suppress(Exception):
            tasks = terminal.task_states(connection, args.dag, watch.run_id) or tasks
    state = watch.state or ("failed" if code else "success")
    outputs = _day_outputs(args.dag, args.date)
    result = {
        "dag": args.dag,
        "date": args.date,
        "state": state,
        "run_id": watch.run_id,
        "tasks": tasks,
        "outputs": outputs,
    }
    _print(result, lambda _: terminal.dag_lines(args.dag, args.date, state, tasks, outputs))
    return code or (0 if state == "success" else EXIT_FAILED)


def _logged_run(command: list[str], env: dict, on_line: Callable[[str], object] = len) -> int:
    """Run ``command`` with its output, line by line, in the log; its exit code."""
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    with process.stdout:
        for line in process.stdout:
            _session.log_line(line)
            on_line(line)
    return process.wait()


def _day_outputs(dag: str, day: str) -> list[str]:
    """The partitions a run of ``dag`` wrote for ``day``, the HTML report's page by name."""
    from {{ cookiecutter.package_name }}.data import storage

    data = load_settings().data
    if dag == TRAINING_DAG:
        datasets = [storage.TRAINING]
    else:
        datasets = [storage.BATCHES, storage.PREDICTIONS, storage.MONITORING, storage.REPORTS]
    partitions = [storage.partition_dir(data.data_dir, dataset, day) for dataset in datasets]
{%- if cookiecutter.data_source != "warehouse" %}
    if dag != TRAINING_DAG and not is_url(data.outgoing_dir):  # where publish delivered them
        partitions.append(Path(data.outgoing_dir) / f"{storage.PARTITION_PREFIX}{day}")
{%- endif %}
    paths = []
    for partition in partitions:
        report = partition / storage.REPORT_HTML
        if report.is_file():
            paths.append(str(report))
        elif partition.is_dir():
            paths.append(str(partition))
    return paths


def cmd_sample_batch(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.steps.sample_batch import drop_sample_batch

    _print(drop_sample_batch(load_settings(), args.date, args.rows))
    return 0
{%- if cookiecutter.data_source == "warehouse" %}


def cmd_warehouse_init(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.data.sources import source_for

    settings = load_settings()
    if args.with_sample_data and settings.model.labels != SAMPLE_LABELS:
        raise UsageError(
            f"the sample reviews are labelled {','.join(SAMPLE_LABELS)}, not "
            f"{','.join(settings.model.labels)}: load your own labeled rows into "
            f"{settings.data.training_table} instead of --with-sample-data."
        )
    _print(source_for(settings).init(with_sample_data=args.with_sample_data))
    return 0
{%- endif %}


# The model registry.


def cmd_model_promote(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.steps import shadow
    from {{ cookiecutter.package_name }}.tracking import registry
    from {{ cookiecutter.package_name }}.tracking.client import connect

    settings = load_settings()
    client = connect(settings)
    version = registry.model_version(client, settings, args.version)
    # Read before the alias moves: the days it scored in the shadow against this champion.
    live = shadow.evidence(settings, args.version)
    gate_reason = registry.refused_by_gate(version)
    if gate_reason is not None and not args.force:
        live_line = "" if live is None else f"; live, {shadow.evidence_line(live)}"
        raise UsageError(
            f"the gate refused version {args.version} ({gate_reason}): add --force to promote "
            f"it anyway; --reason is recorded beside the gate's{live_line}"
        )
    registry.promote(
        client, settings, args.version, reason=f"manual: {args.reason}", actor=_actor()
    )
    result = {"champion": args.version, "reason": args.reason, "by": _actor()}
    if gate_reason is not None:
        result["gate_reason"] = gate_reason
    if live is not None:
        result["live_evidence"] = shadow.evidence_summary(live)
    _print(result)
    return 0


def cmd_model_rollback(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.tracking import registry
    from {{ cookiecutter.package_name }}.tracking.client import connect

    settings = load_settings()
    version = registry.rollback(connect(settings), settings, reason=args.reason, actor=_actor())
    _print({"champion": version, "reason": args.reason, "by": _actor()})
    return 0


def cmd_model_reference(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.data.schema import refuse_unknown_labels, validate_labeled
    from {{ cookiecutter.package_name }}.data.sources import training_source
    from {{ cookiecutter.package_name }}.tracking import reference
    from {{ cookiecutter.package_name }}.tracking.client import connect

    settings = load_settings()
    frame = training_source(settings, args.data).read_training()
    labeled = validate_labeled(
        frame, labels=settings.model.labels, min_rows=settings.model.min_training_rows
    )
    rows = refuse_unknown_labels(labeled, str(args.data))
    run_id = reference.replace(
        connect(settings),
        settings,
        rows.valid,
        source=str(args.data.resolve()),
        reason=f"manual: {args.reason}",
        actor=_actor(),
    )
    _print({"reference_run_id": run_id, "rows": len(rows.valid), "by": _actor()})
    return 0


def cmd_model_lineage(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.tracking.lineage import trace_predictions

    _print(trace_predictions(load_settings(), args.logical_date))
    return 0
{%- if cookiecutter.platform == "local" %}


# The local platform.


def cmd_stack(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.platform import stack

    settings = load_settings()
    if args.action == "up":
        _print(stack.up(settings))
    elif args.action == "down":
        result = stack.down(settings)
        _print({"stopped": result["stopped"]})
        for note in result["left_alone"]:
            _session.note(f"stack down: {note}")
        # A pid file left in place may name a component still running.
        return 1 if result["kept_pid_files"] else 0
    elif args.action == "status":
        notes = stack.pid_file_notes(settings)
        states = stack.health(settings)
        _print({"health": states, "memory": stack.footprint(settings)})
        for note in notes:
            _session.note(f"stack status: {note}")
        return 0 if all(state == "healthy" for state in states.values()) else 3
    elif args.action == "run":
        return stack.run_foreground(settings, args.components)
    else:
        logs = [str(path) for path in stack.log_paths(settings)]
        if not logs:
            raise PipelineError("no stack logs yet: run `stack up` first.")
        return subprocess.run(
            ["tail", "-n", "40", *(["-f"] if args.follow else []), *logs]
        ).returncode
    return 0


def cmd_trigger(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.platform.airflow_api import trigger

    try:
        conf = json.loads(args.conf)
    except ValueError as error:
        example = '{"shard_rows": 100000}'
        raise UsageError(
            f"--conf is not JSON ({error}): pass an object such as {example}."
        ) from None
    result = trigger(
        load_settings(),
        args.dag,
        conf,
        wait=args.wait,
        timeout=args.timeout,
        logical_date=args.date,
    )
    _print(result)
    return 0 if result["state"] != "failed" else 1
{%- endif %}


def cmd_env(args: argparse.Namespace) -> int:
    settings = load_settings()
    variables = {**airflow_environment(settings), **mlflow_server_environment(settings)}
    for key, value in variables.items():
        _session.say(f"export {key}={shlex.quote(value)}")
    return 0
{%- if cookiecutter.serving == "http" %}


# Serving.


def cmd_serve(args: argparse.Namespace) -> int:
    import gc
    import logging

    from {{ cookiecutter.package_name }}.serving.network import no_auth_warning

    warning = no_auth_warning(args.host, args.port)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    import uvicorn

    from {{ cookiecutter.package_name }}.serving.app import create_app
    from {{ cookiecutter.package_name }}.serving.protocol import raise_open_files_limit, uvicorn_options

    settings = load_settings()
    warning = raise_open_files_limit(settings.serving.serve_max_connections)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    # uvicorn configures only its own loggers: the champion refresh's lines need this.
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
    app = create_app(settings, refresh_seconds=args.refresh_seconds)
    # MLflow, scikit-learn and FastAPI are imported and live as long as the
    # server: a full collection need not scan their 300,000 objects again
    # (0.3 s each time, a pause for every request; 2,000 slow clients set off
    # enough of them to push a normal request past 1 s).
    gc.freeze()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="info",
        **uvicorn_options(settings.serving),
    )
    return 0
{%- endif %}


def _iso_date(value: str) -> str:
    from datetime import date

    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: use YYYY-MM-DD.") from None


def _bounded(name: str, what: str) -> Callable[[str], int]:
    """An argparse type for the whole-number setting ``name``, within its BOUNDS in settings.py."""
    low, high = BOUNDS[name]

    def parse(value: str) -> int:
        if not value.isdigit() or not low <= int(value) <= high:
            raise argparse.ArgumentTypeError(
                f"{value!r} is not {what}: use a whole number from {low} to {high}."
            )
        return int(value)

    return parse


def _version(value: str) -> str:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a model version: use its number, e.g. 3"
        )
    return str(int(value))


def _reason(value: str) -> str:
    if not value.strip():
        raise argparse.ArgumentTypeError(
            "the reason is empty: say why in a few words, e.g. --reason 'rollback after alert'."
        )
    return value.strip()
{%- if cookiecutter.serving == "http" %}


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a port: use a whole number from 1 to 65535."
        )
    return int(value)


def _refresh_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not 0.1 <= seconds <= 86400:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a refresh interval: use seconds from 0.1 to 86400."
        )
    return seconds
{%- endif %}


class _Parser(argparse.ArgumentParser):
    """argparse that states a wrong argument in one line (exit 2), not usage plus error."""

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _Commands:
    """Subcommands registered in groups, so ``--help`` lists them the way people use them."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self._subparsers = parser.add_subparsers(
            dest="command", required=True, metavar="<command>", help="one of the commands above"
        )
        self.groups: list[tuple[str, list[tuple[str, str]]]] = []

    def group(self, title: str) -> None:
        self.groups.append((title, []))

    def add(
        self,
        name: str,
        handler: Callable[[argparse.Namespace], int] | None,
        help_text: str,
        *,
        dated: bool = False,
    ) -> argparse.ArgumentParser:
        self.groups[-1][1].append((name, help_text))
        # No help= here: the grouped overview lists the commands instead.
        sub = self._subparsers.add_parser(name, description=help_text)
        if handler is not None:
            sub.set_defaults(handler=handler)
        if dated:
            _date_option(sub)
        return sub

    def overview(self) -> str:
        lines = []
        for title, commands in self.groups:
            lines.append(f"{title}:")
            lines += [f"  {name:<15} {text}" for name, text in commands]
            lines.append("")
        return "\n".join(lines)


def _date_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--date", default=_today(), type=_iso_date, help="logical date (YYYY-MM-DD), default today"
    )


def _add_pipeline(commands: _Commands) -> None:
    commands.group("Pipeline steps, in the order a run takes them")
    train = commands.add(
        "train", cmd_train, "Train a challenger; promote it if it passes the gate.", dated=True
    )
    train.add_argument(
        "--data",
        type=Path,
        help="train on exactly this CSV, Parquet or JSON Lines file of texts and labels "
        "(text_column, label_column; default: the data source, plus arrived labels while "
        "train_on_feedback is on)",
    )
    train.add_argument(
        "--with-feedback",
        action="store_true",
        help="with --data, also add the scored batch rows whose labels have arrived",
    )
{%- if cookiecutter.data_source == "demo" %}
    generate = commands.add(
        "generate-data",
        cmd_generate_data,
        "Demo: write the synthetic batch for a date.",
        dated=True,
    )
    generate.add_argument("--batch-size", type=int, help="rows in the batch (default: settings)")
{%- endif %}
    commands.add(
        "extract",
        cmd_extract,
        "Snapshot and validate a date's batch ({% if cookiecutter.data_source == "warehouse" %}warehouse{% else %}files{% endif %}).",
        dated=True,
    )
    predict = commands.add(
        "predict", cmd_predict, "Score a date's batch, or any file, with the champion.", dated=True
    )
    predict.add_argument(
        "--input", type=Path, help="score this CSV, Parquet or JSON Lines file instead of a date"
    )
    predict.add_argument(
        "--output",
        type=Path,
        help="where --input's predictions go (default: <input>.predictions.<ext> beside it)",
    )
    commands.add(
        "publish",
        cmd_publish,
        "Deliver a date's predictions to the {% if cookiecutter.data_source == "warehouse" %}warehouse{% else %}files{% endif %} output.",
        dated=True,
    )
    commands.add(
        "label-requests",
        cmd_label_requests,
        "Write a date's label requests: its least confident rows and a random sample.",
        dated=True,
    )
    commands.add(
        "monitor", cmd_monitor, "Judge the monitoring window ending at a date.", dated=True
    )
    commands.add("summarize", cmd_summarize, "Write the run summary for a date.", dated=True)
    report = commands.add("report", cmd_report, "Write a date's HTML report.", dated=True)
    report.add_argument("--open", action="store_true", help="open it in the default browser")
    cleanup = commands.add(
        "cleanup", cmd_cleanup, "Delete partitions older than the retention.", dated=True
    )
    fewest, most = BOUNDS["retention_days"]
    cleanup.add_argument(
        "--retention-days",
        type=_bounded("retention_days", "a number of days to keep"),
        help=f"days to keep, {fewest} to {most} (default: settings)",
    )
    run_dag = commands.add(
        "run-dag", cmd_run_dag, "Run a whole DAG once with `airflow dags test`.", dated=True
    )
    run_dag.add_argument(
        "--dag", default=BATCH_INFERENCE_DAG, help=f"DAG id (default {BATCH_INFERENCE_DAG})"
    )


def _positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of 1 or more.")
    return int(value)


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds above 0.")
    return seconds


def _add_model_choice(commands: _Commands) -> None:
    commands.group("Choosing the model")
    evaluate = commands.add(
        "evaluate", cmd_evaluate, "Write a version's evaluation report (HTML and JSON)."
    )
    which = evaluate.add_mutually_exclusive_group()
    which.add_argument("--version", type=_version, help="model version number")
    which.add_argument("--alias", help=f"a registry alias (default {CHAMPION_ALIAS})")
    evaluate.add_argument(
        "--data",
        type=Path,
        help="labeled CSV, Parquet or JSON Lines file (default: the reference set)",
    )
    tune = commands.add(
        "tune", cmd_tune, "Search hyperparameters by cross-validation; write the best for train."
    )
    tune.add_argument(
        "--model", choices=ESTIMATORS, help="estimator to tune (default: the estimator setting)"
    )
    tune.add_argument(
        "--trials", type=_positive_int, default=20, help="configurations to try (default 20)"
    )
    tune.add_argument(
        "--budget-seconds",
        type=_seconds,
        help="start no trial after this many seconds (default: no limit)",
    )
    tune.add_argument(
        "--data", type=Path, help="tune on this labeled file (default: the training data)"
    )


def _add_data(commands: _Commands) -> None:
    commands.group("Data")
    sample = commands.add(
        "sample-batch",
        cmd_sample_batch,
        "Put sample reviews where a date's real batch goes, to try the pipeline.",
        dated=True,
    )
    sample.add_argument(
        "--rows", type=_positive_int, default=500, help="how many sample texts (default 500)"
    )
{%- if cookiecutter.data_source == "warehouse" %}
    warehouse = commands.add("warehouse", None, "init: create the warehouse tables")
    actions = warehouse.add_subparsers(dest="action", required=True, metavar="<action>")
    init = actions.add_parser(
        "init", help="create every table the pipeline reads and writes, where missing"
    )
    init.set_defaults(handler=cmd_warehouse_init)
    init.add_argument(
        "--with-sample-data",
        action="store_true",
        help="fill an empty training table with the bundled sample reviews",
    )
{%- endif %}


def _add_registry(commands: _Commands) -> None:
    commands.group("Model registry")
    model = commands.add("model", None, "promote | rollback | reference | lineage")
    actions = model.add_subparsers(dest="action", required=True, metavar="<action>")
    promote = actions.add_parser("promote", help="give a registered version the champion alias")
    promote.set_defaults(handler=cmd_model_promote)
    promote.add_argument("version", type=_version, help="model version number")
    promote.add_argument(
        "--reason", type=_reason, required=True, help="why, recorded on the version"
    )
    promote.add_argument("--force", action="store_true", help="promote a version the gate refused")
    rollback = actions.add_parser("rollback", help="give the alias back to the previous champion")
    rollback.set_defaults(handler=cmd_model_rollback)
    rollback.add_argument(
        "--reason", type=_reason, required=True, help="why, recorded on the version"
    )
    reference = actions.add_parser(
        "reference", help="replace the reference evaluation set the gate scores every model on"
    )
    reference.set_defaults(handler=cmd_model_reference)
    reference.add_argument("--data", type=Path, required=True, help="file of texts and labels")
    reference.add_argument("--reason", required=True, help="why, recorded with the set")
    lineage = actions.add_parser("lineage", help="the model and data behind a date's predictions")
    lineage.set_defaults(handler=cmd_model_lineage)
    lineage.add_argument("logical_date", type=_iso_date, help="YYYY-MM-DD")
{%- if cookiecutter.platform == "local" %}


def _add_platform(commands: _Commands) -> None:
    commands.group("Local platform")
    stack = commands.add("stack", cmd_stack, "up | down | status | logs | run: MLflow and Airflow")
    actions = stack.add_subparsers(dest="action", required=True, metavar="<action>")
    actions.add_parser("up", help="start every component in the background")
    actions.add_parser("down", help="stop every process the stack started")
    actions.add_parser("status", help="health and memory of each component")
    logs = actions.add_parser("logs", help="the last lines of every log")
    logs.set_defaults(routed=False)
    logs.add_argument("--follow", action="store_true", help="keep following")
    run = actions.add_parser("run", help="run components in the foreground, on this terminal")
    run.set_defaults(routed=False)
    run.add_argument("components", nargs="*", help="which components (default: all)")
    trigger = commands.add("trigger", cmd_trigger, "Trigger a DAG run through Airflow's REST API.")
    trigger.add_argument("dag", help=f"DAG id, e.g. {BATCH_INFERENCE_DAG}")
    trigger.add_argument("--conf", default="{}", help="run config as JSON")
    trigger.add_argument(
        "--date", type=_iso_date, default=None, help="logical date YYYY-MM-DD (default: now)"
    )
    trigger.add_argument("--wait", action="store_true", help="wait and report each task's state")
    trigger.add_argument("--timeout", type=float, default=900, help="seconds to wait (default 900)")
{%- endif %}
{%- if cookiecutter.serving == "http" %}


def _add_serving(commands: _Commands) -> None:
    commands.group("Serving")
    serve = commands.add("serve", cmd_serve, "Serve the champion over HTTP (POST /predict).")
    serve.set_defaults(routed=False)
    serve.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port, 1-65535 (default 8000)")
    serve.add_argument(
        "--refresh-seconds",
        type=_refresh_seconds,
        default=30.0,
        help="how often to look for a new champion (default 30)",
    )
{%- endif %}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROJECT_SLUG,
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = _Commands(parser)
    _add_pipeline(commands)
    _add_model_choice(commands)
    _add_data(commands)
    _add_registry(commands)
{%- if cookiecutter.platform == "local" %}
    _add_platform(commands)
{%- endif %}
{%- if cookiecutter.serving == "http" %}
    _add_serving(commands)
{%- endif %}
    commands.group("Configuration")
    env = commands.add("env", cmd_env, "Print the Airflow and MLflow variables as shell exports.")
    env.set_defaults(routed=False)
    parser.description = f"{parser.description}\n\n{commands.overview()}"
    _add_output_options(parser, top=True)
    return parser


def _add_output_options(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """``--json`` and ``-v`` before or after the command, on every command and action.

    Below the top, their default is "not given", so the top's answer stands.
    """
    default = False if top else argparse.SUPPRESS
    parser.add_argument(
        "--json",
        action="store_true",
        default=default,
        help="print the whole result as JSON, for scripts",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help="show MLflow's and Airflow's log lines and warnings (always in logs/<command>.log)",
    )
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _add_output_options(sub)


def main(argv: list[str] | None = None) -> int:
    global _session
    args = build_parser().parse_args(argv)
    # --json prints JSON on stdout; MLflow's "View run at <url>" line would break it.
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    # No MLflow loader unpickles here: registry.py loads skops models with our own types.
    os.environ.setdefault("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")
    _session = terminal.Session(json_output=args.json, verbose=args.verbose)
    try:
        _check_arguments(args)
        with _routed(args, sys.argv[1:] if argv is None else argv) as session:
            _session = session
            return _handle(args)
    except PromotionRejectedError as error:
        return _fail(error, EXIT_REJECTED)
    except (SettingsError, DataValidationError, UsageError) as error:
        return _fail(error, EXIT_BAD_INPUT)
    except PipelineError as error:
        return _fail(error, EXIT_FAILED)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as error:
        # Not anticipated: still one line, with the way to see the whole story.
        if os.environ.get(f"{ENV_PREFIX}TRACEBACK"):
            raise
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        where = f"; log: {_log_name()}" if _session.log_path else ""
        print(
            f"error: unexpected {type(error).__name__}: {first} "
            f"(set {ENV_PREFIX}TRACEBACK=1 to see the traceback{where})",
            file=sys.stderr,
        )
        return EXIT_FAILED
    finally:
        _session = terminal.Session()
        if argv is None:
            # Run as a program, so the process ends next: spare the collector
            # walking every object of pandas, scikit-learn and MLflow once more
            # on the way out (most of a second of exit, measured on 2 cores).
            gc.freeze()


def _handle(args: argparse.Namespace) -> int:
    key = _date_lock_key(args)
    if key is None:
        return args.handler(args)
    from {{ cookiecutter.package_name }}.data import date_lock

    command = f"{PROJECT_SLUG} {args.command} --date {args.date}"
    with date_lock.holding(load_settings().data.data_dir, key, command):
        return args.handler(args)


def _routed(args: argparse.Namespace, argv: list[str]):
    """The command's log file, with what libraries say routed to it (terminal.py).

    A command whose output is a server's log or a log's tail (``routed=False``
    where it is defined) keeps it on the terminal.
    """
    if not getattr(args, "routed", True):
        return nullcontext(_session)
    directory = os.environ.get(f"{ENV_PREFIX}LOG_DIR")
    log_dir = Path(directory) if directory else load_settings().platform.project_root / "logs"
    return terminal.routed(
        terminal.log_path_for(log_dir, args.command),
        shlex.join([PROJECT_SLUG, *argv]),
        verbose=args.verbose,
        json_output=args.json,
    )


def _log_name() -> str:
    return terminal.shown_path(_session.log_path) if _session.log_path else ""


def _check_arguments(args: argparse.Namespace) -> None:
    """Arguments that only make sense together, refused before anything is locked or written."""
    if args.command == "predict" and args.output is not None and args.input is None:
        raise UsageError("--output goes with --input: a date's predictions go to its partition.")


def _date_lock_key(args: argparse.Namespace) -> str | None:
    """The lock a command holds while it runs: its date's, when it writes that date's partitions.

    A run-dag of the batch DAG holds the date, as its steps would; of another
    DAG, a lock of that DAG and date (two runs of one would clash in Airflow).
    """
    if args.command == "run-dag":
        prefix = "" if args.dag == BATCH_INFERENCE_DAG else f"{args.dag}."
        return f"{prefix}ds={args.date}"
    if args.command in DATE_WRITERS and getattr(args, "input", None) is None:
        return f"ds={args.date}"
    return None


def _fail(error: Exception, code: int) -> int:
    """One line; it names the command's log when there is one."""
    where = f" (log: {_log_name()})" if _session.log_path else ""
    print(f"error: {error}{where}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
