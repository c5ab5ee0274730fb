"""The site in a real browser (Debian's chromium through Playwright): two people meet, with
JavaScript and without; a visitor reads; axe-core finds no serious accessibility problem.

Screenshots go to a temporary folder, or to ``docs/screenshots`` with ROOST_SCREENSHOTS=1.
"""

from __future__ import annotations

import gzip
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from roost.domain.text import count

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HERE = Path(__file__).parent
AXE = HERE / "axe-core-4.14.1.min.js.gz"
DOCS_SHOTS = HERE.parent.parent / "docs" / "screenshots"
PASSWORD = "correct horse battery"
DESKTOP = {"width": 1100, "height": 900}
PHONE = {"width": 320, "height": 640}
OOB = "urn:ietf:wg:oauth:2.0:oob"
BUSY = "<!doctype html><title>Busy</title><h1>We are under attack, please wait</h1>"


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    if os.environ.get("ROOST_SCREENSHOTS") == "1":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        return DOCS_SHOTS
    return tmp_path


@pytest.fixture
def server(live_server_factory):
    return live_server_factory(ROOST_SHIELD_ENABLED="0")


@pytest.fixture
def watch(server) -> Iterator[Watch]:
    """Closes every page before the server stops (open live streams would delay its exit)."""
    watcher = Watch()
    yield watcher
    for context in watcher.contexts:
        context.close()


class Watch:
    """Collects what must never happen in a page: script errors, CSP refusals, dialogs."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.contexts: list[BrowserContext] = []

    def attach(self, page: Page) -> Page:
        page.on("pageerror", lambda exc: self.problems.append(f"pageerror: {exc}"))
        page.on("dialog", lambda dialog: self.problems.append(f"dialog: {dialog.message}"))
        page.on("console", self._console)
        return page

    def _console(self, message) -> None:
        expected = ("ERR_ABORTED", "status of 401", "status of 404", "status of 422")
        expected += ("status of 429", "status of 503")  # the shield's pages, faked by route()
        if message.type == "error" and not any(e in message.text for e in expected):
            self.problems.append(f"console: {message.text}")  # e.g. a CSP refusal


def person(browser: Browser, url: str, watch: Watch, **options) -> tuple[BrowserContext, Page]:
    context = browser.new_context(base_url=url, viewport=DESKTOP, **options)
    watch.contexts.append(context)
    context.set_default_timeout(10_000)
    return context, watch.attach(context.new_page())


def sign_up(page: Page, username: str, display_name: str) -> None:
    page.goto("/")
    page.get_by_role("link", name="Sign up").first.click()
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Display name").fill(display_name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/home$"))
    expect(page.locator(".flash")).to_contain_text(f"@{username}")


def axe_check(page: Page) -> None:
    """No serious or critical violations of WCAG 2 A/AA, as axe-core judges them in the page."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(gzip.decompress(AXE.read_bytes()).decode())
    result = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})"
    )
    bad = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{page.url}: {bad}"


def oauth_page(page: Page) -> None:
    """Open the OAuth authorization page for a freshly registered app."""
    app = page.request.post(
        "/api/v1/apps",
        form={"client_name": "Birdwatch", "redirect_uris": OOB, "scopes": "read write"},
    ).json()
    page.goto(f"/oauth/authorize?client_id={app['client_id']}&redirect_uri={OOB}"
              "&response_type=code&scope=read+write")  # fmt: skip
    expect(page.get_by_text("Birdwatch").first).to_be_visible()


