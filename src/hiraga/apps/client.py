"""Calling a registered app over the Gennai AI-app protocol.

``POST <endpoint>`` with ``{"inputs": ...}`` and ``x-api-key`` through the hardened outbound client;
``200`` is the answer, ``202`` starts polling ``status_url`` (same origin as the endpoint only,
backoff, no redirects) until COMPLETED / ERROR or the app's timeout. Every fault becomes an
``AppCallFailed`` with a stable code and a Japanese message for the user.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from pydantic import ValidationError

from hiraga.apps.protocol import Accepted, AppAnswer, JobState, JobStatus, error_message
from hiraga.errors import UpstreamFailed
from hiraga.net.outbound import DEFAULT_PORTS, OutboundClient, OutboundFailed, OutboundResponse

Progress = Callable[[str], Awaitable[None]]
MAX_APP_MESSAGE = 300


class AppCallFailed(UpstreamFailed):
    code = "app_failed"
    message = "アプリから正しい応答が得られませんでした。"


@dataclass(frozen=True, slots=True)
class AppTarget:
    endpoint_url: str
    api_key: str | None
    timeout_seconds: float


def origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme, 0)


def _json(response: OutboundResponse) -> Any:
    try:
        return json.loads(response.body)
    except (ValueError, UnicodeDecodeError):
        raise AppCallFailed("アプリの応答が JSON ではありません。", code="app_not_json") from None


def _answer(data: Any) -> AppAnswer:
    if not isinstance(data, dict) or not isinstance(data.get("outputs"), str):
        raise AppCallFailed("アプリの応答に outputs（文字列）がありません。", code="app_missing_outputs")
    try:
        return AppAnswer.model_validate(data)
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"])
        raise AppCallFailed(f"アプリの応答の「{where}」の形式が正しくありません。", code="app_bad_response") from None


def _app_error(response: OutboundResponse) -> AppCallFailed:
    status = response.status
    if status in (401, 403):
        return AppCallFailed(f"アプリが API キーを受け付けませんでした（{status}）。", code="app_unauthorised")
    try:
        said = error_message(json.loads(response.body))
    except (ValueError, UnicodeDecodeError):
        said = None
    suffix = f": {said[:MAX_APP_MESSAGE]}" if said else "。"
    if status < 500:
        return AppCallFailed(f"アプリが入力を受け付けませんでした（{status}）{suffix}", code="app_rejected_input")
    return AppCallFailed(f"アプリでエラーが発生しました（{status}）{suffix}", code="app_error")


class AppClient:
    def __init__(
        self,
        outbound: OutboundClient,
        *,
        first_poll_s: float = 0.5,
        max_poll_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.outbound = outbound
        self.first_poll_s = first_poll_s
        self.max_poll_s = max_poll_s
        self.clock = clock

    async def call(self, target: AppTarget, body: dict[str, Any], progress: Progress | None = None) -> AppAnswer:
        deadline = self.clock() + target.timeout_seconds
        try:
            return await asyncio.wait_for(self._call(target, body, deadline, progress), target.timeout_seconds + 1)
        except TimeoutError:
            raise self._timed_out(target) from None
        except OutboundFailed as exc:
            if exc.code == "outbound_timeout":
                raise self._timed_out(target) from exc
            raise

    async def _call(
        self, target: AppTarget, body: dict[str, Any], deadline: float, progress: Progress | None
    ) -> AppAnswer:
        response = await self.outbound.request(
            "POST", target.endpoint_url, headers=self._headers(target), json_body=body, timeout=self._left(deadline)
        )
        if response.status == 200:
            return _answer(_json(response))
        if response.status == 202:
            status_url = self._status_url(target, _json(response))
            return await self._poll(target, status_url, deadline, progress)
        if response.status >= 400:
            raise _app_error(response)
        raise AppCallFailed(f"アプリが想定外のステータス {response.status} を返しました。", code="app_bad_status")

    def _status_url(self, target: AppTarget, data: Any) -> str:
        try:
            accepted = Accepted.model_validate(data)
        except ValidationError:
            raise AppCallFailed("アプリの 202 応答に status_url がありません。", code="app_bad_response") from None
        url = urljoin(target.endpoint_url, accepted.status_url)
        if origin(url) != origin(target.endpoint_url):
            raise AppCallFailed(
                "アプリが別の接続先の status_url を返したため、問い合わせを中止しました。",
                code="app_status_url_refused",
            )
        return url

    async def _poll(self, target: AppTarget, url: str, deadline: float, progress: Progress | None) -> AppAnswer:
        delay = self.first_poll_s
        while True:
            left = self._left(deadline)
            if left <= 0:
                raise self._timed_out(target)
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 1.6, self.max_poll_s)
            response = await self.outbound.request(
                "GET", url, headers=self._headers(target), timeout=max(self._left(deadline), 0.1)
            )
            if response.status >= 400:
                raise _app_error(response)
            if response.status not in (200, 202):
                raise AppCallFailed(
                    f"アプリが想定外のステータス {response.status} を返しました。", code="app_bad_status"
                )
            state = self._state(_json(response))
            if state.status is JobStatus.COMPLETED:
                return _answer(_json(response))
            if state.status is JobStatus.ERROR:
                said = (state.error or "")[:MAX_APP_MESSAGE]
                raise AppCallFailed(f"アプリの処理が失敗しました{': ' + said if said else '。'}", code="app_job_failed")
            if progress is not None:
                await progress(state.status.value)

    @staticmethod
    def _state(data: Any) -> JobState:
        try:
            return JobState.model_validate(data)
        except ValidationError:
            raise AppCallFailed("アプリの状態応答の status が正しくありません。", code="app_bad_response") from None

    @staticmethod
    def _headers(target: AppTarget) -> dict[str, str]:
        headers = {"accept": "application/json"}
        if target.api_key:
            headers["x-api-key"] = target.api_key
        return headers

    def _left(self, deadline: float) -> float:
        return deadline - self.clock()

    @staticmethod
    def _timed_out(target: AppTarget) -> AppCallFailed:
        return AppCallFailed(
            f"アプリが制限時間（{target.timeout_seconds:g} 秒）内に処理を終えませんでした。", code="app_timeout"
        )
