"""The 公用文チェック page (/tasks/kouyoubun): login required, a plain form (no JavaScript needed),
findings marked in the text and listed, the service's errors shown in the page, output escaped;
and the header navigation marking the current page."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from httpx import Response
from pages_support import csrf_from

from hiraga.kouyoubun.checker import check
from hiraga.kouyoubun.findings import Finding, RuleSource
from hiraga.kouyoubun.protocol import MAX_TEXT_CHARS, FindingOut
from hiraga.kouyoubun.registry import CheckOptions, rule_families
from hiraga.web.pages.kouyoubun import pieces_of

PAGE = "/tasks/kouyoubun"
# full-width digits, 並びに without 及び, and ですます mixed with である
SEEDED = "２０２４年度の計画並びに予算について説明します。会議は毎月開催する。"
SEEDED_RULES = {"digits.full_width", "conjunction.level", "style.mixed"}


def submit(client: TestClient, text: str, families: list[str] | None = None, **fields: str) -> Response:
    """Post the form as the browser does: multipart, with the CSRF token of the page."""
    token = csrf_from(client.get(PAGE).text)
    chosen = list(rule_families()) if families is None else families
    values = {"text": text, "long_sentence_chars": "120", "soft_sentence_chars": "80", **fields, "csrf_token": token}
    parts = [(name, (None, value)) for name, value in values.items()]
    parts += [("families", (None, family)) for family in chosen]
    return client.post(PAGE, files=parts, follow_redirects=False)


def rule_ids_in(page: str) -> set[str]:
    return set(re.findall(r"<code>([a-z_]+\.[a-z_]+)</code>", page))


def test_anonymous_visitors_are_sent_to_login(client: TestClient, people) -> None:  # type: ignore[no-untyped-def]
    response = client.get(PAGE, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Ftasks%2Fkouyoubun"


def test_the_form_is_labelled_and_offers_every_rule_class(as_user) -> None:  # type: ignore[no-untyped-def]
    page = as_user("amy").get(PAGE).text
    assert "<h1>公用文チェック</h1>" in page
    for field_id in re.findall(r'<(?:textarea|select|input) [^>]*id="([^"]+)"', page):
        assert f'for="{field_id}"' in page, field_id
    offered = set(re.findall(r'name="families" value="([a-z]+)" checked', page))
    assert offered == set(rule_families())
    assert 'name="csrf_token"' in page


def test_a_member_sees_the_seeded_deviations_marked_and_listed(as_user) -> None:  # type: ignore[no-untyped-def]
    response = submit(as_user("amy"), SEEDED)
    assert response.status_code == 200, response.text
    expected = check(SEEDED, CheckOptions()).findings
    assert {f.rule_id for f in expected} >= SEEDED_RULES
    assert rule_ids_in(response.text) == {f.rule_id for f in expected}
    rows = re.findall(r'<tr id="finding-(\d+)">', response.text)
    assert rows == [str(n) for n in range(1, len(expected) + 1)]
    marked = response.text.split('data-testid="marked-text">', 1)[1].split("</div>", 1)[0]
    assert re.search(r"<mark[^>]*>２０２４</mark><a class=\"finding-ref\" href=\"#finding-\d+\"", marked)
    assert re.search(r"<mark[^>]*>並びに</mark>", marked)
    assert html.unescape(re.sub(r"<a class=\"finding-ref\"[^>]*>\[\d+\]</a>|<[^>]+>", "", marked)) == SEEDED
    assert 'textarea id="field-text"' in response.text and SEEDED in response.text  # the text stays in the form


def test_only_the_chosen_rule_classes_run(as_user) -> None:  # type: ignore[no-untyped-def]
    response = submit(as_user("amy"), SEEDED, families=["digits"])
    assert response.status_code == 200
    assert rule_ids_in(response.text) == {"digits.full_width"}
    assert re.search(r'value="digits" checked', response.text)
    assert not re.search(r'value="style" checked', response.text)


def test_hostile_input_is_escaped(as_user) -> None:  # type: ignore[no-untyped-def]
    hostile = '<script>alert("x")</script>２０２４年<img src=x onerror=alert(1)>'
    response = submit(as_user("amy"), hostile)
    assert response.status_code == 200
    assert "<script>alert" not in response.text
    assert "<img src=x" not in response.text
    assert "&lt;script&gt;alert(" in response.text
    assert "digits.full_width" in rule_ids_in(response.text)


def test_empty_text_is_refused_in_the_page(as_user) -> None:  # type: ignore[no-untyped-def]
    response = submit(as_user("amy"), "  \n ")
    assert response.status_code == 400
    alert = response.text.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert "チェックする文章を入力してください。" in alert
    assert 'aria-invalid="true"' in response.text
    assert "<table" not in response.text


def test_oversized_text_is_refused_with_413(as_user) -> None:  # type: ignore[no-untyped-def]
    response = submit(as_user("amy"), "あ" * (MAX_TEXT_CHARS + 1))
    assert response.status_code == 413
    assert 'role="alert"' in response.text and "文章が長すぎます" in response.text


def test_bad_choices_are_refused_in_the_page(as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user("amy")
    none_chosen = submit(client, SEEDED, families=[])
    assert none_chosen.status_code == 400 and "規則の種類を一つ以上選んでください。" in none_chosen.text
    unknown = submit(client, SEEDED, families=["nonsense"])
    assert unknown.status_code == 400 and "nonsense" in unknown.text
    too_short = submit(client, SEEDED, long_sentence_chars="5")
    assert too_short.status_code == 400 and 'role="alert"' in too_short.text
    assert 'id="field-long_sentence_chars"' in too_short.text and 'aria-invalid="true"' in too_short.text


def test_the_check_is_in_the_catalogue_and_recorded_as_used(as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user("amy")
    assert f'href="{PAGE}"' in client.get("/catalogue").text
    submit(client, SEEDED)
    recent = client.get("/catalogue").text.split("最近使った", 1)
    assert len(recent) == 2 and f'href="{PAGE}"' in recent[1]


def nav_links(page: str) -> dict[str, bool]:
    nav = page.split('<ul class="nav-list">', 1)[1].split("</ul>", 1)[0]
    return {href: bool(current) for href, current in re.findall(r'<a href="([^"]+)"( aria-current="page")?', nav)}


def test_header_nav_by_role_marks_the_current_page(as_user) -> None:  # type: ignore[no-untyped-def]
    member = nav_links(as_user("amy").get(PAGE).text)
    assert list(member) == ["/", "/chat", "/catalogue", PAGE, "/kb", "/eval"]  # registered apps: in the catalogue
    assert [href for href, current in member.items() if current] == [PAGE]
    admin = nav_links(as_user("alice").get("/chat").text)
    assert {"/builder", "/bots", "/admin", "/dashboards", "/audit"} <= set(admin)
    assert [href for href, current in admin.items() if current] == ["/chat"]


def test_every_header_link_opens_for_a_system_admin(as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user("root")
    for href in nav_links(client.get("/").text):
        response = client.get(href, follow_redirects=False)
        assert response.status_code == 200, href


def test_overlapping_and_empty_findings_are_all_marked() -> None:
    text = "一文目です。二文目である。"
    findings = [
        FindingOut.of(Finding(0, 13, "length.long", "長さ", "長い", None, RuleSource("x")), text),
        FindingOut.of(Finding(8, 12, "style.mixed", "文体", "混在", None, RuleSource("x")), text),
        FindingOut.of(Finding(0, 0, "bracket.open", "括弧", "空", None, RuleSource("x")), text),
    ]
    pieces = pieces_of(text, findings)
    assert "".join(p.text for p in pieces) == text
    assert [(p.text, p.marked_by, p.ends) for p in pieces] == [
        ("", [], [3]),
        ("一文目です。二文", [1], []),
        ("目である", [1, 2], [2]),
        ("。", [1], [1]),
    ]
