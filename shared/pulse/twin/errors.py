"""Refusals of a twin update. ``status`` is the HTTP status and the ``code`` of an MQTT rejection
(AWS Device Shadow error response: ``{"code", "message", "timestamp", "clientToken"}``)."""

from __future__ import annotations

from pulse.errors import PulseError


class TwinError(PulseError):
    """Base of the twin's refusals."""


class TwinInvalid(TwinError):
    """Malformed request: bad JSON, wrong types, too deep, arrays holding null, bad predicate.

    ``detail`` reads ``<field>: <message>`` so the API's problem body names the field.
    """

    status = 400
    title = "Invalid twin update"


class TwinNotFound(TwinError):
    status = 404
    title = "Twin not found"


class TwinVersionConflict(TwinError):
    """The request's ``version`` is not the twin's current version; nothing was written."""

    status = 409
    title = "Twin version conflict"

    def __init__(self, detail: str, current_version: int) -> None:
        super().__init__(detail)
        self.current_version = current_version


class TwinPreconditionFailed(TwinError):
    """The request's ``if`` predicate is false on the current twin; nothing was written."""

    status = 412
    title = "Twin precondition failed"


class TwinTooLarge(TwinError):
    """desired + reported would exceed the state size limit (8 KB, as AWS)."""

    status = 413
    title = "Twin too large"
