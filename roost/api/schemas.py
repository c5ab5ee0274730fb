"""JSON Schemas of the Mastodon entities and parameters, for the OpenAPI description."""

from __future__ import annotations

from typing import Any

STR, INT, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
ID = {"type": "string", "pattern": "^[0-9]+$"}
TIME = {"type": "string", "format": "date-time"}
NULL_STR = {"type": ["string", "null"]}
LIST = {"type": "array"}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict:
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
    }


def many(name: str) -> dict:
    return {"type": "array", "items": ref(name)}


ACCOUNT = obj(
    {
        "id": ID, "username": STR, "acct": STR, "url": STR, "display_name": STR, "note": STR,
        "avatar": STR, "avatar_static": STR, "header": STR, "header_static": STR,
        "locked": BOOL, "fields": LIST, "emojis": LIST, "bot": BOOL, "group": BOOL,
        "created_at": TIME, "statuses_count": INT, "followers_count": INT,
        "following_count": INT,
    },
    {"discoverable": {"type": ["boolean", "null"]}, "last_status_at": NULL_STR},
)  # fmt: skip
STATUS = obj(
    {
        "id": ID, "uri": STR, "created_at": TIME, "account": ref("Account"), "content": STR,
        "visibility": {"enum": ["public", "unlisted", "private", "direct"]},
        "sensitive": BOOL, "spoiler_text": STR, "media_attachments": LIST, "mentions": LIST,
        "tags": LIST, "emojis": LIST, "reblogs_count": INT, "favourites_count": INT,
        "replies_count": INT, "url": NULL_STR, "in_reply_to_id": NULL_STR,
        "in_reply_to_account_id": NULL_STR,
        "reblog": {"oneOf": [{"type": "null"}, ref("Status")]},
    },
    {
        "poll": {"oneOf": [{"type": "null"}, ref("Poll")]}, "favourited": BOOL,
        "reblogged": BOOL, "bookmarked": BOOL, "muted": BOOL, "pinned": BOOL,
    },
)  # fmt: skip
STATUS["not"] = {"required": ["scheduled_at"]}  # toot crashes on the key, even when null
NOTIFICATION = obj(
    {"id": ID, "type": STR, "created_at": TIME, "account": ref("Account")},
    {"status": ref("Status")},
)
RELATIONSHIP = obj(
    {
        "id": ID, "following": BOOL, "showing_reblogs": BOOL, "notifying": BOOL,
        "followed_by": BOOL, "blocking": BOOL, "blocked_by": BOOL, "muting": BOOL,
        "muting_notifications": BOOL, "requested": BOOL, "domain_blocking": BOOL,
        "endorsed": BOOL, "note": STR,
    }
)  # fmt: skip
STATUS_EDIT = obj(
    {
        "content": STR, "spoiler_text": STR, "sensitive": BOOL, "created_at": TIME,
        "account": ref("Account"), "media_attachments": LIST, "emojis": LIST,
    }
)  # fmt: skip
STATUS_SOURCE = obj({"id": ID, "text": STR, "spoiler_text": STR})
TAG = obj({"name": STR, "url": STR}, {"history": LIST, "following": BOOL})
CONVERSATION = obj(
    {
        "id": ID, "unread": BOOL, "accounts": many("Account"),
        "last_status": {"oneOf": [{"type": "null"}, ref("Status")]},
    }
)  # fmt: skip
FEATURED_TAG = obj(
    {"id": ID, "name": STR, "url": STR, "statuses_count": INT, "last_status_at": NULL_STR}
)
LIST_ENTITY = obj(
    {
        "id": ID,
        "title": STR,
        "replies_policy": {"enum": ["followed", "list", "none"]},
        "exclusive": BOOL,
    }
)
EMPTY = obj({})
TOKEN = obj({"access_token": STR, "token_type": STR, "scope": STR, "created_at": INT})
APPLICATION = obj({"name": STR}, {"client_id": STR, "client_secret": STR, "website": NULL_STR})
ERROR = obj({"error": STR}, {"error_description": STR})
FILTER_KEYWORD = obj({"id": ID, "keyword": STR, "whole_word": BOOL})
FILTER_STATUS = obj({"id": ID, "status_id": ID})
FILTER = obj(
    {
        "id": ID, "title": STR, "context": LIST, "expires_at": NULL_STR, "filter_action": STR,
        "keywords": many("FilterKeyword"), "statuses": many("FilterStatus"),
    }
)  # fmt: skip
FILTER_V1 = obj(
    {
        "id": ID, "phrase": STR, "context": LIST, "expires_at": NULL_STR, "irreversible": BOOL,
        "whole_word": BOOL,
    }
)  # fmt: skip
NULL_TIME = {"type": ["string", "null"], "format": "date-time"}
NULL_INT = {"type": ["integer", "null"]}
POLL = obj(
    {
        "id": ID, "expires_at": NULL_TIME, "expired": BOOL, "multiple": BOOL,
        "votes_count": INT, "voters_count": NULL_INT, "emojis": LIST,
        "options": {"type": "array", "items": obj({"title": STR, "votes_count": NULL_INT})},
    },
    {"voted": BOOL, "own_votes": {"type": "array", "items": INT}},
)  # fmt: skip
ANNOUNCEMENT = obj(
    {
        "id": STR, "content": STR, "starts_at": NULL_TIME, "ends_at": NULL_TIME,
        "all_day": BOOL, "published_at": TIME, "updated_at": TIME, "mentions": LIST,
        "statuses": LIST, "tags": LIST, "emojis": LIST, "reactions": LIST,
    },
    {"read": BOOL},
)  # fmt: skip
RULE = obj({"id": STR, "text": STR}, {"hint": STR})
NUMBER_TEXT = {"type": "string", "pattern": "^[0-9]+$"}
ACTIVITY = obj(
    {"week": NUMBER_TEXT, "statuses": NUMBER_TEXT, "logins": NUMBER_TEXT,
     "registrations": NUMBER_TEXT}
)  # fmt: skip

