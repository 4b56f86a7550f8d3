"""The owner's audit: who read what, through which client, and what it cost.

The function writes one JSON record per call to its own log group (handler/app.py, `audit`):
Lambda's JSON log format puts each field at the top level, with no extra call per request. With
sign-in that log group is the audit trail: it is kept `auditRetentionDays`, answers saved Logs
Insights questions, and with private repositories is encrypted with a key of its own, whose
policy lets CloudWatch Logs use it for this one log group only. On every stack a data
protection policy masks any GitHub token, or the stack's own, should one ever reach a log line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.token_key import account_administers, stack_key

# GitHub's token formats (github.blog, "Behind GitHub's new authentication token formats", and
# the fine-grained `github_pat_`), and the stack's own access and refresh tokens
# (handler/signin/store.py: gsa_ and gsr_, then secrets.token_urlsafe(32), 43 characters).
TOKEN_IDENTIFIERS = (
    ("GitHubOAuthToken", "gho_[A-Za-z0-9]{36,251}"),
    ("GitHubAppUserToken", "ghu_[A-Za-z0-9]{36,251}"),
    ("GitHubAppInstallationToken", "ghs_[A-Za-z0-9]{36,251}"),
    ("GitHubRefreshToken", "ghr_[A-Za-z0-9]{36,251}"),
    ("GitHubPersonalAccessToken", "ghp_[A-Za-z0-9]{36,251}"),
    ("GitHubFineGrainedToken", "github_pat_[A-Za-z0-9_]{22,255}"),
    ("StackAccessOrRefreshToken", "gs[ar]_[A-Za-z0-9_-]{43}"),
)


def data_protection_policy() -> str:
    """CloudWatch Logs' data protection policy (Version 2021-06-01): find each token format (the
    audit statement, findings counted in the log group's metrics) and mask it wherever it appears."""
    names = [name for name, _ in TOKEN_IDENTIFIERS]
    return json.dumps(
        {
            "Name": "github-search-tokens",
            "Description": "Masks GitHub tokens and the stack's own, should one ever reach a log line",
            "Version": "2021-06-01",
            "Configuration": {"CustomDataIdentifier": [{"Name": n, "Regex": r} for n, r in TOKEN_IDENTIFIERS]},
            "Statement": [
                {"Sid": "FindTokens", "DataIdentifier": names, "Operation": {"Audit": {"FindingsDestination": {}}}},
                {"Sid": "MaskTokens", "DataIdentifier": names, "Operation": {"Deidentify": {"MaskConfig": {}}}},
            ],
        }
    )


@dataclass(frozen=True)
class AuditTrail:
    """How the function's log group keeps the audit: how long, whether the query text goes in,
    and (private repositories) that its own key encrypts it, in this region."""

    retention_days: int
    queries: bool = False
    encrypt_in: str | None = None
    keep_key: bool = False  # deletionProtection: the key outlives a destroy, as the audit may


@dataclass(frozen=True)
class Question:
    """A saved Logs Insights query over the audit records: its name in the console, and the query."""

    name: str
    query: str


# Booleans as Logs Insights may read them, true or 1.
_PRIVATE = 'filter message = "audit" and (private = 1 or private = "true")'
QUESTIONS = (
    Question(
        "who-read-private-repositories",
        f"{_PRIVATE} and ispresent(repository) and status < 400"
        " | stats count(*) as calls, min(@timestamp) as first, max(@timestamp) as last"
        " by login, person_id, repository, client_name | sort last desc",
    ),
    Question(
        "calls-and-refusals-per-person-per-day",
        'filter message = "audit" and ispresent(login)'
        ' | stats count(*) as calls, sum(status >= 400) as refused, sum(error = "over_budget") as over_budget,'
        " max(budget_used) as budget_used by login, datefloor(@timestamp, 1d) as day | sort day desc, calls desc",
    ),
    Question(
        "refused-outside-the-fence",
        'filter message = "audit" and error = "outside_scope"'
        " | fields @timestamp, login, client_name, front, tool, route, fence | sort @timestamp desc",
    ),
    Question(
        "errors-by-client",
        'filter message = "audit" and status >= 400'
        " | stats count(*) as errors by client_name, client_id, status, error | sort errors desc",
    ),
)


class Audit(pulumi.ComponentResource):
    """The data protection policy on the function's log group, and (with sign-in) the saved questions."""

    def __init__(
        self,
        name: str,
        *,
        log_group_name: pulumi.Input[str],
        questions: bool,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("github-search:ops:Audit", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        aws.cloudwatch.LogDataProtectionPolicy(
            f"{name}-token-masking",
            log_group_name=log_group_name,
            policy_document=data_protection_policy(),
            opts=child,
        )
        stack = pulumi.get_stack()
        self.query_names = [f"github-search/{stack}/{q.name}" for q in QUESTIONS] if questions else []
        for question, saved in zip(QUESTIONS if questions else (), self.query_names, strict=False):
            aws.cloudwatch.QueryDefinition(
                f"{name}-{question.name}",
                name=saved,
                query_string=question.query,
                log_group_names=[log_group_name],
                opts=child,
            )
        self.register_outputs({"queries": self.query_names})


def log_key_policy(account: str, region: str, log_group: str) -> str:
    """The account administers the key; CloudWatch Logs may use it, for this log group only (the
    statement CloudWatch Logs' documentation gives, "Encrypt log data in CloudWatch Logs using
    AWS KMS", step 2)."""
    group_arn = f"arn:aws:logs:{region}:{account}:log-group:{log_group}"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                account_administers(account),
                {
                    "Sid": "CloudWatchLogsUsesItForTheAuditLogGroup",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                    "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": group_arn}},
                },
                {
                    # DescribeKey carries no encryption context, so that condition would never let it
                    # through (the documentation's one statement lists kms:Describe* under it): on its own.
                    "Sid": "CloudWatchLogsDescribesIt",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                    "Action": "kms:DescribeKey",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                },
            ],
        }
    )


class LogKey(pulumi.ComponentResource):
    """The key the audit log group is encrypted with (private repositories: their names at rest)."""

    def __init__(
        self,
        name: str,
        *,
        log_group: str,
        region: str,
        keep: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("github-search:ops:LogKey", name, None, opts)
        account = aws.get_caller_identity_output().account_id
        self.key = stack_key(
            name,
            "Encrypts the audit log group of GitHub search (who read which private repository)",
            account.apply(lambda account_id: log_key_policy(account_id, region, log_group)),
            parent=self,
            keep=keep,
        )
        self.register_outputs({"keyArn": self.key.arn})
