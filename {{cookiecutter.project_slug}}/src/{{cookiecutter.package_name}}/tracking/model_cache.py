"""A per-host cache of registered model versions already loaded and checked.

Loading a version from the registry means importing skops, which imports all
of scikit-learn to build its list of trusted types, and auditing the file:
about 0.7 s that every batch-inference task paid again for the same champion.
A cache entry is the model pickled after that check passed, so the next load
is one unpickle.

The registry stays the source of truth. An entry is keyed by everything that
identifies the exact version (name, version, run id, creation time, source)
and by the Python and scikit-learn that pickled it, so a new champion, a
re-created model or an upgraded environment never hits an old entry. Pickles
run code when loaded, so they are trusted like the virtualenv's own ``.pyc``
files: the cache directory must belong to this user and be writable by no one
else, or it is not used. Every cache failure falls back to the registry.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import re
import stat
import sys
from pathlib import Path
from typing import Any

import sklearn

from {{ cookiecutter.package_name }}.data.storage import atomic_path

# Entries kept per registered model: the champion, the challenger and a spare.
KEEP_ENTRIES = 3
log = logging.getLogger(__name__)


def entry_path(cache_dir: Path, model_version: Any) -> Path:
    """Where ``model_version`` (an MLflow ``ModelVersion``) is cached for this environment."""
    identity = "\n".join(
        str(part)
        for part in (
            model_version.name,
            model_version.version,
            model_version.run_id,
            model_version.creation_timestamp,
            model_version.source,
        )
    )
    key = hashlib.sha256(identity.encode()).hexdigest()[:16]
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    environment = f"py{python}-sklearn{sklearn.__version__}"
    name = re.sub(r"[^\w.-]", "_", model_version.name)
    return cache_dir / name / f"v{model_version.version}-{key}-{environment}.pkl"


def load(path: Path) -> Any | None:
    """The cached model at ``path``, or None if there is none or it cannot be trusted or read."""
    try:
        untrusted = [place for place in (path.parent, path) if not _private(place)]
    except OSError:  # no entry (yet)
        return None
    if untrusted:
        log.warning(
            "model cache not used: %s must belong to this user and be writable by no one "
            "else (chmod go-w); loading from the registry",
            untrusted[0],
        )
        return None
    try:
        with path.open("rb") as handle:
            model = pickle.load(handle)
    except Exception as error:  # a truncated or stale entry: drop it, the registry has the model
        log.warning("model cache entry %s unreadable (%s): removed", path, error)
        path.unlink(missing_ok=True)
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: pruned last
    return model


def store(path: Path, model: Any) -> None:
    """Cache ``model`` at ``path``; a cache that cannot be written only costs speed."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(path.parent):
            log.warning("model cache %s is writable by others: not written", path.parent)
            return
        # atomic_path's mkstemp file is readable by this user only.
        with atomic_path(path) as temporary, temporary.open("wb") as handle:
            pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
        _prune(path.parent)
    except (OSError, pickle.PicklingError) as error:
        log.warning("model cache entry %s not written: %s", path, error)


def _private(path: Path) -> bool:
    """Owned by this user and not writable by group or others."""
    status = path.stat()
    return status.st_uid == os.getuid() and not status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _prune(directory: Path) -> None:
    """Keep the most recently used entries of one registered model."""
    entries = sorted(directory.glob("*.pkl"), key=lambda entry: entry.stat().st_mtime)
    for entry in entries[:-KEEP_ENTRIES]:
        entry.unlink(missing_ok=True)
