"""Knowledge bases, framework-free: create/list/delete, submit and delete documents, search.

Visibility is decided by ``AccessScope`` only: members of the owning team (or, for an
organisation-wide knowledge base, members of any team of that organisation) read and search;
team admins of the owning team (system admins for organisation-wide ones) manage. A knowledge
base the caller may not read looks exactly like a missing one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from sqlalchemy import ColumnElement, Select, delete, func, literal, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hiraga.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from hiraga.knowledge import staging
from hiraga.knowledge.index.base import ChunkFilter
from hiraga.knowledge.runtime import KnowledgeRuntime, SearchHit
from hiraga.names import check_characters
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import KbChunk, KbDocument, KbIngestJob, KnowledgeBase, ModelEndpoint, Team
from hiraga.store.tables.base import utcnow
from hiraga.store.tables.knowledge import DocumentStatus, JobState

MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class Submission:
    document: KbDocument
    outcome: str  # "queued" | "duplicate" (same content already stored) | "unchanged"
    job_id: int | None = None


# -- visibility ------------------------------------------------------------------------------------
def _readable(scope: AccessScope) -> ColumnElement[bool]:
    p = scope.principal
    if p.is_system_admin or p.is_auditor:
        return true()
    my_orgs = select(Team.organisation_id).where(scope.team_filter(Team.id))
    org_wide = KnowledgeBase.team_id.is_(None) & KnowledgeBase.organisation_id.in_(my_orgs)
    return or_(scope.team_filter(KnowledgeBase.team_id), org_wide)


def require_manage(scope: AccessScope, kb: KnowledgeBase) -> None:
    if kb.team_id is None:
        scope.require_system_admin()
    else:
        scope.require_team_admin(kb.team_id)


def _clean_name(name: str) -> str:
    cleaned = check_characters(" ".join(name.split()))
    if not cleaned or len(cleaned) > MAX_NAME:
        raise InvalidInput(f"名前は 1〜{MAX_NAME} 文字で指定してください。", detail={"field": "name"})
    return cleaned


# -- knowledge bases -------------------------------------------------------------------------------
def create_knowledge_base(
    db: Session,
    scope: AccessScope,
    *,
    name: str,
    team_id: int | None,
    organisation_id: int | None = None,
    classification: int,
    description: str = "",
) -> KnowledgeBase:
    """A team's knowledge base (team admins), or an organisation-wide one (system admins)."""
    if not 1 <= classification <= 3:
        raise InvalidInput("機密性区分は 1〜3 で指定してください。", detail={"field": "classification"})
    if team_id is not None:
        scope.require_team_admin(team_id)
        team = db.get(Team, team_id)
        if team is None:
            raise NotFound("指定されたチームが見つかりません。")
        organisation_id = team.organisation_id
    else:
        scope.require_system_admin()
        if organisation_id is None:
            raise InvalidInput("チームまたは組織を指定してください。", detail={"field": "team_id"})
    kb = KnowledgeBase(
        organisation_id=organisation_id,
        team_id=team_id,
        name=_clean_name(name),
        description=description[:2000],
        classification=classification,
        generation=0,
        created_by=scope.principal.user_id or None,
    )
    try:
        with db.begin_nested():
            db.add(kb)
    except IntegrityError as exc:
        raise Conflict("この組織には同じ名前のナレッジベースが既にあります。") from exc
    return kb


def _rerank_endpoints() -> Select[ModelEndpoint]:
    """The endpoints a knowledge base may name as its reranker, before clearance: enabled, kind rerank."""
    return select(ModelEndpoint).where(ModelEndpoint.kind == "rerank", ModelEndpoint.enabled.is_(True))


