"""Channel secrets at rest: sealed before they are stored, opened only to send.

``seal(plaintext, context=...)`` returns a text token; ``open(token, context=...)`` gives the bytes
back or raises ``SealedSecretInvalid``. The context (e.g. tenant and channel id) is bound to the
token (AES-GCM associated data, KMS encryption context): a token copied to another channel or
tenant does not open. Tokens name their sealer (``local1:`` / ``kms1:``), so a stored token is never
mistaken for plaintext and a deployment can tell which key it needs.

- ``LocalKeySealer``: AES-256-GCM with ``notify_local_secret_key`` (the local target, self-hosting).
- ``KmsSealer``: KMS Encrypt/Decrypt with ``notify_kms_key_id`` (AWS).
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pulse.errors import ConfigurationError, PulseError
from pulse.notify.channels.secrets import ChannelSecrets, dump_secrets, load_secrets
from pulse.platform.aws.kms import KmsCipher, KmsError
from pulse.settings import Settings

LOCAL_PREFIX = "local1:"
KMS_PREFIX = "kms1:"
NONCE_BYTES = 12


class SealedSecretInvalid(PulseError):
    status = 500
    title = "Sealed secret cannot be opened"


class SecretSealer(Protocol):
    def seal(self, plaintext: bytes, *, context: Mapping[str, str] | None = None) -> str: ...

    def open(self, token: str, *, context: Mapping[str, str] | None = None) -> bytes: ...


def _associated_data(context: Mapping[str, str] | None) -> bytes:
    return "&".join(f"{k}={v}" for k, v in sorted((context or {}).items())).encode()


def _b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text.encode("ascii"))
    except (binascii.Error, ValueError) as exc:
        raise SealedSecretInvalid("sealed secret is not valid base64") from exc


class LocalKeySealer:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ConfigurationError("notify_local_secret_key must be 32 bytes (urlsafe base64)")
        self._aead = AESGCM(key)

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalKeySealer:
        if settings.notify_local_secret_key is None:
            raise ConfigurationError("set PULSE_NOTIFY_LOCAL_SECRET_KEY (urlsafe base64 of 32 random bytes)")
        try:
            key = base64.urlsafe_b64decode(settings.notify_local_secret_key.get_secret_value())
        except (binascii.Error, ValueError) as exc:
            raise ConfigurationError("notify_local_secret_key is not urlsafe base64") from exc
        return cls(key)

    @staticmethod
    def generate_key() -> str:
        return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode("ascii")

    def seal(self, plaintext: bytes, *, context: Mapping[str, str] | None = None) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, plaintext, _associated_data(context))
        return LOCAL_PREFIX + base64.urlsafe_b64encode(sealed).decode("ascii")

    def open(self, token: str, *, context: Mapping[str, str] | None = None) -> bytes:
        if not token.startswith(LOCAL_PREFIX):
            raise SealedSecretInvalid("not a locally sealed secret")
        sealed = _b64decode(token.removeprefix(LOCAL_PREFIX))
        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _associated_data(context))
        except (InvalidTag, ValueError) as exc:
            raise SealedSecretInvalid("sealed secret does not open with this key and context") from exc


class KmsSealer:
    def __init__(self, cipher: KmsCipher) -> None:
        self._cipher = cipher

    @classmethod
    def from_settings(cls, settings: Settings) -> KmsSealer:
        if not settings.notify_kms_key_id:
            raise ConfigurationError("set PULSE_NOTIFY_KMS_KEY_ID to the key that seals channel secrets")
        import boto3  # the adapter's SDK, imported only where KMS seals

        return cls(KmsCipher(boto3.client("kms"), settings.notify_kms_key_id))

    def seal(self, plaintext: bytes, *, context: Mapping[str, str] | None = None) -> str:
        blob = self._cipher.encrypt(plaintext, {"purpose": "pulse-channel-secret", **(context or {})})
        return KMS_PREFIX + base64.urlsafe_b64encode(blob).decode("ascii")

    def open(self, token: str, *, context: Mapping[str, str] | None = None) -> bytes:
        if not token.startswith(KMS_PREFIX):
            raise SealedSecretInvalid("not a KMS-sealed secret")
        blob = _b64decode(token.removeprefix(KMS_PREFIX))

        try:
            return self._cipher.decrypt(blob, {"purpose": "pulse-channel-secret", **(context or {})})
        except KmsError as exc:
            raise SealedSecretInvalid(f"sealed secret does not open: {exc.detail}") from exc


def sealer_from_settings(settings: Settings) -> SecretSealer:
    if settings.notify_sealing == "kms":
        return KmsSealer.from_settings(settings)
    return LocalKeySealer.from_settings(settings)


def channel_context(tenant_id: str, channel_id: str) -> dict[str, str]:
    """The context channel secrets are sealed under: they open only for the same tenant and channel."""
    return {"tenant_id": tenant_id, "channel_id": channel_id}


def seal_secrets(sealer: SecretSealer, secrets: ChannelSecrets, *, tenant_id: str, channel_id: str) -> str:
    return sealer.seal(dump_secrets(secrets), context=channel_context(tenant_id, channel_id))


def open_secrets(sealer: SecretSealer, token: str, *, tenant_id: str, channel_id: str) -> ChannelSecrets:
    return load_secrets(sealer.open(token, context=channel_context(tenant_id, channel_id)))
