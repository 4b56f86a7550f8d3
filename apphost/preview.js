// The page behind `make dev`'s /app-preview: one tool call on this server, shown in the MCP App
// view the way an assistant shows it. Tool calls (the first, and those the view makes) go to this
// server's /mcp like any client's; links the view asks to open are listed, for a person to follow.
import { hostContext, mount } from "./host.js";

const page = document.documentElement.dataset;
const frame = document.getElementById("view");
const opened = document.getElementById("opened");
const state = { calls: [], opened: [], bridge: null };
window.preview = state; // what the browser tests read

let nextId = 1;
async function callTool(name, args) {
  state.calls.push({ name, arguments: args });
  const response = await fetch("/mcp", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method: "tools/call", params: { name, arguments: args } }),
  });
  const body = await response.json();
  if (body.error) throw new Error(body.error.message);
  return body.result;
}

function openLink(url) {
  state.opened.push(url);
  const link = document.createElement("a");
  link.href = url;
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  link.textContent = url;
  opened.replaceChildren("The view asked to open ", link);
}

const theme = page.theme === "dark" ? "dark" : "light";
const context = hostContext({ tool: page.tool, theme });
state.context = context;
mount({
  frame,
  viewUrl: page.viewUrl,
  tool: page.tool,
  args: JSON.parse(page.arguments),
  context,
  callTool,
  openLink,
}).then((bridge) => {
  state.bridge = bridge;
  state.ready = true;
});

// The host's theme follows the page's switch, as an assistant's does when a person changes it.
document.getElementById("theme").addEventListener("change", (event) => {
  const next = event.target.checked ? "dark" : "light";
  document.documentElement.dataset.theme = next;
  state.bridge?.setHostContext({ ...context, theme: next });
});
