"""In-process llama.cpp (``xllamacpp``) behind an async, fairly queued API.

One :class:`LlamaRuntime` per model file per process. Requests wait in a
per-caller round-robin queue (:class:`FairScheduler`); each granted request runs
its blocking llama.cpp call in a worker thread and streams chunks back to the
event loop. Dropping, closing or cancelling a stream stops generation at the next
token, or within two prompt steps (``RuntimeOptions.prompt_batch`` tokens each).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
import threading
import weakref
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

from hiraga.providers.embedded.completion import Chunk, CompletionAccumulator
from hiraga.providers.embedded.fair_queue import EmbeddedBusyError, FairScheduler
from hiraga.providers.embedded.packaged_model import EmbeddedModelError, verify_gguf

__all__ = [
    "ChatStream",
    "EmbeddedBusyError",
    "EmbeddedClosedError",
    "EmbeddedContextExceededError",
    "EmbeddedGenerationError",
    "EmbeddedRequestError",
    "FairScheduler",
    "LlamaRuntime",
    "RuntimeOptions",
]
_END = object()
# request keys passed on to llama.cpp; anything else (slot ids, LoRA, n_probs...) is dropped
# fmt: off
_ALLOWED_KEYS = frozenset((
    "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "min_p", "seed",
    "stop", "presence_penalty", "frequency_penalty", "repeat_penalty", "logit_bias", "response_format",
    "json_schema", "grammar", "tools", "tool_choice", "parallel_tool_calls", "logprobs", "top_logprobs",
    "chat_template_kwargs",
))
# fmt: on


class EmbeddedRequestError(EmbeddedModelError):
    status = 400
    code = "embedded_model_bad_request"
    message = "組み込みモデルへのリクエストに誤りがあります。"


class EmbeddedContextExceededError(EmbeddedRequestError):
    code = "embedded_model_context_exceeded"
    message = "入力が長すぎて組み込みモデルで処理できません。文章を短くしてください。"


class EmbeddedGenerationError(EmbeddedModelError):
    code = "embedded_model_generation_failed"
    message = "組み込みモデルでの文章生成に失敗しました。"


class EmbeddedClosedError(EmbeddedModelError):
    status = 503
    code = "embedded_model_closed"
    message = "組み込みモデルは停止しています。"


def _raise_for_error(chunk: Chunk) -> None:
    error = chunk.get("error")
    if error is None:
        return
    info = error if isinstance(error, dict) else {"message": str(error)}
    if info.get("type") == "exceed_context_size_error":
        used, limit = info.get("n_prompt_tokens"), info.get("n_ctx")
        raise EmbeddedContextExceededError(
            f"入力が長すぎます（{used} トークン、上限 {limit} トークン）。文章を短くしてください。",
            detail=info,
        )
    if info.get("code") == 400:
        raise EmbeddedRequestError(detail=info)
    raise EmbeddedGenerationError(detail=info)


class ChatStream(AsyncIterator[Chunk]):
    """Async iterator of chat.completion.chunk dicts for one request.

    Generation starts on first iteration. ``aclose()``, leaving ``async with``,
    cancelling the consuming task or dropping the object stops it.
    """

    def __init__(self, runtime: LlamaRuntime, body: Chunk, caller: str) -> None:
        self._runtime = runtime
        self._body = body
        self._caller = caller
        self._stop = threading.Event()
        self._queue: asyncio.Queue[object] | None = None
        self._finished = False
        weakref.finalize(self, self._stop.set)

    def __aiter__(self) -> ChatStream:
        return self

    async def __aenter__(self) -> ChatStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop generation (if still running) and end iteration."""
        self._stop.set()
        self._finished = True

    async def __anext__(self) -> Chunk:
        if self._finished:
            raise StopAsyncIteration
        try:
            if self._queue is None:
                self._queue = await self._runtime._start(self._body, self._caller, self._stop)
            item = await self._queue.get()
        except BaseException:
            self._stop.set()
            self._finished = True
            raise
        if item is _END:
            self._finished = True
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            self._finished = True
            raise item
        assert isinstance(item, dict)
        return item


