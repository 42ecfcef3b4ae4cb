"""The delivery retry policy: defined here once, rendered into the state machine's Retry entry.

Five attempts in total: the first right away, then retries after 30 s, 60 s, 120 s and 240 s,
doubling from ``first_interval_s`` and never longer than ``max_delay_s`` (2 h). With FULL jitter
Step Functions waits a random time between 0 and that interval, so a receiver that comes back is
not hit by every queued delivery at the same instant.

Error names the Retry entry matches (``RETRYABLE_ERRORS``):

- ``DeliveryRetryable``: the deliver task raises it when the receiver answered 5xx/429, timed out
  or could not be reached. Permanent failures (4xx, bad configuration) are *returned* as an
  outcome, never raised, so only transient failures ever reach Retry.
- ``Runtime.HandlerError``: the local emulator (ministack) reports every Python exception under
  this name instead of the exception's class, so ``DeliveryRetryable`` arrives locally as
  ``Runtime.HandlerError``. On AWS the same name covers a handler that failed in the runtime;
  both are worth another attempt.
- ``Sandbox.Timedout``, ``States.Timeout`` and the ``Lambda.*`` service errors AWS recommends
  retrying: the invocation itself failed, the delivery may not have run at all.

Every matched error counts against the same budget: one retrier, five attempts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pulse.errors import PulseError


class DeliveryRetryable(PulseError):
    """Raised by the deliver task for a failure a later attempt may overcome; its class name is the
    error name Step Functions matches on AWS (Lambda reports ``errorType`` = the exception's class)."""

    status = 503
    title = "Delivery will be retried"


DELIVERY_RETRYABLE = DeliveryRetryable.__name__
EMULATOR_HANDLER_ERROR = "Runtime.HandlerError"
RETRYABLE_ERRORS: tuple[str, ...] = (
    DELIVERY_RETRYABLE,
    EMULATOR_HANDLER_ERROR,
    "Sandbox.Timedout",
    "States.Timeout",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)

Jitter = Literal["FULL", "NONE"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempts of one delivery; ``max_attempts`` counts the first attempt too."""

    max_attempts: int = 5
    first_interval_s: int = 30
    backoff_rate: float = 2.0
    max_delay_s: int = 2 * 3600
    jitter: Jitter = "FULL"
    errors: tuple[str, ...] = RETRYABLE_ERRORS

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts counts the first attempt and must be at least 1")
        if self.first_interval_s < 1:
            raise ValueError("first_interval_s must be at least 1 s (Step Functions IntervalSeconds)")
        if self.backoff_rate < 1.0:
            raise ValueError("backoff_rate must be at least 1.0")
        if self.max_delay_s < self.first_interval_s:
            raise ValueError("max_delay_s must not be shorter than first_interval_s")
        if not self.errors:
            raise ValueError("a retry policy needs at least one error name")

    @property
    def retries(self) -> int:
        """Attempts after the first: what Step Functions calls ``MaxAttempts``."""
        return self.max_attempts - 1

    def delay_before_retry(self, retry: int) -> float:
        """Longest wait before retry ``retry`` (1-based); FULL jitter waits between 0 and this."""
        if not 1 <= retry <= self.retries:
            raise ValueError(f"retry must be within 1..{self.retries}, got {retry}")
        return float(min(self.first_interval_s * self.backoff_rate ** (retry - 1), self.max_delay_s))

    def delays(self) -> list[float]:
        """The wait before each retry without jitter: ``[30, 60, 120, 240]`` for the default policy."""
        return [self.delay_before_retry(retry) for retry in range(1, self.max_attempts)]

    def allows(self, observed: list[float]) -> bool:
        """Whether waits observed between attempts fit this policy (jitter included)."""
        if len(observed) > self.retries:
            return False
        ceilings = self.delays()
        if self.jitter == "NONE":
            return all(abs(wait - ceiling) < 1e-6 for wait, ceiling in zip(observed, ceilings, strict=False))
        return all(0.0 <= wait <= ceiling for wait, ceiling in zip(observed, ceilings, strict=False))

    def to_asl(self) -> dict[str, Any]:
        """The ``Retry`` entry of the deliver task (Amazon States Language)."""
        return {
            "ErrorEquals": list(self.errors),
            "IntervalSeconds": self.first_interval_s,
            "BackoffRate": self.backoff_rate,
            "MaxAttempts": self.retries,
            "MaxDelaySeconds": self.max_delay_s,
            "JitterStrategy": self.jitter,
        }


DELIVERY_RETRY = RetryPolicy()
"""The policy every channel's deliveries use (ARCHITECTURE §3)."""
