"""Upstream API keys at rest: AES-256-GCM with a key derived from the platform secret by HKDF.

A stored value is ``v1:`` + base64(nonce ‖ ciphertext). Rotating ``HIRAGA_SECRET_KEY`` makes old
values unreadable: the admin must enter the upstream keys again (decrypting then fails clearly).
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hiraga.errors import ConfigurationError

VERSION = "v1:"
_INFO = b"hiraga/gateway/upstream-api-keys/v1"
_AAD = b"hiraga upstream api key"
_NONCE_BYTES = 12


class SecretBox:
    """``info``/``aad`` name what the box holds: each kind of secret gets its own derived key."""

    def __init__(self, platform_secret: str, *, info: bytes = _INFO, aad: bytes = _AAD) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"hiraga-gateway", info=info).derive(
            platform_secret.encode("utf-8")
        )
        self._aead = AESGCM(key)
        self._aad = aad

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), self._aad)
        return VERSION + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, stored: str) -> str:
        if not stored.startswith(VERSION):
            raise ConfigurationError("上流 API キーの保存形式が不明です。キーを登録し直してください。")
        try:
            raw = base64.urlsafe_b64decode(stored[len(VERSION) :])
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], self._aad)
        except (InvalidTag, ValueError) as exc:
            raise ConfigurationError(
                "上流 API キーを復号できません（秘密鍵が変更された可能性があります）。キーを登録し直してください。",
                code="upstream_key_unreadable",
            ) from exc
        return plain.decode("utf-8")
