"""Elk (masto.js): its start-up, call by call, from its source."""

from __future__ import annotations

from tests.api.startups.calls import (
    Call,
    Replay,
    _home_shows_the_followed_and_the_filtered,
    _seeded_marker,
    _streaming_url_is_a_websocket_base,
    _the_followed_tag_is_there,
)
from tests.api.startups.shapes import (
    ACCOUNT,
    APP,
    MARKER,
    NODEINFO,
    NOTIFICATION,
    PREFERENCES,
    STATUS,
    TAG,
    VISIBILITY,
    NonEmpty,
)

ELK = Replay(
    "elk",
    "elk-zone/elk",
    "ae4ebf3375eb68f1f355390b4f163adb10f5026c",
    [
        # server/utils/shared.ts fetchAppInfo: registers the app and reads the v2 instance
        # (configuration.vapid.public_key, optional) side by side, before the OAuth redirect.
        Call(
            "POST",
            "/api/v1/apps",
            "server/utils/shared.ts",
            needs=APP,
            token=False,
            json={
                "client_name": "Elk",
                "website": "https://elk.zone",
                "redirect_uris": "https://elk.zone/api/roost.test/oauth/https%3A%2F%2Felk.zone",
                "scopes": "read write follow push",
            },
        ),
        Call("GET", "/api/v2/instance", "server/utils/shared.ts", needs=dict, token=False),
        # app/composables/users.ts loginTo: nodeinfo (to spot GoToSocial), in the background.
        Call("GET", "/nodeinfo/2.0", "app/composables/users.ts", needs=NODEINFO, token=False),
        # app/composables/masto/masto.ts mastoLogin: the instance, whose configuration.urls
        # .streaming becomes masto.js's streamingApiUrl; configuration.statuses.maxCharacters
        # is the composer's limit (users.ts characterLimit); thumbnail.url, title, description
        # show in the sidebar (app/layouts/default.vue).
        Call(
            "GET",
            "/api/v2/instance",
            "app/composables/masto/masto.ts",
            needs={
                "domain": str,
                "title": str,
                "version": str,
                "description": str,
                "thumbnail": {"url": str},
                "configuration": {
                    "urls": {"streaming": str},
                    "statuses": {"max_characters": int},
                },
                "api_versions": {"mastodon": int},
            },
            check=_streaming_url_is_a_websocket_base,
        ),
        # app/composables/users.ts fetchAccountInfo: verify_credentials and preferences
        # together (preferences may fail: caught).
        Call(
            "GET",
            "/api/v1/accounts/verify_credentials",
            "app/composables/users.ts",
            needs={**ACCOUNT, "source": {"privacy": VISIBILITY, "note": str, "fields": list}},
        ),
        Call("GET", "/api/v1/preferences", "app/composables/users.ts", needs=PREFERENCES),
        # app/composables/users.ts loginTo: the web-push subscription; Mastodon answers 404
        # when there is none and Elk catches it.
        Call(
            "GET",
            "/api/v1/push/subscription",
            "app/composables/users.ts",
            status=404,
            needs={"error": str},
        ),
        # app/components/timeline/TimelineHome.vue: the home page, 30 a page on a fast network.
        Call(
            "GET",
            "/api/v1/timelines/home",
            "app/components/timeline/TimelineHome.vue",
            query=[("limit", 30)],
            needs=NonEmpty(STATUS),
            check=_home_shows_the_followed_and_the_filtered,
        ),
        # TimelineHome.vue: the first page of followed tags, to badge posts by a followed tag.
        Call(
            "GET",
            "/api/v1/followed_tags",
            "app/components/timeline/TimelineHome.vue",
            needs=NonEmpty(TAG),
            check=_the_followed_tag_is_there,
        ),
        # TimelineHome.vue useStreaming(client.user.subscribe()) and masto/notification.ts
        # connect(): streamingClient.user.subscribe(); masto.js sends the token as the
        # WebSocket subprotocol (masto.js src/adapters/config/web-socket-config.ts).
        Call(
            "WS",
            "/api/v1/streaming",
            "app/components/timeline/TimelineHome.vue, app/composables/masto/notification.ts",
            ws_messages=({"type": "subscribe", "stream": "user"},),
        ),
        # masto/notification.ts connect(): the notifications marker, then the first page of
        # notifications, counting the unread ones down to position.notifications.lastReadId.
        Call(
            "GET",
            "/api/v1/markers",
            "app/composables/masto/notification.ts",
            query=[("timeline[]", "notifications")],
            needs={"notifications": MARKER},
            check=_seeded_marker,
        ),
        Call(
            "GET",
            "/api/v1/notifications",
            "app/composables/masto/notification.ts",
            query=[("limit", 30)],
            needs=NonEmpty(NOTIFICATION),
        ),
    ],
)
