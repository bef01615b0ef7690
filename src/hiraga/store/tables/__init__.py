"""All tables, imported here so that ``Base.metadata`` is complete for Alembic."""

from hiraga.store.tables.apps import AppRun, ProvidedAppJob, ProvidedAppKey, RegisteredApp, RegisteredAppTeam
from hiraga.store.tables.audit import AuditChainHead, AuditCheckpoint
from hiraga.store.tables.base import Base
from hiraga.store.tables.datasets import DatasetItem, DatasetOptOut, DatasetPolicy
from hiraga.store.tables.evaluation import ArenaBattle, EvalPairwise, EvalResult, EvalRun, EvalSet, EvalSetItem
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
    TaskRun,
)
from hiraga.store.tables.sso import (
    ScimGroup,
    ScimGroupMember,
    ScimToken,
    ScimUser,
    SsoIdentity,
    SsoLoginState,
    SsoMappingRule,
    SsoProvider,
    SsoSession,
)
from hiraga.store.tables.usage import AuditRecord, LimitCounter, LimitDefinition, UsageRecord

__all__ = [
    "ApiKey",
    "AppRun",
    "AppUse",
    "ArenaBattle",
    "Attachment",
    "AuditChainHead",
    "AuditCheckpoint",
    "AuditRecord",
    "Base",
    "Bot",
    "BuilderApp",
    "BuilderAppTeam",
    "Conversation",
    "DatasetItem",
    "DatasetOptOut",
    "DatasetPolicy",
    "EvalPairwise",
    "EvalResult",
    "EvalRun",
    "EvalSet",
    "EvalSetItem",
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
    "ScimGroup",
    "ScimGroupMember",
    "ScimToken",
    "ScimUser",
    "SsoIdentity",
    "SsoLoginState",
    "SsoMappingRule",
    "SsoProvider",
    "SsoSession",
    "SystemState",
    "TaskRun",
    "Team",
    "TeamRole",
    "UsageRecord",
    "User",
    "WebSession",
]
