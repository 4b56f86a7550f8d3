"""Parse and normalise the query string of `GET /api/search` (pure functions)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

SORTS = ("stars", "forks", "updated", "help-wanted-issues")
ORDERS = ("desc", "asc")
MAX_Q_LENGTH = 256
LIMIT_RANGE = (1, 20)
DEFAULT_SORT, DEFAULT_ORDER, DEFAULT_LIMIT = "stars", "desc", 5


class BadRequest(ValueError):
    """The request cannot be answered as sent; the message tells the caller what to change."""


class SearchQuery:
    # A plain class, not a dataclass: importing dataclasses costs a cold start ~5 ms.
    __slots__ = ("limit", "order", "q", "sort")

    def __init__(
        self, q: str, sort: str = DEFAULT_SORT, order: str = DEFAULT_ORDER, limit: int = DEFAULT_LIMIT
    ) -> None:
        self.q, self.sort, self.order, self.limit = q, sort, order, limit

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchQuery) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"SearchQuery(q={self.q!r}, sort={self.sort!r}, order={self.order!r}, limit={self.limit})"

    @property
    def key(self) -> tuple[str, str, str, int]:
        """Identity of the request (limit included)."""
        return (self.q, self.sort, self.order, self.limit)

    @property
    def upstream_key(self) -> tuple[str, str, str]:
        """Cache key: one GitHub answer (the largest page) serves every `limit`."""
        return (self.q, self.sort, self.order)

    def github_params(self) -> list[tuple[str, str]]:
        # Always the largest page we may answer: the rate limit counts calls, not results.
        return [("q", self.q), ("sort", self.sort), ("order", self.order), ("per_page", str(LIMIT_RANGE[1]))]


def _text(params: Mapping[str, object], name: str) -> str:
    """The parameter trimmed, with inner whitespace collapsed; '' when absent or blank."""
    value = params.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"parameter '{name}' must be a string")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate, which API Gateway's event can carry
            raise BadRequest(f"parameter '{name}' is not valid Unicode text") from None
    return " ".join(value.split())


def _choice(params: Mapping[str, object], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = _text(params, name)
    if not value:
        return default
    if value not in allowed:
        raise BadRequest(f"'{name}' must be one of {', '.join(allowed)} (got '{value[:40]}')")
    return value


def parse_query(params: object) -> SearchQuery:
    """Validate API Gateway's `queryStringParameters` (a dict, or None when there are none).

    Blank optional parameters mean "use the default"; unknown parameters are ignored.
    """
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise BadRequest("malformed query string")
    q = _text(params, "q")
    if not q:
        raise BadRequest("'q' is required: the GitHub repository search query, e.g. q=pulumi language:python")
    if len(q) > MAX_Q_LENGTH:
        raise BadRequest(f"'q' must be at most {MAX_Q_LENGTH} characters (got {len(q)})")
    sort = _choice(params, "sort", SORTS, DEFAULT_SORT)
    order = _choice(params, "order", ORDERS, DEFAULT_ORDER)
    raw_limit = _text(params, "limit")
    limit = DEFAULT_LIMIT
    if raw_limit:
        low, high = LIMIT_RANGE
        # Length first: int() refuses more than 4300 digits with a ValueError of its own.
        digits = len(raw_limit) <= 2 and raw_limit.isascii() and raw_limit.isdigit()
        if not digits or not low <= int(raw_limit) <= high:
            raise BadRequest(f"'limit' must be an integer from {low} to {high} (got '{raw_limit[:40]}')")
        limit = int(raw_limit)
    return SearchQuery(q=q, sort=sort, order=order, limit=limit)


# GitHub's rules: an owner is 1-39 letters, digits or single hyphens, not at either end; a
# repository is 1-100 letters, digits, ".", "-" or "_", and not "." or "..".
_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?", re.ASCII)
_REPO = re.compile(r"[A-Za-z0-9._-]{1,100}", re.ASCII)


class RepositoryName:
    """A repository's owner and name, checked against GitHub's naming rules before any call."""

    __slots__ = ("owner", "repo")

    def __init__(self, owner: str, repo: str) -> None:
        self.owner, self.repo = owner, repo

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    @property
    def key(self) -> tuple[str, str]:
        return (self.owner.lower(), self.repo.lower())  # GitHub's names are case-insensitive

    @property
    def path(self) -> str:
        return f"/repos/{self.owner}/{self.repo}"


def shown(value: object, limit: int = 60) -> str:
    """A value as a model or client would write it back: JSON (null, 5, ["a"]), capped."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = type(value).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_repository(owner: object, repo: object) -> RepositoryName:
    """The name GitHub would see, after every normalisation (`.git` dropped), checked against
    GitHub's rules: no input can make a call to a path other than the one the name spells."""
    if not isinstance(owner, str) or not _OWNER.fullmatch(owner):
        raise BadRequest(f"'owner' must be a GitHub user or organization name (got {shown(owner)}), e.g. pulumi")
    name = repo.removesuffix(".git") if isinstance(repo, str) else repo
    if not isinstance(name, str) or not _REPO.fullmatch(name) or name in (".", ".."):
        raise BadRequest(f"'repo' must be a GitHub repository name (got {shown(repo)}), e.g. pulumi-aws")
    return RepositoryName(owner, name)


def parse_full_name(value: object) -> RepositoryName:
    """'owner/repo', as search results name repositories."""
    if not isinstance(value, str) or value.count("/") != 1:
        raise BadRequest(f"a repository id is 'owner/repo' (got {shown(value)})")
    owner, repo = value.strip().split("/")
    return parse_repository(owner, repo)
