"""With sign-in: the Lambda@Edge function that puts `WWW-Authenticate` back on the API's answers.

API Gateway's REST APIs rename a proxy integration's `WWW-Authenticate` to
`x-amzn-Remapped-WWW-Authenticate` ("Amazon API Gateway important notes", REST APIs), and
CloudFront runs no viewer-response function on an origin's 4xx ("Restrictions on all edge
functions": CloudFront Functions and Lambda@Edge viewer-response functions are skipped when the
origin answers 400 or more; origin-response Lambda@Edge functions run on every origin answer).
So the repair is an origin-response Lambda@Edge function (edge/challenge.py) on the behaviors
whose answers carry a challenge.

What it costs and takes, weighed against a Lambda function URL origin (AWS documents no promise
that a function URL keeps `WWW-Authenticate`, and it would give up the API key, the usage plan
and the gateway responses): $0.60 per million requests plus duration (128 MB, a few ms), only on
the uncached API behaviors; an occasional cold start of a few tens of milliseconds at an edge
location; and `pulumi destroy` cannot delete a replicated function until CloudFront has removed
its replicas, hours later ("Deleting Lambda@Edge functions and replicas"), so the function is
kept on destroy (`retain_on_delete`) and docs/deploying.md ("Tear down") says how to delete it afterwards.

Lambda@Edge's own rules ("Restrictions on Lambda@Edge"): the function lives in us-east-1, is
associated by a numbered version (`publish`), has no environment variables, and its role is
assumable by both lambda.amazonaws.com and edgelambda.amazonaws.com. It logs to
`/aws/lambda/us-east-1.<function>` in the region where it ran, which it creates there itself.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from infra.function_code import BUILD_DIR, EDGE_DIR, EDGE_FILES, EDGE_HANDLER, build_archive

EDGE_REGION = "us-east-1"
RUNTIME = "python3.13"  # the newest Python on Lambda@Edge's list of runtimes
ARCHITECTURE = "x86_64"  # Lambda@Edge runs x86_64 functions
MEMORY_MB = 128  # renames one header
TIMEOUT_SECONDS = 5


def assume_role_policy() -> str:
    services = ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]
    statement = {"Effect": "Allow", "Principal": {"Service": services}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def logging_policy(function_name_prefix: str) -> str:
    """Write to the log groups Lambda@Edge uses for this function, in whichever region it ran."""
    group = f"arn:aws:logs:*:*:log-group:/aws/lambda/{EDGE_REGION}.{function_name_prefix}*"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["logs:CreateLogGroup"], "Resource": group},
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": f"{group}:log-stream:*",
                },
            ],
        }
    )


class EdgeChallenge(pulumi.ComponentResource):
    """The function, its role, and the numbered version the distribution's behaviors invoke."""

    qualified_arn: pulumi.Output[str]

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("github-search:cdn:EdgeChallenge", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(f"{name}-role", assume_role_policy=assume_role_policy(), opts=child)
        logging = aws.iam.RolePolicy(
            f"{name}-logging", role=role.id, policy=logging_policy(f"{name}-function-"), opts=child
        )
        archive = build_archive(BUILD_DIR / f"{name}.zip", EDGE_DIR, EDGE_FILES)
        self.function = aws.lambda_.Function(
            f"{name}-function",
            region=EDGE_REGION,
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            handler=EDGE_HANDLER,
            code=pulumi.FileArchive(str(archive.path)),
            source_code_hash=archive.sha256_base64,
            memory_size=MEMORY_MB,
            timeout=TIMEOUT_SECONDS,
            role=role.arn,
            publish=True,  # CloudFront invokes a numbered version, never $LATEST
            description="Puts WWW-Authenticate back on sign-in's challenges (API Gateway renames it)",
            # Replicas outlive the distribution by hours: a destroy that waited would fail.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logging], retain_on_delete=True),
        )
        self.qualified_arn = self.function.qualified_arn
        self.register_outputs({"qualifiedArn": self.qualified_arn})
