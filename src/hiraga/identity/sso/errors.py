"""Why a single sign-on failed: one error class, a stable code per reason, a Japanese message."""

from __future__ import annotations

from hiraga.errors import HiragaError

MESSAGES: dict[str, tuple[int, str]] = {
    "state_invalid": (
        400,
        "サインインの要求が無効か、有効期限が切れているか、既に使われています。最初からやり直してください。",
    ),
    "provider_error": (401, "ID プロバイダーがサインインを拒否しました。"),
    "provider_unavailable": (
        502,
        "ID プロバイダーに接続できないか、応答が正しくありません。しばらく待ってから再度お試しください。",
    ),
    "provider_timeout": (504, "ID プロバイダーが時間内に応答しませんでした。しばらく待ってから再度お試しください。"),
    "provider_refused": (
        502,
        "ID プロバイダーの接続先が許可されていません（内部向けアドレス）。システム管理者に連絡してください。",
    ),
    "provider_disabled": (404, "このサインイン方法は現在使えません。"),
    "token_invalid": (401, "ID トークンを検証できませんでした（発行者・対象・有効期限・署名のいずれかが不正です）。"),
    "email_missing": (401, "ID プロバイダーからメールアドレスが届きませんでした。"),
    "email_unverified": (401, "メールアドレスが確認済みではないため、サインインできません。"),
    "no_mapping": (
        403,
        "あなたのアカウントは、このシステムのどのチーム・役割にも割り当てられていません。"
        "システム管理者に連絡してください。",
    ),
    "no_account": (403, "このシステムにあなたのアカウントがありません。システム管理者に登録を依頼してください。"),
    "account_inactive": (403, "このアカウントは無効化されています。"),
    "break_glass_account": (403, "緊急用管理者アカウントにはシングルサインオンを使えません。"),
}


class SsoFailed(HiragaError):
    """A refused or failed sign-in; ``reason`` is the audit record's reason, ``code`` is ``sso_<reason>``."""

    def __init__(self, reason: str, *, detail: object = None, message: str | None = None) -> None:
        status, text = MESSAGES[reason]
        self.status = status
        self.reason = reason
        super().__init__(message or text, code=f"sso_{reason}", detail=detail)
