"""``hiraga sso ...``: OpenID Connect providers, claim-mapping rules and SCIM tokens from the shell."""

from __future__ import annotations

from pathlib import Path

import click

from hiraga.cli.common import data_dir_option, operator_session, read_password_stdin, reports_errors
from hiraga.identity import directory
from hiraga.identity.sso import providers
from hiraga.identity.sso.mapping import GRANTS
from hiraga.identity.sso.scim import tokens as scim_tokens


@click.group()
def sso() -> None:
    """シングルサインオン（OpenID Connect・SCIM）の設定。"""


@sso.group()
def provider() -> None:
    """ID プロバイダー（OpenID Connect）。"""


@provider.command("add")
@click.argument("slug")
@click.option("--name", "display_name", required=True, help="ログイン画面のボタンに出す名前")
@click.option("--issuer", required=True, help="発行者 URL（/.well-known/openid-configuration の手前まで）")
@click.option("--client-id", required=True)
@click.option("--client-secret-stdin", is_flag=True, help="クライアントシークレットを標準入力から読む")
@click.option("--scopes", default="openid email profile", show_default=True)
@click.option("--groups-claim", default="groups", show_default=True, help="グループを運ぶクレーム名")
@click.option("--allow-unverified-email", is_flag=True, help="email_verified が true でなくても受け入れる")
@click.option("--no-jit", is_flag=True, help="初回サインインでユーザーを自動作成しない")
@data_dir_option
@reports_errors
def provider_add(
    slug: str,
    display_name: str,
    issuer: str,
    client_id: str,
    client_secret_stdin: bool,
    scopes: str,
    groups_claim: str,
    allow_unverified_email: bool,
    no_jit: bool,
    data_dir: Path | None,
) -> None:
    """プロバイダーを登録します（シークレットは暗号化して保存）。"""
    secret = read_password_stdin() if client_secret_stdin else None
    data = providers.ProviderInput(
        slug, display_name, issuer, client_id, secret, scopes, groups_claim, not allow_unverified_email, not no_jit
    )
    with operator_session(data_dir) as (db, scope, settings):
        row = providers.create_provider(db, scope, data, settings)
        callback = providers.redirect_uri(settings, row.slug)
    click.echo(f"プロバイダーを登録しました: {row.slug}")
    click.echo(f"ID プロバイダー側に登録するリダイレクト URI: {callback}")
    click.echo(f"ログアウト後のリダイレクト URI: {settings.base_url.rstrip('/')}/login?notice=logged_out")


@provider.command("list")
@data_dir_option
@reports_errors
def provider_list(data_dir: Path | None) -> None:
    """登録済みのプロバイダー。"""
    with operator_session(data_dir) as (db, _, _settings):
        for row in providers.list_providers(db):
            state = "有効" if row.enabled else "無効"
            click.echo(f"{row.slug}\t{state}\t{row.display_name}\t{row.issuer}\tclient_id={row.client_id}")


@provider.command("test")
@click.argument("slug")
@data_dir_option
@reports_errors
def provider_test(slug: str, data_dir: Path | None) -> None:
    """プロバイダーの discovery 文書を取得し、主要なエンドポイントを表示します。"""
    with operator_session(data_dir) as (db, _, settings):
        metadata = providers.relying_party(providers.get_provider(db, slug), settings).metadata()
    for name in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "end_session_endpoint"):
        click.echo(f"{name}: {metadata.get(name, '（なし）')}")


@provider.command("enable")
@click.argument("slug")
@data_dir_option
@reports_errors
def provider_enable(slug: str, data_dir: Path | None) -> None:
    """プロバイダーを有効にします。"""
    with operator_session(data_dir) as (db, scope, _):
        providers.set_enabled(db, scope, slug, True)
    click.echo(f"有効にしました: {slug}")


@provider.command("disable")
@click.argument("slug")
@data_dir_option
@reports_errors
def provider_disable(slug: str, data_dir: Path | None) -> None:
    """プロバイダーを無効にします（ボタンが消え、サインインできなくなります）。"""
    with operator_session(data_dir) as (db, scope, _):
        providers.set_enabled(db, scope, slug, False)
    click.echo(f"無効にしました: {slug}")


