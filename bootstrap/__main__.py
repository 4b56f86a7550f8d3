"""The CI roles for github-search: run once per AWS account, then set the workflows' variables
from the outputs (README, CI/CD)."""

import sys
from pathlib import Path

import pulumi

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project's infra package

from infra.ci_roles import BootstrapError, CiRoles, check

config = pulumi.Config()
repository = (config.get("repository") or "").strip()
stacks = [s.strip() for s in (config.get("stacks") or "").split(",") if s.strip()]
try:
    check(repository, stacks)
except BootstrapError as exc:
    raise pulumi.RunError(str(exc)) from None

roles = CiRoles("ci", repository=repository, stacks=stacks, oidc_provider_arn=config.get("oidcProviderArn") or None)

pulumi.export("AWS_PREVIEW_ROLE_ARN", roles.preview_role_arn)
for stack, arn in roles.deploy_role_arns.items():
    pulumi.export(f"AWS_ROLE_ARN_{stack}", arn)
