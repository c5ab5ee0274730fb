"""toot's TUI: its start-up, call by call, from its source."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.api.startups.calls import (
    Call,
    Replay,
    _followings_end,
    _personal_timeline_has_no_replies,
    _some_carry_a_status,
    _statuses_are_the_listed_authors,
    _the_list_is_there,
)
from tests.api.startups.shapes import (
    APP,
    CONVERSATION,
    ID,
    NOTIFICATION,
    PREFERENCES,
    STATUS,
    NonEmpty,
)


def _toot_query(params: dict) -> str:
    """toot api.py _timeline_generator: `path += f"?{urlencode(params)}"`, no doseq, so a list
    goes as its Python repr and a bool as True/False."""
    return urlencode(params)


TOOT = Replay(
    "toot",
    "ihabunek/toot",
    "8753cd66525bab3f8cbbbc0c303aae3c96f2c8fe",
    [
        # toot/api.py create_app (toot login): JSON, out-of-band redirect.
        Call(
            "POST",
            "/api/v1/apps",
            "toot/api.py",
            needs=APP,
            token=False,
            json={
                "client_name": "toot - a Mastodon CLI client",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read write follow",
                "website": "https://github.com/ihabunek/toot",
            },
        ),
        # toot/tui/app.py TUI.run: account, instance, preferences and the home timeline.
        Call(
            "GET",
            "/api/v1/accounts/verify_credentials",
            "toot/tui/app.py",
            needs={"id": ID, "acct": str},
        ),
        # async_load_instance -> toot/api.py get_instance: v1, without a token;
        # tui/utils.py get_max_toot_chars reads configuration.statuses.max_characters.
        Call(
            "GET",
            "/api/v1/instance",
            "toot/tui/app.py",
            token=False,
            needs={"version": str, "configuration": {"statuses": {"max_characters": int}}},
        ),
        Call("GET", "/api/v1/preferences", "toot/tui/app.py", needs=PREFERENCES),
        # TUI.__init__: api.home_timeline_generator(app, user, limit=40).
        Call(
            "GET",
            "/api/v1/timelines/home",
            "toot/tui/app.py",
            query=_toot_query({"limit": 40}),
            needs=NonEmpty(STATUS),
        ),
        # async_load_followed_accounts -> toot/api.py following: every page (rel="next").
        Call(
            "GET",
            "/api/v1/accounts/{alice_id}/following",
            "toot/api.py",
            needs=NonEmpty({"acct": str}),
            check=_followings_end,
        ),
        # `g`: show_goto_menu -> toot/api.py get_lists.
        Call(
            "GET",
            "/api/v1/lists",
            "toot/tui/app.py",
            needs=NonEmpty({"id": ID, "title": str}),
            check=_the_list_is_there,
        ),
        # The Go to menu (toot/tui/overlays.py GotoMenu), each entry's first page
        # (toot/tui/app.py goto_*; toot/api.py *_generator, limit=40).
        Call(
            "GET",
            "/api/v1/timelines/home",
            "toot/tui/app.py",
            query=_toot_query({"limit": 40}),
            needs=NonEmpty(STATUS),
        ),
        Call(
            "GET",
            "/api/v1/timelines/public",
            "toot/api.py",
            query=_toot_query({"local": "true", "limit": 40}),
            needs=NonEmpty(STATUS),
        ),
        Call(
            "GET",
            "/api/v1/timelines/public",
            "toot/api.py",
            query=_toot_query({"local": "false", "limit": 40}),
            needs=NonEmpty(STATUS),
        ),
        Call(
            "GET",
            "/api/v1/accounts/{alice_id}/statuses",
            "toot/api.py",
            query=_toot_query({"limit": 40, "exclude_replies": True, "exclude_reblogs": False}),
            needs=NonEmpty(STATUS),
            check=_personal_timeline_has_no_replies,
        ),
        Call(
            "GET",
            "/api/v1/bookmarks",
            "toot/api.py",
            query=_toot_query({"limit": 40}),
            needs=NonEmpty(STATUS),
        ),
        Call(
            "GET",
            "/api/v1/notifications",
            "toot/api.py",
            query=_toot_query(
                {
                    "exclude_types[]": ["follow", "favourite", "reblog", "poll", "follow_request"],
                    "limit": 40,
                }
            ),
            needs=NonEmpty(NOTIFICATION),
            check=_some_carry_a_status,
        ),
        Call(
            "GET",
            "/api/v1/conversations",
            "toot/api.py",
            query=_toot_query({"limit": 40}),
            needs=NonEmpty(CONVERSATION),
        ),
        Call(
            "GET",
            "/api/v1/timelines/tag/birds",
            "toot/api.py",
            query=_toot_query({"local": "false", "limit": 40}),
            needs=NonEmpty(STATUS),
        ),
        Call(
            "GET",
            "/api/v1/timelines/list/{list_id}",
            "toot/api.py",
            query=_toot_query({"limit": 40}),
            needs=NonEmpty(STATUS),
            check=_statuses_are_the_listed_authors,
        ),
    ],
)
