"""Memory and time of the shield's rate tables with 1,000,000 distinct client addresses.

Target (issue 7): <= 256 MB for a million addresses, O(1) per check.
Run: .venv/bin/python bench/shield_table.py [--addresses 1000000]
"""

from __future__ import annotations

import argparse
import resource
import time

from roost.config import ShieldSettings
from roost.shield.endpoints import Endpoint
from roost.shield.limiter import LocalLimiter, Subject, plan
from roost.shield.network import prefix_of


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def address(i: int) -> str:
    return f"{10 + (i >> 24) % 200}.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--addresses", type=int, default=1_000_000)
    args = parser.parse_args()
    settings = ShieldSettings()
    before = rss_mb()
    limiter = LocalLimiter(settings.table_slots)
    built = rss_mb()
    started = time.perf_counter()
    for i in range(args.addresses):
        ip = address(i)
        subject = Subject(ip, prefix_of(ip), 3, "", "")
        limiter.check(plan(settings, subject, Endpoint.READ, False), 1000.0 + i * 1e-3)
    elapsed = time.perf_counter() - started
    after = rss_mb()
    ip_table = limiter.tables["ip"]
    print(f"table slots per kind     : {settings.table_slots:,} (ip), 16 bytes each")
    print(f"RSS before / built / full: {before:.0f} / {built:.0f} / {after:.0f} MB")
    print(f"tables' own memory       : {built - before:.0f} MB (fixed; does not grow with keys)")
    print(f"growth while filling     : {after - built:.0f} MB (prefix_of cache, interned strings)")
    print(f"addresses checked        : {args.addresses:,}, evictions {ip_table.evictions:,}")
    print(f"time per full check      : {elapsed / args.addresses * 1e6:.2f} us (plan + 3 buckets)")
    # O(1): time a second pass over 100k keys that are now resident
    started = time.perf_counter()
    for i in range(100_000):
        ip = address(i)
        subject = Subject(ip, prefix_of(ip), 3, "", "")
        limiter.check(plan(settings, subject, Endpoint.READ, False), 5000.0 + i * 1e-3)
    print(f"time per check, full table: {(time.perf_counter() - started) / 100_000 * 1e6:.2f} us")


if __name__ == "__main__":
    main()
