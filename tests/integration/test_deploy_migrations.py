"""The migrate Lambda that runs on every deployment."""

from __future__ import annotations

import boto3

from functions.migrate.handler import lambda_handler
from pulse import runtime
from pulse.db.migrate import available_migrations
from tests.builders import FakeLambdaContext


def test_migrate_lambda_reads_the_url_from_secrets_manager_and_is_idempotent(aws, pg_cluster, monkeypatch):
    # Given a fresh, empty database whose URL is in the stage's secret
    import psycopg

    with psycopg.connect(pg_cluster.url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS deploy_target")
        conn.execute("CREATE DATABASE deploy_target")
    arn = boto3.client("secretsmanager").create_secret(
        Name="pulse/dev/database-url", SecretString=pg_cluster.database_url("deploy_target")
    )["ARN"]
    monkeypatch.setenv("PULSE_DATABASE_SECRET_ARN", arn)
    monkeypatch.delenv("PULSE_DATABASE_URL", raising=False)
    runtime.reset()

    first = lambda_handler({}, FakeLambdaContext())
    second = lambda_handler({}, FakeLambdaContext())

    versions = [m.version for m in available_migrations()]
    assert first["status"] == "migrated" and first["applied"] == versions
    assert second == {"status": "migrated", "applied": [], "schema_version": versions[-1]}
    runtime.reset()


def test_first_deploy_with_the_placeholder_secret_does_not_fail_the_deployment(aws, monkeypatch):
    arn = boto3.client("secretsmanager").create_secret(
        Name="pulse/dev/database-url", SecretString="Xy8!generated-placeholder"
    )["ARN"]
    monkeypatch.setenv("PULSE_DATABASE_SECRET_ARN", arn)
    monkeypatch.delenv("PULSE_DATABASE_URL", raising=False)
    runtime.reset()
    assert lambda_handler({}, FakeLambdaContext()) == {"status": "not_configured", "applied": []}
    runtime.reset()
