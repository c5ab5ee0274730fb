"""Filter matching as Mastodon does it: keywords, whole words, chosen posts, contexts, ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from roost.domain.filtering import Rule, searchable

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)


def rule(*keywords: tuple[str, bool], chosen=(), contexts=("home",), ends=None) -> Rule:
    return Rule(1, "Birds", "warn", tuple(contexts), ends, tuple(keywords), frozenset(chosen))


def test_whole_words_match_only_between_word_boundaries() -> None:
    cat = rule(("cat", True))
    assert cat.match(1, "A CAT sat") is not None
    assert cat.match(1, "concatenate the cats") is None
    anywhere = rule(("cat", False))
    assert anywhere.match(1, "concatenate").keywords == ("cat",)


def test_keywords_edged_with_symbols_match_next_to_anything() -> None:
    tag = rule(("#birds", True), ("c++", True))
    found = tag.match(1, "I like c++ and #Birds!")
    assert found is not None and found.keywords == ("c++", "#birds")
    assert tag.match(1, "#birdsong") is None  # the end is a letter: a boundary is needed


def test_each_keyword_found_is_named_once_and_chosen_posts_match_by_id() -> None:
    two = rule(("heron", True), ("wren", True), chosen=[7])
    found = two.match(3, "heron, wren, heron")
    assert found.keywords == ("heron", "wren") and not found.chosen
    assert two.match(7, "nothing here").chosen and two.match(8, "nothing here") is None
    assert rule(("special.*", False)).match(1, "special chars") is None  # escaped, not a regex


def test_a_rule_is_active_until_it_ends_and_hides_only_in_its_contexts() -> None:
    later = rule(("x", True), contexts=("home", "thread"), ends=NOW + timedelta(hours=1))
    assert later.active(NOW) and not later.active(NOW + timedelta(hours=2))
    assert rule(("x", True)).active(NOW + timedelta(days=9999))
    assert not later.hides_in("home")  # a warning filter hides nowhere
    hiding = Rule(2, "Gone", "hide", ("home", "thread"), None, (("x", True),), frozenset())
    assert hiding.hides_in("home") and hiding.hides_in("thread")
    assert not hiding.hides_in("public") and not hiding.hides_in(None)


def test_the_content_warning_is_searched_too() -> None:
    assert rule(("spoiler", True)).match(1, searchable("the end", "Spoiler ahead")) is not None
