"""The CI's AWS side, as code: GitHub's OIDC provider and the roles the workflows assume, with
exactly the policies in iam/ (which tests/test_iam.py keeps honest).

Used by the bootstrap program (bootstrap/), run once per account, not by the stack itself.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pulumi
import pulumi_aws as aws

IAM_DIR = Path(__file__).resolve().parent.parent / "iam"
GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
_REPOSITORY = re.compile(r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$")
_STACK = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


class BootstrapError(ValueError):
    def __init__(self, key: str, problem: str, fix: str) -> None:
        super().__init__(f"Invalid bootstrap configuration '{key}': {problem}. Fix: {fix}")


def check(repository: str, stacks: list[str]) -> None:
    if not _REPOSITORY.match(repository):
        raise BootstrapError(
            "repository", f"{repository!r} is not OWNER/REPO", "pulumi config set repository octo/search"
        )
    if not stacks or not all(_STACK.match(s) for s in stacks):
        raise BootstrapError(
            "stacks", f"{','.join(stacks)!r} is not a list of stack names", "pulumi config set stacks dev,prod"
        )


def trust_policy(template: str, provider_arn: str, repository: str, stack: str | None = None) -> str:
    """An iam/*-trust-policy.json filled in: the provider, the repository and (deploy) the stack."""
    policy = json.loads(template)
    [statement] = policy["Statement"]
    statement["Principal"]["Federated"] = provider_arn
    condition = statement["Condition"]["StringEquals"]
    subject = condition["token.actions.githubusercontent.com:sub"].replace("OWNER/REPO", repository)
    condition["token.actions.githubusercontent.com:sub"] = subject.replace("STACK", stack or "")
    return json.dumps(policy)


def role_policy(template: str, stack: str | None) -> str:
    """An iam/*-policy.json filled in: the deploy role's "STACK" (the tag its stack's key carries,
    which scopes the key's lifecycle to that one stack) becomes the stack's name."""
    policy = json.loads(template)

    def filled(value: object) -> object:
        if isinstance(value, dict):
            return {k: filled(v) for k, v in value.items()}
        if isinstance(value, list):
            return [filled(v) for v in value]
        return stack if value == "STACK" and stack is not None else value

    return json.dumps(filled(policy))


class CiRoles(pulumi.ComponentResource):
    preview_role_arn: pulumi.Output[str]
    deploy_role_arns: dict[str, pulumi.Output[str]]

    def __init__(
        self,
        name: str,
        *,
        repository: str,
        stacks: list[str],
        oidc_provider_arn: str | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("github-search:ci:CiRoles", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if oidc_provider_arn is None:
            # An account has at most one provider per URL: set oidcProviderArn to reuse an existing one.
            provider: pulumi.Output[str] = aws.iam.OpenIdConnectProvider(
                f"{name}-github-oidc", url=GITHUB_OIDC_URL, client_id_lists=["sts.amazonaws.com"], opts=child
            ).arn
        else:
            provider = pulumi.Output.from_input(oidc_provider_arn)

        preview = self._role(f"{name}-preview", "preview-role", provider, repository, None)
        self.preview_role_arn = preview.arn
        self.deploy_role_arns = {
            stack: self._role(f"{name}-deploy-{stack}", "deploy-role", provider, repository, stack).arn
            for stack in stacks
        }
        self.register_outputs({"previewRoleArn": self.preview_role_arn, "deployRoleArns": self.deploy_role_arns})

    def _role(
        self, name: str, kind: str, provider: pulumi.Output[str], repository: str, stack: str | None
    ) -> aws.iam.Role:
        child = pulumi.ResourceOptions(parent=self)
        trust = (IAM_DIR / f"{kind}-trust-policy.json").read_text()
        runs = "pulumi preview" if stack is None else f"pulumi up of {stack}"
        role = aws.iam.Role(
            name,
            description=f"GitHub Actions of {repository}: {runs}",
            assume_role_policy=provider.apply(lambda arn: trust_policy(trust, arn, repository, stack)),
            max_session_duration=3600,
            opts=child,
        )
        policy = role_policy((IAM_DIR / f"{kind}-policy.json").read_text(), stack)
        aws.iam.RolePolicy(f"{name}-policy", role=role.id, policy=policy, opts=child)
        return role
