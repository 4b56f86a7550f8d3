"""The judge of what the program sends to AWS: each resource input, as the value of the API
field it reaches, checked against AWS's own model of that field (botocore's service models:
`botocore/data/<service>/<version>/service-2.json`, with their `min`, `max`, `pattern`, `enum`
and types) and against the limits AWS documents or the provider enforces where the model is
silent (`RULES`, each with its source).

The mapping from a resource's inputs to the API fields is in tests/aws_mapping.py. The mocks
record what the program sets; what the provider fills in itself (an auto-name) is judged with
the value it would make: the resource's name, a hyphen and seven characters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import botocore.session
from botocore.model import Shape

# Pulumi's auto-names: the resource's name, "-", seven random hex characters (the mocks' ids too).
AUTO_SUFFIX = "-0a1b2c3"
UNKNOWN = "[unknown]"  # tools.synth's marker for a value known only at deploy time


@dataclass(frozen=True)
class Field:
    """Where an input lands: `target` in the resource's call (relative to its prefix; "/..." from
    the call's top; "service:Operation:Path" in another call). Steps are member names, `X[]` for a
    list's items, `*` for a map's values and `@key` for its keys. `convert` turns the recorded
    value into what is sent (a file's bytes for an archive)."""

    target: str
    convert: Callable[[Any], Any] | None = None
    key: str | None = None  # for a map input whose keys land elsewhere (CloudWatch dimensions)


@dataclass(frozen=True)
class Resource:
    """How one resource type reaches AWS: its create call (service, operation, the structure its
    inputs sit in), its inputs' targets (patterns: `x.y`, `x[]`, `x.*` for a map's entries, `x.**`
    for a subtree translated member by member), the inputs that reach no API field (with why),
    and the input the provider names itself when the program does not."""

    service: str
    operation: str
    prefix: str = ""
    fields: dict[str, str | Field] = field(default_factory=dict)
    not_sent: dict[str, str] = field(default_factory=dict)
    auto_named: str | None = None  # the Pulumi input the provider auto-names
    lowercase_name: bool = False  # S3 bucket names
    renames: dict[str, str] = field(default_factory=dict)  # irregular member names in a `**` subtree


@dataclass(frozen=True)
class Finding:
    resource: str
    path: str
    value: str
    problem: str

    def __str__(self) -> str:
        return f"{self.resource} {self.path} = {self.value}: {self.problem}"


# -- botocore's models ------------------------------------------------------------------------------


@cache
def _session() -> Any:
    return botocore.session.get_session()


@cache
def _model(service: str) -> Any:
    return _session().get_service_model(service)


def input_shape(service: str, operation: str) -> Shape:
    shape: Shape = _model(service).operation_model(operation).input_shape
    return shape


def resolve(service: str, operation: str, path: str) -> Shape:
    """The shape a member path names in an operation's input; KeyError naming the step if none."""
    shape = input_shape(service, operation)
    for step in [s for s in path.split(".") if s]:
        if step == "*":
            shape = shape.value
        elif step == "@key":
            shape = shape.key
        elif step.endswith("[]"):
            members = shape.members
            if step[:-2] not in members:
                raise KeyError(f"{service}:{operation} has no member {step[:-2]!r} (in {path})")
            shape = members[step[:-2]].member
        else:
            members = shape.members
            if step not in members:
                raise KeyError(f"{service}:{operation} has no member {step!r} (in {path}); it has {sorted(members)}")
            shape = members[step]
    return shape


# Java regular expression classes some models use, as Python's `re` reads them.
JAVA_CLASSES = {
    r"\p{L}": "A-Za-z\u00aa-\uffff",
    r"\p{Z}": " \u00a0\u2000-\u200a\u2028\u2029\u3000",
    r"\p{N}": "0-9",
    r"\p{Print}": "\x20-\x7e",
    r"\p{ASCII}": "\x00-\x7f",
}


@cache
def _pattern(pattern: str) -> re.Pattern[str]:
    for java, python in JAVA_CLASSES.items():
        pattern = pattern.replace(java, python)
    return re.compile(pattern, re.DOTALL)


def _outside(size: float, low: float | None, high: float | None) -> bool:
    return (low is not None and size < low) or (high is not None and size > high)


def _string_problems(value: str, shape: Shape) -> list[str]:
    meta, found = shape.metadata, []
    if _outside(len(value), meta.get("min"), meta.get("max")):
        found.append(f"is {len(value)} characters; {shape.name} takes {meta.get('min', 0)} to {meta.get('max', 'any')}")
    pattern = meta.get("pattern")
    if pattern and not _pattern(pattern).fullmatch(value):
        found.append(f"does not match {shape.name}'s pattern {pattern}")
    if shape.enum and value not in shape.enum:
        found.append(f"is not one of {shape.name}'s values {shape.enum}")
    return found


def _number_problems(value: float, shape: Shape) -> list[str]:
    meta, kind = shape.metadata, shape.type_name
    if kind in ("integer", "long") and not float(value).is_integer():
        return [f"is not a whole number; {shape.name} is an {kind}"]
    if _outside(value, meta.get("min"), meta.get("max")):
        return [f"is out of {shape.name}'s range {meta.get('min')} to {meta.get('max')}"]
    return []


KINDS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int, float),
    "long": (int, float),
    "double": (int, float),
    "float": (int, float),
    "boolean": (bool,),
    "blob": (str, bytes),
    "structure": (dict,),
    "map": (dict,),
    "list": (list,),
}


