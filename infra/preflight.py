"""Look before creating: with a domain, the zone and the certificate are checked against the
account before any resource is registered, so a wrong value stops `pulumi preview` with the
key named, not `pulumi up` 25 resources later.

The checks are pure functions of what the lookups return; `preflight` does the lookups
(read-only invokes, which `pulumi preview` runs too).
"""

from __future__ import annotations

import pulumi_aws as aws

from infra.settings import ConfigError, Settings

LIST_ZONES = "aws route53 list-hosted-zones --query 'HostedZones[].[Id,Name,Config.PrivateZone]'"


def check_zone(domain: str, zone_id: str, zone_name: str, private: bool) -> None:
    zone = zone_name.rstrip(".").lower()
    if domain != zone and not domain.endswith("." + zone):
        raise ConfigError(
            "hostedZoneId",
            f"{zone_id} is {zone}, which does not contain {domain}",
            f"pulumi config set hostedZoneId <the id of the zone that holds {domain}> (list them: {LIST_ZONES})",
        )
    if private:
        raise ConfigError(
            "hostedZoneId",
            f"{zone_id} ({zone}) is a private zone: viewers and certificate validation cannot resolve it",
            f"pulumi config set hostedZoneId <the id of the public zone that holds {domain}>",
        )


def check_certificate_account(certificate_arn: str, account_id: str) -> None:
    certificate_account = certificate_arn.split(":")[4]
    if certificate_account != account_id:
        raise ConfigError(
            "acmCertificateArn",
            f"the certificate belongs to account {certificate_account}, but this stack deploys to account "
            f"{account_id}, and CloudFront only uses its own account's certificates",
            "request or import the certificate in this account (in us-east-1) and set its ARN, or "
            "pulumi config rm acmCertificateArn to let the stack create and validate one",
        )


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def preflight(settings: Settings) -> None:
    """Raise ConfigError if the configured zone or certificate cannot serve the domain."""
    if settings.domain is None or settings.hosted_zone_id is None:
        return
    try:
        zone = aws.route53.get_zone(zone_id=settings.hosted_zone_id)
    except Exception as exc:  # the provider's own error: no such zone, or no access to it
        raise ConfigError(
            "hostedZoneId",
            f"{settings.hosted_zone_id} cannot be read in this account ({_first_line(exc)})",
            f"pulumi config set hostedZoneId <the id of the zone that holds {settings.domain}> "
            f"(list them: {LIST_ZONES})",
        ) from None
    check_zone(settings.domain, settings.hosted_zone_id, zone.name, bool(zone.private_zone))
    if settings.acm_certificate_arn is not None:
        check_certificate_account(settings.acm_certificate_arn, aws.get_caller_identity().account_id)
