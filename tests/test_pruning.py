"""serving=none, platform=none, a source other than the demo, and data_source=warehouse
(which ships no files source): what they remove is gone, and nothing refers to it.

Each rendering is baked, linted with ruff, searched for words of the removed
part (allowing the project's unrelated uses of them), and its CLI is asked for
its commands: `cli.py` imports only the package's standard-library modules at
the top, so its parser builds with this interpreter, without the project's
environment.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

PACKAGE = "sentiment_pipeline"
# Paths each answer removes, relative to the project.
PRUNED = {
    "serving": [f"src/{PACKAGE}/serving", "tests/serving"],
    "platform": [f"src/{PACKAGE}/platform", "tests/platform", "scripts"],
    # data_source=files or warehouse: the demo's step, generator and their tests.
    "demo": [
        f"src/{PACKAGE}/steps/demo.py",
        f"src/{PACKAGE}/data/synthetic.py",
        "tests/data/test_synthetic.py",
    ],
    # data_source=warehouse: the files source's tests (its folders, settling, delivery).
    "files": [
        "tests/data/test_settle.py",
        "tests/data/test_sources.py",
        "tests/dags/test_batch_inference_sources.py",
    ],
}
# Words of each part, and the unrelated uses of them the project keeps.
DEAD_WORDS = {
    "serving": re.compile(
        r"\b[Ss]erve\b|[Ss]erving|uvicorn|FastAPI|fastapi|httptools|/predict\b|\bSERVE_|\bserve_\w+_"
    ),
    "platform": re.compile(
        r"stack up|stack down|stack status|stack run|stack logs|`stack`|\btrigger <|\btrigger "
        rf"{PACKAGE}|`trigger`|{PACKAGE}\.platform|platform/|stack_dir|\.stack\b|STACK_DIR|"
        r"celery_workers|_PROFILE|profile=|PROFILES|EXECUTORS|playwright|[Cc]hromium|start_mlflow|"
        r"start_airflow|mlflow_server\.py|HAS_PLATFORM|Local platform|local stack"
    ),
    "demo": re.compile(
        r"generate.data|DemoSource|steps[./]demo\b|data[./]synthetic\b|\b[Dd]emo\b|\bDEMO\b|"
        r"[A-Z]_(BATCH_SIZE|DRIFT_START|LABEL_DELAY_DAYS)\b|\"(BATCH_SIZE|DRIFT_START)\"|"
        r"\"(batch_size|drift_start)\"|\.(batch_size|drift_start|label_delay_days)\b|"
        r"`(batch_size|drift_start|label_delay_days)`"
    ),
    "files": re.compile(
        r"incoming_dir|feedback_dir|outgoing_dir|training_files|batch_settle|"
        # Their environment variables, not a test's own TRAINING_FILES table of bad files.
        r"[_\"'{}$`](INCOMING_DIR|FEEDBACK_DIR|OUTGOING_DIR|TRAINING_FILES|BATCH_SETTLE_SECONDS)\b|"
        r"FileSource|FeedbackFiles|SUCCESS_MARKER|(?<!\w)_SUCCESS\b|write_outgoing|still_written|"
        r"_data_files|LOCATION_FIELDS|as_location|training_data/|data/(incoming|feedback|outgoing)\b|"
        r"s3fs|gcsfs|--extra (s3|gcs)\b|\[(s3|gcs)\]|\"files\"|`files`"
    ),
}
ALLOWED = {
    # The MLflow sidecar's own `serve` function (tracking/sidecar.py), Airflow's
    # --skip-serve-logs and MLflow's and Airflow's own uvicorn in platform/ (mlflow_server.py).
    "serving": re.compile(
        r"import serve; serve\(|def serve\(descriptor|skip-serve-logs|uvicorn as a child|"
        r"# uvicorn and Airflow's api-server|and uvicorn started on"
    ),
    "platform": re.compile(r"$^"),
    "demo": re.compile(r"$^"),
    # MLflow's dataset source type of files under an fsspec URL (tracking/lineage.py, its test).
    "files": re.compile(r'return "files"$|"memory://[^"]*", "files"\)'),
}
# Files a part's words may fill: the invented reviews stay, as the tests' data.
KEPT_FILES = {"demo": {"tests/synthetic.py"}}
# Commands and settings each part adds.
COMMANDS = {
    "serving": {"serve"},
    "platform": {"stack", "trigger"},
    "demo": {"generate-data"},
    "files": set(),
}
SETTINGS = {
    "serving": {"serve_header_timeout_seconds", "serve_max_connections", "serve_inflight_body_mib"},
    # (executor and celery_workers too with executor=celery: DEAD_WORDS checks their words.)
    "platform": {"stack_dir", "profile"},
    "demo": {"batch_size", "label_delay_days", "drift_start"},
    "files": {"training_files", "incoming_dir", "feedback_dir", "outgoing_dir", "batch_settle_seconds"},
}
DEPENDENCIES = {
    "serving": {"fastapi", "uvicorn", "httptools"},
    "platform": {"playwright"},
    "demo": set(),
    # The `s3` and `gcs` extras: the files source on an object store.
    "files": {"s3fs", "gcsfs"},
}


def ruff(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=cwd, capture_output=True, text=True)


def dead_references(project: Path, part: str) -> list[str]:
    found = []
    for path in sorted(project.rglob("*")):
        if not path.is_file() or path.name in {"uv.lock", "reviews.csv"} or ".ruff_cache" in path.parts:
            continue
        if path.relative_to(project).as_posix() in KEPT_FILES.get(part, set()):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # a binary file: a database, bytecode
        for number, line in enumerate(text.splitlines(), 1):
            if DEAD_WORDS[part].search(line) and not ALLOWED[part].search(line):
                found.append(f"{path.relative_to(project)}:{number}: {line.strip()}")
    return found


def cli_listing(project: Path) -> tuple[set[str], set[str]]:
    """The commands of the rendered CLI's parser and the names of its settings."""
    script = (
        "import json; from sentiment_pipeline import cli, settings; "
        "parser = cli.build_parser(); "
        "commands = [a for a in parser._subparsers._group_actions[0].choices]; "
        "print(json.dumps([commands, sorted(settings.FIELD_GROUPS)]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=project / "src", capture_output=True, text=True, check=True
    )
    commands, fields = json.loads(done.stdout)
    return set(commands), set(fields)


