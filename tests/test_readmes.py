"""Both READMEs stay short, and a project's quick start is the first run its answers call for."""

from __future__ import annotations

import re

import pytest

from tests.conftest import TEMPLATE

TEMPLATE_README_LINES = 150
GENERATED_README_LINES = 200
# What a new user sees before scrolling.
FIRST_SCREEN_LINES = 30


def quick_start(readme: str) -> list[str]:
    """The lines of the first code block under "## Quick start"."""
    section = readme.split("## Quick start", 1)[1]
    return section.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()


def comment_columns(lines: list[str]) -> set[int]:
    """Where the trailing comments start, over the lines that have a command and a comment."""
    return {line.index("  # ") + 2 for line in lines if "  # " in line and not line.startswith("#")}


def test_the_template_readme_is_short_and_opens_with_the_generate_command():
    readme = (TEMPLATE / "README.md").read_text(encoding="utf-8")
    lines = readme.splitlines()
    assert len(lines) <= TEMPLATE_README_LINES, f"README.md has {len(lines)} lines"
    first_screen = "\n".join(lines[:FIRST_SCREEN_LINES])
    assert "uvx cookiecutter ." in first_screen
    assert "uv run sentiment-pipeline train" in first_screen, "no first command in the new project"
    commands = "\n".join(re.findall(r"```bash\n(.*?)```", first_screen, re.DOTALL))
    assert not re.search(r"<[^>]+>", commands), f"a placeholder to guess on the first screen:\n{commands}"
    # CI (.ci/run) runs the README's test command.
    assert "\nuvx nox\n" in readme
    assert "(CONTRIBUTING.md)" in readme
    assert (TEMPLATE / "CONTRIBUTING.md").is_file()


@pytest.mark.parametrize("data_source", ["demo", "files", "warehouse"])
def test_the_generated_readme_and_next_steps_follow_the_answers(bake, capfd, data_source):
    # A long name: the comments must line up for the rendered name, not the template's.
    project = bake(project_name="Acme Customer Review Sentiment", data_source=data_source)
    printed = capfd.readouterr().out
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= GENERATED_README_LINES, f"{len(readme.splitlines())} lines"

    block = quick_start(readme)
    assert len(comment_columns(block)) == 1, "\n".join(block)
    steps = printed.split("Next steps", 1)[1].splitlines()
    assert len(comment_columns([line.strip() for line in steps])) == 1, printed
    for line in block:
        assert f"  {line}".rstrip() in steps, f"the next steps lack the README's `{line}`"

    text = "\n".join(block)
    slug = "acme-customer-review-sentiment"
    if data_source == "demo":
        assert f"uv run {slug} trigger acme_customer_review_sentiment_batch_inference --wait" in text
        return
    # Not the demo's `trigger --wait`, which would wait hours on the sensor for a batch
    # that is not there: where the day's data goes, then one real run of that day.
    assert "--wait" not in text
    assert re.search(rf"^uv run {slug} run-dag --date \d{{4}}-\d\d-\d\d ", text, re.MULTILINE)
    where = "data/incoming/ds=" if data_source == "files" else "review_batches"
    assert text.index(where) < text.index("run-dag --date")
    # Before real data exists, the sample reviews arrive as that day's batch.
    assert text.index(f"uv run {slug} sample-batch --date") < text.index("run-dag --date")
