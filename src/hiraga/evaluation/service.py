"""What the web layer and the CLI use (framework-free): start a run (refused before any row or call
when the model is not cleared for the data), the arena's two answers, and the runner of this
process."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from hiraga.errors import InvalidInput, NotFound
from hiraga.evaluation import arena, private_sets, runs
from hiraga.evaluation.runner import EvalRunner, check_cleared
from hiraga.gateway.catalog import CatalogCache
from hiraga.gateway.service import Gateway, input_estimate
from hiraga.gateway.wiring import build_providers, registry_rules
from hiraga.settings import Settings
from hiraga.spine.authorize import AccessScope
from hiraga.spine.call import Classification, ModelCall
from hiraga.spine.pii import PiiStep, shared_guard
from hiraga.spine.route import team_may_use
from hiraga.store.database import Database
from hiraga.store.tables import ArenaBattle, EvalRun
from hiraga.usage.hooks import build_hooks

MAX_ARENA_PROMPT = 8000


class Evaluation:
    def __init__(self, database: Database, gateway: Gateway, settings: Settings) -> None:
        self.database, self.gateway, self.settings = database, gateway, settings
        self.runner = EvalRunner(
            database,
            gateway,
            data_dir=settings.eval_data_dir,
            judge_model=settings.eval_judge_model,
            stale_after=timedelta(seconds=settings.eval_stale_seconds),
        )

    async def start_run(self, scope: AccessScope, request: runs.RunRequest) -> EvalRun:
        level = request.classification
        if request.suite.startswith("set:"):
            level = await asyncio.to_thread(self._set_level, scope, request.suite)
        await check_cleared(self.gateway, request.model, level)
        return await asyncio.to_thread(self._create, scope, request)

    def _set_level(self, scope: AccessScope, suite: str) -> int:
        with self.database.session() as db:
            try:
                return private_sets.find_set(db, scope, int(suite.split(":", 1)[1])).classification
            except ValueError:
                raise NotFound("テストセットが見つかりません。", code="eval_set_not_found") from None

    def _create(self, scope: AccessScope, request: runs.RunRequest) -> EvalRun:
        with self.database.session() as db:
            return runs.create_run(db, scope, request)

    async def fight(
        self, scope: AccessScope, *, team_id: int, prompt: str, task: str = "chat", classification: int = 1
    ) -> ArenaBattle:
        """Two cleared models the team may use answer ``prompt``; stored in a random order."""
        if not prompt.strip() or len(prompt) > MAX_ARENA_PROMPT:
            raise InvalidInput(f"質問を {MAX_ARENA_PROMPT:,} 字以内で入力してください。", detail={"field": "prompt"})
        await asyncio.to_thread(self._require_arena, scope, team_id)
        call = ModelCall(scope.principal, "chat", "", Classification(classification), team_id=team_id)
        catalog = await self.gateway.catalog.get()
        usable = sorted(
            ep.name
            for ep in catalog.endpoints.values()
            if ep.enabled and ep.kind == "chat" and ep.clearance >= classification and team_may_use(call, ep)
        )
        if len(usable) < 2:
            raise InvalidInput("比較できるモデルが 2 つ以上ありません。", code="arena_not_enough_models")
        models = random.sample(usable, 2)
        answers = await asyncio.gather(*(self._answer(scope, m, team_id, prompt, classification) for m in models))
        with self.database.session() as db:
            return arena.store_battle(
                db,
                scope,
                team_id=team_id,
                task=task,
                classification=classification,
                prompt=prompt,
                answers=list(zip(models, answers, strict=True)),
            )

    def _require_arena(self, scope: AccessScope, team_id: int) -> None:
        with self.database.session() as db:
            arena.require_enabled(db, scope, team_id)

    async def _answer(self, scope: AccessScope, model: str, team_id: int, prompt: str, level: int) -> str:
        tokens = self.settings.portal_max_output_tokens
        body = {"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": tokens}
        call = ModelCall(
            principal=scope.principal,
            kind="chat",
            requested_model=model,
            classification=Classification(level),
            team_id=team_id,
            estimated_input_tokens=input_estimate(body),
            max_output_tokens=tokens,
            source="eval:arena",
        )
        answer = await self.gateway.chat(call, body)
        choices = answer.body.get("choices") or [{}]
        return str((choices[0].get("message") or {}).get("content") or "")


@asynccontextmanager
async def open_evaluation(settings: Settings) -> AsyncIterator[Evaluation]:
    """An Evaluation outside the web app (CLI, workers): a gateway with the policy and audit hooks
    ``hiraga serve`` has, closed afterwards."""
    database = Database(settings.effective_database_url)
    rules = registry_rules(settings)
    hooks = build_hooks(settings, database)
    gateway = Gateway(
        catalog=CatalogCache(database, rules.box, rules.allowed_hosts, settings.gateway_cache_seconds),
        providers=build_providers(settings),
        hooks=hooks,
        pii=PiiStep(shared_guard),
    )
    try:
        yield Evaluation(database, gateway, settings)
    finally:
        await gateway.aclose()
        await hooks.close()
        database.dispose()
