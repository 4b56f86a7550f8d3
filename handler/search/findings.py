"""GitHub's code search, issue search, issue and contents answers mapped to ours (pure functions).

Sized for a model's context: every long field is cut, and a flag says so, never silently. Text
written by strangers (issue bodies, files) is handed over as it is; the schemas say it is
untrusted. Shapes are checked as in `mapping`, so an odd answer is a 502, not a broken 200.
"""

from __future__ import annotations

import base64
import binascii

from search.mapping import (
    Unexpected,
    _count,
    _flag,
    _object,
    _required_text,
    _text,
    _timestamp,
    _web_url,
    search_items,
)

FRAGMENTS_PER_HIT = 3
FRAGMENT_CHARS = 300
BODY_CHARS = 300  # of an issue in a search hit: enough to tell what it is about
ISSUE_BODY_CHARS = 4_000  # of one issue fetched by id
FILE_CHARS = 4_000  # of one file: about 1,000 tokens; the answer says how large the file is
DIRECTORY_ENTRIES = 50
BINARY_SNIFF_BYTES = 8_000


def _cut(text: str | None, cap: int) -> tuple[str | None, bool]:
    if text is None or len(text) <= cap:
        return text, False
    return text[:cap], True


def code_hit(item: object) -> dict[str, object]:
    hit = _object(item, "items[]")
    repository = _object(hit.get("repository"), "repository")
    matches = hit.get("text_matches") or []
    if not isinstance(matches, list):
        raise Unexpected("'text_matches' is not a list")
    fragments = [
        _required_text(_object(m, "text_matches[]").get("fragment"), "fragment")
        for m in matches
        if isinstance(m, dict) and m.get("property", "content") == "content"
    ]
    cut = [f[:FRAGMENT_CHARS] for f in fragments[:FRAGMENTS_PER_HIT]]
    return {
        "repository": _required_text(repository.get("full_name"), "repository.full_name"),
        "private": _flag(repository.get("private", False), "repository.private"),
        "path": _required_text(hit.get("path"), "path"),
        "url": _web_url(hit.get("html_url"), "html_url"),
        "sha": _required_text(hit.get("sha"), "sha"),
        "fragments": cut,
        "fragments_truncated": len(fragments) > FRAGMENTS_PER_HIT or any(len(f) > FRAGMENT_CHARS for f in fragments),
    }


def code_answer(payload: object) -> dict[str, object]:
    """`/search/code` (with text matches) as ours."""
    head, items = search_items(payload)
    return {**head, "hits": [code_hit(item) for item in items]}


def _repository_of(issue: dict[str, object]) -> str:
    url = _required_text(issue.get("repository_url"), "repository_url")
    owner_repo = url.rstrip("/").split("/repos/", 1)[-1]
    if owner_repo.count("/") != 1:
        raise Unexpected("'repository_url' does not name a repository")
    return owner_repo


