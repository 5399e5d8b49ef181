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


def test_no_secret_written_in_the_source_is_ever_accepted() -> None:
    for environment in ("development", "test", "production"):
        with pytest.raises(SettingsError, match="ASHBY_WEBHOOK_SECRET: this value is published") as refused:
            load_settings(
                {"ENVIRONMENT": environment, "ASHBY_WEBHOOK_SECRET": "dev-only-ashby-webhook-secret-not-for-production"}
            )
        assert "required in production" not in str(refused.value).split("ASHBY_WEBHOOK_SECRET")[1].split("\n")[0]


def test_missing_secrets_outside_production_are_random_for_each_process() -> None:
    first, second = load_settings({}), load_settings({})
    assert first.generated_secrets == (
        "ASHBY_WEBHOOK_SECRET",
        "SLACK_SIGNING_SECRET",
        "ASHBY_API_KEY",
        "SLACK_BOT_TOKEN",
    )
    assert first.ashby_webhook_secret != second.ashby_webhook_secret
    assert len(first.slack_signing_secret) >= 32
    given = load_settings({"ASHBY_WEBHOOK_SECRET": "x" * 40})
    assert given.ashby_webhook_secret == "x" * 40 and "ASHBY_WEBHOOK_SECRET" not in given.generated_secrets
    production = {"ENVIRONMENT": "production", "DATABASE_URL": "postgresql://h/db", "REDIS_URL": "redis://h"}
    with pytest.raises(SettingsError) as refused:
        load_settings(production)
    for name in ("ASHBY_WEBHOOK_SECRET", "SLACK_SIGNING_SECRET", "ASHBY_API_KEY", "SLACK_BOT_TOKEN"):
        assert f"{name}: required in production" in str(refused.value)


def test_the_example_environment_file_leads_to_production() -> None:
    from pathlib import Path

    example = dict(
        line.split("=", 1)
        for line in (Path(__file__).resolve().parents[2] / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert example["ENVIRONMENT"] == "production"
    with pytest.raises(SettingsError) as refused:
        load_settings(example)  # as copied: every secret must be filled in before anything starts
    assert "ASHBY_WEBHOOK_SECRET: required in production" in str(refused.value)


def test_ingress_limits_default_parse_and_refuse_nonsense() -> None:
    defaults = load_settings({})
    assert (
        defaults.ingress_header_timeout_s,
        defaults.ingress_body_timeout_s,
        defaults.ingress_keepalive_s,
        defaults.ingress_max_connections,
    ) == (10, 15, 5, 1000)
    custom = load_settings({"INGRESS_HEADER_TIMEOUT_S": "0.5", "INGRESS_BODY_TIMEOUT_S": "2.5"})
    assert (custom.ingress_header_timeout_s, custom.ingress_body_timeout_s) == (0.5, 2.5)
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {
                "INGRESS_HEADER_TIMEOUT_S": "0",
                "INGRESS_BODY_TIMEOUT_S": "nan",
                "INGRESS_KEEPALIVE_S": "1.5",
                "INGRESS_MAX_CONNECTIONS": "0",
            }
        )
    assert [problem.split(":")[0] for problem in caught.value.problems] == [
        "INGRESS_HEADER_TIMEOUT_S",
        "INGRESS_BODY_TIMEOUT_S",
        "INGRESS_KEEPALIVE_S",
        "INGRESS_MAX_CONNECTIONS",
    ]


def test_retention_defaults_parse_and_refuse_nonsense() -> None:
    defaults = load_settings({})
    assert (
        defaults.retention_answers_grace_days,
        defaults.retention_draft_days,
        defaults.retention_dead_letter_days,
        defaults.retention_schedule_days,
    ) == (30, 14, 30, 365)
    assert load_settings({"RETENTION_ANSWERS_GRACE_DAYS": "0"}).retention_answers_grace_days == 0
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {
                "RETENTION_ANSWERS_GRACE_DAYS": "-1",
                "RETENTION_DRAFT_DAYS": "0",
                "RETENTION_DEAD_LETTER_DAYS": "two weeks",
                "RETENTION_SCHEDULE_DAYS": "99999",
            }
        )
    assert [problem.split(":")[0] for problem in caught.value.problems] == [
        "RETENTION_ANSWERS_GRACE_DAYS",
        "RETENTION_DRAFT_DAYS",
        "RETENTION_DEAD_LETTER_DAYS",
        "RETENTION_SCHEDULE_DAYS",
    ]


def test_the_brief_tolerance_defaults_to_ten_minutes_and_refuses_nonsense() -> None:
    assert load_settings({}).reminder_brief_early_minutes == 10
    assert load_settings({"REMINDER_BRIEF_EARLY_MINUTES": "0"}).reminder_brief_early_minutes == 0
    for bad in ("-1", "soon", str(24 * 60 + 1)):
        with pytest.raises(SettingsError) as refused:
            load_settings({"REMINDER_BRIEF_EARLY_MINUTES": bad})
        assert "REMINDER_BRIEF_EARLY_MINUTES" in str(refused.value)
