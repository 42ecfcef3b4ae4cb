"""Twin use cases: read, update (optimistic, conditional, transactional), history, convergence.

Every tenant call runs in ``tenant_transaction`` (row-level security as pulse_app). An update locks
the twin row (``SELECT ... FOR UPDATE``), applies the pure rules of ``pulse.twin.document`` and
writes document, revision and pending-convergence rows in the same transaction, so a refusal
(409, 412, 413, 400) writes nothing at all. Rules that read the twin are re-evaluated in that
transaction too (``pulse.rules.twin_changes``): a twin-only rule opens and resolves without
telemetry, and its alerts commit with the update that raised them. The convergence check does the
same for each device it raises ``TwinNotConverged`` for (``twin_not_converged`` conditions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pulse.db import Database, tenant_transaction
from pulse.identity.scope import operator_transaction
from pulse.observability import logger
from pulse.rules.twin_changes import evaluate_twin_change
from pulse.twin import store
from pulse.twin.document import (
    MISSING,
    TwinChange,
    TwinDocument,
    apply_update,
    leaf_paths,
    parse_pointer,
    pointer,
    value_at,
)
from pulse.twin.errors import TwinInvalid, TwinNotFound
from pulse.twin.request import TwinLimits, TwinUpdate, parse_update
from pulse.twin.store import TwinRevision, TwinSettings

Source = Literal["device", "api", "system"]
TWIN_NOT_CONVERGED = "TwinNotConverged"
DEFAULT_CONVERGENCE_MINUTES = 15
MAX_HISTORY_PAGE = 200


@dataclass(frozen=True, slots=True)
class HistoryPage:
    items: list[TwinRevision]
    next_before_version: int | None  # pass as before_version for the next (older) page


@dataclass(frozen=True, slots=True)
class TwinNotConverged:
    """A desired leaf that reported had not matched ``deadline_minutes`` after it was set."""

    tenant_id: str
    device_id: str
    path: str
    desired: Any
    reported: Any
    desired_version: int
    set_at: datetime
    deadline_minutes: int
    occurred_at: datetime
    event_key: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "event_key", f"{self.path}@{self.desired_version}")

    def data(self) -> dict[str, Any]:
        return {
            "device_id": self.device_id,
            "path": self.path,
            "desired": self.desired,
            "reported": self.reported,
            "desired_version": self.desired_version,
            "set_at": self.set_at.isoformat(),
            "deadline_minutes": self.deadline_minutes,
        }

    def to_event(self) -> dict[str, Any]:
        """The bus envelope of ARCHITECTURE §5."""
        return {
            "metadata": {
                "event_name": TWIN_NOT_CONVERGED,
                "event_version": 1,
                "tenant_id": self.tenant_id,
                "correlation_id": f"{self.device_id}:{self.event_key}",
                "occurred_at": self.occurred_at.isoformat(),
            },
            "data": self.data(),
        }


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _require_device(conn: Any, tenant_id: str, device_id: str) -> None:
    if not store.device_exists(conn, tenant_id, device_id):
        raise TwinNotFound(f"device {device_id!r} not found")


def get_twin(db: Database, tenant_id: str, device_id: str) -> TwinDocument:
    """The current document; a device never updated has the empty version-0 document."""
    with tenant_transaction(db, tenant_id) as conn:
        _require_device(conn, tenant_id, device_id)
        return store.read_twin(conn, tenant_id, device_id) or TwinDocument()


def get_twin_settings(db: Database, tenant_id: str) -> TwinSettings:
    with tenant_transaction(db, tenant_id) as conn:
        return store.read_settings(conn, tenant_id)


def set_twin_settings(db: Database, tenant_id: str, settings: TwinSettings) -> None:
    with tenant_transaction(db, tenant_id) as conn:
        store.write_settings(conn, tenant_id, settings)


def update_twin(
    db: Database,
    tenant_id: str,
    device_id: str,
    request: TwinUpdate | bytes | str | dict[str, Any],
    *,
    source: Source,
    actor: str = "",
    now: datetime | None = None,
    limits: TwinLimits | None = None,
    auto_clear: bool | None = None,
) -> TwinChange:
    """Apply one update request; ``auto_clear`` None reads the tenant's twin setting."""
    update = request if isinstance(request, TwinUpdate) else parse_update(request, limits)
    at = _now(now)
    with tenant_transaction(db, tenant_id) as conn:
        change = update_twin_in(
            conn, tenant_id, device_id, update, source=source, actor=actor, at=at, limits=limits, auto_clear=auto_clear
        )
    logger.info(
        "twin updated",
        extra={
            "tenant_id": tenant_id,
            "device_id": device_id,
            "source": source,
            "version": change.after.version,
            "cleared": len(change.cleared),
        },
    )
    return change


