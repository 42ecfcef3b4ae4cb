"""On-call plane: the hourly coverage check of every on-call schedule."""

from __future__ import annotations

from aws_cdk import Duration
from constructs import Construct

from pulse_cdk.function import FunctionDefaults, PulseFunction
from pulse_cdk.schedules import invoke_on_schedule
from pulse_cdk.stream import StreamConstruct

COVERAGE_RATE = Duration.hours(1)
COVERAGE_INPUT = {"task": "check_coverage"}


class OncallConstruct(Construct):
    """The ``oncall`` function and its hourly ``{"task": "check_coverage"}`` schedule.

    The check reads every tenant's schedules and overrides as ``pulse_ingest`` and opens, updates or
    resolves one ``system.oncall-coverage`` alert per schedule with a hole in the next 7 days. The
    iCal feed is served by the API function (``ApiConstruct`` routes it without the authorizer).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, defaults: FunctionDefaults, stream: StreamConstruct
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = PulseFunction(
            self,
            "Oncall",
            name="oncall",
            defaults=defaults,
            description="Hourly on-call coverage check: a gap in the next 7 days raises an alert",
            timeout=Duration.seconds(60),
            environment=stream.database_environment("pulse_ingest"),
        )
        stream.grant_database_read(self.function)
        self.schedule = invoke_on_schedule(
            self,
            "CoverageSchedule",
            config=defaults.config,
            role=stream.scheduler_role,
            function=self.function,
            name="oncall-coverage",
            payload=COVERAGE_INPUT,
            rate=COVERAGE_RATE,
            description="Checks every on-call schedule for coverage gaps in the next 7 days",
        )
