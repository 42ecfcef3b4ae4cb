"""Channel configuration (what a customer may see again) and channel secrets (sealed, never returned).

``ChannelConfig`` and ``ChannelSecrets`` are discriminated unions on ``type``. Configs hold only
non-secret settings; anything that grants access (a signing secret, a community string, USM keys,
a webhook URL that embeds a token, a PagerDuty routing key) lives in the secrets model, which is
sealed (``pulse.notify.sealing``) before it is stored and is never part of an API response.

Static rules are checked here (https, addresses, SNMP v3 authPriv, MQTT topic shape). Whether an
address may be reached at all is decided when sending, after DNS resolution (``ssrf``): an ``http``
URL is accepted here only for a literal loopback host, and the egress guard refuses even that
unless the operator allow-list admits it (tests, self-hosted receivers on the same machine).
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    field_validator,
    model_validator,
)

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
# The Pulse enterprise arc. 32473 is IANA's "example enterprise number for documentation use"
# (RFC 5612); an operator who ships Pulse must replace it with their own IANA Private Enterprise Number
# (here, in the MIB file and in receivers' configuration).
PULSE_ENTERPRISE_NUMBER = 32473

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)
_TOPIC_LEVEL = re.compile(r"^[A-Za-z0-9_.:=@~-]+$")
_SNMP_USER = re.compile(r"^[A-Za-z0-9_.@-]{1,32}$")
_ENGINE_ID = re.compile(r"^(?:[0-9a-fA-F]{2}){5,32}$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_PHONE_SEPARATORS = re.compile(r"[\s().-]")
_SLACK_MEMBER = re.compile(r"^[UW][A-Z0-9]{6,20}$")
MAX_TOPIC_SLASHES = 7  # AWS IoT Core refuses a publish topic with more forward slashes


class ChannelType(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"
    SNMP = "snmp"
    MQTT = "mqtt"
    SLACK = "slack"
    TEAMS = "teams"
    PAGERDUTY = "pagerduty"
    SMS = "sms"


def _is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_http_url(value: str, *, what: str) -> str:
    """An absolute https URL (http only for a literal loopback host), without credentials or fragment."""
    from urllib.parse import urlsplit

    value = value.strip()
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{what} is not a valid URL: {exc}") from exc
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError(f"{what} must be an absolute https:// URL")
    if parts.scheme == "http" and not _is_loopback_host(host):
        raise ValueError(f"{what} must use https (plain http is allowed only for a loopback test receiver)")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{what} must not carry a user name or password")
    if parts.fragment:
        raise ValueError(f"{what} must not have a #fragment")
    if port == 0:
        raise ValueError(f"{what} has an invalid port")
    if len(value) > 2048:
        raise ValueError(f"{what} is longer than 2048 characters")
    return value


def check_email_address(value: str) -> str:
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


def check_phone_number(value: str) -> str:
    """An E.164 number (``+4915112345678``); spaces, dots, dashes and parentheses are dropped first."""
    number = _PHONE_SEPARATORS.sub("", value.strip())
    if not _E164.match(number):
        raise ValueError(f"{value!r} is not a phone number in international format (+<country code><number>)")
    return number


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------------------- configs


class WebhookConfig(_Model):
    type: Literal[ChannelType.WEBHOOK] = ChannelType.WEBHOOK
    url: str = Field(description="https endpoint the JSON event is POSTed to; redirects are not followed")
    timeout_s: float = Field(default=10.0, gt=0, le=30)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_http_url(value, what="webhook URL")


class EmailConfig(_Model):
    type: Literal[ChannelType.EMAIL] = ChannelType.EMAIL
    to: list[str] = Field(min_length=1, max_length=20, description="recipients")
    subject_prefix: str = Field(default="[Pulse]", max_length=40)

    @field_validator("to")
    @classmethod
    def _to(cls, value: list[str]) -> list[str]:
        addresses = [check_email_address(item) for item in value]
        if len({a.lower() for a in addresses}) != len(addresses):
            raise ValueError("recipients must not repeat")
        return addresses

    @field_validator("subject_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if any(ch in value for ch in "\r\n"):
            raise ValueError("subject prefix must be one line")
        return value


class SnmpConfig(_Model):
    """Where traps go and how they are authenticated; v3 is always authPriv (SHA family + AES-128)."""

    type: Literal[ChannelType.SNMP] = ChannelType.SNMP
    host: str = Field(description="trap receiver: host name or IP address")
    port: int = Field(default=162, ge=1, le=65535)
    version: Literal["v2c", "v3"] = "v3"
    notification: Literal["trap", "inform"] = Field(
        default="trap", description="inform waits for the receiver's acknowledgement (retried when missing)"
    )
    user: str | None = Field(default=None, description="v3 USM user name")
    security_level: Literal["authPriv"] | None = Field(default=None, description="v3: only authPriv is accepted")
    auth_protocol: Literal["SHA", "SHA-256"] | None = None
    priv_protocol: Literal["AES-128"] | None = None
    engine_id: str | None = Field(
        default=None,
        description="v3 snmpEngineID Pulse sends traps with (hex); default derived from the channel id "
        "(receivers configure the user under this engine id)",
    )
    timeout_s: float = Field(default=3.0, gt=0, le=30)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        value = value.strip().strip("[]")
        try:
            ipaddress.ip_address(value)
        except ValueError:
            if not _HOSTNAME.match(value):
                raise ValueError(f"{value!r} is not a host name or IP address") from None
        return value

    @field_validator("engine_id")
    @classmethod
    def _engine_id(cls, value: str | None) -> str | None:
        if value is not None and not _ENGINE_ID.match(value.removeprefix("0x")):
            raise ValueError("engine_id must be 5 to 32 octets in hex")
        return None if value is None else value.removeprefix("0x").lower()

    @model_validator(mode="after")
    def _version_rules(self) -> SnmpConfig:
        if self.version == "v3":
            if not self.user or not _SNMP_USER.match(self.user):
                raise ValueError("SNMP v3 needs a user name (1-32 letters, digits, _.@-)")
            if self.security_level != "authPriv":
                raise ValueError("SNMP v3 requires security_level authPriv (noAuthNoPriv and authNoPriv are refused)")
            if self.auth_protocol is None or self.priv_protocol is None:
                raise ValueError("SNMP v3 authPriv requires auth_protocol SHA or SHA-256 and priv_protocol AES-128")
        elif any(v is not None for v in (self.user, self.security_level, self.auth_protocol, self.priv_protocol)):
            raise ValueError("user, security_level, auth_protocol and priv_protocol apply to SNMP v3 only")
        return self


class MqttConfig(_Model):
    type: Literal[ChannelType.MQTT] = ChannelType.MQTT
    topic: str = Field(description="tenant/{tenant_id}/out/...: the tenant's own outbound prefix, no wildcards")
    qos: Literal[0, 1] = 1

    @field_validator("topic")
    @classmethod
    def _topic(cls, value: str) -> str:
        if "+" in value or "#" in value:
            raise ValueError("MQTT topic must not contain the wildcards + or #")
        levels = value.split("/")
        if len(levels) < 4 or levels[0] != "tenant" or levels[2] != "out":
            raise ValueError("MQTT topic must be tenant/{tenant_id}/out/<name>[/...]")
        if not all(_TOPIC_LEVEL.match(level) for level in levels):
            raise ValueError("MQTT topic levels must be non-empty and use letters, digits and _.:=@~- only")
        if value.count("/") > MAX_TOPIC_SLASHES:
            raise ValueError(f"MQTT topic must have at most {MAX_TOPIC_SLASHES} '/' (AWS IoT Core limit)")
        return value

    @property
    def tenant_id(self) -> str:
        return self.topic.split("/")[1]

    def check_tenant(self, tenant_id: str) -> None:
        """The topic must stay under the channel owner's prefix; raises ``ValueError`` otherwise."""
        if self.tenant_id != tenant_id:
            raise ValueError(f"MQTT topic must start with tenant/{tenant_id}/out/")


