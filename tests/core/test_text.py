from core.text import render_plain
from tests.helpers import HOSTILE


def test_paragraphs_and_line_breaks() -> None:
    html = render_plain("first line\nsecond line\n\n\nnext paragraph")
    assert html == "<p>first line<br>\nsecond line</p>\n<p>next paragraph</p>"


def test_markup_from_the_author_never_survives() -> None:
    html = render_plain(f"{HOSTILE}\n\n<img src=x onerror=alert(1)>")
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


def test_web_addresses_become_safe_links() -> None:
    html = render_plain("See https://bishkek.kg/plan?a=1&b=2. Or javascript:alert(1)")
    assert ('<a href="https://bishkek.kg/plan?a=1&amp;b=2" rel="nofollow ugc noopener '
            'noreferrer">https://bishkek.kg/plan?a=1&amp;b=2</a>.') in html
    assert 'href="javascript' not in html


def test_a_quote_cannot_break_out_of_the_link() -> None:
    html = render_plain('https://x.kg/"onmouseover="alert(1)')
    assert 'onmouseover="' not in html
