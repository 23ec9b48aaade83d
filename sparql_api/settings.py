"""Settings, read once from ``KIM_*`` environment variables (or passed in by tests)."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingest.namespaces import DEFAULT_BASE


class Settings(BaseSettings):
    """Everything configurable about KIM Graph, in one object."""

    model_config = SettingsConfigDict(env_prefix="KIM_", extra="ignore")

    base_iri: str = DEFAULT_BASE
    """Base of every instance IRI; resources are ``{base_iri}id/...``, named graphs ``{base_iri}graph/...``."""

    store: Path = Path("var/store")
    """Path of the embedded Oxigraph store (a link to the current build)."""

    write_token: SecretStr | None = None
    """Bearer token that authorises writes; with none configured the service is read-only."""

    query_timeout: float = 5.0
    """Seconds a SPARQL query may run before it is stopped."""

    max_query_length: int = 100_000
    """Longest SPARQL query or update text accepted, in characters."""

    max_body_bytes: int = 10 * 1024 * 1024
    """Largest request body accepted, in bytes."""

    max_result_rows: int = 100_000
    """Most solutions or triples a query may return."""

    workers: int = 2
    """Query worker processes (each can be stopped when a query overruns)."""

    host: str = "127.0.0.1"
    port: int = 8000

    @field_validator("base_iri")
    @classmethod
    def _base_ends_with_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_iri must be an http(s) IRI")
        return value if value.endswith("/") else value + "/"
