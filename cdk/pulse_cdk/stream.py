"""Stream plane: the database connection secret, schema migrations and scheduled maintenance."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack, triggers
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from pulse_cdk.function import FunctionDefaults, PulseFunction
from pulse_cdk.nag import acknowledge
from pulse_cdk.schedules import invoke_on_schedule

MAINTENANCE_RATE = Duration.minutes(15)
MAINTENANCE_INPUT = {"task": "maintenance"}


class StreamConstruct(Construct):
    """Owns the telemetry store's connection and keeps its schema and partitions current.

    ``database_secret`` (``pulse/<stage>/database-url``) holds the PostgreSQL/Timescale
    connection URL. CloudFormation creates it with a random placeholder, because a template must
    never carry the real credentials; DevOps then store the URL once per stage::

        aws secretsmanager put-secret-value --secret-id pulse/<stage>/database-url \\
            --secret-string 'postgresql://pulse:...@host:5432/pulse?sslmode=require'

    Functions receive the secret's ARN as ``PULSE_DATABASE_SECRET_ARN`` and read access through
    ``grant_database_read``; the value is fetched at cold start, never put in the environment.
    The secret survives ``cdk destroy`` in every stage, so a destroy never loses the URL; the
    price is that redeploying a destroyed stage needs the retained secret deleted first
    (``aws secretsmanager delete-secret --force-delete-without-recovery``).

    ``migrate`` runs the SQL migrations on every deployment that changes it (a CDK trigger, so a
    failed migration fails the deployment). Its code includes the ``pulse`` layer, so a new
    migration file is enough to re-run it. On the very first deployment of a stage the secret
    still holds the placeholder, which is not a ``postgresql://`` URL: the handler reports
    "not configured" instead of failing, and DevOps run ``aws lambda invoke --function-name
    pulse-<stage>-migrate`` once after ``put-secret-value``. ``maintenance`` runs every 15
    minutes from EventBridge Scheduler (partitions ahead, retention, rollups).
    """

    def __init__(self, scope: Construct, construct_id: str, *, defaults: FunctionDefaults) -> None:
        super().__init__(scope, construct_id)
        self._defaults = defaults
        self.database_secret = self._build_database_secret()
        self.migrate = self._build_migrate()
        self.migration_trigger = self._build_migration_trigger()
        self.maintenance = self._build_maintenance()
        self.scheduler_role = self._build_scheduler_role()
        self.maintenance_schedule = self._build_maintenance_schedule()

    def database_environment(self, db_role: str) -> dict[str, str]:
        """Environment of a function that connects to the database as ``db_role``."""
        return {
            "PULSE_DATABASE_SECRET_ARN": self.database_secret.secret_arn,
            "PULSE_DB_ROLE": db_role,
        }

    def grant_database_read(self, function: PulseFunction) -> None:
        self.database_secret.grant_read(function.function)

    def _build_database_secret(self) -> secretsmanager.Secret:
        config = self._defaults.config
        secret = secretsmanager.Secret(
            self,
            "DatabaseUrl",
            secret_name=f"pulse/{config.stage}/database-url",
            description=(
                "PostgreSQL connection URL for Pulse. Created with a placeholder; "
                "DevOps put the real URL here (put-secret-value)."
            ),
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True, password_length=32),
            # Retained in every stage: it holds a credential typed in by hand that the stack does
            # not own. Redeploying a destroyed stage needs it deleted or imported first.
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            secret.node.default_child,
            "AwsSolutions-SMG4",
            "The secret holds the connection URL of an externally managed PostgreSQL/Timescale "
            "service; its credentials are rotated at the provider and the URL is re-put here, so "
            "there is no rotation Lambda that could change them.",
        )
        return secret

    def _build_migrate(self) -> PulseFunction:
        migrate = PulseFunction(
            self,
            "Migrate",
            name="migrate",
            defaults=self._defaults,
            description="Applies the SQL migrations at deploy time",
            memory_size=512,
            timeout=Duration.minutes(10),
            environment=self.database_environment("owner"),
        )
        self.grant_database_read(migrate)
        return migrate

    def _build_migration_trigger(self) -> triggers.Trigger:
        # After the secret and the whole function construct, so its role policy (the secret
        # grant) exists before the first invocation.
        return triggers.Trigger(
            self,
            "MigrateOnDeploy",
            handler=self.migrate.function,
            execute_after=[self.database_secret, self.migrate],
            execute_on_handler_change=True,
            timeout=Duration.minutes(10),
        )

    def _build_maintenance(self) -> PulseFunction:
        maintenance = PulseFunction(
            self,
            "Maintenance",
            name="maintenance",
            defaults=self._defaults,
            description="Partitions, retention and rollups of the telemetry store",
            memory_size=512,
            timeout=Duration.minutes(5),
            environment=self.database_environment("owner"),
        )
        self.grant_database_read(maintenance)
        return maintenance

    def _build_scheduler_role(self) -> iam.Role:
        # Built here rather than left to the target's shared default so the one wildcard it
        # needs is acknowledged on a role that can only invoke Pulse's scheduled functions.
        return iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            ),
            description="EventBridge Scheduler invoking Pulse scheduled functions",
        )

    def _build_maintenance_schedule(self) -> scheduler.Schedule:
        # A missed run is redone by the next one; retrying a long run would only overlap.
        return invoke_on_schedule(
            self,
            "MaintenanceSchedule",
            config=self._defaults.config,
            role=self.scheduler_role,
            function=self.maintenance,
            name="maintenance",
            payload=MAINTENANCE_INPUT,
            rate=MAINTENANCE_RATE,
            description="Runs the telemetry store maintenance",
            wildcard_reason="grant_invoke also allows the function's qualified ARNs (versions, aliases); the "
            "wildcard only spans qualifiers of this one function, not other functions.",
        )
