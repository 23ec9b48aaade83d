"""A SPARQL 1.1 store on another machine, with the same interface as the embedded ``Store``.

Past one machine, KIM Graph runs over an existing store (Oxigraph server, Fuseki, GraphDB, QLever)
through the SPARQL 1.1 Protocol (https://www.w3.org/TR/sparql11-protocol/) and the Graph Store
Protocol (https://www.w3.org/TR/sparql11-http-rdf-update/), so API replicas keep no data of their own.
Answers come back as the same pyoxigraph objects the embedded store returns (``QuerySolutions``,
``QueryBoolean``, ``QueryTriples``), so every caller works unchanged.

The endpoints, from ``KIM_STORE_URL`` (the query URL), unless set one by one:

=================  ============================  =====================================================
setting            Oxigraph server (derived)     others (set it)
=================  ============================  =====================================================
KIM_STORE_URL      ``http://h:7878/query``       Fuseki ``/ds/query``; GraphDB ``/repositories/kim``;
                                                 QLever ``http://h:7001/``
KIM_STORE_UPDATE_  ``.../update`` (a last path   Fuseki ``/ds/update`` (derived); GraphDB
URL                segment ``query`` becomes     ``/repositories/kim/statements``; else the query URL
                   ``update``)                   itself
KIM_STORE_GSP_URL  ``.../store`` (``query``      Fuseki ``/ds/data``; GraphDB
                   becomes ``store``)            ``/repositories/kim/rdf-graphs/service``; without
                                                 one, whole graphs are read with CONSTRUCT and
                                                 written with SPARQL Update
KIM_STORE_UNION_   (empty)                       the name[=value] sent to make the default graph the
PARAM                                            union of the named graphs; empty where the service
                                                 keeps the default graph as their merge, as it does on
                                                 every store it writes (``store.merge``)
=================  ============================  =====================================================

Values are bound without pasting text: a ``VALUES`` block of strictly serialised terms opens the
query's WHERE group and every group of the outer query that mentions a bound variable, which is how
pyoxigraph's substitutions behave (the variable is bound everywhere but inside subqueries).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit, urlunsplit

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.term import Node

from store.embedded import Store
from store.errors import QuerySyntaxError, RemoteStoreError, StoreError, StoreTimeout, StoreUnavailable
from store.merge import client_syntax_error, maintained, rewritten, upkeep
from store.protocol import StoreSettings
from store.sparql_errors import explain_syntax_error
from store.sparql_text import bind_values, query_form, sparql_term
from store.terms import RDF_FORMATS, serialized, solution_rows, to_rdflib

if TYPE_CHECKING:
    import httpx

SPARQL_RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
READ_TIMEOUT = 60.0  # reads that do not go through the query runner (stats, pages, exports)
WRITE_TIMEOUT = 600.0  # loading a large graph takes a while
CONNECT_TIMEOUT = 5.0

# What a store may answer with, by media type (its Accept handling varies; we ask for the first).
RESULT_MEDIA = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPH_MEDIA = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,  # older stores label N-Triples so
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/trig": ox.RdfFormat.TRIG,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}


@dataclass(frozen=True)
class Reply:
    """What the store answered: status, media type (lower case, no parameters), body and the URL asked."""

    status: int
    media: str
    body: bytes
    url: str

    def message(self, limit: int = 2000) -> str:
        text = self.body.decode("utf-8", errors="replace").strip()
        return (text[:limit] + " ...") if len(text) > limit else text or f"HTTP {self.status}"


def _sibling(url: str, name: str) -> str | None:
    """``url`` with a last path segment ``query`` replaced by ``name`` (None when it is not ``query``).

    >>> _sibling("http://h:7878/query", "store"), _sibling("http://h:3030/ds/query?x=1", "update")
    ('http://h:7878/store', 'http://h:3030/ds/update?x=1')
    >>> _sibling("http://h:7200/repositories/kim", "update") is None
    True
    """
    parts = urlsplit(url)
    head, _, last = parts.path.rpartition("/")
    if last != "query":
        return None
    return urlunsplit(parts._replace(path=f"{head}/{name}"))


def endpoints(query_url: str, update_url: str | None = None, gsp_url: str | None = None
              ) -> tuple[str, str, str | None]:
    """The query, update and graph store URLs: the ones given, else derived from the query URL.

    >>> endpoints("http://h:7878/query")
    ('http://h:7878/query', 'http://h:7878/update', 'http://h:7878/store')
    >>> endpoints("http://h:3030/ds/query", gsp_url="http://h:3030/ds/data")
    ('http://h:3030/ds/query', 'http://h:3030/ds/update', 'http://h:3030/ds/data')
    >>> endpoints("http://h:7001/")
    ('http://h:7001/', 'http://h:7001/', None)
    """
    for url in (query_url, update_url, gsp_url):
        if url is not None and urlsplit(url).scheme not in ("http", "https"):
            raise StoreError(f"{url!r} is not an http(s) URL")
    return (query_url,
            update_url or _sibling(query_url, "update") or query_url,
            gsp_url or _sibling(query_url, "store"))


def redact(url: str) -> str:
    """A URL fit for messages and logs: any password in it replaced.

    >>> redact("https://kim:s3cret@db.example/query")
    'https://kim:***@db.example/query'
    """
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{parts.hostname}"
                                            + (f":{parts.port}" if parts.port else "")))


def union_parameter(setting: str | None) -> tuple[str, str] | None:
    """``union-default-graph`` -> ('union-default-graph', ''); ``name=value`` -> (name, value); '' -> None.

    >>> union_parameter("default-graph-uri=urn:x-arq:UnionGraph")
    ('default-graph-uri', 'urn:x-arq:UnionGraph')
    """
    if not setting or not setting.strip():
        return None
    name, _, value = setting.strip().partition("=")
    return name, value


# ------------------------------------------------------------------ the store

class RemoteStore:
    """A SPARQL 1.1 dataset held by a remote store, reached over HTTP with one pooled client."""

    path: Path | None = None  # nothing on this machine: no worker process can open it
    read_only_reason: str | None = None  # read-only is asked for, never imposed

    def __init__(self, query_url: str, update_url: str | None = None, gsp_url: str | None = None, *,
                 union_param: str | None = None, read_only: bool = False,
                 timeout: float = READ_TIMEOUT, client: httpx.Client | None = None):
        self.query_url, self.update_url, self.gsp_url = endpoints(query_url, update_url, gsp_url)
        self.union = union_parameter(union_param)
        self.read_only = read_only
        self.timeout = timeout
        import httpx  # loaded only when a remote store is used: it costs an embedded server's start 0.2 s

        self._client = client or httpx.Client(
            timeout=httpx.Timeout(timeout, connect=CONNECT_TIMEOUT),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            headers={"User-Agent": "kimgraph"},
        )

    @classmethod
    def from_settings(cls, settings: StoreSettings, read_only: bool = False, check: bool = True) -> RemoteStore:
        """The store ``settings.store_url`` names; with ``check``, StoreUnavailable unless it answers now."""
        if not settings.store_url:
            raise StoreUnavailable("no remote store is named: store_url is not set")
        store = cls(settings.store_url, settings.store_update_url, settings.store_gsp_url,
                    union_param=settings.store_union_param, read_only=read_only)
        if check:
            store.ping()
        return store

    def __repr__(self) -> str:
        return f"RemoteStore({redact(self.query_url)!r})"

    def __bool__(self) -> bool:
        return True  # never len(): that would be a COUNT query over the whole store

    def with_timeout(self, seconds: float) -> RemoteStore:
        """The same store (and connection pool) with requests given up after ``seconds``, in total."""
        view = copy.copy(self)
        view.timeout = seconds
        return view

    def close(self) -> None:
        self._client.close()

    def ping(self) -> None:
        """Ask the store a trivial question; StoreUnavailable when it cannot answer."""
        try:
            self.query("ASK {}", union_default=False)
        except (StoreError, QuerySyntaxError) as e:
            raise StoreUnavailable(f"the SPARQL store at {redact(self.query_url)} does not answer: {e}") from e

    # ------------------------------------------------------------------ HTTP

    def _send(self, method: str, url: str, *, timeout: float, params=None, content: bytes | None = None,
              headers: dict[str, str] | None = None) -> Reply:
        """One request, its whole body read within ``timeout`` seconds (a read timeout alone is per chunk)."""
        import httpx

        deadline = time.monotonic() + timeout
        try:
            with self._client.stream(method, url, params=params, content=content, headers=headers,
                                     timeout=httpx.Timeout(timeout, connect=min(CONNECT_TIMEOUT, timeout))) as response:
                chunks = []
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    if time.monotonic() > deadline:
                        raise StoreTimeout(f"the store did not answer within {timeout:g} s")
                media = response.headers.get("content-type", "").split(";")[0].strip().lower()
                return Reply(response.status_code, media, b"".join(chunks), str(response.request.url))
        except httpx.TimeoutException as e:
            raise StoreTimeout(f"the store did not answer within {timeout:g} s") from e
        except httpx.TransportError as e:
            raise StoreUnavailable(f"cannot reach the SPARQL store at {redact(url)}: {e}") from e

    @staticmethod
    def _fail(reply: Reply, what: str) -> None:
        """Raise the error a failed answer stands for."""
        status, message = reply.status, reply.message()
        if status == 400:
            raise QuerySyntaxError(message)  # Oxigraph: "error at 1:10: ...", Fuseki: "Parse error: ..."
        if status in (401, 403):
            raise StoreUnavailable(f"the store refused the {what} ({status}): {message}; "
                                   "give credentials in the URL (https://user:password@host/...)")
        if status in (404, 405) and what != "graph":
            raise StoreUnavailable(f"no SPARQL {what} service at {redact(reply.url)} ({status})")
        if status in (502, 503, 504):
            raise StoreUnavailable(f"the store is unavailable ({status}): {message}")
        raise RemoteStoreError(f"the store failed the {what} ({status}): {message}")

    def _params(self, union_default: bool, default_graphs, named_graphs) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = []
        if default_graphs is not None:
            params += [("default-graph-uri", str(g)) for g in default_graphs]
        elif union_default and self.union is not None:
            params.append(self.union)
        if named_graphs is not None:
            params += [("named-graph-uri", str(g)) for g in named_graphs]
        return params

    # ------------------------------------------------------------------ reading

    def query(
        self,
        sparql: str,
        *,
        union_default: bool = True,
        default_graphs: Iterable[str] | None = None,
        named_graphs: Iterable[str] | None = None,
        substitutions: Mapping[str, Node] | None = None,
    ):
        """Run a SPARQL query; the default graph is the union of the named graphs unless graphs are given.

        Returns pyoxigraph QuerySolutions, QueryBoolean or QueryTriples, as the embedded store does.
        """
        text = bind_values(sparql, substitutions) if substitutions else sparql
        form = query_form(text)
        if form in ("CONSTRUCT", "DESCRIBE"):
            accept = f"{N_TRIPLES}, text/turtle;q=0.5"
        elif form in ("SELECT", "ASK"):
            accept = f"{SPARQL_RESULTS_JSON}, application/sparql-results+xml;q=0.5"
        else:  # let the store report the syntax error
            accept = f"{SPARQL_RESULTS_JSON}, {N_TRIPLES};q=0.9"
        # Form-encoded, so that many graph IRIs cannot make the URL too long (SPARQL 1.1 Protocol 2.1.2).
        body = urlencode([("query", text)] + self._params(union_default, default_graphs, named_graphs))
        reply = self._send("POST", self.query_url, timeout=self.timeout, content=body.encode("utf-8"),
                           headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": accept})
        if reply.status != 200:
            try:
                self._fail(reply, "query")
            except QuerySyntaxError as e:  # Oxigraph's "error at 1:10: expected ..." read against the text
                raise QuerySyntaxError(explain_syntax_error(text, str(e))) from None
        return self._result(reply)

    @staticmethod
    def _result(reply: Reply):
        media = reply.media
        try:
            if media in RESULT_MEDIA:
                return ox.parse_query_results(reply.body, RESULT_MEDIA[media])
            if media in GRAPH_MEDIA:
                # A real QueryTriples, so callers that check isinstance(result, QueryTriples) work.
                local = ox.Store()
                local.bulk_load(reply.body, format=GRAPH_MEDIA[media], to_graph=ox.DefaultGraph())
                return local.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
        except SyntaxError as e:
            raise StoreUnavailable(f"the store's {media} answer does not parse: {e}") from e
        raise StoreUnavailable(f"the store answered with {media or 'no Content-Type'}, not SPARQL results or RDF")

    def select(self, sparql: str, **kwargs) -> list[dict[str, Node]]:
        """Run a SELECT query and return its solutions as dicts of rdflib terms."""
        return solution_rows(self.query(sparql, **kwargs))

    def named_graphs(self) -> list[str]:
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }", union_default=False)
        return sorted(str(row["g"]) for row in rows if isinstance(row.get("g"), URIRef))

    def _graph_ntriples(self, graph_iri: str | None) -> bytes:
        """One named graph (None: the default graph) as N-Triples; empty when there is no such graph."""
        if self.gsp_url is not None:
            params = {"graph": graph_iri} if graph_iri is not None else {"default": ""}
            reply = self._send("GET", self.gsp_url, timeout=self.timeout, params=params,
                               headers={"Accept": N_TRIPLES})
            if reply.status == 404:
                return b""
            if reply.status != 200:
                self._fail(reply, "graph")
            if reply.media in ("application/n-triples", "text/plain"):
                return reply.body
            if reply.media not in GRAPH_MEDIA:
                raise StoreUnavailable(f"the graph store answered with {reply.media or 'no Content-Type'}, not RDF")
            return serialized(ox.serialize((q.triple for q in ox.parse(reply.body, GRAPH_MEDIA[reply.media])),
                                           format=ox.RdfFormat.N_TRIPLES))
        pattern = "?s ?p ?o" if graph_iri is None else f"GRAPH {sparql_term(URIRef(graph_iri))} {{ ?s ?p ?o }}"
        triples = self.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {pattern} }}", union_default=False)
        return triples.serialize(format=ox.RdfFormat.N_TRIPLES)

    def graph(self, graph_iri: str) -> Graph:
        """One named graph as an rdflib Graph."""
        graph = Graph()
        for quad in ox.parse(self._graph_ntriples(graph_iri), ox.RdfFormat.N_TRIPLES):
            graph.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
        return graph

    def dump(self, fmt: str, graph_iri: str | None = None, prefixes: Mapping[str, str] | None = None) -> bytes:
        """Serialise the whole dataset (or one graph, or the union for triple-only formats), graph by graph."""
        RDF_FORMATS[fmt]  # KeyError for an unknown format, before any request
        local = ox.Store()
        graphs = [graph_iri] if graph_iri is not None else [None, *self.named_graphs()]
        for name in graphs:
            data = self._graph_ntriples(name)
            target = ox.DefaultGraph() if name is None else ox.NamedNode(name)
            if data.strip():
                local.bulk_load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=target)
            elif name is not None:
                local.add_graph(target)
        return Store(local).dump(fmt, graph_iri, prefixes)

    def __len__(self) -> int:
        rows = self.select("SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }",
                           union_default=False)
        return int(rows[0]["n"]) if rows else 0

    def triple_count(self) -> int:
        """The number of triples of the default graph as the store serves it (with the union parameter)."""
        rows = self.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        return int(rows[0]["n"]) if rows else 0

    # ------------------------------------------------------------------ writing

    def _writable(self) -> None:
        if self.read_only:
            raise StoreError("the store is open read-only")

    def update(self, sparql: str, written: frozenset[str] | None = None) -> None:
        """Run a SPARQL Update and the upkeep of the merged default graph (one request: Oxigraph and Fuseki
        apply it as one transaction); ``written`` as for the embedded store."""
        self._writable()
        try:
            self._post_update(maintained(rewritten(sparql, written)))
        except QuerySyntaxError as e:
            raise QuerySyntaxError(client_syntax_error(sparql, str(e))) from None

    def _post_update(self, sparql: str) -> None:
        reply = self._send("POST", self.update_url, timeout=max(self.timeout, WRITE_TIMEOUT),
                           content=sparql.encode("utf-8"),
                           headers={"Content-Type": "application/sparql-update; charset=utf-8"})
        if reply.status not in (200, 204):
            self._fail(reply, "update")

    def _write_graph(self, method: str, graph_iri: str, data: bytes) -> None:
        """POST (add) or PUT (replace) N-Triples into one named graph, by the graph store or by an update."""
        self._writable()
        if self.gsp_url is not None:
            # the graph store writes the graph; updates before and after it keep the merge (three requests)
            planned = upkeep(frozenset({graph_iri}))
            if planned is None:
                raise ValueError(f"<{graph_iri}> is not an absolute IRI")
            before, after = planned
            self._post_update(" ;\n".join(before))
            reply = self._send(method, self.gsp_url, timeout=max(self.timeout, WRITE_TIMEOUT),
                               params={"graph": graph_iri}, content=data, headers={"Content-Type": N_TRIPLES})
            if reply.status not in (200, 201, 204):
                self._fail(reply, "graph")
            self._post_update(" ;\n".join(after))
            return
        target = sparql_term(URIRef(graph_iri))
        steps = [f"DROP SILENT GRAPH {target}"] if method == "PUT" else []
        steps.append(f"CREATE SILENT GRAPH {target}")
        if data.strip():  # N-Triples is valid inside INSERT DATA
            steps.append(f"INSERT DATA {{ GRAPH {target} {{\n{data.decode('utf-8')}\n}} }}")
        self.update(" ;\n".join(steps))

    @staticmethod
    def _ntriples(data: bytes, fmt: str) -> bytes:
        """Serialised triples as N-Triples (checked here, so that bad data never reaches the store)."""
        return serialized(ox.serialize((q.triple for q in ox.parse(data, RDF_FORMATS[fmt])),
                                       format=ox.RdfFormat.N_TRIPLES))

    def load(self, data: bytes, fmt: str, graph_iri: str) -> None:
        """Add serialised triples to one named graph."""
        self._writable()
        self._write_graph("POST", graph_iri, self._ntriples(data, fmt))

    def add_graph(self, graph_iri: str, graph: Graph) -> None:
        """Add an rdflib Graph's triples to one named graph."""
        self._writable()
        self._write_graph("POST", graph_iri, graph.serialize(format="nt", encoding="utf-8"))

    def replace_graph(self, graph_iri: str, data: Graph | bytes) -> None:
        """Make one named graph hold exactly these triples (Graph Store Protocol PUT)."""
        self._writable()
        if isinstance(data, Graph):
            data = data.serialize(format="nt", encoding="utf-8")
        self._write_graph("PUT", graph_iri, data)

    def flush(self) -> None:
        pass  # every write is applied by the remote store before it answers


def build_remote(store: RemoteStore, graphs: Iterable, *, prune: str | None = None) -> RemoteStore:
    """Replace each named graph of a build in the remote store (GSP PUT): ``kimgraph build`` over HTTP.

    ``graphs`` holds ``ingest.build.NamedGraph`` objects or ``(iri, rdflib.Graph)`` pairs. Every graph is
    serialised before the first request, so a failure there leaves the remote store untouched; there is
    no atomic swap across graphs, though: each graph is replaced atomically, one after another. With
    ``prune`` (an IRI prefix such as ``{base}graph/``), graphs under it that the build no longer makes
    are dropped, so the store holds what an embedded build would.
    """
    payloads: list[tuple[str, bytes]] = []
    for item in graphs:
        iri, graph = (item.iri, item.graph) if hasattr(item, "graph") else item
        payloads.append((str(iri), graph.serialize(format="nt", encoding="utf-8")))
    for iri, data in payloads:
        store.replace_graph(iri, data)
    if prune:
        built = {iri for iri, _ in payloads}
        stale = [g for g in store.named_graphs() if g.startswith(prune) and g not in built]
        if stale:
            store.update(" ;\n".join(f"DROP SILENT GRAPH {sparql_term(URIRef(g))}" for g in stale))
    return store
