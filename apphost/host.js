// The host side of an MCP App, as the web clients of Claude and VS Code run it: the official
// AppBridge (@modelcontextprotocol/ext-apps) speaking to a view in a sandboxed frame from another
// origin, with no MCP client of its own (`new AppBridge(null, ...)`): the page that mounts the view
// says how a tool is called and what opening a link means.
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

const HOST = { name: "github-search-preview", version: "1.0.0" };
// What this host offers the view: opening links, calling this server's tools, taking its logs.
const CAPABILITIES = { openLinks: {}, serverTools: {}, logging: {} };

export function hostContext({ tool, theme = "light", variables, locale = navigator.language }) {
  const context = {
    theme,
    displayMode: "inline",
    availableDisplayModes: ["inline"],
    platform: "web",
    locale,
    toolInfo: { tool: { name: tool, inputSchema: { type: "object" } } },
  };
  return variables ? { ...context, styles: { variables } } : context;
}

// Mount the view at `viewUrl` in `frame` and feed it one tool call, as a host does: the bridge
// listens before the frame loads (a view sends ui/initialize at once), the tool runs meanwhile, and
// its input and result follow the view's `initialized`.
export async function mount({ frame, viewUrl, tool, args, context, callTool, openLink }) {
  const bridge = new AppBridge(null, HOST, CAPABILITIES, { hostContext: context });
  bridge.oncalltool = (params) => callTool(params.name, params.arguments ?? {});
  bridge.onopenlink = async ({ url }) => {
    openLink(url);
    return {};
  };
  bridge.onsizechange = ({ height }) => {
    if (height > 0) frame.style.height = `${height}px`;
  };
  const initialized = new Promise((resolve) => {
    bridge.oninitialized = resolve;
  });
  const answer = callTool(tool, args).catch((failure) => ({
    isError: true,
    content: [{ type: "text", text: failure.message }],
  }));
  await bridge.connect(new PostMessageTransport(frame.contentWindow, frame.contentWindow));
  frame.src = viewUrl;
  await initialized;
  await bridge.sendToolInput({ arguments: args });
  await bridge.sendToolResult(await answer);
  return bridge;
}
