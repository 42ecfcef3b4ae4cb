"""MQTT links over paho: mutual TLS to the local broker or AWS IoT Core, or plain TCP for tests.

One paho client per device, because a certificate is one identity and AWS IoT Core ties the
client id (the thing name) to one connection. Each client runs paho's network thread, which
idles in ``select`` and costs next to nothing; paho reconnects with exponential backoff (1 s up
to 60 s) and re-sends unacknowledged QoS 1 messages after it reconnects.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from pulse.connect.topics import build_topic
from pulse_sim.credentials import CredentialsError, DeviceIdentity, Endpoint, TlsFiles, endpoint_of, tls_files
from pulse_sim.inbound import SUBSCRIBED_KINDS, InboundHandler, InboundMessage, dispatch, dispatch_connected
from pulse_sim.transport import LinkOutbox

logger = logging.getLogger("pulse_sim.mqtt")

QOS = 1
KEEPALIVE_S = 30
RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 60
MAX_QUEUED = 10_000  # messages held by paho while the broker is unreachable
AWS_ALPN_PORT = 443  # AWS IoT Core serves MQTT on 443 only to clients offering this ALPN protocol
AWS_ALPN_PROTOCOL = "x-amzn-mqtt-ca"


def tls_context(files: TlsFiles, endpoint: Endpoint, *, verify_hostname: bool) -> ssl.SSLContext:
    """Client context for mutual TLS: the device proves itself with its certificate, the broker with the CA."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(files.ca))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile=str(files.cert), keyfile=str(files.key))
    context.check_hostname = verify_hostname
    if endpoint.port == AWS_ALPN_PORT:
        context.set_alpn_protocols([AWS_ALPN_PROTOCOL])
    return context


class MqttLink:
    """A device's MQTT session: publishes at QoS 1, subscribes to its cloud-to-device topics."""

    def __init__(
        self,
        identity: DeviceIdentity,
        endpoint: Endpoint,
        tls: TlsFiles | None,
        inbound: InboundHandler,
        *,
        verify_hostname: bool = True,
    ) -> None:
        self._identity = identity
        self._endpoint = endpoint
        self._inbound = inbound
        self._outbox = LinkOutbox(identity, self)
        self._subscriptions = {
            build_topic(identity.tenant_id, identity.device_id, kind): kind for kind in SUBSCRIBED_KINDS
        }
        self._acks = threading.Condition()
        self._unacked = 0
        self._was_connected = False
        self._subscribe_mid: int | None = None
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=identity.thing_name, protocol=mqtt.MQTTv311, clean_session=True
        )
        client.reconnect_delay_set(min_delay=RECONNECT_MIN_S, max_delay=RECONNECT_MAX_S)
        client.max_queued_messages_set(MAX_QUEUED)
        if tls is not None:
            try:
                client.tls_set_context(tls_context(tls, endpoint, verify_hostname=verify_hostname))
            except (OSError, ssl.SSLError) as exc:
                raise CredentialsError(f"device {identity.device_id}: cannot load TLS files: {exc}") from exc
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        self._client = client

    def connect(self) -> None:
        self._client.connect_async(self._endpoint.host, self._endpoint.port, keepalive=KEEPALIVE_S)
        self._client.loop_start()

    def publish(self, topic: str, payload: bytes) -> None:
        with self._acks:
            self._unacked += 1
        info = self._client.publish(topic, payload, qos=QOS)
        if info.rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
            with self._acks:
                self._unacked -= 1
            logger.warning(
                "message dropped: paho queue full while the broker is unreachable",
                extra={"device_id": self._identity.device_id, "topic": topic, "limit": MAX_QUEUED},
            )

    def disconnect(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def close(self, deadline: float) -> None:
        with self._acks:
            while self._unacked > 0 and self._client.is_connected():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._acks.wait(min(remaining, 0.1))
            unacked = self._unacked
        if unacked:
            logger.warning(
                "closing with unacknowledged messages",
                extra={"device_id": self._identity.device_id, "unacked": unacked},
            )
        self.disconnect()

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: mqtt.ConnectFlags, reason: ReasonCode, properties: Any
    ) -> None:
        if reason.is_failure:
            logger.error(
                "broker refused the connection",
                extra={"device_id": self._identity.device_id, "reason": str(reason), "host": self._endpoint.host},
            )
            return
        _, self._subscribe_mid = client.subscribe([(topic, QOS) for topic in self._subscriptions])
        logger.info(
            "device connected" if not self._was_connected else "device reconnected",
            extra={
                "device_id": self._identity.device_id,
                "client_id": self._identity.thing_name,
                "host": self._endpoint.host,
                "port": self._endpoint.port,
            },
        )
        self._was_connected = True

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reasons: list[ReasonCode], properties: Any
    ) -> None:
        """Once subscribed, replies can reach the device: now the handler may ask for its twin."""
        if mid != self._subscribe_mid:
            return
        refused = [topic for topic, reason in zip(self._subscriptions, reasons, strict=False) if reason.is_failure]
        if refused:
            logger.warning(
                "broker refused subscriptions", extra={"device_id": self._identity.device_id, "topics": refused}
            )
        dispatch_connected(self._inbound, self._identity, self._outbox)

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        logger.warning(
            "connection attempt failed, retrying with backoff",
            extra={"device_id": self._identity.device_id, "host": self._endpoint.host, "port": self._endpoint.port},
        )

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: mqtt.DisconnectFlags, reason: ReasonCode, properties: Any
    ) -> None:
        log = logger.warning if reason.is_failure else logger.info
        log("device disconnected", extra={"device_id": self._identity.device_id, "reason": str(reason)})
        with self._acks:
            self._acks.notify_all()

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason: ReasonCode, properties: Any) -> None:
        with self._acks:
            self._unacked -= 1
            self._acks.notify_all()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        kind = self._subscriptions.get(message.topic)
        if kind is None:
            logger.warning(
                "message on an unexpected topic", extra={"device_id": self._identity.device_id, "topic": message.topic}
            )
            return
        dispatch(
            self._inbound, InboundMessage(self._identity, kind, message.topic, bytes(message.payload)), self._outbox
        )


class MqttTransport:
    """Opens a link per device from the credentials folder; ``plain`` is for tests (no TLS, no auth)."""

    def __init__(
        self,
        credentials_dir: Path,
        *,
        host: str | None = None,
        port: int | None = None,
        plain: bool = False,
        verify_hostname: bool = True,
    ) -> None:
        self._root = credentials_dir
        self._host = host
        self._port = port
        self._plain = plain
        self._verify_hostname = verify_hostname

    def open(self, identity: DeviceIdentity, inbound: InboundHandler) -> MqttLink:
        tls = None if self._plain else tls_files(self._root, identity.device_id)
        endpoint = endpoint_of(self._root, identity.device_id, self._host, self._port, plain=self._plain)
        return MqttLink(identity, endpoint, tls, inbound, verify_hostname=self._verify_hostname)
