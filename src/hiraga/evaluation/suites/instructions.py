"""Japanese instruction following with constraints checked in code: length in characters, number of
bullet points, です・ます調 or である調, a required and a forbidden word, no English letters.
Score = share of the item's constraints that hold."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from typing import Any

from hiraga.evaluation.base import EvalItem, Score, SuiteSource

TOPICS = (
    ("住民票の写しの請求方法", "窓口", "郵送"),
    ("マイナンバーカードの更新手続", "有効期限", "暗証番号"),
    ("防災訓練の案内", "集合場所", "雨天"),
    ("庁内会議の議事録の作り方", "決定事項", "発言者"),
    ("行政文書の保存期間", "起算日", "廃棄"),
    ("テレワーク時の情報管理", "持ち出し", "公共"),
    ("補助金申請の注意点", "締切", "領収書"),
    ("窓口でのクレーム対応", "傾聴", "記録"),
    ("公用車の使用手続", "運転日誌", "鍵"),
    ("新任職員への研修案内", "日程", "持ち物"),
)
_BULLET = re.compile(r"^\s*(?:[・\-*•●○]|\d+[.．)）]|[①-⑳])\s*", re.MULTILINE)
_DESU_MASU = re.compile(r"(です|ます|ません|でした|ました|ください|でしょう)[。！？]?$")
_DEARU = re.compile(r"(である|だ|ない|する|した|いる|ある|なる|れる|られる|こと)[。！？]?$")


class InstructionSuite:
    name = "instructions"
    title = "日本語の指示への従い方"
    task = "generate"
    version = "1"

    def items(self, source: SuiteSource) -> Iterator[EvalItem]:
        for round_ in range(3):
            for index, (topic, required, forbidden) in enumerate(TOPICS):
                rng = random.Random(f"{source.seed}:{round_}:{index}")
                spec: dict[str, Any] = {
                    "bullets": rng.choice((3, 4, 5)),
                    "max_chars": rng.choice((150, 200, 250)),
                    "style": rng.choice(("desu_masu", "dearu")),
                    "required": required,
                    "forbidden": forbidden,
                    "no_english": True,
                }
                yield EvalItem(f"{round_}:{index}", [{"role": "user", "content": _prompt(topic, spec)}], meta=spec)

    def score(self, item: EvalItem, output: str) -> Score:
        results = constraint_results(output, item.meta)
        return Score(sum(results.values()) / len(results), {k: float(v) for k, v in results.items()})


def _prompt(topic: str, spec: dict[str, Any]) -> str:
    style = "です・ます調" if spec["style"] == "desu_masu" else "である調"
    return (
        f"「{topic}」について、職員向けの説明を書いてください。条件: 箇条書きでちょうど{spec['bullets']}項目、"
        f"全体で{spec['max_chars']}字以内、{style}で統一、「{spec['required']}」という語を必ず使い、"
        f"「{spec['forbidden']}」という語は使わず、英字（アルファベット）を使わないこと。"
    )


def constraint_results(output: str, spec: dict[str, Any]) -> dict[str, bool]:
    text = output.strip()
    bullets = [line for line in text.splitlines() if _BULLET.match(line)]
    endings = [_BULLET.sub("", line).strip() for line in text.splitlines() if line.strip()]
    wanted, other = (_DESU_MASU, _DEARU) if spec["style"] == "desu_masu" else (_DEARU, _DESU_MASU)
    styled = bool(endings) and all(wanted.search(e) or not other.search(e) for e in endings)
    styled = styled and any(wanted.search(e) for e in endings)
    return {
        "bullets": len(bullets) == int(spec["bullets"]),
        "max_chars": 0 < len(text) <= int(spec["max_chars"]),
        "style": styled,
        "required": str(spec["required"]) in text,
        "forbidden": str(spec["forbidden"]) not in text,
        "no_english": re.search(r"[A-Za-zＡ-Ｚａ-ｚ]", text) is None,
    }
