"""Phanpy: its start-up, call by call, from its source."""

from __future__ import annotations

from tests.api.startups.calls import (
    Call,
    Replay,
    _home_shows_the_followed_and_the_filtered,
    _streaming_url_is_a_websocket_base,
    _the_followed_tag_is_there,
)
from tests.api.startups.shapes import ACCOUNT, APP, NODEINFO, PREFERENCES, STATUS, TAG, NonEmpty

PHANPY = Replay(
    "phanpy",
    "cheeaun/phanpy",
    "0340050401a5e19d8c3dd3fde319ee6c81ff3799",
    [
        # src/utils/auth.js registerApplication: a form body.
        Call(
            "POST",
            "/api/v1/apps",
            "src/utils/auth.js",
            needs=APP,
            token=False,
            form={
                "client_name": "Phanpy",
                "redirect_uris": "https://phanpy.social/",
                "scopes": "read write follow push",
                "website": "https://phanpy.social",
            },
        ),
        # src/app.jsx after the token: initPreferences, initInstance and initAccount together
        # (src/utils/api.js).
        Call("GET", "/api/v1/preferences", "src/utils/api.js", needs=PREFERENCES),
        # src/utils/api.js initInstance: v2 (v1 if it fails); domain/uri key the cache,
        # configuration.urls.streaming starts the streaming client; version feeds
        # src/utils/supports.js.
        Call(
            "GET",
            "/api/v2/instance",
            "src/utils/api.js",
            needs={
                "domain": str,
                "version": str,
                "configuration": {"urls": {"streaming": str}},
            },
            check=_streaming_url_is_a_websocket_base,
        ),
        # initInstance: /.well-known/nodeinfo, then the highest schema <= 2 it links to.
        Call(
            "GET",
            "/.well-known/nodeinfo",
            "src/utils/api.js",
            needs={"links": NonEmpty({"rel": str, "href": str})},
            token=False,
        ),
        Call("GET", "/nodeinfo/2.0", "src/utils/api.js", needs=NODEINFO, token=False),
        Call(
            "GET",
            "/api/v1/accounts/verify_credentials",
            "src/utils/api.js",
            needs=ACCOUNT,
        ),
        # src/pages/following.jsx fetchHome: the home timeline, 20 at a time.
        Call(
            "GET",
            "/api/v1/timelines/home",
            "src/pages/following.jsx",
            query=[("limit", 20)],
            needs=NonEmpty(STATUS),
            check=_home_shows_the_followed_and_the_filtered,
        ),
        # src/utils/timeline-utils.js assignFollowedTags -> src/utils/followed-tags.js:
        # followed tags, 200 a page.
        Call(
            "GET",
            "/api/v1/followed_tags",
            "src/utils/followed-tags.js",
            query=[("limit", 200)],
            needs=NonEmpty(TAG),
            check=_the_followed_tag_is_there,
        ),
        # src/pages/following.jsx: streamingClient.user.subscribe(); and, three seconds on,
        # src/components/background-service.jsx: streaming.user.notification.subscribe().
        Call(
            "WS",
            "/api/v1/streaming",
            "src/pages/following.jsx, src/components/background-service.jsx",
            ws_messages=(
                {"type": "subscribe", "stream": "user"},
                {"type": "subscribe", "stream": "user:notification"},
            ),
        ),
    ],
)
