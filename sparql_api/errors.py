"""Errors as values: one exception base class with the RFC 9457 problem each error becomes (status, title,
type), and nothing of the web framework, so the query workers import it without FastAPI.
``sparql_api.problems`` writes them as ``application/problem+json``.

https://www.rfc-editor.org/rfc/rfc9457
"""

from __future__ import annotations

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://w3id.org/uk-kim/problems#"


class KimError(Exception):
    """Base class: subclasses set ``status`` and ``title``; the message is the detail."""

    status = 500
    title = "Internal error"
    slug: str | None = None

    def __init__(self, detail: str = "", *, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.slug if self.slug else "about:blank"


class BadRequest(KimError):
    status, title = 400, "Bad request"


class InvalidQuery(BadRequest):
    """The SPARQL text does not parse; the detail gives line:column."""

    title, slug = "Invalid SPARQL", "invalid-sparql"


class InvalidRdf(BadRequest):
    title, slug = "Invalid RDF payload", "invalid-rdf"


class RdfNestingTooDeep(InvalidRdf):
    """An RDF payload nests deeper than the limit: refused before any parser spends time on it."""

    title, slug = "RDF payload nested too deep", "rdf-nesting-too-deep"


class FederationRefused(BadRequest):
    """SERVICE and LOAD would make this server fetch URLs chosen by the caller."""

    title, slug = "Remote access refused", "federation-refused"


class Unauthorized(KimError):
    status, title = 401, "Unauthorized"

    def __init__(self, detail: str = "", *, invalid: bool = False):
        challenge = 'Bearer realm="kimgraph"' + (', error="invalid_token"' if invalid else "")
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class Forbidden(KimError):
    status, title = 403, "Forbidden"


class ResourceNotFound(KimError):
    status, title = 404, "Resource not found"


class NotAcceptable(KimError):
    status, title = 406, "Not acceptable"


class PayloadTooLarge(KimError):
    status, title, slug = 413, "Content too large", "content-too-large"


class UriTooLong(KimError):
    status, title, slug = 414, "URI too long", "uri-too-long"


class UnsupportedMediaType(KimError):
    status, title = 415, "Unsupported media type"


class ResultTooLarge(KimError):
    """More rows or triples than ``max_result_rows``: a clear refusal rather than a silent cut."""

    status, title, slug = 422, "Result too large", "result-too-large"


class QueryTimeout(KimError):
    status, title, slug = 503, "Query timeout", "query-timeout"

    def __init__(self, detail: str = "", *, retry_after: int = 1):
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class UpdateTimeout(KimError):
    """A SPARQL update ran past its time limit and was stopped; nothing was changed."""

    status, title, slug = 503, "Update timeout", "update-timeout"

    def __init__(self, detail: str = "", *, retry_after: int = 1):
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class ServiceBusy(KimError):
    status, title, slug = 503, "Service busy", "service-busy"

    def __init__(self, detail: str = "", *, retry_after: int = 1):
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class StoreReadOnly(KimError):
    """Writes are configured, but the store could be opened only read-only (locked by another writer, or
    not writable): a condition of the server, not of the request, lasting until it is restarted."""

    status, title, slug = 503, "Store read-only", "store-read-only"


class NotReady(KimError):
    """The readiness check failed: the store does not answer, or no query worker is alive."""

    status, title, slug = 503, "Not ready", "not-ready"

    def __init__(self, detail: str = "", *, retry_after: int = 5):
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


ERRORS_BY_NAME: dict[str, type[KimError]] = {
    cls.__name__: cls
    for cls in (KimError, BadRequest, InvalidQuery, InvalidRdf, FederationRefused, NotAcceptable,
                PayloadTooLarge, ResultTooLarge, QueryTimeout, ServiceBusy)
}
