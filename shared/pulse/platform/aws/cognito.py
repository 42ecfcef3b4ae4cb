"""Cognito user pool administration for tenant user management (the ``UserDirectory`` port).

Every SDK failure becomes a typed Pulse error; callers never see botocore exceptions. The client
is passed in, so the same code runs against AWS, the local emulator and moto. Needs, on the pool:
``cognito-idp:ListUsersInGroup, AdminGetUser, AdminListGroupsForUser, AdminCreateUser,
AdminDeleteUser, AdminAddUserToGroup, AdminRemoveUserFromGroup, AdminDisableUser,
AdminEnableUser`` (granted by ``ApiConstruct``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from pulse.errors import RequestInvalid
from pulse.identity.users import DirectoryError, DirectoryUser, UserExists, UserNotFound

TENANT_ATTRIBUTE = "custom:tenant_id"
_PAGE = 60  # the largest page ListUsersInGroup and AdminListGroupsForUser return


def _attributes(pairs: list[dict[str, str]] | None) -> dict[str, str]:
    return {a["Name"]: a.get("Value", "") for a in pairs or []}


def _created(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) else None


class CognitoUserDirectory:
    """Thin adapter over a boto3 ``cognito-idp`` client, bound to one user pool."""

    def __init__(self, client: Any, user_pool_id: str) -> None:
        self._cognito = client
        self._pool = user_pool_id

    def _call(self, what: str, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._cognito, method)(UserPoolId=self._pool, **kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code, message = str(error.get("Code", "")), str(error.get("Message", exc))
            if code == "UserNotFoundException":
                raise UserNotFound(f"{what}: no such user") from exc
            if code in ("UsernameExistsException", "AliasExistsException"):
                raise UserExists(f"email: a user with this email already exists ({message})") from exc
            if code == "InvalidParameterException":
                raise RequestInvalid(f"user: {message}") from exc
            raise DirectoryError(f"{what}: {code or 'error'}: {message}") from exc
        except BotoCoreError as exc:
            raise DirectoryError(f"{what}: {exc}") from exc

    def _groups_of(self, username: str) -> frozenset[str]:
        groups: set[str] = set()
        token: str | None = None
        while True:
            page = self._call(
                f"groups of {username}",
                "admin_list_groups_for_user",
                Username=username,
                Limit=_PAGE,
                **({"NextToken": token} if token else {}),
            )
            groups.update(str(g["GroupName"]) for g in page.get("Groups", []))
            token = page.get("NextToken")
            if not token:
                return frozenset(groups)

    def users_in_group(self, group: str) -> list[DirectoryUser]:
        users: list[DirectoryUser] = []
        token: str | None = None
        while True:
            page = self._call(
                f"list group {group}",
                "list_users_in_group",
                GroupName=group,
                Limit=_PAGE,
                **({"NextToken": token} if token else {}),
            )
            for found in page.get("Users", []):
                attributes = _attributes(found.get("Attributes"))
                users.append(
                    DirectoryUser(
                        username=str(found["Username"]),
                        email=attributes.get("email", ""),
                        tenant_id=attributes.get(TENANT_ATTRIBUTE) or None,
                        groups=frozenset({group}),
                        enabled=bool(found.get("Enabled", True)),
                        status=str(found.get("UserStatus", "")),
                        created_at=_created(found.get("UserCreateDate")),
                    )
                )
            token = page.get("NextToken")
            if not token:
                return users

    def get_user(self, username: str) -> DirectoryUser:
        found = self._call(f"get user {username}", "admin_get_user", Username=username)
        attributes = _attributes(found.get("UserAttributes"))
        return DirectoryUser(
            username=str(found["Username"]),
            email=attributes.get("email", ""),
            tenant_id=attributes.get(TENANT_ATTRIBUTE) or None,
            groups=self._groups_of(username),
            enabled=bool(found.get("Enabled", True)),
            status=str(found.get("UserStatus", "")),
            created_at=_created(found.get("UserCreateDate")),
        )

    def create_user(self, email: str, tenant_id: str, group: str) -> DirectoryUser:
        """``AdminCreateUser`` (Cognito mails the temporary password), then the group.

        With email sign-in the pool answers with a generated username (the user's ``sub``).
        A user whose group cannot be set is deleted again, so no user is left without a role.
        """
        created = self._call(
            f"create user {email}",
            "admin_create_user",
            Username=email,
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": TENANT_ATTRIBUTE, "Value": tenant_id},
            ],
            DesiredDeliveryMediums=["EMAIL"],
        )["User"]
        username = str(created["Username"])
        try:
            self.add_to_group(username, group)
        except (DirectoryError, UserNotFound, RequestInvalid):
            self.delete_user(username)
            raise
        return DirectoryUser(
            username=username,
            email=email,
            tenant_id=tenant_id,
            groups=frozenset({group}),
            enabled=bool(created.get("Enabled", True)),
            status=str(created.get("UserStatus", "FORCE_CHANGE_PASSWORD")),
            created_at=_created(created.get("UserCreateDate")),
        )

    def delete_user(self, username: str) -> None:
        self._call(f"delete user {username}", "admin_delete_user", Username=username)

    def add_to_group(self, username: str, group: str) -> None:
        self._call(f"add {username} to {group}", "admin_add_user_to_group", Username=username, GroupName=group)

    def remove_from_group(self, username: str, group: str) -> None:
        self._call(
            f"remove {username} from {group}", "admin_remove_user_from_group", Username=username, GroupName=group
        )

    def disable_user(self, username: str) -> None:
        self._call(f"disable {username}", "admin_disable_user", Username=username)

    def enable_user(self, username: str) -> None:
        self._call(f"enable {username}", "admin_enable_user", Username=username)


def cognito_user_directory(user_pool_id: str) -> CognitoUserDirectory:
    import boto3

    return CognitoUserDirectory(boto3.client("cognito-idp"), user_pool_id)
