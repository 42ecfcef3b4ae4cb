"""The port through which twin changes reach devices, and how the API finds one.

The API resolves the publisher from ``app.state.twin_publisher`` when a test (or another entry
point) put one there, otherwise from ``default_publisher``: an ``IotDataPublisher`` on the account's
IoT data endpoint (or on ``iot_data_url`` when set, as the local emulator needs), built once per
container. ``ApiServices`` is not extended so that the twin does
not need a change in the shared API dependencies.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Protocol

from pulse.twin.protocol import OutgoingMessage


class TwinPublisher(Protocol):
    def publish(self, messages: Iterable[OutgoingMessage]) -> int: ...


@lru_cache(maxsize=4)
def default_publisher(iot_endpoint: str, data_url: str = "") -> TwinPublisher:
    """``iot-data`` on ``data_url`` when given (the local emulator: its plain-HTTP address), else on
    ``https://`` + ``iot_endpoint``; both empty (unknown at synth time): the account's ATS data
    endpoint, looked up once (``iot:DescribeEndpoint``)."""
    import boto3  # the adapter's SDK, imported only when no publisher was injected

    from pulse.platform.aws.iot_data import IotDataPublisher

    if not data_url:
        host = iot_endpoint or boto3.client("iot").describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"]
        data_url = f"https://{host}"
    return IotDataPublisher(boto3.client("iot-data", endpoint_url=data_url))
