"""Run the real Pulumi program offline under Pulumi's mocks and record the resource graph.

What `pulumi preview` would register, without the CLI, a provider plugin or an AWS account:
config is assembled as the CLI does (Pulumi.yaml defaults, then Pulumi.<stack>.yaml, then
overrides), `__main__.py` runs under `pulumi.runtime.set_mocks`, and every registration is
recorded with its type, name, parent, dependencies and inputs (secrets kept marked).

    python -m tools.synth --stack dev                     # JSON on stdout
    python -m tools.synth --stack prod --set domain=x.example.com --secret githubToken=...
"""

from __future__ import annotations

import argparse
import json
import logging
import runpy
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SECRET = "[secret]"
ACCOUNT = "123456789012"
CERTIFICATE_ID = "11111111-2222-3333-4444-555555555555"
WEB_ACL_ID = "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
MOCK_API_KEY = "MOCK0API0KEY0VALUE0000000000000000000000"  # the provider marks an API key's value secret
# What the read-only lookups find in the mocked account: the zone Pulumi.prod.yaml names, public.
ZONES = {"Z0123456789EXAMPLE000": ("example.com.", False)}


class UnexpectedInvoke(Exception):
    """The program looked something up that the mocks do not know: teach `invoke_outputs` about it."""


def invoke_outputs(
    token: str, args: dict[str, Any], zones: Mapping[str, tuple[str, bool]], account: str
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """What AWS would answer a lookup: (outputs, failures), with realistic fields."""
    if token == "aws:route53/getZone:getZone":
        zone_id = str(args.get("zoneId", ""))
        if zone_id not in zones:
            return {}, [("zoneId", f"no matching Route 53 Hosted Zone found: NoSuchHostedZone: {zone_id}")]
        name, private = zones[zone_id]
        return {
            "arn": f"arn:aws:route53:::hostedzone/{zone_id}",
            "id": zone_id,
            "zoneId": zone_id,
            "name": name,
            "privateZone": private,
            "nameServers": ["ns-1.awsdns-01.org", "ns-2.awsdns-02.co.uk"],
            "resourceRecordSetCount": 4,
            "callerReference": "mock",
            "comment": "",
            "tags": {},
        }, []
    if token == "aws:index/getCallerIdentity:getCallerIdentity":
        return {
            "id": account,
            "accountId": account,
            "arn": f"arn:aws:sts::{account}:assumed-role/deploy/session",
            "userId": "AROAEXAMPLE:session",
        }, []
    raise UnexpectedInvoke(f"the program invoked {token}({args}); tools/synth.py's invoke_outputs has no answer for it")


def project_name(program: Path = ROOT) -> str:
    return str(yaml.safe_load((program / "Pulumi.yaml").read_text())["name"])


def stack_config(
    stack: str, overrides: Mapping[str, str], secrets: Mapping[str, str], program: Path = ROOT
) -> tuple[dict[str, str], list[str]]:
    """Config as the CLI hands it to the program: full keys, string values, secret keys listed."""
    project = yaml.safe_load((program / "Pulumi.yaml").read_text())
    name = project["name"]
    values: dict[str, str] = {}
    for key, spec in (project.get("config") or {}).items():
        if isinstance(spec, dict) and "default" in spec:
            default = spec["default"]
            # The CLI hands booleans to the program as JSON text: true, false.
            values[f"{name}:{key}"] = json.dumps(default) if isinstance(default, bool) else str(default)
    stack_file = program / f"Pulumi.{stack}.yaml"
    if stack_file.exists():
        for key, value in ((yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}).items():
            values[key] = value if isinstance(value, str) else json.dumps(value)
    for key, value in {**overrides, **secrets}.items():
        values[key if ":" in key else f"{name}:{key}"] = value
    return values, [k if ":" in k else f"{name}:{k}" for k in secrets]


# Fixed physical ids, for resources whose id is not their name.
FIXED_IDS = {
    "aws:cloudfront/distribution:Distribution": "E2EXAMPLE0DIST",
    "aws:apigateway/restApi:RestApi": "a1b2c3d4e5",
    "aws:kms/key:Key": KEY_ID,
}


def _certificate(domain: str, where: str) -> dict[str, Any]:
    return {
        "arn": f"arn:aws:acm:{where}:{ACCOUNT}:certificate/{CERTIFICATE_ID}",
        "domainValidationOptions": [
            {
                "domainName": domain,
                "resourceRecordName": f"_0123abcd.{domain}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": "_4567efgh.acm-validations.aws.",
            }
        ],
    }


def _outputs(typ: str, physical: str, inputs: dict[str, Any], where: str) -> dict[str, Any]:
    """What AWS reports back for one resource type (only the fields the program reads)."""
    lambda_arn = f"arn:aws:lambda:{where}:{ACCOUNT}:function:{physical}"
    by_type: dict[str, Any] = {
        "aws:s3/bucket:Bucket": lambda: {
            "bucket": physical,
            "arn": f"arn:aws:s3:::{physical}",
            "bucketRegionalDomainName": f"{physical}.s3.{where}.amazonaws.com",
        },
        "aws:cloudfront/distribution:Distribution": lambda: {
            "arn": f"arn:aws:cloudfront::{ACCOUNT}:distribution/{physical}",
            "domainName": "d111111abcdef8.cloudfront.net",
            "hostedZoneId": "Z2FDTNDATAQYW2",
        },
        "aws:apigateway/restApi:RestApi": lambda: {
            "name": physical,  # Pulumi's auto-name; CloudWatch's ApiName dimension
            "rootResourceId": "r00tr3s0ur",
            "executionArn": f"arn:aws:execute-api:{where}:{ACCOUNT}:{physical}",
        },
        "aws:apigateway/stage:Stage": lambda: {
            "invokeUrl": f"https://a1b2c3d4e5.execute-api.{where}.amazonaws.com/{inputs.get('stageName')}"
        },
        "aws:lambda/function:Function": lambda: {
            "arn": lambda_arn,
            "name": physical,
            "invokeArn": f"arn:aws:apigateway:{where}:lambda:path/2015-03-31/functions/{lambda_arn}/invocations",
            # With publish, Lambda numbers the version it made; without, the qualifier is $LATEST.
            "version": "1" if inputs.get("publish") else "$LATEST",
            "qualifiedArn": f"{lambda_arn}:{'1' if inputs.get('publish') else '$LATEST'}",
        },
        "aws:cloudwatch/logGroup:LogGroup": lambda: {  # a name given is the name AWS keeps
            "name": inputs.get("name") or physical,
            "arn": f"arn:aws:logs:{where}:{ACCOUNT}:log-group:{inputs.get('name') or physical}",
        },
        "aws:wafv2/webAcl:WebAcl": lambda: {
            "arn": f"arn:aws:wafv2:{where}:{ACCOUNT}:global/webacl/{physical}/{WEB_ACL_ID}"
        },
        "aws:kms/key:Key": lambda: {"arn": f"arn:aws:kms:{where}:{ACCOUNT}:key/{physical}", "keyId": physical},
        "aws:sns/topic:Topic": lambda: {"arn": f"arn:aws:sns:{where}:{ACCOUNT}:{physical}", "name": physical},
        "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": lambda: {
            "arn": f"arn:aws:logs:{where}:{ACCOUNT}:delivery-destination:{inputs.get('name')}"
        },
        "aws:cloudwatch/logDeliverySource:LogDeliverySource": lambda: {
            "arn": f"arn:aws:logs:{where}:{ACCOUNT}:delivery-source:{inputs.get('name')}"
        },
        "aws:iam/role:Role": lambda: {"arn": f"arn:aws:iam::{ACCOUNT}:role/{physical}", "name": physical},
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider": lambda: {
            "arn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{str(inputs.get('url', '')).removeprefix('https://')}"
        },
        "aws:apigateway/apiKey:ApiKey": lambda: {"value": MOCK_API_KEY},
        "aws:acm/certificate:Certificate": lambda: _certificate(inputs.get("domainName", ""), where),
        "aws:route53/record:Record": lambda: {"fqdn": inputs.get("name")},
        "aws:dynamodb/table:Table": lambda: {
            "name": physical,
            "arn": f"arn:aws:dynamodb:{where}:{ACCOUNT}:table/{physical}",
        },
        "aws:cloudfront/function:Function": lambda: {
            "arn": f"arn:aws:cloudfront::{ACCOUNT}:function/{physical}",
            "name": physical,
        },
    }
    make = by_type.get(typ)
    return dict(make()) if make is not None else {}


