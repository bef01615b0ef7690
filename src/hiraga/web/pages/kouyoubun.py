"""/tasks/kouyoubun: 公用文チェック as a page that works without JavaScript. A plain form posts the
text, the rule classes and the sentence-length thresholds; the answer is the same page with the
text marked up (each finding's span in a numbered <mark>) and a table of the findings."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response

from hiraga.errors import HiragaError, InvalidInput
from hiraga.kouyoubun import service
from hiraga.kouyoubun.protocol import MAX_TEXT_CHARS, CheckRequest, CheckResponse, FindingOut
from hiraga.kouyoubun.registry import rule_families
from hiraga.portal import catalogue
from hiraga.web.api.portal import in_thread
from hiraga.web.deps import DbSession
from hiraga.web.pages.rendering import PagePrincipal, PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PAGE_URL = "/tasks/kouyoubun"
TEMPLATE = "portal/kouyoubun.html"
FORM_ERRORS = frozenset({400, 413, 422})
DEFAULT_LONG, DEFAULT_SOFT = 120, 80
# The form is multipart (as its template says): a field is its UTF-8 bytes, not percent-encoded, so
# the longest text the service takes fits (up to 4 bytes a character), with room for a little more
# so that too long a text gets the service's own 413 message.
MAX_FIELD_BYTES = (MAX_TEXT_CHARS + 1000) * 4
SEVERITY_NAMES = {"error": "誤り", "warning": "注意", "info": "提案"}


@dataclass(slots=True)
class Piece:
    """A run of the text covered by the same findings; ``ends``: numbers of findings ending here."""

    text: str
    marked_by: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)


def pieces_of(text: str, findings: list[FindingOut]) -> list[Piece]:
    """Cut the text at every finding's start and end, so overlapping findings can all be shown."""
    cuts = sorted({0, len(text), *(f.start for f in findings), *(f.end for f in findings)})
    where = {offset: index for index, offset in enumerate(cuts)}
    pieces = [Piece(text[start:end]) for start, end in itertools.pairwise(cuts)]
    leading = Piece("")  # findings of no length at the very start
    for number, finding in enumerate(findings, 1):
        first, last = where[finding.start], where[finding.end]
        for piece in pieces[first:last]:
            piece.marked_by.append(number)
        (pieces[last - 1] if last > 0 else leading).ends.append(number)
    return [leading, *pieces] if leading.ends else pieces


def whole_number(form: dict[str, Any], name: str, default: int) -> int:
    value = str(form.get(name) or "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        raise ValueError(name) from None


def form_request(form: dict[str, Any], families: list[str]) -> CheckRequest:
    """The form's fields as the API's request; bad numbers are a Japanese input error."""
    try:
        return CheckRequest(
            text=str(form.get("text", "")),
            long_sentence_chars=whole_number(form, "long_sentence_chars", DEFAULT_LONG),
            soft_sentence_chars=whole_number(form, "soft_sentence_chars", DEFAULT_SOFT),
            families=families,
        )
    except (ValidationError, ValueError) as error:
        problems = error.errors() if isinstance(error, ValidationError) else []
        fields = sorted({str(e["loc"][0]) for e in problems if e.get("loc")})
        raise InvalidInput(
            "文の長さの目安は 20 字から 2,000 字までの整数で指定してください。",
            code="invalid_threshold",
            detail={"field": fields[0] if fields else "long_sentence_chars"},
        ) from None


def page_context(values: dict[str, Any], chosen: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "families": rule_families(),
        "chosen": chosen,
        "values": values,
        "max_chars": MAX_TEXT_CHARS,
        "severity_names": SEVERITY_NAMES,
        **extra,
    }


def result_context(text: str, response: CheckResponse) -> dict[str, Any]:
    return {"result": response, "pieces": pieces_of(text, response.findings)}


@router.get(PAGE_URL)
async def kouyoubun_page(request: Request, principal: PagePrincipal) -> Response:
    values = {"long_sentence_chars": DEFAULT_LONG, "soft_sentence_chars": DEFAULT_SOFT}
    return render(request, TEMPLATE, page_context(values, list(rule_families())))


@router.post(PAGE_URL)
async def check_page(request: Request, db: DbSession, principal: PagePrincipal) -> Response:
    form = await request.form(max_part_size=MAX_FIELD_BYTES)
    values = {k: v for k, v in form.items() if k != "csrf_token" and isinstance(v, str)}
    chosen = [f for f in form.getlist("families") if isinstance(f, str)]
    await in_thread(db, lambda: None)  # no read transaction held while the rules run
    try:
        if not chosen:
            raise InvalidInput("規則の種類を一つ以上選んでください。", code="no_families", detail={"field": "families"})
        check_request = form_request(values, chosen)
        response = await service.run_check(check_request)
    except HiragaError as error:
        if error.status not in FORM_ERRORS:
            raise
        return render(request, TEMPLATE, page_context(values, chosen, error=error), status=error.status)
    await in_thread(db, lambda: catalogue.record_use(db, principal.user_id, PAGE_URL))
    context = page_context(values, chosen, **result_context(check_request.text, response))
    return render(request, TEMPLATE, context)
