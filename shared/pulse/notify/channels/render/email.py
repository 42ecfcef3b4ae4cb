"""Alert mail: a subject line, a plain-text part and a small HTML part (every value escaped)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from html import escape

from pulse.notify.channels.message import Notification

SEVERITY_COLOURS = {
    "critical": "#b00020",
    "major": "#d9480f",
    "minor": "#e67700",
    "warning": "#f0a202",
    "info": "#1c7ed6",
}


def subject(notification: Notification, prefix: str) -> str:
    line = f"{prefix} {notification.summary}".strip()
    return " ".join(line.split())[:200]


def text_body(notification: Notification, portal_url: str = "") -> str:
    width = max((len(label) for label, _ in notification.facts()), default=0)
    lines = [notification.summary, ""]
    lines += [f"{label + ':':<{width + 1}} {value}" for label, value in notification.facts()]
    link = notification.portal_link(portal_url)
    if link:
        lines += ["", f"Open in Pulse: {link}"]
    lines += ["", f"Event {notification.event_id} - reference {notification.idempotency_key}"]
    return "\n".join(lines) + "\n"


def html_body(notification: Notification, portal_url: str = "") -> str:
    colour = SEVERITY_COLOURS.get(notification.severity, "#495057")
    rows = "".join(
        f'<tr><th align="left" style="padding:2px 12px 2px 0;color:#495057">{escape(label)}</th>'
        f"<td>{escape(value)}</td></tr>"
        for label, value in notification.facts()
    )
    link = notification.portal_link(portal_url)
    button = f'<p><a href="{escape(link, quote=True)}" style="color:{colour}">Open in Pulse</a></p>' if link else ""
    return (
        '<!doctype html><html><body style="font-family:sans-serif">'
        f'<h2 style="color:{colour};margin:0 0 12px">{escape(notification.summary)}</h2>'
        f'<table cellspacing="0">{rows}</table>{button}'
        f'<p style="color:#868e96;font-size:12px">Event {escape(notification.event_id)}</p>'
        "</body></html>"
    )


def email_message(
    notification: Notification, *, sender: str, to: list[str], subject_prefix: str, portal_url: str = ""
) -> EmailMessage:
    """multipart/alternative: text first, HTML preferred by clients that can show it."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject(notification, subject_prefix)
    message["Date"] = format_datetime(notification.occurred_at)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "pulse.invalid")
    message["Auto-Submitted"] = "auto-generated"
    message["X-Pulse-Event"] = notification.event_name
    message["X-Pulse-Idempotency-Key"] = notification.idempotency_key
    message.set_content(text_body(notification, portal_url))
    message.add_alternative(html_body(notification, portal_url), subtype="html")
    return message
