"""A daily budget per person (dailyCallsPerPerson): counted in the sign-in table with one
conditional update, per person per UTC day; over it, 429 (REST) or a tool error (MCP) that names
the budget and when it resets. Through the local server with sign-in (the fake GitHub signs two
people in), against moto's DynamoDB for two instances at the limit at once, and with a clock set
to the day's last second."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from search.service import Failure
from signin.budget import Budget, limit
from signin.gate import Principal
from signin.store import DynamoStore, MemoryStore

from tests.moto_aws import REGION, moto_server, sign_in_table
from tests.signin_helpers import signin_server
from tests.test_private import call, get, signed_in
from tests.test_sign_in_store import KEYS, Clock
from tools.background import LocalServer
from tools.fake_github import FakeGitHub

MIDNIGHT = 1_800_057_600  # 2027-01-16T00:00:00Z, a UTC day's start
ALICE, BOB = Principal("alice", "gho_a", "g1", user_id=101), Principal("bob", "gho_b", "g2", user_id=102)


def test_each_person_has_the_budget_of_their_own_utc_day():
    clock = Clock(MIDNIGHT + 86_400 - 3)  # three seconds before the day ends
    budget = Budget(MemoryStore(clock=clock), 2, clock)
    assert [budget.admit(ALICE), budget.admit(ALICE)] == [1, 2]
    with pytest.raises(Failure) as over:
        budget.admit(ALICE)
    assert (over.value.status, over.value.code, over.value.retry_after) == (429, "over_budget", 3)
    assert over.value.message == (
        "alice has used today's budget of 2 calls on this service; it resets at 00:00 UTC, in 0 h 01 min "
        "(the owner sets it: dailyCallsPerPerson)"
    )
    assert budget.admit(BOB) == 1  # another person: their own count
    clock.now = MIDNIGHT + 86_400  # the next day
    assert budget.admit(ALICE) == 1


def test_a_person_is_counted_by_their_account_not_the_spelling_of_their_login():
    clock = Clock(MIDNIGHT)
    budget = Budget(MemoryStore(clock=clock), 1, clock)
    budget.admit(ALICE)
    with pytest.raises(Failure):
        budget.admit(Principal("ALICE", "gho_new", "g9", user_id=101))  # renamed, or a new sign-in


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "lots", "1000000001", "9" * 5000])
def test_a_budget_that_is_not_one_is_named(value: str):
    with pytest.raises(ValueError, match="DAILY_CALLS_PER_PERSON must be a whole number of calls from 1 to"):
        limit({"DAILY_CALLS_PER_PERSON": value})
    assert limit({}) is None and limit({"DAILY_CALLS_PER_PERSON": " 500 "}) == 500


# -- two instances at the limit, against DynamoDB ----------------------------------------------------


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[str]:
    with moto_server() as endpoint:
        sign_in_table(endpoint, "budget")
        yield endpoint


def test_two_instances_at_the_limit_serve_exactly_the_budget(dynamodb: str):
    clock = Clock(MIDNIGHT + 600)
    instances = [Budget(DynamoStore("budget", REGION, dynamodb, KEYS, clock), 25, clock) for _ in range(2)]
    served: list[int] = []
    refused: list[int] = []
    lock = threading.Lock()

    def spend(budget: Budget) -> None:
        for _ in range(20):
            try:
                used = budget.admit(ALICE)
            except Failure:
                with lock:
                    refused.append(1)
            else:
                with lock:
                    served.append(used)

    threads = [threading.Thread(target=spend, args=(instances[n % 2],)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(served) == list(range(1, 26)) and len(refused) == 80 - 25  # each count once, none over
    item = DynamoStore("budget", REGION, dynamodb, KEYS, clock).api.call(
        "GetItem", {"TableName": "budget", "Key": {"pk": {"S": "budget#id:101#2027-01-16"}}}
    )[1]["Item"]
    assert item["calls"] == {"N": "25"} and int(item["expires"]["N"]) == MIDNIGHT + 2 * 86_400  # TTL: a day after


# -- through the local server -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def people(fake_server: FakeGitHub) -> FakeGitHub:
    """The fake GitHub, reset once for the module and not between its tests: a reset would give the
    next person the account id the last one had, and with it their count."""
    fake_server.reset()
    return fake_server


@pytest.fixture(scope="module")
def server(fake_server: FakeGitHub) -> Iterator[LocalServer]:
    running = signin_server(fake_server, "http://127.0.0.1:1", DAILY_CALLS_PER_PERSON="3")
    yield running
    running.stop()


def test_one_person_over_budget_is_refused_and_the_other_is_not(server: LocalServer, people: FakeGitHub):
    alice, bob = signed_in(server, people, "alice"), signed_in(server, people, "bob")
    assert get(server, alice, "/api/search", q="budget one").status_code == 200
    assert call(server, alice, "search_repositories", query="budget two")["isError"] is False
    assert get(server, alice, "/api/search", q="budget one").status_code == 200  # a cached answer counts too
    before = len(people.seen)
    refused = get(server, alice, "/api/repos/octo/budget")
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 86_400
    error = refused.json()["error"]
    assert error["code"] == "over_budget" and "alice has used today's budget of 3 calls" in error["message"]
    tool = call(server, alice, "get_file", owner="octo", repo="budget", path="README.md")
    assert tool["isError"] is True and "resets at 00:00 UTC" in tool["content"][0]["text"]
    assert len(people.seen) == before  # refused before GitHub is asked
    assert get(server, bob, "/api/search", q="budget one").status_code == 200
    assert call(server, bob, "get_repository", owner="octo", repo="budget")["isError"] is False


def test_a_refused_request_does_not_spend_the_budget(server: LocalServer, people: FakeGitHub):
    carol = signed_in(server, people, "carol")
    for _ in range(5):  # bad arguments: refused before the service, so not counted
        assert get(server, carol, "/api/search", q="").status_code == 400
        assert call(server, carol, "search_repositories", query="x", limit=99)["isError"] is True
    statuses = [get(server, carol, "/api/search", q=f"carol {n}").status_code for n in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_a_bad_budget_stops_the_local_server_naming_it(fake_server: FakeGitHub):
    with pytest.raises(RuntimeError, match="DAILY_CALLS_PER_PERSON must be a whole number"):
        signin_server(fake_server, "http://127.0.0.1:1", DAILY_CALLS_PER_PERSON="lots")


def test_list_and_protocol_calls_are_free(server: LocalServer, people: FakeGitHub):
    dave = signed_in(server, people, "dave")
    for _ in range(5):
        listed: Any = call_raw(server, dave, "tools/list")
        assert listed["tools"]
    assert [get(server, dave, "/api/search", q=f"dave {n}").status_code for n in range(3)] == [200] * 3


def call_raw(server: LocalServer, token: str, method: str) -> Any:
    import requests

    body = {"jsonrpc": "2.0", "id": 1, "method": method}
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    return requests.post(server.base + "/mcp", json=body, headers=headers, timeout=15).json()["result"]
