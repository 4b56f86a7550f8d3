"""The CI roles' policies in iam/: the deploy role can manage every resource type the program
registers and nothing else; the preview role can run `pulumi preview` and read no secret."""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from typing import Any

import pytest

from tests.conftest import readme_section
from tests.program import CONFIGS, Graph, recording, synth, unwrap
from tests.test_iam_reference import takes_no_resource_type
from tools.synth import ROOT

IAM = ROOT / "iam"
# What managing each resource type takes, at the least: create, read, update, delete. A type the
# program starts to register fails the test below until it is added here and to the policy.
REQUIRED: dict[str, list[str]] = {
    "aws:s3/bucket:Bucket": ["s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:GetBucketTagging"],
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ["s3:PutBucketPublicAccessBlock"],
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ["s3:PutBucketOwnershipControls"],
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": [
        "s3:PutEncryptionConfiguration",
        "s3:GetEncryptionConfiguration",
    ],
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": [
        "s3:PutLifecycleConfiguration",
        "s3:GetLifecycleConfiguration",
    ],
    "aws:s3/bucketPolicy:BucketPolicy": ["s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy"],
    "aws:s3/bucketObjectv2:BucketObjectv2": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
    "aws:iam/role:Role": ["iam:CreateRole", "iam:GetRole", "iam:DeleteRole", "iam:UpdateAssumeRolePolicy"],
    "aws:iam/rolePolicy:RolePolicy": ["iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"],
    "aws:cloudwatch/logGroup:LogGroup": [
        "logs:CreateLogGroup",
        "logs:DeleteLogGroup",
        "logs:PutRetentionPolicy",
        "logs:AssociateKmsKey",  # kms_key_id: the audit trail's own key, with private repositories
        "logs:DisassociateKmsKey",
    ],
    "aws:cloudwatch/logDataProtectionPolicy:LogDataProtectionPolicy": [
        "logs:PutDataProtectionPolicy",
        "logs:GetDataProtectionPolicy",
        "logs:DeleteDataProtectionPolicy",
    ],
    "aws:cloudwatch/queryDefinition:QueryDefinition": [
        "logs:PutQueryDefinition",
        "logs:DescribeQueryDefinitions",
        "logs:DeleteQueryDefinition",
    ],
    "aws:lambda/function:Function": [
        "lambda:CreateFunction",
        "lambda:GetFunction",
        "lambda:UpdateFunctionCode",
        "lambda:UpdateFunctionConfiguration",
        "lambda:DeleteFunction",
        "lambda:PublishVersion",  # the edge function's numbered versions (publish)
        "iam:PassRole",
    ],
    "aws:lambda/permission:Permission": ["lambda:AddPermission", "lambda:GetPolicy", "lambda:RemovePermission"],
    **{
        f"aws:apigateway/{kind}": ["apigateway:GET", "apigateway:POST", "apigateway:PATCH", "apigateway:DELETE"]
        for kind in (
            "restApi:RestApi",
            "resource:Resource",
            "method:Method",
            "integration:Integration",
            "response:Response",
            "deployment:Deployment",
            "stage:Stage",
            "apiKey:ApiKey",
            "usagePlan:UsagePlan",
            "usagePlanKey:UsagePlanKey",
        )
    },
    "aws:cloudfront/originAccessControl:OriginAccessControl": [
        "cloudfront:CreateOriginAccessControl",
        "cloudfront:GetOriginAccessControl",
        "cloudfront:DeleteOriginAccessControl",
    ],
    "aws:cloudfront/cachePolicy:CachePolicy": [
        "cloudfront:CreateCachePolicy",
        "cloudfront:GetCachePolicy",
        "cloudfront:DeleteCachePolicy",
    ],
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": [
        "cloudfront:CreateResponseHeadersPolicy",
        "cloudfront:GetResponseHeadersPolicy",
        "cloudfront:DeleteResponseHeadersPolicy",
    ],
    "aws:cloudfront/distribution:Distribution": [
        "cloudfront:CreateDistribution",  # with tags also TagResource: CreateDistributionWithTags is no IAM action
        "cloudfront:TagResource",
        "cloudfront:GetDistribution",
        "cloudfront:UpdateDistribution",
        "cloudfront:DeleteDistribution",
    ],
    "aws:cloudfront/function:Function": [
        "cloudfront:CreateFunction",
        "cloudfront:DescribeFunction",
        "cloudfront:GetFunction",
        "cloudfront:UpdateFunction",
        "cloudfront:PublishFunction",
        "cloudfront:DeleteFunction",
    ],
    "aws:dynamodb/table:Table": [
        "dynamodb:CreateTable",
        "dynamodb:TagResource",  # CreateTable with tags (aws:defaultTags) needs it too
        "dynamodb:DescribeTable",
        "dynamodb:UpdateTable",
        "dynamodb:DeleteTable",
        "dynamodb:DescribeTimeToLive",
        "dynamodb:UpdateTimeToLive",
        "dynamodb:DescribeContinuousBackups",  # point-in-time recovery
        "dynamodb:UpdateContinuousBackups",
        "dynamodb:ListTagsOfResource",
    ],
    "aws:acm/certificate:Certificate": ["acm:RequestCertificate", "acm:DescribeCertificate", "acm:DeleteCertificate"],
    "aws:acm/certificateValidation:CertificateValidation": ["acm:DescribeCertificate"],
    "aws:apigateway/account:Account": ["apigateway:PATCH", "apigateway:GET", "iam:PassRole"],
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": ["logs:PutMetricFilter", "logs:DeleteMetricFilter"],
    "aws:cloudwatch/metricAlarm:MetricAlarm": [
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:DescribeAlarms",
        "cloudwatch:DeleteAlarms",
    ],
    "aws:cloudwatch/dashboard:Dashboard": [
        "cloudwatch:PutDashboard",
        "cloudwatch:GetDashboard",
        "cloudwatch:DeleteDashboards",
    ],
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": ["logs:PutResourcePolicy", "logs:DeleteResourcePolicy"],
    "aws:cloudwatch/logDeliverySource:LogDeliverySource": [
        "logs:PutDeliverySource",
        "logs:GetDeliverySource",
        "logs:DeleteDeliverySource",
        "cloudfront:AllowVendedLogDeliveryForResource",
    ],
    "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": [
        "logs:PutDeliveryDestination",
        "logs:GetDeliveryDestination",
        "logs:DeleteDeliveryDestination",
    ],
    "aws:cloudwatch/logDelivery:LogDelivery": ["logs:CreateDelivery", "logs:GetDelivery", "logs:DeleteDelivery"],
    "aws:wafv2/webAcl:WebAcl": ["wafv2:CreateWebACL", "wafv2:GetWebACL", "wafv2:UpdateWebACL", "wafv2:DeleteWebACL"],
    "aws:kms/key:Key": [
        "kms:CreateKey",
        "kms:DescribeKey",
        "kms:PutKeyPolicy",
        "kms:EnableKeyRotation",
        "kms:ScheduleKeyDeletion",
    ],
    "aws:sns/topic:Topic": ["sns:CreateTopic", "sns:GetTopicAttributes", "sns:DeleteTopic"],
    "aws:sns/topicSubscription:TopicSubscription": [
        "sns:Subscribe",
        "sns:GetSubscriptionAttributes",
        "sns:Unsubscribe",
    ],
    "aws:sns/topicPolicy:TopicPolicy": ["sns:SetTopicAttributes", "sns:GetTopicAttributes"],
    "aws:route53/record:Record": [
        "route53:ChangeResourceRecordSets",
        "route53:ListResourceRecordSets",
        "route53:GetChange",
    ],
}
# The program's read-only lookups, which both roles run (preview and up): the AWS calls each makes,
# read from the provider's source (terraform-provider-aws, which pulumi-aws wraps).
INVOKES: dict[str, tuple[list[str], str]] = {
    "aws:route53/getZone:getZone": (
        # By zone_id: GetHostedZone (findHostedZoneByID), then the zone's tags (listTags); for a
        # private zone also its NS records (findNameServersByZone), so that preflight can say
        # "private zone" rather than "cannot be read".
        ["route53:GetHostedZone", "route53:ListTagsForResource", "route53:ListResourceRecordSets"],
        "internal/service/route53/zone_data_source.go: dataSourceZoneRead, findHostedZoneNameServers",
    ),
    "aws:index/getCallerIdentity:getCallerIdentity": (
        ["sts:GetCallerIdentity"],
        "internal/service/sts/caller_identity_data_source.go: its read function, findCallerIdentity",
    ),
}
# Actions that read a secret this stack holds: the function's environment (GITHUB_TOKEN), the API
# key CloudFront sends, a secret store, or a Pulumi secrets provider's key.
SECRET_READING = [
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "apigateway:GET",
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "kms:Decrypt",
    "s3:GetObject",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
]


