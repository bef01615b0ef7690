"""The audit log's keys, derived from the secret key: one for the record chain, one for signing
checkpoints, one for signing anchors of the chain head. An attacker who can write the database but
does not hold the secret key can neither recompute the chain after an edit nor forge a checkpoint
or an anchor.

The chain key travels with the engine (a SQLAlchemy execution option), so every writer of audit
records — the gateway's ledger, app runs, app events — chains with it without passing it around.
A connection without it cannot append: the write fails rather than going unchained.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from hiraga.errors import ConfigurationError
from hiraga.settings import Settings

OPTION = "hiraga_audit_chain_key"


@dataclass(frozen=True, slots=True)
class AuditKeys:
    chain: bytes
    checkpoint: bytes
    anchor: bytes  # signs the chain heads anchored outside the database (hiraga.audit.anchors)


def derive(secret: str) -> AuditKeys:
    root = secret.encode()
    return AuditKeys(
        chain=hmac.digest(root, b"hiraga audit chain v1", hashlib.sha256),
        checkpoint=hmac.digest(root, b"hiraga audit checkpoint v1", hashlib.sha256),
        anchor=hmac.digest(root, b"hiraga audit anchor v1", hashlib.sha256),
    )


def keys_for(settings: Settings) -> AuditKeys:
    return derive(settings.secret())


def bind(engine: Engine, settings: Settings) -> None:
    """Let every connection of ``engine`` append to the chain."""
    engine.update_execution_options(**{OPTION: keys_for(settings).chain})


def chain_key(connection: Connection) -> bytes:
    key = connection.get_execution_options().get(OPTION)
    if not isinstance(key, bytes):
        raise ConfigurationError("監査ログの鍵が設定されていないため、監査記録を書き込めません。")
    return key
