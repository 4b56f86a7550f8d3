"""Sign-in with GitHub (AUTH=github): the stack as an OAuth 2.1 authorization server for its own
MCP and REST API, and the door every request passes through.

`door` (the layer around the fronts, and the wiring from the environment), `gate` (the bearer
token check on every search path), `store` (DynamoDB or memory) and `sigv4` (its request
signer): a search request loads only these. `server` (the endpoints), `clients` (registration
and Client ID Metadata Documents), `github_oauth` (GitHub's side) and `pages` (the consent
page) load on the first sign-in request.

Loaded only when sign-in is on. May import: the standard library, its own modules, `search`
(the GitHub client; `SignInRefused`) and `proxy`. Nothing of `app` or `mcp_front`.
"""
