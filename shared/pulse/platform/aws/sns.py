"""SNS adapter: sends one SMS to a phone number with ``sns.publish`` (transactional).

Throttling and service faults become ``SmsUnavailable`` (retry later); every other refusal (an
invalid or opted-out number, a spending limit reached, no permission) becomes ``SmsRejected``.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from pulse.errors import PulseError

RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
    }
)
MAX_SMS_CHARS = 1600  # SNS splits longer texts into parts up to this total


class SmsRejected(PulseError):
    """The number or the message was refused; sending the same again will fail again."""

    status = 502
    title = "SMS rejected"

    def __init__(self, detail: str, code: int | None = None) -> None:
        super().__init__(detail)
        self.code = code


class SmsUnavailable(PulseError):
    """SNS could not take the message now (throttled, down, unreachable)."""

    status = 503
    title = "SMS unavailable"

    def __init__(self, detail: str, code: int | None = None) -> None:
        super().__init__(detail)
        self.code = code


class SnsSmsPublisher:
    """Thin adapter over a boto3 ``sns`` client; ``sender_id`` is shown where carriers allow it."""

    def __init__(self, client: Any, *, sender_id: str = "") -> None:
        self._client = client
        self._sender_id = sender_id

    def send_sms(self, phone_number: str, text: str) -> str:
        """Returns SNS's message id."""
        attributes: dict[str, Any] = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if self._sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": self._sender_id}
        try:
            response = self._client.publish(
                PhoneNumber=phone_number, Message=text[:MAX_SMS_CHARS], MessageAttributes=attributes
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            detail = f"SNS {code}: {exc.response.get('Error', {}).get('Message', '')}"
            if code in RETRYABLE_CODES or (isinstance(status, int) and status >= 500):
                raise SmsUnavailable(detail, status) from exc
            raise SmsRejected(detail, status) from exc
        except BotoCoreError as exc:
            raise SmsUnavailable(f"SNS unreachable: {exc}") from exc
        return str(response.get("MessageId", ""))
