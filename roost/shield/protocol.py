"""Roost's HTTP protocol for uvicorn: deadlines, size caps and refusals before ASGI.

uvicorn has no deadline for receiving headers or a body, so one slowloris client per connection
slot could hold the server forever. This subclass of uvicorn's httptools protocol adds, per
connection (issue 7 item 4):

- a *header deadline* from the first byte of a request (or from accept) to the end of its headers,
  and a *body deadline* from the end of the headers to the end of the body: 408 and close;
- an *idle keep-alive limit* (uvicorn's own timer, set from the shield settings);
- a *header size cap* (431) and a *body size cap* per endpoint (413), checked as bytes arrive;
- a *per-address connection cap* and *close at accept* for blocked addresses and prefixes;
- a *canned 429* for sources the shield has already penalised, written straight to the socket
  without creating an ASGI task (the cheap reject path).

The protocol finds the ``Shield`` by walking the loaded app's ``.app`` chain; with no shield (the
shield disabled) it still enforces deadlines and sizes from ``ShieldSettings`` read from the env.
Use it as ``uvicorn.Config(..., http="roost.shield.protocol:ShieldProtocol")``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from roost.config import Settings, ShieldSettings
from roost.shield.endpoints import POLICIES, Endpoint, classify
from roost.shield.gate import Gate
from roost.shield.network import Network, in_networks, parse_networks
from roost.shield.responses import DEFAULT_PAGES, raw_429, raw_response

# Login, sign-up and posting take a small form or JSON; a megabyte there is an attack, not a post.
SMALL_BODY = 64 * 1024
_SMALL_BODY_CLASSES = {Endpoint.LOGIN, Endpoint.SIGNUP, Endpoint.POST}


# The operator's view must stay reachable from a penalised admin address (the layer checks who).
_ADMIN_PATHS = (b"/-/shield", b"/metrics")


# Anything that needs the parser's judgement: bodies, credentials, admin paths, odd framing.
_FAST_PATH_VETO = (
    b"ontent-",
    b"ONTENT-",
    b"ransfer-",
    b"RANSFER-",
    b"uthorization",
    b"UTHORIZATION",
    b"roost_session",
    b" /-/shield",
    b" /metrics",
)


class _Refused(Exception):
    """Raised inside a parser callback after the protocol has answered and closed."""


def find_shield(app: Any) -> Any | None:
    """The ``Shield`` inside uvicorn's middleware chain, if any (duck-typed on ``gate``)."""
    for _ in range(16):
        if app is None:
            return None
        if isinstance(getattr(app, "gate", None), Gate):
            return app
        app = getattr(app, "app", None)
    return None


def _context(config: Any) -> tuple[ShieldSettings, Gate, Any, tuple[Network, ...]]:
    """Settings, gate, shield and trusted proxies for this server, resolved once per config."""
    cached = getattr(config, "_roost_shield_context", None)
    if cached is None:
        shield = find_shield(config.loaded_app)
        if shield is not None:
            settings, gate = shield.settings, shield.gate
        else:
            settings = Settings.from_env().shield
            gate = Gate(settings.max_connections_per_ip)
        cached = (settings, gate, shield, parse_networks(settings.trusted_proxies))
        config._roost_shield_context = cached
        config.timeout_keep_alive = cached[0].keepalive_timeout
    return cached


