"""The CloudFront distribution: the bucket by default, the API under `api/*`."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.edge_definition import (
    API_CACHE,
    API_ORIGIN_ID,
    API_QUERY_PARAMETERS,
    SITE_ORIGIN_ID,
    VIEWER_HOST_FUNCTION,
    Behavior,
    behaviors,
)

HSTS_MAX_AGE_SECONDS = 63_072_000  # two years
MIN_VIEWER_TLS = "TLSv1.2_2021"
# The landing and legal pages need their own images and inline styles, nothing else.
CONTENT_SECURITY_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'"
EDGE_REGION = "us-east-1"  # CloudFront's own region: its log delivery source lives there


class Cdn(pulumi.ComponentResource):
    distribution: aws.cloudfront.Distribution

    def __init__(
        self,
        name: str,
        *,
        bucket_regional_domain_name: pulumi.Input[str],
        api_domain: pulumi.Input[str],
        api_origin_path: str,
        api_key: pulumi.Input[str],
        cache_ttl_seconds: int,
        price_class: str,
        domain: str | None = None,
        certificate_arn: pulumi.Input[str] | None = None,
        web_acl_arn: pulumi.Input[str] | None = None,
        access_logs: bool = False,
        log_retention_days: int = 14,
        sign_in: bool = False,
        challenge_arn: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`challenge_arn`: with sign-in, the numbered version of the Lambda@Edge function that puts
        WWW-Authenticate back on the answers of the behaviors that may carry one."""
        super().__init__("github-search:cdn:Cdn", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        access_control = aws.cloudfront.OriginAccessControl(
            f"{name}-site-access",
            description="CloudFront reads the private site bucket with SigV4",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=child,
        )
        api_cache = aws.cloudfront.CachePolicy(
            f"{name}-api-cache",
            comment="Search answers: keyed on the API's own parameters, TTL from the function's Cache-Control",
            min_ttl=0,
            default_ttl=0,  # an answer without Cache-Control (errors say no-store) is not kept
            max_ttl=cache_ttl_seconds,
            parameters_in_cache_key_and_forwarded_to_origin={
                "query_strings_config": {
                    "query_string_behavior": "whitelist",
                    "query_strings": {"items": list(API_QUERY_PARAMETERS)},
                },
                # No headers: above all never Host, which API Gateway answers with 403.
                "headers_config": {"header_behavior": "none"},
                "cookies_config": {"cookie_behavior": "none"},
                "enable_accept_encoding_gzip": True,
                "enable_accept_encoding_brotli": True,
            },
            opts=child,
        )
        security_headers = aws.cloudfront.ResponseHeadersPolicy(
            f"{name}-security-headers",
            comment="HSTS and friends on every answer",
            security_headers_config={
                "strict_transport_security": {
                    "access_control_max_age_sec": HSTS_MAX_AGE_SECONDS,
                    "include_subdomains": False,  # the stack does not own its parent domain's other names
                    "preload": False,
                    "override": True,
                },
                "content_type_options": {"override": True},
                "frame_options": {"frame_option": "DENY", "override": True},
                # Not over one the origin sets: the consent page needs same-origin, or a browser's
                # form POST carries no Origin its check can read.
                "referrer_policy": {"referrer_policy": "strict-origin-when-cross-origin", "override": False},
                "content_security_policy": {
                    "content_security_policy": CONTENT_SECURITY_POLICY,
                    "override": False,
                },
            },
            opts=child,
        )

        if domain is not None:
            viewer_certificate: aws.cloudfront.DistributionViewerCertificateArgsDict = {
                "acm_certificate_arn": certificate_arn,
                "ssl_support_method": "sni-only",
                "minimum_protocol_version": MIN_VIEWER_TLS,
            }
        else:
            viewer_certificate = {"cloudfront_default_certificate": True}

        served = behaviors(sign_in)
        viewer_host = self._viewer_host_function(name) if sign_in else None
        [default] = [b for b in served if b.path_pattern is None]
        ordered = [b for b in served if b.path_pattern is not None]
        cache_behaviors: list[Any] = [
            cache_behavior(b, api_cache.id, security_headers.id, viewer_host, challenge_arn)
            for b in (default, *ordered)
        ]
        self.distribution = aws.cloudfront.Distribution(
            f"{name}-distribution",
            enabled=True,
            comment="GitHub search for AI assistants",
            aliases=[domain] if domain else None,
            is_ipv6_enabled=True,
            http_version="http2and3",
            default_root_object="index.html",
            price_class=price_class,
            origins=[
                {
                    "origin_id": SITE_ORIGIN_ID,
                    "domain_name": bucket_regional_domain_name,
                    "origin_access_control_id": access_control.id,
                },
                {
                    "origin_id": API_ORIGIN_ID,
                    "domain_name": api_domain,
                    "origin_path": api_origin_path,  # /api/search -> /<stage>/api/search
                    "custom_origin_config": {
                        "http_port": 80,
                        "https_port": 443,
                        "origin_protocol_policy": "https-only",
                        "origin_ssl_protocols": ["TLSv1.2"],
                    },
                    "custom_headers": [{"name": "x-api-key", "value": api_key}],
                },
            ],
            default_cache_behavior=cache_behaviors[0],
            ordered_cache_behaviors=cache_behaviors[1:],
            restrictions={"geo_restriction": {"restriction_type": "none"}},
            viewer_certificate=viewer_certificate,
            web_acl_id=web_acl_arn,  # WAFv2 takes the web ACL's ARN here
            opts=child,
        )
        if access_logs:
            self._access_logs(name, log_retention_days)
        self.register_outputs({"distributionId": self.distribution.id, "domainName": self.distribution.domain_name})

    def _viewer_host_function(self, name: str) -> pulumi.Output[str]:
        """The CloudFront Function that tells the function which host the viewer asked for."""
        function = aws.cloudfront.Function(
            f"{name}-viewer-host",
            runtime="cloudfront-js-2.0",
            comment="Copies the viewer's Host into X-Viewer-Host for sign-in's issuer",
            code=VIEWER_HOST_FUNCTION,
            publish=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return function.arn

    def _access_logs(self, name: str, retention_days: int) -> None:
        """Standard logging v2: the distribution's access logs, as JSON, to CloudWatch Logs.

        The delivery source of a distribution must be in us-east-1, and so are its group and
        destination.
        """
        child = pulumi.ResourceOptions(parent=self)
        group = aws.cloudwatch.LogGroup(
            f"{name}-access-logs", region=EDGE_REGION, retention_in_days=retention_days, opts=child
        )
        policy = aws.cloudwatch.LogResourcePolicy(
            f"{name}-access-log-delivery",
            region=EDGE_REGION,
            policy_name=group.name.apply(lambda n: f"{n}-delivery"),
            policy_document=group.arn.apply(log_delivery_policy),
            opts=child,
        )
        delivery_name = f"{name}-{pulumi.get_stack()}-access-logs"  # source and destination, one per stack
        source = aws.cloudwatch.LogDeliverySource(
            f"{name}-access-log-source",
            region=EDGE_REGION,
            name=delivery_name,
            log_type="ACCESS_LOGS",
            resource_arn=self.distribution.arn,
            opts=child,
        )
        destination = aws.cloudwatch.LogDeliveryDestination(
            f"{name}-access-log-destination",
            region=EDGE_REGION,
            name=delivery_name,
            output_format="json",
            delivery_destination_configuration={"destination_resource_arn": group.arn},
            opts=child,
        )
        aws.cloudwatch.LogDelivery(
            f"{name}-access-log-delivery-link",
            region=EDGE_REGION,
            delivery_source_name=source.name,
            delivery_destination_arn=destination.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )


def cache_behavior(
    behavior: Behavior,
    api_cache_id: pulumi.Input[str],
    headers_id: pulumi.Input[str],
    viewer_host_arn: pulumi.Input[str] | None = None,
    challenge_arn: pulumi.Input[str] | None = None,
) -> dict[str, Any]:
    """One `Behavior` as the distribution's arguments."""
    args: dict[str, Any] = {
        "target_origin_id": behavior.origin,
        "viewer_protocol_policy": "redirect-to-https",
        "allowed_methods": list(behavior.methods),
        "cached_methods": ["GET", "HEAD"],
        "compress": behavior.compress,
        "cache_policy_id": api_cache_id if behavior.cache_policy == API_CACHE else behavior.cache_policy,
        "response_headers_policy_id": headers_id,
    }
    if behavior.path_pattern is not None:
        args["path_pattern"] = behavior.path_pattern
    if behavior.origin_request_policy is not None:
        args["origin_request_policy_id"] = behavior.origin_request_policy
    if behavior.viewer_host and viewer_host_arn is not None:
        args["function_associations"] = [{"event_type": "viewer-request", "function_arn": viewer_host_arn}]
    if behavior.restores_challenge and challenge_arn is not None:
        args["lambda_function_associations"] = [
            {"event_type": "origin-response", "lambda_arn": challenge_arn, "include_body": False}
        ]
    return args


def log_delivery_policy(group_arn: str) -> str:
    """Only the log delivery service, for this account, may write to the access log group."""
    account = group_arn.split(":")[4]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "CloudFrontAccessLogDelivery",
                    "Effect": "Allow",
                    "Principal": {"Service": "delivery.logs.amazonaws.com"},
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": f"{group_arn.removesuffix(':*')}:log-stream:*",
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": account},
                        "ArnLike": {"aws:SourceArn": f"arn:aws:logs:{EDGE_REGION}:{account}:*"},
                    },
                }
            ],
        }
    )