def _labels(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise Unexpected("'labels' is not a list")
    return [_required_text(_object(label, "labels[]").get("name"), "labels[].name") for label in value]


def issue(item: object, body_chars: int = BODY_CHARS) -> dict[str, object]:
    """One issue or pull request (GitHub's issues API answers both; a pull request has `pull_request`)."""
    found = _object(item, "issue")
    state = found.get("state")
    if state not in ("open", "closed"):
        raise Unexpected("'state' is neither open nor closed")
    user = found.get("user")
    body, cut = _cut(_text(found.get("body"), "body"), body_chars)
    pull = found.get("pull_request")
    if state == "closed" and isinstance(pull, dict) and pull.get("merged_at"):
        state = "merged"  # a pull request closed by merging, as GitHub shows it
    return {
        "repository": _repository_of(found),
        "number": _count(found.get("number"), "number"),
        "title": _required_text(found.get("title"), "title"),
        "url": _web_url(found.get("html_url"), "html_url"),
        "kind": "pull_request" if pull is not None else "issue",
        "state": state,
        "labels": _labels(found.get("labels")),
        "comments": _count(found.get("comments", 0), "comments"),
        "author": _text(_object(user, "user").get("login"), "user.login") if user is not None else None,
        "created_at": _timestamp(found.get("created_at"), "created_at"),
        "updated_at": _timestamp(found.get("updated_at"), "updated_at"),
        "body": body,
        "body_truncated": cut,
    }


def issues_answer(payload: object) -> dict[str, object]:
    """`/search/issues` as ours."""
    head, items = search_items(payload)
    return {**head, "issues": [issue(item) for item in items]}


def issue_page(payload: object) -> dict[str, object]:
    """`/repos/{owner}/{repo}/issues/{number}` as ours, with more of the body."""
    return issue(payload, ISSUE_BODY_CHARS)


def _entry(item: object) -> dict[str, object]:
    entry = _object(item, "entries[]")
    kind = entry.get("type")
    if kind not in ("file", "dir", "symlink", "submodule"):
        raise Unexpected("an entry's 'type' is not one GitHub documents")
    return {
        "name": _required_text(entry.get("name"), "name"),
        "path": _required_text(entry.get("path"), "path"),
        "type": "directory" if kind == "dir" else kind,
        "size": _count(entry.get("size", 0), "size"),
    }


def _file_text(entry: dict[str, object]) -> tuple[str | None, str | None]:
    """(text, note): the file's text, or why there is none (binary, too large to be served)."""
    size = _count(entry.get("size", 0), "size")
    content, encoding = entry.get("content"), entry.get("encoding")
    if encoding == "none" or not content:
        if size == 0:
            return "", None
        return None, f"{size} bytes: over the 1 MB GitHub serves through this API; open the url to read it"
    if encoding != "base64" or not isinstance(content, str):
        raise Unexpected("a file's 'content' is not base64")
    try:
        raw = base64.b64decode(content)
    except (binascii.Error, ValueError):
        raise Unexpected("a file's 'content' is not base64") from None
    if b"\x00" in raw[:BINARY_SNIFF_BYTES]:
        return None, f"a binary file of {size} bytes: not shown"
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        return None, f"a file of {size} bytes that is not UTF-8 text: not shown"


def web_repositories(payload: object) -> list[str]:
    """The repositories a contents answer's web links name (`https://<host>/<owner>/<repo>/...`):
    what a fence checks, since the answer's fields are filled from the request's name."""
    entries = payload if isinstance(payload, list) else [payload]
    urls = [e.get("html_url") for e in entries if isinstance(e, dict)]
    return ["/".join(url.split("/", 5)[3:5]) for url in urls if isinstance(url, str) and url.count("/") >= 4]


def contents(payload: object, full_name: str, path: str, ref: str | None) -> dict[str, object]:
    """`/repos/{owner}/{repo}/contents/{path}` as ours: a file's text (cut), or a directory's listing."""
    common = {"repository": full_name, "ref": ref}
    if isinstance(payload, list):
        entries = [_entry(item) for item in payload]
        return {
            **common,
            "path": path,
            "kind": "directory",
            "url": None,
            "sha": None,
            "size": None,
            "content": None,
            "content_truncated": False,
            "note": None,
            "entries": entries[:DIRECTORY_ENTRIES],
            "entries_truncated": len(entries) > DIRECTORY_ENTRIES,
        }
    entry = _object(payload, "contents")
    kind = entry.get("type")
    if kind not in ("file", "symlink", "submodule"):
        raise Unexpected("the contents' 'type' is not one GitHub documents")
    text, note = _file_text(entry) if kind == "file" else (None, None)
    if kind == "symlink":
        note = f"a symbolic link to {_text(entry.get('target'), 'target')}"
    elif kind == "submodule":
        note = f"a submodule: {_text(entry.get('submodule_git_url'), 'submodule_git_url')}"
    cut_text, cut = _cut(text, FILE_CHARS)
    return {
        **common,
        "path": _required_text(entry.get("path"), "path"),
        "kind": kind,
        "url": _web_url(entry.get("html_url"), "html_url"),
        "sha": _required_text(entry.get("sha"), "sha"),
        "size": _count(entry.get("size", 0), "size"),
        "content": cut_text,
        "content_truncated": cut,
        "note": note,
        "entries": None,
        "entries_truncated": False,
    }
