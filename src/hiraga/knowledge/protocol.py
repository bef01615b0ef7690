"""Wire models of /api/v1/kb: knowledge bases, documents with their ingestion jobs, search and
answers with checked citations. Requests are strict; responses show what the pages show."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from hiraga.bounds import RowId
from hiraga.knowledge.answering import RagAnswer
from hiraga.knowledge.citations import Passage
from hiraga.knowledge.runtime import SearchHit
from hiraga.store.tables import KbDocument, KbIngestJob


class Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# -- knowledge bases -------------------------------------------------------------------------------
class KnowledgeBaseCreate(Request):
    name: str = Field(max_length=200, description="名前（組織内で一意）")
    team_id: RowId | None = Field(default=None, description="所有チーム（省略時は organisation_id の組織全体）")
    organisation_id: RowId | None = Field(default=None, description="組織全体のナレッジベース（システム管理者）")
    classification: int = Field(ge=1, le=3, description="機密性区分 1〜3")
    description: str = Field(default="", max_length=2000)


class KnowledgeBaseUpdate(Request):
    reranker_model: str | None = Field(
        max_length=200, description="再ランキング用モデル（種類 rerank のモデル名、null で使わない）"
    )


class KnowledgeBase(Response):
    id: int
    name: str
    description: str
    classification: int
    team_id: int | None
    organisation_id: int
    created_at: datetime
    reranker_model: str | None = None


# -- documents -------------------------------------------------------------------------------------
class IngestJob(Response):
    id: int
    state: str = Field(description="queued | running | done | failed")
    chunks_done: int = Field(description="準備済みの区画数（取り込み中も増えていく）")
    chunks_total: int = Field(description="区画の総数（文書を最後まで読むまでは 0。ページのある形式は pages_* を参照）")
    pages_done: int = Field(description="読み終えたページ数（PDF など。ページのない形式は 0）")
    pages_total: int = Field(description="ページの総数（ページのない形式は 0）")
    attempts: int
    error_message: str | None


class Document(Response):
    id: int
    name: str
    title: str
    status: str = Field(description="pending | ready | failed")
    error_code: str | None
    error_message: str | None
    byte_size: int
    chunk_count: int
    tags: list[str]
    url: str | None
    updated_at: datetime
    job: IngestJob | None = Field(default=None, description="最新の取り込みジョブ")

    @classmethod
    def of(cls, row: KbDocument, job: KbIngestJob | None) -> Document:
        return cls(
            id=row.id,
            name=row.name,
            title=row.title,
            status=str(row.status),
            error_code=row.error_code,
            error_message=row.error_message,
            byte_size=row.byte_size,
            chunk_count=row.chunk_count,
            tags=[t for t in row.tags.split(",") if t],
            url=row.url,
            updated_at=row.updated_at,
            job=IngestJob.model_validate(job) if job is not None else None,
        )


class Submitted(BaseModel):
    document: Document
    outcome: str = Field(description="queued | duplicate（同じ内容が既にある）| unchanged")
    job_id: int | None


class Refused(BaseModel):
    filename: str
    code: str
    message: str


class UploadResult(BaseModel):
    submitted: list[Submitted]
    refused: list[Refused] = Field(default_factory=list, description="受け付けなかったファイルと理由")


# -- search and answers ----------------------------------------------------------------------------
class SearchRequest(Request):
    query: str = Field(max_length=2000)
    top_k: int = Field(default=10, ge=1, le=100)
    tags: list[str] | None = None
    documents: list[str] | None = Field(default=None, description="文書名で絞り込み")
    expand_query: bool = Field(default=False, description="モデルが質問を言い換えた語句でも検索する（クエリ拡張）")
    model: str = Field(default="default", max_length=200, description="クエリ拡張に使うモデル")


class Hit(BaseModel):
    chunk_id: int
    document_id: int
    document_name: str
    document_title: str
    score: float
    text: str
    heading_path: list[str]
    page: int | None
    article: str | None
    url: str | None

    @classmethod
    def of(cls, hit: SearchHit) -> Hit:
        return cls(
            chunk_id=hit.chunk_id,
            document_id=hit.document_id,
            document_name=hit.document_name,
            document_title=hit.document_title,
            score=hit.score,
            text=hit.text,
            heading_path=list(hit.heading_path),
            page=hit.page,
            article=hit.article,
            url=hit.url,
        )


class SearchResult(BaseModel):
    hits: list[Hit]
    expansions: list[str] = Field(default_factory=list, description="クエリ拡張でモデルが書いた検索語句")
    reranked_by: str | None = Field(default=None, description="順位を付けた再ランキング用モデル（使ったときのみ）")
    notices: list[str] = Field(default_factory=list)


class AskRequest(Request):
    question: str = Field(max_length=2000)
    top_k: int = Field(default=5, ge=1, le=20)
    classification: int | None = Field(default=None, ge=1, le=3, description="利用者が指定する機密性")
    model: str = Field(default="default", max_length=200)
    max_tokens: int = Field(default=512, ge=16, le=4096, description="回答の最大トークン数")
    stream: bool = Field(default=False, description="true: SSE（passages, model, delta, done）で返す")
    expand_query: bool = Field(default=False, description="モデルが質問を言い換えた語句でも検索する（クエリ拡張）")


class CitedPassage(BaseModel):
    number: int
    label: str = Field(description="例: 行政手続法第五条 / 文書名（3 ページ）")
    location: str
    link: str | None = Field(description="法令は e-Gov の法令ページ、その他は文書の URL")
    chunk_id: int
    document_id: int
    document_name: str
    text: str
    score: float
    cited: bool

    @classmethod
    def of(cls, passage: Passage, cited: bool) -> CitedPassage:
        return cls(
            number=passage.number,
            label=passage.label,
            location=passage.location,
            link=passage.link,
            chunk_id=passage.chunk_id,
            document_id=passage.document_id,
            document_name=passage.document_name,
            text=passage.text,
            score=passage.score,
            cited=cited,
        )


class Answer(BaseModel):
    question: str
    answer: str = Field(description="Markdown。[n] は passages の number を指す（検証済み）")
    html: str = Field(description="サニタイズ済み HTML（[n] は根拠へのリンク）")
    found: bool = Field(description="false: 関連する資料がなく、モデルに問い合わせていない")
    grounded: bool = Field(description="有効な引用が 1 つ以上ある")
    cited: list[int]
    invalid_citations: list[int] = Field(description="資料にない番号のため取り除いた引用")
    passages: list[CitedPassage]
    model_name: str | None
    classification: int
    notices: list[str]
    model_text: str | None = Field(description="モデルが書いたままの回答（引用の検証・付け直しの前）")
    expansions: list[str] = Field(description="クエリ拡張でモデルが書いた検索語句（使ったときのみ）")
    reranked_by: str | None = Field(description="資料の順位を付けた再ランキング用モデル（使ったときのみ）")

    @classmethod
    def of(cls, result: RagAnswer, html: str) -> Answer:
        cited = {p.number for p in result.cited}
        return cls(
            question=result.question,
            answer=result.text,
            html=html,
            found=result.found,
            grounded=result.grounded,
            cited=sorted(cited),
            invalid_citations=result.invalid_citations,
            passages=[CitedPassage.of(p, p.number in cited) for p in result.passages],
            model_name=result.model_name,
            classification=result.classification,
            notices=result.notices,
            model_text=result.model_text,
            expansions=result.expansions,
            reranked_by=result.reranked_by,
        )
