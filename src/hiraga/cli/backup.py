"""``hiraga backup`` / ``hiraga restore``: the embedded shape's backups (hiraga.store.backup)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from hiraga.cli.common import data_dir_option, reports_errors, settings_for
from hiraga.settings import read_settings
from hiraga.store.backup import create_backup
from hiraga.store.restore import restore_backup

ARCHIVE = click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))


@click.command()
@ARCHIVE
@data_dir_option
@reports_errors
def backup(archive: Path, data_dir: Path | None) -> None:
    """稼働中のまま、データベース・検索インデックス・秘密鍵を 1 つのファイルにバックアップし、検証します。"""
    settings = settings_for(data_dir)
    verified = create_backup(settings, archive)
    manifest = verified.manifest
    click.echo(
        f"OK: {archive} に書き出し、検証しました（ファイル {len(manifest['files'])} 件、"
        f"スキーマ {', '.join(manifest['schema_revisions'])}、監査記録 {verified.chain.records} 件、"
        f"末尾 {verified.chain.tip}）。"
    )
    if not manifest["secret_key_included"]:
        click.echo("注意: 秘密鍵は HIRAGA_SECRET_KEY で与えられているため含めていません。別に保管してください。")
    click.echo("このファイルには秘密鍵が含まれます。アクセスを制限した場所に保管してください。")


@click.command()
@ARCHIVE
@click.option("--force", is_flag=True, help="既存のインスタンスを置き換える（元の内容は .replaced-* に残す）")
@data_dir_option
@reports_errors
def restore(archive: Path, force: bool, data_dir: Path | None) -> None:
    """バックアップを検証してからデータディレクトリに復元します（既存のインスタンスは --force なしでは拒否）。"""
    if data_dir is not None:
        os.environ["HIRAGA_DATA_DIR"] = str(data_dir)
    settings = read_settings()  # nothing is created in the data dir before the backup has been verified
    restored = restore_backup(settings, archive, force=force)
    click.echo(
        f"OK: {settings.data_dir} に復元しました（{restored.verified.manifest['created_at']} 取得、"
        f"監査記録 {restored.verified.chain.records} 件を検証済み）。"
    )
    if restored.moved_aside is not None:
        click.echo(f"元の内容は {restored.moved_aside} に移しました。")
    click.echo("次に hiraga audit verify と hiraga serve を実行してください。")
