"""The champion the server holds, refreshed from the registry by a background thread.

Requests never wait on MLflow: they use the model held in memory. A refresh
that fails (tracking server down, a version that will not load) keeps the
model held and marks the server degraded until a refresh succeeds again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.redaction import redact
from {{ cookiecutter.package_name }}.settings import PROJECT_SLUG, Settings
from {{ cookiecutter.package_name }}.tracking import registry
from {{ cookiecutter.package_name }}.tracking.client import connect

log = logging.getLogger(__name__)

# MLflow's own defaults (120 s a request, 7 retries with exponential backoff)
# held one lookup of a dead tracking server for minutes. MLflow reads these at
# every call, so setting them for the server's life bounds every refresh; a
# value the operator exported wins. One retry rides over a dropped connection.
MLFLOW_HTTP_LIMITS = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "5", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1"}
# A refresh still running this long after it was due is stuck, and says so.
OVERDUE_GRACE_SECONDS = 60.0


@dataclass(frozen=True)
class Health:
    """What ``/health`` reports: ``ok``, ``degraded`` (serving an older model) or ``no model``."""

    status: str
    body: dict


@contextlib.contextmanager
def bounded_mlflow_requests() -> Iterator[None]:
    """Short MLflow HTTP timeouts while the server runs; the environment is restored after."""
    added = {name: value for name, value in MLFLOW_HTTP_LIMITS.items() if name not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def _reopen_sqlite(uri: str) -> None:
    """Close MLflow's pooled connections to ``uri``: they still read the file it replaced."""
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistryStore
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as TrackingStore

    for store in (RegistryStore, TrackingStore):
        engine = getattr(store, "_engine_map", {}).get(uri)
        if engine is not None:
            engine.dispose()


class ChampionRefresher:
    """Holds the champion and re-resolves the alias every ``refresh_seconds`` in a thread."""

    def __init__(self, settings: Settings, refresh_seconds: float) -> None:
        self.settings = settings
        self.refresh_seconds = refresh_seconds
        self.champion: registry.Champion | None = None
        self._loaded_at: float | None = None
        self._refreshed_at: float | None = None
        self._failure: str | None = "no refresh yet: the first one runs at startup"
        self._database: tuple[int, int] | None = None  # the SQLite registry file's identity
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh(self) -> None:
        """Look the alias up once and load a new version; on failure keep what is held."""
        try:
            self._check_database()
            current = registry.champion_version(connect(self.settings), self.settings)
            if current is None:
                raise PipelineError(
                    f"the registry has no champion: run `{PROJECT_SLUG} train` first"
                )
            held = self.champion
            wanted = (str(current.version), current.run_id)
            if held is None or (held.version, held.run_id) != wanted:
                champion = registry.load_champion(self.settings)
                self.champion, self._loaded_at = champion, time.monotonic()
                log.info("serving champion version %s", champion.version)
        except Exception as error:  # any failure: the model held keeps serving
            reason = self._reason(error)
            if reason != self._failure:
                log.warning("champion refresh failed, %s: %s", self._kept(), reason)
            self._failure = reason
            return
        if self._failure is not None and self._refreshed_at is not None:
            log.info("champion refresh works again")
        self._failure, self._refreshed_at = None, time.monotonic()

    def _check_database(self) -> None:
        """Fail when a SQLite registry's file is gone, and reopen it when it was replaced.

        MLflow's pooled connections keep reading a deleted file: without this
        the refresh went on succeeding, and /health said ok, after the
        registry database was deleted.
        """
        uri = self.settings.platform.tracking_uri
        if not uri.startswith("sqlite:///"):
            return
        path = uri.removeprefix("sqlite:///").split("?", 1)[0]
        try:
            status = os.stat(path)
        except OSError as error:
            raise PipelineError(
                f"the registry database {path} cannot be read ({error.strerror or error}): "
                "restore it, or point MLFLOW_TRACKING_URI at the registry"
            ) from None
        identity = (status.st_dev, status.st_ino)
        if self._database is not None and identity != self._database:
            _reopen_sqlite(uri)
        self._database = identity

    def _kept(self) -> str:
        held = self.champion
        return "no model to serve" if held is None else f"still serving version {held.version}"

    def _reason(self, error: Exception) -> str:
        # /health shows this to anyone who asks: no credential may reach it.
        if isinstance(error, PipelineError):
            return redact(error)
        text = str(error).strip()
        first = text.splitlines()[0] if text else ""
        if any(sign in first for sign in ("Max retries exceeded", "timed out", "timeout")):
            where = redact(self.settings.platform.tracking_uri)
            return f"the MLflow tracking server at {where} did not answer"
        return redact(f"{type(error).__name__}: {first[:300]}")

    def health(self) -> Health:
        """The state of the model held, computed from memory: it never waits on MLflow."""
        now = time.monotonic()
        held = self.champion
        if held is None:
            return Health("no model", {"status": "no model", "reason": self._failure})
        assert self._loaded_at is not None
        body = {
            "model_version": held.version,
            "model_age_seconds": round(now - self._loaded_at, 1),
            "refreshed_seconds_ago": None
            if self._refreshed_at is None
            else round(now - self._refreshed_at, 1),
        }
        reason = self._failure
        last = self._refreshed_at if self._refreshed_at is not None else self._loaded_at
        if reason is None and now - last > self.refresh_seconds + OVERDUE_GRACE_SECONDS:
            reason = f"no refresh has finished for {now - last:.0f} s"
        if reason is not None:
            return Health("degraded", {"status": "degraded", "reason": reason, **body})
        return Health("ok", {"status": "ok", **body})

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="champion-refresh", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop refreshing; a refresh still waiting on MLflow is left to its timeout."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.refresh_seconds):
            self.refresh()
