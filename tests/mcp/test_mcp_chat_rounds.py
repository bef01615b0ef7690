"""The tool-round limit: a model that keeps asking for tools gets its last round's results back all
the same, once more without tools offered, and answers from them; the user is told why."""

from __future__ import annotations

from mcp_support import BookingChat

ROOMS = "facility__list_rooms"


def test_at_the_round_limit_the_last_results_still_go_back_for_a_final_answer(booking: BookingChat) -> None:
    chat = booking.conversation()
    rounds = 4  # settings.mcp_max_tool_rounds (default)
    booking.upstream.plan(*[("call", [(ROOMS, {})])] * rounds, ("say", "会議室は会議室Aと大会議室です。"))
    reply = booking.send(chat, "使える会議室を調べて")

    assert [c["status"] for c in reply["tool_calls"]] == ["done"] * rounds
    assert reply["content"] == "会議室は会議室Aと大会議室です。" and reply["status"] == "complete"
    assert any(f"{rounds} 回まで" in notice for notice in reply["notices"])
    requests = booking.upstream.chat_requests()
    assert len(requests) == rounds + 1
    assert all("tools" in r.body for r in requests[:rounds])
    final = requests[-1].body
    assert "tools" not in final  # the last request asks for an answer, not more calls
    tool_messages = [m for m in final["messages"] if m["role"] == "tool"]
    assert len(tool_messages) == rounds and "会議室A" in tool_messages[-1]["content"]


def test_a_model_that_still_asks_for_tools_at_the_limit_runs_nothing_more(booking: BookingChat) -> None:
    chat = booking.conversation()
    booking.upstream.plan(*[("call", [(ROOMS, {})])] * 5)
    reply = booking.send(chat, "会議室を調べて")
    assert len(reply["tool_calls"]) == 4  # the fifth answer's calls are not run
    assert [a[0] for a in booking.actions()].count("mcp_tool_call") == 4
