"""Citation validity of RAG answers over the e-Gov law corpus (docs/benchmarks.md, "RAG citations").

The five e-Gov law XML files of ../shared/data/egov-law-xml are uploaded through /api/v1/kb into one
knowledge base of a fresh hiraga (SQLite, the in-process ingestion worker, the packaged e5 embedder),
then each question of questions.jsonl (written for this benchmark; each names the law and article
that answers it) is asked through /api/v1/kb/{id}/ask with the model behind ``--model`` (default:
the embedded model). Per answer it records:

- markers: every [n] the model wrote; invalid: those naming no passage shown (removed by hiraga);
- support: for each sentence carrying markers, the share of its character 3-grams found in the
  passages it cites, each as the model saw it (label + text; markers, digits and punctuation
  ignored); a sentence is supported at >= 0.5;
- article: whether a cited passage is the expected law article (law title and article number);
- retrieved: whether the expected article was among the passages shown to the model;
- claims: every sentence of the answer that makes a claim (``hiraga.knowledge.attribution.is_claim``);
  all_claims_supported: each of them carries markers and is supported by a passage it cites (a
  claim hiraga marked 〔根拠未確認〕 or left unmarked counts against);
- the same for the model's own text (``model_text``, before hiraga's checks): raw_*;
- quoted / moved / flagged: whether hiraga quoted a passage, how many markers it moved, how many
  claims it marked unsupported.

Usage: python bench/rag_citations/run.py [--limit N] [--model NAME] [--out results/citations.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from hiraga.app import create_app
from hiraga.audit import keys as audit_keys
from hiraga.cli.common import CLI_OPERATOR
from hiraga.identity import api_keys, directory
from hiraga.knowledge.attribution import SUPPORTED_AT, UNSUPPORTED_MARK, is_claim, pieces
from hiraga.knowledge.citations import cited_numbers, cited_sentences, containment
from hiraga.knowledge.wiring import EMBEDDER_KEY
from hiraga.settings import Settings, load_settings
from hiraga.spine.authorize import AccessScope
from hiraga.store import migrate
from hiraga.store.database import Database
from hiraga.store.tables import TeamRole

HERE = Path(__file__).resolve().parent
LAWS = Path(os.environ.get("HIRAGA_LAW_XML", HERE.parents[1].parent / "shared" / "data" / "egov-law-xml"))
OPERATOR = AccessScope(CLI_OPERATOR)


def operator_key(database_url: str, settings: Settings) -> tuple[str, int]:
    """A team admin's API key and the team id, in a fresh database."""
    database = Database(database_url)
    audit_keys.bind(database.engine, settings)
    with database.session() as db:
        org = directory.create_organisation(db, OPERATOR, "ベンチ市")
        team = directory.create_team(db, OPERATOR, org.id, "法務課")
        user = directory.create_user(db, OPERATOR, email="bench@example.jp", password=None)
        directory.set_membership(db, OPERATOR, team.id, user.id, TeamRole.ADMIN)
        key = api_keys.issue_key(db, CLI_OPERATOR, user.id, "bench", 1).secret
        team_id = team.id
    database.dispose()
    return key, team_id


def ingest(client: TestClient, headers: dict[str, str], team_id: int) -> tuple[int, float, int]:
    body = {"name": "法令", "team_id": team_id, "classification": 1}
    kb_id = int(client.post("/api/v1/kb", json=body, headers=headers).json()["id"])
    started = time.monotonic()
    for path in sorted(LAWS.glob("*.xml")):
        files = [("files", (path.name, path.read_bytes(), "application/xml"))]
        response = client.post(f"/api/v1/kb/{kb_id}/documents", files=files, headers=headers)
        assert response.status_code == 202, response.text
    while True:
        documents = client.get(f"/api/v1/kb/{kb_id}/documents", headers=headers).json()
        if all(d["status"] != "pending" for d in documents):
            break
        done = sum(d["job"]["chunks_done"] for d in documents if d["job"])
        print(f"  ingesting: {done} chunks embedded", flush=True)
        time.sleep(10)
    assert all(d["status"] == "ready" for d in documents), documents
    return kb_id, time.monotonic() - started, sum(d["chunk_count"] for d in documents)


def shown(passage: dict[str, Any]) -> str:
    """A passage as the model saw it: label (e.g. 行政手続法第五条) and text."""
    return f"{passage['label']}\n{passage['text']}"


def claim_support(body: str, passages: dict[int, dict[str, Any]]) -> list[float]:
    """Per claim of ``body``: the best 3-gram containment among the valid passages it cites (0 when
    it cites none or is marked unsupported)."""
    found = []
    for piece in pieces(body):
        if not is_claim(piece):
            continue
        numbers = [n for n in cited_numbers(piece) if n in passages]
        claim = re.sub(r"\[\d{1,3}\]", "", piece)
        flagged = UNSUPPORTED_MARK in piece
        best = max((containment(claim, shown(passages[n])) for n in numbers), default=0.0)
        found.append(0.0 if flagged else best)
    return found


