"""The one settings object. Nothing else in Pulse reads the environment."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DbRole = Literal["owner", "pulse_app", "pulse_ingest", "pulse_operator"]


class Settings(BaseSettings):
    """Validated once at cold start; every field can be set as ``PULSE_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="PULSE_", extra="ignore", frozen=True)

    stage: str = "dev"
    # Database: a URL (local target, tests, self-hosting) or a Secrets Manager secret holding one (AWS).
    database_url: SecretStr | None = None
    database_secret_arn: str | None = None
    db_role: DbRole = "owner"
    db_connect_timeout_s: int = Field(default=5, ge=1, le=60)
    db_statement_timeout_ms: int = Field(default=30_000, ge=100)

    # Envelope limits (ARCHITECTURE §5, §7).
    max_payload_bytes: int = Field(default=128 * 1024, ge=256)
    max_metrics: int = Field(default=200, ge=1)
    max_clock_skew_s: int = Field(default=300, ge=0, description="how far in the future a ts may be")
    max_message_age_s: int = Field(default=7 * 86_400, ge=60, description="oldest buffered ts accepted")
    quarantine_excerpt_bytes: int = Field(default=1024, ge=64, le=16_384)

    # Per-device rate limit; the registry's plans override it per tenant.
    device_rate_per_minute: int = Field(default=600, ge=1)

    # Telemetry store.
    telemetry_retention_days: int = Field(default=90, ge=1)
    partitions_ahead_days: int = Field(default=3, ge=1, le=30)
    quarantine_retention_days: int = Field(default=30, ge=1)

    # API and identity (Cognito). The issuer is https://cognito-idp.<region>.amazonaws.com/<pool id>;
    # tokens are accepted when their audience (ID token) or client_id (access token) is listed.
    auth_issuer: str = ""
    auth_client_ids: tuple[str, ...] = ()
    auth_jwks_url: str | None = Field(default=None, description="defaults to <issuer>/.well-known/jwks.json")
    jwks_cache_s: int = Field(default=3600, ge=60)
    cognito_user_pool_id: str = ""
    api_rate_per_minute: int = Field(default=1200, ge=1, description="per tenant unless the plan says otherwise")
    portal_origin: str = "http://localhost:8080"

    # Provisioning (IoT Core).
    iot_endpoint: str = ""
    iot_data_url: str = Field(
        default="",
        description="URL twin replies, deltas and commands are published through (iot-data); empty: "
        "https:// + iot_endpoint or the account's ATS data endpoint. The local launcher sets the emulator's",
    )
    device_policy_name: str = ""
    iot_root_ca_pem: str = Field(default="", description="PEM of the broker CA (local emulator); AWS: Amazon Root CA 1")
    credential_grace_s: int = Field(default=86_400, ge=0, description="old certificate stays active after rotation")
    activation_code_ttl_s: int = Field(default=7 * 86_400, ge=60)

    # Alerts and the events outbox (ARCHITECTURE §3): the bus Alert* events go to, flap suppression.
    event_bus_name: str = Field(default="pulse", description="EventBridge bus the outbox publisher puts events on")
    event_source: str = Field(default="pulse.alerts", description="the Source of every event Pulse puts on the bus")
    alert_min_open_s: int = Field(default=60, ge=0, le=3600, description="a resolve sooner after opening is deferred")
    alert_reopen_window_s: int = Field(
        default=300, ge=0, le=86_400, description="an open this soon after a resolve reopens the same alert"
    )
    outbox_max_events_per_run: int = Field(default=1000, ge=10, description="rows one publisher run moves at most")
    outbox_function_name: str = Field(
        default="",
        description="outbox Lambda started (asynchronously) after a commit that wrote events; empty: only the "
        "minute sweep publishes them",
    )

    # Delivery workflow: the state machine a redrive starts (its ARN; set by CDK on the API function).
    delivery_state_machine_arn: str = Field(default="", description="Step Functions state machine of deliveries")

    # notifications: channel senders, their egress guard, email transport and the sealing of channel secrets.
    notify_egress_allow_cidrs: tuple[str, ...] = Field(
        default=(),
        description="networks senders may reach although not public (e.g. 127.0.0.1/32 for a local receiver)",
    )
    notify_email_transport: Literal["ses", "smtp"] = "ses"
    notify_email_from: str = Field(default="", description="From address of alert mail (a verified SES identity)")
    notify_ses_configuration_set: str = ""
    notify_smtp_host: str = "localhost"
    notify_smtp_port: int = Field(default=587, ge=1, le=65535)
    notify_smtp_starttls: bool = True
    notify_smtp_username: str = ""
    notify_smtp_password: SecretStr | None = None
    notify_smtp_timeout_s: float = Field(default=10.0, gt=0, le=60)
    notify_sealing: Literal["local", "kms"] = Field(default="local", description="kms on AWS")
    notify_local_secret_key: SecretStr | None = Field(
        default=None, description="urlsafe base64 of 32 random bytes; seals channel secrets on the local target"
    )
    notify_kms_key_id: str = Field(default="", description="KMS key (id, ARN or alias) that seals channel secrets")

    @field_validator("notify_egress_allow_cidrs")
    @classmethod
    def _egress_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for cidr in value:
            ipaddress.ip_network(cidr.strip(), strict=False)  # ValueError names the bad entry
        return value

    @model_validator(mode="after")
    def _retention_covers_buffering(self) -> Settings:
        if self.max_message_age_s > self.telemetry_retention_days * 86_400:
            raise ValueError("max_message_age_s must not exceed the telemetry retention")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