def dependencies(project: Path) -> set[str]:
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    extras = pyproject["project"].get("optional-dependencies", {}).values()
    declared = [
        *pyproject["project"]["dependencies"],
        *(requirement for extra in extras for requirement in extra),
        *pyproject["dependency-groups"]["dev"],
    ]
    return {re.split(r"[<>=\[ ]", requirement, maxsplit=1)[0] for requirement in declared}


@pytest.fixture(scope="module")
def default_project(cookies_session) -> Path:
    result = cookies_session.bake()
    assert result.exception is None, result.exception
    return Path(result.project_path)


def test_the_default_has_every_part(default_project):
    commands, fields = cli_listing(default_project)
    for part in PRUNED:
        assert all((default_project / path).exists() for path in PRUNED[part]), part
        assert COMMANDS[part] <= commands, part
        assert SETTINGS[part] <= fields, part
        assert DEPENDENCIES[part] <= dependencies(default_project), part
        # The words the checks below look for are there to find.
        assert dead_references(default_project, part), part


@pytest.mark.parametrize(
    "answers",
    [
        {"serving": "none"},
        {"platform": "none"},
        {"data_source": "warehouse"},
        {"serving": "none", "platform": "none", "data_source": "files"},
    ],
    ids=lambda answers: ",".join(f"{k}={v}" for k, v in answers.items()),
)
def test_a_part_answered_away_leaves_nothing_behind(bake, answers):
    project = bake(**answers)
    removed = [
        part
        for part in PRUNED
        if answers.get(part) == "none"
        or (part == "demo" and "data_source" in answers)
        # The files source ships with demo and files projects; a warehouse project reads tables.
        or (part == "files" and answers.get("data_source") == "warehouse")
    ]
    kept = [part for part in PRUNED if part not in removed]
    commands, fields = cli_listing(project)
    for part in removed:
        assert [path for path in PRUNED[part] if (project / path).exists()] == [], part
        assert not COMMANDS[part] & commands, part
        assert not SETTINGS[part] & fields, part
        assert not DEPENDENCIES[part] & dependencies(project), part
        assert dead_references(project, part) == [], part
    for part in kept:
        assert COMMANDS[part] <= commands, part
    # The invented reviews left the package for the tests, which write them as real data.
    assert (project / "tests" / "synthetic.py").is_file() == ("demo" in removed)
    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert (f"{PACKAGE}.platform" in pyproject) == ("platform" in kept)
    assert (f"{PACKAGE}.serving" in pyproject) == ("serving" in kept)
    check = ruff("check", ".", cwd=project)
    assert check.returncode == 0, check.stdout + check.stderr
    formatted = ruff("format", "--check", ".", cwd=project)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_without_the_platform_the_quick_start_runs_the_dag_in_process(bake, capfd):
    project = bake(platform="none")
    printed = capfd.readouterr().out
    readme = (project / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    assert "sentiment-pipeline run-dag" in block
    assert "run-dag" in printed.split("Next steps", 1)[1]
    workflow = (project / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    assert "  stack:" not in workflow and "redis" not in workflow
    noxfile = (project / "noxfile.py").read_text(encoding="utf-8")
    assert "def stack(" not in noxfile
    compose = (project / "deploy" / "compose.yaml").read_text(encoding="utf-8")
    assert "- mlflow\n      - server\n" in compose