def judge(question: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """The measurements of one answer (see the module docstring)."""
    passages = {p["number"]: p for p in answer["passages"]}
    expected = f"{question['law']}{question['article']}"
    body = answer["answer"].split("\n\n根拠条文:", 1)[0]
    sentences = cited_sentences(body)
    supports = [
        max((containment(claim, shown(passages[n])) for n in numbers if n in passages), default=0.0)
        for claim, numbers in sentences
    ]
    claims = claim_support(body, passages)
    raw_claims = claim_support(answer.get("model_text") or "", passages)
    cited_labels = [passages[n]["label"] for n in answer["cited"]]
    notices = " ".join(answer["notices"])
    return {
        "id": question["id"],
        "found": answer["found"],
        "markers": len(answer["cited"]) + len(answer["invalid_citations"]),
        "invalid": len(answer["invalid_citations"]),
        "cited_sentences": len(sentences),
        "support": [round(s, 3) for s in supports],
        "all_supported": bool(supports) and not answer["invalid_citations"] and min(supports) >= SUPPORTED_AT,
        "claims": len(claims),
        "all_claims_supported": bool(claims) and min(claims) >= SUPPORTED_AT,
        "raw_claims": len(raw_claims),
        "raw_all_claims_supported": bool(raw_claims) and min(raw_claims) >= SUPPORTED_AT,
        "quoted": "そのまま引用" in notices,
        "moved": "付け直しました" in notices,
        "flagged": body.count(UNSUPPORTED_MARK),
        "expansions": answer.get("expansions", []),
        "article": any(expected == label or label.startswith(expected + "・") for label in cited_labels),
        "retrieved": any(p["label"].split("・")[0] == expected for p in answer["passages"]),
        "model": answer["model_name"],
        "model_text": answer.get("model_text"),
        "answer": answer["answer"],
        "passages": [{k: p[k] for k in ("number", "label", "text")} for p in answer["passages"]],
    }


def summarise(rows: list[dict[str, Any]], seconds: list[float]) -> dict[str, Any]:
    n = len(rows)
    with_markers = [r for r in rows if r["markers"]]
    return {
        "questions": n,
        "not_found": sum(not r["found"] for r in rows),
        "answers_with_citations": len(with_markers),
        "answers_with_an_invalid_marker": sum(r["invalid"] > 0 for r in rows),
        "markers_total": sum(r["markers"] for r in rows),
        "markers_invalid": sum(r["invalid"] for r in rows),
        "all_citations_supported": sum(r["all_supported"] for r in rows),
        "answers_with_claims": sum(r["claims"] > 0 for r in rows),
        "all_claims_supported": sum(r["all_claims_supported"] for r in rows),
        "model_text_with_claims": sum(r["raw_claims"] > 0 for r in rows),
        "model_text_all_claims_supported": sum(r["raw_all_claims_supported"] for r in rows),
        "answers_quoting_a_passage": sum(r["quoted"] for r in rows),
        "answers_with_moved_markers": sum(r["moved"] for r in rows),
        "claims_flagged_unsupported": sum(r["flagged"] for r in rows),
        "share_all_citations_supported": round(sum(r["all_supported"] for r in rows) / n, 3) if n else 0.0,
        "share_expected_article_cited": round(sum(r["article"] for r in rows) / n, 3) if n else 0.0,
        "share_expected_article_retrieved": round(sum(r["retrieved"] for r in rows) / n, 3) if n else 0.0,
        "median_seconds_per_answer": round(statistics.median(seconds), 2) if seconds else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--model", default="default")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "citations.json")
    parser.add_argument(
        "--lexical-only", action="store_true", help="search without the e5 embedder (ingestion is much faster)"
    )
    parser.add_argument("--expand", action="store_true", help="ask with query expansion by the model (expand_query)")
    args = parser.parse_args()
    questions = [json.loads(line) for line in (HERE / "questions.jsonl").read_text().splitlines() if line.strip()]
    questions = questions[: args.limit] if args.limit else questions
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        settings = load_settings(
            data_dir=Path(tmp) / "data",
            database_url=url,
            secret_key="bench-secret-" + "k" * 40,
            embedded_model_dir=Path(os.environ.get("HIRAGA_TEST_MODEL_CACHE", "/tmp/hiraga-test-models")),
        )
        key, team_id = operator_key(url, settings)
        headers = {"authorization": f"Bearer {key}"}
        app = create_app(settings)
        if args.lexical_only:
            app.state.ctx.extras[EMBEDDER_KEY] = lambda: None
        with TestClient(app) as client:
            kb_id, ingest_seconds, chunks = ingest(client, headers, team_id)
            print(f"ingested {chunks} chunks in {ingest_seconds:.0f} s", flush=True)
            rows, seconds = [], []
            for question in questions:
                started = time.monotonic()
                body = {
                    "question": question["question"],
                    "model": args.model,
                    "max_tokens": 200,
                    "expand_query": args.expand,
                }
                response = client.post(f"/api/v1/kb/{kb_id}/ask", json=body, headers=headers, timeout=600)
                assert response.status_code == 200, response.text
                seconds.append(time.monotonic() - started)
                rows.append(judge(question, response.json()))
                print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    model = next((r["model"] for r in rows if r["model"]), None)
    search = "lexical (BM25 + bigrams, sentence rerank)" if args.lexical_only else "hybrid (BM25 + e5, rerank)"
    summary = summarise(rows, seconds) | {
        "model": model,
        "search": search + (" + query expansion by the model" if args.expand else ""),
        "chunks": chunks,
    }
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "answers": rows}, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
