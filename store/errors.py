"""What can go wrong with a store, embedded or remote; the web layer maps each to a problem+json status."""

from __future__ import annotations


class StoreError(Exception):
    """The store cannot be opened or written: missing, locked, unreadable or read-only."""


class StoreUnusable(StoreError):
    """The store cannot be used as asked: ``problem`` says what is wrong and where, ``remedy`` what to do."""

    def __init__(self, problem: str, remedy: str):
        super().__init__(f"{problem}; {remedy}")
        self.problem = problem
        self.remedy = remedy


class StoreLocked(StoreUnusable):
    """Another process has the store open for writing (it holds the RocksDB ``LOCK`` file)."""


class StoreNotWritable(StoreUnusable):
    """The store's directory, or the place for a new one, cannot be written by this process."""


class DatasetTooLarge(ValueError):
    """A query names several default graphs holding more triples than can be merged for one query."""


class QuerySyntaxError(ValueError):
    """The SPARQL text does not parse; the message says where."""


class StoreUnavailable(StoreError):
    """The remote store cannot be reached, or answered with something that is not SPARQL."""


class StoreTimeout(StoreError, TimeoutError):
    """The remote store did not answer within the time allowed."""


class RemoteStoreError(StoreError, RuntimeError):
    """The remote store refused or failed a well-formed request (an update that changed nothing, ...).

    A RuntimeError too, like pyoxigraph's own evaluation errors, so callers treat both alike.
    """
