"""Sign-in with GitHub's AWS half: the table its state lives in, and what the function needs.

The table holds registrations, pending sign-ins, codes, grants and consents, each item keyed by
a hash (never a token or a code), with an expiry DynamoDB's TTL deletes. On-demand: a stack at
rest costs nothing. The function may read and write this table and nothing else new.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.settings import Settings

# Exactly what handler/signin/store.py calls; no Scan, no Query, no batch.
TABLE_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")


def table_policy(table_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": list(TABLE_ACTIONS), "Resource": table_arn}],
        }
    )


class SignInTable(pulumi.ComponentResource):
    def __init__(self, name: str, *, deletion_protection: bool, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("github-search:auth:SignInTable", name, None, opts)
        self.table = aws.dynamodb.Table(
            f"{name}-table",
            billing_mode="PAY_PER_REQUEST",
            hash_key="pk",
            attributes=[{"name": "pk", "type": "S"}],
            ttl={"attribute_name": "expires", "enabled": True},
            point_in_time_recovery={"enabled": True},  # grants and registrations survive a bad write
            deletion_protection_enabled=deletion_protection,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"tableName": self.table.name})


@dataclass(frozen=True)
class SignIn:
    """What the function is told: the table, the OAuth App, who may sign in, its public URL."""

    table: SignInTable
    client_id: str
    client_secret: pulumi.Output[str]
    allowed_users: tuple[str, ...] = ()
    allowed_orgs: tuple[str, ...] = ()
    public_url: str | None = None  # a custom domain's; else the host CloudFront saw
    # deletionProtection: the table outlives a destroy, and what opens its tokens must too.
    deletion_protection: bool = False
    daily_calls_per_person: int | None = None  # counted in the table (handler/signin/budget.py)

    def environment(self) -> dict[str, Any]:
        environment: dict[str, Any] = {
            "AUTH": "github",
            "AUTH_TABLE": self.table.table.name,
            "GITHUB_OAUTH_CLIENT_ID": self.client_id,
            "GITHUB_OAUTH_CLIENT_SECRET": pulumi.Output.secret(self.client_secret),
            "AUTH_ALLOWED_USERS": ",".join(self.allowed_users),
            "AUTH_ALLOWED_ORGS": ",".join(self.allowed_orgs),
        }
        if self.public_url:
            environment["PUBLIC_URL"] = self.public_url
        if self.daily_calls_per_person is not None:
            environment["DAILY_CALLS_PER_PERSON"] = str(self.daily_calls_per_person)
        return environment


def for_stack(settings: Settings, client_secret: pulumi.Output[str]) -> SignIn:
    """The table and the function's sign-in settings; says so when anyone may sign in."""
    if not settings.auth_allowed_users and not settings.auth_allowed_orgs:
        pulumi.log.warn(
            "auth is github, and neither authAllowedUsers nor authAllowedOrgs is set: anyone with a GitHub "
            "account may sign in and search on their own quota. Limit it with: pulumi config set authAllowedOrgs <org>"
        )
    if settings.private_repositories:
        pulumi.log.info(
            "privateRepositories: whoever signs in reads, read-only, the private repositories they may read where "
            "your GitHub App is installed (Metadata, Contents, Issues and Pull requests: read). Their GitHub tokens "
            "expire in 8 hours and are renewed by the function; the table holds them only sealed with the stack's "
            "own KMS key (about 1 USD a month)."
        )
    return SignIn(
        SignInTable("sign-in", deletion_protection=settings.deletion_protection),
        client_id=settings.github_oauth_client_id or "",
        client_secret=client_secret,
        allowed_users=settings.auth_allowed_users,
        allowed_orgs=settings.auth_allowed_orgs,
        public_url=f"https://{settings.domain}" if settings.domain else None,
        deletion_protection=settings.deletion_protection,
        daily_calls_per_person=settings.daily_calls_per_person,
    )
