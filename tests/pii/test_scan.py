from __future__ import annotations

import itertools

from hiraga.pii.base import Finding
from hiraga.pii.guard import load_detectors
from hiraga.pii.normalize import canonical, normalize
from hiraga.pii.scan import resolve_overlaps, scan


def test_normalised_spans_map_back_to_the_original_text() -> None:
    original = "電話：０３－１２３４－５６７８"
    norm = normalize(original)
    assert norm.text == "電話:03-1234-5678"
    start = norm.text.index("03")
    assert norm.span_in_original(start, len(norm.text)) == (3, len(original))
    assert canonical("０９０－１２３４ ５６７８") == canonical("09012345678")


def test_overlaps_keep_the_longest_then_the_most_confident_whatever_the_order() -> None:
    findings = [
        Finding("address", 0, 20, "x" * 20, 0.8),
        Finding("person_name", 5, 9, "x" * 4, 0.95),
        Finding("postal_code", 22, 30, "x" * 8, 1.0),
        Finding("bank_account", 22, 30, "x" * 8, 0.9),
        Finding("phone_number", 19, 23, "x" * 4, 1.0),
    ]
    results = {tuple(resolve_overlaps(order)) for order in itertools.permutations(findings)}
    assert results == {(findings[0], findings[2])}


def test_scan_resolves_real_overlaps_between_detectors() -> None:
    detectors = load_detectors()
    # 田中 is a 人名 inside an address; the address is longer and wins.
    text = "住所：東京都中野区田中町1-2-3 山田太郎様"
    kinds = [(f.kind, f.value) for f in scan(text, detectors)]
    assert kinds == [("address", "東京都中野区田中町1-2-3"), ("person_name", "山田太郎")]
