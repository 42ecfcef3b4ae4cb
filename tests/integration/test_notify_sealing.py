"""Channel secrets are stored sealed: with a local AES-GCM key (local target) or KMS (moto), bound to
the tenant and channel they belong to, and never readable from the stored token."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import boto3
import pytest

from pulse.errors import ConfigurationError
from pulse.notify.channels import CHANNEL_SECRETS
from pulse.notify.sealing import (
    KmsSealer,
    LocalKeySealer,
    SealedSecretInvalid,
    SecretSealer,
    open_secrets,
    seal_secrets,
    sealer_from_settings,
)
from pulse.platform.aws.kms import KmsCipher
from pulse.settings import Settings

WEBHOOK_SECRETS = CHANNEL_SECRETS.validate_python({"type": "webhook", "signing_secret": "whsec-0123456789abcdef"})


@pytest.fixture
def kms_sealer(aws: None) -> Iterator[KmsSealer]:
    client = boto3.client("kms", region_name="eu-west-1")
    key_id = client.create_key(Description="pulse channel secrets")["KeyMetadata"]["KeyId"]
    return KmsSealer(KmsCipher(client, key_id))


@pytest.fixture
def local_sealer() -> LocalKeySealer:
    return sealer_from_settings(Settings(notify_local_secret_key=LocalKeySealer.generate_key()))  # type: ignore[return-value]


@pytest.fixture(params=["local", "kms"])
def sealer(request: pytest.FixtureRequest) -> SecretSealer:
    return request.getfixturevalue(f"{request.param}_sealer")  # type: ignore[no-any-return]


def test_sealed_secrets_open_for_their_own_channel(sealer: SecretSealer) -> None:
    token = seal_secrets(sealer, WEBHOOK_SECRETS, tenant_id="acme", channel_id="ch-1")

    assert open_secrets(sealer, token, tenant_id="acme", channel_id="ch-1") == WEBHOOK_SECRETS


def test_token_does_not_reveal_the_secret(sealer: SecretSealer) -> None:
    token = seal_secrets(sealer, WEBHOOK_SECRETS, tenant_id="acme", channel_id="ch-1")

    decoded = base64.urlsafe_b64decode(token.split(":", 1)[1])
    assert b"whsec-0123456789abcdef" not in decoded
    assert "whsec" not in token


def test_token_copied_to_another_tenant_or_channel_does_not_open(sealer: SecretSealer) -> None:
    token = seal_secrets(sealer, WEBHOOK_SECRETS, tenant_id="acme", channel_id="ch-1")

    with pytest.raises(SealedSecretInvalid):
        open_secrets(sealer, token, tenant_id="globex", channel_id="ch-1")
    with pytest.raises(SealedSecretInvalid):
        open_secrets(sealer, token, tenant_id="acme", channel_id="ch-2")


def test_same_secret_seals_to_different_tokens(sealer: SecretSealer) -> None:
    first = seal_secrets(sealer, WEBHOOK_SECRETS, tenant_id="acme", channel_id="ch-1")
    second = seal_secrets(sealer, WEBHOOK_SECRETS, tenant_id="acme", channel_id="ch-1")

    assert first != second


def test_another_local_key_cannot_open(local_sealer: LocalKeySealer) -> None:
    token = local_sealer.seal(b"community", context={"channel_id": "ch-1"})
    other = LocalKeySealer(base64.urlsafe_b64decode(LocalKeySealer.generate_key()))

    with pytest.raises(SealedSecretInvalid, match="does not open"):
        other.open(token, context={"channel_id": "ch-1"})


def test_token_of_one_sealer_is_refused_by_the_other(local_sealer: LocalKeySealer, kms_sealer: KmsSealer) -> None:
    with pytest.raises(SealedSecretInvalid, match="not a KMS-sealed secret"):
        kms_sealer.open(local_sealer.seal(b"x"))
    with pytest.raises(SealedSecretInvalid, match="not a locally sealed secret"):
        local_sealer.open(kms_sealer.seal(b"x"))


def test_local_sealer_refuses_to_start_without_a_key() -> None:
    with pytest.raises(ConfigurationError, match="PULSE_NOTIFY_LOCAL_SECRET_KEY"):
        sealer_from_settings(Settings())
    with pytest.raises(ConfigurationError, match="32 bytes"):
        sealer_from_settings(Settings(notify_local_secret_key=base64.urlsafe_b64encode(b"short").decode()))


def test_kms_sealer_needs_a_key_id() -> None:
    with pytest.raises(ConfigurationError, match="PULSE_NOTIFY_KMS_KEY_ID"):
        sealer_from_settings(Settings(notify_sealing="kms"))
