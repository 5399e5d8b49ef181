"""Settings: read from the environment once at process start, validated, then passed explicitly.

`load_settings(environ)` reports every problem at once, naming the variables. With
ENVIRONMENT=production it refuses the embedded databases, missing secrets and weak secrets. No secret is
ever written in the source: a value published anywhere (the old development placeholders) is refused in
every environment, and outside production a missing secret is replaced by a random one for this process
(`generated_secrets` names them, so the process can say which variable to set).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import time
from typing import Any, TypeVar

import msgspec

ENVIRONMENTS = ("development", "test", "production")
MIN_SECRET_LENGTH = 32
SECRETS = ("ASHBY_WEBHOOK_SECRET", "SLACK_SIGNING_SECRET", "ASHBY_API_KEY", "SLACK_BOT_TOKEN")
# Values this project once shipped as development defaults: public, so refused wherever they appear.
PUBLISHED_SECRETS = frozenset(
    {
        "dev-only-ashby-webhook-secret-not-for-production",
        "dev-only-slack-signing-secret-not-for-production",
        "dev-only-ashby-api-key",
        "xoxb-dev-only-token",
    }
)


class SettingsError(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    environment: str = "development"
    database_url: str | None = None
    redis_url: str | None = None
    data_dir: str = ".fleet"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_format: str = "console"
    ingress_header_timeout_s: float = 10.0
    ingress_body_timeout_s: float = 15.0
    ingress_keepalive_s: int = 5
    ingress_max_connections: int = 1000
    db_pool_min: int = 1
    db_pool_max: int = 10
    worker_max_jobs: int = 20
    worker_shutdown_grace_s: int = 20
    metrics_port: int | None = None
    ashby_webhook_secret: str = ""
    ashby_api_key: str = ""
    ashby_base_url: str = "https://api.ashbyhq.com"
    ashby_requests_per_minute: int = 300
    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_base_url: str = "https://slack.com/api/"
    slack_messages_per_second: float = 10.0
    reminder_brief_minutes: int = 10
    reminder_brief_early_minutes: int = 10  # how far ahead of its time a brief may go when the Slack budget is busy
    reminder_due_minutes: int = 15
    reminder_overdue_hours: int = 24
    reminder_overdue_max: int = 3
    reminder_quiet_hours: str = "20:00-08:00"
    reminder_escalate: bool = True
    advancement_admins: tuple[str, ...] = ()  # Slack user ids who may decide any advancement approval
    admin_token: str = ""  # `fleet admin` sign-in and API bearer token; unset: the admin service refuses to start
    admin_port: int = 8080
    sentry_dsn: str = ""  # error reporting, scrubbed of personal data (shared/error_reporting.py); unset: off
    sentry_release: str = ""
    # Personal data retention, in days (docs/privacy.md)
    retention_answers_grace_days: int = 30  # after the answers are in Ashby and no decision can be taken on them
    retention_draft_days: int = 14
    retention_dead_letter_days: int = 30
    retention_schedule_days: int = 365  # interviewers' names on past interviews, cached applications, evidence
    generated_secrets: tuple[str, ...] = ()  # secrets missing outside production, random for this process

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def __repr__(self) -> str:  # never print secrets, even by accident in a traceback
        return f"Settings(environment={self.environment!r}, host={self.host!r}, port={self.port})"


T = TypeVar("T")


def load_settings(environ: Mapping[str, str], *, random_secret: Callable[[], str] | None = None) -> Settings:
    problems: list[str] = []
    values: dict[str, Any] = {}

    def read(name: str, parse: Callable[[str], T], check: Callable[[T], str | None] | None = None) -> None:
        raw = environ.get(name)
        if raw is None or raw == "":
            return
        try:
            value = parse(raw.strip())
        except ValueError:
            problems.append(f"{name}: {raw!r} is not a valid {getattr(parse, '__name__', 'value')}")
            return
        message = check(value) if check else None
        if message:
            problems.append(f"{name}: {message}")
            return
        values[name.lower()] = value

    read("ENVIRONMENT", str, lambda v: None if v in ENVIRONMENTS else f"must be one of {', '.join(ENVIRONMENTS)}")
    read("DATABASE_URL", str, _check_url(("postgres", "postgresql")))
    read("REDIS_URL", str, _check_url(("redis", "rediss", "unix")))
    read("DATA_DIR", str)
    read("HOST", str)
    read("PORT", int, _check_range(1, 65535))
    read(
        "LOG_LEVEL",
        str.upper,
        lambda v: None if v in ("DEBUG", "INFO", "WARNING", "ERROR") else "must be DEBUG, INFO, WARNING or ERROR",
    )
    read("LOG_FORMAT", str, lambda v: None if v in ("console", "json") else "must be console or json")
    read("INGRESS_HEADER_TIMEOUT_S", float, _check_seconds(300))
    read("INGRESS_BODY_TIMEOUT_S", float, _check_seconds(600))
    read("INGRESS_KEEPALIVE_S", int, _check_range(1, 300))
    read("INGRESS_MAX_CONNECTIONS", int, _check_range(1, 100_000))
    read("DB_POOL_MIN", int, _check_range(1, 100))
    read("DB_POOL_MAX", int, _check_range(1, 500))
    read("WORKER_MAX_JOBS", int, _check_range(1, 1000))
    read("WORKER_SHUTDOWN_GRACE_S", int, _check_range(0, 600))
    read("METRICS_PORT", int, _check_range(1, 65535))
    read("ASHBY_REQUESTS_PER_MINUTE", int, _check_range(1, 100_000))
    read("ASHBY_BASE_URL", str, _check_url(("http", "https")))
    read("SLACK_BASE_URL", str, _check_url(("http", "https")))
    read("SLACK_MESSAGES_PER_SECOND", float, lambda v: None if 0 < v <= 1000 else "must be between 0 and 1000")
    read("REMINDER_BRIEF_MINUTES", int, _check_range(0, 24 * 60))
    read("REMINDER_BRIEF_EARLY_MINUTES", int, _check_range(0, 24 * 60))
    read("REMINDER_DUE_MINUTES", int, _check_range(0, 7 * 24 * 60))
    read("REMINDER_OVERDUE_HOURS", int, _check_range(1, 30 * 24))
    read("REMINDER_OVERDUE_MAX", int, _check_range(0, 20))
    read("REMINDER_QUIET_HOURS", str, _check_quiet_hours)
    read("REMINDER_ESCALATE", _parse_bool)
    read("ADVANCEMENT_ADMINS", _parse_slack_ids)
    read("ADMIN_PORT", int, _check_range(1, 65535))
    read("SENTRY_DSN", str, _check_url(("http", "https")))
    read("SENTRY_RELEASE", str)
    read("RETENTION_ANSWERS_GRACE_DAYS", int, _check_range(0, 3650))
    read("RETENTION_DRAFT_DAYS", int, _check_range(1, 3650))
    read("RETENTION_DEAD_LETTER_DAYS", int, _check_range(1, 3650))
    read("RETENTION_SCHEDULE_DAYS", int, _check_range(1, 3650))
    for name in (*SECRETS, "ADMIN_TOKEN"):
        read(
            name,
            str,
            lambda v: (
                "this value is published in the project's source; set your own" if v in PUBLISHED_SECRETS else None
            ),
        )

    environment = values.get("environment", "development")
    if environment == "production":
        for name in ("DATABASE_URL", "REDIS_URL"):
            if name.lower() not in values:
                problems.append(f"{name}: required in production (the embedded databases are for development only)")
        for name in SECRETS:
            if name.lower() not in values and not any(p.startswith(f"{name}:") for p in problems):
                problems.append(f"{name}: required in production")
        for name in ("ASHBY_WEBHOOK_SECRET", "SLACK_SIGNING_SECRET", "ADMIN_TOKEN"):
            secret_value = values.get(name.lower())
            if secret_value is not None and len(secret_value) < MIN_SECRET_LENGTH:
                problems.append(f"{name}: must be at least {MIN_SECRET_LENGTH} characters in production")
        if "log_format" not in values:
            values["log_format"] = "json"
    if values.get("db_pool_min", 1) > values.get("db_pool_max", 10):
        problems.append("DB_POOL_MIN: must not exceed DB_POOL_MAX")
    if "slack_base_url" in values and not values["slack_base_url"].endswith("/"):
        values["slack_base_url"] += "/"
    if problems:
        raise SettingsError(problems)
    if environment != "production":
        missing = tuple(name for name in SECRETS if name.lower() not in values)
        for name in missing:
            values[name.lower()] = (random_secret or _random_secret)()
        values["generated_secrets"] = missing
    return Settings(**values)


def admin_token_problem(settings: Settings) -> str | None:
    """Why `fleet admin` must not start with these settings, or None. Only the admin service needs the token,
    so a missing one stops it alone; a short one in production is refused by `load_settings` already."""
    if not settings.admin_token:
        return (
            "ADMIN_TOKEN: required to run the admin service (at least 32 characters in production); make one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    if settings.is_production and len(settings.admin_token) < MIN_SECRET_LENGTH:
        return f"ADMIN_TOKEN: must be at least {MIN_SECRET_LENGTH} characters in production"
    return None


def _random_secret() -> str:
    return secrets.token_urlsafe(32)


def _parse_slack_ids(value: str) -> tuple[str, ...]:
    ids = tuple(part.strip() for part in value.split(",") if part.strip())
    if not all(i.isalnum() and i[0] in "UW" for i in ids):
        raise ValueError(value)
    return ids


_parse_slack_ids.__name__ = "comma-separated list of Slack user ids (U...)"


def _parse_bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)


_parse_bool.__name__ = "boolean (true/false)"


def parse_quiet_hours(value: str) -> tuple[time, time]:
    """`HH:MM-HH:MM` in the interviewer's local time; equal ends mean no quiet hours."""
    start, end = value.split("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


def _check_quiet_hours(value: str) -> str | None:
    try:
        parse_quiet_hours(value)
    except ValueError:
        return "must look like 20:00-08:00"
    return None


def _check_url(schemes: tuple[str, ...]) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        scheme = value.split("://", 1)[0] if "://" in value else ""
        return None if scheme in schemes else f"must be a URL starting with {' or '.join(s + '://' for s in schemes)}"

    return check


def _check_range(low: int, high: int) -> Callable[[int], str | None]:
    return lambda v: None if low <= v <= high else f"must be between {low} and {high}"


def _check_seconds(high: float) -> Callable[[float], str | None]:
    return lambda v: None if 0 < v <= high else f"must be more than 0 and at most {high} seconds"
