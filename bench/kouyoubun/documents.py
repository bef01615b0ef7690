"""Seeded deviations that need more than one sentence: a ですます sentence among である ones, and
sentences run together past the length limit. Independent of the checker, like inject.py."""

from __future__ import annotations

import random

from inject import LENGTH, STYLE, Seeded

# (plain ending, polite ending) — longest first
POLITE_ENDINGS = [
    ("なければならない。", "なければなりません。"),
    ("てはならない。", "てはなりません。"),
    ("ものとする。", "ものとします。"),
    ("とする。", "とします。"),
    ("をいう。", "をいいます。"),
    ("ができる。", "ができます。"),
    ("である。", "です。"),
    ("する。", "します。"),
]
LONG_LIMIT = 120  # 「一文の長さ」 the checker is configured with (its default)


def politeness_mixed(sentences: list[str], rng: random.Random) -> Seeded | None:
    """Five plain statute sentences, one of them turned into ですます体."""
    convertible = [i for i, s in enumerate(sentences) if any(s.endswith(p) for p, _ in POLITE_ENDINGS)]
    if len(sentences) < 3 or not convertible:
        return None
    pick = rng.choice(convertible)
    plain, polite = next((p, q) for p, q in POLITE_ENDINGS if sentences[pick].endswith(p))
    changed = sentences[pick][: -len(plain)] + polite
    before = "\n".join(sentences[:pick]) + ("\n" if pick else "")
    text = before + "\n".join([changed, *sentences[pick + 1 :]])
    end = len(before) + len(changed) - 1
    return Seeded("ですます体の混入", text, [(STYLE, end - len(polite) + 1, end)])


def run_on(sentences: list[str], rng: random.Random) -> Seeded | None:
    """Join sentences with 、 until the result passes the limit."""
    joined = ""
    for sentence in sentences:
        joined = (joined[:-1] + "、" + sentence) if joined else sentence
        if len(joined) > LONG_LIMIT:
            return Seeded("文の連結", joined, [(LENGTH, 0, len(joined))])
    return None
