"""One rule for where a redirect may go back to (the web's `next` and the challenge's)."""

from __future__ import annotations

import pytest

from roost.domain.paths import local_path


@pytest.mark.parametrize(
    "value", ["/home", "/@alice?x=1&y=%2F", "/tags/roost#top", "/settings/profile"]
)
def test_paths_on_this_site_are_kept(value: str) -> None:
    assert local_path(value, "/d") == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "home",
        "https://evil.example/",
        "//evil.example/",
        "/\t/evil.example/x",
        "/\r\n/evil.example",
        "/\\evil.example",
        "/ /x",
        "/\x00",
        "/" + "a" * 2000,
    ],
)
def test_anything_else_becomes_the_default(value) -> None:
    assert local_path(value, "/d") == "/d"
