"""/api/v1/kb: knowledge bases (list, create, get, delete), documents (multipart upload queued as
ingestion jobs, list with job progress, delete), search and answers with checked citations
(JSON, or SSE with ``"stream": true``). Scoping is the knowledge service's: team members read,
search and ask; team admins manage. A knowledge base the caller may not read answers 404 and the
attempt is audited. The helpers at the top are shared with the pages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.types import Receive, Scope, Send

from hiraga.apps.events import event_row, record_event
from hiraga.bounds import RowId
from hiraga.errors import HiragaError, InvalidInput, NotFound
from hiraga.gateway.service import ClientGone, Gateway
from hiraga.identity.principal import Principal
from hiraga.knowledge import answering, service, wiring
from hiraga.knowledge import protocol as wire
from hiraga.knowledge.citations import linked_markers
from hiraga.knowledge.expansion import Expansion, expand_question
from hiraga.knowledge.reranking import Reranking, candidate_count, hit_text, rerank
from hiraga.knowledge.runtime import SearchHit
from hiraga.knowledge.search_calls import SearchCallTarget
from hiraga.portal.markdown import render_markdown
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import KbIngestJob, KnowledgeBase
from hiraga.web.api import schemas
from hiraga.web.api.portal import gateway_of, in_thread, sse
from hiraga.web.deps import DbSession, TeamAdminScope, app_context
from hiraga.web.deps import Scope as CallerScope
from hiraga.web.v1.answers import SSE_HEADERS, until_disconnect

router = APIRouter(prefix="/api/v1/kb", tags=["ナレッジベース"], responses=schemas.ERROR_RESPONSES)
MAX_FILES_PER_UPLOAD = 20


# -- shared with the pages ------------------------------------------------------------------------
def knowledge(request: Request) -> wiring.KnowledgeWiring:
    return wiring.of(app_context(request))


def readable(request: Request, db: Session, scope: AccessScope, kb_id: RowId) -> KnowledgeBase:
    """The knowledge base if the caller may read it; otherwise 404, and the attempt is audited."""
    try:
        return service.get_knowledge_base(db, scope, kb_id)
    except NotFound as error:
        db.rollback()
        row = event_row(scope.principal, "kb_read_refused", error=error, subject=f"kb:{kb_id}")
        record_event(app_context(request).database, {**row, "source": "knowledge"})
        raise


def documents_with_jobs(db: Session, scope: AccessScope, kb: KnowledgeBase) -> list[wire.Document]:
    return [wire.Document.of(document, job) for document, job in service.list_documents(db, scope, kb)]


async def read_uploads(request: Request) -> tuple[list[tuple[str, bytes]], list[str]]:
    """The files (``files``) and comma-separated ``tags`` of a multipart form."""
    form = await request.form()
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if not uploads:
        raise InvalidInput("取り込むファイルを選んでください。", code="no_files", detail={"field": "files"})
    if len(uploads) > MAX_FILES_PER_UPLOAD:
        raise InvalidInput(f"一度に送れるファイルは {MAX_FILES_PER_UPLOAD} 個までです。", detail={"field": "files"})
    files = [(str(f.filename), await f.read()) for f in uploads]
    tags = [t.strip() for t in str(form.get("tags") or "").split(",") if t.strip()]
    return files, tags


def submit_files(
    db: Session, scope: AccessScope, kb: KnowledgeBase, files: list[tuple[str, bytes]], tags: list[str]
) -> wire.UploadResult:
    """Queue each file; one bad file is refused alone. Nothing is kept when every file is refused."""
    service.require_manage(scope, kb)
    result = wire.UploadResult(submitted=[])
    for filename, data in files:
        try:
            with db.begin_nested():
                done = service.submit_document(db, scope, kb, filename=filename, data=data, tags=tags)
        except HiragaError as error:
            if len(files) == 1:
                raise
            result.refused.append(wire.Refused(filename=filename, code=error.code, message=error.message))
            continue
        job = db.get(KbIngestJob, done.job_id) if done.job_id else None
        result.submitted.append(
            wire.Submitted(document=wire.Document.of(done.document, job), outcome=done.outcome, job_id=done.job_id)
        )
    if not result.submitted:
        first = result.refused[0]
        raise InvalidInput(first.message, code=first.code, detail={"refused": [r.model_dump() for r in result.refused]})
    return result


def answer_html(result: answering.RagAnswer) -> str:
    return render_markdown(linked_markers(result.text, [p.number for p in result.cited]))


def ask_options(body: wire.AskRequest) -> answering.AskOptions:
    return answering.AskOptions(
        top_k=body.top_k, model=body.model, classification=body.classification, max_tokens=body.max_tokens
    )


# -- knowledge bases ------------------------------------------------------------------------------
@router.get("", summary="ナレッジベースの一覧（読めるもののみ）")
def list_knowledge_bases(db: DbSession, scope: CallerScope) -> list[wire.KnowledgeBase]:
    return [wire.KnowledgeBase.model_validate(kb) for kb in service.list_knowledge_bases(db, scope)]


@router.post("", status_code=201, summary="ナレッジベースの作成（チーム管理者、組織全体はシステム管理者）")
def create_knowledge_base(body: wire.KnowledgeBaseCreate, db: DbSession, scope: TeamAdminScope) -> wire.KnowledgeBase:
    created = service.create_knowledge_base(
        db,
        scope,
        name=body.name,
        team_id=body.team_id,
        organisation_id=body.organisation_id,
        classification=body.classification,
        description=body.description,
    )
    return wire.KnowledgeBase.model_validate(created)


@router.get("/{kb_id}", summary="ナレッジベースの取得")
def get_knowledge_base(kb_id: RowId, request: Request, db: DbSession, scope: CallerScope) -> wire.KnowledgeBase:
    return wire.KnowledgeBase.model_validate(readable(request, db, scope, kb_id))


@router.patch("/{kb_id}", summary="ナレッジベースの設定（管理者）: 再ランキング用モデル")
def update_knowledge_base(
    kb_id: RowId, body: wire.KnowledgeBaseUpdate, request: Request, db: DbSession, scope: CallerScope
) -> wire.KnowledgeBase:
    kb = service.set_reranker(db, scope, readable(request, db, scope, kb_id), body.reranker_model)
    return wire.KnowledgeBase.model_validate(kb)


@router.delete("/{kb_id}", status_code=204, response_class=Response, summary="ナレッジベースの削除（管理者）")
def delete_knowledge_base(kb_id: RowId, request: Request, db: DbSession, scope: CallerScope) -> None:
    kb = readable(request, db, scope, kb_id)
    service.delete_knowledge_base(db, scope, kb, knowledge(request).runtime())


# -- documents ------------------------------------------------------------------------------------
@router.get("/{kb_id}/documents", summary="文書の一覧と取り込みジョブの進捗")
def list_documents(kb_id: RowId, request: Request, db: DbSession, scope: CallerScope) -> list[wire.Document]:
    return documents_with_jobs(db, scope, readable(request, db, scope, kb_id))


@router.post("/{kb_id}/documents", status_code=202, summary="文書のアップロード（multipart: files, tags）")
async def upload_documents(kb_id: RowId, request: Request, db: DbSession, scope: CallerScope) -> wire.UploadResult:
    kb = await in_thread(db, lambda: readable(request, db, scope, kb_id))
    service.require_manage(scope, kb)  # before the body is read
    files, tags = await read_uploads(request)
    result = await in_thread(db, lambda: submit_files(db, scope, kb, files, tags))
    knowledge(request).wake()
    return result


@router.delete(
    "/{kb_id}/documents/{document_id}", status_code=204, response_class=Response, summary="文書の削除（管理者）"
)
def delete_document(kb_id: RowId, document_id: RowId, request: Request, db: DbSession, scope: CallerScope) -> None:
    service.delete_document(db, scope, readable(request, db, scope, kb_id), document_id)


# -- search and answers ---------------------------------------------------------------------------
@router.post("/{kb_id}/search", summary="ハイブリッド検索（expand_query: モデルによるクエリ拡張）")
async def search(
    kb_id: RowId, body: wire.SearchRequest, request: Request, db: DbSession, scope: CallerScope
) -> wire.SearchResult:
    kb = await in_thread(db, lambda: readable(request, db, scope, kb_id))
    options = answering.AskOptions(model=body.model)
    expansion = await expanded(request, scope, kb, body.query, options) if body.expand_query else Expansion()
    pool = candidate_count(kb.reranker_model, body.top_k)

    def run() -> list[SearchHit]:
        runtime = knowledge(request).runtime()
        return service.search(
            db,
            scope,
            kb,
            runtime,
            body.query,
            top_k=pool,
            tags=body.tags,
            document_names=body.documents,
            expansions=expansion.phrasings,
        )

    hits, reranking = await reranked_hits(request, scope, kb, body.query, await in_thread(db, run), body.top_k)
    return wire.SearchResult(
        hits=[wire.Hit.of(h) for h in hits],
        expansions=expansion.phrasings,
        reranked_by=reranking.model,
        notices=[*expansion.notices, *reranking.notices],
    )


async def reranked_hits(
    request: Request, scope: AccessScope, kb: KnowledgeBase, query: str, hits: list[SearchHit], top_k: int
) -> tuple[list[SearchHit], Reranking]:
    """The first ``top_k`` of ``hits`` (searched for ``candidate_count`` of them) in the order of the
    knowledge base's served reranker, if it names one."""
    if kb.reranker_model is None:
        return hits[:top_k], Reranking()
    target = SearchCallTarget(kb.id, kb.classification, answering.charged_team(kb, scope), kb.reranker_model)
    gateway = gateway_of(app_context(request))
    ordered, reranking = await rerank(gateway, scope.principal, query, hits, hit_text, target)
    return ordered[:top_k], reranking