def _of_kind(value: Any, kind: str) -> bool:
    """Whether `value` is of a model type's kind (a bool is no number: JSON's true is not 1)."""
    return isinstance(value, KINDS.get(kind, (object,))) and (kind == "boolean" or not isinstance(value, bool))


def shape_problems(value: Any, shape: Shape) -> list[str]:
    """Why `value` is not one `shape` accepts (botocore's patterns are not anchored: the whole value
    must match, as the service checks it)."""
    kind = shape.type_name
    if not _of_kind(value, kind):
        return [f"is {type(value).__name__}, the model says {kind} ({shape.name})"]
    if kind == "string":
        return _string_problems(value, shape)
    if kind in ("integer", "long", "double", "float"):
        return _number_problems(value, shape)
    if kind == "blob":
        size = len(value.encode() if isinstance(value, str) else value)
        if _outside(size, shape.metadata.get("min"), shape.metadata.get("max")):
            return [
                f"is {size} bytes; {shape.name} takes {shape.metadata.get('min', 0)} to {shape.metadata.get('max')}"
            ]
    return []


# -- a resource's inputs, flattened ------------------------------------------------------------------


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, value) of every leaf: `a.b`, `a[]` for a list's items, `{}` and `[]` kept as leaves."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list) and value:
        for item in value:
            yield from leaves(item, f"{path}[]")
    else:
        yield path, value


def _matches(pattern: str, path: str) -> str | None:
    """The rest of `path` after a `**` pattern, "" for an exact or `*` match, None if no match."""
    if pattern.endswith(".**"):
        stem = pattern[:-3]
        return path[len(stem) + 1 :] if path.startswith(stem + ".") else None
    if pattern.endswith(".*"):  # a map: its keys may hold dots (API Gateway's parameter names do)
        stem = pattern[:-2]
        return "" if path.startswith(stem + ".") else None
    return "" if pattern == path else None


def map_key(pattern: str, path: str) -> str | None:
    return path[len(pattern) - 1 :] if pattern.endswith(".*") else None


def translate(rest: str, renames: dict[str, str]) -> str:
    """A Pulumi input path below a `**` pattern as the API's member path (each member's first letter
    upper-cased, as botocore names them; the irregular ones in `renames`)."""
    steps = []
    for step in rest.split("."):
        name, brackets = (step[:-2], "[]") if step.endswith("[]") else (step, "")
        steps.append(renames.get(name, name[:1].upper() + name[1:]) + brackets)
    return ".".join(steps)


def _placed(resource: Resource, target: str) -> tuple[str, str, str]:
    """(service, operation, member path) for a mapping target."""
    if target.count(":") == 2:
        service, operation, member = target.split(":")
        return service, operation, member
    if target.startswith("/"):
        return resource.service, resource.operation, target[1:]
    prefix = f"{resource.prefix}." if resource.prefix and target else resource.prefix
    return resource.service, resource.operation, prefix + target


def target_of(resource: Resource, pattern: str, path: str) -> tuple[str, str, str, Field]:
    """(service, operation, member path, field) that the input at `path` reaches."""
    spec = resource.fields[pattern]
    entry = spec if isinstance(spec, Field) else Field(spec)
    target = entry.target
    rest = _matches(pattern, path)
    if pattern.endswith(".**") and rest:
        target = target.removesuffix("**") + translate(rest, resource.renames)
    return (*_placed(resource, target), entry)


def pattern_for(resource: Resource, path: str) -> tuple[str, str] | None:
    """("field" or "not sent", the pattern) that covers `path`; the most specific wins."""
    found = [("field", p) for p in resource.fields if _matches(p, path) is not None]
    found += [("not sent", p) for p in resource.not_sent if _matches(p, path) is not None]
    return max(found, key=lambda f: len(f[1].rstrip("*"))) if found else None


