"""One visibility rule, checked against a reference model (issue 12).

Hypothesis drives random people through follows, blocks, mutes, posts of every visibility with
random mentions, edits that change who is mentioned, reposts and deletions; after each step
every reader's every read path is compared with a small model of who may see what: through the
API (a status, its context, the home, public, tag and account timelines, notifications, search)
and through the web pages a signed-in browser reads (home, public, tag, notifications, search,
profiles, threads). Nothing anyone may not see ever comes back, and a status (API) or thread
(web) is found exactly when the model says it is visible. (Streams are covered by
tests/api/test_api_streaming.py.)
"""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

pytestmark = pytest.mark.slow

PEOPLE = 4
PASSWORD = "correct horse battery staple"  # the one tests/api/conftest.py signs people up with
VISIBILITIES = ("public", "unlisted", "private", "direct")
_runs = itertools.count()


class Model:
    """Who may see what, written from Mastodon's rules, not from Roost's code."""

    def __init__(self) -> None:
        self.follows: set[tuple[int, int]] = set()
        self.blocks: set[tuple[int, int]] = set()
        self.posts: dict[str, dict] = {}  # status id -> author, visibility, mentions, reblog_of

    def sees(self, viewer: int, status_id: str) -> bool:
        post = self.posts[status_id]
        author = post["author"]
        if viewer != author and (
            (viewer, author) in self.blocks or (author, viewer) in self.blocks
        ):
            return False
        if post["reblog_of"] is not None and not self.sees(viewer, post["reblog_of"]):
            return False
        if viewer == author or post["visibility"] in ("public", "unlisted"):
            return True
        if viewer in post["mentions"]:
            return True
        return post["visibility"] == "private" and (viewer, author) in self.follows


