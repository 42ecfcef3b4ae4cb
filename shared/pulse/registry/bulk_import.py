"""Bulk device import from CSV, with a per-row report and a dry-run that creates nothing.

Columns (header row required): ``id`` (required), ``name``, ``model``, ``site_id``,
``firmware_version``, ``lat``, ``lng``, ``heartbeat_interval_s``, ``tags`` (``key=value;key=value``).
Rows are validated with the same model as the API, then against the tenant (existing ids, unknown
sites, duplicates in the file, the plan's device limit). Valid rows get their IoT thing; their
certificates come later through activation codes (no private key travels in a bulk answer).
"""

from __future__ import annotations

import csv
import io
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from pulse.connect.topics import thing_name
from pulse.errors import RequestInvalid
from pulse.identity.scope import TenantScope
from pulse.ops.audit import record_change
from pulse.registry import store
from pulse.registry.errors import DeviceLimitReached
from pulse.registry.identities import DeviceIdentities
from pulse.registry.models import DeviceIn
from pulse.registry.provisioning import check_capacity, insert_new_device

MAX_ROWS = 10_000
COLUMNS = ("id", "name", "model", "site_id", "firmware_version", "lat", "lng", "heartbeat_interval_s", "tags")


class ImportRow(BaseModel):
    row: int
    device_id: str | None
    status: Literal["valid", "created", "invalid"]
    errors: list[str] = []


class ImportReport(BaseModel):
    dry_run: bool
    total: int
    valid: int
    invalid: int
    created: int
    rows: list[ImportRow]


def _parse_tags(raw: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in raw.split(";"))):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"tags: {part[:60]!r} must be key=value")
        tags[key.strip()] = value.strip()
    return tags


def _to_device(record: dict[str, str]) -> DeviceIn:
    data: dict[str, Any] = {k: v.strip() for k, v in record.items() if k in COLUMNS and v and v.strip()}
    if "tags" in data:
        data["tags"] = _parse_tags(data["tags"])
    data["issue_certificate"] = False
    return DeviceIn.model_validate(data)


def _messages(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in exc.errors()]


def parse_csv(text: str) -> list[tuple[int, DeviceIn | None, ImportRow]]:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    if "id" not in header:
        raise RequestInvalid("file: the CSV header must name an 'id' column")
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        raise RequestInvalid(f"file: unknown columns {unknown}; allowed: {list(COLUMNS)}")
    parsed: list[tuple[int, DeviceIn | None, ImportRow]] = []
    seen: set[str] = set()
    for index, record in enumerate(reader, start=2):  # row 1 is the header
        if index - 1 > MAX_ROWS:
            raise RequestInvalid(f"file: at most {MAX_ROWS} rows per import")
        device_id = (record.get("id") or "").strip() or None
        try:
            new = _to_device({k: v or "" for k, v in record.items() if k is not None})
        except (ValidationError, ValueError) as exc:
            errors = _messages(exc) if isinstance(exc, ValidationError) else [str(exc)]
            parsed.append((index, None, ImportRow(row=index, device_id=device_id, status="invalid", errors=errors)))
            continue
        if new.id in seen:
            parsed.append(
                (
                    index,
                    None,
                    ImportRow(
                        row=index,
                        device_id=new.id,
                        status="invalid",
                        errors=[f"id: {new.id!r} appears twice in the file"],
                    ),
                )
            )
            continue
        seen.add(new.id)
        parsed.append((index, new, ImportRow(row=index, device_id=new.id, status="valid")))
    return parsed


def import_devices(scope: TenantScope, text: str, identities: DeviceIdentities, *, dry_run: bool) -> ImportReport:
    parsed = parse_csv(text)
    with scope.transaction() as conn:
        store.lock_tenant_devices(conn, scope.tenant_id)
        for _, new, report in parsed:
            if new is None:
                continue
            if store.get_device(conn, scope.tenant_id, new.id) is not None:
                report.status, report.errors = "invalid", [f"id: device {new.id!r} exists"]
            elif new.site_id is not None and not store.site_exists(conn, scope.tenant_id, new.site_id):
                report.status, report.errors = "invalid", [f"site_id: no site {new.site_id!r}"]
        valid = [(new, report) for _, new, report in parsed if new is not None and report.status == "valid"]
        if valid:
            try:
                check_capacity(conn, scope.tenant_id, adding=len(valid))
            except DeviceLimitReached as exc:
                raise DeviceLimitReached(f"importing {len(valid)} devices: {exc.detail}") from exc
        if not dry_run:
            for new, report in valid:
                insert_new_device(conn, scope.tenant_id, new, None)
                thing = thing_name(scope.tenant_id, new.id)
                identities.create_thing(scope.tenant_id, new.id, thing)
                created = store.set_device_columns(conn, scope.tenant_id, new.id, {"thing_name": thing})
                record_change(conn, scope.tenant_id, scope.actor, "device.import", "device", new.id, None, created)
                report.status = "created"
    rows = [report for _, _, report in parsed]
    invalid = sum(1 for r in rows if r.status == "invalid")
    return ImportReport(
        dry_run=dry_run,
        total=len(rows),
        valid=len(rows) - invalid,
        invalid=invalid,
        created=sum(1 for r in rows if r.status == "created"),
        rows=rows,
    )
