"""Single sign-on: OpenID Connect providers, linked identities, claim-mapping rules, pending sign-ins,
the sessions they started, and SCIM provisioning (tokens, users, groups)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hiraga.store.tables.base import Base, UtcDateTime, utcnow
from hiraga.store.tables.identity import User


class SsoProvider(Base):
    """One OpenID Connect provider. The client secret is stored encrypted (``gateway.secrets``)."""

    __tablename__ = "sso_providers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(300))
    client_secret_enc: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    scopes: Mapped[str] = mapped_column(String(300), default="openid email profile")
    groups_claim: Mapped[str] = mapped_column(String(100), default="groups")
    require_verified_email: Mapped[bool] = mapped_column(Boolean, default=True)
    jit_provisioning: Mapped[bool] = mapped_column(Boolean, default=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class SsoIdentity(Base):
    """A provider's subject (``sub``) linked to a hiraga user."""

    __tablename__ = "sso_identities"
    __table_args__ = (UniqueConstraint("provider_id", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("sso_providers.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    user: Mapped[User] = relationship()


class SsoMappingRule(Base):
    """``claim`` holding ``value`` grants ``grant`` (``member``/``admin`` of ``team_id``, ``auditor``,
    ``system_admin``). ``provider_id`` None: the rule applies to every provider and to SCIM groups."""

    __tablename__ = "sso_mapping_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("sso_providers.id", ondelete="CASCADE"), nullable=True, index=True
    )
    claim: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(String(300))
    grant: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SsoLoginState(Base):
    """A sign-in in progress: the ``state`` (as a digest), bound to the browser that started it (a
    cookie's digest), with the nonce and PKCE verifier. Deleted when used: a replayed state fails."""

    __tablename__ = "sso_login_states"

    state_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    browser_digest: Mapped[str] = mapped_column(String(64))
    provider_id: Mapped[int] = mapped_column(ForeignKey("sso_providers.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(100))
    code_verifier: Mapped[str] = mapped_column(String(200))
    next_path: Mapped[str] = mapped_column(String(2000), default="/")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class SsoSession(Base):
    """A web session started by a provider: what RP-initiated logout needs (the ID token, encrypted)."""

    __tablename__ = "sso_sessions"

    session_digest: Mapped[str] = mapped_column(ForeignKey("web_sessions.digest", ondelete="CASCADE"), primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("sso_providers.id", ondelete="CASCADE"))
    id_token_enc: Mapped[str] = mapped_column(Text)


class ScimToken(Base):
    """A bearer token for the SCIM endpoints; only its SHA-256 digest is stored."""

    __tablename__ = "scim_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ScimUser(Base):
    """The SCIM view of a provisioned user: the resource as the IdP sent it (JSON), beside the user."""

    __tablename__ = "scim_users"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(320), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    resource: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class ScimGroup(Base):
    """A group provisioned by SCIM; its name and external id are what mapping rules on ``groups`` match."""

    __tablename__ = "scim_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(255), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    resource: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ScimGroupMember(Base):
    __tablename__ = "scim_group_members"

    group_id: Mapped[int] = mapped_column(ForeignKey("scim_groups.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
