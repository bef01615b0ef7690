"""Model output rendered as Markdown can never carry script into the page."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from hiraga.portal.markdown import render_markdown

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[クリック](javascript:alert(1))",
    "[クリック](JaVaScRiPt:alert(1))",
    "[x](  javascript:alert(1))",
    "![画像](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=https://evil.example></iframe>",
    '<svg onload="alert(1)"></svg>',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "```html\n<script>alert(1)</script>\n```",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    '<details open ontoggle="alert(1)">',
    "[x](vbscript:msgbox(1))",
    '"><script>alert(1)</script>',
]


class Elements(HTMLParser):
    """The real elements and attributes of rendered HTML (escaped text is text, not elements)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


SAFE_TAGS = {"p", "a", "code", "pre", "table", "thead", "tbody", "tr", "th", "td", "br"}


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_markdown_renders_without_script(payload: str) -> None:
    for tag, attributes in Elements(render_markdown(payload)).found:
        assert tag in SAFE_TAGS, tag
        assert set(attributes) <= {"href", "rel", "class", "title"}, attributes
        href = attributes.get("href")
        assert href is None or href.startswith(("http://", "https://", "mailto:")), href


def test_script_text_is_shown_as_text() -> None:
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in render_markdown("<script>alert(1)</script>")


def test_tables_code_and_links_survive_sanitising() -> None:
    html = render_markdown(
        "# 見出し\n\n| 項目 | 金額 |\n|---|--:|\n| 手数料 | 1,200円 |\n\n```python\nprint('こんにちは')\n```\n\n"
        "[デジタル庁](https://www.digital.go.jp/)"
    )
    assert "<table>" in html and "<td>1,200円</td>" in html
    assert '<code class="language-python">' in html
    assert 'href="https://www.digital.go.jp/"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert "style" not in html  # alignment styles would be blocked by the CSP anyway
