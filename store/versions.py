"""Store versions on disk: a store path such as ``var/store`` is a symbolic link to one build in
``var/store.versions/``. A build writes a new version beside the current one and swaps the link with one
atomic rename, so a build that fails or is killed half-way leaves the previous store untouched.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from store.embedded import Store
from store.errors import StoreNotWritable, StoreUnusable


def versions_dir(path: Path) -> Path:
    return path.with_name(path.name + ".versions")


def prepare_versions(path: Path) -> Path:
    """The directory new versions of the store at ``path`` go in, created; StoreError when no build can go there."""
    path = Path(path)
    if path.exists() and not path.is_symlink():
        raise StoreUnusable(f"{path} is a plain directory, not a store built by kimgraph", "move it away first")
    versions = versions_dir(path)
    remedy = "choose a --store (KIM_STORE) path in a directory this user can write"
    try:
        versions.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoreNotWritable(f"cannot create the store at {path}: {e.strerror} ({e.filename or versions})",
                               remedy) from e
    if not os.access(versions, os.W_OK | os.X_OK) or not os.access(path.parent, os.W_OK | os.X_OK):
        raise StoreNotWritable(f"cannot create the store at {path}: {versions} or {path.parent} is not writable",
                               remedy)
    return versions


def build_atomically(path: Path, fill: Callable[[Store], None]) -> Path:
    """Write a new store version with ``fill`` and make ``path`` point at it in one atomic step."""
    path = Path(path)
    versions = prepare_versions(path)
    previous = path.resolve() if path.is_symlink() else None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = versions / f"{stamp}-{uuid.uuid4().hex[:8]}"
    try:
        store = Store(ox.Store(str(target)), target)
        fill(store)
        store.flush()
        store.optimize()
        del store
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    link = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.link")
    os.symlink(os.path.relpath(target, path.parent), link)
    os.replace(link, path)
    _remove_old_versions(versions, keep={target, previous})
    return target


def _remove_old_versions(versions: Path, keep: set[Path | None]) -> None:
    """Drop versions older than the current and previous ones (left behind by earlier or killed builds),
    except one another process still has open for writing, such as a build running beside this one, and
    one a server still reads (see ``VersionHold``)."""
    for child in versions.iterdir():
        if child not in keep and child.is_dir() and not _locked_by_a_writer(child) and not _held_by_a_reader(child):
            shutil.rmtree(child, ignore_errors=True)
    for child in versions.iterdir():  # files kept beside a version (its prepared answers) go with it
        owner = versions / child.name.lstrip(".").split(".", 1)[0]
        if child.is_file() and not owner.is_dir():
            child.unlink(missing_ok=True)


READERS_FILE = "kimgraph-readers.lock"


class VersionHold:
    """A shared lock on a store version, held by a server for as long as it has the version open, so that a
    later build does not delete the directory under it. The lock is released by ``release`` or when the
    holding process ends (an flock, which the kernel drops with the process)."""

    def __init__(self, version: Path):
        self.version = Path(version)
        self._file = None
        try:
            self._file = open(self.version / READERS_FILE, "a+b")  # noqa: SIM115 (held until release)
            fcntl.flock(self._file, fcntl.LOCK_SH)
        except OSError:  # a version this user cannot write to: it is not deleted by this user's builds either
            self.release()

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # drops the lock
            self._file = None


def _held_by_a_reader(version: Path) -> bool:
    """Whether a server holds a ``VersionHold`` on the version."""
    try:
        with open(version / READERS_FILE, "rb") as readers:
            try:
                fcntl.flock(readers, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            fcntl.flock(readers, fcntl.LOCK_UN)
    except OSError:
        return False
    return False


def _locked_by_a_writer(version: Path) -> bool:
    """Whether a process holds the version's RocksDB LOCK (an fcntl lock, released when its holder dies)."""
    try:
        with open(version / "LOCK", "r+b") as lock:
            try:
                fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            fcntl.lockf(lock, fcntl.LOCK_UN)
    except OSError:  # no LOCK file: a build killed before RocksDB made one
        return False
    return False

