"""Pure helpers of the pages: relative times and asset URLs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from roost.web.render import asset, exact_time, relative_time

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_relative_times_as_a_timeline_shows_them() -> None:
    cases = {
        timedelta(seconds=10): "now",
        timedelta(minutes=5): "5m",
        timedelta(hours=3, minutes=59): "3h",
        timedelta(days=2): "2d",
        timedelta(days=40): "19 Oct 2026",
    }
    for ago, shown in cases.items():
        assert relative_time((NOW - ago).isoformat(), now=NOW) == shown
    assert relative_time("2026-11-28T11:00:00.000Z", now=NOW) == "1h"
    assert relative_time("not a time") == "" and relative_time(None) == ""


def test_exact_time_for_the_hover_title() -> None:
    assert exact_time("2026-11-28T09:05:00.000Z") == "28 November 2026, 09:05 UTC"


def test_asset_urls_carry_a_content_hash() -> None:
    url = asset("roost.css")
    assert url.startswith("/static/roost.css?v=") and len(url.split("=")[1]) == 12
