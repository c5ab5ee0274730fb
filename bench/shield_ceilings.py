"""Each refusal level's ceiling on this machine, against the same server's hello-world rate.

Levels (issue 7 items 1 and 12), all with wrk from loopback, keep-alive, one server process:
  hello        hello-world through Roost's protocol, no shield (the yardstick)
  hello+shield hello-world with the shield on and no attack (the shield's overhead, worst case)
  page         a page costing 2 ms of CPU + a 2 ms await, no shield
  page+shield  the same page with the shield on and no attack (overhead on realistic work)
  asgi-reject  a penalised source refused by the ASGI layer (uvicorn's own protocol)
  proto-reject a penalised source refused by Roost's protocol before ASGI (target >= 2x hello)
  accept-close a blocked source closed at accept (wrk counts each closed connection as an error)

Run: .venv/bin/python bench/shield_ceilings.py [--seconds 5] [--connections 50]
The machine is shared: run it twice and read the spread as the noise.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
import time

import httpx

from roost.shield.testbed import ServerProcess

# wrk comes from one address: lift the per-address caps so that only the level under test acts.
BASE = {
    "ROOST_SHIELD_IP_RATE": "1000000",
    "ROOST_SHIELD_IP_BURST": "1000000",
    "ROOST_SHIELD_PREFIX_RATE": "1000000",
    "ROOST_SHIELD_PREFIX_BURST": "1000000",
    "ROOST_SHIELD_GLOBAL_RATE": "1000000",
    "ROOST_SHIELD_GLOBAL_BURST": "1000000",
    "ROOST_SHIELD_MAX_CONNECTIONS_PER_IP": "100000",
    # keep loopback out of the admin networks so that it can be penalised and blocked
    "ROOST_SHIELD_ADMIN_NETWORKS": "127.0.0.254/32",
}
# A penalised source: one request a second; never escalated to a block (block_seconds 0).
FLOOD = {**BASE, "ROOST_SHIELD_IP_RATE": "1", "ROOST_SHIELD_IP_BURST": "1"}
PENALISED = {**FLOOD, "ROOST_SHIELD_BLOCK_SECONDS": "0"}


def wrk(url: str, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": rps,
        "non2xx": float(non2xx.group(1)) if non2xx else 0.0,
        "errors_per_s": sum(map(int, errors.groups())) / seconds if errors else 0.0,
    }


def level(
    args: argparse.Namespace,
    name: str,
    server_args: list[str],
    env: dict,
    warm: bool,
    path: str = "/hello",
) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = {"ROOST_SHIELD_MODE_FILE": f"{tmp}/mode", **env}
        server = ServerProcess(f"{tmp}/server.log", *server_args, **env).wait_ready()
        try:
            if warm:  # get loopback penalised (or blocked) before measuring
                wrk(server.url + "/hello", 2, args.connections)
            if name == "accept-close":
                block(server)
            result = wrk(server.url + path, args.seconds, args.connections)
        finally:
            server.stop()
    result["name"] = name
    return result


def block(server: ServerProcess) -> None:
    """Block 127.0.0.1 through the admin endpoint, asking from 127.0.0.254 (an admin address)."""
    transport = httpx.HTTPTransport(local_address="127.0.0.254")
    with httpx.Client(transport=transport) as client:
        client.post(server.url + "/-/shield/block", data={"key": "127.0.0.1", "seconds": "600"})
    time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    rows = [
        level(args, "hello", ["--no-shield"], BASE, warm=False),
        level(args, "hello+shield", [], BASE, warm=False),
        level(args, "page", ["--no-shield", "--cost-ms", "2"], BASE, warm=False, path="/page"),
        level(args, "page+shield", ["--cost-ms", "2"], BASE, warm=False, path="/page"),
        level(args, "asgi-reject", ["--plain-uvicorn"], PENALISED, warm=True),
        level(args, "proto-reject", [], PENALISED, warm=True),
        level(args, "accept-close", [], FLOOD, warm=False),
    ]
    hello = rows[0]["rps"]
    print(f"{'level':<14}{'req/s':>10}{'non-2xx':>10}{'closed conn/s':>15}{'x hello':>9}")
    for row in rows:
        rate = row["rps"] if row["name"] != "accept-close" else row["errors_per_s"]
        print(
            f"{row['name']:<14}{row['rps']:>10.0f}{row['non2xx']:>10.0f}"
            f"{row['errors_per_s']:>15.0f}{rate / hello:>9.2f}"
        )


if __name__ == "__main__":
    main()
