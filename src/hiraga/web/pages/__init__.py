"""Server-rendered pages (Jinja2 + HTMX): setup, login, home, account and administration."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from hiraga.web.pages import (
        account,
        admin,
        admin_models,
        admin_teams,
        apps,
        audit,
        auth,
        builder,
        chat,
        dashboards,
        home,
        kb,
        kouyoubun,
        mcp,
        setup,
        task_apps,
    )

    return [
        auth.router,
        setup.router,
        home.router,
        account.router,
        admin.router,
        admin_teams.router,
        admin_models.router,
        chat.router,
        mcp.router,
        kouyoubun.router,  # before task_apps: /tasks/kouyoubun is not an app of the extension point
        task_apps.router,
        builder.router,
        audit.router,
        dashboards.router,
        apps.router,
        kb.router,
    ]
