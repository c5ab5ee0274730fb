"""The Link header keeps the caller's query as ``urlencode`` would write it, cursors replaced:
plain queries take a shortcut (split, not parsed), and it must answer exactly as the long way."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from starlette.requests import Request

from roost.api.http import link_header

CURSORS = ("max_id", "min_id", "since_id")


def _request(query: bytes) -> Request:
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "https",
        "server": ("roost.test", 443),
        "root_path": "",
        "path": "/api/v1/timelines/home",
        "query_string": query,
        "headers": [(b"host", b"roost.test")],
    }
    return Request(scope)


def _the_long_way(request: Request, ids: list[int]) -> str:
    base = str(request.url).partition("?")[0]
    keep = {k: v for k, v in request.query_params.multi_items() if k not in CURSORS}
    older = urlencode([*keep.items(), ("max_id", str(ids[-1]))])
    newer = urlencode([*keep.items(), ("min_id", str(ids[0]))])
    return f'<{base}?{older}>; rel="next", <{base}?{newer}>; rel="prev"'


@pytest.mark.parametrize(
    "query",
    [
        b"",
        b"limit=5",
        b"limit=5&max_id=3&local=true",
        b"max_id=4&limit=2&since_id=1&min_id=0",
        b"_=w123&limit=40",
        b"x=~y&z=-._",
        b"limit=",
        b"limit",  # no "=": urlencode writes "limit="
        b"a=1&a=2",  # a name twice: the last value, in the first place
        b"a=1&&b=2",
        b"a=%20b&c=d+e",  # escapes are written again as urlencode writes them
        b"q=caf\xc3\xa9",
        b"t=%E2%9C%93&limit=3",
        b"tag[]=a&tag[]=b",
    ],
)
def test_the_link_header_writes_the_query_as_urlencode_would(query: bytes):
    request = _request(query)
    assert link_header(request, [9, 3]) == {"Link": _the_long_way(request, [9, 3])}
    assert "max_id=3>" in link_header(request, [9, 3])["Link"]


def test_no_ids_no_link():
    assert link_header(_request(b"limit=5"), []) == {}
