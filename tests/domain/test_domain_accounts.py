"""Account rules: usernames, passwords (argon2id), signed tokens."""

import pytest

from roost.domain import accounts, posts
from roost.domain.errors import Invalid
from roost.domain.signed import mint_token, read_token, token_digest

SECRET = b"s" * 32


@pytest.mark.parametrize(
    "raw,stored", [("Alice", "alice"), ("@bob_1", "bob_1"), ("x" * 30, "x" * 30)]
)
def test_usernames_are_case_insensitive(raw, stored):
    assert accounts.normalize_username(raw) == stored


@pytest.mark.parametrize("bad", ["", "a b", "x" * 31, "émile", "a-b", "a.b"])
def test_invalid_usernames_are_refused_with_a_message(bad):
    with pytest.raises(Invalid, match="Username"):
        accounts.normalize_username(bad)


def test_reserved_usernames_are_refused():
    with pytest.raises(Invalid, match="reserved"):
        accounts.check_new_username("admin")


def test_passwords_are_argon2id_and_verify():
    hashed = accounts.hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert accounts.verify_password(hashed, "correct horse")
    assert not accounts.verify_password(hashed, "wrong horse")
    assert not accounts.verify_password("not-a-hash", "x")


def test_short_passwords_are_refused():
    with pytest.raises(Invalid, match="Password"):
        accounts.hash_password("short")


def test_signed_tokens_carry_claims_and_reject_tampering():
    token = mint_token(SECRET, 42, 1_700_000_000)
    assert read_token(SECRET, token) == (42, 1_700_000_000)
    assert read_token(b"other" * 8, token) is None
    forged = token.replace("r1.42.", "r1.43.")
    assert read_token(SECRET, forged) is None
    assert read_token(SECRET, "garbage") is None
    assert len(token_digest(token)) == 64


def test_post_rules():
    assert posts.check_text("  hi  ", 500) == "hi"
    with pytest.raises(Invalid, match="blank"):
        posts.check_text("   ", 500)
    with pytest.raises(Invalid, match="too long"):
        posts.check_text("x" * 501, 500)
    assert posts.check_text("https://x.org/" + "a" * 600, 500)  # a link counts as 23
    with pytest.raises(Invalid):
        posts.check_visibility("everyone")
    assert posts.visible_to("private", 1, 2, viewer_follows_author=True)
    assert not posts.visible_to("private", 1, 2, viewer_follows_author=False)
    assert not posts.visible_to("direct", 1, None, False)
