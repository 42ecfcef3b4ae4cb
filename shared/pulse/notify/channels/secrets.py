"""Channel secrets: what grants access to a receiver. Sealed (``pulse.notify.sealing``) before storage,
never part of an API response, and kept out of validation errors (``hide_input_in_errors``).

``ChannelSecrets`` is a discriminated union on ``type``, paired with the channel's ``ChannelConfig``
(``check_pair``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import AwareDatetime, ConfigDict, Field, SecretStr, TypeAdapter, field_validator, model_validator

from pulse.notify.channels.models import (
    ChannelConfig,
    ChannelType,
    SnmpConfig,
    _Model,
    check_http_url,
)

Secret = Annotated[SecretStr, Field(min_length=1, max_length=4096)]


class _Secrets(_Model):
    # A refused secret must not come back in the error (API 422 bodies, logs).
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


def _long_enough(value: SecretStr | None, minimum: int, what: str) -> SecretStr | None:
    if value is not None and len(value.get_secret_value()) < minimum:
        raise ValueError(f"{what} must be at least {minimum} characters")
    return value


class WebhookSecrets(_Secrets):
    """HMAC signing secret; during a rotation the previous one also signs until ``previous_valid_until``."""

    type: Literal[ChannelType.WEBHOOK] = ChannelType.WEBHOOK
    signing_secret: Annotated[SecretStr, Field(max_length=256)]
    previous: Annotated[SecretStr, Field(max_length=256)] | None = None
    previous_valid_until: AwareDatetime | None = None

    @field_validator("signing_secret", "previous")
    @classmethod
    def _length(cls, value: SecretStr | None) -> SecretStr | None:
        return _long_enough(value, 16, "a signing secret")

    @model_validator(mode="after")
    def _rotation(self) -> WebhookSecrets:
        if (self.previous is None) != (self.previous_valid_until is None):
            raise ValueError("previous and previous_valid_until are set together")
        return self

    def signing_keys(self, now: datetime) -> list[bytes]:
        """Current secret first, then the previous one while its grace period lasts."""
        keys = [self.signing_secret.get_secret_value().encode()]
        if self.previous is not None and self.previous_valid_until is not None and now < self.previous_valid_until:
            keys.append(self.previous.get_secret_value().encode())
        return keys


class EmailSecrets(_Secrets):
    """Email has no per-channel secret: the SES identity or SMTP relay credentials are the platform's."""

    type: Literal[ChannelType.EMAIL] = ChannelType.EMAIL


class SnmpSecrets(_Secrets):
    type: Literal[ChannelType.SNMP] = ChannelType.SNMP
    community: Annotated[SecretStr, Field(min_length=1, max_length=64)] | None = Field(default=None, description="v2c")
    auth_key: Annotated[SecretStr, Field(max_length=128)] | None = Field(default=None, description="v3")
    priv_key: Annotated[SecretStr, Field(max_length=128)] | None = Field(default=None, description="v3")

    @field_validator("auth_key", "priv_key")
    @classmethod
    def _length(cls, value: SecretStr | None) -> SecretStr | None:
        return _long_enough(value, 8, "an SNMP v3 key")  # RFC 3414: pass phrases of at least 8 characters


class MqttSecrets(_Secrets):
    type: Literal[ChannelType.MQTT] = ChannelType.MQTT


class SmsSecrets(_Secrets):
    """SMS has no per-channel secret: the platform's SNS permission sends it."""

    type: Literal[ChannelType.SMS] = ChannelType.SMS


class SlackSecrets(_Secrets):
    type: Literal[ChannelType.SLACK] = ChannelType.SLACK
    webhook_url: Secret = Field(description="incoming webhook URL; its path is the credential")

    @field_validator("webhook_url")
    @classmethod
    def _url(cls, value: SecretStr) -> SecretStr:
        return SecretStr(check_http_url(value.get_secret_value(), what="Slack webhook URL"))


class TeamsSecrets(_Secrets):
    type: Literal[ChannelType.TEAMS] = ChannelType.TEAMS
    webhook_url: Secret = Field(description="Teams workflow (Power Automate) webhook URL; its sig= is the credential")

    @field_validator("webhook_url")
    @classmethod
    def _url(cls, value: SecretStr) -> SecretStr:
        return SecretStr(check_http_url(value.get_secret_value(), what="Teams webhook URL"))


class PagerDutySecrets(_Secrets):
    type: Literal[ChannelType.PAGERDUTY] = ChannelType.PAGERDUTY
    routing_key: Annotated[SecretStr, Field(min_length=20, max_length=64)] = Field(
        description="Events API v2 integration (routing) key"
    )

    @field_validator("routing_key")
    @classmethod
    def _key(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().isalnum():
            raise ValueError("routing key must be letters and digits")
        return value


ChannelSecrets = Annotated[
    WebhookSecrets
    | EmailSecrets
    | SnmpSecrets
    | MqttSecrets
    | SlackSecrets
    | TeamsSecrets
    | PagerDutySecrets
    | SmsSecrets,
    Field(discriminator="type"),
]
CHANNEL_SECRETS: TypeAdapter[ChannelSecrets] = TypeAdapter(ChannelSecrets, config=ConfigDict(hide_input_in_errors=True))


def check_pair(config: ChannelConfig, secrets: ChannelSecrets) -> None:
    """Config and secrets belong to the same type and together are complete; raises ``ValueError``."""
    if config.type != secrets.type:
        raise ValueError(f"secrets of a {secrets.type} channel do not fit a {config.type} channel")
    if isinstance(config, SnmpConfig) and isinstance(secrets, SnmpSecrets):
        if config.version == "v2c" and secrets.community is None:
            raise ValueError("SNMP v2c needs a community")
        if config.version == "v3" and (secrets.auth_key is None or secrets.priv_key is None):
            raise ValueError("SNMP v3 authPriv needs auth_key and priv_key (at least 8 characters each)")


def dump_secrets(secrets: ChannelSecrets) -> bytes:
    """Plaintext JSON of the secrets, for sealing only (``SecretStr`` values revealed)."""

    def reveal(value: Any) -> Any:
        if isinstance(value, SecretStr):
            return value.get_secret_value()
        if isinstance(value, datetime):
            return value.isoformat()
        return value

    return orjson.dumps({key: reveal(getattr(secrets, key)) for key in type(secrets).model_fields})


def load_secrets(plaintext: bytes) -> ChannelSecrets:
    return CHANNEL_SECRETS.validate_json(plaintext)
