"""The one exception tree. Every error a user can see is a HiragaError with a stable code,
an HTTP status and a Japanese message; ``hiraga.web.error_responses`` turns it into the one
JSON error shape (or OpenAI's envelope under ``/v1``)."""

from __future__ import annotations

from typing import Any


class HiragaError(Exception):
    status: int = 500
    code: str = "internal_error"
    message: str = "内部エラーが発生しました。"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        detail: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or type(self).message
        self.code = code or type(self).code
        self.detail = detail
        self.headers = headers or {}
        super().__init__(self.message)


class ConfigurationError(HiragaError):
    code = "configuration_error"
    message = "設定に誤りがあります。"


class InvalidInput(HiragaError):
    status = 400
    code = "invalid_input"
    message = "入力内容に誤りがあります。"


class PayloadTooLarge(HiragaError):
    status = 413
    code = "payload_too_large"
    message = "リクエストが大きすぎます。"


class NotAuthenticated(HiragaError):
    status = 401
    code = "not_authenticated"
    message = "ログインまたは有効な API キーが必要です。"


class Forbidden(HiragaError):
    status = 403
    code = "forbidden"
    message = "この操作を行う権限がありません。"


class CsrfRejected(Forbidden):
    code = "csrf_rejected"
    message = "フォームの有効期限が切れたか、不正な送信です。ページを再読み込みしてもう一度お試しください。"


class OriginRejected(Forbidden):
    code = "origin_rejected"
    message = "別のサイトからの送信は受け付けません。このサイトの画面から操作してください。"


class NotFound(HiragaError):
    status = 404
    code = "not_found"
    message = "指定されたものが見つかりません。"


class Conflict(HiragaError):
    status = 409
    code = "conflict"
    message = "既に存在します。"


class UnsupportedMediaType(HiragaError):
    status = 415
    code = "unsupported_media_type"
    message = "リクエスト本文は JSON（Content-Type: application/json）で送ってください。"


class TooManyRequests(HiragaError):
    status = 429
    code = "too_many_requests"
    message = "リクエストが多すぎます。しばらく待ってからお試しください。"

    def __init__(self, message: str | None = None, *, retry_after: int, **kwargs: Any) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after))}, **kwargs)
        self.retry_after = retry_after


class UpstreamFailed(HiragaError):
    status = 502
    code = "upstream_failed"
    message = "モデルサーバーから正しい応答が得られませんでした。"


class ServiceUnavailable(HiragaError):
    status = 503
    code = "service_unavailable"
    message = "現在サービスを利用できません。しばらく待ってからお試しください。"
