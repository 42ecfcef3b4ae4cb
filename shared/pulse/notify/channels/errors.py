"""Typed failures the mail adapters (SES, SMTP) raise; the email sender turns them into results."""

from __future__ import annotations

from pulse.errors import PulseError


class EmailRejected(PulseError):
    """The message or an address was refused; sending the same again will fail again."""

    status = 502
    title = "Email rejected"

    def __init__(self, detail: str, code: int | None = None) -> None:
        super().__init__(detail)
        self.code = code


class EmailUnavailable(PulseError):
    """The mail service could not take the message now (throttled, down, unreachable)."""

    status = 503
    title = "Email unavailable"

    def __init__(self, detail: str, code: int | None = None) -> None:
        super().__init__(detail)
        self.code = code
