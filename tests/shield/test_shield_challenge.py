"""Proof-of-work challenges and pass cookies: solving, tampering, expiry, binding, replay."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from importlib import resources

import pytest

from roost.shield.challenge import (
    ChallengeError,
    ReplayGuard,
    check_answer,
    check_pass,
    issue_challenge,
    issue_pass,
    leading_zero_bits,
    read_pass,
    solve,
)

SECRET = b"s" * 32
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PREFIX = "203.0.113.0/24"


def test_solve_finds_an_answer_with_enough_zero_bits() -> None:
    challenge = issue_challenge(SECRET, 10, PREFIX, UA, now=1000.0)
    answer = solve(challenge)
    digest = hashlib.sha256(f"{challenge}:{answer}".encode()).digest()
    assert leading_zero_bits(digest) >= 10
    assert check_answer(SECRET, challenge, answer, PREFIX, UA, now=1001.0)


def test_wrong_answer_refused() -> None:
    challenge = issue_challenge(SECRET, 16, PREFIX, UA, now=1000.0)
    answer = solve(challenge)
    wrong = str(int(answer) + 1)
    digest = hashlib.sha256(f"{challenge}:{wrong}".encode()).digest()
    if leading_zero_bits(digest) < 16:  # almost always; a second solution is 1 in 65536
        with pytest.raises(ChallengeError, match="wrong"):
            check_answer(SECRET, challenge, wrong, PREFIX, UA, now=1001.0)
    with pytest.raises(ChallengeError):
        check_answer(SECRET, challenge, "not-a-number", PREFIX, UA, now=1001.0)


def test_tampered_difficulty_refused() -> None:
    challenge = issue_challenge(SECRET, 12, PREFIX, UA, now=1000.0)
    easier = challenge.replace(".12.", ".1.", 1)
    with pytest.raises(ChallengeError, match="tampered"):
        check_answer(SECRET, easier, solve(easier), PREFIX, UA, now=1001.0)


def test_challenge_bound_to_prefix_and_user_agent() -> None:
    challenge = issue_challenge(SECRET, 8, PREFIX, UA, now=1000.0)
    answer = solve(challenge)
    with pytest.raises(ChallengeError, match="tampered"):
        check_answer(SECRET, challenge, answer, "198.51.100.0/24", UA, now=1001.0)
    with pytest.raises(ChallengeError, match="tampered"):
        check_answer(SECRET, challenge, answer, PREFIX, "curl/8.0", now=1001.0)


def test_expired_challenge_refused() -> None:
    challenge = issue_challenge(SECRET, 8, PREFIX, UA, now=1000.0)
    with pytest.raises(ChallengeError, match="expired"):
        check_answer(SECRET, challenge, solve(challenge), PREFIX, UA, now=5000.0)


@pytest.mark.parametrize("junk", ["", "c1", "c1.8.x.y.z", "x" * 500, "c1.8.1.n.m.extra"])
def test_malformed_challenge_refused(junk: str) -> None:
    with pytest.raises(ChallengeError):
        check_answer(SECRET, junk, "1", PREFIX, UA, now=0.0)


def test_replay_guard_accepts_once_and_is_bounded() -> None:
    guard = ReplayGuard(capacity=100)
    assert guard.first_use("n1", 0.0)
    assert not guard.first_use("n1", 0.0)
    for i in range(1000):
        guard.first_use(f"x{i}", 0.0)
    assert len(guard._seen) <= 100


def test_pass_round_trip_and_binding() -> None:
    cookie = issue_pass(SECRET, "p", PREFIX, UA, now=1000.0, ttl=3600)
    claims = read_pass(SECRET, cookie, PREFIX, UA, now=1001.0)
    assert claims is not None and claims.kind == "p"
    assert read_pass(SECRET, cookie, "198.51.100.0/24", UA, now=1001.0) is None
    assert read_pass(SECRET, cookie, PREFIX, "python-requests/2", now=1001.0) is None
    assert read_pass(b"other" * 8, cookie, PREFIX, UA, now=1001.0) is None


def test_pass_expiry_and_waiting_room() -> None:
    cookie = issue_pass(SECRET, "p", PREFIX, UA, now=1000.0, ttl=60)
    assert read_pass(SECRET, cookie, PREFIX, UA, now=1061.0) is None
    waiting = issue_pass(SECRET, "w", PREFIX, UA, now=1000.0, ttl=60, delay=8)
    assert read_pass(SECRET, waiting, PREFIX, UA, now=1004.0) is None
    assert read_pass(SECRET, waiting, PREFIX, UA, now=1009.0) is not None
    assert check_pass(SECRET, waiting, PREFIX, UA, now=1004.0)[1] == "early"
    assert check_pass(SECRET, cookie, PREFIX, UA, now=1061.0)[1] == "expired"
    assert check_pass(SECRET, cookie, PREFIX, "other", now=1001.0)[1] == "forged"


def test_forged_pass_fields_refused() -> None:
    cookie = issue_pass(SECRET, "w", PREFIX, UA, now=1000.0, ttl=60)
    parts = cookie.split(".")
    for i, value in [(1, "p"), (3, "9999999999"), (4, "someone-else")]:
        forged = ".".join([*parts[:i], value, *parts[i + 1 :]])
        assert read_pass(SECRET, forged, PREFIX, UA, now=1001.0) is None
    assert read_pass(SECRET, "p1." + "a." * 200, PREFIX, UA, now=1001.0) is None


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_browser_script_agrees_with_python() -> None:
    """The page's SHA-256 must accept exactly what the server checks."""
    script = resources.files("roost.shield").joinpath("static/challenge.js").read_text()
    challenge = issue_challenge(SECRET, 12, PREFIX, UA, now=1000.0)
    # A stand-in for the page's DOM: the form with the challenge, and submit() prints the answer.
    harness = (
        "var captured={};var document={getElementById:function(id){return id==='roost-pass'?"
        "{elements:{challenge:{value:'CHALLENGE'},answer:{set value(v){captured.a=v}}},"
        "submit:function(){console.log(captured.a)}}:null}};"
        "var setTimeout=function(f){f()};"
    ).replace("CHALLENGE", challenge)
    out = subprocess.run(
        ["node", "-e", harness + script], capture_output=True, text=True, timeout=30, check=True
    )
    answer = out.stdout.strip()
    assert check_answer(SECRET, challenge, answer, PREFIX, UA, now=1001.0)
