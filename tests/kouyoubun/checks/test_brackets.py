from tests.kouyoubun.helpers import covered


def test_quote_inside_quote_becomes_double_quote() -> None:
    text = "「職員は「公用文」を学ぶ」と定める。"
    assert covered(text, "bracket") == [("bracket.nested", "「公用文」", "『公用文』")]


def test_double_quote_inside_quote_and_nested_parentheses_pass() -> None:
    assert covered("「職員は『公用文』を学ぶ」と定める（第二条（定義）を除く。）。", "bracket") == []


def test_statutes_quoting_a_definition_keep_their_quotes() -> None:
    assert covered("「（以下「審理員」という。）」とあるのは、読み替える。", "bracket") == []


def test_unclosed_and_unopened_brackets() -> None:
    assert covered("申請書（様式第一を提出する。", "bracket") == [("bracket.unclosed", "（", None)]
    assert covered("申請書様式第一）を提出する。", "bracket") == [("bracket.unopened", "）", None)]


def test_mismatched_closer_reports_the_inner_opener() -> None:
    assert covered("（申請書「様式）を提出する。", "bracket") == [("bracket.unclosed", "「", None)]
