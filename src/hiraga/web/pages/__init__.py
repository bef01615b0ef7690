"""Server-rendered pages (Jinja2 + HTMX): setup, login, home, account and administration."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from hiraga.web.pages import (
        account,
        admin,
        admin_connect,
        admin_mcp,
        admin_models,
        admin_sso,
        admin_teams,
        apps,
        audit,
        auth,
        builder,
        chat,
        dashboards,
        evaluation,
        feedback_data,
        home,
        kb,
        kouyoubun,
        mcp,
        setup,
        sso,
        task_apps,
        task_runs,
    )

    return [
        auth.router,
        sso.router,
        setup.router,
        home.router,
        account.router,
        admin.router,
        admin_teams.router,
        admin_connect.router,
        admin_models.router,
        admin_mcp.router,
        admin_sso.router,
        chat.router,
        mcp.router,
        kouyoubun.router,  # before task_apps: /tasks/kouyoubun is not an app of the extension point
        task_apps.router,
        task_runs.router,
        builder.router,
        audit.router,
        dashboards.router,
        apps.router,
        kb.router,
        feedback_data.router,
        evaluation.router,
    ]
