"""The template renders however its location is typed, and generation never hangs on `uv lock`.

Each test runs cookiecutter's own command line in a fresh process, from the
directory a user would type it in. Most put no uv on PATH: the post-generation
lock is then skipped in a second, and that message is checked too.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from tests.conftest import GIT_IDENTITY, TEMPLATE, copy_template

DEFAULT_SLUG = "sentiment-pipeline"
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def run_cookiecutter(
    tmp_path: Path, *args: str, cwd: Path, path: str | None = None, **env: str
) -> subprocess.CompletedProcess:
    """`cookiecutter --no-input ARGS` typed in ``cwd``, replays kept inside ``tmp_path``."""
    config = tmp_path / "cookiecutter.yaml"
    config.write_text(f"replay_dir: {tmp_path / 'replay'}\ncookiecutters_dir: {tmp_path / 'clones'}\n")
    environment = {**os.environ, **GIT_IDENTITY, "PWD": str(cwd), **env}  # PWD: as a shell sets it
    # These tests are about the lock step as a user meets it: online unless a test cuts the network.
    if "UV_OFFLINE" not in env:
        environment.pop("UV_OFFLINE", None)
    if path is not None:
        environment["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "--config-file", str(config), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=environment,
        timeout=600,
    )


def assert_rendered(result: subprocess.CompletedProcess, output: Path) -> Path:
    assert result.returncode == 0, result.stderr[-2000:]
    project = output / DEFAULT_SLUG
    assert (project / "pyproject.toml").is_file()
    assert "{{" not in (project / "pyproject.toml").read_text(encoding="utf-8")
    return project


def test_cookiecutter_dot_from_inside_the_template(tmp_path, bare_path):
    """The first command many users type: `cd template && cookiecutter .`."""
    output = tmp_path / "out"
    result = run_cookiecutter(tmp_path, "--output-dir", str(output), ".", cwd=TEMPLATE, path=bare_path)
    project = assert_rendered(result, output)
    assert "uv was not found" in result.stdout
    assert not (project / "uv.lock").exists()


def test_a_bad_answer_from_inside_the_template_leaves_nothing(tmp_path, bare_path):
    output = tmp_path / "out"
    output.mkdir()
    result = run_cookiecutter(
        tmp_path, "--output-dir", str(output), ".", "project_slug=2fast", cwd=TEMPLATE, path=bare_path
    )
    assert result.returncode != 0
    assert "project_slug='2fast' is not valid" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(output.iterdir()) == []


def test_relative_paths_render_into_the_current_directory(tmp_path, bare_path):
    """`cookiecutter ../template` from a sibling directory, output where the user stands."""
    copy_template(tmp_path / "template")
    work = tmp_path / "work"
    work.mkdir()
    assert_rendered(run_cookiecutter(tmp_path, "../template", cwd=work, path=bare_path), work)


def test_a_replayed_unknown_choice_is_refused_with_a_relative_path(tmp_path, bare_path):
    """A replay carries only answers, so the hook reads the choices from ./cookiecutter.json."""
    template = copy_template(tmp_path / "template")
    first = tmp_path / "first"
    assert_rendered(
        run_cookiecutter(tmp_path, "--output-dir", str(first), ".", cwd=template, path=bare_path), first
    )
    [replay_file] = (tmp_path / "replay").glob("*.json")
    replay = json.loads(replay_file.read_text())
    replay["cookiecutter"]["model"] = "random_forest"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(replay))
    again = tmp_path / "again"
    again.mkdir()

    result = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--replay-file", str(edited), "--output-dir", str(again), "."],
        cwd=template,
        capture_output=True,
        text=True,
        env={**os.environ, "PWD": str(template), "PATH": bare_path},
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode != 0
    assert "model='random_forest' is not valid" in result.stderr
    assert list(again.iterdir()) == []


@needs_git
def test_a_git_url_renders(tmp_path, bare_path):
    template = copy_template(tmp_path / "template")
    for command in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "template"]):
        subprocess.run(["git", *command], cwd=template, check=True, env={**os.environ, **GIT_IDENTITY})
    output = tmp_path / "out"
    result = run_cookiecutter(
        tmp_path, "--output-dir", str(output), f"git+file://{template}", cwd=tmp_path, path=bare_path
    )
    assert_rendered(result, output)


def test_a_zip_renders(tmp_path, bare_path):
    template = copy_template(tmp_path / "src" / "template")
    archive = tmp_path / "template.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.write(template, template.name)  # cookiecutter wants the top directory first
        for file in sorted(template.rglob("*")):
            bundle.write(file, file.relative_to(template.parent))
    output = tmp_path / "out"
    result = run_cookiecutter(
        tmp_path, "--output-dir", str(output), str(archive), cwd=tmp_path, path=bare_path
    )
    assert_rendered(result, output)


@pytest.fixture
def silent_index():
    """An index that accepts connections and never answers: a hung network."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/simple"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not installed")
