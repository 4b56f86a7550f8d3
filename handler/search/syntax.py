"""GitHub's search syntax as the REST search endpoints read it, and the mistakes models make in it
(pure functions).

A query is words, "quoted phrases", `key:value` qualifiers (`-key:value` negated), the operators
AND, OR and NOT, and parentheses. The REST endpoints are not github.com's search box: code search
there is the legacy engine, with no `symbol:`, no `content:`, no /regular expressions/ and no
globs in `path:`, and every search takes at most five operators (GitHub's search documentation,
"Limitations on query length"). GitHub answers such a query with a 422 or, worse, with nothing;
`mistake()` names the supported equivalent before a call is spent, so a model's next query works.
"""

from __future__ import annotations

import re

MAX_OPERATORS = 5  # GitHub's limit of AND, OR and NOT in one search
OPERATORS = ("AND", "OR", "NOT")
# A token: an optional "-", a key and a quoted or bare value; a quoted phrase; a word; a parenthesis.
TOKEN = re.compile(r'\(|\)|-?[A-Za-z_]+:"[^"]*"?|"[^"]*"?|[^\s()]+')

ISSUE_ONLY = ("label", "author", "assignee", "mentions", "commenter", "involves", "milestone", "review")
ISSUE_KINDS = {"is:issue": "issue", "type:issue": "issue", "is:pr": "pr", "type:pr": "pr"}


def tokens(q: str) -> list[str]:
    return TOKEN.findall(q)


def operators(q: str) -> int:
    return sum(1 for token in tokens(q) if token in OPERATORS)


def qualifiers(q: str, *, quoted: bool = True) -> list[tuple[bool, str, str]]:
    """(negated, key in lower case, value unquoted) of every qualifier in `q`; negated by `-` or a
    NOT before it. With `quoted`, a quoted "key:value" too, which GitHub reads as a phrase: a check
    that refuses errs on the safe side when it reads one as a qualifier."""
    found = []
    previous = ""
    for token in tokens(q):
        negated = token.startswith("-") or previous == "NOT"
        previous = token
        if not quoted and token.lstrip("-").startswith('"'):
            continue
        key, colon, value = token.lstrip("-").lstrip('"').partition(":")
        if colon and key.isascii() and key.replace("_", "").isalpha():
            found.append((negated, key.lower(), value.strip('"').strip()))
    return found


def _operator_budget(q: str) -> str | None:
    used = operators(q)
    if used > MAX_OPERATORS:
        return f"the query uses {used} AND/OR/NOT operators; GitHub takes {MAX_OPERATORS} at most: split the search"
    return None


def _sort_inside(found: list[tuple[bool, str, str]]) -> str | None:
    for _, key, value in found:
        if key in ("sort", "order"):
            return f"'{key}:{value}' is not search syntax here; pass {key} as its own parameter"
    return None


def code_mistake(q: str) -> str | None:
    """What REST code search would not understand in `q`, and what to write instead; None if nothing."""
    for token in tokens(q):
        bare = token.lstrip("-")
        if len(bare) > 2 and bare.startswith("/") and bare.endswith("/"):
            return (
                f"{bare[:40]} is a regular expression, which GitHub's code search API does not take: search "
                'for a literal word or a "quoted phrase", and narrow with path:, filename:, extension: or language:'
            )
    found = qualifiers(q)
    for _, key, value in found:
        if key == "symbol":
            return (
                f"symbol:{value} is not in GitHub's code search API: search for the name as a word "
                f'("def {value}" or "class {value}" as a phrase), with language: to narrow'
            )
        if key == "content":
            return f"content: is not in GitHub's code search API: write the words alone ({value or 'word'})"
        if key == "path" and ("*" in value or "?" in value):
            return (
                f"path:{value} has a glob, which GitHub's code search API does not take: path: takes a "
                "directory (path:src/lib), filename: a file name (filename:Dockerfile) and extension: a "
                "file type (extension:yml)"
            )
        if key == "is" and value.lower() in ("issue", "pr", "open", "closed"):
            return f"is:{value} belongs to issue search, not code search: use the issue search for it"
    return _sort_inside(found) or _operator_budget(q)


def issue_mistake(q: str, kind: str = "") -> str | None:
    """A contradiction GitHub's issue search answers with a 422 or nothing, before it is sent."""
    found = qualifiers(q)
    kinds = {
        ISSUE_KINDS[f"{key}:{value.lower()}"]
        for negated, key, value in found
        if not negated and f"{key}:{value.lower()}" in ISSUE_KINDS
    }
    if kind:
        kinds.add(kind)
    if len(kinds) > 1:
        return (
            "the query asks for issues and pull requests at once (is:issue or type:issue with is:pr or "
            "type:pr, or the kind parameter against them): leave both out for both, or keep one"
        )
    for _, key, value in found:
        if key in ("filename", "extension", "path", "symbol"):
            return f"{key}:{value} belongs to code search, not issue search: use the code search for it"
    return _sort_inside(found) or _operator_budget(q)


def repository_mistake(q: str) -> str | None:
    """Qualifiers of the other searches, which repository search would read as words and miss."""
    found = qualifiers(q)
    for _, key, value in found:
        if key in ISSUE_ONLY or (key == "is" and value.lower() in ("issue", "pr", "open", "closed", "merged")):
            return f"{key}:{value} belongs to issue search, not repository search: use the issue search for it"
        if key in ("filename", "extension", "path", "symbol", "content"):
            return f"{key}:{value} belongs to code search, not repository search: use the code search for it"
    return _sort_inside(found) or _operator_budget(q)
