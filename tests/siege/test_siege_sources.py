"""Large address pools: the scraper swarm's 100,000 addresses fit, stay disjoint and scatter."""

from __future__ import annotations

import ipaddress
import time
from pathlib import Path

from roost.siege.guard import check_source
from roost.siege.scenario import load_scenario
from roost.siege.setup import windows
from roost.siege.sources import HOSTS_PER_PREFIX, AddressPlan

REPO = Path(__file__).resolve().parents[2]


def prefix(address: str) -> str:
    return address.rsplit(".", 1)[0]


def test_a_hundred_thousand_addresses_in_four_hundred_24s_quickly() -> None:
    plan = AddressPlan(25)
    began = time.monotonic()
    addresses = plan.take(100_000, 400)
    assert time.monotonic() - began < 2
    assert len(set(addresses)) == 100_000
    per_prefix: dict[str, int] = {}
    for address in addresses:
        per_prefix[prefix(address)] = per_prefix.get(prefix(address), 0) + 1
    assert len(per_prefix) == 400 and set(per_prefix.values()) == {250}
    assert max(per_prefix.values()) <= HOSTS_PER_PREFIX
    for address in addresses[::997]:  # the guard, as every socket applies it
        assert check_source(address) in ipaddress.ip_network("127.0.0.0/8")
    assert not any(address.startswith("127.0.") for address in addresses)  # targets' room
    later = plan.take(5000, 200)  # the next attack's bots share no /24 with these
    assert not {prefix(a) for a in later} & set(per_prefix)


def test_the_scraper_swarm_is_split_over_workers_and_scattered(tmp_path: Path) -> None:
    text = (REPO / "scenarios" / "scraper-swarm.toml").read_text()
    path = tmp_path / "swarm.toml"
    path.write_text(text.replace("workers = 1", "workers = 2"))
    scenario = load_scenario(path)
    began = time.monotonic()
    per_worker = windows(scenario, AddressPlan(scenario.seed), 2, scenario.duration_s)
    assert time.monotonic() - began < 3
    shares = [phases[1].attacks[0] for phases in per_worker]  # the attack phase
    first, second = (set(share.sources) for share in shares)
    assert len(first) == len(second) == 50_000 and not first & second
    assert all(share.spec.connections == 750 for share in shares)
    # Consecutive connections come from scattered /24s, not one /24 after another.
    opening = shares[0].sources[:1500]
    assert len({prefix(a) for a in opening}) > 350
