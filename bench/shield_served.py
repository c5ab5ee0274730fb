"""The shield's cost per request when served, hello-world with the shield on against off, A/B.

``bench/shield_ceilings.py`` runs each level once, one after the other; on a shared machine the
load moves between levels and its hello ratio swings by 0.1 from run to run. Here both servers
(the same testbed, ``--no-shield`` and not) stay up, and short wrk runs alternate between them
for several rounds; the median of the rounds' ratios is reported, with the shield's extra
microseconds per request (1/shielded - 1/bare, both measured in the same round).

Run: .venv/bin/python bench/shield_served.py [--rounds 7] [--seconds 2] [--connections 50]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile

from shield_ceilings import BASE, wrk

from roost.shield.testbed import ServerProcess


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"ROOST_SHIELD_MODE_FILE": f"{tmp}/mode", **BASE}
        bare = ServerProcess(f"{tmp}/bare.log", "--no-shield", **env).wait_ready()
        shielded = ServerProcess(f"{tmp}/shield.log", **env).wait_ready()
        try:
            for server in (bare, shielded):  # warm up
                wrk(server.url + "/hello", 1, args.connections)
            ratios, extras = [], []
            for _ in range(args.rounds):
                off = wrk(bare.url + "/hello", args.seconds, args.connections)["rps"]
                on = wrk(shielded.url + "/hello", args.seconds, args.connections)["rps"]
                ratios.append(on / off)
                extras.append(1e6 / on - 1e6 / off)
                print(f"off {off:>9.0f}  on {on:>9.0f}  ratio {on / off:.2f}")
        finally:
            bare.stop()
            shielded.stop()
    print(f"median ratio {statistics.median(ratios):.2f}, ", end="")
    print(f"shield extra {statistics.median(extras):.1f} us per request (median)")


if __name__ == "__main__":
    main()
