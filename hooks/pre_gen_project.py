"""Validate every answer before cookiecutter writes a file.

Standard library only: this runs in whatever Python cookiecutter runs in.
A bad answer prints one line naming the variable, the value and the form it
must take, and exits non-zero; cookiecutter then removes the output directory.
"""

from __future__ import annotations

import sys

# Cookiecutter runs this hook in its own interpreter, which may be older than
# the generated project's: say so in one line instead of failing on a missing
# name further down. Keep this file parseable by Python 3.7 (cookiecutter's oldest).
MIN_PYTHON = (3, 10)
if sys.version_info < MIN_PYTHON:
    need = ".".join(map(str, MIN_PYTHON))
    have = ".".join(map(str, sys.version_info[:2]))
    print(
        f"ERROR: this template's hooks need Python {need} or newer, but cookiecutter runs on "
        f"{have}: run it with a newer one, e.g. `uvx --python 3.11 cookiecutter <template>`.",
        file=sys.stderr,
    )
    sys.exit(1)

import json  # noqa: E402
import keyword  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

# Rendered by cookiecutter: JSON documents inside Python string literals, so
# quotes or backslashes in an answer cannot break this file.
ANSWERS: dict = json.loads({{cookiecutter | jsonify | tojson}})  # noqa: F821
# cookiecutter.json as cookiecutter read it, choice lists included (cookiecutter
# 2.2+; empty under cruft, which renders without it).
DECLARED: dict = json.loads({{_cookiecutter | default({}) | jsonify | tojson}})  # noqa: F821

# Names the generated package or command must not take: they would shadow a
# dependency (`import mlflow` resolving to the project) or a command on PATH.
SHADOWED = {
    "airflow",
    "mlflow",
    "sklearn",
    "scikit_learn",
    "pandas",
    "numpy",
    "scipy",
    "pyarrow",
    "sqlalchemy",
    "pytest",
    "nox",
    "cookiecutter",
    "uv",
    "ruff",
    "pre_commit",
    "test",
    "tests",
    "src",
    "dags",
    "site",
    "typing",
    "json",
}
SCHEDULE_PRESETS = {"@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly"}


def choice_lists(context: dict) -> dict[str, set[str]]:
    return {name: set(value) for name, value in context.items() if isinstance(value, list)}


def declared_choices(answers: dict, declared: dict) -> dict[str, set[str]]:
    """The choice lists of cookiecutter.json.

    Cookiecutter checks a choice given on the command line, but not one from a
    hand-edited replay file, so the hook checks again. A normal run hands the
    lists over in ``_cookiecutter``; a replay hands over only the replayed
    answers, so the lists come from the template's cookiecutter.json. Its
    ``_repo_dir`` is the path as typed (``.``, ``../x``), relative to where
    cookiecutter started, while this hook runs inside the new project:
    ``$PWD`` still names the starting directory. Cruft sets no ``_repo_dir``;
    it has already refused a value outside a choice list.
    """
    lists = choice_lists(declared)
    if lists:
        return lists
    repo_dir = answers.get("_repo_dir")
    if not repo_dir:
        return {}
    candidates = [Path(repo_dir)]
    if not Path(repo_dir).is_absolute() and os.environ.get("PWD"):
        candidates.insert(0, Path(os.environ["PWD"]) / repo_dir)
    for candidate in candidates:
        context_file = candidate / "cookiecutter.json"
        if context_file.is_file():
            return choice_lists(json.loads(context_file.read_text(encoding="utf-8")))
    return {}


