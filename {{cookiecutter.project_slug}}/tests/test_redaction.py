"""What redact() masks, and what it leaves readable."""

from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.redaction import MASK, redact


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        # URL userinfo: the password goes, user and host stay.
        ("postgresql://airflow:s3cret@db:5432/airflow", "s3cret", "postgresql://airflow:***@db"),
        (
            "db+postgresql://u:pa/ss@127.0.0.1:1/x failed",
            "pa/ss",
            "db+postgresql://u:***@127.0.0.1",
        ),
        ("redis://:hunter2@redis:6379/0", "hunter2", "redis://:***@redis:6379/0"),
        ("https://ghp_token1234@github.com/o/r.git", "ghp_token1234", "https://***@github.com/o/r"),
        # Slack's webhook path is the credential; the host stays to tell which service.
        (
            "alert webhook https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX unreachable",
            "XXXXsecretXXXX",
            "https://hooks.slack.com/services/*** unreachable",
        ),
        (
            "https://discord.com/api/webhooks/123/abcTOKENdef",
            "abcTOKENdef",
            "https://discord.com/api/webhooks/***",
        ),
        # A query value named like a credential; the other parameters stay.
        ("https://h/hook?token=tok3n_value&channel=ops", "tok3n_value", "?token=***&channel=ops"),
        (
            "https://b.s3.amazonaws.com/k?X-Amz-Signature=abcdef123",
            "abcdef123",
            "X-Amz-Signature=***",
        ),
        ("https://h/x?api_key=k3y_value", "k3y_value", "?api_key=***"),
        # Environment dumps and headers.
        ("AIRFLOW__API_AUTH__JWT_SECRET=jwt_value_1 next", "jwt_value_1", "JWT_SECRET=*** next"),
        ("Authorization: Bearer eyJhbGciOi.payload.sig", "eyJhbGciOi", "Bearer ***"),
    ],
)
def test_credentials_in_urls_and_assignments_are_masked(text, secret, kept):
    masked = redact(text)
    assert secret not in masked
    assert kept in masked


def test_known_secret_values_are_masked_also_percent_encoded():
    password = "p@ss word/1"
    text = f"password {password} and in a URL postgresql://u:p%40ss%20word%2F1@h/db"
    masked = redact(text, [password, None, ""])
    assert "p@ss" not in masked and "p%40ss" not in masked
    assert masked.count(MASK) == 2


def test_ordinary_text_and_urls_without_credentials_stay_readable():
    text = (
        "MLflow at http://127.0.0.1:5000/#/experiments/1?run=abc, user admin, batch ds=2026-01-31"
    )
    assert redact(text, ["admin"]) == text  # too short to be a secret: "admin" is a user name
    assert redact("sqlite:////tmp/airflow.db") == "sqlite:////tmp/airflow.db"
