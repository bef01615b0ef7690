"""POST /api/v1/kouyoubun/check: findings with spans into the sent text; bad input refused in Japanese."""

from __future__ import annotations

from fastapi.testclient import TestClient

from hiraga.kouyoubun.protocol import MAX_TEXT_CHARS

from .world import World

URL = "/api/v1/kouyoubun/check"


def test_findings_carry_span_rule_reason_fix_and_source(client: TestClient, world: World) -> None:
    text = "令和６年に申請して下さい。\n国並びに県は協力する。"
    response = client.post(URL, json={"text": text}, headers=world.headers("member"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["characters"] == len(text) and body["model_pass"] is None
    by_rule = {f["rule_id"]: f for f in body["findings"]}
    assert {"digits.full_width", "kana.word", "conjunction.level"} <= by_rule.keys()
    for finding in body["findings"]:
        assert text[finding["start"] : finding["end"]] == finding["text"]
        assert finding["reason"] and finding["source"] and finding["origin"] == "rule"
    assert by_rule["kana.word"]["suggestion"] == "ください"


def test_options_choose_rules_and_thresholds(client: TestClient, world: World) -> None:
    text = "あ" * 30 + "。１"
    response = client.post(
        URL,
        json={"text": text, "families": ["length"], "long_sentence_chars": 20, "soft_sentence_chars": 20},
        headers=world.headers("member"),
    )
    assert [f["rule_id"] for f in response.json()["findings"]] == ["length.long"]


def test_bad_input_is_refused_with_a_japanese_message(client: TestClient, world: World) -> None:
    headers = world.headers("member")
    cases = [
        ({"text": "  \n"}, 400, "empty_text"),
        ({"text": "あ" * (MAX_TEXT_CHARS + 1)}, 413, "text_too_long"),
        ({"text": "文。", "families": ["spelling"]}, 400, "invalid_input"),
    ]
    for body, status, code in cases:
        response = client.post(URL, json=body, headers=headers)
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert error["code"] == code and error["message"]
    assert client.post(URL, json={"text": "文。", "extra": 1}, headers=headers).status_code == 400
    assert client.post(URL, json={"text": 3}, headers=headers).status_code == 400


def test_anonymous_callers_are_refused(client: TestClient, world: World) -> None:
    response = client.post(URL, json={"text": "文。"}, headers=world.headers("anonymous"))
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"
