"""Answers of ``/id/...`` prepared ahead, per build: a GET of a prepared resource is a read and a copy.

Building an answer (one CONSTRUCT, then JSON-LD compaction, Turtle or an HTML page) costs milliseconds;
serving a built one costs what the HTTP layer costs. So every resource under the base IRI is rendered
once, in the formats people ask for most (``PREPARED_MEDIA``), by the service's own route in a separate
process (``kimgraph prepare``, sparql_api.preparation: the app in-process, without a server), and the
answers are written to a
SQLite file beside the store version they describe (``<version>.answers.sqlite``). The server opens that
file read-only and looks an answer up there when it has none in memory (sparql_api.caching.BodyCache);
answers are keyed as the route keys them (IRI, media type, context address), so a prepared answer is
byte for byte the one the route would build.

The file names the build and the data version (the writes the server had applied) its answers are of.
``kimgraph serve`` prepares them in a child process at low priority when they are missing, serving
answers built on demand meanwhile. A write makes them stale: the server stops reading the file at once
(the data version moves on), stops a preparation under way, deletes the file (so a restart on the
written store cannot serve it), and prepares the answers of the new data version once writes have
paused for ``QUIET`` seconds. ``kimgraph prepare`` runs the same preparation by hand.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from starlette.responses import Response

log = logging.getLogger("kimgraph.prepared")

PREPARED_MEDIA = ("application/ld+json", "text/turtle")
"""The formats prepared: JSON-LD and Turtle, what linked-data clients fetch in bulk (an HTML page, with its
alignments, costs the most to build and is asked for one at a time, by people)."""
SUFFIX = ".answers.sqlite"
BATCH = 500  # resources between two progress reports
QUIET = 2.0  # seconds without a write before the answers of the new data version are prepared
RECHECK = 1.0  # seconds between two looks for an answers file a child process is preparing
SCHEMA = (
    "CREATE TABLE answers (key TEXT PRIMARY KEY, status INTEGER NOT NULL, body BLOB NOT NULL, "
    "content_type TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
)


def answers_path(store_path: Path | None) -> Path | None:
    """The answers file of the store version ``store_path`` names (through its link), or None in memory."""
    if store_path is None:
        return None
    version = Path(store_path).resolve()
    return version.with_name(version.name + SUFFIX)


def answer_key(key: tuple) -> str:
    """The text key of a route's cache key (its parts joined by the unit separator).

    >>> answer_key(("id", "https://w3id.org/uk-kim/id/standard/ST1337", "text/turtle", "http://x/context.jsonld"))
    'id\\x1fhttps://w3id.org/uk-kim/id/standard/ST1337\\x1ftext/turtle\\x1fhttp://x/context.jsonld'
    """
    return "\x1f".join(str(part) for part in key)


class PreparedAnswers:
    """The answers file of one build, read-only; safe to use from any thread."""

    def __init__(self, path: Path, build: str):
        self.path, self.build = path, build
        self._local = threading.local()
        self.count = self._connection().execute("SELECT COUNT(*) FROM answers").fetchone()[0]
        self.data_version = int(self.meta().get("data_version", "-1"))

    @classmethod
    def open(cls, store_path: Path | None, build: str, context: str) -> PreparedAnswers | None:
        """The prepared answers of ``build`` for a service whose JSON-LD context is at ``context``, or None
        when there are none (or they are of another build, or for another address)."""
        path = answers_path(store_path)
        if path is None or not path.exists():
            return None
        try:
            answers = cls(path, build)
            meta = answers.meta()
            if meta.get("build") != build or meta.get("context") != context:
                return None
            return answers
        except sqlite3.Error as e:
            log.warning("ignoring the prepared answers at %s: %s", path, e)
            return None

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            self._local.connection = connection
        return connection

    def meta(self) -> dict[str, str]:
        return dict(self._connection().execute("SELECT name, value FROM meta").fetchall())

    def get(self, key: tuple) -> Response | None:
        """The prepared answer for the route's cache ``key``, or None."""
        try:
            row = self._connection().execute("SELECT status, body, content_type FROM answers WHERE key = ?",
                                             (answer_key(key),)).fetchone()
        except sqlite3.Error:
            return None  # deleted under us after a write: the route builds the answer
        if row is None:
            return None
        status, body, content_type = row
        return Response(body, status_code=status, media_type=content_type)


def discard(store_path: Path | None) -> None:
    """Delete the answers file of the store version ``store_path`` names (they no longer describe it)."""
    path = answers_path(store_path)
    if path is not None:
        path.unlink(missing_ok=True)


class Preparer:
    """The prepared answers a server reads (``answers()``), and the child process that prepares them."""

    def __init__(self, settings, stamp, store_path: Path | None):
        self.settings, self.stamp = settings, stamp
        self.path = Path(store_path) if settings.prepare and store_path is not None else None
        self._answers: PreparedAnswers | None = None
        self._looked = 0.0
        self._child: subprocess.Popen | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._closed = False

    def answers(self) -> PreparedAnswers | None:
        """The answers of the data now served, or None (looking for a new file at most every RECHECK s)."""
        answers = self._answers
        if answers is not None and answers.data_version == self.stamp.data_version:
            return answers
        now = time.monotonic()
        if self.path is None or now - self._looked < RECHECK:
            return None
        self._looked = now
        found = PreparedAnswers.open(self.path, self.stamp.build, self.settings.public_root + "context.jsonld")
        if found is not None and found.data_version == self.stamp.data_version:
            self._answers = found
            return found
        return None

    def state(self) -> dict:
        """For /health/ready: whether answers are prepared for the data now served, and how many."""
        if self.path is None:
            return {"state": "off"}
        answers = self.answers()
        if answers is not None:
            return {"state": "ready", "answers": answers.count}
        running = self._child is not None and self._child.poll() is None
        return {"state": "preparing" if running or self._timer is not None else "missing"}

    def start(self) -> None:
        """Prepare the answers of the data now served in a child process, unless they are there already."""
        with self._lock:
            self._timer = None
            if self.path is None or self._closed or self.answers() is not None:
                return
            if self._child is not None and self._child.poll() is None:
                return
            command = [sys.executable, "-m", "kimgraph.cli", "prepare", "--store", str(self.path),
                       "--public-url", self.settings.public_root,
                       "--data-version", str(self.stamp.data_version), "--quiet", "--parent", str(os.getpid())]
            try:
                self._child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                               preexec_fn=_low_priority)
            except OSError as e:
                log.warning("could not start preparing the answers of /id/: %s", e)

    def written(self) -> None:
        """After a write: the answers are stale; stop a preparation, delete them, prepare again when quiet."""
        with self._lock:
            self._answers = None
            if self._child is not None and self._child.poll() is None:
                self._child.kill()
                self._child.wait()
            self._child = None
            discard(self.path)
            if self._timer is not None:
                self._timer.cancel()
            if self.path is not None and not self._closed:
                self._timer = threading.Timer(QUIET, self.start)
                self._timer.daemon = True
                self._timer.start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            if self._child is not None and self._child.poll() is None:
                self._child.kill()
                self._child.wait()


def _low_priority() -> None:
    os.nice(10)
