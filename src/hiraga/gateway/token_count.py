"""Token counts for a call whose upstream reported no usage (a server that sends none, or a stream
the client left before the usage event): the model's own tokenizer where its provider offers one
(the embedded llama.cpp runtime), else the documented heuristic (``protocol.estimate_tokens``).
Either way the usage is marked ``estimated``."""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

import anyio

from hiraga.gateway.protocol import estimate_tokens, message_text
from hiraga.providers.base import EndpointConfig, Json
from hiraga.spine.call import Usage

log = logging.getLogger("hiraga.gateway")
COUNT_TIMEOUT = 2.0


@runtime_checkable
class TokenCounter(Protocol):
    async def count_tokens(self, endpoint: EndpointConfig, text: str) -> int | None:
        """Tokens in ``text`` by the endpoint's own tokenizer; None when it cannot tell now."""
        ...


async def estimated_usage(
    provider: object, endpoint: EndpointConfig, body: Json, output_text: str, input_estimate: int
) -> Usage:
    """Runs to the end even while the caller is being cancelled (it is part of settling the call)."""
    if isinstance(provider, TokenCounter):
        counted: list[int | None] = [None, None]
        with anyio.CancelScope(shield=True), anyio.move_on_after(COUNT_TIMEOUT):
            try:
                counted[0] = await provider.count_tokens(endpoint, message_text(body.get("messages")))
                counted[1] = await provider.count_tokens(endpoint, output_text)
            except Exception:  # counting is best effort: fall back to the heuristic
                log.warning("token count by %s failed", endpoint.name, exc_info=True)
        if counted[0] is not None and counted[1] is not None:
            return Usage(counted[0], counted[1], estimated=True)
    return Usage(input_estimate, estimate_tokens(output_text), estimated=True)
