"""Settings, read once from ``KIM_*`` environment variables (or passed in by tests)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kimdata.namespaces import DEFAULT_BASE


class Settings(BaseSettings):
    """Everything configurable about KIM Graph, in one object."""

    model_config = SettingsConfigDict(env_prefix="KIM_", extra="ignore")

    base_iri: str = DEFAULT_BASE
    """Base of every instance IRI; resources are ``{base_iri}id/...``, named graphs ``{base_iri}graph/...``."""

    store: Path = Path("var/store")
    """Path of the embedded Oxigraph store (a link to the current build)."""

    store_url: str | None = None
    """Query URL of a remote SPARQL 1.1 store (``KIM_STORE_URL``); when set, it replaces the embedded store.

    Every read and write goes to it over the SPARQL 1.1 Protocol and Graph Store Protocol, so API replicas
    hold no data. Oxigraph server: ``http://host:7878/query``; Fuseki: ``http://host:3030/ds/query``;
    GraphDB: ``http://host:7200/repositories/kim``. Credentials may be given in the URL.
    """

    store_update_url: str | None = None
    """SPARQL Update URL of the remote store; by default the query URL with its last path segment ``query``
    replaced by ``update`` (Oxigraph ``/update``, Fuseki ``/ds/update``), else the query URL itself."""

    store_gsp_url: str | None = None
    """Graph Store Protocol URL of the remote store; by default the query URL with ``query`` replaced by
    ``store`` (Oxigraph ``/store``). Fuseki: ``/ds/data``; GraphDB: ``/repositories/kim/rdf-graphs/service``.
    For a query URL not ending in ``query`` there is none unless set, and whole graphs are read with
    CONSTRUCT and written with SPARQL Update."""

    store_union_param: str = ""
    """``name`` or ``name=value`` sent with a query whose default graph must be the union of the named
    graphs. Empty (the default) where the service keeps the store's default graph as the merge of the named
    graphs, as it does on every store it writes (see store.merge); set it only for a store written by other
    means whose default graph is not that merge."""

    write_token: SecretStr | None = None
    """Bearer token that authorises writes; with none configured the service is read-only."""

    query_timeout: float = 5.0
    """Seconds a SPARQL query may run before it is stopped."""

    update_timeout: float = 30.0
    """Seconds a SPARQL update with a WHERE clause may run before it is stopped, changing nothing."""

    max_query_length: int = 100_000
    """Longest SPARQL query or update text accepted, in characters."""

    max_body_bytes: int = 10 * 1024 * 1024
    """Largest request body accepted, in bytes."""

    max_result_rows: int = 100_000
    """Most solutions or triples a query may return."""

    workers: int = 1
    """Query worker processes (each can be stopped when a query overruns)."""

    worker_threads: int = 4
    """Queries each worker process runs at once (``KIM_WORKER_THREADS``); they share its store's caches."""

    worker_memory_mb: float = 32.0
    """Memory, in MB, that a query worker may gain over what it held when it started (``KIM_WORKER_MEMORY_MB``;
    0: no limit): past it, the worker is replaced by a fresh one once its long queries have ended and it has
    been idle a second, so what a burst of large queries left behind goes back to the system."""

    answer_cache_mb: float = 16.0
    """Memory, in MB, for answers of SPARQL queries kept until the next write (``KIM_ANSWER_CACHE_MB``; 0: none):
    an identical query over the same data is answered without running it again (sparql_api.answer_cache).
    Only for the embedded store on disk, which nothing else writes. The process holds up to about twice this
    once entries of different sizes have replaced each other (Python's allocator keeps the freed pages)."""

    prepare: bool = True
    """Prepare the answers of ``/id/...`` ahead in a child process (sparql_api.prepared), so a GET is a read."""

    host: str = "127.0.0.1"
    port: int = 8000

    public_url: str | None = None
    """The address clients reach the service at (``KIM_PUBLIC_URL``), for example ``https://kim.example.org/``:
    the only source of the absolute URLs the service writes (JSON-LD ``@context``, VoID, DCAT, Hydra links,
    ``Link`` and ``Content-Location`` headers, pages). Default: ``http://HOST:PORT/``, what ``serve`` binds to.
    The request's ``Host`` header is never used to make a URL."""

    allowed_hosts: str = ""
    """Comma-separated host names a request may address (``KIM_ALLOWED_HOSTS``; ``*.example.org`` for
    sub-domains); any other ``Host`` is refused with 400. Default: the public URL's host, the bound host, and
    ``127.0.0.1``, ``localhost`` and ``testserver``."""

    @property
    def public_root(self) -> str:
        """The public address ending with a slash.

        >>> Settings(host="0.0.0.0", port=9000).public_root
        'http://0.0.0.0:9000/'
        >>> Settings(public_url="https://kim.example.org/data").public_root
        'https://kim.example.org/data/'
        """
        url = self.public_url or f"http://{self.host}:{self.port}"
        return url if url.endswith("/") else url + "/"

    def trusted_hosts(self) -> list[str]:
        """The host names requests may address (``allowed_hosts``, or the defaults it describes).

        >>> Settings(public_url="https://kim.example.org/").trusted_hosts()
        ['kim.example.org', '127.0.0.1', 'localhost', 'testserver']
        >>> Settings(allowed_hosts="a.example, *.b.example").trusted_hosts()
        ['a.example', '*.b.example']
        """
        listed = [name.strip() for name in self.allowed_hosts.split(",") if name.strip()]
        if listed:
            return listed
        names = [urlsplit(self.public_root).hostname or "", self.host, "127.0.0.1", "localhost", "testserver"]
        return [name for i, name in enumerate(names) if name and name not in names[:i]]

    @field_validator("store_url", "store_update_url", "store_gsp_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None  # KIM_STORE_URL= (empty) means the embedded store
        if not value.strip().startswith(("http://", "https://")):
            raise ValueError("a remote store URL must be an http(s) URL")
        return value.strip()

    @field_validator("public_url")
    @classmethod
    def _public_http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("KIM_PUBLIC_URL must be an http(s) URL with a host and no query or fragment")
        return value.strip()

    @field_validator("base_iri")
    @classmethod
    def _base_ends_with_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_iri must be an http(s) IRI")
        return value if value.endswith("/") else value + "/"
