"""JSON REST API under /api/v1: thin routers over the identity services; every read and write is
scoped by the caller's ``AccessScope`` inside the services, never in the routes."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from hiraga.web.api import (
        apps,
        audit,
        evaluation,
        feedback_datasets,
        kb,
        kouyoubun,
        limits,
        mcp,
        me,
        models,
        organisations,
        portal,
        portal_apps,
        teams,
        usage,
        users,
    )

    return [
        portal.router,
        portal_apps.router,
        organisations.router,
        teams.router,
        users.router,
        me.router,
        limits.router,
        usage.router,
        models.router,
        apps.router,
        apps.provided,
        kouyoubun.router,
        mcp.router,
        audit.router,
        kb.router,
        feedback_datasets.router,
        evaluation.router,
    ]
