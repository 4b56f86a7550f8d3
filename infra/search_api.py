"""The search function and the REST API in front of it, reachable only with the API key."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.api_definition import Route, definition, slug
from infra.audit import AuditTrail, LogKey
from infra.function_code import LAMBDA_HANDLER, build_archive
from infra.sign_in import SignIn, table_policy
from infra.token_key import TokenKey, use_policy

RUNTIME = "python3.14"  # the newest Python Lambda offers
ARCHITECTURE = "arm64"
MEMORY_MB = 256  # one TLS connection and a JSON body; more memory buys a faster cold TLS handshake
TIMEOUT_SECONDS = 20  # the client gives up after 3 s connect + 8 s read, so 504 comes first
STAGE_NAME = "v1"
# X-Ray takes no resource-level permissions: these two actions on "*" are what active tracing needs.
TRACING_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": "*"}
        ],
    }
)
APIGATEWAY_ASSUME_ROLE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
APIGATEWAY_LOGS_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
# One JSON line per request; sourceIp is CloudFront's edge, the viewer is in CloudFront's own log.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "integrationLatency": "$context.integrationLatency",
        "responseLatency": "$context.responseLatency",
        "errorMessage": "$context.error.message",
        "userAgent": "$context.identity.userAgent",
    }
)


def assume_role_policy() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def logging_policy(log_group_arn: str) -> str:
    """Write to its own log group, nothing else (no CreateLogGroup: the group is ours)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": f"{log_group_arn}:log-stream:*",
                }
            ],
        }
    )


