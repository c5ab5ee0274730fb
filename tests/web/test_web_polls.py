"""A post's poll on the web pages: its options and, once they may be seen, its counts as bars;
a signed-in reader votes with a plain form (no script), once."""

from __future__ import annotations

import re

from roost.domain.polls import Draft
from roost.services import accounts, posts


async def _poll_by(web, username: str, hide_totals: bool = False) -> int:
    ctx = web.site.state.ctx
    async with ctx.db.read() as conn:
        author = await accounts.by_username(conn, username)
    draft = Draft(("Tea", "Coffee"), 300, False, hide_totals)
    async with ctx.db.write() as tx:
        status_id = await posts.create(ctx, tx, author, "Which one?", poll=draft)
    await web.settle()
    return status_id


async def test_a_reader_votes_with_the_form_and_sees_the_bars(web, client) -> None:
    await web.sign_up(client, "alice")
    poll_id = await _poll_by(web, "alice")
    page = f"/@alice/{poll_id}"
    async with web.visitor() as bob:
        await web.sign_up(bob, "bob")
        before = (await bob.get(page)).text
        assert f'action="/posts/{poll_id}/vote"' in before
        assert 'type="radio" name="choices" value="1"' in before and "Ends in" in before
        token = web.csrf_of(before)
        voted = await bob.post(
            f"/posts/{poll_id}/vote", data={"csrf": token, "next": page, "choices": "1"}
        )
        assert voted.status_code == 303 and voted.headers["location"] == page
        after = (await bob.get(page)).text
        assert "Your vote was counted." in after
        assert f'action="/posts/{poll_id}/vote"' not in after  # one vote each
        assert re.search(
            r'Coffee <span aria-label="your choice">✓</span></span>\s*<span class="pct">100%', after
        )
        assert "1 vote ·" in after
        again = await bob.post(
            f"/posts/{poll_id}/vote", data={"csrf": token, "next": page, "choices": "0"}
        )
        assert again.status_code == 400 and "already voted" in again.text
        forged = await bob.post(f"/posts/{poll_id}/vote", data={"choices": "0"})
        assert forged.status_code == 403
    async with web.visitor() as stranger:  # signed out: the poll, and no form
        seen = (await stranger.get(page)).text
    assert "Coffee" in seen and f'action="/posts/{poll_id}/vote"' not in seen


async def test_hidden_totals_show_no_bars_until_the_end(web, client) -> None:
    await web.sign_up(client, "alice")
    poll_id = await _poll_by(web, "alice", hide_totals=True)
    async with web.visitor() as bob:
        await web.sign_up(bob, "bob")
        token = await web.token(bob)
        await bob.post(f"/posts/{poll_id}/vote", data={"csrf": token, "choices": "0"})
        seen = (await bob.get(f"/@alice/{poll_id}")).text
        assert "<meter" not in seen and "1 vote ·" in seen
    assert "<meter" in (await client.get(f"/@alice/{poll_id}")).text  # the author sees them
