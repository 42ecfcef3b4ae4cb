"""Bulk tagging: set and remove tag keys on up to ``MAX_DEVICES`` devices in one transaction.

Tags are the device's ``tags`` JSON object (string values, at most 50 keys, the same rules as
``PATCH /devices/{id}``). Each device that changes gets a new version and its own audit row
(``device.bulk_tag``, before and after), like every device write. Ids the tenant does not have are
reported back, never dropped silently; a device whose tags would exceed the limit is refused and
left as it was; a device whose tags already match is left untouched (no new version).
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from pulse.identity.scope import TenantScope
from pulse.ops.audit import record_change
from pulse.registry import store
from pulse.registry.models import MAX_TAGS, DeviceId, check_tags

MAX_DEVICES = 1000
TagKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:/-]{1,64}$")]


class BulkTagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_ids: Annotated[list[DeviceId], Field(min_length=1, max_length=MAX_DEVICES)]
    set_tags: dict[str, str] = Field(default_factory=dict, alias="set", description="tags to add or overwrite")
    remove: Annotated[list[TagKey], Field(max_length=MAX_TAGS)] = Field(
        default_factory=list, description="tag keys to remove (absent keys are fine)"
    )

    _tags = field_validator("set_tags")(check_tags)

    @model_validator(mode="after")
    def _something_to_do(self) -> Self:
        if not self.set_tags and not self.remove:
            raise ValueError("give tags to set and/or keys to remove")
        both = sorted(set(self.set_tags) & set(self.remove))
        if both:
            raise ValueError(f"keys both set and removed: {', '.join(both[:10])}")
        return self


class BulkTagRefusal(BaseModel):
    device_id: str
    reason: str


class BulkTagResult(BaseModel):
    requested: int = Field(description="distinct device ids in the request")
    updated: int = Field(description="devices whose tags changed (new version, audited)")
    unchanged: int = Field(description="devices that already had these tags")
    not_found: list[str] = Field(description="ids the tenant has no device for, in request order")
    refused: list[BulkTagRefusal] = Field(description="devices left as they were, with why")


def bulk_tag(scope: TenantScope, change: BulkTagIn) -> BulkTagResult:
    ids = list(dict.fromkeys(change.device_ids))
    with scope.transaction() as conn:
        before = {d.id: d for d in store.lock_devices(conn, scope.tenant_id, ids)}
        new_tags: dict[str, dict[str, str]] = {}
        refused: list[BulkTagRefusal] = []
        unchanged = 0
        for device in before.values():
            tags = {k: v for k, v in device.tags.items() if k not in change.remove} | change.set_tags
            if tags == device.tags:
                unchanged += 1
            elif len(tags) > MAX_TAGS:
                refused.append(
                    BulkTagRefusal(device_id=device.id, reason=f"would have {len(tags)} tags (max {MAX_TAGS})")
                )
            else:
                new_tags[device.id] = tags
        for after in store.set_device_tags(conn, scope.tenant_id, new_tags):
            record_change(
                conn, scope.tenant_id, scope.actor, "device.bulk_tag", "device", after.id, before[after.id], after
            )
    return BulkTagResult(
        requested=len(ids),
        updated=len(new_tags),
        unchanged=unchanged,
        not_found=[i for i in ids if i not in before],
        refused=refused,
    )
