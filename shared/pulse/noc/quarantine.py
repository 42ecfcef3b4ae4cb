"""The quarantine for operators: refused messages newest first, and counts per reason over a window.

Ingest stores the first ``quarantine_excerpt_bytes`` of each refused payload as text (undecodable
bytes escaped, an ellipsis when cut). The list shows at most ``EXCERPT_BYTES`` of it, cut on a UTF-8
character boundary, with control characters escaped, so a browser can show it as plain text.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import psycopg

from pulse.connect.quarantine import QuarantineReason
from pulse.errors import RequestInvalid
from pulse.noc import measures
from pulse.noc.models import QuarantinedMessage, QuarantineReasons, ReasonCount
from pulse.registry.paging import Page, decode_cursor, keyset_page

EXCERPT_BYTES = 512
_SORT = "quarantine:received_desc"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CUT_MARK = "…"
_LISTED = ("id", "received_at", "reason", "detail", "tenant_id", "device_id", "topic", "source", "payload_size")


def safe_excerpt(stored: str, limit: int = EXCERPT_BYTES) -> tuple[str, bool]:
    """(at most ``limit`` UTF-8 bytes of ``stored`` with control characters escaped, whether it was cut)."""
    cut_at_ingest = stored.endswith(_CUT_MARK)
    text = _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", stored.removesuffix(_CUT_MARK) if cut_at_ingest else stored)
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text, cut_at_ingest
    return raw[:limit].decode("utf-8", errors="ignore"), True


def list_quarantine(
    conn: psycopg.Connection,
    *,
    reason: QuarantineReason | None,
    tenant_id: str | None,
    device_id: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    cursor: str | None,
) -> Page[QuarantinedMessage]:
    clauses = ["true"]
    params: dict[str, Any] = {"limit": limit + 1}
    for column, value in (
        ("reason", reason.value if reason else None),
        ("tenant_id", tenant_id),
        ("device_id", device_id),
    ):
        if value is not None:
            clauses.append(f"{column} = %({column})s")
            params[column] = value
    if since is not None:
        clauses.append("received_at >= %(since)s")
        params["since"] = since
    if until is not None:
        clauses.append("received_at < %(until)s")
        params["until"] = until
    after = decode_cursor(cursor, _SORT)
    if after is not None:
        try:
            params["after_at"], params["after_id"] = datetime.fromisoformat(str(after[0])), int(after[1])
        except (TypeError, ValueError, IndexError):
            raise RequestInvalid("cursor: malformed") from None
        clauses.append("(received_at, id) < (%(after_at)s, %(after_id)s)")
    rows = conn.execute(
        f"""SELECT {", ".join(_LISTED)}, excerpt FROM quarantine_events WHERE {" AND ".join(clauses)}
            ORDER BY received_at DESC, id DESC LIMIT %(limit)s""",
        params,
    ).fetchall()
    found = []
    for *head, excerpt in rows:
        text, truncated = safe_excerpt(excerpt)
        fields = dict(zip(_LISTED, head, strict=True))
        found.append(QuarantinedMessage(**fields, payload_excerpt=text, excerpt_truncated=truncated))
    items, next_cursor = keyset_page(found, limit, _SORT, lambda m: [m.received_at.isoformat(), m.id])
    return Page[QuarantinedMessage](items=items, next_cursor=next_cursor)


def reason_counts(
    conn: psycopg.Connection, *, tenant_id: str | None, since: datetime, until: datetime
) -> QuarantineReasons:
    """Refused messages per reason in [since, until) at minute resolution, from the per-minute counters;
    every known reason is listed (zeros included), the most frequent first."""
    counts = {r.value: 0 for r in QuarantineReason}
    counts.update(measures.quarantine_reasons(conn, [tenant_id] if tenant_id else None, since, until))
    ordered = sorted(counts.items(), key=lambda rc: (-rc[1], rc[0]))
    return QuarantineReasons(
        since=measures.floor_time(since, timedelta(minutes=1)),
        until=until,
        total=sum(counts.values()),
        reasons=[ReasonCount(reason=r, count=n) for r, n in ordered],
    )