def test_a_hung_uv_lock_does_not_hang_generation(tmp_path, silent_index):
    """Offline or behind a dead index, generation ends in bounded time and says how to lock later."""
    output = tmp_path / "out"
    started = time.monotonic()
    result = run_cookiecutter(
        tmp_path,
        "--output-dir",
        str(output),
        str(TEMPLATE),
        cwd=tmp_path,
        UV_DEFAULT_INDEX=silent_index,
        UV_INDEX_URL=silent_index,
        UV_CACHE_DIR=str(tmp_path / "empty-cache"),
        TEMPLATE_UV_LOCK_TIMEOUT="5",
    )
    elapsed = time.monotonic() - started
    project = assert_rendered(result, output)
    assert "There is no uv.lock yet" in result.stdout
    assert "run `uv lock` in the project" in result.stdout
    assert not (project / "uv.lock").exists()
    # 5 s online, at most 10 s more for the offline try, plus rendering.
    assert elapsed < 90, f"generation took {elapsed:.0f} s"


def test_an_old_python_gets_one_line_not_a_traceback(tmp_path):
    """The pre-generation hook parses on Python 3.7 and names the version it needs."""
    hook = TEMPLATE / "hooks" / "pre_gen_project.py"
    source = hook.read_text(encoding="utf-8")
    ast.parse(source, feature_version=(3, 7))
    pretend = (
        "import sys; sys.version_info = (3, 8, 10, 'final', 0); "
        f"exec(compile(open({str(hook)!r}).read(), 'pre_gen_project.py', 'exec'))"
    )
    result = subprocess.run([sys.executable, "-c", pretend], capture_output=True, text=True)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "need Python 3.10 or newer" in lines[0]
    assert "runs on 3.8" in lines[0]


def hook_function(name: str):
    """A function of the pre-generation hook, which cannot be imported before cookiecutter renders it."""
    tree = ast.parse((TEMPLATE / "hooks" / "pre_gen_project.py").read_text(encoding="utf-8"))
    [function] = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == name]
    namespace: dict = {}
    exec(compile(ast.Module(body=[function], type_ignores=[]), "pre_gen_project.py", "exec"), namespace)
    return namespace[name]


def test_native_windows_gets_one_line_recommending_wsl2():
    windows_note = hook_function("windows_note")
    line = windows_note("win32")
    assert len(line.splitlines()) == 1
    assert "WSL2" in line and "is generated" in line
    # WSL2's Python is a Linux one: no line there, nor on macOS.
    assert windows_note("linux") is None
    assert windows_note("darwin") is None


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not installed")
def test_offline_generation_locks_from_uvs_cache(tmp_path):
    """With the index out of reach, uv's cache still pins the dependencies."""
    online = tmp_path / "online"
    warm = run_cookiecutter(tmp_path, "--output-dir", str(online), str(TEMPLATE), cwd=tmp_path)
    assert_rendered(warm, online)
    assert "Dependencies are pinned in uv.lock." in warm.stdout
    offline = tmp_path / "offline"
    dead_proxy = "http://127.0.0.1:9"  # the discard port: nothing listens there
    result = run_cookiecutter(
        tmp_path,
        "--output-dir",
        str(offline),
        str(TEMPLATE),
        cwd=tmp_path,
        HTTPS_PROXY=dead_proxy,
        HTTP_PROXY=dead_proxy,
        ALL_PROXY=dead_proxy,
        UV_HTTP_RETRIES="0",
    )
    project = assert_rendered(result, offline)
    assert "pinned in uv.lock from uv's cache" in result.stdout
    assert (project / "uv.lock").is_file()