class ShieldProtocol(HttpToolsProtocol):
    def __init__(self, config: Any, server_state: Any, app_state: dict, _loop: Any = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.shield_settings, self.gate, self.shield, self._trusted = _context(config)
        self.timeout_keep_alive = self.shield_settings.keepalive_timeout  # type: ignore[assignment]
        self._address = ""
        self._proxied = False  # the peer is our own edge: its clients are judged by the layer
        self._counted = False
        self._deadline: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._body_bytes = 0
        self._body_limit = self.shield_settings.max_body_bytes
        self._skip = False
        self._idle = True  # the parser is between requests

    # Connection ------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._address = self.client[0] if self.client else ""
        if in_networks(self._address, self._trusted):
            # A connection from the edge carries many clients' requests: the socket's address
            # says nothing about them, so no block, cap or penalty may apply to it here (a
            # penalised forwarded client would otherwise have every client refused).
            self._proxied = True
            self._arm(self.shield_settings.header_timeout)
            return
        now = time.monotonic()
        if self.gate.is_blocked(self._address, now):
            self.gate.accept_closes += 1
            transport.abort()
            return
        if not self.gate.open_connection(self._address):
            transport.abort()
            return
        self._counted = True
        self._arm(self.shield_settings.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._counted:
            self._counted = False
            self.gate.close_connection(self._address)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.parser is None:
            return
        self._unset_keepalive_if_required()
        if self._idle and self.gate.penalties and not self._proxied and self._fast_refuse(data):
            return
        try:
            self.parser.feed_data(data)
        except _Refused:
            return
        except httptools.HttpParserError as exc:
            if isinstance(exc.__context__, _Refused):
                return
            self._note_malformed()
            self._answer(400)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self._disarm()
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()

    # Parser callbacks ------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self._idle = False
        super().on_message_begin()
        self._head_bytes = 0
        self._body_bytes = 0
        self._skip = False
        if self._deadline is None:
            self._arm(self.shield_settings.header_timeout)

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        wait = 0.0 if self._proxied else self.gate.penalty(self._address, time.monotonic())
        if wait > 0 and not self._has_credentials() and not self.url.startswith(_ADMIN_PATHS):
            self._canned_429(wait)
            return
        self._check_declared_body()
        super().on_headers_complete()
        if self.parser.should_upgrade():
            return
        self._arm(self.shield_settings.body_timeout)

    def on_body(self, body: bytes) -> None:
        if self._skip:
            return
        self._body_bytes += len(body)
        if self._body_bytes > self._body_limit:
            self._refuse(413)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._idle = True
        self._disarm()
        if self._skip:
            self._skip = False
            self._arm(self.shield_settings.keepalive_timeout)
            return
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        # The websocket protocol takes the transport over and our connection_lost never runs:
        # release the connection slot now (streams are limited per source by the layer instead).
        self._disarm()
        if self._counted:
            self._counted = False
            self.gate.close_connection(self._address)
        super().handle_websocket_upgrade()

    def _fast_refuse(self, data: bytes) -> bool:
        """Answer whole bodiless requests from a penalised source without parsing them at all.

        Only when the buffer holds complete HTTP/1.1 requests with no body, no credentials and
        no admin path; anything else goes through the parser (which applies the same penalty).
        The parser is between messages, so skipping whole requests leaves it in a valid state.
        """
        wait = self.gate.penalty(self._address, time.monotonic())
        if wait <= 0 or len(data) > self.shield_settings.max_header_bytes:
            return False
        if not data.endswith(b"\r\n\r\n") or b" HTTP/1.1\r\n" not in data:
            return False
        if any(marker in data for marker in _FAST_PATH_VETO):
            return False
        count = data.count(b"\r\n\r\n")
        if self.cycle is not None and not self.cycle.response_complete:
            return False
        self.gate.protocol_refusals[self._address] += count
        # The page for one browser request; a pipelined burst gets the short text (a flooder
        # asking for HTML must not make each refusal five times larger).
        self.transport.write(self._raw_429(wait, count == 1 and b"text/html" in data) * count)
        self._arm(self.shield_settings.keepalive_timeout)
        return True

    def _has_credentials(self) -> bool:
        """A token or session may be a signed-in user behind a penalised NAT: let the layer
        verify it (a forged one is refused there, more slowly, and counted)."""
        for name, value in self.headers:
            if name == b"authorization" or (name == b"cookie" and b"roost_session" in value):
                return True
        return False

    def _canned_429(self, wait: float) -> None:
        """Answer a penalised source without ASGI; keep the connection if that is safe."""
        self.gate.protocol_refusals[self._address] += 1
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined request behind one still being answered: writing now would interleave
            # two responses. Cut the connection instead (only penalised sources get here).
            self.transport.close()
            raise _Refused
        if not self.parser.should_keep_alive():
            self._refuse(429, wait)
        accept = next((v for n, v in self.headers if n == b"accept"), b"")
        self.transport.write(self._raw_429(wait, b"text/html" in accept))
        self._skip = True  # swallow this request's body; the parser stays usable for the next
        self._arm(self.shield_settings.body_timeout)  # ... if it comes in time

    # Helpers ---------------------------------------------------------------------------------
    def _raw_429(self, wait: float, browser: bool) -> bytes:
        """Plain text for clients, the site's "slow down" page for a browser that asks for HTML."""
        if not browser:
            return raw_429(wait)
        pages = self.shield.pages if self.shield is not None else DEFAULT_PAGES
        return pages.raw_429(wait)

    def _count_head(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self.shield_settings.max_header_bytes:
            self._note_malformed()
            self._refuse(431)

    def _check_declared_body(self) -> None:
        method = self.parser.get_method().decode("ascii", "replace")
        path = httptools.parse_url(self.url).path.decode("ascii", "replace")
        endpoint = classify(method, path)
        limit = self.shield_settings.max_body_bytes
        if endpoint is Endpoint.UPLOAD:
            limit = self.shield_settings.max_upload_bytes
        # Exempt endpoints (cost < 1) take no bodies worth speaking of either.
        if endpoint in _SMALL_BODY_CLASSES or POLICIES[endpoint].cost < 1:
            limit = min(limit, SMALL_BODY)
        self._body_limit = limit
        for name, value in self.headers:
            if name == b"content-length" and (not value.isdigit() or int(value) > limit):
                self._refuse(413 if value.isdigit() else 400)

    def _refuse(self, status: int, retry_after: float | None = None) -> None:
        self._answer(status, retry_after)
        raise _Refused

    def _answer(self, status: int, retry_after: float | None = None) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self.transport.write(raw_response(status, retry_after))
            self.transport.close()

    def _note_malformed(self) -> None:
        if not self._proxied:  # the edge refuses its clients' malformed requests itself
            self.gate.protocol_refusals[self._address] += 4  # weighs like a few 429s

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._deadline_passed)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _deadline_passed(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and cycle.response_started and not cycle.response_complete:
            return  # the app is answering: its own pace is not the client's fault
        # Otherwise the client is late: with its headers, or with a body that nobody may even
        # wait for any more (answered early, e.g. refused by the shield before it was read).
        self.gate.slow_closes += 1
        if not self._proxied:
            self.gate.protocol_refusals[self._address] += 1
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.write(raw_response(408))
        self.transport.close()
