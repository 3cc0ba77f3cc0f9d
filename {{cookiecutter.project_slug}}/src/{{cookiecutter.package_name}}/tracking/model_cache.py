"""A per-user cache of registered model versions already loaded and checked, that nobody can poison.

Loading a version from the registry imports skops, which imports much of
scikit-learn, SciPy and pytest to build its list of trusted types, then audits
the file: 0.72 s and 0.30 s in a fresh process, against 7 ms for a cache hit,
of which the checks below take about 1 ms (the template's docs/measurements.md). Making
skops fast would mean patching how it builds that list, so an entry is the
model pickled after that check passed, and the next load is one unpickle.

Pickles run code when loaded, so nothing is unpickled that this user did not
write. Each entry carries an HMAC-SHA256 of its bytes under a secret key only
this user can read (``hmac.key`` in the cache root, 0600 from its first byte),
checked over the exact bytes read before they are unpickled. The cache root
(the configured ``model_cache_dir``) and every directory below it must belong
to this user and be writable by no one else; they are walked by descriptor
(``O_NOFOLLOW``, ``dir_fd=``), so a directory swapped or a link planted after a
check is never used. Whoever can write to the root's parents can only delete
the cache, not feed it. The model must be the scikit-learn ``Pipeline`` that
``model/pipeline.py`` builds. Each project (tracking URI and registered model
name) has its own directory, and any failure logs one warning and loads the
version from the registry, which stays the source of truth.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import logging
import os
import pickle
import re
import secrets
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sklearn
from sklearn.pipeline import Pipeline

# Entries kept per project: the champion, the challenger and a spare.
KEEP_ENTRIES = 3
KEY_FILE = "hmac.key"
KEY_BYTES = 32
# An entry is MAGIC, then the HMAC of everything else, then the pickle.
MAGIC = b"MCACHE1\n"
MAC_BYTES = hashlib.sha256().digest_size
ENTRY_SUFFIX = ".pkl"
# A temporary file a killed writer left behind is removed after this long.
STALE_TEMPORARY_SECONDS = 3600
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO planted in place of an entry must not hang.
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
log = logging.getLogger(__name__)


class UntrustedError(Exception):
    """A part of the cache this user cannot trust; the message says what to do."""


def entry_name(model_version: Any) -> str:
    """The file name of ``model_version`` (an MLflow ``ModelVersion``) for this environment."""
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
    return f"v{model_version.version}-{key}-{environment}{ENTRY_SUFFIX}"


def project_directory_name(tracking_uri: str, model_name: str) -> str:
    """The directory of one project's entries: its registered model name and a hash of its store."""
    # Hashed: a tracking URI may carry a password, and the name shows in logs.
    store = hashlib.sha256(f"{tracking_uri}\n{model_name}".encode()).hexdigest()[:16]
    readable = re.sub(r"[^\w.-]", "_", model_name)
    return f"{readable}-{store}"


def seal(key: bytes, name: str, payload: bytes) -> bytes:
    """An entry's bytes: MAGIC, the HMAC of MAGIC, ``name`` and ``payload``, then ``payload``."""
    return MAGIC + _mac(key, name, payload) + payload


def unseal(key: bytes, name: str, data: bytes) -> bytes | None:
    """The payload of an entry written under ``name`` with ``key``, or None if it is not one."""
    header = len(MAGIC) + MAC_BYTES
    if len(data) < header or not data.startswith(MAGIC):
        return None
    payload = data[header:]
    expected = _mac(key, name, payload)
    return payload if hmac.compare_digest(data[len(MAGIC) : header], expected) else None


def _mac(key: bytes, name: str, payload: bytes) -> bytes:
    # The name is signed too: a valid entry moved to another version's name is refused.
    message = hmac.new(key, MAGIC + name.encode() + b"\0", hashlib.sha256)
    message.update(payload)
    return message.digest()