def policy(name: str) -> dict[str, Any]:
    return json.loads((IAM / name).read_text())


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document["Statement"]
    return [{**s, "Action": _list(s["Action"]), "Resource": _list(s["Resource"])} for s in found]


def _list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def grants(document: dict[str, Any], action: str, resource: str | None = None) -> bool:
    """Whether an Allow statement names `action` (wildcards as IAM matches them), on `resource` if given."""
    for statement in statements(document):
        if statement["Effect"] != "Allow":
            continue
        if not any(fnmatchcase(action.lower(), pattern.lower()) for pattern in statement["Action"]):
            continue
        if resource is None or any(fnmatchcase(resource, pattern) for pattern in statement["Resource"]):
            return True
    return False


def registered_types() -> set[str]:
    return {r["type"] for config in CONFIGS for r in recording(config)["resources"] if r["type"].startswith("aws:")}


def test_every_resource_type_the_program_registers_has_its_permissions():
    deploy = policy("deploy-role-policy.json")
    unknown = sorted(registered_types() - set(REQUIRED))
    assert unknown == [], f"add each type's actions to iam/deploy-role-policy.json and to REQUIRED: {unknown}"
    missing = [(t, a) for t in sorted(registered_types()) for a in REQUIRED[t] if not grants(deploy, a)]
    assert missing == []


