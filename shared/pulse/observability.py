"""Logger, tracer and metrics, created once for every Pulse entry point.

The service name comes from ``POWERTOOLS_SERVICE_NAME`` (set per function by CDK), so each
Lambda's logs and metrics carry its own name while the code stays shared.
"""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="Pulse")

__all__ = ["logger", "metrics", "tracer"]
