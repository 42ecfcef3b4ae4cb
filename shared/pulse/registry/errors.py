"""Typed refusals of the registry (and of every API resource: not found, conflicts, preconditions)."""

from __future__ import annotations

from pulse.errors import PulseError


class NotFound(PulseError):
    status = 404
    title = "Not found"


class Conflict(PulseError):
    status = 409
    title = "Conflict"


class DeviceLimitReached(PulseError):
    status = 409
    title = "Device limit reached"


class PreconditionFailed(PulseError):
    """If-Match named a version that is no longer current (someone else changed the object)."""

    status = 412
    title = "Precondition failed"


class PreconditionRequired(PulseError):
    status = 428
    title = "Precondition required"


class SubscriptionInactive(PulseError):
    status = 403
    title = "Subscription inactive"
