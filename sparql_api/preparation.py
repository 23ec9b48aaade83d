"""Preparing the answers of ``/id/...`` ahead (``kimgraph prepare``): every resource rendered by the
service's own route, in-process, and written to the answers file the server reads (sparql_api.prepared)."""

from __future__ import annotations

import os
import sqlite3
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

from rdflib import Literal

from sparql_api.app import create_app
from sparql_api.prepared import BATCH, PREPARED_MEDIA, SCHEMA, answer_key, answers_path
from store.sparql_text import sparql_term

with warnings.catch_warnings():  # Starlette would rather have httpx2 behind its test client; httpx serves
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient


def resource_iris(store, base_iri: str) -> Iterator[str]:
    """Every IRI under ``{base_iri}id/`` that is the subject of a triple, fragments (``#...``) left out."""
    prefix = sparql_term(Literal(base_iri + "id/"))
    rows = store.select(f"SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), {prefix}) "
                        "&& !CONTAINS(STR(?s), '#')) } ORDER BY ?s")
    for row in rows:
        yield str(row["s"])


def prepare(settings, data_version: int = 0, progress: Callable[[int, int], None] | None = None,
            parent: int | None = None) -> Path:
    """Render every resource of the store ``settings.store`` names in ``PREPARED_MEDIA`` with the service's
    own route, and write the answers to its answers file, replacing it in one step; the file says they are
    the answers of ``data_version`` (the writes the serving process has applied to the store). With ``parent``
    (the serving process), the work stops, leaving nothing, as soon as that process is gone."""
    target = answers_path(Path(settings.store))
    assert target is not None
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    # in-process queries on a read-only snapshot: the serving process may hold the store for writing
    settings = settings.model_copy(update={"workers": 0, "prepare": False, "write_token": None})
    app = create_app(settings)
    public = settings.public_root.rstrip("/")  # requests addressed as clients address the service
    connection = sqlite3.connect(partial)
    try:
        for statement in SCHEMA:
            connection.execute(statement)
        with TestClient(app, base_url=public) as client:
            services = app.state.services
            iris = list(resource_iris(services.store, settings.base_iri))
            total, done, started = len(iris) * len(PREPARED_MEDIA), 0, time.monotonic()
            for iri in iris:
                if parent is not None and os.getppid() != parent:
                    raise SystemExit("the server that asked for these answers has gone")
                path = "/" + iri[len(settings.base_iri):]
                for media in PREPARED_MEDIA:
                    client.get(path, headers={"Accept": media, "Accept-Encoding": "identity"})
                    done += 1
                rows = [(answer_key(key[2:]), status, body, _content_type(raw))
                        for key, status, body, raw in services.body_cache.drain()]
                connection.executemany("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?)", rows)
                if progress is not None and done % (BATCH * len(PREPARED_MEDIA)) < len(PREPARED_MEDIA):
                    progress(done, total)
            meta = {"build": services.stamp.build, "data_version": str(data_version),
                    "context": settings.public_root + "context.jsonld", "resources": str(len(iris)),
                    "seconds": f"{time.monotonic() - started:.1f}"}
        connection.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        connection.commit()
        connection.close()
        os.replace(partial, target)
    except BaseException:
        connection.close()
        partial.unlink(missing_ok=True)
        raise
    if progress is not None:
        progress(total, total)
    return target


def _content_type(raw_headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in raw_headers:
        if name.lower() == b"content-type":
            return value.decode("latin-1")
    return "application/octet-stream"
