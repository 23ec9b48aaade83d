"""Whole graphs and updates on the store: reading a graph, replacing, adding to or dropping one, and SPARQL
updates. Each write is one transaction, made under the data version's lock and followed by its bump, so
readers see the data change exactly once.

Each write is flushed before the bump: the query workers reopen their read-only snapshot at the new version,
and a read-only open replays whatever the write-ahead log holds that is not yet in table files (about 1.2 s
after a 50,000-triple write, against 5-20 ms after a flush), during which the worker answers nothing."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path

from sparql_api import formats
from sparql_api.errors import BadRequest, InvalidQuery, InvalidRdf, ResourceNotFound, UpdateTimeout
from sparql_api.lifetime import die_with_parent
from sparql_api.request_input import media_type
from sparql_api.workers import DataVersion, call_with_stack, shift_position, worker_context
from store.embedded import Store
from store.errors import QuerySyntaxError
from store.protocol import KnowledgeStore

DEFAULT = None  # the store's default graph, as a target
WRITER_NICENESS = 10
"""How much lower than the server's the writer thread's CPU priority is: a large write takes a core for
seconds, and the small reads that arrive meanwhile should get the CPU first."""
_writer: ThreadPoolExecutor | None = None
_writer_lock = threading.Lock()


def _lower_priority() -> None:
    """Run this thread (Linux: each thread has its own nice value) at a lower CPU priority, for good."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WRITER_NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: the write still runs
        pass


async def in_writer(function, *args):
    """``function(*args)`` on the one writer thread, at a lower CPU priority than the threads serving reads.

    Writes are serialised anyway (DataVersion.lock), so one thread loses nothing.
    """
    global _writer
    with _writer_lock:
        if _writer is None:
            _writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kimgraph-writer",
                                         initializer=_lower_priority)
    return await asyncio.wrap_future(_writer.submit(function, *args))


def payload_triples(content_type: str | None, body: bytes, base: str, multipart: bool) -> list:
    """Every triple of a request body (RDF, or with ``multipart`` a multipart/form-data of RDF parts), parsed
    before the store is touched."""
    kind, _ = media_type(content_type)
    if multipart and kind == "multipart/form-data" and content_type is not None:
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1")
                                                      + b"\r\n\r\n" + body)
        if not message.is_multipart():
            raise InvalidRdf("the multipart/form-data body has no parts")
        triples = []
        for part in message.iter_parts():
            fmt = formats.payload_format(part.get("content-type"))
            payload = part.get_payload(decode=True)  # bytes, or None for a part that is itself multipart
            triples += formats.parse_triples(payload if isinstance(payload, bytes) else b"", fmt, base)
        return triples
    return formats.parse_triples(body, formats.payload_format(content_type), base)


def _exists(store: KnowledgeStore, target: str | None) -> bool:
    return target is DEFAULT or target in store.named_graphs()


def read_graph(store: KnowledgeStore, target: str | None, fmt: str) -> bytes:
    """One graph serialised in ``fmt``; ResourceNotFound when the store has no such graph."""
    if not _exists(store, target):
        raise ResourceNotFound(f"the store has no graph {target}")
    pattern = "?s ?p ?o" if target is DEFAULT else f"GRAPH <{target}> {{ ?s ?p ?o }}"
    result = store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {pattern} }}", union_default=False)
    return formats.serialize_result(result, fmt, sys.maxsize)


def write_graph(store: KnowledgeStore, version: DataVersion, target: str | None, triples: list,
                replace: bool) -> bool:
    """Replace (PUT) or add to (POST) one graph in one update; True when the graph is new."""
    data = formats.triples_as_sparql(triples)
    with version.lock:
        created = not _exists(store, target)
        if target is DEFAULT:
            steps = ["CLEAR SILENT DEFAULT"] if replace else []
            steps += [f"INSERT DATA {{ {data} }}"] if triples else []
        else:
            steps = [f"DROP SILENT GRAPH <{target}>"] if replace else []
            steps += [f"CREATE SILENT GRAPH <{target}>"]
            steps += [f"INSERT DATA {{ GRAPH <{target}> {{ {data} }} }}"] if triples else []
        if steps:  # a named graph's write is known to write that graph alone
            store.update(" ;\n".join(steps), written=None if target is DEFAULT else frozenset({target}))
            store.flush()
            version.bump()
    return created


def delete_graph(store: KnowledgeStore, version: DataVersion, target: str | None) -> None:
    """Drop a named graph (or empty the default graph); ResourceNotFound when there is no such graph."""
    with version.lock:
        if not _exists(store, target):
            raise ResourceNotFound(f"the store has no graph {target}")
        store.update("CLEAR DEFAULT" if target is DEFAULT else f"DROP GRAPH <{target}>")
        store.flush()
        version.bump()


def apply_update(store: KnowledgeStore, version: DataVersion, text: str, timeout: float | None = None) -> None:
    """Run one update as one transaction and tell the query workers the data changed.

    With a ``timeout``, an on-disk store's update is first run on a checkpoint of the store in a process of
    its own, which is killed when it passes the limit (UpdateTimeout; the store is never touched): Oxigraph
    cannot stop an update, so only one that finished there within the limit is applied here.
    """
    with version.lock:
        if timeout is not None and isinstance(store, Store) and store.path is not None:
            check_update(store.path, store, text, timeout)
        try:
            call_with_stack(store.update, text)
        except QuerySyntaxError as e:
            raise InvalidQuery(shift_position(str(e))) from None
        except RuntimeError as e:  # e.g. DROP of a graph that does not exist: nothing was changed
            raise BadRequest(f"the update failed and changed nothing: {e}") from None
        store.flush()
        version.bump()


def check_update(path: Path, store: Store, text: str, timeout: float) -> None:
    """Run ``text`` on a checkpoint of the store at ``path`` in a child process; UpdateTimeout when it is still
    running after ``timeout`` seconds (the child is killed and the checkpoint deleted). Errors are left to the
    real run, which reports them as it would have."""
    directory = path.resolve().parent
    if directory.name.endswith(".versions"):  # not among the build versions, which a build prunes
        directory = directory.parent
    try:  # beside the store, where the checkpoint's files can be hard links
        scratch_directory = tempfile.TemporaryDirectory(prefix=".kimgraph-update-", dir=directory)
    except OSError:  # not writable there: a copy in the system's temporary directory
        scratch_directory = tempfile.TemporaryDirectory(prefix="kimgraph-update-")
    with scratch_directory as scratch:
        copy = Path(scratch) / "store"
        store.checkpoint(copy)
        process = worker_context().Process(target=_run_update, args=(str(copy), text), name="kimgraph-update",
                                           daemon=True)
        process.start()
        process.join(timeout)
        if process.is_alive():
            process.kill()
            process.join(5)
            raise UpdateTimeout(f"the update ran longer than the {timeout:g} s limit and was stopped; nothing was "
                                "changed: narrow its WHERE clause", retry_after=max(1, round(timeout)))


def _run_update(path: str, text: str) -> None:
    """A child process: the update on a checkpoint (which is thrown away after)."""
    die_with_parent()
    os.nice(WRITER_NICENESS)
    call_with_stack(Store.open(Path(path)).update, text)
