"""Who may write: a configured bearer token (RFC 6750), and a store that could be opened for writing."""

from __future__ import annotations

import hmac

from fastapi import Request

from sparql_api.errors import Forbidden, StoreReadOnly, Unauthorized
from sparql_api.settings import Settings
from store.protocol import KnowledgeStore


def writes_enabled(settings: Settings) -> bool:
    """Whether a write token is configured (an empty one counts as none)."""
    return settings.write_token is not None and bool(settings.write_token.get_secret_value())


def read_only_reason(settings: Settings, store: KnowledgeStore) -> str | None:
    """Why the service refuses writes (no write token, or a store it could open only read-only), else None."""
    if not writes_enabled(settings):
        return "no write token is configured"
    return store.read_only_reason


def require_writer(request: Request, settings: Settings, store: KnowledgeStore) -> None:
    """Let a write through only with the configured bearer token; read-only without one, and 503 when
    the store could be opened only read-only."""
    token = settings.write_token
    if token is None or not writes_enabled(settings):
        raise Forbidden("this service is read-only: no write token is configured")
    scheme, _, credentials = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise Unauthorized("writing needs an 'Authorization: Bearer <token>' header")
    if not hmac.compare_digest(credentials.strip().encode(), token.get_secret_value().encode()):
        raise Unauthorized("the bearer token is not valid", invalid=True)
    reason = read_only_reason(settings, store)
    if reason:
        raise StoreReadOnly(f"the store is open read-only: {reason}; writes are refused until the service "
                            "is restarted on a writable store")
