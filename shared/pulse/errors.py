"""Typed Pulse errors. Adapters raise these; entry points map them to responses in one place."""

from __future__ import annotations


class PulseError(Exception):
    """Base of every error Pulse raises on purpose."""

    status = 500
    title = "Internal error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ConfigurationError(PulseError):
    title = "Configuration error"


class DatabaseUnavailable(PulseError):
    """The database cannot be reached; callers retry later (SQS redelivery, HTTP 503)."""

    status = 503
    title = "Database unavailable"


class MigrationError(PulseError):
    title = "Migration failed"


class Unauthorized(PulseError):
    status = 401
    title = "Unauthorized"


class RequestInvalid(PulseError):
    status = 400
    title = "Invalid request"


class PayloadTooLarge(PulseError):
    status = 413
    title = "Payload too large"
