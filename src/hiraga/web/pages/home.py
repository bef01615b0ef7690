"""Home: the apps the user may use, and the teams they belong to."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from hiraga.identity import directory
from hiraga.web.deps import DbSession, app_context
from hiraga.web.pages.rendering import PageRoute, PageScope, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

CATALOGUE_KEY = "app_catalogue"  # a feature may register ``(db, scope) -> list`` under this key


@router.get("/")
def home(request: Request, db: DbSession, scope: PageScope, notice: str = "") -> Response:
    roles = scope.principal.team_roles
    teams = [t for t in directory.list_teams(db, scope) if t.id in roles]
    catalogue = app_context(request).extras.get(CATALOGUE_KEY)
    apps: list[Any] = list(catalogue(db, scope)) if callable(catalogue) else []
    return render(request, "home.html", {"teams": teams, "roles": roles, "apps": apps, "notice": notice})
