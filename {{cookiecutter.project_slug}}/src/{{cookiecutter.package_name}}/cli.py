"""The `{{ cookiecutter.project_slug }}` command: the pipeline steps, one subcommand each.

Heavy modules (scikit-learn, MLflow) are imported inside the subcommand that
needs them, so `--help` and `env` answer at once.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import shlex
import subprocess
import sys
import webbrowser
from datetime import UTC, datetime
from pathlib import Path

from {{ cookiecutter.package_name }} import storage
from {{ cookiecutter.package_name }}.errors import PipelineError, PromotionRejectedError
from {{ cookiecutter.package_name }}.settings import (
    PACKAGE_NAME,
    PROJECT_SLUG,
    airflow_environment,
    load_settings,
    mlflow_server_environment,
)

BATCH_INFERENCE_DAG = f"{PACKAGE_NAME}_batch_inference"


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def _print(result: dict) -> None:
    print(json.dumps(result, indent=2, default=str))


def _actor() -> str:
    """Who ran the command, for the registry's record."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def cmd_train(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.training import run_training

    result = run_training(
        load_settings(), args.date, training_path=args.data, tags={"trigger": "cli"}
    )
    _print(result)
    if not result["promoted"]:
        raise PromotionRejectedError(
            f"version {result['model_version']} was registered but not promoted: "
            f"{result['reason']}. The registry's champion is unchanged; "
            "improve the data or the model and train again."
        )
    return 0


def cmd_promote(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }} import registry

    settings = load_settings()
    client = registry.connect(settings)
    client.get_model_version(settings.registered_model_name, args.version)
    registry.promote(
        client, settings, args.version, reason=f"manual: {args.reason}", actor=_actor()
    )
    _print({"champion": args.version, "reason": args.reason, "by": _actor()})
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }} import registry

    settings = load_settings()
    version = registry.rollback(
        registry.connect(settings), settings, reason=args.reason, actor=_actor()
    )
    _print({"champion": version, "reason": args.reason, "by": _actor()})
    return 0


