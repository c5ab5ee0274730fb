"""Preview cards' pure part (roost.domain.cards): which link, its one spelling, what a page
says about itself."""

from __future__ import annotations

import pytest

from roost.domain.cards import charset_of, is_html, link_of, normalize, read_page


@pytest.mark.parametrize(
    "url, kept",
    [
        ("HTTPS://Example.COM/Path?q=1#frag", "https://example.com/Path?q=1"),
        ("http://example.com", "http://example.com/"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://[2606:4700::1]:8080/", "http://[2606:4700::1]:8080/"),
        ("ftp://example.com/", None),
        ("http://user:pw@example.com/", None),
        ("http://example.com:99999/", None),
        ("http:///nohost", None),
    ],
)
def test_one_spelling_per_url(url, kept):
    assert normalize(url) == kept


def test_the_first_link_not_back_at_this_instance():
    base = "https://roost.test"
    assert link_of("@bob #tag https://roost.test/@bob then https://a.example/x.", base) == (
        "https://a.example/x"
    )
    assert link_of("no links #here @bob", base) is None


def test_a_page_tells_its_card():
    page = read_page(
        "<html lang='en-GB'><head><title>Plain</title>"
        "<meta property='og:title' content='  Open\n Graph '>"
        "<meta name='twitter:description' content='tweet'>"
        "<meta property='og:image' content='/p.png'></head></html>",
        "https://a.example/dir/page",
    )
    assert page is not None and page.title == "Open Graph" and page.description == "tweet"
    assert page.image_url == "https://a.example/p.png" and page.language == "en"
    assert read_page("<html><body>no title</body></html>", "https://a.example/") is None
    long = read_page(f"<title>{'x' * 1000}</title>", "https://a.example/")
    assert long is not None and len(long.title) == 200


def test_encodings_and_types():
    assert charset_of("text/html; charset=ISO-8859-1", b"") == "ISO-8859-1"
    assert charset_of("text/html", b"<meta charset='windows-1252'>") == "windows-1252"
    assert charset_of("text/html", b"<p>") == "utf-8"
    assert is_html("text/html; charset=utf-8") and is_html("application/xhtml+xml")
    assert not is_html("image/png") and not is_html("")
