"""Home: the apps the user may use, the teams they belong to, the model story, and for system
admins the first-run steps still open (also on /welcome, where setup lands)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from hiraga.identity import directory
from hiraga.portal.first_run import builtin_model, has_real_model, next_steps
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
    steps = next_steps(db, scope) if scope.principal.is_system_admin else []
    context: dict[str, Any] = {"teams": teams, "roles": roles, "apps": apps, "notice": notice, "steps": steps}
    context |= {"builtin": builtin_model(), "real_model": has_real_model(db)}
    return render(request, "home.html", context)


@router.get("/welcome")
def welcome(request: Request, db: DbSession, scope: PageScope, notice: str = "") -> Response:
    """The first-run checklist (team, real model, knowledge base), each step with its page."""
    steps = next_steps(db, scope) if scope.principal.is_system_admin else []
    return render(request, "welcome.html", {"steps": steps, "builtin": builtin_model(), "notice": notice})
