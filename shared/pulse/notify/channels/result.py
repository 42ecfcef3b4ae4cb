"""The outcome of one delivery attempt, and how failures are classified.

``retryable``: the receiver or the network may accept the same message later (connection errors,
timeouts, 5xx, 429, throttling). ``permanent``: sending it again cannot help (other 4xx, a refused
destination, incomplete or invalid configuration); the delivery goes to the dead-letter table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SendStatus = Literal["delivered", "retryable", "permanent"]
MAX_ERROR_CHARS = 500


@dataclass(frozen=True, slots=True)
class SendResult:
    status: SendStatus
    response_code: int | None
    latency_ms: float
    error: str = ""

    @property
    def delivered(self) -> bool:
        return self.status == "delivered"


def status_for_http(code: int) -> SendStatus:
    if 200 <= code < 300:
        return "delivered"
    if code in {429, 408} or code >= 500:
        return "retryable"
    return "permanent"


def clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"
