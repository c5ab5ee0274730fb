"""Instance metadata: /api/v1/instance, /api/v2/instance, nodeinfo, and small fixed endpoints."""

from __future__ import annotations

from roost import __version__
from roost.api.endpoint import PUBLIC, Call, endpoint
from roost.domain import polls
from roost.present.entities import iso
from roost.services import featured, media
from roost.services import instance as instance_service
from roost.services import preferences as preference_service
from roost.services.context import Context

# Clients parse `version` as X.Y.Z and switch features on it; we speak Mastodon 4.2's API.
MASTODON_VERSION = "4.2.0"
SOURCE_URL = "https://example.invalid/roost"  # placeholder: Roost has no public home yet
# Mastodon 4.3's API versions: 2 would tell clients to use grouped notifications, which Roost
# does not have, so they stay on /api/v1/notifications.
API_VERSIONS = {"mastodon": 1}


def _thumbnail(ctx: Context) -> str:
    return f"{ctx.base_url}/static/thumbnail.png"


def _streaming_url(ctx: Context) -> str:
    return f"{'wss' if ctx.settings.https else 'ws'}://{ctx.settings.domain}"


def _configuration(ctx: Context) -> dict:
    return {
        "urls": {"streaming": _streaming_url(ctx), "status": ctx.settings.status.page_url},
        "accounts": {"max_featured_tags": featured.MOST_FEATURED},
        "statuses": {
            "max_characters": ctx.settings.max_post_chars,
            "max_media_attachments": media.MOST_ATTACHED,
            "characters_reserved_per_url": 23,
        },
        # pictures only: video and audio are refused (their limits 0) until Roost takes them
        "media_attachments": {
            "supported_mime_types": list(media.ACCEPTED),
            "description_limit": media.MOST_DESCRIPTION,
            "image_size_limit": ctx.settings.media.max_image_bytes,
            "image_matrix_limit": ctx.settings.media.max_pixels,
            "video_size_limit": 0,
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0,
        },
        "polls": {
            "max_options": polls.MAX_OPTIONS,
            "max_characters_per_option": polls.MAX_OPTION_CHARS,
            "min_expiration": polls.MIN_EXPIRATION,
            "max_expiration": polls.MAX_EXPIRATION,
        },
        "translation": {"enabled": False},
    }


async def _stats(call: Call) -> dict:
    return await instance_service.figures(call.conn)


@endpoint(PUBLIC)
async def instance_v1(call: Call) -> dict:
    ctx = call.ctx
    s = ctx.settings
    return {
        "uri": s.domain,
        "title": s.instance_name,
        "short_description": "A micro-blogging site that stays up under attack.",
        "description": "Roost: micro-blogging that keeps its users served during a flood.",
        "email": f"admin@{s.domain.split(':')[0]}",
        "version": MASTODON_VERSION,
        "urls": {"streaming_api": _streaming_url(ctx)},
        "stats": await _stats(call),
        "thumbnail": _thumbnail(ctx),
        "languages": ["en"],
        "registrations": s.registrations_open,
        "approval_required": False,
        "invites_enabled": False,
        "configuration": _configuration(ctx),
        "contact_account": None,
        "rules": instance_service.rules(s),
    }


@endpoint(PUBLIC)
async def instance_v2(call: Call) -> dict:
    ctx = call.ctx
    s = ctx.settings
    stats = await _stats(call)
    return {
        "domain": s.domain,
        "title": s.instance_name,
        "version": MASTODON_VERSION,
        "source_url": SOURCE_URL,
        "description": "Roost: micro-blogging that keeps its users served during a flood.",
        "usage": {"users": {"active_month": stats["user_count"]}},
        "thumbnail": {"url": _thumbnail(ctx)},
        "languages": ["en"],
        "configuration": _configuration(ctx),
        "registrations": {
            "enabled": s.registrations_open,
            "approval_required": False,
            "message": None,
        },
        "contact": {"email": f"admin@{s.domain.split(':')[0]}", "account": None},
        "rules": instance_service.rules(s),
        "api_versions": API_VERSIONS,
    }


@endpoint(PUBLIC)
async def peers(call: Call) -> list:
    return []  # Roost does not federate: it knows no other server


@endpoint(PUBLIC)
async def rules(call: Call) -> list:
    return instance_service.rules(call.ctx.settings)


@endpoint(PUBLIC)
async def activity(call: Call) -> list:
    return await instance_service.activity(call.ctx, call.conn)


@endpoint(PUBLIC)
async def extended_description(call: Call) -> dict:
    content, updated = instance_service.extended_description(call.ctx.settings)
    return {"updated_at": iso(updated), "content": content}


@endpoint(PUBLIC)
async def translation_languages(call: Call) -> dict:
    return {}  # Roost translates nothing


@endpoint(PUBLIC)
async def nodeinfo_links(call: Call) -> dict:
    return {
        "links": [
            {
                "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
                "href": f"{call.ctx.base_url}/nodeinfo/2.0",
            }
        ]
    }


@endpoint(PUBLIC)
async def nodeinfo(call: Call) -> dict:
    stats = await _stats(call)
    return {
        "version": "2.0",
        "software": {"name": "roost", "version": __version__},
        "protocols": [],
        "services": {"outbound": [], "inbound": []},
        "usage": {"users": {"total": stats["user_count"]}, "localPosts": stats["status_count"]},
        "openRegistrations": call.ctx.settings.registrations_open,
        "metadata": {"nodeName": call.ctx.settings.instance_name},
    }


@endpoint(PUBLIC)
async def custom_emojis(call: Call) -> list:
    return []


@endpoint("read:accounts")
async def preferences(call: Call) -> dict:
    defaults = await preference_service.of(call.conn, call.me)
    return {
        "posting:default:visibility": defaults.privacy,
        "posting:default:sensitive": defaults.sensitive,
        "posting:default:language": defaults.language,
        "reading:expand:media": "default",
        "reading:expand:spoilers": False,
    }
