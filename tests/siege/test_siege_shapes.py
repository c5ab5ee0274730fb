"""The new shapes against a real loopback server (siege_target.py): connection churn, the mix,
and the status page poller."""

from __future__ import annotations

from pathlib import Path

from roost.siege import report
from roost.siege.compare import summarize
from roost.siege.outcome import RunOptions
from roost.siege.runner import run
from roost.siege.scenario import load_scenario


def run_report(tmp_path: Path, text: str, url: str, **options: object) -> dict:
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    return report.build(run(load_scenario(path), RunOptions(target_url=url, live=False, **options)))


def classes(built: dict, phase: str) -> dict:
    return next(p for p in built["phases"] if p["name"] == phase)["classes"]


SCRAPERS = """
name = "scrapers"
[[phases]]
name = "attack"
duration_s = 1.5
[[phases.attacks]]
profile = "scraper"
bots = 3000
prefixes = 30
connections = 16
rate = 400
"""


def test_scrapers_open_a_connection_per_request_from_ever_new_addresses(
    tmp_path: Path, target_server
) -> None:
    server = target_server()
    built = run_report(tmp_path, SCRAPERS, server.url)
    scraper = classes(built, "attack")["scraper"]
    assert built["counts_add_up"] and scraper["answered"] >= 300
    stats = server.stats()
    bots = {peer for peer in stats["requests"] if peer != "127.0.0.1"}  # the probe's address
    requests = sum(stats["requests"][peer] for peer in bots)
    connections = sum(stats["connections"][peer] for peer in bots)
    assert requests == scraper["answered"]
    assert connections >= requests  # one request per connection (a last one may be unused)
    assert len(bots) >= 0.9 * requests  # nearly every request from an address of its own
    assert len({peer.rsplit(".", 1)[0] for peer in bots}) == 30


BOTNET_AND_STATUS = """
name = "mix-and-status"
[legit]
status_rate = 20
[[phases]]
name = "calm"
duration_s = 1
[[phases]]
name = "attack"
duration_s = 1.5
[[phases.attacks]]
profile = "botnet_mix"
bots = 200
prefixes = 8
connections = 8
rate = 300
rotate_after = 20
"""


def test_the_status_page_is_polled_from_its_own_address_and_counted_per_phase(
    tmp_path: Path, target_server
) -> None:
    site, status_page = target_server(), target_server()
    built = run_report(tmp_path, BOTNET_AND_STATUS, site.url, status_url=status_page.url)
    assert built["counts_add_up"] and built["setup"]["status_url"] == status_page.url
    for phase, seconds in (("calm", 1), ("attack", 1.5)):
        page = classes(built, phase)["status_page"]
        assert page["kind"] == "status" and page["statuses"] == {"200": page["requests"]}
        assert 20 * seconds * 0.4 <= page["requests"] <= 20 * seconds * 2  # Poisson, 20/s
        assert page["success_ratio"] == 1.0 and page["wrongly_rejected"] == 0
    assert classes(built, "attack")["botnet_mix"]["answered"] > 100
    per_phase = [classes(built, phase)["status_page"]["requests"] for phase in ("calm", "attack")]
    assert sum(r["status_requests"] for r in built["timeline"]) == sum(per_phase)
    summary = summarize(built)  # compare's table: the status page apart from the users
    assert summary["status page success, calm"] == summary["status page success, attack"] == 1.0
    assert summary["legit success, attack"] is None and summary["wrongly rejected"] == 0
    # The poller has an address of its own: not the site's bots, not 127.0.0.1.
    (poller,) = [peer for peer in status_page.stats()["requests"] if peer != "127.0.0.1"]
    assert poller not in site.stats()["requests"]


def test_a_failing_status_page_is_counted_as_failing(tmp_path: Path, target_server) -> None:
    site, status_page = target_server(), target_server()
    text = BOTNET_AND_STATUS.replace(
        "status_rate = 20", f'status_rate = 20\nstatus_url = "{status_page.url}shed"'
    )
    built = run_report(tmp_path, text, site.url)
    for phase in ("calm", "attack"):
        page = classes(built, phase)["status_page"]
        assert page["requests"] > 0 and page["statuses"] == {"429": page["requests"]}
        assert page["success_ratio"] == 0.0 and page["wrongly_rejected"] == page["requests"]
    assert all(r["status_success"] in (None, 0.0) for r in built["timeline"])
    assert summarize(built)["status page success, attack"] == 0.0