COMPONENTS = {
    "Account": ACCOUNT,
    "Status": STATUS,
    "Poll": POLL,
    "Notification": NOTIFICATION,
    "Relationship": RELATIONSHIP,
    "StatusEdit": STATUS_EDIT,
    "StatusSource": STATUS_SOURCE,
    "Tag": TAG,
    "List": LIST_ENTITY,
    "Token": TOKEN,
    "Conversation": CONVERSATION,
    "FeaturedTag": FEATURED_TAG,
    "Application": APPLICATION,
    "Error": ERROR,
    "Filter": FILTER,
    "FilterKeyword": FILTER_KEYWORD,
    "FilterStatus": FILTER_STATUS,
    "V1_Filter": FILTER_V1,
    "Announcement": ANNOUNCEMENT,
    "Rule": RULE,
    "Activity": ACTIVITY,
    "ExtendedDescription": obj({"updated_at": NULL_TIME, "content": STR}),
    "Context": obj({"ancestors": many("Status"), "descendants": many("Status")}),
    "Search": obj(
        {"accounts": many("Account"), "statuses": many("Status"), "hashtags": many("Tag")}
    ),
}


# Parameters are declared on each endpoint (``roost.api.params``); only a body whose shape the
# declarations cannot say yet (markers: nested objects) is described here.
BODIES: dict[str, dict] = {
    "timelines.save_markers": obj(
        {}, {"home": obj({"last_read_id": ID}), "notifications": obj({"last_read_id": ID})}
    ),
}
for body in BODIES.values():
    body["required"] = body["required"] or []

