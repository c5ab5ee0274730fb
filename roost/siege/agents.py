"""Browser-like User-Agent and Accept-Language strings for bots that pretend to be people.

A scraper swarm rotates through hundreds of current browser identities so that no single
User-Agent stands out; the pool is built from the browsers, versions and systems that make up
most real traffic (Chrome, Edge, Firefox and Safari on desktops, phones and tablets).
"""

from __future__ import annotations

_CHROME_SYSTEMS = (
    "Windows NT 10.0; Win64; x64",
    "Macintosh; Intel Mac OS X 10_15_7",
    "X11; Linux x86_64",
    "X11; CrOS x86_64 15917.71.0",
)
_ANDROID_DEVICES = (
    "Linux; Android 10; K",
    "Linux; Android 14; Pixel 8",
    "Linux; Android 13; SM-S918B",
)
_FIREFOX_SYSTEMS = (
    "Windows NT 10.0; Win64; x64",
    "Macintosh; Intel Mac OS X 10.15",
    "X11; Linux x86_64",
    "X11; Ubuntu; Linux x86_64",
)
_SAFARI_VERSIONS = ("16.6", "17.0", "17.1", "17.2", "17.3", "17.4", "17.5", "17.6", "18.0", "18.1")
_WEBKIT = "AppleWebKit/537.36 (KHTML, like Gecko)"


def browser_agents() -> tuple[str, ...]:
    """About 200 distinct, plausible browser User-Agents."""
    agents: list[str] = []
    for version in range(118, 132):
        chrome = f"Chrome/{version}.0.0.0"
        agents += [f"Mozilla/5.0 ({s}) {_WEBKIT} {chrome} Safari/537.36" for s in _CHROME_SYSTEMS]
        agents += [
            f"Mozilla/5.0 ({d}) {_WEBKIT} {chrome} Mobile Safari/537.36" for d in _ANDROID_DEVICES
        ]
        agents += [
            f"Mozilla/5.0 ({s}) {_WEBKIT} {chrome} Safari/537.36 Edg/{version}.0.0.0"
            for s in _CHROME_SYSTEMS[:2]
        ]
    for version in range(122, 134):
        agents += [
            f"Mozilla/5.0 ({s}; rv:{version}.0) Gecko/20100101 Firefox/{version}.0"
            for s in _FIREFOX_SYSTEMS
        ]
        gecko = f"rv:{version}.0) Gecko/{version}.0 Firefox/{version}.0"
        agents.append(f"Mozilla/5.0 (Android 14; Mobile; {gecko}")
    for safari in _SAFARI_VERSIONS:
        ios = safari.replace(".", "_")
        webkit = "AppleWebKit/605.1.15 (KHTML, like Gecko)"
        agents += [
            f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) {webkit} Version/{safari} "
            "Safari/605.1.15",
            f"Mozilla/5.0 (iPhone; CPU iPhone OS {ios} like Mac OS X) {webkit} Version/{safari} "
            "Mobile/15E148 Safari/604.1",
            f"Mozilla/5.0 (iPad; CPU OS {ios} like Mac OS X) {webkit} Version/{safari} "
            "Mobile/15E148 Safari/604.1",
        ]
    return tuple(agents)


BROWSER_POOL = browser_agents()

LANGUAGES = (
    "en-US,en;q=0.9",
    "en-GB,en;q=0.8",
    "de-DE,de;q=0.9,en;q=0.8",
    "fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7",
    "es-ES,es;q=0.9",
    "pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7",
    "ja-JP,ja;q=0.9,en;q=0.8",
    "nl-NL,nl;q=0.9,en;q=0.8",
    "pl-PL,pl;q=0.9,en;q=0.8",
    "it-IT,it;q=0.9",
    "zh-CN,zh;q=0.9",
    "ko-KR,ko;q=0.9,en;q=0.8",
)

# What browsers put in Accept for a page, and what web apps' scripts send for JSON.
ACCEPT_PAGE = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ACCEPT_JSON = "application/json, text/plain, */*"
ACCEPT_ENCODING = "gzip, deflate, br"
