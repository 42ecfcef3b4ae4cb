"""KMS adapter: encrypt and decrypt small secrets under one key, bound to an encryption context."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from pulse.errors import PulseError


class KmsError(PulseError):
    status = 502
    title = "Key service error"


class KmsCipher:
    def __init__(self, client: Any, key_id: str) -> None:
        self._client = client
        self._key_id = key_id

    def encrypt(self, plaintext: bytes, context: Mapping[str, str]) -> bytes:
        try:
            response = self._client.encrypt(KeyId=self._key_id, Plaintext=plaintext, EncryptionContext=dict(context))
        except (ClientError, BotoCoreError) as exc:
            raise KmsError(f"encrypt with {self._key_id}: {exc}") from exc
        blob: bytes = response["CiphertextBlob"]
        return blob

    def decrypt(self, ciphertext: bytes, context: Mapping[str, str]) -> bytes:
        try:
            response = self._client.decrypt(
                CiphertextBlob=ciphertext, KeyId=self._key_id, EncryptionContext=dict(context)
            )
        except (ClientError, BotoCoreError) as exc:
            raise KmsError(f"decrypt with {self._key_id}: {exc}") from exc
        plaintext: bytes = response["Plaintext"]
        return plaintext
