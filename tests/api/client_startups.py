"""What five Mastodon apps ask of a server from login until their home screen is shown, read
from each app's own source (the commit read is named per client), for
tests/api/test_api_client_startups.py to replay against Roost.

Each replay is the app's calls in the order it makes them: method, path, query as the app
encodes it, body, and the shape of the answer the app reads (the keys it decodes, with their
types; a Swift or Kotlin model fails on a missing non-optional field, a JavaScript app on
reading a key of `undefined`). Every call names the file it came from. `{...}` in a path or
query is filled from what the test seeded (`alice_id`, `list_id`, ...).

A call Roost does not answer as the app needs carries `gap`: the test then expects it to fail
(strict xfail), so the gap stays written down until Roost closes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

# --- A small language for "the shape the client reads" -----------------------------------------


class _Id:
    """A Mastodon id: a string of ASCII digits (never a JSON number)."""


class _Date:
    """An ISO 8601 date or time, as a string."""


ID, DATE = _Id(), _Date()


@dataclass(frozen=True)
class Opt:
    """null, or the shape."""

    spec: Any


@dataclass(frozen=True)
class Maybe:
    """The key may be left out, or be null, or have the shape (Mastodon leaves a follow
    notification's `status` out; Swift optionals and Kotlin nullables read that as null)."""

    spec: Any


@dataclass(frozen=True)
class OneOf:
    """One of these strings (an enum the client decodes into a closed type)."""

    values: tuple[str, ...]

    def __init__(self, *values: str) -> None:
        object.__setattr__(self, "values", values)


@dataclass(frozen=True)
class NonEmpty:
    """A list with at least one item, each of the shape (the seeded data must show up)."""

    spec: Any


def problems(value: Any, spec: Any, where: str = "$") -> list[str]:
    """What in ``value`` does not have ``spec``'s shape (empty when it has)."""
    if isinstance(spec, Opt | Maybe):
        return [] if value is None else problems(value, spec.spec, where)
    if isinstance(spec, NonEmpty):
        if not isinstance(value, list) or not value:
            return [f"{where}: a non-empty array expected, got {value!r:.80}"]
        return problems(value, [spec.spec], where)
    if spec is ID:
        ok = isinstance(value, str) and value.isascii() and value.isdigit()
        return [] if ok else [f"{where}: an id as a string of digits expected, got {value!r}"]
    if spec is DATE:
        try:
            datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return [f"{where}: an ISO 8601 string expected, got {value!r}"]
        return []
    if isinstance(spec, OneOf):
        return [] if value in spec.values else [f"{where}: one of {spec.values}, got {value!r}"]
    if isinstance(spec, list):
        if not isinstance(value, list):
            return [f"{where}: an array expected, got {type(value).__name__}"]
        return [p for i, item in enumerate(value) for p in problems(item, spec[0], f"{where}[{i}]")]
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return [f"{where}: an object expected, got {type(value).__name__}"]
        found = []
        for key, inner in spec.items():
            if key not in value:
                if not isinstance(inner, Maybe):
                    found.append(f"{where}.{key}: missing")
            else:
                found.extend(problems(value[key], inner, f"{where}.{key}"))
        return found
    if spec is int:  # a JSON bool is not a count
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{where}: an integer expected, got {value!r}"]
    if isinstance(spec, type):
        ok = isinstance(value, spec)
        return [] if ok else [f"{where}: {spec.__name__} expected, got {value!r:.80}"]
    raise TypeError(f"not a shape: {spec!r}")


# --- The entities, as the five clients read them ------------------------------------------------

EMOJI = {"shortcode": str, "url": str, "static_url": str, "visible_in_picker": bool}
FIELD = {"name": str, "value": str, "verified_at": Opt(str)}
# Ice Cubes Models/Account.swift (id, username, acct, avatar, header: URL, note, created_at,
# fields, locked, emojis, bot required); Tusky entity/TimelineAccount.kt and Account.kt
# (url, avatar, note, acct, username; Account also header, created_at); Elk reads acct, id.
ACCOUNT = {
    "id": ID,
    "username": str,
    "acct": str,
    "display_name": str,
    "locked": bool,
    "bot": bool,
    "created_at": DATE,
    "note": str,
    "url": str,
    "avatar": str,
    "avatar_static": str,
    "header": str,
    "header_static": str,
    "followers_count": int,
    "following_count": int,
    "statuses_count": int,
    "emojis": [EMOJI],
    "fields": [FIELD],
}
# Elk timeline.ts removeFilteredItems reads filter.filter_action and filter.context; Ice Cubes
# Models/Filter.swift (id, title, context, filter_action); Tusky entity/FilterResult.kt.
FILTER_RESULT = {
    "filter": {
        "id": ID,
        "title": str,
        "context": [OneOf("home", "notifications", "public", "thread", "account")],
        "filter_action": OneOf("warn", "hide"),
        "expires_at": Opt(DATE),
    },
    "keyword_matches": Opt([str]),
    "status_matches": Opt([ID]),
}
MENTION = {"id": ID, "username": str, "url": str, "acct": str}  # Ice Cubes Mention.swift
VISIBILITY = OneOf("public", "unlisted", "private", "direct")
# Ice Cubes Models/Status.swift and Tusky entity/Status.kt (non-optional fields); toot
# tui/entities.py reads id, created_at, account.acct/display_name/username, reblog.
STATUS = {
    "id": ID,
    "uri": str,
    "url": Opt(str),
    "created_at": DATE,
    "edited_at": Opt(DATE),
    "account": ACCOUNT,
    "content": str,
    "visibility": VISIBILITY,
    "sensitive": bool,
    "spoiler_text": str,
    "media_attachments": [dict],
    "mentions": [MENTION],
    "tags": [{"name": str, "url": str}],
    "emojis": [EMOJI],
    "reblogs_count": int,
    "favourites_count": int,
    "replies_count": int,
    "in_reply_to_id": Opt(ID),
    "in_reply_to_account_id": Opt(ID),
    "reblog": Opt(dict),
    "poll": Opt(dict),
    "card": Opt(dict),
    "application": Opt(dict),
    "language": Opt(str),
    "favourited": bool,
    "reblogged": bool,
    "bookmarked": bool,
    "muted": bool,
    "pinned": bool,
    "filtered": [FILTER_RESULT],
}
NOTIFICATION_TYPES = (
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
)
# Ice Cubes Models/Notification.swift; Tusky entity/Notification.kt (type is a closed enum).
NOTIFICATION = {
    "id": ID,
    "type": OneOf(*NOTIFICATION_TYPES),
    "created_at": DATE,
    "account": ACCOUNT,
    "status": Maybe(STATUS),
}
# Ice Cubes Models/Marker.swift and Tusky entity/Marker.kt: all three required.
MARKER = {"last_read_id": ID, "version": int, "updated_at": DATE}
LIST = {"id": ID, "title": str, "replies_policy": OneOf("followed", "list", "none")}
HISTORY = {"day": str, "uses": str, "accounts": str}
# Ice Cubes Models/Tag.swift: name, url, following, history all required.
TAG = {"name": str, "url": str, "history": [HISTORY], "following": bool}
# Tusky entity/Announcement.kt: all_day, published_at, updated_at, mentions, tags, emojis,
# reactions required.
ANNOUNCEMENT = {
    "id": ID,
    "content": str,
    "starts_at": Opt(DATE),
    "ends_at": Opt(DATE),
    "all_day": bool,
    "published_at": DATE,
    "updated_at": DATE,
    "read": bool,
    "mentions": list,
    "statuses": list,
    "tags": list,
    "emojis": list,
    "reactions": list,
}
# Tusky entity/Filter.kt and FilterKeyword.kt; Ice Cubes ServerFilter.swift.
FILTER_V2 = {
    "id": ID,
    "title": str,
    "context": [OneOf("home", "notifications", "public", "thread", "account")],
    "filter_action": OneOf("warn", "hide"),
    "expires_at": Opt(DATE),
    "keywords": [{"id": ID, "keyword": str, "whole_word": bool}],
}
PREFERENCES = {
    "posting:default:visibility": VISIBILITY,
    "posting:default:sensitive": bool,
    "posting:default:language": Opt(str),
    "reading:expand:media": OneOf("default", "show_all", "hide_all"),
    "reading:expand:spoilers": bool,
}
CONVERSATION = {"id": ID, "unread": bool, "accounts": [ACCOUNT], "last_status": Opt(STATUS)}
APP = {"client_id": str, "client_secret": str, "id": ID, "name": str}
NODEINFO = {"software": {"name": str, "version": str}}


# --- One call of a replay ------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    source: str  # the client's file that makes the call (repository path)
    needs: Any = None  # the shape of the answer the client reads
    query: list[tuple[str, Any]] | str | None = None  # a str is sent as the client encodes it
    json: Any = None
    form: dict | None = None
    status: int = 200
    token: bool = True  # sent with the signed-in user's token
    # A WebSocket on /api/v1/streaming: the messages the client sends once it is open (all
    # three streaming apps send the token as Sec-WebSocket-Protocol).
    ws_messages: tuple[dict, ...] = ()
    # a further check: check(response, seeded, get), get(url) fetching as the signed-in user
    check: Callable | None = None
    gap: str | None = None  # why Roost does not answer as the client needs (strict xfail)

    @property
    def is_stream(self) -> bool:
        return bool(self.ws_messages)


@dataclass(frozen=True)
class Replay:
    client: str
    repository: str
    commit: str
    calls: list[Call] = field(default_factory=list)


# --- Further checks: what a client does with the answer beyond its shape ------------------------


def _streaming_url_is_a_websocket_base(response, seeded, get) -> None:
    # masto.js opens `${configuration.urls.streaming}/api/v1/streaming`: a ws(s) origin.
    url = response.json()["configuration"]["urls"]["streaming"]
    assert url.startswith(("ws://", "wss://")), url
    assert not url.rstrip("/").endswith("/api/v1/streaming"), url


def _seeded_marker(response, seeded, get) -> None:
    # Elk masto/notification.ts reads position.notifications.lastReadId without a guard.
    assert response.json()["notifications"]["last_read_id"] == seeded["marker_id"]


def _no_prev_link_on_an_empty_page(response, seeded, get) -> None:
    # Tusky NotificationFetcher.kt loops `while (minId != null)`, minId = the page's Link
    # rel="prev": a prev link on an empty page would make it ask forever.
    assert response.json() == []
    assert 'rel="prev"' not in response.headers.get("link", "")


def _home_shows_the_followed_and_the_filtered(response, seeded, get) -> None:
    statuses = response.json()
    ids = [s["id"] for s in statuses]
    assert seeded["heron_id"] in ids and seeded["wren_id"] in ids
    heron = statuses[ids.index(seeded["heron_id"])]
    assert [r["filter"]["title"] for r in heron["filtered"]] == ["Herons"]
    assert heron["filtered"][0]["keyword_matches"] == ["heron"]
    assert heron["favourited"] is True


def _the_list_is_there(response, seeded, get) -> None:
    assert [item["id"] for item in response.json()] == [seeded["list_id"]]


def _the_followed_tag_is_there(response, seeded, get) -> None:
    assert [tag["name"] for tag in response.json()] == ["birds"]


def _statuses_are_the_listed_authors(response, seeded, get) -> None:
    assert {s["account"]["id"] for s in response.json()} == {seeded["bob_id"]}


def _some_carry_a_status(response, seeded, get) -> None:
    # toot api.py _notification_timeline_generator keeps the notifications with a status. Its
    # exclude_types[] arrives as one unknown value (a Python list's repr), which Mastodon
    # ignores: every type comes back, as here.
    kinds = {n["type"] for n in response.json() if n.get("status")}
    assert "mention" in kinds, kinds


def _followings_end(response, seeded, get) -> None:
    # toot api.py _get_response_list follows rel="next" until there is none: that has to end.
    accounts, page = list(response.json()), response
    for _ in range(5):
        found = re.match(r'<([^>]+)>; rel="next"', page.headers.get("link", ""))
        if not found:
            break
        page = get(found.group(1))
        assert page.status_code == 200, page.text
        accounts += page.json()
    else:
        raise AssertionError("rel=next never ends: toot would keep asking")
    assert sorted(a["acct"] for a in accounts) == ["bob", "carol"]


def _personal_timeline_has_no_replies(response, seeded, get) -> None:
    # toot asks exclude_replies=True (Python's str(True)) for the personal timeline.
    statuses = response.json()
    assert statuses and all(s["in_reply_to_id"] is None for s in statuses)


# --- The replays ---------------------------------------------------------------------------------

# A Web Push subscription's keys as a browser or iOS makes them (base64url, P-256 point, 16 bytes).
PUSH_P256DH = (
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
)
PUSH_AUTH = "BTBZMqHH6r4Tts7J_aSIgg"

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

TUSKY = Replay(
    "tusky",
    "tuskyapp/Tusky",
    "43ae0bb4556392393a3d759ce42a93f3a003e83a",
    [
        # app/src/main/java/com/keylesspalace/tusky/components/login/LoginActivity.kt with
        # network/MastodonApi.kt authenticateApp: a form, redirect oauth2redirect://<app id>/.
        Call(
            "POST",
            "/api/v1/apps",
            "app/src/main/java/com/keylesspalace/tusky/network/MastodonApi.kt",
            needs=APP,
            token=False,
            form={
                "client_name": "Tusky",
                "redirect_uris": "oauth2redirect://com.keylesspalace.tusky/",
                "scopes": "read write follow push",
                "website": "https://tusky.app",
            },
        ),
        # LoginActivity.kt: verify_credentials after the token, into entity/Account.kt
        # (created_at, note, url, avatar, header required).
        Call(
            "GET",
            "/api/v1/accounts/verify_credentials",
            "app/src/main/java/com/keylesspalace/tusky/components/login/LoginActivity.kt",
            needs=ACCOUNT,
        ),
        # MainViewModel.kt init: loadAccountData (verify_credentials) and fetchAnnouncements.
        Call(
            "GET",
            "/api/v1/accounts/verify_credentials",
            "app/src/main/java/com/keylesspalace/tusky/MainViewModel.kt",
            needs=ACCOUNT,
        ),
        Call(
            "GET",
            "/api/v1/announcements",
            "app/src/main/java/com/keylesspalace/tusky/MainViewModel.kt",
            needs=NonEmpty(ANNOUNCEMENT),
        ),
        # fragment/SFragment.kt onCreate -> components/instanceinfo/InstanceInfoRepository.kt
        # precache: v2 instance into entity/Instance.kt (domain, version required;
        # configuration.accounts.max_featured_tags required when accounts is sent).
        Call(
            "GET",
            "/api/v2/instance",
            "app/src/main/java/com/keylesspalace/tusky/components/instanceinfo/InstanceInfoRepository.kt",
            needs={
                "domain": str,
                "version": str,
                "configuration": {
                    "accounts": {"max_featured_tags": int},
                    "statuses": {
                        "max_characters": int,
                        "max_media_attachments": int,
                        "characters_reserved_per_url": int,
                    },
                    "polls": {
                        "max_options": int,
                        "max_characters_per_option": int,
                        "min_expiration": int,
                        "max_expiration": int,
                    },
                    "translation": {"enabled": bool},
                },
                "rules": [{"id": ID, "text": str}],
                "api_versions": {"mastodon": int},
            },
        ),
        # components/timeline/viewmodel/TimelineViewModel.kt init -> network/FilterModel.kt:
        # v2 filters (a 404 would send it to v1 and filter on the client).
        Call(
            "GET",
            "/api/v2/filters",
            "app/src/main/java/com/keylesspalace/tusky/network/FilterModel.kt",
            needs=NonEmpty(FILTER_V2),
        ),
        # components/timeline/viewmodel/CachedTimelineRemoteMediator.kt: the home timeline,
        # pageSize LOAD_AT_ONCE = 30 (CachedTimelineViewModel.kt).
        Call(
            "GET",
            "/api/v1/timelines/home",
            "app/src/main/java/com/keylesspalace/tusky/components/timeline/viewmodel/CachedTimelineRemoteMediator.kt",
            query=[("limit", 30)],
            needs=NonEmpty(STATUS),
            check=_home_shows_the_followed_and_the_filtered,
        ),
        # TabData.kt defaultTabs: Home, Notifications, Local, Direct; MainActivity.kt
        # offscreenPageLimit = 2 builds the two beside Home too. Local:
        # components/timeline/viewmodel/NetworkTimelineViewModel.kt publicTimeline(local=true).
        Call(
            "GET",
            "/api/v1/timelines/public",
            "app/src/main/java/com/keylesspalace/tusky/components/timeline/viewmodel/NetworkTimelineViewModel.kt",
            query=[("local", "true"), ("limit", 30)],
            needs=NonEmpty(STATUS),
        ),
        # The Notifications tab:
        # components/notifications/NotificationsViewModel.kt -> FilterModel (v2 filters
        # again) and NotificationsRemoteMediator.kt, pageSize 30.
        Call(
            "GET",
            "/api/v1/notifications",
            "app/src/main/java/com/keylesspalace/tusky/components/notifications/NotificationsRemoteMediator.kt",
            query=[("limit", 30)],
            needs=NonEmpty(NOTIFICATION),
        ),
        # components/systemnotifications/NotificationFetcher.kt (pull notifications, run by
        # MainViewModel.setupNotifications): the notifications marker, then notifications
        # above it by min_id, following Link rel="prev" until there is none, then the marker.
        Call(
            "GET",
            "/api/v1/markers",
            "app/src/main/java/com/keylesspalace/tusky/components/systemnotifications/NotificationFetcher.kt",
            query=[("timeline[]", "notifications")],
            needs={"notifications": MARKER},
        ),
        Call(
            "GET",
            "/api/v1/notifications",
            "app/src/main/java/com/keylesspalace/tusky/components/systemnotifications/NotificationFetcher.kt",
            query=[("min_id", "{marker_id}")],
            needs=NonEmpty(NOTIFICATION),
        ),
        Call(
            "GET",
            "/api/v1/notifications",
            "app/src/main/java/com/keylesspalace/tusky/components/systemnotifications/NotificationFetcher.kt",
            query=[("min_id", "{newest_notification_id}")],
            needs=[NOTIFICATION],
            check=_no_prev_link_on_an_empty_page,
        ),
        Call(
            "POST",
            "/api/v1/markers",
            "app/src/main/java/com/keylesspalace/tusky/components/systemnotifications/NotificationFetcher.kt",
            form={"notifications[last_read_id]": "{newest_notification_id}"},
            needs={"notifications": MARKER},
        ),
    ],
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

REPLAYS = [ELK, PHANPY, ICE_CUBES, TUSKY, TOOT]
