"""MCP tools in an app run (a builder app that opted in, or a task app that declares ``uses_tools``):
the model's one call of the run is offered the team's tools, its calls go to ``ToolRounds`` (the same
checks, approvals and records as chat: ``hiraga.mcp.chat_tools``), and the results go back to the
model, up to ``max_rounds`` times. A call that must be approved stops the run with ``RunHeld``: the
portal keeps the run with the messages so far and goes on once the user decided."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from typing import Any

from hiraga.gateway.service import Gateway
from hiraga.portal.chat import LAST_ROUND, Reply, ToolRound, ToolRounds
from hiraga.portal.task_apps.streaming import Quiet, TaskEvents, streamed_chat
from hiraga.providers.base import EndpointConfig
from hiraga.spine.call import ModelCall, Usage


@dataclass
class RunTools:
    """The tools one run may offer and who runs the calls; ``reply`` collects the calls and notices."""

    definitions: list[dict[str, Any]]
    rounds: ToolRounds
    reply: Reply = field(default_factory=lambda: Reply(conversation_id=0))


@dataclass(frozen=True, slots=True)
class Answered:
    endpoint: EndpointConfig
    usage: Usage


class RunHeld(Exception):  # a signal that stops the app, not an error: it never reaches a response
    """A tool call of the run waits for the user's decision."""

    def __init__(self, messages: list[dict[str, Any]], max_tokens: int, answers: list[Answered]) -> None:
        super().__init__("a tool call waits for approval")
        self.messages, self.max_tokens, self.answers = messages, max_tokens, answers
        self.context: Any = None  # the PortalRunContext it stopped (set by its ``chat``)


async def chat_with_tools(
    gateway: Gateway,
    call: ModelCall,
    body: dict[str, Any],
    tools: RunTools,
    events: TaskEvents | None,
    partial: list[str],
) -> tuple[str, list[Answered]]:
    """The model's answer after the tool rounds (streamed: the stub and served models speak tool
    calling in streams), and each answer's endpoint and usage. Raises ``RunHeld`` when a call waits."""
    asking: dict[str, Any] = {**body, "messages": list(body["messages"]), "tools": tools.definitions}
    answers: list[Answered] = []
    limit = tools.rounds.max_rounds
    for done in range(limit + 1):
        if done == limit:
            asking.pop("tools", None)  # the limit: the model answers from the results it has
            tools.reply.notices.append(LAST_ROUND.format(rounds=limit))
        deltas: list[dict[str, Any]] = []
        once = dataclasses.replace(call, request_id=uuid.uuid4().hex)  # each answer is its own request
        text, endpoint, usage = await streamed_chat(gateway, once, asking, events or Quiet(), partial, deltas)
        answers.append(Answered(endpoint, usage))
        if done == limit or not deltas:
            return text, answers
        follow = await tools.rounds.run(tools.reply, ToolRound(text, deltas, asking["messages"], endpoint))
        if follow is None:
            raise RunHeld(asking["messages"], int(body.get("max_tokens") or 512), answers)
        asking["messages"] = [*asking["messages"], *follow]
    raise AssertionError("unreachable")  # pragma: no cover