def fits(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def wait_for_post(page: Page, path: str, text: str, seconds: float = 10.0) -> None:
    """Reload until a post shows (fan-out to home feeds runs just after the write)."""
    deadline = time.monotonic() + seconds
    while True:
        page.goto(path)
        if page.locator("article.status", has_text=text).count():
            return
        assert time.monotonic() < deadline, f"{text!r} never appeared on {path}"
        time.sleep(0.2)


def test_two_people_meet_with_javascript(
    browser: Browser, server, watch: Watch, shots: Path
) -> None:
    _, alice = person(browser, server.url, watch)
    _, bob = person(browser, server.url, watch)
    sign_up(alice, "alice", "Alice Liddell")
    sign_up(bob, "bob", "Bob")

    bob.goto("/@alice")
    bob.evaluate("window.stayed = true")  # gone if the page reloads
    bob.get_by_role("button", name="Follow @alice").click()
    expect(bob.get_by_role("button", name="Following · Unfollow")).to_be_visible()
    expect(bob.locator("[data-followers]")).to_have_text("1")
    assert bob.evaluate("window.stayed === true")
    bob.goto("/home")  # listens on the live stream from here on
    expect(bob.get_by_role("button", name="Load newer posts")).to_be_visible()
    expect(bob.locator("#timeline")).to_have_attribute("data-live", "on")

    alice.goto("/home")
    alice.evaluate("window.stayed = true")
    # Her stream is open, so her own post is announced to her too (and must not count as new).
    expect(alice.locator("#timeline")).to_have_attribute("data-live", "on")
    text = "Hello @bob! Trying #roosting today, see https://example.com/" + "a" * 80
    box = alice.get_by_label("What's happening?")
    keys = alice.keyboard  # skip link, then the compose box and its button by keyboard alone
    keys.press("Tab")
    expect(alice.get_by_role("link", name="Skip to content")).to_be_focused()
    keys.press("Enter")
    keys.press("Tab")
    expect(alice.get_by_label("Content warning")).to_be_focused()
    keys.press("Tab")
    expect(box).to_be_focused()
    keys.insert_text(text)
    expect(alice.locator("#text-count")).to_have_text(f"{500 - count(text)} characters left")
    keys.press("Tab")
    keys.press("Tab")
    expect(alice.get_by_role("button", name="Post", exact=True)).to_be_focused()
    keys.press("Enter")
    mine = alice.locator("article.status", has_text="Trying")
    expect(mine).to_be_visible()
    expect(box).to_have_value("")
    expect(alice.get_by_role("button", name="Load newer posts")).to_be_visible()  # not her own
    assert alice.evaluate("window.stayed === true")
    alice.screenshot(path=shots / "home.png")
    alice.get_by_role("button", name="Post", exact=True).click()  # empty: refused
    expect(alice.locator("#text-error")).to_have_text("Text can't be blank.")
    expect(box).to_be_focused()  # the script takes the reader to the field in error
    alice.route("**/compose", lambda route: route.fulfill(status=503, body=BUSY,
                content_type="text/html"))  # fmt: skip
    box.fill("while the shield says busy")
    alice.get_by_role("button", name="Post", exact=True).click()
    expect(alice.locator("#form-error")).to_contain_text("too busy to answer right now")
    expect(alice.locator("#roost-live")).to_contain_text("too busy to answer right now")
    expect(box).to_have_value("while the shield says busy")  # nothing lost
    alice.unroute("**/compose")
    alice.route("**/favourite", lambda route: route.fulfill(status=429, body=BUSY,
                content_type="text/html"))  # fmt: skip
    mine.get_by_role("button", name=re.compile("^★ Favourite")).click()
    expect(mine.locator("[data-complaint]")).to_contain_text("Too many requests")
    alice.unroute("**/favourite")
    box.fill("")

    expect(bob.get_by_role("button", name="Show 1 new post")).to_be_visible()
    bob.get_by_role("button", name="Show 1 new post").click()
    post = bob.locator("article.status", has_text="Trying")
    expect(post).to_be_visible()
    post.get_by_role("button", name=re.compile("^★ Favourite")).click()
    expect(post.get_by_role("button", name=re.compile("^★ Favourited 1"))).to_have_attribute(
        "aria-pressed", "true"
    )
    post.get_by_role("button", name=re.compile("^⟳ Repost")).click()
    expect(post.get_by_role("button", name=re.compile("^⟳ Reposted 1"))).to_be_visible()
    bob.goto("/notifications")
    expect(bob.locator(".notification", has_text="mentioned you")).to_contain_text("Trying")
    bob.screenshot(path=shots / "notifications.png")

    bob.locator(".notification a.when").first.click()
    expect(bob).to_have_url(re.compile(r"/@alice/\d+$"))
    reply = bob.get_by_label("Your reply to @alice")
    expect(reply).to_have_value("@alice ")
    reply.fill("@alice welcome to #roosting!")
    bob.get_by_role("button", name="Reply", exact=True).click()
    answer = bob.locator("#timeline article.status", has_text="welcome to")
    expect(answer).to_be_visible()
    expect(answer.locator(".replying")).to_have_count(0)  # no "In a conversation" in its thread
    bob.screenshot(path=shots / "thread.png", full_page=True)
    axe_check(bob)

    alice.goto("/notifications")
    expect(alice.locator(".notification", has_text="favourited your post")).to_be_visible()
    expect(alice.locator(".notification", has_text="reposted your post")).to_be_visible()
    expect(alice.locator(".notification", has_text="followed you")).to_be_visible()
    expect(alice.locator(".notification", has_text="mentioned you")).to_contain_text("welcome")

    alice.goto("/search")
    alice.get_by_label("Search people, hashtags and posts").fill("roosting")
    alice.keyboard.press("Enter")
    expect(alice.locator("article.status", has_text="Trying")).to_be_visible()
    expect(alice.locator(".tags").get_by_role("link", name="#roosting")).to_be_visible()
    alice.screenshot(path=shots / "search.png")
    alice.locator(".tags").get_by_role("link", name="#roosting").click()
    expect(alice).to_have_url(re.compile(r"/tags/roosting$"))
    expect(alice.locator("article.status")).to_have_count(2)
    alice.screenshot(path=shots / "hashtag.png")

    for sample in (text, "@bob@far.example.org hi", "#tag x https://a.b/c.", "émoji 🐦 ok"):
        assert alice.evaluate("s => window.roostCount(s)", sample) == count(sample)
    for page in (alice, bob):
        for path in ("/home", "/notifications", "/@alice", "/settings", "/search?q=roosting"):
            page.goto(path)
            axe_check(page)
    alice.goto("/compose")
    axe_check(alice)
    oauth_page(alice)  # logged in: "Birdwatch wants to act as @alice"
    expect(alice.get_by_role("button", name="Authorize")).to_be_visible()
    axe_check(alice)
    bob.goto("/@bob")
    bob.screenshot(path=shots / "profile.png")
    alice.goto("/settings")
    alice.screenshot(path=shots / "settings.png")

    alice.emulate_media(color_scheme="dark")
    for path in ("/home", "/notifications"):
        alice.goto(path)
        axe_check(alice)
    alice.set_viewport_size(PHONE)
    alice.goto("/home")
    fits(alice, PHONE["width"])

    older = f"/public?max_id={int(mine.get_attribute('data-id')) + 1}"  # a query to keep
    bob.goto(older)
    bob.context.clear_cookies()  # the session expires while the page is open
    bob.locator("article.status").first.get_by_role("button", name=re.compile("^★")).click()
    expect(bob).to_have_url(re.compile(r"/login\?next="))
    bob.get_by_label("Username or email").fill("bob")
    bob.get_by_label("Password").fill(PASSWORD)
    bob.get_by_role("button", name="Log in").click()
    expect(bob).to_have_url(re.compile(re.escape(older) + "$"))
    assert not watch.problems, watch.problems


def test_two_people_meet_without_javascript(
    browser: Browser, server, watch: Watch, shots: Path
) -> None:
    _, alice = person(browser, server.url, watch, java_script_enabled=False)
    _, bob = person(browser, server.url, watch, java_script_enabled=False)
    sign_up(alice, "alice", "Alice")
    sign_up(bob, "bob", "Bob")

    bob.goto("/@alice")
    bob.get_by_role("button", name="Follow @alice").click()
    expect(bob).to_have_url(re.compile(r"/@alice$"))
    expect(bob.get_by_role("button", name="Following · Unfollow")).to_be_visible()

    alice.goto("/home")
    alice.get_by_label("Content warning").fill("birds")
    alice.get_by_label("What's happening?").fill("Plain forms work, @bob #nojs")
    alice.get_by_role("button", name="Post", exact=True).click()
    expect(alice).to_have_url(re.compile(r"/@alice/\d+$"))
    expect(alice.locator(".flash")).to_have_text("Your post is up.")

    wait_for_post(bob, "/home", "birds")
    post = bob.locator("article.status", has_text="birds")
    post.locator("summary").click()
    expect(post.get_by_text("Plain forms work")).to_be_visible()
    post.get_by_role("button", name=re.compile("^★ Favourite")).click()
    expect(bob).to_have_url(re.compile(r"/home$"))
    expect(bob.locator("article.status", has_text="birds").get_by_role(
        "button", name=re.compile("^★ Favourited 1")
    )).to_be_visible()  # fmt: skip
    bob.goto("/notifications")
    expect(bob.locator(".notification", has_text="mentioned you")).to_be_visible()
    bob.locator(".notification").get_by_role("link", name="Reply to this post by @alice").click()
    bob.get_by_label("Your reply to @alice").fill("")
    bob.get_by_role("button", name="Reply", exact=True).click()
    expect(bob.locator("#text-error")).to_have_text("Text can't be blank.")
    expect(bob).to_have_title(re.compile("^Post by Alice"))  # the same page, not /compose
    bob.get_by_label("Your reply to @alice").fill("@alice no script needed #nojs")
    bob.get_by_role("button", name="Reply", exact=True).click()
    expect(bob.locator("#timeline article.status", has_text="no script needed")).to_be_visible()

    alice.goto("/notifications")
    expect(alice.locator(".notification", has_text="favourited your post")).to_be_visible()
    alice.goto("/search?q=plain+forms")
    expect(alice.locator("article.status", has_text="birds")).to_be_visible()
    alice.goto("/tags/nojs")
    expect(alice.locator("article.status")).to_have_count(2)

    _, visitor = person(browser, server.url, watch, java_script_enabled=False)
    visitor.goto("/")
    expect(visitor.get_by_role("heading", level=1)).to_contain_text("short posts")
    expect(visitor.locator("article.status", has_text="no script needed")).to_be_visible()
    visitor.get_by_role("link", name="Public", exact=True).click()
    expect(visitor.locator("article.status")).to_have_count(2)
    assert not visitor.get_by_role("button", name=re.compile("Favourite")).count()
    assert not watch.problems, watch.problems


def test_visitor_pages_look_right_and_pass_axe(
    browser: Browser, server, watch: Watch, shots: Path
) -> None:
    _, author = person(browser, server.url, watch)
    sign_up(author, "robin", "Robin <b>Hood</b>")
    for words in ("Morning #birdsong from the forest", "A longer thought: " + "tweet " * 40):
        author.goto("/home")
        author.get_by_label("What's happening?").fill(words)
        author.get_by_role("button", name="Post", exact=True).click()
        expect(author.locator("article.status", has_text=words[:20])).to_be_visible()
    visitor_context, visitor = person(browser, server.url, watch)
    visitor.goto("/")
    expect(visitor.locator("article.status")).to_have_count(2)
    expect(visitor.get_by_text("Robin <b>Hood</b>").first).to_be_visible()
    visitor.screenshot(path=shots / "landing.png", full_page=True)
    for path in ("/", "/public", "/@robin", "/tags/birdsong", "/login", "/signup", "/@ghost"):
        visitor.goto(path)
        axe_check(visitor)
    visitor.goto("/@ghost")
    expect(visitor.get_by_role("heading", name="Nothing here")).to_be_visible()
    visitor.screenshot(path=shots / "not-found.png")
    visitor.goto("/signup")
    visitor.get_by_role("button", name="Create account").click()
    expect(visitor.locator("#username-error")).to_contain_text("Username must be")
    visitor.screenshot(path=shots / "signup-error.png")
    axe_check(visitor)  # with the errors showing
    oauth_page(visitor)  # logged out: log in first
    expect(visitor.get_by_role("button", name="Log in")).to_be_visible()
    axe_check(visitor)

    phone = visitor_context.new_page()
    phone.set_viewport_size(PHONE)
    phone.goto("/public")
    fits(phone, PHONE["width"])
    phone.screenshot(path=shots / "public-320px.png", full_page=True)
    _, dark = person(browser, server.url, watch, color_scheme="dark")
    for path in ("/", "/signup", "/@robin"):
        dark.goto(path)
        axe_check(dark)
    dark.screenshot(path=shots / "profile-dark.png")
    dark.keyboard.press("Tab")
    expect(dark.get_by_role("link", name="Skip to content")).to_be_focused()
    assert not watch.problems, watch.problems


def test_the_site_works_behind_the_shield(browser: Browser, live_server_factory) -> None:
    """With the shield on (its default), a person signs up, posts and reads as usual."""
    server = live_server_factory()
    watch = Watch()
    context, page = person(browser, server.url, watch)
    try:
        sign_up(page, "shielded", "Behind the shield")
        page.get_by_label("What's happening?").fill("Still here #shield")
        page.get_by_role("button", name="Post", exact=True).click()
        expect(page.locator("article.status", has_text="Still here")).to_be_visible()
        page.goto("/tags/shield")
        expect(page.locator("article.status")).to_have_count(1)
    finally:
        context.close()
    assert not watch.problems, watch.problems
