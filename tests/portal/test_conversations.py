"""Conversation messages under concurrency: two tabs or a double click post to one conversation at
once; every message is kept, positions stay unique and dense, nobody sees an internal error."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from gateway_world import World

from .support import conversation

POSTS = 12
CONCURRENCY = 4


def test_concurrent_posts_to_one_conversation_keep_every_message(client: TestClient, world, stub, stub_model) -> None:
    cid = conversation(client, world.alice_key)

    def post(number: int) -> int:
        response = client.post(
            f"/api/v1/conversations/{cid}/messages",
            json={"content": f"質問 {number}"},
            headers=World.auth(world.alice_key),
        )
        return response.status_code

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        statuses = list(pool.map(post, range(POSTS)))
    assert statuses == [200] * POSTS
    detail = client.get(f"/api/v1/conversations/{cid}", headers=World.auth(world.alice_key)).json()
    kept = detail["messages"]
    assert sorted(m["content"] for m in kept if m["role"] == "user") == sorted(f"質問 {n}" for n in range(POSTS))
    assert sum(m["role"] == "assistant" for m in kept) == POSTS
    assert [m["position"] for m in kept] == list(range(2 * POSTS))


def test_a_message_with_nul_is_refused_and_changes_nothing(client: TestClient, world, stub, stub_model) -> None:
    """PostgreSQL cannot store NUL: refused with a clear error on both backends, never a 500."""
    cid = conversation(client, world.alice_key)
    response = client.post(
        f"/api/v1/conversations/{cid}/messages", json={"content": "申請\x00書"}, headers=World.auth(world.alice_key)
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "nul_in_message"
    assert client.get(f"/api/v1/conversations/{cid}", headers=World.auth(world.alice_key)).json()["messages"] == []
    assert stub.chat_requests() == []
