"""Generation speed through LlamaRuntime (streaming) versus xllamacpp called directly.

Both paths use the same GGUF, thread count, context and greedy requests with the prompt
cache off, so each request does identical work; the order alternates every round.
Prints one JSON summary: tokens/s for each path, their ratio (target >= 0.95) and the
resident memory of this process with the model loaded.

    python bench/embedded_tokens.py [--rounds 4] [--max-tokens 128] [--threads N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from hiraga.providers.embedded.llama_runtime import LlamaRuntime
from hiraga.providers.embedded.packaged_model import ensure_packaged_model

PROMPTS = [
    "日本の四季について、それぞれの季節の行事を詳しく説明してください。",
    "市役所の窓口で住民票を取得する手順を、初めての人向けに丁寧に説明してください。",
    "Pythonでリストの要素を逆順に並べ替える方法を、例を挙げて説明してください。",
]


def rss_mib() -> float:
    """Resident set size of this process in MiB (Linux /proc; ru_maxrss elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def request(prompt: str, max_tokens: int) -> dict[str, Any]:
    return {
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "cache_prompt": False,
    }


async def run_runtime(runtime: LlamaRuntime, body: dict[str, Any]) -> dict[str, float]:
    started = time.perf_counter()
    first: float | None = None
    usage: dict[str, Any] = {}
    timings: dict[str, Any] = {}
    async for chunk in runtime.chat_stream(body, caller="bench"):
        if first is None and chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
            first = time.perf_counter()
        usage = chunk.get("usage") or usage
        timings = chunk.get("timings") or timings
    return _sample(started, first, usage, timings)


def run_direct(server: Any, body: dict[str, Any]) -> dict[str, float]:
    state: dict[str, Any] = {"first": None, "usage": {}, "timings": {}}

    def on_chunk(chunk: dict[str, Any]) -> bool:
        if state["first"] is None and chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
            state["first"] = time.perf_counter()
        state["usage"] = chunk.get("usage") or state["usage"]
        state["timings"] = chunk.get("timings") or state["timings"]
        return False

    started = time.perf_counter()
    server.handle_chat_completions({**body, "stream": True, "stream_options": {"include_usage": True}}, on_chunk)
    return _sample(started, state["first"], state["usage"], state["timings"])


def _sample(started: float, first: float | None, usage: dict[str, Any], timings: dict[str, Any]) -> dict[str, float]:
    ended = time.perf_counter()
    return {
        "tokens": float(usage.get("completion_tokens", 0)),
        "wall_s": ended - started,
        "ttft_s": (first or ended) - started,
        "decode_s": ended - (first or started),
        "engine_tok_s": float(timings.get("predicted_per_second", 0.0)),
    }


def direct_server(runtime: LlamaRuntime) -> Any:
    """A second xllamacpp.Server with the same model and settings, used without any wrapper."""
    import xllamacpp

    opts = runtime.options
    params = xllamacpp.CommonParams()
    params.model.path = str(runtime.path)
    params.n_ctx = opts.context
    params.n_parallel = 1
    params.cpuparams.n_threads = opts.threads
    params.cpuparams_batch.n_threads = opts.threads
    params.n_batch = params.n_ubatch = 512
    params.cache_prompt = opts.prompt_cache
    params.cache_ram_mib = opts.cache_ram_mib if opts.prompt_cache else 0
    params.verbosity = 0
    return xllamacpp.Server(params)


def summarise(samples: list[dict[str, float]]) -> dict[str, float]:
    tokens = sum(s["tokens"] for s in samples)
    decode_tokens = sum(max(s["tokens"] - 1, 0) for s in samples)
    return {
        "requests": len(samples),
        "tokens": tokens,
        "tok_s_wall": tokens / sum(s["wall_s"] for s in samples),
        "tok_s_decode": decode_tokens / sum(s["decode_s"] for s in samples),
        "engine_tok_s_median": statistics.median(s["engine_tok_s"] for s in samples),
        "ttft_s_median": statistics.median(s["ttft_s"] for s in samples),
    }


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    rss_start = rss_mib()
    model = Path(args.model) if args.model else ensure_packaged_model(args.cache_dir)
    runtime = LlamaRuntime.load(model, threads=args.threads, context=args.context)
    rss_loaded = rss_mib()
    await runtime.chat(request(PROMPTS[0], 16))  # warm-up: touch weights and KV buffers
    rss_warm = rss_mib()
    server = direct_server(runtime)
    server.handle_chat_completions(request(PROMPTS[0], 16))
    samples: dict[str, list[dict[str, float]]] = {"runtime": [], "direct": []}
    for round_no in range(args.rounds):
        order = ["runtime", "direct"] if round_no % 2 == 0 else ["direct", "runtime"]
        for prompt in PROMPTS:
            body = request(prompt, args.max_tokens)
            for path in order:
                if path == "runtime":
                    samples[path].append(await run_runtime(runtime, body))
                else:
                    samples[path].append(run_direct(server, body))  # blocking, on this thread
    result = {name: summarise(values) for name, values in samples.items()}
    pairs = [
        (r["tokens"] / r["wall_s"]) / (d["tokens"] / d["wall_s"])
        for r, d in zip(samples["runtime"], samples["direct"], strict=True)
    ]
    runtime.close()
    return {
        "model": runtime.model_id,
        "threads": runtime.options.threads,
        "context": args.context,
        "rounds": args.rounds,
        "max_tokens": args.max_tokens,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        **result,
        "ratio_wall": result["runtime"]["tok_s_wall"] / result["direct"]["tok_s_wall"],
        "ratio_decode": result["runtime"]["tok_s_decode"] / result["direct"]["tok_s_decode"],
        "ratio_pairwise_median": statistics.median(pairs),
        "target_ratio": 0.95,
        "rss_mib": {
            "before_load": round(rss_start, 1),
            "runtime_loaded": round(rss_loaded, 1),
            "runtime_after_warmup": round(rss_warm, 1),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None, help="default: os.cpu_count()")
    parser.add_argument("--context", type=int, default=4096)
    parser.add_argument("--model", default=None, help="GGUF file (default: the packaged model)")
    parser.add_argument("--cache-dir", default=os.environ.get("HIRAGA_TEST_MODEL_CACHE", "/tmp/hiraga-test-models"))
    summary = asyncio.run(bench(parser.parse_args()))
    json.dump(summary, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0 if summary["ratio_wall"] >= summary["target_ratio"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
