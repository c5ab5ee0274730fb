"""The block list in forms the layers below Python can load (issue 7 item 12).

The Python reject path has a ceiling (bench/shield_ceilings.py measures it); past it, refusals must
move down: nginx (a ``geo`` deny map, reloaded) and the kernel (an nftables set, applied by the
operator with ``nft -f``). Both files are complete and idempotent: loading one replaces the
previous list rather than appending to it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

NFT_TABLE = "roost"
NFT_SET4, NFT_SET6 = "blocked4", "blocked6"


def _split(entries: Mapping[str, float]) -> tuple[list[str], list[str]]:
    v4: list[str] = []
    v6: list[str] = []
    for key in sorted(entries):
        try:
            network = ipaddress.ip_network(key, strict=False)
        except ValueError:
            continue  # not an address or prefix (a bug elsewhere): never emit junk to a firewall
        (v4 if network.version == 4 else v6).append(str(network))
    return v4, v6


def to_nft(entries: Mapping[str, float]) -> str:
    """An nftables script: ``nft -f`` it to (re)load the sets and the drop rule."""
    v4, v6 = _split(entries)
    lines = [
        "# Roost shield block list: apply with `nft -f <file>`",
        f"table inet {NFT_TABLE} {{}}",
        f"delete table inet {NFT_TABLE}",
        f"table inet {NFT_TABLE} {{",
        f"  set {NFT_SET4} {{ type ipv4_addr; flags interval, timeout; }}",
        f"  set {NFT_SET6} {{ type ipv6_addr; flags interval, timeout; }}",
        "  chain input {",
        "    type filter hook input priority -10; policy accept;",
        f"    ip saddr @{NFT_SET4} tcp dport {{ 80, 443 }} drop",
        f"    ip6 saddr @{NFT_SET6} tcp dport {{ 80, 443 }} drop",
        "  }",
        "}",
    ]
    for name, items in ((NFT_SET4, v4), (NFT_SET6, v6)):
        if items:
            elements = ", ".join(
                f"{item} timeout {max(1, int(entries_for(entries, item)))}s" for item in items
            )
            lines.append(f"add element inet {NFT_TABLE} {name} {{ {elements} }}")
    return "\n".join(lines) + "\n"


def entries_for(entries: Mapping[str, float], network: str) -> float:
    """Seconds left for a network, looked up by its original key (``1.2.3.4`` or ``1.2.3.0/24``)."""
    if network in entries:
        return entries[network]
    return entries.get(network.removesuffix("/32").removesuffix("/128"), 60.0)


def to_nginx(entries: Mapping[str, float]) -> str:
    """An nginx ``geo`` map for ``http {}``; servers do ``if ($roost_blocked) { return 444; }``."""
    v4, v6 = _split(entries)
    lines = [
        "# Roost shield block list (nginx geo map); reload nginx after writing it",
        "geo $roost_blocked {",
        "  default 0;",
    ]
    lines += [f"  {item} 1;" for item in v4 + v6]
    lines.append("}")
    return "\n".join(lines) + "\n"
