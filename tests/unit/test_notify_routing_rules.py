"""Pure routing rules: event parsing, group keys, when a group's notification is due, throttle windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulse.notify.models import Route
from pulse.notify.routing import AlertEvent, InvalidEvent, first_send_at, group_key, throttle_window

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _route(**fields):
    base = {"name": "r", "channel_ids": ["c"], "id": "r1", "position": 0, "version": 1}
    return Route.model_validate({**base, "created_at": T0, "updated_at": T0, **fields})


def _event(name="AlertOpened", **data):
    meta = {"event_name": name, "event_id": "7", "tenant_id": "acme", "occurred_at": T0.isoformat()}
    return {"metadata": meta, "data": {"rule_id": "hot", "device_id": "dev-1", **data}}


def test_an_eventbridge_event_and_its_detail_parse_alike():
    detail = _event()
    assert AlertEvent.parse({"detail-type": "AlertOpened", "detail": detail}) == AlertEvent.parse(detail)
    assert AlertEvent.parse(detail).kind == "opened"
    assert AlertEvent.parse(_event("SilenceExpired")).kind is None


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"metadata": {"event_name": "AlertOpened"}, "data": {}},
        {"metadata": {**_event()["metadata"], "occurred_at": "2026-03-02T09:00:00"}, "data": {}},
    ],
)
def test_malformed_events_are_refused_with_a_typed_error(bad):
    with pytest.raises(InvalidEvent):
        AlertEvent.parse(bad)


def test_group_key_names_the_fields_in_route_order():
    route = _route(group_by=["site_id", "rule_id"])
    assert group_key(route, AlertEvent.parse(_event(site_id="berlin"))) == "site_id=berlin|rule_id=hot"
    assert group_key(_route(), AlertEvent.parse(_event())) == ""


def test_ungrouped_routes_send_now_and_groups_wait_then_tick():
    grouped = _route(group_by=["rule_id"], group_wait_s=30, group_interval_s=300)
    assert first_send_at(_route(group_wait_s=30), T0, None) == T0
    assert first_send_at(grouped, T0, None) == T0 + timedelta(seconds=30)
    assert first_send_at(grouped, T0, T0 - timedelta(seconds=100)) == T0 + timedelta(seconds=200)
    assert first_send_at(grouped, T0, T0 - timedelta(seconds=300)) == T0 + timedelta(seconds=30)


@given(st.integers(min_value=0, max_value=10**9), st.sampled_from([60, 300, 3600, 86_400]))
def test_throttle_windows_contain_the_instant_and_are_aligned(seconds, window_s):
    now = datetime.fromtimestamp(seconds, tz=UTC)
    start = throttle_window(now, window_s)
    assert start <= now < start + timedelta(seconds=window_s)
    assert int(start.timestamp()) % window_s == 0
