"""Which of a person's filters a post matches, as Mastodon matches them: keywords anywhere in
the post's text or content warning, case-insensitively; a whole-word keyword only between word
boundaries (where it starts or ends with a letter or digit); and posts chosen by id. Pure:
the rules come loaded, the text comes as stored."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Rule:
    """One filter, ready to match: its id (to name it in results), where and how it acts."""

    filter_id: int
    title: str
    action: str  # warn | hide
    contexts: tuple[str, ...]
    expires_at: datetime | None
    keywords: tuple[tuple[str, bool], ...]  # (keyword, whole_word)
    status_ids: frozenset[int]
    pattern: re.Pattern | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:  # every keyword in one expression, each a named group
        parts = [f"(?P<k{n}>{_pattern(k, whole)})" for n, (k, whole) in enumerate(self.keywords)]
        compiled = re.compile("|".join(parts), re.IGNORECASE) if parts else None
        object.__setattr__(self, "pattern", compiled)

    def active(self, moment: datetime) -> bool:
        return self.expires_at is None or self.expires_at > moment

    def hides_in(self, context: str | None) -> bool:
        """Whether a post it matches is left out where it is shown (else the client is told
        what matched, and judges by the filter's contexts itself, as Mastodon's clients do)."""
        return self.action == "hide" and context in self.contexts

    def match(self, status_id: int, text: str) -> Match | None:
        """What of this filter the post matches, or None."""
        keywords: list[str] = []
        if self.pattern is not None:
            for found in self.pattern.finditer(text):
                keyword = self.keywords[int(found.lastgroup[1:])][0]  # type: ignore[index]
                if keyword not in keywords:
                    keywords.append(keyword)
        chosen = status_id in self.status_ids
        if not keywords and not chosen:
            return None
        return Match(self, status_id, tuple(keywords), chosen)


@dataclass(frozen=True)
class Match:
    rule: Rule
    status_id: int
    keywords: tuple[str, ...]  # the keywords found, each once, in order of appearance
    chosen: bool  # the post itself is one the filter names


def searchable(text: str | None, spoiler_text: str | None) -> str:
    """The text a post is matched by: its content warning and its words."""
    return f"{spoiler_text or ''}\n\n{text or ''}"


def _pattern(keyword: str, whole_word: bool) -> str:
    escaped = re.escape(keyword)
    if not whole_word:
        return escaped
    start = r"\b" if re.match(r"\w", keyword[:1]) else ""
    end = r"\b" if re.match(r"\w", keyword[-1:]) else ""
    return f"{start}{escaped}{end}"
