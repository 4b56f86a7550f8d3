"""The MCP Registry listing (`server.json` at the repository's root): its rules, and naming it for
the repository that publishes it.

    python -m tools.registry check [--repository OWNER/NAME] [--tag vX.Y.Z] [server.json]
    python -m tools.registry stamp --repository OWNER/NAME [server.json]

One listing stands for every self-hosted stack: its remote URL is `https://{host}/mcp`, and the
person fills in their stack's host. The committed file names `io.github.OWNER/…`; `stamp` writes the
publishing repository's owner and name there (GitHub's OIDC token proves `io.github.<owner>/*` and
nothing else), and `check --repository --tag` refuses a listing that is not named for it or whose
version is not the tag's. The publish workflow (.github/workflows/publish-registry.yml) runs both,
then the registry's own `mcp-publisher validate`.

`problems` writes down the rules the official registry applies to schema 2025-12-11 (its schema,
and its validators: internal/validators in modelcontextprotocol/registry), so that a listing the
registry would refuse fails `make test` instead of a release. Standard library only: the publish
job runs it before anything is installed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
SERVER_JSON = ROOT / "server.json"
SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"

# The registry's server name: a reverse-DNS namespace, one slash, a name; each part starts and ends
# with a letter or digit (stricter than the schema's own pattern, which the registry also applies).
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9.-]*[a-zA-Z0-9]/[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]$")
_GITHUB_REPOSITORY_URL = re.compile(r"^https?://(www\.)?github\.com/[\w.-]+/[\w.-]+/?$")
# Version ranges the registry refuses: ^1.2.3, ~1.2.3, >=1.0.0, "1.2.3 - 2.0.0", "1.2 || 1.3", 1.x, 1.2.*
_V = r"v?\d+(?:\.\d+){0,3}(?:-[0-9A-Za-z.-]+)?"
_RANGES = (
    re.compile(rf"^\s*(?:\^|~|>=|<=|>|<|=)\s*{_V}\s*$"),
    re.compile(rf"^\s*{_V}\s-\s*{_V}\s*$"),
    re.compile(rf"^\s*(?:{_V}\s*)(?:\|\|\s*{_V}\s*)+$"),
)
_WILDCARD = re.compile(r"^\s*(?:v?\d+|x|X|\*)(?:\.(?:\d+|x|X|\*)){1,2}(?:-[0-9A-Za-z.-]+)?\s*$")
# Ours, stricter than the registry's: a semantic version, as serverInfo.version is.
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
_TEMPLATE_VARIABLE = re.compile(r"\{([^}]+)\}")
_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
REMOTE_TYPES = ("streamable-http", "sse")
PUBLISHER_META = "io.modelcontextprotocol.registry/publisher-provided"
PUBLISHER_META_BYTES = 4096


class Unusable(ValueError):
    """An argument this tool cannot use; the message says what to write instead."""


def _length(problems: list[str], field: str, value: Any, low: int, high: int) -> None:
    if not isinstance(value, str) or not low <= len(value) <= high:
        size = len(value) if isinstance(value, str) else type(value).__name__
        problems.append(f"{field}: {low} to {high} characters, got {size}")


def _looks_like_range(version: str) -> bool:
    if any(pattern.match(version) for pattern in _RANGES):
        return True
    return bool(_WILDCARD.match(version)) and any(c in version for c in "xX*")


def _https(problems: list[str], field: str, value: Any) -> None:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme != "https" or not parts.hostname:
        problems.append(f"{field}: an absolute https:// URL, got {value!r}")


def _remote(problems: list[str], field: str, remote: Any) -> None:
    if not isinstance(remote, dict):
        problems.append(f"{field}: an object with type and url")
        return
    if remote.get("type") not in REMOTE_TYPES:
        problems.append(f"{field}.type: one of {', '.join(REMOTE_TYPES)}, got {remote.get('type')!r}")
    url = remote.get("url")
    if not isinstance(url, str) or not url:
        problems.append(f"{field}.url: required")
        return
    variables = remote.get("variables", {})
    if not isinstance(variables, dict):
        problems.append(f"{field}.variables: an object of name to input")
        variables = {}
    for name in _TEMPLATE_VARIABLE.findall(url):
        if name not in variables:
            problems.append(f"{field}.url: {{{name}}} is not declared in variables")
    for name, spec in variables.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("description", ""), str):
            problems.append(f"{field}.variables.{name}: an input object (description, isRequired…)")
        elif "{" + name + "}" not in url:
            problems.append(f"{field}.variables.{name}: declared but not used in the url")
    # As the registry checks it: template variables stand for an ordinary host, then https and not local.
    example = _TEMPLATE_VARIABLE.sub("placeholder", url.replace("{host}", "example.com"))
    parts = urlsplit(example)
    if parts.scheme != "https" or not parts.hostname:
        problems.append(f"{field}.url: an https:// URL (after its variables are filled in), got {url!r}")
    elif parts.hostname in {"localhost", "127.0.0.1"} or parts.hostname.endswith(".localhost"):
        problems.append(f"{field}.url: a remote the registry lists cannot be on this machine ({url!r})")


def _name(found: list[str], name: Any) -> None:
    _length(found, "name", name, 3, 200)
    if not isinstance(name, str) or not _NAME.match(name):
        found.append(f"name: namespace/name, each part starting and ending with a letter or digit, got {name!r}")


def _title(found: list[str], title: Any) -> None:
    _length(found, "title", title, 1, 100)
    if isinstance(title, str) and not title.strip():
        found.append("title: not only whitespace")


def _version(found: list[str], version: Any) -> None:
    _length(found, "version", version, 1, 255)
    if version == "latest" or (isinstance(version, str) and _looks_like_range(version)):
        found.append(f"version: one exact version, not {version!r}")
    elif not isinstance(version, str) or not _SEMVER.match(version):
        found.append(f"version: a semantic version (1.2.3), got {version!r}")


def _repository(found: list[str], repository: Any) -> None:
    if not isinstance(repository, dict) or not {"url", "source"} <= set(repository):
        found.append("repository: an object with url and source")
    elif repository["source"] != "github" or not _GITHUB_REPOSITORY_URL.match(str(repository["url"])):
        found.append(f"repository.url: https://github.com/<owner>/<repo> (source github), got {repository['url']!r}")


def _remotes(found: list[str], remotes: Any) -> None:
    if not isinstance(remotes, list) or not remotes:
        found.append("remotes: at least one remote (this server has no package to install)")
        return
    for index, remote in enumerate(remotes):
        _remote(found, f"remotes[{index}]", remote)


def _meta(found: list[str], meta: Any) -> None:
    dropped = sorted(set(meta) - {PUBLISHER_META}) if isinstance(meta, dict) else ["(not an object)"]
    if dropped:
        found.append(f"_meta: only {PUBLISHER_META} is kept; the registry would drop {', '.join(dropped)}")
    elif len(json.dumps(meta[PUBLISHER_META], separators=(",", ":"))) > PUBLISHER_META_BYTES:
        found.append(f"_meta.{PUBLISHER_META}: at most {PUBLISHER_META_BYTES} bytes of JSON")


# Each field's rules, for a field that is present; `remotes` is checked present or not.
_FIELDS = {
    "name": _name,
    "description": lambda found, value: _length(found, "description", value, 1, 100),
    "title": _title,
    "version": _version,
    "repository": _repository,
    "websiteUrl": lambda found, value: _https(found, "websiteUrl", value),
    "_meta": _meta,
}


def problems(document: Any) -> list[str]:
    """Every rule of the registry (schema 2025-12-11) the listing breaks, one line each."""
    if not isinstance(document, dict):
        return ["server.json: a JSON object"]
    found: list[str] = []
    if document.get("$schema") != SCHEMA:
        found.append(f"$schema: {SCHEMA}, got {document.get('$schema')!r}")
    found += [f"{required}: required" for required in ("name", "description", "version") if required not in document]
    for field, rules in _FIELDS.items():
        if field in document:
            rules(found, document[field])
    _remotes(found, document.get("remotes"))
    return found


def repository_name(repository: str) -> tuple[str, str]:
    """OWNER/NAME, as GitHub Actions' GITHUB_REPOSITORY gives it."""
    if not _REPOSITORY.match(repository):
        raise Unusable(f"--repository: OWNER/NAME, as in GITHUB_REPOSITORY, got {repository!r}")
    owner, name = repository.split("/")
    return owner, name


