from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.readers import read_table
from {{ cookiecutter.package_name }}.settings import (
    ENV_PREFIX,
    PACKAGE_NAME,
    PROJECT_SLUG,
)
from {{ cookiecutter.package_name }}.tracking import registry
from {{ cookiecutter.package_name }}.tracking.client import connect
from tests.conftest import write_batch


def test_cleanup_command_deletes_old_partitions(isolated_store, capsys):
    for day in ("2026-01-01", "2026-02-01"):
        storage.write_text(
            "x", storage.partition_dir(isolated_store.data.data_dir, storage.BATCHES, day) / "f"
        )

    assert cli.main(["cleanup", "--date", "2026-02-05", "--retention-days", "10"]) == 0

    remaining = [p.name for p in (isolated_store.data.data_dir / storage.BATCHES).iterdir()]
    assert remaining == ["ds=2026-02-01"]


def test_train_exits_3_when_the_gate_rejects(isolated_store, monkeypatch, capsys):
    monkeypatch.setenv(f"{ENV_PREFIX}MIN_ACCURACY", "1.0")
    monkeypatch.setenv(f"{ENV_PREFIX}MAX_FEATURES", "200")  # small and quick: it is rejected
    assert cli.main(["train"]) == 3
    assert "not promoted" in capsys.readouterr().err


def test_bad_date_is_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit):
        cli.main(["predict", "--date", "tomorrow"])
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_console_script_answers_help_without_heavy_imports():
    # The script uv installed beside this interpreter, run as a person runs it.
    script = Path(sys.executable).with_name(PROJECT_SLUG)
    result = subprocess.run(
        [str(script), "--help"],
        capture_output=True,
        text=True,
        # Python lists every module it imports on stderr.
        env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"},
        check=True,
    )
    for command in ("train", "predict", "monitor", "model",{% if cookiecutter.serving == "http" %} "serve",{% endif %} "env"):
        assert f"\n  {command} " in result.stdout
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines()}
    assert PACKAGE_NAME in imported  # the listing is real: it names the package
    assert not imported & {"sklearn", "mlflow", "pandas"}


def test_env_command_prints_shell_exports(capsys):
    assert cli.main(["env"]) == 0
    out = capsys.readouterr().out
    assert "export AIRFLOW_HOME=" in out
    assert "export MLFLOW_BACKEND_STORE_URI=" in out


