"""The ingest pipeline, shared by the SQS (MQTT) and HTTP entry points.

Validation that needs no database runs first; then one transaction locks the batch's devices,
authenticates, deduplicates through the message ledger, applies the per-device rate limit, writes
metric rows with one binary COPY, updates each device's latest state once, and records every refusal
in the quarantine. A database failure raises ``DatabaseUnavailable`` and nothing of the batch is
kept, so the transport's redelivery stores it later exactly once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import psycopg

from pulse.connect.credentials import token_matches
from pulse.connect.envelope import EnvelopeError, EnvelopeV1, message_key, validate_envelope
from pulse.connect.inbound import InboundMessage
from pulse.connect.quarantine import QuarantineReason, Rejection
from pulse.connect.store import (
    ACCEPTING_TENANT_STATUSES,
    SenderRecord,
    lock_senders,
    record_rejections,
    update_senders,
)
from pulse.connect.topics import TELEMETRY_KINDS, Topic, TopicError, TopicKind, parse_topic
from pulse.db import Database
from pulse.rules.cache import RuleCache
from pulse.rules.streaming import evaluate_ingested
from pulse.settings import Settings
from pulse.stream import writer
from pulse.stream.writer import PartitionCache, StoredMessage

Status = Literal["accepted", "duplicate", "quarantined"]


@dataclass(frozen=True, slots=True)
class Outcome:
    message_id: str
    status: Status
    reason: QuarantineReason | None = None
    detail: str | None = None


@dataclass(slots=True)
class IngestResult:
    outcomes: list[Outcome] = field(default_factory=list)
    metric_rows: int = 0

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def reasons(self) -> Counter[QuarantineReason]:
        return Counter(o.reason for o in self.outcomes if o.reason is not None)


@dataclass(frozen=True, slots=True)
class _Candidate:
    inbound: InboundMessage
    topic: Topic
    stored: StoredMessage


def _reject(msg: InboundMessage, reason: QuarantineReason, detail: str, topic: Topic | None = None) -> Rejection:
    return Rejection(
        reason=reason,
        detail=detail,
        topic=msg.topic,
        source=msg.source,
        payload=msg.payload,
        received_at=msg.received_at,
        tenant_id=topic.tenant_id if topic else None,
        device_id=topic.device_id if topic else None,
    )


def _validate(msg: InboundMessage, settings: Settings, now: datetime) -> _Candidate | Rejection:
    try:
        topic = parse_topic(msg.topic)
    except TopicError as exc:
        return _reject(msg, QuarantineReason.UNKNOWN_TOPIC, str(exc))
    if topic.kind not in TELEMETRY_KINDS:
        return _reject(msg, QuarantineReason.UNKNOWN_TOPIC, f"{topic.kind.value} is not a telemetry topic", topic)
    try:
        envelope: EnvelopeV1 = validate_envelope(
            msg.payload,
            now=now,
            max_bytes=settings.max_payload_bytes,
            max_metrics=settings.max_metrics,
            max_skew=timedelta(seconds=settings.max_clock_skew_s),
            max_age=timedelta(seconds=settings.max_message_age_s),
        )
    except EnvelopeError as exc:
        return _reject(msg, exc.reason, exc.detail, topic)
    if topic.kind is TopicKind.TELEMETRY and not envelope.metrics:
        return _reject(msg, QuarantineReason.SCHEMA_VIOLATION, "metrics: a telemetry message needs a metric", topic)
    stored = StoredMessage(topic.tenant_id, topic.device_id, message_key(envelope, msg.payload), envelope, msg.source)
    return _Candidate(msg, topic, stored)


def _authenticate(c: _Candidate, sender: SenderRecord | None) -> Rejection | None:
    msg, topic = c.inbound, c.topic
    if sender is None:
        return _reject(
            msg, QuarantineReason.UNKNOWN_DEVICE, f"no device {topic.device_id!r} in tenant {topic.tenant_id!r}", topic
        )
    if sender.device_status != "active":
        return _reject(msg, QuarantineReason.REVOKED_DEVICE, f"device is {sender.device_status}", topic)
    if msg.source == "mqtt" and (sender.thing_name is None or msg.client_id != sender.thing_name):
        return _reject(
            msg,
            QuarantineReason.TOPIC_MISMATCH,
            f"client {msg.client_id!r} may not publish on this device's topic",
            topic,
        )
    if msg.source == "http" and not token_matches(msg.token, sender.token_hash):
        return _reject(msg, QuarantineReason.BAD_TOKEN, "the device token is missing, wrong or revoked", topic)
    if sender.tenant_status not in ACCEPTING_TENANT_STATUSES:
        return _reject(msg, QuarantineReason.INACTIVE_TENANT, f"tenant subscription is {sender.tenant_status}", topic)
    return None


def ingest_messages(
    db: Database,
    messages: list[InboundMessage],
    settings: Settings,
    now: datetime,
    partitions: PartitionCache,
    refused: dict[str, Rejection] | None = None,
    rules: RuleCache | None = None,
) -> IngestResult:
    """Runs a batch through the pipeline; raises DatabaseUnavailable when nothing could be stored.

    ``refused`` holds records the transport already found unusable (keyed by message id); they are
    quarantined in the same transaction. With ``rules`` (entry points pass the process's cache),
    the accepted samples are evaluated against the tenants' rules in the same transaction, so an
    alert commits with the telemetry that raised it.
    """
    rejections: dict[str, Rejection] = dict(refused or {})
    candidates: list[_Candidate] = []
    for msg in messages:
        checked = _validate(msg, settings, now)
        if isinstance(checked, Rejection):
            rejections[msg.message_id] = checked
        else:
            candidates.append(checked)
    try:
        with db.transaction() as conn:
            written = _admit_and_store(conn, candidates, rejections, settings, now, partitions, db.bypasses_rls, rules)
            record_rejections(conn, list(rejections.values()), settings.quarantine_excerpt_bytes)
    except Exception:
        partitions.forget()  # partitions made in a rolled-back transaction do not exist
        raise

    result = IngestResult(metric_rows=written.metric_rows)
    for message_id in [*(m.message_id for m in messages), *(refused or {})]:
        if message_id in written.accepted:
            result.outcomes.append(Outcome(message_id, "accepted"))
        elif message_id in written.duplicates:
            result.outcomes.append(Outcome(message_id, "duplicate"))
        else:
            r = rejections[message_id]
            result.outcomes.append(Outcome(message_id, "quarantined", r.reason, r.detail))
    return result


@dataclass(slots=True)
class _Written:
    accepted: set[str] = field(default_factory=set)
    duplicates: set[str] = field(default_factory=set)
    metric_rows: int = 0


def _admit_and_store(
    conn: psycopg.Connection,
    candidates: list[_Candidate],
    rejections: dict[str, Rejection],
    settings: Settings,
    now: datetime,
    partitions: PartitionCache,
    direct_copy: bool,
    rules: RuleCache | None,
) -> _Written:
    """Authenticates, deduplicates, rate-limits and writes; refusals are added to ``rejections``."""
    written = _Written()
    senders = lock_senders(conn, ((c.topic.tenant_id, c.topic.device_id) for c in candidates))
    admitted: list[_Candidate] = []
    for c in candidates:
        refused = _authenticate(c, senders.get((c.topic.tenant_id, c.topic.device_id)))
        if refused is None:
            admitted.append(c)
        else:
            rejections[c.inbound.message_id] = refused
    if not admitted:
        return written

    partitions.ensure(conn, {c.stored.envelope.timestamp.date() for c in admitted})
    new_keys = writer.record_messages(conn, [c.stored for c in admitted], now)
    fresh: list[_Candidate] = []
    for c in admitted:
        if c.stored.ledger_key in new_keys:
            new_keys.discard(c.stored.ledger_key)  # a second copy inside the same batch is a duplicate
            fresh.append(c)
        else:
            written.duplicates.add(c.inbound.message_id)

    window = now.replace(second=0, microsecond=0)
    sent = {key: sender.sent_in(window) for key, sender in senders.items()}
    limited: list[_Candidate] = []
    stored: list[StoredMessage] = []
    for c in fresh:
        key = (c.topic.tenant_id, c.topic.device_id)
        limit = senders[key].rate_per_minute or settings.device_rate_per_minute
        sent[key] += 1
        if sent[key] > limit:
            limited.append(c)
            rejections[c.inbound.message_id] = _reject(
                c.inbound, QuarantineReason.RATE_LIMITED, f"more than {limit} messages in one minute", c.topic
            )
        else:
            stored.append(c.stored)
            written.accepted.add(c.inbound.message_id)
    writer.forget_messages(conn, [c.stored.ledger_key for c in limited])
    if stored:
        written.metric_rows = writer.copy_metrics(conn, stored, direct=direct_copy)
        writer.mark_dirty_hours(conn, stored)
    previous = {key: (s.last_msg_ts, s.last_metrics) for key, s in senders.items()}
    update_senders(
        conn,
        seen_at=now,
        window=window,
        sent={k: sent[k] for k in {(c.topic.tenant_id, c.topic.device_id) for c in fresh}},
        latest=writer.fold_latest(stored, previous),
    )
    if stored and rules is not None:
        evaluate_ingested(conn, stored, previous, rules, now)
    return written
