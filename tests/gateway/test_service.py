"""The gateway's last step (``_after``): settle and record run side by side, both are awaited, and a
failure of either is raised (the record's first) — the reconciliation's round trip to the counter
store no longer waits in front of the records' commit (issue 13, item 7: c=1 latency)."""

from __future__ import annotations

import asyncio

import pytest

from hiraga.gateway.service import _after
from hiraga.identity.principal import Principal
from hiraga.spine.call import CallOutcome, ModelCall, Outcome

PRINCIPAL = Principal(user_id=1, email="a@example.jp", display_name="a")
CALL = ModelCall(principal=PRINCIPAL, kind="chat", requested_model="m")


class Hooks:
    def __init__(self, failing: tuple[str, ...] = ()) -> None:
        self.events: list[str] = []
        self.failing = failing

    async def admit(self, call: ModelCall) -> None:
        return None

    async def _step(self, name: str) -> None:
        self.events.append(f"{name} started")
        for _ in range(3):  # a round trip's worth of turns of the event loop
            await asyncio.sleep(0)
        self.events.append(f"{name} done")
        if name in self.failing:
            raise RuntimeError(name)

    async def settle(self, call: ModelCall, outcome: CallOutcome) -> None:
        await self._step("settle")

    async def record(self, call: ModelCall, outcome: CallOutcome) -> None:
        await self._step("record")


def test_settle_and_record_run_side_by_side_and_both_finish() -> None:
    hooks = Hooks()
    asyncio.run(_after(hooks, CALL, CallOutcome(Outcome.OK), admitted=True))
    assert hooks.events.index("record started") < hooks.events.index("settle done"), hooks.events
    assert {"settle done", "record done"} <= set(hooks.events)


def test_a_refused_call_is_recorded_and_not_settled() -> None:
    hooks = Hooks()
    asyncio.run(_after(hooks, CALL, CallOutcome(Outcome.REFUSED), admitted=False))
    assert hooks.events == ["record started", "record done"]


@pytest.mark.parametrize(("failing", "raised"), [(("settle",), "settle"), (("settle", "record"), "record")])
def test_a_failure_is_raised_after_both_finished(failing: tuple[str, ...], raised: str) -> None:
    hooks = Hooks(failing)
    with pytest.raises(RuntimeError, match=raised):
        asyncio.run(_after(hooks, CALL, CallOutcome(Outcome.OK), admitted=True))
    assert "record done" in hooks.events
