"""API Gateway's Lambda proxy integration, both ways: the request an event carries in, and the
response the function hands back.

Every part of the function (the fronts, sign-in) builds its answers with `response`, and every
answer leaves through `sealed` (in `app.handler`): a header whose name or value holds a control
character is never sent. CR and LF would end the header and start one of the sender's choosing
(response splitting); API Gateway and the local server would pass them on.

The bottom layer: it imports nothing of the function's own.
"""

from __future__ import annotations

import json
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    Response = dict[str, Any]

JSON_TYPE = "application/json; charset=utf-8"
# API Gateway renames WWW-Authenticate to x-amzn-Remapped-WWW-Authenticate, and CloudFront may
# hide X-Amzn-* headers from edge functions: a challenge also travels under a name of the
# function's own, which the edge function turns back into WWW-Authenticate and removes, so no
# viewer sees it (edge/challenge.py; the local server does the same).
CHALLENGE_CARRIER = "X-Search-Challenge"
# RFC 9110 section 5.1: a field name is a token; a value is visible ASCII, spaces and tabs (and
# bytes above 0x7f, which no header of this function carries).
FIELD_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
UNSAFE_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class Request:
    """One request as the function reads it: the API Gateway resource it matched (`/mcp`,
    `/api/repos/{owner}/{repo}`...), its path parameters, query parameters (the last of each, as
    API Gateway keeps them) and the names sent more than once, headers with lower-case names,
    and the body as text."""

    __slots__ = ("body", "headers", "method", "path_params", "query", "repeated", "resource")

    def __init__(
        self,
        method: str,
        resource: str,
        *,
        path_params: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        repeated: tuple[str, ...] = (),
        headers: Mapping[str, str] | None = None,
        body: str | None = None,
    ) -> None:
        self.method, self.resource = method, resource
        self.path_params = path_params or {}
        self.query = query  # None when there is none, as API Gateway sends it
        self.repeated = repeated
        self.headers = dict(headers or {})
        self.body = body


def read(event: Mapping[str, Any], resource: str, path_params: Mapping[str, Any] | None) -> Request:
    """The request an API Gateway REST proxy event carries, matched to `resource`."""
    headers = event.get("headers")
    lowered = {str(k).lower(): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}
    multi = event.get("multiValueQueryStringParameters")
    repeated = (
        tuple(str(k) for k, v in multi.items() if isinstance(v, list) and len(v) > 1) if isinstance(multi, dict) else ()
    )
    body = event.get("body")
    if isinstance(body, str) and event.get("isBase64Encoded"):
        import base64

        body = base64.b64decode(body).decode("utf-8", errors="replace")
    return Request(
        str(event.get("httpMethod", "GET")),
        resource,
        path_params=path_params,
        query=event.get("queryStringParameters"),
        repeated=repeated,
        headers=lowered,
        body=body if isinstance(body, str) else None,
    )


def response(status: int, body: str, headers: Mapping[str, str]) -> Response:
    return {"statusCode": status, "headers": dict(headers), "body": body, "isBase64Encoded": False}


def json_response(status: int, payload: object, headers: Mapping[str, str]) -> Response:
    """`payload` is serialised, unless it is already JSON text (a cached answer)."""
    body = payload if isinstance(payload, str) else json.dumps(payload)
    return response(status, body, {"Content-Type": JSON_TYPE, **headers})


def unsafe_header(headers: Mapping[str, object]) -> str | None:
    """The name of the first header that may not be sent as it is, or None."""
    for name, value in headers.items():
        if not isinstance(name, str) or not FIELD_NAME.match(name):
            return repr(name)[:40]
        if not isinstance(value, str) or UNSAFE_VALUE.search(value):
            return name
    return None


def carried(answer: Response) -> Response:
    """`answer` with its WWW-Authenticate, if it has one, also under CHALLENGE_CARRIER."""
    headers = answer.get("headers")
    if isinstance(headers, dict):
        challenge = next((v for k, v in headers.items() if k.lower() == "www-authenticate"), None)
        if challenge is not None:
            headers[CHALLENGE_CARRIER] = challenge
    return answer


def sealed(answer: Response) -> Response:
    """`answer` if every header is safe to send; else a 500 that carries nothing of the request."""
    headers = answer.get("headers")
    refused = unsafe_header(headers) if isinstance(headers, dict) else "headers"
    if refused is None:
        return answer
    import logging

    logging.getLogger("github_search").error("refused to send header %s: it holds a control character", refused)
    error = {"error": {"code": "internal_error", "message": "unexpected error; see the function's logs"}}
    return json_response(500, error, {"Cache-Control": "no-store"})
