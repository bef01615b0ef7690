"""``hiraga apps add|list|publish|disable|rm|test``: the AI app registry from the shell (operator)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import click
from pydantic import SecretStr, ValidationError

from hiraga.apps import registry
from hiraga.apps.admin_protocol import AppCreate
from hiraga.apps.client import AppClient, AppTarget
from hiraga.apps.forms import check_inputs
from hiraga.cli.common import CLI_OPERATOR, data_dir_option, operator_session, reports_errors
from hiraga.errors import InvalidInput
from hiraga.gateway.wiring import registry_rules
from hiraga.identity import directory
from hiraga.net.outbound import OutboundClient
from hiraga.spine.authorize import AccessScope


@click.group()
def apps() -> None:
    """AI アプリ（源内方式のプロトコル）の登録と管理。"""


def _team_id(db: Any, name_or_id: str) -> int:
    if name_or_id.isdigit():
        return int(name_or_id)
    for team in directory.list_teams(db, registry_scope()):
        if team.name == name_or_id:
            return int(team.id)
    raise InvalidInput(f"チーム「{name_or_id}」が見つかりません。", detail={"field": "team"})


def registry_scope() -> AccessScope:
    return AccessScope(CLI_OPERATOR)


@apps.command("add")
@click.argument("slug")
@click.option("--name", required=True, help="アプリ名")
@click.option("--url", "endpoint_url", required=True, help="アプリの URL（POST 先）")
@click.option("--form", "form_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--owner-team", required=True, help="管理するチーム（名前または ID）")
@click.option("--publish-to", "publish_to", multiple=True, help="公開先のチーム（複数可）")
@click.option("--api-key-stdin", is_flag=True, help="アプリの API キーを標準入力から読む")
@click.option("--mode", type=click.Choice(["sync", "async"]), default="sync", show_default=True)
@click.option("--chat", is_flag=True, help="チャット型（chat_history を送る）")
@click.option("--timeout", "timeout_seconds", type=click.IntRange(1, 3600), default=60, show_default=True)
@click.option("--classification", type=click.IntRange(1, 3), default=1, show_default=True)
@click.option("--external", is_flag=True, help="組織外のサービス")
@click.option("--description", default="")
@data_dir_option
@reports_errors
def add(slug: str, form_file: Path, owner_team: str, publish_to: tuple[str, ...], api_key_stdin: bool,
        data_dir: Path | None, **fields: Any) -> None:  # fmt: skip
    """アプリを下書きとして登録する。"""
    key = sys.stdin.readline().strip() if api_key_stdin else ""
    try:
        definition = json.loads(form_file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"フォーム定義ファイルが JSON として読めません: {form_file}") from exc
    with operator_session(data_dir) as (db, scope, settings):
        try:
            spec = AppCreate(
                slug=slug, form_definition=definition, api_key=SecretStr(key) if key else None,
                owner_team_id=_team_id(db, owner_team), team_ids=[_team_id(db, t) for t in publish_to], **fields,
            )  # fmt: skip
        except ValidationError as exc:
            where = ".".join(str(p) for p in exc.errors()[0]["loc"])
            raise InvalidInput(f"「{where}」の値が正しくありません。") from exc
        app = registry.create_app(db, scope, spec, registry_rules(settings))
        click.echo(f"登録しました: {app.slug}（id {app.id}、下書き）")


@apps.command("list")
@data_dir_option
@reports_errors
def list_apps(data_dir: Path | None) -> None:
    """登録されたアプリの一覧。"""
    with operator_session(data_dir) as (db, scope, _settings):
        for app in registry.list_apps(db, scope):
            teams = ",".join(str(t) for t in app.team_ids) or "-"
            line = [app.slug, app.status, app.mode, f"機密性{app.classification}", f"teams={teams}", app.endpoint_url]
            click.echo("\t".join(line))


def _set_status(slug: str, status: str, data_dir: Path | None) -> None:
    with operator_session(data_dir) as (db, scope, _settings):
        app = registry.find_by_slug(db, slug)
        registry.set_status(db, scope, app.id, status)
        click.echo(f"{slug}: {status}")


@apps.command("publish")
@click.argument("slug")
@data_dir_option
@reports_errors
def publish(slug: str, data_dir: Path | None) -> None:
    """アプリを公開する（公開先のチームのメンバーが使えるようになる）。"""
    _set_status(slug, registry.PUBLISHED, data_dir)


@apps.command("disable")
@click.argument("slug")
@data_dir_option
@reports_errors
def disable(slug: str, data_dir: Path | None) -> None:
    """アプリを停止する。"""
    _set_status(slug, registry.DISABLED, data_dir)


@apps.command("rm")
@click.argument("slug")
@data_dir_option
@reports_errors
def remove(slug: str, data_dir: Path | None) -> None:
    """アプリの登録を削除する（実行履歴と監査記録は残る）。"""
    with operator_session(data_dir) as (db, scope, _settings):
        registry.delete_app(db, scope, registry.find_by_slug(db, slug).id)
        click.echo(f"削除しました: {slug}")


@apps.command("test")
@click.argument("slug")
@click.option("--input", "pairs", multiple=True, help="入力（key=value、複数可）")
@data_dir_option
@reports_errors
def test(slug: str, pairs: tuple[str, ...], data_dir: Path | None) -> None:
    """アプリを試しに呼び出して outputs を表示する（費用は記録しない操作者の試験）。"""
    values = dict(p.split("=", 1) for p in pairs if "=" in p)
    with operator_session(data_dir) as (db, _scope, settings):
        app = registry.find_by_slug(db, slug)
        checked = check_inputs(registry.definition_of(app), values, from_text=True)
        rules = registry_rules(settings)
        key = rules.box.decrypt(app.api_key_encrypted) if app.api_key_encrypted else None
        target = AppTarget(app.endpoint_url, key, float(app.timeout_seconds))
    client = AppClient(OutboundClient(allowed_hosts=settings.allowed_upstream_hosts))
    answer = asyncio.run(client.call(target, {"inputs": checked.inputs}))
    click.echo(answer.outputs)
    for entry in answer.usage_metadata:
        click.echo(
            f"# {entry.model_version}: in={entry.tokens.input_tokens} out={entry.tokens.output_tokens}", err=True
        )
