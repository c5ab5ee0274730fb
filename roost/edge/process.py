"""Finding, checking and running HAProxy.

The edge runs in the foreground (``-db``) as a child of whoever started it (`roost up`,
`roost edge run`, the tests), so that stopping the parent stops the edge. Its configuration is
checked with ``haproxy -c`` before it starts: a bad configuration is a clear error, never an edge
that is half up.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from roost.edge.runtime import EdgeUnavailable, Runtime

INSTALL_HINT = "install it with `apt-get install haproxy` (Debian 12 ships 2.6), or run `make run`"


class EdgeError(Exception):
    """HAProxy is missing, refused its configuration, or did not come up."""


def find_haproxy(binary: str = "haproxy") -> str | None:
    """The HAProxy binary's path, or None (``/usr/sbin`` is searched too: not always on PATH)."""
    return shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/local/sbin")


def check(binary: str, config: Path) -> None:
    """``haproxy -c``: raises ``EdgeError`` with HAProxy's own words if the configuration is bad."""
    result = subprocess.run(
        [binary, "-c", "-q", "-f", str(config)], capture_output=True, text=True, timeout=30
    )
    if result.returncode != 0:
        words = (result.stderr or result.stdout).strip()
        raise EdgeError(f"haproxy refused {config}:\n{words}")


def start(binary: str, config: Path, log: Path | None = None) -> subprocess.Popen:
    """Start HAProxy in the foreground; its messages go to ``log`` (or are inherited)."""
    out = open(log, "ab") if log is not None else None  # noqa: SIM115 - handed to the child
    try:
        return subprocess.Popen([binary, "-f", str(config), "-db"], stdout=out, stderr=out)
    finally:
        if out is not None:
            out.close()


def wait_ready(
    process: subprocess.Popen, runtime: Runtime, address: tuple[str, int], timeout: float = 10.0
) -> None:
    """Until the runtime socket answers and the public address accepts connections."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EdgeError(f"haproxy exited with status {process.returncode} while starting")
        if _answers(runtime) and _accepts(address):
            return
        time.sleep(0.05)
    raise EdgeError(f"haproxy did not come up within {timeout:g} s")


def _answers(runtime: Runtime) -> bool:
    try:
        return "Name: HAProxy" in runtime.call_sync("show info")
    except EdgeUnavailable:
        return False


def _accepts(address: tuple[str, int]) -> bool:
    host, port = address
    try:
        with socket.create_connection((host.strip("[]"), port), timeout=0.5):
            return True
    except OSError:
        return False