def test_every_lookup_the_program_makes_is_granted_to_both_roles():
    invokes = {token for config in CONFIGS for token in recording(config)["invokes"]}
    assert invokes and invokes <= set(INVOKES), f"add the lookup's actions to both policies and INVOKES: {invokes}"
    # Each entry says which provider function its actions were read from.
    assert all(re.match(r"internal/service/\w+/\w+\.go: \w", source) for _, source in INVOKES.values())
    for name in ("deploy-role-policy.json", "preview-role-policy.json"):
        assert all(grants(policy(name), a) for token in invokes for a in INVOKES[token][0]), name


def test_deploy_role_is_scoped_to_the_stacks_own_names():
    deploy = policy("deploy-role-policy.json")
    for statement in statements(deploy):
        assert statement["Effect"] == "Allow"
        assert not any(a == "*" or a.endswith(":*") for a in statement["Action"]), statement["Sid"]
        # "*" only for actions that take no resource type (the IAM reference says which).
        assert statement["Resource"] != ["*"] or all(map(takes_no_resource_type, statement["Action"])), statement["Sid"]
    pass_roles = {s["Resource"][0]: s for s in statements(deploy) if "iam:PassRole" in s["Action"]}
    assert {role: s["Condition"] for role, s in pass_roles.items()} == {
        "arn:aws:iam::*:role/search-function-role-*": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
        "arn:aws:iam::*:role/edge-challenge-role-*": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
        "arn:aws:iam::*:role/search-apigateway-logs-role-*": {
            "StringEquals": {"iam:PassedToService": "apigateway.amazonaws.com"}
        },
    }
    assert all(s["Action"] == ["iam:PassRole"] and len(s["Resource"]) == 1 for s in pass_roles.values())
    assert not any(a.startswith("iam:") for s in statements(deploy) for a in s["Action"] if "role/" not in str(s))
    # The names the program's resources get (Pulumi's auto-names) fall inside the scoped patterns...
    names = recording("prod")["providerOutputs"]
    role = f"arn:aws:iam::123456789012:role/{names['search-function-role']['id']}"
    assert grants(deploy, "iam:PassRole", role) and grants(deploy, "iam:CreateRole", role)
    assert grants(deploy, "lambda:UpdateFunctionCode", names["search-function"]["arn"])
    assert grants(deploy, "logs:PutRetentionPolicy", names["search-function-logs"]["arn"])
    assert grants(deploy, "s3:PutBucketPolicy", f"arn:aws:s3:::{names['site-bucket']['id']}")
    # ...and other roles, functions and buckets of the account fall outside them.
    assert not grants(deploy, "iam:PassRole", "arn:aws:iam::123456789012:role/Admin")
    assert not grants(deploy, "iam:PutRolePolicy", "arn:aws:iam::123456789012:role/deploy-role")
    assert not grants(deploy, "lambda:UpdateFunctionCode", "arn:aws:lambda:eu-west-1:123456789012:function:billing")
    assert not grants(deploy, "s3:DeleteBucket", "arn:aws:s3:::company-backups")


@pytest.mark.parametrize("action", SECRET_READING)
def test_preview_role_reads_no_secret(action: str):
    assert not grants(policy("preview-role-policy.json"), action)


