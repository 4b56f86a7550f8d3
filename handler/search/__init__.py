"""Search: the one service every front asks, and everything it needs to ask GitHub.

`service` (answers, errors, the per-request budget), `github_api` (the REST client, one pool of
kept-alive connections), `query` (parsing and checking what a caller asked), `mapping` and
`findings` (GitHub's JSON checked and cut to what a model needs), `ttl_cache` (answers kept and
revalidated).

May import: the standard library, and its own modules. Nothing of the fronts (`app`,
`mcp_front`) or of sign-in (`signin`), and not `proxy`: the service does not know HTTP answers.
"""
