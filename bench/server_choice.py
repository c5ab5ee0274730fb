"""Which ASGI server runs Roost: uvicorn (uvloop + httptools) or granian, by numbers.

Serves the same hello-world JSON ASGI app under each server pinned to core 0, loads it with
wrk pinned to core 1, alternating servers so that machine noise falls on both. Prints
requests/s and the ratio. Run: .venv/bin/python bench/server_choice.py
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.executable).parent
APP = "bench.hello_app:app"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(kind: str, port: int) -> subprocess.Popen:
    if kind == "uvicorn":
        cmd = [
            str(VENV / "uvicorn"),
            APP,
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--log-level",
            "warning",
            "--no-access-log",
        ]
    else:
        cmd = [
            str(VENV / "granian"),
            "--interface",
            "asgi",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--workers",
            "1",
            "--log-level",
            "warning",
            APP,
        ]
    process = subprocess.Popen(
        ["taskset", "-c", "0", *cmd], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{kind} did not start")


def load(port: int, seconds: int) -> float:
    out = subprocess.run(
        ["taskset", "-c", "1", "wrk", "-t1", "-c64", f"-d{seconds}s", f"http://127.0.0.1:{port}/"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main(rounds: int = 2, seconds: int = 5) -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: scripts/system-deps installs it")
    results: dict[str, list[float]] = {"uvicorn": [], "granian": []}
    for _ in range(rounds):
        for kind in results:
            port = free_port()
            server = start(kind, port)
            try:
                load(port, 1)  # warm up
                results[kind].append(load(port, seconds))
            finally:
                server.terminate()
                server.wait(10)
    best = {k: max(v) for k, v in results.items()}
    for kind, rates in results.items():
        print(f"{kind:8} best {best[kind]:9.0f} req/s   runs {[round(r) for r in rates]}")
    print(f"granian / uvicorn = {best['granian'] / best['uvicorn']:.2f}")


if __name__ == "__main__":
    main()
