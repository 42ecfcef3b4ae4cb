"""SMTP mailer for self-hosting: smtplib with optional STARTTLS, login and a timeout.

Reply codes 5xx (and authentication failures) are permanent; 4xx, timeouts and connection
errors are retryable.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from pydantic import SecretStr

from pulse.notify.channels.errors import EmailRejected, EmailUnavailable
from pulse.settings import Settings


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    starttls: bool = True
    username: str = ""
    password: SecretStr | None = None
    timeout_s: float = 10.0
    tls_context: ssl.SSLContext | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSettings:
        return cls(
            host=settings.notify_smtp_host,
            port=settings.notify_smtp_port,
            starttls=settings.notify_smtp_starttls,
            username=settings.notify_smtp_username,
            password=settings.notify_smtp_password,
            timeout_s=settings.notify_smtp_timeout_s,
        )


class SmtpMailer:
    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings

    def send(self, message: EmailMessage) -> None:
        s = self._settings
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout_s) as smtp:
                if s.starttls:
                    smtp.starttls(context=s.tls_context or ssl.create_default_context())
                if s.username:
                    smtp.login(s.username, s.password.get_secret_value() if s.password else "")
                refused = smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise EmailRejected(f"SMTP login refused: {exc.smtp_code} {_text(exc.smtp_error)}", exc.smtp_code) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(f"{rcpt}: {code} {_text(err)}" for rcpt, (code, err) in exc.recipients.items())
            raise _by_code(f"recipients refused: {detail}", max(codes) if codes else None) from exc
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError, smtplib.SMTPHeloError) as exc:
            raise _by_code(f"SMTP refused the message: {exc.smtp_code} {_text(exc.smtp_error)}", exc.smtp_code) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise EmailRejected(f"SMTP server {s.host}:{s.port} does not support {exc}") from exc
        except smtplib.SMTPResponseException as exc:
            raise _by_code(f"SMTP error: {exc.smtp_code} {_text(exc.smtp_error)}", exc.smtp_code) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise EmailUnavailable(f"SMTP server {s.host}:{s.port} unreachable: {exc!r}") from exc
        if refused:
            detail = "; ".join(f"{rcpt}: {code} {_text(err)}" for rcpt, (code, err) in refused.items())
            raise EmailRejected(f"some recipients refused: {detail}")


def _text(error: bytes | str) -> str:
    return error.decode("utf-8", errors="replace") if isinstance(error, bytes) else str(error)


def _by_code(detail: str, code: int | None) -> EmailRejected | EmailUnavailable:
    if code is not None and 400 <= code < 500:
        return EmailUnavailable(detail, code)
    return EmailRejected(detail, code)
