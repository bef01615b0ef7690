"""Stopping a streamed answer (the page's stop button aborts the request): the model call is
cancelled and the text that came so far is kept, marked incomplete. Real uvicorn, real stub."""

from __future__ import annotations

import time

import httpx
from gateway_stub import ServerThread
from gateway_world import World

from hiraga.store.database import Database
from hiraga.store.tables import Message

from .support import conversation


def test_stopping_keeps_the_partial_answer_marked_incomplete(app, client, world, stub, stub_model, database: Database):
    cid = conversation(client, world.alice_key)
    stub.plan("slow_sse")  # one event every 50 ms, 200 events
    with ServerThread(app) as base_url:
        received = ""
        with httpx.stream(
            "POST",
            f"{base_url}/api/v1/conversations/{cid}/messages",
            json={"content": "長い説明をして", "stream": True},
            headers=World.auth(world.alice_key),
            timeout=30,
        ) as response:
            for line in response.iter_lines():
                if line.startswith('data: {"text"'):
                    received += line
                    if received.count("text") >= 3:
                        break  # the user pressed stop
        kept: list[Message] = []
        for _ in range(100):
            with database.session() as db:
                kept = db.query(Message).filter(Message.conversation_id == cid).order_by(Message.position).all()
            if len(kept) == 2:
                break
            time.sleep(0.1)
    assert [m.role for m in kept] == ["user", "assistant"]
    assert kept[1].status == "incomplete" and kept[1].content and "停止" in (kept[1].error_message or "")
    assert len(kept[1].content) < 150  # far from the 200 pieces the stub would have sent
    deadline = time.monotonic() + 10
    while not stub.chat_requests()[-1].client_closed and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stub.chat_requests()[-1].client_closed  # the upstream call was cancelled too
