"""Argon2id password hashing and the password policy."""

from __future__ import annotations

from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hiraga.errors import ConfigurationError, InvalidInput

HashingProfile = Literal["standard", "test"]
MAX_PASSWORD_LENGTH = 256

_PROFILES: dict[HashingProfile, PasswordHasher] = {
    # argon2id, library defaults (RFC 9106 low-memory profile: t=3, m=64 MiB, p=4)
    "standard": PasswordHasher(),
    # for test suites only: the cheapest argon2id the library accepts (refused in production);
    # hashes made with it are re-hashed with the standard profile at the next login
    "test": PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
}
_hasher = _PROFILES["standard"]


def use_hashing_profile(profile: HashingProfile, *, environment: str = "development") -> None:
    """Select the argon2 parameters for new hashes (the app factory and the CLI call this from settings)."""
    global _hasher
    if profile != "standard" and environment == "production":
        raise ConfigurationError("本番モードでは HIRAGA_PASSWORD_HASHING=standard 以外は使えません。")
    _hasher = _PROFILES[profile]


class WeakPassword(InvalidInput):
    code = "weak_password"


def check_policy(password: str, *, min_length: int, email: str | None = None) -> None:
    """Refuse passwords that are short, single-class or contain the e-mail's local part."""
    if len(password) < min_length:
        raise WeakPassword(f"パスワードは {min_length} 文字以上にしてください。", detail={"field": "password"})
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"パスワードは {MAX_PASSWORD_LENGTH} 文字以内にしてください。", detail={"field": "password"})
    if len(set(password)) < 5:
        raise WeakPassword("同じ文字の繰り返しが多すぎます。", detail={"field": "password"})
    classes = sum(
        [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
    )
    if classes < 2 and password.isascii():
        raise WeakPassword(
            "英大文字・英小文字・数字・記号のうち 2 種類以上を含めてください。", detail={"field": "password"}
        )
    local = (email or "").split("@", 1)[0].lower()
    if len(local) >= 4 and local in password.lower():
        raise WeakPassword("パスワードにメールアドレスを含めないでください。", detail={"field": "password"})


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        _hasher.hash(password)  # same cost whether or not the account exists
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
