"""Builders for rows, envelopes and AWS-shaped events used across the suites."""

from __future__ import annotations

import base64
import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg

from pulse.connect.credentials import hash_device_token
from pulse.connect.topics import thing_name

_seq = itertools.count(1)


def make_tenant(
    sql: psycopg.Connection, tenant_id: str = "acme", *, status: str = "active", rate: int | None = None
) -> str:
    sql.execute(
        "INSERT INTO tenants (id, name, status, device_rate_per_minute) VALUES (%s, %s, %s, %s)",
        (tenant_id, tenant_id.title(), status, rate),
    )
    return tenant_id


def make_device(
    sql: psycopg.Connection,
    tenant_id: str = "acme",
    device_id: str = "dev-1",
    *,
    status: str = "active",
    token: str | None = None,
    with_thing: bool = True,
) -> str:
    sql.execute(
        """INSERT INTO devices (tenant_id, id, name, status, thing_name, token_hash)
           VALUES (%s, %s, %s, %s, %s, %s)""",
        (
            tenant_id,
            device_id,
            device_id,
            status,
            thing_name(tenant_id, device_id) if with_thing else None,
            hash_device_token(token) if token else None,
        ),
    )
    return device_id


def envelope(
    metrics: dict[str, Any] | None = None,
    *,
    ts: datetime | int | None = None,
    msg_id: str | None = "auto",
    seq: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    when = ts if ts is not None else datetime.now(UTC)
    doc: dict[str, Any] = {
        "v": 1,
        "ts": when if isinstance(when, int) else int(when.timestamp() * 1000),
        "metrics": metrics if metrics is not None else {"temp_c": 21.5, "battery_pct": 88},
    }
    if msg_id is not None:
        doc["msg_id"] = uuid.uuid4().hex if msg_id == "auto" else msg_id
    if seq is not None:
        doc["seq"] = seq
    doc.update(extra)
    return doc


def rule_record(
    topic: str, payload: bytes | dict[str, Any], *, client_id: str | None = None, message_id: str | None = None
) -> dict[str, Any]:
    """One SQS record as the IoT topic rule writes it (payload base64-encoded by the rule SQL)."""
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    parts = topic.split("/")
    body = {
        "payload_b64": base64.b64encode(raw).decode(),
        "topic": topic,
        "client_id": client_id
        if client_id is not None
        else (thing_name(parts[1], parts[3]) if len(parts) >= 4 else "unknown"),
        "principal": "cert-" + uuid.uuid4().hex[:12],
        "received_at": int(datetime.now(UTC).timestamp() * 1000),
    }
    return sqs_record(orjson.dumps(body).decode(), message_id=message_id)


def sqs_record(body: str, *, message_id: str | None = None) -> dict[str, Any]:
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "handle-" + uuid.uuid4().hex,
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": str(next(_seq)),
            "SenderId": "AIDAIOT",
            "ApproximateFirstReceiveTimestamp": "1",
        },
        "messageAttributes": {},
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:pulse-ingest",
        "awsRegion": "eu-west-1",
    }


def sqs_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def telemetry_topic(tenant_id: str = "acme", device_id: str = "dev-1", kind: str = "telemetry") -> str:
    return f"tenant/{tenant_id}/device/{device_id}/{kind}"


