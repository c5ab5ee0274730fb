"""Post text: parsing, Mastodon counting, and safe rendering."""

from hypothesis import given
from hypothesis import strategies as st

from roost.domain import text

BASE = "https://roost.test"


def test_parse_finds_mentions_tags_and_links_once_each():
    parsed = text.parse("Hi @Alice and @bob@elsewhere.org #Roost #roost https://x.org/a?b=1.")
    assert parsed.mentions == ["alice"]
    assert parsed.tags == ["roost"]
    assert parsed.links == ["https://x.org/a?b=1"]


def test_email_addresses_and_anchors_are_not_mentions_or_tags():
    parsed = text.parse("mail me@host.org or see page#section")
    assert parsed.mentions == [] and parsed.tags == []


def test_count_weighs_every_url_as_23():
    long_url = "https://example.com/" + "a" * 200
    assert text.count(f"see {long_url}") == 4 + 23


def test_count_uses_code_points_and_remote_mentions_by_username():
    assert text.count("héllo 🐦") == 7
    assert text.count("@bob@very.long.domain.example") == len("@bob")


def test_render_escapes_everything_the_user_wrote():
    html = text.render('<script>alert("x")</script> & "quotes"', BASE)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html and "&amp;" in html and "&quot;" in html


def test_render_links_known_mentions_tags_and_urls():
    html = text.render("hey @alice #Birds https://x.org/p", BASE, {"alice"})
    assert f'href="{BASE}/@alice"' in html
    assert f'href="{BASE}/tags/birds"' in html and "#<span>Birds</span>" in html
    assert 'href="https://x.org/p" rel="nofollow noopener noreferrer"' in html


def test_unknown_mentions_stay_plain_text():
    assert "<a" not in text.render("hello @nobody", BASE, set())


def test_render_makes_paragraphs_and_line_breaks():
    assert text.render("one\ntwo\n\nthree", BASE) == "<p>one<br>two</p><p>three</p>"


def test_url_with_quote_cannot_break_out_of_the_attribute():
    html = text.render('https://x.org/"onmouseover=alert(1)', BASE)
    assert '"onmouseover' not in html


@given(st.text(max_size=300))
def test_rendered_html_never_contains_raw_angle_brackets_from_input(body):
    html = text.render(body, BASE)
    stripped = html.replace("<p>", "").replace("</p>", "").replace("<br>", "")
    for tag in ("<a ", "</a>", "<span", "</span>"):
        stripped = stripped.replace(tag, "")
    assert "<script" not in stripped.lower()
    assert text.count(body) <= len(body) + 23 * body.count("http")


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_count_never_exceeds_length_for_text_without_links(body):
    if "http" not in body:
        assert text.count(body) <= len(body)


def test_normalize_tag():
    assert text.normalize_tag("#Roost") == "roost"
    assert text.normalize_tag("123") is None
    assert text.normalize_tag("a b") is None
