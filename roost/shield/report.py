"""How the site tells the shield about misbehaviour it alone can see.

The layer puts its ``Reporter`` in ``scope["state"]["shield"]`` for every HTTP and websocket
request: one per shield, not one per request, since almost no request reports anything. The
app calls::

    from roost.shield.report import report
    report(request.scope, "failed_login")  # or "not_found", "client_error", "bad_pass", ...

Who is reported is worked out only then, from the scope: the address the layer settled in it, and
the account its credentials name (as the layer judged them). Events are the keys of
``reputation.WEIGHTS``. Unknown events and scopes without a shield (the shield disabled, a test
client) are ignored: reporting must never break a request.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from roost.shield.network import prefix_of
from roost.shield.reputation import WEIGHTS

if TYPE_CHECKING:
    from roost.shield.identity import Identifier
    from roost.shield.standing import Standing


class Reporter:
    """Turns an app's report about a scope into reputation."""

    def __init__(self, standing: Standing, identify: Identifier) -> None:
        self.standing, self.identify = standing, identify

    def __call__(self, scope: dict[str, Any], event: str) -> None:
        ip = scope["client"][0]  # settled by the layer before the app saw the scope
        account_id = self.identify(scope["headers"]).account_id
        account = str(account_id) if account_id else ""
        self.standing.note(ip, prefix_of(ip), account, event, time.monotonic())


def report(scope: dict[str, Any], event: str) -> None:
    reporter = (scope.get("state") or {}).get("shield")
    if isinstance(reporter, Reporter) and event in WEIGHTS:
        reporter(scope, event)