@contextlib.contextmanager
def opened(cache_dir: str, tracking_uri: str, model_name: str) -> Iterator[ProjectCache | None]:
    """The project's cache, checked and held open by descriptor; None if off or not trusted."""
    if not cache_dir:
        yield None
        return
    try:
        cache = ProjectCache.open(Path(cache_dir), project_directory_name(tracking_uri, model_name))
    except UntrustedError as error:
        log.warning("model cache not used: %s; loading from the registry", error)
        yield None
        return
    except OSError as error:
        log.warning("model cache %s not used (%s); loading from the registry", cache_dir, error)
        yield None
        return
    try:
        yield cache
    finally:
        cache.close()


class ProjectCache:
    """One project's directory of entries, checked and held open by descriptor, and the key."""

    def __init__(self, directory_fd: int, key: bytes, shown: Path) -> None:
        self._fd = directory_fd
        self._key = key
        self.shown = shown  # for messages only: every access goes through the descriptor

    @classmethod
    def open(cls, root: Path, project: str) -> ProjectCache:
        """Walk from the cache root to the project's directory, creating what is missing (0700)."""
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        root_fd = _open_directory(root, None, root)
        try:
            key = _read_key(root_fd, root / KEY_FILE)
            with contextlib.suppress(FileExistsError):
                os.mkdir(project, 0o700, dir_fd=root_fd)
            return cls(_open_directory(project, root_fd, root / project), key, root / project)
        finally:
            os.close(root_fd)

    def close(self) -> None:
        os.close(self._fd)

    def load(self, model_version: Any) -> Pipeline | None:
        """The cached pipeline of ``model_version``; None on a miss or a refused (removed) entry."""
        name = entry_name(model_version)
        try:
            data = self._read(name)
        except FileNotFoundError:  # this version's first load on this host
            return None
        except (UntrustedError, OSError) as error:
            return self._refuse(name, str(error))
        payload = unseal(self._key, name, data)
        if payload is None:
            return self._refuse(name, "failed its integrity check (not written by this cache)")
        try:
            model = pickle.loads(payload)
        except Exception as error:  # signed by us, yet unreadable: a bug, not an attack
            return self._refuse(name, f"unreadable ({type(error).__name__}: {error})")
        if type(model) is not Pipeline:
            return self._refuse(name, f"holds a {type(model).__name__}, not a Pipeline")
        return model

    def store(self, model_version: Any, model: Any) -> None:
        """Cache ``model``; a cache that cannot be written only costs speed."""
        name = entry_name(model_version)
        if type(model) is not Pipeline:
            log.warning(
                "model cache: %s not written: it holds only the scikit-learn Pipeline "
                "model/pipeline.py builds, not a %s",
                self.shown / name,
                type(model).__name__,
            )
            return
        temporary = f".{name}.{secrets.token_hex(8)}.tmp"
        try:
            payload = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
            _write_new(self._fd, temporary, seal(self._key, name, payload))
            os.replace(temporary, name, src_dir_fd=self._fd, dst_dir_fd=self._fd)
            os.fsync(self._fd)  # the rename survives a crash
            self._prune()
        # Whatever pickling or the disk raises: the registry still has the model.
        except Exception as error:
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=self._fd)
            log.warning("model cache entry %s not written: %s", self.shown / name, error)

    def _read(self, name: str) -> bytes:
        """The bytes of entry ``name``, read once from a descriptor checked with fstat."""
        try:
            fd = os.open(name, _READ, dir_fd=self._fd)
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise UntrustedError("is a symbolic link") from None
            raise
        try:
            status = os.fstat(fd)
            if not stat.S_ISREG(status.st_mode):
                raise UntrustedError("is not a regular file")
            _check_private(status, "")
            with os.fdopen(os.dup(fd), "rb") as handle:
                data = handle.read()
            with contextlib.suppress(OSError):
                os.utime(fd)  # recently used: pruned last
            return data
        finally:
            os.close(fd)

    def _refuse(self, name: str, reason: str) -> None:
        # Removed by name in the verified directory (never followed); the
        # registry load that follows writes a good entry in its place.
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=self._fd)
        log.warning(
            "model cache entry %s %s: removed, loading from the registry",
            self.shown / name,
            reason,
        )

    def _prune(self) -> None:
        """Keep this project's most recently used entries; drop what killed writers left."""
        entries = []
        now = time.time()
        with os.scandir(self._fd) as listing:
            for item in listing:
                if not item.is_file(follow_symlinks=False):
                    continue
                modified = item.stat(follow_symlinks=False).st_mtime
                if item.name.endswith(ENTRY_SUFFIX):
                    entries.append((modified, item.name))
                elif item.name.endswith(".tmp") and now - modified > STALE_TEMPORARY_SECONDS:
                    entries.append((0.0, item.name))
        entries.sort()
        for _, name in entries[:-KEEP_ENTRIES]:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name, dir_fd=self._fd)