@provider.command("remove")
@click.argument("slug")
@data_dir_option
@reports_errors
def provider_remove(slug: str, data_dir: Path | None) -> None:
    """プロバイダーを削除します（そのプロバイダーのルールと紐付けも消えます）。"""
    with operator_session(data_dir) as (db, scope, _):
        providers.remove_provider(db, scope, slug)
    click.echo(f"削除しました: {slug}")


@sso.group()
def rule() -> None:
    """クレームからチーム・役割への対応づけ。"""


@rule.command("add")
@click.option("--claim", required=True, help="groups / email_domain / 任意のクレーム（realm_access.roles など）")
@click.option("--value", required=True, help="クレームに含まれていれば一致する値")
@click.option("--grant", type=click.Choice(GRANTS), required=True)
@click.option("--team", default=None, help="member / admin のときのチーム名")
@click.option("--org", default=None, help="チーム名が複数の組織にあるときの組織名")
@click.option("--provider", "provider_slug", default=None, help="このプロバイダーだけに適用（省略時はすべてと SCIM）")
@data_dir_option
@reports_errors
def rule_add(
    claim: str,
    value: str,
    grant: str,
    team: str | None,
    org: str | None,
    provider_slug: str | None,
    data_dir: Path | None,
) -> None:
    """ルールを追加します。"""
    with operator_session(data_dir) as (db, scope, _):
        team_id = directory.find_team(db, team, org).id if team else None
        row = providers.add_rule(
            db, scope, claim=claim, value=value, grant=grant, team_id=team_id, provider_slug=provider_slug
        )
    click.echo(f"ルールを追加しました (id={row.id})")


@rule.command("list")
@data_dir_option
@reports_errors
def rule_list(data_dir: Path | None) -> None:
    """ルールの一覧。"""
    with operator_session(data_dir) as (db, _, _settings):
        for row in providers.list_rules(db):
            where = f"provider={row.provider_id}" if row.provider_id else "全プロバイダー・SCIM"
            team = f" team={row.team_id}" if row.team_id else ""
            click.echo(f"{row.id}\t{row.claim} ∋ {row.value}\t→ {row.grant}{team}\t({where})")


@rule.command("remove")
@click.argument("rule_id", type=int)
@data_dir_option
@reports_errors
def rule_remove(rule_id: int, data_dir: Path | None) -> None:
    """ルールを削除します。"""
    with operator_session(data_dir) as (db, scope, _):
        providers.remove_rule(db, scope, rule_id)
    click.echo(f"削除しました (id={rule_id})")


@sso.group("scim-token")
def scim_token() -> None:
    """SCIM プロビジョニング用のトークン。"""


@scim_token.command("create")
@click.argument("name")
@data_dir_option
@reports_errors
def scim_token_create(name: str, data_dir: Path | None) -> None:
    """トークンを発行します（一度だけ表示されます）。"""
    with operator_session(data_dir) as (db, scope, settings):
        issued = scim_tokens.issue(db, scope, name)
    click.echo(issued.secret)
    click.echo(f"SCIM のベース URL: {settings.base_url.rstrip('/')}/scim/v2", err=True)


@scim_token.command("list")
@data_dir_option
@reports_errors
def scim_token_list(data_dir: Path | None) -> None:
    """発行済みのトークン（値は表示しません）。"""
    with operator_session(data_dir) as (db, _, _settings):
        for row in scim_tokens.list_tokens(db):
            state = "失効" if row.revoked_at else "有効"
            click.echo(f"{row.id}\t{row.prefix}…\t{state}\t{row.name}\t最終使用={row.last_used_at or '-'}")


@scim_token.command("revoke")
@click.argument("token_id", type=int)
@data_dir_option
@reports_errors
def scim_token_revoke(token_id: int, data_dir: Path | None) -> None:
    """トークンを失効させます。"""
    with operator_session(data_dir) as (db, scope, _):
        scim_tokens.revoke(db, scope, token_id)
    click.echo(f"失効させました (id={token_id})")
