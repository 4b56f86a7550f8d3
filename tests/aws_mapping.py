"""Which AWS API field each resource input reaches, for every resource type the program (and
bootstrap/) registers: the data tests/test_aws_models.py judges the rendered graphs with.

Read from the provider's source (terraform-provider-aws, which pulumi-aws bridges: the input
names are its attributes in camelCase) and AWS's API references; terraform-linters'
tflint-ruleset-aws keeps the same kind of mapping (rules/models/mappings/*.hcl). A new resource
type fails the test until it is added here; so does a new input, until it is placed on a field
or listed under `not_sent` with the reason.

Targets are member paths in the call's input, as botocore names them (`Items[]` for a list's
items, `*` and `@key` for a map's values and keys); `x.**` maps a subtree member by member.
"""

from __future__ import annotations

from pathlib import Path

from tests.aws_models import Field, Resource

ROOT = Path(__file__).resolve().parent.parent
REGION = "selects the regional endpoint the provider calls (pulumi-aws 7's per-resource region): no API field"


def file_bytes(path: str) -> bytes:
    """An archive or asset input, as the bytes the provider uploads."""
    return (ROOT / path).read_bytes()


def _cache_behavior(prefix: str) -> dict[str, str | Field]:
    """A distribution's cache behavior, default or ordered (the same fields, `PathPattern` aside)."""
    return {
        f"{prefix}.allowedMethods[]": "AllowedMethods.Items[]",
        f"{prefix}.cachedMethods[]": "AllowedMethods.CachedMethods.Items[]",
        f"{prefix}.cachePolicyId": "CachePolicyId",
        f"{prefix}.compress": "Compress",
        f"{prefix}.originRequestPolicyId": "OriginRequestPolicyId",
        f"{prefix}.responseHeadersPolicyId": "ResponseHeadersPolicyId",
        f"{prefix}.targetOriginId": "TargetOriginId",
        f"{prefix}.viewerProtocolPolicy": "ViewerProtocolPolicy",
        f"{prefix}.pathPattern": "PathPattern",
        f"{prefix}.functionAssociations[].eventType": "FunctionAssociations.Items[].EventType",
        f"{prefix}.functionAssociations[].functionArn": "FunctionAssociations.Items[].FunctionARN",
        f"{prefix}.lambdaFunctionAssociations[].eventType": "LambdaFunctionAssociations.Items[].EventType",
        f"{prefix}.lambdaFunctionAssociations[].lambdaArn": "LambdaFunctionAssociations.Items[].LambdaFunctionARN",
        f"{prefix}.lambdaFunctionAssociations[].includeBody": "LambdaFunctionAssociations.Items[].IncludeBody",
    }


def _behaviors() -> dict[str, str | Field]:
    found: dict[str, str | Field] = {}
    for key, target in _cache_behavior("defaultCacheBehavior").items():
        found[key] = f"DefaultCacheBehavior.{target}"
    for key, target in _cache_behavior("orderedCacheBehaviors[]").items():
        found[key] = f"CacheBehaviors.Items[].{target}"
    return found