def _open_directory(name: Path | str, dir_fd: int | None, shown: Path) -> int:
    """A descriptor of directory ``name`` (no symlink), checked private with fstat."""
    try:
        fd = os.open(name, _DIRECTORY, dir_fd=dir_fd)
    except OSError as error:
        if error.errno in {errno.ELOOP, errno.ENOTDIR}:  # a symlink, or a file in its place
            raise UntrustedError(
                f"{shown} is a symbolic link or not a directory: point the cache at a real "
                "directory of your own"
            ) from None
        raise
    try:
        _check_private(os.fstat(fd), str(shown))
    except BaseException:
        os.close(fd)
        raise
    return fd


def _check_private(status: os.stat_result, shown: str) -> None:
    """Owned by this user and writable by no one else, or UntrustedError."""
    if status.st_uid != os.geteuid() or status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        target = f"{shown} " if shown else ""
        raise UntrustedError(
            f"{target}must belong to this user and be writable by no one else "
            f"(chown it, chmod go-w {shown or 'it'})"
        )


def _read_key(root_fd: int, shown: Path) -> bytes:
    """This user's secret key in the cache root, made on first use."""
    for _attempt in range(2):
        try:
            fd = os.open(KEY_FILE, _READ, dir_fd=root_fd)
        except FileNotFoundError:
            _create_key(root_fd)
            continue
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise UntrustedError(f"{shown} is a symbolic link: delete it") from None
            raise
        try:
            status = os.fstat(fd)
            if (
                not stat.S_ISREG(status.st_mode)
                or status.st_uid != os.geteuid()
                or status.st_mode & 0o077
                or status.st_size != KEY_BYTES
            ):
                raise UntrustedError(
                    f"{shown} must be a {KEY_BYTES}-byte file only this user can read: "
                    "delete it, a new key is made on the next load"
                )
            with os.fdopen(os.dup(fd), "rb") as handle:
                return handle.read()
        finally:
            os.close(fd)
    raise UntrustedError(f"{shown} disappears as it is made: is another process deleting it?")


def _create_key(root_fd: int) -> None:
    """Publish a new random key, complete and 0600 from its first byte; an existing key wins."""
    temporary = f".{KEY_FILE}.{secrets.token_hex(8)}.tmp"
    _write_new(root_fd, temporary, secrets.token_bytes(KEY_BYTES))
    try:
        # link, not rename: when two processes race, the first key stays and
        # the other process reads it; neither ever sees a half-written key.
        os.link(temporary, KEY_FILE, src_dir_fd=root_fd, dst_dir_fd=root_fd)
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary, dir_fd=root_fd)


def _write_new(dir_fd: int, name: str, data: bytes) -> None:
    """Write a new file ``name`` (0600 from its first byte) in the directory open as ``dir_fd``."""
    fd = os.open(name, _CREATE, 0o600, dir_fd=dir_fd)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
