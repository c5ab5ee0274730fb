"""Ice Cubes: its start-up, call by call, from its source."""

from __future__ import annotations

from tests.api.startups.calls import (
    Call,
    Replay,
    _home_shows_the_followed_and_the_filtered,
    _the_followed_tag_is_there,
    _the_list_is_there,
)
from tests.api.startups.shapes import ACCOUNT, APP, ID, PREFERENCES, STATUS, TAG, NonEmpty, Opt

# A Web Push subscription's keys as a browser or iOS makes them (base64url, P-256 point, 16 bytes).
PUSH_P256DH = (
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
)
PUSH_AUTH = "BTBZMqHH6r4Tts7J_aSIgg"

ICE_CUBES = Replay(
    "icecubes",
    "Dimillian/IceCubesApp",
    "0fc41d2ced2e3e735bd9c42d5ae6dea16e63d618",
    [
        # Packages/NetworkClient/Sources/NetworkClient/Endpoint/Apps.swift registerApp
        # (Packages/Models/Sources/Models/App/App.swift: the icecubesapp:// scheme).
        Call(
            "POST",
            "/api/v1/apps",
            "Packages/NetworkClient/Sources/NetworkClient/Endpoint/Apps.swift",
            needs=APP,
            token=False,
            json={
                "client_name": "IceCubesApp",
                "redirect_uris": "icecubesapp://",
                "scopes": "read write follow push",
                "website": "https://github.com/Dimillian/IceCubesApp",
            },
        ),
        # IceCubesApp/App/Tabs/Settings/AddAccountsView.swift continueSignIn: the account,
        # then (on a device with an APNs token) pushNotifications.updateSubscriptions(
        # forceCreate: true): Packages/Env/Sources/Env/PushNotificationsService.swift
        # fetchSubscription (none yet: Mastodon's 404), then updateSubscription, a POST whose
        # fields travel as query items (Endpoint/Push.swift createSub), decoded into
        # Packages/Models/Sources/Models/PushSubscription.swift.
        Call(
            "GET",
            "/api/v1/accounts/verify_credentials",
            "IceCubesApp/App/Tabs/Settings/AddAccountsView.swift",
            needs=ACCOUNT,
        ),
        Call(
            "GET",
            "/api/v1/push/subscription",
            "Packages/Env/Sources/Env/PushNotificationsService.swift",
            status=404,
            needs={"error": str},
        ),
        Call(
            "POST",
            "/api/v1/push/subscription",
            "Packages/Env/Sources/Env/PushNotificationsService.swift",
            query=[
                (
                    "subscription[endpoint]",
                    "https://icecubesrelay.fly.dev/push/0a1b2c3d4e5f/alice@roost.test",
                ),
                ("subscription[keys][p256dh]", PUSH_P256DH),
                ("subscription[keys][auth]", PUSH_AUTH),
                ("data[alerts][mention]", "true"),
                ("data[alerts][status]", "true"),
                ("data[alerts][follow]", "true"),
                ("data[alerts][reblog]", "true"),
                ("data[alerts][favourite]", "true"),
                ("data[alerts][poll]", "true"),
                ("policy", "all"),
            ],
            needs={
                "id": int,
                "endpoint": str,
                "server_key": str,
                "alerts": {
                    k: bool for k in ("follow", "favourite", "reblog", "mention", "poll", "status")
                },
            },
            gap=(
                "no Web Push: POST /api/v1/push/subscription is 404, so Ice Cubes signs in "
                "with push notifications off (it needs a WebPushSubscription: id, endpoint, "
                "server_key, alerts)"
            ),
        ),
        # IceCubesApp/App/Router/AppRegistry.swift .task: CurrentInstance.fetchCurrentInstance
        # (forceVersion .v2), decoded into Packages/Models/Sources/Models/Instance.swift:
        # title, domain, version, registrations.enabled, thumbnail and contact.email are not
        # optional; configuration.statuses and .polls are all Ints when configuration is there.
        Call(
            "GET",
            "/api/v2/instance",
            "Packages/Env/Sources/Env/CurrentInstance.swift",
            needs={
                "title": str,
                "domain": str,
                "version": str,
                "registrations": {"enabled": bool},
                "thumbnail": {"url": Opt(str)},
                "contact": {"email": str},
                "configuration": {
                    "statuses": {"max_characters": int, "max_media_attachments": int},
                    "polls": {
                        "max_options": int,
                        "max_characters_per_option": int,
                        "min_expiration": int,
                        "max_expiration": int,
                    },
                },
                "api_versions": {"mastodon": int},
                "rules": [{"id": ID, "text": str}],
            },
        ),
        # Packages/Env/Sources/Env/CurrentAccount.swift fetchUserData: five at once.
        Call(
            "GET",
            "/api/v1/accounts/verify_credentials",
            "Packages/Env/Sources/Env/CurrentAccount.swift",
            needs={**ACCOUNT, "source": {"sensitive": bool, "note": str, "fields": list}},
        ),
        Call(
            "GET",
            "/api/v1/instance/peers",
            "Packages/Env/Sources/Env/CurrentAccount.swift",
            needs=[str],
        ),
        Call(
            "GET",
            "/api/v1/lists",
            "Packages/Env/Sources/Env/CurrentAccount.swift",
            needs=NonEmpty({"id": ID, "title": str, "replies_policy": Opt(str)}),
            check=_the_list_is_there,
        ),
        Call(
            "GET",
            "/api/v1/followed_tags",
            "Packages/Env/Sources/Env/CurrentAccount.swift",
            needs=NonEmpty(TAG),
            check=_the_followed_tag_is_there,
        ),
        Call(
            "GET",
            "/api/v1/follow_requests",
            "Packages/Env/Sources/Env/CurrentAccount.swift",
            needs=[ACCOUNT],
        ),
        # Packages/Env/Sources/Env/UserPreferences.swift refreshServerPreferences.
        Call(
            "GET",
            "/api/v1/preferences",
            "Packages/Env/Sources/Env/UserPreferences.swift",
            needs=PREFERENCES,
        ),
        # AppRegistry.swift: watcher.watch(streams: [.user, .direct]) on the WebSocket that
        # Packages/Env/Sources/Env/StreamWatcher.swift opens (the token as the subprotocol:
        # NetworkClient/MastodonClient.swift makeWebSocketTask).
        Call(
            "WS",
            "/api/v1/streaming",
            "Packages/Env/Sources/Env/StreamWatcher.swift",
            ws_messages=(
                {"type": "subscribe", "stream": "user"},
                {"type": "subscribe", "stream": "direct"},
            ),
        ),
        # Packages/Timeline/Sources/Timeline/actors/TimelineStatusFetcher.swift
        # fetchFirstPage: the home timeline with limit=50 (Mastodon gives at most 40).
        Call(
            "GET",
            "/api/v1/timelines/home",
            "Packages/Timeline/Sources/Timeline/actors/TimelineStatusFetcher.swift",
            query=[("limit", 50)],
            needs=NonEmpty(STATUS),
            check=_home_shows_the_followed_and_the_filtered,
        ),
    ],
)
