"""Two checkouts' uncached reads side by side, in paired bursts: is a change faster, or noise?

    git worktree add /tmp/base <commit>      # the checkout to compare with (needs no venv)
    .venv/bin/python bench/ab_reads.py --base /tmp/base [--rounds 6] [--seconds 3] [home ...]

Why: on these shared machines two runs of bench/uncached_reads.py minutes apart differed by
more than the changes being judged (hello-world alone measured 5,162 and 13,351 req/s within
ten minutes, 2026-12-03). Here both servers run at once, each on its own copy of the demo set,
pinned to the same CPU (0); wrk (CPU 1, 16 connections, a new query string per request so no
cache answers) sends short bursts to one then the other, alternating which goes first, and the
figure is the server's own CPU time per request (user + system, from /proc), not requests per
second: a burst the machine slowed is slowed for its CPU time much less than for its rate. Each
read prints the medians of both, their ratio (B/A: below 1.00 the current checkout is cheaper)
and in how many rounds B was the cheaper: a change that wins 3 rounds of 6 is noise. Both
servers are started afresh each round (see ``compare``).

A is ``--base``, B this checkout; both with the shield on (limits out of reach), as in
bench/uncached_reads.py. Reads: home, public, profile, thread, floor (an always-empty timeline).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from api_timeline import DISTINCT_SCRIPT, pick_reader  # noqa: E402
from foundation_data import demo_database  # noqa: E402
from foundation_wrk import ensure_wrk, parse  # noqa: E402
from harness import LOAD_CPU, RESULTS, Server, free_port, other_reads, roost_env, token_for  # noqa: E402
from uncached_reads import FLOOR  # noqa: E402

READS = ("home", "public", "profile", "thread", "floor")
HOME = "/api/v1/timelines/home"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(checkout: Path, name: str, work: Path, size: tuple[int, int]) -> tuple[Server, str, Path]:
    """``roost serve`` from ``checkout``'s own code, on a fresh copy of the demo set."""
    db = work / f"{name}.db"
    demo_database(RESULTS, *size, False, db)
    if checkout != ROOT:  # the demo set is built by this checkout: take it down to the base's
        fit_schema(db, checkout)
    port = free_port()
    env = {**roost_env(db, port, work), "PYTHONPATH": str(checkout)}
    command = [sys.executable, "-m", "roost.cli", "serve"]
    server = Server(command, env, port, work / f"{name}.log", cwd=checkout).start()
    return server, token_for(server.url, pick_reader(db)), db


def fit_schema(db: Path, checkout: Path) -> None:
    """``db`` migrated down to ``checkout``'s newest migration (its server would refuse a
    schema newer than it knows)."""
    from alembic import command

    from roost.store.migrate import alembic_config

    versions = checkout / "roost" / "store" / "migrations" / "versions"
    head = max(path.name.split("_")[0] for path in versions.glob("[0-9]*_*.py"))
    command.downgrade(alembic_config(f"sqlite:///{db}"), head)


def burst(server: Server, token: str, url: str, seconds: int, script: Path) -> float:
    """Server CPU microseconds per request over one wrk burst."""
    command = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", "-c16", f"-d{seconds}s"]
    command += ["-H", f"Authorization: Bearer {token}", "-s", str(script), url]
    assert server.process is not None
    before = cpu_seconds(server.process.pid)
    rate = parse(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    used = cpu_seconds(server.process.pid) - before
    return used / max(1.0, rate["rps"] * seconds) * 1e6


def compare(
    base: Path, reads: list[str], rounds: int, seconds: int, work: Path, size: tuple[int, int]
) -> dict:
    """Per read and checkout, the CPU per request of each round. Both servers are started
    afresh every round: two processes of the same code kept up for a whole run differed by up to
    10% on one read in every round (an A/A run; memory layout and hash seeds differ per
    process), a bias that alternating the bursts alone cannot cancel."""
    script = work / "distinct.lua"
    script.write_text(DISTINCT_SCRIPT)
    checkouts = {"A": base, "B": ROOT}
    costs: dict[tuple[str, str], list[float]] = {(r, s): [] for r in reads for s in checkouts}
    for round_ in range(rounds):
        order = ("A", "B") if round_ % 2 == 0 else ("B", "A")
        servers = {}
        try:
            for name in order:
                servers[name] = start(checkouts[name], f"{name}{round_}", work, size)
            paths = {"home": HOME, **other_reads(servers["A"][2]), "floor": FLOOR}
            for read in reads:
                for name in order:
                    server, token, _ = servers[name]
                    url = server.url + paths[read]
                    costs[read, name].append(burst(server, token, url, seconds, script))
        finally:
            for server, _, db in servers.values():
                server.stop()
                db.unlink()
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="the checkout to compare with")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--users", type=int, default=300, help="demo accounts (default 300)")
    parser.add_argument("--posts", type=int, default=3000, help="demo posts (default 3000)")
    parser.add_argument("reads", nargs="*", help=f"any of {', '.join(READS)} (default: all)")
    args = parser.parse_args()
    args.reads = args.reads or list(READS)
    if unknown := set(args.reads) - set(READS):
        parser.error(f"unknown reads: {', '.join(sorted(unknown))}")
    ensure_wrk()
    with tempfile.TemporaryDirectory() as tmp:
        size = (args.users, args.posts)
        costs = compare(args.base.resolve(), args.reads, args.rounds, args.seconds, Path(tmp), size)
    print(f"server CPU per request, median of {args.rounds} paired bursts (A {args.base}, B .)")
    for read in args.reads:
        a, b = costs[read, "A"], costs[read, "B"]
        wins = sum(x < y for x, y in zip(b, a, strict=True))
        ratio = statistics.median(b) / statistics.median(a)
        print(
            f"{read:8s} A {statistics.median(a):6.1f} us   B {statistics.median(b):6.1f} us"
            f"   B/A {ratio:.3f}   B cheaper in {wins}/{len(a)}"
        )


if __name__ == "__main__":
    main()
