"""The registry side of the local seed: the demo tenant's subscription, two sites, one login per role.

Runs after the stack is deployed (the user pool is the stack's) and on every ``pulse dev`` start;
each step is idempotent. Passwords are generated once per checkout and kept in ``.pulse/logins.json``
(mode 0600) so the printed logins stay valid across runs.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pulse.db import Database
from pulse.errors import ConfigurationError
from pulse.identity.scope import Actor, TenantScope, operator_transaction
from pulse.registry import service, store
from pulse.registry.models import SiteIn, SubscriptionChange, TenantIn
from pulse.registry.subscriptions import change_subscription, create_tenant

SEED_ACTOR = Actor.system("local-seed")
DEMO_SITES = (
    SiteIn(
        id="plant-north",
        name="North Water Plant",
        address="Am Wasserwerk 1, 80939 München",
        lat=48.2082,
        lng=11.6245,
        timezone="Europe/Berlin",
    ),
    SiteIn(
        id="substation-7",
        name="Substation 7",
        address="1200 Grid Ave, Newark, NJ 07105",
        lat=40.7200,
        lng=-74.1400,
        timezone="America/New_York",
    ),
)


@dataclass(frozen=True)
class Login:
    email: str
    role: str
    tenant_id: str | None
    password: str


def demo_logins(tenant_id: str) -> list[tuple[str, str, str | None]]:
    """(email, Cognito group, tenant) for every role the portal knows."""
    return [
        (f"admin@{tenant_id}.pulse.local", "customer_admin", tenant_id),
        (f"viewer@{tenant_id}.pulse.local", "customer_viewer", tenant_id),
        ("operator@pulse.local", "operator", None),
        ("opsadmin@pulse.local", "operator_admin", None),
    ]


def seed_tenant(database_url: str, tenant_id: str, name: str, now: datetime | None = None) -> bool:
    """The tenant with a paid standard subscription for a year (created through the registry)."""
    now = now or datetime.now(UTC)
    db = Database(database_url)
    try:
        with operator_transaction(db) as conn:
            if conn.execute("SELECT 1 FROM subscriptions WHERE tenant_id = %s", (tenant_id,)).fetchone():
                return False
            if conn.execute("SELECT 1 FROM tenants WHERE id = %s", (tenant_id,)).fetchone() is not None:
                raise ConfigurationError(
                    f"tenant {tenant_id!r} exists without a subscription (a database seeded before the "
                    "registry existed): run `pulse db reset` and start again"
                )
            create_tenant(conn, TenantIn(id=tenant_id, name=name, plan_id="standard"), SEED_ACTOR, now)
            change_subscription(
                conn,
                tenant_id,
                SubscriptionChange(plan_id="standard", ends_at=now + timedelta(days=365)),
                SEED_ACTOR,
                now,
            )
        return True
    finally:
        db.close()


def seed_sites(database_url: str, tenant_id: str, device_ids: list[str]) -> int:
    """The demo sites, and each device without a site placed on one of them (alternating)."""
    db = Database(database_url)
    scope = TenantScope(db, tenant_id, SEED_ACTOR, as_operator=True)
    created = 0
    try:
        for site in DEMO_SITES:
            with scope.transaction() as conn:
                exists = store.get_site(conn, tenant_id, site.id) is not None
            if not exists:
                service.create_site(scope, site)
                created += 1
        with scope.transaction() as conn:
            for index, device_id in enumerate(device_ids):
                conn.execute(
                    "UPDATE devices SET site_id = %s WHERE tenant_id = %s AND id = %s AND site_id IS NULL",
                    (DEMO_SITES[index % len(DEMO_SITES)].id, tenant_id, device_id),
                )
    finally:
        db.close()
    return created


def _new_password() -> str:
    # Cognito's default policy: upper, lower, digit and symbol, at least 8 characters.
    return "Pulse-" + secrets.token_urlsafe(9) + "9a"


def seed_logins(cognito: Any, user_pool_id: str, tenant_id: str, logins_file: Path) -> list[Login]:
    """One confirmed user per role with a known password (emulator Cognito; never used against AWS)."""
    stored: dict[str, str] = json.loads(logins_file.read_text()) if logins_file.is_file() else {}
    logins = []
    for email, group, tenant in demo_logins(tenant_id):
        password = stored.get(email) or _new_password()
        try:
            cognito.admin_get_user(UserPoolId=user_pool_id, Username=email)
        except cognito.exceptions.UserNotFoundException:
            attributes = [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}]
            if tenant:
                attributes.append({"Name": "custom:tenant_id", "Value": tenant})
            cognito.admin_create_user(
                UserPoolId=user_pool_id, Username=email, UserAttributes=attributes, MessageAction="SUPPRESS"
            )
            cognito.admin_add_user_to_group(UserPoolId=user_pool_id, Username=email, GroupName=group)
        cognito.admin_set_user_password(UserPoolId=user_pool_id, Username=email, Password=password, Permanent=True)
        stored[email] = password
        logins.append(Login(email, group, tenant, password))
    logins_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(logins_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(stored, fh, indent=2)
    return logins


def id_token(cognito: Any, user_pool_id: str, client_id: str, email: str, password: str) -> str:
    """An ID token for a seeded login (admin password auth against the emulator's user pool)."""
    result = cognito.admin_initiate_auth(
        UserPoolId=user_pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    return str(result["AuthenticationResult"]["IdToken"])