STATUS_ONE = ref("Status")
RESPONSES: dict[str, dict] = {
    "oauth.create_app": ref("Application"),
    "oauth.verify_app": ref("Application"),
    "oauth.token": ref("Token"),
    "accounts.register": ref("Token"),
    "accounts.verify_credentials": ref("Account"),
    "accounts.update_credentials": ref("Account"),
    "accounts.show": ref("Account"),
    "accounts.lookup": ref("Account"),
    "accounts.statuses": many("Status"),
    "accounts.followers": many("Account"),
    "accounts.following": many("Account"),
    "accounts.blocked": many("Account"),
    "accounts.muted": many("Account"),
    "accounts.search": many("Account"),
    "accounts.relationships": many("Relationship"),
    "accounts.follow": ref("Relationship"),
    "accounts.unfollow": ref("Relationship"),
    "accounts.handler": ref("Relationship"),  # block, unblock, mute, unmute
    "statuses.create": STATUS_ONE,
    "statuses.show": STATUS_ONE,
    "statuses.delete": STATUS_ONE,
    "statuses.edit": STATUS_ONE,
    "statuses.history": many("StatusEdit"),
    "statuses.source": ref("StatusSource"),
    "statuses.context": ref("Context"),
    "statuses.favourite": STATUS_ONE,
    "statuses.unfavourite": STATUS_ONE,
    "statuses.reblog": STATUS_ONE,
    "statuses.unreblog": STATUS_ONE,
    "statuses.bookmark": STATUS_ONE,
    "statuses.unbookmark": STATUS_ONE,
    "statuses.favourited_by": many("Account"),
    "statuses.reblogged_by": many("Account"),
    "statuses.favourites_list": many("Status"),
    "statuses.bookmarks_list": many("Status"),
    "timelines.home": many("Status"),
    "timelines.public": many("Status"),
    "timelines.tag": many("Status"),
    "timelines.notifications": many("Notification"),
    "timelines.notification": ref("Notification"),
    "timelines.search": ref("Search"),
    "timelines.trends_tags": many("Tag"),
    "tags.show": ref("Tag"),
    "tags.follow": ref("Tag"),
    "tags.unfollow": ref("Tag"),
    "tags.followed": many("Tag"),
    "polls.show": ref("Poll"),
    "polls.vote": ref("Poll"),
    "filters.index": many("Filter"),
    "filters.show": ref("Filter"),
    "filters.create": ref("Filter"),
    "filters.update": ref("Filter"),
    "filters.keywords": many("FilterKeyword"),
    "filters.add_keyword": ref("FilterKeyword"),
    "filters.keyword": ref("FilterKeyword"),
    "filters.update_keyword": ref("FilterKeyword"),
    "filters.statuses": many("FilterStatus"),
    "filters.add_status": ref("FilterStatus"),
    "filters.status": ref("FilterStatus"),
    "filters.v1_index": many("V1_Filter"),
    "filters.v1_show": ref("V1_Filter"),
    "filters.v1_create": ref("V1_Filter"),
    "filters.v1_update": ref("V1_Filter"),
    "instance.peers": {"type": "array", "items": STR},
    "instance.rules": many("Rule"),
    "instance.activity": many("Activity"),
    "instance.extended_description": ref("ExtendedDescription"),
    "instance.translation_languages": {"type": "object"},
    "announcements.index": many("Announcement"),
    "announcements.dismiss": {"type": "object"},
    "announcements.reaction": {"type": "object"},  # always a 422: no reactions
    "timelines.unread_count": obj({"count": INT}),
    "trends.statuses": many("Status"),
    "trends.links": LIST,
    "conversations.index": many("Conversation"),
    "conversations.read": ref("Conversation"),
    "conversations.remove": obj({}),
    "statuses.pin": STATUS_ONE,
    "statuses.unpin": STATUS_ONE,
    "statuses.mute": STATUS_ONE,
    "statuses.unmute": STATUS_ONE,
    "accounts.note": ref("Relationship"),
    "accounts.featured_tags": many("FeaturedTag"),
    "featured_tags.index": many("FeaturedTag"),
    "featured_tags.create": ref("FeaturedTag"),
    "featured_tags.remove": obj({}),
    "featured_tags.suggestions": many("Tag"),
    "lists.index": many("List"),
    "lists.show": ref("List"),
    "lists.create": ref("List"),
    "lists.update": ref("List"),
    "lists.delete": EMPTY,
    "lists.accounts": many("Account"),
    "lists.add_accounts": EMPTY,
    "lists.remove_accounts": EMPTY,
    "lists.account_lists": many("List"),
    "lists.timeline": many("Status"),
}
