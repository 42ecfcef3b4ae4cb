"""Bucket choices, UTC-epoch alignment, query limits and retention arithmetic (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulse.errors import RequestInvalid
from pulse.settings import Settings
from pulse.stream.models import Bucket, RawCursor
from pulse.stream.query import (
    EPOCH,
    MAX_METRICS_PER_QUERY,
    bucket_count,
    bucket_start,
    bucketed,
    parse_bucket,
    validate_metrics,
    validate_window,
    whole_hours,
)
from pulse.stream.retention import minute_rollup_cutoff, partition_days, telemetry_cutoff

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


class NoDatabase:
    def execute(self, *args, **kwargs):
        raise AssertionError("validation must refuse the request before any SQL runs")


@pytest.mark.parametrize("value", ["1m", "5m", "15m", "1h", "6h", "1d"])
def test_each_offered_bucket_parses(value):
    assert parse_bucket(value).value == value


@pytest.mark.parametrize("value", ["2m", "1H", "60s", "", "1w"])
def test_other_buckets_are_refused_naming_the_choices(value):
    with pytest.raises(RequestInvalid, match="1m, 5m, 15m, 1h, 6h, 1d"):
        parse_bucket(value)


@pytest.mark.parametrize(
    ("bucket", "ts", "start"),
    [
        (Bucket.MINUTE, "2026-03-01T12:34:56.789+00:00", "2026-03-01T12:34:00+00:00"),
        (Bucket.FIFTEEN_MINUTES, "2026-03-01T12:44:59+00:00", "2026-03-01T12:30:00+00:00"),
        (Bucket.SIX_HOURS, "2026-03-01T17:59:59+00:00", "2026-03-01T12:00:00+00:00"),
        # A day is a UTC day, whatever offset the timestamp was written with.
        (Bucket.DAY, "2026-03-02T03:00:00+05:30", "2026-03-01T00:00:00+00:00"),
        (Bucket.HOUR, "1969-12-31T23:30:00+00:00", "1969-12-31T23:00:00+00:00"),
    ],
)
def test_buckets_start_on_multiples_of_their_width_since_the_utc_epoch(bucket, ts, start):
    assert bucket_start(datetime.fromisoformat(ts), bucket) == datetime.fromisoformat(start)


@given(
    ts=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    bucket=st.sampled_from(Bucket),
)
def test_bucket_start_is_aligned_and_holds_the_timestamp(ts, bucket):
    start = bucket_start(ts, bucket)
    assert start <= ts < start + bucket.width
    assert (start - EPOCH) % bucket.width == timedelta(0)
    assert start.astimezone(timezone(timedelta(hours=-7))) == start


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        ("10:00", "13:00", ("10:00", "13:00")),
        ("10:00:00.000001", "13:59:59", ("11:00", "13:00")),
        ("10:30", "11:30", None),  # no whole hour inside
        ("10:30", "12:00", ("11:00", "12:00")),
    ],
)
def test_whole_hours_are_the_hours_the_rollup_may_answer_for(start, end, hours):
    def at(hhmm):
        return datetime.fromisoformat(f"2026-03-01T{hhmm}+00:00")

    expected = None if hours is None else (at(hours[0]), at(hours[1]))
    assert whole_hours(at(start), at(end)) == expected


def test_bucket_count_covers_partial_buckets_at_both_ends():
    assert bucket_count(T0, T0 + timedelta(hours=1), Bucket.HOUR) == 1
    assert bucket_count(T0 + timedelta(minutes=30), T0 + timedelta(hours=1, minutes=1), Bucket.HOUR) == 2
    assert bucket_count(T0, T0 + timedelta(days=1), Bucket.MINUTE) == 1440


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (T0, T0, "before end"),
        (T0, T0 - timedelta(seconds=1), "before end"),
        (T0.replace(tzinfo=None), T0 + timedelta(hours=1), "time zone"),
        (T0, T0 + timedelta(days=367), "limit is 366 days"),
    ],
)
def test_windows_are_validated(start, end, message):
    with pytest.raises(RequestInvalid, match=message):
        validate_window(start, end)


def test_metric_lists_are_deduplicated_and_bounded():
    assert validate_metrics(["temp_c", "rh", "temp_c"]) == ["temp_c", "rh"]
    assert validate_metrics("temp_c") == ["temp_c"]
    with pytest.raises(RequestInvalid, match="at least one"):
        validate_metrics([])
    with pytest.raises(RequestInvalid, match="limit"):
        validate_metrics([f"m{i}" for i in range(MAX_METRICS_PER_QUERY + 1)])
    with pytest.raises(RequestInvalid, match="not a metric name"):
        validate_metrics(["temp c"])


def test_too_many_points_are_refused_before_the_query_runs():
    with pytest.raises(RequestInvalid, match="14400 buckets requested"):
        bucketed(NoDatabase(), "acme", "dev-1", ["a", "b"], start=T0, end=T0 + timedelta(days=5), bucket="1m")
    with pytest.raises(RequestInvalid, match="bucket"):
        bucketed(NoDatabase(), "acme", "dev-1", ["a"], start=T0, end=T0 + timedelta(hours=1), bucket="2h")


def test_page_cursor_round_trips_and_garbage_is_a_request_error():
    cursor = RawCursor(ts=T0 + timedelta(microseconds=7), metric="temp_c")
    assert RawCursor.decode(cursor.encode()) == cursor
    for token in ("not-a-cursor", "eyJ0cyI6MX0", ""):
        with pytest.raises(RequestInvalid, match="cursor"):
            RawCursor.decode(token)


def test_partitions_span_the_oldest_accepted_message_to_days_ahead():
    days = partition_days(Settings(max_message_age_s=7 * 86_400, partitions_ahead_days=3), T0)
    assert (days[0], days[-1], len(days)) == (date(2026, 2, 22), date(2026, 3, 4), 11)
    # Any part of a day counts as that whole day.
    assert partition_days(Settings(max_message_age_s=7 * 86_400 + 1, partitions_ahead_days=3), T0)[0] == date(
        2026, 2, 21
    )


def test_minute_rollups_keep_at_most_thirty_days_and_never_more_than_raw_rows():
    assert minute_rollup_cutoff(Settings(telemetry_retention_days=90), T0) == datetime(2026, 1, 30, tzinfo=UTC)
    assert telemetry_cutoff(Settings(telemetry_retention_days=90), T0) == datetime(2025, 12, 1, tzinfo=UTC)
    short = Settings(telemetry_retention_days=10, max_message_age_s=86_400)
    assert minute_rollup_cutoff(short, T0) == telemetry_cutoff(short, T0) == datetime(2026, 2, 19, tzinfo=UTC)