def set_reranker(db: Session, scope: AccessScope, kb: KnowledgeBase, model: str | None) -> KnowledgeBase:
    """Name the served reranker of ``kb`` (``hiraga.knowledge.reranking``), or none. It must be a
    registered, enabled endpoint of kind ``rerank`` cleared for the knowledge base's 機密性."""
    require_manage(scope, kb)
    name = (model or "").strip() or None
    if name is not None:
        endpoint = db.scalar(_rerank_endpoints().where(ModelEndpoint.name == name))
        if endpoint is None:
            raise InvalidInput(
                f"「{name}」は登録済みで有効な再ランキング（rerank）用モデルではありません。",
                code="reranker_not_found",
                detail={"field": "reranker_model"},
            )
        if endpoint.clearance < kb.classification:
            raise InvalidInput(
                f"機密性{kb.classification}のナレッジベースには、クリアランスが{kb.classification}以上の"
                f"モデルしか使えません（「{name}」は{endpoint.clearance}）。",
                code="reranker_not_cleared",
                detail={"field": "reranker_model"},
            )
    kb.reranker_model = name
    return kb


def reranker_choices(db: Session, kb: KnowledgeBase) -> list[str]:
    """The rerankers ``kb`` may name: enabled endpoints of kind rerank cleared for its 機密性."""
    cleared = _rerank_endpoints().where(ModelEndpoint.clearance >= kb.classification)
    return sorted(endpoint.name for endpoint in db.scalars(cleared))


def list_knowledge_bases(db: Session, scope: AccessScope) -> list[KnowledgeBase]:
    return list(db.scalars(select(KnowledgeBase).where(_readable(scope)).order_by(KnowledgeBase.id)))


def get_knowledge_base(db: Session, scope: AccessScope, kb_id: int) -> KnowledgeBase:
    kb = db.scalar(select(KnowledgeBase).where(KnowledgeBase.id == kb_id, _readable(scope)))
    if kb is None:
        raise NotFound("指定されたナレッジベースが見つかりません。")
    return kb


def find_knowledge_base(db: Session, scope: AccessScope, name_or_id: str) -> KnowledgeBase:
    condition = KnowledgeBase.id == int(name_or_id) if name_or_id.isdigit() else KnowledgeBase.name == name_or_id
    found = list(db.scalars(select(KnowledgeBase).where(condition, _readable(scope))))
    if len(found) != 1:
        raise NotFound(f"ナレッジベース「{name_or_id}」が見つかりません。")
    return found[0]


def delete_knowledge_base(db: Session, scope: AccessScope, kb: KnowledgeBase, runtime: KnowledgeRuntime) -> None:
    require_manage(scope, kb)
    db.execute(delete(KbChunk).where(KbChunk.kb_id == kb.id))
    db.delete(kb)
    db.flush()
    runtime.forget(kb.id)


