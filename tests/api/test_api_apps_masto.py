"""masto.js, the library Elk uses, driven for real by Node against a real `roost serve`
(tests/clients/masto/client.mjs): it logs in, follows a tag, makes a list, filters, votes in
a poll, and holds the user, hashtag, list and direct streams on one WebSocket while another
account posts. masto throws on any error answer and on any WebSocket frame carrying `error`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
CLIENT = Path(__file__).resolve().parents[1] / "clients" / "masto"


@pytest.fixture(scope="session")
def masto() -> Path:
    """The pinned masto package, installed once from the npm registry (package-lock.json)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("needs Node.js and npm")
    if not (CLIENT / "node_modules" / "masto").exists():
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=CLIENT, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-2000:]
    return CLIENT / "client.mjs"


def test_masto_js_uses_the_new_endpoints_and_four_streams_on_one_socket(live_api, helpers, masto):
    live_api.user("bob")
    alice = live_api.user("alice")
    command = [
        "node",
        str(masto),
        live_api.server.url,
        "bob",
        helpers.password,
        alice.token,
        "alice",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["me"] == "bob"
    assert seen["followed"] is True and seen["followedTags"] == ["birds"]
    assert seen["trends"] == 0 and seen["apiVersions"] == {"mastodon": 1}
    assert seen["listMembers"] == ["alice"]
    assert seen["filterKeywords"] == ["heron"]
    assert seen["poll"] == {"voted": True, "ownVotes": [1], "counts": [0, 1]}
    assert seen["streamed"] == {"user": True, "hashtag": True, "list": True, "direct": True}
    assert seen["homeFiltered"] == ["Herons"]