def test_preview_role_grants_only_what_preview_runs():
    granted = {a for s in statements(policy("preview-role-policy.json")) for a in s["Action"]}
    assert granted == {a for actions, _ in INVOKES.values() for a in actions}


@pytest.mark.parametrize(
    ("name", "subject"),
    [
        ("deploy-role-trust-policy.json", "repo:OWNER/REPO:environment:STACK"),
        ("preview-role-trust-policy.json", "repo:OWNER/REPO:pull_request"),
    ],
)
def test_trust_policies_admit_only_this_repository_through_github_oidc(name: str, subject: str):
    [statement] = policy(name)["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"]["Federated"].endswith(":oidc-provider/token.actions.githubusercontent.com")
    assert statement["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": subject,
        }
    }


def test_readme_points_at_the_policy_files_and_no_longer_at_read_only_access():
    section = readme_section("CI/CD", "docs/deploying.md")
    for name in sorted(p.name for p in IAM.glob("*.json")):
        assert f"iam/{name}" in section, name
    assert "ReadOnlyAccess` policy is enough" not in section  # what the README once advised
    assert "not `ReadOnlyAccess`" in section and "lambda:GetFunctionConfiguration" in section


# -- the bootstrap program (bootstrap/): the same files, as Pulumi resources ------------------------


def bootstrap(*overrides: tuple[str, str]) -> dict[str, Any]:
    return synth("ci", tuple(overrides), (), ("--program", "bootstrap"))["raw"]


def test_bootstrap_creates_the_oidc_provider_and_the_roles_with_the_iam_files():
    rec = bootstrap(("repository", "octo/search"))
    assert rec["error"] is None
    resources = {r["name"]: unwrap(r["inputs"]) for r in rec["resources"] if r["type"].startswith("aws:")}
    provider = resources["ci-github-oidc"]
    assert (provider["url"], provider["clientIdLists"]) == (
        "https://token.actions.githubusercontent.com",
        ["sts.amazonaws.com"],
    )
    provider_arn = rec["providerOutputs"]["ci-github-oidc"]["arn"]
    subjects = {
        "ci-preview": "repo:octo/search:pull_request",
        "ci-deploy-dev": "repo:octo/search:environment:dev",
        "ci-deploy-prod": "repo:octo/search:environment:prod",
    }
    for role, subject in subjects.items():
        [statement] = json.loads(resources[role]["assumeRolePolicy"])["Statement"]
        assert statement["Principal"] == {"Federated": provider_arn}
        assert statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == subject
        kind = "preview-role" if role == "ci-preview" else "deploy-role"
        stack = role.removeprefix("ci-deploy-") if kind == "deploy-role" else None
        expected = json.loads(json.dumps(policy(f"{kind}-policy.json")).replace('"STACK"', json.dumps(stack)))
        assert json.loads(resources[f"{role}-policy"]["policy"]) == expected
    assert set(rec["outputs"]) == {"AWS_PREVIEW_ROLE_ARN", "AWS_ROLE_ARN_dev", "AWS_ROLE_ARN_prod"}


def test_bootstrap_reuses_an_existing_provider_and_refuses_a_bad_repository():
    existing = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    rec = bootstrap(("repository", "octo/search"), ("oidcProviderArn", existing), ("stacks", "staging"))
    assert "aws:iam/openIdConnectProvider:OpenIdConnectProvider" not in {r["type"] for r in rec["resources"]}
    assert set(rec["outputs"]) == {"AWS_PREVIEW_ROLE_ARN", "AWS_ROLE_ARN_staging"}
    refused = bootstrap(("repository", "https://github.com/octo/search"))
    assert refused["resources"] == [] and "'repository'" in refused["error"] and "OWNER/REPO" in refused["error"]


def test_deploy_policy_fits_in_an_inline_role_policy():
    # IAM counts a role's inline policies without whitespace, 10,240 characters in all.
    assert len(json.dumps(policy("deploy-role-policy.json"), separators=(",", ":"))) <= 10_240


