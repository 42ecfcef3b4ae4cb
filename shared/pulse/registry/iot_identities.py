"""``DeviceIdentities`` on AWS IoT Core, built on the shared ``IotRegistry`` adapter.

Revocation only deactivates (INACTIVE): the certificate stays visible for forensics and IoT Core
refuses its next connection. Decommissioning detaches and deactivates every certificate, then
deletes the thing.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from pulse.platform.aws.iot import IotError, IotRegistry
from pulse.registry.identities import DeviceIdentity


class IotDeviceIdentities:
    def __init__(self, client: Any, policy_name: str, endpoint: str = "") -> None:
        self._client = client
        self._registry = IotRegistry(client)
        self._policy_name = policy_name
        self._endpoint = endpoint

    def endpoint(self) -> str:
        if not self._endpoint:
            self._endpoint = self._registry.data_endpoint()
        return self._endpoint

    def create_thing(self, tenant_id: str, device_id: str, thing_name: str) -> None:
        self._registry.ensure_thing(thing_name, {"tenant_id": tenant_id, "device_id": device_id})

    def add_certificate(self, thing_name: str) -> DeviceIdentity:
        cert = self._registry.create_certificate()
        self._registry.attach(
            thing_name=thing_name, certificate_arn=cert.certificate_arn, policy_name=self._policy_name
        )
        return DeviceIdentity(
            thing_name=thing_name,
            certificate_id=cert.certificate_id,
            certificate_arn=cert.certificate_arn,
            certificate_pem=cert.certificate_pem,
            private_key=cert.private_key_pem,
        )

    def _sdk(self, what: str, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._client, method)(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise IotError(f"{what}: {exc}") from exc

    def revoke_certificate(self, certificate_id: str) -> None:
        self._sdk(
            f"deactivate {certificate_id}", "update_certificate", certificateId=certificate_id, newStatus="INACTIVE"
        )

    def delete_thing(self, thing_name: str) -> None:
        for arn in self._registry.thing_principals(thing_name):
            self._sdk(f"detach {arn}", "detach_thing_principal", thingName=thing_name, principal=arn)
            self.revoke_certificate(arn.rsplit("/", 1)[-1])
        self._sdk(f"delete thing {thing_name}", "delete_thing", thingName=thing_name)


def iot_device_identities(policy_name: str, endpoint: str = "") -> IotDeviceIdentities:
    import boto3

    return IotDeviceIdentities(boto3.client("iot"), policy_name, endpoint)