def listing_name(repository: str) -> str:
    owner, name = repository_name(repository)
    return f"io.github.{owner}/{name}"


def stamp(document: dict[str, Any], repository: str) -> dict[str, Any]:
    """The listing, named for `repository`: the namespace its OIDC token proves, its URLs."""
    url = f"https://github.com/{'/'.join(repository_name(repository))}"
    return {
        **document,
        "name": listing_name(repository),
        "repository": {**document.get("repository", {}), "url": url, "source": "github"},
        "websiteUrl": f"{url}#readme",
    }


def publishing_problems(document: dict[str, Any], repository: str | None, tag: str | None) -> list[str]:
    """What stops this listing being published from `repository` at `tag`, the registry's rules first."""
    found = problems(document)
    if repository is not None:
        wanted = stamp(document, repository)
        owner = repository_name(repository)[0]
        if others := [field for field in ("name", "repository", "websiteUrl") if document.get(field) != wanted[field]]:
            found.append(
                f"{', '.join(others)}: not {repository}'s, which publishes as {wanted['name']} (GitHub's OIDC "
                f"token proves io.github.{owner}/* only): run python -m tools.registry stamp --repository {repository}"
            )
    if tag is not None and tag != f"v{document.get('version')}":
        found.append(
            f"version: the tag is {tag} but server.json says {document.get('version')!r}; "
            "bump serverInfo.version (handler/mcp_front/protocol.py) and server.json together"
        )
    return found


def _load(path: Path) -> dict[str, Any]:
    try:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise Unusable(f"{path}: not a readable JSON file ({exc})") from None
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="print every rule the listing breaks; exit 1 if any")
    check.add_argument("--repository", help="OWNER/NAME that will publish it (GITHUB_REPOSITORY)")
    check.add_argument("--tag", help="the release tag it is published for (GITHUB_REF_NAME), vX.Y.Z")
    check.add_argument("file", nargs="?", type=Path, default=SERVER_JSON)
    name = commands.add_parser("stamp", help="name the listing for OWNER/NAME, in place")
    name.add_argument("--repository", required=True, help="OWNER/NAME (GITHUB_REPOSITORY)")
    name.add_argument("file", nargs="?", type=Path, default=SERVER_JSON)
    args = parser.parse_args(argv)
    shown = args.file.resolve().relative_to(Path.cwd()) if args.file.resolve().is_relative_to(Path.cwd()) else args.file
    try:
        document = _load(args.file)
        if args.command == "stamp":
            stamped = stamp(document, args.repository)
            args.file.write_text(json.dumps(stamped, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            print(f"{shown}: {stamped['name']}")
            return 0
        found = publishing_problems(document, args.repository, args.tag)
    except Unusable as exc:
        print(f"registry: {exc}", file=sys.stderr)
        return 2
    for problem in found:
        print(f"{shown}: {problem}", file=sys.stderr)
    if not found:
        print(f"{shown}: {document['name']} {document['version']} follows the registry's rules ({SCHEMA})")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
