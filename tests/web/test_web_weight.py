"""Page weight (issue 6: a page weighs <= 100 KB on first load): full pages of the heaviest posts
the rules allow, logged in and out, with their CSS and JS; and paging on from a page that was cut
short by its weight loses no post and shows none twice."""

from __future__ import annotations

import re

from roost.domain.text import count

WEIGHT_LIMIT = 100_000  # bytes: the HTML of a page plus its CSS, JS and icon
POSTS = 40  # more than a page of every list (timelines 20, notifications 30)
REPLIES = 20  # replies to the first post; each later post answers the one before it, so the
# last post has 20 heavy ancestors and the first a thread of 39 heavy replies
ASSET = re.compile(r'(?:href|src)="(/static/[^"]+\?v=\w+)"')
OLDER = re.compile(r'<a href="([^"]+)" rel="next">')
EARLIER = re.compile(r'<a href="([^"]+)">↑ Earlier in the conversation</a>')
IDS = re.compile(r'<article class="status[^"]*" id="post-(\d+)"')


def heavy_post(n: int) -> str:
    """A post at the length limit that is nearly all links, mentions and short hashtags: the
    most markup per counted character (long links count 23 whatever their length)."""
    link = f"https://example.com/{n}/" + "path/" * 30 + "end"
    words = [link, link + "x", f"heavy{n} words"]
    tags = ["@bob", "@al", "#a", "#b", "#c", "#d", "#e", "#zz"]
    while True:
        grown = [*words, tags[len(words) % len(tags)]]
        if count(" ".join(grown)) > 500:
            return " ".join(words)
        words = grown


async def weight(client, response) -> int:
    """Bytes of the page plus the assets it links (none cached: a first visit)."""
    assert response.status_code == 200, response.text[:300]
    total = len(response.content)
    for url in set(ASSET.findall(response.text)):
        total += len((await client.get(url)).content)
    return total


async def walk(client, path: str) -> tuple[list[str], list[int]]:
    """Follow "Older →" from ``path`` to the end: post ids in order, and each page's weight."""
    seen: list[str] = []
    weights: list[int] = []
    while path:
        page = await client.get(path)
        weights.append(await weight(client, page))
        body = page.text.split('<section aria-labelledby="people-h"')[-1]  # search: posts only
        seen += IDS.findall(body)
        found = OLDER.search(page.text)
        path = found.group(1).replace("&amp;", "&") if found else ""
        assert len(weights) < 40, "paging never ends"
    return seen, weights


async def climb(client, path: str, chain: list[str]) -> None:
    """From the end of a long chain, "Earlier in the conversation" leads up to its start."""
    seen: set[str] = set()
    pages = 0
    while path:
        page = await client.get(path)
        assert await weight(client, page) <= WEIGHT_LIMIT, path
        above = page.text.split('aria-label="Earlier in the conversation">')[1:]
        shown = IDS.findall(above[0].split("</section>")[0]) if above else []
        at = chain.index(path.rsplit("/", 1)[1])
        assert shown == chain[at - len(shown) : at], "the nearest ancestors, oldest first"
        seen.update(shown)
        found = EARLIER.search(page.text)
        path = found.group(1) if found else ""
        pages += 1
    assert pages > 1, "20 heavy ancestors on one page?"
    assert seen == set(chain[:-1])


async def test_full_pages_of_heavy_posts_stay_light_and_page_on_without_loss(web, client) -> None:
    async with web.visitor() as bob, web.visitor() as al, web.visitor() as visitor:
        await web.sign_up(al, "al", display_name="&" * 30)
        await web.sign_up(bob, "bob")
        await web.sign_up(client, "alice", display_name="<" * 30)
        token = await web.token(client)
        await bob.post("/@alice/follow", data={"csrf": await web.token(bob)})
        ids: list[str] = []
        for n in range(POSTS):
            data = {"csrf": token, "text": heavy_post(n), "spoiler_text": "&" * 20}
            if n:
                data["in_reply_to_id"] = ids[0] if n <= REPLIES else ids[-1]
            answer = await client.post("/compose", data=data)
            assert answer.status_code == 303, answer.text[:500]
            ids.append(answer.headers["location"].split("#")[0].rsplit("/", 1)[1])
        await web.settle()
        newest_first = ids[::-1]
        lists = {
            "/home": (bob, newest_first),
            "/public": (visitor, newest_first),
            "/@alice": (visitor, newest_first),
            "/tags/zz": (bob, newest_first),
            "/search?q=words": (bob, newest_first),
            "/notifications": (bob, newest_first),
            f"/@alice/{ids[0]}": (bob, ids),  # the post, then its replies in reading order
        }
        for path, (who, expected) in lists.items():
            seen, weights = await walk(who, path)
            assert max(weights) <= WEIGHT_LIMIT, (path, weights)
            assert len(weights) > 1, (path, "never cut")
            if path.startswith("/@alice/"):
                seen = list(dict.fromkeys(seen))  # the post itself heads every page of replies
            assert seen == expected, path
        await climb(visitor, f"/@alice/{ids[-1]}", [ids[0], *ids[REPLIES:]])
        public = await visitor.get("/public")
        assert public.text.count('class="status') < 20, "the page was cut by its weight"
