"""Which failures are blips worth retrying, read from the exception and its cause chain."""

from __future__ import annotations

import asyncpg
import pytest
from redis import exceptions as redis_errors

from shared.errors import Permanent, Transient, error_label, is_transient
from shared.retry import full_jitter, parse_retry_after


def chained(outer: BaseException, *inner: BaseException) -> BaseException:
    """`outer` raised while handling `inner[0]`, itself raised while handling `inner[1]`, ..."""
    current = outer
    for cause in inner:
        current.__context__ = cause
        current = cause
    return outer


@pytest.mark.parametrize(
    "exc",
    [
        Transient("slack busy"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.exceptions.SerializationError("could not serialize access"),
        asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
        asyncpg.InternalClientError("cannot switch to state 15; another operation (2) is in progress"),
        asyncpg.InterfaceError("cannot call Connection.fetchval(): connection has been released back to the pool"),
        redis_errors.ConnectionError("Error 111 connecting"),
        redis_errors.BusyLoadingError("Redis is loading the dataset in memory"),
        redis_errors.TimeoutError("Timeout reading from socket"),
        ConnectionResetError(104, "Connection reset by peer"),
        TimeoutError(),
    ],
)
def test_infrastructure_blips_are_transient(exc: BaseException) -> None:
    assert is_transient(exc)


def test_a_connection_lost_mid_transaction_is_transient_through_its_cause_chain() -> None:
    # What asyncpg raises when the server terminates a connection inside `async with conn.transaction()`.
    rollback = chained(
        asyncpg.InterfaceError("cannot call Transaction.__aexit__(): the underlying connection is closed"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    )
    assert is_transient(rollback)
    wrapped = RuntimeError("job failed")
    wrapped.__cause__ = rollback
    assert is_transient(wrapped)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("Exceeds the limit (4300 digits) for integer string conversion"),
        Permanent("refused", code="invalid_input"),
        asyncpg.exceptions.CharacterNotInRepertoireError("invalid byte sequence for encoding UTF8: 0x00"),
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"),
        asyncpg.InterfaceError("the server expects 2 arguments for this query, 1 was passed"),
        KeyError("deps"),
    ],
)
def test_bugs_and_bad_data_are_not_transient(exc: BaseException) -> None:
    assert not is_transient(exc)


def test_a_cyclic_cause_chain_ends() -> None:
    a, b = ValueError("a"), ValueError("b")
    a.__context__, b.__context__ = b, a
    assert not is_transient(a)


def test_error_labels_never_carry_the_message() -> None:
    exc = asyncpg.exceptions.CharacterNotInRepertoireError("invalid byte sequence: Jane Candidate's answer")
    assert error_label(exc) == "CharacterNotInRepertoireError (22021)"
    assert error_label(Permanent("Ashby says no to jane@example.com", code="invalid_input")) == (
        "Permanent (invalid_input)"
    )
    assert error_label(ValueError("jane@example.com")) == "ValueError"


def test_full_jitter_stays_under_its_cap() -> None:
    assert full_jitter(0, base_s=2, cap_s=300, rand=0.999) < 2
    assert full_jitter(3, base_s=2, cap_s=300, rand=0.5) == 8
    assert full_jitter(30, base_s=2, cap_s=300, rand=0.999) < 300
    assert full_jitter(5, base_s=2, cap_s=300, rand=0.0) == 0


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert parse_retry_after("3", now=0) == 3.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:30 GMT", now=10.0) == 20.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:05 GMT", now=10.0) == 0.0
    assert parse_retry_after("-4", now=0) == 0.0
    assert parse_retry_after(None, now=0) is None
    assert parse_retry_after("soon", now=0) is None
    assert parse_retry_after("nan", now=0) is None
    assert parse_retry_after("inf", now=0) is None
