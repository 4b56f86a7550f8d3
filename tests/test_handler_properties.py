"""Property-based: whatever API Gateway (or anyone) sends, the handler answers within its contract."""

from __future__ import annotations

import json

import app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import event
from tools.fake_github import FakeGitHub

# 500 is the last-resort answer to a bug: a property run must never see it.
EXPECTED = app.STATUSES - {500}

text = st.text(max_size=300)
param_values = st.one_of(st.none(), text, st.sampled_from(["stars", "forks", "asc", "desc", "1", "20", "21", " 5 "]))
params = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(["q", "sort", "order", "limit", "page", ""]), param_values, max_size=5),
    st.dictionaries(text, st.one_of(text, st.integers(), st.lists(text, max_size=2)), max_size=3),
    st.integers(),
    st.lists(text, max_size=2),
)
events = st.one_of(
    st.builds(event, params, st.sampled_from(["GET", "HEAD", "OPTIONS", "POST", "DELETE"])),
    st.dictionaries(
        st.sampled_from(["httpMethod", "queryStringParameters", "headers"]),
        st.one_of(st.none(), text, st.integers(), params),
    ),
    st.none(),
    text,
    st.lists(st.integers(), max_size=3),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events)
def test_any_event_gets_a_documented_answer(function_env: FakeGitHub, any_event: object) -> None:
    response = app.handler(any_event)
    assert response["statusCode"] in EXPECTED
    assert isinstance(response["body"], str)
    if response["statusCode"] >= 400:
        assert set(json.loads(response["body"])["error"]) == {"code", "message"}
        assert response["headers"]["Cache-Control"] == "no-store"