async def expanded(
    request: Request, scope: AccessScope, kb: KnowledgeBase, question: str, options: answering.AskOptions
) -> Expansion:
    gateway = gateway_of(app_context(request))
    return await expand_question(gateway, scope.principal, question, answering.expansion_target(kb, scope, options))


@router.post("/{kb_id}/ask", summary="資料に基づく回答（引用は検証済み、stream: true で SSE）")
async def ask(kb_id: RowId, body: wire.AskRequest, request: Request, db: DbSession, scope: CallerScope) -> Response:
    options = ask_options(body)
    runtime = knowledge(request).runtime()
    kb = await in_thread(db, lambda: readable(request, db, scope, kb_id))
    expansion = await expanded(request, scope, kb, body.question, options) if body.expand_query else None
    retrieval = await in_thread(
        db, lambda: answering.retrieve(db, scope, kb, runtime, body.question, options, expansion)
    )
    gateway = gateway_of(app_context(request))
    retrieval = await answering.reranked(gateway, scope.principal, retrieval, options)
    if body.stream:
        return AnswerStream(gateway, scope.principal, retrieval, options)
    result = await answering.answer(gateway, scope.principal, retrieval, options)
    return Response(wire.Answer.of(result, answer_html(result)).model_dump_json(), media_type="application/json")


