"""Solving the shield's proof-of-work challenge, as a visitor's browser does under attack.

The wire format is the shield's documented contract (roost/shield/challenge.py): a ``403`` with
``X-Roost-Challenge: c1.<bits>.<expires>.<nonce>.<mac>``; the answer is a decimal counter such
that SHA-256(challenge + ":" + answer) starts with ``bits`` zero bits; ``POST /-/shield/verify``
(fields ``challenge``, ``answer``, ``next``) sets the ``roost_pass`` cookie. Written here rather
than imported so the status process shares no code path with the site it watches.
"""

from __future__ import annotations

import hashlib

# A clean visitor gets 14 bits (~16k hashes, a few ms); past this the probe says "challenged"
# instead of burning the status server's CPU (each extra bit doubles the work).
MAX_BITS = 18


def bits_of(challenge: str) -> int | None:
    parts = challenge.split(".")
    if len(parts) != 5 or parts[0] != "c1" or not parts[1].isdigit():
        return None
    return int(parts[1])


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte:
            return bits + 8 - byte.bit_length()
        bits += 8
    return bits


def solve(challenge: str, bits: int) -> str:
    """The first counter whose hash has ``bits`` leading zero bits."""
    base = hashlib.sha256((challenge + ":").encode())
    counter = 0
    while True:
        attempt = base.copy()
        attempt.update(str(counter).encode())
        if leading_zero_bits(attempt.digest()) >= bits:
            return str(counter)
        counter += 1
