"""What five Mastodon apps ask of a server from login until their home screen is shown, read
from each app's own source (the commit read is named per client), for
tests/api/test_api_client_startups.py to replay against Roost: one module per app, the
shape language and entities in ``shapes``, a call and its checks in ``calls``.

Each replay is the app's calls in the order it makes them: method, path, query as the app
encodes it, body, and the shape of the answer the app reads (the keys it decodes, with their
types; a Swift or Kotlin model fails on a missing non-optional field, a JavaScript app on
reading a key of `undefined`). Every call names the file it came from. `{...}` in a path or
query is filled from what the test seeded (`alice_id`, `list_id`, ...).

A call Roost does not answer as the app needs carries `gap`: the test then expects it to fail
(strict xfail), so the gap stays written down until Roost closes it.
"""

from __future__ import annotations

from tests.api.startups.calls import Call
from tests.api.startups.elk import ELK
from tests.api.startups.icecubes import ICE_CUBES
from tests.api.startups.phanpy import PHANPY
from tests.api.startups.shapes import problems
from tests.api.startups.toot import TOOT
from tests.api.startups.tusky import TUSKY

REPLAYS = [ELK, PHANPY, ICE_CUBES, TUSKY, TOOT]
__all__ = ["REPLAYS", "Call", "problems"]
