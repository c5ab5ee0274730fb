"""toot's TUI driven in tmux against a real `roost serve`: it quit when `g` (its "Go to" menu)
called /api/v1/lists. Now the menu lists the user's lists, one opens, and the TUI leaves cleanly."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import uuid

import pytest

from tests.api.test_api_clients import _toot
from tests.support.waiting import wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]


class Screen:
    """A tmux session running one command, read as the text on its screen."""

    def __init__(self, command: str) -> None:
        self.name = f"roost-{uuid.uuid4().hex[:8]}"
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", self.name, "-x", "120", "-y", "40", command],
            check=True,
        )

    def text(self) -> str:
        done = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        )
        return done.stdout

    def press(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def shows(self, *words: str, seconds: float = 15) -> str:
        return wait_until(
            lambda: (lambda t: t if all(w in t for w in words) else "")(self.text()),
            f"{words} on toot's screen",
            seconds=seconds,
            interval=0.1,
        )

    def alive(self) -> bool:
        return subprocess.run(["tmux", "has-session", "-t", self.name]).returncode == 0

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def test_toot_tui_goes_to_a_list_and_leaves(live_api, helpers, tmp_path):
    carol, dave = live_api.user("carol"), live_api.user("dave")
    live_api.client.post(f"/api/v1/accounts/{dave.id}/follow", headers=carol.headers)
    made = live_api.client.post(
        "/api/v1/lists", json={"title": "Birdwatchers"}, headers=carol.headers
    )
    list_id = made.json()["id"]
    live_api.client.post(
        f"/api/v1/lists/{list_id}/accounts", json={"account_ids": [dave.id]}, headers=carol.headers
    )
    live_api.status(dave, "spotted a kite")
    home = tmp_path / "home"
    login = ["login_cli", "--instance", live_api.server.url, "--email", "carol@example.com"]
    assert "Successfully logged in" in _toot(home, *login, "--password", helpers.password)
    environment = (
        f"HOME={shlex.quote(str(home))} XDG_CONFIG_HOME={shlex.quote(str(home / '.config'))}"
    )
    screen = Screen(f"{environment} {shlex.quote(sys.executable)} -m toot tui")
    try:
        screen.shows("press Enter to continue")  # toot 0.52 warns that its TUI is deprecated
        screen.press("Enter")
        screen.shows("spotted a kite", "[home]")
        screen.press("g")  # the "Go to" menu: it asks for the lists
        menu = screen.shows("Go to", "Birdwatchers")
        assert "Conversations" in menu
        screen.press(*["Down"] * 7, "Enter")  # past the seven timelines, onto the list
        opened = screen.shows("[\N{CLIPBOARD}Birdwatchers]")
        assert "spotted a kite" in opened and "Go to" not in opened
        screen.press("q")
        wait_until(lambda: not screen.alive(), "toot's TUI to leave", seconds=10, interval=0.1)
    finally:
        screen.close()
