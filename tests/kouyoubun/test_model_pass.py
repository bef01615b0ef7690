"""The model pass: suggestions are findings marked as the model's, placed only where quoted."""

import anyio

from hiraga.kouyoubun.findings import Origin
from hiraga.kouyoubun.model_pass import GatewayModelPass, suggestions_from


def test_suggestions_are_located_and_marked_as_model() -> None:
    text = "本件については速やかに対応する所存である。"
    content = '説明\n[{"quote": "所存である", "suggestion": "予定です", "reason": "平易に"}, {"quote": "無い語"}]'
    [finding] = suggestions_from(content, text)
    assert text[finding.start : finding.end] == "所存である"
    assert finding.origin is Origin.MODEL and finding.reason.startswith("【モデルによる提案】")


def test_unreadable_answers_give_no_suggestions() -> None:
    assert suggestions_from("申し訳ありません", "文章") == []
    assert suggestions_from("[{broken", "文章") == []


def test_gateway_model_pass_sends_one_chat_and_reads_the_answer() -> None:
    sent = []

    async def chat(body: dict) -> dict:
        sent.append(body)
        return {"choices": [{"message": {"content": '[{"quote": "文章", "suggestion": "文", "reason": "短く"}]'}}]}

    found = anyio.run(GatewayModelPass(chat, "m").suggest, "この文章です。", [])
    assert sent[0]["model"] == "m" and "この文章です。" in sent[0]["messages"][0]["content"]
    assert [(f.start, f.end, f.suggestion) for f in found] == [(2, 4, "文")]
