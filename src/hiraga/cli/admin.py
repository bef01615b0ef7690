"""``hiraga admin ...``: organisations, teams, users, keys and passwords from the shell."""

from __future__ import annotations

from pathlib import Path

import click

from hiraga.cli.common import data_dir_option, operator_session, read_password_stdin, reports_errors
from hiraga.identity import api_keys, directory
from hiraga.identity.account import set_password
from hiraga.store.tables import TeamRole


@click.group()
def admin() -> None:
    """組織・チーム・ユーザー・API キーの管理。"""


@admin.command("create-org")
@click.argument("name")
@data_dir_option
@reports_errors
def create_org(name: str, data_dir: Path | None) -> None:
    """組織を作成します。"""
    with operator_session(data_dir) as (db, scope, _):
        org = directory.create_organisation(db, scope, name)
        click.echo(f"組織を作成しました: {org.name} (id={org.id})")


@admin.command("create-team")
@click.argument("name")
@click.option("--org", "org", required=True, help="組織名または ID")
@data_dir_option
@reports_errors
def create_team(name: str, org: str, data_dir: Path | None) -> None:
    """組織の中にチーム（課・室）を作成します。"""
    with operator_session(data_dir) as (db, scope, _):
        organisation = directory.find_organisation(db, org)
        team = directory.create_team(db, scope, organisation.id, name)
        click.echo(f"チームを作成しました: {organisation.name} / {team.name} (id={team.id})")


@admin.command("create-user")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, required=True, help="パスワードを標準入力から読む")
@click.option("--name", "display_name", default="", help="表示名")
@click.option("--system-admin", is_flag=True)
@click.option("--auditor", is_flag=True)
@click.option("--team", "team", default=None, help="所属チーム名")
@click.option("--team-admin", is_flag=True, help="--team のチーム管理者にする")
@data_dir_option
@reports_errors
def create_user(
    email: str,
    password_stdin: bool,
    display_name: str,
    system_admin: bool,
    auditor: bool,
    team: str | None,
    team_admin: bool,
    data_dir: Path | None,
) -> None:
    """ユーザーを作成します。"""
    if team_admin and not team:
        raise click.UsageError("--team-admin には --team が必要です。")
    password = read_password_stdin()
    with operator_session(data_dir) as (db, scope, settings):
        user = directory.create_user(
            db,
            scope,
            email=email,
            password=password,
            display_name=display_name,
            is_system_admin=system_admin,
            is_auditor=auditor,
            password_min_length=settings.password_min_length,
        )
        if team:
            role = TeamRole.ADMIN if team_admin else TeamRole.MEMBER
            directory.set_membership(db, scope, directory.find_team(db, team).id, user.id, role)
        click.echo(f"ユーザーを作成しました: {user.email} (id={user.id})")


@admin.command("create-key")
@click.argument("email")
@click.option("--name", default="cli", show_default=True)
@click.option("--expires-days", type=int, default=None)
@data_dir_option
@reports_errors
def create_key(email: str, name: str, expires_days: int | None, data_dir: Path | None) -> None:
    """API キーを発行します（キーは一度だけ表示されます）。"""
    with operator_session(data_dir) as (db, scope, settings):
        user = directory.find_user_by_email(db, email)
        days = expires_days if expires_days is not None else settings.api_key_default_expiry_days
        issued = api_keys.issue_key(db, scope.principal, user.id, name, days)
    click.echo(issued.secret)


@admin.command("reset-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, required=True)
@data_dir_option
@reports_errors
def reset_password(email: str, password_stdin: bool, data_dir: Path | None) -> None:
    """パスワードを再設定し、そのユーザーのセッションをすべて終了します。"""
    password = read_password_stdin()
    with operator_session(data_dir) as (db, _, settings):
        user = directory.find_user_by_email(db, email)
        set_password(db, user, password, min_length=settings.password_min_length)
    click.echo(f"パスワードを再設定しました: {user.email}")