class AnswerStream(Response):
    """SSE: ``passages`` (what was retrieved), ``model``, ``delta`` (text as written), then ``done``
    (the checked answer, which replaces the streamed text) or ``error``."""

    def __init__(
        self, gateway: Gateway, principal: Principal, retrieval: answering.Retrieval, options: answering.AskOptions
    ) -> None:
        super().__init__(media_type="text/event-stream")
        self.gateway, self.principal, self.retrieval, self.options = gateway, principal, retrieval, options

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def emit(event: str, data: Any) -> None:
            try:
                await send({"type": "http.response.body", "body": sse(event, data), "more_body": True})
            except OSError as exc:
                raise ClientGone() from exc

        class Events:
            async def model(self, name: str) -> None:
                await emit("model", {"name": name})

            async def delta(self, text: str) -> None:
                await emit("delta", {"text": text})

        async def work() -> None:
            await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
            passages = [wire.CitedPassage.of(p, False).model_dump() for p in self.retrieval.passages]
            try:
                await emit("passages", {"passages": passages})
                result = await answering.stream_answer(
                    self.gateway, self.principal, self.retrieval, self.options, Events()
                )
                await emit("done", wire.Answer.of(result, answer_html(result)).model_dump(mode="json"))
            except HiragaError as error:
                await emit("error", {"code": error.code, "message": error.message})
            except (ClientGone, OSError):
                return
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        await until_disconnect(receive, work)