# How each service tags and untags what it holds: aws:defaultTags (Pulumi.prod.yaml) tags every
# resource that takes tags, and changing or removing a tag later needs the untag action too.
TAGGING = {
    "acm": ("acm:AddTagsToCertificate", "acm:RemoveTagsFromCertificate"),
    "cloudfront": ("cloudfront:TagResource", "cloudfront:UntagResource"),
    "cloudwatch": ("cloudwatch:TagResource", "cloudwatch:UntagResource"),
    "iam": ("iam:TagRole", "iam:UntagRole"),
    "kms": ("kms:TagResource", "kms:UntagResource"),
    "lambda": ("lambda:TagResource", "lambda:UntagResource"),
    "logs": ("logs:TagResource", "logs:UntagResource"),
    "s3": ("s3:PutBucketTagging", "s3:PutBucketTagging"),
    "sns": ("sns:TagResource", "sns:UntagResource"),
    "wafv2": ("wafv2:TagResource", "wafv2:UntagResource"),
}


def test_the_deploy_role_can_tag_and_untag_everything_the_program_creates():
    deploy = policy("deploy-role-policy.json")
    arns = {
        name: outputs["arn"]
        for config in CONFIGS
        for name, outputs in recording(config)["providerOutputs"].items()
        if str(outputs.get("arn", "")).startswith("arn:aws:")
    }
    # A log delivery's ARN is not among the mocked outputs; AWS names it by its id.
    arns["cdn-access-log-delivery-link"] = "arn:aws:logs:us-east-1:123456789012:delivery:AbCdEf012345"
    # CloudFront Functions take no tags (the IAM reference: TagResource has no function resource type).
    checked = {(name, arn) for name, arn in arns.items() if arn.split(":")[2] in TAGGING and ":function/" not in arn}
    assert len(checked) >= 10, sorted(checked)
    missing = [
        (name, action)
        for name, arn in sorted(checked)
        for action in TAGGING[arn.split(":")[2]]
        if not grants(deploy, action, arn.removesuffix(":*"))
    ]
    assert missing == []


def test_the_deploy_role_subscribes_only_email_to_the_alarm_topics():
    # The alarms' only subscriber is an email address; an HTTP or Lambda subscription could carry
    # every alarm elsewhere. sns:Protocol is in every Subscribe request (the IAM reference lists it).
    [subscribe] = [s for s in statements(policy("deploy-role-policy.json")) if "sns:Subscribe" in s["Action"]]
    assert subscribe["Action"] == ["sns:Subscribe"]
    assert subscribe["Condition"] == {"StringEquals": {"sns:Protocol": "email"}}
    protocols = {
        unwrap(r["inputs"])["protocol"]
        for r in recording("hardened")["resources"]
        if r["type"] == "aws:sns/topicSubscription:TopicSubscription"
    }
    assert protocols == {"email"}


def test_the_deploy_role_can_put_the_edge_function_on_the_distribution_move_it_and_take_it_off():
    """CloudFront calls Enable- and DisableReplication with the deploying principal's rights whenever
    an association is added, moves to a new version (every change to edge/challenge.py publishes
    one) or goes away (a destroy); it takes lambda:GetFunction and both on the function and its
    versions, and creates the Lambda replicator's and CloudFront logger's service-linked roles the
    first time (CloudFront Developer Guide, "Set up IAM permissions and roles for Lambda@Edge")."""
    deploy = policy("deploy-role-policy.json")
    outputs = recording("sign-in")["providerOutputs"]["edge-challenge-function"]
    version, function = outputs["qualifiedArn"], outputs["arn"]
    assert version.startswith("arn:aws:lambda:us-east-1:") and version.rsplit(":", 1)[1].isdigit()
    next_version = f"{function}:{int(version.rsplit(':', 1)[1]) + 1}"
    for arn in (function, version, next_version):
        for action in ("lambda:GetFunction", "lambda:EnableReplication", "lambda:DisableReplication"):
            assert grants(deploy, action, arn), (action, arn)
    assert grants(deploy, "lambda:PublishVersion", function)
    service_role = "arn:aws:iam::123456789012:role/aws-service-role"
    linked_roles = {
        service: f"{service_role}/{service}/{role}"
        for service, role in (
            ("replicator.lambda.amazonaws.com", "AWSServiceRoleForLambdaReplicator"),
            ("logger.cloudfront.amazonaws.com", "AWSServiceRoleForCloudFrontLogger"),
        )
    }
    [linked] = [s for s in statements(deploy) if "iam:CreateServiceLinkedRole" in s["Action"]]
    assert linked["Action"] == ["iam:CreateServiceLinkedRole"]
    assert linked["Condition"] == {"StringEquals": {"iam:AWSServiceName": sorted(linked_roles, reverse=True)}}
    assert all(grants(deploy, "iam:CreateServiceLinkedRole", arn) for arn in linked_roles.values())
    assert not grants(deploy, "iam:CreateServiceLinkedRole", f"{service_role}/ecs.amazonaws.com/AWSServiceRoleForECS")
    for action in ("lambda:EnableReplication", "lambda:DisableReplication"):
        assert not grants(deploy, action, "arn:aws:lambda:us-east-1:123456789012:function:other:1")


