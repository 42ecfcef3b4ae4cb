"""The maintenance Lambda refuses anything but its one task with a failure response, not a stack trace."""

from __future__ import annotations

import orjson
import pytest

from functions.maintenance.handler import lambda_handler
from tests.builders import FakeLambdaContext


@pytest.mark.parametrize("event", [{"task": "vacuum"}, {}, {"detail-type": "Scheduled Event"}, ["maintenance"]])
def test_unknown_task_is_logged_and_answered_with_a_failure(event, caplog):
    response = lambda_handler(event, FakeLambdaContext())

    assert response["ok"] is False
    assert "expected 'maintenance'" in response["error"]
    orjson.dumps(response)
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert [r.getMessage() for r in errors] == ['unknown scheduled task; expected {"task": "maintenance"}']
    assert errors[0].exc_info is None
