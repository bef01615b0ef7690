"""All tables, imported here so that ``Base.metadata`` is complete for Alembic."""

from hiraga.store.tables.apps import AppRun, ProvidedAppJob, ProvidedAppKey, RegisteredApp, RegisteredAppTeam
from hiraga.store.tables.audit import AuditChainHead, AuditCheckpoint
from hiraga.store.tables.base import Base
from hiraga.store.tables.gateway import ModelAlias, ModelEndpoint, ModelEndpointTeam
from hiraga.store.tables.identity import (
    ApiKey,
    LoginFailure,
    Membership,
    Organisation,
    SystemState,
    Team,
    TeamRole,
    User,
    WebSession,
)
from hiraga.store.tables.knowledge import KbChunk, KbDocument, KbIngestJob, KbStagedChunk, KnowledgeBase
from hiraga.store.tables.mcp import McpServer, McpTool, McpToolCall, McpToolTeam
from hiraga.store.tables.platform import PlatformSetting
from hiraga.store.tables.portal import (
    AppUse,
    Attachment,
    Bot,
    BuilderApp,
    BuilderAppTeam,
    Conversation,
    Feedback,
    Message,
)
from hiraga.store.tables.usage import AuditRecord, LimitCounter, LimitDefinition, UsageRecord

__all__ = [
    "ApiKey",
    "AppRun",
    "AppUse",
    "Attachment",
    "AuditChainHead",
    "AuditCheckpoint",
    "AuditRecord",
    "Base",
    "Bot",
    "BuilderApp",
    "BuilderAppTeam",
    "Conversation",
    "Feedback",
    "KbChunk",
    "KbDocument",
    "KbIngestJob",
    "KbStagedChunk",
    "KnowledgeBase",
    "LimitCounter",
    "LimitDefinition",
    "LoginFailure",
    "McpServer",
    "McpTool",
    "McpToolCall",
    "McpToolTeam",
    "Membership",
    "Message",
    "ModelAlias",
    "ModelEndpoint",
    "ModelEndpointTeam",
    "Organisation",
    "PlatformSetting",
    "ProvidedAppJob",
    "ProvidedAppKey",
    "RegisteredApp",
    "RegisteredAppTeam",
    "SystemState",
    "Team",
    "TeamRole",
    "UsageRecord",
    "User",
    "WebSession",
]
