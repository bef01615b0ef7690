"""Fixtures for single sign-on: a real OpenID Connect provider for the whole session (reset per test),
settings that allow it (it listens on localhost), a directory with two teams, and a configured provider
with mapping rules on its ``groups`` claim."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "gateway"))  # gateway_stub: ServerThread

from sso_support import OPERATOR, Org

from hiraga.identity import directory
from hiraga.identity.sso import oidc, providers
from hiraga.settings import Settings, load_settings
from hiraga.store.database import Database
from oidc_provider import RunningProvider, running_provider


@pytest.fixture(scope="session")
def provider_server() -> Iterator[RunningProvider]:
    with running_provider() as provider:
        yield provider


@pytest.fixture
def idp(provider_server: RunningProvider) -> Iterator[RunningProvider]:
    provider_server.app.reset()
    oidc.forget_cached()
    yield provider_server
    provider_server.app.reset()
    oidc.forget_cached()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-" + "x1y2z3" * 8,
        base_url="http://testserver",
        allowed_upstream_hosts=["localhost"],
        sso_http_timeout_seconds=2,
    )


@pytest.fixture
def org(database: Database, settings: Settings, idp: RunningProvider) -> Org:
    """Two teams; provider ``city`` (the running one) with rules: group 企画 → 企画課 member, group
    企画-admin → 企画課 admin, group 総務 → 総務課 member, group audit → auditor."""
    with database.session() as db:
        organisation = directory.create_organisation(db, OPERATOR, "さくら市")
        planning = directory.create_team(db, OPERATOR, organisation.id, "企画課")
        general = directory.create_team(db, OPERATOR, organisation.id, "総務課")
        data = providers.ProviderInput(
            slug="city", display_name="さくら市 ID", issuer=idp.issuer, client_id="hiraga", client_secret="s3cret"
        )
        providers.create_provider(db, OPERATOR, data, settings)
        for value, grant, team in [
            ("企画", "member", planning.id),
            ("企画-admin", "admin", planning.id),
            ("総務", "member", general.id),
            ("audit", "auditor", None),
        ]:
            providers.add_rule(db, OPERATOR, claim="groups", value=value, grant=grant, team_id=team)
        return Org(planning=planning.id, general=general.id)
