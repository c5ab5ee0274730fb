"""Pictures in a real browser (Debian's chromium through Playwright): attach a picture with its
alt text in the composer, post it, and see it loaded on the timeline, under the page's CSP."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, expect

from tests.support import pictures
from tests.web.test_web_browser import (
    DOCS_SHOTS,
    Watch,
    axe_check,
    person,
    sign_up,
    wait_for_post,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def loaded(picture: Locator, seconds: float = 10.0) -> None:
    """The picture was fetched and decoded (asked from Python: with scripts off too)."""
    deadline = time.monotonic() + seconds
    while not picture.evaluate("img => img.complete && img.naturalWidth > 0"):
        assert time.monotonic() < deadline, f"{picture.get_attribute('src')} never loaded"
        time.sleep(0.1)


@pytest.fixture
def server(live_server_factory, tmp_path: Path):
    return live_server_factory(ROOST_SHIELD_ENABLED="0", ROOST_MEDIA_DIR=str(tmp_path / "media"))


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """As the other browser tests: docs/screenshots with ROOST_SCREENSHOTS=1."""
    return DOCS_SHOTS if os.environ.get("ROOST_SCREENSHOTS") == "1" else tmp_path


@pytest.fixture
def watch(server):
    watcher = Watch()
    yield watcher
    for context in watcher.contexts:
        context.close()


@pytest.mark.parametrize("script", [True, False], ids=["script", "no-script"])
def test_attach_a_described_picture_post_it_and_see_it(
    browser: Browser, server, watch: Watch, script: bool, shots: Path
) -> None:
    _, alice = person(browser, server.url, watch, java_script_enabled=script)
    sign_up(alice, "alice", "Alice")
    alice.goto("/compose")
    alice.get_by_label("What's happening?").fill("A picture of the garden")
    square = {"name": "garden.png", "mimeType": "image/png", "buffer": pictures.png(120, 80)}
    alice.get_by_label("Attach a picture").set_input_files(square)
    alice.get_by_label("Its description").fill("A green square of lawn")
    alice.get_by_role("button", name="Attach", exact=True).click()

    expect(alice).to_have_url(re.compile(r"/compose\?media=\d+$"))
    expect(alice.get_by_label("What's happening?")).to_have_value("A picture of the garden")
    expect(alice.get_by_label("Description of picture 1")).to_have_value("A green square of lawn")
    thumbnail = alice.locator(".pending img")
    expect(thumbnail).to_have_attribute("alt", "A green square of lawn")
    loaded(thumbnail)
    alice.screenshot(
        path=shots / f"compose-pictures-{'js' if script else 'nojs'}.png", full_page=True
    )
    if script:  # axe-core runs in the page
        axe_check(alice)

    alice.get_by_role("button", name="Post", exact=True).click()
    expect(alice).to_have_url(re.compile(r"/@alice/\d+$"))
    wait_for_post(alice, "/home", "A picture of the garden")
    shown = alice.locator("article.status img[alt='A green square of lawn']")
    expect(shown).to_have_count(1)
    expect(shown).to_have_attribute("loading", "lazy")
    shown.scroll_into_view_if_needed()
    loaded(shown)
    box = shown.bounding_box()
    assert box and box["width"] > 0 and box["height"] > 0
    assert "/small/" in (shown.get_attribute("src") or ""), "a thumbnail on the timeline"
    alice.screenshot(path=shots / f"timeline-pictures-{'js' if script else 'nojs'}.png")
    if script:
        axe_check(alice)
    assert not watch.problems, watch.problems


def test_set_an_avatar_and_header_and_see_them_on_the_profile(
    browser: Browser, server, watch: Watch, shots: Path
) -> None:
    _, alice = person(browser, server.url, watch)
    sign_up(alice, "alice", "Alice")
    alice.goto("/settings")
    face = {"name": "me.png", "mimeType": "image/png", "buffer": pictures.png(300, 300)}
    wide = {"name": "wide.jpg", "mimeType": "image/jpeg", "buffer": pictures.jpeg(900, 300)}
    alice.locator("input#avatar").set_input_files(face)
    alice.locator("input#header").set_input_files(wide)
    alice.get_by_role("button", name="Save pictures").click()
    expect(alice.locator(".flash")).to_have_text("Your pictures are saved.")
    loaded(alice.get_by_alt_text("Your avatar"))
    alice.goto("/@alice")
    loaded(alice.locator(".profile img.header"))
    loaded(alice.locator(".profile img.avatar"))
    alice.screenshot(path=shots / "profile-pictures.png")
    axe_check(alice)
    assert not watch.problems, watch.problems