# What each KMS action of the key's lifecycle needs to find on the key (tests/test_iam_reference.py
# checks the condition keys against AWS's reference).
KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def key_statements(stack: str) -> list[dict[str, Any]]:
    from infra.ci_roles import role_policy

    filled = json.loads(role_policy((IAM / "deploy-role-policy.json").read_text(), stack))
    return [s for s in statements(filled) if any(a.startswith("kms:") for a in s["Action"])]


def allowed(found: list[dict[str, Any]], action: str, context: dict[str, Any]) -> bool:
    """Whether an Allow among `found` grants `action` on a key in a request with `context`: the
    condition operators the policy uses, as IAM evaluates them (a missing key fails StringEquals;
    Null true means absent)."""
    for statement in found:
        if action not in statement["Action"]:
            continue
        ok = True
        for operator, conditions in statement.get("Condition", {}).items():
            for key, expected in conditions.items():
                wanted = expected if isinstance(expected, list) else [expected]
                have = context.get(key)
                if operator == "StringEquals":
                    ok &= have is not None and have in wanted
                elif operator == "ForAnyValue:StringEquals":
                    ok &= bool(set(have or ()) & set(wanted))
                elif operator == "Null":
                    ok &= (have is None) == (expected == "true")
                else:
                    raise AssertionError(f"the test does not read {operator}")
        if ok:
            return True
    return False


def test_the_deploy_role_rewrites_and_deletes_only_its_own_stacks_key():
    """kms:PutKeyPolicy, ScheduleKeyDeletion and the rest of a key's lifecycle were granted on every
    key of the account. They now need the key to carry the stack's tag, which the role can put
    only on a key it creates (or one without the tag), and the program puts on the token key."""
    prod = key_statements("prod")
    ours = {"aws:ResourceTag/github-search-stack": "prod"}
    dev_key = {"aws:ResourceTag/github-search-stack": "dev"}
    for action in ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:UpdateKeyDescription", "kms:UntagResource"):
        assert allowed(prod, action, ours), action
        assert not allowed(prod, action, {}), action  # a key of the account's own, untagged
        assert not allowed(prod, action, dev_key), action  # another stack's key
    created = {"aws:RequestTag/github-search-stack": "prod", "aws:TagKeys": ["github-search-stack", "Owner"]}
    assert allowed(prod, "kms:CreateKey", created) and allowed(prod, "kms:TagResource", created)
    assert not allowed(prod, "kms:CreateKey", {"aws:TagKeys": ["Owner"]})  # untagged: refused
    assert not allowed(prod, "kms:CreateKey", {**created, "aws:RequestTag/github-search-stack": "dev"})
    assert not allowed(prod, "kms:TagResource", {**created, **dev_key})  # no claiming another stack's key
    # What the provider calls right after CreateKey, before the new tag may authorize (KMS: up to
    # five minutes), retrying only NotFound: granted without the tag, none of it destructive.
    for action in ("kms:DescribeKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus"):
        assert allowed(prod, action, {}), action
    granted = {a for s in prod for a in s["Action"]}
    assert {"kms:Decrypt", "kms:Encrypt", "kms:CreateGrant", "kms:DisableKey"}.isdisjoint(granted)
    private = Graph(recording("private"))
    for name in ("search-token-key", "search-audit-key"):  # the tokens' key and the audit trail's
        assert private.inputs("aws:kms/key:Key", name)["tags"] == {"github-search-stack": "prod"}


def test_the_deploy_role_manages_only_the_stacks_own_cloudfront_function():
    """CreateFunction takes no resource type (the IAM reference: "*"); every other function action is
    scoped to the name the program's function gets (cdn-viewer-host-<suffix>), not `function/*`."""
    deploy = policy("deploy-role-policy.json")
    own = recording("sign-in")["providerOutputs"]["cdn-viewer-host"]["arn"]
    other = "arn:aws:cloudfront::123456789012:function/company-redirects"
    for action in ("UpdateFunction", "PublishFunction", "DeleteFunction", "DescribeFunction", "GetFunction"):
        assert grants(deploy, f"cloudfront:{action}", own), action
        assert not grants(deploy, f"cloudfront:{action}", other), action
    assert grants(deploy, "cloudfront:CreateFunction", "*")