class Visibility(RuleBasedStateMachine):
    api = None  # set by the test

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        self.people: list = []
        self.words: dict[str, str] = {}  # unique word -> status id (the post's current text)
        self.counter = itertools.count()

    @initialize()
    def sign_up(self) -> None:
        run = next(_runs)
        self.people = [self.api.user(f"p{run}n{i}") for i in range(PEOPLE)]
        self.cookies = [self._web_session(p.username) for p in self.people]
        # each post's unique word, to find leaks in any text (earlier runs' posts stay public)
        self.stem = f"r{run}w"
        self.word_pattern = re.compile(rf"\b{self.stem}\d+x\b")

    def _web_session(self, username: str) -> str:
        """Sign in through the web form; the browser's cookie, sent by hand on each page."""
        client = self.api.client
        client.cookies.clear()
        form = client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]*)"', form.text).group(1)
        data = {"csrf": csrf, "username": username, "password": PASSWORD}
        answer = client.post("/login", data=data, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        cookie = client.cookies["roost_session"]
        client.cookies.clear()
        return f"roost_session={cookie}"

    def _page(self, path: str, index: int):
        headers = {"Cookie": self.cookies[index]}
        answer = self.api.client.get(path, headers=headers, follow_redirects=False)
        assert answer.status_code < 500, (path, answer.text)
        return answer

    def _who(self, index: int):
        return self.people[index]

    def _call(self, method: str, path: str, person, **body):
        answer = self.api.client.request(method, path, headers=person.headers, json=body or None)
        assert answer.status_code < 500, (method, path, answer.text)
        return answer

    def _text(self, mentions: list[int]) -> tuple[str, str]:
        word = f"{self.stem}{next(self.counter)}x"
        names = " ".join(f"@{self.people[m].username}" for m in sorted(set(mentions)))
        return word, f"{names} {word} #{self.stem}".strip()

    people_index = st.integers(0, PEOPLE - 1)

    @rule(a=people_index, b=people_index)
    def follow(self, a: int, b: int) -> None:
        if a == b:
            return
        answer = self._call("POST", f"/api/v1/accounts/{self._who(b).id}/follow", self._who(a))
        if answer.status_code == 200 and not self._blocked_pair(a, b):
            self.model.follows.add((a, b))

    @rule(a=people_index, b=people_index)
    def unfollow(self, a: int, b: int) -> None:
        if a != b:
            self._call("POST", f"/api/v1/accounts/{self._who(b).id}/unfollow", self._who(a))
            self.model.follows.discard((a, b))

    @rule(a=people_index, b=people_index, on=st.booleans())
    def block(self, a: int, b: int, on: bool) -> None:
        if a == b:
            return
        verb = "block" if on else "unblock"
        self._call("POST", f"/api/v1/accounts/{self._who(b).id}/{verb}", self._who(a))
        if on:
            self.model.blocks.add((a, b))
            self.model.follows -= {(a, b), (b, a)}
        else:
            self.model.blocks.discard((a, b))

    @rule(a=people_index, b=people_index, on=st.booleans())
    def mute(self, a: int, b: int, on: bool) -> None:  # hides from lists, never reveals
        if a != b:
            verb = "mute" if on else "unmute"
            self._call("POST", f"/api/v1/accounts/{self._who(b).id}/{verb}", self._who(a))

    def _blocked_pair(self, a: int, b: int) -> bool:
        return (a, b) in self.model.blocks or (b, a) in self.model.blocks

    @rule(
        author=people_index,
        visibility=st.sampled_from(VISIBILITIES),
        mentions=st.lists(people_index, max_size=3),
    )
    def post(self, author: int, visibility: str, mentions: list[int]) -> None:
        word, text = self._text(mentions)
        answer = self._call(
            "POST", "/api/v1/statuses", self._who(author), status=text, visibility=visibility
        )
        assert answer.status_code == 200, answer.text
        status_id = answer.json()["id"]
        self.words[word] = status_id
        self.model.posts[status_id] = {
            "author": author,
            "visibility": visibility,
            "mentions": self._mentioned(author, mentions),
            "reblog_of": None,
        }

    def _mentioned(self, author: int, mentions: list[int]) -> set[int]:
        # a mention reaches people the author has not blocked and who have not blocked them
        return {m for m in mentions if m != author}

    def _originals(self) -> list[str]:
        return sorted(s for s, p in self.model.posts.items() if p["reblog_of"] is None)

    @precondition(lambda self: self._originals())
    @rule(data=st.data(), mentions=st.lists(people_index, max_size=3))
    def edit(self, data, mentions: list[int]) -> None:
        status_id = data.draw(st.sampled_from(self._originals()))
        post = self.model.posts[status_id]
        word, text = self._text(mentions)
        author = self._who(post["author"])
        answer = self._call("PUT", f"/api/v1/statuses/{status_id}", author, status=text)
        assert answer.status_code == 200, answer.text
        self.words = {w: s for w, s in self.words.items() if s != status_id}
        self.words[word] = status_id
        post["mentions"] = self._mentioned(post["author"], mentions)

    @precondition(lambda self: self._originals())
    @rule(data=st.data(), who=people_index)
    def repost(self, data, who: int) -> None:
        original = data.draw(st.sampled_from(self._originals()))
        post = self.model.posts[original]
        answer = self._call("POST", f"/api/v1/statuses/{original}/reblog", self._who(who))
        allowed = self.model.sees(who, original) and (
            post["visibility"] in ("public", "unlisted") or post["author"] == who
        )
        assert (answer.status_code == 200) == allowed, (answer.status_code, post, who)
        if answer.status_code == 200:
            reblog = answer.json()
            if reblog["id"] not in self.model.posts:
                vis = (
                    post["visibility"] if post["visibility"] in ("private", "direct") else "public"
                )
                self.model.posts[reblog["id"]] = {
                    "author": who,
                    "visibility": vis,
                    "mentions": set(),
                    "reblog_of": original,
                }

    @precondition(lambda self: self._originals())
    @rule(data=st.data())
    def delete(self, data) -> None:
        status_id = data.draw(st.sampled_from(self._originals()))
        author = self._who(self.model.posts[status_id]["author"])
        answer = self._call("DELETE", f"/api/v1/statuses/{status_id}", author)
        assert answer.status_code == 200, answer.text
        gone = {status_id} | {s for s, p in self.model.posts.items() if p["reblog_of"] == status_id}
        for s in gone:
            del self.model.posts[s]
        self.words = {w: s for w, s in self.words.items() if s not in gone}

    @invariant()
    def every_read_path_agrees_with_the_model(self) -> None:
        if not self.people:
            return
        self.api.drain()
        for index, person in enumerate(self.people):
            for status_id in self.model.posts:
                shown = self._call("GET", f"/api/v1/statuses/{status_id}", person)
                expected = self.model.sees(index, status_id)
                assert (shown.status_code == 200) == expected, (index, status_id, shown.text)
            paths = [
                "/api/v1/timelines/home?limit=40",
                "/api/v1/timelines/public?limit=40",
                "/api/v1/notifications?limit=40",
                f"/api/v1/timelines/tag/{self.stem}?limit=40",
                f"/api/v2/search?q={self.stem}&type=statuses",
                *(f"/api/v1/accounts/{p.id}/statuses?limit=40" for p in self.people),
                *(f"/api/v1/statuses/{s}/context" for s in list(self.model.posts)[-3:]),
            ]
            for path in paths:
                answer = self._call("GET", path, person)
                if answer.status_code == 200:
                    self._no_leak(index, path, answer.text)
            self._web_pages_agree(index)

    def _web_pages_agree(self, index: int) -> None:
        for status_id, post in self.model.posts.items():
            if post["reblog_of"] is None:
                author = self.people[post["author"]].username
                page = self._page(f"/@{author}/{status_id}", index)
                expected = self.model.sees(index, status_id)
                assert (page.status_code == 200) == expected, (index, status_id, page.status_code)
                if page.status_code == 200:
                    self._no_leak(index, f"/@{author}/{status_id}", page.text)
        pages = [
            "/home",
            "/public",
            f"/tags/{self.stem}",
            "/notifications",
            f"/search?q={self.stem}",
            *(f"/@{p.username}" for p in self.people),
        ]
        for path in pages:
            page = self._page(path, index)
            # a tag nobody has used yet is a 404 page
            assert page.status_code == 200 or path.startswith("/tags/"), (path, page.status_code)
            self._no_leak(index, path, page.text)

    def _no_leak(self, index: int, path: str, text: str) -> None:
        for word in self.word_pattern.findall(text):
            status_id = self.words.get(word)
            assert status_id is not None, (path, word, "an old or deleted post's text")
            assert self.model.sees(index, status_id), (index, path, status_id)


def test_every_read_path_obeys_one_visibility_rule(sqlite_api) -> None:
    Visibility.api = sqlite_api
    run_state_machine_as_test(
        Visibility,
        settings=settings(
            max_examples=8,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
