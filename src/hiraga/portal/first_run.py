"""The first hour: what the built-in model is (honestly), and the next steps a new platform still
lacks (a team, a real model, a knowledge base), each with the page that does it. Framework-free."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hiraga.providers.embedded.packaged_model import QWEN_CODER_05B, PackagedModelSpec
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import KnowledgeBase, ModelEndpoint, Team

EMBEDDED_PROVIDER = "embedded"


@dataclass(frozen=True, slots=True)
class BuiltinModel:
    """The facts the home page and the README state about the packaged model."""

    name: str
    parameters: str
    quantisation: str
    size_mb: int
    licence: str
    packages: tuple[str, ...]
    version: str
    sha256: str
    good_for: tuple[str, ...]
    not_for: tuple[str, ...]


def builtin_model(spec: PackagedModelSpec = QWEN_CODER_05B) -> BuiltinModel:
    return BuiltinModel(
        name="Qwen2.5-Coder-0.5B-Instruct",
        parameters="約 5 億（0.5B）",
        quantisation="Q4_K_M（GGUF）",
        size_mb=round(spec.size / 1_000_000),
        licence="Apache License 2.0",
        packages=spec.packages,
        version=spec.version,
        sha256=spec.sha256,
        good_for=(
            "ネットワークに出ずに、画面と機能を試すこと",
            "短い文の言い換えや、英語・プログラムの簡単な下書き",
        ),
        not_for=(
            "翻訳・校正・要約など、正確さが必要な日本語の業務（誤りや脱落が多く出ます）",
            "事実の確認（もっともらしい誤りを答えます）",
        ),
    )


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    title: str
    done: bool
    url: str
    action: str
    hint: str


def has_real_model(db: Session) -> bool:
    """An enabled chat endpoint other than the packaged model (a server, or an operator's GGUF)."""
    query = select(func.count(ModelEndpoint.id)).where(
        ModelEndpoint.enabled.is_(True),
        ModelEndpoint.kind == "chat",
        (ModelEndpoint.provider != EMBEDDED_PROVIDER) | ModelEndpoint.model_path.is_not(None),
    )
    return bool(db.scalar(query))


def next_steps(db: Session, scope: AccessScope) -> list[Step]:
    """The first-run checklist for a system admin, in order; done steps stay listed as done."""
    has_team = bool(db.scalar(select(func.count(Team.id))))
    has_kb = bool(db.scalar(select(func.count(KnowledgeBase.id))))
    in_team = bool(scope.principal.team_roles)
    return [
        Step(
            "team",
            "チームを作り、自分をチーム管理者にする",
            has_team and in_team,
            "/admin#teams-heading",
            "チームを作成する",
            "ナレッジベースやアプリはチーム（課・室）単位で公開します。",
        ),
        Step(
            "model",
            "実用的なモデルを接続する",
            has_real_model(db),
            "/admin/models/connect",
            "モデルを接続する",
            "組み込みモデルは動作確認用の小型モデルです。"
            "vLLM・Ollama などのサーバーか GGUF ファイルを接続してください。",
        ),
        Step(
            "kb",
            "ナレッジベースを作り、文書を登録する",
            has_kb,
            "/kb",
            "ナレッジベースを作成する",
            "課の要綱・マニュアルを登録すると、出典つきで回答します。",
        ),
    ]
