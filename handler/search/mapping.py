"""GitHub's answers mapped to ours (pure functions).

GitHub's JSON is checked field by field rather than trusted: an answer of an unexpected shape
(a null star count, topics that are not a list, a number too large to be a count) raises
`Unexpected`, which the service answers with 502, so no 200 ever breaks the published schema.
"""

from __future__ import annotations

import json
import re

MAX_RESULTS = 20
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", re.ASCII)
_WEB_URL = re.compile(r"https?://[^\s/]+/\S*", re.ASCII)


class Unexpected(ValueError):
    """GitHub answered 200 with something that is not the documented shape."""


def parse_json(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise Unexpected("GitHub answered with a body that is not JSON") from exc


def _count(value: object, name: str) -> int:
    # bool is an int to Python, not to JSON Schema; a float (1e400 parses to inf) is not a count.
    if type(value) is not int or value < 0:
        raise Unexpected(f"'{name}' is not a count")
    return value


def _text(value: object, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise Unexpected(f"'{name}' is not text")


def _required_text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise Unexpected(f"'{name}' is missing")
    return value


def _web_url(value: object, name: str) -> str:
    if not isinstance(value, str) or not _WEB_URL.fullmatch(value):
        raise Unexpected(f"'{name}' is not a web URL")
    return value


def _timestamp(value: object, name: str) -> str | None:
    if value is None or (isinstance(value, str) and _TIMESTAMP.fullmatch(value)):
        return value
    raise Unexpected(f"'{name}' is not a timestamp")


def _topics(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise Unexpected("'topics' is not a list of names")
    return value


def _object(value: object, name: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise Unexpected(f"'{name}' is not an object")
    return value


def repository_summary(item: object) -> dict[str, object]:
    """One search hit: the fields `GET /api/search` answers with."""
    repo = _object(item, "items[]")
    return {
        "full_name": _required_text(repo.get("full_name"), "full_name"),
        "private": _flag(repo.get("private", False), "private"),
        "url": _web_url(repo.get("html_url"), "html_url"),
        "star": _count(repo.get("stargazers_count"), "stargazers_count"),
        "description": _text(repo.get("description"), "description"),
        "language": _text(repo.get("language"), "language"),
        "topics": _topics(repo.get("topics")),
        "updated_at": _timestamp(repo.get("updated_at"), "updated_at"),
    }


def search_items(payload: object) -> tuple[dict[str, object], list[object]]:
    """Any GitHub search answer: its counts as ours, and its first MAX_RESULTS items to map."""
    answer = _object(payload, "answer")
    items = answer.get("items")
    if not isinstance(items, list):
        raise Unexpected("no 'items' in GitHub's answer")
    incomplete = answer.get("incomplete_results", False)
    if not isinstance(incomplete, bool):
        raise Unexpected("'incomplete_results' is not a boolean")
    total = _count(answer.get("total_count", len(items)), "total_count")
    return {"total_count": total, "incomplete_results": incomplete}, items[:MAX_RESULTS]


def search_answer(payload: object) -> dict[str, object]:
    """GitHub's `/search/repositories` answer as ours, with at most MAX_RESULTS repositories."""
    head, items = search_items(payload)
    return {**head, "repos": [repository_summary(item) for item in items]}


def first(answer: dict[str, object], limit: int, key: str = "repos") -> dict[str, object]:
    """The answer cut to `limit` results (repositories, hits, issues)."""
    results = answer[key]
    assert isinstance(results, list)
    return {**answer, key: results[:limit]}


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise Unexpected(f"'{name}' is not a boolean")
    return value


def _license(value: object) -> str | None:
    """The SPDX id, or None: no license, or one GitHub could not identify ("NOASSERTION")."""
    if value is None:
        return None
    spdx = _object(value, "license").get("spdx_id")
    if spdx is None or spdx == "NOASSERTION":
        return None
    return _required_text(spdx, "license.spdx_id")


def repository_page(payload: object) -> dict[str, object]:
    """GitHub's `/repos/{owner}/{repo}` answer as ours (without the README): a search hit's fields and more."""
    repo = _object(payload, "repository")
    return {
        **repository_summary(repo),
        "forks": _count(repo.get("forks_count"), "forks_count"),
        "open_issues": _count(repo.get("open_issues_count"), "open_issues_count"),
        "license": _license(repo.get("license")),
        "default_branch": _required_text(repo.get("default_branch"), "default_branch"),
        "archived": _flag(repo.get("archived", False), "archived"),
        "pushed_at": _timestamp(repo.get("pushed_at"), "pushed_at"),
    }


def readme_text(body: bytes) -> str:
    """A README as GitHub sends it raw: UTF-8 text (a stray bad byte becomes U+FFFD)."""
    return body.decode("utf-8", errors="replace")


def with_readme(page: dict[str, object], readme: str | None, cap: int) -> dict[str, object]:
    """The repository page plus its README, cut at `cap` characters."""
    text = readme[:cap] if readme is not None else None
    return {**page, "readme": text, "readme_truncated": readme is not None and len(readme) > cap}
