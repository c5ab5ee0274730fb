"""Link-preview fetchers: the robots other sites and chat apps send to read a Roost page's
OpenGraph meta when someone shares its link. They cannot solve a challenge, so under attack
they are not challenged on the pages that carry that meta (a profile, a post) and nowhere else.

What a forged user agent gains by it: a profile or post page unchallenged, still within every
rate limit of its address and prefix and within the strangers' share of the slots (the edge's
anonymous queue), and mostly answered from the edge's cache of anonymous pages. The share
signed-in people have is never theirs.
"""

from __future__ import annotations

import re

# The fetchers of the sites and apps that preview links (as their user agents name them).
FETCHER_AGENTS = (
    r"facebookexternalhit|facebookcatalog|twitterbot|slackbot|slack-imgproxy|discordbot|"
    r"telegrambot|whatsapp|linkedinbot|skypeuripreview|redditbot|applebot|iframely|embedly|"
    r"mastodon/|pleroma|akkoma|misskey|cardyb|signal"
)
# The pages that carry OpenGraph meta (roost/web/opengraph.py): a profile and a post.
PREVIEW_PAGES = r"^/@[A-Za-z0-9_]+(/[0-9]+)?$"

_AGENT = re.compile(FETCHER_AGENTS.encode(), re.IGNORECASE)
_PAGE = re.compile(PREVIEW_PAGES)


def is_preview_fetch(path: str, user_agent: bytes) -> bool:
    return bool(_PAGE.match(path)) and bool(_AGENT.search(user_agent))
