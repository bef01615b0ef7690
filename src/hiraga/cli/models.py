"""``hiraga models add|list|remove|test``: the model registry from the shell."""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal
from pathlib import Path

import click
from pydantic import SecretStr, ValidationError

from hiraga.cli.common import data_dir_option, operator_session, reports_errors
from hiraga.errors import InvalidInput
from hiraga.gateway import registry
from hiraga.gateway.admin_protocol import EndpointCreate, EndpointTestResult
from hiraga.gateway.catalog import CatalogCache
from hiraga.gateway.service import Gateway
from hiraga.gateway.wiring import build_providers, registry_rules
from hiraga.identity import directory
from hiraga.settings import Settings
from hiraga.store.database import Database


@click.group()
def models() -> None:
    """モデル接続先（エンドポイント）の管理。"""


@models.command("add")
@click.argument("name")
@click.option("--provider", default="openai", show_default=True, help="openai / azure-openai / embedded")
@click.option("--base-url", default="", help="OpenAI 互換 API の URL（例: http://vllm:8000/v1）")
@click.option("--upstream-model", default="", help="上流でのモデル ID（Azure ではデプロイ名）")
@click.option(
    "--gguf",
    "gguf",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="組み込みランタイムで読み込む GGUF ファイル",
)
@click.option("--api-key-stdin", is_flag=True, help="上流の API キーを標準入力から読む")
@click.option("--api-version", default=None, help="Azure OpenAI の api-version")
@click.option("--kind", type=click.Choice(["chat", "embeddings", "rerank"]), default="chat", show_default=True)
@click.option("--clearance", type=click.IntRange(1, 3), default=1, show_default=True, help="受け取れる最高の機密性")
@click.option("--external/--internal", default=True, show_default=True, help="組織外のサーバーか")
@click.option("--team", "teams", multiple=True, help="利用を許可するチーム名（複数可）")
@click.option("--all-teams", is_flag=True, help="すべてのチームに許可する")
@click.option("--alias", "aliases", multiple=True, help="この接続先を加える別名（例: default）")
@click.option("--context-window", type=int, default=4096, show_default=True)
@click.option("--price-in", type=Decimal, default=Decimal(0), help="入力 1k トークンあたりの円")
@click.option("--price-out", type=Decimal, default=Decimal(0), help="出力 1k トークンあたりの円")
@click.option("--timeout", "timeout_seconds", type=float, default=60.0, show_default=True)
@click.option("--max-concurrent", type=int, default=0, show_default=True, help="0 は無制限")
@click.option("--tag", "tags", multiple=True)
@click.option("--description", default="")
@data_dir_option
@reports_errors
def add(
    name: str,
    provider: str,
    gguf: Path | None,
    api_key_stdin: bool,
    teams: tuple[str, ...],
    data_dir: Path | None,
    **fields: object,
) -> None:
    """モデル接続先を登録します。"""
    if gguf is not None:
        provider, fields["base_url"], fields["model_path"] = "embedded", "", str(gguf)
    api_key = sys.stdin.readline().strip() if api_key_stdin else None
    fields["price_input_per_1k"] = fields.pop("price_in")
    fields["price_output_per_1k"] = fields.pop("price_out")
    with operator_session(data_dir) as (db, scope, settings):
        team_ids = [directory.find_team(db, t).id for t in teams]
        try:
            spec = EndpointCreate(
                name=name,
                provider=provider,
                team_ids=team_ids,
                api_key=SecretStr(api_key) if api_key else None,
                **fields,
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            raise InvalidInput(
                f"「{'.'.join(map(str, first['loc']))}」の値が正しくありません: {first['msg']}"
            ) from None
        row = registry.create_endpoint(db, scope, spec, registry_rules(settings))
        click.echo(
            f"登録しました: {row.name} (id={row.id}, provider={row.provider}, 機密性クリアランス={row.clearance})"
        )


@models.command("list")
@data_dir_option
@reports_errors
def list_(data_dir: Path | None) -> None:
    """登録済みの接続先と別名を表示します。"""
    with operator_session(data_dir) as (db, scope, _):
        registry.ensure_builtin_endpoints(db)
        for row in registry.list_endpoints(db, scope):
            v = registry.view(db, row)
            teams = "全チーム" if v.all_teams else ",".join(map(str, v.team_ids)) or "なし"
            where = v.model_path or v.base_url or "組み込み"
            state = "" if v.enabled else " [無効]"
            click.echo(
                f"{v.name}\t{v.provider}/{v.kind}\tクリアランス{v.clearance}\t"
                f"{'外部' if v.external else '内部'}\tチーム:{teams}\t{where}{state}"
            )
        for alias in registry.list_aliases(db):
            chain = " → ".join(f"{m.endpoint}(優先度{m.priority})" for m in alias.members)
            click.echo(f"別名 {alias.name}: {chain}")


@models.command("remove")
@click.argument("name")
@data_dir_option
@reports_errors
def remove(name: str, data_dir: Path | None) -> None:
    """接続先を削除します（別名からも外れます）。"""
    with operator_session(data_dir) as (db, scope, _):
        registry.delete_endpoint(db, scope, name)
    click.echo(f"削除しました: {name}")


@models.command("test")
@click.argument("name")
@data_dir_option
@reports_errors
def test(name: str, data_dir: Path | None) -> None:
    """接続先に短い問い合わせを 1 回送り、応答と所要時間を表示します。"""
    with operator_session(data_dir) as (_, _scope, settings):
        pass
    result = asyncio.run(_probe(settings, name))
    if not result.ok:
        click.echo(f"失敗: {name}（{result.latency_ms} ms）: {result.error}", err=True)
        sys.exit(1)
    click.echo(f"成功: {name}（{result.latency_ms} ms）: {result.reply}")


async def _probe(settings: Settings, name: str) -> EndpointTestResult:
    database = Database(settings.effective_database_url)
    rules = registry_rules(settings)
    gateway = Gateway(
        catalog=CatalogCache(database, rules.box, rules.allowed_hosts, 0), providers=build_providers(settings)
    )
    try:
        return await gateway.probe(name)
    finally:
        await gateway.aclose()
        database.dispose()
