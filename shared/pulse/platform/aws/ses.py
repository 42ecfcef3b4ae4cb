"""SES adapter: sends a finished MIME message with ``sesv2.send_email`` (raw content).

Throttling and service faults become ``EmailUnavailable`` (retry later); every other refusal
(unverified identity, rejected message, paused account, bad address) becomes ``EmailRejected``.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from pulse.notify.channels.errors import EmailRejected, EmailUnavailable

RETRYABLE_CODES = frozenset(
    {
        "TooManyRequestsException",
        "Throttling",
        "ThrottlingException",
        "LimitExceededException",
        "InternalFailure",
        "InternalServiceError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
    }
)


class SesMailer:
    def __init__(self, client: Any, *, configuration_set: str | None = None) -> None:
        self._client = client
        self._configuration_set = configuration_set

    def send(self, message: EmailMessage) -> None:
        recipients = [
            a.strip() for field in ("To", "Cc", "Bcc") for a in str(message.get(field, "")).split(",") if a.strip()
        ]
        request: dict[str, Any] = {
            "FromEmailAddress": str(message["From"]),
            "Destination": {"ToAddresses": recipients},
            "Content": {"Raw": {"Data": message.as_bytes()}},
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        try:
            self._client.send_email(**request)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            detail = f"SES {code}: {exc.response.get('Error', {}).get('Message', '')}"
            if code in RETRYABLE_CODES or (isinstance(status, int) and status >= 500):
                raise EmailUnavailable(detail, status) from exc
            raise EmailRejected(detail, status) from exc
        except BotoCoreError as exc:
            raise EmailUnavailable(f"SES unreachable: {exc}") from exc
