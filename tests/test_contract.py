"""The published contract is the whole contract: what the code and the gateway can answer is in
openapi.yaml, and the README's error list says the same."""

from __future__ import annotations

import re

from infra.api_definition import GATEWAY_ERRORS
from tests.conftest import readme_section
from tests.contract import error_codes_in_code, error_codes_in_spec, spec, statuses_in_code

# 204 answers a CORS preflight (OPTIONS, local mode only), not the GET the document describes.
NOT_GET = {204}
RANGES = {"DEFAULT_4XX": "4XX", "DEFAULT_5XX": "5XX"}


def documented() -> dict[str, dict]:
    return spec()["paths"]["/api/search"]["get"]["responses"]


def test_every_status_the_function_can_answer_is_documented():
    statuses = statuses_in_code() - NOT_GET
    assert {200, 400, 404, 405, 429, 500, 502, 504} <= statuses  # the derivation sees the code
    assert sorted(str(s) for s in statuses if str(s) not in documented()) == []


def test_every_answer_the_gateway_makes_is_documented():
    for gateway_error in GATEWAY_ERRORS:
        key = gateway_error.status_code or RANGES[gateway_error.response_type]
        assert key in documented(), gateway_error.response_type
    throttled = [g for g in GATEWAY_ERRORS if g.response_type == "THROTTLED"]
    assert throttled and "Retry-After" in documented()["429"]["headers"]


def test_error_codes_in_the_spec_are_exactly_the_ones_in_use():
    in_use = error_codes_in_code() | {g.code for g in GATEWAY_ERRORS}
    assert error_codes_in_spec() == in_use


def test_every_error_answer_has_the_error_shape_and_a_description():
    for status, response in documented().items():
        assert response["description"].strip()
        if status != "200":
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_readme_error_list_matches_the_spec():
    section = readme_section("The API")
    listed = dict(re.findall(r"^\| `(\d{3}|\dXX)` \| `?([a-z_]+)`? \|", section, re.M))
    assert set(listed) == set(documented()) - {"200"}
    for status, code in listed.items():
        assert code in documented()[status]["description"], status


def test_parameters_are_described():
    for parameter in spec()["paths"]["/api/search"]["get"]["parameters"]:
        assert parameter.get("description"), parameter["name"]