MAPPING: dict[str, Resource] = {
    # -- ACM ------------------------------------------------------------------------------------
    "aws:acm/certificate:Certificate": Resource(
        "acm",
        "RequestCertificate",
        fields={"domainName": "DomainName", "keyAlgorithm": "KeyAlgorithm", "validationMethod": "ValidationMethod"},
        not_sent={"region": REGION},
    ),
    "aws:acm/certificateValidation:CertificateValidation": Resource(
        "acm",
        "DescribeCertificate",  # no write: the provider waits for the certificate to be issued
        fields={"certificateArn": "CertificateArn"},
        not_sent={
            "region": REGION,
            "validationRecordFqdns[]": "compared by the provider with the certificate's own records, not sent",
        },
    ),
    # -- API Gateway ------------------------------------------------------------------------------
    "aws:apigateway/account:Account": Resource(
        "apigateway", "UpdateAccount", fields={"cloudwatchRoleArn": "patchOperations[].value"}
    ),
    "aws:apigateway/apiKey:ApiKey": Resource(
        "apigateway", "CreateApiKey", fields={"description": "description", "name": "name"}, auto_named="name"
    ),
    "aws:apigateway/deployment:Deployment": Resource(
        "apigateway",
        "CreateDeployment",
        fields={"restApi": "restApiId"},
        not_sent={"triggers.*": "the provider redeploys when these change (infra/api_definition.py's digest)"},
    ),
    "aws:apigateway/integration:Integration": Resource(
        "apigateway",
        "PutIntegration",
        fields={
            "httpMethod": "httpMethod",
            "integrationHttpMethod": "integrationHttpMethod",
            "resourceId": "resourceId",
            "restApi": "restApiId",
            "type": "type",
            "uri": "uri",
        },
    ),
    "aws:apigateway/method:Method": Resource(
        "apigateway",
        "PutMethod",
        fields={
            "apiKeyRequired": "apiKeyRequired",
            "authorization": "authorizationType",
            "httpMethod": "httpMethod",
            "resourceId": "resourceId",
            "restApi": "restApiId",
        },
    ),
    "aws:apigateway/resource:Resource": Resource(
        "apigateway",
        "CreateResource",
        fields={"parentId": "parentId", "pathPart": "pathPart", "restApi": "restApiId"},
    ),
    "aws:apigateway/response:Response": Resource(
        "apigateway",
        "PutGatewayResponse",
        fields={
            "responseParameters.*": "responseParameters.*",
            "responseTemplates.*": "responseTemplates.*",
            "responseType": "responseType",
            "restApiId": "restApiId",
            "statusCode": "statusCode",
        },
    ),
    "aws:apigateway/restApi:RestApi": Resource(
        "apigateway",
        "CreateRestApi",
        fields={
            "apiKeySource": "apiKeySource",
            "description": "description",
            "endpointConfiguration.types": "endpointConfiguration.types[]",  # one type, sent as a list
            "name": "name",
        },
        auto_named="name",
    ),
    "aws:apigateway/stage:Stage": Resource(
        "apigateway",
        "CreateStage",
        fields={
            "deployment": "deploymentId",
            "restApi": "restApiId",
            "stageName": "stageName",
            "xrayTracingEnabled": "tracingEnabled",
            # Set after creation with patch operations (/accessLogSettings/destinationArn, .../format).
            "accessLogSettings.destinationArn": "apigateway:UpdateStage:patchOperations[].value",
            "accessLogSettings.format": "apigateway:UpdateStage:patchOperations[].value",
        },
    ),
    "aws:apigateway/usagePlan:UsagePlan": Resource(
        "apigateway",
        "CreateUsagePlan",
        fields={
            "apiStages[].apiId": "apiStages[].apiId",
            "apiStages[].stage": "apiStages[].stage",
            "throttleSettings.burstLimit": "throttle.burstLimit",
            "throttleSettings.rateLimit": "throttle.rateLimit",
            "name": "name",
        },
        auto_named="name",
    ),
    "aws:apigateway/usagePlanKey:UsagePlanKey": Resource(
        "apigateway",
        "CreateUsagePlanKey",
        fields={"keyId": "keyId", "keyType": "keyType", "usagePlanId": "usagePlanId"},
    ),
    # -- CloudFront -------------------------------------------------------------------------------
    "aws:cloudfront/cachePolicy:CachePolicy": Resource(
        "cloudfront",
        "CreateCachePolicy",
        "CachePolicyConfig",
        fields={
            "comment": "Comment",
            "defaultTtl": "DefaultTTL",
            "maxTtl": "MaxTTL",
            "minTtl": "MinTTL",
            "name": "Name",
            "parametersInCacheKeyAndForwardedToOrigin.**": "ParametersInCacheKeyAndForwardedToOrigin.**",
            "parametersInCacheKeyAndForwardedToOrigin.queryStringsConfig.queryStrings.items[]": (
                "ParametersInCacheKeyAndForwardedToOrigin.QueryStringsConfig.QueryStrings.Items[]"
            ),
        },
        auto_named="name",
    ),
    "aws:cloudfront/distribution:Distribution": Resource(
        "cloudfront",
        "CreateDistribution",
        "DistributionConfig",
        fields={
            "aliases[]": "Aliases.Items[]",
            "comment": "Comment",
            "defaultRootObject": "DefaultRootObject",
            "enabled": "Enabled",
            "httpVersion": "HttpVersion",
            "isIpv6Enabled": "IsIPV6Enabled",
            "priceClass": "PriceClass",
            "webAclId": "WebACLId",
            "origins[].domainName": "Origins.Items[].DomainName",
            "origins[].originId": "Origins.Items[].Id",
            "origins[].originPath": "Origins.Items[].OriginPath",
            "origins[].originAccessControlId": "Origins.Items[].OriginAccessControlId",
            "origins[].customHeaders[].name": "Origins.Items[].CustomHeaders.Items[].HeaderName",
            "origins[].customHeaders[].value": "Origins.Items[].CustomHeaders.Items[].HeaderValue",
            "origins[].customOriginConfig.httpPort": "Origins.Items[].CustomOriginConfig.HTTPPort",
            "origins[].customOriginConfig.httpsPort": "Origins.Items[].CustomOriginConfig.HTTPSPort",
            "origins[].customOriginConfig.originProtocolPolicy": (
                "Origins.Items[].CustomOriginConfig.OriginProtocolPolicy"
            ),
            "origins[].customOriginConfig.originSslProtocols[]": (
                "Origins.Items[].CustomOriginConfig.OriginSslProtocols.Items[]"
            ),
            "restrictions.geoRestriction.restrictionType": "Restrictions.GeoRestriction.RestrictionType",
            "viewerCertificate.acmCertificateArn": "ViewerCertificate.ACMCertificateArn",
            "viewerCertificate.cloudfrontDefaultCertificate": "ViewerCertificate.CloudFrontDefaultCertificate",
            "viewerCertificate.minimumProtocolVersion": "ViewerCertificate.MinimumProtocolVersion",
            "viewerCertificate.sslSupportMethod": "ViewerCertificate.SSLSupportMethod",
            **_behaviors(),
        },
    ),
    "aws:cloudfront/function:Function": Resource(
        "cloudfront",
        "CreateFunction",
        fields={
            "code": "FunctionCode",
            "comment": "FunctionConfig.Comment",
            "runtime": "FunctionConfig.Runtime",
            "name": "Name",
        },
        not_sent={"publish": "a switch: the provider calls PublishFunction (name and ETag only) after each change"},
        auto_named="name",
    ),
    "aws:cloudfront/originAccessControl:OriginAccessControl": Resource(
        "cloudfront",
        "CreateOriginAccessControl",
        "OriginAccessControlConfig",
        fields={
            "description": "Description",
            "originAccessControlOriginType": "OriginAccessControlOriginType",
            "signingBehavior": "SigningBehavior",
            "signingProtocol": "SigningProtocol",
            "name": "Name",
        },
        auto_named="name",
    ),
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": Resource(
        "cloudfront",
        "CreateResponseHeadersPolicy",
        "ResponseHeadersPolicyConfig",
        fields={"comment": "Comment", "name": "Name", "securityHeadersConfig.**": "SecurityHeadersConfig.**"},
        auto_named="name",
    ),
    # -- CloudWatch and CloudWatch Logs -----------------------------------------------------------
    "aws:cloudwatch/dashboard:Dashboard": Resource(
        "cloudwatch", "PutDashboard", fields={"dashboardBody": "DashboardBody", "dashboardName": "DashboardName"}
    ),
    "aws:cloudwatch/logDelivery:LogDelivery": Resource(
        "logs",
        "CreateDelivery",
        fields={"deliveryDestinationArn": "deliveryDestinationArn", "deliverySourceName": "deliverySourceName"},
        not_sent={"region": REGION},
    ),
    "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": Resource(
        "logs",
        "PutDeliveryDestination",
        fields={
            "name": "name",
            "outputFormat": "outputFormat",
            "deliveryDestinationConfiguration.destinationResourceArn": (
                "deliveryDestinationConfiguration.destinationResourceArn"
            ),
        },
        not_sent={"region": REGION},
    ),
    "aws:cloudwatch/logDeliverySource:LogDeliverySource": Resource(
        "logs",
        "PutDeliverySource",
        fields={"logType": "logType", "name": "name", "resourceArn": "resourceArn"},
        not_sent={"region": REGION},
    ),
    "aws:cloudwatch/logGroup:LogGroup": Resource(
        "logs",
        "CreateLogGroup",
        fields={
            "name": "logGroupName",
            "retentionInDays": "logs:PutRetentionPolicy:retentionInDays",
            "kmsKeyId": "kmsKeyId",
        },
        not_sent={"region": REGION},
        auto_named="name",
    ),
    "aws:cloudwatch/logDataProtectionPolicy:LogDataProtectionPolicy": Resource(
        "logs",
        "PutDataProtectionPolicy",
        fields={"logGroupName": "logGroupIdentifier", "policyDocument": "policyDocument"},
        not_sent={"region": REGION},
    ),
    "aws:cloudwatch/queryDefinition:QueryDefinition": Resource(
        "logs",
        "PutQueryDefinition",
        fields={"name": "name", "queryString": "queryString", "logGroupNames[]": "logGroupNames[]"},
        not_sent={"region": REGION},
    ),
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": Resource(
        "logs",
        "PutMetricFilter",
        fields={
            "logGroupName": "logGroupName",
            "pattern": "filterPattern",
            "metricTransformation.name": "metricTransformations[].metricName",
            "metricTransformation.namespace": "metricTransformations[].metricNamespace",
            "metricTransformation.unit": "metricTransformations[].unit",
            "metricTransformation.value": "metricTransformations[].metricValue",
            "name": "filterName",
        },
        auto_named="name",
    ),
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": Resource(
        "logs",
        "PutResourcePolicy",
        fields={"policyDocument": "policyDocument", "policyName": "policyName"},
        not_sent={"region": REGION},
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": Resource(
        "cloudwatch",
        "PutMetricAlarm",
        fields={
            "name": "AlarmName",
            "alarmActions[]": "AlarmActions[]",
            "okActions[]": "OKActions[]",
            "alarmDescription": "AlarmDescription",
            "comparisonOperator": "ComparisonOperator",
            "dimensions.*": Field("Dimensions[].Value", key="Dimensions[].Name"),
            "evaluationPeriods": "EvaluationPeriods",
            "metricName": "MetricName",
            "namespace": "Namespace",
            "period": "Period",
            "statistic": "Statistic",
            "threshold": "Threshold",
            "treatMissingData": "TreatMissingData",
            "metricQueries[].expression": "Metrics[].Expression",
            "metricQueries[].id": "Metrics[].Id",
            "metricQueries[].label": "Metrics[].Label",
            "metricQueries[].returnData": "Metrics[].ReturnData",
            "metricQueries[].metric.dimensions.*": Field(
                "Metrics[].MetricStat.Metric.Dimensions[].Value", key="Metrics[].MetricStat.Metric.Dimensions[].Name"
            ),
            "metricQueries[].metric.metricName": "Metrics[].MetricStat.Metric.MetricName",
            "metricQueries[].metric.namespace": "Metrics[].MetricStat.Metric.Namespace",
            "metricQueries[].metric.period": "Metrics[].MetricStat.Period",
            "metricQueries[].metric.stat": "Metrics[].MetricStat.Stat",
        },
        not_sent={"region": REGION},
        auto_named="name",
    ),
    # -- DynamoDB ---------------------------------------------------------------------------------
    "aws:dynamodb/table:Table": Resource(
        "dynamodb",
        "CreateTable",
        fields={
            "attributes[].name": "AttributeDefinitions[].AttributeName",
            "attributes[].type": "AttributeDefinitions[].AttributeType",
            "billingMode": "BillingMode",
            "deletionProtectionEnabled": "DeletionProtectionEnabled",
            "hashKey": "KeySchema[].AttributeName",
            "name": "TableName",
            "pointInTimeRecovery.enabled": (
                "dynamodb:UpdateContinuousBackups:PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled"
            ),
            "ttl.attributeName": "dynamodb:UpdateTimeToLive:TimeToLiveSpecification.AttributeName",
            "ttl.enabled": "dynamodb:UpdateTimeToLive:TimeToLiveSpecification.Enabled",
        },
        auto_named="name",
    ),
    # -- IAM --------------------------------------------------------------------------------------
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": Resource(
        "iam",
        "CreateOpenIDConnectProvider",
        fields={"url": "Url", "clientIdLists[]": "ClientIDList[]", "thumbprintLists[]": "ThumbprintList[]"},
    ),
    "aws:iam/role:Role": Resource(
        "iam",
        "CreateRole",
        fields={
            "assumeRolePolicy": "AssumeRolePolicyDocument",
            "description": "Description",
            "maxSessionDuration": "MaxSessionDuration",
            "name": "RoleName",
        },
        auto_named="name",
    ),
    "aws:iam/rolePolicy:RolePolicy": Resource(
        "iam",
        "PutRolePolicy",
        fields={"policy": "PolicyDocument", "role": "RoleName", "name": "PolicyName"},
        auto_named="name",
    ),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": Resource(
        "iam", "AttachRolePolicy", fields={"policyArn": "PolicyArn", "role": "RoleName"}
    ),
    # -- KMS --------------------------------------------------------------------------------------
    "aws:kms/key:Key": Resource(
        "kms",
        "CreateKey",
        fields={
            "description": "Description",
            "policy": "Policy",
            "deletionWindowInDays": "kms:ScheduleKeyDeletion:PendingWindowInDays",
            "tags.*": Field("Tags[].TagValue", key="Tags[].TagKey"),
        },
        not_sent={"region": REGION, "enableKeyRotation": "a switch: the provider calls EnableKeyRotation (KeyId only)"},
    ),
    # -- Lambda -----------------------------------------------------------------------------------
    "aws:lambda/function:Function": Resource(
        "lambda",
        "CreateFunction",
        fields={
            "architectures[]": "Architectures[]",
            "code.fileArchive": Field("Code.ZipFile", convert=file_bytes),
            "description": "Description",
            "environment.variables.*": "Environment.Variables.*",
            "handler": "Handler",
            "loggingConfig.**": "LoggingConfig.**",
            "memorySize": "MemorySize",
            "publish": "Publish",
            "role": "Role",
            "runtime": "Runtime",
            "timeout": "Timeout",
            "tracingConfig.mode": "TracingConfig.Mode",
            "name": "FunctionName",
        },
        not_sent={
            "region": REGION,
            "sourceCodeHash": "the provider compares it with the archive's hash to decide on an update",
        },
        auto_named="name",
    ),
    "aws:lambda/permission:Permission": Resource(
        "lambda",
        "AddPermission",
        fields={
            "action": "Action",
            "function": "FunctionName",
            "principal": "Principal",
            "sourceArn": "SourceArn",
            "statementId": "StatementId",
        },
        auto_named="statementId",  # AutoName("statementId", 100, "-") in pulumi-aws's provider/resources.go
    ),
    # -- Route 53 ---------------------------------------------------------------------------------
    "aws:route53/record:Record": Resource(
        "route53",
        "ChangeResourceRecordSets",
        "ChangeBatch.Changes[].ResourceRecordSet",
        fields={
            "zoneId": "/HostedZoneId",
            "name": "Name",
            "type": "Type",
            "ttl": "TTL",
            "records[]": "ResourceRecords[].Value",
            "aliases[].name": "AliasTarget.DNSName",
            "aliases[].zoneId": "AliasTarget.HostedZoneId",
            "aliases[].evaluateTargetHealth": "AliasTarget.EvaluateTargetHealth",
        },
        not_sent={"allowOverwrite": "the provider's choice of UPSERT over CREATE"},
    ),
    # -- S3 ---------------------------------------------------------------------------------------
    "aws:s3/bucket:Bucket": Resource(
        "s3",
        "CreateBucket",
        fields={"bucket": "Bucket"},
        not_sent={"forceDestroy": "the provider empties the bucket before deleting it"},
        auto_named="bucket",
        lowercase_name=True,
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": Resource(
        "s3",
        "PutBucketLifecycleConfiguration",
        fields={
            "bucket": "Bucket",
            "rules[].abortIncompleteMultipartUpload.daysAfterInitiation": (
                "LifecycleConfiguration.Rules[].AbortIncompleteMultipartUpload.DaysAfterInitiation"
            ),
            "rules[].filter.prefix": "LifecycleConfiguration.Rules[].Filter.Prefix",
            "rules[].id": "LifecycleConfiguration.Rules[].ID",
            "rules[].status": "LifecycleConfiguration.Rules[].Status",
        },
    ),
    "aws:s3/bucketObjectv2:BucketObjectv2": Resource(
        "s3",
        "PutObject",
        fields={
            "bucket": "Bucket",
            "cacheControl": "CacheControl",
            "content": "Body",
            "contentType": "ContentType",
            "key": "Key",
            "source.fileAsset": Field("Body", convert=file_bytes),
        },
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": Resource(
        "s3",
        "PutBucketOwnershipControls",
        fields={"bucket": "Bucket", "rule.objectOwnership": "OwnershipControls.Rules[].ObjectOwnership"},
    ),
    "aws:s3/bucketPolicy:BucketPolicy": Resource(
        "s3", "PutBucketPolicy", fields={"bucket": "Bucket", "policy": "Policy"}
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": Resource(
        "s3",
        "PutPublicAccessBlock",
        fields={
            "bucket": "Bucket",
            "blockPublicAcls": "PublicAccessBlockConfiguration.BlockPublicAcls",
            "blockPublicPolicy": "PublicAccessBlockConfiguration.BlockPublicPolicy",
            "ignorePublicAcls": "PublicAccessBlockConfiguration.IgnorePublicAcls",
            "restrictPublicBuckets": "PublicAccessBlockConfiguration.RestrictPublicBuckets",
        },
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": Resource(
        "s3",
        "PutBucketEncryption",
        fields={
            "bucket": "Bucket",
            "rules[].applyServerSideEncryptionByDefault.sseAlgorithm": (
                "ServerSideEncryptionConfiguration.Rules[].ApplyServerSideEncryptionByDefault.SSEAlgorithm"
            ),
            "rules[].bucketKeyEnabled": "ServerSideEncryptionConfiguration.Rules[].BucketKeyEnabled",
        },
    ),
    # -- SNS --------------------------------------------------------------------------------------
    "aws:sns/topic:Topic": Resource(
        "sns",
        "CreateTopic",
        fields={"name": "Name", "kmsMasterKeyId": "Attributes.*"},
        not_sent={"region": REGION},
        auto_named="name",
    ),
    "aws:sns/topicPolicy:TopicPolicy": Resource(
        "sns",
        "SetTopicAttributes",
        fields={"arn": "TopicArn", "policy": "AttributeValue"},
        not_sent={"region": REGION},
    ),
    "aws:sns/topicSubscription:TopicSubscription": Resource(
        "sns",
        "Subscribe",
        fields={"endpoint": "Endpoint", "protocol": "Protocol", "topic": "TopicArn"},
        not_sent={"region": REGION},
    ),
    # -- WAF --------------------------------------------------------------------------------------
    "aws:wafv2/webAcl:WebAcl": Resource(
        "wafv2",
        "CreateWebACL",
        fields={
            "name": "Name",
            "description": "Description",
            "scope": "Scope",
            "defaultAction.**": "DefaultAction.**",
            "visibilityConfig.**": "VisibilityConfig.**",
            "rules[].**": "Rules[].**",
            # A list of bodies in the provider, a map keyed by `key` in the API.
            "customResponseBodies[].key": "CustomResponseBodies.@key",
            "customResponseBodies[].content": "CustomResponseBodies.*.Content",
            "customResponseBodies[].contentType": "CustomResponseBodies.*.ContentType",
        },
        not_sent={"region": REGION},
        auto_named="name",
        renames={"cloudwatchMetricsEnabled": "CloudWatchMetricsEnabled"},
    ),
}
