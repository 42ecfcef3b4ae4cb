"""Entry points of the ingest pipeline: the SQS batch from the IoT rule and HTTP gateway posts.

Alerts the batch raised commit with it; when it wrote outbox events, the outbox function is started
right after the commit (``publish_after_commit``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import SQSEvent

from pulse import runtime
from pulse.connect.inbound import InboundMessage, RecordError, inbound_from_rule_record
from pulse.connect.quarantine import QuarantineReason, Rejection
from pulse.connect.service import IngestResult, ingest_messages
from pulse.errors import DatabaseUnavailable, PayloadTooLarge, RequestInvalid
from pulse.observability import logger, metrics
from pulse.outbox.after_commit import publish_after_commit
from pulse.settings import get_settings

MAX_HTTP_MESSAGES = 500


def _publish_metrics(result: IngestResult) -> None:
    metrics.add_metric(name="TelemetryAccepted", unit=MetricUnit.Count, value=result.count("accepted"))
    metrics.add_metric(name="TelemetryDuplicate", unit=MetricUnit.Count, value=result.count("duplicate"))
    metrics.add_metric(name="TelemetryQuarantined", unit=MetricUnit.Count, value=result.count("quarantined"))
    metrics.add_metric(name="TelemetryMetricRows", unit=MetricUnit.Count, value=result.metric_rows)
    for reason, n in result.reasons().items():
        logger.info("telemetry quarantined", extra={"reason": reason.value, "count": n})


def ingest_sqs_batch(event: dict[str, Any]) -> dict[str, Any]:
    """Processes one SQS batch; returns the ids to redeliver (all of them when the database is down)."""
    settings = get_settings()
    now = datetime.now(UTC)
    records = list(SQSEvent(event).records)
    messages: list[InboundMessage] = []
    refused: dict[str, Rejection] = {}
    for record in records:
        try:
            messages.append(inbound_from_rule_record(record.message_id, record.body, fallback_received_at=now))
        except RecordError as exc:
            refused[record.message_id] = Rejection(
                reason=QuarantineReason.SCHEMA_VIOLATION,
                detail=f"transport record: {exc}",
                topic="",
                source="mqtt",
                payload=record.body.encode(),
                received_at=now,
            )
    try:
        with publish_after_commit(runtime.outbox_starter()):
            result = ingest_messages(
                runtime.database(), messages, settings, now, runtime.partition_cache(), refused, runtime.rule_cache()
            )
    except DatabaseUnavailable as exc:
        logger.error("batch not stored; SQS will redeliver it", extra={"error": exc.detail, "count": len(records)})
        metrics.add_metric(name="IngestBatchFailed", unit=MetricUnit.Count, value=1)
        return {"batchItemFailures": [{"itemIdentifier": r.message_id} for r in records]}
    _publish_metrics(result)
    logger.info(
        "batch ingested",
        extra={
            "accepted": result.count("accepted"),
            "duplicate": result.count("duplicate"),
            "quarantined": result.count("quarantined"),
            "rows": result.metric_rows,
        },
    )
    return {"batchItemFailures": []}


def _http_payloads(body: bytes, max_bytes: int) -> list[bytes]:
    """Splits a request body (one envelope or a JSON array of them) into per-message payloads."""
    if len(body) > max_bytes * 8:
        raise PayloadTooLarge(f"request body is {len(body)} bytes; the limit is {max_bytes * 8}")
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return [body]  # quarantined as malformed JSON, with its excerpt
    if isinstance(doc, list):
        if not doc:
            raise RequestInvalid("the request holds no messages")
        if len(doc) > MAX_HTTP_MESSAGES:
            raise RequestInvalid(f"{len(doc)} messages in one request; the limit is {MAX_HTTP_MESSAGES}")
        return [orjson.dumps(item) for item in doc]
    return [body]


def ingest_http(tenant_id: str, device_id: str, body: bytes, token: str | None) -> IngestResult:
    """A gateway's POST: each envelope goes through the same pipeline as an MQTT message."""
    settings = get_settings()
    now = datetime.now(UTC)
    topic = f"tenant/{tenant_id}/device/{device_id}/telemetry"
    messages = [
        InboundMessage(message_id=str(i), topic=topic, payload=payload, source="http", received_at=now, token=token)
        for i, payload in enumerate(_http_payloads(body, settings.max_payload_bytes))
    ]
    with publish_after_commit(runtime.outbox_starter()):
        result = ingest_messages(
            runtime.database(), messages, settings, now, runtime.partition_cache(), rules=runtime.rule_cache()
        )
    _publish_metrics(result)
    return result
