"""AWS IoT Core registry calls for device provisioning: things, certificates, policies.

Used by the local seed and (next) the registry's provisioning. Every SDK failure becomes a typed
Pulse error; callers never see botocore exceptions. The client is passed in, so the same code runs
against AWS, the local emulator and moto.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from pulse.errors import PulseError


class IotError(PulseError):
    """An IoT registry call failed for a reason other than the ones below."""

    status = 502
    title = "IoT registry error"


class ThingNotFound(IotError):
    status = 404
    title = "Thing not found"


class CertificateNotFound(IotError):
    status = 404
    title = "Certificate not found"


class PolicyNotFound(IotError):
    status = 404
    title = "IoT policy not found"


@dataclass(frozen=True, slots=True)
class DeviceCertificate:
    certificate_id: str
    certificate_arn: str
    certificate_pem: str
    private_key_pem: str


@dataclass(frozen=True, slots=True)
class Thing:
    name: str
    arn: str
    attributes: dict[str, str]


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class IotRegistry:
    """Thin adapter over a boto3 ``iot`` client."""

    def __init__(self, client: Any) -> None:
        self._iot = client

    def _call(self, what: str, method: str, not_found: type[IotError] = IotError, **kwargs: Any) -> Any:
        try:
            return getattr(self._iot, method)(**kwargs)
        except ClientError as exc:
            if _code(exc) == "ResourceNotFoundException":
                raise not_found(f"{what}: {exc}") from exc
            raise IotError(f"{what}: {exc}") from exc
        except BotoCoreError as exc:
            raise IotError(f"{what}: {exc}") from exc

    def data_endpoint(self) -> str:
        """The ``iot:Data-ATS`` host devices connect to."""
        return str(self._call("describe endpoint", "describe_endpoint", endpointType="iot:Data-ATS")["endpointAddress"])

    def describe_thing(self, name: str) -> Thing:
        found = self._call(f"describe thing {name}", "describe_thing", ThingNotFound, thingName=name)
        return Thing(name=name, arn=str(found.get("thingArn", "")), attributes=dict(found.get("attributes", {})))

    def ensure_thing(self, name: str, attributes: dict[str, str]) -> Thing:
        """Create the thing, or bring an existing one's attributes to ``attributes``."""
        try:
            thing = self.describe_thing(name)
        except ThingNotFound:
            created = self._call(
                f"create thing {name}", "create_thing", thingName=name, attributePayload={"attributes": attributes}
            )
            return Thing(name=name, arn=str(created["thingArn"]), attributes=dict(attributes))
        if any(thing.attributes.get(k) != v for k, v in attributes.items()):
            self._call(
                f"update thing {name}",
                "update_thing",
                ThingNotFound,
                thingName=name,
                attributePayload={"attributes": attributes, "merge": True},
            )
            thing = Thing(name=name, arn=thing.arn, attributes={**thing.attributes, **attributes})
        return thing

    def create_certificate(self) -> DeviceCertificate:
        """A new ACTIVE key pair and certificate signed by the IoT CA."""
        created = self._call("create keys and certificate", "create_keys_and_certificate", setAsActive=True)
        return DeviceCertificate(
            certificate_id=str(created["certificateId"]),
            certificate_arn=str(created["certificateArn"]),
            certificate_pem=str(created["certificatePem"]),
            private_key_pem=str(created["keyPair"]["PrivateKey"]),
        )

    def certificate_status(self, certificate_id: str) -> str:
        described = self._call(
            f"describe certificate {certificate_id}",
            "describe_certificate",
            CertificateNotFound,
            certificateId=certificate_id,
        )
        return str(described["certificateDescription"]["status"])

    def attach(self, *, thing_name: str, certificate_arn: str, policy_name: str) -> None:
        """Policy on the certificate, certificate on the thing (both idempotent on AWS)."""
        self._call(
            f"attach policy {policy_name}",
            "attach_policy",
            PolicyNotFound,
            policyName=policy_name,
            target=certificate_arn,
        )
        self._call(
            f"attach {certificate_arn} to {thing_name}",
            "attach_thing_principal",
            ThingNotFound,
            thingName=thing_name,
            principal=certificate_arn,
        )

    def thing_principals(self, thing_name: str) -> list[str]:
        listed = self._call(
            f"list principals of {thing_name}", "list_thing_principals", ThingNotFound, thingName=thing_name
        )
        return [str(p) for p in listed.get("principals", [])]

    def revoke_certificate(self, certificate_id: str, certificate_arn: str, thing_name: str | None = None) -> None:
        """Deactivate, detach from the thing and delete a certificate (the revocation path)."""
        self._call(
            f"deactivate {certificate_id}",
            "update_certificate",
            CertificateNotFound,
            certificateId=certificate_id,
            newStatus="INACTIVE",
        )
        if thing_name is not None:
            self._call(
                f"detach {certificate_id}",
                "detach_thing_principal",
                ThingNotFound,
                thingName=thing_name,
                principal=certificate_arn,
            )
        self._call(
            f"delete {certificate_id}",
            "delete_certificate",
            CertificateNotFound,
            certificateId=certificate_id,
            forceDelete=True,
        )
