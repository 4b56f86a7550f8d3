"""The pipeline's promises that jactionlint cannot know: which stacks are previewed and deployed,
what runs before and after `pulumi up`, and which settings the README tells users to create."""

from __future__ import annotations

import re
from typing import Any

import yaml

from tests.conftest import readme_section
from tools.synth import ROOT

GITHUB = ROOT / ".github"


def load(name: str) -> dict[Any, Any]:
    # PyYAML reads the bare key `on` as True (YAML 1.1); GitHub reads it as "on".
    document: dict[Any, Any] = yaml.safe_load((GITHUB / "workflows" / name).read_text())
    document["on"] = document.pop(True)
    return document


def every_yml() -> str:
    return "\n".join(path.read_text() for path in sorted(GITHUB.rglob("*.yml")))


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job["steps"])


def uses(job: dict[str, Any], action: str) -> dict[str, Any]:
    [step] = [step for step in steps(job) if step.get("uses", "").split("@")[0] == action]
    return step


def test_pull_requests_run_make_test_then_preview_every_stack_on_the_pull_request() -> None:
    workflow = load("pull-request.yml")
    assert list(workflow["on"]) == ["pull_request"]
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["jobs"]["test"]["uses"] == "./.github/workflows/test.yml"

    preview = workflow["jobs"]["preview"]
    assert preview["needs"] == "test"
    stacks = sorted(path.name.split(".")[1] for path in ROOT.glob("Pulumi.*.yaml"))
    assert sorted(preview["strategy"]["matrix"]["stack"]) == stacks
    assert preview["permissions"] == {"contents": "read", "pull-requests": "write", "id-token": "write"}
    assert "${{ matrix.stack }}" in preview["concurrency"]["group"]

    pulumi = uses(preview, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"


def test_test_workflow_runs_the_readme_test_command() -> None:
    job = load("test.yml")["jobs"]["make-test"]
    assert [step["run"] for step in steps(job) if "run" in step] == ["make test"]
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("make test")


def test_main_deploys_dev_and_tags_or_a_manual_run_deploy_prod_after_make_test() -> None:
    dev, prod = load("deploy-dev.yml"), load("deploy-prod.yml")
    assert dev["on"] == {"push": {"branches": ["main"]}}
    assert set(prod["on"]) == {"push", "workflow_dispatch"}
    assert prod["on"]["push"] == {"tags": ["v*.*.*"]}
    for workflow, stack in ((dev, "dev"), (prod, "prod")):
        deploy = workflow["jobs"]["deploy"]
        assert deploy["needs"] == "test"
        assert deploy["uses"] == "./.github/workflows/deploy.yml"
        assert deploy["with"] == {"stack": stack}


def test_deploy_updates_in_the_stacks_environment_then_smoke_tests_its_url() -> None:
    job = load("deploy.yml")["jobs"]["up"]
    assert job["environment"]["name"] == "${{ inputs.stack }}"  # prod's reviewers gate the update
    assert job["concurrency"] == {"group": "pulumi-up-${{ inputs.stack }}", "cancel-in-progress": False}
    names = [step.get("uses", step.get("run", "")).split("@")[0] for step in steps(job)]
    up = names.index("pulumi/actions")
    assert uses(job, "pulumi/actions")["with"]["command"] == "up"
    [read_url] = [step for step in steps(job) if "pulumi stack output url" in step.get("run", "")]
    assert names.index(read_url["run"]) > up
    assert names[-1] == 'make smoke URL="$URL"'
    assert steps(job)[-1]["env"] == {"URL": "${{ steps." + read_url["id"] + ".outputs.url }}"}


def test_aws_credentials_come_only_from_oidc() -> None:
    text = every_yml()
    assert not re.search(r"aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY", text, re.I)
    action = yaml.safe_load((GITHUB / "actions" / "pulumi-env" / "action.yml").read_text())
    credentials = [step for step in action["runs"]["steps"] if "configure-aws-credentials" in step.get("uses", "")]
    assert [set(step["with"]) for step in credentials] == [{"role-to-assume", "aws-region", "role-session-name"}]


def readme_names(lead: str) -> list[str]:
    """First column of the first table after the paragraph that starts with `lead`."""
    section = readme_section("CI/CD", "docs/deploying.md")
    after = section.split("\n" + lead, 1)[1]
    [table] = re.findall(r"^((?:\|.*\n)+)", after, re.M)[:1]
    return sorted(re.findall(r"^\| `([A-Z_]+)`", table, re.M))


def test_readme_lists_exactly_the_variables_and_secrets_the_workflows_may_read() -> None:
    config = yaml.safe_load((GITHUB / "jactionlint.yaml").read_text())
    assert readme_names("Variables (") == sorted(config["config-variables"])
    assert readme_names("Secrets:") == sorted(config["config-secrets"])


def test_every_action_is_pinned_to_a_version_tag_or_a_commit() -> None:
    """A branch such as @main would run whatever lands there next; jactionlint's ref-pin allows it."""
    text = every_yml()
    external = re.findall(r"uses:\s*([\w.-]+/[\w./-]+@\S+)", text)
    assert external, "no actions found: has the layout changed?"
    unpinned = [ref for ref in external if not re.search(r"@(v\d+(\.\d+)*|[0-9a-f]{40})$", ref)]
    assert unpinned == []


def test_a_release_tag_lists_the_server_in_the_mcp_registry_only_where_the_repository_opts_in():
    workflow = load("deploy-prod.yml")
    assert workflow["permissions"] == {"contents": "read"}
    job = workflow["jobs"]["publish-listing"]
    assert job["needs"] == "test"
    assert job["if"] == "github.ref_type == 'tag' && vars.MCP_REGISTRY == 'publish'"
    # The OIDC token is this job's alone: no other job of the release may sign in to the registry.
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    assert "id-token" not in workflow["jobs"]["test"].get("permissions", {})

    # The publisher: an exact release, installed by `go install` (checked against Go's checksum database).
    assert re.fullmatch(
        r"github\.com/modelcontextprotocol/registry/cmd/publisher@v\d+\.\d+\.\d+", job["env"]["MCP_PUBLISHER"]
    )
    runs = [step["run"] for step in steps(job) if "run" in step]
    assert runs[0] == 'go install "$MCP_PUBLISHER"'
    assert not re.search(r"curl|wget|@latest", "\n".join(runs))
    # Named for this repository and checked against the tag, validated, then signed in and published.
    stamp, check = runs[1].strip().splitlines()
    assert stamp == 'python3 -m tools.registry stamp --repository "$GITHUB_REPOSITORY"'
    assert check == 'python3 -m tools.registry check --repository "$GITHUB_REPOSITORY" --tag "$GITHUB_REF_NAME"'
    assert runs[2:] == [
        '"$GOBIN/publisher" validate server.json',
        '"$GOBIN/publisher" login github-oidc',
        '"$GOBIN/publisher" publish server.json',
    ]
