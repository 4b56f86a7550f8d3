"""Parse and normalise the query string of `GET /api/search` (pure functions)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from urllib.parse import quote

from search.syntax import code_mistake, issue_mistake, repository_mistake

SORTS = ("stars", "forks", "updated", "help-wanted-issues")
ISSUE_SORTS = ("comments", "reactions", "created", "updated")  # absent: GitHub's best match
KINDS = {"issue": "is:issue", "pr": "is:pr"}
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
    q = _q(params, "the GitHub repository search query, e.g. q=pulumi language:python")
    _check(repository_mistake(q))
    sort = _choice(params, "sort", SORTS, DEFAULT_SORT)
    order = _choice(params, "order", ORDERS, DEFAULT_ORDER)
    return SearchQuery(q=q, sort=sort, order=order, limit=_limit(params))


def _q(params: Mapping[str, object], what: str) -> str:
    q = _text(params, "q")
    if not q:
        raise BadRequest(f"'q' is required: {what}")
    if len(q) > MAX_Q_LENGTH:
        raise BadRequest(f"'q' must be at most {MAX_Q_LENGTH} characters (got {len(q)})")
    return q


def _check(mistake: str | None) -> None:
    if mistake is not None:
        raise BadRequest(mistake)


def _limit(params: Mapping[str, object]) -> int:
    raw_limit = _text(params, "limit")
    if not raw_limit:
        return DEFAULT_LIMIT
    low, high = LIMIT_RANGE
    # Length first: int() refuses more than 4300 digits with a ValueError of its own.
    digits = len(raw_limit) <= 2 and raw_limit.isascii() and raw_limit.isdigit()
    if not digits or not low <= int(raw_limit) <= high:
        raise BadRequest(f"'limit' must be an integer from {low} to {high} (got '{raw_limit[:40]}')")
    return int(raw_limit)


def _mapping(params: object) -> Mapping[str, object]:
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise BadRequest("malformed query string")
    return params


class CodeQuery:
    """`GET /api/search/code`: GitHub's code search syntax, and how many hits."""

    __slots__ = ("limit", "q")

    def __init__(self, q: str, limit: int = DEFAULT_LIMIT) -> None:
        self.q, self.limit = q, limit

    @property
    def upstream_key(self) -> tuple[str]:
        return (self.q,)

    def github_params(self) -> list[tuple[str, str]]:
        return [("q", self.q), ("per_page", str(LIMIT_RANGE[1]))]


def parse_code_query(params: object) -> CodeQuery:
    params = _mapping(params)
    q = _q(params, "GitHub code search syntax, e.g. q=WebAcl language:python repo:pulumi/examples")
    _check(code_mistake(q))
    return CodeQuery(q, _limit(params))


class IssueQuery:
    """`GET /api/search/issues`: issues and pull requests, `kind` added to the query as GitHub's qualifier."""

    __slots__ = ("limit", "order", "q", "sort")

    def __init__(self, q: str, sort: str = "", order: str = DEFAULT_ORDER, limit: int = DEFAULT_LIMIT) -> None:
        self.q, self.sort, self.order, self.limit = q, sort, order, limit

    @property
    def upstream_key(self) -> tuple[str, str, str]:
        return (self.q, self.sort, self.order)

    def github_params(self) -> list[tuple[str, str]]:
        sort = [("sort", self.sort), ("order", self.order)] if self.sort else []
        return [("q", self.q), *sort, ("per_page", str(LIMIT_RANGE[1]))]


def parse_issue_query(params: object) -> IssueQuery:
    params = _mapping(params)
    q = _q(params, "GitHub issue search syntax, e.g. q=repo:pulumi/pulumi-aws is:open label:bug")
    kind = _choice(params, "kind", tuple(KINDS), "")
    _check(issue_mistake(q, kind))
    if kind and KINDS[kind] not in q.split():
        q = f"{q} {KINDS[kind]}"
    sort = _choice(params, "sort", ISSUE_SORTS, "")
    order = _choice(params, "order", ORDERS, DEFAULT_ORDER)
    return IssueQuery(q, sort, order, _limit(params))


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
    except (TypeError, ValueError, RecursionError):
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


MAX_PATH_CHARS = 1024
# A git ref as GitHub takes it in ?ref=: a branch, a tag or a commit; none of git's forbidden forms.
_REF = re.compile(r"(?!/|.*(?:\.\.|//|@\{|\.lock$|/$|\.$))[A-Za-z0-9._/@+-]{1,255}", re.ASCII)


# Control characters and backslashes: no file name needs them, and proxies read some as separators.
_UNSAFE_IN_PATH = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")  # a lone surrogate (JSON can carry one) cannot be percent-encoded
    except UnicodeEncodeError:
        return False
    return True


class FilePath:
    """A path in a repository, at a ref: each segment checked, then percent-encoded, so that GitHub
    is asked for exactly the path it spells and no proxy can read `..` or `%2e` as another."""

    __slots__ = ("name", "ref", "segments")

    def __init__(self, name: RepositoryName, segments: tuple[str, ...], ref: str | None = None) -> None:
        self.name, self.segments, self.ref = name, segments, ref

    @property
    def path(self) -> str:
        return "/".join(self.segments)

    @property
    def key(self) -> tuple[str, ...]:
        return (*self.name.key, self.path, self.ref or "")

    @property
    def github_path(self) -> str:
        return f"{self.name.path}/contents/" + "/".join(quote(s, safe="") for s in self.segments)

    def github_params(self) -> list[tuple[str, str]]:
        return [("ref", self.ref)] if self.ref else []


def parse_file(owner: object, repo: object, path: object, ref: object = None) -> FilePath:
    name = parse_repository(owner, repo)
    if path is None:
        path = ""
    if not isinstance(path, str) or len(path) > MAX_PATH_CHARS:
        raise BadRequest(f"'path' must be a path in the repository, at most {MAX_PATH_CHARS} characters")
    segments = tuple(path.strip("/").split("/")) if path.strip("/") else ()
    for segment in segments:
        if segment in ("", ".", "..") or _UNSAFE_IN_PATH.search(segment) or not _encodable(segment):
            raise BadRequest(
                f"'path' must name a file or directory without '.', '..', '//', backslashes or control "
                f"characters (got {shown(path)}), e.g. src/main.py"
            )
    if ref is not None and ref != "" and (not isinstance(ref, str) or not _REF.fullmatch(ref)):
        raise BadRequest(f"'ref' must be a branch, tag or commit SHA (got {shown(ref)}), e.g. main")
    return FilePath(name, segments, ref or None)


class IssueRef:
    """One issue or pull request: `owner/repo#number`."""

    __slots__ = ("name", "number")

    def __init__(self, name: RepositoryName, number: int) -> None:
        self.name, self.number = name, number

    @property
    def key(self) -> tuple[str, ...]:
        return (*self.name.key, str(self.number))

    @property
    def github_path(self) -> str:
        return f"{self.name.path}/issues/{self.number}"


def parse_full_name(value: object) -> RepositoryName:
    """'owner/repo', as search results name repositories."""
    if not isinstance(value, str) or value.count("/") != 1:
        raise BadRequest(f"a repository id is 'owner/repo' (got {shown(value)})")
    owner, repo = value.strip().split("/")
    return parse_repository(owner, repo)