def judge(resource_type: str, name: str, inputs: dict[str, Any], mapping: dict[str, Resource]) -> list[Finding]:
    """Every problem with one resource's inputs: a value its model refuses, or an input the mapping
    does not place (completeness: an input must land on a field or be listed as not sent)."""
    spec = mapping.get(resource_type)
    if spec is None:
        return [Finding(name, "", "", f"{resource_type} is not in tests/aws_mapping.py: map its inputs")]
    found: list[Finding] = []
    values = dict(leaves(inputs))
    if spec.auto_named and spec.auto_named not in inputs:
        auto = f"{name}{AUTO_SUFFIX}"
        values[spec.auto_named] = auto.lower() if spec.lowercase_name else auto
    for path, value in sorted(values.items(), key=lambda kv: kv[0]):
        covered = pattern_for(spec, path)
        shown = json.dumps(value)[:80] if not isinstance(value, bytes) else f"<{len(value)} bytes>"
        if covered is None:
            found.append(Finding(name, path, shown, "no API field is mapped for this input (tests/aws_mapping.py)"))
            continue
        kind, pattern = covered
        if kind == "not sent":
            continue
        if value == UNKNOWN:
            found.append(Finding(name, path, shown, "known only at deploy time: judge a stand-in (tools/synth.py)"))
            continue
        service, operation, member, entry = target_of(spec, pattern, path)
        try:
            shape = resolve(service, operation, member)
        except KeyError as missing:
            found.append(Finding(name, path, shown, f"the mapping is wrong: {missing.args[0]}"))
            continue
        sent = entry.convert(value) if entry.convert else value
        where = f"{service}:{operation} {member}"
        found += [Finding(name, path, shown, f"{problem} [{where}]") for problem in shape_problems(sent, shape)]
        key = map_key(pattern, path)
        if key is not None:
            if entry.key is not None:
                service, operation, key_target = _placed(spec, entry.key)
            else:
                key_target = member.removesuffix("*") + "@key"
            key_shape = resolve(service, operation, key_target)
            found += [
                Finding(name, path, json.dumps(key), f"as a key: {problem} [{service}:{operation} {key_target}]")
                for problem in shape_problems(key, key_shape)
            ]
    return found


# -- what the models do not say: AWS's documented limits and the provider's own checks -------------

Graph = list[dict[str, Any]]  # a rendered graph's resources, inputs unwrapped


@dataclass(frozen=True)
class Rule:
    name: str
    source: str  # where the limit is written
    check: Callable[[Graph], list[Finding]]


def _of(graph: Graph, resource_type: str) -> list[dict[str, Any]]:
    return [r for r in graph if r["type"] == resource_type]


def _name(resource: dict[str, Any], key: str, lowercase: bool = False) -> str:
    value = resource["inputs"].get(key) or f"{resource['name']}{AUTO_SUFFIX}"
    return value.lower() if lowercase else str(value)


def _too_long(resource: dict[str, Any], path: str, size: int, *, limit: int, unit: str, why: str) -> list[Finding]:
    if size <= limit:
        return []
    return [Finding(resource["name"], path, f"<{size} {unit}>", f"over {limit} {unit}: {why}")]


def _regex_rule(
    resource_type: str, key: str, pattern: str, why: str, lowercase: bool = False
) -> Callable[[Graph], list[Finding]]:
    def check(graph: Graph) -> list[Finding]:
        found = []
        for r in _of(graph, resource_type):
            value = _name(r, key, lowercase)
            if not re.fullmatch(pattern, value):
                found.append(Finding(r["name"], key, json.dumps(value), f"does not match {pattern}: {why}"))
        return found

    return check


def _statement_ids(graph: Graph) -> list[Finding]:
    return _regex_rule(
        "aws:lambda/permission:Permission", "statementId", r"[0-9A-Za-z_-]{1,100}", "the provider refuses it"
    )(graph)


def _function_names(graph: Graph) -> list[Finding]:
    # botocore's max (140) is for an ARN; a plain name is 64 (CreateFunction's FunctionName).
    return _regex_rule(
        "aws:lambda/function:Function", "name", r"[a-zA-Z0-9_-]{1,64}", "a function name is 64 characters at most"
    )(graph)


def _bucket_names(graph: Graph) -> list[Finding]:
    return _regex_rule(
        "aws:s3/bucket:Bucket",
        "bucket",
        r"(?!xn--|sthree-)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](?<!-s3alias)(?<!--ol-s3)",
        "S3's bucket naming rules",
        lowercase=True,
    )(graph)


