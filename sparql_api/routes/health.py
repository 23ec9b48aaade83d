"""GET /health: the service is up and its store answers."""

from __future__ import annotations

from fastapi import APIRouter, Request

router = APIRouter(tags=["Operations"])


@router.api_route("/health", methods=["GET", "HEAD"], summary="Liveness, with the number of triples in the store")
def health(request: Request) -> dict:
    """``{"status": "ok", "triples": N}`` while the store answers."""
    return {"status": "ok", "triples": len(request.app.state.store)}
