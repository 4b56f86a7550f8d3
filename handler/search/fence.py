"""The owner's fence: the organizations, users and repositories a stack answers about (pure).

`SEARCH_SCOPE` (the stack's `searchScope`) lists them as GitHub qualifiers, e.g.
`org:acme user:someone repo:other/tool`. Every search gets them added to the query GitHub sees;
a query that names an owner or repository outside is refused, never widened or emptied; every
repository read outside is refused; every result is checked again on the way back.

How GitHub combines repeated scope qualifiers decides how the fence is added (the search syntax
GitHub's REST API takes, as its CLI documents it in cli/cli pkg/search/query.go):

- the legacy engine (repository and code search) ORs repeated `repo:` and `user:` qualifiers,
  and a qualifier filters the whole query whatever operators surround it. So the fence is
  appended as `user:<owner> ... repo:<owner>/<name> ...` (an organization is an owner: `user:`
  names it too), which GitHub reads as their union. A query of words and qualifiers alone (no
  operator, no parenthesis) that names owners or repositories inside the fence is sent as it is:
  appending the fence would OR it back to the whole fence, not narrow it as asked.
- the advanced issue search (which issue search asks for with a fence: `advanced_search=true`)
  ANDs repeated qualifiers and honours `OR` and parentheses, so a plain appended fence would let
  `label:x OR is:open` escape it (cli/cli#12264). There the query is bracketed and the fence is
  one OR group: `( <query> ) (user:acme OR repo:other/tool)`, which GitHub reads as the query
  within the union.

On both, a query that could reach out of what is put around it (a stray quote or parenthesis, a
backslash) is refused; and whatever GitHub makes of a query, an answer's items outside the fence
are dropped before anyone sees them.

A fence holds at most MAX_QUALIFIERS qualifiers: GitHub allows five AND/OR/NOT operators in a
query, and the advanced group spends one OR per qualifier after the first; the rest stays the
model's. Qualifiers do not count against GitHub's 256 characters of search text.
"""

from __future__ import annotations

import re

MAX_QUALIFIERS = 4
OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?\Z", re.ASCII)
REPO = re.compile(r"[A-Za-z0-9._-]{1,100}\Z", re.ASCII)
# The qualifiers that name an owner or repository, in any case, as a model may write them: GitHub's
# (NARROWING) and look-alikes it may or may not read one day, refused all the same when outside.
NARROWING = ("repo", "org", "user")
SCOPE_KEYS = (*NARROWING, "owner", "repository")


class OutsideScope(ValueError):
    """A query or a name outside the fence; the message says what the fence allows."""


class Fence:
    """The owners (organizations and users) and repositories a stack answers about."""

    __slots__ = ("items", "owners", "repos")

    def __init__(self, items: tuple[tuple[str, str], ...]) -> None:
        self.items = items  # (kind, value) as the owner wrote them: ("org", "acme"), ("repo", "a/b")
        self.owners = frozenset(v.lower() for k, v in items if k != "repo")
        self.repos = frozenset(v.lower() for k, v in items if k == "repo")

    def __repr__(self) -> str:
        return f"Fence({self.describe()!r})"

    def describe(self) -> str:
        """The fence as a model and the pages read it: `org:acme, user:someone, repo:other/tool`."""
        return ", ".join(f"{kind}:{value}" for kind, value in self.items)

    def allows(self, full_name: str) -> bool:
        """Whether `owner/name` is inside: its owner is fenced in, or it is one of the repositories.
        Only a repository's name can be: `acme/../evil/x` is not one, whatever its owner reads as."""
        if not repository_name(full_name):
            return False
        owner = full_name.split("/", 1)[0].lower()
        return owner in self.owners or full_name.lower() in self.repos

    def allows_owner(self, owner: str) -> bool:
        return owner.lower() in self.owners

    def refusal(self, what: str) -> str:
        return f"{what} is outside what this service answers about ({self.describe()})"

    # -- queries --------------------------------------------------------------------------------

    def legacy_qualifiers(self) -> str:
        return " ".join(f"user:{v}" if k != "repo" else f"repo:{v}" for k, v in self.items)

    def advanced_group(self) -> str:
        qualifiers = [f"user:{v}" if k != "repo" else f"repo:{v}" for k, v in self.items]
        return qualifiers[0] if len(qualifiers) == 1 else "(" + " OR ".join(qualifiers) + ")"

    def spends(self, *, advanced: bool) -> int:
        """How many of GitHub's five operators the fence spends."""
        return len(self.items) - 1 if advanced else 0

    def fenced(self, q: str, *, advanced: bool) -> str:
        """The query GitHub is sent: `q` within the fence. OutsideScope if `q` names an owner or
        repository outside it; ValueError if it cannot be bracketed safely or spends, with the
        fence, more operators than GitHub takes."""
        # Here, not at the top: the Pulumi program loads this module alone to check searchScope.
        from search.syntax import MAX_OPERATORS, operators, qualifiers

        named = [(negated, key, value) for negated, key, value in qualifiers(q) if key in SCOPE_KEYS]
        for negated, key, value in named:
            if key in ("repo", "repository"):
                malformed = [part for part in value.split(",") if not repository_name(part.strip())]
                if malformed:
                    raise ValueError(f"{key}:{value[:80]} is not a repository name: write {key}:<owner>/<name>")
            inside = self.allows if key in ("repo", "repository") else self.allows_owner
            # Each of a comma list: some of GitHub's qualifiers read one as "any of these".
            if not all(inside(part.strip()) for part in value.split(",")):
                what = f"{'-' if negated else ''}{key}:{value}"
                raise OutsideScope(f"the query's {self.refusal(what)}: leave it out, or name one of those")
        unbracketable = unbalanced(q)
        if unbracketable:
            raise ValueError(f"the query has {unbracketable}; mend it, or leave it out")
        spent = operators(q) + self.spends(advanced=advanced)
        if spent > MAX_OPERATORS:
            raise ValueError(
                f"the query uses {operators(q)} AND/OR/NOT operators and this service's scope adds "
                f"{self.spends(advanced=advanced)}: GitHub takes {MAX_OPERATORS} in all; use fewer"
            )
        if advanced:
            return f"( {q} ) {self.advanced_group()}"
        simple = operators(q) == 0 and "(" not in q
        if simple and any(not negated and key in NARROWING for negated, key, _ in qualifiers(q, quoted=False)):
            return q  # names only what is inside: narrowed as asked (the fence would OR it back)
        return f"{q} {self.legacy_qualifiers()}"

    def kept(self, answer: dict[str, object], key: str, name: str) -> tuple[dict[str, object], int]:
        """A search answer without its items outside the fence (`name`: the field naming an item's
        repository), and how many were dropped. Its `total_count` stays GitHub's estimate, as the
        schemas say: the matches outside on pages never fetched cannot be counted out."""
        items = answer[key]
        assert isinstance(items, list)
        inside = [item for item in items if self.allows(str(item.get(name, "")))]
        dropped = len(items) - len(inside)
        return ({**answer, key: inside}, dropped) if dropped else (answer, 0)


