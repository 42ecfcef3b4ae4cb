"""Slack, Teams and PagerDuty channels against HTTP sinks on 127.0.0.1 that refuse what the real
services refuse: Slack without text/blocks, a Teams workflow message without an Adaptive Card, a
PagerDuty Events v2 event without routing_key/event_action/dedup_key or, for a trigger, without
payload.summary/source/severity."""

from __future__ import annotations

from typing import Any

from pulse.notify.channels import CHANNEL_CONFIG, CHANNEL_SECRETS, Notification, SenderPorts, send
from pulse.notify.channels.ssrf import parse_allow_list
from tests.notify_receivers import HttpBehaviour, HttpReceiver, alert_event_detail

PORTS = SenderPorts(
    mailer=None,  # type: ignore[arg-type]
    mqtt=None,  # type: ignore[arg-type]
    email_from="",
    egress_allow=parse_allow_list(["127.0.0.1/32"]),
    portal_url="https://pulse.example.com",
)
ROUTING_KEY = "R0UT1NGKEY0123456789abcdefABCDEF"
SLACK_BLOCKS = {"header", "section", "actions", "context", "divider"}


def slack_problems(doc: Any) -> list[str]:
    problems = []
    if not isinstance(doc.get("text"), str) or not doc["text"]:
        problems.append("text (notification fallback) missing")
    for block in doc.get("blocks", []):
        if block.get("type") not in SLACK_BLOCKS:
            problems.append(f"unknown block {block.get('type')}")
        if block.get("type") == "section" and not (block.get("text") or block.get("fields")):
            problems.append("section without text or fields")
        if len(block.get("fields", [])) > 10:
            problems.append("more than 10 fields")
    return problems


def teams_problems(doc: Any) -> list[str]:
    if doc.get("type") != "message" or not doc.get("attachments"):
        return ["not a message with attachments"]
    attachment = doc["attachments"][0]
    if attachment.get("contentType") != "application/vnd.microsoft.card.adaptive":
        return ["attachment is not an adaptive card"]
    card = attachment["content"]
    problems = []
    if card.get("type") != "AdaptiveCard" or not card.get("$schema", "").startswith("http://adaptivecards.io/schemas"):
        problems.append("content is not an AdaptiveCard")
    if tuple(int(p) for p in card.get("version", "0").split(".")) < (1, 4):
        problems.append("card version below 1.4")
    if not card.get("body") or any("type" not in element for element in card["body"]):
        problems.append("body elements need a type")
    return problems


def pagerduty_problems(doc: Any) -> list[str]:
    problems = [f"{field} missing" for field in ("routing_key", "event_action", "dedup_key") if not doc.get(field)]
    if doc.get("event_action") not in ("trigger", "acknowledge", "resolve"):
        problems.append("event_action invalid")
    if doc.get("event_action") == "trigger":
        payload = doc.get("payload") or {}
        problems += [f"payload.{f} missing" for f in ("summary", "source", "severity") if not payload.get(f)]
        if payload.get("severity") not in ("critical", "error", "warning", "info"):
            problems.append("payload.severity invalid")
        if len(payload.get("summary", "")) > 1024:
            problems.append("payload.summary over 1024 characters")
    return problems


def opened(**fields: Any) -> Notification:
    return Notification.from_event(alert_event_detail(**fields), "ch-chat")


def test_slack_gets_blocks_with_the_alert_and_a_link() -> None:
    config = CHANNEL_CONFIG.validate_python({"type": "slack", "mention": "here"})
    with HttpReceiver(HttpBehaviour(validate=slack_problems)) as sink:
        secrets = CHANNEL_SECRETS.validate_python({"type": "slack", "webhook_url": sink.url})
        result = send(config, secrets, opened(rule_name="Temp <b>&</b> high"), ports=PORTS)

    assert (result.status, result.response_code) == ("delivered", 200)
    doc = sink.requests[0].json()
    assert doc["text"].startswith("<!here> CRITICAL: Temp &lt;b&gt;&amp;&lt;/b&gt; high on dev-1")
    assert doc["blocks"][0]["type"] == "header"
    fields = {f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in doc["blocks"][2]["fields"]}
    assert fields["*Device*"] == "dev-1"
    assert fields["*Severity*"] == "critical"
    button = next(b for b in doc["blocks"] if b["type"] == "actions")["elements"][0]
    assert button["url"] == "https://pulse.example.com/alerts/alr-1"