class SlackConfig(_Model):
    type: Literal[ChannelType.SLACK] = ChannelType.SLACK
    mention: Literal["here", "channel"] | None = Field(
        default=None, description="@here or @channel on openings of critical and major alerts"
    )
    member_id: str | None = Field(
        default=None, description="a Slack member id (U..., W...): that person is mentioned in every message"
    )

    @field_validator("member_id")
    @classmethod
    def _member(cls, value: str | None) -> str | None:
        if value is not None and not _SLACK_MEMBER.match(value.strip()):
            raise ValueError(f"{value!r} is not a Slack member id (U or W followed by letters and digits)")
        return None if value is None else value.strip()


class SmsConfig(_Model):
    """A text message through Amazon SNS to one phone number."""

    type: Literal[ChannelType.SMS] = ChannelType.SMS
    phone_number: str = Field(description="E.164, e.g. +4915112345678")

    @field_validator("phone_number")
    @classmethod
    def _number(cls, value: str) -> str:
        return check_phone_number(value)


class TeamsConfig(_Model):
    type: Literal[ChannelType.TEAMS] = ChannelType.TEAMS


class PagerDutyConfig(_Model):
    type: Literal[ChannelType.PAGERDUTY] = ChannelType.PAGERDUTY
    events_url: str = Field(default=PAGERDUTY_EVENTS_URL, description="Events API v2 enqueue URL (EU: events.eu.)")

    @field_validator("events_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_http_url(value, what="PagerDuty events URL")


ChannelConfig = Annotated[
    WebhookConfig | EmailConfig | SnmpConfig | MqttConfig | SlackConfig | TeamsConfig | PagerDutyConfig | SmsConfig,
    Field(discriminator="type"),
]
CHANNEL_CONFIG: TypeAdapter[ChannelConfig] = TypeAdapter(ChannelConfig)