def test_help_lists_the_commands_in_groups_in_order_of_use(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    titles = [
        "Pipeline steps",
        "Model registry",
{%- if cookiecutter.platform == "local" %}
        "Local platform",
{%- endif %}
{%- if cookiecutter.serving == "http" %}
        "Serving",
{%- endif %}
        "Configuration",
    ]
    positions = [out.index(title) for title in titles]
    assert positions == sorted(positions)
    steps = ["train", "{% if cookiecutter.data_source == "demo" %}generate-data{% else %}extract{% endif %}", "predict", "monitor", "summarize", "report", "cleanup"]
    assert [out.index(f"  {step} ") for step in steps] == sorted(
        out.index(f"  {step} ") for step in steps
    )


def test_model_commands_say_what_is_wrong_in_one_line(isolated_store, capsys):
    assert cli.main(["model", "rollback", "--reason", "test"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: there is no champion to roll back") and err.count("\n") == 1


def test_promoting_a_version_that_does_not_exist_says_so(champion_store, capsys):
    assert cli.main(["model", "promote", "999", "--reason", "test"]) == 2
    err = capsys.readouterr().err
    name = champion_store.model.registered_model_name
    assert err.startswith(f"error: '{name}' has no version 999")
    assert err.count("\n") == 1
    with pytest.raises(SystemExit) as exited:
        cli.main(["model", "promote", "abc", "--reason", "test"])
    assert exited.value.code == 2
    assert "'abc' is not a model version" in capsys.readouterr().err


def test_promoting_a_version_the_gate_refused_needs_force_and_keeps_the_gates_reason(
    champion_store, capsys
):
    client = connect(champion_store)
    name = champion_store.model.registered_model_name
    gate = "hold-out accuracy 0.5000 < min_accuracy 0.8000"
    registry.reject(client, champion_store, "1", reason=gate, challenger=0.5, champion=None)

    assert cli.main(["model", "promote", "1", "--reason", "hotfix"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: the gate refused version 1 ({gate}): add --force")
    assert err.count("\n") == 1
    for blank in ("", "   "):
        with pytest.raises(SystemExit) as exited:
            cli.main(["model", "promote", "1", "--force", "--reason", blank])
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert "--reason: the reason is empty: say why" in err and err.count("\n") == 1
    assert client.get_model_version(name, "1").tags["promotion"] == "rejected"

    assert cli.main(["--json", "model", "promote", "1", "--force", "--reason", "hotfix"]) == 0
    assert json.loads(capsys.readouterr().out)["gate_reason"] == gate
    tags = client.get_model_version(name, "1").tags
    assert tags["promotion_reason"] == "manual: hotfix"
    assert tags["gate_refused_reason"] == gate
    # Promoted by hand, it is still a version the gate refused.
    assert cli.main(["model", "promote", "1", "--reason", "again"]) == 2
    assert "the gate refused version 1" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_predict_input_scores_any_file_and_writes_beside_it(
    champion_store, tmp_path, suffix, capsys
):
    frame = pd.DataFrame(
        {
            "review_id": ["x1", "x2", "x3"],
            "text": ["I would buy it again", "", "Fell apart within a week"],
        }
    )
    path = tmp_path / f"reviews{suffix}"
    {
        ".csv": lambda: frame.to_csv(path, index=False),
        ".parquet": lambda: frame.to_parquet(path),
        ".jsonl": lambda: frame.to_json(path, orient="records", lines=True),
    }[suffix]()

    assert cli.main(["--json", "predict", "--input", str(path)]) == 0

    result = json.loads(capsys.readouterr().out)
    output = tmp_path / f"reviews.predictions{suffix}"
    assert result["output"] == str(output) and result["rows"] == 2
    scored = read_table(output)
    assert list(scored["review_id"]) == ["x1", "x3"]
    assert list(scored["prediction"]) == ["positive", "negative"]
    rejects = read_table(tmp_path / f"reviews.predictions.rejects{suffix}")
    assert list(rejects["reason"]) == ["empty text"]


def test_predict_output_format_follows_its_name(champion_store, tmp_path, capsys):
    path = tmp_path / "in.csv"
    path.write_text("text\nLovely\n")
    output = tmp_path / "out" / "scored.parquet"
    output.parent.mkdir()
    assert cli.main(["predict", "--input", str(path), "--output", str(output)]) == 0
    assert len(pd.read_parquet(output)) == 1
    assert not (tmp_path / "out" / "scored.rejects.parquet").exists()


# A whole process with its sidecar and scoring workers: about 13 s of CPU, so a scenario.
@pytest.mark.scenario
def test_predict_date_scores_without_mlflow_while_a_sidecar_pins_and_logs(champion_store, champion):
    day = "2026-02-09"
    texts = ["I would buy it again", "Fell apart within a week", "Lovely"]
    write_batch(champion_store, day, pd.DataFrame({"id": ["a", "b", "c"], "text": texts}))
    registry.load_champion(champion_store)  # its first load on this host fills the model cache
    code = (
        "import json, sys\n"
        f"from {PACKAGE_NAME}.cli import main\n"
        "code = main(['--json', 'predict', '--date', sys.argv[1]])\n"
        "loaded = sorted(name for name in sys.modules if name.split('.')[0] == 'mlflow')\n"
        "print(json.dumps({'code': code, 'mlflow': loaded}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, day], capture_output=True, text=True, timeout=300, check=False
    )

    assert done.returncode == 0, done.stderr[-2000:]
    *printed, last = done.stdout.strip().splitlines()
    assert json.loads(last) == {"code": 0, "mlflow": []}  # MLflow stayed in the sidecar
    result = json.loads("\n".join(printed))
    version = champion["model_version"]
    assert (result["rows"], result["model_version"]) == (3, version)
    assert (storage.read_parts(result["path"])["model_version"] == version).all()
    run = connect(champion_store).get_run(result["run_id"])
    assert (run.data.tags["model_version"], run.data.tags["logical_date"]) == (version, day)
    assert "confidence_psi" in run.data.metrics  # the sidecar fetched the drift reference
    assert run.inputs.dataset_inputs[0].dataset.name == f"batch-{day}"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PAR1 not really parquet", "cannot read .*broken.parquet as parquet"),
        (b"", "cannot read .*broken.parquet"),
    ],
)
def test_predict_input_on_a_broken_file_is_one_line(
    champion_store, tmp_path, capsys, content, message
):
    path = tmp_path / "broken.parquet"
    path.write_bytes(content)
    assert cli.main(["predict", "--input", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert re.match(f"error: {message}", err) and "\n" not in err
    assert not (tmp_path / "broken.predictions.parquet").exists()


def test_cleanup_keeps_the_champion_s_training_data_and_says_why(champion_store, capsys):
    data_dir = champion_store.data.data_dir
    trained_on = storage.partition_dir(data_dir, storage.TRAINING, "2026-01-01")
    other = storage.partition_dir(data_dir, storage.TRAINING, "2026-01-02")
    for partition in (trained_on, other):
        storage.write_text("x", partition / storage.TRAINING_VALID_FILE)

    assert cli.main(["--json", "cleanup", "--date", "2026-06-01", "--retention-days", "30"]) == 0

    result = json.loads(capsys.readouterr().out)
    assert result["deleted"] == [str(other)]
    [kept] = result["kept"]
    assert kept["path"] == str(trained_on) and "champion version" in kept["why"]
    assert trained_on.exists()