@dataclass(frozen=True)
class RuntimeOptions:
    """How a model is run; see :meth:`LlamaRuntime.load`."""

    threads: int
    context: int = 8192
    slots: int = 1
    default_max_tokens: int = 1024
    prompt_cache: bool = False  # off by default: deterministic answers, no cross-user timing channel
    cache_ram_mib: int = 256
    verbose: bool = False
    # prompt tokens per step; a stop is seen after a step, and llama.cpp's loop runs one step ahead
    # of that check, so a cancelled prompt ends within two steps. 256 prompt-processes as fast as
    # 512 on 2 cores (1786 tokens: 23.1-24.7 s vs 24.8-25.6 s) and halves the wait after a cancel
    prompt_batch: int = 256


class LlamaRuntime:
    """One GGUF model loaded in this process through xllamacpp."""

    _instances: ClassVar[dict[Path, LlamaRuntime]] = {}
    _instances_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path, options: RuntimeOptions) -> None:
        import xllamacpp

        self.path = path
        self.model_id = path.name
        self.options = options
        self._socket_dir = tempfile.mkdtemp(prefix="hiraga-llama-")
        self._http_key = secrets.token_urlsafe(32)
        self._server: Any = xllamacpp.Server(self._params(xllamacpp.CommonParams()))
        self._scheduler = FairScheduler(options.slots)
        self._executor = ThreadPoolExecutor(max_workers=options.slots, thread_name_prefix="hiraga-llama")
        self._streams: weakref.WeakSet[threading.Event] = weakref.WeakSet()
        self._closed = False

    def _params(self, params: Any) -> Any:
        opts = self.options
        params.model.path = str(self.path)
        params.n_ctx = opts.context * opts.slots
        params.n_parallel = opts.slots
        params.cpuparams.n_threads = opts.threads
        params.cpuparams_batch.n_threads = opts.threads
        params.n_batch = params.n_ubatch = opts.prompt_batch
        params.cache_prompt = opts.prompt_cache
        params.cache_ram_mib = opts.cache_ram_mib if opts.prompt_cache else 0
        params.verbosity = 3 if opts.verbose else 0
        # llama.cpp always opens an HTTP listener: keep it on a private unix socket behind a random key
        params.hostnames = [os.path.join(self._socket_dir, "llama.sock")]
        params.api_keys = [self._http_key]
        params.n_threads_http = 1
        params.ui = False
        params.endpoint_slots = False
        return params

    @classmethod
    def load(
        cls,
        path: Path | str,
        *,
        threads: int | None = None,
        context: int = 8192,
        **options: Any,
    ) -> LlamaRuntime:
        """Load ``path`` once per process; a later call returns the same runtime.

        ``threads`` defaults to ``os.cpu_count()``; ``context`` is tokens per request.
        Other keywords are :class:`RuntimeOptions` fields (``slots``, ``default_max_tokens``,
        ``prompt_cache``, ``cache_ram_mib``, ``verbose``).
        """
        model = verify_gguf(path).resolve()
        opts = RuntimeOptions(threads=threads or os.cpu_count() or 1, context=context, **options)
        with cls._instances_lock:
            existing = cls._instances.get(model)
            if existing is not None and not existing._closed:
                return existing
            runtime = cls(model, opts)
            cls._instances[model] = runtime
            return runtime

    @property
    def scheduler(self) -> FairScheduler:
        return self._scheduler

    async def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` by this model's own tokenizer (llama.cpp's ``/tokenize`` on the private
        socket; it needs no generation slot)."""
        import aiohttp

        if self._closed:
            raise EmbeddedClosedError()
        connector = aiohttp.UnixConnector(path=os.path.join(self._socket_dir, "llama.sock"))
        headers = {"authorization": f"Bearer {self._http_key}"}
        try:
            async with (
                aiohttp.ClientSession(connector=connector) as session,
                session.post("http://llama/tokenize", json={"content": text}, headers=headers) as response,
            ):
                tokens = (await response.json()).get("tokens") if response.status == 200 else None
        except (aiohttp.ClientError, ValueError) as exc:
            raise EmbeddedGenerationError(detail={"message": str(exc)}) from exc
        if not isinstance(tokens, list):
            raise EmbeddedGenerationError(detail={"message": "tokenize gave no tokens"})
        return len(tokens)

    def chat_stream(self, body: Chunk, *, caller: str = "anonymous") -> ChatStream:
        """Stream chat.completion.chunk dicts; the last one carries ``usage``."""
        return ChatStream(self, body, caller)

    async def chat(self, body: Chunk, *, caller: str = "anonymous") -> Chunk:
        """Return one chat.completion dict (with ``usage``)."""
        acc = CompletionAccumulator(self.model_id)
        async with self.chat_stream(body, caller=caller) as stream:
            async for chunk in stream:
                acc.add(chunk)
        return acc.result()

    def _request(self, body: Chunk) -> Chunk:
        """The llama.cpp request for ``body``: known keys only, a bounded ``max_tokens``, streamed."""
        request = {k: v for k, v in body.items() if k in _ALLOWED_KEYS}
        if not isinstance(request.get("messages"), list) or not request["messages"]:
            raise EmbeddedRequestError("messages を 1 件以上指定してください。")
        limit = request.pop("max_completion_tokens", None) or request.get("max_tokens")
        limit = self.options.default_max_tokens if limit is None else limit
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise EmbeddedRequestError("max_tokens には 1 以上の整数を指定してください。")
        request["max_tokens"] = min(limit, self.options.context)
        cache = body.get("cache_prompt")
        request["cache_prompt"] = self.options.prompt_cache if cache is None else bool(cache)
        request.update(stream=True, stream_options={"include_usage": True}, return_progress=True)
        return request

    async def _start(self, body: Chunk, caller: str, stop: threading.Event) -> asyncio.Queue[object]:
        if self._closed:
            raise EmbeddedClosedError()
        request = self._request(body)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        await self._scheduler.acquire(caller)
        try:
            if self._closed:
                raise EmbeddedClosedError()
            self._streams.add(stop)
            self._executor.submit(self._run, request, loop, queue, stop)
        except BaseException:
            self._scheduler.release()
            raise
        return queue

    def _run(
        self,
        request: Chunk,
        loop: asyncio.AbstractEventLoop,
        queue: asyncio.Queue[object],
        stop: threading.Event,
    ) -> None:
        """Worker thread: run llama.cpp, post chunks to the consumer's loop, free the turn."""
        errors: list[Chunk] = []

        def post(item: object) -> bool:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the consumer's loop is gone
                stop.set()
            return stop.is_set()

        def on_chunk(chunk: Chunk) -> bool:
            if "error" in chunk:
                errors.append(chunk)
                return True
            if stop.is_set() or "prompt_progress" in chunk:  # progress: a chance to stop mid-prompt
                return stop.is_set()
            chunk["model"] = self.model_id
            return post(chunk)

        try:
            outcome = self._generate(request, on_chunk, errors)
        finally:
            self._scheduler.release()  # before the consumer hears of the end
        post(outcome)

    def _generate(self, request: Chunk, on_chunk: Callable[[Chunk], bool], errors: list[Chunk]) -> object:
        """Run one blocking call; return ``_END`` or the exception to hand to the consumer."""
        try:
            self._server.handle_chat_completions(request, on_chunk)
            if errors:
                _raise_for_error(errors[0])
        except EmbeddedModelError as exc:
            return exc
        except (ValueError, TypeError) as exc:
            return EmbeddedRequestError(detail={"message": str(exc)})
        except Exception as exc:
            return EmbeddedGenerationError(detail={"message": str(exc)})
        return _END

    def close(self) -> None:
        """Stop running generations, free the model and forget this runtime."""
        with self._instances_lock:
            if self._closed:
                return
            self._closed = True
            if self._instances.get(self.path) is self:
                del self._instances[self.path]
        for stop in list(self._streams):
            stop.set()
        self._executor.shutdown(wait=True)
        self._server = None
        shutil.rmtree(self._socket_dir, ignore_errors=True)
