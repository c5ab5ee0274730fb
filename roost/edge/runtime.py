"""HAProxy's runtime API (the ``stats socket``): change a running edge, read its counters.

Each call opens the UNIX socket, sends one line (several commands may be joined with ``;``),
reads the answer to the end and closes: the API's non-interactive mode, so no state is kept
between calls and a restarted edge is simply reached again. Answers are text; the helpers here
parse the two that the shield reads: ``show stat`` (CSV) and ``show table``.

Failure policy: every call has a timeout; a missing or unresponsive socket raises
``EdgeUnavailable``, and the caller decides (the shield logs it and retries next second).
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import socket
from pathlib import Path

MAX_ANSWER = 8 * 1024 * 1024  # a `show table` of a flood stays well below this
_ENTRY = re.compile(r"key=(\S+)(.*)")
_FIELD = re.compile(r"(\w+)(?:\(\d+\))?=(\S+)")


class EdgeUnavailable(Exception):
    """The runtime socket could not be reached or did not answer in time."""


class Runtime:
    def __init__(self, socket_path: str | Path, timeout: float = 1.0) -> None:
        self.path = str(socket_path)
        self.timeout = timeout

    async def call(self, command: str, limit: int = MAX_ANSWER) -> str:
        """Send ``command`` (one line) and return the answer (its first ``limit`` bytes; the last
        line may then be cut short)."""
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_unix_connection(self.path)
                try:
                    writer.write(command.encode() + b"\n")
                    await writer.drain()
                    answer = await reader.read(limit)
                    while answer and not reader.at_eof() and len(answer) < limit:
                        answer += await reader.read(limit - len(answer))
                finally:
                    writer.close()
        except (OSError, TimeoutError) as exc:
            raise EdgeUnavailable(f"{self.path}: {exc or type(exc).__name__}") from None
        return answer.decode("utf-8", "replace")

    def call_sync(self, command: str) -> str:
        """The same, blocking (the command line and tests)."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout)
                sock.connect(self.path)
                sock.sendall(command.encode() + b"\n")
                chunks = []
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
        except OSError as exc:
            raise EdgeUnavailable(f"{self.path}: {exc}") from None
        return b"".join(chunks).decode("utf-8", "replace")


def batch(commands: list[str], size: int = 200) -> list[str]:
    """Commands joined into lines of ``size`` (the API runs ``a; b; c`` in order)."""
    return ["; ".join(commands[i : i + size]) for i in range(0, len(commands), size)]


def parse_stat(text: str) -> dict[tuple[str, str], dict[str, str]]:
    """``show stat`` CSV as {(proxy, FRONTEND|BACKEND|server): {column: value}}."""
    text = text.lstrip("# ")
    rows = csv.DictReader(io.StringIO(text))
    return {(row["pxname"], row["svname"]): row for row in rows if row.get("pxname")}


def parse_table(text: str) -> dict[str, dict[str, int]]:
    """``show table NAME`` as {key: {data type: value}}; IPv4 keys of ipv6 tables unmapped."""
    entries: dict[str, dict[str, int]] = {}
    if not text.endswith("\n"):
        text = text.rpartition("\n")[0]  # an answer cut at a limit: drop the partial line
    for line in text.splitlines():
        match = _ENTRY.search(line)
        if match is None:
            continue
        key = match.group(1)
        if key.startswith("::ffff:") and "." in key:
            key = key[7:]
        values = {}
        for name, value in _FIELD.findall(match.group(2)):
            if value.lstrip("-").isdigit():
                values[name] = int(value)
        entries[key] = values
    return entries


def number(row: dict[str, str], column: str) -> int:
    value = row.get(column) or "0"
    return int(value) if value.isdigit() else 0
