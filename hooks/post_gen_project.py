"""Remove what the answers switched off and print the next steps."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

CI = "{{ cookiecutter.ci }}"
DATA_SOURCE = "{{ cookiecutter.data_source }}"
LABELS = "{{ cookiecutter.labels }}"
SLUG = "{{ cookiecutter.project_slug }}"
PACKAGE = "{{ cookiecutter.package_name }}"
SERVING = "{{ cookiecutter.serving }}"
PLATFORM = "{{ cookiecutter.platform }}"

# Paths (relative to the generated project) that exist only for some answers.
OPTIONAL_PATHS = {
    ".github": CI == "github",
    f"src/{PACKAGE}/serving": SERVING == "http",
    "tests/serving": SERVING == "http",
    f"src/{PACKAGE}/platform": PLATFORM == "local",
    "tests/platform": PLATFORM == "local",
    # The stack, one terminal each: `stack run` under another name.
    "scripts": PLATFORM == "local",
    # The warehouse source, its tests and `warehouse init` ship with data_source=warehouse.
    f"src/{PACKAGE}/data/warehouse.py": DATA_SOURCE == "warehouse",
    "tests/data/test_warehouse.py": DATA_SOURCE == "warehouse",
    "tests/dags/test_batch_inference_warehouse.py": DATA_SOURCE == "warehouse",
    # The files source's own tests ship wherever it does: with data_source=demo or files.
    "tests/data/test_sources.py": DATA_SOURCE != "warehouse",
    "tests/data/test_settle.py": DATA_SOURCE != "warehouse",
    "tests/dags/test_batch_inference_sources.py": DATA_SOURCE != "warehouse",
    # The demo's own step, `generate-data` and their tests ship with data_source=demo.
    f"src/{PACKAGE}/steps/demo.py": DATA_SOURCE == "demo",
    "tests/data/test_synthetic.py": DATA_SOURCE == "demo",
}
# The invented reviews: the demo's data source, else the tests' day of data (tests/conftest.py).
INVENTED_REVIEWS = f"src/{PACKAGE}/data/synthetic.py"
INVENTED_REVIEWS_FOR_TESTS = "tests/synthetic.py"


def prune(project: Path) -> None:
    for relative, wanted in OPTIONAL_PATHS.items():
        path = project / relative
        if wanted or not path.exists():
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    if DATA_SOURCE != "demo":
        (project / INVENTED_REVIEWS).rename(project / INVENTED_REVIEWS_FOR_TESTS)


def seed_training_files(project: Path) -> None:
    """The "files" source reads training_data/*.csv: start it with the sample reviews.

    Only with their labels, negative,positive: with another label set they would
    train no class but those two, so `train` asks for the team's own files instead.
    """
    if DATA_SOURCE != "files" or [label.strip().lower() for label in LABELS.split(",")] != [
        "negative",
        "positive",
    ]:
        return
    target = project / "training_data" / "reviews.csv"
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(project / "src" / PACKAGE / "data" / "sample_data" / "reviews.csv", target)


# Bounds the post-generation `uv lock`: generation must finish even when the
# package index is slow or out of reach. Override with TEMPLATE_UV_LOCK_TIMEOUT.
LOCK_TIMEOUT_SECONDS = 180
LOCK_LATER = "run `uv lock` in the project once uv can reach the package index, before `uv sync`"


def lock_timeout() -> float:
    value = os.environ.get("TEMPLATE_UV_LOCK_TIMEOUT", "")
    try:
        return float(value) if float(value) > 0 else LOCK_TIMEOUT_SECONDS
    except ValueError:
        return LOCK_TIMEOUT_SECONDS


def run_uv_lock(project: Path, *flags: str, timeout: float) -> str | None:
    """Run `uv lock`; None when it worked, else the reason in a few words."""
    try:
        result = subprocess.run(
            ["uv", "lock", "--quiet", *flags],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return f"it took longer than {timeout:g} s"
    except OSError as error:
        return str(error)
    if result.returncode == 0:
        return None
    last = (result.stderr or result.stdout).strip().splitlines()[-1:]
    return " ".join(last)[-300:] or f"exit code {result.returncode}"


def lock(project: Path) -> str:
    """Pin every dependency in uv.lock, so each checkout installs the same versions.

    Never fails generation: offline, uv tries its cache; without uv, or when
    neither works within the time bound, the project is complete but unlocked.
    """
    if shutil.which("uv") is None:
        return f"uv was not found, so there is no uv.lock yet: install uv, then {LOCK_LATER}."
    timeout = lock_timeout()
    started = time.monotonic()
    online = run_uv_lock(project, timeout=timeout)
    if online is None:
        return "Dependencies are pinned in uv.lock."
    remaining = max(timeout - (time.monotonic() - started), 10.0)
    if run_uv_lock(project, "--offline", timeout=remaining) is None:
        return f"Dependencies are pinned in uv.lock from uv's cache (`uv lock` failed: {online})."
    (project / "uv.lock").unlink(missing_ok=True)
    return f"There is no uv.lock yet (`uv lock` failed: {online}): {LOCK_LATER}."


def quick_start(project: Path) -> list[str]:
    """The lines of the README's quick start block, which follows the answers (data_source)."""
    section = (project / "README.md").read_text(encoding="utf-8").split("## Quick start", 1)[1]
    return section.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()


def next_steps(project: Path) -> str:
    """The README's quick start as it is written, so the first thing a user reads agrees with it."""
    block = quick_start(project)
    # The two lines after it take the block's comment column (the rendered name sets it).
    column = max((line.index("  # ") + 2 for line in block if "  # " in line), default=0)
    extra = [
        ("uv run pytest", "the inner loop"),
        (f"uv run {SLUG} --help", "every command, in the order you use them"),
    ]
    column = max(column, *(len(command) + 2 for command, _ in extra))
    lines = [f"cd {SLUG}", *block, "", *(f"{command:<{column}}# {comment}" for command, comment in extra)]
    body = "\n".join(f"  {line}".rstrip() for line in lines)
    return f'\nCreated {SLUG}. Next steps (README.md, "Quick start"):\n\n' + body + "\n"


if __name__ == "__main__":
    project = Path.cwd()
    prune(project)
    seed_training_files(project)
    print(lock(project))
    print(next_steps(project))