def update_twin_in(
    conn: Any,
    tenant_id: str,
    device_id: str,
    update: TwinUpdate,
    *,
    source: Source,
    actor: str,
    at: datetime,
    limits: TwinLimits | None = None,
    auto_clear: bool | None = None,
) -> TwinChange:
    """``update_twin`` inside the caller's transaction (so the caller can audit in the same one)."""
    _require_device(conn, tenant_id, device_id)
    clear = store.read_settings(conn, tenant_id).auto_clear if auto_clear is None else auto_clear
    current = store.lock_twin(conn, tenant_id, device_id)
    change = apply_update(current, update, int(at.timestamp()), auto_clear=clear, limits=limits)
    store.save_revision(
        conn,
        tenant_id,
        device_id,
        change.after,
        at=at,
        source=source,
        actor=actor,
        request=update.to_json(),
        client_token=update.client_token,
    )
    _sync_convergence(conn, tenant_id, device_id, change, at)
    evaluate_twin_change(conn, tenant_id, device_id, at)
    return change


def _sync_convergence(conn: Any, tenant_id: str, device_id: str, change: TwinChange, at: datetime) -> None:
    delta = change.after.delta
    pending = {pointer(p): value_at(delta, p) for p in leaf_paths(delta)}
    written = [pointer(p) for p in change.desired_set]
    restarted = {p for p in pending if any(p == w or p.startswith(w + "/") or w.startswith(p + "/") for w in written)}
    store.sync_pending(
        conn, tenant_id, device_id, pending=pending, restarted=restarted, version=change.after.version, at=at
    )


def twin_at(
    db: Database, tenant_id: str, device_id: str, *, revision: int | None = None, at: datetime | None = None
) -> TwinRevision:
    """The twin as it was after revision ``revision``, or as it was at time ``at`` (exactly one)."""
    if (revision is None) == (at is None):
        raise TwinInvalid("revision: give exactly one of revision or at")
    with tenant_transaction(db, tenant_id) as conn:
        _require_device(conn, tenant_id, device_id)
        if revision is not None:
            found = store.revision_at_version(conn, tenant_id, device_id, revision)
        else:
            assert at is not None
            found = store.revision_at_time(conn, tenant_id, device_id, at)
    if found is None:
        raise TwinNotFound(
            f"device {device_id!r} has no twin revision "
            + (f"{revision}" if revision is not None else f"at or before {at}")
        )
    return found


def history(
    db: Database, tenant_id: str, device_id: str, *, before_version: int | None = None, limit: int = 50
) -> HistoryPage:
    """Revisions newest first, keyset-paginated by version."""
    if not 1 <= limit <= MAX_HISTORY_PAGE:
        raise TwinInvalid(f"limit: must be between 1 and {MAX_HISTORY_PAGE}")
    with tenant_transaction(db, tenant_id) as conn:
        _require_device(conn, tenant_id, device_id)
        items = store.revisions(conn, tenant_id, device_id, before_version=before_version, limit=limit + 1)
    more = len(items) > limit
    items = items[:limit]
    return HistoryPage(items, items[-1].version if more else None)


def find_unconverged(
    db: Database, now: datetime | None = None, *, default_minutes: int = DEFAULT_CONVERGENCE_MINUTES, limit: int = 500
) -> list[TwinNotConverged]:
    """Raise ``TwinNotConverged`` (into ``twin_events``) for every desired leaf past its deadline.

    Scheduled, across tenants: runs as pulse_operator (``SET LOCAL ROLE``), whatever ``db``'s role. Each desired change
    (leaf, version that wrote it) raises at most one event, however often this runs.
    """
    at = _now(now)
    raised: list[TwinNotConverged] = []
    with operator_transaction(db) as conn:
        overdue = store.claim_overdue(conn, at, default_minutes, limit)
        minutes = {
            t: (store.read_settings(conn, t).convergence_minutes or default_minutes)
            for t in {p.tenant_id for p in overdue}
        }
        for item in overdue:
            twin = store.read_twin(conn, item.tenant_id, item.device_id) or TwinDocument()
            reported = value_at(twin.reported, parse_pointer(item.path))
            event = TwinNotConverged(
                tenant_id=item.tenant_id,
                device_id=item.device_id,
                path=item.path,
                desired=item.desired,
                reported=None if reported is MISSING else reported,
                desired_version=item.desired_version,
                set_at=item.set_at,
                deadline_minutes=minutes[item.tenant_id],
                occurred_at=at,
            )
            if store.add_event(
                conn, item.tenant_id, item.device_id, TWIN_NOT_CONVERGED, event.event_key, at, event.data()
            ):
                raised.append(event)
        for tenant_id, device_id in sorted({(e.tenant_id, e.device_id) for e in raised}):
            evaluate_twin_change(conn, tenant_id, device_id, at)
    if raised:
        logger.info("twins not converged", extra={"count": len(raised)})
    return raised
