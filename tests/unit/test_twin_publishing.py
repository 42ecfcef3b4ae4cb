"""Where the twin's default publisher sends: the configured data URL, else https on the data endpoint."""

from __future__ import annotations

import pytest

from pulse.twin.publishing import default_publisher


@pytest.fixture(autouse=True)
def region(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    default_publisher.cache_clear()
    yield
    default_publisher.cache_clear()


def endpoint_of(publisher: object) -> str:
    return str(publisher._client.meta.endpoint_url)  # type: ignore[attr-defined]


def test_the_data_url_is_used_as_given_so_the_local_emulator_is_reached_over_plain_http():
    assert endpoint_of(default_publisher("ignored.example", "http://127.0.0.1:4566")) == "http://127.0.0.1:4566"


def test_a_configured_data_endpoint_host_is_reached_over_https():
    publisher = default_publisher("abc-ats.iot.eu-west-1.amazonaws.com")
    assert endpoint_of(publisher) == "https://abc-ats.iot.eu-west-1.amazonaws.com"