def repository_name(text: str) -> bool:
    """Whether `text` is `owner/name` as GitHub names a repository: one slash, no `.` or `..`."""
    owner, slash, name = text.partition("/")
    return bool(slash) and bool(OWNER.match(owner)) and bool(REPO.match(name)) and name not in (".", "..")


def unbalanced(q: str) -> str | None:
    """What would let `q` reach out of the brackets put around it: a quote or a parenthesis left
    open or closed too soon (counted inside quotes too: how GitHub reads a stray one is not ours to
    guess), a quote inside a word (`a"b c"user:evil` is one word with a qualifier in it to one
    reader and a phrase to another), or a backslash (which some parsers read as an escape)."""
    if "\\" in q:
        return "a backslash"
    if q.count('"') % 2:
        return "an unclosed quote"
    if _quote_inside_a_word(q):
        return 'a quote inside a word (a "phrase" starts and ends at a space or a parenthesis)'
    depth = 0
    for char in q:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return "a parenthesis closed before it was opened"
    return "an unclosed parenthesis" if depth else None


def _quote_inside_a_word(q: str) -> bool:
    """Whether a quote opens other than at a word's start (or after `key:` or `-`), or closes other
    than at a word's end."""
    opening = True
    for at, char in enumerate(q):
        if char != '"':
            continue
        if opening:
            before = q[at - 1] if at else " "
            if not (before.isspace() or before in "(-:"):
                return True
        else:
            after = q[at + 1] if at + 1 < len(q) else " "
            if not (after.isspace() or after == ")"):
                return True
        opening = not opening
    return False


def parse(text: str) -> Fence | None:
    """The fence `SEARCH_SCOPE` (or `searchScope`) describes; None when it is blank (all of
    GitHub). ValueError naming the first thing wrong."""
    items: list[tuple[str, str]] = []
    for word in text.replace(",", " ").split():
        kind, colon, value = word.partition(":")
        kind = kind.lower()
        if not colon or kind not in ("org", "user", "repo"):
            raise ValueError(f"{word!r} is not org:<name>, user:<name> or repo:<owner>/<name>")
        if kind == "repo":
            owner, slash, name = value.partition("/")
            if not slash or not OWNER.match(owner) or not REPO.match(name) or name in (".", ".."):
                raise ValueError(f"{word!r}: a repository is <owner>/<name>, as GitHub names it")
        elif not OWNER.match(value):
            raise ValueError(f"{word!r}: {value!r} is not a GitHub user or organization name")
        if (kind, value.lower()) in {(k, v.lower()) for k, v in items}:
            raise ValueError(f"{word!r} is listed twice")
        items.append((kind, value))
    if len(items) > MAX_QUALIFIERS:
        raise ValueError(
            f"{len(items)} qualifiers; a fence holds at most {MAX_QUALIFIERS} (GitHub allows five operators "
            "in a query, and the fence spends one per qualifier after the first): fence an organization "
            "rather than its repositories"
        )
    return Fence(tuple(items)) if items else None
