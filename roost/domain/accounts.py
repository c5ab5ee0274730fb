"""Account rules: usernames, display names, bios, passwords (argon2id)."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from roost.domain.errors import Invalid
from roost.domain.text import clean

USERNAME = re.compile(r"[a-z0-9_]{1,30}")
RESERVED = frozenset(
    {"admin", "api", "status", "static", "root", "roost", "support", "about", "oauth", "tags"}
)
MAX_DISPLAY_NAME = 30
MAX_BIO = 500
MIN_PASSWORD = 8
MAX_PASSWORD = 256

# argon2id at OWASP's first recommended setting (19 MiB, 2 passes, 1 lane: Password Storage
# Cheat Sheet, which lists it as equal in strength to its other settings). The library's default
# (RFC 9106's low-memory profile: 64 MiB, 3 passes, 4 lanes) cost 177 ms and 244 ms of CPU per
# check here, so a junk login cost the server a quarter of a core-second (issue 11); this one
# costs about 30 ms. Hashes made with the old setting still verify and are replaced at the next
# sign-in (services/accounts.authenticate). docs/architecture.md has the decision.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def normalize_username(raw: str) -> str:
    """The stored form of a username; raises Invalid with a message a person can act on."""
    name = clean(raw).strip().lstrip("@").lower()
    if not USERNAME.fullmatch(name):
        raise Invalid("username", "must be 1-30 letters, digits or underscores")
    return name


def check_new_username(raw: str) -> str:
    name = normalize_username(raw)
    if name in RESERVED:
        raise Invalid("username", "is reserved")
    return name


def check_display_name(raw: str) -> str:
    name = " ".join(clean(raw).split())
    if len(name) > MAX_DISPLAY_NAME:
        raise Invalid("display_name", f"must be at most {MAX_DISPLAY_NAME} characters")
    return name


def check_bio(raw: str) -> str:
    bio = clean(raw).strip()
    if len(bio) > MAX_BIO:
        raise Invalid("note", f"must be at most {MAX_BIO} characters")
    return bio


def check_email(raw: str) -> str:
    email = clean(raw).strip().lower()
    if len(email) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise Invalid("email", "is not a valid address")
    return email


def check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password or "") <= MAX_PASSWORD:
        raise Invalid("password", f"must be {MIN_PASSWORD}-{MAX_PASSWORD} characters")


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher.hash(password)


def needs_rehash(stored_hash: str) -> bool:
    """Whether a stored hash was made with other parameters than today's."""
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except (InvalidHashError, ValueError):
        return False


def verify_password(stored_hash: str, password: str) -> bool:
    if not stored_hash or len(password or "") > MAX_PASSWORD:
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
