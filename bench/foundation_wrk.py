"""wrk (Debian's) driven from Python: pinned to the load CPU, output parsed into figures."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
# Each POST carries a distinct text, so the server cannot fold them into one.
POST_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, "status=bench+post+number+" .. counter)
end
"""

# A distinct URL per request: misses any per-URL response cache, so the full read path runs.
UNIQUE_SCRIPT = """
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, wrk.path .. "?limit=20&bench=" .. counter)
end
"""


def ensure_wrk() -> None:
    if shutil.which("wrk") is None:
        subprocess.run([str(ROOT / "scripts" / "system-deps")], check=False)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk (or run scripts/system-deps)")


class Wrk:
    def __init__(self, cpu: str, seconds: float, connections: int, work: Path) -> None:
        self.cpu = cpu
        self.seconds = seconds
        self.connections = connections
        self.post_script = work / "post.lua"
        self.post_script.write_text(POST_SCRIPT)
        self.unique_script = work / "unique.lua"
        self.unique_script.write_text(UNIQUE_SCRIPT)

    def get(self, url: str, token: str | None = None, warm: bool = False) -> dict:
        return self._run(url, token, None, warm)

    def get_uncached(self, url: str, token: str | None = None) -> dict:
        return self._run(url, token, self.unique_script, False)

    def post(self, url: str, token: str) -> dict:
        return self._run(url, token, self.post_script, False)

    def _run(self, url: str, token: str | None, script: Path | None, warm: bool) -> dict:
        seconds = 1 if warm else max(1, round(self.seconds))
        command = [
            "taskset",
            "-c",
            self.cpu,
            "wrk",
            "-t1",
            f"-c{self.connections}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "10s",
        ]
        if token:
            command += ["-H", f"Authorization: Bearer {token}"]
        if script:
            command += ["-s", str(script)]
        done = subprocess.run([*command, url], capture_output=True, text=True, check=True)
        return parse(done.stdout)


def parse(output: str) -> dict:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    figures = {"rps": rps, "non2xx": 0, "socket_errors": 0}
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if bad:
        figures["non2xx"] = int(bad.group(1))
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if errors:
        figures["socket_errors"] = sum(int(n) for n in errors.groups())
    for pct in ("50", "90", "99"):
        found = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
        if found:
            figures[f"p{pct}_ms"] = float(found.group(1)) * UNITS[found.group(2)]
    return figures