def _table_names(graph: Graph) -> list[Finding]:
    return _regex_rule("aws:dynamodb/table:Table", "name", r"[a-zA-Z0-9_.-]{3,255}", "DynamoDB's naming rules")(graph)


def _topic_names(graph: Graph) -> list[Finding]:
    return _regex_rule("aws:sns/topic:Topic", "name", r"[A-Za-z0-9_-]{1,256}", "CreateTopic's constraints")(graph)


def _cloudfront_comments(graph: Graph) -> list[Finding]:
    found = []
    for kind in ("distribution:Distribution", "cachePolicy:CachePolicy", "responseHeadersPolicy:ResponseHeadersPolicy"):
        for r in _of(graph, f"aws:cloudfront/{kind}"):
            comment = r["inputs"].get("comment", "")
            found += _too_long(
                r, "comment", len(comment), limit=128, unit="characters", why="CloudFront takes 128 at most"
            )
    return found


def _function_code(graph: Graph) -> list[Finding]:
    found = []
    for r in _of(graph, "aws:cloudfront/function:Function"):
        size = len(r["inputs"]["code"].encode())
        found += _too_long(r, "code", size, limit=10 * 1024, unit="bytes", why="a CloudFront Function is 10 KB at most")
    return found


def _environment(graph: Graph) -> list[Finding]:
    found = []
    for r in _of(graph, "aws:lambda/function:Function"):
        variables = r["inputs"].get("environment", {}).get("variables", {})
        size = sum(len(k) + len(str(v)) for k, v in variables.items())
        found += _too_long(
            r, "environment", size, limit=4 * 1024, unit="bytes", why="Lambda takes 4 KB of variables in all"
        )
    return found


def _compact(document: str) -> int:
    return len(json.dumps(json.loads(document), separators=(",", ":")))


def _role_policies(graph: Graph) -> list[Finding]:
    """A role's inline policies together: 10,240 characters (whitespace not counted); its trust
    policy 2,048 (the default quota); a managed policy 6,144."""
    found = []
    by_role: dict[str, int] = {}
    for r in _of(graph, "aws:iam/rolePolicy:RolePolicy"):
        by_role[r["inputs"]["role"]] = by_role.get(r["inputs"]["role"], 0) + _compact(r["inputs"]["policy"])
    for role, size in by_role.items():
        found += _too_long(
            {"name": role}, "inline policies", size, limit=10_240, unit="characters", why="IAM's role policy quota"
        )
    for r in _of(graph, "aws:iam/role:Role"):
        size = _compact(r["inputs"]["assumeRolePolicy"])
        found += _too_long(r, "assumeRolePolicy", size, limit=2_048, unit="characters", why="IAM's trust policy quota")
    for r in _of(graph, "aws:iam/policy:Policy"):
        size = _compact(r["inputs"]["policy"])
        found += _too_long(r, "policy", size, limit=6_144, unit="characters", why="IAM's managed policy quota")
    return found


def _resource_policy(graph: Graph) -> list[Finding]:
    """Each function's resource-based policy (every AddPermission statement on it): 20 KB."""
    found = []
    by_function: dict[str, int] = {}
    for r in _of(graph, "aws:lambda/permission:Permission"):
        inputs = r["inputs"]
        statement = {
            "Sid": _name(r, "statementId"),
            "Effect": "Allow",
            "Principal": {"Service": inputs["principal"]},
            "Action": inputs["action"],
            "Resource": f"arn:aws:lambda:us-east-1:123456789012:function:{inputs['function']}",
            "Condition": {"ArnLike": {"AWS:SourceArn": inputs.get("sourceArn", "")}},
        }
        size = len(json.dumps(statement, separators=(",", ":")))
        by_function[inputs["function"]] = by_function.get(inputs["function"], 100) + size
    for function, size in by_function.items():
        found += _too_long(
            {"name": function}, "resource policy", size, limit=20 * 1024, unit="bytes", why="Lambda's quota"
        )
    return found


def _dashboard(graph: Graph) -> list[Finding]:
    found = []
    for r in _of(graph, "aws:cloudwatch/dashboard:Dashboard"):
        size = len(r["inputs"]["dashboardBody"].encode())
        found += _too_long(
            r, "dashboardBody", size, limit=1024 * 1024, unit="bytes", why="a dashboard body is 1 MB at most"
        )
    return found


# A path segment (RFC 3986 section 3.3), or a whole-segment path parameter, greedy with "+".
PATH_PART = r"(?:[A-Za-z0-9._~!$&'()*,;=:@-]+|\{[A-Za-z0-9_]+\+?\})"


