"""Device topics: parse and build are inverse, and anything else is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulse.connect.topics import Topic, TopicError, TopicKind, build_topic, parse_topic

tenants = st.from_regex(r"[a-z0-9][a-z0-9-]{1,20}", fullmatch=True)
devices = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,30}", fullmatch=True)


@given(tenants, devices, st.sampled_from([k for k in TopicKind if k is not TopicKind.COMMAND_ACK]))
def test_build_then_parse_round_trips(tenant, device, kind):
    assert parse_topic(build_topic(tenant, device, kind)) == Topic(tenant, device, kind)


def test_command_ack_topic_carries_the_command_id():
    topic = parse_topic("tenant/acme/device/pump-7/commands/cmd-42/ack")
    assert topic.kind is TopicKind.COMMAND_ACK
    assert topic.command_id == "cmd-42"
    assert str(topic) == "tenant/acme/device/pump-7/commands/cmd-42/ack"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "tenant/acme/device/pump-7",
        "tenant/ACME/device/pump-7/telemetry",
        "tenant/acme/device//telemetry",
        "tenant/acme/device/pump-7/telemetry/extra",
        "tenant/acme/device/pump-7/shadow",
        "devices/pump-7/telemetry",
        "tenant/acme/device/pump+7/telemetry",
        "tenant/acme/device/pump-7/commands/ack",
    ],
)
def test_anything_else_is_not_a_device_topic(bad):
    with pytest.raises(TopicError):
        parse_topic(bad)
