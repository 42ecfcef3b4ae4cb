"""SMS: the alert's one-line summary (and its portal link) to one phone number through the SMS port."""

from __future__ import annotations

import time

from pulse.notify.channels.message import Notification
from pulse.notify.channels.models import SmsConfig
from pulse.notify.channels.ports import SenderPorts
from pulse.notify.channels.result import SendResult, clip
from pulse.platform.aws.sns import SmsRejected, SmsUnavailable

SMS_TEXT_LIMIT = 320  # two concatenated segments: a page, not a report


def sms_text(notification: Notification, portal_url: str) -> str:
    """``Pulse CRITICAL: Supply temperature high on dev-1 (escalated) https://.../alerts/al-1``."""
    link = notification.portal_link(portal_url)
    text = f"Pulse {notification.summary}"
    if link:
        room = SMS_TEXT_LIMIT - len(link) - 1
        text = (text if len(text) <= room else text[: room - 1] + "…") + " " + link
    return text[:SMS_TEXT_LIMIT]


def send_sms(config: SmsConfig, notification: Notification, ports: SenderPorts) -> SendResult:
    started = time.perf_counter()
    try:
        ports.sms.send_sms(config.phone_number, sms_text(notification, ports.portal_url))
    except SmsRejected as exc:
        return SendResult("permanent", exc.code, _ms(started), clip(exc.detail))
    except SmsUnavailable as exc:
        return SendResult("retryable", exc.code, _ms(started), clip(exc.detail))
    return SendResult("delivered", None, _ms(started))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
