"""Tusky: its start-up, call by call, from its source."""

from __future__ import annotations

from tests.api.startups.calls import (
    Call,
    Replay,
    _home_shows_the_followed_and_the_filtered,
    _no_prev_link_on_an_empty_page,
)
from tests.api.startups.shapes import (
    ACCOUNT,
    ANNOUNCEMENT,
    APP,
    FILTER_V2,
    ID,
    MARKER,
    NOTIFICATION,
    STATUS,
    NonEmpty,
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
