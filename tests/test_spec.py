"""The OpenAPI document and the handler agree on what a valid `q` is."""

from __future__ import annotations

import re
import sys

from search.query import _REF, BadRequest, parse_file, parse_query

from tests.contract import spec

# ECMA-262's \s (what OpenAPI/JSON Schema patterns mean), spelled out for Python's re.
ECMA_WHITESPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def q_pattern() -> re.Pattern[str]:
    [q] = [p for p in spec()["paths"]["/api/search"]["get"]["parameters"] if p["name"] == "q"]
    ecma = q["schema"]["pattern"].replace("\\S", f"[^{ECMA_WHITESPACE}]").replace("\\s", ECMA_WHITESPACE)
    return re.compile(ecma)


def handler_accepts(q: str) -> bool:
    try:
        parse_query({"q": q})
    except BadRequest:
        return False
    return True


def test_every_character_the_handler_trims_is_invalid_in_the_spec():
    pattern = q_pattern()
    trimmed = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    assert "\x1e" in trimmed  # what schemathesis once sent: the spec said valid, the handler said blank
    disagreements = [hex(ord(c)) for c in trimmed if pattern.search(c) and not handler_accepts(c)]
    assert disagreements == []


def test_ordinary_queries_are_valid_in_both():
    pattern = q_pattern()
    for q in ("pulumi", " x ", "language:python stars:>100", "\ufeffx"):
        assert pattern.search(q) and handler_accepts(q)


def test_the_spec_and_the_handler_agree_on_refs_and_paths():
    [operation] = [spec()["paths"]["/api/repos/{owner}/{repo}/contents/{path}"]["get"]]
    patterns = {p["name"]: p["schema"]["pattern"] for p in operation["parameters"] if "pattern" in p["schema"]}
    assert patterns["ref"] == f"^{_REF.pattern}$".replace("{1,255}", "+")
    path = re.compile(patterns["path"])
    for candidate in ("src/a.py", "a//b", "a/./b", "../x", "x\\y", "é/ü.md", "a\x7fb"):
        try:
            parse_file("o", "r", candidate)
            accepted = True
        except BadRequest:
            accepted = False
        assert bool(path.search(candidate)) == accepted, candidate
