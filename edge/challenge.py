"""Lambda@Edge, origin response, on the API's behaviors with sign-in: WWW-Authenticate put back.

API Gateway's REST APIs rename a Lambda proxy integration's `WWW-Authenticate` to
`x-amzn-Remapped-WWW-Authenticate` ("Amazon API Gateway important notes", REST APIs), so a
deployed 401 or 403 would reach the client with no challenge: no `resource_metadata`, no
`invalid_token` or `insufficient_scope`. CloudFront runs no viewer-response function when the
origin answers 400 or more, but it runs an origin-response Lambda@Edge function on every origin
response, errors included ("Restrictions on all edge functions", CloudFront Developer Guide).

The function renames the header back and changes nothing else. It does not depend on the renamed
header alone: CloudFront's guide once listed `X-Amzn-*` among the headers edge functions cannot
see, so the function also sends the challenge as X-Search-Challenge, a name API Gateway passes on
unchanged; that one is preferred, and always removed, so no viewer sees it. The local server runs
this same code when it imitates API Gateway (tools/local_server.py --like-aws).
"""

from __future__ import annotations

REMAPPED = "x-amzn-Remapped-WWW-Authenticate"  # as API Gateway spells it
CARRIER = "X-Search-Challenge"  # as the function spells it (handler/proxy.py CHALLENGE_CARRIER)
RESTORED = "www-authenticate"

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def restore(headers: dict[str, list[dict[str, str]]]) -> dict[str, list[dict[str, str]]]:
    """CloudFront's headers (lower-case name -> [{"key": name, "value": value}]) with the challenge
    under its own name again, from the function's carrier or else API Gateway's renamed header;
    the origin's own WWW-Authenticate, if any, is kept. The carrier never reaches a viewer."""
    carried = headers.pop(CARRIER.lower(), None)
    remapped = headers.pop(REMAPPED.lower(), None)
    challenge = carried or remapped
    if challenge and RESTORED not in headers:
        headers[RESTORED] = [{"key": "WWW-Authenticate", "value": h["value"]} for h in challenge if "value" in h]
    return headers


def handler(event: dict[str, Any], context: object = None) -> dict[str, Any]:
    response: dict[str, Any] = event["Records"][0]["cf"]["response"]
    response["headers"] = restore(response.get("headers") or {})
    return response
