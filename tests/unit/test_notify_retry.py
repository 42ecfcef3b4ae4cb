"""The delivery retry policy, its ASL rendering, and the workflow pieces that do not need AWS."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulse.notify.retry import DELIVERY_RETRY, DeliveryRetryable, RetryPolicy
from pulse.notify.tasks import dead_letter_reason
from pulse.notify.workflow import definition, delivery_item, redrive_input, render
from pulse.platform.aws.stepfunctions import execution_name


def test_default_policy_is_five_attempts_doubling_from_30_s():
    assert DELIVERY_RETRY.max_attempts == 5
    assert DELIVERY_RETRY.delays() == [30.0, 60.0, 120.0, 240.0]
    assert DELIVERY_RETRY.to_asl() == {
        "ErrorEquals": list(DELIVERY_RETRY.errors),
        "IntervalSeconds": 30,
        "BackoffRate": 2.0,
        "MaxAttempts": 4,
        "MaxDelaySeconds": 7200,
        "JitterStrategy": "FULL",
    }


def test_the_retryable_error_name_is_the_exception_class_and_the_emulators_name_is_matched_too():
    assert DeliveryRetryable.__name__ in DELIVERY_RETRY.errors
    assert "Runtime.HandlerError" in DELIVERY_RETRY.errors


@given(
    attempts=st.integers(min_value=1, max_value=30),
    first=st.integers(min_value=1, max_value=600),
    rate=st.floats(min_value=1.0, max_value=4.0),
    cap_factor=st.integers(min_value=1, max_value=500),
)
def test_delays_grow_by_the_rate_and_never_pass_the_cap(attempts, first, rate, cap_factor):
    policy = RetryPolicy(
        max_attempts=attempts, first_interval_s=first, backoff_rate=rate, max_delay_s=first * cap_factor
    )
    delays = policy.delays()
    assert len(delays) == attempts - 1 == policy.to_asl()["MaxAttempts"]
    assert all(first <= d <= policy.max_delay_s for d in delays)
    assert delays == sorted(delays)
    for earlier, later in itertools.pairwise(delays):
        assert later == pytest.approx(min(earlier * rate, policy.max_delay_s)) or later == policy.max_delay_s


def test_long_schedules_are_capped_at_two_hours():
    policy = RetryPolicy(max_attempts=12)
    assert policy.delays()[-1] == 7200.0
    assert max(policy.delays()) == 7200.0


def test_observed_waits_fit_the_policy_only_within_full_jitter():
    assert DELIVERY_RETRY.allows([0.0, 59.9, 120.0])
    assert not DELIVERY_RETRY.allows([31.0])
    assert not DELIVERY_RETRY.allows([1.0, 1.0, 1.0, 1.0, 1.0])
    exact = RetryPolicy(jitter="NONE")
    assert exact.allows([30.0, 60.0]) and not exact.allows([15.0])


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"first_interval_s": 0}, {"backoff_rate": 0.5}, {"max_delay_s": 10}, {"errors": ()}],
)
def test_impossible_policies_are_refused(kwargs):
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)


def test_render_substitutes_every_task_resource_and_keeps_the_retry_entry():
    text = render(route_arn="arn:route", deliver_arn="arn:deliver", dead_letter_arn="arn:dead")
    assert "${" not in text
    assert '"Resource":"arn:deliver"' in text
    deliver = definition()["States"]["Deliveries"]["ItemProcessor"]["States"]["Deliver"]
    assert deliver["Retry"] == [DELIVERY_RETRY.to_asl()]


def test_map_items_wait_only_for_a_send_at_still_ahead_rounded_up_to_the_second():
    now = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)
    assert delivery_item("d1", now, now=now) == {"delivery_id": "d1", "send_at": None}
    assert delivery_item("d1", now + timedelta(seconds=29, milliseconds=1), now=now) == {
        "delivery_id": "d1",
        "send_at": "2026-11-22T10:00:30Z",
    }
    assert redrive_input(["a", "b"])["deliveries"] == [
        {"delivery_id": "a", "send_at": None},
        {"delivery_id": "b", "send_at": None},
    ]


def test_execution_names_say_what_ran_in_step_functions_alphabet():
    now = datetime(2026, 11, 22, 10, 0, 0, 123_000, tzinfo=UTC)
    assert execution_name("redrive", ["dlv:1"], now) == "redrive-dlv_1-20261122T100000123"
    long = execution_name("redrive", ["x" * 200, "y", "z"], now)
    assert len(long) == 80 and long.endswith("-and2-20261122T100000123")


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ({"Error": "DeliveryPermanent", "Cause": "HTTP 400: bad payload"}, "permanent failure: HTTP 400: bad payload"),
        (
            {"Error": "DeliveryRetryable", "Cause": '{"errorMessage": "attempt 5 (last): HTTP 503", "errorType": "X"}'},
            "gave up after 5 attempts: attempt 5 (last): HTTP 503",
        ),
        (
            {"Error": "Runtime.HandlerError", "Cause": '{"errorMessage": "attempt 5 (last): HTTP 503"}'},
            "gave up after 5 attempts: attempt 5 (last): HTTP 503",
        ),
        ({"Error": "States.Runtime", "Cause": "boom"}, "States.Runtime: boom"),
        (None, "dead-lettered without an error"),
    ],
)
def test_dead_letter_reasons_read_the_same_on_aws_and_locally(error, reason):
    assert dead_letter_reason(error) == reason
