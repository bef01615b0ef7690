"""Which replies and app runs are offered tools: served models only (the built-in embedded model's
path is the one it always was), only tools enabled for the caller's teams on servers cleared for the
level, and of the task apps only the single-pass 文章生成."""

from __future__ import annotations

import json
from typing import Any

from hiraga.identity.principal import Principal
from hiraga.mcp.app_runs import tools_for
from hiraga.mcp.chat_tools import assemble, attach
from hiraga.portal.chat import ReplyPlan, frame_tool_deltas
from hiraga.portal.models import ModelChoice
from hiraga.portal.task_apps import runner

PLAN = ReplyPlan(conversation_id=1, model="m", classification=1, messages=[], max_tokens=64)
ALICE = Principal(user_id=1, email="a@example.jp", display_name="a")


class Box:
    def __init__(self) -> None:
        self.asked = 0

    def definitions(self, db: Any, principal: Principal, classification: int) -> list[dict[str, Any]]:
        self.asked += 1
        return [{"type": "function", "function": {"name": "s__t", "parameters": {}}}]


def choice(builtin: bool) -> ModelChoice:
    return ModelChoice(name="m", description="", context_window=4096, clearance=3, builtin=builtin)


def test_the_builtin_model_is_offered_no_tools_and_a_served_one_is() -> None:
    box = Box()
    plan, rounds = attach(box, None, ALICE, PLAN, choice(builtin=True), 4)  # type: ignore[arg-type]
    assert rounds is None and plan.tools == [] and box.asked == 0
    plan, rounds = attach(box, None, ALICE, PLAN, choice(builtin=False), 4)  # type: ignore[arg-type]
    assert rounds is not None and rounds.max_rounds == 4 and [t["function"]["name"] for t in plan.tools] == ["s__t"]


def test_streamed_tool_call_pieces_are_joined_by_index() -> None:
    pieces = [
        [{"index": 0, "id": "a", "function": {"name": "s__t", "arguments": '{"x"'}}],
        [{"index": 1, "id": "b", "function": {"name": "s__u", "arguments": "{}"}}],
        [{"index": 0, "function": {"arguments": ": 1}"}}],
    ]
    frames = [b"data: " + json.dumps({"choices": [{"delta": {"tool_calls": p}}]}).encode() for p in pieces]
    frames += [b'data: {"choices":[{"delta":{"content":"text only"}}]}', b"data: [DONE]"]
    deltas = [delta for frame in frames for delta in frame_tool_deltas(frame + b"\n\n")]
    calls = assemble(deltas)
    assert [(c.call_id, c.name, c.arguments) for c in calls] == [("a", "s__t", '{"x": 1}'), ("b", "s__u", "{}")]


def test_an_app_run_on_the_builtin_model_is_offered_no_tools_and_only_single_pass_task_apps_take_them() -> None:
    box = Box()
    assert tools_for(box, None, ALICE, choice(builtin=True), 1, 4) is None and box.asked == 0  # type: ignore[arg-type]
    offered = tools_for(box, None, ALICE, choice(builtin=False), 1, 4)  # type: ignore[arg-type]
    assert (
        offered is not None and offered.rounds.max_rounds == 4 and offered.definitions[0]["function"]["name"] == "s__t"
    )
    apps = runner.installed_apps()
    assert {name for name, app in apps.items() if runner.uses_tools(app)} == {"generate"}