def _path_parts(graph: Graph) -> list[Finding]:
    return _regex_rule(
        "aws:apigateway/resource:Resource", "pathPart", PATH_PART, "a path segment, or {name} / {name+}"
    )(graph)


# WAF's capacity units ("AWS WAF web ACL capacity units"): managed groups at their published
# capacity, rate-based rules 2 plus their scope-down, byte match 1 (2 for CONTAINS), regex 3,
# label match 1, logical statements the sum of theirs, and 10 per text transformation.
MANAGED_GROUP_WCUS = {
    "AWSManagedRulesCommonRuleSet": 700,
    "AWSManagedRulesKnownBadInputsRuleSet": 200,
    "AWSManagedRulesAmazonIpReputationList": 25,
}
MAX_WEB_ACL_WCUS = 1_500  # beyond it, AWS charges for the capacity, and 5,000 is the ceiling


def _transformations(statement: dict[str, Any]) -> int:
    return 10 * sum(1 for t in statement.get("textTransformations", []) if t["type"] != "NONE")


def wcus(statement: dict[str, Any]) -> int:
    if "managedRuleGroupStatement" in statement:
        return MANAGED_GROUP_WCUS[statement["managedRuleGroupStatement"]["name"]]
    if "rateBasedStatement" in statement:
        rate = statement["rateBasedStatement"]
        keys = sum(_transformations(next(iter(k.values()))) for k in rate.get("customKeys", []))
        return 2 + keys + (wcus(rate["scopeDownStatement"]) if "scopeDownStatement" in rate else 0)
    for logical in ("andStatement", "orStatement"):
        if logical in statement:
            return sum(wcus(s) for s in statement[logical]["statements"])
    if "notStatement" in statement:
        return wcus(statement["notStatement"]["statement"])
    if "labelMatchStatement" in statement:
        return 1
    if "regexMatchStatement" in statement:
        return 3 + _transformations(statement["regexMatchStatement"])
    match = statement["byteMatchStatement"]
    return (2 if match["positionalConstraint"].startswith("CONTAINS") else 1) + _transformations(match)


def _web_acl_capacity(graph: Graph) -> list[Finding]:
    found = []
    for r in _of(graph, "aws:wafv2/webAcl:WebAcl"):
        total = sum(wcus(rule["statement"]) for rule in r["inputs"].get("rules", []))
        found += _too_long(r, "rules", total, limit=MAX_WEB_ACL_WCUS, unit="WCUs", why="a web ACL's included capacity")
    return found


RULES = (
    Rule(
        "Lambda statement ids",
        "terraform-provider-aws internal/service/lambda/validate.go: validPolicyStatementID (^[0-9A-Za-z_-]+$)",
        _statement_ids,
    ),
    Rule(
        "Lambda function names", "Lambda API reference, CreateFunction: FunctionName (64 for a name)", _function_names
    ),
    Rule("S3 bucket names", "Amazon S3 User Guide, 'General purpose bucket naming rules'", _bucket_names),
    Rule("DynamoDB table names", "Amazon DynamoDB Developer Guide, 'Naming rules'", _table_names),
    Rule("SNS topic names", "Amazon SNS API reference, CreateTopic: Name constraints", _topic_names),
    Rule(
        "CloudFront comments",
        "CloudFront API reference: DistributionConfig, CachePolicyConfig, ResponseHeadersPolicyConfig Comment",
        _cloudfront_comments,
    ),
    Rule("CloudFront Function size", "CloudFront Developer Guide, 'Quotas on CloudFront Functions'", _function_code),
    Rule("Lambda environment", "Lambda Developer Guide, 'Lambda quotas': environment variables 4 KB", _environment),
    Rule("IAM policy sizes", "IAM User Guide, 'IAM and AWS STS quotas' (character limits)", _role_policies),
    Rule(
        "Lambda resource policy",
        "Lambda Developer Guide, 'Lambda quotas': resource-based policy 20 KB",
        _resource_policy,
    ),
    Rule(
        "CloudWatch dashboard",
        "Amazon CloudWatch User Guide, 'CloudWatch service quotas': dashboard body 1 MB",
        _dashboard,
    ),
    Rule(
        "API Gateway path parts",
        "RFC 3986 section 3.3 (path segments); API Gateway Developer Guide, path parameters and {proxy+}",
        _path_parts,
    ),
    Rule("WAF capacity", "AWS WAF Developer Guide, 'Web ACL capacity units (WCUs)'", _web_acl_capacity),
)
