"""Poll rules, as Mastodon's: how many options, how long each, how long a poll runs, which
votes count. The limits are the ones the instance advertises (``configuration.polls``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from roost.domain import text
from roost.domain.errors import Invalid, ValidationFailed

# Mastodon's defaults (PollValidator), which its clients assume when they draw the composer.
MAX_OPTIONS = 4
MAX_OPTION_CHARS = 50
MIN_EXPIRATION = 300  # five minutes
MAX_EXPIRATION = 2_629_746  # a month


@dataclass(frozen=True)
class Draft:
    """A poll as its author asked for it, checked."""

    options: tuple[str, ...]
    expires_in: int
    multiple: bool
    hide_totals: bool


def check_draft(
    options: Sequence[str], expires_in: int | None, multiple: bool, hide_totals: bool
) -> Draft:
    """A poll's options and duration, each refusal worded as Mastodon words it."""
    cleaned = tuple(text.clean(option).strip() for option in options)
    if len(cleaned) < 2:
        raise Invalid("poll", "must have at least 2 options")
    if len(cleaned) > MAX_OPTIONS:
        raise Invalid("poll", f"cannot have more than {MAX_OPTIONS} options")
    if any(not option for option in cleaned):
        raise Invalid("poll", "options can't be blank")
    if any(text.count(option) > MAX_OPTION_CHARS for option in cleaned):
        raise Invalid("poll", f"options cannot be longer than {MAX_OPTION_CHARS} characters each")
    if len(set(cleaned)) != len(cleaned):
        raise Invalid("poll", "options must not contain duplicate items")
    return Draft(cleaned, check_duration(expires_in), multiple, hide_totals)


def check_duration(expires_in: int | None) -> int:
    if expires_in is None:
        raise Invalid("poll", "expires_in can't be blank")
    if expires_in < MIN_EXPIRATION:
        raise Invalid("poll", f"expires_in must be at least {MIN_EXPIRATION} seconds")
    if expires_in > MAX_EXPIRATION:
        raise Invalid("poll", f"expires_in must be at most {MAX_EXPIRATION} seconds")
    return expires_in


def ends_at(created: datetime, draft: Draft) -> datetime:
    return created + timedelta(seconds=draft.expires_in)


def check_choices(
    choices: Sequence[int], options: int, multiple: bool, voted: bool, expired: bool
) -> tuple[int, ...]:
    """The options a vote picks: Mastodon's VoteValidator (one vote per person, and one choice
    on a single-choice poll; an ended poll takes none)."""
    if expired:
        raise ValidationFailed("The poll has already ended")
    if voted:
        raise ValidationFailed("You have already voted on this poll")
    picked = tuple(dict.fromkeys(choices))
    if not picked:
        raise ValidationFailed("choices can't be blank")
    if any(choice < 0 or choice >= options for choice in picked):
        raise ValidationFailed("The chosen vote option does not exist")
    if len(picked) > 1 and not multiple:
        raise ValidationFailed("You have already voted on this poll")
    return picked


def totals_shown(expired: bool, hide_totals: bool, is_author: bool) -> bool:
    """Whether a viewer sees each option's count: a poll that hides them shows them once it
    ends, and to its author all along."""
    return expired or not hide_totals or is_author
