"""An amqtt broker on 127.0.0.1 for the simulator tests, and a paho subscriber playing the cloud side."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import paho.mqtt.client as mqtt
from amqtt.broker import Broker
from paho.mqtt.enums import CallbackAPIVersion

ANONYMOUS = {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MutualTlsBroker(Broker):
    """amqtt asks for a client certificate but accepts a client without one; IoT Core requires it."""

    @staticmethod
    def _create_ssl_context(listener: Any) -> ssl.SSLContext:
        context = Broker._create_ssl_context(listener)
        context.verify_mode = ssl.CERT_REQUIRED
        return context


@contextmanager
def running_broker(listeners: dict[str, dict[str, Any]], broker_class: type[Broker] = Broker) -> Iterator[None]:
    """An amqtt broker on its own event loop thread, stopped on exit."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    brokers: list[Broker] = []

    def serve() -> None:
        asyncio.set_event_loop(loop)

        async def start() -> None:
            broker = broker_class({"listeners": listeners, "plugins": ANONYMOUS})
            await broker.start()
            brokers.append(broker)

        loop.run_until_complete(start())
        started.set()
        loop.run_forever()
        loop.run_until_complete(brokers[0].shutdown())
        loop.close()

    thread = threading.Thread(target=serve, name="amqtt", daemon=True)
    thread.start()
    assert started.wait(10), "the broker did not start"
    try:
        yield
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


class Subscriber:
    """A paho client on ``#`` that records every message (the cloud side of the test)."""

    def __init__(self, port: int) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-cloud")
        self.client.on_message = self._record
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.subscribe("tenant/#", qos=1)
        self.client.loop_start()
        assert subscribed.wait(5)

    def _record(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, bytes(message.payload)))

    def snapshot(self) -> list[tuple[str, bytes]]:
        with self._lock:
            return list(self.messages)

    def wait_for(self, condition: Callable[[list[tuple[str, bytes]]], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition(self.snapshot()):
            assert time.monotonic() < deadline, f"timed out; received {len(self.snapshot())} messages"
            time.sleep(0.05)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
