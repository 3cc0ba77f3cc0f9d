"""The README's quick start, typed as a new user would, then checked over REST and in a browser.

The commands are read from the README, so the documented sequence is the tested
one. They run in the project with ``{{ cookiecutter.package_name.upper() }}_HOME`` pointing at a temporary
directory, so the stores, logs and pid files they create are the test's own.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
{%- if cookiecutter.serving == "http" %}
import time
{%- endif %}
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.platform import stack
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, PROJECT_SLUG, load_settings

pytestmark = pytest.mark.stack

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Screenshots stay after the run, for a person (or CI) to look at.
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", PROJECT_ROOT / "test-results" / "screenshots"))
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def readme_quickstart() -> list[str]:
    """The command lines of the first code block under "## Quick start", comments dropped."""
    section = (PROJECT_ROOT / "README.md").read_text().split("## Quick start", 1)[1]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    lines = [line.split("  #", 1)[0].strip() for line in block.splitlines()]
    commands = [line for line in lines if line and not line.startswith("#")]
    assert not [c for c in commands if "pytest" in c], "the quick start must not run the tests"
    return commands


def user_environment(home: Path) -> dict[str, str]:
    """A user's shell: none of the test session's isolation, the project home moved to ``home``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AIRFLOW", "MLFLOW_", ENV_PREFIX))
    }
    env[f"{ENV_PREFIX}HOME"] = str(home)
    return env


def http_get(url: str, timeout: float = 10) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode(errors="replace")


def http_post_json(url: str, body: object) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
{%- if cookiecutter.serving == "http" %}


def wait_for(url: str, seconds: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{process.args} exited with {process.returncode}"
        try:
            http_get(url, timeout=2)
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {seconds} s")
{%- endif %}


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory):
    """Run the README's quick start; stop the stack{% if cookiecutter.serving == "http" %} and the server{% endif %} afterwards, whatever happened."""
    home = tmp_path_factory.mktemp("home")
    # The stack's Airflow reads the project's DAGs (and, for the files source, its data).
    for shared in ("dags", "training_data"):
        if (PROJECT_ROOT / shared).exists():
            (home / shared).symlink_to(PROJECT_ROOT / shared)
    env = user_environment(home)
    outputs: dict[str, str] = {}
{%- if cookiecutter.serving == "http" %}
    server = None
{%- endif %}
    try:
        for line in readme_quickstart():
            argv = shlex.split(line)
{%- if cookiecutter.serving == "http" %}
            if argv[-1] == "serve":
                # The last step keeps running: start it, wait until it answers.
                log = (home / "serve.log").open("w")
                server = subprocess.Popen(
                    argv, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
                )
                wait_for("http://127.0.0.1:8000/health", 120, server)
                continue
{%- endif %}
            if argv[:3] == ["uv", "run", PROJECT_SLUG]:
                argv.append("--json")  # the whole result, to read below
            done = subprocess.run(
                argv, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900
            )
            assert done.returncode == 0, f"`{line}` failed:\n{done.stdout}\n{done.stderr}"
            outputs[" ".join(argv[3:5])] = done.stdout
        yield {"home": home, "env": env, "outputs": outputs}
    finally:
{%- if cookiecutter.serving == "http" %}
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
{%- endif %}
        subprocess.run(
            ["uv", "run", PROJECT_SLUG, "stack", "down"], cwd=PROJECT_ROOT, env=env, check=False
        )


@pytest.fixture(scope="module")
def stack_up(quickstart) -> dict:
    return json.loads(quickstart["outputs"]["stack up"])


