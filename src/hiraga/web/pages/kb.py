"""Knowledge-base pages: the list (and creation by team admins), a knowledge base with its documents
and the progress of their ingestion jobs (HTMX polls while a job is open; without JavaScript the
page's refresh link shows the same), upload, search, and the RAG チャット page: the answer as
sanitised Markdown whose [n] markers link to the 根拠 panel of cited passages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from hiraga.bounds import RowId
from hiraga.errors import HiragaError, InvalidInput
from hiraga.knowledge import answering, service
from hiraga.knowledge.reranking import candidate_count
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import KnowledgeBase
from hiraga.web.api import kb as api
from hiraga.web.api.portal import gateway_of, in_thread
from hiraga.web.deps import DbSession, app_context
from hiraga.web.pages.apps import _admin_teams as admin_teams
from hiraga.web.pages.rendering import FORM_ERROR_STATUSES, PageRoute, PageScope, is_htmx, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
SEARCH_HITS = 10


def _may_manage(scope: AccessScope, kb: KnowledgeBase) -> bool:
    p = scope.principal
    return p.is_system_admin or (kb.team_id is not None and kb.team_id in p.admin_team_ids)


def _list_context(db: Session, scope: AccessScope) -> dict[str, Any]:
    return {"knowledge_bases": service.list_knowledge_bases(db, scope), "teams": admin_teams(db, scope)}


@router.get("/kb")
def kb_list(request: Request, db: DbSession, scope: PageScope, notice: str = "") -> Response:
    return render(request, "kb/list.html", {**_list_context(db, scope), "notice": notice, "values": {}})


@router.post("/kb")
async def kb_create(request: Request, db: DbSession, scope: PageScope) -> Response:
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in ("name", "team_id", "classification", "description")}
    try:
        if not values["team_id"].isdigit() or not values["classification"].isdigit():
            raise InvalidInput("チームと機密性区分を選んでください。", detail={"field": "team_id"})
        created = service.create_knowledge_base(
            db,
            scope,
            name=values["name"],
            team_id=int(values["team_id"]),
            classification=int(values["classification"]),
            description=values["description"],
        )
        db.commit()
    except HiragaError as error:
        if error.status not in FORM_ERROR_STATUSES:
            raise
        db.rollback()
        context = {**_list_context(db, scope), "values": values, "error": error}
        return render(request, "kb/list.html", context, status=error.status)
    return redirect(request, f"/kb/{created.id}?notice=created")


def _detail_context(request: Request, db: Session, scope: AccessScope, kb: KnowledgeBase) -> dict[str, Any]:
    documents = api.documents_with_jobs(db, scope, kb)
    working = any(d.job is not None and d.job.state in ("queued", "running") for d in documents)
    manage = _may_manage(scope, kb)
    rerankers = service.reranker_choices(db, kb) if manage else []
    return {"kb": kb, "documents": documents, "working": working, "may_manage": manage, "rerankers": rerankers}


@router.get("/kb/{kb_id}")
def kb_detail(request: Request, kb_id: RowId, db: DbSession, scope: PageScope, notice: str = "") -> Response:
    kb = api.readable(request, db, scope, kb_id)
    return render(request, "kb/detail.html", {**_detail_context(request, db, scope, kb), "notice": notice})


@router.get("/kb/{kb_id}/documents")
def kb_documents(request: Request, kb_id: RowId, db: DbSession, scope: PageScope) -> Response:
    """The documents table alone (HTMX polls it while an ingestion job is open)."""
    kb = api.readable(request, db, scope, kb_id)
    return render(request, "kb/_documents.html", _detail_context(request, db, scope, kb))


@router.post("/kb/{kb_id}/documents")
async def kb_upload(request: Request, kb_id: RowId, db: DbSession, scope: PageScope) -> Response:
    kb = await in_thread(db, lambda: api.readable(request, db, scope, kb_id))
    service.require_manage(scope, kb)
    try:
        files, tags = await api.read_uploads(request)
        result = await in_thread(db, lambda: api.submit_files(db, scope, kb, files, tags))
    except HiragaError as error:
        if error.status not in {*FORM_ERROR_STATUSES, 413, 422}:
            raise
        db.rollback()
        context = {**_detail_context(request, db, scope, kb), "error": error}
        return render(request, "kb/detail.html", context, status=error.status)
    api.knowledge(request).wake()
    notice = "uploaded_with_refusals" if result.refused else "uploaded"
    return redirect(request, f"/kb/{kb_id}?notice={notice}")


@router.post("/kb/{kb_id}/documents/{document_id}/delete")
def kb_delete_document(request: Request, kb_id: RowId, document_id: RowId, db: DbSession, scope: PageScope) -> Response:
    service.delete_document(db, scope, api.readable(request, db, scope, kb_id), document_id)
    return redirect(request, f"/kb/{kb_id}?notice=document_deleted")


@router.post("/kb/{kb_id}/settings")
async def kb_settings(request: Request, kb_id: RowId, db: DbSession, scope: PageScope) -> Response:
    form = await request.form()
    kb = await in_thread(db, lambda: api.readable(request, db, scope, kb_id))
    try:
        await in_thread(db, lambda: service.set_reranker(db, scope, kb, str(form.get("reranker_model") or "")))
    except InvalidInput as error:
        db.rollback()
        context = {**_detail_context(request, db, scope, kb), "error": error}
        return render(request, "kb/detail.html", context, status=error.status)
    return redirect(request, f"/kb/{kb_id}?notice=settings_saved")


@router.post("/kb/{kb_id}/delete")
def kb_delete(request: Request, kb_id: RowId, db: DbSession, scope: PageScope) -> Response:
    kb = api.readable(request, db, scope, kb_id)
    service.delete_knowledge_base(db, scope, kb, api.knowledge(request).runtime())
    return redirect(request, "/kb?notice=deleted")


@router.get("/kb/{kb_id}/search")
async def kb_search(request: Request, kb_id: RowId, db: DbSession, scope: PageScope, q: str = "") -> Response:
    kb = await in_thread(db, lambda: api.readable(request, db, scope, kb_id))
    context: dict[str, Any] = {"kb": kb, "query": q, "hits": None, "notices": []}
    if q.strip():
        runtime = api.knowledge(request).runtime()
        pool = candidate_count(kb.reranker_model, SEARCH_HITS)
        try:
            hits = await in_thread(db, lambda: service.search(db, scope, kb, runtime, q, top_k=pool))
        except InvalidInput as error:
            return render(request, "kb/search.html", {**context, "error": error}, status=error.status)
        hits, reranking = await api.reranked_hits(request, scope, kb, q, hits, SEARCH_HITS)
        context.update(hits=hits, notices=reranking.notices, reranked_by=reranking.model)
    return render(request, "kb/search.html", context)


@router.get("/kb/{kb_id}/ask")
def kb_ask_page(request: Request, kb_id: RowId, db: DbSession, scope: PageScope) -> Response:
    kb = api.readable(request, db, scope, kb_id)
    return render(request, "kb/ask.html", {"kb": kb, "question": "", "answer": None, "expand_query": False})


@router.post("/kb/{kb_id}/ask")
async def kb_ask(request: Request, kb_id: RowId, db: DbSession, scope: PageScope) -> Response:
    form = await request.form()
    question = str(form.get("question") or "")
    options = answering.AskOptions(classification=app_context(request).settings.default_classification)
    runtime = api.knowledge(request).runtime()
    kb = await in_thread(db, lambda: api.readable(request, db, scope, kb_id))
    template = "kb/_answer.html" if is_htmx(request) else "kb/ask.html"
    expand = bool(form.get("expand_query"))
    context: dict[str, Any] = {"kb": kb, "question": question, "answer": None, "expand_query": expand}
    try:
        expansion = await api.expanded(request, scope, kb, question, options) if expand else None
        retrieval = await in_thread(
            db, lambda: answering.retrieve(db, scope, kb, runtime, question, options, expansion)
        )
        gateway = gateway_of(app_context(request))
        retrieval = await answering.reranked(gateway, scope.principal, retrieval, options)
        result = await answering.answer(gateway, scope.principal, retrieval, options)
    except HiragaError as error:
        if error.status >= 500 or error.status in (401,):
            raise
        return render(request, template, {**context, "error": error}, status=error.status)
    return render(request, template, {**context, "answer": result, "html": api.answer_html(result)})
