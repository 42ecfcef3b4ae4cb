"""Secrets Manager reads, cached for the life of the container."""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from pulse.errors import ConfigurationError


def read_secret_string(secret_id: str, max_age_s: int = 300) -> str:
    try:
        value = parameters.get_secret(secret_id, max_age=max_age_s)
    except GetParameterError as exc:
        raise ConfigurationError(f"cannot read secret {secret_id}: {exc}") from exc
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"secret {secret_id} holds no connection string")
    return value.strip()