@pytest.fixture(scope="module")
def triggered(quickstart) -> dict:
    [output] = [text for step, text in quickstart["outputs"].items() if step.startswith("trigger")]
    return json.loads(output)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not chromium:
        pytest.fail(
            "no Chromium found: install it (apt-get install chromium) or set CHROMIUM_PATH."
        )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def test_quickstart_brings_up_the_whole_stack(stack_up, quickstart):
    assert set(stack_up["started"]) == {
        "mlflow",
        "api-server",
        "scheduler",
        "dag-processor",
        "triggerer",
    }
    # "Open the two URLs": both answer with a page.
    for url in (stack_up["mlflow_ui"], stack_up["airflow_ui"]):
        status, body = http_get(url)
        assert status == 200 and "<html" in body.lower(), url
    again = subprocess.run(
        ["uv", "run", PROJECT_SLUG, "--json", "stack", "up"],
        cwd=PROJECT_ROOT,
        env=quickstart["env"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(again.stdout)["started"] == []
    # MLflow's server runs without the idle `mlflow server` parent (mlflow_server.py).
    settings = load_settings().with_overrides(stack_dir=quickstart["home"] / ".stack")
    assert stack.footprint(settings)["components"]["mlflow"]["processes"] == 1


def test_triggered_run_succeeded(triggered):
    assert triggered["state"] == "success", triggered
    assert triggered["tasks"]["batch_predict"] == "success"


def test_mlflow_rest_api_has_the_runs_metrics(stack_up, quickstart):
    def api(path: str, body: dict) -> dict:
        return http_post_json(f"{stack_up['mlflow_ui']}/api/2.0/mlflow/{path}", body)[1]

    settings = load_settings()
    experiments = api("experiments/search", {"max_results": 100})["experiments"]
    [inference] = [e for e in experiments if e["name"] == settings.inference_experiment]
    runs = api("runs/search", {"experiment_ids": [inference["experiment_id"]]})["runs"]
    metrics = [{m["key"]: m["value"] for m in run["data"]["metrics"]} for run in runs]
{%- if cookiecutter.data_source == "demo" %}
    assert any(m.get("prediction_count") == settings.data.batch_size for m in metrics), metrics
{%- else %}
    assert any(m.get("prediction_count") == 500 for m in metrics), metrics  # sample-batch's rows
{%- endif %}
    assert all("average_confidence" in m for m in metrics)


def test_airflow_ui_shows_the_successful_run(browser, stack_up, triggered):
    password = json.loads(Path(stack_up["airflow_password_file"]).read_text())[
        stack_up["airflow_user"]
    ]
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(stack_up["airflow_ui"])
    page.get_by_label("Username").fill(stack_up["airflow_user"])
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"^(?!.*/auth/login)"))
    page.goto(f"{stack_up['airflow_ui']}/dags/{triggered['dag_id']}")
    latest = page.get_by_role("heading", name="Latest Run").locator("xpath=..")
    badge = latest.get_by_test_id("state-badge")
    badge.wait_for()
    page.screenshot(path=SCREENSHOTS / "airflow-dag.png")
    assert badge.get_attribute("aria-label") == "success"
    assert triggered["dag_run_id"] in latest.get_by_role("link").get_attribute("href")


def test_mlflow_ui_shows_the_champion(browser, stack_up):
    name = load_settings().model.registered_model_name
    _, body = http_get(
        f"{stack_up['mlflow_ui']}/api/2.0/mlflow/registered-models/alias?name={name}&alias=champion"
    )
    version = json.loads(body)["model_version"]["version"]
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{stack_up['mlflow_ui']}/#/models/{name}")
    champion_row = page.get_by_role("row").filter(has_text="champion")
    champion_row.wait_for(timeout=30_000)
    page.screenshot(path=SCREENSHOTS / "mlflow-model.png")
    assert f"Version {version}" in champion_row.inner_text()
{%- if cookiecutter.serving == "http" %}


def test_serve_predicts_with_the_champion(quickstart):
    status, body = http_post_json(
        "http://127.0.0.1:8000/predict",
        {"texts": ["I loved every minute of it", "It broke after a day, not worth it"]},
    )
    assert status == 200, body
    assert [p["label"] for p in body["predictions"]] == ["positive", "negative"]
    assert all(0.5 <= p["confidence"] <= 1 for p in body["predictions"])
    status, body = http_post_json("http://127.0.0.1:8000/predict", {"texts": ["fine", 3]})
    assert status == 400 and "string" in json.dumps(body)
{%- endif %}


def test_secrets_and_logs_are_owner_only_and_hold_no_secret(quickstart, stack_up, triggered):
    stack_dir = quickstart["home"] / ".stack"
    password_file = Path(stack_up["airflow_password_file"])
    logs = [path for path in (stack_dir / "logs").rglob("*") if path.is_file()]
    assert any(path.suffix == ".log" for path in logs)
    assert any("tasks" in path.parts for path in logs), "the triggered run wrote no task log"
    private = [stack_dir / "jwt_secret", password_file, *stack_dir.glob("pids/*.pid"), *logs]
    modes = {str(path): oct(path.stat().st_mode & 0o777) for path in private}
    assert {mode for mode in modes.values()} == {"0o600"}, modes
    directories = [stack_dir, *(path for path in stack_dir.rglob("*") if path.is_dir())]
    assert {oct(path.stat().st_mode & 0o777) for path in directories} == {"0o700"}
    secrets = {
        "the Airflow password": json.loads(password_file.read_text())[stack_up["airflow_user"]],
        "the JWT secret": (stack_dir / "jwt_secret").read_text().strip(),
    }
    for what, secret in secrets.items():
        found = [str(path) for path in logs if secret in path.read_text(errors="replace")]
        assert found == [], f"{what} is in {found}"


def test_stack_down_leaves_no_process(quickstart):
    pid_dir = quickstart["home"] / ".stack" / "pids"
    groups = [json.loads(path.read_text())["pid"] for path in pid_dir.glob("*.pid")]
    assert len(groups) == 5
    subprocess.run(
        ["uv", "run", PROJECT_SLUG, "stack", "down"],
        cwd=PROJECT_ROOT,
        env=quickstart["env"],
        check=True,
        capture_output=True,
    )
    assert [pgid for pgid in groups if stack.group_alive(pgid)] == []
    assert list(pid_dir.glob("*.pid")) == []
