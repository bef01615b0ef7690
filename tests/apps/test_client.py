"""Contract tests, hiraga → app: the client against the reference app (a real process) for every
variant of the protocol, good and bad."""

from __future__ import annotations

import base64

import pytest
from app_world import ReferenceApp

from hiraga.apps.client import AppCallFailed, AppClient, AppTarget
from hiraga.errors import HiragaError
from hiraga.net.outbound import OutboundClient, OutboundRefused

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def client(max_bytes: int = 20 * 1024 * 1024) -> AppClient:
    outbound = OutboundClient(allowed_hosts=["127.0.0.1"], max_response_bytes=max_bytes)
    return AppClient(outbound, first_poll_s=0.05, max_poll_s=0.2)


def target(app: ReferenceApp, variant: str, timeout: float = 10, key: str | None = None) -> AppTarget:
    return AppTarget(app.url(variant), app.key if key is None else key, timeout)


async def failure(app: ReferenceApp, variant: str, body: dict | None = None, **kw: object) -> HiragaError:
    with pytest.raises(HiragaError) as caught:
        await client().call(target(app, variant, **kw), body or {"inputs": {}})  # type: ignore[arg-type]
    return caught.value


async def test_sync_answer_with_usage_per_model(reference_app: ReferenceApp):
    answer = await client().call(target(reference_app, "sync"), {"inputs": {"input_text": "こんにちは"}})
    assert "こんにちは" in answer.outputs
    assert [u.model_version for u in answer.usage_metadata] == ["model-a", "model-b"]
    assert answer.usage_metadata[0].tokens.input_tokens == 100
    assert answer.usage_metadata[1].estimated_cost_info is not None
    assert str(answer.usage_metadata[1].estimated_cost_info.estimated_cost) == "0.25"


async def test_files_travel_as_base64_and_artifacts_come_back(reference_app: ReferenceApp):
    content = base64.b64encode("議事録".encode()).decode()
    inputs = {"files": [{"key": "doc", "files": [{"filename": "a.txt", "content": content}]}]}
    answer = await client().call(target(reference_app, "files"), {"inputs": inputs})
    assert "doc: a.txt (9 bytes)" in answer.outputs
    assert answer.artifacts[0].display_name == "echo-a.txt"
    assert base64.b64decode(answer.artifacts[0].content).decode() == "議事録"


async def test_chat_history_and_contents_read_as_artifacts(reference_app: ReferenceApp):
    history = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    answer = await client().call(target(reference_app, "chat"), {"inputs": {"chat_history": history}})
    assert answer.outputs == "履歴 2 件"
    assert base64.b64decode(answer.artifacts[0].content).decode() == "履歴レポート"


async def test_async_polls_until_completed_reporting_progress(reference_app: ReferenceApp):
    seen: list[str] = []

    async def progress(status: str) -> None:
        seen.append(status)

    answer = await client().call(target(reference_app, "async"), {"inputs": {}}, progress)
    assert answer.outputs == "非同期の結果"
    assert answer.usage_metadata[0].model_version == "model-c"
    assert seen == ["PENDING", "IN_PROGRESS"]


@pytest.mark.parametrize(
    ("variant", "code", "words"),
    [
        ("async-error", "app_job_failed", "非同期処理で失敗しました"),
        ("async-foreign", "app_status_url_refused", "別の接続先"),
        ("error400", "app_rejected_input", "input_text is too long"),
        ("error500", "app_error", "backend exploded"),
        ("nonjson", "app_not_json", "JSON ではありません"),
        ("no-outputs", "app_missing_outputs", "outputs"),
        ("wrong-status", "app_bad_status", "204"),
        ("redirect", "outbound_redirect", "リダイレクト"),
        ("no-such-variant", "app_rejected_input", "404"),
    ],
)
async def test_faults_become_clear_japanese_errors(reference_app: ReferenceApp, variant: str, code: str, words: str):
    error = await failure(reference_app, variant)
    assert error.code == code
    assert words in error.message


async def test_wrong_key_is_reported_as_such(reference_app: ReferenceApp):
    error = await failure(reference_app, "sync", key="wrong")
    assert error.code == "app_unauthorised"
    assert "API キー" in error.message


async def test_slow_and_never_finishing_apps_give_up_after_the_timeout(reference_app: ReferenceApp):
    for variant in ("slow", "never"):
        error = await failure(reference_app, variant, timeout=1)
        assert isinstance(error, AppCallFailed)
        assert error.code == "app_timeout", variant
        assert "制限時間（1 秒）" in error.message


async def test_oversized_answers_are_cut_off(reference_app: ReferenceApp):
    with pytest.raises(HiragaError) as caught:
        await client(max_bytes=1024 * 1024).call(target(reference_app, "oversized"), {"inputs": {}})
    assert caught.value.code == "outbound_response_too_large"
    assert "大きすぎます" in caught.value.message


async def test_the_app_must_be_allow_listed_when_it_is_internal(reference_app: ReferenceApp):
    strict = AppClient(OutboundClient())
    with pytest.raises(OutboundRefused) as caught:
        await strict.call(target(reference_app, "sync"), {"inputs": {}})
    assert "内部向け" in caught.value.message
