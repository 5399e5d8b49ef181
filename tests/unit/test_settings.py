from __future__ import annotations

import pytest

from shared.settings import MIN_SECRET_LENGTH, SettingsError, load_settings

STRONG = "s" * MIN_SECRET_LENGTH


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        "ENVIRONMENT": "production",
        "DATABASE_URL": "postgresql://fleet@db:5432/fleet",
        "REDIS_URL": "redis://redis:6379/0",
        "ASHBY_WEBHOOK_SECRET": STRONG,
        "SLACK_SIGNING_SECRET": STRONG,
        "ASHBY_API_KEY": "key",
        "SLACK_BOT_TOKEN": "xoxb-real",
    }
    env.update(overrides)
    return env


def test_empty_environment_gives_development_defaults() -> None:
    settings = load_settings({})
    assert settings.environment == "development"
    assert settings.database_url is None and settings.redis_url is None
    assert settings.port == 8000


def test_every_problem_is_reported_at_once_with_variable_names() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"PORT": "eighty", "ENVIRONMENT": "staging", "REDIS_URL": "http://x", "DB_POOL_MAX": "0"})
    text = str(caught.value)
    for name in ("PORT", "ENVIRONMENT", "REDIS_URL", "DB_POOL_MAX"):
        assert name in text
    assert len(caught.value.problems) == 4


def test_production_refuses_embedded_databases_and_missing_secrets() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"ENVIRONMENT": "production"})
    problems = "\n".join(caught.value.problems)
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "ASHBY_WEBHOOK_SECRET",
        "SLACK_SIGNING_SECRET",
        "ASHBY_API_KEY",
        "SLACK_BOT_TOKEN",
    ):
        assert name in problems


def test_production_refuses_short_secrets_without_echoing_them() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(production_env(ASHBY_WEBHOOK_SECRET="short-secret-value"))
    assert "ASHBY_WEBHOOK_SECRET" in str(caught.value)
    assert "short-secret-value" not in str(caught.value)


def test_valid_production_settings_load_and_log_as_json() -> None:
    settings = load_settings(production_env(SLACK_BASE_URL="https://slack.example/api"))
    assert settings.is_production
    assert settings.log_format == "json"
    assert settings.slack_base_url == "https://slack.example/api/"


def test_bad_url_message_does_not_echo_credentials() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"DATABASE_URL": "mysql://user:hunter2@db/x"})
    assert "hunter2" not in str(caught.value)


def test_repr_never_shows_secrets() -> None:
    settings = load_settings(production_env())
    assert STRONG not in repr(settings)


def test_reminder_policy_settings_are_validated_together() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"REMINDER_QUIET_HOURS": "late", "REMINDER_ESCALATE": "maybe", "REMINDER_OVERDUE_MAX": "-1"})
    text = str(caught.value)
    assert "REMINDER_QUIET_HOURS" in text and "REMINDER_ESCALATE" in text and "REMINDER_OVERDUE_MAX" in text


def test_reminder_policy_settings_parse() -> None:
    settings = load_settings(
        {"REMINDER_QUIET_HOURS": "21:30-07:00", "REMINDER_ESCALATE": "off", "REMINDER_BRIEF_MINUTES": "5"}
    )
    assert (settings.reminder_quiet_hours, settings.reminder_escalate, settings.reminder_brief_minutes) == (
        "21:30-07:00",
        False,
        5,
    )


def test_worker_shutdown_grace_is_read_and_bounded() -> None:
    # What it drives (the drain of a real worker process) is tested in tests/e2e/test_worker_faults.py.
    assert load_settings({}).worker_shutdown_grace_s == 20
    with pytest.raises(SettingsError, match="WORKER_SHUTDOWN_GRACE_S"):
        load_settings({"WORKER_SHUTDOWN_GRACE_S": "-1"})
    assert load_settings({"WORKER_SHUTDOWN_GRACE_S": "7"}).worker_shutdown_grace_s == 7
    assert load_settings({"METRICS_PORT": "9100"}).metrics_port == 9100
    with pytest.raises(SettingsError, match="METRICS_PORT"):
        load_settings({"METRICS_PORT": "0"})