def test_slack_no_service_answer_is_permanent() -> None:
    config = CHANNEL_CONFIG.validate_python({"type": "slack"})
    with HttpReceiver(HttpBehaviour(status=404)) as sink:
        secrets = CHANNEL_SECRETS.validate_python({"type": "slack", "webhook_url": sink.url})
        result = send(config, secrets, opened(), ports=PORTS)

    assert (result.status, result.response_code) == ("permanent", 404)


def test_teams_gets_an_adaptive_card_with_the_facts() -> None:
    config = CHANNEL_CONFIG.validate_python({"type": "teams"})
    with HttpReceiver(HttpBehaviour(validate=teams_problems, success_status=202)) as sink:
        secrets = CHANNEL_SECRETS.validate_python({"type": "teams", "webhook_url": sink.url})
        result = send(config, secrets, opened(severity="warning"), ports=PORTS)

    assert (result.status, result.response_code) == ("delivered", 202)
    card = sink.requests[0].json()["attachments"][0]["content"]
    assert card["body"][0]["text"] == "WARNING: Supply temperature high on dev-1 (opened)"
    assert card["body"][0]["color"] == "warning"
    facts = {fact["title"]: fact["value"] for fact in card["body"][1]["facts"]}
    assert (facts["Device"], facts["Site"], facts["Value"]) == ("dev-1", "plant-1", "36.5")
    assert card["actions"][0] == {
        "type": "Action.OpenUrl",
        "title": "Open in Pulse",
        "url": "https://pulse.example.com/alerts/alr-1",
    }


def test_pagerduty_follows_the_alert_through_trigger_acknowledge_resolve() -> None:
    with HttpReceiver(HttpBehaviour(validate=pagerduty_problems, success_status=202)) as sink:
        config = CHANNEL_CONFIG.validate_python({"type": "pagerduty", "events_url": sink.url})
        secrets = CHANNEL_SECRETS.validate_python({"type": "pagerduty", "routing_key": ROUTING_KEY})
        results = [
            send(config, secrets, opened(severity="major"), ports=PORTS),
            send(config, secrets, opened(event="AlertAcknowledged", event_id=43, state="acknowledged"), ports=PORTS),
            send(config, secrets, opened(event="AlertResolved", event_id=44, state="resolved"), ports=PORTS),
        ]

    assert [r.status for r in results] == ["delivered"] * 3
    trigger, acknowledge, resolve = (request.json() for request in sink.requests)
    assert trigger["event_action"] == "trigger"
    assert trigger["routing_key"] == ROUTING_KEY
    assert trigger["payload"]["severity"] == "error"  # major -> error
    assert trigger["payload"]["source"] == "dev-1"
    assert trigger["links"] == [{"href": "https://pulse.example.com/alerts/alr-1", "text": "Open in Pulse"}]
    assert acknowledge == {"routing_key": ROUTING_KEY, "event_action": "acknowledge", "dedup_key": "hot/dev-1"}
    assert resolve == {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": "hot/dev-1"}
    assert trigger["dedup_key"] == "hot/dev-1"


def test_pagerduty_comment_sends_nothing() -> None:
    with HttpReceiver(HttpBehaviour(validate=pagerduty_problems)) as sink:
        config = CHANNEL_CONFIG.validate_python({"type": "pagerduty", "events_url": sink.url})
        secrets = CHANNEL_SECRETS.validate_python({"type": "pagerduty", "routing_key": ROUTING_KEY})
        result = send(config, secrets, opened(event="AlertCommented", note="looking"), ports=PORTS)

    assert result.status == "delivered"
    assert "nothing sent" in result.error
    assert sink.requests == []


def test_pagerduty_rejecting_an_event_is_permanent_and_throttling_retryable() -> None:
    secrets = CHANNEL_SECRETS.validate_python({"type": "pagerduty", "routing_key": ROUTING_KEY})
    with HttpReceiver(HttpBehaviour(status=400)) as invalid, HttpReceiver(HttpBehaviour(status=429)) as throttled:
        refused = send(
            CHANNEL_CONFIG.validate_python({"type": "pagerduty", "events_url": invalid.url}),
            secrets,
            opened(),
            ports=PORTS,
        )
        later = send(
            CHANNEL_CONFIG.validate_python({"type": "pagerduty", "events_url": throttled.url}),
            secrets,
            opened(),
            ports=PORTS,
        )

    assert (refused.status, later.status) == ("permanent", "retryable")


def test_chat_webhook_urls_go_through_the_egress_guard() -> None:
    secrets = CHANNEL_SECRETS.validate_python({"type": "slack", "webhook_url": "https://169.254.169.254/services/x"})

    result = send(CHANNEL_CONFIG.validate_python({"type": "slack"}), secrets, opened(), ports=PORTS)

    assert result.status == "permanent"
    assert "cloud metadata address" in result.error
