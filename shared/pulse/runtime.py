"""Process-wide objects for entry points (Lambda handlers, CLI): settings, database, caches.

Built lazily once per process (a Lambda container), so cold start pays only for what a function
uses. ``reset()`` exists for tests that change the environment between cases.
"""

from __future__ import annotations

from functools import lru_cache

from pulse.db import Database
from pulse.errors import ConfigurationError
from pulse.outbox.after_commit import OutboxStarter
from pulse.rules.cache import RuleCache
from pulse.settings import Settings, get_settings
from pulse.stream.writer import PartitionCache


def database_url(settings: Settings) -> str:
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    if settings.database_secret_arn:
        from pulse.platform.aws.secrets import read_secret_string

        return read_secret_string(settings.database_secret_arn)
    raise ConfigurationError("set PULSE_DATABASE_URL or PULSE_DATABASE_SECRET_ARN")


@lru_cache(maxsize=1)
def database() -> Database:
    settings = get_settings()
    return Database.from_settings(settings, database_url(settings))


@lru_cache(maxsize=1)
def partition_cache() -> PartitionCache:
    return PartitionCache()


@lru_cache(maxsize=1)
def rule_cache() -> RuleCache:
    return RuleCache()


@lru_cache(maxsize=1)
def outbox_starter() -> OutboxStarter | None:
    """Starts the outbox function after a commit; None when ``outbox_function_name`` is empty."""
    name = get_settings().outbox_function_name
    if not name:
        return None
    from pulse.platform.aws.lambda_invoke import lambda_outbox_starter

    return lambda_outbox_starter(name)


def reset() -> None:
    if database.cache_info().currsize:
        database().close()
    for cached in (database, partition_cache, rule_cache, outbox_starter, get_settings):
        cached.cache_clear()
