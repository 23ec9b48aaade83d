"""Opening the store the settings name: embedded (a path on this machine) or remote (a SPARQL endpoint)."""

from __future__ import annotations

from pathlib import Path

from store.embedded import Store
from store.errors import StoreLocked, StoreNotWritable
from store.protocol import StoreSettings
from store.remote import RemoteStore


def open_for_service(path: Path, writable: bool, require_writable: bool = False) -> Store:
    """The embedded store a server uses: read-write when ``writable`` and possible, otherwise read-only.

    When writes are wanted but the store is locked by another writer or cannot be written, it is opened
    read-only with the reason in ``read_only_reason`` (a snapshot: another writer's later changes are not
    seen), or, with ``require_writable``, the StoreLocked or StoreNotWritable error is raised.
    """
    if not writable:
        return Store.open(path, read_only=True)
    try:
        return Store.open(path)
    except (StoreLocked, StoreNotWritable) as e:
        if require_writable:
            raise
        store = Store.open(path, read_only=True)
        store.read_only_reason = e.problem
        return store


def open_store(settings: StoreSettings, read_only: bool = False, path: Path | None = None) -> Store | RemoteStore:
    """The store the settings name: the remote SPARQL store at ``store_url`` when one is set, else the
    embedded store at ``path`` (default ``settings.store``)."""
    if settings.store_url:
        return RemoteStore.from_settings(settings, read_only=read_only)
    return Store.open(settings.store if path is None else path, read_only=read_only)


