"""Who read which repository while their private repositories were in reach: the owner's first
audit question, from a laptop. (A file's or an issue's answer does not say whether its repository
is private, so public repositories read then are listed too.)

    make audit                          # the local server's records (build/audit.jsonl, `make dev`)
    make audit STACK=prod [SINCE=7d] [PERSON=octocat] [REGION=eu-west-1]

Deployed, it runs the stack's saved Logs Insights query (`github-search/<stack>/who-read-private-
repositories`, infra/audit.py) on the log group it was saved for, with your AWS credentials, and
prints one line per person, repository and client: how many reads, the first and the last.
Locally, it answers the same question from the records the local server appended to its file.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOCAL_FILE = ROOT / "build" / "audit.jsonl"
QUESTION = "who-read-private-repositories"
COLUMNS = ("login", "repository", "client_name", "calls", "first", "last")
_SINCE = re.compile(r"^(\d{1,4})([mhd])$")
_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")


class Unusable(ValueError):
    """An argument this tool cannot use; the message says what to write instead."""


def seconds(since: str) -> int:
    found = _SINCE.match(since.strip())
    if found is None:
        raise Unusable(f"SINCE must be a number and m, h or d (30m, 12h, 7d), got {since!r}")
    return int(found[1]) * {"m": 60, "h": 3600, "d": 86_400}[found[2]]


def person_filter(person: str | None) -> str:
    """A Logs Insights filter for one login, or nothing; a login is checked first (it goes in a query)."""
    if person is None:
        return ""
    if not _LOGIN.match(person):
        raise Unusable(f"PERSON must be a GitHub login, got {person!r}")
    return f'filter login = "{person}" | '


def local_reads(lines: Iterable[str], since: float, person: str | None) -> list[dict[str, Any]]:
    """The question, over the local server's records: answered reads with private repositories in reach."""
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or record.get("message") != "audit" or record.get("private") is not True:
            continue
        if not record.get("repository") or int(record.get("status", 500)) >= 400:
            continue
        when = str(record.get("timestamp", ""))
        if datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp() < since:
            continue
        if person is not None and record.get("login") != person:
            continue
        key = (str(record.get("login")), str(record["repository"]), str(record.get("client_name") or ""))
        row = rows.setdefault(key, dict(zip(COLUMNS[:3], key, strict=True)) | {"calls": 0, "first": when})
        row["calls"] += 1
        row["last"] = when
    return sorted(rows.values(), key=lambda row: row["last"], reverse=True)


def deployed_reads(
    logs: Any, stack: str, window: tuple[float, float], person: str | None, sleep: Callable[[float], None] = time.sleep
) -> list[dict[str, Any]]:
    """The stack's saved question, run on the log group it names, as rows of its columns."""
    name = f"github-search/{stack}/{QUESTION}"
    found = [d for d in logs.describe_query_definitions(queryDefinitionNamePrefix=name)["queryDefinitions"]]
    saved = next((d for d in found if d["name"] == name), None)
    if saved is None:
        raise Unusable(f"no saved query {name}: is sign-in on for stack {stack}, and your AWS region its region?")
    started = logs.start_query(
        logGroupNames=saved["logGroupNames"],
        startTime=int(window[0]),
        endTime=int(window[1]),
        queryString=person_filter(person) + saved["queryString"],
    )
    while True:
        answer = logs.get_query_results(queryId=started["queryId"])
        if answer["status"] not in ("Scheduled", "Running"):
            break
        sleep(1)
    if answer["status"] != "Complete":
        raise Unusable(f"the query ended {answer['status']}")
    return [{field["field"]: field["value"] for field in result} for result in answer["results"]]


def table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no repository was read in that time"
    lines = ["\t".join(COLUMNS)] + ["\t".join(str(row.get(c, "")) for c in COLUMNS) for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", help="a deployed stack's name; without it, the local server's records")
    parser.add_argument("--since", default="7d", help="how far back: 30m, 12h, 7d (default 7d)")
    parser.add_argument("--person", help="one GitHub login")
    parser.add_argument("--region", help="the stack's AWS region (default: your AWS configuration's)")
    parser.add_argument("--file", type=Path, default=LOCAL_FILE, help="the local server's records")
    args = parser.parse_args(argv)
    now = time.time()
    try:
        since = now - seconds(args.since)
        person_filter(args.person)  # checked before anything is read
        if args.stack is None:
            if not args.file.exists():
                print(f"no records at {args.file}: start `make dev AUTH=1` and search first", file=sys.stderr)
                return 1
            rows = local_reads(args.file.read_text(encoding="utf-8").splitlines(), since, args.person)
        else:
            import boto3
            from botocore.exceptions import BotoCoreError, ClientError

            try:
                logs = boto3.client("logs", region_name=args.region)
                rows = deployed_reads(logs, args.stack, (since, now), args.person)
            except (BotoCoreError, ClientError) as exc:  # no credentials, no region, access denied
                print(f"CloudWatch Logs could not be asked: {exc}", file=sys.stderr)
                return 1
    except Unusable as problem:
        print(problem, file=sys.stderr)
        return 2
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
