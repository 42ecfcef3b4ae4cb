"""One simulated device: readings in Envelope v1, sequence numbers, clock skew and its uplink buffer.

The device is pure state (no network, no clock): the fleet tells it what time it is and hands
what it returns to the transport. Two flags describe it: ``powered`` (an offline scenario turns
it off: it neither samples nor sends) and ``uplink`` (an uplink drop: it keeps sampling and
buffers, then publishes the backlog in order when the link is back). While a backlog exists every
new message queues behind it, so a device's messages always reach the wire in ``seq`` order.
"""

from __future__ import annotations

import json
import logging
import random
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass

from pulse.connect.topics import TopicKind, build_topic
from pulse_sim.credentials import DeviceIdentity
from pulse_sim.scenarios import FaultKind
from pulse_sim.signals import MetricValue, ModelType, SignalModel

logger = logging.getLogger("pulse_sim.device")

ENVELOPE_VERSION = 1


@dataclass(frozen=True, slots=True)
class Outbound:
    """A message ready for the wire; ``at`` is the fleet time it was produced (not the skewed ``ts``)."""

    device_id: str
    kind: TopicKind
    topic: str
    payload: bytes
    seq: int
    at: float


class SimDevice:
    def __init__(
        self,
        identity: DeviceIdentity,
        model: ModelType,
        rng: random.Random,
        *,
        start: float,
        utc_offset_s: float,
        skew_s: float,
        boot_id: str,
        buffer_limit: int,
        clock_synced_at: float | None = None,
    ) -> None:
        self.identity = identity
        self.model = model
        self.skew_s = skew_s
        # A device that booted with a wrong RTC keeps its skew until NTP corrects the clock (None: never).
        self.clock_synced_at = clock_synced_at
        self.signals = SignalModel(model, rng, start, utc_offset_s)
        self.powered = True
        self.uplink = True
        self.overflowed = 0
        self._boot_id = boot_id
        self._powered_at = start
        self._seq = 0
        self._buffer: deque[Outbound] = deque()
        self._buffer_limit = buffer_limit
        self._topics = {
            kind: build_topic(identity.tenant_id, identity.device_id, kind)
            for kind in (TopicKind.TELEMETRY, TopicKind.HEARTBEAT)
        }

    def clock_offset(self, t: float) -> float:
        """How far the device's clock is off at fleet time ``t``."""
        if self.clock_synced_at is not None and t >= self.clock_synced_at:
            return 0.0
        return self.skew_s

    @property
    def device_id(self) -> str:
        return self.identity.device_id

    @property
    def connected(self) -> bool:
        """Whether the device wants its MQTT connection up."""
        return self.powered and self.uplink

    @property
    def backlog(self) -> int:
        return len(self._buffer)

    def telemetry(self, t: float, faults: Collection[FaultKind] = ()) -> Outbound | None:
        """Samples the sensors; returns the message to publish now, or None (buffered, or powered off)."""
        if not self.powered:
            return None
        return self._send_or_buffer(self._message(TopicKind.TELEMETRY, t, self.signals.sample(t, faults)))

    def heartbeat(self, t: float) -> Outbound | None:
        """A presence beat. None while the link is down: a beat delivered late says nothing about now."""
        if not self.connected:
            return None
        return self._send_or_buffer(self._message(TopicKind.HEARTBEAT, t, {"uptime_s": int(t - self._powered_at)}))

    def drain(self, limit: int) -> list[Outbound]:
        """Up to ``limit`` buffered messages, oldest first, once the link is back."""
        if not self.connected:
            return []
        return [self._buffer.popleft() for _ in range(min(limit, len(self._buffer)))]

    def power_off(self) -> None:
        """The buffer is kept (devices buffer to flash) and sent after power returns."""
        self.powered = False

    def power_on(self, t: float) -> None:
        self.powered = True
        self._powered_at = t

    def _send_or_buffer(self, message: Outbound) -> Outbound | None:
        if self.connected and not self._buffer:
            return message
        if len(self._buffer) >= self._buffer_limit:
            lost = self._buffer.popleft()
            self.overflowed += 1
            logger.warning(
                "uplink buffer full, oldest message lost",
                extra={"device_id": self.device_id, "seq": lost.seq, "limit": self._buffer_limit},
            )
        self._buffer.append(message)
        return None

    def _message(self, kind: TopicKind, t: float, metrics: dict[str, MetricValue]) -> Outbound:
        self._seq += 1
        envelope: dict[str, object] = {
            "v": ENVELOPE_VERSION,
            "ts": round((t + self.clock_offset(t)) * 1000),
            "seq": self._seq,
            "msg_id": f"{self._boot_id}-{self._seq}",
            "metrics": metrics,
        }
        if self.identity.site_id is not None:
            envelope["site_id"] = self.identity.site_id
        payload = json.dumps(envelope, separators=(",", ":")).encode()
        return Outbound(self.device_id, kind, self._topics[kind], payload, self._seq, t)
