"""Email: one multipart (text + HTML) message to the channel's recipients through the platform mailer."""

from __future__ import annotations

import time

from pulse.notify.channels.errors import EmailRejected, EmailUnavailable
from pulse.notify.channels.message import Notification
from pulse.notify.channels.models import EmailConfig
from pulse.notify.channels.ports import SenderPorts
from pulse.notify.channels.render.email import email_message
from pulse.notify.channels.result import SendResult, clip


def send_email(config: EmailConfig, notification: Notification, ports: SenderPorts) -> SendResult:
    started = time.perf_counter()
    if not ports.email_from:
        return SendResult("permanent", None, 0.0, "no sender address configured (notify_email_from)")
    message = email_message(
        notification,
        sender=ports.email_from,
        to=config.to,
        subject_prefix=config.subject_prefix,
        portal_url=ports.portal_url,
    )
    try:
        ports.mailer.send(message)
    except EmailRejected as exc:
        return SendResult("permanent", exc.code, _ms(started), clip(exc.detail))
    except EmailUnavailable as exc:
        return SendResult("retryable", exc.code, _ms(started), clip(exc.detail))
    return SendResult("delivered", None, _ms(started))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
