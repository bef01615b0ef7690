"""Pages of the feedback datasets: each user's own items and opt-out (/feedback-data); the team
admin's policy, review queue with highlighted placeholders, bulk approve, export download and the
report for model developers (/feedback-data/review). Thin: every write is a ``feedback_data`` service."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from hiraga.bounds import DbInt, RowId
from hiraga.errors import InvalidInput
from hiraga.feedback_data import export, policy, report, review
from hiraga.feedback_data.scrub import ItemTexts, segments
from hiraga.identity import directory
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import DatasetItem
from hiraga.web.api import feedback_datasets as feedback_api
from hiraga.web.deps import DbSession
from hiraga.web.pages.rendering import (
    PagePrincipal,
    PageRoute,
    PageScope,
    TeamAdminPageScope,
    form_answer,
    local_path,
    redirect,
    render,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
STATUS_LABELS = {"pending": "確認待ち", "approved": "承認済み", "rejected": "却下", "withdrawn": "取り下げ"}
REVIEW = "/feedback-data/review"


def item_view(row: DatasetItem) -> dict[str, Any]:
    content = ItemTexts.from_json(json.loads(row.content))
    return {
        "row": row,
        "texts": content,
        "prompt": [(m["role"], segments(m["content"])) for m in content.prompt],
        "answer": segments(content.answer),
        "corrected": segments(content.corrected),
        "rejected": segments(content.rejected),
        "comment": segments(content.comment),
        "findings": json.loads(row.findings or "{}"),
        "status_label": STATUS_LABELS.get(row.status, row.status),
    }


# -- the user's own -------------------------------------------------------------------------------
@router.get("/feedback-data")
def my_data(request: Request, db: DbSession, principal: PagePrincipal, notice: str = "") -> Response:
    teams = sorted(principal.team_ids)
    context = {
        "opted_out": policy.opted_out(db, principal.user_id),
        "policies": [(t, policy.policy_of(db, t)) for t in teams],
        "team_names": _team_names(db, AccessScope(principal)),
        "items": [item_view(r) for r in review.mine(db, principal)],
        "notice": notice,
    }
    return render(request, "feedback_data/mine.html", context)


@router.post("/feedback-data/opt-out")
def set_opt_out(
    request: Request, db: DbSession, principal: PagePrincipal, opt_out: Annotated[str, Form()] = ""
) -> Response:
    policy.set_opt_out(db, principal, opt_out == "1")
    return redirect(request, "/feedback-data?notice=" + ("opted_out" if opt_out == "1" else "opted_in"))


@router.post("/feedback-data/items/{item_id}/withdraw")
def withdraw(
    request: Request, item_id: RowId, db: DbSession, principal: PagePrincipal, next: Annotated[str, Form()] = ""
) -> Response:
    review.withdraw(db, principal, item_id)
    return _back(request, next, "withdrawn")


def _back(request: Request, next: str | None, notice: str) -> Response:
    """To the page the form came from (on this site only), with a notice."""
    back = local_path(next, "/feedback-data")
    return redirect(request, back + ("&" if "?" in back else "?") + f"notice={notice}")


# -- the team admin's ----------------------------------------------------------------------------
def review_context(
    db: Session, scope: AccessScope, team_id: int | None, status: str, offset: int = 0, **extra: Any
) -> dict[str, Any]:
    names = _team_names(db, scope, admin=True)
    team = team_id if team_id in names else (min(names) if names else None)
    items = review.queue(db, scope, team, status, offset) if team is not None else []
    return {
        "teams": names,
        "team_id": team,
        "status": status,
        "statuses": STATUS_LABELS,
        "policy": policy.policy_of(db, team) if team is not None else None,
        "counts": review.counts(db, scope, team) if team is not None else {},
        "items": [item_view(r) for r in items],
        "offset": offset,
        "next_offset": offset + review.PAGE if len(items) == review.PAGE else None,
        "report": report.report(db, scope, export.ExportFilter(team_id=team)) if team is not None else [],
        **extra,
    }


@router.get(REVIEW)
def review_page(
    request: Request,
    db: DbSession,
    scope: TeamAdminPageScope,
    team_id: RowId | None = None,
    status: str = "pending",
    notice: str = "",
    offset: DbInt = 0,
) -> Response:
    if status not in STATUS_LABELS:
        status = "pending"
    context = review_context(db, scope, team_id, status, max(0, offset), notice=notice)
    return render(request, "feedback_data/review.html", context, headers={"Cache-Control": "no-store"})


@router.post("/feedback-data/teams/{team_id}/policy")
def set_policy(
    request: Request,
    team_id: RowId,
    db: DbSession,
    scope: TeamAdminPageScope,
    training_use: Annotated[str, Form()] = "",
    max_classification: Annotated[int, Form()] = 1,
    licence: Annotated[str, Form()] = "",
) -> Response:
    return form_answer(
        request,
        db,
        lambda: policy.set_policy(db, scope, team_id, training_use == "1", max_classification, licence),
        success=lambda: redirect(request, f"{REVIEW}?team_id={team_id}&notice=policy_saved"),
        template="feedback_data/review.html",
        context=lambda: review_context(db, scope, team_id, "pending"),
    )


@router.post("/feedback-data/items/{item_id}/review")
async def review_item(request: Request, item_id: RowId, db: DbSession, scope: TeamAdminPageScope) -> Response:
    form = await request.form()
    decision = str(form.get("decision", ""))

    def act() -> DatasetItem:
        if decision == "edit":
            return review.edit_and_approve(db, scope, item_id, _edited(form))
        return review.decide(db, scope, item_id, decision)

    def done() -> Response:
        return redirect(request, f"{REVIEW}?team_id={row.team_id}&notice=reviewed")

    row = review.reviewable(db, scope, item_id)
    return form_answer(
        request,
        db,
        act,
        success=done,
        template="feedback_data/review.html",
        context=lambda: review_context(db, scope, row.team_id, "pending"),
    )


def _edited(form: Any) -> ItemTexts:
    prompt = []
    for index in range(200):
        role, content = form.get(f"prompt_role_{index}"), form.get(f"prompt_{index}")
        if role is None or content is None:
            break
        if role not in ("system", "user", "assistant"):
            raise InvalidInput("役割の指定が正しくありません。", detail={"field": f"prompt_role_{index}"})
        prompt.append({"role": str(role), "content": str(content)})
    fields = {k: str(form.get(k, "")) for k in ("answer", "corrected", "rejected", "comment")}
    return ItemTexts(prompt=prompt, **fields)


@router.post("/feedback-data/teams/{team_id}/bulk-approve")
def bulk_approve(request: Request, team_id: RowId, db: DbSession, scope: TeamAdminPageScope) -> Response:
    approved = review.bulk_approve(db, scope, team_id)
    return redirect(request, f"{REVIEW}?team_id={team_id}&notice=bulk_approved&approved={approved}")


@router.get("/feedback-data/export")
def download(
    request: Request,
    db: DbSession,
    scope: PageScope,
    team_id: RowId | None = None,
    model: str = "",
    task: str = "",
    since: str = "",
    until: str = "",
) -> Response:
    filters = export.ExportFilter(
        team_id, model or None, task or None, export.day(since, "since"), export.day(until, "until", end=True)
    )
    return feedback_api.download(request, db, scope, filters)


def _team_names(db: Session, scope: AccessScope, admin: bool = False) -> dict[int, str]:
    wanted = scope.principal.admin_team_ids if admin else scope.principal.team_ids
    teams = directory.list_teams(db, scope)
    return {t.id: t.name for t in teams if (scope.principal.is_system_admin and admin) or t.id in wanted}
