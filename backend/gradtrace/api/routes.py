"""The HTTP endpoints: one small function each, no derivatives here."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1")


@router.get("/health", summary="Say whether the service is up")
def get_health() -> dict[str, str]:
    """Answer {"status": "ok"} while the service can take requests."""
    return {"status": "ok"}
