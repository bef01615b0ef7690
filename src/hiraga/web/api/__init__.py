"""JSON REST API under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    return []
