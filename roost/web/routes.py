"""The web site's routes (plugged into the app by ``roost.app``), and its error page renderer."""

from __future__ import annotations

from starlette.routing import Mount, Route

from roost.web import (
    attach,
    auth,
    consent,
    inbox,
    posts,
    profiles,
    search,
    settings,
    thread,
    timelines,
)
from roost.web.errors import render_error
from roost.web.static_files import Static

POST = ["POST"]

routes = [
    # OAuth's login and consent page (Mastodon.py and toot use both spellings)
    Route("/oauth/authorize", consent.authorize, methods=["GET", "POST"]),
    Route("/oauth/authorize/", consent.authorize, methods=["GET", "POST"]),
    Route("/", timelines.landing),
    Route("/home", timelines.home),
    Route("/public", timelines.public),
    Route("/tags/{name}", timelines.tag),
    Route("/tags/{name}/follow", timelines.follow_tag, methods=POST),
    Route("/tags/{name}/unfollow", timelines.unfollow_tag, methods=POST),
    Route("/signup", auth.signup_form),
    Route("/signup", auth.signup, methods=POST),
    Route("/login", auth.login_form),
    Route("/login", auth.login, methods=POST),
    Route("/logout", auth.logout_form),
    Route("/logout", auth.logout, methods=POST),
    Route("/search", search.search),
    Route("/notifications", inbox.notifications),
    Route("/web/stream", inbox.stream),
    Route("/compose", posts.compose_form),
    Route("/compose", posts.compose, methods=POST),
    Route("/compose/media", attach.attach, methods=POST),
    Route("/posts/{id}/edit", posts.edit, methods=POST),
    Route("/posts/{id}/vote", posts.vote, methods=POST),
    Route("/posts/{id}/{action}", posts.act, methods=POST),
    Route("/settings", settings.settings_form),
    Route("/settings", settings.save_profile, methods=POST),
    Route("/settings/pictures", settings.save_pictures, methods=POST),
    Route("/settings/password", settings.change_password, methods=POST),
    Route("/settings/sessions", settings.log_out_everywhere, methods=POST),
    Route("/@{username}", profiles.profile),
    Route("/@{username}/followers", profiles.followers),
    Route("/@{username}/following", profiles.following),
    Route("/@{username}/follow", profiles.follow, methods=POST),
    Route("/@{username}/unfollow", profiles.unfollow, methods=POST),
    Route("/@{username}/mute", profiles.mute, methods=POST),
    Route("/@{username}/unmute", profiles.unmute, methods=POST),
    Route("/@{username}/block", profiles.block, methods=POST),
    Route("/@{username}/unblock", profiles.unblock, methods=POST),
    Route("/@{username}/{id}", thread.thread),
    Mount("/static", app=Static(), name="static"),
]

__all__ = ["render_error", "routes"]
