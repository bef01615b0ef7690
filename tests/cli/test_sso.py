from __future__ import annotations

from click.testing import CliRunner, Result
from sqlalchemy import select

from hiraga.cli.main import cli
from hiraga.identity.sso import oidc
from hiraga.identity.sso.scim import tokens as scim_tokens
from hiraga.store.database import Database
from hiraga.store.tables import AuditRecord, SsoProvider
from oidc_provider import running_provider

from .conftest import CliTarget

ISSUER = "https://login.example.com/tenant-1/v2.0"


def run(target: CliTarget, *words: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, target.args(*words), input=stdin, env=target.env)


def test_provider_rules_and_scim_tokens_from_the_shell(target: CliTarget) -> None:
    added = run(
        target, "sso", "provider", "add", "entra", "--name", "Entra ID", "--issuer", ISSUER,
        "--client-id", "app-1", "--client-secret-stdin", stdin="very-secret-value\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "/auth/sso/entra/callback" in added.output
    assert run(target, "admin", "create-org", "A市").exit_code == 0
    assert run(target, "admin", "create-team", "企画課", "--org", "A市").exit_code == 0
    rule = run(
        target, "sso", "rule", "add", "--claim", "groups", "--value", "g-1", "--grant", "member", "--team", "企画課"
    )
    assert rule.exit_code == 0, rule.output
    bad = run(target, "sso", "rule", "add", "--claim", "groups", "--value", "g-2", "--grant", "member")
    assert bad.exit_code == 1 and "チーム" in bad.output  # member needs a team
    assert "groups ∋ g-1" in run(target, "sso", "rule", "list").output
    assert "entra\t有効\tEntra ID" in run(target, "sso", "provider", "list").output

    created = run(target, "sso", "scim-token", "create", "Entra provisioning")
    assert created.exit_code == 0
    secret = created.stdout.strip()
    assert secret.startswith("hs-")
    assert "有効" in run(target, "sso", "scim-token", "list").output
    assert run(target, "sso", "scim-token", "revoke", "1").exit_code == 0

    database = Database(target.database_url)
    try:
        with database.session() as db:
            provider = db.scalar(select(SsoProvider))
            assert provider is not None and provider.client_secret_enc
            assert "very-secret-value" not in provider.client_secret_enc  # encrypted at rest
            assert scim_tokens.find_active(db, secret) is None  # revoked
            actions = list(db.scalars(select(AuditRecord.action).order_by(AuditRecord.id)))
    finally:
        database.dispose()
    for action in ("sso_provider_created", "sso_rule_created", "scim_token_created", "scim_token_revoked"):
        assert action in actions


def test_provider_test_reads_the_discovery_document(target: CliTarget) -> None:
    with running_provider() as idp:
        env = {**target.env, "HIRAGA_ALLOWED_UPSTREAM_HOSTS": "localhost"}
        words = ["sso", "provider", "add", "city", "--name", "City", "--issuer", idp.issuer, "--client-id", "c"]
        assert CliRunner().invoke(cli, target.args(*words), env=env).exit_code == 0
        shown = CliRunner().invoke(cli, target.args("sso", "provider", "test", "city"), env=env)
        assert shown.exit_code == 0, shown.output
        assert f"token_endpoint: {idp.issuer}/oauth2/token" in shown.output
        oidc.forget_cached()  # (one process here; serving processes read the allow-list once)
        refused = CliRunner().invoke(cli, target.args("sso", "provider", "test", "city"), env=target.env)
        assert refused.exit_code == 1 and "sso_provider_refused" in refused.output  # not allow-listed any more
