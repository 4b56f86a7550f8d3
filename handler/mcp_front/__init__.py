"""The MCP front: the Model Context Protocol over stateless Streamable HTTP, on `/mcp`.

`protocol` (both eras of the protocol, JSON answers, no sessions), `tools` (the seven tools a
model reads and calls), `schemas` (what they answer, equal to the OpenAPI document's schemas),
`documents` (what the connectors' `fetch` hands over) and `view` (the MCP App hosts show the
tools' results in: `view.html`, served by `resources/read`, loaded only then).

Imported on the first `/mcp` request, never by the REST front. May import: the standard
library, its own modules, `search` and `proxy`. Nothing of `app` or `signin`.

Not named `mcp`: that would shadow the MCP SDK's package wherever the function's folder is on
the import path (the tests drive this front with that SDK).
"""
