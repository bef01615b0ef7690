"""What hiraga's own MCP tools do (served at ``/mcp`` by ``hiraga.mcp.server``), framework-free.

Each operation takes the caller (the owner of the API key) and runs through the same services as the
portal: ``AccessScope`` narrows knowledge bases and apps to the caller's teams, and 機密性 is checked
against ``HIRAGA_MCP_CLIENTS_CLEARANCE`` — an MCP client is a program hiraga does not know, so a
knowledge base or app above that level is refused, as a model endpoint with a lower clearance is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anyio

from hiraga.apps import registry
from hiraga.apps.runs import AppRuntime, RunRequest
from hiraga.apps.wiring import RUNTIME_KEY
from hiraga.errors import Forbidden, InvalidInput
from hiraga.gateway.service import Gateway
from hiraga.identity.principal import Principal
from hiraga.knowledge import service as kb_service
from hiraga.knowledge import wiring as kb_wiring
from hiraga.kouyoubun import service as kouyoubun
from hiraga.kouyoubun.protocol import CheckRequest
from hiraga.pii import PiiPolicy
from hiraga.portal.models import default_model, model_choices, pick
from hiraga.portal.task_apps import runner
from hiraga.spine.authorize import AccessScope
from hiraga.spine.pii import shared_guard
from hiraga.store.tables import AppRun, KnowledgeBase, RegisteredApp
from hiraga.web.context import AppContext

UNCHECKED_NOTE = "モデルの出力です。内容は確認されていません。必ず原文と照らして確かめてください。"


class AboveClearance(Forbidden):
    code = "mcp_above_clearance"
    message = "機密性が MCP クライアントへの提供の上限を超えるため、提供できません。"


@dataclass(frozen=True, slots=True)
class ServedTools:
    """The operations behind hiraga's MCP tools, bound to one running app."""

    ctx: AppContext

    @property
    def clearance(self) -> int:
        return self.ctx.settings.mcp_clients_clearance

    def _check_level(self, what: str, level: int) -> None:
        if level > self.clearance:
            raise AboveClearance(
                f"{what}は機密性{level}です。MCP クライアントには機密性{self.clearance}までしか提供できません"
                "（HIRAGA_MCP_CLIENTS_CLEARANCE）。ポータルで利用してください。",
                detail={"classification": level, "clearance": self.clearance},
            )

    # -- knowledge bases ---------------------------------------------------------------------------
    async def list_knowledge_bases(self, principal: Principal) -> dict[str, Any]:
        def read() -> list[dict[str, Any]]:
            with self.ctx.database.session() as db:
                rows = kb_service.list_knowledge_bases(db, AccessScope(principal))
                return [_kb_view(kb) for kb in rows if kb.classification <= self.clearance]

        return {"knowledge_bases": await anyio.to_thread.run_sync(read)}

    async def search_knowledge(self, principal: Principal, knowledge_base: str, query: str, top_k: int) -> Any:
        if not 1 <= top_k <= 20:
            raise InvalidInput("top_k は 1〜20 で指定してください。", detail={"field": "top_k"})

        def run() -> dict[str, Any]:
            scope = AccessScope(principal)
            with self.ctx.database.session() as db:
                kb = kb_service.find_knowledge_base(db, scope, knowledge_base.strip())
                self._check_level(f"ナレッジベース「{kb.name}」", kb.classification)
                runtime = kb_wiring.of(self.ctx).runtime()
                hits = kb_service.search(db, scope, kb, runtime, query, top_k=top_k)
                return {"knowledge_base": _kb_view(kb), "hits": [_citation(n, h) for n, h in enumerate(hits, 1)]}

        return await anyio.to_thread.run_sync(run)

    # -- apps --------------------------------------------------------------------------------------
    async def list_apps(self, principal: Principal) -> dict[str, Any]:
        tasks = [
            {"name": i.name, "title": i.definition.title, "kind": "task_app", "inputs": _fields(i.definition.form)}
            for i in runner.task_apps()
        ]

        def registered() -> list[dict[str, Any]]:
            with self.ctx.database.session() as db:
                apps = registry.list_apps(db, AccessScope(principal))
                return [_app_view(app) for app in apps if app.status == "published"]

        return {"apps": tasks + await anyio.to_thread.run_sync(registered)}

    async def run_app(self, principal: Principal, app: str, inputs: dict[str, Any], model: str | None) -> Any:
        if any(info.name == app for info in runner.task_apps()):
            return await self._run_task_app(principal, app, inputs, model)
        return await self._run_registered_app(principal, app, inputs)

    async def _run_task_app(self, principal: Principal, name: str, inputs: dict[str, Any], model: str | None) -> Any:
        gateway: Gateway = self.ctx.extras["gateway"]
        choices = await model_choices(gateway, principal)
        run = runner.TaskRun(
            name=name,
            values=inputs,
            uploads={},
            model=pick(choices, model or default_model(choices)),
            classification=self.ctx.settings.default_classification,
        )
        result = await runner.run_task(gateway, principal, run, self.ctx.settings.portal_max_output_tokens)
        models = list(dict.fromkeys(u.model_version for u in result.usage))
        return {
            "app": name,
            "outputs": result.outputs,
            "models": models,
            "checks": result.checks,
            "note": UNCHECKED_NOTE,
        }

    async def _run_registered_app(self, principal: Principal, slug: str, inputs: dict[str, Any]) -> Any:
        app_runtime: AppRuntime = self.ctx.extras[RUNTIME_KEY]

        def begin() -> tuple[int, Any]:
            with self.ctx.database.session() as db:
                row = registry.get_app(db, AccessScope(principal), slug=slug)
                self._check_level(f"アプリ「{row.name}」", row.classification)
                return app_runtime.begin(row, principal, RunRequest(values=inputs))

        run_id, prepared = await anyio.to_thread.run_sync(begin)
        error = await app_runtime.execute(run_id, prepared)
        if error is not None:
            raise error
        with self.ctx.database.session() as db:
            run = db.get(AppRun, run_id)
            outputs = run.outputs if run is not None else ""
        return {"app": slug, "run_id": run_id, "outputs": outputs, "note": UNCHECKED_NOTE}

    # -- text checks -------------------------------------------------------------------------------
    async def check_kouyoubun(self, text: str) -> Any:
        response = await kouyoubun.run_check(CheckRequest(text=text))
        return response.model_dump(mode="json")

    async def mask_pii(self, text: str) -> dict[str, Any]:
        if len(text) > 200_000:
            raise InvalidInput("文章が長すぎます（200,000 字まで）。", detail={"field": "text"})
        guard = shared_guard()
        prepared = await anyio.to_thread.run_sync(lambda: guard.prepare([text], PiiPolicy.MASK))
        labels = {kind: guard.labels.get(kind, kind) for kind in prepared.counts}
        return {"masked_text": prepared.texts[0], "counts": prepared.counts, "labels": labels}


def _kb_view(kb: KnowledgeBase) -> dict[str, Any]:
    return {"id": kb.id, "name": kb.name, "description": kb.description, "classification": kb.classification}


def _citation(number: int, hit: Any) -> dict[str, Any]:
    """One hit as a numbered citation: where exactly the passage is, and the passage."""
    return {
        "ref": f"[{number}]",
        "document": hit.document_title or hit.document_name,
        "file": hit.document_name,
        "page": hit.page,
        "article": hit.article,
        "heading": " > ".join(hit.heading_path),
        "url": hit.url,
        "score": round(float(hit.score), 4),
        "text": hit.text,
    }


def _fields(form: dict[str, Any]) -> dict[str, str]:
    return {key: str(spec.get("title", key)) for key, spec in form.items() if isinstance(spec, dict)}


def _app_view(app: RegisteredApp) -> dict[str, Any]:
    return {
        "name": app.slug,
        "title": app.name,
        "kind": "gennai_app",
        "classification": app.classification,
        "description": app.description,
    }
