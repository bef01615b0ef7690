"""``hiraga``: serve, db, admin. Each command group lives in its own module, imported only when the
command is run (or listed): ``hiraga eval run`` does not pay for the imports of the web app's
routers, SSO or the knowledge base, which halves a short command's start-up."""

from __future__ import annotations

import importlib

import click

# command name → "module:attribute"
COMMANDS = {
    "serve": "hiraga.cli.serve:serve",
    "db": "hiraga.cli.serve:db",
    "admin": "hiraga.cli.admin:admin",
    "models": "hiraga.cli.models:models",
    "limits": "hiraga.cli.limits:limits",
    "kb": "hiraga.cli.kb:kb",
    "worker": "hiraga.cli.kb:worker",
    "audit": "hiraga.cli.audit:audit",
    "apps": "hiraga.cli.apps:apps",
    "backup": "hiraga.cli.backup:backup",
    "restore": "hiraga.cli.backup:restore",
    "sso": "hiraga.cli.sso:sso",
    "feedback": "hiraga.cli.feedback:feedback",
    "eval": "hiraga.cli.evaluation:evaluation",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported when one is asked for."""

    def __init__(self, *args: object, lazy: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, attribute = self.lazy[cmd_name].split(":")
            command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.lazy[cmd_name]} is not a click command")
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, lazy=COMMANDS)
@click.version_option(package_name="hiraga")
def cli() -> None:
    """hiraga — 自前で運用できる生成 AI 基盤 / self-hostable generative-AI platform."""
