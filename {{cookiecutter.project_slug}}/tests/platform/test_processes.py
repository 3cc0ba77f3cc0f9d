"""The stack's process bookkeeping on real processes, through psutil: nothing reads /proc.

macOS has no /proc: a module that opened a path under it would break `stack up`
there. The package's source is checked for such a path, and the bookkeeping runs
here with every open of one by the package's own code refused.
"""

from __future__ import annotations

import builtins
import io
import os
import re
import sys
import sysconfig
import time
from pathlib import Path

import psutil
import pytest

from {{ cookiecutter.package_name }}.platform import stack
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, load_settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = Path(stack.__file__).resolve().parents[1]
# A path under the proc filesystem: "/proc" and "/proc/...", not "/process".
PROC_PATH = re.compile(r"/proc\b")
_STDLIB = sysconfig.get_paths()["stdlib"]
_SITE = (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"])


def test_no_module_of_the_package_or_its_dags_names_a_proc_path():
    sources = [*(PROJECT_ROOT / "src").rglob("*.py"), *(PROJECT_ROOT / "dags").rglob("*.py")]
    assert len(sources) > 10
    named = [
        f"{path.relative_to(PROJECT_ROOT)}:{number}"
        for path in sources
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if PROC_PATH.search(line)
    ]
    assert named == []


def _opened_by_the_package() -> bool:
    """Whether the first caller outside the standard library is the package's own code.

    psutil reads /proc on Linux: that is its job, and allowed.
    """
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        in_stdlib = filename.startswith("<") or (
            filename.startswith(_STDLIB) and not filename.startswith(_SITE)
        )
        if not in_stdlib:
            return Path(filename).resolve().is_relative_to(PACKAGE_DIR)
        frame = frame.f_back
    return False


@pytest.fixture
def proc_refused(monkeypatch):
    """Every open or listing of a /proc path by the package fails, and is remembered.

    Remembered too, because the code under test may suppress the OSError.
    """
    refused: list[str] = []

    def guard(original):
        def guarded(path, *args, **kwargs):
            name = os.fspath(path) if isinstance(path, (str, os.PathLike)) else ""
            if PROC_PATH.match(name) and _opened_by_the_package():
                refused.append(name)
                raise PermissionError(f"the package opened {name}")
            return original(path, *args, **kwargs)

        return guarded

    for module, name in [(builtins, "open"), (io, "open"), (os, "open"), (os, "listdir"),
                         (os, "scandir")]:  # fmt: skip
        monkeypatch.setattr(module, name, guard(getattr(module, name)))
    yield refused
    assert refused == []


def test_the_guard_catches_the_package_reading_proc(proc_refused):
    # The guard itself: stack.py's Path.read_text of a /proc file would be refused.
    namespace = {"Path": Path}
    code = compile("Path('/proc/self/status').read_text()", stack.__file__, "exec")
    with pytest.raises(PermissionError):
        exec(code, namespace)
    assert proc_refused == ["/proc/self/status"]
    proc_refused.clear()


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv(f"{ENV_PREFIX}STACK_DIR", str(tmp_path / "stack"))
    return load_settings()


# A component that forks twice: one child stays in its process group, one starts
# a session of its own (as a daemonising helper would) and so leaves the group.
COMPONENT = """
import subprocess, sys, time
inside = subprocess.Popen(["sleep", "300"])
outside = subprocess.Popen(["sleep", "300"], start_new_session=True)
with open(sys.argv[1], "w") as pids:
    pids.write(f"{inside.pid} {outside.pid}")
time.sleep(300)
"""


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_up_s_bookkeeping_records_checks_measures_and_stops_a_process_tree(
    settings, tmp_path, proc_refused
):
    for sub in ("pids", "logs"):
        (settings.platform.stack_dir / sub).mkdir(parents=True)
    children = tmp_path / "children"
    component = stack.Component("mlflow", [sys.executable, "-c", COMPONENT, str(children)])
    leader = stack._start_logged(settings, component, dict(os.environ))
    try:
        deadline = time.monotonic() + 30
        while not (children.exists() and children.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        inside, outside = (int(pid) for pid in children.read_text().split())

        # Recorded: the pid and psutil's start time of the process just started.
        record = stack._read_record(settings.platform.stack_dir / "pids" / "mlflow.pid")
        assert record.pid == leader
        assert record.create_time == pytest.approx(psutil.Process(leader).create_time(), abs=0.1)
        # Checked: the live process is the one recorded, and its command line is kept.
        assert stack.running_pid(settings, "mlflow") == leader
        stack._settle(settings, ["mlflow"])
        settled = stack._read_record(settings.platform.stack_dir / "pids" / "mlflow.pid")
        assert settled.cmdline == psutil.Process(leader).cmdline()
        assert stack.running_pid(settings, "mlflow") == leader
        assert stack.pid_file_notes(settings) == []
        # Alive, the whole tree counted, and measured.
        assert stack.group_alive(leader)
        assert {p.pid for p in stack.component_processes(leader)} == {leader, inside, outside}
        memory = stack.footprint(settings)
        measured = memory["components"]["mlflow"]
        assert measured["processes"] == 3
        assert 1 < measured["rss_mb"] == memory["total_rss_mb"]
        if "pss" in stack.MEMORY_MEASURES:
            assert 0 < measured["pss_mb"] <= measured["rss_mb"]

        # Stopped: the leader, its child in the group and the one that left it.
        stopped = stack.down(settings)
        assert stopped == {"stopped": ["mlflow"], "left_alone": [], "kept_pid_files": []}
        assert not [pid for pid in (leader, inside, outside) if _alive(pid)]
        assert not stack.group_alive(leader)
        assert stack.running_pid(settings, "mlflow") is None
    finally:
        for pid in (leader, *(int(p) for p in children.read_text().split())):
            if _alive(pid):
                os.kill(pid, 9)


def test_a_record_of_a_process_started_earlier_names_another_process(settings, proc_refused):
    sleeper = psutil.Popen(["sleep", "300"], start_new_session=True)
    try:
        create_time, _ = stack.process_identity(sleeper.pid)
        earlier = stack.PidRecord(sleeper.pid, create_time - 5, ["sleep", "300"])
        pids = settings.platform.stack_dir / "pids"
        pids.mkdir(parents=True)
        (pids / "triggerer.pid").write_text(earlier.as_json())
        check = stack.check_pid_file(settings, "triggerer")
        assert check.pid is None and "is now another process" in check.note
        assert sleeper.is_running() and not (pids / "triggerer.pid").exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_an_exited_process_has_no_identity(proc_refused):
    exited = psutil.Popen([sys.executable, "-c", "pass"])
    exited.wait()
    assert stack.process_identity(exited.pid) is None