def cmd_lineage(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.lineage import trace_predictions

    _print(trace_predictions(load_settings(), args.logical_date))
    return 0


def cmd_generate_data(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.sources import generate_configured_batch

    overrides = {"batch_size": args.batch_size} if args.batch_size else {}
    _print(generate_configured_batch(load_settings(**overrides), args.date))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.inference import batch_predict

    _print(batch_predict(load_settings(), args.date))
    return 0


def cmd_monitor(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.monitoring import monitor

    _print(monitor(load_settings(), args.date))
    return 0


def cmd_summarize(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.reporting import write_summary

    _print(write_summary(load_settings(), args.date))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }}.reporting import write_summary

    result = write_summary(load_settings(), args.date)
    print(result["report_path"])
    if args.open:
        webbrowser.open(Path(result["report_path"]).as_uri())
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from {{ cookiecutter.package_name }}.serving import create_app

    app = create_app(load_settings(), refresh_seconds=args.refresh_seconds)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def cmd_stack(args: argparse.Namespace) -> int:
    from {{ cookiecutter.package_name }} import stack

    settings = load_settings()
    if args.action == "up":
        _print(stack.up(settings))
    elif args.action == "down":
        _print({"stopped": stack.down(settings)})
    elif args.action == "status":
        states = stack.health(settings)
        _print({"health": states, "memory": stack.footprint(settings)})
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
    from {{ cookiecutter.package_name }}.airflow_api import trigger

    try:
        conf = json.loads(args.conf)
    except ValueError as error:
        example = '{"batch_size": 100}'
        raise PipelineError(
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


def cmd_cleanup(args: argparse.Namespace) -> int:
    settings = load_settings()
    retention = args.retention_days or settings.retention_days
    deleted = storage.delete_partitions_before(settings.data_dir, args.date, retention)
    _print({"logical_date": args.date, "retention_days": retention, "deleted": deleted})
    return 0


def cmd_env(args: argparse.Namespace) -> int:
    settings = load_settings()
    variables = {**airflow_environment(settings), **mlflow_server_environment(settings)}
    for key, value in variables.items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


def cmd_run_dag(args: argparse.Namespace) -> int:
    """Run the batch-inference DAG once, in-process, against the project's Airflow database."""
    env = {**os.environ, **airflow_environment()}
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    airflow = [sys.executable, "-m", "airflow"]
    subprocess.run([*airflow, "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    return subprocess.run([*airflow, "dags", "test", args.dag, args.date], env=env).returncode


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROJECT_SLUG, description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def command(
        name: str, handler, help_text: str, *, dated: bool = False
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        if dated:
            sub.add_argument(
                "--date",
                default=_today(),
                type=_iso_date,
                help="logical date (YYYY-MM-DD), default today",
            )
        return sub

    train = command(
        "train", cmd_train, "Train a challenger and promote it if it passes the gate.", dated=True
    )
    train.add_argument(
        "--data", type=Path, help="CSV or Parquet with text,sentiment (default: the data source)"
    )
    promote = command("promote", cmd_promote, "Give a registered version the champion alias.")
    promote.add_argument("version", help="model version number")
    promote.add_argument("--reason", required=True, help="why, recorded on the version")
    rollback = command("rollback", cmd_rollback, "Give the alias back to the previous champion.")
    rollback.add_argument("--reason", required=True, help="why, recorded on the version")
    lineage = command(
        "lineage", cmd_lineage, "Show the model and data behind a date's predictions."
    )
    lineage.add_argument("logical_date", type=_iso_date, help="YYYY-MM-DD")
    generate = command(
        "generate-data", cmd_generate_data, "Write the synthetic batch for a date.", dated=True
    )
    generate.add_argument("--batch-size", type=int, help="rows in the batch (default: settings)")
    command("predict", cmd_predict, "Score a date's batch with the champion model.", dated=True)
    command("monitor", cmd_monitor, "Evaluate the monitoring window ending at a date.", dated=True)
    command("summarize", cmd_summarize, "Write the run summary for a date.", dated=True)
    report = command("report", cmd_report, "Write a date's HTML report (and open it).", dated=True)
    report.add_argument("--open", action="store_true", help="open it in the default browser")
    cleanup = command(
        "cleanup", cmd_cleanup, "Delete partitions older than the retention.", dated=True
    )
    cleanup.add_argument("--retention-days", type=int, help="days to keep (default: settings)")
    run_dag = command(
        "run-dag", cmd_run_dag, "Run a DAG once with `airflow dags test`.", dated=True
    )
    run_dag.add_argument(
        "--dag", default=BATCH_INFERENCE_DAG, help=f"DAG id (default {BATCH_INFERENCE_DAG})"
    )
    command("env", cmd_env, "Print the Airflow and MLflow variables as shell exports.")
    stack_cmd = command(
        "stack",
        cmd_stack,
        "Run MLflow and Airflow locally: up, down, status, logs; "
        "run = in the foreground, on this terminal.",
    )
    stack_cmd.add_argument("action", choices=["up", "down", "status", "logs", "run"])
    stack_cmd.add_argument(
        "components", nargs="*", help="with run: which components (default: all)"
    )
    stack_cmd.add_argument("--follow", action="store_true", help="with logs: keep following")
    trigger_cmd = command("trigger", cmd_trigger, "Trigger a DAG run through Airflow's REST API.")
    trigger_cmd.add_argument("dag", help=f"DAG id, e.g. {BATCH_INFERENCE_DAG}")
    trigger_cmd.add_argument("--conf", default="{}", help="run config as JSON")
    trigger_cmd.add_argument(
        "--date", type=_iso_date, default=None, help="logical date YYYY-MM-DD (default: now)"
    )
    trigger_cmd.add_argument(
        "--wait", action="store_true", help="wait and report each task's state"
    )
    trigger_cmd.add_argument(
        "--timeout", type=float, default=900, help="seconds to wait (default 900)"
    )
    serve = command(
        "serve", cmd_serve, "Serve the champion over HTTP (POST /predict, GET /health)."
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--refresh-seconds",
        type=float,
        default=30.0,
        help="how often to look for a new champion (default 30)",
    )
    return parser


def _iso_date(value: str) -> str:
    try:
        return storage.as_date(value).isoformat()
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Commands print JSON on stdout; MLflow's "View run at <url>" line would break it.
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    try:
        return args.handler(args)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
