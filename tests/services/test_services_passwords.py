"""Password hashing: bounded concurrency, and a clear 503 instead of a pile-up of argon2 work."""

from __future__ import annotations

import asyncio
import time

import pytest

from roost.domain import accounts as rules
from roost.domain.errors import Busy, Invalid
from roost.services import passwords


async def test_at_most_slots_hashes_run_at_once(monkeypatch) -> None:
    running = peak = 0

    def slow_verify(stored: str, password: str) -> bool:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        time.sleep(0.05)
        running -= 1
        return True

    monkeypatch.setattr(rules, "verify_password", slow_verify)
    assert all(await asyncio.gather(*(passwords.verify("h", "p") for _ in range(6))))
    assert peak == passwords.SLOTS


async def test_a_pile_up_is_refused_with_busy(monkeypatch) -> None:
    monkeypatch.setattr(passwords, "WAIT", 0.05)
    monkeypatch.setattr(rules, "verify_password", lambda stored, password: time.sleep(0.3) or 1)
    results = await asyncio.gather(
        *(passwords.verify("h", "p") for _ in range(passwords.SLOTS + 2)), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, Busy)]
    assert len(refused) == 2 and refused[0].status == 503


async def test_a_bad_password_costs_no_hash(monkeypatch) -> None:
    monkeypatch.setattr(rules, "hash_password", lambda p: pytest.fail("hashed"))
    with pytest.raises(Invalid):
        await passwords.hash_password("short")


def test_hashes_use_the_cheaper_owasp_setting_and_old_ones_still_verify() -> None:
    from argon2 import PasswordHasher

    stored = rules.hash_password("correct horse")
    assert "$m=19456,t=2,p=1$" in stored
    old = PasswordHasher().hash("correct horse")  # the library default used before
    assert rules.verify_password(old, "correct horse")
    assert not rules.verify_password(old, "wrong horse")