class FakeLambdaContext:
    function_name = "pulse-test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:pulse-test"
    aws_request_id = "req-" + uuid.uuid4().hex

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def http_api_event(
    method: str,
    path: str,
    *,
    body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload v2.0) event."""
    raw = body.decode() if isinstance(body, bytes) else body
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", **{k.lower(): v for k, v in (headers or {}).items()}},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.10",
                "userAgent": "gateway/1.0",
            },
            "requestId": "req-" + uuid.uuid4().hex,
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": "22/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1795341600000,
        },
        "pathParameters": path_parameters or {},
        "body": raw,
        "isBase64Encoded": False,
    }


# --- API: Cognito-shaped tokens signed by a test key, and the app wired to a test database ---------

TEST_ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TEST"
TEST_CLIENT_ID = "portal-client"


class TokenIssuer:
    """Signs Cognito-shaped JWTs with a fresh RSA key and serves its JWKS (no network)."""

    def __init__(self, kid: str = "test-key") -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.jwks_fetches = 0

    def jwks(self, url: str) -> dict[str, Any]:
        import json

        from jwt.algorithms import RSAAlgorithm

        self.jwks_fetches += 1
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def token(
        self,
        *,
        role: str = "customer_admin",
        tenant: str | None = "acme",
        sub: str | None = None,
        email: str | None = None,
        token_use: str = "id",
        expires_in: int = 3600,
        **claims: Any,
    ) -> str:
        import time

        import jwt

        now = int(time.time())
        subject = sub or f"user-{role}-{tenant}"
        body: dict[str, Any] = {
            "sub": subject,
            "iss": TEST_ISSUER,
            "iat": now,
            "exp": now + expires_in,
            "token_use": token_use,
            "cognito:groups": [role],
            "cognito:username": subject,
            "email": email or f"{role}@{tenant or 'pulse'}.example",
        }
        body["aud" if token_use == "id" else "client_id"] = TEST_CLIENT_ID
        if tenant is not None:
            body["custom:tenant_id"] = tenant
        body.update(claims)
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": self.kid})

    def headers(self, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(**kwargs)}"}


def api_settings(database_url: str, **overrides: Any) -> Any:
    from pulse.settings import Settings

    return Settings(
        database_url=database_url,
        db_role="pulse_app",
        auth_issuer=TEST_ISSUER,
        auth_client_ids=(TEST_CLIENT_ID,),
        device_policy_name="pulse-test-device",
        iot_endpoint="abc123-ats.iot.eu-west-1.amazonaws.com",
        **overrides,
    )


class ApiHarness:
    """The FastAPI app on a test database (as pulse_app), moto IoT, tokens from a test key.

    Build it inside the ``aws`` fixture (moto). ``client`` is a TestClient; ``get/post/...`` helpers
    take ``as_`` = (role, tenant) and add the bearer token.
    """

    def __init__(self, database_url: str, **settings: Any) -> None:
        import boto3
        from fastapi.testclient import TestClient

        from pulse.api.app import create_app
        from pulse.api.deps import ApiServices
        from pulse.db import Database
        from pulse.identity.tokens import TokenVerifier
        from pulse.registry.iot_identities import IotDeviceIdentities

        self.settings = api_settings(database_url, **settings)
        self.issuer = TokenIssuer()
        self.db = Database(database_url, "pulse_app")
        self.owner = Database(database_url)
        self.iot_client = boto3.client("iot", region_name="eu-west-1")
        self.iot_client.create_policy(
            policyName="pulse-test-device",
            policyDocument='{"Version": "2012-10-17", '
            '"Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}',
        )
        self.identities = IotDeviceIdentities(self.iot_client, "pulse-test-device", self.settings.iot_endpoint)
        self.verifier = TokenVerifier.from_settings(self.settings, fetcher=self.issuer.jwks)
        self.services = ApiServices(
            settings=self.settings, database=lambda: self.db, verifier=self.verifier, identities=lambda: self.identities
        )
        self.client = TestClient(create_app(self.services), raise_server_exceptions=False)

    def create_tenant(self, tenant_id: str, plan_id: str = "standard") -> None:
        from datetime import UTC, datetime

        from pulse.identity.scope import Actor, operator_transaction
        from pulse.registry.models import TenantIn
        from pulse.registry.subscriptions import create_tenant

        with operator_transaction(self.owner) as conn:
            create_tenant(
                conn,
                TenantIn(id=tenant_id, name=tenant_id.title(), plan_id=plan_id),
                Actor.system("test"),
                datetime.now(UTC),
            )

    def request(
        self,
        method: str,
        path: str,
        *,
        as_: tuple[str, str | None] = ("customer_admin", "acme"),
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        role, tenant = as_
        all_headers = {**self.issuer.headers(role=role, tenant=tenant), **(headers or {})}
        return self.client.request(method, "/api/v1" + path, headers=all_headers, **kwargs)

    def close(self) -> None:
        self.client.close()
        self.db.close()
        self.owner.close()


def store_points(sql: psycopg.Connection, tenant_id: str, device_id: str, points: Any) -> None:
    """Telemetry rows as ingest writes them: day partitions first, metric rows, then the dirty hours.

    ``points`` is an iterable of ``(ts, metric, value)``.
    """
    rows = list(points)
    for day in sorted({ts.date() for ts, _, _ in rows}):
        sql.execute("SELECT pulse_ensure_day_partition('telemetry', %s)", (day,))
    with sql.cursor() as cur:
        cur.executemany(
            "INSERT INTO telemetry (tenant_id, device_id, ts, metric, value) VALUES (%s, %s, %s, %s, %s)",
            [(tenant_id, device_id, ts, metric, value) for ts, metric, value in rows],
        )
        cur.executemany(
            "INSERT INTO telemetry_dirty_hours VALUES (%s, %s) ON CONFLICT DO NOTHING",
            sorted({(tenant_id, ts.replace(minute=0, second=0, microsecond=0)) for ts, _, _ in rows}),
        )


class RecordingPublisher:
    """A twin/command publisher that keeps what it would have sent to devices."""

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def publish(self, messages: Any) -> int:
        batch = list(messages)
        self.sent.extend(batch)
        return len(batch)


def lifecycle_event(
    client_id: str,
    event_type: str = "connected",
    *,
    at: datetime | None = None,
    session: str = "s-1",
    reason: str | None = None,
    version: int = 1,
) -> dict[str, Any]:
    """An IoT Core presence event as the rule ``SELECT * FROM '$aws/events/presence/+/+'`` delivers it."""
    event: dict[str, Any] = {
        "clientId": client_id,
        "timestamp": int((at or datetime.now(UTC)).timestamp() * 1000),
        "eventType": event_type,
        "sessionIdentifier": session,
        "principalIdentifier": "a1b2c3d4e5",
        "versionNumber": version,
    }
    if event_type == "disconnected":
        event["clientInitiatedDisconnect"] = reason == "CLIENT_INITIATED_DISCONNECT"
        event["disconnectReason"] = reason or "CONNECTION_LOST"
    return event
