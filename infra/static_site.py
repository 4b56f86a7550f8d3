"""The private S3 bucket behind the distribution's default behavior, and its objects."""

from __future__ import annotations

import json
from collections.abc import Callable

import pulumi
import pulumi_aws as aws

from infra.site import CACHE_CONTROL, LAYOUT, STATIC_DIR, Entry, body


def read_policy(bucket_arn: str, distribution_arn: str) -> str:
    """Only this distribution reads (OAC); ListBucket makes a missing key a 404, not a 403."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowCloudFrontRead",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudfront.amazonaws.com"},
                    "Action": ["s3:GetObject", "s3:ListBucket"],
                    "Resource": [f"{bucket_arn}/*", bucket_arn],
                    "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
                },
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"{bucket_arn}/*", bucket_arn],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        },
        indent=2,
    )


def _renderer(entry: Entry, contact_email: str | None, sign_in: bool, scope: tuple[str, ...]) -> Callable[[str], str]:
    return lambda base_url: body(entry, base_url, contact_email, sign_in=sign_in, scope=scope).decode()


class StaticSite(pulumi.ComponentResource):
    bucket: aws.s3.Bucket

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("github-search:site:StaticSite", name, None, opts)
        self._name = name
        child = pulumi.ResourceOptions(parent=self)

        self.bucket = aws.s3.Bucket(f"{name}-bucket", force_destroy=True, opts=child)
        self.public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},  # no ACLs at all
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}, "bucket_key_enabled": True}
            ],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=[
                {
                    "id": "abort-incomplete-multipart-uploads",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
                }
            ],
            opts=child,
        )
        self.register_outputs({"bucketName": self.bucket.bucket})

    def serve(
        self,
        distribution: aws.cloudfront.Distribution,
        base_url: pulumi.Input[str],
        contact_email: str | None,
        sign_in: bool = False,
        scope: tuple[str, ...] = (),
    ) -> None:
        """Let the distribution read the bucket, and upload the site rendered for `base_url`."""
        child = pulumi.ResourceOptions(parent=self)
        aws.s3.BucketPolicy(
            f"{self._name}-policy",
            bucket=self.bucket.id,
            policy=pulumi.Output.all(self.bucket.arn, distribution.arn).apply(lambda arns: read_policy(*arns)),
            # A policy put before the public-access block exists races it (409 OperationAborted).
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.public_access_block]),
        )
        for entry in LAYOUT:
            content: pulumi.Output[str] | None = None
            source: pulumi.FileAsset | None = None
            if entry.templated:
                content = pulumi.Output.from_input(base_url).apply(_renderer(entry, contact_email, sign_in, scope))
            else:
                source = pulumi.FileAsset(str(STATIC_DIR / entry.source))
            aws.s3.BucketObjectv2(
                f"{self._name}-{entry.key.replace('/', '-')}",
                bucket=self.bucket.id,
                key=entry.key,
                content=content,
                source=source,
                content_type=entry.content_type,
                cache_control=CACHE_CONTROL,
                opts=child,
            )
