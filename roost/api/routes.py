"""The Mastodon API's route table (paths as Mastodon spells them)."""

from __future__ import annotations

from starlette.routing import Route, WebSocketRoute

from roost.api import (
    accounts,
    announcements,
    conversations,
    featured_tags,
    filters,
    instance,
    oauth,
    openapi,
    polls,
    statuses,
    streaming,
    tags,
    timelines,
    trends,
)

GET, POST, PUT, DELETE = ["GET"], ["POST"], ["PUT"], ["DELETE"]
PATCH = ["PATCH", "POST"]  # some clients send update_credentials as POST


def _both(path: str, handler, methods=GET) -> list[Route]:
    """A path with and without the trailing slash (Mastodon.py and toot use both)."""
    return [Route(path, handler, methods=methods), Route(path + "/", handler, methods=methods)]


V1, V2 = "/api/v1", "/api/v2"
routes = [
    *_both(f"{V1}/instance", instance.instance_v1),
    *_both("/api/v2/instance", instance.instance_v2),
    Route("/.well-known/nodeinfo", instance.nodeinfo_links),
    Route("/nodeinfo/2.0", instance.nodeinfo),
    Route(f"{V1}/custom_emojis", instance.custom_emojis),
    Route(f"{V1}/preferences", instance.preferences),
    Route(f"{V1}/instance/peers", instance.peers),
    Route(f"{V1}/instance/rules", instance.rules),
    Route(f"{V1}/instance/activity", instance.activity),
    Route(f"{V1}/instance/extended_description", instance.extended_description),
    Route(f"{V1}/instance/translation_languages", instance.translation_languages),
    Route(f"{V1}/announcements", announcements.index),
    Route(f"{V1}/announcements/{{id}}/dismiss", announcements.dismiss, methods=POST),
    Route(f"{V1}/announcements/{{id}}/reactions/{{name}}", announcements.reaction, methods=PUT),
    Route(f"{V1}/announcements/{{id}}/reactions/{{name}}", announcements.reaction, methods=DELETE),
    # OAuth
    Route(f"{V1}/apps", oauth.create_app, methods=POST),
    Route(f"{V1}/apps/verify_credentials", oauth.verify_app),
    Route("/oauth/token", oauth.token, methods=POST),
    Route("/oauth/revoke", oauth.revoke_token, methods=POST),
    Route("/.well-known/oauth-authorization-server", oauth.metadata),
    # Accounts
    Route(f"{V1}/accounts", accounts.register, methods=POST),
    Route(f"{V1}/accounts/verify_credentials", accounts.verify_credentials),
    Route(f"{V1}/accounts/update_credentials", accounts.update_credentials, methods=PATCH),
    Route(f"{V1}/accounts/lookup", accounts.lookup),
    Route(f"{V1}/accounts/relationships", accounts.relationships),
    Route(f"{V1}/accounts/search", accounts.search),
    Route(f"{V1}/accounts/{{id}}", accounts.show),
    Route(f"{V1}/accounts/{{id}}/statuses", accounts.statuses),
    Route(f"{V1}/accounts/{{id}}/followers", accounts.followers),
    Route(f"{V1}/accounts/{{id}}/following", accounts.following),
    Route(f"{V1}/accounts/{{id}}/follow", accounts.follow, methods=POST),
    Route(f"{V1}/accounts/{{id}}/unfollow", accounts.unfollow, methods=POST),
    Route(f"{V1}/accounts/{{id}}/block", accounts.block, methods=POST),
    Route(f"{V1}/accounts/{{id}}/unblock", accounts.unblock, methods=POST),
    Route(f"{V1}/accounts/{{id}}/mute", accounts.mute, methods=POST),
    Route(f"{V1}/accounts/{{id}}/unmute", accounts.unmute, methods=POST),
    Route(f"{V1}/accounts/{{id}}/note", accounts.note, methods=POST),
    Route(f"{V1}/accounts/{{id}}/featured_tags", accounts.featured_tags),
    Route(f"{V1}/follow_requests", accounts.follow_requests),
    Route(f"{V1}/follow_requests/{{id}}/authorize", accounts.authorize_request, methods=POST),
    Route(f"{V1}/follow_requests/{{id}}/reject", accounts.reject_request, methods=POST),
    Route(f"{V1}/blocks", accounts.blocked),
    Route(f"{V1}/mutes", accounts.muted),
    # Statuses
    Route(f"{V1}/statuses", statuses.create, methods=POST),
    Route(f"{V1}/statuses/{{id}}", statuses.show),
    Route(f"{V1}/polls/{{id}}", polls.show),
    Route(f"{V1}/polls/{{id}}/votes", polls.vote, methods=POST),
    Route(f"{V1}/statuses/{{id}}", statuses.delete, methods=DELETE),
    Route(f"{V1}/statuses/{{id}}", statuses.edit, methods=PUT),
    Route(f"{V1}/statuses/{{id}}/history", statuses.history),
    Route(f"{V1}/statuses/{{id}}/source", statuses.source),
    Route(f"{V1}/statuses/{{id}}/context", statuses.context),
    Route(f"{V1}/statuses/{{id}}/favourite", statuses.favourite, methods=POST),
    Route(f"{V1}/statuses/{{id}}/unfavourite", statuses.unfavourite, methods=POST),
    Route(f"{V1}/statuses/{{id}}/reblog", statuses.reblog, methods=POST),
    Route(f"{V1}/statuses/{{id}}/unreblog", statuses.unreblog, methods=POST),
    Route(f"{V1}/statuses/{{id}}/bookmark", statuses.bookmark, methods=POST),
    Route(f"{V1}/statuses/{{id}}/unbookmark", statuses.unbookmark, methods=POST),
    Route(f"{V1}/statuses/{{id}}/pin", statuses.pin, methods=POST),
    Route(f"{V1}/statuses/{{id}}/unpin", statuses.unpin, methods=POST),
    Route(f"{V1}/statuses/{{id}}/mute", statuses.mute, methods=POST),
    Route(f"{V1}/statuses/{{id}}/unmute", statuses.unmute, methods=POST),
    Route(f"{V1}/statuses/{{id}}/favourited_by", statuses.favourited_by),
    Route(f"{V1}/statuses/{{id}}/reblogged_by", statuses.reblogged_by),
    Route(f"{V1}/favourites", statuses.favourites_list),
    Route(f"{V1}/bookmarks", statuses.bookmarks_list),
    # Timelines, notifications, markers
    Route(f"{V1}/timelines/home", timelines.home),
    Route(f"{V1}/timelines/public", timelines.public),
    Route(f"{V1}/timelines/tag/{{hashtag}}", timelines.tag),
    Route(f"{V1}/notifications", timelines.notifications),
    Route(f"{V1}/notifications/clear", timelines.clear_notifications, methods=POST),
    Route(f"{V1}/notifications/unread_count", timelines.unread_count),  # before {id}
    Route(f"{V1}/notifications/{{id}}", timelines.notification),
    Route(f"{V1}/notifications/{{id}}/dismiss", timelines.dismiss_notification, methods=POST),
    Route(f"{V1}/markers", timelines.get_markers),
    Route(f"{V1}/markers", timelines.save_markers, methods=POST),
    # Search and trends
    Route("/api/v2/search", timelines.search),
    Route(f"{V1}/trends/tags", timelines.trends_tags),
    Route(f"{V1}/trends/statuses", trends.statuses),
    Route(f"{V1}/trends/links", trends.links),
    Route(f"{V1}/tags/{{name}}", tags.show),
    Route(f"{V1}/tags/{{name}}/follow", tags.follow, methods=POST),
    Route(f"{V1}/tags/{{name}}/unfollow", tags.unfollow, methods=POST),
    Route(f"{V1}/followed_tags", tags.followed),
    Route(f"{V2}/filters", filters.index),
    Route(f"{V2}/filters", filters.create, methods=POST),
    Route(f"{V2}/filters/keywords/{{id}}", filters.keyword),
    Route(f"{V2}/filters/keywords/{{id}}", filters.update_keyword, methods=PUT),
    Route(f"{V2}/filters/keywords/{{id}}", filters.remove_keyword, methods=DELETE),
    Route(f"{V2}/filters/statuses/{{id}}", filters.status),
    Route(f"{V2}/filters/statuses/{{id}}", filters.remove_status, methods=DELETE),
    Route(f"{V2}/filters/{{id}}", filters.show),
    Route(f"{V2}/filters/{{id}}", filters.update, methods=PUT),
    Route(f"{V2}/filters/{{id}}", filters.destroy, methods=DELETE),
    Route(f"{V2}/filters/{{filter_id}}/keywords", filters.keywords),
    Route(f"{V2}/filters/{{filter_id}}/keywords", filters.add_keyword, methods=POST),
    Route(f"{V2}/filters/{{filter_id}}/statuses", filters.statuses),
    Route(f"{V2}/filters/{{filter_id}}/statuses", filters.add_status, methods=POST),
    Route(f"{V1}/filters", filters.v1_index),
    Route(f"{V1}/filters", filters.v1_create, methods=POST),
    Route(f"{V1}/filters/{{id}}", filters.v1_show),
    Route(f"{V1}/filters/{{id}}", filters.v1_update, methods=PUT),
    Route(f"{V1}/filters/{{id}}", filters.v1_destroy, methods=DELETE),
    Route(f"{V1}/trends", timelines.trends_tags),
    Route(f"{V1}/featured_tags", featured_tags.index),
    Route(f"{V1}/featured_tags", featured_tags.create, methods=POST),
    Route(f"{V1}/featured_tags/suggestions", featured_tags.suggestions),
    Route(f"{V1}/featured_tags/{{id}}", featured_tags.remove, methods=DELETE),
    # Direct conversations
    Route(f"{V1}/conversations", conversations.index),
    Route(f"{V1}/conversations/{{id}}", conversations.remove, methods=DELETE),
    Route(f"{V1}/conversations/{{id}}/read", conversations.read, methods=POST),
    # Streaming
    Route("/openapi.json", openapi.openapi_json),
    Route(f"{V1}/streaming/health", streaming.health),
    WebSocketRoute(f"{V1}/streaming", streaming.websocket),
    Route(f"{V1}/streaming", streaming.sse),
    Route(f"{V1}/streaming/user", streaming.sse),
    Route(f"{V1}/streaming/user/notification", streaming.sse),
    Route(f"{V1}/streaming/public", streaming.sse),
    Route(f"{V1}/streaming/public/local", streaming.sse),
    Route(f"{V1}/streaming/hashtag", streaming.sse),
    Route(f"{V1}/streaming/hashtag/local", streaming.sse),
    Route(f"{V1}/streaming/direct", streaming.sse),
]

# Starlette tries routes in order, a regular expression each: the home timeline sat 53 routes
# down, and matching cost it about 0.15 ms a request (a tenth of an uncached page). The reads
# people make most go first; none of them shadows another route (each has its own last segment,
# and a route that matches the path but not the method lets the search go on).
HOT_FIRST = {
    f"{V1}/timelines/home",
    f"{V1}/timelines/public",
    f"{V1}/timelines/tag/{{hashtag}}",
    f"{V1}/notifications",
    f"{V1}/accounts/{{id}}/statuses",
    f"{V1}/statuses/{{id}}/context",
}
routes.sort(key=lambda route: getattr(route, "path", "") not in HOT_FIRST)  # a stable sort
