"""`fleet doctor`'s pure parts: which permissions are missing, the configuration check, and the report."""

from __future__ import annotations

from shared.doctor import Check, check_configuration, check_secrets, missing_ashby_permissions, render

EVERYTHING = (
    "candidates:read",
    "candidates:write",
    "interviews:read",
    "hiringProcessMetadata:read",
    "jobs:read",
    "organization:read",
)


def test_ashby_permissions_in_either_spelling() -> None:
    assert missing_ashby_permissions(EVERYTHING) == []
    docs_spelling = ("candidatesRead", "candidatesWrite", "interviewsRead", "hiringProcessMetadataRead", "jobsRead",
                     "organizationRead")  # fmt: skip
    assert missing_ashby_permissions(docs_spelling) == []
    assert missing_ashby_permissions(("candidates:write", "interviews:read", "hiring_process:read", "jobs:read",
                                      "organization:read")) == []  # fmt: skip  # write covers read
    assert missing_ashby_permissions(("candidates:read", "jobs:read")) == [
        "candidates:write",
        "interviews:read",
        "hiringProcessMetadata:read",
        "organization:read",
    ]


def test_configuration_problems_are_the_first_finding() -> None:
    check, settings = check_configuration({"ENVIRONMENT": "production", "PORT": "eighty"})
    assert settings is None and check.status == "FAIL" and "PORT" in check.detail and "DATABASE_URL" in check.detail
    check, settings = check_configuration({})
    assert settings is not None and check.status == "WARN" and "ASHBY_API_KEY" in check.detail
    secrets = check_secrets(settings)
    assert secrets.status == "FAIL" and "ASHBY_WEBHOOK_SECRET and SLACK_SIGNING_SECRET" in secrets.detail
    given = {"ASHBY_WEBHOOK_SECRET": "w" * 40, "SLACK_SIGNING_SECRET": "s" * 40, "ASHBY_API_KEY": "k",
             "SLACK_BOT_TOKEN": "xoxb-1"}  # fmt: skip
    check, settings = check_configuration(given)
    assert check.status == "PASS" and settings is not None and check_secrets(settings).status == "PASS"
    assert not any(value in check.detail for value in given.values())


def test_the_report_says_what_to_fix_only_where_something_is_wrong() -> None:
    report = render(
        [
            Check("database", "PASS", "reachable", "never shown"),
            Check("redis", "WARN", "no append-only file", "start Redis with --appendonly yes"),
            Check("slack token", "FAIL", "the token lacks im:write", "add the scopes"),
        ]
    )
    lines = report.splitlines()
    assert lines[0].startswith("PASS  database") and "never shown" not in report
    assert "fix: start Redis with --appendonly yes" in lines[2] and "fix: add the scopes" in lines[4]
    assert lines[-1] == "doctor: 1 of 3 checks failing"
    assert render([Check("database", "PASS", "ok")]).splitlines()[-1] == "doctor: all 1 checks pass"