CHOICES = declared_choices(ANSWERS, DECLARED)
# Bounds of the five cron fields (minute, hour, day of month, month, day of
# week) and the names accepted for months and weekdays.
CRON_BOUNDS = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
CRON_NAMES = {
    3: (["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1),
    4: (["sun", "mon", "tue", "wed", "thu", "fri", "sat"], 0),
}


class AnswerError(ValueError):
    """One answer that cannot be used, with the form it must take."""

    def __init__(self, name: str, value: object, expected: str) -> None:
        super().__init__(f"{name}={value!r} is not valid: expected {expected}.")


def check_text(name: str, value: str) -> None:
    # These values end up inside TOML and YAML strings.
    if not value.strip() or re.search(r'["\\\x00-\x1f]', value):
        raise AnswerError(name, value, "non-empty text without double quotes, backslashes or newlines")


def check_slug(name: str, value: str) -> None:
    if not re.fullmatch(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*", value):
        raise AnswerError(
            name, value, "lowercase letters, digits and single - or _ between them, starting with a letter"
        )
    if value.replace("-", "_") in SHADOWED:
        raise AnswerError(name, value, "a name that does not shadow a dependency or command (pick another)")


def check_package(name: str, value: str) -> None:
    if not value.isidentifier() or not value.isascii() or value != value.lower():
        raise AnswerError(name, value, "a lowercase Python identifier such as sentiment_pipeline")
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        raise AnswerError(name, value, "an identifier that is not a Python keyword")
    if value in SHADOWED or value in sys.stdlib_module_names:
        raise AnswerError(name, value, "a name that does not shadow a dependency or standard module")


def check_email(name: str, value: str) -> None:
    if not re.fullmatch(r"[^@\s\"\\]+@[^@\s\"\\]+\.[^@\s\"\\]+", value):
        raise AnswerError(name, value, "an e-mail address such as you@example.com")


def check_model_name(name: str, value: str) -> None:
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]{0,127}", value):
        raise AnswerError(name, value, "letters, digits, '_', '.' or '-', starting with a letter")


def check_cron_field(index: int, field: str) -> bool:
    """One field: ``*``, numbers or names, ranges ``a-b``, lists ``a,b`` and steps ``/n``."""
    low, high = CRON_BOUNDS[index]
    names, first_value = CRON_NAMES.get(index, ([], 0))

    def value_of(token: str) -> int | None:
        if token.isdigit():
            return int(token)
        if token.lower() in names:
            return names.index(token.lower()) + first_value
        return None

    for part in field.split(","):
        base, _, step = part.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            return False
        if base == "*":
            continue
        start, _, end = base.partition("-")
        first = value_of(start)
        last = value_of(end) if end else first
        if first is None or last is None or not low <= first <= last <= high:
            return False
    return True


def check_schedule(name: str, value: str) -> None:
    expected = (
        "an Airflow preset ("
        + ", ".join(sorted(SCHEDULE_PRESETS))
        + ") or a 5-field cron expression such as '0 6 * * *'"
    )
    if value.startswith("@"):
        if value not in SCHEDULE_PRESETS:
            raise AnswerError(name, value, expected)
        return
    fields = value.split()
    if len(fields) != 5 or not all(check_cron_field(i, f) for i, f in enumerate(fields)):
        raise AnswerError(name, value, expected)


def positive_int(name: str, value: str, maximum: int, minimum: int = 1) -> int:
    text = str(value).strip()
    if not re.fullmatch(r"[0-9]+", text) or not minimum <= int(text) <= maximum:
        raise AnswerError(name, value, f"a whole number from {minimum} to {maximum}")
    return int(text)


def number_in(name: str, value: str, low: float, high: float, *, open_range: bool) -> float:
    brackets = ("(", ")") if open_range else ("[", "]")
    expected = f"a number in {brackets[0]}{low:g}, {high:g}{brackets[1]}"
    try:
        number = float(str(value).strip())
    except ValueError:
        raise AnswerError(name, value, expected) from None
    inside = low < number < high if open_range else low <= number <= high
    if not inside:
        raise AnswerError(name, value, expected)
    return number


# The demo's bundled reviews and invented batches are labelled with these only.
DEMO_LABELS = ["negative", "positive"]
MAX_LABELS = 20


def label_names(value: str) -> list[str]:
    return [name.strip().lower() for name in str(value).split(",")]


def check_labels(name: str, value: str) -> None:
    """2 to 20 distinct plain tokens, comma-separated, each matched case-insensitively."""
    labels = label_names(value)
    if (
        not 2 <= len(labels) <= MAX_LABELS
        or len(set(labels)) != len(labels)
        or not all(re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,31}", label) for label in labels)
    ):
        raise AnswerError(
            name,
            value,
            f"2 to {MAX_LABELS} distinct comma-separated names of letters, digits, '_' or '-' "
            "(at most 32 characters each), such as negative,neutral,positive",
        )


def check_choice(name: str, value: str) -> None:
    if name in CHOICES and value not in CHOICES[name]:
        raise AnswerError(name, value, "one of " + ", ".join(sorted(CHOICES[name])))


def validate(answers: dict) -> None:
    """Raise AnswerError for the first answer that cannot be used."""
    checks: list[tuple[str, Callable[[str, str], object]]] = [
        ("project_name", check_text),
        ("project_slug", check_slug),
        ("package_name", check_package),
        ("description", check_text),
        ("author_name", check_text),
        ("author_email", check_email),
        ("license", check_choice),
        ("model", check_choice),
        ("ci", check_choice),
        ("data_source", check_choice),
        ("executor", check_choice),
        ("serving", check_choice),
        ("platform", check_choice),
        ("max_features", lambda n, v: positive_int(n, v, 10_000_000)),
        ("ngram_max", lambda n, v: positive_int(n, v, 3)),
        ("inference_schedule", check_schedule),
        ("retrain_schedule", check_schedule),
        ("batch_size", lambda n, v: positive_int(n, v, 10_000_000)),
        ("retention_days", lambda n, v: positive_int(n, v, 3650)),
        ("low_confidence_alert_pct", lambda n, v: number_in(n, v, 0, 100, open_range=False)),
        ("min_accuracy", lambda n, v: number_in(n, v, 0, 1, open_range=False)),
        ("min_improvement", lambda n, v: number_in(n, v, 0, 1, open_range=False)),
        ("monitoring_window_days", lambda n, v: positive_int(n, v, 365, minimum=2)),
        ("drift_psi_threshold", lambda n, v: number_in(n, v, 0, 10, open_range=True)),
        ("oov_increase_threshold", lambda n, v: number_in(n, v, 0, 1, open_range=True)),
        ("class_shift_threshold", lambda n, v: number_in(n, v, 0, 1, open_range=True)),
        ("registered_model_name", check_model_name),
        ("labels", check_labels),
    ]
    for name, check in checks:
        check(name, answers[name])

    if answers["data_source"] == "demo" and label_names(answers["labels"]) != DEMO_LABELS:
        raise AnswerError(
            "data_source",
            "demo",
            "files or warehouse with labels="
            + answers["labels"]
            + ": the demo's sample reviews know only negative,positive (or keep those labels)",
        )

    low = number_in("low_confidence_threshold", answers["low_confidence_threshold"], 0, 1, open_range=True)
    high = number_in("high_confidence_threshold", answers["high_confidence_threshold"], 0, 1, open_range=True)
    if not low < high:
        raise AnswerError(
            "high_confidence_threshold",
            answers["high_confidence_threshold"],
            f"a number above low_confidence_threshold ({answers['low_confidence_threshold']})",
        )


def windows_note(platform: str) -> str | None:
    """One line for native Windows, where the project's stack cannot run; None elsewhere.

    The stack manages POSIX process groups and the tests fork: WSL2 is Linux
    (its Python says ``linux``), so only a native Windows Python gets the line.
    """
    if platform != "win32":
        return None
    return (
        "NOTE: this is native Windows: the project is generated, but its local stack and "
        "tests need Linux or macOS. Run it in WSL2 (`wsl --install`), from a folder inside WSL."
    )


def main() -> int:
    try:
        validate(ANSWERS)
    except AnswerError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    note = windows_note(sys.platform)
    if note:
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
