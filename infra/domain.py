"""A custom domain: the us-east-1 certificate (given or created and DNS-validated) and Route53 aliases."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

CERTIFICATE_REGION = "us-east-1"  # the only region CloudFront takes certificates from


class Domain(pulumi.ComponentResource):
    certificate_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        domain: str,
        hosted_zone_id: str,
        certificate_arn: str | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("github-search:dns:Domain", name, None, opts)
        self._name = name
        self.domain = domain
        self.hosted_zone_id = hosted_zone_id
        if certificate_arn is not None:
            self.certificate_arn = pulumi.Output.from_input(certificate_arn)
        else:
            self.certificate_arn = self._create_certificate()

    def _create_certificate(self) -> pulumi.Output[str]:
        child = pulumi.ResourceOptions(parent=self)
        certificate = aws.acm.Certificate(
            f"{self._name}-certificate",
            region=CERTIFICATE_REGION,
            domain_name=self.domain,
            validation_method="DNS",
            key_algorithm="RSA_2048",
            opts=child,
        )
        option = certificate.domain_validation_options[0]
        record = aws.route53.Record(
            f"{self._name}-certificate-validation-record",
            zone_id=self.hosted_zone_id,
            name=option.resource_record_name,
            type=option.resource_record_type,
            records=[option.resource_record_value],
            ttl=300,
            allow_overwrite=True,  # the same CNAME is reused when the certificate is renewed or replaced
            opts=child,
        )
        validation = aws.acm.CertificateValidation(
            f"{self._name}-certificate-validation",
            region=CERTIFICATE_REGION,
            certificate_arn=certificate.arn,
            validation_record_fqdns=[record.fqdn],
            opts=child,
        )
        return validation.certificate_arn

    def point_at(self, distribution: aws.cloudfront.Distribution) -> None:
        """A and AAAA alias records for the domain; CloudFront targets forbid evaluating health."""
        for record_type in ("A", "AAAA"):
            aws.route53.Record(
                f"{self._name}-alias-{record_type.lower()}",
                zone_id=self.hosted_zone_id,
                name=self.domain,
                type=record_type,
                aliases=[
                    {
                        "name": distribution.domain_name,
                        "zone_id": distribution.hosted_zone_id,
                        "evaluate_target_health": False,
                    }
                ],
                opts=pulumi.ResourceOptions(parent=self),
            )
