"""``hiraga``: serve, db, admin. Each command group lives in its own module."""

from __future__ import annotations

import click

from hiraga.cli.admin import admin
from hiraga.cli.apps import apps
from hiraga.cli.audit import audit
from hiraga.cli.backup import backup, restore
from hiraga.cli.evaluation import evaluation
from hiraga.cli.feedback import feedback
from hiraga.cli.kb import kb, worker
from hiraga.cli.limits import limits
from hiraga.cli.models import models
from hiraga.cli.serve import db, serve
from hiraga.cli.sso import sso


@click.group()
@click.version_option(package_name="hiraga")
def cli() -> None:
    """hiraga — 自前で運用できる生成 AI 基盤 / self-hostable generative-AI platform."""


cli.add_command(serve)
cli.add_command(db)
cli.add_command(admin)
cli.add_command(models)
cli.add_command(limits)
cli.add_command(kb)
cli.add_command(worker)
cli.add_command(audit)
cli.add_command(apps)
cli.add_command(backup)
cli.add_command(restore)
cli.add_command(sso)
cli.add_command(feedback)
cli.add_command(evaluation)
