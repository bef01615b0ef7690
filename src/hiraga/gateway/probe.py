"""The admin's connection test: one short request of the endpoint's kind, straight to its provider
(no routing, no policy), and a one-line summary of the reply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from hiraga.errors import HiragaError
from hiraga.providers.base import EndpointConfig, Json, ModelProvider, RerankProvider, UpstreamError

PROBE_CHAT: Json = {
    "messages": [{"role": "user", "content": "「接続テスト成功」とだけ答えてください。"}],
    "max_tokens": 16,
}
PROBE_RERANK: Json = {"query": "接続テスト", "documents": ["接続テストの文書です。", "関係のない文書です。"]}


async def probe_reply(provider: ModelProvider, endpoint: EndpointConfig) -> str:
    """What the endpoint answered, in words; raises what the provider raises (KeyError, IndexError,
    TypeError for a reply of the wrong shape)."""
    if endpoint.kind == "embeddings":
        result = await provider.embed(endpoint, {"model": endpoint.name, "input": ["接続テスト"]})
        return f"{len(result['data'][0].get('embedding') or [])} 次元"
    if endpoint.kind == "rerank":
        scores = await reranker(provider).rerank(endpoint, {"model": endpoint.name, **PROBE_RERANK})
        return "スコア: " + ", ".join(f"{float(r['relevance_score']):.3f}" for r in scores["results"])
    result = await provider.chat(endpoint, PROBE_CHAT, caller="probe")
    return str((result["choices"][0].get("message") or {}).get("content") or "")


def reranker(provider: ModelProvider) -> RerankProvider:
    if not isinstance(provider, RerankProvider):
        raise UpstreamError(
            "このプロバイダーは再ランキング（rerank）に対応していません。", code="rerank_unsupported", retry_same=False
        )
    return cast(RerankProvider, provider)


@dataclass(frozen=True, slots=True)
class SanityQuestion:
    """One tiny Japanese task whose answer code can check."""

    topic: str
    prompt: str
    expected: tuple[str, ...]  # every one of these must appear in the answer (case-insensitive)


SANITY_QUESTIONS = (
    SanityQuestion("知識", "日本の首都はどこですか。都市名だけを漢字で答えてください。", ("東京",)),
    SanityQuestion("計算", "12 と 30 を足すといくつですか。数字だけを答えてください。", ("42",)),
    SanityQuestion(
        "翻訳（日付）", "「2027年4月1日」を英語に翻訳してください。訳だけを答えてください。", ("2027", "april")
    ),
    SanityQuestion("敬語", "「行く」の謙譲語を 1 語だけ答えてください。", ("参る|伺う|まいる|うかがう",)),
)


@dataclass(frozen=True, slots=True)
class SanityAnswer:
    topic: str
    prompt: str
    answer: str
    passed: bool


def judged(question: SanityQuestion, answer: str) -> SanityAnswer:
    text = answer.lower()
    passed = all(any(option in text for option in want.split("|")) for want in question.expected)
    return SanityAnswer(question.topic, question.prompt, answer.strip()[:300], passed)


async def sanity_check(provider: ModelProvider, endpoint: EndpointConfig) -> list[SanityAnswer]:
    """Ask the endpoint the tiny Japanese questions, one after the other; a failed call fails its question."""
    answers = []
    for question in SANITY_QUESTIONS:
        body: Json = {"messages": [{"role": "user", "content": question.prompt}], "max_tokens": 48, "temperature": 0}
        try:
            result = await provider.chat(endpoint, body, caller="probe")
            reply = str((result["choices"][0].get("message") or {}).get("content") or "")
        except (HiragaError, KeyError, IndexError, TypeError) as exc:
            reply = f"（エラー: {exc.message if isinstance(exc, HiragaError) else '応答の形式が正しくありません'}）"
            answers.append(SanityAnswer(question.topic, question.prompt, reply, False))
            continue
        answers.append(judged(question, reply))
    return answers


def routing_advice(answers: list[SanityAnswer]) -> tuple[str, str]:
    """(level, Japanese advice) on which tasks to route to the endpoint, from the sanity answers."""
    passed = sum(a.passed for a in answers)
    if answers and passed == len(answers):
        return "good", (
            "すべて正解しました。チャット・文章生成・要約・校正・翻訳を、このモデルに任せることを勧めます"
            "（既定のモデルにすると、利用者が選ばなくてもこのモデルが使われます）。"
        )
    if passed >= len(answers) - 1:
        return "fair", (
            "おおむね正解しました。チャットと文章生成には使えます。翻訳・校正・要約は結果を必ず確認するよう"
            "利用者に伝えてください。"
        )
    return "poor", (
        "正解が少なく、日本語の業務には勧めません。より大きなモデルか、日本語に強いモデル（LLM-jp など）を"
        "接続してください。"
    )