def mock_outputs(typ: str, name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    """Plausible provider outputs, so the program's applies see realistic values."""
    physical = FIXED_IDS.get(typ, f"{name}-0a1b2c3")
    where = inputs.get("region") or region  # pulumi-aws 7: a resource may name its own region
    return physical, {**inputs, **_outputs(typ, physical, inputs, where)}


def _plain(value: Any, redact: frozenset[str] = frozenset()) -> Any:
    """JSON-ready inputs: a secret property as {'secret': value}, assets as paths, and each
    string in `redact` (the secret values themselves) replaced by a marker."""
    import pulumi
    from pulumi.runtime import rpc

    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return {"secret": _plain(value.get("value"), redact)}
        return {k: _plain(v, redact) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_plain(v, redact) for v in value]
    if isinstance(value, str) and value in redact:
        return SECRET
    if isinstance(value, pulumi.FileArchive | pulumi.FileAsset):
        kind = "fileArchive" if isinstance(value, pulumi.FileArchive) else "fileAsset"
        return {kind: str(Path(value.path).resolve().relative_to(ROOT))}
    if value is rpc.UNKNOWN:
        return "[unknown]"
    return value


def _run_program(program: Path) -> None:
    runpy.run_path(str(program / "__main__.py"), run_name="__main__")


def synth(
    stack: str,
    overrides: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
    *,
    zones: Mapping[str, tuple[str, bool]] = ZONES,
    account: str = ACCOUNT,
    program: Path = ROOT,
) -> dict[str, Any]:
    """Run __main__.py under mocks: {'resources', 'outputs', 'log', 'error', 'invokes', 'secret_values'}.

    `zones` and `account` are what the mocked account holds, for the program's lookups.
    """
    import pulumi
    from pulumi.runtime import mocks, settings
    from pulumi.runtime.config import set_all_config
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    values, secret_keys = stack_config(stack, overrides or {}, secrets or {}, program)
    region = values.get("aws:region", "us-east-1")
    registrations: list[dict[str, Any]] = []

    class Recorder(mocks.MockMonitor):
        def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC's name)
            if request.type != "pulumi:pulumi:Stack":
                from pulumi.runtime import rpc

                registrations.append(
                    {
                        "type": request.type,
                        "name": request.name,
                        "custom": request.custom,
                        "parentUrn": request.parent,
                        "dependencyUrns": list(request.dependencies),
                        "additionalSecretOutputs": sorted(request.additionalSecretOutputs),
                        "retainOnDelete": bool(request.retainOnDelete),
                        "protect": bool(request.protect),
                        "createTimeout": request.customTimeouts.create if request.HasField("customTimeouts") else "",
                        "inputs": rpc.deserialize_properties(request.object, keep_unknowns=True),
                        "urn": self.make_urn(request.parent, request.type, request.name),
                    }
                )
            return super().RegisterResource(request)  # type: ignore[no-untyped-call]

    class Mocks(mocks.Mocks):
        def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
            physical, state = mock_outputs(args.typ, args.name, args.inputs, region)
            provider_outputs[args.name] = {"id": physical, **{k: v for k, v in state.items() if k not in args.inputs}}
            return physical, state

        def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
            invokes.append(args.token)
            try:
                outputs, failures = invoke_outputs(args.token, dict(args.args), zones, account)
            except UnexpectedInvoke as exc:
                unexpected.append(str(exc))
                raise
            return outputs, failures

    provider_outputs: dict[str, dict[str, Any]] = {}
    invokes: list[str] = []
    unexpected: list[str] = []
    log_lines: list[dict[str, str]] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            log_lines.append({"level": record.levelname.lower(), "message": record.getMessage()})

    logger = logging.getLogger("tools.synth.engine")
    logger.addHandler(Collect())
    logger.setLevel(logging.DEBUG)
    logger.propagate = False

    set_all_config(values, secret_keys)
    project = project_name(program)
    mocks.set_mocks(Mocks(), project=project, stack=stack, preview=False, logger=logger, monitor=Recorder(Mocks()))
    error = None
    sys.path.insert(0, str(ROOT))
    try:
        _sync_await(run_pulumi_func(lambda: _run_program(program)))
    except pulumi.RunError as exc:
        error = str(exc)
    except Exception:
        if not unexpected:
            raise
    if unexpected:
        error = unexpected[0]

    outputs: dict[str, Any] = {}
    root = settings.get_root_resource()
    for name, value in sorted(getattr(root, "outputs", {}).items()):
        output = pulumi.Output.from_input(value)
        resolved = _sync_await(output.future())
        outputs[name] = {"secret": bool(_sync_await(output.is_secret())), "value": resolved}

    by_urn = {r["urn"]: r["name"] for r in registrations}
    resources = [
        {
            "type": r["type"],
            "name": r["name"],
            "parent": by_urn.get(r["parentUrn"]),
            "dependsOn": sorted({by_urn[u] for u in r["dependencyUrns"] if u in by_urn}),
            "additionalSecretOutputs": r["additionalSecretOutputs"],
            **({"retainOnDelete": True} if r["retainOnDelete"] else {}),
            **({"protect": True} if r["protect"] else {}),
            **({"createTimeout": r["createTimeout"]} if r["createTimeout"] else {}),
            "inputs": {k: v for k, v in r["inputs"].items() if k != "__defaults"},
        }
        for r in registrations
    ]
    secret_values = sorted({*(secrets or {}).values(), MOCK_API_KEY})
    return {
        "resources": resources,
        "outputs": outputs,
        "providerOutputs": provider_outputs,
        "log": log_lines,
        "error": error,
        "invokes": invokes,
        "secret_values": secret_values,
    }


def public_view(recording: dict[str, Any]) -> dict[str, Any]:
    """The recording with every secret value replaced by a marker: what a snapshot may show."""
    redact = frozenset(recording["secret_values"])
    return {
        "resources": sorted(
            ({**r, "inputs": _plain(r["inputs"], redact)} for r in recording["resources"]),
            key=lambda r: (r["type"], r["name"]),
        ),
        "outputs": {k: (SECRET if v["secret"] else v["value"]) for k, v in recording["outputs"].items()},
        "error": recording["error"],
    }


def raw_view(recording: dict[str, Any]) -> dict[str, Any]:
    """The recording with secrets as {'secret': value}, for tests that follow a secret."""
    return {**recording, "resources": [{**r, "inputs": _plain(r["inputs"])} for r in recording["resources"]]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    parser.add_argument("--secret", action="append", default=[], metavar="KEY=VALUE", help="secret config value")
    parser.add_argument("--raw", action="store_true", help="also print secret values (marked); for tests only")
    parser.add_argument(
        "--zone",
        action="append",
        default=[],
        metavar="ID=NAME[:private]",
        help="a hosted zone the mocked account holds",
    )
    parser.add_argument("--account", default=ACCOUNT, help="the mocked account's id")
    parser.add_argument("--program", type=Path, default=ROOT, help="another Pulumi program (e.g. bootstrap/)")
    args = parser.parse_args(argv)
    overrides = dict(item.split("=", 1) for item in args.set)
    secrets = dict(item.split("=", 1) for item in args.secret)
    zones = dict(ZONES)
    for item in args.zone:
        zone_id, name = item.split("=", 1)
        zones[zone_id] = (name.removesuffix(":private"), name.endswith(":private"))
    recording = synth(args.stack, overrides, secrets, zones=zones, account=args.account, program=args.program.resolve())
    view = {"raw": raw_view(recording), "public": public_view(recording)} if args.raw else public_view(recording)
    json.dump(view, sys.stdout, indent=2, sort_keys=True, default=str)
    print()
    return 1 if recording["error"] else 0


if __name__ == "__main__":
    sys.exit(main())
