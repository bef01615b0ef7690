"""Server-rendered pages (Jinja2 + HTMX)."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    return []
