"""The port provisioning talks to: an IoT identity provider (AWS IoT Core, moto in tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    thing_name: str
    certificate_id: str
    certificate_arn: str
    certificate_pem: str
    private_key: str


class DeviceIdentities(Protocol):
    def endpoint(self) -> str: ...

    def create_thing(self, tenant_id: str, device_id: str, thing_name: str) -> None: ...

    def add_certificate(self, thing_name: str) -> DeviceIdentity: ...

    def revoke_certificate(self, certificate_id: str) -> None: ...

    def delete_thing(self, thing_name: str) -> None: ...
