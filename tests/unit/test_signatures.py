from __future__ import annotations

from shared.signatures import ashby_signature, slack_signature, verify_ashby, verify_slack

SECRET = "x" * 40
BODY = b'{"action":"ping","data":{}}'


def test_ashby_valid_signature() -> None:
    assert verify_ashby(SECRET, BODY, ashby_signature(SECRET, BODY))


def test_ashby_uppercase_hex_is_the_same_signature() -> None:
    header = ashby_signature(SECRET, BODY)
    assert verify_ashby(SECRET, BODY, "sha256=" + header.removeprefix("sha256=").upper())


def test_ashby_missing_wrong_prefix_tampered_and_wrong_secret_fail() -> None:
    good = ashby_signature(SECRET, BODY)
    assert not verify_ashby(SECRET, BODY, None)
    assert not verify_ashby(SECRET, BODY, "")
    assert not verify_ashby(SECRET, BODY, good.replace("sha256=", "sha1="))
    assert not verify_ashby(SECRET, BODY, good.removeprefix("sha256="))
    assert not verify_ashby(SECRET, BODY + b" ", good)
    assert not verify_ashby("y" * 40, BODY, good)


def test_slack_valid_within_five_minutes_and_rejected_outside() -> None:
    ts = "1700000000"
    sig = slack_signature(SECRET, ts, BODY)
    assert verify_slack(SECRET, BODY, ts, sig, now=1700000000 + 299)
    assert not verify_slack(SECRET, BODY, ts, sig, now=1700000000 + 301)
    assert not verify_slack(SECRET, BODY, ts, sig, now=1700000000 - 301)


def test_slack_tampered_missing_or_garbage_fail() -> None:
    ts = "1700000000"
    sig = slack_signature(SECRET, ts, BODY)
    assert not verify_slack(SECRET, BODY + b"x", ts, sig, now=1700000000)
    assert not verify_slack(SECRET, BODY, None, sig, now=1700000000)
    assert not verify_slack(SECRET, BODY, ts, None, now=1700000000)
    assert not verify_slack(SECRET, BODY, "not-a-number", sig, now=1700000000)
    assert not verify_slack(SECRET, BODY, "1700000001", sig, now=1700000000)
