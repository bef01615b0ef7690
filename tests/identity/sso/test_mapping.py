"""Mapping rules, evaluated without a database: claims (lists, strings, booleans, dotted paths, the
e-mail domain) → teams and platform roles, and which teams and roles the rules manage."""

from __future__ import annotations

from hiraga.identity.sso.mapping import claim_values, evaluate
from hiraga.store.tables import SsoMappingRule, TeamRole


def rule(claim: str, value: str, grant: str, team_id: int | None = None) -> SsoMappingRule:
    return SsoMappingRule(claim=claim, value=value, grant=grant, team_id=team_id)


RULES = [
    rule("groups", "企画", "member", 1),
    rule("groups", "企画-admin", "admin", 1),
    rule("realm_access.roles", "hiraga-auditor", "auditor"),
    rule("email_domain", "city.example.jp", "member", 2),
    rule("is_cio", "true", "system_admin"),
]


def test_claims_of_every_shape_are_read_as_strings() -> None:
    claims = {"groups": ["a", 3, None], "nested": {"roles": ["x"]}, "flag": True, "email": "A@City.Example.JP"}
    assert claim_values(claims, "groups") == {"a", "3"}
    assert claim_values(claims, "nested.roles") == {"x"}
    assert claim_values(claims, "flag") == {"true"}
    assert claim_values(claims, "email_domain") == {"city.example.jp"}
    assert claim_values(claims, "missing.path") == set()


def test_admin_wins_over_member_whatever_the_rule_order() -> None:
    for rules in (RULES, list(reversed(RULES))):
        grants = evaluate(rules, {"groups": ["企画", "企画-admin"], "email": "x@other.example"})
        assert grants.teams == {1: TeamRole.ADMIN}


def test_everything_the_rules_name_is_managed_even_when_nothing_matches() -> None:
    grants = evaluate(RULES, {"email": "someone@elsewhere.example"})
    assert not grants.grants_anything
    assert grants.managed_teams == {1, 2} and grants.manages_auditor and grants.manages_system_admin


def test_roles_from_nested_claims_domains_and_booleans() -> None:
    claims = {"realm_access": {"roles": ["hiraga-auditor"]}, "email": "hanako@CITY.example.jp", "is_cio": True}
    grants = evaluate(RULES, claims)
    assert grants.teams == {2: TeamRole.MEMBER} and grants.is_auditor and grants.is_system_admin
