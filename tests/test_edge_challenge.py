"""With sign-in, a deployed 401 carries a real WWW-Authenticate although API Gateway renames it:
the Lambda@Edge origin-response function's code (edge/challenge.py) against the renamed header,
run as Lambda runs it from its own archive; the graph that puts it on the right behaviors; and
the local server imitating a deployed stack, so that the smoke test proves the repair."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge import challenge
from infra.edge_definition import CHALLENGING
from infra.function_code import EDGE_DIR, EDGE_FILES, EDGE_HANDLER, build_archive
from tests.program import Graph, recording
from tests.signin_helpers import signin_server
from tools.background import LocalServer
from tools.fake_github import FakeGitHub
from tools.synth import ROOT

CHALLENGE = 'Bearer resource_metadata="https://s.example/.well-known/oauth-protected-resource/mcp", scope="search"'


def origin_response(headers: dict[str, str], status: str = "401") -> dict[str, Any]:
    """CloudFront's origin-response event for Lambda@Edge (the documented shape: lower-case names,
    each with its original spelling and value)."""
    return {
        "Records": [
            {
                "cf": {
                    "config": {"distributionId": "EDFDVBD6EXAMPLE", "eventType": "origin-response"},
                    "request": {"method": "POST", "uri": "/mcp", "headers": {}},
                    "response": {
                        "status": status,
                        "statusDescription": "Unauthorized",
                        "headers": {k.lower(): [{"key": k, "value": v}] for k, v in headers.items()},
                    },
                }
            }
        ]
    }


# What API Gateway hands CloudFront for the function's 401: the challenge renamed, and under the
# function's own carrier, which API Gateway passes unchanged.
RENAMED = {
    "Content-Type": "application/json; charset=utf-8",
    "Cache-Control": "no-store",
    "x-amzn-Remapped-WWW-Authenticate": CHALLENGE,
    "X-Search-Challenge": CHALLENGE,
    "x-amzn-RequestId": "5b0e4a1c",
}


def test_the_function_sends_its_challenge_under_the_carrier_the_edge_function_reads(signed_in_env: str):
    import app
    from proxy import CHALLENGE_CARRIER

    assert CHALLENGE_CARRIER == challenge.CARRIER and not CHALLENGE_CARRIER.lower().startswith("x-amzn-")
    refused = app.handler({"resource": "/mcp", "httpMethod": "POST", "headers": {"Authorization": "Bearer gsa_x"}})
    assert refused["statusCode"] == 401
    assert refused["headers"][CHALLENGE_CARRIER] == refused["headers"]["WWW-Authenticate"]
    answered = app.handler({"resource": "/.well-known/oauth-protected-resource", "httpMethod": "GET"})
    assert answered["statusCode"] == 200 and CHALLENGE_CARRIER not in answered["headers"]


def test_with_every_x_amzn_header_hidden_the_challenge_is_put_back_and_the_carrier_removed():
    """CloudFront's archived guide lists X-Amzn-* as headers edge functions do not see: the repair
    must not depend on the renamed one."""
    hidden = {k: v for k, v in RENAMED.items() if not k.lower().startswith("x-amzn-")}
    answer = challenge.handler(origin_response(hidden))
    assert answer["headers"]["www-authenticate"] == [{"key": "WWW-Authenticate", "value": CHALLENGE}]
    assert challenge.CARRIER.lower() not in answer["headers"]
    assert set(answer["headers"]) == {"content-type", "cache-control", "www-authenticate"}


def test_the_renamed_challenge_is_put_back_and_nothing_else_changes():
    answer = challenge.handler(origin_response(RENAMED))
    assert answer["headers"]["www-authenticate"] == [{"key": "WWW-Authenticate", "value": CHALLENGE}]
    assert "x-amzn-remapped-www-authenticate" not in answer["headers"]
    others = {k: v for k, v in answer["headers"].items() if k != "www-authenticate"}
    expected = origin_response({k: v for k, v in RENAMED.items() if "Authenticate" not in k and "Challenge" not in k})
    assert others == expected["Records"][0]["cf"]["response"]["headers"]
    assert answer["status"] == "401"
    # Without the carrier (a function older than it), the renamed header alone still serves.
    older = {k: v for k, v in RENAMED.items() if k != "X-Search-Challenge"}
    assert challenge.handler(origin_response(older))["headers"]["www-authenticate"][0]["value"] == CHALLENGE


def test_an_answer_without_a_challenge_passes_unchanged():
    plain = origin_response({"Content-Type": "application/json", "Cache-Control": "private, max-age=300"}, "200")
    assert challenge.handler(copy.deepcopy(plain)) == plain["Records"][0]["cf"]["response"]


def test_a_challenge_the_origin_sent_under_its_own_name_is_kept():
    both = origin_response({"WWW-Authenticate": 'Basic realm="token"', "x-amzn-Remapped-WWW-Authenticate": "x"})
    assert challenge.handler(both)["headers"]["www-authenticate"][0]["value"] == 'Basic realm="token"'


def test_the_archive_answers_as_lambda_runs_it(tmp_path: Path):
    """From the built archive, in a fresh interpreter with nothing but the standard library."""
    archive = build_archive(tmp_path / "edge.zip", EDGE_DIR, EDGE_FILES)
    with zipfile.ZipFile(archive.path) as zf:
        assert zf.namelist() == sorted(EDGE_FILES)
        zf.extractall(tmp_path / "task")
    module, function = EDGE_HANDLER.rsplit(".", 1)
    runner = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); "
        f"print(json.dumps(getattr(__import__({module!r}), {function!r})(json.loads(sys.argv[2]), None)))"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", runner, str(tmp_path / "task"), json.dumps(origin_response(RENAMED))],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
        env={"PATH": os.environ.get("PATH", "")},
    )
    assert json.loads(done.stdout)["headers"]["www-authenticate"][0]["value"] == CHALLENGE


# -- the graph ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signed_in() -> Graph:
    return Graph(recording("sign-in"))


def test_the_edge_function_is_what_lambda_at_edge_takes(signed_in: Graph):
    [function] = [r for r in signed_in.all("aws:lambda/function:Function") if r["name"] == "edge-challenge-function"]
    inputs = function["inputs"]
    assert inputs["region"] == "us-east-1" and inputs["publish"] is True
    assert inputs["runtime"] == "python3.13" and inputs["architectures"] == ["x86_64"]
    assert "environment" not in inputs  # Lambda@Edge takes no environment variables
    assert inputs["code"] == {"fileArchive": "build/edge-challenge.zip"}
    data = (ROOT / "build" / "edge-challenge.zip").read_bytes()  # reproducible: an unchanged one shows no diff
    assert inputs["sourceCodeHash"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert function["retainOnDelete"] is True  # replicas outlive the distribution by hours
    [role] = [r for r in signed_in.all("aws:iam/role:Role") if r["name"] == "edge-challenge-role"]
    [statement] = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
    assert set(statement["Principal"]["Service"]) == {"lambda.amazonaws.com", "edgelambda.amazonaws.com"}


def test_the_behaviors_whose_answers_carry_a_challenge_run_it_on_origin_responses(signed_in: Graph):
    distribution = signed_in.inputs("aws:cloudfront/distribution:Distribution")
    version = signed_in.rec["providerOutputs"]["edge-challenge-function"]["qualifiedArn"]
    assert not version.endswith("$LATEST")  # CloudFront takes a numbered version only
    associated = {
        b["pathPattern"]: b.get("lambdaFunctionAssociations")
        for b in distribution["orderedCacheBehaviors"]
        if b.get("lambdaFunctionAssociations")
    }
    assert set(associated) == set(CHALLENGING) == {"api/*", "/mcp", "/token", "/revoke"}
    for associations in associated.values():
        assert associations == [{"eventType": "origin-response", "lambdaArn": version, "includeBody": False}]
    assert "lambdaFunctionAssociations" not in distribution["defaultCacheBehavior"]


def test_without_sign_in_there_is_no_edge_function():
    for config in ("dev", "hardened"):
        graph = Graph(recording(config))
        assert not [r for r in graph.all("aws:lambda/function:Function") if "edge" in r["name"]]
        distribution = graph.inputs("aws:cloudfront/distribution:Distribution")
        assert not any(b.get("lambdaFunctionAssociations") for b in distribution["orderedCacheBehaviors"])


# -- local mode imitates it, and the smoke test proves it -----------------------------------------


@pytest.fixture
def like_aws(request: pytest.FixtureRequest, fake: FakeGitHub) -> Iterator[LocalServer]:
    from tests.signin_helpers import MetadataHost

    host = MetadataHost()
    running = signin_server(fake, host.url, extra_flags=(f"--like-aws={request.param}",))
    yield running
    running.stop()
    host.stop()


def smoke(base: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.smoke", base],
        cwd=ROOT,
        env={**os.environ, "SMOKE_TOKEN": ""},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("like_aws", ["unrepaired"], indirect=True)
def test_the_smoke_test_catches_a_stack_whose_challenge_api_gateway_renamed(like_aws: LocalServer):
    import requests

    reply = requests.post(like_aws.base + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, timeout=10)
    assert reply.status_code == 401 and "WWW-Authenticate" not in reply.headers
    assert "resource_metadata=" in reply.headers["x-amzn-Remapped-WWW-Authenticate"]
    done = smoke(like_aws.base)
    assert done.returncode == 1, done.stdout
    assert "FAIL sign-in" in done.stdout and "x-amzn-Remapped-WWW-Authenticate" in done.stdout


@pytest.mark.parametrize("like_aws", ["repaired"], indirect=True)
def test_the_smoke_test_passes_once_the_edge_function_puts_it_back(like_aws: LocalServer):
    import requests

    reply = requests.get(
        like_aws.base + "/api/search", params={"q": "x"}, headers={"Authorization": "Bearer gsa_x"}, timeout=10
    )
    assert reply.status_code == 401 and 'error="invalid_token"' in reply.headers["WWW-Authenticate"]
    # Imitated with every X-Amzn-* header hidden from the edge function: those pass on untouched.
    assert reply.headers["x-amzn-Remapped-WWW-Authenticate"] == reply.headers["WWW-Authenticate"]
    assert "X-Search-Challenge" not in reply.headers  # the carrier never reaches a viewer
    done = smoke(like_aws.base)
    assert done.returncode == 0, done.stdout
    assert "PASS sign-in" in done.stdout


def test_the_plain_local_server_shows_no_carrier_either(signin: LocalServer):
    import requests

    reply = requests.post(signin.base + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, timeout=10)
    assert reply.status_code == 401 and "resource_metadata=" in reply.headers["WWW-Authenticate"]
    assert "X-Search-Challenge" not in reply.headers
