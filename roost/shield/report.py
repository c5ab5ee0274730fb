"""How the site tells the shield about misbehaviour it alone can see.

The layer puts a ``ShieldRef`` in ``scope["state"]["shield"]`` for every HTTP and websocket
request. The app calls::

    from roost.shield.report import report
    report(request.scope, "failed_login")  # or "not_found", "client_error", "bad_pass", ...

Events are the keys of ``reputation.WEIGHTS``. Unknown events and scopes without a shield (the
shield disabled, a test client) are ignored: reporting must never break a request.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

from roost.shield.reputation import WEIGHTS


class ShieldRef(NamedTuple):
    shield: Any  # roost.shield.layer.Shield (Any: avoids an import cycle)
    ip: str
    prefix: str
    account: str


def report(scope: dict[str, Any], event: str) -> None:
    ref = (scope.get("state") or {}).get("shield")
    if not isinstance(ref, ShieldRef) or event not in WEIGHTS:
        return
    ref.shield.note(ref, event, time.monotonic())