class SearchApi(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        github_token: pulumi.Output[str] | None,
        github_api_url: str,
        cache_ttl_seconds: int,
        log_retention_days: int,
        mcp_allowed_origins: tuple[str, ...],
        throttle_rate_limit: int,
        throttle_burst_limit: int,
        access_logs: bool = False,
        tracing: bool = False,
        sign_in: SignIn | None = None,
        search_scope: tuple[str, ...] = (),
        private_repositories: bool = False,
        audit: AuditTrail | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("github-search:api:SearchApi", name, None, opts)
        self.api = definition(sign_in is not None)
        environment: dict[str, Any] = {
            "GITHUB_API_URL": github_api_url,
            "CACHE_TTL_SECONDS": str(cache_ttl_seconds),
            # DNS rebinding guard for /mcp; its *.cloudfront.net name cannot be known here without a cycle.
            "MCP_ALLOWED_ORIGINS": ",".join(mcp_allowed_origins),
        }
        if search_scope:
            environment["SEARCH_SCOPE"] = " ".join(search_scope)
        if github_token is not None:
            environment["GITHUB_TOKEN"] = pulumi.Output.secret(github_token)
        if sign_in is not None:
            environment |= sign_in.environment()
        if audit is not None and audit.queries:
            environment["AUDIT_QUERIES"] = "true"
        self.private_repositories = private_repositories
        self.function = self._function(name, environment, audit or AuditTrail(log_retention_days), tracing, sign_in)
        self.rest_api = aws.apigateway.RestApi(
            f"{name}-rest-api",
            description="GitHub repository search (reached through CloudFront with an API key)",
            endpoint_configuration={"types": "REGIONAL"},
            api_key_source="HEADER",
            opts=pulumi.ResourceOptions(parent=self),
        )
        deployment = self._deployment(name)
        self.stage = self._stage(
            name, deployment, access_logs=access_logs, tracing=tracing, retention=log_retention_days
        )
        self.api_key = self._usage_plan(name, throttle_rate_limit, throttle_burst_limit)

        # What the distribution needs: the origin's host name, the path onto the stage, the key.
        self.origin_domain = self.stage.invoke_url.apply(lambda url: url.split("://", 1)[1].split("/", 1)[0])
        self.origin_path = f"/{STAGE_NAME}"
        self.api_key_value: pulumi.Output[str] = pulumi.Output.secret(self.api_key.value)
        self.register_outputs({"functionName": self.function.name, "restApiId": self.rest_api.id})

    def _function(
        self, name: str, environment: dict[str, Any], audit: AuditTrail, tracing: bool, sign_in: SignIn | None
    ) -> aws.lambda_.Function:
        """The function, its own log group (the audit trail) and a role that may write there (and to
        X-Ray when tracing, and to the sign-in table with sign-in)."""
        child = pulumi.ResourceOptions(parent=self)
        log_group = self._log_group(name, audit)
        self.log_group_name = log_group.name
        role = aws.iam.Role(f"{name}-function-role", assume_role_policy=assume_role_policy(), opts=child)
        role_policy = aws.iam.RolePolicy(
            f"{name}-function-logging", role=role.id, policy=log_group.arn.apply(logging_policy), opts=child
        )
        function_policies: list[pulumi.Resource] = [log_group, role_policy]
        if tracing:
            function_policies.append(
                aws.iam.RolePolicy(f"{name}-function-tracing", role=role.id, policy=TRACING_POLICY, opts=child)
            )
        if sign_in is not None:
            policy = sign_in.table.table.arn.apply(table_policy)
            function_policies.append(
                aws.iam.RolePolicy(f"{name}-function-sign-in", role=role.id, policy=policy, opts=child)
            )
        if self.private_repositories:  # the GitHub tokens it keeps read private code: sealed with a key
            keep = sign_in is not None and sign_in.deletion_protection
            self.token_key: TokenKey | None = TokenKey(f"{name}-token", role_arn=role.arn, keep=keep, opts=child)
            key_arn = self.token_key.key.arn
            environment = {**environment, "PRIVATE_REPOSITORIES": "true", "TOKEN_KEY_ID": key_arn}
            function_policies.append(
                aws.iam.RolePolicy(
                    f"{name}-function-token-key", role=role.id, policy=key_arn.apply(use_policy), opts=child
                )
            )
        else:
            self.token_key = None
        archive = build_archive()
        return aws.lambda_.Function(
            f"{name}-function",
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            handler=LAMBDA_HANDLER,
            code=pulumi.FileArchive(str(archive.path)),
            source_code_hash=archive.sha256_base64,
            memory_size=MEMORY_MB,
            timeout=TIMEOUT_SECONDS,
            role=role.arn,
            environment={"variables": environment},
            logging_config={
                "log_format": "JSON",
                "log_group": log_group.name,
                "application_log_level": "INFO",
                "system_log_level": "WARN",
            },
            description="GitHub repository search for AI assistants (REST and MCP)",
            # Sent either way: the provider keeps the last mode when none is sent (Optional+Computed).
            tracing_config={"mode": "Active" if tracing else "PassThrough"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=function_policies),
        )

    def _log_group(self, name: str, audit: AuditTrail) -> aws.cloudwatch.LogGroup:
        """Encrypted with a key of its own when it holds private repositories' names: the key's policy
        names the log group, so its name is set here (within the deploy role's `<name>-function-logs-*`)."""
        child = pulumi.ResourceOptions(parent=self)
        if audit.encrypt_in is None:
            self.log_key: LogKey | None = None
            return aws.cloudwatch.LogGroup(f"{name}-function-logs", retention_in_days=audit.retention_days, opts=child)
        group = f"{name}-function-logs-{pulumi.get_stack()}"
        self.log_key = LogKey(
            f"{name}-audit", log_group=group, region=audit.encrypt_in, keep=audit.keep_key, opts=child
        )
        return aws.cloudwatch.LogGroup(
            f"{name}-function-logs",
            name=group,
            retention_in_days=audit.retention_days,
            kms_key_id=self.log_key.key.arn,
            opts=child,
        )

    def _deployment(self, name: str) -> aws.apigateway.Deployment:
        """The API's resources, methods and gateway answers from `API`, and a deployment of them."""
        child = pulumi.ResourceOptions(parent=self)
        resources: dict[tuple[str, ...], aws.apigateway.Resource] = {}
        names: set[str] = set()

        def resource(path: tuple[str, ...]) -> aws.apigateway.Resource:
            """The resource for `path`, its parents first; shared prefixes (/api) made once."""
            if path not in resources:
                parent = resource(path[:-1]).id if len(path) > 1 else self.rest_api.root_resource_id
                # The last part (api, search: the names stacks already have), the whole path if taken.
                part = slug(path[-1])
                if part in names:
                    part = slug(*path)
                names.add(part)
                resources[path] = aws.apigateway.Resource(
                    f"{name}-resource-{part}",
                    rest_api=self.rest_api.id,
                    parent_id=parent,
                    path_part=path[-1],
                    opts=child,
                )
            return resources[path]

        # Everything a deployment snapshots: methods, integrations and the gateway's own answers.
        routed: list[pulumi.CustomResource] = []
        for route in self.api.routes:
            routed += self._route(name, route, resource(route.path), child)
        for gateway_error in self.api.gateway_errors:
            routed.append(
                aws.apigateway.Response(
                    f"{name}-gateway-{gateway_error.response_type.lower().replace('_', '-')}",
                    rest_api_id=self.rest_api.id,
                    response_type=gateway_error.response_type,
                    status_code=gateway_error.status_code,
                    response_templates={"application/json": gateway_error.template()},
                    response_parameters=gateway_error.parameters(),
                    opts=child,
                )
            )
        ids = [r.id for r in resources.values()] + [r.id for r in routed]
        return aws.apigateway.Deployment(
            f"{name}-deployment",
            rest_api=self.rest_api.id,
            # A deployment is a snapshot: any change to routes or gateway answers needs a new one.
            triggers={"redeployment": pulumi.Output.all(*ids).apply(lambda values: self.api.digest(*values))},
            opts=pulumi.ResourceOptions(parent=self, depends_on=routed),
        )

    def _stage(
        self, name: str, deployment: aws.apigateway.Deployment, *, access_logs: bool, tracing: bool, retention: int
    ) -> aws.apigateway.Stage:
        """The stage CloudFront calls, with JSON access logs when asked for."""
        stage_logs: list[pulumi.Resource] = []
        access_log_settings: aws.apigateway.StageAccessLogSettingsArgsDict | None = None
        if access_logs:
            access_log_group = aws.cloudwatch.LogGroup(
                f"{name}-access-logs", retention_in_days=retention, opts=pulumi.ResourceOptions(parent=self)
            )
            access_log_settings = {"destination_arn": access_log_group.arn, "format": ACCESS_LOG_FORMAT}
            stage_logs = [access_log_group, self._cloudwatch_role(name)]
        return aws.apigateway.Stage(
            f"{name}-stage",
            rest_api=self.rest_api.id,
            deployment=deployment.id,
            stage_name=STAGE_NAME,
            access_log_settings=access_log_settings,
            xray_tracing_enabled=tracing,
            opts=pulumi.ResourceOptions(parent=self, depends_on=stage_logs),
        )

    def _usage_plan(self, name: str, rate_limit: int, burst_limit: int) -> aws.apigateway.ApiKey:
        """The key CloudFront sends, in a usage plan that throttles every caller of the stage together."""
        child = pulumi.ResourceOptions(parent=self)
        api_key = aws.apigateway.ApiKey(
            f"{name}-cloudfront-key", description="Sent by CloudFront as x-api-key; not for clients", opts=child
        )
        usage_plan = aws.apigateway.UsagePlan(
            f"{name}-usage-plan",
            api_stages=[{"api_id": self.rest_api.id, "stage": self.stage.stage_name}],
            throttle_settings={"rate_limit": rate_limit, "burst_limit": burst_limit},
            opts=child,
        )
        aws.apigateway.UsagePlanKey(
            f"{name}-usage-plan-key", key_id=api_key.id, key_type="API_KEY", usage_plan_id=usage_plan.id, opts=child
        )
        return api_key

    def _cloudwatch_role(self, name: str) -> aws.apigateway.Account:
        """API Gateway's CloudWatch role: one setting for the whole region and account.

        Kept on destroy, with its role, so that no other API of the account is left pointing at a
        deleted role (or losing logging it had before this stack).
        """
        kept = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        role = aws.iam.Role(
            f"{name}-apigateway-logs-role",
            description="Lets API Gateway write access logs to CloudWatch Logs (region-wide account setting)",
            assume_role_policy=APIGATEWAY_ASSUME_ROLE,
            opts=kept,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-apigateway-logs-policy", role=role.name, policy_arn=APIGATEWAY_LOGS_POLICY, opts=kept
        )
        return aws.apigateway.Account(
            f"{name}-apigateway-account",
            cloudwatch_role_arn=role.arn,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True, depends_on=[attachment]),
        )

    def _route(
        self, name: str, route: Route, resource: aws.apigateway.Resource, child: pulumi.ResourceOptions
    ) -> list[pulumi.CustomResource]:
        """Method and integration for one route, and the permission for the function to be invoked by it."""
        method = aws.apigateway.Method(
            f"{name}-method-{route.slug}",
            rest_api=self.rest_api.id,
            resource_id=resource.id,
            http_method=route.http_method,
            authorization=self.api.authorization,
            api_key_required=self.api.api_key_required,
            opts=child,
        )
        integration = aws.apigateway.Integration(
            f"{name}-integration-{route.slug}",
            rest_api=self.rest_api.id,
            resource_id=resource.id,
            http_method=method.http_method,
            uri=self.function.invoke_arn,
            type=self.api.integration_type,
            integration_http_method=self.api.integration_http_method,
            opts=child,
        )
        # Only this API, on this route, may invoke the function.
        aws.lambda_.Permission(
            f"{name}-invoke-{route.slug}",
            action="lambda:InvokeFunction",
            function=self.function.name,
            principal="apigateway.amazonaws.com",
            source_arn=self.rest_api.execution_arn.apply(route.source_arn),
            opts=child,
        )
        return [method, integration]
