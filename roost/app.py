"""The site's ASGI app: Mastodon API + web pages, over the services, wrapped by the shield."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from roost.api.cache import CacheCollector, caches
from roost.api.fastpath import CachedReads
from roost.api.http import error_response
from roost.api.routes import HOT_FIRST
from roost.api.routes import routes as api_routes
from roost.config import Settings
from roost.foreground import CountForeground
from roost.present.entities import render_for_stream
from roost.services import polls
from roost.services.cards import Cards
from roost.services.context import Context, build_context, instance_secret
from roost.services.fanout import Fanout
from roost.services.media_jobs import MediaJobs
from roost.store.media_files import serve_local_media
from roost.store.migrate import upgrade_engine
from roost.web.routes import render_error
from roost.web.routes import routes as web_routes

log = logging.getLogger("roost")
SESSION_COOKIE = "roost_session"
SESSION_AGE = 30 * 24 * 3600


async def health(request: Request) -> Response:
    return PlainTextResponse("OK", headers={"Cache-Control": "no-store"})


def _is_api(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/oauth/", "/.well-known/", "/nodeinfo/"))


async def _http_error(request: Request, exc: HTTPException) -> Response:
    if _is_api(request):
        messages = {404: "Record not found", 405: "Method not allowed"}
        return error_response(exc.status_code, messages.get(exc.status_code, exc.detail))
    return await render_error(request, exc.status_code)


async def _client_gone(request: Request, exc: ClientDisconnect) -> Response:
    """The client hung up while sending its body: one line at debug level, no traceback.

    Any client can do this at will, so it must cost less than the request: two tracebacks (ours
    and uvicorn's) per disconnect were a fifth of the event loop's time under a flood. Nobody is
    left to read the answer; the 400 is for the shield, which counts it against the sender."""
    log.debug("client went away mid-body: %s %s", request.method, request.scope["path"])
    return Response(status_code=400)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    if _is_api(request):
        return JSONResponse({"error": "Internal server error"}, status_code=500)
    return await render_error(request, 500)


def create_site(settings: Settings) -> Starlette:
    """The unshielded site (tests and the shield-off comparison use it directly)."""
    ctx = build_context(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await start(ctx)
        try:
            yield
        finally:
            await ctx.close()

    middleware = [
        Middleware(CountForeground, foreground=ctx.foreground),
        *serve_local_media(settings),  # outside sessions: no cookie on what is cached as public
        Middleware(
            CachedReads,
            index=caches(ctx).raw_responses,
            counted=caches(ctx),
            lanes=[route for route in api_routes if getattr(route, "path", "") in HOT_FIRST],
        ),
        Middleware(
            CORSMiddleware,
            allow_origins=["*"],
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=[
                "Link",
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
            ],
        ),
        Middleware(
            SessionMiddleware,
            secret_key=ctx.secret.decode(),
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_AGE,
            same_site="lax",
            https_only=settings.https,
        ),
    ]
    site = Starlette(
        routes=[Route("/health", health), *api_routes, *web_routes],
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={  # Starlette types handlers by Exception; each takes its own kind
            ClientDisconnect: _client_gone,  # type: ignore[dict-item]
            HTTPException: _http_error,  # type: ignore[dict-item]
            Exception: _server_error,
        },
    )
    site.state.ctx = ctx
    site.state.render_error = render_error
    return site


async def start(ctx: Context) -> None:
    """Bring the site's resources up: migrations (embedded), bus, fan-out (resuming), the
    look for ended polls, the picture workers (resuming), preview cards' jobs."""
    if ctx.settings.auto_migrate:
        await upgrade_engine(ctx.db.engine, ctx.settings.database_url)
    await ctx.bus.start()
    ctx.fanout = Fanout(ctx, render_for_stream)
    await ctx.fanout.start()
    # ended polls are told about from here; stopped with the fan-out's tasks
    ctx.fanout.tasks.append(asyncio.create_task(polls.tell_ended_forever(ctx)))
    ctx.media_jobs = MediaJobs(ctx)
    await ctx.media_jobs.start()
    if ctx.settings.media.preview_cards:
        ctx.extras["cards"] = Cards(ctx)


def create_app(settings: Settings):
    site = create_site(settings)
    if not settings.shield.enabled:
        if settings.shield.trusted_proxies:
            from roost.shield.network import RealClient

            return RealClient(site, settings.shield.trusted_proxies)
        return site
    from roost.shield.layer import Shield

    shield = Shield(site, settings, secret=instance_secret(settings))
    shield.metrics.registry.register(CacheCollector(caches(site.state.ctx)))
    return shield


def create_app_from_env():
    """What `roost serve` runs (each uvicorn worker process calls this)."""
    from roost.server import FreezeAtStartup, claim_worker_id

    settings = Settings.from_env()
    if settings.workers > 1:  # each of uvicorn's worker processes mints its own ids
        settings = settings.replace(worker_id=claim_worker_id(settings))
    return FreezeAtStartup(create_app(settings))
