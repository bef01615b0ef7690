"""Chat replies through the real gateway to a stub upstream: kept, streamed, regenerated, edited;
failures keep the partial answer (incomplete) or say why nothing came (failed); nothing else is lost."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from gateway_stub import REPLY
from gateway_world import World

from .support import STUB_MODEL, conversation, sse_events


def send(client: TestClient, key: str, conversation_id: int, content: str, **extra: Any) -> Any:
    return client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"content": content, **extra},
        headers=World.auth(key),
    )


def messages(client: TestClient, key: str, conversation_id: int) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/conversations/{conversation_id}", headers=World.auth(key))
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()["messages"]
    return result


def test_a_reply_is_kept_with_the_model_that_answered(client, world, stub, stub_model) -> None:
    cid = conversation(client, world.alice_key, classification=2)
    reply = send(client, world.alice_key, cid, "東京の天気は？")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["status"] == "complete" and body["content"] == REPLY and body["model_name"] == STUB_MODEL
    sent = stub.chat_requests()[-1].body
    assert sent["messages"][-1] == {"role": "user", "content": "東京の天気は？"}
    assert sent["messages"][0]["role"] == "system" and sent["max_tokens"] >= 16
    kept = messages(client, world.alice_key, cid)
    assert [(m["role"], m["content"], m["status"]) for m in kept] == [
        ("user", "東京の天気は？", "complete"),
        ("assistant", REPLY, "complete"),
    ]
    listing = client.get("/api/v1/conversations", params={"q": "天気"}, headers=World.auth(world.alice_key)).json()
    assert [c["id"] for c in listing] == [cid] and listing[0]["title"] == "東京の天気は？"


def test_the_reply_streams_as_sse_and_names_the_model(client, world, stub, stub_model) -> None:
    cid = conversation(client, world.alice_key)
    response = send(client, world.alice_key, cid, "こんにちは", stream=True)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    assert events[0] == ("model", {"name": STUB_MODEL, "builtin": False, "note": None})
    assert "".join(data["text"] for name, data in events if name == "delta") == REPLY
    name, done = events[-1]
    assert name == "done" and done["status"] == "complete" and done["content"] == REPLY
    assert done["html"] == f"<p>{REPLY}</p>\n"
    assert messages(client, world.alice_key, cid)[-1]["id"] == done["message_id"]


def test_a_model_failing_mid_stream_keeps_the_partial_answer_marked_incomplete(client, world, stub, stub_model):
    cid = conversation(client, world.alice_key)
    stub.plan("garbled_mid_sse")
    events = sse_events(send(client, world.alice_key, cid, "説明して", stream=True).text)
    partial = "".join(data["text"] for name, data in events if name == "delta")
    done = events[-1][1]
    assert partial and REPLY.startswith(partial) and partial != REPLY
    assert done["status"] == "incomplete" and done["content"] == partial
    assert "モデルサーバー" in done["error_message"]
    kept = messages(client, world.alice_key, cid)
    assert [(m["role"], m["status"]) for m in kept] == [("user", "complete"), ("assistant", "incomplete")]
    assert kept[1]["content"] == partial and kept[1]["error_message"] == done["error_message"]


def test_a_refused_call_keeps_the_question_and_says_why(client, world, stub, stub_model) -> None:
    cid = conversation(client, world.alice_key, classification=3)  # the stub model is cleared for 2 only
    body = send(client, world.alice_key, cid, "秘密の相談").json()
    assert body["status"] == "failed" and body["content"] == ""
    assert "機密性3" in body["error_message"] and "クリアランス" in body["error_message"]
    assert stub.chat_requests() == []  # nothing was sent upstream
    kept = messages(client, world.alice_key, cid)
    assert [(m["role"], m["status"]) for m in kept] == [("user", "complete"), ("assistant", "failed")]


def test_regenerate_replaces_the_last_answer(client, world, stub, stub_model) -> None:
    cid = conversation(client, world.alice_key)
    first = send(client, world.alice_key, cid, "一つ目").json()
    again = client.post(f"/api/v1/conversations/{cid}/regenerate", json={}, headers=World.auth(world.alice_key))
    assert first["status"] == "complete" and again.status_code == 200
    kept = messages(client, world.alice_key, cid)
    assert [m["role"] for m in kept] == ["user", "assistant"] and kept[1]["id"] == again.json()["message_id"]
    assert len(stub.chat_requests()) == 2
    assert stub.chat_requests()[-1].body["messages"][-1]["content"] == "一つ目"


def test_edit_and_resend_drops_what_followed(client, world, stub, stub_model) -> None:
    cid = conversation(client, world.alice_key)
    send(client, world.alice_key, cid, "最初の質問")
    send(client, world.alice_key, cid, "次の質問")
    first_question = messages(client, world.alice_key, cid)[0]["id"]
    edited = client.post(
        f"/api/v1/conversations/{cid}/messages/{first_question}/edit",
        json={"content": "直した質問"},
        headers=World.auth(world.alice_key),
    )
    assert edited.status_code == 200, edited.text
    kept = messages(client, world.alice_key, cid)
    assert [(m["role"], m["content"]) for m in kept] == [("user", "直した質問"), ("assistant", REPLY)]
    assert [m["content"] for m in stub.chat_requests()[-1].body["messages"][1:]] == ["直した質問"]


def test_the_history_goes_to_the_model_and_bots_set_the_system_prompt(client, world, stub, stub_model, database):
    from hiraga.store.tables import Bot

    with database.session() as db:
        bot = Bot(team_id=world.team_a, name="窓口案内", system_prompt="住民に丁寧に案内してください。")
        db.add(bot)
        db.flush()
        bot_id = bot.id
    refused = client.post(
        "/api/v1/conversations", json={"model": STUB_MODEL, "bot_id": bot_id}, headers=World.auth(world.bob_key)
    )
    assert refused.status_code == 404  # another team's bot does not exist for bob
    cid = conversation(client, world.alice_key, bot_id=bot_id)
    send(client, world.alice_key, cid, "一つ目")
    send(client, world.alice_key, cid, "二つ目")
    sent = stub.chat_requests()[-1].body["messages"]
    assert sent[0] == {"role": "system", "content": "住民に丁寧に案内してください。"}
    assert [m["content"] for m in sent[1:]] == ["一つ目", REPLY, "二つ目"]


def test_models_offered_are_only_those_the_user_may_use(client, world, stub, stub_model) -> None:
    from gateway_world import add_endpoint

    add_endpoint(client, world, "team-b-only", stub.base_url, all_teams=False, team_ids=[world.team_b])
    refused = client.post("/api/v1/conversations", json={"model": "team-b-only"}, headers=World.auth(world.alice_key))
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "model_not_found"
    allowed = client.post("/api/v1/conversations", json={"model": "team-b-only"}, headers=World.auth(world.bob_key))
    assert allowed.status_code == 201


def test_bad_input_changes_nothing(client, world, stub, stub_model) -> None:
    cid = conversation(client, world.alice_key)
    blank = send(client, world.alice_key, cid, "  \n ")
    assert blank.status_code == 400 and blank.json()["error"]["code"] == "empty_message"
    huge = send(client, world.alice_key, cid, "あ" * 100_001)
    assert huge.status_code == 400
    assert messages(client, world.alice_key, cid) == [] and stub.chat_requests() == []
    other = send(client, world.bob_key, cid, "覗き見")
    assert other.status_code == 404


def test_feedback_is_kept_per_reply_and_replaced_on_change(client, world, stub, stub_model, database) -> None:
    from hiraga.store.tables import Feedback

    cid = conversation(client, world.alice_key)
    reply = send(client, world.alice_key, cid, "質問").json()
    path = f"/api/v1/conversations/{cid}/messages/{reply['message_id']}/feedback"
    first = client.put(path, json={"rating": "bad", "comment": "違う"}, headers=World.auth(world.alice_key))
    assert first.status_code == 200 and first.json()["model_name"] == STUB_MODEL
    second = client.put(
        path, json={"rating": "good", "corrected_answer": "正しい答え"}, headers=World.auth(world.alice_key)
    )
    assert second.status_code == 200
    with database.session() as db:
        rows = db.query(Feedback).all()
        assert [(r.rating, r.comment, r.corrected_answer) for r in rows] == [("good", "", "正しい答え")]
    bad = client.put(path, json={"rating": "meh"}, headers=World.auth(world.alice_key))
    assert bad.status_code == 400
    unknown = client.put(path, json={"rating": "bad", "category": "typo"}, headers=World.auth(world.alice_key))
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "invalid_feedback_category"
    why = client.put(path, json={"rating": "bad", "category": "japanese"}, headers=World.auth(world.alice_key))
    assert why.status_code == 200 and why.json()["category"] == "japanese"