# -- documents -------------------------------------------------------------------------------------
def submit_document(
    db: Session,
    scope: AccessScope,
    kb: KnowledgeBase,
    *,
    filename: str,
    data: bytes,
    tags: list[str] | None = None,
    url: str | None = None,
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> Submission:
    """Store the file and queue its ingestion. Identical content in this knowledge base is stored
    once; a changed file with a known name replaces the old chunks when its job finishes."""
    require_manage(scope, kb)
    name = _checked_upload(filename, data, max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    existing = db.scalar(select(KbDocument).where(KbDocument.kb_id == kb.id, KbDocument.name == name))
    if existing is not None and existing.content_hash == digest and existing.status is not DocumentStatus.FAILED:
        return Submission(existing, "unchanged")
    twin = db.scalar(
        select(KbDocument).where(
            KbDocument.kb_id == kb.id, KbDocument.content_hash == digest, KbDocument.status != DocumentStatus.FAILED
        )
    )
    if twin is not None and existing is None:
        return Submission(twin, "duplicate")
    document = existing or KbDocument(
        kb_id=kb.id,
        name=name,
        status=DocumentStatus.PENDING,
        content_hash=digest,
        byte_size=len(data),
        created_by=scope.principal.user_id or None,
    )
    if existing is not None and existing.status is DocumentStatus.FAILED:
        existing.status, existing.content_hash = DocumentStatus.PENDING, digest
    document.tags = ",".join(sorted({t.strip() for t in tags or [] if t.strip()}))
    document.url, document.updated_at = url, utcnow()
    document.error_code = document.error_message = None
    db.add(document)
    db.flush()
    return Submission(document, "queued", _queue_ingestion(db, kb, document, data))


def _checked_upload(filename: str, data: bytes, max_bytes: int) -> str:
    """The upload's file name (no folders), or a clear refusal of the name or the size."""
    name = PurePath(filename.replace("\\", "/")).name.strip()
    if not name or len(name) > 500:
        raise InvalidInput("ファイル名が正しくありません。", detail={"field": "filename"})
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"ファイルが大きすぎます（上限 {max_bytes // (1024 * 1024)} MB）。",
            detail={"filename": name, "bytes": len(data), "limit": max_bytes},
        )
    return name


def _queue_ingestion(db: Session, kb: KnowledgeBase, document: KbDocument, data: bytes) -> int:
    """A new ingestion job for ``document``; an unfinished one for an older version is called off."""
    unfinished = KbIngestJob.document_id == document.id, KbIngestJob.state.in_([JobState.QUEUED, JobState.RUNNING])
    staging.discard(db, list(db.scalars(select(KbIngestJob.id).where(*unfinished))))
    db.execute(
        update(KbIngestJob)
        .where(*unfinished)
        .values(state=JobState.FAILED, error_message="新しい版が登録されたため取り消しました。", payload=None)
    )
    job = KbIngestJob(kb_id=kb.id, document_id=document.id, state=JobState.QUEUED, payload=data)
    db.add(job)
    db.flush()
    return job.id


def list_documents(db: Session, scope: AccessScope, kb: KnowledgeBase) -> list[tuple[KbDocument, KbIngestJob | None]]:
    """Each document with its latest ingestion job, read in one statement: a worker publishing
    between two reads could otherwise show a finished job beside a still pending document."""
    get_knowledge_base(db, scope, kb.id)
    latest = (
        select(func.max(KbIngestJob.id).label("job_id"))
        .where(KbIngestJob.kb_id == kb.id)
        .group_by(KbIngestJob.document_id)
        .subquery()
    )
    rows = db.execute(
        select(KbDocument, KbIngestJob)
        .outerjoin(
            KbIngestJob, (KbIngestJob.document_id == KbDocument.id) & KbIngestJob.id.in_(select(latest.c.job_id))
        )
        .where(KbDocument.kb_id == kb.id)
        .order_by(KbDocument.id)
    )
    return [(document, job) for document, job in rows]


def delete_document(db: Session, scope: AccessScope, kb: KnowledgeBase, document_id: int) -> None:
    """Remove a document and its chunks; it stops being searchable at once."""
    require_manage(scope, kb)
    document = db.scalar(select(KbDocument).where(KbDocument.id == document_id, KbDocument.kb_id == kb.id))
    if document is None:
        raise NotFound("指定された文書が見つかりません。")
    db.execute(delete(KbChunk).where(KbChunk.document_id == document.id))
    db.delete(document)
    kb.generation += 1
    db.flush()


def document_metadata(document: KbDocument) -> dict[str, str]:
    loaded = json.loads(document.metadata_json or "{}")
    return {str(k): str(v) for k, v in loaded.items()}


# -- search ----------------------------------------------------------------------------------------
def search(
    db: Session,
    scope: AccessScope,
    kb: KnowledgeBase,
    runtime: KnowledgeRuntime,
    query: str,
    *,
    top_k: int = 10,
    tags: list[str] | None = None,
    document_names: list[str] | None = None,
    expansions: Sequence[str] = (),
) -> list[SearchHit]:
    """Hybrid search of one readable knowledge base, optionally restricted by tags/document names;
    ``expansions``: model-written phrasings of the query (``hiraga.knowledge.expansion``)."""
    get_knowledge_base(db, scope, kb.id)
    if not 1 <= top_k <= 100:
        raise InvalidInput("top_k は 1〜100 で指定してください。", detail={"field": "top_k"})
    if len(query) > 2000:
        raise InvalidInput("検索語が長すぎます（2000 文字まで）。", detail={"field": "query"})
    allowed = ChunkFilter()
    if tags or document_names:
        stmt = select(KbDocument.id).where(KbDocument.kb_id == kb.id)
        if document_names:
            stmt = stmt.where(KbDocument.name.in_(document_names))
        for tag in tags or []:
            stmt = stmt.where((literal(",") + KbDocument.tags + ",").contains(f",{tag.strip()},"))
        allowed = ChunkFilter(frozenset(db.scalars(stmt)))
    return runtime.search(db, kb.id, query, top_k, allowed, expansions)
